//! Turns committed feedback rows into the numbers a CX team reports.
//!
//! # Layout
//! - `summary.rs`: [`Summary`], a run's headline numbers (volumes, NPS, CSAT,
//!   top negative themes, dead letters by reason).

mod summary;

pub use summary::{CsatCounts, NpsCounts, Summary, ThemeCounts};
