//! Crash safety on a real broker, at the issue's size: a worker draining a
//! 100,000-message backlog over 4 partitions is killed with SIGKILL again
//! and again, at random points and at chosen ones (while a data file is
//! being written, and after a data file is written but before the Delta
//! log names it), and restarted. Afterwards every valid message is in
//! `feedback` exactly once and every invalid one in `dead_letters` exactly
//! once, as an independent reader counts them.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::{
    assert_exactly_once, produce, read_tables, review, run_to_end, Tansu, Worker,
};

const TOPIC: &str = "feedback.reviews";

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

/// Files under `dir` (recursively) whose name satisfies `pick`, as paths
/// relative to `dir`.
fn files(dir: &Path, pick: &dyn Fn(&str) -> bool) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.filter_map(Result::ok) {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else if pick(&e.file_name().to_string_lossy()) {
                out.insert(
                    path.strip_prefix(dir)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    out
}

/// What the table directories hold at one instant.
struct Snapshot {
    data: BTreeSet<String>,
    versions: usize,
    /// object_store writes a file under a temporary name (`…#n`) and
    /// renames it when complete.
    writing: bool,
}

fn snapshot(tables: &Path) -> Snapshot {
    Snapshot {
        data: files(tables, &|n| n.ends_with(".parquet")),
        versions: files(tables, &|n| n.ends_with(".json") && !n.contains('#')).len(),
        writing: !files(tables, &|n| n.contains('#')).is_empty(),
    }
}

/// Data files no Delta log version names: written, never committed.
fn uncommitted_files(tables: &Path) -> usize {
    let mut named = String::new();
    for log in files(tables, &|n| n.ends_with(".json") && !n.contains('#')) {
        named.push_str(&std::fs::read_to_string(tables.join(log)).unwrap_or_default());
    }
    files(tables, &|n| n.ends_with(".parquet"))
        .iter()
        .filter(|f| {
            let name = f.rsplit('/').next().unwrap();
            !named.contains(name)
        })
        .count()
}

#[derive(Debug)]
enum Moment {
    /// After the worker read this many messages.
    Random(u64),
    /// After a data file appeared and before the Delta log gained a
    /// version (or while a file is renamed into place).
    InTheWindow,
    /// As soon as the worker logs that it starts writing `feedback`'s data
    /// files: the kill lands while they are encoded or uploaded.
    InAWrite,
}

/// How many times the worker has logged the start of a `feedback` write.
fn feedback_writes(log: &str) -> usize {
    log.lines()
        .filter(|l| l.contains("writing data files") && l.contains("feedback"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs tansu and the Python readers; run through scripts/test.sh"]
async fn sigkill_during_a_hundred_thousand_message_backlog_loses_and_duplicates_nothing() {
    let broker_dir = tempfile::tempdir().unwrap();
    let tansu = Tansu::with_input(broker_dir.path(), TOPIC, 4).await;
    const TOTAL: usize = 100_000;
    let is_invalid = |i: usize| i % 20 == 7;
    let invalid = (0..TOTAL).filter(|&i| is_invalid(i)).count();
    let message = |i: usize| {
        if is_invalid(i) {
            let payload = format!(
                r#"{{"id":"c{i}","kind":"review","created_at":"2026-11-05T10:00:00Z","source":"jd","text":"x","rating":{}}}"#,
                6 + i % 3
            );
            (
                TOPIC.to_owned(),
                Some(format!("c{i}")),
                payload.into_bytes(),
            )
        } else {
            review(TOPIC, "c", i)
        }
    };
    for chunk in (0..TOTAL).collect::<Vec<_>>().chunks(20_000) {
        produce(
            &tansu.brokers,
            &chunk.iter().map(|&i| message(i)).collect::<Vec<_>>(),
        )
        .await;
    }

    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("tables");
    let output_str = output.to_str().unwrap().to_owned();
    let mut rng = Lcg(0x7d1a_2026);
    let mut plan: Vec<Moment> = Vec::new();
    for _ in 0..2 {
        plan.push(Moment::Random(500 + rng.below(6_000)));
        plan.push(Moment::InTheWindow);
        plan.push(Moment::InAWrite);
    }
    let (mut kills, mut in_window, mut in_write, mut cut_writes) = (0, 0, 0, 0);
    let mut in_a_write = 0;
    // Extra rounds until a kill lands where it is aimed: with the other
    // integration tests running beside it, the window between a data file
    // and its commit is easily missed (fresh-clone runs have missed it six
    // and thirteen times in a row). A miss costs one short round, and every
    // round's kill is checked for loss and duplicates like any other.
    let (mut extra_window_tries, mut extra_write_tries) = (40, 8);
    let mut round = 0;
    while let Some(moment) = plan.pop() {
        let orphans_before = uncommitted_files(&output);
        let before_round = snapshot(&output);
        // A fresh consumer group per restart: where to resume comes from the
        // tables' offsets, never from the group, so this tests the same
        // thing; and tansu 0.6.0 sometimes never reassigns the partitions of
        // a member SIGKILLed just after it joined (seen: over 120 s with a
        // 6 s session), which would test tansu instead.
        round += 1;
        let group = format!("crash-{round}");
        let env: &[(&str, &str)] = match moment {
            // One large first commit, announced in the log: encoding 20,000
            // rows takes long enough for the kill to land inside it. Without
            // the dead-letter topic: tansu 0.6.0, once a producer is
            // SIGKILLed just after its batch landed (as this kill would be,
            // the topic being sent to first), stalls every later fetch of the
            // input topic, even across broker restarts (measured). The
            // `dead_letters` table still takes them.
            Moment::InAWrite => &[
                ("TONGDIAN_SINK_FLUSH_MAX_MESSAGES", "20000"),
                ("TONGDIAN_SINK_FLUSH_INTERVAL_SECS", "60"),
                ("TONGDIAN_KAFKA_DLQ_TOPIC", ""),
                ("RUST_LOG", "info,tongdian_ingest::sink=debug"),
            ],
            // Many small commits: more moments between and inside them.
            _ => &[
                ("TONGDIAN_SINK_FLUSH_MAX_MESSAGES", "2000"),
                ("TONGDIAN_SINK_FLUSH_INTERVAL_SECS", "1"),
            ],
        };
        let mut worker = Worker::spawn(
            &tansu.brokers,
            &output_str,
            &["--topics", TOPIC, "--group", &group],
            env,
        );
        match moment {
            Moment::Random(n) => {
                worker.wait_consumed(n, Duration::from_secs(120));
            }
            Moment::InTheWindow => {
                worker.wait_consumed(1, Duration::from_secs(120));
                let deadline = Instant::now() + Duration::from_secs(60);
                let mut before = snapshot(&output);
                loop {
                    let now = snapshot(&output);
                    if now.writing {
                        in_write += 1;
                        break;
                    }
                    if now.data.difference(&before.data).next().is_some()
                        && now.versions == before.versions
                    {
                        break;
                    }
                    before = now;
                    worker.assert_running("before its kill");
                    std::thread::sleep(Duration::from_millis(2));
                    assert!(Instant::now() < deadline, "no commit within 60 s");
                }
            }
            Moment::InAWrite => {
                let deadline = Instant::now() + Duration::from_secs(120);
                while feedback_writes(&worker.log()) == 0 {
                    worker.assert_running("before its kill");
                    assert!(
                        Instant::now() < deadline,
                        "no write within 120 s:\n{}",
                        worker.log_tail()
                    );
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
        let consumed = worker
            .metrics()
            .and_then(|m| crate::support::metric_value(&m, "tongdian_messages_consumed_total"));
        eprintln!("round {round}: SIGKILL {moment:?} after {consumed:?} messages");
        worker.child.kill().unwrap(); // SIGKILL: no flush, no goodbye to the group
        worker.child.wait().unwrap();
        kills += 1;
        // A file left under its temporary name: the kill cut a write short
        // (the feedback table writes one file per event date in turn).
        if !files(&output, &|n| n.contains('#')).is_empty() {
            cut_writes += 1;
        }
        if matches!(moment, Moment::InAWrite) {
            // The worker committed nothing before this write (its first
            // commit is due at 20,000 messages), so the tables unchanged
            // since the round began mean the kill came before the data
            // files were complete.
            let after = snapshot(&output);
            if after.versions == before_round.versions && after.data == before_round.data {
                in_a_write += 1;
            } else if in_a_write == 0 && extra_write_tries > 0 {
                extra_write_tries -= 1;
                plan.push(Moment::InAWrite);
            }
        }
        if matches!(moment, Moment::InTheWindow) {
            if uncommitted_files(&output) > orphans_before {
                in_window += 1;
            } else if in_window == 0 && extra_window_tries > 0 {
                // The kill came a moment late (the commit landed first):
                // try again, so at least one kill falls in the window.
                extra_window_tries -= 1;
                plan.push(Moment::InTheWindow);
            }
        }
    }
    assert!(kills >= 6, "{kills} kills");
    assert!(
        in_window >= 1,
        "no kill left a written but uncommitted data file"
    );
    assert!(
        in_a_write >= 1,
        "no kill landed while feedback's data files were being written"
    );
    eprintln!(
        "{kills} SIGKILLs: {in_a_write} while feedback's data files were being written, \
         {in_window} left data files the log does not name, \
         {in_write} were sent while a file was being renamed into place, {cut_writes} left a half-written file"
    );

    // A last worker drains what is left and exits.
    run_to_end(
        &tansu.brokers,
        &output_str,
        &["--topics", TOPIC, "--group", "crash-last"],
        &[],
    );

    let facts = read_tables(&output, &[]);
    assert_exactly_once(&facts, TOTAL - invalid, invalid);
}
