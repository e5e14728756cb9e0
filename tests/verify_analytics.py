"""Independent reader of tongdian's analytics tables for the end-to-end tests.

Reads `feedback`, `rollups`, `pain_points` and `alerts` under ROOT with the
Python `deltalake` package, recomputes from `feedback` what the rollups and
critical alerts must say, and prints one JSON object of facts:

    python verify_analytics.py ROOT [APP_ID ...]

APP_IDs are `txn` application ids whose versions (the Kafka offsets each
table holds) are reported per table.
"""
import json
import os
import sys

import duckdb
from deltalake import DeltaTable


def main() -> None:
    root = sys.argv[1].rstrip("/")
    app_ids = sys.argv[2:]
    con = duckdb.connect()
    tables = {}
    for name in ["feedback", "rollups", "pain_points", "alerts"]:
        dt = DeltaTable(f"{root}/{name}")
        tables[name] = dt
        con.register(name, dt.to_pyarrow_table())

    def one(sql):
        return con.execute(sql).fetchone()[0]

    def by_key(sql):
        """A two-column query as a dict of its first column to its second."""
        return dict(con.execute(sql).fetchall())

    facts = {"feedback_rows": one("select count(*) from feedback")}
    # Every grain's `all` rows count each message once.
    facts["messages_by_grain"] = by_key(
        "select grain, sum(messages) from rollups where theme = 'all' group by grain"
    )
    facts["late_correction_rows"] = one("select count(*) from rollups where is_late_correction")
    # Complaints per theme from the rollups (daily) and recomputed from feedback.
    facts["rollup_complaints"] = by_key(
        "select theme, sum(complaints) from rollups where grain = '1d' and theme <> 'all'"
        " group by theme order by theme"
    )
    facts["feedback_complaints"] = by_key(
        "select t.id, count(distinct f.id) from feedback f, unnest(f.themes) as u(t)"
        " where t.polarity = 'negative' group by t.id order by t.id"
    )
    facts["rollup_promoters"] = one(
        "select sum(promoters) from rollups where grain = '1d' and theme = 'all'"
    )
    facts["feedback_promoters"] = one("select count(*) from feedback where nps >= 9")
    facts["rollup_csat_satisfied"] = one(
        "select sum(csat_satisfied) from rollups where grain = '1d' and theme = 'all'"
    )
    facts["feedback_csat_satisfied"] = one("select count(*) from feedback where csat >= 4")
    # Critical messages, recomputed from the feedback rows.
    facts["critical_expected"] = one(
        "select count(*) from feedback where list_contains(flags, 'safety')"
        " or list_contains(flags, 'escalation')"
        " or (list_contains(flags, 'churn_risk') and segment = 'high_value')"
    )
    facts["alerts_by_kind"] = by_key("select kind, count(*) from alerts group by kind")
    facts["alert_ids_distinct"] = one("select count(distinct alert_id) from alerts")
    facts["alert_rows"] = one("select count(*) from alerts")
    facts["critical_messages_alerted"] = one(
        "select count(distinct example_message_ids[1]) from alerts where kind = 'critical_message'"
    )
    facts["pain_point_rows"] = one("select count(*) from pain_points")
    facts["pain_point_windows"] = one(
        "select count(distinct (grain, window_start)) from pain_points"
    )
    # Ranks are 1..n in every window.
    facts["pain_point_rank_gaps"] = one(
        "select count(*) from (select grain, window_start, max(rank) m, count(*) n"
        " from pain_points group by all) where m <> n"
    )
    facts["pain_point_duplicates"] = one(
        "select count(*) from (select grain, window_start, theme from pain_points"
        " group by all having count(*) > 1)"
    )
    facts["pain_point_complaints_1d"] = by_key(
        "select theme, sum(complaints) from pain_points where grain = '1d'"
        " group by theme order by theme"
    )
    facts["moscow_values"] = sorted(
        r[0] for r in con.execute("select distinct moscow from pain_points").fetchall()
    )
    # Offsets: the derived tables hold the same offsets as feedback.
    # The shipped BI views, over the real table.
    views = open(os.path.join(os.path.dirname(__file__), "..", "deploy", "sql", "kpi_views.sql")).read()
    con.execute(views)
    facts["view_nps_responses_1d"] = one(
        "select sum(nps_responses) from channel_kpis where grain = '1d'"
    )
    facts["feedback_nps_responses"] = one("select count(nps) from feedback")
    facts["view_csat_responses_1d"] = one(
        "select sum(csat_responses) from channel_kpis where grain = '1d'"
    )
    facts["feedback_csat_responses"] = one("select count(csat) from feedback")
    facts["view_theme_complaints_1d"] = by_key(
        "select theme, sum(complaints) from theme_kpis where grain = '1d'"
        " group by theme order by theme"
    )
    facts["view_stages_with_nps"] = sorted(
        r[0]
        for r in con.execute(
            "select distinct stage from theme_kpis where nps is not null"
        ).fetchall()
    )
    facts["txn"] = {
        name: {a: dt.transaction_version(a) for a in app_ids} for name, dt in tables.items()
    }
    print(json.dumps(facts, default=str))


if __name__ == "__main__":
    main()
