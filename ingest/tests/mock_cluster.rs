//! The worker against librdkafka's in-process mock cluster: fast checks of
//! the delivery rules. The same rules are checked against a real broker
//! (tansu) by the end-to-end tests of the `tongdian` binary.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use deltalake::arrow::array::{Array, AsArray, RecordBatch};
use deltalake::arrow::datatypes::Int64Type;
use deltalake::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use tongdian_ingest::{
    run, Enricher, IngestConfig, NoObserver, RunOptions, RunStats, TableLocation, TopicPartition,
};
use tongdian_schemas::{Analysis, Feedback};

/// Marks every message with its text length, so tests can see that the
/// enricher ran without depending on the nlp crate.
struct LengthEnricher;

impl Enricher for LengthEnricher {
    fn enrich(&self, f: &Feedback) -> Option<Analysis> {
        f.text.as_ref().map(|t| Analysis {
            script: "hans".into(),
            sentiment_label: "neutral".into(),
            sentiment_score: t.chars().count() as f64,
            themes: vec![],
            flags: vec![],
            emotions: vec![],
        })
    }
}

const TOPIC: &str = "feedback.reviews";

fn valid(i: usize) -> String {
    format!(
        r#"{{"id":"v{i}","kind":"review","created_at":"2026-11-0{}T10:00:00+08:00","source":"jd","text":"第{i}条：物流很快"}}"#,
        1 + i % 9
    )
}

fn invalid(i: usize) -> Vec<u8> {
    match i % 5 {
        0 => b"{not json".to_vec(),
        1 => vec![0xff, 0xfe, b'{'],
        2 => format!(r#"{{"id":"bad{i}","kind":"review","created_at":"2026-11-01T10:00:00Z","source":"jd","text":"x","rating":9}}"#).into_bytes(),
        3 => b"[1,2]".to_vec(),
        _ => format!(r#"{{"id":"bad{i}","kind":"review","source":"jd","text":"x"}}"#).into_bytes(),
    }
}

async fn produce(brokers: &str, messages: &[Vec<u8>]) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    for (i, m) in messages.iter().enumerate() {
        let key = format!("k{i}");
        producer
            .send(
                FutureRecord::to(TOPIC).key(&key).payload(m),
                Duration::from_secs(10),
            )
            .await
            .unwrap();
    }
}

/// Messages `from..to`, every tenth one invalid.
fn batch(from: usize, to: usize) -> (Vec<Vec<u8>>, usize) {
    let mut invalid_count = 0;
    let messages = (from..to)
        .map(|i| {
            if i % 10 == 7 {
                invalid_count += 1;
                invalid(i)
            } else {
                valid(i).into_bytes()
            }
        })
        .collect();
    (messages, invalid_count)
}

fn config(brokers: &str, output: &Path, group: &str) -> IngestConfig {
    let mut c = IngestConfig::default();
    c.kafka.brokers = brokers.into();
    c.kafka.topics = vec![TOPIC.into()];
    c.kafka.group = group.into();
    c.kafka.dlq_topic = "feedback.dlq".into();
    c.sink.output = output.to_str().unwrap().into();
    c.sink.flush_max_messages = 97;
    c
}

/// Every row of a table, read from the Parquet files its latest version lists.
async fn read_table(root: &Path, table: &str) -> Vec<RecordBatch> {
    let url = deltalake::ensure_table_uri(root.join(table).to_str().unwrap()).unwrap();
    let t = deltalake::open_table(url).await.unwrap();
    let mut batches = Vec::new();
    for uri in t.get_file_uris().unwrap() {
        // Local tables list plain paths; be lenient about `file://` URLs too.
        let path = match url::Url::parse(&uri) {
            Ok(u) if u.scheme() == "file" => u.to_file_path().unwrap(),
            _ => std::path::PathBuf::from(&uri),
        };
        let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(path).unwrap())
            .unwrap()
            .build()
            .unwrap();
        batches.extend(reader.map(Result::unwrap));
    }
    batches
}

/// id → how many rows carry it.
async fn feedback_ids(root: &Path) -> BTreeMap<String, usize> {
    let mut ids = BTreeMap::new();
    for b in read_table(root, "feedback").await {
        let col = b.column_by_name("id").unwrap().as_string::<i32>();
        for i in 0..col.len() {
            *ids.entry(col.value(i).to_owned()).or_default() += 1;
        }
    }
    ids
}

async fn dead_letter_offsets(root: &Path) -> Vec<i64> {
    let mut offsets = Vec::new();
    for b in read_table(root, "dead_letters").await {
        let col = b
            .column_by_name("offset")
            .unwrap()
            .as_primitive::<Int64Type>();
        offsets.extend(col.values().iter().copied());
    }
    offsets.sort();
    offsets
}

/// Runs a worker until it has committed the backlog it saw at start.
async fn drain(cfg: &IngestConfig) -> RunStats {
    let options = RunOptions {
        exit_at_end: true,
        ..RunOptions::default()
    };
    run(
        cfg,
        &LengthEnricher,
        &mut NoObserver,
        options,
        std::future::pending(),
    )
    .await
    .unwrap()
}

fn cluster() -> MockCluster<'static, rdkafka::producer::DefaultProducerContext> {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic(TOPIC, 3, 1).unwrap();
    cluster.create_topic("feedback.dlq", 1, 1).unwrap();
    cluster
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_lands_exactly_once_and_restarts_resume_from_the_tables() {
    let cluster = cluster();
    let brokers = cluster.bootstrap_servers();
    let dir = tempfile::tempdir().unwrap();
    let (first, first_invalid) = batch(0, 600);
    produce(&brokers, &first).await;

    let cfg = config(&brokers, dir.path(), "g1");
    let stats = drain(&cfg).await;
    assert_eq!(stats.consumed, 600);
    assert_eq!(stats.dead_letters as usize, first_invalid);
    assert_eq!(stats.feedback_rows as usize, 600 - first_invalid);
    assert!(stats.commits >= 2, "flushes every 97 messages: {stats:?}");

    let ids = feedback_ids(dir.path()).await;
    assert_eq!(ids.len(), 600 - first_invalid);
    assert!(ids.values().all(|&n| n == 1), "no id twice");
    assert_eq!(dead_letter_offsets(dir.path()).await.len(), first_invalid);

    // The tables carry the offsets: each partition's last offset, per table.
    let location = TableLocation::new(dir.path().to_str().unwrap(), Default::default());
    let partitions: Vec<_> = (0..3).map(|p| TopicPartition::new(TOPIC, p)).collect();
    let offsets = location.read_offsets(&partitions).await.unwrap();
    let resume_total: i64 = offsets.values().map(|o| o.resume_from().unwrap()).sum();
    assert_eq!(
        resume_total, 600,
        "next offsets of the three partitions add up to the backlog"
    );

    // More data, same group: the worker picks up exactly where the tables end.
    let (second, second_invalid) = batch(600, 900);
    produce(&brokers, &second).await;
    let stats = drain(&cfg).await;
    assert_eq!(stats.consumed, 300, "{stats:?}");
    let ids = feedback_ids(dir.path()).await;
    assert_eq!(ids.len(), 900 - first_invalid - second_invalid);
    assert!(
        ids.values().all(|&n| n == 1),
        "no id twice after the restart"
    );

    // A new consumer group has no Kafka offsets, but the tables do: nothing is
    // written twice.
    let cfg2 = config(&brokers, dir.path(), "another-group");
    let stats = drain(&cfg2).await;
    assert_eq!(stats.feedback_rows + stats.dead_letters, 0, "{stats:?}");
    assert_eq!(
        feedback_ids(dir.path()).await.len(),
        900 - first_invalid - second_invalid
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_tables_replay_the_topic_even_when_the_group_has_committed() {
    let cluster = cluster();
    let brokers = cluster.bootstrap_servers();
    let (messages, invalid_count) = batch(0, 200);
    produce(&brokers, &messages).await;
    let first = tempfile::tempdir().unwrap();
    drain(&config(&brokers, first.path(), "g")).await;

    let fresh = tempfile::tempdir().unwrap();
    let stats = drain(&config(&brokers, fresh.path(), "g")).await;
    assert_eq!(stats.consumed, 200);
    assert_eq!(feedback_ids(fresh.path()).await.len(), 200 - invalid_count);
    assert_eq!(dead_letter_offsets(fresh.path()).await.len(), invalid_count);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_carry_analysis_and_provenance() {
    let cluster = cluster();
    let brokers = cluster.bootstrap_servers();
    produce(&brokers, &[valid(1).into_bytes(), invalid(0)]).await;
    let dir = tempfile::tempdir().unwrap();
    drain(&config(&brokers, dir.path(), "g")).await;
    let batches = read_table(dir.path(), "feedback").await;
    let b = batches.iter().find(|b| b.num_rows() > 0).unwrap();
    let score = b
        .column_by_name("sentiment_score")
        .unwrap()
        .as_primitive::<deltalake::arrow::datatypes::Float64Type>();
    assert_eq!(score.value(0), "第1条：物流很快".chars().count() as f64);
    assert_eq!(
        b.column_by_name("topic")
            .unwrap()
            .as_string::<i32>()
            .value(0),
        TOPIC
    );

    let dead = read_table(dir.path(), "dead_letters").await;
    let d = dead.iter().find(|b| b.num_rows() > 0).unwrap();
    assert_eq!(
        d.column_by_name("reason")
            .unwrap()
            .as_string::<i32>()
            .value(0),
        "invalid_json"
    );
    assert_eq!(
        d.column_by_name("payload")
            .unwrap()
            .as_binary::<i32>()
            .value(0),
        b"{not json"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resent_ids_within_the_window_are_counted_and_kept_out_of_feedback() {
    let cluster = cluster();
    let brokers = cluster.bootstrap_servers();
    // 60 messages, then producers resend the first 20 of them.
    let mut messages: Vec<Vec<u8>> = (0..60).map(|i| valid(i).into_bytes()).collect();
    messages.extend((0..20).map(|i| valid(i).into_bytes()));
    produce(&brokers, &messages).await;

    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&brokers, dir.path(), "dedup");
    let stats = drain(&cfg).await;
    assert_eq!(stats.consumed, 80);
    assert_eq!(stats.duplicates, 20);
    assert_eq!(stats.feedback_rows, 60);
    let ids = feedback_ids(dir.path()).await;
    assert_eq!(ids.len(), 60);
    assert!(ids.values().all(|n| *n == 1), "{ids:?}");

    // With the window off, a resend is just another message.
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&brokers, dir.path(), "no-dedup");
    cfg.sink.duplicate_window = 0;
    let stats = drain(&cfg).await;
    assert_eq!((stats.duplicates, stats.feedback_rows), (0, 80));
}
