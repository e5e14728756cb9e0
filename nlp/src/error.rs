//! The crate's one error type. Only construction can fail: loading a
//! taxonomy, or (never in a released build, see `lexicon.rs`) the embedded
//! sentiment lexicon. Analysis itself is infallible.

use std::path::PathBuf;

/// Why an [`Analyzer`](crate::Analyzer) or [`Taxonomy`](crate::Taxonomy)
/// could not be built.
#[derive(Debug, thiserror::Error)]
pub enum NlpError {
    /// A taxonomy file is malformed or inconsistent. Displays as
    /// `file:line: reason`, the form editors and CI logs link to.
    #[error("{origin}:{line}: {issue}")]
    Taxonomy {
        /// File name (or other label) the taxonomy was loaded from.
        origin: String,
        /// 1-based line the problem was found on.
        line: usize,
        issue: TaxonomyIssue,
    },
    /// A taxonomy file could not be read at all.
    #[error("cannot read taxonomy file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The sentiment lexicon compiled into the crate is broken. Only a bad
    /// edit to `nlp/lexicon/sentiment.toml` can cause this, and the crate's
    /// own tests catch it.
    #[error("built-in sentiment lexicon, line {line}: {reason}")]
    Lexicon { line: usize, reason: String },
    /// The sentiment model weights are not in the format this build reads
    /// (the shipped `nlp/model/sentiment.bin`, or bytes given to
    /// [`SentimentModel::from_bytes`](crate::model::SentimentModel::from_bytes)).
    #[error("sentiment model: {reason}")]
    Model { reason: String },
    /// The theme model's bytes are not a model this build can read (see
    /// [`ThemeModel::from_bytes`](crate::learned_themes::ThemeModel::from_bytes)).
    #[error("theme model: {reason}")]
    ThemeModel { reason: String },
    /// A written set (see [`read_written_sets`](crate::model::read_written_sets))
    /// could not be read.
    #[error("cannot read written set {}: {source}", path.display())]
    WrittenSet {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A line of a data file (training CSV, labelled JSONL) is malformed.
    /// Displays as `file:line: reason`.
    #[error("{origin}:{line}: {reason}")]
    Data {
        origin: String,
        line: usize,
        reason: String,
    },
}

/// What is wrong with a taxonomy file, without the file and line (those are
/// on [`NlpError::Taxonomy`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[serde(tag = "issue", rename_all = "snake_case")]
pub enum TaxonomyIssue {
    /// Not valid TOML, a missing or unknown key, or a value of the wrong type.
    #[error("{message}")]
    Syntax { message: String },
    #[error("{kind} `{id}`: duplicate id")]
    DuplicateId { kind: String, id: String },
    /// Ids become column values and file names downstream, so they are
    /// restricted to `[a-z0-9_]`.
    #[error("{kind} `{id}`: invalid id (use lowercase letters, digits and `_`)")]
    InvalidId { kind: String, id: String },
    #[error("theme `{theme}`: unknown category `{category}`")]
    UnknownCategory { theme: String, category: String },
    #[error("theme `{theme}`: unknown stage `{stage}`")]
    UnknownStage { theme: String, stage: String },
    #[error("theme `{theme}`: effort {effort} is outside 1–5")]
    EffortOutOfRange { theme: String, effort: i64 },
    #[error("{kind} `{id}`: no keywords (keywords, keywords_hant and keywords_en are all empty)")]
    NoKeywords { kind: String, id: String },
    #[error("{kind} `{id}`: blank entry in `{field}`")]
    BlankEntry {
        kind: String,
        id: String,
        field: String,
    },
    /// `implied_by` names neither a flag of the taxonomy nor a signal the
    /// analyzer knows (`taxonomy::SIGNALS`); flags cannot be implied.
    #[error(
        "{kind} `{id}`: `implied_by` names `{cause}`, which is neither a flag nor a known signal"
    )]
    UnknownCause {
        kind: String,
        id: String,
        cause: String,
    },
    #[error("taxonomy defines no themes")]
    NoThemes,
}
