//! Creating the topics a deployment needs (`tongdian topics create`), with
//! the same connection settings as the workers. Idempotent: a topic that
//! already exists is reported, not changed and not an error.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseProducer, DeliveryResult, Producer, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::ClientContext;

use crate::config::KafkaConfig;
use crate::error::IngestError;

/// How to create each topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSpec {
    /// Partitions per topic: the most workers that can share a topic.
    pub partitions: i32,
    /// Copies of each partition; -1 takes the brokers'
    /// `default.replication.factor` (Kafka 2.4 and later).
    pub replication: i32,
    /// `retention.ms`; -1 keeps messages forever, `None` takes the brokers'
    /// `log.retention.*`.
    pub retention_ms: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicOutcome {
    Created,
    /// Left as it was, whatever its settings.
    AlreadyExisted,
}

/// What became of one topic, with its partition count as the brokers'
/// metadata reports it afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicReport {
    pub topic: String,
    pub outcome: TopicOutcome,
    pub partitions: usize,
}

/// Keeps what librdkafka reports about connections (TLS, SASL, refused),
/// which a failing admin call would only show as a time-out.
#[derive(Default)]
struct ProbeContext {
    errors: Mutex<Vec<String>>,
    fatal: Mutex<Option<RDKafkaErrorCode>>,
}

impl ProbeContext {
    fn remember(&self, reason: &str) {
        let mut errors = self.errors.lock().unwrap_or_else(|e| e.into_inner());
        if !errors.iter().any(|e| e == reason) {
            errors.push(reason.to_owned());
        }
    }

    fn failure(&self, source: KafkaError) -> IngestError {
        let errors = self.errors.lock().unwrap_or_else(|e| e.into_inner());
        IngestError::Brokers {
            source,
            reasons: if errors.is_empty() {
                "none reported".into()
            } else {
                errors.join("; ")
            },
        }
    }
}

impl ClientContext for ProbeContext {
    // The error callback carries the same failures, once.
    fn log(&self, _: RDKafkaLogLevel, fac: &str, message: &str) {
        tracing::debug!(facility = fac, "librdkafka: {message}");
    }

    fn error(&self, error: KafkaError, reason: &str) {
        tracing::debug!(%error, reason, "kafka");
        self.remember(reason);
        // A one-shot command: the reason now beats a time-out later; the
        // operator reruns it once credentials or brokers are fixed.
        if let Some(code @ (RDKafkaErrorCode::Authentication | RDKafkaErrorCode::AllBrokersDown)) =
            error.rdkafka_error_code()
        {
            // "All brokers down" follows the failure that explains it.
            self.fatal
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get_or_insert(code);
        }
    }
}

impl ProducerContext for ProbeContext {
    type DeliveryOpaque = ();

    // The probe sends nothing.
    fn delivery(&self, _: &DeliveryResult<'_>, _: ()) {}
}

/// Waits until the brokers answer a metadata request with these settings,
/// failing early, with librdkafka's reasons, when they cannot. A producer
/// because polling it serves the error and log callbacks; the admin
/// client's do not fire.
fn probe(cfg: &KafkaConfig, timeout: Duration) -> Result<(), IngestError> {
    let producer: BaseProducer<ProbeContext> = cfg
        .client_config()?
        .create_with_context(ProbeContext::default())?;
    let deadline = Instant::now() + timeout;
    loop {
        let err = match producer
            .client()
            .fetch_metadata(None, Duration::from_millis(500))
        {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        producer.poll(Duration::from_millis(100));
        let context = producer.context();
        let fatal = *context.fatal.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(code) = fatal {
            return Err(context.failure(KafkaError::Global(code)));
        }
        if Instant::now() >= deadline {
            return Err(context.failure(err));
        }
    }
}

type Admin = AdminClient<DefaultClientContext>;

/// Creates `topics` that do not exist yet; returns one report per topic, in
/// order.
pub async fn create_topics(
    cfg: &KafkaConfig,
    topics: &[String],
    spec: &TopicSpec,
) -> Result<Vec<TopicReport>, IngestError> {
    if spec.partitions < 1 {
        return Err(IngestError::Config(format!(
            "partitions must be at least 1, not {}",
            spec.partitions
        )));
    }
    if spec.replication < 1 && spec.replication != -1 {
        return Err(IngestError::Config(format!(
            "replication must be at least 1 (or -1 for the brokers' default), not {}",
            spec.replication
        )));
    }
    let timeout = Duration::from_secs(30);
    tokio::task::block_in_place(|| probe(cfg, timeout))?;
    let admin: Admin = cfg.client_config()?.create()?;
    let retention = spec.retention_ms.map(|ms| ms.to_string());
    let new: Vec<NewTopic> = topics
        .iter()
        .map(|t| {
            let topic = NewTopic::new(
                t,
                spec.partitions,
                TopicReplication::Fixed(spec.replication),
            );
            match &retention {
                Some(ms) => topic.set("retention.ms", ms),
                None => topic,
            }
        })
        .collect();
    let options = AdminOptions::new()
        .operation_timeout(Some(timeout))
        .request_timeout(Some(timeout));
    let mut outcomes = Vec::new();
    for result in admin.create_topics(&new, &options).await? {
        outcomes.push(match result {
            Ok(topic) => (topic, TopicOutcome::Created),
            Err((topic, RDKafkaErrorCode::TopicAlreadyExists)) => {
                (topic, TopicOutcome::AlreadyExisted)
            }
            Err((topic, code)) => return Err(IngestError::CreateTopic { topic, code }),
        });
    }
    let mut reports = Vec::new();
    for (topic, outcome) in outcomes {
        let partitions = tokio::task::block_in_place(|| partition_count(&admin, &topic))?;
        reports.push(TopicReport {
            topic,
            outcome,
            partitions,
        });
    }
    Ok(reports)
}

/// The topic's partitions from the metadata, waiting for a fresh topic to
/// appear there: brokers answer CreateTopics before every one knows it.
fn partition_count(admin: &Admin, topic: &str) -> Result<usize, IngestError> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let metadata = admin
            .inner()
            .fetch_metadata(Some(topic), Duration::from_secs(10))?;
        let found = metadata
            .topics()
            .iter()
            .find(|t| t.name() == topic && t.error().is_none())
            .map(|t| t.partitions().len())
            .filter(|&n| n > 0);
        match found {
            Some(n) => return Ok(n),
            None if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(200)),
            None => {
                return Err(IngestError::CreateTopic {
                    topic: topic.to_owned(),
                    code: RDKafkaErrorCode::UnknownTopicOrPartition,
                })
            }
        }
    }
}
