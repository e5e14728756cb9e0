//! A long-running worker on a real broker: its operator endpoints, and a
//! SIGTERM that commits what is buffered and exits promptly (within
//! `sink.shutdown_timeout_secs`, 10 s by default).

use std::time::{Duration, Instant};

use crate::support::{
    http_get, metric_value, produce, read_tables, read_tables_with, review, run_to_end, signal,
    S3Server, Tansu, Worker,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs tansu and the Python readers; run through scripts/test.sh"]
async fn sigterm_commits_the_buffer_and_exits_within_ten_seconds() {
    let broker_dir = tempfile::tempdir().unwrap();
    let tansu = Tansu::with_input(broker_dir.path(), "feedback.reviews", 2).await;
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
    signal(&worker.child, "TERM");
    let status = worker.wait_exit(
        signalled + Duration::from_secs(10),
        "still running 10 s after SIGTERM",
        || {},
    );
    assert!(status.success(), "{status}");

    let facts = read_tables(&output, &[]);
    assert_eq!(facts["feedback_rows"], 500);
    assert_eq!(facts["feedback_distinct_ids"], 500);
}

/// The bound holds even when the buffer cannot be committed: with the store
/// down, SIGTERM ends the worker after `sink.shutdown_timeout_secs` (here
/// 6 s, by environment) with an error and nothing committed, and a later
/// worker finds every message still to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs tansu, s3s-fs and the Python readers; run through scripts/test.sh"]
async fn the_shutdown_bound_is_configurable_and_holds_while_the_store_is_down() {
    let broker_dir = tempfile::tempdir().unwrap();
    let tansu = Tansu::with_input(broker_dir.path(), "feedback.reviews", 2).await;
    let messages: Vec<_> = (0..300)
        .map(|i| review("feedback.reviews", "sb-", i))
        .collect();
    produce(&tansu.brokers, &messages).await;
    let store_dir = tempfile::tempdir().unwrap();
    let s3 = S3Server::start(store_dir.path(), &["lake"]);
    let (s3_env, s3_port) = (s3.env(), s3.port);
    let root = "s3://lake/tongdian";
    let mut env: Vec<(&str, &str)> = s3_env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.extend([
        ("TONGDIAN_SINK_FLUSH_INTERVAL_SECS", "3600"),
        // The object store's client retries a refused connection for a
        // second or so (tongdian's default `max_retries = 3`) before the
        // worker sees the failure and logs its own retry.
        ("TONGDIAN_SINK_SHUTDOWN_TIMEOUT_SECS", "6"),
    ]);
    let mut worker = Worker::spawn(
        &tansu.brokers,
        root,
        &["--topics", "feedback.reviews"],
        &env,
    );
    worker.wait_consumed(300, Duration::from_secs(60));
    s3.stop();

    let signalled = Instant::now();
    signal(&worker.child, "TERM");
    let status = worker.wait_exit(
        signalled + Duration::from_secs(11),
        "still running 11 s after SIGTERM with a 6 s bound",
        || {},
    );
    let took = signalled.elapsed();
    // It tried to commit for the whole bound, then gave up, saying so.
    assert!(took >= Duration::from_secs(6), "{took:?}");
    assert!(!status.success(), "{status}");
    let log = worker.log();
    assert!(log.contains("commit failed; retrying"), "{log}");
    assert!(log.contains("did not stop within"), "{log}");

    let s3 = S3Server::start_on(store_dir.path(), &["lake"], s3_port);
    run_to_end(
        &tansu.brokers,
        root,
        &["--topics", "feedback.reviews"],
        &s3.env(),
    );
    let facts = read_tables_with(root, &[], &s3.env());
    assert_eq!(facts["feedback_rows"], 300);
    assert_eq!(facts["feedback_distinct_ids"], 300);
}
