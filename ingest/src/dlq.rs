//! The dead-letter topic: every rejected message, original bytes untouched,
//! with the reason and its provenance in headers, so producers can consume
//! their own failures and replay them once fixed.
//!
//! Delivery here is at-least-once (a crash between producing and the table
//! commit re-sends); the key `topic/partition/offset` lets consumers dedupe.
//! The `dead_letters` table is exactly-once.
//!
//! While the broker is unreachable a send fails (librdkafka gives up on a
//! request after `request.timeout.ms`); the failed letters are sent again
//! with backoff, on a fresh producer in case the old one's idempotence
//! state is fatally broken, for up to `kafka.dlq_retry_secs`. The commit
//! waits meanwhile, so no offset moves past an unsent dead letter.

use std::sync::Mutex;
use std::time::Duration;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use tongdian_schemas::DeadLetter;

use crate::config::KafkaConfig;
use crate::error::IngestError;
use crate::retry::Retry;

/// The worker's producer (dead letters, alerts, counts): idempotent, and
/// patient, since a commit waits for it and a broker outage should be
/// ridden out rather than turned into an error.
pub fn producer(cfg: &KafkaConfig) -> Result<FutureProducer, IngestError> {
    Ok(cfg
        .client_config()?
        .set("enable.idempotence", "true")
        .set("message.timeout.ms", "300000")
        .create()?)
}

pub struct DeadLetterTopic {
    topic: String,
    config: ClientConfig,
    producer: Mutex<FutureProducer>,
    retry_limit: Duration,
}

impl DeadLetterTopic {
    /// `None` when the configuration disables the topic.
    pub fn create(cfg: &KafkaConfig) -> Result<Option<DeadLetterTopic>, IngestError> {
        if cfg.dlq_topic.is_empty() {
            return Ok(None);
        }
        let mut c = cfg.client_config()?;
        c.set("enable.idempotence", "true")
            .set("message.timeout.ms", "300000");
        let producer = c.create()?;
        Ok(Some(DeadLetterTopic {
            topic: cfg.dlq_topic.clone(),
            config: c,
            producer: Mutex::new(producer),
            retry_limit: Duration::from_secs(cfg.dlq_retry_secs),
        }))
    }

    /// Sends every dead letter and waits until the broker has them all,
    /// retrying the failed ones with backoff for up to the retry limit.
    pub async fn send_all(&self, letters: &[DeadLetter]) -> Result<(), IngestError> {
        let mut retry = Retry::new(self.retry_limit);
        let mut left: Vec<&DeadLetter> = letters.iter().collect();
        loop {
            let producer = self.producer.lock().expect("producer lock").clone();
            let results =
                futures::future::join_all(left.iter().map(|dl| self.send(&producer, dl))).await;
            let mut failed = Vec::new();
            let mut last_error = None;
            for (dl, result) in left.into_iter().zip(results) {
                if let Err(e) = result {
                    failed.push(dl);
                    last_error = Some(e);
                }
            }
            let Some(error) = last_error else {
                if retry.retried() {
                    tracing::info!(topic = %self.topic, "the dead-letter topic is back; sent");
                }
                return Ok(());
            };
            let Some(wait) = retry.next_wait() else {
                return Err(error);
            };
            tracing::warn!(
                topic = %self.topic, %error, unsent = failed.len(), retry_in = ?wait,
                "sending dead letters failed; retrying"
            );
            tokio::time::sleep(wait).await;
            match self.config.create::<FutureProducer>() {
                Ok(fresh) => *self.producer.lock().expect("producer lock") = fresh,
                Err(e) => tracing::warn!(error = %e, "recreating the dead-letter producer"),
            }
            left = failed;
        }
    }

    async fn send(&self, producer: &FutureProducer, dl: &DeadLetter) -> Result<(), IngestError> {
        let key = format!(
            "{}/{}/{}",
            dl.provenance.topic, dl.provenance.partition, dl.provenance.offset
        );
        let sent = producer
            .send(
                FutureRecord::to(&self.topic)
                    .key(key.as_bytes())
                    .payload(dl.payload.as_slice())
                    .headers(headers(dl, None)),
                Duration::from_secs(60),
            )
            .await;
        let sent = match sent {
            // The topic (or this producer's `message.max.bytes`) refuses a
            // payload this big, and always will: send its head instead,
            // saying so, rather than blocking the partition. The table
            // keeps the whole payload.
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge), _)) => {
                let head = &dl.payload[..dl.payload.len().min(TRUNCATED_PAYLOAD_BYTES)];
                producer
                    .send(
                        FutureRecord::to(&self.topic)
                            .key(key.as_bytes())
                            .payload(head)
                            .headers(headers(dl, Some(dl.payload.len()))),
                        Duration::from_secs(60),
                    )
                    .await
            }
            other => other,
        };
        sent.map(|_| ())
            .map_err(|(source, _)| IngestError::DeadLetterTopic {
                topic: self.topic.clone(),
                source,
            })
    }
}

/// How much of a payload too large for the dead-letter topic is sent.
const TRUNCATED_PAYLOAD_BYTES: usize = 64 << 10;

/// Reason, detail, field, provenance and original key, as headers;
/// `truncated_from` is the original length when the payload was cut.
fn headers(dl: &DeadLetter, truncated_from: Option<usize>) -> OwnedHeaders {
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
    if let Some(len) = truncated_from {
        headers = headers.insert(Header {
            key: "tongdian.truncated_from",
            value: Some(len.to_string().as_str()),
        });
    }
    headers
}
