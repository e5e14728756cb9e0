use deltalake::DeltaTableError;
use rdkafka::error::KafkaError;

use crate::sink::TopicPartition;

/// Failures a worker cannot absorb. Bad input is never one of these: it
/// becomes a dead letter.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("kafka: {0}")]
    Kafka(#[from] KafkaError),
    #[error("table `{table}`: {source}")]
    Table {
        table: &'static str,
        #[source]
        source: DeltaTableError,
    },
    #[error("building a record batch for `{table}`: {source}")]
    Batch {
        table: &'static str,
        #[source]
        source: deltalake::arrow::error::ArrowError,
    },
    /// Another writer advanced this partition's offsets in the table since
    /// this worker last read them: its rows for the partition must not be
    /// committed. The run loop matches on this and re-reads the partition.
    #[error(
        "table `{table}`: {partition} was advanced by another writer (expected offset {expected:?}, the table has {found:?})"
    )]
    Fenced {
        table: &'static str,
        partition: TopicPartition,
        expected: Option<i64>,
        found: Option<i64>,
    },
    #[error("reading table offsets during a rebalance: {0}")]
    Rebalance(String),
    #[error("topic `{topic}`: {source}")]
    Topic {
        topic: String,
        #[source]
        source: KafkaError,
    },
    /// The brokers could not be reached or refused the connection;
    /// `reasons` has librdkafka's own words (TLS, SASL, DNS, refused).
    #[error("kafka: {source}; the connections failed with: {reasons}")]
    Brokers {
        #[source]
        source: KafkaError,
        reasons: String,
    },
    #[error("creating topic `{topic}`: {code}")]
    CreateTopic {
        topic: String,
        code: rdkafka::types::RDKafkaErrorCode,
    },
    #[error("dead-letter topic `{topic}`: {source}")]
    DeadLetterTopic {
        topic: String,
        #[source]
        source: KafkaError,
    },
}
