//! Analytics with two workers on a real broker (tansu): both write
//! `rollups` and critical alerts with their commits and publish partial
//! counts; both run a detector over the one counts topic. Afterwards the
//! rollups add up to exactly the feedback table, and no window's priorities
//! were written twice.

use serde_json::Value;

use crate::support::{
    assert_rollups_match_feedback, create_topics, produce, read_analytics, run_to_end, Tansu,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs tansu and the Python readers; run through scripts/test.sh"]
async fn two_workers_rollups_add_up_to_the_feedback_table_and_windows_are_ranked_once() {
    let dir = tempfile::tempdir().unwrap();
    let tansu = Tansu::start_sqlite(dir.path());
    create_topics(
        &tansu.brokers,
        &[
            ("feedback.reviews", 4),
            ("feedback.dlq", 1),
            ("feedback.alerts", 1),
            ("feedback.counts", 1),
        ],
    )
    .await;
    // The demo sample's valid lines, spread over four partitions by id.
    let sample = include_str!("../../data/demo/feedback.jsonl");
    let messages: Vec<(String, Option<String>, Vec<u8>)> = sample
        .lines()
        .filter(|l| serde_json::from_str::<Value>(l).is_ok_and(|v| v.is_object()))
        .map(|l| {
            let id = serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_str()
                .map(str::to_owned);
            ("feedback.reviews".to_owned(), id, l.as_bytes().to_vec())
        })
        .collect();
    produce(&tansu.brokers, &messages).await;

    let output = dir.path().join("tables");
    let out = output.to_str().unwrap().to_owned();
    let brokers = tansu.brokers.clone();
    let run = move || {
        run_to_end(
            &brokers,
            &out,
            &["--topics", "feedback.reviews"],
            &[("TONGDIAN_SINK_FLUSH_INTERVAL_SECS", "1".to_owned())],
        )
    };
    let (a, b) = (std::thread::spawn(run.clone()), std::thread::spawn(run));
    let (a, b) = (a.join().unwrap(), b.join().unwrap());
    let f = read_analytics(&output, &[]);
    let rows = f["feedback_rows"].as_u64().unwrap();
    assert!(rows > 2000, "{f}\n{a}\n{b}");
    assert_rollups_match_feedback(&f, rows);
    assert_eq!(
        f["alerts_by_kind"]["critical_message"], f["critical_expected"],
        "{f}"
    );
    assert_eq!(f["alert_ids_distinct"], f["alert_rows"]);
    // Global priorities: every window once, ranked 1..n; a theme's
    // complaints in them never exceed what feedback holds.
    assert!(f["pain_point_rows"].as_u64().unwrap() > 0, "{f}");
    assert_eq!(f["pain_point_duplicates"].as_u64(), Some(0), "{f}");
    assert_eq!(f["pain_point_rank_gaps"].as_u64(), Some(0));
    for (theme, n) in f["pain_point_complaints_1d"].as_object().unwrap() {
        let total = f["feedback_complaints"][theme].as_u64().unwrap_or(0);
        assert!(n.as_u64().unwrap() <= total, "{theme}: {n} > {total}");
    }
}
