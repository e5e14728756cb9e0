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

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use tongdian_schemas::{
    decode, tables, Analysis, DeadLetter, DecodeLimits, Feedback, FeedbackRow, Provenance,
};

use crate::config::IngestConfig;
use crate::dlq::DeadLetterTopic;
use crate::error::IngestError;
use crate::ledger::{Admission, FlushPolicy, Ledger, Pending};
use crate::metrics::Metrics;
use crate::sink::{DeltaSink, TableId, TableLocation, TopicPartition};
use crate::source::{create_consumer, end_offsets, RebalanceEvent, WorkerConsumer};

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
    /// Messages a table already held (replayed after a crash); not written again.
    pub already_in_table: u64,
    /// Messages skipped as re-deliveries or from partitions no longer owned.
    pub skipped: u64,
    /// Commit rounds.
    pub commits: u64,
}

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Stop once every assigned partition reaches the end offset it had at
    /// start and everything read is committed.
    pub exit_at_end: bool,
    /// Where the worker reports counters, gauges and readiness.
    pub metrics: Arc<Metrics>,
}

/// How the loop paused while idle, and how long to wait after a Kafka error.
const IDLE_TICK: Duration = Duration::from_millis(200);
const KAFKA_ERROR_BACKOFF: Duration = Duration::from_millis(500);
/// Commit retries while the store fails: doubling from this…
const COMMIT_BACKOFF_START: Duration = Duration::from_millis(500);
/// …up to this.
const COMMIT_BACKOFF_MAX: Duration = Duration::from_secs(30);

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
    let location = TableLocation::new(&config.sink.output, storage_options);
    let metrics = options.metrics.clone();
    let sink = DeltaSink::open(location.clone()).await?;
    metrics.store_ok(true);
    let dlq = DeadLetterTopic::create(&config.kafka)?;
    let consumer = create_consumer(&config.kafka, location, metrics.clone())?;
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
        ledger: Ledger::default(),
        pending: Pending::default(),
        stats: RunStats::default(),
    };
    worker.run(&consumer, shutdown).await
}

struct Worker<'a> {
    sink: DeltaSink,
    dlq: Option<DeadLetterTopic>,
    enricher: &'a dyn Enricher,
    observer: &'a mut dyn Observer,
    limits: DecodeLimits,
    policy: FlushPolicy,
    ends: Option<HashMap<TopicPartition, i64>>,
    metrics: Arc<Metrics>,
    commit_retry_limit: Duration,
    ledger: Ledger,
    pending: Pending,
    stats: RunStats,
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
            if self.pending.is_due(&self.policy, now) || (at_end && !self.ledger.all_committed()) {
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
                    self.pending.retain_assigned(&self.ledger);
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
            Ok(feedback) if admission.wants(TableId::Feedback) => {
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

    /// One commit round: dead-letter topic first (so a dead letter is never
    /// acknowledged before it is somewhere), then each table with its offsets.
    async fn commit(&mut self, consumer: &WorkerConsumer) -> Result<(), IngestError> {
        self.apply_rebalances(consumer)?;
        let mut pending = self.pending.take();
        if let Some(dlq) = &self.dlq {
            dlq.send_all(&pending.dead_letters).await?;
        }
        for table in TableId::ALL {
            let mut retrying: Option<(Instant, Duration)> = None;
            loop {
                let advances = self.ledger.uncommitted(table);
                if advances.is_empty() {
                    break;
                }
                let batch = match table {
                    TableId::Feedback if !pending.feedback.is_empty() => {
                        Some(tables::feedback_batch(&pending.feedback).map_err(|source| {
                            IngestError::Batch {
                                table: table.name(),
                                source,
                            }
                        })?)
                    }
                    TableId::DeadLetters if !pending.dead_letters.is_empty() => {
                        Some(tables::dead_letters_batch(&pending.dead_letters).map_err(
                            |source| IngestError::Batch {
                                table: table.name(),
                                source,
                            },
                        )?)
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
                        pending.drop_partition(&partition);
                        self.resync(consumer, &partition).await?;
                    }
                    // The store failed (outage, throttling): nothing was
                    // committed and no offset moved, so trying again is safe.
                    Err(e @ IngestError::Table { .. }) => {
                        let (since, backoff) =
                            retrying.unwrap_or((Instant::now(), COMMIT_BACKOFF_START));
                        if since.elapsed() >= self.commit_retry_limit {
                            return Err(e);
                        }
                        self.metrics.store_ok(false);
                        self.metrics.commit_retry();
                        tracing::warn!(table = table.name(), error = %e, retry_in = ?backoff, "commit failed; retrying");
                        tokio::time::sleep(backoff).await;
                        retrying = Some((since, (backoff * 2).min(COMMIT_BACKOFF_MAX)));
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        self.stats.commits += 1;
        self.metrics.committed_rows(
            pending.feedback.len(),
            pending
                .dead_letters
                .iter()
                .map(|d| d.rejection.reason.as_str()),
        );
        self.metrics
            .buffered(self.pending.messages, self.pending.bytes);
        self.stats.feedback_rows += pending.feedback.len() as u64;
        self.stats.dead_letters += pending.dead_letters.len() as u64;
        self.observer
            .committed(&pending.feedback, &pending.dead_letters);
        self.report_group_offsets(consumer);
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
