//! The sentiment lexicon: opinion words with weights, negators, degree
//! adverbs, contrast and question markers, for Simplified and Traditional
//! Chinese, English and emoji.
//!
//! The words live in `nlp/lexicon/sentiment.toml` (embedded at compile
//! time) so they can be reviewed and extended without reading Rust. Unlike
//! the taxonomy this file is not user-replaceable: its categories are tied
//! to the scoring rules in `sentiment.rs`.

use serde::Deserialize;
use toml::Spanned;

use crate::error::NlpError;
use crate::matcher::{Hit, Matcher, Words};
use crate::taxonomy::line_at;
use crate::text::{is_han, Text};

const BUILTIN: &str = include_str!("../lexicon/sentiment.toml");

pub(crate) const STRONG: f32 = 1.0;
pub(crate) const NORMAL: f32 = 0.7;
pub(crate) const WEAK: f32 = 0.35;

/// What a lexicon word does to the sentiment of its clause.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Unit {
    /// Signed opinion weight. `intensifies`: the word is an adverb when an
    /// opinion word follows it (好 in 好慢 means "very", not "good").
    Opinion { weight: f32, intensifies: bool },
    /// Flips the next opinion word. `strength` is how much of the flipped
    /// weight survives: 一点也不好用 is as negative as 好用 is positive,
    /// 不太好 less so. `wide` negators (不觉得, don't think) reach the next
    /// opinion anywhere in the clause, not just a few words on.
    Negator { strength: f32, wide: bool },
    /// Scales the next opinion word, or with `post` the previous one
    /// (好吃极了, 贵得要死).
    Degree { factor: f32, post: bool },
    /// Starts a new clause (但是, but). `initial_only` markers (不过, 就是)
    /// only do so at the start of a clause: mid-clause they mean something
    /// else. `summary` markers (整体, 其他都, overall) also say the clause
    /// sums the message up; `caveat` markers (就是, 只是, 不过) say it adds
    /// a reservation to what came before rather than turning it round.
    Contrast {
        initial_only: bool,
        summary: bool,
        caveat: bool,
    },
    /// The clause concedes a point (虽然, although) and weighs less.
    Concessive,
    /// A genuine question: opinions in it are muted.
    Question,
    /// A complaint phrased as a question (为什么, why): opinions count.
    Rhetorical,
    /// Carries no sentiment but hides the shorter words inside it
    /// (不好意思 is not 不好, 差不多 is not 差).
    Neutral,
}

#[derive(Debug, Clone)]
pub(crate) struct Lexicon {
    matcher: Matcher<Unit>,
    /// Every entry in file order, for matchers that combine the lexicon
    /// with other words (see `Analyzer`).
    entries: Vec<(String, Unit)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLexicon {
    zh: Section,
    hant: Section,
    en: Section,
    symbols: Section,
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Section {
    positive_strong: Vec<Spanned<String>>,
    positive: Vec<Spanned<String>>,
    positive_weak: Vec<Spanned<String>>,
    intensifying: Vec<Spanned<String>>,
    negative_strong: Vec<Spanned<String>>,
    negative: Vec<Spanned<String>>,
    negative_weak: Vec<Spanned<String>>,
    negators: Vec<Spanned<String>>,
    negators_strong: Vec<Spanned<String>>,
    negators_wide: Vec<Spanned<String>>,
    degree_high: Vec<Spanned<String>>,
    degree: Vec<Spanned<String>>,
    degree_low: Vec<Spanned<String>>,
    degree_post: Vec<Spanned<String>>,
    contrast: Vec<Spanned<String>>,
    contrast_initial: Vec<Spanned<String>>,
    caveat: Vec<Spanned<String>>,
    summary: Vec<Spanned<String>>,
    concessive: Vec<Spanned<String>>,
    question: Vec<Spanned<String>>,
    rhetorical: Vec<Spanned<String>>,
    neutral: Vec<Spanned<String>>,
}

impl Section {
    fn lists(&self) -> [(&[Spanned<String>], Unit); 22] {
        let opinion = |weight| Unit::Opinion {
            weight,
            intensifies: false,
        };
        [
            (&self.positive_strong, opinion(STRONG)),
            (&self.positive, opinion(NORMAL)),
            (&self.positive_weak, opinion(WEAK)),
            (
                &self.intensifying,
                Unit::Opinion {
                    weight: NORMAL,
                    intensifies: true,
                },
            ),
            (&self.negative_strong, opinion(-STRONG)),
            (&self.negative, opinion(-NORMAL)),
            (&self.negative_weak, opinion(-WEAK)),
            (
                &self.negators,
                Unit::Negator {
                    strength: 0.8,
                    wide: false,
                },
            ),
            (
                &self.negators_strong,
                Unit::Negator {
                    strength: 1.0,
                    wide: false,
                },
            ),
            (
                &self.negators_wide,
                Unit::Negator {
                    strength: 0.8,
                    wide: true,
                },
            ),
            (
                &self.degree_high,
                Unit::Degree {
                    factor: 1.6,
                    post: false,
                },
            ),
            (
                &self.degree,
                Unit::Degree {
                    factor: 1.25,
                    post: false,
                },
            ),
            (
                &self.degree_low,
                Unit::Degree {
                    factor: 0.6,
                    post: false,
                },
            ),
            (
                &self.degree_post,
                Unit::Degree {
                    factor: 1.6,
                    post: true,
                },
            ),
            (
                &self.contrast,
                Unit::Contrast {
                    initial_only: false,
                    summary: false,
                    caveat: false,
                },
            ),
            (
                &self.contrast_initial,
                Unit::Contrast {
                    initial_only: true,
                    summary: false,
                    caveat: false,
                },
            ),
            (
                &self.caveat,
                Unit::Contrast {
                    initial_only: true,
                    summary: false,
                    caveat: true,
                },
            ),
            (
                &self.summary,
                Unit::Contrast {
                    initial_only: true,
                    summary: true,
                    caveat: false,
                },
            ),
            (&self.concessive, Unit::Concessive),
            (&self.question, Unit::Question),
            (&self.rhetorical, Unit::Rhetorical),
            (&self.neutral, Unit::Neutral),
        ]
        .map(|(list, unit)| (list.as_slice(), unit))
    }
}

/// Praise that ends in 好 (态度好, 服务好, 质量好) also reads as its noun
/// plus 好 as "very" when an opinion word follows at once: 态度好差 is
/// 态度 + 好差, a complaint, where the longest word at 态度 would have
/// read praise and then criticism and cancelled out.
fn praise_ending_in_very(word: &str, unit: Unit) -> Unit {
    match unit {
        Unit::Opinion {
            weight,
            intensifies: false,
        } if weight > 0.0 && word.chars().count() >= 2 && word.ends_with('好') => Unit::Opinion {
            weight,
            intensifies: true,
        },
        unit => unit,
    }
}

impl Lexicon {
    /// The lexicon compiled into the crate.
    pub fn builtin() -> Result<Lexicon, NlpError> {
        Lexicon::from_toml(BUILTIN)
    }

    fn from_toml(src: &str) -> Result<Lexicon, NlpError> {
        let raw: RawLexicon = toml::from_str(src).map_err(|e| NlpError::Lexicon {
            line: e.span().map_or(1, |s| line_at(src, s.start)),
            reason: e.message().to_string(),
        })?;
        let mut matcher = Matcher::new();
        let mut entries = Vec::new();
        for section in [&raw.zh, &raw.hant, &raw.en, &raw.symbols] {
            for (list, unit) in section.lists() {
                for word in list {
                    if word.get_ref().trim().is_empty() {
                        return Err(NlpError::Lexicon {
                            line: line_at(src, word.span().start),
                            reason: "blank entry".to_string(),
                        });
                    }
                    let unit = praise_ending_in_very(word.get_ref(), unit);
                    matcher.insert(word.get_ref(), unit);
                    entries.push((word.get_ref().clone(), unit));
                }
            }
        }
        Ok(Lexicon { matcher, entries })
    }

    /// Lexicon words in reading order, longest match first.
    ///
    /// jieba fuses common pairs into one word (不好, 太慢, 很快), which would
    /// hide 一点也不 + 好用 or 太 + 慢 from a matcher that respects its
    /// words. So a jieba word gets an extra boundary wherever both sides of
    /// the cut are made of lexicon words: 不|好 and 太|慢 are cut, 不错 and
    /// 差不多 are not.
    pub fn scan(&self, text: &Text) -> Vec<Hit<Unit>> {
        let mut units = Vec::new();
        self.scan_into(text, &mut Vec::new(), &mut units);
        units
    }

    /// [`scan`](Self::scan) into `units`, with `boundary` as room for the
    /// refined word boundaries: both buffers are reused between messages.
    pub fn scan_into(&self, text: &Text, boundary: &mut Vec<bool>, units: &mut Vec<Hit<Unit>>) {
        refine_boundaries(text, boundary, |w| self.matcher.covers(w));
        let words = Words {
            boundary,
            jieba: &text.boundary,
            modifier: &text.modifier,
        };
        units.clear();
        self.matcher.leftmost_longest(text, words, units);
    }

    /// Every entry, in file order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, Unit)> {
        self.entries.iter().map(|(w, u)| (w.as_str(), *u))
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.matcher.len()
    }
}

/// jieba's word boundaries of `text` into `boundary`, plus a cut inside
/// each Chinese word of two to six characters wherever `covers` (lexicon
/// words only) accepts both sides: see [`Lexicon::scan`].
pub(crate) fn refine_boundaries(
    text: &Text,
    boundary: &mut Vec<bool>,
    covers: impl Fn(&[char]) -> bool,
) {
    boundary.clear();
    boundary.extend_from_slice(&text.boundary);
    let norm = &text.norm[..];
    for &(s, e) in &text.tokens {
        // The length first: about half the words are one character and
        // need no slice.
        if !(2..=6).contains(&e.wrapping_sub(s)) {
            continue;
        }
        let word = &norm[s..e];
        if !word.iter().all(|&c| is_han(c)) {
            continue;
        }
        for k in 1..word.len() {
            if covers(&word[..k]) && covers(&word[k..]) {
                boundary[s + k] = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chinese::Segmenter;

    #[test]
    fn builtin_lexicon_loads_and_is_rich() {
        let lex = Lexicon::builtin().unwrap();
        assert!(lex.len() > 1500, "only {} entries", lex.len());
    }

    #[test]
    fn no_word_has_conflicting_roles() {
        // Two opinions, or two kinds of contrast, on one word would be an
        // editing mistake (typically the same word in [zh] and [hant]).
        for (word, units) in Lexicon::builtin().unwrap().matcher.entries() {
            let opinions = units
                .iter()
                .filter(|u| matches!(u, Unit::Opinion { .. }))
                .count();
            let contrasts = units
                .iter()
                .filter(|u| matches!(u, Unit::Contrast { .. }))
                .count();
            let negators = units
                .iter()
                .filter(|u| matches!(u, Unit::Negator { .. }))
                .count();
            let degrees = units
                .iter()
                .filter(|u| matches!(u, Unit::Degree { .. }))
                .count();
            assert!(
                opinions <= 1 && contrasts <= 1 && negators <= 1 && degrees <= 1,
                "{word}: {units:?}"
            );
            let neutral = units.contains(&Unit::Neutral);
            assert!(
                !neutral || units.len() == 1,
                "{word} is neutral and something else: {units:?}"
            );
        }
    }

    #[test]
    fn broken_lexicon_reports_line() {
        let err =
            Lexicon::from_toml("[zh]\npositive = [\"好\"]\n[hant]\n[en]\n[symbols]\nbogus = 1\n")
                .unwrap_err();
        assert!(matches!(err, NlpError::Lexicon { line: 6, .. }), "{err}");
        let err =
            Lexicon::from_toml("[zh]\npositive = [\"好\",\n \" \"]\n[hant]\n[en]\n[symbols]\n")
                .unwrap_err();
        assert!(matches!(err, NlpError::Lexicon { line: 3, .. }), "{err}");
    }

    #[test]
    fn scan_reads_fused_words_and_longest_phrases() {
        let lex = Lexicon::builtin().unwrap();
        let seg = Segmenter::new(std::iter::empty());
        let text = Text::new("真差，一点也不好用，不好意思", &seg);
        let units: Vec<(String, Unit)> = lex
            .scan(&text)
            .into_iter()
            .map(|h| (text.original_slice(h.start, h.end), h.payload))
            .collect();
        let words: Vec<&str> = units.iter().map(|(w, _)| w.as_str()).collect();
        assert!(words.starts_with(&["真", "差"]), "{words:?}");
        // jieba cuts 一点|也|不好|用; the lexicon reads 一点也不 + 好用.
        assert!(
            words.contains(&"一点也不") && words.contains(&"好用"),
            "{words:?}"
        );
        let sorry = units.iter().find(|(w, _)| w == "不好意思").unwrap();
        assert_eq!(sorry.1, Unit::Neutral);
    }
}
