//! The run loop of a worker.
//!
//! ```text
//! loop:
//!   apply rebalances      (assigned partitions start where the tables say)
//!   if the buffer is due  → commit: dead-letter topic, then each table with
//!                           its offsets in the same Delta commit, then the
//!                           group offsets (for lag tools only)
//!   read a message        → decode → analyse → buffer as a feedback row or a dead letter
//! ```
//! Bad input never stops the loop; only the tables, Kafka or a rebalance
//! failing do, and then nothing uncommitted has been acknowledged anywhere.

use std::borrow::Cow;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use tongdian_schemas::analytics::{self, AlertRecord};
use tongdian_schemas::{
    decode, tables, Analysis, DeadLetter, DecodeLimits, Feedback, FeedbackRow, Provenance,
};

use crate::analytics::{AnalyticsOptions, AnalyticsTopics, Derived};
use crate::config::IngestConfig;
use crate::dlq::DeadLetterTopic;
use crate::error::IngestError;
use crate::ledger::{Admission, FlushPolicy, IdCheck, Ledger, Pending, RecentIds};
use crate::memory::{release_freed, resident_bytes, MemoryGuard, Pressure};
use crate::metrics::Metrics;
use crate::retry::Retry;
use crate::sink::{Advance, DeltaSink, TableId, TableLocation, TableSet, TopicPartition};
use crate::source::{
    create_consumer, end_offsets, existing_topics, RebalanceEvent, WorkerConsumer,
};

/// Turns an accepted message into its analysis columns. The binary plugs the
/// `nlp` analyzer in here; this crate knows only the contract.
pub trait Enricher: Send + Sync {
    /// `None` when there is nothing to analyse (a survey without text).
    fn enrich(&self, feedback: &Feedback) -> Option<Analysis>;
}

/// Sees what the worker does. `committed` is called only once rows are
/// durable in the tables, so downstream consumers (the aggregator, a
/// summary) never count data that a crash could take back.
pub trait Observer {
    fn committed(&mut self, _feedback: &[FeedbackRow], _dead_letters: &[DeadLetter]) {}
    fn progress(&mut self, _stats: &RunStats) {}
}

/// An observer that watches nothing.
pub struct NoObserver;
impl Observer for NoObserver {}

/// Counters of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Messages read and processed.
    pub consumed: u64,
    /// Rows committed to `feedback`.
    pub feedback_rows: u64,
    /// Rows committed to `dead_letters`.
    pub dead_letters: u64,
    /// Messages every table already held (replayed after a crash); not
    /// written again.
    pub already_in_table: u64,
    /// Messages kept out of `feedback` as resends of an id seen within the
    /// duplicate window.
    pub duplicates: u64,
    /// Critical-message alerts committed.
    pub alerts: u64,
    /// Messages skipped as re-deliveries or from partitions no longer owned.
    pub skipped: u64,
    /// Commit rounds.
    pub commits: u64,
}

#[derive(Default)]
pub struct RunOptions {
    /// Stop once every assigned partition reaches the end offset it had at
    /// start and everything read is committed.
    pub exit_at_end: bool,
    /// Where the worker reports counters, gauges and readiness.
    pub metrics: Arc<Metrics>,
    /// Rollups, critical alerts and partial counts; `None` writes only
    /// `feedback` and `dead_letters`.
    pub analytics: Option<AnalyticsOptions>,
}

/// How the loop paused while idle, and how long to wait after a Kafka error.
const IDLE_TICK: Duration = Duration::from_millis(200);
const KAFKA_ERROR_BACKOFF: Duration = Duration::from_millis(500);

/// Runs one worker until `shutdown` resolves (or, with `exit_at_end`, until
/// the backlog it started with is in the tables).
pub async fn run(
    config: &IngestConfig,
    enricher: &dyn Enricher,
    observer: &mut dyn Observer,
    options: RunOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<RunStats, IngestError> {
    config.validate()?;
    let storage_options: HashMap<String, String> = config
        .sink
        .storage_options
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let tables = if options.analytics.is_some() {
        TableSet::WORKER_ANALYTICS
    } else {
        TableSet::CORE
    };
    let location = TableLocation::new(&config.sink.output, storage_options).with_tables(tables);
    let metrics = options.metrics.clone();
    let sink = DeltaSink::open(location.clone()).await?;
    metrics.store_ok(true);
    let dlq = DeadLetterTopic::create(&config.kafka)?;
    let consumer = create_consumer(
        &config.kafka,
        config.sink.memory_limit_mb,
        location,
        metrics.clone(),
    )?;
    let (analytics, topics) = match options.analytics {
        Some(a) => {
            let topics = AnalyticsTopics::create(&config.kafka, &a.alerts_topic, &a.counts_topic)?;
            (Some(a.analytics), Some(topics))
        }
        None => (None, None),
    };
    let ends = if options.exit_at_end {
        let topics = config.kafka.topics.clone();
        let ends = tokio::task::block_in_place(|| end_offsets(&consumer, &topics))?;
        if ends.values().all(|&end| end == 0) {
            tracing::info!("--exit-at-end: the topics are empty; nothing to do");
            return Ok(RunStats::default());
        }
        Some(ends)
    } else {
        None
    };
    let mut worker = Worker {
        sink,
        dlq,
        analytics,
        topics,
        tables,
        enricher,
        observer,
        limits: config.limits.clone(),
        policy: FlushPolicy {
            max_messages: config.sink.flush_max_messages,
            max_bytes: config.sink.flush_max_bytes,
            max_age: config.sink.flush_interval(),
        },
        ends,
        metrics,
        commit_retry_limit: Duration::from_secs(config.sink.commit_retry_secs),
        ledger: Ledger::new(tables),
        recent: RecentIds::new(config.sink.duplicate_window),
        memory: MemoryGuard::new(config.sink.memory_limit_bytes()),
        memory_warned: false,
        pending: Pending::default(),
        stats: RunStats::default(),
    };
    worker.run(&consumer, shutdown).await
}

struct Worker<'a> {
    sink: DeltaSink,
    dlq: Option<DeadLetterTopic>,
    analytics: Option<Box<dyn crate::analytics::Analytics>>,
    topics: Option<AnalyticsTopics>,
    tables: TableSet,
    enricher: &'a dyn Enricher,
    observer: &'a mut dyn Observer,
    limits: DecodeLimits,
    policy: FlushPolicy,
    ends: Option<HashMap<TopicPartition, i64>>,
    metrics: Arc<Metrics>,
    commit_retry_limit: Duration,
    ledger: Ledger,
    recent: RecentIds,
    memory: MemoryGuard,
    /// Warned once that memory is high for reasons a commit cannot fix.
    memory_warned: bool,
    pending: Pending,
    stats: RunStats,
}

/// The tables that take a row of `feedback`'s kind (the rest take dead
/// letters).
const ROW_TABLES: [TableId; 3] = [TableId::Feedback, TableId::Rollups, TableId::Alerts];

/// The items of `rows` that the table still lacks, going by the `from` of
/// its advances (a partition without an advance is already complete there).
/// Borrowed when that is all of them, as it is outside crash recovery.
fn lacking<'r, T: Clone>(
    rows: &'r [T],
    advances: &[Advance],
    provenance: impl Fn(&T) -> &Provenance,
) -> Cow<'r, [T]> {
    let from: HashMap<(&str, i32), i64> = advances
        .iter()
        .map(|a| {
            (
                (a.partition.topic.as_str(), a.partition.partition),
                a.from.unwrap_or(-1),
            )
        })
        .collect();
    let wanted = |r: &T| {
        let p = provenance(r);
        from.get(&(p.topic.as_str(), p.partition))
            .is_some_and(|f| p.offset > *f)
    };
    if rows.iter().all(wanted) {
        Cow::Borrowed(rows)
    } else {
        Cow::Owned(rows.iter().filter(|r| wanted(r)).cloned().collect())
    }
}

impl Worker<'_> {
    async fn run(
        &mut self,
        consumer: &WorkerConsumer,
        shutdown: impl Future<Output = ()>,
    ) -> Result<RunStats, IngestError> {
        tokio::pin!(shutdown);
        let exit_at_end = self.ends.is_some();
        loop {
            self.apply_rebalances(consumer)?;
            let now = Instant::now();
            let at_end = exit_at_end && self.ledger.reached_end();
            if self.pending.is_due(&self.policy, now)
                || (at_end && !self.ledger.all_committed())
                || self.memory_pressed()
            {
                self.commit(consumer).await?;
                continue;
            }
            if at_end {
                tracing::info!(stats = ?self.stats, "reached the end offsets; everything is committed");
                break;
            }
            self.observer.progress(&self.stats);
            let wake = self
                .pending
                .deadline(&self.policy)
                .map_or(now + IDLE_TICK, |d| d.min(now + IDLE_TICK));
            tokio::select! {
                biased;
                _ = &mut shutdown => {
                    tracing::info!("shutting down: committing what is buffered");
                    self.apply_rebalances(consumer)?;
                    if !self.ledger.all_committed() {
                        self.commit(consumer).await?;
                    }
                    break;
                }
                message = consumer.recv() => match message {
                    Ok(m) => self.handle(consumer, &m)?,
                    Err(e) => {
                        tracing::warn!(error = %e, "kafka error; retrying");
                        tokio::time::sleep(KAFKA_ERROR_BACKOFF).await;
                    }
                },
                _ = tokio::time::sleep_until(wake.into()) => {}
            }
        }
        self.observer.progress(&self.stats);
        if let (Some(a), Some(topics)) = (&mut self.analytics, &self.topics) {
            // Everything read is committed and nothing more will be: say so,
            // so that the detector need not wait for this worker.
            if let Err(e) = topics.send_counts(&a.finish()).await {
                tracing::warn!(error = %e, "could not publish the final window counts");
                self.metrics.counts_lost();
            }
        }
        Ok(self.stats.clone())
    }

    fn apply_rebalances(&mut self, consumer: &WorkerConsumer) -> Result<(), IngestError> {
        for event in consumer.context().take_events() {
            match event {
                RebalanceEvent::Assigned(assigned) => {
                    for a in &assigned {
                        let end = self
                            .ends
                            .as_ref()
                            .and_then(|e| e.get(&a.partition).copied());
                        tracing::info!(
                            topic = %a.partition.topic,
                            partition = a.partition.partition,
                            resume_at = a.next_offset,
                            end_offset = ?end,
                            "partition assigned"
                        );
                        self.ledger.assign(a, end);
                    }
                }
                RebalanceEvent::Revoked(revoked) => {
                    tracing::info!(
                        partitions = revoked.len(),
                        "partitions revoked; dropping their uncommitted rows"
                    );
                    self.ledger.revoke(&revoked);
                    self.pending.retain_assigned(&self.ledger, &mut self.recent);
                }
                RebalanceEvent::Failed(reason) => return Err(IngestError::Rebalance(reason)),
            }
            self.metrics.assigned(self.ledger.partitions());
        }
        Ok(())
    }

    fn handle(
        &mut self,
        consumer: &WorkerConsumer,
        m: &BorrowedMessage<'_>,
    ) -> Result<(), IngestError> {
        self.apply_rebalances(consumer)?;
        let partition = TopicPartition::new(m.topic(), m.partition());
        let admission = self.ledger.admit(&partition, m.offset());
        if !matches!(admission, Admission::Fresh { .. }) {
            self.stats.skipped += 1;
            return Ok(());
        }
        let payload = m.payload().unwrap_or_default();
        let now = Utc::now();
        self.pending.note_message(payload.len(), Instant::now());
        self.metrics
            .buffered(self.pending.messages, self.pending.bytes);
        self.metrics.consumed();
        self.stats.consumed += 1;
        let provenance = Provenance {
            topic: partition.topic,
            partition: partition.partition,
            offset: m.offset(),
        };
        match decode(payload, &self.limits, now) {
            Ok(feedback) if ROW_TABLES.iter().any(|t| admission.wants(*t)) => {
                let check =
                    self.recent
                        .check(&feedback.id, provenance.partition, provenance.offset);
                if let IdCheck::Duplicate { partition, offset } = check {
                    tracing::debug!(
                        id = %feedback.id, topic = %provenance.topic,
                        partition = provenance.partition, offset = provenance.offset,
                        first_partition = partition, first_offset = offset,
                        "duplicate id; kept out of feedback"
                    );
                    self.metrics.duplicate();
                    self.stats.duplicates += 1;
                    return Ok(());
                }
                let analysis = self.enricher.enrich(&feedback);
                self.pending.feedback.push(FeedbackRow {
                    feedback,
                    analysis,
                    provenance,
                    ingested_at: now,
                });
            }
            Err(rejection) if admission.wants(TableId::DeadLetters) => {
                tracing::debug!(topic = %provenance.topic, offset = provenance.offset, %rejection, "dead letter");
                self.pending.dead_letters.push(DeadLetter {
                    provenance,
                    rejection,
                    key: m.key().map(<[u8]>::to_vec),
                    payload: payload.to_vec(),
                    received_at: now,
                });
            }
            _ => self.stats.already_in_table += 1,
        }
        Ok(())
    }

    /// Whether resident memory asks for an early commit. Sampled every few
    /// hundred messages, and only with something buffered: with nothing
    /// buffered a commit frees nothing.
    fn memory_pressed(&mut self) -> bool {
        if self.pending.messages == 0 || !self.memory.wants_sample(self.stats.consumed) {
            return false;
        }
        let Some(resident) = resident_bytes() else {
            return false;
        };
        self.metrics.resident(resident);
        match self.memory.check(self.stats.consumed, resident) {
            Pressure::Fine => false,
            Pressure::Commit => {
                tracing::info!(
                    resident_mib = resident >> 20,
                    buffered = self.pending.messages,
                    "resident memory near sink.memory_limit_mb; committing early"
                );
                self.metrics.memory_pressure_commit();
                true
            }
            Pressure::Unrelieved => {
                if !self.memory_warned {
                    self.memory_warned = true;
                    tracing::warn!(
                        resident_mib = resident >> 20,
                        "resident memory is near sink.memory_limit_mb with little buffered; \
                         lower [kafka.librdkafka] queued.max.messages.kbytes or raise the limit"
                    );
                }
                false
            }
        }
    }

    /// After a commit freed the buffer: return the memory to the system and
    /// take the resident size as the new baseline.
    fn memory_after_commit(&mut self) {
        if !self.memory.enabled() {
            return;
        }
        release_freed();
        if let Some(resident) = resident_bytes() {
            self.metrics.resident(resident);
            self.memory.committed(resident);
        }
    }

    /// One commit round: dead-letter topic first (so a dead letter is never
    /// acknowledged before it is somewhere), then each table with its
    /// offsets, each given only the messages it lacks; then the partial
    /// counts of what `rollups` took.
    async fn commit(&mut self, consumer: &WorkerConsumer) -> Result<(), IngestError> {
        self.apply_rebalances(consumer)?;
        let mut pending = self.pending.take();
        if let Some(topics) = &mut self.topics {
            // Checked once the broker answers, not at start: a worker
            // waiting for its broker must still stop promptly when told.
            topics.verify(|| tokio::task::block_in_place(|| existing_topics(consumer)));
        }
        if let Some(dlq) = &self.dlq {
            let advances = self.ledger.uncommitted(TableId::DeadLetters);
            let letters = lacking(&pending.dead_letters, &advances, |d| &d.provenance);
            dlq.send_all(&letters).await?;
        }
        let mut new_feedback = 0;
        let mut counts = Vec::new();
        let mut alerts: Vec<AlertRecord> = Vec::new();
        for table in self.tables.iter() {
            let mut retrying: Option<Retry> = None;
            // Derived once per set of rows: the aggregator's state moves
            // with each call, and a retried commit carries the same rows.
            let mut derived: Option<Derived> = None;
            let mut critical: Option<Vec<AlertRecord>> = None;
            loop {
                let advances = self.ledger.uncommitted(table);
                if advances.is_empty() {
                    break;
                }
                let batch_err = |source| IngestError::Batch {
                    table: table.name(),
                    source,
                };
                let rows = lacking(&pending.feedback, &advances, |r| &r.provenance);
                let batch = match table {
                    TableId::Feedback if !rows.is_empty() => {
                        Some(tables::feedback_batch(&rows).map_err(batch_err)?)
                    }
                    TableId::DeadLetters => {
                        let letters = lacking(&pending.dead_letters, &advances, |d| &d.provenance);
                        if letters.is_empty() {
                            None
                        } else {
                            Some(tables::dead_letters_batch(&letters).map_err(batch_err)?)
                        }
                    }
                    TableId::Rollups => {
                        let d = match (&mut derived, &mut self.analytics) {
                            (Some(d), _) => d,
                            (None, Some(a)) => derived.insert(a.rollups(&rows)),
                            (None, None) => derived.insert(Derived::default()),
                        };
                        (!d.rollups.is_empty())
                            .then(|| analytics::rollups_batch(&d.rollups))
                            .transpose()
                            .map_err(batch_err)?
                    }
                    TableId::Alerts => {
                        let found = match (&mut critical, &self.analytics) {
                            (Some(c), _) => c,
                            (None, analytics) => {
                                let found = analytics
                                    .as_ref()
                                    .map(|a| a.critical_alerts(&rows))
                                    .unwrap_or_default();
                                // On the topic before the table: a crash in
                                // between re-sends, never loses.
                                if let Some(topics) = &self.topics {
                                    topics.send_alerts(&found).await?;
                                }
                                critical.insert(found)
                            }
                        };
                        (!found.is_empty())
                            .then(|| analytics::alerts_batch(found))
                            .transpose()
                            .map_err(batch_err)?
                    }
                    _ => None,
                };
                let started = Instant::now();
                match self.sink.commit(table, batch, &advances).await {
                    Ok(version) => {
                        tracing::debug!(table = table.name(), version, elapsed = ?started.elapsed(), "committed");
                        self.metrics.table_commit(table, started.elapsed());
                        self.metrics.store_ok(true);
                        if retrying.is_some() {
                            tracing::info!(table = table.name(), "the store is back; committed");
                        }
                        self.ledger.mark_committed(table, &advances);
                        match table {
                            TableId::Feedback => new_feedback = rows.len(),
                            TableId::Rollups => {
                                if let Some(d) = derived.take() {
                                    self.metrics.late_events(d.late);
                                    counts = d.counts;
                                }
                            }
                            TableId::Alerts => alerts = critical.take().unwrap_or_default(),
                            _ => {}
                        }
                        break;
                    }
                    Err(IngestError::Fenced {
                        table: t,
                        partition,
                        expected,
                        found,
                    }) => {
                        tracing::warn!(
                            table = t, %partition, ?expected, ?found,
                            "another writer advanced this partition; dropping our rows for it and re-reading from the tables"
                        );
                        self.metrics.fenced();
                        pending.drop_partition(&partition, &mut self.recent);
                        derived = None;
                        critical = None;
                        self.resync(consumer, &partition).await?;
                    }
                    // The store failed (outage, throttling): nothing was
                    // committed and no offset moved, so trying again is safe.
                    Err(e @ IngestError::Table { .. }) => {
                        let limit = self.commit_retry_limit;
                        let Some(wait) = retrying
                            .get_or_insert_with(|| Retry::new(limit))
                            .next_wait()
                        else {
                            return Err(e);
                        };
                        self.metrics.store_ok(false);
                        self.metrics.commit_retry();
                        tracing::warn!(table = table.name(), error = %e, retry_in = ?wait, "commit failed; retrying");
                        tokio::time::sleep(wait).await;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        if let (false, Some(topics)) = (counts.is_empty(), &self.topics) {
            if let Err(e) = topics.send_counts(&counts).await {
                // `rollups` holds these counts; only detection misses them.
                tracing::warn!(error = %e, "could not publish this round's window counts");
                self.metrics.counts_lost();
            }
        }
        self.stats.commits += 1;
        self.stats.alerts += alerts.len() as u64;
        self.metrics.alerts(alerts.len());
        if let Some(a) = &mut self.analytics {
            a.committed_alerts(&alerts);
        }
        let committed_letters = pending.dead_letters.len();
        self.metrics.committed_rows(
            new_feedback,
            pending
                .dead_letters
                .iter()
                .map(|d| d.rejection.reason.as_str()),
        );
        self.metrics
            .buffered(self.pending.messages, self.pending.bytes);
        self.stats.feedback_rows += new_feedback as u64;
        self.stats.dead_letters += committed_letters as u64;
        self.observer
            .committed(&pending.feedback, &pending.dead_letters);
        self.report_group_offsets(consumer);
        drop(pending);
        self.memory_after_commit();
        Ok(())
    }

    /// Starts a partition over from the offsets the tables hold now.
    async fn resync(
        &mut self,
        consumer: &WorkerConsumer,
        partition: &TopicPartition,
    ) -> Result<(), IngestError> {
        let offsets = self
            .sink
            .read_offsets(std::slice::from_ref(partition))
            .await?;
        let table_offsets = offsets.get(partition).copied().unwrap_or_default();
        self.recent
            .forget_after(partition.partition, table_offsets.get(TableId::Feedback));
        if let Some(next) = self.ledger.resync(partition, table_offsets) {
            let at = if table_offsets.resume_from().is_some() {
                Offset::Offset(next)
            } else {
                Offset::Beginning
            };
            consumer.seek(
                &partition.topic,
                partition.partition,
                at,
                Duration::from_secs(10),
            )?;
        }
        Ok(())
    }

    /// Kafka's copy of the offsets is informational (lag monitoring); the
    /// tables' copy is the one that counts, so a failure here is only logged.
    fn report_group_offsets(&self, consumer: &WorkerConsumer) {
        let mut tpl = TopicPartitionList::new();
        for (p, next) in self.ledger.group_offsets() {
            if let Err(e) = tpl.add_partition_offset(&p.topic, p.partition, Offset::Offset(next)) {
                tracing::warn!(error = %e, "group offset");
            }
        }
        if tpl.count() > 0 {
            if let Err(e) = consumer.commit(&tpl, CommitMode::Async) {
                tracing::warn!(error = %e, "could not report offsets to the consumer group");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(topic: &str, partition: i32, offset: i64) -> Provenance {
        Provenance {
            topic: topic.into(),
            partition,
            offset,
        }
    }

    #[test]
    fn a_table_is_given_only_the_messages_it_lacks() {
        let rows = vec![at("t", 0, 5), at("t", 0, 6), at("t", 1, 3), at("u", 0, 9)];
        let advance = |topic: &str, partition, from, to| Advance {
            partition: TopicPartition::new(topic, partition),
            from,
            to,
        };
        // Outside crash recovery the table lacks everything: no copy.
        let all = [
            advance("t", 0, Some(4), 6),
            advance("t", 1, None, 3),
            advance("u", 0, Some(2), 9),
        ];
        assert!(matches!(lacking(&rows, &all, |p| p), Cow::Borrowed(_)));
        // After a crash: this table already holds t/0 up to 5 and all of u/0.
        let some = [advance("t", 0, Some(5), 6), advance("t", 1, None, 3)];
        let got = lacking(&rows, &some, |p| p);
        assert_eq!(got.as_ref(), &[at("t", 0, 6), at("t", 1, 3)]);
        assert!(lacking(&rows, &[], |p| p).is_empty());
    }
}
