//! `tongdian topics create`: the feedback topics (`kafka.topics`), the
//! dead-letter topic (`kafka.dlq_topic`), the alert topic and the counts
//! topic (`analytics.*_topic`; counts always with one partition, so that one
//! order of counts exists), created with the workers' own connection
//! settings (brokers, TLS, SASL).

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use tongdian_ingest::{TopicOutcome, TopicSpec};

use crate::{load_config, out, ConfigArgs};

#[derive(Args)]
pub struct TopicsArgs {
    #[command(subcommand)]
    command: TopicsCommand,
}

#[derive(Subcommand)]
enum TopicsCommand {
    /// Create the feedback, dead-letter and alert topics that do not exist
    /// yet; existing ones are reported and left unchanged.
    Create(CreateArgs),
}

#[derive(Args)]
struct CreateArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Kafka bootstrap servers (`kafka.brokers`).
    #[arg(long)]
    brokers: Option<String>,
    /// Partitions of each topic: the most workers of one group that can
    /// hold a partition of a topic.
    #[arg(long)]
    partitions: i32,
    /// Copies of each partition; -1 (the default) uses the brokers'
    /// `default.replication.factor`.
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    replication: i32,
    /// How long messages are kept (`retention.ms`): hours as `168h`,
    /// milliseconds as `604800000ms`, or `forever`. Default: the brokers'
    /// `log.retention.*`. Keep at least as long as a replay into fresh
    /// tables should reach back.
    #[arg(long, value_parser = parse_retention)]
    retention: Option<i64>,
    /// The topic alerts go to; `""` skips it. Default
    /// `analytics.alerts_topic`.
    #[arg(long)]
    alerts_topic: Option<String>,
}

/// `--retention` in milliseconds; -1 is Kafka's "forever".
fn parse_retention(text: &str) -> Result<i64> {
    let text = text.trim();
    if text == "forever" {
        return Ok(-1);
    }
    let (number, per_unit) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1)
    } else if let Some(n) = text.strip_suffix('h') {
        (n, 3_600_000)
    } else {
        bail!("`{text}`: give a unit, e.g. 168h or 604800000ms (or forever)");
    };
    let n: i64 = number
        .trim()
        .parse()
        .with_context(|| format!("`{text}`: not a whole number of hours or milliseconds"))?;
    if n < 1 {
        bail!("`{text}`: retention must be positive (or forever)");
    }
    n.checked_mul(per_unit)
        .with_context(|| format!("`{text}` is too long"))
}

pub async fn run(args: TopicsArgs) -> Result<()> {
    let TopicsCommand::Create(args) = args.command;
    let mut config = load_config(&args.config)?;
    if let Some(b) = args.brokers {
        config.kafka.brokers = b;
    }
    config.kafka.validate()?;
    let mut topics = config.kafka.topics.clone();
    let alerts = args
        .alerts_topic
        .unwrap_or_else(|| config.analytics.alerts_topic.clone());
    for extra in [&config.kafka.dlq_topic, &alerts] {
        if !extra.is_empty() && !topics.contains(extra) {
            topics.push(extra.clone());
        }
    }
    let spec = TopicSpec {
        partitions: args.partitions,
        replication: args.replication,
        retention_ms: args.retention,
    };
    let mut reports = tongdian_ingest::create_topics(&config.kafka, &topics, &spec).await?;
    let counts = config.analytics.counts_topic.clone();
    if config.analytics.enabled && !counts.is_empty() && !topics.contains(&counts) {
        let one = TopicSpec {
            partitions: 1,
            ..spec
        };
        reports.extend(
            tongdian_ingest::create_topics(&config.kafka, std::slice::from_ref(&counts), &one)
                .await?,
        );
        topics.push(counts);
    }
    let width = topics.iter().map(String::len).max().unwrap_or(0);
    let mut text = String::new();
    for r in &reports {
        let (what, note) = match r.outcome {
            TopicOutcome::Created => ("created", ""),
            TopicOutcome::AlreadyExisted
                if r.partitions != spec.partitions as usize
                    && r.topic != config.analytics.counts_topic =>
            {
                ("exists ", ", left unchanged")
            }
            TopicOutcome::AlreadyExisted => ("exists ", ""),
        };
        text += &format!(
            "{what} {:width$}  {} partitions{note}\n",
            r.topic, r.partitions
        );
    }
    out(text)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_retention;

    #[test]
    fn retention_takes_hours_milliseconds_or_forever() {
        assert_eq!(parse_retention("168h").unwrap(), 604_800_000);
        assert_eq!(parse_retention("1500ms").unwrap(), 1_500);
        assert_eq!(parse_retention("forever").unwrap(), -1);
        for bad in ["168", "0h", "-5ms", "7d", "h", "99999999999999999h"] {
            assert!(parse_retention(bad).is_err(), "{bad} was accepted");
        }
        assert!(parse_retention("168")
            .unwrap_err()
            .to_string()
            .contains("give a unit"));
    }
}
