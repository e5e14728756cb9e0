//! The Kafka side of a worker: the group consumer, and the rebalance hook
//! that makes the tables, not Kafka, decide where each partition resumes.
//!
//! On assignment the hook reads the offsets the tables hold and hands them
//! to librdkafka in the assign call itself, so fetching starts at the right
//! place and no seek can race with a fetch already under way. What happened
//! is queued as [`RebalanceEvent`]s for the run loop to apply.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance, StreamConsumer};
use rdkafka::error::KafkaResult;
use rdkafka::statistics::Statistics;
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use rdkafka::types::RDKafkaRespErr;
use rdkafka::ClientContext;
use tokio::runtime::Handle;

use crate::config::{KafkaConfig, StartFrom};
use crate::error::IngestError;
use crate::metrics::Metrics;
use crate::sink::{TableLocation, TableOffsets, TopicPartition};

/// A partition newly assigned to this worker and what the tables hold of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Assigned {
    pub partition: TopicPartition,
    pub table_offsets: TableOffsets,
    /// First offset the worker may see: everything before it is in every
    /// table already (or was never wanted, with `start_from = latest`).
    pub next_offset: i64,
}

/// What a rebalance did, as the run loop needs to know it.
#[derive(Debug, Clone, PartialEq)]
pub enum RebalanceEvent {
    Assigned(Vec<Assigned>),
    Revoked(Vec<TopicPartition>),
    /// The tables could not be read, so the partitions were not taken up.
    Failed(String),
}

pub struct WorkerContext {
    location: TableLocation,
    metrics: Arc<Metrics>,
    start_from: StartFrom,
    runtime: Handle,
    events: Mutex<Vec<RebalanceEvent>>,
}

impl WorkerContext {
    pub fn take_events(&self) -> Vec<RebalanceEvent> {
        std::mem::take(&mut *self.events.lock().expect("rebalance events lock"))
    }

    fn push(&self, event: RebalanceEvent) {
        self.events
            .lock()
            .expect("rebalance events lock")
            .push(event);
    }

    /// Blocks the poll thread: librdkafka calls this from inside `poll`, and
    /// the assignment must wait until we know where each partition resumes.
    fn read_offsets(
        &self,
        partitions: &[TopicPartition],
    ) -> Result<HashMap<TopicPartition, TableOffsets>, IngestError> {
        let location = self.location.clone();
        let partitions = partitions.to_vec();
        let runtime = self.runtime.clone();
        tokio::task::block_in_place(move || runtime.block_on(location.read_offsets(&partitions)))
    }

    fn plan_assignment(
        &self,
        consumer: &BaseConsumer<Self>,
        tpl: &mut TopicPartitionList,
    ) -> Result<Vec<Assigned>, IngestError> {
        let partitions: Vec<TopicPartition> = tpl
            .elements()
            .iter()
            .map(|e| TopicPartition::new(e.topic(), e.partition()))
            .collect();
        let offsets = self.read_offsets(&partitions)?;
        let mut assigned = Vec::with_capacity(partitions.len());
        for p in partitions {
            let table_offsets = offsets.get(&p).copied().unwrap_or_default();
            let (offset, next_offset) = match (table_offsets.resume_from(), self.start_from) {
                (Some(o), _) => (Offset::Offset(o), o),
                (None, StartFrom::Earliest) => (Offset::Beginning, 0),
                (None, StartFrom::Latest) => {
                    let (_, high) = consumer.fetch_watermarks(
                        &p.topic,
                        p.partition,
                        Duration::from_secs(10),
                    )?;
                    (Offset::Offset(high), high)
                }
            };
            tpl.set_partition_offset(&p.topic, p.partition, offset)?;
            assigned.push(Assigned {
                partition: p,
                table_offsets,
                next_offset,
            });
        }
        Ok(assigned)
    }
}

impl ClientContext for WorkerContext {
    /// librdkafka's periodic statistics carry each partition's lag behind
    /// the group's committed offset, which tongdian writes after every
    /// table commit: exactly the lag an operator wants to see.
    fn stats(&self, statistics: Statistics) {
        let mut lag = BTreeMap::new();
        for (topic, t) in &statistics.topics {
            for (partition, p) in &t.partitions {
                if *partition >= 0 && p.desired && p.consumer_lag >= 0 {
                    lag.insert((topic.clone(), *partition), p.consumer_lag);
                }
            }
        }
        self.metrics.set_lag(lag);
    }
}

impl ConsumerContext for WorkerContext {
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        tpl: &mut TopicPartitionList,
    ) {
        let cooperative = matches!(
            consumer.rebalance_protocol(),
            rdkafka::consumer::RebalanceProtocol::Cooperative
        );
        match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                match self.plan_assignment(consumer, tpl) {
                    Ok(assigned) => {
                        let result = if cooperative {
                            consumer.incremental_assign(tpl)
                        } else {
                            consumer.assign(tpl)
                        };
                        match result {
                            Ok(()) => self.push(RebalanceEvent::Assigned(assigned)),
                            Err(e) => self.push(RebalanceEvent::Failed(format!("assign: {e}"))),
                        }
                    }
                    Err(e) => self.push(RebalanceEvent::Failed(e.to_string())),
                }
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                let revoked = tpl
                    .elements()
                    .iter()
                    .map(|e| TopicPartition::new(e.topic(), e.partition()))
                    .collect();
                // Tell the loop first: anything it buffered for these
                // partitions must not be committed by this worker any more.
                self.push(RebalanceEvent::Revoked(revoked));
                let result = if cooperative {
                    consumer.incremental_unassign(tpl)
                } else {
                    consumer.unassign()
                };
                if let Err(e) = result {
                    tracing::warn!(error = %e, "unassign failed");
                }
            }
            other => {
                tracing::warn!(error = ?other, "rebalance error; dropping the assignment");
                self.push(RebalanceEvent::Revoked(Vec::new()));
                let _ = consumer.unassign();
            }
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        tracing::debug!(?rebalance, "rebalance done");
    }
}

pub type WorkerConsumer = StreamConsumer<WorkerContext>;

/// librdkafka's own default prefetch, in KiB.
const DEFAULT_PREFETCH_KIB: u64 = 65_536;

/// The librdkafka settings of a worker's consumer; `memory_limit_mb` (0:
/// none) caps the prefetch queue at an eighth of it.
pub fn consumer_config(
    cfg: &KafkaConfig,
    memory_limit_mb: u64,
) -> Result<ClientConfig, IngestError> {
    let mut c = cfg.client_config()?;
    if memory_limit_mb > 0 && !cfg.librdkafka.contains_key("queued.max.messages.kbytes") {
        let kib = (memory_limit_mb * 1024 / 8).min(DEFAULT_PREFETCH_KIB);
        c.set("queued.max.messages.kbytes", kib.to_string());
    }
    c.set("group.id", &cfg.group)
        // Offsets live in the tables; Kafka's copy is written after each
        // table commit only so that lag tools see progress.
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "false")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", cfg.session_timeout_ms.to_string())
        .set(
            "heartbeat.interval.ms",
            cfg.heartbeat_interval_ms.to_string(),
        )
        .set("max.poll.interval.ms", cfg.max_poll_interval_ms.to_string());
    if !cfg.librdkafka.contains_key("statistics.interval.ms") {
        // Feeds the consumer-lag gauge.
        c.set("statistics.interval.ms", "10000");
    }
    Ok(c)
}

pub fn create_consumer(
    cfg: &KafkaConfig,
    memory_limit_mb: u64,
    location: TableLocation,
    metrics: Arc<Metrics>,
) -> Result<WorkerConsumer, IngestError> {
    let context = WorkerContext {
        location,
        metrics,
        start_from: cfg.start_from,
        runtime: Handle::current(),
        events: Mutex::new(Vec::new()),
    };
    let consumer: WorkerConsumer =
        consumer_config(cfg, memory_limit_mb)?.create_with_context(context)?;
    let topics: Vec<&str> = cfg.topics.iter().map(String::as_str).collect();
    consumer.subscribe(&topics)?;
    Ok(consumer)
}

/// End offsets (high watermarks) of every partition of `topics`, for
/// `--exit-at-end`. A topic that does not exist has no partitions.
pub fn end_offsets(
    consumer: &WorkerConsumer,
    topics: &[String],
) -> KafkaResult<HashMap<TopicPartition, i64>> {
    let timeout = Duration::from_secs(30);
    let mut out = HashMap::new();
    for topic in topics {
        let metadata = consumer.fetch_metadata(Some(topic), timeout)?;
        for t in metadata.topics() {
            if t.error().is_some() {
                tracing::warn!(topic = t.name(), error = ?t.error(), "topic metadata error; treating it as empty");
                continue;
            }
            for p in t.partitions() {
                let (_, high) = consumer.fetch_watermarks(t.name(), p.id(), timeout)?;
                out.insert(TopicPartition::new(t.name(), p.id()), high);
            }
        }
    }
    Ok(out)
}

/// The topics the brokers know (a consumer's metadata request never
/// creates one), in one request.
pub fn existing_topics(consumer: &WorkerConsumer) -> KafkaResult<Vec<String>> {
    let metadata = consumer.fetch_metadata(None, Duration::from_secs(30))?;
    Ok(metadata
        .topics()
        .iter()
        .filter(|t| t.error().is_none() && !t.partitions().is_empty())
        .map(|t| t.name().to_owned())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefetch(cfg: &KafkaConfig, limit_mb: u64) -> Option<String> {
        consumer_config(cfg, limit_mb)
            .unwrap()
            .get("queued.max.messages.kbytes")
            .map(str::to_owned)
    }

    #[test]
    fn the_memory_limit_caps_the_prefetch_queue_unless_set() {
        let mut cfg = KafkaConfig::default();
        assert_eq!(prefetch(&cfg, 256).as_deref(), Some("32768"));
        // An eighth of 1 GiB is more than librdkafka's own default.
        assert_eq!(prefetch(&cfg, 1024).as_deref(), Some("65536"));
        assert_eq!(prefetch(&cfg, 0), None);
        cfg.librdkafka
            .insert("queued.max.messages.kbytes".into(), "1000".into());
        assert_eq!(prefetch(&cfg, 256).as_deref(), Some("1000"));
    }
}
