//! Prints the evaluation report of the default analyzer on a labelled JSONL
//! file (what `tongdian eval --labels FILE` prints), optionally only for
//! messages whose id starts with a prefix:
//!
//! ```sh
//! cargo run --release -p tongdian-nlp --example eval_labels -- nlp/eval/labelled.jsonl [PREFIX]
//! ```

use std::process::ExitCode;

use tongdian_nlp::eval::{evaluate, parse_jsonl};
use tongdian_nlp::Analyzer;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: eval_labels FILE [ID_PREFIX]");
        return ExitCode::FAILURE;
    };
    let run = || -> Result<(), Box<dyn std::error::Error>> {
        let src = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        let mut examples = parse_jsonl(&src, path)?;
        if let Some(prefix) = args.get(1) {
            examples.retain(|e| e.id.starts_with(prefix.as_str()));
        }
        let analyzer = Analyzer::with_default_taxonomy()?;
        print!("{}", evaluate(&analyzer, &examples));
        Ok(())
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("eval_labels: {e}");
            ExitCode::FAILURE
        }
    }
}
