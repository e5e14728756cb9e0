//! The dead-letter topic: every rejected message, original bytes untouched,
//! with the reason and its provenance in headers, so producers can consume
//! their own failures and replay them once fixed.
//!
//! Delivery here is at-least-once (a crash between producing and the table
//! commit re-sends); the key `topic/partition/offset` lets consumers dedupe.
//! The `dead_letters` table is exactly-once.

use std::time::Duration;

use futures::future::try_join_all;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use tongdian_schemas::DeadLetter;

use crate::config::KafkaConfig;
use crate::error::IngestError;

/// The worker's producer (dead letters, alerts, counts): idempotent, and
/// patient, since a commit waits for it and a broker outage should be
/// ridden out rather than turned into an error.
pub(crate) fn producer(cfg: &KafkaConfig) -> Result<FutureProducer, IngestError> {
    Ok(cfg
        .client_config()?
        .set("enable.idempotence", "true")
        .set("message.timeout.ms", "300000")
        .create()?)
}

pub struct DeadLetterTopic {
    topic: String,
    producer: FutureProducer,
}

impl DeadLetterTopic {
    /// `None` when the configuration disables the topic.
    pub fn create(cfg: &KafkaConfig) -> Result<Option<DeadLetterTopic>, IngestError> {
        if cfg.dlq_topic.is_empty() {
            return Ok(None);
        }
        Ok(Some(DeadLetterTopic {
            topic: cfg.dlq_topic.clone(),
            producer: producer(cfg)?,
        }))
    }

    /// Sends every dead letter and waits until the broker has them all.
    pub async fn send_all(&self, letters: &[DeadLetter]) -> Result<(), IngestError> {
        let sends = letters.iter().map(|dl| {
            let key = format!(
                "{}/{}/{}",
                dl.provenance.topic, dl.provenance.partition, dl.provenance.offset
            );
            let partition = dl.provenance.partition.to_string();
            let offset = dl.provenance.offset.to_string();
            let mut headers = OwnedHeaders::new()
                .insert(Header {
                    key: "tongdian.reason",
                    value: Some(dl.rejection.reason.as_str()),
                })
                .insert(Header {
                    key: "tongdian.detail",
                    value: Some(dl.rejection.detail.as_str()),
                })
                .insert(Header {
                    key: "tongdian.source_topic",
                    value: Some(dl.provenance.topic.as_str()),
                })
                .insert(Header {
                    key: "tongdian.source_partition",
                    value: Some(partition.as_str()),
                })
                .insert(Header {
                    key: "tongdian.source_offset",
                    value: Some(offset.as_str()),
                });
            if let Some(field) = &dl.rejection.field {
                headers = headers.insert(Header {
                    key: "tongdian.field",
                    value: Some(field.as_str()),
                });
            }
            if let Some(original_key) = &dl.key {
                headers = headers.insert(Header {
                    key: "tongdian.original_key",
                    value: Some(original_key.as_slice()),
                });
            }
            async move {
                let record = FutureRecord::to(&self.topic)
                    .key(key.as_bytes())
                    .payload(dl.payload.as_slice())
                    .headers(headers);
                self.producer
                    .send(record, Duration::from_secs(60))
                    .await
                    .map_err(|(source, _)| IngestError::DeadLetterTopic {
                        topic: self.topic.clone(),
                        source,
                    })
            }
        });
        try_join_all(sends).await?;
        Ok(())
    }
}
