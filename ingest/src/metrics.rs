//! What a worker exposes about itself: Prometheus counters and gauges, and
//! the readiness the orchestrator asks for. Updated by the run loop and the
//! consumer's statistics callback; rendered on request by the binary's
//! HTTP endpoint. Plain atomics: the loop must not wait on a scrape.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::Duration;

use crate::sink::TableId;

#[derive(Debug, Default)]
pub struct Metrics {
    consumed: AtomicU64,
    feedback_rows: AtomicU64,
    dead_letters: Mutex<BTreeMap<&'static str, u64>>,
    commits: Mutex<BTreeMap<&'static str, u64>>,
    commit_micros_sum: AtomicU64,
    commit_count: AtomicU64,
    commit_retries: AtomicU64,
    fenced: AtomicU64,
    duplicates: AtomicU64,
    alerts: AtomicU64,
    counts_lost: AtomicU64,
    late_events: AtomicU64,
    buffered_messages: AtomicU64,
    buffered_bytes: AtomicU64,
    resident_bytes: AtomicU64,
    memory_pressure_commits: AtomicU64,
    assigned_partitions: AtomicU64,
    lag: Mutex<BTreeMap<(String, i32), i64>>,
    /// The tables opened, and the last commit (if any) succeeded.
    store_ok: AtomicBool,
}

impl Metrics {
    pub(crate) fn consumed(&self) {
        self.consumed.fetch_add(1, Relaxed);
    }

    pub(crate) fn committed_rows(
        &self,
        feedback: usize,
        dead_letter_reasons: impl Iterator<Item = &'static str>,
    ) {
        self.feedback_rows.fetch_add(feedback as u64, Relaxed);
        let mut dead = self.dead_letters.lock().expect("metrics lock");
        for reason in dead_letter_reasons {
            *dead.entry(reason).or_default() += 1;
        }
    }

    pub(crate) fn table_commit(&self, table: TableId, took: Duration) {
        *self
            .commits
            .lock()
            .expect("metrics lock")
            .entry(table.name())
            .or_default() += 1;
        self.commit_micros_sum
            .fetch_add(took.as_micros() as u64, Relaxed);
        self.commit_count.fetch_add(1, Relaxed);
    }

    pub(crate) fn commit_retry(&self) {
        self.commit_retries.fetch_add(1, Relaxed);
    }

    pub(crate) fn fenced(&self) {
        self.fenced.fetch_add(1, Relaxed);
    }

    pub(crate) fn duplicate(&self) {
        self.duplicates.fetch_add(1, Relaxed);
    }

    pub(crate) fn alerts(&self, n: usize) {
        self.alerts.fetch_add(n as u64, Relaxed);
    }

    pub(crate) fn late_events(&self, n: u64) {
        self.late_events.fetch_add(n, Relaxed);
    }

    pub(crate) fn counts_lost(&self) {
        self.counts_lost.fetch_add(1, Relaxed);
    }

    pub(crate) fn buffered(&self, messages: usize, bytes: usize) {
        self.buffered_messages.store(messages as u64, Relaxed);
        self.buffered_bytes.store(bytes as u64, Relaxed);
    }

    pub(crate) fn resident(&self, bytes: u64) {
        self.resident_bytes.store(bytes, Relaxed);
    }

    pub(crate) fn memory_pressure_commit(&self) {
        self.memory_pressure_commits.fetch_add(1, Relaxed);
    }

    pub(crate) fn assigned(&self, partitions: usize) {
        self.assigned_partitions.store(partitions as u64, Relaxed);
    }

    pub(crate) fn store_ok(&self, ok: bool) {
        self.store_ok.store(ok, Relaxed);
    }

    /// Replaces the per-partition lag with the consumer's latest view.
    pub(crate) fn set_lag(&self, lag: BTreeMap<(String, i32), i64>) {
        *self.lag.lock().expect("metrics lock") = lag;
    }

    /// Ready to serve: it holds partitions and can write its tables.
    pub fn is_ready(&self) -> bool {
        self.store_ok.load(Relaxed) && self.assigned_partitions.load(Relaxed) > 0
    }

    /// Commits made early for the memory bound.
    pub fn memory_pressure_commits(&self) -> u64 {
        self.memory_pressure_commits.load(Relaxed)
    }

    pub fn messages_consumed(&self) -> u64 {
        self.consumed.load(Relaxed)
    }

    /// The Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        };
        counter(
            "tongdian_messages_consumed_total",
            "Messages read from Kafka and processed.",
            self.consumed.load(Relaxed),
        );
        counter(
            "tongdian_feedback_rows_total",
            "Rows committed to the feedback table.",
            self.feedback_rows.load(Relaxed),
        );
        counter(
            "tongdian_commit_retries_total",
            "Table commits retried after a store error.",
            self.commit_retries.load(Relaxed),
        );
        counter(
            "tongdian_fenced_total",
            "Commits refused because another writer advanced a partition.",
            self.fenced.load(Relaxed),
        );
        counter(
            "tongdian_duplicates_total",
            "Messages kept out of feedback because their id was seen within the duplicate window.",
            self.duplicates.load(Relaxed),
        );
        counter(
            "tongdian_alerts_total",
            "Critical-message alerts committed to the alerts table by this worker.",
            self.alerts.load(Relaxed),
        );
        counter(
            "tongdian_memory_pressure_commits_total",
            "Commits made early because resident memory neared sink.memory_limit_mb.",
            self.memory_pressure_commits.load(Relaxed),
        );
        counter(
            "tongdian_late_events_total",
            "Messages that arrived after one of their event-time windows had closed (late corrections in rollups).",
            self.late_events.load(Relaxed),
        );
        counter(
            "tongdian_counts_publish_failures_total",
            "Commit rounds whose partial window counts could not be published to the counts topic.",
            self.counts_lost.load(Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP tongdian_dead_letters_total Rows committed to the dead_letters table, by reason.\n# TYPE tongdian_dead_letters_total counter"
        );
        for (reason, n) in self.dead_letters.lock().expect("metrics lock").iter() {
            let _ = writeln!(
                out,
                "tongdian_dead_letters_total{{reason=\"{reason}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP tongdian_commits_total Delta commits, by table.\n# TYPE tongdian_commits_total counter"
        );
        for (table, n) in self.commits.lock().expect("metrics lock").iter() {
            let _ = writeln!(out, "tongdian_commits_total{{table=\"{table}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP tongdian_commit_duration_seconds Time to commit to a table.\n# TYPE tongdian_commit_duration_seconds summary\ntongdian_commit_duration_seconds_sum {}\ntongdian_commit_duration_seconds_count {}",
            self.commit_micros_sum.load(Relaxed) as f64 / 1e6,
            self.commit_count.load(Relaxed)
        );
        let mut gauge = |name: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        };
        gauge(
            "tongdian_buffered_messages",
            "Messages read but not yet committed.",
            self.buffered_messages.load(Relaxed),
        );
        gauge(
            "tongdian_buffered_bytes",
            "Payload bytes read but not yet committed.",
            self.buffered_bytes.load(Relaxed),
        );
        gauge(
            "tongdian_resident_memory_bytes",
            "The process's resident memory, as last sampled against sink.memory_limit_mb.",
            self.resident_bytes.load(Relaxed),
        );
        gauge(
            "tongdian_assigned_partitions",
            "Partitions this worker holds.",
            self.assigned_partitions.load(Relaxed),
        );
        gauge(
            "tongdian_store_writable",
            "1 when the tables opened and the last commit succeeded; 0 while commits fail and are retried.",
            u64::from(self.store_ok.load(Relaxed)),
        );
        gauge(
            "tongdian_ready",
            "1 when the worker holds partitions and can write its tables.",
            u64::from(self.is_ready()),
        );
        let _ = writeln!(
            out,
            "# HELP tongdian_consumer_lag Messages between the committed offset and the end of the partition.\n# TYPE tongdian_consumer_lag gauge"
        );
        for ((topic, partition), lag) in self.lag.lock().expect("metrics lock").iter() {
            let _ = writeln!(
                out,
                "tongdian_consumer_lag{{topic=\"{topic}\",partition=\"{partition}\"}} {lag}"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_prometheus_text_format() {
        let m = Metrics::default();
        m.consumed();
        m.consumed();
        m.committed_rows(1, ["bad_value", "bad_value", "invalid_json"].into_iter());
        m.table_commit(TableId::Feedback, Duration::from_millis(250));
        m.set_lag(BTreeMap::from([(("feedback.reviews".to_string(), 3), 42)]));
        let text = m.render();
        assert!(
            text.contains("tongdian_messages_consumed_total 2\n"),
            "{text}"
        );
        assert!(text.contains("tongdian_dead_letters_total{reason=\"bad_value\"} 2\n"));
        assert!(text.contains("tongdian_commits_total{table=\"feedback\"} 1\n"));
        assert!(text.contains("tongdian_commit_duration_seconds_sum 0.25\n"));
        assert!(
            text.contains("tongdian_consumer_lag{topic=\"feedback.reviews\",partition=\"3\"} 42\n")
        );
        // Every sample line belongs to a declared metric family.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let name = line.split(['{', ' ']).next().unwrap();
            let family = name.trim_end_matches("_sum").trim_end_matches("_count");
            assert!(text.contains(&format!("# TYPE {family} ")), "{line}");
        }
    }

    #[test]
    fn ready_needs_partitions_and_a_writable_store() {
        let m = Metrics::default();
        assert!(!m.is_ready());
        m.assigned(2);
        assert!(!m.is_ready(), "tables not opened yet");
        assert!(m.render().contains("tongdian_store_writable 0\n"));
        m.store_ok(true);
        assert!(m.is_ready());
        assert!(m.render().contains("tongdian_store_writable 1\n"));
        m.assigned(0);
        assert!(!m.is_ready());
    }
}
