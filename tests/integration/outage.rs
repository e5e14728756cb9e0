//! Outages mid-load: the broker (tansu, whose SQLite file keeps the log)
//! or the object store (s3s-fs, whose directory keeps the objects) is
//! stopped for 30 s and started again on the same port. The worker waits,
//! never exits, resumes, and the tables end up with every message exactly
//! once.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::{
    app_ids, metric_value, produce, read_tables_with, review, wait_tables_cover, S3Server, Tansu,
    Worker,
};

const TOPIC: &str = "feedback.reviews";
const OUTAGE: Duration = Duration::from_secs(30);

/// Every 25th message is a dead letter, so the dead-letter topic (a Kafka
/// producer) and both tables are in play.
fn message(i: usize) -> (String, Option<String>, Vec<u8>) {
    if i % 25 == 13 {
        let id = format!("o-{i}");
        let payload = format!(
            r#"{{"id":"{id}","kind":"review","created_at":"2026-11-05T10:00:00Z","source":"jd","text":"x","rating":0}}"#
        );
        (TOPIC.to_owned(), Some(id), payload.into_bytes())
    } else {
        review(TOPIC, "o-", i)
    }
}

fn messages(range: std::ops::Range<usize>) -> Vec<(String, Option<String>, Vec<u8>)> {
    range.map(message).collect()
}

const FLUSH: [(&str, &str); 2] = [
    ("TONGDIAN_SINK_FLUSH_MAX_MESSAGES", "500"),
    ("TONGDIAN_SINK_FLUSH_INTERVAL_SECS", "1"),
];

/// Waits out the outage, failing the test the moment the worker exits.
fn ride_out(worker: &mut Worker, what: &str, mut each_second: impl FnMut(&Worker)) {
    let until = Instant::now() + OUTAGE;
    while Instant::now() < until {
        worker.assert_running(&format!("while {what} was down"));
        each_second(worker);
        std::thread::sleep(Duration::from_secs(1));
    }
}

fn assert_exactly_once(facts: &serde_json::Value, total: usize) {
    let invalid = (0..total).filter(|i| i % 25 == 13).count();
    crate::support::assert_exactly_once(facts, total - invalid, invalid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs tansu and the Python readers; run through scripts/test.sh"]
async fn a_broker_outage_of_thirty_seconds_loses_and_duplicates_nothing() {
    let broker_dir = tempfile::tempdir().unwrap();
    let tansu = Tansu::with_input(broker_dir.path(), TOPIC, 4).await;
    let (brokers, port) = (tansu.brokers.clone(), tansu.port);
    const BEFORE: usize = 20_000;
    const AFTER: usize = 5_000;
    produce(&brokers, &messages(0..BEFORE)).await;

    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("tables");
    let out = output.to_str().unwrap().to_owned();
    let mut worker = Worker::spawn(&brokers, &out, &["--topics", TOPIC], &FLUSH);
    worker.wait_consumed(3_000, Duration::from_secs(90));

    tansu.stop();
    ride_out(&mut worker, "the broker", |_| {});
    let tansu = Tansu::start_sqlite_on(broker_dir.path(), port);
    // New messages after the restart: the worker reads from the live broker
    // again, not only from what it had fetched before the outage.
    produce(&tansu.brokers, &messages(BEFORE..BEFORE + AFTER)).await;

    let apps = app_ids(TOPIC, 4);
    let facts = wait_tables_cover(
        &out,
        &apps,
        &[],
        (BEFORE + AFTER) as i64,
        Duration::from_secs(240),
        || worker.assert_running("after the broker came back"),
    );
    assert_exactly_once(&facts, BEFORE + AFTER);
    worker.terminate(Duration::from_secs(20));
    let log = worker.log();
    eprintln!(
        "broker outage: {} dead-letter resends, {} kafka errors in the run loop, {} assignments",
        log.matches("sending dead letters failed; retrying").count(),
        log.matches("kafka error; retrying").count(),
        log.matches("partition assigned").count()
    );
    for line in log.lines().filter(|l| l.contains("tongdian")) {
        eprintln!("  {line}");
    }
}

/// The Delta log versions written so far, counted in the store's own
/// directory (s3s-fs keeps one file per object).
fn log_versions(store: &Path) -> usize {
    ["feedback", "dead_letters"]
        .iter()
        .map(|t| {
            std::fs::read_dir(store.join("lake/tongdian").join(t).join("_delta_log"))
                .map(|d| {
                    d.filter_map(Result::ok)
                        .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
                        .count()
                })
                .unwrap_or(0)
        })
        .sum()
}

fn metric(worker: &Worker, name: &str) -> f64 {
    let body = worker.metrics().expect("the worker answers /metrics");
    metric_value(&body, name).unwrap_or_else(|| panic!("no {name} in\n{body}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs tansu, s3s-fs and the Python readers; run through scripts/test.sh"]
async fn a_store_outage_of_thirty_seconds_is_retried_with_backoff() {
    let broker_dir = tempfile::tempdir().unwrap();
    let tansu = Tansu::with_input(broker_dir.path(), TOPIC, 4).await;
    let store_dir = tempfile::tempdir().unwrap();
    let s3 = S3Server::start(store_dir.path(), &["lake"]);
    let (s3_env, s3_port) = (s3.env(), s3.port);
    const TOTAL: usize = 20_000;
    produce(&tansu.brokers, &messages(0..TOTAL)).await;

    let root = "s3://lake/tongdian";
    let mut env: Vec<(&str, &str)> = s3_env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.extend(FLUSH);
    let mut worker = Worker::spawn(&tansu.brokers, root, &["--topics", TOPIC], &env);
    worker.wait_consumed(3_000, Duration::from_secs(90));
    assert_eq!(metric(&worker, "tongdian_store_writable"), 1.0);

    s3.stop();
    let versions = log_versions(store_dir.path());
    let rows = metric(&worker, "tongdian_feedback_rows_total");
    let log_before = worker.log().len();
    ride_out(&mut worker, "the store", |w| {
        assert_eq!(
            log_versions(store_dir.path()),
            versions,
            "a table version appeared while the store was down"
        );
        assert_eq!(metric(w, "tongdian_feedback_rows_total"), rows);
    });
    // Down for 30 s: the worker noticed, said so, and retried with growing
    // pauses (0.5 s doubling: about 6 tries in 30 s, not hundreds).
    let retries = metric(&worker, "tongdian_commit_retries_total");
    assert!((3.0..=12.0).contains(&retries), "{retries} retries");
    assert_eq!(metric(&worker, "tongdian_store_writable"), 0.0);
    assert_eq!(metric(&worker, "tongdian_ready"), 0.0);
    let outage_log = worker.log()[log_before..].to_owned();
    assert!(
        outage_log.matches("commit failed; retrying").count() as f64 >= retries,
        "{outage_log}"
    );

    let s3 = S3Server::start_on(store_dir.path(), &["lake"], s3_port);
    let apps = app_ids(TOPIC, 4);
    let facts = wait_tables_cover(
        root,
        &apps,
        &s3.env(),
        TOTAL as i64,
        Duration::from_secs(240),
        || worker.assert_running("after the store came back"),
    );
    assert!(log_versions(store_dir.path()) > versions);
    // The commit is in the table a moment before the worker has logged it
    // and updated its gauge: on a loaded machine that moment was enough
    // for a first look to miss the line.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while !(worker.log().contains("the store is back; committed")
        && metric(&worker, "tongdian_store_writable") == 1.0)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the worker never said the store is back:\n{}",
            worker.log_tail()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_exactly_once(&facts, TOTAL);
    worker.terminate(Duration::from_secs(20));
    assert_exactly_once(&read_tables_with(root, &[], &s3.env()), TOTAL);
}
