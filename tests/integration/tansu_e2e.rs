//! End to end against a real Kafka-protocol broker (tansu): thousands of
//! valid and invalid messages over the four feedback topics, drained by
//! `tongdian run --exit-at-end`, then checked with an independent reader.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::ClientConfig;
use serde_json::Value;

use crate::support::{create_topics, produce, read_tables, run_to_end, tongdian, Tansu};

const TOPICS: [&str; 4] = [
    "feedback.reviews",
    "feedback.tickets",
    "feedback.surveys",
    "feedback.social",
];
const PARTITIONS: i32 = 3;

/// Valid envelopes built from the bundled sample's texts (real-looking
/// Chinese and English feedback), each in a fresh envelope that is valid by
/// construction, so the test knows exactly which ids must arrive.
fn valid_messages(n: usize) -> Vec<(String, Value)> {
    let sample = include_str!("../../data/demo/feedback.jsonl");
    let texts: Vec<String> = sample
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v.get("text").and_then(Value::as_str).map(str::to_owned))
        .filter(|t| {
            !t.trim().is_empty() && !t.chars().any(|c| c.is_control() && !"\t\n\r".contains(c))
        })
        .collect();
    let kinds = ["review", "ticket", "survey", "social"];
    (0..n)
        .map(|i| {
            let id = format!("e2e-{i:05}");
            let kind = kinds[i % 4];
            let mut v = serde_json::json!({
                "id": id,
                "kind": kind,
                "created_at": format!("2026-11-{:02}T{:02}:15:00+08:00", 1 + i % 14, i % 24),
                "source": "e2e",
                "text": texts[i % texts.len()],
            });
            if kind == "survey" {
                v["survey"] = serde_json::json!({"nps": i % 11});
            }
            (id, v)
        })
        .collect()
}

/// Hostile payloads, each distinct, each a different contract violation.
fn invalid_message(i: usize) -> (Vec<u8>, &'static str) {
    let ts = "2026-11-03T10:00:00Z";
    match i % 10 {
        0 => (format!("{{\"id\":\"bad-{i}\",\"kind\":\"rev").into_bytes(), "invalid_json"),
        1 => ([&[0xff, 0xfe][..], format!("{i}").as_bytes()].concat(), "invalid_utf8"),
        2 => (format!("[{i}]").into_bytes(), "not_an_object"),
        3 => (format!(r#"{{"id":"bad-{i}","kind":"review","source":"jd","text":"x"}}"#).into_bytes(), "missing_field"),
        4 => (format!(r#"{{"id":"bad-{i}","kind":"review","created_at":"{ts}","source":"jd","text":"x","rating":"five"}}"#).into_bytes(), "bad_type"),
        5 => (format!(r#"{{"id":"bad-{i}","kind":"survey","created_at":"{ts}","source":"s","survey":{{"nps":11}}}}"#).into_bytes(), "bad_value"),
        6 => (format!(r#"{{"id":"bad-{i}","kind":"review","created_at":"{ts}","source":"jd","text":"x","userName":"u"}}"#).into_bytes(), "unknown_field"),
        7 => (format!(r#"{{"id":"bad-{i}","kind":"review","created_at":"2099-01-01T00:00:00Z","source":"jd","text":"x"}}"#).into_bytes(), "bad_value"),
        8 => (format!(r#"{{"id":"bad-{i}","kind":"review","created_at":"{ts}","source":"jd","text":"a\u0000b"}}"#).into_bytes(), "bad_value"),
        _ => (format!(r#"{{"id":"bad-{i}","kind":"review","created_at":"{ts}","source":"jd","text":""}}"#).into_bytes(), "missing_field"),
    }
}

fn topic_of(kind: &str) -> &'static str {
    match kind {
        "ticket" => TOPICS[1],
        "survey" => TOPICS[2],
        "social" => TOPICS[3],
        _ => TOPICS[0],
    }
}

/// Reads the dead-letter topic to its end: (source topic, partition,
/// offset) → the
/// reason header, checking every message carries its provenance headers.
fn dead_letter_topic(brokers: &str) -> BTreeMap<(String, i32, i64), String> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "e2e-dlq-reader")
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    let mut expected_total = 0;
    for p in 0..PARTITIONS {
        let (low, high) = consumer
            .fetch_watermarks("feedback.dlq", p, Duration::from_secs(10))
            .unwrap();
        expected_total += (high - low) as usize;
    }
    consumer.subscribe(&["feedback.dlq"]).unwrap();
    let mut seen = BTreeMap::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut read = 0;
    while read < expected_total && std::time::Instant::now() < deadline {
        let Some(message) = consumer.poll(Duration::from_millis(500)) else {
            continue;
        };
        let message = message.unwrap();
        read += 1;
        let header = |name: &str| -> String {
            let headers = message.headers().expect("dead letters carry headers");
            let h = headers
                .iter()
                .find(|h| h.key == name)
                .unwrap_or_else(|| panic!("header {name}"));
            String::from_utf8(h.value.unwrap().to_vec()).unwrap()
        };
        let source: (String, i32, i64) = (
            header("tongdian.source_topic"),
            header("tongdian.source_partition").parse().unwrap(),
            header("tongdian.source_offset").parse().unwrap(),
        );
        let key = String::from_utf8(message.key().unwrap().to_vec()).unwrap();
        assert_eq!(key, format!("{}/{}/{}", source.0, source.1, source.2));
        assert!(!header("tongdian.detail").is_empty());
        seen.insert(source, header("tongdian.reason"));
    }
    assert_eq!(read, expected_total, "read the whole dead-letter topic");
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs tansu and the Python readers; run through scripts/test.sh"]
async fn thousands_of_messages_land_exactly_once_and_bad_ones_become_dead_letters() {
    let broker_dir = tempfile::tempdir().unwrap();
    let tansu = Tansu::start_sqlite(broker_dir.path());
    let mut topics: Vec<(&str, i32)> = TOPICS.iter().map(|t| (*t, PARTITIONS)).collect();
    topics.push(("feedback.dlq", PARTITIONS));
    create_topics(&tansu.brokers, &topics).await;

    let dir = tempfile::tempdir().unwrap();
    let valid = valid_messages(3_600);
    let mut messages = Vec::new();
    let mut expected_reasons: BTreeMap<&str, u64> = BTreeMap::new();
    let mut invalid_payloads = BTreeSet::new();
    for (i, (id, v)) in valid.iter().enumerate() {
        let topic = topic_of(v["kind"].as_str().unwrap());
        messages.push((
            topic.to_owned(),
            Some(id.clone()),
            serde_json::to_vec(v).unwrap(),
        ));
        if i % 9 == 4 {
            let n = i / 9;
            let (payload, reason) = invalid_message(n);
            *expected_reasons.entry(reason).or_default() += 1;
            invalid_payloads.insert(String::from_utf8_lossy(&payload).into_owned());
            messages.push((TOPICS[n % 4].to_owned(), None, payload));
        }
    }
    let invalid_count = invalid_payloads.len() as u64;
    assert!(invalid_count >= 400, "{invalid_count}");
    // The social topic goes through `tongdian produce`, the rest through rdkafka.
    let (social, others): (Vec<_>, Vec<_>) =
        messages.into_iter().partition(|(t, _, _)| t == TOPICS[3]);
    produce(&tansu.brokers, &others).await;
    let jsonl = dir.path().join("social.jsonl");
    let mut lines = Vec::new();
    for (_, _, payload) in &social {
        assert!(!payload.contains(&b'\n'), "one message per line");
        lines.extend_from_slice(payload);
        lines.push(b'\n');
    }
    std::fs::write(&jsonl, lines).unwrap();
    let sent = tongdian()
        .args(["produce", "--brokers", &tansu.brokers, "--topic", TOPICS[3]])
        .arg(&jsonl)
        .output()
        .unwrap();
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    assert!(
        String::from_utf8_lossy(&sent.stderr).contains(&format!("sent {} messages", social.len()))
    );

    let output = dir.path().join("tables");
    let output_str = output.to_str().unwrap();
    let limits = [("TONGDIAN_SINK_FLUSH_MAX_MESSAGES", "700".to_string())];
    let stdout = run_to_end(&tansu.brokers, output_str, &["--group", "e2e"], &limits);
    assert!(
        stdout.contains(&format!("messages     {}", valid.len())),
        "{stdout}"
    );

    let app_ids: Vec<String> = TOPICS
        .iter()
        .flat_map(|t| (0..PARTITIONS).map(move |p| format!("tongdian:{t}:{p}")))
        .collect();
    let facts = read_tables(&output, &app_ids);

    // Every valid message exactly once.
    assert_eq!(facts["feedback_rows"], valid.len());
    assert_eq!(facts["feedback_distinct_ids"], valid.len());
    assert_eq!(facts["duplicated_ids"], Value::Array(vec![]));
    let ids: BTreeSet<&str> = facts["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let expected: BTreeSet<&str> = valid.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, expected);

    // Every invalid one in dead_letters, once, with its reason and its bytes.
    assert_eq!(facts["dead_letter_rows"], invalid_count);
    assert_eq!(facts["dead_letter_positions"], invalid_count);
    let reasons: BTreeMap<String, u64> =
        serde_json::from_value(facts["dead_letters_by_reason"].clone()).unwrap();
    let expected_reasons: BTreeMap<String, u64> = expected_reasons
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    assert_eq!(reasons, expected_reasons);
    let payloads: BTreeSet<String> =
        serde_json::from_value(facts["dead_letter_payloads"].clone()).unwrap();
    assert_eq!(payloads, invalid_payloads);

    // Both tables carry the offsets of every partition: the end of each.
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &tansu.brokers)
        .create()
        .unwrap();
    for t in TOPICS {
        for p in 0..PARTITIONS {
            let (_, high) = consumer
                .fetch_watermarks(t, p, Duration::from_secs(10))
                .unwrap();
            let app = format!("tongdian:{t}:{p}");
            for table in ["feedback", "dead_letters"] {
                assert_eq!(facts["offsets"][table][&app], high - 1, "{table} {app}");
            }
        }
    }

    // And the dead-letter topic has each of them once, with its reason.
    let topic = dead_letter_topic(&tansu.brokers);
    assert_eq!(topic.len() as u64, invalid_count);
    let mut topic_reasons: BTreeMap<String, u64> = BTreeMap::new();
    for reason in topic.values() {
        *topic_reasons.entry(reason.clone()).or_default() += 1;
    }
    assert_eq!(topic_reasons, expected_reasons);

    // A second run finds nothing left to do and writes nothing.
    run_to_end(&tansu.brokers, output_str, &["--group", "e2e"], &[]);
    assert_eq!(read_tables(&output, &[])["feedback_rows"], valid.len());
}
