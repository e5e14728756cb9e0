//! The hostile-message corpus end to end: every kind of bad input the
//! contract names, produced to a real broker between valid messages, ends as
//! one `dead_letters` row (reason, field, detail, original bytes, provenance)
//! and one `feedback.dlq` message, and the worker goes on.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;

use crate::support::{app_ids, read_tables_with, review, wait_tables_cover, Tansu, Worker};

const TOPIC: &str = "feedback.reviews";
const TS: &str = "2026-11-03T10:00:00Z";

struct Case {
    name: &'static str,
    payload: Vec<u8>,
    reason: &'static str,
    field: Option<&'static str>,
}

fn case(name: &'static str, payload: impl Into<Vec<u8>>, reason: &'static str) -> Case {
    Case {
        name,
        payload: payload.into(),
        reason,
        field: None,
    }
}

fn at(name: &'static str, payload: String, reason: &'static str, field: &'static str) -> Case {
    Case {
        name,
        payload: payload.into_bytes(),
        reason,
        field: Some(field),
    }
}

/// An envelope with `extra` fields spliced in after the required ones.
fn env(id: &str, fields: &str) -> String {
    format!(r#"{{"id":"{id}","kind":"review","source":"jd",{fields}}}"#)
}

fn corpus() -> Vec<Case> {
    let big_text = "很".repeat(70 * 1024 / 3 + 1);
    // Over the 1 MiB message limit. 10 MB is what the issue names, but
    // tansu 0.6.0 stores a 10 MB message and then never serves it to a
    // consumer (it stays at that offset even with a 16 MiB fetch size), so
    // end to end the message is 2 MiB; the decoder's unit tests cover 10 MB.
    let over_limit = "差".repeat(2 * 1024 * 1024 / 3 + 1);
    vec![
        case("invalid JSON", r#"{"id":"h1","kind":"rev"#, "invalid_json"),
        case(
            "trailing garbage",
            format!(
                "{} x",
                env("h2", &format!(r#""created_at":"{TS}","text":"ok""#))
            ),
            "invalid_json",
        ),
        case(
            "invalid UTF-8",
            b"{\"id\":\"h3\xff\xfe\",\"kind\":\"review\"}".to_vec(),
            "invalid_utf8",
        ),
        case(
            "Latin-1 text",
            b"{\"id\":\"h4\",\"text\":\"caf\xe9\"}".to_vec(),
            "invalid_utf8",
        ),
        case("a JSON array", r#"[{"id":"h5"}]"#, "not_an_object"),
        case("a number", "42", "not_an_object"),
        case("a string", r#""just a string""#, "not_an_object"),
        case("null", "null", "not_an_object"),
        case("empty payload", "", "empty_message"),
        at(
            "missing created_at",
            env("h6", r#""text":"ok""#),
            "missing_field",
            "created_at",
        ),
        at(
            "missing id",
            format!(r#"{{"kind":"review","created_at":"{TS}","source":"jd","text":"ok"}}"#),
            "missing_field",
            "id",
        ),
        at(
            "missing source",
            format!(r#"{{"id":"h7","kind":"review","created_at":"{TS}","text":"ok"}}"#),
            "missing_field",
            "source",
        ),
        at(
            "kind is a number",
            format!(r#"{{"id":"h8","kind":3,"created_at":"{TS}","source":"jd","text":"ok"}}"#),
            "bad_type",
            "kind",
        ),
        at(
            "rating is a string",
            env(
                "h9",
                &format!(r#""created_at":"{TS}","text":"ok","rating":"five""#),
            ),
            "bad_type",
            "rating",
        ),
        at(
            "rating is a float",
            env(
                "h10",
                &format!(r#""created_at":"{TS}","text":"ok","rating":4.5"#),
            ),
            "bad_type",
            "rating",
        ),
        at(
            "created_at is a number",
            env("h11", r#""created_at":1762164000,"text":"ok""#),
            "bad_type",
            "created_at",
        ),
        at(
            "survey is a string",
            env(
                "h12",
                &format!(r#""created_at":"{TS}","text":"ok","survey":"nps=9""#),
            ),
            "bad_type",
            "survey",
        ),
        at(
            "text is an object",
            env(
                "h13",
                &format!(r#""created_at":"{TS}","text":{{"zh":"好"}}"#),
            ),
            "bad_type",
            "text",
        ),
        at(
            "rating 6",
            env(
                "h14",
                &format!(r#""created_at":"{TS}","text":"ok","rating":6"#),
            ),
            "bad_value",
            "rating",
        ),
        at(
            "rating 0",
            env(
                "h15",
                &format!(r#""created_at":"{TS}","text":"ok","rating":0"#),
            ),
            "bad_value",
            "rating",
        ),
        at(
            "nps 11",
            format!(
                r#"{{"id":"h16","kind":"survey","created_at":"{TS}","source":"s","survey":{{"nps":11}}}}"#
            ),
            "bad_value",
            "survey.nps",
        ),
        at(
            "nps -1",
            format!(
                r#"{{"id":"h17","kind":"survey","created_at":"{TS}","source":"s","survey":{{"nps":-1}}}}"#
            ),
            "bad_value",
            "survey.nps",
        ),
        at(
            "ces 8",
            format!(
                r#"{{"id":"h18","kind":"survey","created_at":"{TS}","source":"s","survey":{{"ces":8}}}}"#
            ),
            "bad_value",
            "survey.ces",
        ),
        at(
            "timestamp in words",
            env("h19", r#""created_at":"yesterday","text":"ok""#),
            "bad_value",
            "created_at",
        ),
        at(
            "timestamp without offset",
            env("h20", r#""created_at":"2026-11-03 10:00:00","text":"ok""#),
            "bad_value",
            "created_at",
        ),
        at(
            "month 13",
            env("h21", r#""created_at":"2026-13-03T10:00:00Z","text":"ok""#),
            "bad_value",
            "created_at",
        ),
        at(
            "year 9999",
            env("h22", r#""created_at":"9999-12-31T23:59:59Z","text":"ok""#),
            "bad_value",
            "created_at",
        ),
        at(
            "next year",
            env(
                "h23",
                r#""created_at":"2099-01-01T00:00:00+08:00","text":"ok""#,
            ),
            "bad_value",
            "created_at",
        ),
        at(
            "text over 64 KiB",
            env(
                "h24",
                &format!(r#""created_at":"{TS}","text":"{big_text}""#),
            ),
            "too_large",
            "text",
        ),
        case(
            "a 2 MiB message",
            env(
                "h25",
                &format!(r#""created_at":"{TS}","text":"{over_limit}""#),
            ),
            "too_large",
        ),
        case(
            "100,000 nested arrays",
            format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
            "too_deep",
        ),
        case(
            "deep nesting in a field",
            env(
                "h26",
                &format!(
                    r#""created_at":"{TS}","text":"ok","attributes":{}{}"#,
                    "{\"a\":".repeat(500),
                    "}".repeat(500)
                ),
            ),
            "too_deep",
        ),
        at(
            "escaped NUL in text",
            env("h27", &format!(r#""created_at":"{TS}","text":"a\u0000b""#)),
            "bad_value",
            "text",
        ),
        case(
            "raw NUL byte in text",
            env("h28", &format!("\"created_at\":\"{TS}\",\"text\":\"a\0b\"")),
            "invalid_json",
        ),
        at(
            "bell in source",
            format!(
                r#"{{"id":"h29","kind":"review","created_at":"{TS}","source":"j\u0007d","text":"ok"}}"#
            ),
            "bad_value",
            "source",
        ),
        at(
            "escape sequence in an attribute",
            env(
                "h30",
                &format!(
                    r#""created_at":"{TS}","text":"ok","attributes":{{"city":"\u001b[31mred"}}"#
                ),
            ),
            "bad_value",
            "attributes.city",
        ),
        at(
            "empty text on a review",
            env("h31", &format!(r#""created_at":"{TS}","text":"""#)),
            "missing_field",
            "text",
        ),
        at(
            "blank text on a review",
            env("h32", &format!(r#""created_at":"{TS}","text":" \n\t ""#)),
            "missing_field",
            "text",
        ),
        at(
            "unknown field",
            env(
                "h33",
                &format!(r#""created_at":"{TS}","text":"ok","userName":"u""#),
            ),
            "unknown_field",
            "userName",
        ),
    ]
}

fn sha256(bytes: &[u8]) -> String {
    let out = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(bytes)?;
            child.wait_with_output()
        })
        .expect("sha256sum");
    String::from_utf8(out.stdout).unwrap()[..64].to_owned()
}

/// One dead-letter topic message: headers by name, key and payload.
struct Letter {
    key: String,
    headers: BTreeMap<String, Vec<u8>>,
    payload: Vec<u8>,
}

fn read_dead_letter_topic(brokers: &str, expected: usize) -> Vec<Letter> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "hostile-dlq-reader")
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    consumer.subscribe(&["feedback.dlq"]).unwrap();
    let mut letters = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while letters.len() < expected && std::time::Instant::now() < deadline {
        let Some(m) = consumer.poll(Duration::from_millis(500)) else {
            continue;
        };
        let m = m.unwrap();
        let headers = m
            .headers()
            .map(|hs| {
                hs.iter()
                    .map(|h| (h.key.to_owned(), h.value.unwrap_or_default().to_vec()))
                    .collect()
            })
            .unwrap_or_default();
        letters.push(Letter {
            key: String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned(),
            headers,
            payload: m.payload().unwrap_or_default().to_vec(),
        });
    }
    // Nothing more than expected arrives either.
    if let Some(Ok(extra)) = consumer.poll(Duration::from_secs(2)) {
        panic!("an unexpected dead letter at offset {}", extra.offset());
    }
    letters
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs tansu and the Python readers; run through scripts/test.sh"]
async fn every_hostile_message_becomes_a_dead_letter_and_the_worker_goes_on() {
    let broker_dir = tempfile::tempdir().unwrap();
    let tansu = Tansu::with_input(broker_dir.path(), TOPIC, 1).await;

    // One at a time, so each message's offset is known from its delivery.
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &tansu.brokers)
        // The oversized message must reach the broker to be refused by tongdian.
        .set("message.max.bytes", "16000000")
        .create()
        .unwrap();
    let cases = corpus();
    let mut hostile: BTreeMap<i64, &Case> = BTreeMap::new();
    let mut valid_ids = BTreeSet::new();
    for (i, c) in cases.iter().enumerate() {
        let (_, _, good) = review(TOPIC, "ok-", i);
        valid_ids.insert(format!("ok-{i}"));
        for (payload, key) in [(&good, format!("ok-{i}")), (&c.payload, format!("bad-{i}"))] {
            let offset = producer
                .send(
                    FutureRecord::to(TOPIC)
                        .key(&key)
                        .payload(payload.as_slice()),
                    Duration::from_secs(30),
                )
                .await
                .unwrap_or_else(|(e, _)| panic!("producing {}: {e}", c.name))
                .offset;
            if key.starts_with("bad-") {
                hostile.insert(offset, c);
            }
        }
    }

    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("tables");
    let out = output.to_str().unwrap();
    // tansu, unlike Kafka since 0.10.1, does not hand out a message larger
    // than the consumer's per-partition fetch size (1 MiB by default), so a
    // consumer that should see oversized messages must be allowed to fetch
    // them (documented with `kafka.librdkafka`).
    let config = dir.path().join("tongdian.toml");
    std::fs::write(
        &config,
        "[kafka.librdkafka]\n\"max.partition.fetch.bytes\" = \"16777216\"\n",
    )
    .unwrap();
    let mut worker = Worker::spawn(
        &tansu.brokers,
        out,
        &["--topics", TOPIC, "--config", config.to_str().unwrap()],
        &[],
    );
    let produced = 2 * cases.len() as i64;
    wait_tables_cover(
        out,
        &app_ids(TOPIC, 1),
        &[],
        produced,
        Duration::from_secs(120),
        || worker.assert_running("while reading the corpus"),
    );
    worker.terminate(Duration::from_secs(20));

    let facts = read_tables_with(out, &[], &[("TD_VERIFY_DEAD_LETTER_ROWS", "1".into())]);
    // The valid ones in between all arrived.
    let ids: BTreeSet<String> = serde_json::from_value(facts["ids"].clone()).unwrap();
    assert_eq!(ids, valid_ids);

    // One row per hostile message, at its position, with its reason, field
    // and original bytes.
    let rows = facts["dead_letters"].as_array().unwrap();
    assert_eq!(rows.len(), hostile.len());
    for row in rows {
        let offset = row["offset"].as_i64().unwrap();
        let c = hostile.get(&offset).unwrap_or_else(|| {
            panic!("a dead letter at offset {offset}, where a valid message was: {row}")
        });
        let name = c.name;
        assert_eq!(
            (row["topic"].as_str(), row["partition"].as_i64()),
            (Some(TOPIC), Some(0)),
            "{name}"
        );
        assert_eq!(row["reason"], c.reason, "{name}: {row}");
        assert_eq!(row["field"].as_str(), c.field, "{name}: {row}");
        let detail = row["detail"].as_str().unwrap();
        assert!(!detail.is_empty(), "{name}");
        if let Some(field) = c.field {
            assert!(
                detail.contains(field),
                "{name}: the detail names {field}: {detail}"
            );
        }
        assert_eq!(row["payload_len"], c.payload.len(), "{name}");
        assert_eq!(row["payload_sha256"], sha256(&c.payload), "{name}");
        assert!(row["key"].as_str().unwrap().starts_with("bad-"), "{name}");
    }

    // And one dead-letter topic message each, with the same facts in headers.
    let letters = read_dead_letter_topic(&tansu.brokers, hostile.len());
    assert_eq!(letters.len(), hostile.len());
    let mut seen = BTreeSet::new();
    for l in &letters {
        let header = |k: &str| {
            l.headers
                .get(k)
                .map(|v| String::from_utf8_lossy(v).into_owned())
        };
        let offset: i64 = header("tongdian.source_offset").unwrap().parse().unwrap();
        let c = hostile[&offset];
        let name = c.name;
        assert!(seen.insert(offset), "{name} sent twice");
        assert_eq!(l.key, format!("{TOPIC}/0/{offset}"));
        assert_eq!(header("tongdian.source_topic").as_deref(), Some(TOPIC));
        assert_eq!(header("tongdian.source_partition").as_deref(), Some("0"));
        assert_eq!(
            header("tongdian.reason").as_deref(),
            Some(c.reason),
            "{name}"
        );
        assert_eq!(header("tongdian.field").as_deref(), c.field, "{name}");
        assert!(
            header("tongdian.detail").is_some_and(|d| !d.is_empty()),
            "{name}"
        );
        assert!(
            header("tongdian.original_key").is_some_and(|k| k.starts_with("bad-")),
            "{name}"
        );
        match header("tongdian.truncated_from") {
            // Too big for the dead-letter producer's default limit: the head
            // of it, saying how long it was (the table has all of it).
            Some(len) => {
                assert_eq!(len, c.payload.len().to_string(), "{name}");
                assert!(l.payload.len() < c.payload.len(), "{name}");
                assert_eq!(l.payload[..], c.payload[..l.payload.len()], "{name}");
            }
            None => assert!(l.payload == c.payload, "{name}: the original bytes"),
        }
    }
    let reasons: BTreeSet<&str> = cases.iter().map(|c| c.reason).collect();
    assert_eq!(
        reasons.len(),
        10,
        "every reason code is exercised: {reasons:?}"
    );
}
