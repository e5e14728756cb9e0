//! Prints how the default analyzer reads each argument (or each line of
//! standard input): clauses, lexicon words, model share, and the analysis.
//!
//! ```sh
//! cargo run --release -p tongdian-nlp --example explain -- "物流很快，但是客服态度很差"
//! ```

use std::io::BufRead;

use tongdian_nlp::Analyzer;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let analyzer = Analyzer::with_default_taxonomy()?;
    let mut texts: Vec<String> = std::env::args().skip(1).collect();
    if texts.is_empty() {
        texts = std::io::stdin().lock().lines().collect::<Result<_, _>>()?;
    }
    for t in texts {
        let a = analyzer.analyze(&t);
        println!("{t}");
        print!("{}", analyzer.explain(&t));
        let themes: Vec<String> = a
            .themes
            .iter()
            .map(|m| format!("{}:{}", m.id, m.polarity.as_str()))
            .collect();
        println!(
            "=> {} {:+.2} themes [{}] flags {:?} emotions {:?}\n",
            a.sentiment.label.as_str(),
            a.sentiment.score,
            themes.join(", "),
            a.flags,
            a.emotions
        );
    }
    Ok(())
}
