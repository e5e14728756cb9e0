//! Evaluation against labelled messages: how well an [`Analyzer`] (with
//! its taxonomy) agrees with what people said a message is about.
//!
//! The input is JSON Lines, one feedback envelope per line (as in
//! `schemas/feedback.schema.json`) plus an `expected` object:
//!
//! ```json
//! {"id": "1", "kind": "review", "created_at": "2025-01-01T00:00:00Z",
//!  "source": "jd", "text": "物流很快，但是客服态度很差",
//!  "expected": {"sentiment": "mixed",
//!               "themes": [{"id": "delivery", "polarity": "positive"},
//!                          {"id": "staff_attitude", "polarity": "negative"}],
//!               "flags": [], "emotions": []}}
//! ```
//!
//! Only `id`, `kind`, `text` and `expected` are read. A `ticket` is
//! analysed as a [`Purpose::Request`], any other kind (or none) as a
//! verdict, as the pipeline does. A field left out of
//! `expected` is not scored for that message (a set labelled for sentiment
//! only leaves out `themes`); an empty list means "none", which is scored.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use crate::analysis::{Analysis, Polarity, Purpose, SentimentLabel};
use crate::analyzer::Analyzer;
use crate::error::NlpError;
use crate::model::{training_set, SentimentModel, TrainingExample};
use crate::taxonomy::Taxonomy;

/// One labelled message.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledExample {
    pub id: String,
    /// From the envelope's `kind`: `ticket` is a request.
    pub purpose: Purpose,
    pub text: String,
    pub expected: Expected,
}

/// What a message should come out as; `None` means "not labelled".
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Expected {
    pub sentiment: Option<SentimentLabel>,
    /// Theme ids with the polarity of their mention.
    pub themes: Option<Vec<(String, Polarity)>>,
    pub flags: Option<Vec<String>>,
    pub emotions: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct RawLine {
    #[serde(default)]
    id: Option<serde_json::Value>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    text: Option<String>,
    expected: Option<RawExpected>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpected {
    #[serde(default)]
    sentiment: Option<String>,
    #[serde(default)]
    themes: Option<Vec<RawTheme>>,
    #[serde(default)]
    flags: Option<Vec<String>>,
    #[serde(default)]
    emotions: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTheme {
    id: String,
    polarity: String,
}

impl LabelledExample {
    /// Parses one JSONL line; the error is the reason, without position.
    pub fn from_json(line: &str) -> Result<LabelledExample, String> {
        let raw: RawLine = serde_json::from_str(line).map_err(|e| e.to_string())?;
        let expected = raw.expected.ok_or("no `expected` object")?;
        let sentiment = expected
            .sentiment
            .map(|s| {
                s.parse::<SentimentLabel>()
                    .map_err(|()| format!("unknown sentiment `{s}`"))
            })
            .transpose()?;
        let themes = expected
            .themes
            .map(|list| {
                list.into_iter()
                    .map(|t| {
                        let p = t
                            .polarity
                            .parse::<Polarity>()
                            .map_err(|()| format!("unknown polarity `{}`", t.polarity))?;
                        Ok((t.id, p))
                    })
                    .collect::<Result<Vec<_>, String>>()
            })
            .transpose()?;
        let id = match raw.id {
            Some(serde_json::Value::String(s)) => s,
            Some(other) => other.to_string(),
            None => String::new(),
        };
        let purpose = match raw.kind.as_deref() {
            Some("ticket") => Purpose::Request,
            _ => Purpose::Verdict,
        };
        Ok(LabelledExample {
            id,
            purpose,
            text: raw.text.unwrap_or_default(),
            expected: Expected {
                sentiment,
                themes,
                flags: expected.flags,
                emotions: expected.emotions,
            },
        })
    }
}

/// Parses labelled JSONL (blank lines skipped). `origin` names the file in
/// errors, which carry the line number.
pub fn parse_jsonl(src: &str, origin: &str) -> Result<Vec<LabelledExample>, NlpError> {
    src.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            LabelledExample::from_json(l).map_err(|reason| NlpError::Data {
                origin: origin.to_string(),
                line: n + 1,
                reason,
            })
        })
        .collect()
}

/// The labelled JSONL file at `path`, parsed as [`parse_jsonl`] does; a
/// file that cannot be read is named in the error.
pub fn read_labelled_set(path: &std::path::Path) -> Result<Vec<LabelledExample>, NlpError> {
    let src = std::fs::read_to_string(path).map_err(|source| NlpError::WrittenSet {
        path: path.to_path_buf(),
        source,
    })?;
    parse_jsonl(&src, &path.to_string_lossy())
}

/// Precision, recall and F1 from counts.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Prf {
    pub true_positives: usize,
    pub false_positives: usize,
    pub false_negatives: usize,
}

impl Prf {
    pub fn precision(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_positives,
        )
    }

    pub fn recall(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_negatives,
        )
    }

    /// 1.0 when there was nothing to find and nothing was found.
    pub fn f1(&self) -> f64 {
        let tp = 2 * self.true_positives;
        let all = tp + self.false_positives + self.false_negatives;
        if all == 0 {
            1.0
        } else {
            tp as f64 / all as f64
        }
    }

    fn add(&mut self, expected: &[&str], got: &[&str]) {
        for e in expected {
            if got.contains(e) {
                self.true_positives += 1;
            } else {
                self.false_negatives += 1;
            }
        }
        self.false_positives += got.iter().filter(|g| !expected.contains(g)).count();
    }
}

/// `num / den`, 0 for an empty denominator.
fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// A message the analyzer got most wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Miss {
    pub id: String,
    pub text: String,
    /// Higher is worse: 2 for an opposite sentiment, 1 for another wrong
    /// one, 1 per missed or spurious theme, flag or emotion and per wrong
    /// mention polarity.
    pub cost: usize,
    /// What went wrong, one item per problem ("sentiment negative, got
    /// positive", "missed theme delivery" …).
    pub problems: Vec<String>,
}

/// The result of [`evaluate`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EvalReport {
    pub messages: usize,
    /// Messages labelled with a sentiment, and how many came out right.
    pub sentiment_labelled: usize,
    pub sentiment_correct: usize,
    /// Expected label → (predicted label → count).
    pub sentiment_confusion: BTreeMap<String, BTreeMap<String, usize>>,
    pub themes: Prf,
    /// Per theme id, in id order.
    pub per_theme: BTreeMap<String, Prf>,
    /// Mentions of correctly found themes, and how many had the expected
    /// polarity.
    pub mentions_matched: usize,
    pub mention_polarity_correct: usize,
    pub flags: Prf,
    pub emotions: Prf,
    /// The worst messages, worst first (at most [`WORST_MISSES`]).
    pub worst: Vec<Miss>,
}

/// How many misses a report keeps.
pub const WORST_MISSES: usize = 15;

impl EvalReport {
    pub fn sentiment_accuracy(&self) -> f64 {
        ratio(self.sentiment_correct, self.sentiment_labelled)
    }

    pub fn mention_polarity_accuracy(&self) -> f64 {
        ratio(self.mention_polarity_correct, self.mentions_matched)
    }
}

fn opposite(a: SentimentLabel, b: SentimentLabel) -> bool {
    use SentimentLabel::{Negative, Positive};
    matches!((a, b), (Positive, Negative) | (Negative, Positive))
}

/// Runs `analyzer` over `examples` and compares with the labels.
pub fn evaluate(analyzer: &Analyzer, examples: &[LabelledExample]) -> EvalReport {
    let mut report = EvalReport {
        messages: examples.len(),
        ..EvalReport::default()
    };
    let mut misses = Vec::new();
    for ex in examples {
        let a = analyzer.analyze_as(&ex.text, ex.purpose);
        let mut problems = Vec::new();
        let mut cost = 0;
        if let Some(expected) = ex.expected.sentiment {
            let got = a.sentiment.label;
            report.sentiment_labelled += 1;
            *report
                .sentiment_confusion
                .entry(expected.as_str().to_string())
                .or_default()
                .entry(got.as_str().to_string())
                .or_default() += 1;
            if got == expected {
                report.sentiment_correct += 1;
            } else {
                cost += if opposite(expected, got) { 2 } else { 1 };
                problems.push(format!(
                    "sentiment {}, got {} ({:+.2})",
                    expected.as_str(),
                    got.as_str(),
                    a.sentiment.score
                ));
            }
        }
        if let Some(expected) = &ex.expected.themes {
            cost += score_themes(&mut report, expected, &a, &mut problems);
        }
        for (label, prf, expected, got) in [
            ("flag", &mut report.flags, &ex.expected.flags, &a.flags),
            (
                "emotion",
                &mut report.emotions,
                &ex.expected.emotions,
                &a.emotions,
            ),
        ] {
            let Some(expected) = expected else { continue };
            let e: Vec<&str> = expected.iter().map(String::as_str).collect();
            let g: Vec<&str> = got.clone();
            prf.add(&e, &g);
            for id in e.iter().filter(|id| !g.contains(id)) {
                cost += 1;
                problems.push(format!("missed {label} {id}"));
            }
            for id in g.iter().filter(|id| !e.contains(id)) {
                cost += 1;
                problems.push(format!("spurious {label} {id}"));
            }
        }
        if cost > 0 {
            misses.push(Miss {
                id: ex.id.clone(),
                text: ex.text.clone(),
                cost,
                problems,
            });
        }
    }
    // Stable: equally bad messages keep file order.
    misses.sort_by_key(|m| std::cmp::Reverse(m.cost));
    misses.truncate(WORST_MISSES);
    report.worst = misses;
    report
}

/// Adds one message's theme results; returns its cost.
fn score_themes(
    report: &mut EvalReport,
    expected: &[(String, Polarity)],
    a: &Analysis,
    problems: &mut Vec<String>,
) -> usize {
    let mut cost = 0;
    let e: Vec<&str> = expected.iter().map(|(id, _)| id.as_str()).collect();
    let g: Vec<&str> = a.themes.iter().map(|t| t.id).collect();
    report.themes.add(&e, &g);
    for (id, polarity) in expected {
        let prf = report.per_theme.entry(id.clone()).or_default();
        match a.themes.iter().find(|t| t.id == id) {
            Some(found) => {
                prf.true_positives += 1;
                report.mentions_matched += 1;
                if found.polarity == *polarity {
                    report.mention_polarity_correct += 1;
                } else {
                    cost += 1;
                    problems.push(format!(
                        "theme {id} {}, got {}",
                        polarity.as_str(),
                        found.polarity.as_str()
                    ));
                }
            }
            None => {
                prf.false_negatives += 1;
                cost += 1;
                problems.push(format!("missed theme {id} ({})", polarity.as_str()));
            }
        }
    }
    for t in a.themes.iter().filter(|t| !e.contains(&t.id)) {
        report
            .per_theme
            .entry(t.id.to_owned())
            .or_default()
            .false_positives += 1;
        cost += 1;
        let quoted: Vec<&str> = t.evidence.iter().map(|e| &*e.text).collect();
        problems.push(format!("spurious theme {} ({})", t.id, quoted.join(", ")));
    }
    cost
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "messages            {}", self.messages)?;
        writeln!(
            f,
            "sentiment accuracy  {:.3} ({} of {})",
            self.sentiment_accuracy(),
            self.sentiment_correct,
            self.sentiment_labelled
        )?;
        for (expected, row) in &self.sentiment_confusion {
            let cells: Vec<String> = row.iter().map(|(got, n)| format!("{got} {n}")).collect();
            writeln!(f, "  {expected:<9} -> {}", cells.join(", "))?;
        }
        let prf = |f: &mut fmt::Formatter<'_>, name: &str, p: &Prf| {
            if *p == Prf::default() {
                return writeln!(f, "{name:<19} nothing labelled or found");
            }
            writeln!(
                f,
                "{name:<19} P {:.3}  R {:.3}  F1 {:.3}  (tp {}, fp {}, fn {})",
                p.precision(),
                p.recall(),
                p.f1(),
                p.true_positives,
                p.false_positives,
                p.false_negatives
            )
        };
        prf(f, "themes (micro)", &self.themes)?;
        writeln!(
            f,
            "mention polarity    {:.3} ({} of {} found mentions)",
            self.mention_polarity_accuracy(),
            self.mention_polarity_correct,
            self.mentions_matched
        )?;
        prf(f, "flags (micro)", &self.flags)?;
        prf(f, "emotions (micro)", &self.emotions)?;
        writeln!(f, "per theme:")?;
        for (id, p) in &self.per_theme {
            prf(f, &format!("  {id}"), p)?;
        }
        if !self.worst.is_empty() {
            writeln!(f, "worst misses:")?;
            for m in &self.worst {
                writeln!(f, "  [{}] {} {}", m.cost, m.id, m.text)?;
                for p in &m.problems {
                    writeln!(f, "      {p}")?;
                }
            }
        }
        Ok(())
    }
}

/// How the whole analyser reads the reviews of one category of the
/// training file when its model was trained without them: the nearest
/// this project gets to real reviews from a domain it never saw, since
/// everything else it is measured on was written for it.
#[derive(Debug, Clone, PartialEq)]
pub struct UnseenCategory {
    pub category: String,
    pub reviews: usize,
    /// Share of the category's reviews the analyser labels as the file
    /// does (`mixed` and `neutral` count as wrong: the file has neither).
    pub accuracy: f64,
    /// The same for the model alone, without the lexicon and clause rules.
    pub model_accuracy: f64,
    pub mixed: usize,
    pub neutral: usize,
}

/// Trains a model on `reviews` outside `category` and on the written
/// examples (as the shipped model is trained), and scores an analyser
/// with the default taxonomy and that model on the reviews of `category`.
pub fn unseen_category(
    reviews: &[(String, TrainingExample)],
    written: &[TrainingExample],
    category: &str,
) -> Result<UnseenCategory, NlpError> {
    let (test, train): (Vec<_>, Vec<_>) = reviews.iter().partition(|(c, _)| c == category);
    let test: Vec<TrainingExample> = test.into_iter().map(|(_, e)| e.clone()).collect();
    let train = train.into_iter().map(|(_, e)| e.clone()).collect();
    let model = SentimentModel::train(&training_set(train, written));
    let model_accuracy = model.accuracy(&test);
    let analyzer = Analyzer::with_model(Taxonomy::default_v1(), model)?;
    let (mut right, mut mixed, mut neutral) = (0, 0, 0);
    for e in &test {
        match analyzer.analyze(&e.text).sentiment.label {
            SentimentLabel::Positive if e.positive => right += 1,
            SentimentLabel::Negative if !e.positive => right += 1,
            SentimentLabel::Mixed => mixed += 1,
            SentimentLabel::Neutral => neutral += 1,
            _ => {}
        }
    }
    Ok(UnseenCategory {
        category: category.to_string(),
        reviews: test.len(),
        accuracy: right as f64 / test.len().max(1) as f64,
        model_accuracy,
        mixed,
        neutral,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"id":"t1","kind":"review","created_at":"2025-01-01T00:00:00Z","source":"jd","text":"物流很快，但是价格太贵了","expected":{"sentiment":"mixed","themes":[{"id":"delivery","polarity":"positive"},{"id":"pricing","polarity":"negative"}],"flags":[],"emotions":[]}}"#;

    #[test]
    fn parses_envelope_and_expected() {
        let ex = LabelledExample::from_json(LINE).unwrap();
        assert_eq!(ex.id, "t1");
        assert_eq!(ex.expected.sentiment, Some(SentimentLabel::Mixed));
        assert_eq!(
            ex.expected.themes.as_deref(),
            Some(
                &[
                    ("delivery".to_string(), Polarity::Positive),
                    ("pricing".to_string(), Polarity::Negative)
                ][..]
            )
        );
        assert_eq!(ex.expected.flags, Some(vec![]));
    }

    #[test]
    fn missing_fields_are_unlabelled_and_errors_carry_lines() {
        let ex = LabelledExample::from_json(r#"{"text":"x","expected":{"sentiment":"neutral"}}"#)
            .unwrap();
        assert_eq!(ex.expected.themes, None);
        let src =
            format!("{LINE}\n\n{{\"text\":\"x\",\"expected\":{{\"sentiment\":\"angry\"}}}}\n");
        let err = parse_jsonl(&src, "labels.jsonl").unwrap_err();
        assert_eq!(err.to_string(), "labels.jsonl:3: unknown sentiment `angry`");
        let err = parse_jsonl("{\"text\":\"x\"}", "l.jsonl").unwrap_err();
        assert!(err.to_string().contains("no `expected`"), "{err}");
    }

    #[test]
    fn prf_arithmetic() {
        let mut p = Prf::default();
        p.add(&["a", "b"], &["b", "c"]);
        assert_eq!(
            (p.true_positives, p.false_positives, p.false_negatives),
            (1, 1, 1)
        );
        assert_eq!(p.precision(), 0.5);
        assert_eq!(p.recall(), 0.5);
        assert_eq!(p.f1(), 0.5);
        assert_eq!(Prf::default().f1(), 1.0);
    }

    #[test]
    fn a_ticket_is_read_as_a_request_and_every_other_kind_as_a_verdict() {
        let purpose = |kind: &str| {
            let line = format!(r#"{{{kind}"text":"x","expected":{{"sentiment":"neutral"}}}}"#);
            LabelledExample::from_json(&line).unwrap().purpose
        };
        assert_eq!(purpose(r#""kind":"ticket","#), Purpose::Request);
        assert_eq!(purpose(r#""kind":"review","#), Purpose::Verdict);
        assert_eq!(purpose(r#""kind":"survey","#), Purpose::Verdict);
        assert_eq!(purpose(""), Purpose::Verdict);
    }

    #[test]
    fn evaluate_scores_a_wrong_label_as_a_miss() {
        let analyzer = crate::analyzer::shared();
        let mut ex = LabelledExample::from_json(LINE).unwrap();
        let right = evaluate(analyzer, std::slice::from_ref(&ex));
        assert_eq!(right.sentiment_accuracy(), 1.0, "{right}");
        assert_eq!(right.themes.f1(), 1.0, "{right}");
        assert_eq!(right.mention_polarity_accuracy(), 1.0);
        assert!(right.worst.is_empty());
        ex.expected.sentiment = Some(SentimentLabel::Positive);
        ex.expected.themes = Some(vec![("packaging".into(), Polarity::Negative)]);
        let wrong = evaluate(analyzer, &[ex]);
        assert_eq!(wrong.sentiment_accuracy(), 0.0);
        assert_eq!(wrong.themes.true_positives, 0);
        assert_eq!(wrong.themes.false_negatives, 1);
        assert_eq!(wrong.themes.false_positives, 2);
        assert_eq!(wrong.per_theme["packaging"].false_negatives, 1);
        assert_eq!(wrong.worst.len(), 1);
        let shown = wrong.to_string();
        assert!(shown.contains("missed theme packaging"), "{shown}");
        assert!(shown.contains("spurious theme delivery"), "{shown}");
    }
}
