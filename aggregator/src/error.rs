//! What can go wrong in the aggregator: bad configuration, a sketch that
//! does not decode, windows fed out of order.

use chrono::{DateTime, Utc};
use thiserror::Error;

/// A configuration the aggregator refuses, naming the setting.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ConfigError {
    #[error("window size {0}s: must be positive")]
    NonPositiveWindow(i64),
    #[error("window size {size}s: offset {offset}s must lie in [0, size)")]
    BadWindowOffset { size: i64, offset: i64 },
    #[error("window size {0}s is configured twice")]
    DuplicateWindow(i64),
    #[error("no window sizes configured")]
    NoWindows,
    #[error("allowed lateness {0}s: must not be negative")]
    NegativeLateness(i64),
    #[error("idle timeout {0}s: must be positive")]
    NonPositiveIdleTimeout(i64),
    #[error("SLA target for `{channel}` is {secs}s: must not be negative")]
    NegativeSla { channel: String, secs: i64 },
    #[error("{name} is {value}: {rule}")]
    OutOfRange {
        name: &'static str,
        value: f64,
        rule: &'static str,
    },
}

/// Bytes that are not a sketch this version can read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SketchError {
    #[error("sketch is {0} bytes, shorter than its 2-byte header")]
    TooShort(usize),
    #[error("sketch format {0} is unknown")]
    UnknownFormat(u8),
    #[error("sketch precision {found} differs from this build's {expected}")]
    Precision { found: u8, expected: u8 },
    #[error("sketch body is {0} bytes, which its format does not allow")]
    BadLength(usize),
    #[error("sketch register {index} holds {rank}, above the maximum {max}")]
    BadRank { index: usize, rank: u8, max: u8 },
    #[error("sparse sketch entries are not in strictly increasing register order at entry {0}")]
    Unsorted(usize),
}

/// Closed-window counts handed to a detector in the wrong order.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DetectorError {
    #[error("window starting {start} is not after the last one seen, which ended {last_end}")]
    OutOfOrder {
        start: DateTime<Utc>,
        last_end: DateTime<Utc>,
    },
}
