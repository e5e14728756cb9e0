//! What the pipeline writes: one [`FeedbackRow`] per accepted message, one
//! [`DeadLetter`] per rejected one. Both carry their Kafka provenance, because
//! offsets travel with the data they produced.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::decode::Rejection;
use crate::envelope::Feedback;

/// Where a message came from in Kafka.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Provenance {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// Evidence for a theme: the words that matched and where, in characters
/// (Unicode scalar values, not bytes) of the original text; `end` exclusive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub text: String,
    pub start: u32,
    pub end: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThemeMention {
    /// Taxonomy theme id, e.g. `delivery`.
    pub id: String,
    /// Pain-point category: process, product, communication, relationship, emotional.
    pub category: String,
    /// Journey stage: awareness, consideration, purchase, usage, after_sales, advocacy.
    pub stage: String,
    /// Polarity of the clause that mentions the theme: positive, negative, neutral.
    pub polarity: String,
    pub evidence: Vec<Evidence>,
}

/// The analysis columns of a `feedback` row. String-typed on purpose: these
/// are table values, and the taxonomy (hence the ids) is user-configurable.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    /// hans, hant, en or mixed.
    pub script: String,
    /// positive, negative, neutral or mixed.
    pub sentiment_label: String,
    /// In [-1, 1].
    pub sentiment_score: f64,
    pub themes: Vec<ThemeMention>,
    pub flags: Vec<String>,
    pub emotions: Vec<String>,
}

/// One row of the `feedback` table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedbackRow {
    pub feedback: Feedback,
    /// `None` when the message has no text (a survey with scores only).
    pub analysis: Option<Analysis>,
    pub provenance: Provenance,
    pub ingested_at: DateTime<Utc>,
}

/// One row of the `dead_letters` table, and the body of a `feedback.dlq`
/// message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeadLetter {
    pub provenance: Provenance,
    pub rejection: Rejection,
    /// Kafka message key, untouched.
    pub key: Option<Vec<u8>>,
    /// The original bytes, untouched, so nothing is lost and the message can
    /// be replayed once fixed.
    pub payload: Vec<u8>,
    pub received_at: DateTime<Utc>,
}
