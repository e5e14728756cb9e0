//! The result of analysing one message. This shape is what the pipeline
//! writes to its tables, so it is kept stable even as the analysis behind it
//! improves: every enum serialises as the same lowercase string its
//! `as_str` returns.
//!
//! Taxonomy names (theme, flag and emotion ids, categories, stages) are
//! `&'static str`: the analyzer keeps one copy of each for the life of the
//! process (see [`Analyzer`](crate::Analyzer)), so a result neither
//! allocates nor counts references for them.

use std::borrow::Cow;

use serde::Serialize;

/// Everything the analyzer found in one message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    pub script: Script,
    pub sentiment: Sentiment,
    /// One entry per theme mentioned, in order of first mention.
    pub themes: Vec<ThemeMention>,
    /// Flag ids (`churn_risk`, `escalation` …), sorted and unique.
    pub flags: Vec<&'static str>,
    /// Emotion ids (`anger`, `delight` …), sorted and unique.
    pub emotions: Vec<&'static str>,
}

/// What a text was written for, which decides how one without an opinion
/// word is read (see [`Analyzer::analyze_as`](crate::Analyzer::analyze_as)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Purpose {
    /// A verdict: reviews, survey comments, posts. Every one is written to
    /// say what its writer thinks, so a statement the lexicon reads nothing
    /// in (房间正对着马路) takes the learned model's lean.
    #[default]
    Verdict,
    /// A request: support tickets and chats, written to get something
    /// done. A statement without opinion words stays neutral unless the
    /// model is sure of it: 快递员把包裹放在了门卫室 leans negative, but in a
    /// ticket it reports where the parcel is.
    Request,
}

/// Writing system of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Script {
    /// Simplified Chinese (also the answer when a message has no letters or
    /// characters at all: the pipeline's main audience writes Simplified).
    Hans,
    /// Traditional Chinese, Taiwan or Hong Kong usage.
    Hant,
    /// English (any Latin-script text without Chinese).
    En,
    /// Substantial English and Chinese in the same message.
    Mixed,
}

impl Script {
    pub fn as_str(self) -> &'static str {
        match self {
            Script::Hans => "hans",
            Script::Hant => "hant",
            Script::En => "en",
            Script::Mixed => "mixed",
        }
    }
}

/// Overall sentiment of a message.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Sentiment {
    pub label: SentimentLabel,
    /// In [-1, 1]; negative is unfavourable. For a `mixed` message this is
    /// the weighted balance, with clauses after a contrast word weighing more.
    pub score: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SentimentLabel {
    Positive,
    Negative,
    Neutral,
    /// Clearly positive and clearly negative clauses of comparable weight
    /// in the same message, one theme praised and another blamed.
    Mixed,
}

impl SentimentLabel {
    pub fn as_str(self) -> &'static str {
        match self {
            SentimentLabel::Positive => "positive",
            SentimentLabel::Negative => "negative",
            SentimentLabel::Neutral => "neutral",
            SentimentLabel::Mixed => "mixed",
        }
    }
}

impl std::str::FromStr for SentimentLabel {
    type Err = ();

    /// The inverse of [`SentimentLabel::as_str`].
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "positive" => Ok(SentimentLabel::Positive),
            "negative" => Ok(SentimentLabel::Negative),
            "neutral" => Ok(SentimentLabel::Neutral),
            "mixed" => Ok(SentimentLabel::Mixed),
            _ => Err(()),
        }
    }
}

/// Polarity of one theme mention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Polarity {
    Positive,
    Negative,
    Neutral,
}

impl Polarity {
    pub fn as_str(self) -> &'static str {
        match self {
            Polarity::Positive => "positive",
            Polarity::Negative => "negative",
            Polarity::Neutral => "neutral",
        }
    }
}

impl std::str::FromStr for Polarity {
    type Err = ();

    /// The inverse of [`Polarity::as_str`].
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "positive" => Ok(Polarity::Positive),
            "negative" => Ok(Polarity::Negative),
            "neutral" => Ok(Polarity::Neutral),
            _ => Err(()),
        }
    }
}

/// A theme of the taxonomy found in a message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThemeMention {
    pub id: &'static str,
    pub category: &'static str,
    pub stage: &'static str,
    pub polarity: Polarity,
    /// The keyword occurrences that triggered the theme, in text order.
    pub evidence: Vec<Evidence>,
}

/// Where a theme was found. Offsets count characters (Unicode scalar
/// values), not bytes, into the original message; `end` is exclusive and
/// `text` is exactly the original characters in that range, so a
/// Traditional message shows its Traditional characters. Borrowed when the
/// message writes the keyword as the taxonomy does, which is the usual case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub text: Cow<'static, str>,
    pub start: usize,
    pub end: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_serialise_as_their_as_str_names() {
        for s in [Script::Hans, Script::Hant, Script::En, Script::Mixed] {
            let json = toml::Value::try_from(s).unwrap();
            assert_eq!(json.as_str(), Some(s.as_str()));
        }
        for l in [
            SentimentLabel::Positive,
            SentimentLabel::Negative,
            SentimentLabel::Neutral,
            SentimentLabel::Mixed,
        ] {
            assert_eq!(toml::Value::try_from(l).unwrap().as_str(), Some(l.as_str()));
        }
        for p in [Polarity::Positive, Polarity::Negative, Polarity::Neutral] {
            assert_eq!(toml::Value::try_from(p).unwrap().as_str(), Some(p.as_str()));
        }
    }
}
