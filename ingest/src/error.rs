use deltalake::DeltaTableError;
use rdkafka::error::KafkaError;

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
    #[error("reading table offsets during a rebalance: {0}")]
    Rebalance(String),
    #[error("dead-letter topic `{topic}`: {source}")]
    DeadLetterTopic {
        topic: String,
        #[source]
        source: KafkaError,
    },
}
