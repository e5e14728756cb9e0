//! Kafka → tables: the worker that reads feedback from a consumer group,
//! validates it against the contract, has it analysed, and commits rows and
//! dead letters to Delta tables together with the offsets they came from.
//!
//! # Layout
//! - `analytics.rs`: the [`Analytics`] seam (rollups and critical alerts in
//!   the same commit) and the alerts and counts topics.
//! - `config.rs`: typed configuration (Kafka, sink, limits) with defaults.
//! - `pipeline.rs`: the run loop, and the [`Enricher`] / [`Observer`] seams
//!   through which the binary plugs in analysis and aggregation.
//! - `ledger.rs`: pure bookkeeping (owned partitions, per-table offsets,
//!   the buffer and when it is due); all of the delivery rules live here.
//! - `source.rs`: the consumer and its rebalance hook (tables decide offsets).
//! - `retry.rs`: [`Retry`], the backoff schedule every retry loop shares.
//! - `sink.rs`: Delta tables: create, commit with `txn` offsets, read offsets.
//! - `dlq.rs`: the dead-letter topic.
//! - `topics.rs`: `tongdian topics create`.
//! - `memory.rs`: the memory bound: an early commit when the resident set
//!   nears `sink.memory_limit_mb`.
//! - `metrics.rs`: [`Metrics`], counters, gauges and readiness for `/metrics`.
//! - `error.rs`: [`IngestError`].

mod analytics;
mod config;
mod dlq;
mod error;
mod ledger;
mod memory;
mod metrics;
mod pipeline;
mod retry;
mod sink;
mod source;
mod topics;

pub use analytics::{alert_json, Analytics, AnalyticsOptions, Derived};
pub use config::{
    IngestConfig, KafkaConfig, SaslMechanism, Secret, SecurityProtocol, SinkConfig, StartFrom,
    DEFAULT_TOPICS,
};
pub use dlq::producer;
pub use error::IngestError;
pub use memory::peak_resident_bytes;
pub use metrics::Metrics;
pub use pipeline::{run, Enricher, NoObserver, Observer, RunOptions, RunStats};
pub use retry::Retry;
pub use sink::{
    Advance, DeltaSink, TableId, TableLocation, TableOffsets, TableSet, TopicPartition,
};
pub use topics::{create_topics, TopicOutcome, TopicReport, TopicSpec};
