//! The input envelope: one JSON object per Kafka message, for every kind of
//! feedback. `feedback.schema.json` beside this crate documents the same
//! contract for producers; `decode.rs` is what enforces it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

/// What the message is. Decides which optional fields make sense and which
/// topic it usually arrives on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Review,
    Ticket,
    Survey,
    Social,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Review, Kind::Ticket, Kind::Survey, Kind::Social];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Review => "review",
            Kind::Ticket => "ticket",
            Kind::Survey => "survey",
            Kind::Social => "social",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Customer segment as the producer's CRM knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Segment {
    New,
    Returning,
    HighValue,
    AtRisk,
}

impl Segment {
    pub const ALL: [Segment; 4] = [
        Segment::New,
        Segment::Returning,
        Segment::HighValue,
        Segment::AtRisk,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Segment::New => "new",
            Segment::Returning => "returning",
            Segment::HighValue => "high_value",
            Segment::AtRisk => "at_risk",
        }
    }

    pub fn parse(s: &str) -> Option<Segment> {
        Segment::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Customer {
    pub id: Option<String>,
    pub segment: Option<Segment>,
}

/// Survey scores. Each is optional: a CSAT survey carries only `csat`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Survey {
    /// Net Promoter answer, 0–10.
    pub nps: Option<u8>,
    /// Satisfaction, 1–5.
    pub csat: Option<u8>,
    /// Customer effort, 1–7.
    pub ces: Option<u8>,
}

impl Survey {
    pub fn has_scores(&self) -> bool {
        self.nps.is_some() || self.csat.is_some() || self.ces.is_some()
    }
}

/// Support-ticket timing, used for response-SLA measures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Ticket {
    pub opened_at: Option<DateTime<Utc>>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub status: Option<String>,
}

/// One accepted piece of feedback. Only `decode` builds these, so every value
/// here has passed the contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Feedback {
    pub id: String,
    pub kind: Kind,
    /// Event time, normalised to UTC.
    pub created_at: DateTime<Utc>,
    pub source: String,
    /// `None` only for surveys that carry scores and no words.
    pub text: Option<String>,
    pub channel: Option<String>,
    pub lang: Option<String>,
    pub customer: Option<Customer>,
    /// Star rating, 1–5.
    pub rating: Option<u8>,
    pub survey: Option<Survey>,
    pub ticket: Option<Ticket>,
    pub attributes: BTreeMap<String, String>,
}
