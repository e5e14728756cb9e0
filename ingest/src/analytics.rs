//! The analytics seam of a worker: besides its rows, each commit round
//! derives `rollups` rows and critical-message alerts from the feedback it
//! commits, written in the same round with the same offsets, and publishes
//! the alerts and the round's partial window counts to Kafka. The binary
//! plugs the aggregator in through [`Analytics`]; this crate knows only the
//! table records and the topics.
//!
//! Delivery: the tables are exactly-once like `feedback`. The alerts topic is
//! written before the `alerts` table commit, so a crash in between re-sends
//! (at-least-once, keyed by `alert_id`). The counts topic is written after
//! the `rollups` commit; it feeds only the detector, and a crash in the
//! moment between the two loses that round's counts for detection while
//! `rollups` keeps them.

use std::time::Duration;

use futures::future::try_join_all;
use rdkafka::producer::{FutureProducer, FutureRecord};
use tongdian_schemas::analytics::{AlertRecord, RollupRecord};
use tongdian_schemas::FeedbackRow;

use crate::config::KafkaConfig;
use crate::dlq::producer;
use crate::error::IngestError;

/// What a worker derives from the feedback rows it commits.
pub trait Analytics: Send {
    /// The `rollups` records of `rows` (messages the table lacks), and the
    /// message to publish on the counts topic once they are committed.
    fn rollups(&mut self, rows: &[FeedbackRow]) -> Derived;
    /// Critical-message alerts for `rows` (messages the `alerts` table
    /// lacks): at most one per message, with an id derived from it, so a
    /// replay produces the same alert.
    fn critical_alerts(&self, rows: &[FeedbackRow]) -> Vec<AlertRecord>;
    /// Called once the round's tables are committed, with its alerts (for
    /// notifications that must never hold ingestion up).
    fn committed_alerts(&mut self, _alerts: &[AlertRecord]) {}
    /// The counts-topic messages of a worker that stops with everything
    /// committed: it will send no more.
    fn finish(&mut self) -> Vec<(String, Vec<u8>)> {
        Vec::new()
    }
}

/// The rollups of one commit round.
#[derive(Debug, Clone, Default)]
pub struct Derived {
    pub rollups: Vec<RollupRecord>,
    /// `(key, payload)` messages for the counts topic, sent in this order
    /// once the rollups are committed.
    pub counts: Vec<(String, Vec<u8>)>,
    /// Messages that arrived after one of their windows had closed (they
    /// are in `rollups` as late corrections).
    pub late: u64,
}

/// How a worker's analytics are plugged in.
pub struct AnalyticsOptions {
    pub analytics: Box<dyn Analytics>,
    /// Topic for every alert (JSON, key `alert_id`); `""` disables it.
    pub alerts_topic: String,
    /// Topic for partial window counts (JSON, key the worker's id); `""`
    /// disables it, and with it global emerging-theme detection.
    pub counts_topic: String,
}

/// The alerts and counts topics.
pub(crate) struct AnalyticsTopics {
    producer: FutureProducer,
    alerts: String,
    counts: String,
    verified: bool,
}

impl AnalyticsTopics {
    pub fn create(
        cfg: &KafkaConfig,
        alerts: &str,
        counts: &str,
    ) -> Result<AnalyticsTopics, IngestError> {
        Ok(AnalyticsTopics {
            producer: producer(cfg)?,
            alerts: alerts.to_owned(),
            counts: counts.to_owned(),
            verified: false,
        })
    }

    /// Leaves out a topic that does not exist (it would hold every commit
    /// up until the producer gives up; the tables do not need it), saying
    /// so. Until the broker answers, nothing is decided.
    pub fn verify(&mut self, existing: impl Fn() -> rdkafka::error::KafkaResult<Vec<String>>) {
        if self.verified || (self.alerts.is_empty() && self.counts.is_empty()) {
            return;
        }
        let known = match existing() {
            Ok(known) => known,
            Err(e) => {
                tracing::warn!(error = %e, "could not list the topics; will check the analytics topics later");
                return;
            }
        };
        for (topic, what) in [(&mut self.alerts, "alerts"), (&mut self.counts, "counts")] {
            if topic.is_empty() {
                continue;
            }
            if !known.contains(topic) {
                tracing::error!(
                    %topic,
                    "the {what} topic does not exist, so nothing is sent to it by this worker; \
                     create it (`tongdian topics create`) or set it to \"\" in the analytics configuration"
                );
                topic.clear();
            }
        }
        self.verified = true;
    }

    async fn send(&self, topic: &str, key: &str, payload: &[u8]) -> Result<(), IngestError> {
        self.producer
            .send(
                FutureRecord::to(topic).key(key).payload(payload),
                Duration::from_secs(60),
            )
            .await
            .map(|_| ())
            .map_err(|(source, _)| IngestError::Topic {
                topic: topic.to_owned(),
                source,
            })
    }

    /// Sends every alert as JSON and waits until the broker has them.
    pub async fn send_alerts(&self, alerts: &[AlertRecord]) -> Result<(), IngestError> {
        if self.alerts.is_empty() {
            return Ok(());
        }
        try_join_all(alerts.iter().map(|a| {
            let body = alert_json(a);
            async move { self.send(&self.alerts, &a.alert_id, &body).await }
        }))
        .await?;
        Ok(())
    }

    /// Sends the messages in order (one key, so one partition, and the
    /// idempotent producer keeps them in order in flight).
    pub async fn send_counts(&self, messages: &[(String, Vec<u8>)]) -> Result<(), IngestError> {
        if self.counts.is_empty() {
            return Ok(());
        }
        try_join_all(
            messages
                .iter()
                .map(|(key, payload)| self.send(&self.counts, key, payload)),
        )
        .await?;
        Ok(())
    }
}

/// The body of an alerts-topic message: the `alerts` row as JSON.
pub fn alert_json(a: &AlertRecord) -> Vec<u8> {
    serde_json::to_vec(a).expect("alert records serialise")
}
