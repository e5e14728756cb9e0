//! Rebalances under load on a real broker: one consumer group scales from
//! one worker to three and back to one while messages keep arriving, and
//! one of the three is frozen (SIGSTOP) past its session so the group gives
//! its partitions away while it still holds uncommitted rows. Afterwards
//! every message is in the tables exactly once.

use std::time::Duration;

use crate::support::{
    app_ids, assert_exactly_once, metric_value, produce, read_tables, review, signal,
    wait_tables_cover_or, Tansu, Worker,
};

const TOPIC: &str = "feedback.reviews";
const GROUP: [&str; 2] = ["--group", "rebalance"];

/// Every 25th message is a dead letter (rating out of range), so both
/// tables are written and fenced.
fn message(i: usize) -> (String, Option<String>, Vec<u8>) {
    if i % 25 == 13 {
        let id = format!("rb-{i}");
        let payload = format!(
            r#"{{"id":"{id}","kind":"review","created_at":"2026-11-05T10:00:00Z","source":"jd","text":"x","rating":9}}"#
        );
        (TOPIC.to_owned(), Some(id), payload.into_bytes())
    } else {
        review(TOPIC, "rb-", i)
    }
}

fn spawn(brokers: &str, output: &str) -> Worker {
    let mut args = vec!["--topics", TOPIC];
    args.extend(GROUP);
    Worker::spawn(
        brokers,
        output,
        &args,
        // Many small commits, so rebalances land between and during them.
        &[
            ("TONGDIAN_SINK_FLUSH_MAX_MESSAGES", "500"),
            ("TONGDIAN_SINK_FLUSH_INTERVAL_SECS", "1"),
        ],
    )
}

fn count(log: &str, needle: &str) -> usize {
    log.matches(needle).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs tansu and the Python readers; run through scripts/test.sh"]
async fn scaling_one_three_one_under_load_keeps_exactly_once() {
    let broker_dir = tempfile::tempdir().unwrap();
    let tansu = Tansu::with_input(broker_dir.path(), TOPIC, 4).await;
    const BACKLOG: usize = 20_000;
    const LIVE: usize = 20_000;
    const TOTAL: usize = BACKLOG + LIVE;
    let invalid = (0..TOTAL).filter(|i| i % 25 == 13).count();
    produce(
        &tansu.brokers,
        &(0..BACKLOG).map(message).collect::<Vec<_>>(),
    )
    .await;

    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("tables");
    let out = output.to_str().unwrap().to_owned();

    // 1 worker.
    let mut a = spawn(&tansu.brokers, &out);
    a.wait_consumed(2_000, Duration::from_secs(90));

    // Messages keep arriving while the group changes.
    let brokers = tansu.brokers.clone();
    let live = tokio::spawn(async move {
        for chunk in (BACKLOG..TOTAL).collect::<Vec<_>>().chunks(2_000) {
            produce(
                &brokers,
                &chunk.iter().map(|&i| message(i)).collect::<Vec<_>>(),
            )
            .await;
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });

    // 3 workers: each of the newcomers gets partitions and reads from them.
    let mut b = spawn(&tansu.brokers, &out);
    let mut c = spawn(&tansu.brokers, &out);
    b.wait_consumed(1, Duration::from_secs(90));
    c.wait_consumed(1, Duration::from_secs(90));

    // Freeze b past its session timeout (6 s): the group hands its
    // partitions to a and c, which commit them, while b still holds rows it
    // read but has not committed. Thawed, b must not commit them.
    let holding = std::time::Instant::now();
    while b
        .metrics()
        .and_then(|m| metric_value(&m, "tongdian_buffered_messages"))
        .unwrap_or(0.0)
        == 0.0
    {
        assert!(
            holding.elapsed() < Duration::from_secs(60),
            "b never held uncommitted rows:\n{}",
            b.log()
        );
        b.assert_running("before the freeze");
        std::thread::sleep(Duration::from_millis(5));
    }
    signal(&b.child, "STOP");
    tokio::time::sleep(Duration::from_secs(12)).await;
    let before_thaw = b.log().len();
    signal(&b.child, "CONT");
    tokio::time::sleep(Duration::from_secs(4)).await;
    b.assert_running("after being thawed");

    // Back to 1 worker: b and c leave cleanly.
    b.terminate(Duration::from_secs(20));
    c.terminate(Duration::from_secs(20));
    live.await.unwrap();

    let apps = app_ids(TOPIC, 4);
    // A stall here was seen once, in a fresh-clone run on a loaded
    // machine (the tables stayed at 23,500 of 40,000 for 240 s while `a`
    // ran); the worker's log goes into the failure message to tell a
    // wedged group from a wedged worker.
    let a_log = a.log_tail_reader();
    wait_tables_cover_or(
        &out,
        &apps,
        &[],
        TOTAL as i64,
        Duration::from_secs(240),
        || a.assert_running("while draining alone"),
        move || format!("worker a's log, last lines:\n{}", a_log()),
    );
    let a_metrics = a.metrics().expect("a answers /metrics");
    a.terminate(Duration::from_secs(20));

    let facts = read_tables(&output, &[]);
    assert_exactly_once(&facts, TOTAL - invalid, invalid);

    // The group really did move partitions: a gave some up when b and c
    // joined and took them all back at the end; b and c held some.
    let (a_log, b_log, c_log) = (a.log(), b.log(), c.log());
    assert!(count(&a_log, "partitions revoked") >= 2, "{a_log}");
    assert!(count(&a_log, "partition assigned") >= 4 + 2, "{a_log}");
    assert!(count(&b_log, "partition assigned") >= 1, "{b_log}");
    assert!(count(&c_log, "partition assigned") >= 1, "{c_log}");
    // Thawed, b learnt it had lost its partitions, by a revocation from
    // the group or by the fence at its next commit, before writing anything
    // for them (the exact counts above prove nothing was written twice).
    let after_thaw = &b_log[before_thaw..];
    let fenced = count(after_thaw, "another writer advanced this partition");
    let revoked = count(after_thaw, "partitions revoked") + count(after_thaw, "rebalance error");
    assert!(fenced + revoked > 0, "b after the thaw:\n{after_thaw}");
    eprintln!(
        "b after the thaw: {fenced} fenced commits, {revoked} revocations; a: fenced_total {:?}",
        metric_value(&a_metrics, "tongdian_fenced_total")
    );
}

/// The fence on its own: two workers in different groups (a mistaken
/// deployment, or a zombie that kept running after its group moved on)
/// both own every partition and write one set of tables. Each commit
/// checks the tables' offsets first, so whichever commits second for a
/// range is refused, drops its rows for the partition and reads on from
/// where the tables end: every message lands exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs tansu and the Python readers; run through scripts/test.sh"]
async fn a_writer_whose_offsets_were_advanced_by_another_commits_nothing_for_them() {
    let broker_dir = tempfile::tempdir().unwrap();
    let tansu = Tansu::with_input(broker_dir.path(), TOPIC, 2).await;
    const TOTAL: usize = 10_000;
    produce(&tansu.brokers, &(0..TOTAL).map(message).collect::<Vec<_>>()).await;

    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("tables");
    let output = output.to_str().unwrap();
    let env = [
        ("TONGDIAN_SINK_FLUSH_MAX_MESSAGES", "300"),
        ("TONGDIAN_SINK_FLUSH_INTERVAL_SECS", "1"),
    ];
    let mut workers: Vec<Worker> = ["fence-a", "fence-b"]
        .iter()
        .map(|group| {
            Worker::spawn(
                &tansu.brokers,
                output,
                &["--topics", TOPIC, "--group", group, "--exit-at-end"],
                &env,
            )
        })
        .collect();
    for w in &mut workers {
        let deadline = std::time::Instant::now() + Duration::from_secs(240);
        let status = w.wait_exit(deadline, "the worker did not finish within 240 s", || {});
        assert!(status.success(), "a worker failed:\n{}", w.log_tail());
    }
    let fenced: usize = workers
        .iter()
        .map(|w| count(&w.log(), "another writer advanced this partition"))
        .sum();
    assert!(fenced > 0, "the two writers never met at a commit");
    let facts = read_tables(std::path::Path::new(output), &app_ids(TOPIC, 2));
    let invalid = (0..TOTAL).filter(|i| i % 25 == 13).count();
    assert_exactly_once(&facts, TOTAL - invalid, invalid);
    eprintln!("two groups on one table: {fenced} fenced commits, exactly once");
}
