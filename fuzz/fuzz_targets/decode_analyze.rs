//! Any bytes through the decoder and, when accepted, the analyzer: neither
//! may panic, an accepted message must round-trip through its own JSON, and
//! a refusal must carry a detail.
#![no_main]

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use tongdian_nlp::{Analyzer, Taxonomy};
use tongdian_schemas::{decode, DecodeLimits};

fn analyzer() -> &'static Analyzer {
    static ANALYZER: OnceLock<Analyzer> = OnceLock::new();
    ANALYZER.get_or_init(|| Analyzer::new(Taxonomy::default_v1()).expect("built-in taxonomy"))
}

fuzz_target!(|data: &[u8]| {
    // A fixed clock: the same input must behave the same on every run.
    let now: DateTime<Utc> = "2026-11-20T00:00:00Z".parse().unwrap();
    let limits = DecodeLimits::default();
    match decode(data, &limits, now) {
        Ok(feedback) => {
            let again = serde_json::to_vec(&feedback).unwrap();
            assert_eq!(decode(&again, &limits, now).ok().as_ref(), Some(&feedback));
            if let Some(text) = &feedback.text {
                let analysis = analyzer().analyze(text);
                for theme in &analysis.themes {
                    for e in &theme.evidence {
                        assert!(e.start <= e.end, "evidence span {}..{}", e.start, e.end);
                    }
                }
            }
        }
        Err(rejection) => assert!(!rejection.detail.is_empty()),
    }
});
