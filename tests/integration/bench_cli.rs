//! `tongdian bench backlog` on a tiny topic: it produces, drains the topic
//! twice (bare consumer, pipeline) and prints figures; the pipeline's run
//! really lands every message in the tables. No timing is asserted.

use crate::support::{read_tables, stdout_of, tongdian, Tansu};

#[test]
#[ignore = "needs tansu and the Python readers; run through scripts/test.sh"]
fn the_backlog_benchmark_runs_on_a_tiny_topic() {
    let broker_dir = tempfile::tempdir().unwrap();
    let tansu = Tansu::start_sqlite(broker_dir.path());
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("tables");
    let stdout = stdout_of(
        tongdian()
            .args(["bench", "backlog", "--produce", "--messages", "2000"])
            .args(["--brokers", &tansu.brokers, "--output"])
            .arg(&output),
    );
    let figure = |label: &str| -> f64 {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no `{label}` line in\n{stdout}"));
        line[label.len()..]
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(stdout.contains("2000 messages, 4 partitions"), "{stdout}");
    assert!(figure("bare consumer") > 0.0);
    assert!(figure("pipeline") > 0.0);
    assert!(figure("ratio") > 0.0);
    assert!(figure("peak RSS") > 0.0);
    assert_eq!(figure("memory limit"), 512.0);
    let facts = read_tables(&output, &[]);
    assert_eq!(facts["feedback_rows"], 2000);
    assert_eq!(facts["feedback_distinct_ids"], 2000);
}
