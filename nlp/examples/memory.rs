//! Peak resident memory of building an Analyzer and analysing 10,000
//! messages (target: under 200 MB), read from `/proc/self/status` (Linux).
//!
//! ```sh
//! cargo run --release -p tongdian-nlp --example memory
//! ```

use std::time::Instant;

use tongdian_nlp::Analyzer;

const TEXTS: &[&str] = &[
    "物流很快，但是客服态度很差",
    "用了两天就坏了，联系售后也没人理，差评",
    "價格合理，送貨也很準時，推薦",
    "客服態度好差，等咗成個鐘都冇人理",
    "The app keeps crashing and support never answers",
    "虽然物流慢了点，但是东西真的很好用",
];

fn status(field: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .map(|l| l[field.len()..].trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let analyzer = Analyzer::with_default_taxonomy()?;
    let built = start.elapsed();
    println!("analyzer construction: {:.3} s", built.as_secs_f64());
    println!("peak RSS after construction: {}", status("VmHWM:"));
    let start = Instant::now();
    let mut themes = 0;
    for i in 0..10_000 {
        let text = format!("{} #{i}", TEXTS[i % TEXTS.len()]);
        themes += analyzer.analyze(&text).themes.len();
    }
    println!(
        "10000 messages in {:.3} s ({themes} theme mentions)",
        start.elapsed().as_secs_f64()
    );
    println!("peak RSS after 10000 messages: {}", status("VmHWM:"));
    Ok(())
}
