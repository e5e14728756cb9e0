//! `tongdian demo`: the whole pipeline with no external services. An
//! in-process Kafka-protocol broker (librdkafka's mock cluster) is seeded
//! with the bundled sample, and the same worker code as `run` drains it into
//! the tables.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use rdkafka::mocking::MockCluster;
use tongdian_ingest::{Metrics, DEFAULT_TOPICS};

use crate::config::{AnalyticsConfig, Config};
use crate::enrich::NlpEnricher;
use crate::observe::render;
use crate::{out, produce, worker};

/// The bundled sample: feedback written for the project (see
/// `data/demo/README.md`), including a few invalid messages.
pub const SAMPLE: &str = include_str!("../data/demo/feedback.jsonl");

const PARTITIONS: i32 = 2;

/// The topic a sample line belongs on: by its `kind`, like a real producer
/// would route it. Lines that are not valid envelopes go to the reviews
/// topic, where they become dead letters.
pub fn topic_for(line: &[u8]) -> String {
    let kind = serde_json::from_slice::<serde_json::Value>(line)
        .ok()
        .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_owned));
    let index = match kind.as_deref() {
        Some("ticket") => 1,
        Some("survey") => 2,
        Some("social") => 3,
        _ => 0,
    };
    DEFAULT_TOPICS[index].to_owned()
}

/// Marks an output directory as the demo's own, so a later demo may replace it.
const MARKER: &str = ".tongdian-demo";

/// The in-process broker starts empty every time, so tables from an earlier
/// demo would hold offsets that no longer mean anything: replace them. Any
/// other non-empty directory is left alone.
fn prepare_output(output: &str) -> Result<()> {
    if output.contains("://") {
        bail!(
            "the demo writes to a local directory; use `tongdian run` to write tables to {output}"
        );
    }
    let dir = Path::new(output);
    if dir.exists() && dir.read_dir()?.next().is_some() {
        if !dir.join(MARKER).exists() {
            bail!(
                "{output} exists and was not written by `tongdian demo`; choose another --output"
            );
        }
        std::fs::remove_dir_all(dir)
            .with_context(|| format!("replacing the earlier demo in {output}"))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {output}"))?;
    std::fs::write(
        dir.join(MARKER),
        "tables written by `tongdian demo`; a later demo replaces them\n",
    )?;
    Ok(())
}

pub async fn run(mut config: Config, enricher: Arc<NlpEnricher>) -> Result<()> {
    prepare_output(&config.sink.output)?;
    let cluster = MockCluster::new(1).context("starting the in-process Kafka broker")?;
    let a = &config.analytics;
    let topics = DEFAULT_TOPICS
        .iter()
        .map(|t| (t.to_string(), PARTITIONS))
        .chain([
            ("feedback.dlq".to_string(), PARTITIONS),
            (a.alerts_topic.clone(), 1),
            (a.counts_topic.clone(), 1),
        ])
        .filter(|(t, _)| !t.is_empty());
    for (topic, partitions) in topics {
        cluster
            .create_topic(&topic, partitions, 1)
            .with_context(|| format!("creating topic {topic}"))?;
    }
    let brokers = cluster.bootstrap_servers();
    let producer = produce::producer(&brokers)?;
    let sent = produce::send_lines(&producer, SAMPLE.as_bytes(), topic_for).await?;
    out(format!(
        "tongdian demo: produced {sent} sample messages to an in-process Kafka broker\n"
    ))?;

    let untuned = AnalyticsConfig {
        webhook_url: config.analytics.webhook_url.clone(),
        webhook_format: config.analytics.webhook_format,
        ..AnalyticsConfig::default()
    };
    if config.analytics == untuned {
        // The sample holds about 170 messages a day over two weeks: hourly
        // windows are too thin to learn a baseline from, and two weeks are
        // too short for two consecutive days of a spike, so the demo
        // watches days, learns over five of them, and alerts on one.
        config.analytics.detect_window = "1d".into();
        config.analytics.warmup_windows = 5;
        config.analytics.persistence = 1;
    }
    config.kafka.brokers = brokers;
    config.kafka.topics = DEFAULT_TOPICS.iter().map(|t| t.to_string()).collect();
    config.kafka.dlq_topic = "feedback.dlq".into();
    let output = config.sink.output.clone();
    let outcome = worker::run(
        &config,
        enricher,
        Arc::new(Metrics::default()),
        true,
        std::future::pending(),
    )
    .await?;
    outcome.observer.finish();
    if let Some(n) = &outcome.notifier {
        n.drain(Duration::from_secs(10)).await;
    }
    let stats = &outcome.stats;
    out(format!(
        "read {} messages: {} into feedback, {} dead letters ({} table commit{})\n\n",
        stats.consumed,
        stats.feedback_rows,
        stats.dead_letters,
        stats.commits,
        if stats.commits == 1 { "" } else { "s" }
    ))?;
    out(render(
        &outcome.observer.summary,
        outcome.detector.as_ref(),
        outcome.stats.alerts,
        &output,
    ))?;
    // Let librdkafka's background threads finish before the cluster goes.
    drop(producer);
    tokio::time::sleep(Duration::from_millis(50)).await;
    Ok(())
}
