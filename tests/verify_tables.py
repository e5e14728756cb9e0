"""Independent reader of tongdian's tables for the end-to-end tests.

Reads the Delta tables under ROOT with the Python `deltalake` package (not
tongdian's own code), queries them with DuckDB over Arrow, and prints one JSON
object of facts for the Rust test to assert on:

    python verify_tables.py ROOT [APP_ID ...]

With TD_VERIFY_DEAD_LETTER_ROWS=1 it also lists every dead letter (position,
reason, field, detail, key, and the payload's length and SHA-256).

ROOT is a directory or an object-store URI (s3://bucket/prefix, with the
AWS_* environment set).
"""
import hashlib
import json
import os
import sys

import duckdb
import pyarrow as pa
from deltalake import DeltaTable


def main() -> None:
    root = sys.argv[1].rstrip("/")
    app_ids = sys.argv[2:]
    # Object stores: the same AWS_* environment the worker used.
    options = {k: v for k, v in os.environ.items() if k.startswith("AWS_")} if "://" in root else None
    feedback_dt = DeltaTable(f"{root}/feedback", storage_options=options)
    dead_dt = DeltaTable(f"{root}/dead_letters", storage_options=options)
    feedback = feedback_dt.to_pyarrow_table()
    dead = dead_dt.to_pyarrow_table()
    con = duckdb.connect()
    con.register("feedback", feedback)
    con.register("dead_letters", dead)

    rows, distinct_ids = con.execute("select count(*), count(distinct id) from feedback").fetchone()
    duplicated = [
        r[0]
        for r in con.execute(
            "select id from feedback group by id having count(*) > 1 order by id limit 20"
        ).fetchall()
    ]
    ids = [r[0] for r in con.execute("select id from feedback order by id").fetchall()]
    by_kind = dict(con.execute("select kind, count(*) from feedback group by kind").fetchall())
    themed = con.execute("select count(*) from feedback where len(themes) > 0").fetchone()[0]
    theme_ids = sorted(
        r[0] for r in con.execute("select distinct unnest(themes).id from feedback").fetchall()
    )
    dead_rows = con.execute("select count(*) from dead_letters").fetchone()[0]
    dead_by_reason = dict(
        con.execute("select reason, count(*) from dead_letters group by reason").fetchall()
    )
    dead_positions = con.execute(
        "select count(distinct (topic, partition, \"offset\")) from dead_letters"
    ).fetchone()[0]
    dead_payloads = sorted(
        bytes(r[0]).decode("utf-8", "replace")
        for r in con.execute("select payload from dead_letters").fetchall()
    )
    nps = con.execute(
        "select 100.0 * (count(*) filter (where nps >= 9) - count(*) filter (where nps <= 6))"
        " / nullif(count(nps), 0) from feedback"
    ).fetchone()[0]
    dates = con.execute("select count(distinct dt) from feedback").fetchone()[0]

    # The Kafka offsets each table holds, as Delta `txn` actions.
    offsets = {
        name: {app: table.transaction_version(app) for app in app_ids}
        for name, table in (("feedback", feedback_dt), ("dead_letters", dead_dt))
    }

    dead_letter_rows = None
    if os.environ.get("TD_VERIFY_DEAD_LETTER_ROWS") == "1":
        dead_letter_rows = [
            {
                "topic": r[0],
                "partition": r[1],
                "offset": r[2],
                "reason": r[3],
                "field": r[4],
                "detail": r[5],
                "key": None if r[6] is None else bytes(r[6]).decode("utf-8", "replace"),
                "payload_len": len(bytes(r[7])),
                "payload_sha256": hashlib.sha256(bytes(r[7])).hexdigest(),
            }
            for r in con.execute(
                "select topic, partition, \"offset\", reason, field, detail, key, payload"
                " from dead_letters order by topic, partition, \"offset\""
            ).fetchall()
        ]

    print(
        json.dumps(
            {
                "dead_letters": dead_letter_rows,
                "feedback_rows": rows,
                "feedback_distinct_ids": distinct_ids,
                "duplicated_ids": duplicated,
                "ids": ids,
                "by_kind": by_kind,
                "rows_with_themes": themed,
                "theme_ids": theme_ids,
                "dead_letter_rows": dead_rows,
                "dead_letter_positions": dead_positions,
                "dead_letters_by_reason": dead_by_reason,
                "dead_letter_payloads": dead_payloads,
                "nps": nps,
                "event_dates": dates,
                "feedback_schema": [f.name for f in feedback.schema],
                "offsets": offsets,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
