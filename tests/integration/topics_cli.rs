//! `tongdian topics create` against a real Kafka-protocol broker (tansu):
//! the topics appear with the requested partitions (read back with an
//! independent metadata request), and a second run reports them as existing.

use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::ClientConfig;

use crate::support::{stdout_of, tongdian, Tansu};

const ALL: [&str; 6] = [
    "feedback.reviews",
    "feedback.tickets",
    "feedback.surveys",
    "feedback.social",
    "feedback.dlq",
    "feedback.alerts",
];

fn topics_create(brokers: &str, args: &[&str]) -> String {
    stdout_of(
        tongdian()
            .args(["topics", "create", "--brokers", brokers])
            .args(args),
    )
}

/// Partitions per topic as the broker reports them, `None` if absent.
fn partitions(brokers: &str, topic: &str) -> Option<usize> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap();
    metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic && t.error().is_none())
        .map(|t| t.partitions().len())
}

fn line<'a>(stdout: &'a str, topic: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(topic))
        .unwrap_or_else(|| panic!("no line for {topic} in:\n{stdout}"))
}

#[test]
#[ignore = "needs tansu; run through scripts/test.sh"]
fn creates_the_feedback_dead_letter_and_alert_topics_then_reports_them_as_existing() {
    let dir = tempfile::tempdir().unwrap();
    let tansu = Tansu::start_sqlite(dir.path());
    for t in ALL {
        assert_eq!(partitions(&tansu.brokers, t), None, "{t} exists before");
    }

    let first = topics_create(
        &tansu.brokers,
        &[
            "--partitions",
            "3",
            "--replication",
            "1",
            "--retention",
            "48h",
        ],
    );
    for t in ALL {
        assert_eq!(
            line(&first, t).split_whitespace().next(),
            Some("created"),
            "{first}"
        );
        assert!(line(&first, t).contains("3 partitions"), "{first}");
        assert_eq!(partitions(&tansu.brokers, t), Some(3), "{t}");
    }
    // The detector's input: one partition, whatever --partitions says.
    assert!(
        line(&first, "feedback.counts").starts_with("created"),
        "{first}"
    );
    assert_eq!(partitions(&tansu.brokers, "feedback.counts"), Some(1));
    assert_eq!(first.lines().count(), ALL.len() + 1, "{first}");

    let again = topics_create(&tansu.brokers, &["--partitions", "3", "--replication", "1"]);
    for t in ALL {
        let l = line(&again, t);
        assert!(
            l.starts_with("exists") && l.ends_with("3 partitions"),
            "{again}"
        );
    }

    // A different request changes nothing and says so; a new alert topic is
    // the only one created.
    let other = topics_create(
        &tansu.brokers,
        &[
            "--partitions",
            "5",
            "--replication",
            "1",
            "--alerts-topic",
            "cx.alerts",
        ],
    );
    assert!(
        line(&other, "feedback.reviews").ends_with("3 partitions, left unchanged"),
        "{other}"
    );
    assert!(line(&other, "cx.alerts").starts_with("created"), "{other}");
    assert_eq!(partitions(&tansu.brokers, "feedback.reviews"), Some(3));
    assert_eq!(partitions(&tansu.brokers, "cx.alerts"), Some(5));
}

#[test]
fn bad_arguments_are_refused_before_any_connection() {
    for (args, want) in [
        (vec!["--partitions", "0"], "partitions must be at least 1"),
        (
            vec!["--partitions", "3", "--retention", "7d"],
            "give a unit",
        ),
        (
            vec!["--partitions", "3", "--replication", "0"],
            "replication must be",
        ),
    ] {
        let out = tongdian()
            .args(["topics", "create", "--brokers", "127.0.0.1:1"])
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && stderr.contains(want),
            "{args:?}: {stderr}"
        );
    }
}
