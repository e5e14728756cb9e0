-- KPI views over the `rollups` table (tongdian-aggregator).
--
-- Expects a relation named `rollups` with the table's columns, e.g. in DuckDB
--   CREATE VIEW rollups AS
--     SELECT * FROM read_parquet('tongdian-data/rollups/**/*.parquet', hive_partitioning = true);
-- (or through the Delta log: Python `deltalake`, DuckDB's `delta` extension).
--
-- Ratios are computed from summed additive columns, never by averaging
-- ratios, so partial rows from several workers and late corrections
-- (is_late_correction = true) are simply added in. Totals use the
-- theme = 'all' rows, which count every message once; theme views use the
-- theme rows. A ratio is NULL when its denominator is zero.
--
--   nps            = 100 · (promoters − detractors) / (promoters + passives + detractors)
--   csat_pct       = 100 · csat_satisfied / csat_responses          (4–5 on 1–5)
--   ces            = ces_sum / ces_count                            (mean, 1–7)
--   negative_share = negative / analysed                            (messages with text analysis)
--   complaint_rate = complaints / messages                          (a negative theme mention)
--   sla_met_pct    = 100 · sla_met / (sla_met + sla_missed)

-- Per window at two levels in one pass, so both share one list of
-- measures: per channel (by_channel = 1) and per touchpoint, a channel and
-- a source such as app × tmall (by_channel = 0).
CREATE OR REPLACE VIEW channel_source_kpis AS
SELECT
    grain, window_start, window_end, channel, source,
    grouping(source)    AS by_channel,
    sum(messages)       AS messages,
    sum(analysed)       AS analysed,
    sum(negative)       AS negative,
    sum(complaints)     AS complaints,
    sum(promoters) + sum(passives) + sum(detractors) AS nps_responses,
    sum(csat_responses) AS csat_responses,
    sum(ces_count)      AS ces_responses,
    100.0 * (sum(promoters) - sum(detractors))
        / nullif(sum(promoters) + sum(passives) + sum(detractors), 0) AS nps,
    100.0 * sum(csat_satisfied) / nullif(sum(csat_responses), 0)      AS csat_pct,
    sum(ces_sum) / nullif(sum(ces_count), 0)::DOUBLE                  AS ces,
    sum(negative) / nullif(sum(analysed), 0)::DOUBLE                  AS negative_share,
    sum(complaints) / nullif(sum(messages), 0)::DOUBLE                AS complaint_rate,
    100.0 * sum(sla_met) / nullif(sum(sla_met) + sum(sla_missed), 0)  AS sla_met_pct
FROM rollups
WHERE theme = 'all'
GROUP BY GROUPING SETS (
    (grain, window_start, window_end, channel),
    (grain, window_start, window_end, channel, source)
);

-- Per window and channel.
CREATE OR REPLACE VIEW channel_kpis AS
SELECT * EXCLUDE (source, by_channel) FROM channel_source_kpis WHERE by_channel = 1;

-- Per window and touchpoint: a channel and a source (e.g. app × tmall).
CREATE OR REPLACE VIEW touchpoint_kpis AS
SELECT * EXCLUDE (by_channel) FROM channel_source_kpis WHERE by_channel = 0;

-- Per window and theme, over every channel (a message with several themes
-- counts once in each of them).
CREATE OR REPLACE VIEW theme_kpis AS
SELECT
    grain, window_start, window_end, theme, category, stage,
    sum(messages)       AS messages,
    sum(negative)       AS negative,
    sum(complaints)     AS complaints,
    sum(promoters) + sum(passives) + sum(detractors) AS nps_responses,
    100.0 * (sum(promoters) - sum(detractors))
        / nullif(sum(promoters) + sum(passives) + sum(detractors), 0) AS nps,
    100.0 * sum(csat_satisfied) / nullif(sum(csat_responses), 0)      AS csat_pct,
    sum(ces_sum) / nullif(sum(ces_count), 0)::DOUBLE                  AS ces,
    sum(negative) / nullif(sum(analysed), 0)::DOUBLE                  AS negative_share,
    sum(complaints) / nullif(sum(messages), 0)::DOUBLE                AS complaint_rate
FROM rollups
WHERE theme <> 'all'
GROUP BY grain, window_start, window_end, theme, category, stage;
