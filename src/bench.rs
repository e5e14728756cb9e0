//! `tongdian bench backlog`: how fast the pipeline drains a backlog compared
//! with a bare librdkafka consumer reading the same topic from the same
//! broker, and how much memory it takes (issue 4, guarantee 6). Both
//! readers run in this one process, one after the other, so they share the
//! machine and the broker.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::ClientConfig;
use tongdian_ingest::{AnalyticsOptions, IngestConfig, Metrics, NoObserver, RunOptions};

use crate::analytics::WorkerAnalytics;
use crate::config::Config;
use crate::enrich::NlpEnricher;

pub struct Backlog {
    pub brokers: String,
    pub topic: String,
    pub messages: u64,
    pub partitions: i32,
    pub produce: bool,
    pub output: String,
}

/// One reader's result.
struct Drained {
    messages: u64,
    took: Duration,
}

impl Drained {
    fn rate(&self) -> f64 {
        self.messages as f64 / self.took.as_secs_f64()
    }
}

pub async fn backlog(config: Config, enricher: Arc<NlpEnricher>, args: Backlog) -> Result<()> {
    if args.produce {
        create_topic(&args.brokers, &args.topic, args.partitions).await?;
        let started = Instant::now();
        produce(&args.brokers, &args.topic, args.messages)?;
        eprintln!(
            "produced {} messages to {} in {:.1} s",
            args.messages,
            args.topic,
            started.elapsed().as_secs_f64()
        );
    }
    let bare = tokio::task::block_in_place(|| bare_consumer(&args.brokers, &args.topic))?;
    let hwm_bare = peak_rss_kib()?;

    let mut ingest: IngestConfig = config.ingest();
    ingest.kafka.brokers = args.brokers.clone();
    ingest.kafka.topics = vec![args.topic.clone()];
    ingest.kafka.group = format!("tongdian-bench-{}", std::process::id());
    ingest.kafka.dlq_topic = String::new();
    ingest.sink.output = args.output.clone();
    let started = Instant::now();
    // The pipeline as `run` has it by default: rollups and critical alerts
    // in every commit (counts and alerts topics only if they exist).
    let analytics = if config.analytics.enabled {
        Some(AnalyticsOptions {
            analytics: Box::new(WorkerAnalytics::new(
                &config.analytics,
                enricher.clone(),
                None,
            )?),
            alerts_topic: config.analytics.alerts_topic.clone(),
            counts_topic: config.analytics.counts_topic.clone(),
        })
    } else {
        None
    };
    let metrics = Arc::new(Metrics::default());
    let stats = tongdian_ingest::run(
        &ingest,
        enricher.as_ref(),
        &mut NoObserver,
        RunOptions {
            exit_at_end: true,
            metrics: metrics.clone(),
            analytics,
        },
        std::future::pending::<()>(),
    )
    .await?;
    let pipeline = Drained {
        messages: stats.consumed,
        took: started.elapsed(),
    };
    if pipeline.messages != bare.messages {
        bail!(
            "the pipeline read {} messages, the bare consumer {}: was the output not empty?",
            pipeline.messages,
            bare.messages
        );
    }
    let hwm = peak_rss_kib()?;
    crate::out(format!(
        "backlog         {} messages, {} partitions, topic {}\n\
         bare consumer   {:>10.0} msg/s  ({:.1} s)\n\
         pipeline        {:>10.0} msg/s  ({:.1} s, {} commits, into {})\n\
         ratio           {:>10.2}  (pipeline / bare)\n\
         peak RSS        {:>10.1} MiB  (VmHWM, whole process; {:.1} MiB after the bare read)\n\
         memory limit    {:>10} MiB  (sink.memory_limit_mb; {} of the commits early for it)\n",
        bare.messages,
        args.partitions,
        args.topic,
        bare.rate(),
        bare.took.as_secs_f64(),
        pipeline.rate(),
        pipeline.took.as_secs_f64(),
        stats.commits,
        args.output,
        pipeline.rate() / bare.rate(),
        hwm as f64 / 1024.0,
        hwm_bare as f64 / 1024.0,
        ingest.sink.memory_limit_mb,
        metrics.memory_pressure_commits(),
    ))?;
    Ok(())
}

async fn create_topic(brokers: &str, topic: &str, partitions: i32) -> Result<()> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()?;
    let results = admin
        .create_topics(
            &[NewTopic::new(topic, partitions, TopicReplication::Fixed(1))],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(30))),
        )
        .await?;
    for r in results {
        r.map_err(|(t, e)| anyhow::anyhow!("creating topic {t}: {e}"))?;
    }
    Ok(())
}

/// Short reviews, keyed by id so they spread over the partitions.
fn produce(brokers: &str, topic: &str, n: u64) -> Result<()> {
    let producer: ThreadedProducer<_> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("linger.ms", "50")
        .set("batch.num.messages", "10000")
        .set("queue.buffering.max.messages", "500000")
        .create()
        .context("creating the producer")?;
    for i in 0..n {
        let id = format!("bench-{i}");
        let payload = format!(
            r#"{{"id":"{id}","kind":"review","created_at":"2026-11-0{}T10:00:00+08:00","source":"bench","text":"物流太慢了，第{i}单等了一周"}}"#,
            1 + i % 9
        );
        let mut record = BaseRecord::to(topic).key(&id).payload(&payload);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((e, r)) if e.rdkafka_error_code() == Some(RDKafkaErrorCode::QueueFull) => {
                    record = r;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err((e, _)) => return Err(e).context("producing"),
            }
        }
    }
    producer
        .flush(Duration::from_secs(300))
        .context("waiting for the broker to acknowledge")?;
    Ok(())
}

/// Reads every partition of `topic` from the beginning to its current end
/// with a plain consumer that does nothing with the messages.
fn bare_consumer(brokers: &str, topic: &str) -> Result<Drained> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("bare-bench-{}", std::process::id()))
        .set("enable.auto.commit", "false")
        .create()?;
    let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(30))?;
    let mut tpl = TopicPartitionList::new();
    let mut total = 0u64;
    for t in metadata.topics() {
        for p in t.partitions() {
            let (low, high) = consumer.fetch_watermarks(topic, p.id(), Duration::from_secs(30))?;
            total += (high - low) as u64;
            tpl.add_partition_offset(topic, p.id(), Offset::Beginning)?;
        }
    }
    if total == 0 {
        bail!("topic {topic} is empty: produce first (--produce)");
    }
    consumer.assign(&tpl)?;
    let started = Instant::now();
    let mut read = 0u64;
    while read < total {
        match consumer.poll(Duration::from_secs(10)) {
            Some(Ok(_)) => read += 1,
            Some(Err(e)) => return Err(e).context("bare consumer"),
            None => bail!("bare consumer: nothing for 10 s after {read} of {total} messages"),
        }
    }
    Ok(Drained {
        messages: read,
        took: started.elapsed(),
    })
}

/// The process's peak resident set size (`VmHWM`), in KiB.
fn peak_rss_kib() -> Result<u64> {
    tongdian_ingest::peak_resident_bytes()
        .map(|bytes| bytes / 1024)
        .context("no VmHWM in /proc/self/status")
}
