//! The whole configuration, layered: built-in defaults, then the TOML file
//! (`--config`), then `TONGDIAN_<SECTION>_<FIELD>` environment variables,
//! then command-line flags. Unknown keys, in the file or the environment,
//! are errors that name the key.

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
const OPTIONAL_STRING_FIELDS: &[&str] = &["taxonomy", "level", "listen"];

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
