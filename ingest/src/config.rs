//! Typed configuration of a worker. Every field documents its unit and
//! default; unknown keys are rejected by serde with the key's name. The
//! binary layers file, `TONGDIAN_…` environment and flags on top of these
//! defaults.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use rdkafka::ClientConfig;
use serde::{Deserialize, Serialize};
use tongdian_schemas::DecodeLimits;

use crate::error::IngestError;

/// The four default feedback topics, one per kind of feedback.
pub const DEFAULT_TOPICS: [&str; 4] = [
    "feedback.reviews",
    "feedback.tickets",
    "feedback.surveys",
    "feedback.social",
];

/// Where to start reading a partition the tables hold nothing from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartFrom {
    /// The oldest retained message (backfill everything).
    Earliest,
    /// Only messages produced after the worker joined.
    Latest,
}

/// How the worker talks to the brokers (librdkafka `security.protocol`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecurityProtocol {
    /// No TLS, no authentication.
    #[default]
    Plaintext,
    /// TLS, optionally with a client certificate (mutual TLS).
    Ssl,
    /// SASL authentication without TLS: keep it on a private network.
    SaslPlaintext,
    /// SASL authentication inside TLS.
    SaslSsl,
}

impl SecurityProtocol {
    fn librdkafka(self) -> &'static str {
        match self {
            SecurityProtocol::Plaintext => "plaintext",
            SecurityProtocol::Ssl => "ssl",
            SecurityProtocol::SaslPlaintext => "sasl_plaintext",
            SecurityProtocol::SaslSsl => "sasl_ssl",
        }
    }

    fn uses_sasl(self) -> bool {
        matches!(
            self,
            SecurityProtocol::SaslPlaintext | SecurityProtocol::SaslSsl
        )
    }

    fn uses_tls(self) -> bool {
        matches!(self, SecurityProtocol::Ssl | SecurityProtocol::SaslSsl)
    }
}

/// The SASL mechanism (librdkafka `sasl.mechanism`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SaslMechanism {
    /// The password travels as is: use it inside TLS (`sasl_ssl`).
    #[default]
    #[serde(rename = "PLAIN")]
    Plain,
    #[serde(rename = "SCRAM-SHA-256")]
    ScramSha256,
    #[serde(rename = "SCRAM-SHA-512")]
    ScramSha512,
}

impl SaslMechanism {
    fn librdkafka(self) -> &'static str {
        match self {
            SaslMechanism::Plain => "PLAIN",
            SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
            SaslMechanism::ScramSha512 => "SCRAM-SHA-512",
        }
    }
}

/// A credential: serialised as the plain string (the config layering needs
/// that), but never shown by `Debug`, so a logged configuration leaks nothing.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"***\"" })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaConfig {
    /// Bootstrap servers, comma-separated `host:port`. Default `localhost:9092`.
    pub brokers: String,
    /// Topics to consume. Default `feedback.reviews`, `feedback.tickets`,
    /// `feedback.surveys`, `feedback.social`.
    pub topics: Vec<String>,
    /// Consumer group id; workers with the same group share the partitions.
    /// Default `tongdian`.
    pub group: String,
    /// Topic that receives every dead letter (original bytes, reason in
    /// headers); `""` disables it (the `dead_letters` table is always
    /// written). Default `feedback.dlq`.
    pub dlq_topic: String,
    /// How long, in seconds, sending dead letters to `dlq_topic` is retried
    /// (backoff from 0.5 s to 30 s, e.g. while the broker is down) before
    /// the worker gives up and exits; no offset moves meanwhile. Default 300.
    pub dlq_retry_secs: u64,
    /// Where to start a partition the tables hold no offsets for. Default
    /// `earliest`.
    pub start_from: StartFrom,
    /// librdkafka `session.timeout.ms`: how long, in milliseconds, the group
    /// waits for a silent worker before giving its partitions to others.
    /// Default 10000.
    pub session_timeout_ms: u32,
    /// librdkafka `heartbeat.interval.ms`, in milliseconds. Default 1000.
    pub heartbeat_interval_ms: u32,
    /// librdkafka `max.poll.interval.ms`, in milliseconds. Default 300000.
    pub max_poll_interval_ms: u32,
    /// `plaintext`, `ssl`, `sasl_plaintext` or `sasl_ssl` (librdkafka
    /// `security.protocol`). Default `plaintext`.
    pub security_protocol: SecurityProtocol,
    /// With `sasl_*`: `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`
    /// (librdkafka `sasl.mechanism`). Default `PLAIN`.
    pub sasl_mechanism: SaslMechanism,
    /// With `sasl_*`: the SASL user name. Default empty.
    pub sasl_username: String,
    /// With `sasl_*`: the SASL password. Better left out of the file: set
    /// `TONGDIAN_KAFKA_SASL_PASSWORD`, or `sasl_password_file`. Default empty.
    pub sasl_password: Secret,
    /// With `sasl_*`: a file whose content (one trailing newline removed) is
    /// the SASL password, e.g. a mounted Kubernetes Secret; read when a Kafka
    /// client is created. Exclusive with `sasl_password`. Default empty.
    pub sasl_password_file: String,
    /// With `ssl`/`sasl_ssl`: PEM file of the CA certificate(s) that signed
    /// the brokers' certificates (librdkafka `ssl.ca.location`). Default
    /// empty: the system trust store (librdkafka probes the usual paths such
    /// as `/etc/ssl/certs`).
    pub ssl_ca_location: String,
    /// With `ssl`/`sasl_ssl` and brokers that require client certificates:
    /// PEM file of this worker's certificate (librdkafka
    /// `ssl.certificate.location`); needs `ssl_key_location`. Default empty.
    pub ssl_certificate_location: String,
    /// PEM file of the private key of `ssl_certificate_location`, unencrypted
    /// (librdkafka `ssl.key.location`). Default empty.
    pub ssl_key_location: String,
    /// Any other librdkafka property, passed through verbatim (for example
    /// `fetch.max.bytes`, `client.rack`, `ssl.endpoint.identification.algorithm`).
    /// Properties tongdian sets itself (`bootstrap.servers`, `group.id`,
    /// `enable.auto.commit`, `security.protocol`, `sasl.*`, `ssl.*.location`,
    /// …) are refused with the key's name. `allow.auto.create.topics`
    /// defaults to `false` (create topics with `tongdian topics create`) and
    /// may be set here. Default empty.
    pub librdkafka: BTreeMap<String, String>,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            brokers: "localhost:9092".into(),
            topics: DEFAULT_TOPICS.iter().map(|t| t.to_string()).collect(),
            group: "tongdian".into(),
            dlq_topic: "feedback.dlq".into(),
            dlq_retry_secs: 300,
            start_from: StartFrom::Earliest,
            session_timeout_ms: 10_000,
            heartbeat_interval_ms: 1_000,
            max_poll_interval_ms: 300_000,
            security_protocol: SecurityProtocol::Plaintext,
            sasl_mechanism: SaslMechanism::Plain,
            sasl_username: String::new(),
            sasl_password: Secret::default(),
            sasl_password_file: String::new(),
            ssl_ca_location: String::new(),
            ssl_certificate_location: String::new(),
            ssl_key_location: String::new(),
            librdkafka: BTreeMap::new(),
        }
    }
}

/// Properties that tongdian owns: overriding them would break the delivery
/// guarantees (auto commit) or contradict a typed setting.
pub(crate) const OWNED_PROPERTIES: &[&str] = &[
    "bootstrap.servers",
    "metadata.broker.list",
    "group.id",
    "enable.auto.commit",
    "enable.auto.offset.store",
    "enable.partition.eof",
    "session.timeout.ms",
    "heartbeat.interval.ms",
    "max.poll.interval.ms",
    "auto.offset.reset",
    "security.protocol",
    "sasl.mechanism",
    "sasl.mechanisms",
    "sasl.username",
    "sasl.password",
    "ssl.ca.location",
    "ssl.certificate.location",
    "ssl.key.location",
];

impl KafkaConfig {
    pub fn validate(&self) -> Result<(), IngestError> {
        if self.brokers.trim().is_empty() {
            return Err(IngestError::Config("kafka.brokers is empty".into()));
        }
        if self.topics.is_empty() || self.topics.iter().any(|t| t.trim().is_empty()) {
            return Err(IngestError::Config(
                "kafka.topics must list at least one non-empty topic".into(),
            ));
        }
        if self.topics.contains(&self.dlq_topic) {
            return Err(IngestError::Config(format!(
                "kafka.dlq_topic `{}` is also an input topic; dead letters would be read back",
                self.dlq_topic
            )));
        }
        if self.group.trim().is_empty() {
            return Err(IngestError::Config("kafka.group is empty".into()));
        }
        self.check_owned()?;
        self.validate_security()?;
        if self.heartbeat_interval_ms >= self.session_timeout_ms {
            return Err(IngestError::Config(format!(
                "kafka.heartbeat_interval_ms ({}) must be lower than kafka.session_timeout_ms ({})",
                self.heartbeat_interval_ms, self.session_timeout_ms
            )));
        }
        Ok(())
    }

    /// The pass-through map may not set what tongdian sets itself.
    fn check_owned(&self) -> Result<(), IngestError> {
        if let Some(key) = self
            .librdkafka
            .keys()
            .find(|k| OWNED_PROPERTIES.contains(&k.as_str()))
        {
            return Err(IngestError::Config(format!(
                "kafka.librdkafka.`{key}` conflicts with a setting tongdian owns; use the typed \
                 setting instead (brokers, group, session_timeout_ms, heartbeat_interval_ms, \
                 max_poll_interval_ms, start_from, security_protocol, sasl_*, ssl_*)"
            )));
        }
        Ok(())
    }

    /// Refuses settings that would be silently ignored or fail only at the
    /// first connection, naming the keys.
    fn validate_security(&self) -> Result<(), IngestError> {
        let protocol = self.security_protocol.librdkafka();
        if self.security_protocol.uses_sasl() {
            if self.sasl_username.is_empty() {
                return Err(IngestError::Config(format!(
                    "kafka.security_protocol = {protocol} needs kafka.sasl_username"
                )));
            }
            match (
                self.sasl_password.0.is_empty(),
                self.sasl_password_file.is_empty(),
            ) {
                (true, true) => {
                    return Err(IngestError::Config(format!(
                        "kafka.security_protocol = {protocol} needs a password: \
                         TONGDIAN_KAFKA_SASL_PASSWORD or kafka.sasl_password_file"
                    )))
                }
                (false, false) => {
                    return Err(IngestError::Config(
                        "kafka.sasl_password and kafka.sasl_password_file are both set; keep one"
                            .into(),
                    ))
                }
                _ => {}
            }
        } else if let Some(key) = [
            ("sasl_username", self.sasl_username.is_empty()),
            ("sasl_password", self.sasl_password.0.is_empty()),
            ("sasl_password_file", self.sasl_password_file.is_empty()),
        ]
        .iter()
        .find_map(|(k, empty)| (!empty).then_some(k))
        {
            return Err(IngestError::Config(format!(
                "kafka.{key} is set but kafka.security_protocol = {protocol} uses no SASL \
                 (sasl_plaintext or sasl_ssl)"
            )));
        }
        if !self.security_protocol.uses_tls() {
            if let Some(key) = [
                ("ssl_ca_location", &self.ssl_ca_location),
                ("ssl_certificate_location", &self.ssl_certificate_location),
                ("ssl_key_location", &self.ssl_key_location),
            ]
            .iter()
            .find_map(|(k, v)| (!v.is_empty()).then_some(k))
            {
                return Err(IngestError::Config(format!(
                    "kafka.{key} is set but kafka.security_protocol = {protocol} uses no TLS \
                     (ssl or sasl_ssl)"
                )));
            }
        }
        if self.ssl_certificate_location.is_empty() != self.ssl_key_location.is_empty() {
            return Err(IngestError::Config(
                "kafka.ssl_certificate_location and kafka.ssl_key_location go together (a client \
                 certificate and its key)"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The librdkafka properties of the connection: brokers, security and
    /// the pass-through map, with the SASL password resolved (read from
    /// `sasl_password_file` now, so a rotated Secret is picked up by the next
    /// client). Every client (consumer, producers, admin) starts from this.
    pub fn client_config(&self) -> Result<ClientConfig, IngestError> {
        self.check_owned()?;
        self.validate_security()?;
        let mut c = ClientConfig::new();
        for (k, v) in &self.librdkafka {
            c.set(k, v);
        }
        if !self.librdkafka.contains_key("allow.auto.create.topics") {
            // librdkafka's producers default to true: a typo in dlq_topic
            // would create a topic on brokers that allow it.
            c.set("allow.auto.create.topics", "false");
        }
        c.set("bootstrap.servers", &self.brokers)
            .set("security.protocol", self.security_protocol.librdkafka());
        if self.security_protocol.uses_sasl() {
            let password = if self.sasl_password_file.is_empty() {
                self.sasl_password.0.clone()
            } else {
                read_secret("sasl_password_file", &self.sasl_password_file)?
            };
            c.set("sasl.mechanism", self.sasl_mechanism.librdkafka())
                .set("sasl.username", &self.sasl_username)
                .set("sasl.password", password);
        }
        if self.security_protocol.uses_tls() {
            if self.ssl_ca_location.is_empty() {
                // The vendored OpenSSL looks for CAs under its own build
                // prefix, not the distribution's; probing finds the system's.
                c.set("ssl.ca.location", "probe");
            } else {
                c.set(
                    "ssl.ca.location",
                    readable("ssl_ca_location", &self.ssl_ca_location)?,
                );
            }
            if !self.ssl_certificate_location.is_empty() {
                c.set(
                    "ssl.certificate.location",
                    readable("ssl_certificate_location", &self.ssl_certificate_location)?,
                )
                .set(
                    "ssl.key.location",
                    readable("ssl_key_location", &self.ssl_key_location)?,
                );
            }
        }
        Ok(c)
    }
}

fn read_secret(key: &str, path: &str) -> Result<String, IngestError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| IngestError::Config(format!("kafka.{key} `{path}`: {e}")))?;
    let text = text
        .strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t))
        .unwrap_or(&text);
    if text.is_empty() {
        return Err(IngestError::Config(format!(
            "kafka.{key} `{path}` is empty"
        )));
    }
    Ok(text.to_owned())
}

/// librdkafka reports an unreadable CA or key only as a generic SSL error
/// at client creation; naming the key and path here saves a search.
fn readable<'a>(key: &str, path: &'a str) -> Result<&'a str, IngestError> {
    std::fs::File::open(Path::new(path))
        .map(|_| path)
        .map_err(|e| IngestError::Config(format!("kafka.{key} `{path}`: {e}")))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SinkConfig {
    /// Root of the output tables: a local directory, or an S3-compatible
    /// object store (`s3://bucket/prefix`, configured with the usual `AWS_*`
    /// environment or `storage_options`). Tables live in `<output>/feedback`
    /// and `<output>/dead_letters`. Default `./tongdian-data`.
    pub output: String,
    /// Flush once this many messages are buffered. Default 100000.
    pub flush_max_messages: usize,
    /// Flush once buffered payloads reach this many bytes. Default 67108864
    /// (64 MiB); bounds the worker's memory under backlog.
    pub flush_max_bytes: usize,
    /// Flush at least this often, in seconds, while messages are buffered:
    /// the latency from Kafka to the tables. Default 60.
    pub flush_interval_secs: u64,
    /// How long, in seconds, a failing table commit is retried (with
    /// backoff from 0.5 s to 30 s) before the worker gives up and exits;
    /// no offset moves meanwhile. Default 300.
    pub commit_retry_secs: u64,
    /// How many recently accepted message `id`s a worker remembers, per
    /// worker: a message whose `id` is among them is a producer's resend,
    /// counted (`tongdian_duplicates_total`) and kept out of `feedback`.
    /// Messages with the same `id` should share a Kafka key so they reach
    /// the same worker. About 100 bytes of memory per id; 0 turns the check
    /// off. The window starts empty when a worker starts. Default 100000.
    pub duplicate_window: usize,
    /// After SIGTERM or SIGINT, how long, in seconds, the worker may take to
    /// commit what it buffered and leave the group. Past it the worker exits
    /// with status 1 without committing: nothing uncommitted was
    /// acknowledged anywhere, so whoever takes the partitions over reads
    /// those messages again. Keep it under the orchestrator's grace period
    /// (Kubernetes: 30 s). At least 1. Default 10.
    pub shutdown_timeout_secs: u64,
    /// The worker's memory bound, in MiB of resident memory (the figure a
    /// container's memory limit counts). When the process reaches three
    /// quarters of it, the worker commits what it has buffered early (at
    /// most once a second; `tongdian_memory_pressure_commits_total`), since
    /// a buffered message costs several times its payload once analysed.
    /// It also caps librdkafka's prefetch queue
    /// (`queued.max.messages.kbytes`) at an eighth of it unless
    /// `[kafka.librdkafka]` sets that. Keep it at or below the container's
    /// limit. 0 turns the bound off; otherwise at least 192 and at least
    /// twice `flush_max_bytes`. Default 512.
    pub memory_limit_mb: u64,
    /// Options for delta-rs's object stores, e.g. `AWS_ENDPOINT_URL`,
    /// `AWS_REGION`; the same names work as environment variables. Several
    /// workers writing one table on S3 need atomic commits: on a store with
    /// conditional writes (AWS S3, MinIO, R2) set `conditional_put = "etag"`
    /// (`AWS_CONDITIONAL_PUT=etag`); `AWS_S3_ALLOW_UNSAFE_RENAME = "true"`
    /// is for a single writer only. The store client's own request retries
    /// default to `max_retries = "3"` and `retry_timeout = "5s"` here
    /// (object_store's are 10 and 3 min), because the worker retries whole
    /// commits itself; set them to override. Default empty.
    pub storage_options: BTreeMap<String, String>,
}

impl Default for SinkConfig {
    fn default() -> Self {
        SinkConfig {
            output: "./tongdian-data".into(),
            flush_max_messages: 100_000,
            flush_max_bytes: 64 << 20,
            flush_interval_secs: 60,
            commit_retry_secs: 300,
            duplicate_window: 100_000,
            shutdown_timeout_secs: 10,
            memory_limit_mb: 512,
            storage_options: BTreeMap::new(),
        }
    }
}

/// A worker holds about 100 MiB with an empty buffer once it has run a
/// while (dictionaries, the sentiment model, the Kafka and store clients
/// and their queues, the table logs; measured); a bound much nearer than
/// that would commit after every few messages.
const MIN_MEMORY_LIMIT_MB: u64 = 192;

impl SinkConfig {
    /// `memory_limit_mb` in bytes; 0 when the bound is off.
    pub fn memory_limit_bytes(&self) -> u64 {
        self.memory_limit_mb << 20
    }

    pub fn flush_interval(&self) -> Duration {
        Duration::from_secs(self.flush_interval_secs)
    }

    pub fn shutdown_timeout(&self) -> Duration {
        Duration::from_secs(self.shutdown_timeout_secs)
    }

    pub fn validate(&self) -> Result<(), IngestError> {
        if self.shutdown_timeout_secs == 0 {
            return Err(IngestError::Config(
                "sink.shutdown_timeout_secs must be at least 1".into(),
            ));
        }
        if self.output.trim().is_empty() {
            return Err(IngestError::Config("sink.output is empty".into()));
        }
        if self.flush_max_messages == 0 || self.flush_max_bytes == 0 {
            return Err(IngestError::Config(
                "sink.flush_max_messages and sink.flush_max_bytes must be positive".into(),
            ));
        }
        if self.memory_limit_mb != 0 {
            if self.memory_limit_mb < MIN_MEMORY_LIMIT_MB {
                return Err(IngestError::Config(format!(
                    "sink.memory_limit_mb = {} is below the {MIN_MEMORY_LIMIT_MB} MiB a worker needs \
                     for its dictionaries, model and clients (0 turns the bound off)",
                    self.memory_limit_mb
                )));
            }
            if self.flush_max_bytes as u64 * 2 > self.memory_limit_bytes() {
                return Err(IngestError::Config(format!(
                    "sink.flush_max_bytes ({} MiB) must be at most half of sink.memory_limit_mb ({} MiB)",
                    self.flush_max_bytes >> 20,
                    self.memory_limit_mb
                )));
            }
        }
        Ok(())
    }
}

/// Everything one worker needs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    pub kafka: KafkaConfig,
    pub sink: SinkConfig,
    /// The input contract's limits.
    pub limits: DecodeLimits,
}

impl IngestConfig {
    pub fn validate(&self) -> Result<(), IngestError> {
        self.kafka.validate()?;
        self.sink.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_memory_limit_must_leave_room_for_the_worker_and_its_buffer() {
        let mut sink = SinkConfig::default();
        sink.validate().unwrap();
        sink.memory_limit_mb = 100;
        let err = sink.validate().unwrap_err().to_string();
        assert!(err.contains("sink.memory_limit_mb = 100"), "{err}");
        sink.memory_limit_mb = 0;
        sink.validate().unwrap();
        sink.memory_limit_mb = 256;
        sink.flush_max_bytes = 200 << 20;
        let err = sink.validate().unwrap_err().to_string();
        assert!(
            err.contains("sink.flush_max_bytes (200 MiB)") && err.contains("(256 MiB)"),
            "{err}"
        );
    }

    #[test]
    fn owned_librdkafka_properties_are_refused_by_name() {
        let mut cfg = KafkaConfig::default();
        cfg.librdkafka
            .insert("enable.auto.commit".into(), "true".into());
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("enable.auto.commit"), "{err}");
        cfg.librdkafka.clear();
        cfg.librdkafka
            .insert("fetch.max.bytes".into(), "1048576".into());
        cfg.validate().unwrap();
    }

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut f, text.as_bytes()).unwrap();
        f
    }

    fn error(cfg: &KafkaConfig) -> String {
        let validated = cfg.validate().unwrap_err().to_string();
        let built = cfg.client_config().unwrap_err().to_string();
        assert_eq!(validated, built, "validate and client_config disagree");
        validated
    }

    #[test]
    fn plaintext_sets_no_credentials_and_turns_topic_auto_creation_off() {
        let c = KafkaConfig::default().client_config().unwrap();
        assert_eq!(c.get("security.protocol"), Some("plaintext"));
        assert_eq!(c.get("bootstrap.servers"), Some("localhost:9092"));
        assert_eq!(c.get("allow.auto.create.topics"), Some("false"));
        for k in [
            "sasl.mechanism",
            "sasl.username",
            "sasl.password",
            "ssl.ca.location",
        ] {
            assert_eq!(c.get(k), None, "{k}");
        }
        let mut cfg = KafkaConfig::default();
        cfg.librdkafka
            .insert("allow.auto.create.topics".into(), "true".into());
        let c = cfg.client_config().unwrap();
        assert_eq!(c.get("allow.auto.create.topics"), Some("true"));
    }

    #[test]
    fn sasl_ssl_with_scram_maps_to_librdkafka_properties_and_reads_the_password_file() {
        let password = file("s3cr\"et with spaces\n");
        let ca = file("-----BEGIN CERTIFICATE-----\n");
        let cfg = KafkaConfig {
            security_protocol: SecurityProtocol::SaslSsl,
            sasl_mechanism: SaslMechanism::ScramSha512,
            sasl_username: "svc-tongdian".into(),
            sasl_password_file: password.path().to_str().unwrap().into(),
            ssl_ca_location: ca.path().to_str().unwrap().into(),
            ..KafkaConfig::default()
        };
        cfg.validate().unwrap();
        let c = cfg.client_config().unwrap();
        assert_eq!(c.get("security.protocol"), Some("sasl_ssl"));
        assert_eq!(c.get("sasl.mechanism"), Some("SCRAM-SHA-512"));
        assert_eq!(c.get("sasl.username"), Some("svc-tongdian"));
        assert_eq!(c.get("sasl.password"), Some("s3cr\"et with spaces"));
        assert_eq!(c.get("ssl.ca.location"), ca.path().to_str());
        assert_eq!(c.get("ssl.certificate.location"), None);

        let cfg = KafkaConfig {
            security_protocol: SecurityProtocol::SaslPlaintext,
            sasl_mechanism: SaslMechanism::ScramSha256,
            sasl_username: "u".into(),
            sasl_password: Secret("from-env".into()),
            ..KafkaConfig::default()
        };
        let c = cfg.client_config().unwrap();
        assert_eq!(c.get("security.protocol"), Some("sasl_plaintext"));
        assert_eq!(c.get("sasl.mechanism"), Some("SCRAM-SHA-256"));
        assert_eq!(c.get("sasl.password"), Some("from-env"));
        assert_eq!(c.get("ssl.ca.location"), None, "no TLS, no CA");
        assert!(
            !format!("{cfg:?}").contains("from-env"),
            "Debug shows the password"
        );
    }

    #[test]
    fn tls_without_a_ca_file_probes_the_system_store_and_takes_a_client_certificate() {
        let cfg = KafkaConfig {
            security_protocol: SecurityProtocol::Ssl,
            ..KafkaConfig::default()
        };
        assert_eq!(
            cfg.client_config().unwrap().get("ssl.ca.location"),
            Some("probe")
        );
        let (cert, key) = (file("cert"), file("key"));
        let cfg = KafkaConfig {
            security_protocol: SecurityProtocol::Ssl,
            ssl_certificate_location: cert.path().to_str().unwrap().into(),
            ssl_key_location: key.path().to_str().unwrap().into(),
            ..KafkaConfig::default()
        };
        let c = cfg.client_config().unwrap();
        assert_eq!(c.get("ssl.certificate.location"), cert.path().to_str());
        assert_eq!(c.get("ssl.key.location"), key.path().to_str());
        assert_eq!(c.get("sasl.mechanism"), None, "ssl alone uses no SASL");
    }

    #[test]
    fn incomplete_or_contradictory_security_settings_are_refused_by_key() {
        let sasl = KafkaConfig {
            security_protocol: SecurityProtocol::SaslSsl,
            sasl_username: "u".into(),
            sasl_password: Secret("p".into()),
            ..KafkaConfig::default()
        };
        sasl.validate().unwrap();
        let cases = [
            (
                KafkaConfig {
                    sasl_username: String::new(),
                    ..sasl.clone()
                },
                "kafka.sasl_username",
            ),
            (
                KafkaConfig {
                    sasl_password: Secret::default(),
                    ..sasl.clone()
                },
                "TONGDIAN_KAFKA_SASL_PASSWORD or kafka.sasl_password_file",
            ),
            (
                KafkaConfig {
                    sasl_password_file: "/run/secrets/p".into(),
                    ..sasl.clone()
                },
                "both set",
            ),
            (
                KafkaConfig {
                    security_protocol: SecurityProtocol::Ssl,
                    ..sasl.clone()
                },
                "kafka.sasl_username is set but kafka.security_protocol = ssl",
            ),
            (
                KafkaConfig {
                    security_protocol: SecurityProtocol::SaslPlaintext,
                    ssl_ca_location: "/ca.pem".into(),
                    ..sasl.clone()
                },
                "kafka.ssl_ca_location is set but kafka.security_protocol = sasl_plaintext",
            ),
            (
                KafkaConfig {
                    ssl_certificate_location: "/c.pem".into(),
                    ..sasl.clone()
                },
                "go together",
            ),
        ];
        for (cfg, want) in cases {
            let err = error(&cfg);
            assert!(err.contains(want), "{err} lacks {want}");
        }
        for key in [
            "security.protocol",
            "sasl.mechanisms",
            "sasl.password",
            "ssl.key.location",
        ] {
            let mut cfg = sasl.clone();
            cfg.librdkafka.insert(key.into(), "x".into());
            let err = error(&cfg);
            assert!(err.contains(&format!("`{key}`")), "{err}");
        }
    }

    #[test]
    fn missing_or_empty_secret_files_are_named_when_a_client_is_built() {
        let empty = file("\n");
        let cfg = KafkaConfig {
            security_protocol: SecurityProtocol::SaslSsl,
            sasl_username: "u".into(),
            sasl_password_file: empty.path().to_str().unwrap().into(),
            ..KafkaConfig::default()
        };
        let err = cfg.client_config().unwrap_err().to_string();
        assert!(
            err.contains("sasl_password_file") && err.contains("is empty"),
            "{err}"
        );
        let cfg = KafkaConfig {
            sasl_password_file: "/nonexistent/tongdian/password".into(),
            ..cfg
        };
        let err = cfg.client_config().unwrap_err().to_string();
        assert!(err.contains("/nonexistent/tongdian/password"), "{err}");
        let cfg = KafkaConfig {
            security_protocol: SecurityProtocol::Ssl,
            ssl_ca_location: "/nonexistent/ca.pem".into(),
            ..KafkaConfig::default()
        };
        let err = cfg.client_config().unwrap_err().to_string();
        assert!(
            err.contains("kafka.ssl_ca_location") && err.contains("/nonexistent/ca.pem"),
            "{err}"
        );
    }

    #[test]
    fn the_shutdown_bound_must_leave_time_to_commit() {
        let mut cfg = SinkConfig::default();
        assert_eq!(cfg.shutdown_timeout(), Duration::from_secs(10));
        cfg.shutdown_timeout_secs = 0;
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("shutdown_timeout_secs"), "{err}");
    }

    #[test]
    fn the_dead_letter_topic_cannot_be_an_input() {
        let cfg = KafkaConfig {
            dlq_topic: "feedback.reviews".into(),
            ..KafkaConfig::default()
        };
        assert!(cfg
            .validate()
            .unwrap_err()
            .to_string()
            .contains("feedback.reviews"));
    }
}
