//! The whole configuration, layered: built-in defaults, then the TOML file
//! (`--config`), then `TONGDIAN_<SECTION>_<FIELD>` environment variables,
//! then command-line flags. Unknown keys, in the file or the environment,
//! are errors that name the key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use tongdian_ingest::{IngestConfig, KafkaConfig, SinkConfig};
use tongdian_schemas::DecodeLimits;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub kafka: KafkaConfig,
    pub sink: SinkConfig,
    /// The input contract's limits.
    pub limits: DecodeLimits,
    pub analysis: AnalysisConfig,
    pub analytics: AnalyticsConfig,
    pub log: LogConfig,
    pub metrics: MetricsConfig,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Address (`host:port`) for `/metrics`, `/healthz` and `/readyz` while
    /// `tongdian run` works, e.g. `0.0.0.0:9464`. Default: none (off).
    pub listen: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnalysisConfig {
    /// Taxonomy file (TOML) replacing the built-in one. Default: none (the
    /// built-in taxonomy, `nlp/taxonomy/default.toml`).
    pub taxonomy: Option<PathBuf>,
}

/// Rollups, priorities and alerts (see the README's "Analytics tables").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnalyticsConfig {
    /// Write `rollups` and critical-message `alerts` in every commit and
    /// publish partial window counts. Default true.
    pub enabled: bool,
    /// Event-time tumbling windows, each a number with a unit (`s`, `m`,
    /// `h`, `d`), aligned to UTC. Default `["1h", "1d"]`.
    pub windows: Vec<String>,
    /// How far, in seconds, event time may run behind the latest event
    /// before a window closes; later events become late corrections.
    /// Default 3600.
    pub allowed_lateness_secs: u64,
    /// First-response SLA targets in seconds, per ticket `channel`: a
    /// ticket (a message with `ticket.opened_at`) counts as `sla_met` or
    /// `sla_missed` against its channel's target. Default `chat`, `im`,
    /// `live_chat`, `online_chat`, `wechat` = 30.
    pub sla_secs_by_channel: BTreeMap<String, u64>,
    /// The target for every other channel (after-sales), in seconds.
    /// Default 7200 (2 h).
    pub sla_default_secs: u64,
    /// Topic for every alert (JSON, key `alert_id`); `""` turns it off.
    /// Default `feedback.alerts`.
    pub alerts_topic: String,
    /// Topic for partial window counts, the detector's input; it should
    /// have one partition, so that one detector sees every worker's counts.
    /// `""` turns global detection off. Default `feedback.counts`.
    pub counts_topic: String,
    /// Run the detector (priorities, emerging themes, new terms) in this
    /// process. Every process may: they share a consumer group on the
    /// one-partition counts topic, so one is active at a time. Default true.
    pub detector: bool,
    /// The window the detector watches for emerging themes and new terms;
    /// one of `windows`. Priorities are written for every window. Default
    /// `1h`.
    pub detect_window: String,
    /// Windows of baseline before a theme can alert. Default 24.
    pub warmup_windows: u32,
    /// Fewest messages about a theme in a window for a volume alert.
    /// Default 10.
    pub min_volume: u64,
    /// How many standard deviations above its baseline a series must be.
    /// Default 4.
    pub z_threshold: f64,
    /// Consecutive windows a spike must last before it alerts. Default 2.
    pub persistence: u32,
    /// A worker that has sent no counts for this many seconds (of the
    /// counts messages' own timestamps) no longer holds windows open.
    /// Default 300.
    pub source_timeout_secs: u64,
    /// URL that receives every alert as an HTTP POST; none by default.
    pub webhook_url: Option<String>,
    /// Body of the webhook: `json` (the alert row) or `slack` (an incoming
    /// webhook message). Default `json`.
    pub webhook_format: WebhookFormatConfig,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookFormatConfig {
    #[default]
    Json,
    Slack,
}

impl Default for AnalyticsConfig {
    fn default() -> Self {
        AnalyticsConfig {
            enabled: true,
            windows: vec!["1h".into(), "1d".into()],
            allowed_lateness_secs: 3600,
            sla_secs_by_channel: tongdian_aggregator::SlaConfig::default()
                .by_channel
                .into_iter()
                .map(|(c, s)| (c, s as u64))
                .collect(),
            sla_default_secs: 7200,
            alerts_topic: "feedback.alerts".into(),
            counts_topic: "feedback.counts".into(),
            detector: true,
            detect_window: "1h".into(),
            warmup_windows: 24,
            min_volume: 10,
            z_threshold: 4.0,
            persistence: 2,
            source_timeout_secs: 300,
            webhook_url: None,
            webhook_format: WebhookFormatConfig::Json,
        }
    }
}

/// `90s`, `15m`, `1h`, `1d` → seconds.
pub fn parse_span(text: &str) -> Result<u64> {
    let t = text.trim();
    let (number, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = number
        .parse()
        .with_context(|| format!("`{text}`: expected a number with a unit, like 1h"))?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => bail!("`{text}`: the unit must be s, m, h or d"),
    };
    if n == 0 {
        bail!("`{text}`: a window must be longer than zero");
    }
    Ok(n * scale)
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log collectors on a cluster.
    Json,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `text` or `json`. Default `text`.
    pub format: LogFormat,
    /// A tracing filter such as `info` or `tongdian_ingest=debug,warn`;
    /// `RUST_LOG` wins when set. Default `info`.
    pub level: Option<String>,
}

/// Environment variables that are not config keys but are still ours.
const RESERVED_ENV: &[&str] = &["TONGDIAN_CONFIG"];

impl Config {
    pub fn ingest(&self) -> IngestConfig {
        IngestConfig {
            kafka: self.kafka.clone(),
            sink: self.sink.clone(),
            limits: self.limits.clone(),
        }
    }

    /// Defaults, then `file`, then the environment.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config> {
        let base = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading config file {}", path.display()))?;
                toml::from_str::<Config>(&text)
                    .map_err(|e| anyhow::anyhow!("config file {}: {e}", path.display()))?
            }
            None => Config::default(),
        };
        base.with_env(env)
    }

    fn with_env(self, env: impl IntoIterator<Item = (String, String)>) -> Result<Config> {
        let mut tree = toml::Value::try_from(&self).context("serialising the configuration")?;
        let mut touched = false;
        for (name, value) in env {
            let Some(rest) = name.strip_prefix("TONGDIAN_") else {
                continue;
            };
            if RESERVED_ENV.contains(&name.as_str()) {
                continue;
            }
            set_from_env(&mut tree, &name, &rest.to_ascii_lowercase(), &value)?;
            touched = true;
        }
        if !touched {
            return Ok(self);
        }
        tree.try_into()
            .map_err(|e| anyhow::anyhow!("environment: {e}"))
    }
}

/// Finds the `section.field` a variable names (`kafka_session_timeout_ms` →
/// `kafka.session_timeout_ms`) and sets it, parsing the value as the type the
/// field already has.
fn set_from_env(tree: &mut toml::Value, name: &str, key: &str, value: &str) -> Result<()> {
    let table = tree.as_table_mut().expect("config is a table");
    let Some((section, field)) = table
        .iter()
        .filter(|(_, v)| v.is_table())
        .find_map(|(s, _)| {
            key.strip_prefix(&format!("{s}_"))
                .map(|f| (s.clone(), f.to_owned()))
        })
    else {
        bail!("environment variable {name} does not name a configuration key");
    };
    let section = table
        .get_mut(&section)
        .and_then(|v| v.as_table_mut())
        .expect("section");
    let known: Vec<String> = section.keys().cloned().collect();
    let parsed = match section.get(&field) {
        Some(toml::Value::Integer(_)) => toml::Value::Integer(
            value
                .trim()
                .parse()
                .with_context(|| format!("{name}={value}: expected an integer"))?,
        ),
        Some(toml::Value::Float(_)) => toml::Value::Float(
            value
                .trim()
                .parse()
                .with_context(|| format!("{name}={value}: expected a number"))?,
        ),
        Some(toml::Value::Boolean(_)) => toml::Value::Boolean(
            value
                .trim()
                .parse()
                .with_context(|| format!("{name}={value}: expected true or false"))?,
        ),
        Some(toml::Value::Array(_)) => toml::Value::Array(
            value
                .split(',')
                .map(|s| toml::Value::String(s.trim().to_owned()))
                .filter(|v| v.as_str() != Some(""))
                .collect(),
        ),
        Some(toml::Value::Table(_)) => {
            bail!("{name}: `{field}` is a table; set it in the config file")
        }
        // Strings, and optional fields that are unset (absent from the tree).
        Some(_) => toml::Value::String(value.to_owned()),
        None if OPTIONAL_STRING_FIELDS.contains(&field.as_str()) => {
            toml::Value::String(value.to_owned())
        }
        None => bail!(
            "environment variable {name} does not name a configuration key (that section has: {})",
            known.join(", ")
        ),
    };
    section.insert(field, parsed);
    Ok(())
}

/// Optional fields, absent from a serialised default config.
const OPTIONAL_STRING_FIELDS: &[&str] = &["taxonomy", "level", "listen", "webhook_url"];

#[cfg(test)]
mod tests {
    use super::*;
    use tongdian_ingest::{SaslMechanism, SecurityProtocol};

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn write(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut f, text.as_bytes()).unwrap();
        f
    }

    #[test]
    fn the_file_overrides_defaults_and_the_environment_overrides_the_file() {
        let file = write("[kafka]\nbrokers = \"file:9092\"\ngroup = \"g-file\"\n[sink]\nflush_interval_secs = 5\n");
        let c = Config::load(
            Some(file.path()),
            env(&[
                ("TONGDIAN_KAFKA_GROUP", "g-env"),
                ("TONGDIAN_KAFKA_TOPICS", "a, b"),
                ("TONGDIAN_SINK_FLUSH_MAX_MESSAGES", "7"),
                ("TONGDIAN_ANALYSIS_TAXONOMY", "/tmp/t.toml"),
                ("PATH", "/bin"),
            ]),
        )
        .unwrap();
        assert_eq!(c.kafka.brokers, "file:9092");
        assert_eq!(c.kafka.group, "g-env");
        assert_eq!(c.kafka.topics, vec!["a", "b"]);
        assert_eq!(c.sink.flush_interval_secs, 5);
        assert_eq!(c.sink.flush_max_messages, 7);
        assert_eq!(
            c.analysis.taxonomy.as_deref(),
            Some(Path::new("/tmp/t.toml"))
        );
        assert_eq!(c.sink.output, "./tongdian-data", "untouched default");
    }

    #[test]
    fn unknown_file_keys_are_named() {
        let file = write("[kafka]\nbrokerz = \"x\"\n");
        let err = Config::load(Some(file.path()), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("brokerz"), "{err}");
        let file = write("[sinc]\noutput = \"x\"\n");
        let err = Config::load(Some(file.path()), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("sinc"), "{err}");
    }

    #[test]
    fn unknown_or_malformed_environment_variables_are_named() {
        let err = Config::load(None, env(&[("TONGDIAN_KAFKA_BROKER", "x")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("TONGDIAN_KAFKA_BROKER"), "{err}");
        let err = Config::load(None, env(&[("TONGDIAN_NOPE", "x")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("TONGDIAN_NOPE"), "{err}");
        let err = Config::load(None, env(&[("TONGDIAN_SINK_FLUSH_INTERVAL_SECS", "soon")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("TONGDIAN_SINK_FLUSH_INTERVAL_SECS"), "{err}");
    }

    #[test]
    fn spans_take_a_unit() {
        assert_eq!(parse_span("1h").unwrap(), 3600);
        assert_eq!(parse_span("15m").unwrap(), 900);
        assert_eq!(parse_span("1d").unwrap(), 86_400);
        assert!(parse_span("1w").unwrap_err().to_string().contains("1w"));
        assert!(parse_span("h").is_err());
        assert!(parse_span("0h").is_err());
        let c = Config::load(
            None,
            env(&[
                ("TONGDIAN_ANALYTICS_WINDOWS", "15m,1d"),
                ("TONGDIAN_ANALYTICS_Z_THRESHOLD", "3.5"),
                ("TONGDIAN_ANALYTICS_WEBHOOK_URL", "http://x/hook"),
            ]),
        )
        .unwrap();
        assert_eq!(c.analytics.windows, ["15m", "1d"]);
        assert_eq!(c.analytics.z_threshold, 3.5);
        assert_eq!(c.analytics.webhook_url.as_deref(), Some("http://x/hook"));
        let err = Config::load(None, env(&[("TONGDIAN_ANALYTICS_Z_THRESHOLD", "high")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("TONGDIAN_ANALYTICS_Z_THRESHOLD"), "{err}");
    }

    #[test]
    fn security_settings_come_from_the_file_and_the_password_from_the_environment() {
        let file = write(
            "[kafka]\nsecurity_protocol = \"sasl_ssl\"\nsasl_mechanism = \"SCRAM-SHA-256\"\nsasl_username = \"svc\"\n",
        );
        let c = Config::load(
            Some(file.path()),
            env(&[("TONGDIAN_KAFKA_SASL_PASSWORD", "p\"w")]),
        )
        .unwrap();
        assert_eq!(c.kafka.security_protocol, SecurityProtocol::SaslSsl);
        assert_eq!(c.kafka.sasl_mechanism, SaslMechanism::ScramSha256);
        assert_eq!(c.kafka.sasl_password.0, "p\"w");
        c.kafka.validate().unwrap();
        let c = Config::load(
            None,
            env(&[
                ("TONGDIAN_KAFKA_SECURITY_PROTOCOL", "ssl"),
                ("TONGDIAN_KAFKA_SSL_CA_LOCATION", "/etc/kafka-ca/ca.crt"),
            ]),
        )
        .unwrap();
        assert_eq!(c.kafka.security_protocol, SecurityProtocol::Ssl);
        assert_eq!(c.kafka.ssl_ca_location, "/etc/kafka-ca/ca.crt");
        for (text, bad) in [
            ("[kafka]\nsasl_mechanism = \"SCRAM-SHA-1\"\n", "SCRAM-SHA-1"),
            ("[kafka]\nsecurity_protocol = \"tls\"\n", "tls"),
            ("[kafka]\nsasl_passwd = \"x\"\n", "sasl_passwd"),
        ] {
            let file = write(text);
            let err = Config::load(Some(file.path()), env(&[]))
                .unwrap_err()
                .to_string();
            assert!(err.contains(bad), "{err}");
        }
    }

    #[test]
    fn defaults_round_trip_through_toml() {
        let text = toml::to_string(&Config::default()).unwrap();
        assert_eq!(toml::from_str::<Config>(&text).unwrap(), Config::default());
    }
}
