//! Event-time tumbling windows with a watermark, allowed lateness and late
//! corrections.
//!
//! # Windows
//!
//! Each [`WindowSpec`] (default: 1 hour and 1 day) tiles time into
//! `[offset + k·size, offset + (k+1)·size)` in UTC; a message belongs to the
//! window of every spec that contains its `created_at`. The offset shifts
//! boundaries, e.g. `-8 h` mod 24 h = 16 h for days that start at midnight
//! China time.
//!
//! # Watermark (exactly)
//!
//! `W` starts undefined (nothing is closed) and only ever grows:
//! - after each observed message, `W = max(W, E − L)`, where `E` is the
//!   largest `created_at` observed so far and `L` the allowed lateness
//!   (default 1 h);
//! - [`Windower::advance_watermark`]`(t)` sets `W = max(W, t)`: the caller
//!   knows event time has progressed (end of a backfill, a global watermark);
//! - [`Windower::advance_clock`]`(now)`, only if an idle timeout `I` is
//!   configured: when no message has arrived (by `ingested_at`) for at least
//!   `I`, event time is assumed to move with the clock since the last
//!   arrival `A`: `W = max(W, E + (now − A) − L)`. This closes the last
//!   windows of a quiet stream; during a backfill messages keep arriving, so
//!   the clock never overtakes event time.
//!
//! A window is **closed** once `W ≥ end`. [`Windower::take_closed`] emits
//! closed windows once, as rollup rows (plus their alert counts).
//!
//! # Late data
//!
//! A message whose window is already closed is not dropped: it is added to a
//! **late correction** for that window, emitted by the next
//! [`Windower::take_closed`] as rows with `is_late_correction = true`, and
//! counted in [`WindowStats`]. Because every measure is additive, the
//! window's final numbers are the sum of its on-time and late rows.
//! [`Observed`] tells the caller which case a message was.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use tongdian_schemas::FeedbackRow;

use crate::alerts::{TermCounts, WindowCounts};
use crate::error::ConfigError;
use crate::rollup::{window_totals, MessageFacts, RollupRow, Rollups, SlaConfig, WindowId};

/// One tumbling window size and its alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowSpec {
    pub size: TimeDelta,
    /// Boundaries fall at `offset + k·size` from the Unix epoch; in `[0, size)`.
    pub offset: TimeDelta,
}

impl WindowSpec {
    pub fn hours(n: i64) -> WindowSpec {
        WindowSpec {
            size: TimeDelta::hours(n),
            offset: TimeDelta::zero(),
        }
    }

    pub fn days(n: i64) -> WindowSpec {
        WindowSpec {
            size: TimeDelta::days(n),
            offset: TimeDelta::zero(),
        }
    }

    /// The window of this spec that contains `t`.
    pub fn window_of(&self, t: DateTime<Utc>) -> WindowId {
        let size = self.size.num_microseconds().unwrap_or(i64::MAX);
        let offset = self.offset.num_microseconds().unwrap_or(0);
        let k = (t.timestamp_micros() - offset).div_euclid(size);
        let start_micros = offset + k * size;
        let start = DateTime::from_timestamp_micros(start_micros).unwrap_or(t);
        WindowId {
            start,
            end: start + self.size,
        }
    }
}

/// How the windows are cut and when they close.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowConfig {
    pub windows: Vec<WindowSpec>,
    pub allowed_lateness: TimeDelta,
    /// See "Watermark" in the module documentation; `None` disables
    /// clock-driven progress.
    pub idle_timeout: Option<TimeDelta>,
    pub sla: SlaConfig,
}

impl Default for WindowConfig {
    fn default() -> Self {
        WindowConfig {
            windows: vec![WindowSpec::hours(1), WindowSpec::days(1)],
            allowed_lateness: TimeDelta::hours(1),
            idle_timeout: None,
            sla: SlaConfig::default(),
        }
    }
}

impl WindowConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.windows.is_empty() {
            return Err(ConfigError::NoWindows);
        }
        let mut sizes = Vec::new();
        for w in &self.windows {
            let size = w.size.num_seconds();
            if w.size <= TimeDelta::zero() {
                return Err(ConfigError::NonPositiveWindow(size));
            }
            if w.offset < TimeDelta::zero() || w.offset >= w.size {
                return Err(ConfigError::BadWindowOffset {
                    size,
                    offset: w.offset.num_seconds(),
                });
            }
            if sizes.contains(&w.size) {
                return Err(ConfigError::DuplicateWindow(size));
            }
            sizes.push(w.size);
        }
        if self.allowed_lateness < TimeDelta::zero() {
            return Err(ConfigError::NegativeLateness(
                self.allowed_lateness.num_seconds(),
            ));
        }
        if let Some(i) = self.idle_timeout.filter(|i| *i <= TimeDelta::zero()) {
            return Err(ConfigError::NonPositiveIdleTimeout(i.num_seconds()));
        }
        self.sla.validate()
    }
}

/// What happened to one observed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observed {
    /// Every window it belongs to was still open.
    OnTime,
    /// These of its windows had already closed; the message went into their
    /// late corrections (its other windows, if any, took it on time).
    LateCorrection { windows: Vec<WindowId> },
}

/// Running counts, for monitoring.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WindowStats {
    pub on_time: u64,
    /// Messages that went into at least one late correction.
    pub late: u64,
    /// Late (message, window) contributions per grain label.
    pub late_by_grain: BTreeMap<String, u64>,
    /// Windows closed and emitted on time.
    pub windows_closed: u64,
}

/// What [`Windower::take_closed`] or [`Windower::flush`] hands over.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Emitted {
    /// Rollup rows, in key order, on-time and late corrections alike.
    pub rollups: Vec<RollupRow>,
    /// Alert counts of windows that closed on time, in window order.
    pub closed: Vec<WindowCounts>,
    /// Alert counts of windows still open ([`Windower::flush`] only): a
    /// partial picture to add to whatever follows.
    pub partial: Vec<WindowCounts>,
}

#[derive(Debug, Default)]
struct OpenWindow {
    rollups: Rollups,
    terms: TermCounts,
}

impl OpenWindow {
    fn counts(self, window: WindowId) -> (Rollups, WindowCounts) {
        let totals = window_totals(self.rollups.iter()).remove(&window);
        let counts = WindowCounts::from_totals(window, totals.as_ref(), self.terms);
        (self.rollups, counts)
    }
}

/// The windowing state machine of one worker. Pure: time only comes in
/// through the messages and the `advance_*` calls.
#[derive(Debug)]
pub struct Windower {
    config: WindowConfig,
    max_event_time: Option<DateTime<Utc>>,
    last_arrival: Option<DateTime<Utc>>,
    watermark: Option<DateTime<Utc>>,
    open: BTreeMap<WindowId, OpenWindow>,
    late: BTreeMap<WindowId, Rollups>,
    stats: WindowStats,
}

impl Windower {
    pub fn new(config: WindowConfig) -> Result<Windower, ConfigError> {
        config.validate()?;
        Ok(Windower {
            config,
            max_event_time: None,
            last_arrival: None,
            watermark: None,
            open: BTreeMap::new(),
            late: BTreeMap::new(),
            stats: WindowStats::default(),
        })
    }

    pub fn config(&self) -> &WindowConfig {
        &self.config
    }

    pub fn watermark(&self) -> Option<DateTime<Utc>> {
        self.watermark
    }

    pub fn max_event_time(&self) -> Option<DateTime<Utc>> {
        self.max_event_time
    }

    pub fn stats(&self) -> &WindowStats {
        &self.stats
    }

    /// Windows holding on-time data not yet emitted.
    pub fn open_windows(&self) -> impl Iterator<Item = &WindowId> {
        self.open.keys()
    }

    fn is_closed(&self, w: &WindowId) -> bool {
        self.watermark.is_some_and(|wm| wm >= w.end)
    }

    /// Adds a message to its windows.
    pub fn observe(&mut self, row: &FeedbackRow) -> Observed {
        self.observe_with_terms::<&str>(row, &[])
    }

    /// Adds a message and, if it is negative ([`MessageFacts::is_negative`]),
    /// its `terms` (words or phrases from a segmenter) to the new-term counts
    /// of its on-time windows. Terms are normalised by
    /// [`TermCounts::add_message`].
    pub fn observe_with_terms<S: AsRef<str>>(
        &mut self,
        row: &FeedbackRow,
        terms: &[S],
    ) -> Observed {
        let facts = MessageFacts::new(row, &self.config.sla);
        let mut late = Vec::new();
        for spec in &self.config.windows {
            let w = spec.window_of(facts.created_at);
            if self.is_closed(&w) {
                self.late.entry(w).or_default().add(w, true, &facts);
                *self.stats.late_by_grain.entry(w.grain()).or_default() += 1;
                late.push(w);
            } else {
                let open = self.open.entry(w).or_default();
                open.rollups.add(w, false, &facts);
                if facts.is_negative() {
                    open.terms.add_message(&facts.id, terms);
                }
            }
        }
        let e = self
            .max_event_time
            .map_or(facts.created_at, |e| e.max(facts.created_at));
        self.max_event_time = Some(e);
        self.last_arrival = Some(
            self.last_arrival
                .map_or(row.ingested_at, |a| a.max(row.ingested_at)),
        );
        self.raise_watermark(e - self.config.allowed_lateness);
        if late.is_empty() {
            self.stats.on_time += 1;
            Observed::OnTime
        } else {
            self.stats.late += 1;
            Observed::LateCorrection { windows: late }
        }
    }

    fn raise_watermark(&mut self, to: DateTime<Utc>) {
        self.watermark = Some(self.watermark.map_or(to, |w| w.max(to)));
    }

    /// Event time is known to have reached `to` (never moves backwards).
    pub fn advance_watermark(&mut self, to: DateTime<Utc>) {
        self.raise_watermark(to);
    }

    /// Processing time is `now`; moves the watermark only under the idle
    /// rule of the module documentation.
    pub fn advance_clock(&mut self, now: DateTime<Utc>) {
        let (Some(idle), Some(e), Some(a)) = (
            self.config.idle_timeout,
            self.max_event_time,
            self.last_arrival,
        ) else {
            return;
        };
        if now - a >= idle {
            self.raise_watermark(e + (now - a) - self.config.allowed_lateness);
        }
    }

    /// Emits every window the watermark has closed and every pending late
    /// correction.
    pub fn take_closed(&mut self) -> Emitted {
        let closed: Vec<WindowId> = self
            .open
            .keys()
            .filter(|w| self.is_closed(w))
            .copied()
            .collect();
        let mut rollups = Rollups::new();
        let mut counts = Vec::new();
        for w in closed {
            let open = self.open.remove(&w).expect("listed above");
            let (r, c) = open.counts(w);
            rollups.merge(&r);
            counts.push(c);
            self.stats.windows_closed += 1;
        }
        for (_, late) in std::mem::take(&mut self.late) {
            rollups.merge(&late);
        }
        Emitted {
            rollups: rollups.into_rows(),
            closed: counts,
            partial: Vec::new(),
        }
    }

    /// Emits everything held, closed or not (before a commit or shutdown).
    /// Open windows go out as on-time partial rows and stay open: later
    /// messages for them start a new partial, and the rows add up.
    pub fn flush(&mut self) -> Emitted {
        let mut emitted = self.take_closed();
        let mut rollups = Rollups::new();
        rollups.extend(std::mem::take(&mut emitted.rollups));
        for (w, open) in std::mem::take(&mut self.open) {
            let (r, c) = open.counts(w);
            rollups.merge(&r);
            emitted.partial.push(c);
        }
        emitted.rollups = rollups.into_rows();
        emitted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rollup::tests::{row, t};
    use crate::rollup::{Measures, ALL};

    fn hour(start: &str) -> WindowId {
        let start = t(start);
        WindowId {
            start,
            end: start + TimeDelta::hours(1),
        }
    }

    fn hourly() -> Windower {
        Windower::new(WindowConfig {
            windows: vec![WindowSpec::hours(1)],
            ..WindowConfig::default()
        })
        .unwrap()
    }

    fn msg(id: &str, at: &str) -> FeedbackRow {
        row(id, at, "negative", &[("delivery", "negative")], &[])
    }

    fn all_messages(rows: &[RollupRow], w: WindowId, late: bool) -> u64 {
        rows.iter()
            .filter(|r| {
                r.key.window == w && r.key.is_late_correction == late && r.key.dims.theme == ALL
            })
            .map(|r| r.measures.messages)
            .sum()
    }

    #[test]
    fn windows_are_aligned_to_size_and_offset() {
        let w = WindowSpec::hours(1).window_of(t("2026-11-03T10:59:59.999Z"));
        assert_eq!(w, hour("2026-11-03T10:00:00Z"));
        assert_eq!(
            WindowSpec::hours(1)
                .window_of(t("2026-11-03T11:00:00Z"))
                .start,
            t("2026-11-03T11:00:00Z")
        );
        let china_day = WindowSpec {
            size: TimeDelta::days(1),
            offset: TimeDelta::hours(16),
        };
        let w = china_day.window_of(t("2026-11-03T15:00:00Z"));
        assert_eq!(
            (w.start, w.end),
            (t("2026-11-02T16:00:00Z"), t("2026-11-03T16:00:00Z"))
        );
        let before_epoch = WindowSpec::days(1).window_of(t("1969-12-31T23:00:00Z"));
        assert_eq!(before_epoch.start, t("1969-12-31T00:00:00Z"));
    }

    #[test]
    fn the_watermark_trails_the_latest_event_by_the_lateness() {
        let mut w = hourly();
        assert_eq!(w.watermark(), None);
        w.observe(&msg("a", "2026-11-03T10:10:00Z"));
        assert_eq!(w.watermark(), Some(t("2026-11-03T09:10:00Z")));
        w.observe(&msg("b", "2026-11-03T09:50:00Z")); // older: watermark stays
        assert_eq!(w.watermark(), Some(t("2026-11-03T09:10:00Z")));
        assert!(w.take_closed().rollups.is_empty(), "nothing has closed yet");

        // 11:00 − 1 h = 10:00 closes the 09:00 window, not the 10:00 one.
        w.observe(&msg("c", "2026-11-03T11:00:00Z"));
        let out = w.take_closed();
        assert_eq!(out.closed.len(), 1);
        assert_eq!(out.closed[0].window, hour("2026-11-03T09:00:00Z"));
        assert_eq!(
            all_messages(&out.rollups, hour("2026-11-03T09:00:00Z"), false),
            1
        );
        assert!(
            w.take_closed().rollups.is_empty(),
            "a window is emitted once"
        );
        assert_eq!(w.open_windows().count(), 2);
    }

    #[test]
    fn late_events_become_counted_additive_corrections() {
        let mut w = hourly();
        w.observe(&msg("a", "2026-11-03T09:30:00Z"));
        w.observe(&msg("b", "2026-11-03T11:30:00Z")); // watermark 10:30
        let first = w.take_closed();
        assert_eq!(
            all_messages(&first.rollups, hour("2026-11-03T09:00:00Z"), false),
            1
        );

        // 09:59 is within its window's lateness no more: a correction.
        let late = w.observe(&msg("c", "2026-11-03T09:59:00Z"));
        assert_eq!(
            late,
            Observed::LateCorrection {
                windows: vec![hour("2026-11-03T09:00:00Z")]
            }
        );
        // 10:45 still lands on time (its window ends 11:00 > 10:30).
        assert_eq!(
            w.observe(&msg("d", "2026-11-03T10:45:00Z")),
            Observed::OnTime
        );
        let second = w.take_closed();
        assert_eq!(
            all_messages(&second.rollups, hour("2026-11-03T09:00:00Z"), true),
            1
        );
        assert!(
            second.closed.is_empty(),
            "late rows do not reopen a window's alert counts"
        );
        assert_eq!(w.stats().late, 1);
        assert_eq!(w.stats().on_time, 3);
        assert_eq!(w.stats().late_by_grain["1h"], 1);

        // On-time and late rows of the window sum to everything it holds.
        let mut all = Rollups::new();
        all.extend(first.rollups.into_iter().chain(second.rollups));
        let merged = all.without_late_flag();
        let nine: u64 = merged
            .iter()
            .filter(|(k, _)| k.window == hour("2026-11-03T09:00:00Z") && k.dims.theme == ALL)
            .map(|(_, m): (_, &Measures)| m.messages)
            .sum();
        assert_eq!(nine, 2);
    }

    #[test]
    fn a_message_can_be_late_for_its_hour_and_on_time_for_its_day() {
        let mut w = Windower::new(WindowConfig::default()).unwrap();
        w.observe(&msg("a", "2026-11-03T12:00:00Z")); // watermark 11:00
        match w.observe(&msg("b", "2026-11-03T09:00:00Z")) {
            Observed::LateCorrection { windows } => {
                assert_eq!(windows, vec![hour("2026-11-03T09:00:00Z")]);
            }
            other => panic!("expected a late correction, got {other:?}"),
        }
        let day = WindowSpec::days(1).window_of(t("2026-11-03T09:00:00Z"));
        assert!(w.open_windows().any(|x| *x == day));
    }

    #[test]
    fn explicit_and_idle_clock_advances_close_windows() {
        let mut w = Windower::new(WindowConfig {
            windows: vec![WindowSpec::hours(1)],
            idle_timeout: Some(TimeDelta::minutes(10)),
            ..WindowConfig::default()
        })
        .unwrap();
        let mut m = msg("a", "2026-11-03T10:20:00Z");
        m.ingested_at = t("2026-11-03T10:20:05Z");
        w.observe(&m);
        // Not idle long enough: nothing moves.
        w.advance_clock(t("2026-11-03T10:29:00Z"));
        assert_eq!(w.watermark(), Some(t("2026-11-03T09:20:00Z")));
        // Idle 1 h 40 m: event time assumed 12:00, watermark 11:00.
        w.advance_clock(t("2026-11-03T12:00:05Z"));
        assert_eq!(w.watermark(), Some(t("2026-11-03T11:00:00Z")));
        assert_eq!(w.take_closed().closed.len(), 1);

        let mut plain = hourly();
        plain.observe(&msg("a", "2026-11-03T10:20:00Z"));
        plain.advance_clock(t("2026-11-05T00:00:00Z"));
        assert!(
            plain.take_closed().closed.is_empty(),
            "no idle timeout, no clock-driven progress"
        );
        plain.advance_watermark(t("2026-11-03T11:00:00Z"));
        plain.advance_watermark(t("2026-11-03T10:00:00Z"));
        assert_eq!(
            plain.watermark(),
            Some(t("2026-11-03T11:00:00Z")),
            "never moves back"
        );
        assert_eq!(plain.take_closed().closed.len(), 1);
    }

    #[test]
    fn flush_emits_open_windows_as_partials_that_add_up() {
        let mut w = hourly();
        w.observe(&msg("a", "2026-11-03T10:10:00Z"));
        let first = w.flush();
        assert_eq!(first.partial.len(), 1);
        assert!(first.closed.is_empty());
        w.observe(&msg("b", "2026-11-03T10:20:00Z"));
        w.advance_watermark(t("2026-11-03T11:00:00Z"));
        let second = w.take_closed();
        let ten = hour("2026-11-03T10:00:00Z");
        assert_eq!(
            all_messages(&first.rollups, ten, false) + all_messages(&second.rollups, ten, false),
            2
        );
    }

    #[test]
    fn bad_configurations_are_refused() {
        let with = |windows: Vec<WindowSpec>| {
            Windower::new(WindowConfig {
                windows,
                ..WindowConfig::default()
            })
            .unwrap_err()
        };
        assert_eq!(with(vec![]), ConfigError::NoWindows);
        assert_eq!(
            with(vec![WindowSpec::hours(0)]),
            ConfigError::NonPositiveWindow(0)
        );
        assert_eq!(
            with(vec![WindowSpec::hours(1), WindowSpec::hours(1)]),
            ConfigError::DuplicateWindow(3600)
        );
        let shifted = WindowSpec {
            size: TimeDelta::hours(1),
            offset: TimeDelta::hours(1),
        };
        assert_eq!(
            with(vec![shifted]),
            ConfigError::BadWindowOffset {
                size: 3600,
                offset: 3600
            }
        );
        let late = WindowConfig {
            allowed_lateness: TimeDelta::seconds(-1),
            ..WindowConfig::default()
        };
        assert_eq!(
            Windower::new(late).unwrap_err(),
            ConfigError::NegativeLateness(-1)
        );
    }
}
