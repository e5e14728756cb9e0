//! Crash safety on a real broker: a worker draining a backlog is killed
//! with SIGKILL at randomised moments and restarted; afterwards every valid
//! message is in `feedback` exactly once and every invalid one in
//! `dead_letters` exactly once.

use std::time::Duration;

use crate::support::{create_topics, produce, read_tables, run_to_end, Tansu, Worker};

/// A tiny deterministic generator: the kill points vary between rounds but
/// a failure can be replayed.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs tansu and the Python readers; run through scripts/test.sh"]
async fn sigkill_at_random_moments_loses_and_duplicates_nothing() {
    let broker_dir = tempfile::tempdir().unwrap();
    let tansu = Tansu::start_sqlite(broker_dir.path());
    create_topics(
        &tansu.brokers,
        &[("feedback.reviews", 4), ("feedback.dlq", 1)],
    )
    .await;
    const TOTAL: usize = 20_000;
    let mut invalid = 0;
    let messages: Vec<_> = (0..TOTAL)
        .map(|i| {
            let payload = if i % 20 == 7 {
                invalid += 1;
                format!(r#"{{"id":"c{i}","kind":"review","created_at":"2026-11-05T10:00:00Z","source":"jd","text":"x","rating":{}}}"#, 6 + i % 3)
            } else {
                format!(r#"{{"id":"c{i}","kind":"review","created_at":"2026-11-0{}T10:00:00+08:00","source":"jd","text":"物流第{i}次太慢了，客服也不回"}}"#, 1 + i % 9)
            };
            ("feedback.reviews".to_owned(), Some(format!("c{i}")), payload.into_bytes())
        })
        .collect();
    produce(&tansu.brokers, &messages).await;

    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("tables");
    let output_str = output.to_str().unwrap().to_owned();
    let mut rng = Lcg(0x7d1a_2026);
    let mut kills = 0;
    for _round in 0..5 {
        let mut worker = Worker::spawn(
            &tansu.brokers,
            &output_str,
            &["--topics", "feedback.reviews", "--group", "crash"],
            &[("TONGDIAN_SINK_FLUSH_MAX_MESSAGES", "500")],
        );
        // Kill once it has read a random share of what is left: before,
        // during or after one of its commits (every 500 messages).
        let kill_after = 100 + rng.below(2_500);
        worker.wait_consumed(kill_after, Duration::from_secs(90));
        worker.child.kill().unwrap(); // SIGKILL: no flush, no goodbye to the group
        worker.child.wait().unwrap();
        kills += 1;
    }
    assert_eq!(kills, 5);

    // A last worker drains what is left and exits.
    run_to_end(
        &tansu.brokers,
        &output_str,
        &["--topics", "feedback.reviews", "--group", "crash"],
        &[],
    );

    let facts = read_tables(&output, &[]);
    assert_eq!(
        facts["feedback_rows"],
        TOTAL - invalid,
        "{}",
        facts["duplicated_ids"]
    );
    assert_eq!(facts["feedback_distinct_ids"], TOTAL - invalid);
    assert_eq!(facts["dead_letter_rows"], invalid);
    assert_eq!(facts["dead_letter_positions"], invalid);
}
