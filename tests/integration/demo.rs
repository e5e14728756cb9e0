//! `tongdian demo`: the embedded default, checked with an independent reader.

use crate::support::{assert_exactly_once, read_tables, stdout_of, tongdian};

#[test]
#[ignore = "needs the Python readers; run through scripts/test.sh"]
fn demo_fills_tables_that_deltalake_and_duckdb_read() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("tables");
    let stdout = stdout_of(tongdian().args(["demo", "--output"]).arg(&output));
    assert!(stdout.contains("produced 2400 sample messages"), "{stdout}");
    assert!(stdout.contains("messages     2376"), "{stdout}");
    assert!(stdout.contains("dead letters 24"), "{stdout}");
    assert!(
        stdout.contains("NPS") && stdout.contains("CSAT") && stdout.contains("top negative themes")
    );

    let facts = read_tables(&output, &[]);
    assert_exactly_once(&facts, 2376, 24);
    for kind in ["review", "ticket", "survey", "social"] {
        assert!(
            facts["by_kind"][kind].as_u64().unwrap() > 100,
            "{kind}: {}",
            facts["by_kind"]
        );
    }
    assert!(
        facts["event_dates"].as_u64().unwrap() >= 14,
        "partitioned by event date"
    );
    assert!(facts["rows_with_themes"].as_u64().unwrap() > 1000);
    assert!(
        facts["theme_ids"].as_array().unwrap().len() >= 15,
        "{}",
        facts["theme_ids"]
    );

    // Again on the same output: the demo replaces its own earlier tables
    // (its in-process broker starts empty every time).
    let again = tongdian()
        .args(["demo", "--output"])
        .arg(&output)
        .output()
        .unwrap();
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(String::from_utf8_lossy(&again.stdout).contains("messages     2376"));
    assert_eq!(read_tables(&output, &[])["feedback_rows"], 2376);
}

#[test]
fn demo_refuses_to_overwrite_a_directory_it_did_not_write() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("precious.txt"), "keep me").unwrap();
    let out = tongdian()
        .args(["demo", "--output"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not written by"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("precious.txt")).unwrap(),
        "keep me"
    );
}
