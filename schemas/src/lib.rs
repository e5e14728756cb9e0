//! The contracts of tongdian: what producers may send, and what the tables
//! hold.
//!
//! # Layout
//! - `envelope.rs`: the input envelope ([`Feedback`]) as Rust types.
//! - `decode.rs`: bytes → [`Feedback`] or a [`Rejection`] with a reason code
//!   and the offending field; the contract's limits ([`DecodeLimits`]).
//! - `rows.rs`: output rows ([`FeedbackRow`], [`DeadLetter`]) with their Kafka
//!   provenance.
//! - `tables.rs`: Arrow schemas of the `feedback` and `dead_letters` tables
//!   and rows → record batches.
//! - `analytics.rs`: Arrow schemas of the analytics tables (`rollups`,
//!   `pain_points`, `alerts`), their flat records, and records ↔ batches.
//! - `../feedback.schema.json`: the input contract as JSON Schema, for
//!   producers; a test keeps it in step with `decode.rs`.

pub mod analytics;
mod decode;
mod envelope;
mod rows;
pub mod tables;

pub use decode::{decode, DecodeLimits, Reason, Rejection};
pub use envelope::{Customer, Feedback, Kind, Segment, Survey, Ticket};
pub use rows::{Analysis, DeadLetter, Evidence, FeedbackRow, Provenance, ThemeMention};

/// The JSON Schema of the input envelope, as shipped in the repository.
pub const FEEDBACK_JSON_SCHEMA: &str = include_str!("../feedback.schema.json");
