//! A long-running worker on a real broker: its operator endpoints, and a
//! SIGTERM that commits what is buffered and exits promptly.

use std::time::{Duration, Instant};

use crate::support::{create_topics, http_get, metric_value, produce, read_tables, Tansu, Worker};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs tansu and the Python readers; run through scripts/test.sh"]
async fn sigterm_commits_the_buffer_and_exits_within_ten_seconds() {
    let broker_dir = tempfile::tempdir().unwrap();
    let tansu = Tansu::start_sqlite(broker_dir.path());
    create_topics(
        &tansu.brokers,
        &[("feedback.reviews", 2), ("feedback.dlq", 1)],
    )
    .await;
    let messages: Vec<_> = (0..500)
        .map(|i| {
            let payload = format!(
                r#"{{"id":"t{i}","kind":"review","created_at":"2026-11-05T10:00:00+08:00","source":"jd","text":"客服回复很及时，第{i}次好评"}}"#
            );
            ("feedback.reviews".to_owned(), Some(format!("t{i}")), payload.into_bytes())
        })
        .collect();
    produce(&tansu.brokers, &messages).await;

    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("tables");
    let mut worker = Worker::spawn(
        &tansu.brokers,
        output.to_str().unwrap(),
        &["--topics", "feedback.reviews"],
        // Nothing is committed before the signal: the buffer must survive it.
        &[("TONGDIAN_SINK_FLUSH_INTERVAL_SECS", "3600")],
    );
    let address = worker.metrics_address.clone();
    let metrics = worker.wait_consumed(500, Duration::from_secs(60));
    assert_eq!(
        metric_value(&metrics, "tongdian_buffered_messages"),
        Some(500.0),
        "{metrics}"
    );
    assert_eq!(
        metric_value(&metrics, "tongdian_assigned_partitions"),
        Some(2.0),
        "{metrics}"
    );
    assert_eq!(http_get(&address, "/readyz").map(|r| r.0), Some(200));
    assert_eq!(http_get(&address, "/healthz").map(|r| r.0), Some(200));

    let signalled = Instant::now();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &worker.child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = loop {
        if let Some(status) = worker.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(10),
            "still running 10 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");

    let facts = read_tables(&output, &[]);
    assert_eq!(facts["feedback_rows"], 500);
    assert_eq!(facts["feedback_distinct_ids"], 500);
}
