//! Typed configuration of a worker. Every field documents its unit and
//! default; unknown keys are rejected by serde with the key's name. The
//! binary layers file, `TONGDIAN_…` environment and flags on top of these
//! defaults.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tongdian_schemas::DecodeLimits;

use crate::error::IngestError;

/// The four default feedback topics, one per kind of feedback.
pub const DEFAULT_TOPICS: [&str; 4] = [
    "feedback.reviews",
    "feedback.tickets",
    "feedback.surveys",
    "feedback.social",
];

/// Where to start reading a partition the tables hold nothing from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartFrom {
    /// The oldest retained message (backfill everything).
    Earliest,
    /// Only messages produced after the worker joined.
    Latest,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaConfig {
    /// Bootstrap servers, comma-separated `host:port`. Default `localhost:9092`.
    pub brokers: String,
    /// Topics to consume. Default `feedback.reviews`, `feedback.tickets`,
    /// `feedback.surveys`, `feedback.social`.
    pub topics: Vec<String>,
    /// Consumer group id; workers with the same group share the partitions.
    /// Default `tongdian`.
    pub group: String,
    /// Topic that receives every dead letter (original bytes, reason in
    /// headers); `""` disables it (the `dead_letters` table is always
    /// written). Default `feedback.dlq`.
    pub dlq_topic: String,
    /// How long, in seconds, sending dead letters to `dlq_topic` is retried
    /// (backoff from 0.5 s to 30 s, e.g. while the broker is down) before
    /// the worker gives up and exits; no offset moves meanwhile. Default 300.
    pub dlq_retry_secs: u64,
    /// Where to start a partition the tables hold no offsets for. Default
    /// `earliest`.
    pub start_from: StartFrom,
    /// librdkafka `session.timeout.ms`: how long, in milliseconds, the group
    /// waits for a silent worker before giving its partitions to others.
    /// Default 10000.
    pub session_timeout_ms: u32,
    /// librdkafka `heartbeat.interval.ms`, in milliseconds. Default 1000.
    pub heartbeat_interval_ms: u32,
    /// librdkafka `max.poll.interval.ms`, in milliseconds. Default 300000.
    pub max_poll_interval_ms: u32,
    /// Any other librdkafka property, passed through verbatim (for example
    /// `security.protocol`, `fetch.max.bytes`). Properties tongdian sets
    /// itself (`bootstrap.servers`, `group.id`, `enable.auto.commit`, …)
    /// cannot be overridden here. Default empty.
    pub librdkafka: BTreeMap<String, String>,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            brokers: "localhost:9092".into(),
            topics: DEFAULT_TOPICS.iter().map(|t| t.to_string()).collect(),
            group: "tongdian".into(),
            dlq_topic: "feedback.dlq".into(),
            dlq_retry_secs: 300,
            start_from: StartFrom::Earliest,
            session_timeout_ms: 10_000,
            heartbeat_interval_ms: 1_000,
            max_poll_interval_ms: 300_000,
            librdkafka: BTreeMap::new(),
        }
    }
}

/// Properties that tongdian owns: overriding them would break the delivery
/// guarantees (auto commit) or contradict a typed setting.
pub(crate) const OWNED_PROPERTIES: &[&str] = &[
    "bootstrap.servers",
    "metadata.broker.list",
    "group.id",
    "enable.auto.commit",
    "enable.auto.offset.store",
    "enable.partition.eof",
    "session.timeout.ms",
    "heartbeat.interval.ms",
    "max.poll.interval.ms",
    "auto.offset.reset",
];

impl KafkaConfig {
    pub fn validate(&self) -> Result<(), IngestError> {
        if self.brokers.trim().is_empty() {
            return Err(IngestError::Config("kafka.brokers is empty".into()));
        }
        if self.topics.is_empty() || self.topics.iter().any(|t| t.trim().is_empty()) {
            return Err(IngestError::Config(
                "kafka.topics must list at least one non-empty topic".into(),
            ));
        }
        if self.topics.contains(&self.dlq_topic) {
            return Err(IngestError::Config(format!(
                "kafka.dlq_topic `{}` is also an input topic; dead letters would be read back",
                self.dlq_topic
            )));
        }
        if self.group.trim().is_empty() {
            return Err(IngestError::Config("kafka.group is empty".into()));
        }
        if let Some(key) = self
            .librdkafka
            .keys()
            .find(|k| OWNED_PROPERTIES.contains(&k.as_str()))
        {
            return Err(IngestError::Config(format!(
                "kafka.librdkafka.`{key}` conflicts with a setting tongdian owns; use the typed \
                 setting instead (brokers, group, session_timeout_ms, heartbeat_interval_ms, \
                 max_poll_interval_ms, start_from)"
            )));
        }
        if self.heartbeat_interval_ms >= self.session_timeout_ms {
            return Err(IngestError::Config(format!(
                "kafka.heartbeat_interval_ms ({}) must be lower than kafka.session_timeout_ms ({})",
                self.heartbeat_interval_ms, self.session_timeout_ms
            )));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SinkConfig {
    /// Root of the output tables: a local directory, or an S3-compatible
    /// object store (`s3://bucket/prefix`, configured with the usual `AWS_*`
    /// environment or `storage_options`). Tables live in `<output>/feedback`
    /// and `<output>/dead_letters`. Default `./tongdian-data`.
    pub output: String,
    /// Flush once this many messages are buffered. Default 100000.
    pub flush_max_messages: usize,
    /// Flush once buffered payloads reach this many bytes. Default 67108864
    /// (64 MiB); bounds the worker's memory under backlog.
    pub flush_max_bytes: usize,
    /// Flush at least this often, in seconds, while messages are buffered:
    /// the latency from Kafka to the tables. Default 60.
    pub flush_interval_secs: u64,
    /// How long, in seconds, a failing table commit is retried (with
    /// backoff from 0.5 s to 30 s) before the worker gives up and exits;
    /// no offset moves meanwhile. Default 300.
    pub commit_retry_secs: u64,
    /// After SIGTERM or SIGINT, how long, in seconds, the worker may take to
    /// commit what it buffered and leave the group. Past it the worker exits
    /// with status 1 without committing: nothing uncommitted was
    /// acknowledged anywhere, so whoever takes the partitions over reads
    /// those messages again. Keep it under the orchestrator's grace period
    /// (Kubernetes: 30 s). At least 1. Default 10.
    pub shutdown_timeout_secs: u64,
    /// Options for delta-rs's object stores, e.g. `AWS_ENDPOINT_URL`,
    /// `AWS_REGION`; the same names work as environment variables. Several
    /// workers writing one table on S3 need atomic commits: on a store with
    /// conditional writes (AWS S3, MinIO, R2) set `conditional_put = "etag"`
    /// (`AWS_CONDITIONAL_PUT=etag`); `AWS_S3_ALLOW_UNSAFE_RENAME = "true"`
    /// is for a single writer only. Default empty.
    pub storage_options: BTreeMap<String, String>,
}

impl Default for SinkConfig {
    fn default() -> Self {
        SinkConfig {
            output: "./tongdian-data".into(),
            flush_max_messages: 100_000,
            flush_max_bytes: 64 << 20,
            flush_interval_secs: 60,
            commit_retry_secs: 300,
            shutdown_timeout_secs: 10,
            storage_options: BTreeMap::new(),
        }
    }
}

impl SinkConfig {
    pub fn flush_interval(&self) -> Duration {
        Duration::from_secs(self.flush_interval_secs)
    }

    pub fn shutdown_timeout(&self) -> Duration {
        Duration::from_secs(self.shutdown_timeout_secs)
    }

    pub fn validate(&self) -> Result<(), IngestError> {
        if self.shutdown_timeout_secs == 0 {
            return Err(IngestError::Config(
                "sink.shutdown_timeout_secs must be at least 1".into(),
            ));
        }
        if self.output.trim().is_empty() {
            return Err(IngestError::Config("sink.output is empty".into()));
        }
        if self.flush_max_messages == 0 || self.flush_max_bytes == 0 {
            return Err(IngestError::Config(
                "sink.flush_max_messages and sink.flush_max_bytes must be positive".into(),
            ));
        }
        Ok(())
    }
}

/// Everything one worker needs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    pub kafka: KafkaConfig,
    pub sink: SinkConfig,
    /// The input contract's limits.
    pub limits: DecodeLimits,
}

impl IngestConfig {
    pub fn validate(&self) -> Result<(), IngestError> {
        self.kafka.validate()?;
        self.sink.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owned_librdkafka_properties_are_refused_by_name() {
        let mut cfg = KafkaConfig::default();
        cfg.librdkafka
            .insert("enable.auto.commit".into(), "true".into());
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("enable.auto.commit"), "{err}");
        cfg.librdkafka.clear();
        cfg.librdkafka
            .insert("fetch.max.bytes".into(), "1048576".into());
        cfg.validate().unwrap();
    }

    #[test]
    fn the_shutdown_bound_must_leave_time_to_commit() {
        let mut cfg = SinkConfig::default();
        assert_eq!(cfg.shutdown_timeout(), Duration::from_secs(10));
        cfg.shutdown_timeout_secs = 0;
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("shutdown_timeout_secs"), "{err}");
    }

    #[test]
    fn the_dead_letter_topic_cannot_be_an_input() {
        let cfg = KafkaConfig {
            dlq_topic: "feedback.reviews".into(),
            ..KafkaConfig::default()
        };
        assert!(cfg
            .validate()
            .unwrap_err()
            .to_string()
            .contains("feedback.reviews"));
    }
}
