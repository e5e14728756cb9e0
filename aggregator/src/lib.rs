//! Turns analysed feedback into the numbers a CX team reports and the
//! alerts it acts on. Pure and synchronous: time comes in with the data and
//! through explicit calls, never from the clock; Kafka, Delta and HTTP are
//! the binary's business.
//!
//! # Layout
//! - `summary.rs`: [`Summary`], a run's headline numbers (volumes, NPS, CSAT,
//!   top negative themes, dead letters by reason).
//! - `window.rs`: [`Windower`], event-time tumbling windows with watermark,
//!   allowed lateness and late corrections ([`Observed`]).
//! - `rollup.rs`: [`Rollups`], the `rollups` table's dimensions (and the
//!   `all` convention), additive [`Measures`], [`SlaConfig`], merging, and
//!   [`WindowTotals`] for what is computed from rollups.
//! - `hll.rs`: [`Hll`], a HyperLogLog with stable, mergeable bytes.
//! - `hash.rs`: the fixed hash behind sketches, samples and alert ids.
//! - `priority.rs`: [`pain_points`], the customer-impact, value–effort,
//!   MoSCoW and NPS-driver model (formulas in its documentation).
//! - `alerts.rs`: [`EmergingDetector`] (volume and negative-share spikes,
//!   new complaint terms), [`critical_alert`], [`Alert`], [`WindowCounts`].
//! - `global.rs`: [`CountsAssembler`], global window counts from every
//!   worker's [`PartialCounts`].
//! - `notify.rs`: webhook bodies (JSON, Slack) and the retry [`Backoff`].
//! - `error.rs`: [`ConfigError`], [`SketchError`], [`DetectorError`].
//! - `tests/stream.rs`: a generated two-week stream with daily cycles and
//!   injected bursts; two workers against one.

mod alerts;
mod error;
mod global;
mod hash;
mod hll;
mod notify;
mod priority;
mod rollup;
mod summary;
mod window;

pub use alerts::{
    critical_alert, log_likelihood_ratio, normalise_term, Alert, AlertKind, DetectorConfig,
    EmergingDetector, SeriesCounts, Severity, TermCounts, TermStat, WindowCounts, MAX_EXAMPLES,
};
pub use error::{ConfigError, DetectorError, SketchError};
pub use global::{Added, CountsAssembler, PartialCounts};
pub use hash::{hash64, stable_id};
pub use hll::{Hll, PRECISION as HLL_PRECISION};
pub use notify::{is_retryable, webhook_body, Backoff, WebhookFormat};
pub use priority::{pain_points, Moscow, PainPoint, PriorityConfig};
pub use rollup::{
    grain_label, nps, window_totals, Dimensions, Measures, MessageFacts, RollupKey, RollupRow,
    Rollups, SlaConfig, SlaOutcome, ThemeTotal, WindowId, WindowTotals, ALL, UNKNOWN,
};
pub use summary::{CsatCounts, NpsCounts, Summary, ThemeCounts};
pub use window::{Emitted, Observed, WindowConfig, WindowSpec, WindowStats, Windower};
