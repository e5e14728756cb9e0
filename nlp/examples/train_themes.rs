//! Rebuilds the shipped theme model bit-for-bit from the customer sets of
//! `nlp/eval/` named in [`THEME_SETS`]:
//!
//! ```sh
//! cargo run --release -p tongdian-nlp --example train_themes -- nlp/model/themes.bin
//! ```
//!
//! `--cv` first leaves each customer set out of training in turn (each is
//! one writer's) and scores it with the analyser: theme micro-F1 and
//! mention-polarity accuracy with keywords alone and with the model at
//! each set of bars given by `--bars ADD:KEEP:WORD,…` (the probabilities at
//! which a theme is added and below which a keyword's is dropped, and the
//! log-odds its evidence word must add; default the shipped ones), pooled
//! and then per theme. The figures are how the model reads writers it
//! never learned from. Then `labelled.jsonl`, which the model does not
//! learn from, is scored with the model that ships.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use tongdian_nlp::eval::{evaluate, read_labelled_set, EvalReport, Prf};
use tongdian_nlp::learned_themes::{read_theme_sets, ThemeModel, THEME_SETS};
use tongdian_nlp::{Analyzer, Taxonomy};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("train_themes: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Theme counts, overall and per theme, and mention polarity pooled over
/// sets.
#[derive(Clone, Default)]
struct Pooled {
    themes: Prf,
    per_theme: BTreeMap<String, Prf>,
    matched: usize,
    right: usize,
}

fn add_prf(to: &mut Prf, from: &Prf) {
    to.true_positives += from.true_positives;
    to.false_positives += from.false_positives;
    to.false_negatives += from.false_negatives;
}

impl Pooled {
    /// Adds one set's report; returns that set's figures.
    fn add(&mut self, r: &EvalReport) -> String {
        add_prf(&mut self.themes, &r.themes);
        for (id, prf) in &r.per_theme {
            add_prf(self.per_theme.entry(id.clone()).or_default(), prf);
        }
        self.matched += r.mentions_matched;
        self.right += r.mention_polarity_correct;
        format!(
            "{:.3} / {:.3}",
            r.themes.f1(),
            r.mention_polarity_accuracy()
        )
    }

    fn all(&self) -> String {
        format!(
            "{:.3} / {:.3}",
            self.themes.f1(),
            self.right as f64 / self.matched.max(1) as f64
        )
    }
}

fn per_theme_figures(p: &Prf) -> String {
    format!("{:.3} / {:.3} / {:.3}", p.precision(), p.recall(), p.f1())
}

fn logit(p: f32) -> f32 {
    (p / (1.0 - p)).ln()
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut out = None;
    let mut cv = false;
    let mut bars = vec![(0.65f32, 0.35f32, 0.3f32)];
    while let Some(a) = args.next() {
        match a.as_str() {
            "--cv" => cv = true,
            "--bars" => {
                let list = args.next().ok_or("--bars needs ADD:KEEP:WORD,…")?;
                bars = list
                    .split(',')
                    .map(|pair| {
                        let v: Vec<f32> =
                            pair.split(':').map(str::parse).collect::<Result<_, _>>()?;
                        let [a, k, w] = v[..] else {
                            return Err("bars are ADD:KEEP:WORD".into());
                        };
                        Ok::<_, Box<dyn std::error::Error>>((a, k, w))
                    })
                    .collect::<Result<_, _>>()?;
            }
            _ if out.is_none() => out = Some(a),
            _ => return Err(format!("unexpected argument {a}").into()),
        }
    }
    let Some(out) = out else {
        return Err("usage: train_themes OUT [--cv] [--bars ADD:KEEP:WORD,…]".into());
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("eval");
    let taxonomy = Taxonomy::default_v1();
    let ids: Vec<String> = taxonomy.themes().iter().map(|t| t.id.clone()).collect();
    let examples = read_theme_sets(&dir, THEME_SETS)?;
    eprintln!(
        "{} messages with theme labels from {} sets",
        examples.len(),
        THEME_SETS.len()
    );
    if cv {
        let mut keywords = Pooled::default();
        let mut learned = vec![Pooled::default(); bars.len()];
        println!(
            "theme micro-F1 / mention polarity\nleft out        keywords       {}",
            bars.iter()
                .map(|(a, k, w)| format!("{:<13}", format!("{a}:{k}:{w}")))
                .collect::<Vec<_>>()
                .join("  ")
        );
        for (set, name) in THEME_SETS.iter().enumerate() {
            let rest: Vec<_> = examples.iter().filter(|e| e.set != set).cloned().collect();
            let model = ThemeModel::train(&ids, &rest)?;
            let labelled = read_labelled_set(&dir.join(name))?;
            let plain = Analyzer::with_theme_model(taxonomy.clone(), None)?;
            let base = keywords.add(&evaluate(&plain, &labelled));
            let mut analyzer = Analyzer::with_theme_model(taxonomy.clone(), Some(model))?;
            let mut row = format!("{name:<15} {base}");
            for (i, &(a, k, w)) in bars.iter().enumerate() {
                analyzer.set_learned_bars(logit(a), logit(k), w);
                let got = learned[i].add(&evaluate(&analyzer, &labelled));
                row.push_str(&format!("  {got}"));
            }
            println!("{row}");
        }
        println!(
            "all (micro)     {}{}",
            keywords.all(),
            learned
                .iter()
                .map(|p| format!("  {}", p.all()))
                .collect::<String>()
        );
        // Where the errors are: per theme, pooled over the left-out sets.
        println!("per theme: P / R / F1, keywords alone, then with the model at each bar");
        for (id, prf) in &keywords.per_theme {
            let mut row = format!("{id:<20} {}", per_theme_figures(prf));
            for p in &learned {
                let prf = p.per_theme.get(id).copied().unwrap_or_default();
                row.push_str(&format!("  {}", per_theme_figures(&prf)));
            }
            println!("{row}");
        }
    }
    let model = ThemeModel::train(&ids, &examples)?;
    if cv {
        // A set the model never learns from, checked with the model that
        // ships.
        let name = "labelled.jsonl";
        let labelled = read_labelled_set(&dir.join(name))?;
        let plain = Analyzer::with_theme_model(taxonomy.clone(), None)?;
        let mut row = format!(
            "{name:<15} {}",
            Pooled::default().add(&evaluate(&plain, &labelled))
        );
        let mut analyzer = Analyzer::with_theme_model(taxonomy.clone(), Some(model.clone()))?;
        for &(a, k, w) in &bars {
            analyzer.set_learned_bars(logit(a), logit(k), w);
            let got = Pooled::default().add(&evaluate(&analyzer, &labelled));
            row.push_str(&format!("  {got}"));
        }
        println!("{row}");
    }
    std::fs::write(&out, model.to_bytes()).map_err(|e| format!("{out}: {e}"))?;
    eprintln!("wrote {out}");
    Ok(())
}
