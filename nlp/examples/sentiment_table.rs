//! Prints one tab-separated line per sentiment-labelled message of a JSONL
//! file: id, expected label, predicted label, score and text, for scripts
//! that break a figure down by id range or list the misses.
//!
//! ```sh
//! cargo run --release -p tongdian-nlp --example sentiment_table -- nlp/eval/fresh.jsonl
//! ```

use tongdian_nlp::eval::parse_jsonl;
use tongdian_nlp::Analyzer;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let analyzer = Analyzer::with_default_taxonomy()?;
    for path in std::env::args().skip(1) {
        let src = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
        for ex in parse_jsonl(&src, &path)? {
            let Some(expected) = ex.expected.sentiment else {
                continue;
            };
            let a = analyzer.analyze_as(&ex.text, ex.purpose);
            println!(
                "{}\t{}\t{}\t{:+.2}\t{}",
                ex.id,
                expected.as_str(),
                a.sentiment.label.as_str(),
                a.sentiment.score,
                ex.text
            );
        }
    }
    Ok(())
}
