//! `tongdian produce`: JSONL lines → Kafka messages keyed by their `id`.
//! Lines are sent verbatim, valid or not, so it also feeds bad input to
//! test the dead-letter path.

use std::io::BufRead;
use std::time::Duration;

use anyhow::{Context, Result};
use futures::stream::{FuturesUnordered, StreamExt};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;

/// How many sends may be in flight before we wait for acknowledgements.
const IN_FLIGHT: usize = 10_000;

pub fn producer(brokers: &str) -> Result<FutureProducer> {
    ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .set("linger.ms", "20")
        .create()
        .context("creating the Kafka producer")
}

/// The `id` of a line, if it is a JSON object with a string id.
fn key_of(line: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(line).ok()?;
    v.get("id")?.as_str().map(str::to_owned)
}

/// Sends every non-blank line to `topic(line)`; returns how many were sent.
pub async fn send_lines(
    producer: &FutureProducer,
    input: impl BufRead,
    topic: impl Fn(&[u8]) -> String,
) -> Result<u64> {
    let mut in_flight = FuturesUnordered::new();
    let mut sent = 0u64;
    for line in input.split(b'\n') {
        let mut line = line?;
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let topic = topic(&line);
        let key = key_of(&line);
        let producer = producer.clone();
        in_flight.push(async move {
            let mut record = FutureRecord::to(&topic).payload(&line);
            if let Some(key) = &key {
                record = record.key(key.as_bytes());
            }
            producer
                .send(record, Duration::from_secs(60))
                .await
                .map_err(|(e, _)| anyhow::anyhow!("sending to {topic}: {e}"))
        });
        if in_flight.len() >= IN_FLIGHT {
            in_flight.next().await.transpose()?;
        }
        sent += 1;
    }
    while let Some(result) = in_flight.next().await {
        result?;
    }
    Ok(sent)
}
