//! Runs the shared contract corpus (`contract_cases.jsonl`) through the
//! decoder. The same corpus is checked against `feedback.schema.json` by an
//! independent JSON Schema validator in `scripts/test.sh`, which keeps the
//! schema and the decoder in step.

use chrono::{DateTime, Utc};
use serde_json::Value;
use tongdian_schemas::{decode, DecodeLimits};

fn now() -> DateTime<Utc> {
    "2026-11-20T00:00:00Z".parse().unwrap()
}

#[test]
fn every_corpus_case_decodes_as_expected() {
    let corpus = include_str!("contract_cases.jsonl");
    let mut checked = 0;
    for (n, line) in corpus.lines().enumerate() {
        let case: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}", n + 1));
        let name = case["name"].as_str().unwrap();
        let bytes = match case.get("raw") {
            Some(raw) => raw.as_str().unwrap().as_bytes().to_vec(),
            None => serde_json::to_vec(&case["payload"]).unwrap(),
        };
        let expect = case["expect"].as_str().unwrap();
        let got = decode(&bytes, &DecodeLimits::default(), now());
        match (expect, got) {
            ("ok", Ok(_)) => {}
            ("ok", Err(e)) => panic!("{name}: expected ok, got {e}"),
            (reason, Ok(f)) => panic!("{name}: expected {reason}, got ok: {f:?}"),
            (reason, Err(e)) => {
                assert_eq!(e.reason.as_str(), reason, "{name}: {e}");
                let field = case.get("field").and_then(Value::as_str);
                assert_eq!(e.field.as_deref(), field, "{name}: {e}");
                if let Some(field) = field {
                    assert!(
                        e.detail.contains(field),
                        "{name}: detail should name {field}: {e}"
                    );
                }
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 40);
}
