//! Tables on an S3-compatible store (s3s-fs on loopback) instead of a local
//! directory, through delta-rs's object stores and the usual `AWS_*`
//! environment; read back through the same store by Python's deltalake.

use std::collections::BTreeSet;

use crate::support::{create_topics, produce, read_tables_with, run_to_end, S3Server, Tansu};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs tansu, s3s-fs and the Python readers; run through scripts/test.sh"]
async fn tables_can_live_on_an_s3_compatible_store() {
    let broker_dir = tempfile::tempdir().unwrap();
    let tansu = Tansu::start_sqlite(broker_dir.path());
    let store_dir = tempfile::tempdir().unwrap();
    let s3 = S3Server::start(store_dir.path(), &["lake"]);
    create_topics(
        &tansu.brokers,
        &[("feedback.reviews", 2), ("feedback.dlq", 1)],
    )
    .await;

    let mut messages = Vec::new();
    let mut ids = BTreeSet::new();
    for i in 0..300 {
        let id = format!("s3-{i}");
        let payload = if i % 10 == 3 {
            format!(
                r#"{{"id":"{id}","kind":"review","created_at":"2026-11-03T10:00:00Z","source":"jd","text":"x","rating":0}}"#
            )
        } else {
            ids.insert(id.clone());
            format!(
                r#"{{"id":"{id}","kind":"review","created_at":"2026-11-0{}T10:00:00+08:00","source":"jd","text":"发货太慢了，第{i}天才到"}}"#,
                1 + i % 7
            )
        };
        messages.push((
            "feedback.reviews".to_owned(),
            Some(id),
            payload.into_bytes(),
        ));
    }
    produce(&tansu.brokers, &messages).await;

    let root = "s3://lake/tongdian";
    let mut env = s3.env();
    env.push(("TONGDIAN_SINK_FLUSH_MAX_MESSAGES", "100".into()));
    run_to_end(
        &tansu.brokers,
        root,
        &["--topics", "feedback.reviews"],
        &env,
    );

    let app_ids: Vec<String> = (0..2)
        .map(|p| format!("tongdian:feedback.reviews:{p}"))
        .collect();
    let facts = read_tables_with(root, &app_ids, &s3.env());
    assert_eq!(facts["feedback_rows"], ids.len());
    assert_eq!(facts["feedback_distinct_ids"], ids.len());
    let got: BTreeSet<String> = serde_json::from_value(facts["ids"].clone()).unwrap();
    assert_eq!(got, ids);
    assert_eq!(facts["dead_letter_rows"], 30);
    assert_eq!(facts["dead_letters_by_reason"]["bad_value"], 30);
    let committed: i64 = app_ids
        .iter()
        .map(|a| facts["offsets"]["feedback"][a].as_i64().unwrap() + 1)
        .sum();
    assert_eq!(
        committed, 300,
        "the table's offsets account for every message"
    );

    // The objects really are in the store: a Delta log under the bucket.
    assert!(store_dir
        .path()
        .join("lake/tongdian/feedback/_delta_log")
        .is_dir());
}
