//! The detector: global window counts → `pain_points`, emerging-theme and
//! new-term `alerts`.
//!
//! ```text
//! read the counts topic from its beginning (one partition, so one order):
//!   add each worker's partial counts; forget workers silent for too long
//!   windows every worker has closed → priorities (every window size)
//!                                   → emerging themes, new terms (the watched size)
//! commit the outputs with the counts offset they came from, in the same
//! Delta commit; outputs at or below the tables' offset are already there
//! ```
//! Everything is a function of the counts topic's content (time included:
//! it comes from the messages' timestamps), so a restarted detector rebuilds
//! its baselines by replaying and writes only what the tables lack, and
//! several processes may run one: the first to commit a range wins, the
//! others are fenced off it and skip it.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, TimeDelta, Utc};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use tongdian_aggregator::{
    pain_points, CountsAssembler, DetectorConfig, EmergingDetector, PartialCounts, PriorityConfig,
    WindowCounts,
};
use tongdian_ingest::{
    alert_json, Advance, DeltaSink, IngestError, KafkaConfig, Retry, TableId, TableLocation,
    TableSet, TopicPartition,
};
use tongdian_schemas::analytics::{self, AlertRecord, PainPointRecord};

use crate::notify::Notifier;

pub struct DetectorSetup {
    pub kafka: KafkaConfig,
    pub counts_topic: String,
    pub alerts_topic: String,
    pub location: TableLocation,
    pub detector: DetectorConfig,
    /// Size of the windows watched for emerging themes and new terms.
    pub detect_window: TimeDelta,
    pub efforts: BTreeMap<String, u8>,
    pub source_timeout: TimeDelta,
    /// Words a theme's keywords already cover are not new terms.
    pub covered: Box<dyn Fn(&str) -> bool + Send + Sync>,
    pub notifier: Option<Notifier>,
}

/// When the detector stops.
pub enum Until<F> {
    /// Run until the future resolves.
    Shutdown(F),
    /// Read to the end of the counts topic and stop (`--exit-at-end`, the
    /// demo). Windows are released as ever: once every worker has closed
    /// them or stopped, so a bounded run of several workers writes each
    /// window once, complete, whichever detector gets there.
    Drained,
}

/// What one run of the detector did.
#[derive(Debug, Default)]
pub struct DetectReport {
    pub counts_messages: u64,
    pub windows_released: u64,
    pub late_windows: u64,
    pub pain_points: Vec<PainPointRecord>,
    pub alerts: Vec<AlertRecord>,
}

/// Outputs waiting for a commit, each tagged with the counts offset whose
/// processing produced it.
#[derive(Default)]
struct Outputs {
    pain_points: Vec<(i64, PainPointRecord)>,
    alerts: Vec<(i64, AlertRecord)>,
}

/// The detector's two tables, each with the counts offset it holds.
const TABLES: [TableId; 2] = [TableId::PainPoints, TableId::Alerts];

struct Detector {
    setup: DetectorSetup,
    assembler: CountsAssembler,
    emerging: EmergingDetector,
    last_seen: HashMap<String, DateTime<Utc>>,
    sink: DeltaSink,
    producer: Option<rdkafka::producer::FutureProducer>,
    partition: TopicPartition,
    /// What each of [`TABLES`] holds of the counts partition.
    committed: [Option<i64>; 2],
    /// The last counts offset processed.
    position: Option<i64>,
    outputs: Outputs,
    report: DetectReport,
}

const COMMIT_EVERY: Duration = Duration::from_secs(5);
const STORE_RETRY_LIMIT: Duration = Duration::from_secs(300);

pub async fn run<F: Future<Output = ()>>(
    setup: DetectorSetup,
    until: Until<F>,
) -> Result<DetectReport> {
    let mut shutdown = match until {
        Until::Shutdown(f) => Some(Box::pin(f)),
        Until::Drained => None,
    };
    // The broker may not be up yet: a following detector waits for it (and
    // for shutdown); a bounded run, which has just read from it, fails.
    let consumer = loop {
        let found = tokio::task::block_in_place(|| consumer(&setup.kafka, &setup.counts_topic));
        match (found, &mut shutdown) {
            (Ok(Some(c)), _) => break c,
            (Ok(None), _) => {
                tracing::error!(
                    topic = %setup.counts_topic,
                    "the counts topic does not exist, so no priorities or emerging-theme alerts this run; \
                     create it with one partition (`tongdian topics create`)"
                );
                return Ok(DetectReport::default());
            }
            (Err(e), None) => return Err(e),
            (Err(e), Some(stop)) => {
                tracing::warn!(error = %e, "detector: cannot read the counts topic yet; retrying");
                tokio::select! {
                    _ = stop.as_mut() => return Ok(DetectReport::default()),
                    _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                }
            }
        }
    };
    let partition = TopicPartition::new(setup.counts_topic.clone(), 0);
    let sink = DeltaSink::open(setup.location.clone().with_tables(TableSet::DETECTOR)).await?;
    let offsets = sink.read_offsets(std::slice::from_ref(&partition)).await?;
    let held = offsets.get(&partition).copied().unwrap_or_default();
    let committed = TABLES.map(|t| held.get(t));
    let producer = if setup.alerts_topic.is_empty() {
        None
    } else {
        Some(tongdian_ingest::producer(&setup.kafka).context("the alerts producer")?)
    };
    let emerging = EmergingDetector::new(setup.detector.clone())?;
    let mut d = Detector {
        setup,
        assembler: CountsAssembler::default(),
        emerging,
        last_seen: HashMap::new(),
        sink,
        producer,
        partition,
        committed,
        position: None,
        outputs: Outputs::default(),
        report: DetectReport::default(),
    };
    tracing::info!(topic = %d.partition.topic, resume_after = ?committed, "detector replaying the counts topic");
    match shutdown {
        Some(stop) => d.follow(&consumer, stop).await?,
        None => d.drain(&consumer).await?,
    }
    Ok(d.report)
}

/// Assigned (not subscribed) from the beginning: every detector reads the
/// whole topic, and no group offsets are kept.
/// `None` when the topic does not exist.
fn consumer(kafka: &KafkaConfig, topic: &str) -> Result<Option<StreamConsumer>> {
    let consumer: StreamConsumer = kafka
        .client_config()?
        .set("group.id", format!("{}.detector", kafka.group))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        .create()
        .context("the counts consumer")?;
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(30))
        .with_context(|| format!("reading the metadata of the counts topic {topic}"))?;
    let partitions = metadata
        .topics()
        .first()
        .filter(|t| t.error().is_none())
        .map_or(0, |t| t.partitions().len());
    if partitions == 0 {
        return Ok(None);
    }
    if partitions > 1 {
        bail!(
            "the counts topic {topic} has {partitions} partitions; it needs exactly one, so that one order of counts exists"
        );
    }
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Beginning)?;
    consumer.assign(&tpl)?;
    Ok(Some(consumer))
}

impl Detector {
    async fn follow(
        &mut self,
        consumer: &StreamConsumer,
        shutdown: impl Future<Output = ()>,
    ) -> Result<()> {
        tokio::pin!(shutdown);
        let mut last_commit = tokio::time::Instant::now();
        loop {
            tokio::select! {
                biased;
                _ = &mut shutdown => break,
                m = consumer.recv() => match m {
                    Ok(m) => self.handle(&m),
                    Err(e) => {
                        tracing::warn!(error = %e, "counts topic; retrying");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                },
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
            if last_commit.elapsed() >= COMMIT_EVERY {
                self.commit().await?;
                last_commit = tokio::time::Instant::now();
            }
        }
        self.commit().await
    }

    async fn drain(&mut self, consumer: &StreamConsumer) -> Result<()> {
        let (_, high) = tokio::task::block_in_place(|| {
            consumer.fetch_watermarks(
                &self.partition.topic,
                self.partition.partition,
                Duration::from_secs(30),
            )
        })?;
        while self.position.map_or(0, |p| p + 1) < high {
            match tokio::time::timeout(Duration::from_secs(60), consumer.recv()).await {
                Ok(Ok(m)) => self.handle(&m),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "counts topic; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(_) => bail!(
                    "the counts topic {} stopped short of its end offset {high}",
                    self.partition.topic
                ),
            }
        }
        self.commit().await
    }

    fn last_time(&self) -> DateTime<Utc> {
        self.last_seen
            .values()
            .max()
            .copied()
            .unwrap_or(DateTime::UNIX_EPOCH)
    }

    fn handle(&mut self, m: &rdkafka::message::BorrowedMessage<'_>) {
        let offset = m.offset();
        self.position = Some(offset);
        self.report.counts_messages += 1;
        let at = m
            .timestamp()
            .to_millis()
            .and_then(DateTime::from_timestamp_millis)
            .unwrap_or_else(|| self.last_time());
        let partial: PartialCounts = match serde_json::from_slice(m.payload().unwrap_or_default()) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(offset, error = %e, "not partial counts; skipped");
                return;
            }
        };
        let added = self.assembler.add(&partial);
        self.report.late_windows += added.late as u64;
        self.last_seen.insert(partial.source.clone(), at);
        let timeout = self.setup.source_timeout;
        let gone: Vec<String> = self
            .last_seen
            .iter()
            .filter(|(_, seen)| at - **seen > timeout)
            .map(|(s, _)| s.clone())
            .collect();
        for s in gone {
            tracing::info!(source = %s, "a worker stopped sending counts; no longer waiting for it");
            self.assembler.remove_source(&s);
            self.last_seen.remove(&s);
        }
        let complete = self.assembler.take_complete();
        self.release(complete, offset, at);
    }

    /// Priorities for every released window; alerts for the watched size.
    fn release(&mut self, windows: Vec<WindowCounts>, offset: i64, at: DateTime<Utc>) {
        // Outputs both tables hold already are not kept at all.
        let keep = self.committed.iter().any(|c| c.is_none_or(|c| offset > c));
        for counts in windows {
            self.report.windows_released += 1;
            let points = pain_points(
                &counts.totals(),
                &self.setup.efforts,
                &PriorityConfig::default(),
            );
            let records: Vec<PainPointRecord> = points.iter().map(|p| p.to_record()).collect();
            if counts.window.length() == self.setup.detect_window {
                match self.emerging.observe(&counts, &self.setup.covered, at) {
                    Ok(alerts) => {
                        for a in alerts {
                            let r = a.to_record();
                            self.report.alerts.push(r.clone());
                            if keep {
                                self.outputs.alerts.push((offset, r));
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "window skipped by the detector"),
                }
            }
            self.report.pain_points.extend(records.iter().cloned());
            if keep {
                self.outputs
                    .pain_points
                    .extend(records.into_iter().map(|r| (offset, r)));
            }
        }
    }

    /// Commits what is buffered to each table that lacks it, with the
    /// counts offset in the same Delta commit.
    async fn commit(&mut self) -> Result<()> {
        let Some(position) = self.position else {
            return Ok(());
        };
        for (i, table) in TABLES.into_iter().enumerate() {
            let from = self.committed[i];
            if from.is_some_and(|c| c >= position) {
                continue;
            }
            // The alerts this commit carries, for the webhook once durable.
            let mut committing_alerts = Vec::new();
            let batch = match table {
                TableId::PainPoints => {
                    let rows = lacking(&self.outputs.pain_points, from);
                    if rows.is_empty() {
                        continue;
                    }
                    analytics::pain_points_batch(&rows)?
                }
                _ => {
                    let rows = lacking(&self.outputs.alerts, from);
                    if rows.is_empty() {
                        continue;
                    }
                    // On the topic before the table: a crash in between
                    // re-sends (keyed by alert id), never loses.
                    self.publish(&rows).await?;
                    let batch = analytics::alerts_batch(&rows)?;
                    committing_alerts = rows;
                    batch
                }
            };
            let advance = Advance {
                partition: self.partition.clone(),
                from,
                to: position,
            };
            let mut retry = Retry::new(STORE_RETRY_LIMIT);
            loop {
                match self
                    .sink
                    .commit(table, Some(batch.clone()), std::slice::from_ref(&advance))
                    .await
                {
                    Ok(_) => {
                        self.committed[i] = Some(position);
                        if let Some(n) = &self.setup.notifier {
                            for a in std::mem::take(&mut committing_alerts) {
                                n.send(a);
                            }
                        }
                        break;
                    }
                    Err(IngestError::Fenced { found, .. }) => {
                        // Another detector wrote this range first: what it
                        // wrote is what we would have.
                        tracing::info!(
                            table = table.name(),
                            ?found,
                            "another detector committed these counts; skipping them"
                        );
                        self.committed[i] = found;
                        break;
                    }
                    Err(e @ IngestError::Table { .. }) => {
                        let Some(wait) = retry.next_wait() else {
                            return Err(e.into());
                        };
                        tracing::warn!(table = table.name(), error = %e, retry_in = ?wait, "detector commit failed; retrying");
                        tokio::time::sleep(wait).await;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
        // Keep only what some table still lacks.
        let [pp, al] = self.committed;
        self.outputs
            .pain_points
            .retain(|(o, _)| pp.is_none_or(|c| *o > c));
        self.outputs
            .alerts
            .retain(|(o, _)| al.is_none_or(|c| *o > c));
        Ok(())
    }

    async fn publish(&self, alerts: &[AlertRecord]) -> Result<()> {
        let Some(p) = &self.producer else {
            return Ok(());
        };
        for a in alerts {
            let body = alert_json(a);
            p.send(
                rdkafka::producer::FutureRecord::to(&self.setup.alerts_topic)
                    .key(&a.alert_id)
                    .payload(&body),
                Duration::from_secs(60),
            )
            .await
            .map_err(|(e, _)| e)
            .with_context(|| format!("alerts topic {}", self.setup.alerts_topic))?;
        }
        Ok(())
    }
}

/// The rows produced at counts offsets past `from` (none: all of them),
/// which the table does not hold yet.
fn lacking<T: Clone>(rows: &[(i64, T)], from: Option<i64>) -> Vec<T> {
    rows.iter()
        .filter(|(o, _)| from.is_none_or(|c| *o > c))
        .map(|(_, r)| r.clone())
        .collect()
}
