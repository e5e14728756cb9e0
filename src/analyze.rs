//! `tongdian analyze`: envelopes in (JSONL), one analysis per line out, in
//! order, no Kafka. A line that breaks the contract yields an error object
//! naming the line and the run goes on (unless `--strict`).

use std::io::{BufRead, Write};

use anyhow::{bail, Result};
use chrono::Utc;
use serde_json::{json, Value};
use tongdian_schemas::{decode, DecodeLimits};

use crate::enrich::NlpEnricher;

pub struct Outcome {
    pub analysed: u64,
    pub errors: u64,
}

pub fn run(
    input: impl BufRead,
    mut output: impl Write,
    enricher: &NlpEnricher,
    limits: &DecodeLimits,
    strict: bool,
) -> Result<Outcome> {
    let mut outcome = Outcome {
        analysed: 0,
        errors: 0,
    };
    for (n, line) in input.split(b'\n').enumerate() {
        let mut line = line?;
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        // Blank lines carry no message; JSONL files often end with one.
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let out = match decode(&line, limits, Utc::now()) {
            Ok(feedback) => {
                outcome.analysed += 1;
                let analysis = feedback
                    .text
                    .as_deref()
                    .map(|t| enricher.analyze_text(t, feedback.kind));
                line_result(&feedback.id, analysis)
            }
            Err(rejection) => {
                outcome.errors += 1;
                let err = json!({
                    "line": n + 1,
                    "error": {"code": rejection.reason.as_str(), "field": rejection.field, "message": rejection.detail},
                });
                if strict {
                    writeln!(output, "{err}")?;
                    output.flush()?;
                    bail!("line {}: {}", n + 1, rejection);
                }
                err
            }
        };
        writeln!(output, "{out}")?;
    }
    output.flush()?;
    Ok(outcome)
}

fn line_result(id: &str, analysis: Option<tongdian_schemas::Analysis>) -> Value {
    match analysis {
        Some(a) => json!({
            "id": id,
            "script": a.script,
            "sentiment": {"label": a.sentiment_label, "score": a.sentiment_score},
            "themes": a.themes,
            "flags": a.flags,
            "emotions": a.emotions,
        }),
        // A survey with scores and no words: nothing to analyse.
        None => json!({
            "id": id,
            "script": null,
            "sentiment": null,
            "themes": [],
            "flags": [],
            "emotions": [],
        }),
    }
}
