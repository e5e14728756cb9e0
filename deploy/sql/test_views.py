"""Checks deploy/sql/kpi_views.sql in DuckDB against hand-computed numbers.

Builds a small `rollups` table with the table's columns (as
schemas/src/analytics.rs defines them), split the way workers write it:
two partial rows and a late correction for one touchpoint, so the views
must add rows before dividing. Run: python deploy/sql/test_views.py
"""

import math
import pathlib
import sys

import duckdb

HERE = pathlib.Path(__file__).resolve().parent

COLUMNS = [
    ("window_start", "TIMESTAMPTZ"), ("window_end", "TIMESTAMPTZ"), ("grain", "VARCHAR"),
    ("is_late_correction", "BOOLEAN"), ("theme", "VARCHAR"), ("category", "VARCHAR"),
    ("stage", "VARCHAR"), ("channel", "VARCHAR"), ("kind", "VARCHAR"), ("source", "VARCHAR"),
    ("segment", "VARCHAR"), ("messages", "BIGINT"), ("analysed", "BIGINT"), ("mentions", "BIGINT"),
    ("negative", "BIGINT"), ("neutral", "BIGINT"), ("positive", "BIGINT"), ("mixed", "BIGINT"),
    ("complaints", "BIGINT"), ("sentiment_sum", "DOUBLE"), ("negative_intensity_sum", "DOUBLE"),
    ("promoters", "BIGINT"), ("passives", "BIGINT"), ("detractors", "BIGINT"),
    ("csat_responses", "BIGINT"), ("csat_satisfied", "BIGINT"), ("ces_sum", "BIGINT"),
    ("ces_count", "BIGINT"), ("sla_met", "BIGINT"), ("sla_missed", "BIGINT"),
    ("flag_churn_risk", "BIGINT"), ("flag_escalation", "BIGINT"), ("flag_safety", "BIGINT"),
    ("flag_expectation_gap", "BIGINT"), ("angry_or_frustrated", "BIGINT"),
    ("customers_hll", "BLOB"), ("customers_estimate", "DOUBLE"),
    ("negative_customers_hll", "BLOB"), ("negative_customers_estimate", "DOUBLE"), ("dt", "DATE"),
]


def row(theme="all", channel="app", source="tmall", late=False, **measures):
    values = {name: 0 for name, _ in COLUMNS}
    values.update(
        window_start="2026-11-03 10:00:00+00", window_end="2026-11-03 11:00:00+00", grain="1h",
        is_late_correction=late, theme=theme, category="all" if theme == "all" else "process",
        stage="all" if theme == "all" else "purchase", channel=channel, kind="review",
        source=source, segment="unknown", sentiment_sum=0.0, negative_intensity_sum=0.0,
        customers_hll=b"\x01\x0c", customers_estimate=0.0, negative_customers_hll=b"\x01\x0c",
        negative_customers_estimate=0.0, dt="2026-11-03",
    )
    values.update(measures)
    return tuple(values[name] for name, _ in COLUMNS)


ROWS = [
    # app × tmall, from two workers plus a late correction.
    row(messages=10, analysed=8, negative=4, complaints=3, promoters=3, passives=1, detractors=2,
        csat_responses=4, csat_satisfied=3, ces_sum=9, ces_count=3, sla_met=2, sla_missed=1),
    row(messages=6, analysed=6, negative=1, complaints=1, promoters=1, passives=0, detractors=2,
        csat_responses=1, csat_satisfied=0, ces_sum=5, ces_count=1, sla_met=0, sla_missed=1),
    row(late=True, messages=4, analysed=2, negative=1, complaints=0, detractors=1),
    # app × jd: no surveys at all.
    row(source="jd", messages=5, analysed=5, negative=0, complaints=0),
    # wechat × tmall.
    row(channel="wechat", messages=2, analysed=2, negative=2, complaints=2, promoters=0, detractors=1),
    # Theme rows: must not leak into the channel views.
    row(theme="delivery", messages=7, analysed=7, negative=5, complaints=5, promoters=1, detractors=2),
    row(theme="delivery", channel="wechat", messages=1, analysed=1, negative=1, complaints=1),
]


def close(a, b):
    return a is not None and math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


def main():
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("CREATE TABLE rollups (" + ", ".join(f"{n} {t}" for n, t in COLUMNS) + ")")
    con.executemany(f"INSERT INTO rollups VALUES ({', '.join('?' for _ in COLUMNS)})", ROWS)
    con.execute((HERE / "kpi_views.sql").read_text())

    failures = []

    def check(label, got, want):
        ok = (got is None and want is None) or (want is not None and close(got, want))
        if not ok:
            failures.append(f"{label}: got {got}, want {want}")

    tp = {
        (c, s): r
        for c, s, *r in con.execute(
            "SELECT channel, source, messages, nps, csat_pct, ces, negative_share, complaint_rate,"
            " sla_met_pct FROM touchpoint_kpis"
        ).fetchall()
    }
    # app × tmall: promoters 4, passives 1, detractors 5 → NPS −10.
    messages, nps, csat, ces, neg, complaint, sla = tp[("app", "tmall")]
    check("app/tmall messages", messages, 20)
    check("app/tmall nps", nps, 100.0 * (4 - 5) / 10)
    check("app/tmall csat_pct", csat, 100.0 * 3 / 5)
    check("app/tmall ces", ces, 14 / 4)
    check("app/tmall negative_share", neg, 6 / 16)
    check("app/tmall complaint_rate", complaint, 4 / 20)
    check("app/tmall sla_met_pct", sla, 100.0 * 2 / 4)
    messages, nps, csat, ces, neg, complaint, sla = tp[("app", "jd")]
    check("app/jd nps without responses", nps, None)
    check("app/jd csat without responses", csat, None)
    check("app/jd ces without responses", ces, None)
    check("app/jd negative_share", neg, 0.0)

    ch = {
        c: r
        for c, *r in con.execute(
            "SELECT channel, messages, nps, negative_share, complaint_rate FROM channel_kpis"
        ).fetchall()
    }
    check("app messages", ch["app"][0], 25)
    check("app nps", ch["app"][1], -10.0)
    check("app negative_share", ch["app"][2], 6 / 21)
    check("wechat nps", ch["wechat"][1], -100.0)
    check("wechat complaint_rate", ch["wechat"][3], 1.0)
    if set(ch) != {"app", "wechat"}:
        failures.append(f"channel_kpis channels {sorted(ch)}")

    th = con.execute(
        "SELECT theme, messages, nps, negative_share, complaint_rate FROM theme_kpis"
    ).fetchall()
    if len(th) != 1 or th[0][0] != "delivery":
        failures.append(f"theme_kpis rows {th}")
    else:
        _, messages, nps, neg, complaint = th[0]
        check("delivery messages", messages, 8)
        check("delivery nps", nps, 100.0 * (1 - 2) / 3)
        check("delivery negative_share", neg, 6 / 8)
        check("delivery complaint_rate", complaint, 6 / 8)

    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    print("kpi_views.sql: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
