//! How the whole analyser reads real reviews from a domain its model never
//! learned from: for each category of the training file, a model is
//! trained as the shipped one is but without that category, and an
//! analyser with that model labels the category's reviews.
//!
//! ```sh
//! cargo run --release -p tongdian-nlp --example unseen_category -- \
//!     ../shared/data/online_shopping_7_cats.csv
//! ```
//!
//! The written sets are the project's own, so this is the one figure made
//! only of reviews nobody wrote for it. Categories whose labels are not
//! reviews' verdicts (蒙牛 is mostly posts that mention the brand) are
//! printed like the rest; read them with that in mind.

use std::path::Path;
use std::process::ExitCode;

use tongdian_nlp::eval::unseen_category;
use tongdian_nlp::model::{read_training_csv_by_category, read_written_sets};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("unseen_category: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let csv = std::env::args()
        .nth(1)
        .ok_or("usage: unseen_category TRAINING.csv")?;
    let src = std::fs::read_to_string(&csv).map_err(|e| format!("{csv}: {e}"))?;
    let reviews = read_training_csv_by_category(&src, &csv)?;
    let written = read_written_sets(&Path::new(env!("CARGO_MANIFEST_DIR")).join("eval"))?;
    let mut categories: Vec<&str> = Vec::new();
    for (c, _) in &reviews {
        if !categories.contains(&c.as_str()) {
            categories.push(c);
        }
    }
    println!("category  reviews  analyser  model alone  mixed  neutral");
    for category in categories {
        let r = unseen_category(&reviews, &written, category)?;
        println!(
            "{:<8}  {:>7}  {:>8.3}  {:>11.3}  {:>5}  {:>7}",
            r.category, r.reviews, r.accuracy, r.model_accuracy, r.mixed, r.neutral
        );
    }
    Ok(())
}
