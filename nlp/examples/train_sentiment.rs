//! Rebuilds the shipped sentiment model bit-for-bit from the training file
//! and the written sets of `nlp/eval/` ([`WRITTEN_SETS`], each example
//! [`WRITTEN_COPIES`](tongdian_nlp::model::WRITTEN_COPIES) times):
//!
//! ```sh
//! cargo run --release -p tongdian-nlp --example train_sentiment -- \
//!     ../shared/data/online_shopping_7_cats.csv nlp/model/sentiment.bin
//! ```
//!
//! `--cv` also prints 5-fold cross-validated accuracy on the training file
//! alone; `--check FILE.jsonl` prints the model's own accuracy (no lexicon,
//! no clause rules) on the positive and negative messages of a labelled set.

use std::process::ExitCode;

use std::path::Path;

use tongdian_nlp::model::{
    cross_validate, read_training_csv, read_written_jsonl, read_written_sets, training_set,
    SentimentModel, TrainingExample,
};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("train_sentiment: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut positional = Vec::new();
    let mut cv = false;
    let mut check = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--cv" => cv = true,
            "--check" => check = Some(args.next().ok_or("--check needs a file")?),
            _ => positional.push(a),
        }
    }
    let [csv, out] = positional.as_slice() else {
        return Err("usage: train_sentiment CSV OUT [--cv] [--check LABELLED.jsonl]".into());
    };
    let src = std::fs::read_to_string(csv).map_err(|e| format!("{csv}: {e}"))?;
    let examples = read_training_csv(&src, csv)?;
    let positive = examples.iter().filter(|e| e.positive).count();
    eprintln!(
        "{} examples ({positive} positive, {} negative)",
        examples.len(),
        examples.len() - positive
    );
    if cv {
        let folds = cross_validate(&examples, 5);
        let mean = folds.iter().sum::<f64>() / folds.len() as f64;
        let shown: Vec<String> = folds.iter().map(|a| format!("{a:.4}")).collect();
        println!(
            "5-fold cross-validated accuracy: {mean:.4} ({})",
            shown.join(", ")
        );
    }
    let sets = Path::new(env!("CARGO_MANIFEST_DIR")).join("eval");
    let written = read_written_sets(&sets)?;
    eprintln!("{} written examples from {}", written.len(), sets.display());
    let model = SentimentModel::train(&training_set(examples, &written));
    std::fs::write(out, model.to_bytes()).map_err(|e| format!("{out}: {e}"))?;
    eprintln!("wrote {out}");
    if let Some(path) = check {
        let labelled = read_labelled(&path)?;
        println!(
            "model-only accuracy on {} polar messages of {path}: {:.4}",
            labelled.len(),
            model.accuracy(&labelled)
        );
    }
    Ok(())
}

/// Positive and negative messages of a labelled JSONL set.
fn read_labelled(path: &str) -> Result<Vec<TrainingExample>, Box<dyn std::error::Error>> {
    let src = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    Ok(read_written_jsonl(&src, path)?)
}
