//! Alerts: emerging themes, new complaint terms, critical messages.
//!
//! # Input
//!
//! The detectors work on [`WindowCounts`]: per closed window, message,
//! analysed and negative counts for all messages, per channel, per theme and
//! per theme × channel, plus the terms of negative messages. They are
//! additive ([`WindowCounts::merge`]), so partial counts from every worker
//! combine into the global picture before detection (see
//! [`crate::global`]); detecting on one worker's share would see a fraction
//! of each burst.
//!
//! # Emerging themes (`volume_spike`, `negative_share_spike`)
//!
//! A *series* is a theme, or a theme on one channel. For volume, the series
//! is modelled as its **share** `s = x / N` of all messages in the window
//! (of the channel's messages for a theme × channel series). Daily and
//! weekly cycles move every theme's volume together, so they cancel in the
//! share; the expected count is the learned share times the window's actual
//! volume, which is how a 3 a.m. lull and an 8 p.m. peak are both judged
//! fairly without a seasonal model.
//!
//! Baseline per series, updated once per window with weight `α`
//! (default 0.05):
//! - `p ← p + α (s − p)` (EWMA mean of the share),
//! - `v ← (1 − α)(v + α (s − p_old)²)` (EWMA variance of the share),
//! - `b ← (1 − α) b + α p(1 − p)/N` (EWMA of the binomial part of `v`).
//!
//! Test, with `e = N p`:
//! `sd = √(max(e, 1)(1 − p) + N² max(v − b, 0))` (counting noise plus the
//! series' own extra variability), `z = (x − e) / sd`, `ratio = (x + 1) /
//! (e + 1)`. A window *fires* when the baseline has seen `warmup` windows
//! (24) and `x ≥ min_volume` (10), `ratio ≥ min_ratio` (2) and
//! `z ≥ z_threshold` (4). An alert is raised when a series fires in
//! `persistence` (2) consecutive windows and is not in its `cooldown`
//! (6 h after its last alert of that kind). Firing windows update the
//! baseline with `x` clamped to `e + z_threshold · sd`, so a burst does not
//! teach the baseline that bursts are normal. `score` is `z`; severity from
//! the ratio: ≥ 5 high, ≥ 3 medium, else low.
//!
//! Negative share works the same way on `x = negative`, `N = analysed` of
//! the series, and additionally needs the share to rise by at least
//! `min_share_increase` (0.2) over the baseline and `x ≥ 5`; severity from
//! that rise: ≥ 0.4 high, ≥ 0.3 medium, else low.
//!
//! # New complaint terms (`new_term`)
//!
//! Terms (words or phrases, from the caller's segmenter) of negative
//! messages are counted per window, once per message. The baseline keeps
//! exponentially decayed term counts `c` and a decayed number of negative
//! messages `M` (decay `β`, default 1/168: about a week of hourly windows).
//! For a term in `a` of the window's `n` negative messages, Dunning's
//! log-likelihood ratio `G² = 2 Σ O ln(O / E)` over the 2×2 table
//! `[[a, n − a], [c, M − c]]` measures the surge. A term is a candidate when
//! the baseline has seen `term_warmup` windows (24), `a ≥ term_min_count`
//! (5), its rate ratio `(a / n) / ((c + 1) / (M + 1)) ≥ term_min_ratio` (5),
//! `G² ≥ term_min_llr` (20), no theme covers it (caller's predicate) and it
//! is out of its 24 h cooldown; the strongest `max_terms_per_window` (5)
//! are raised, with example message ids, as candidate themes. `score` is
//! `G²`; severity from `a`: ≥ 5 × min high, ≥ 2 × min medium, else low.
//!
//! # Critical messages (`critical_message`)
//!
//! [`critical_alert`]: a message flagged `safety` or `escalation`, or
//! `churn_risk` from a `high_value` customer, raises one alert at once
//! (severity critical with `safety`, else high), window = its event time.
//!
//! # Ids
//!
//! `alert_id` is a stable 128-bit hash of kind, theme, channel, term and
//! window (of kind and message id for critical messages), so replaying a
//! stream re-emits the same ids and downstream upserts are idempotent.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use tongdian_schemas::analytics::AlertRecord;
use tongdian_schemas::FeedbackRow;

use crate::error::{ConfigError, DetectorError};
use crate::hash::{hash64, stable_id};
use crate::rollup::{Measures, ThemeTotal, WindowId, WindowTotals, UNKNOWN};

/// Example message ids kept per term.
pub const MAX_EXAMPLES: usize = 5;

/// Message counts of one series in one window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesCounts {
    pub messages: u64,
    pub analysed: u64,
    pub negative: u64,
}

impl SeriesCounts {
    fn of(m: &Measures) -> SeriesCounts {
        SeriesCounts {
            messages: m.messages,
            analysed: m.analysed,
            negative: m.negative,
        }
    }

    fn add(&mut self, o: &SeriesCounts) {
        self.messages += o.messages;
        self.analysed += o.analysed;
        self.negative += o.negative;
    }
}

/// A term's count in a window, with a deterministic sample of messages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TermStat {
    /// Negative messages containing the term.
    pub messages: u64,
    /// Up to [`MAX_EXAMPLES`] message ids: those with the smallest hash, so
    /// the sample is the same however the counts were split and merged.
    pub examples: Vec<String>,
}

fn example_order(id: &str) -> (u64, &str) {
    (hash64(id.as_bytes(), 3), id)
}

impl TermStat {
    fn add_examples<'a>(&mut self, ids: impl IntoIterator<Item = &'a str>) {
        for id in ids {
            if !self.examples.iter().any(|e| e == id) {
                self.examples.push(id.to_owned());
            }
        }
        self.examples
            .sort_by(|a, b| example_order(a).cmp(&example_order(b)));
        self.examples.truncate(MAX_EXAMPLES);
    }
}

/// Terms of one window's negative messages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TermCounts {
    pub negative_messages: u64,
    pub terms: BTreeMap<String, TermStat>,
}

/// Case-folded and trimmed; `None` for what cannot name a complaint: fewer
/// than two characters (a lone Chinese character is too ambiguous) or no
/// letter or digit at all (punctuation, emoji).
pub fn normalise_term(term: &str) -> Option<String> {
    let t = term.trim().to_lowercase();
    (t.chars().count() >= 2 && t.chars().any(char::is_alphanumeric)).then_some(t)
}

impl TermCounts {
    /// Counts one negative message and its distinct normalised terms.
    pub fn add_message<S: AsRef<str>>(&mut self, message_id: &str, terms: &[S]) {
        self.negative_messages += 1;
        let mut seen: Vec<String> = terms
            .iter()
            .filter_map(|t| normalise_term(t.as_ref()))
            .collect();
        seen.sort();
        seen.dedup();
        for t in seen {
            let stat = self.terms.entry(t).or_default();
            stat.messages += 1;
            stat.add_examples([message_id]);
        }
    }

    pub fn merge(&mut self, other: &TermCounts) {
        self.negative_messages += other.negative_messages;
        for (t, s) in &other.terms {
            let mine = self.terms.entry(t.clone()).or_default();
            mine.messages += s.messages;
            mine.add_examples(s.examples.iter().map(String::as_str));
        }
    }
}

/// Everything the detectors need from one window. Additive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowCounts {
    pub window: WindowId,
    pub total: SeriesCounts,
    pub channels: BTreeMap<String, SeriesCounts>,
    pub themes: BTreeMap<String, SeriesCounts>,
    /// theme → channel → counts.
    pub theme_channels: BTreeMap<String, BTreeMap<String, SeriesCounts>>,
    pub terms: TermCounts,
    /// The window's `all` measures, for priorities (NPS drivers, scope).
    #[serde(default)]
    pub all: Measures,
    /// Each theme's measures, for priorities.
    #[serde(default)]
    pub theme_totals: BTreeMap<String, ThemeTotal>,
}

impl WindowCounts {
    pub fn empty(window: WindowId) -> WindowCounts {
        WindowCounts {
            window,
            total: SeriesCounts::default(),
            channels: BTreeMap::new(),
            themes: BTreeMap::new(),
            theme_channels: BTreeMap::new(),
            terms: TermCounts::default(),
            all: Measures::default(),
            theme_totals: BTreeMap::new(),
        }
    }

    /// From a window's rollup totals and its term counts.
    pub fn from_totals(
        window: WindowId,
        totals: Option<&WindowTotals>,
        terms: TermCounts,
    ) -> WindowCounts {
        let mut c = WindowCounts {
            terms,
            ..WindowCounts::empty(window)
        };
        if let Some(t) = totals {
            c.all = t.all.clone();
            c.theme_totals = t.themes.clone();
            c.total = SeriesCounts::of(&t.all);
            c.channels = t
                .channels
                .iter()
                .map(|(k, m)| (k.clone(), SeriesCounts::of(m)))
                .collect();
            c.themes = t
                .themes
                .iter()
                .map(|(k, m)| (k.clone(), SeriesCounts::of(&m.measures)))
                .collect();
            for ((theme, channel), m) in &t.theme_channels {
                c.theme_channels
                    .entry(theme.clone())
                    .or_default()
                    .insert(channel.clone(), SeriesCounts::of(m));
            }
        }
        c
    }

    /// Adds `other` (same window) in. Associative and commutative.
    pub fn merge(&mut self, other: &WindowCounts) {
        self.total.add(&other.total);
        for (k, v) in &other.channels {
            self.channels.entry(k.clone()).or_default().add(v);
        }
        for (k, v) in &other.themes {
            self.themes.entry(k.clone()).or_default().add(v);
        }
        for (t, chans) in &other.theme_channels {
            let mine = self.theme_channels.entry(t.clone()).or_default();
            for (c, v) in chans {
                mine.entry(c.clone()).or_default().add(v);
            }
        }
        self.terms.merge(&other.terms);
        self.all.merge(&other.all);
        for (k, v) in &other.theme_totals {
            let mine = self
                .theme_totals
                .entry(k.clone())
                .or_insert_with(|| ThemeTotal {
                    category: v.category.clone(),
                    stage: v.stage.clone(),
                    measures: Measures::default(),
                });
            mine.measures.merge(&v.measures);
        }
    }

    /// The window's totals as priorities need them (`all` and themes).
    pub fn totals(&self) -> WindowTotals {
        WindowTotals {
            window: self.window,
            all: self.all.clone(),
            channels: BTreeMap::new(),
            themes: self.theme_totals.clone(),
            theme_channels: BTreeMap::new(),
        }
    }
}

/// The `kind` column of `alerts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    VolumeSpike,
    NegativeShareSpike,
    NewTerm,
    CriticalMessage,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::VolumeSpike => "volume_spike",
            AlertKind::NegativeShareSpike => "negative_share_spike",
            AlertKind::NewTerm => "new_term",
            AlertKind::CriticalMessage => "critical_message",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// One alert: a row of `alerts`, a `feedback.alerts` message, a webhook.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    pub alert_id: String,
    pub kind: AlertKind,
    pub theme_id: Option<String>,
    pub channel: Option<String>,
    pub term: Option<String>,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    pub observed: f64,
    pub expected: f64,
    pub score: f64,
    pub severity: Severity,
    pub example_message_ids: Vec<String>,
    pub detail: String,
    pub created_at: DateTime<Utc>,
}

impl Alert {
    pub fn to_record(&self) -> AlertRecord {
        AlertRecord {
            alert_id: self.alert_id.clone(),
            kind: self.kind.as_str().to_owned(),
            theme_id: self.theme_id.clone(),
            channel: self.channel.clone(),
            term: self.term.clone(),
            window_start: self.window_start,
            window_end: self.window_end,
            observed: self.observed,
            expected: self.expected,
            score: self.score,
            severity: self.severity.as_str().to_owned(),
            example_message_ids: self.example_message_ids.clone(),
            detail: self.detail.clone(),
            created_at: self.created_at,
        }
    }
}

fn window_alert_id(
    kind: AlertKind,
    theme: Option<&str>,
    channel: Option<&str>,
    term: Option<&str>,
    w: WindowId,
) -> String {
    stable_id(&[
        kind.as_str(),
        theme.unwrap_or(""),
        channel.unwrap_or(""),
        term.unwrap_or(""),
        &w.start.to_rfc3339(),
        &w.end.to_rfc3339(),
    ])
}

/// Settings of [`EmergingDetector`]; the module documentation explains each.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectorConfig {
    pub alpha: f64,
    pub warmup: u32,
    pub z_threshold: f64,
    pub min_volume: u64,
    pub min_ratio: f64,
    pub min_share_increase: f64,
    pub min_negative: u64,
    pub persistence: u32,
    pub cooldown: TimeDelta,
    /// Also watch each theme on each channel.
    pub theme_channel_series: bool,
    pub term_decay: f64,
    pub term_warmup: u32,
    pub term_min_count: u64,
    pub term_min_ratio: f64,
    pub term_min_llr: f64,
    pub term_cooldown: TimeDelta,
    pub max_terms_per_window: usize,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            alpha: 0.05,
            warmup: 24,
            z_threshold: 4.0,
            min_volume: 10,
            min_ratio: 2.0,
            min_share_increase: 0.2,
            min_negative: 5,
            persistence: 2,
            cooldown: TimeDelta::hours(6),
            theme_channel_series: true,
            term_decay: 1.0 / 168.0,
            term_warmup: 24,
            term_min_count: 5,
            term_min_ratio: 5.0,
            term_min_llr: 20.0,
            term_cooldown: TimeDelta::hours(24),
            max_terms_per_window: 5,
        }
    }
}

impl DetectorConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let unit = |name, value: f64| {
            if value > 0.0 && value <= 1.0 {
                Ok(())
            } else {
                Err(ConfigError::OutOfRange {
                    name,
                    value,
                    rule: "must lie in (0, 1]",
                })
            }
        };
        let positive = |name, value: f64| {
            if value > 0.0 && value.is_finite() {
                Ok(())
            } else {
                Err(ConfigError::OutOfRange {
                    name,
                    value,
                    rule: "must be positive",
                })
            }
        };
        unit("alpha", self.alpha)?;
        unit("term_decay", self.term_decay)?;
        positive("z_threshold", self.z_threshold)?;
        positive("min_ratio", self.min_ratio)?;
        positive("term_min_ratio", self.term_min_ratio)?;
        positive("term_min_llr", self.term_min_llr)?;
        positive("persistence", f64::from(self.persistence))?;
        Ok(())
    }
}

/// EWMA baseline of a share; see the module documentation.
#[derive(Debug, Clone, Default)]
struct Baseline {
    p: f64,
    v: f64,
    b: f64,
    windows: u32,
}

struct Check {
    expected: f64,
    sd: f64,
    z: f64,
    ratio: f64,
}

impl Baseline {
    fn check(&self, x: f64, n: f64) -> Check {
        let expected = n * self.p;
        let var = expected.max(1.0) * (1.0 - self.p) + n * n * (self.v - self.b).max(0.0);
        // A share of exactly 1 has no noise left; keep z finite.
        let var = var.max(1e-9);
        let sd = var.sqrt();
        Check {
            expected,
            sd,
            z: (x - expected) / sd,
            ratio: (x + 1.0) / (expected + 1.0),
        }
    }

    /// Learns from a window. A window that fires is learned only up to
    /// the alert threshold, so a burst does not raise the baseline enough
    /// to hide its own continuation.
    fn learn(&mut self, x: f64, n: f64, firing: bool, c: &Check, cfg: &DetectorConfig) {
        let x = if firing {
            x.min(c.expected + cfg.z_threshold * c.sd)
        } else {
            x
        };
        self.update(x, n, cfg.alpha);
    }

    fn update(&mut self, x: f64, n: f64, alpha: f64) {
        let s = x / n;
        if self.windows == 0 {
            self.p = s;
            self.v = 0.0;
            self.b = s * (1.0 - s) / n;
        } else {
            let d = s - self.p;
            self.p += alpha * d;
            self.v = (1.0 - alpha) * (self.v + alpha * d * d);
            self.b = (1.0 - alpha) * self.b + alpha * self.p * (1.0 - self.p) / n;
        }
        self.windows += 1;
    }
}

#[derive(Debug, Clone, Default)]
struct Watch {
    baseline: Baseline,
    streak: u32,
    cooldown_until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default)]
struct SeriesState {
    volume: Watch,
    negative: Watch,
}

/// (theme, channel): `None` channel for the theme over all channels.
type SeriesKey = (String, Option<String>);

/// Detects emerging themes and new terms over a sequence of closed windows
/// of one grain, fed in order.
#[derive(Debug)]
pub struct EmergingDetector {
    config: DetectorConfig,
    series: BTreeMap<SeriesKey, SeriesState>,
    term_counts: BTreeMap<String, f64>,
    term_total: f64,
    term_windows: u32,
    term_cooldown: BTreeMap<String, DateTime<Utc>>,
    last_end: Option<DateTime<Utc>>,
}

impl EmergingDetector {
    pub fn new(config: DetectorConfig) -> Result<EmergingDetector, ConfigError> {
        config.validate()?;
        Ok(EmergingDetector {
            config,
            series: BTreeMap::new(),
            term_counts: BTreeMap::new(),
            term_total: 0.0,
            term_windows: 0,
            term_cooldown: BTreeMap::new(),
            last_end: None,
        })
    }

    /// Feeds the next closed window (global counts) and returns its alerts,
    /// stamped `created_at`. `covered(term)` says whether a theme's keywords
    /// already cover a term. A gap between windows breaks persistence
    /// streaks; a window that does not follow the previous one is refused.
    pub fn observe(
        &mut self,
        counts: &WindowCounts,
        covered: impl Fn(&str) -> bool,
        created_at: DateTime<Utc>,
    ) -> Result<Vec<Alert>, DetectorError> {
        let w = counts.window;
        if let Some(last_end) = self.last_end.filter(|e| w.start < *e) {
            return Err(DetectorError::OutOfOrder {
                start: w.start,
                last_end,
            });
        }
        if self.last_end != Some(w.start) {
            for s in self.series.values_mut() {
                s.volume.streak = 0;
                s.negative.streak = 0;
            }
        }
        self.last_end = Some(w.end);
        let mut alerts = Vec::new();
        for key in self.series_keys(counts) {
            let (x, n) = self.volume_inputs(counts, &key);
            let neg = self.negative_inputs(counts, &key);
            let state = self.series.entry(key.clone()).or_default();
            let cfg = &self.config;
            if let Some(a) = watch_volume(cfg, &mut state.volume, &key, w, x, n, created_at) {
                alerts.push(a);
            }
            if let Some(a) = watch_negative(cfg, &mut state.negative, &key, w, neg, created_at) {
                alerts.push(a);
            }
        }
        alerts.extend(self.new_terms(counts, &covered, created_at));
        Ok(alerts)
    }

    fn series_keys(&self, c: &WindowCounts) -> Vec<SeriesKey> {
        let mut keys: Vec<SeriesKey> = self.series.keys().cloned().collect();
        keys.extend(c.themes.keys().map(|t| (t.clone(), None)));
        if self.config.theme_channel_series {
            for (t, chans) in &c.theme_channels {
                keys.extend(chans.keys().map(|ch| (t.clone(), Some(ch.clone()))));
            }
        }
        keys.sort();
        keys.dedup();
        keys
    }

    fn series_counts(c: &WindowCounts, key: &SeriesKey) -> SeriesCounts {
        match &key.1 {
            None => c.themes.get(&key.0).copied(),
            Some(ch) => c
                .theme_channels
                .get(&key.0)
                .and_then(|m| m.get(ch))
                .copied(),
        }
        .unwrap_or_default()
    }

    fn volume_inputs(&self, c: &WindowCounts, key: &SeriesKey) -> (u64, u64) {
        let n = match &key.1 {
            None => c.total.messages,
            Some(ch) => c.channels.get(ch).map_or(0, |s| s.messages),
        };
        (Self::series_counts(c, key).messages, n)
    }

    fn negative_inputs(&self, c: &WindowCounts, key: &SeriesKey) -> (u64, u64) {
        let s = Self::series_counts(c, key);
        (s.negative, s.analysed)
    }

    fn new_terms(
        &mut self,
        c: &WindowCounts,
        covered: &impl Fn(&str) -> bool,
        created_at: DateTime<Utc>,
    ) -> Vec<Alert> {
        let cfg = &self.config;
        let w = c.window;
        let n = c.terms.negative_messages as f64;
        let m = self.term_total;
        let mut candidates = Vec::new();
        if self.term_windows >= cfg.term_warmup && n > 0.0 && m > 0.0 {
            for (term, stat) in &c.terms.terms {
                let a = stat.messages as f64;
                if stat.messages < cfg.term_min_count
                    || self
                        .term_cooldown
                        .get(term)
                        .is_some_and(|until| w.start < *until)
                {
                    continue;
                }
                let base = self.term_counts.get(term).copied().unwrap_or(0.0).min(m);
                let ratio = (a / n) / ((base + 1.0) / (m + 1.0));
                if ratio < cfg.term_min_ratio {
                    continue;
                }
                let g2 = log_likelihood_ratio(a, n, base, m);
                if g2 >= cfg.term_min_llr && !covered(term) {
                    candidates.push((g2, term, stat, base));
                }
            }
        }
        candidates.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(y.1)));
        candidates.truncate(cfg.max_terms_per_window);
        let alerts: Vec<Alert> = candidates
            .into_iter()
            .map(|(g2, term, stat, base)| {
                let expected = n * (base + 1.0) / (m + 1.0);
                let min = cfg.term_min_count;
                let severity = match stat.messages {
                    x if x >= 5 * min => Severity::High,
                    x if x >= 2 * min => Severity::Medium,
                    _ => Severity::Low,
                };
                Alert {
                    alert_id: window_alert_id(AlertKind::NewTerm, None, None, Some(term), w),
                    kind: AlertKind::NewTerm,
                    theme_id: None,
                    channel: None,
                    term: Some(term.clone()),
                    window_start: w.start,
                    window_end: w.end,
                    observed: stat.messages as f64,
                    expected,
                    score: g2,
                    severity,
                    example_message_ids: stat.examples.clone(),
                    detail: format!(
                        "candidate theme: `{term}` in {} of {} negative messages (baseline rate {:.3} %), covered by no theme",
                        stat.messages,
                        c.terms.negative_messages,
                        100.0 * (base / m.max(1.0)),
                    ),
                    created_at,
                }
            })
            .collect();
        for a in &alerts {
            let term = a.term.clone().expect("new-term alerts name their term");
            self.term_cooldown
                .insert(term, w.start + self.config.term_cooldown);
        }
        self.term_cooldown.retain(|_, until| *until > w.start);
        // Decay, then add this window; forget terms whose weight has faded.
        let keep = 1.0 - self.config.term_decay;
        for v in self.term_counts.values_mut() {
            *v *= keep;
        }
        for (term, stat) in &c.terms.terms {
            *self.term_counts.entry(term.clone()).or_default() += stat.messages as f64;
        }
        self.term_counts.retain(|_, v| *v >= 0.05);
        self.term_total = self.term_total * keep + n;
        self.term_windows += 1;
        alerts
    }
}

/// Dunning's G² for "a of n" against "c of m" (floats: the baseline is
/// decayed). Zero cells contribute nothing.
pub fn log_likelihood_ratio(a: f64, n: f64, c: f64, m: f64) -> f64 {
    let cells = [
        (a, n, a + c),
        (n - a, n, n - a + m - c),
        (c, m, a + c),
        (m - c, m, n - a + m - c),
    ];
    let total = n + m;
    let g: f64 = cells
        .iter()
        .filter(|(o, _, _)| *o > 0.0)
        .map(|&(o, row, col)| o * (o * total / (row * col)).ln())
        .sum();
    (2.0 * g).max(0.0)
}

fn fire(cfg: &DetectorConfig, watch: &mut Watch, firing: bool, w: WindowId) -> bool {
    watch.streak = if firing { watch.streak + 1 } else { 0 };
    let raise = firing
        && watch.streak >= cfg.persistence
        && watch.cooldown_until.is_none_or(|until| w.start >= until);
    if raise {
        watch.cooldown_until = Some(w.end + cfg.cooldown);
    }
    raise
}

fn series_alert(kind: AlertKind, key: &SeriesKey, w: WindowId, created_at: DateTime<Utc>) -> Alert {
    let channel = key.1.as_deref();
    Alert {
        alert_id: window_alert_id(kind, Some(&key.0), channel, None, w),
        kind,
        theme_id: Some(key.0.clone()),
        channel: key.1.clone(),
        term: None,
        window_start: w.start,
        window_end: w.end,
        observed: 0.0,
        expected: 0.0,
        score: 0.0,
        severity: Severity::Low,
        example_message_ids: Vec::new(),
        detail: String::new(),
        created_at,
    }
}

fn where_(key: &SeriesKey) -> String {
    match &key.1 {
        Some(ch) => format!("`{}` on {ch}", key.0),
        None => format!("`{}`", key.0),
    }
}

fn watch_volume(
    cfg: &DetectorConfig,
    watch: &mut Watch,
    key: &SeriesKey,
    w: WindowId,
    x: u64,
    n: u64,
    created_at: DateTime<Utc>,
) -> Option<Alert> {
    if n == 0 {
        watch.streak = 0;
        return None;
    }
    let (xf, nf) = (x as f64, n as f64);
    let c = watch.baseline.check(xf, nf);
    let firing = watch.baseline.windows >= cfg.warmup
        && x >= cfg.min_volume
        && c.ratio >= cfg.min_ratio
        && c.z >= cfg.z_threshold;
    let raise = fire(cfg, watch, firing, w);
    watch.baseline.learn(xf, nf, firing, &c, cfg);
    raise.then(|| {
        let ratio = xf / c.expected.max(0.5);
        Alert {
            observed: xf,
            expected: c.expected,
            score: c.z,
            severity: match ratio {
                r if r >= 5.0 => Severity::High,
                r if r >= 3.0 => Severity::Medium,
                _ => Severity::Low,
            },
            detail: format!(
                "{} volume {x} against {:.1} expected ({ratio:.1}×, z = {:.1}) for {} consecutive windows",
                where_(key),
                c.expected,
                c.z,
                watch.streak
            ),
            ..series_alert(AlertKind::VolumeSpike, key, w, created_at)
        }
    })
}

fn watch_negative(
    cfg: &DetectorConfig,
    watch: &mut Watch,
    key: &SeriesKey,
    w: WindowId,
    (x, n): (u64, u64),
    created_at: DateTime<Utc>,
) -> Option<Alert> {
    if n == 0 {
        watch.streak = 0;
        return None;
    }
    let (xf, nf) = (x as f64, n as f64);
    let c = watch.baseline.check(xf, nf);
    let rise = xf / nf - watch.baseline.p;
    let firing = watch.baseline.windows >= cfg.warmup
        && n >= cfg.min_volume
        && x >= cfg.min_negative
        && rise >= cfg.min_share_increase
        && c.z >= cfg.z_threshold;
    let raise = fire(cfg, watch, firing, w);
    watch.baseline.learn(xf, nf, firing, &c, cfg);
    raise.then(|| Alert {
        observed: xf / nf,
        expected: c.expected / nf,
        score: c.z,
        severity: match rise {
            r if r >= 0.4 => Severity::High,
            r if r >= 0.3 => Severity::Medium,
            _ => Severity::Low,
        },
        detail: format!(
            "{} negative share {:.0} % ({x} of {n}) against {:.0} % expected (z = {:.1}) for {} consecutive windows",
            where_(key),
            100.0 * xf / nf,
            100.0 * c.expected / nf,
            c.z,
            watch.streak
        ),
        ..series_alert(AlertKind::NegativeShareSpike, key, w, created_at)
    })
}

/// The immediate alert for a critical message, if it is one (rule in the
/// module documentation). The detail names the flags, not the text, so a
/// webhook does not carry customers' words to another system.
pub fn critical_alert(row: &FeedbackRow, created_at: DateTime<Utc>) -> Option<Alert> {
    let f = &row.feedback;
    let a = row.analysis.as_ref()?;
    let has = |flag: &str| a.flags.iter().any(|x| x == flag);
    let high_value = f
        .customer
        .as_ref()
        .and_then(|c| c.segment)
        .is_some_and(|s| s == tongdian_schemas::Segment::HighValue);
    let mut reasons = Vec::new();
    if has("safety") {
        reasons.push("safety");
    }
    if has("escalation") {
        reasons.push("escalation");
    }
    if has("churn_risk") && high_value {
        reasons.push("churn_risk from a high_value customer");
    }
    if reasons.is_empty() {
        return None;
    }
    let theme = a
        .themes
        .iter()
        .find(|t| t.polarity == "negative")
        .or(a.themes.first())
        .map(|t| t.id.clone());
    Some(Alert {
        alert_id: stable_id(&[AlertKind::CriticalMessage.as_str(), &f.id]),
        kind: AlertKind::CriticalMessage,
        theme_id: theme,
        channel: f.channel.clone(),
        term: None,
        window_start: f.created_at,
        window_end: f.created_at,
        observed: 1.0,
        expected: 0.0,
        score: reasons.len() as f64,
        severity: if has("safety") {
            Severity::Critical
        } else {
            Severity::High
        },
        example_message_ids: vec![f.id.clone()],
        detail: format!(
            "{}: message {} ({}, {}, channel {})",
            reasons.join(", "),
            f.id,
            f.kind.as_str(),
            f.source,
            f.channel.as_deref().unwrap_or(UNKNOWN)
        ),
        created_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rollup::tests::{row, t};
    use tongdian_schemas::{Customer, Segment};

    fn window(i: i64) -> WindowId {
        let start = t("2026-11-01T00:00:00Z") + TimeDelta::hours(i);
        WindowId {
            start,
            end: start + TimeDelta::hours(1),
        }
    }

    fn counts(i: i64, total: u64, theme: u64, negative: u64) -> WindowCounts {
        let mut c = WindowCounts::empty(window(i));
        c.total = SeriesCounts {
            messages: total,
            analysed: total,
            negative: total / 4,
        };
        c.themes.insert(
            "delivery".into(),
            SeriesCounts {
                messages: theme,
                analysed: theme,
                negative,
            },
        );
        c
    }

    fn detector() -> EmergingDetector {
        EmergingDetector::new(DetectorConfig {
            theme_channel_series: false,
            ..DetectorConfig::default()
        })
        .unwrap()
    }

    #[test]
    fn a_daily_cycle_alone_raises_nothing_but_a_share_burst_does() {
        let mut d = detector();
        let now = t("2026-11-20T00:00:00Z");
        let mut alerts = Vec::new();
        for i in 0..96 {
            // Volume swings 10× over the day; the theme keeps ~10 % of it.
            let total =
                40 + (360.0 * (1.0 + (i as f64 * std::f64::consts::TAU / 24.0).sin()) / 2.0) as u64;
            let theme = total / 10 + (i as u64 % 3);
            alerts.extend(
                d.observe(&counts(i, total, theme, theme / 4), |_| false, now)
                    .unwrap(),
            );
        }
        assert!(alerts.is_empty(), "{alerts:#?}");
        for i in 96..99 {
            let a = d.observe(&counts(i, 300, 150, 37), |_| false, now).unwrap();
            alerts.extend(a);
        }
        assert_eq!(alerts.len(), 1, "persistence 2, then cooldown: {alerts:#?}");
        let a = &alerts[0];
        assert_eq!(
            (a.kind, a.window_start),
            (AlertKind::VolumeSpike, window(97).start)
        );
        assert_eq!(a.theme_id.as_deref(), Some("delivery"));
        assert!(
            a.observed == 150.0 && a.expected < 40.0 && a.score > 4.0,
            "{a:?}"
        );
        assert_eq!(
            a.severity,
            Severity::Medium,
            "{:.1}× the expected volume",
            a.observed / a.expected
        );
    }

    #[test]
    fn negative_share_spikes_need_a_real_rise() {
        let mut d = detector();
        let now = t("2026-11-20T00:00:00Z");
        for i in 0..30 {
            assert!(d
                .observe(&counts(i, 400, 40, 10), |_| false, now)
                .unwrap()
                .is_empty());
        }
        let mut alerts = Vec::new();
        for i in 30..32 {
            alerts.extend(d.observe(&counts(i, 400, 40, 30), |_| false, now).unwrap());
        }
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].kind, AlertKind::NegativeShareSpike);
        assert!(
            (alerts[0].observed - 0.75).abs() < 1e-9 && (alerts[0].expected - 0.25).abs() < 0.02,
            "{:?}",
            alerts[0]
        );
    }

    #[test]
    fn windows_must_come_in_order_and_gaps_break_streaks() {
        let mut d = detector();
        let now = t("2026-11-20T00:00:00Z");
        for i in 0..30 {
            d.observe(&counts(i, 400, 40, 10), |_| false, now).unwrap();
        }
        assert!(matches!(
            d.observe(&counts(29, 400, 40, 10), |_| false, now),
            Err(DetectorError::OutOfOrder { .. })
        ));
        // Two bursting windows with a gap between them are not persistent.
        assert!(d
            .observe(&counts(30, 400, 200, 50), |_| false, now)
            .unwrap()
            .is_empty());
        assert!(d
            .observe(&counts(32, 400, 200, 50), |_| false, now)
            .unwrap()
            .is_empty());
        assert_eq!(
            d.observe(&counts(33, 400, 200, 50), |_| false, now)
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn a_surging_uncovered_term_is_proposed_once_with_examples() {
        let mut d = detector();
        let now = t("2026-11-20T00:00:00Z");
        let with_terms = |i: i64, extra: u64| {
            let mut c = counts(i, 400, 40, 10);
            for m in 0..100 {
                c.terms
                    .add_message(&format!("m{i}-{m}"), &["质量", "太差", "失望"]);
            }
            for m in 0..extra {
                c.terms
                    .add_message(&format!("x{i}-{m}"), &["鼓包", "电池", "太差"]);
            }
            c
        };
        for i in 0..30 {
            assert!(d
                .observe(&with_terms(i, 0), |_| false, now)
                .unwrap()
                .is_empty());
        }
        let covered = |t: &str| t == "电池";
        let alerts = d.observe(&with_terms(30, 12), covered, now).unwrap();
        let terms: Vec<_> = alerts.iter().filter_map(|a| a.term.as_deref()).collect();
        assert_eq!(
            terms,
            vec!["鼓包"],
            "电池 is covered by a theme: {alerts:#?}"
        );
        let a = &alerts[0];
        assert_eq!(
            (a.kind, a.observed, a.example_message_ids.len()),
            (AlertKind::NewTerm, 12.0, MAX_EXAMPLES)
        );
        assert!(a
            .example_message_ids
            .iter()
            .all(|id| id.starts_with("x30-")));
        assert!(a.score >= 20.0);
        // Cooldown: the next window's surge of the same term is not re-raised.
        assert!(d
            .observe(&with_terms(31, 12), covered, now)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn llr_is_zero_for_equal_rates_and_grows_with_surprise() {
        assert!(log_likelihood_ratio(10.0, 100.0, 100.0, 1000.0).abs() < 1e-9);
        let small = log_likelihood_ratio(5.0, 100.0, 10.0, 1000.0);
        let big = log_likelihood_ratio(20.0, 100.0, 10.0, 1000.0);
        assert!(big > small && small > 0.0);
    }

    #[test]
    fn term_counts_merge_in_any_order_with_the_same_examples() {
        let mut a = TermCounts::default();
        let mut b = TermCounts::default();
        for i in 0..20 {
            let target = if i % 3 == 0 { &mut a } else { &mut b };
            target.add_message(&format!("m{i}"), &["鼓包", " 鼓包 ", "!!", "a", "Battery"]);
        }
        let mut ab = a.clone();
        ab.merge(&b);
        let mut ba = b.clone();
        ba.merge(&a);
        assert_eq!(ab, ba);
        assert_eq!(ab.terms.keys().collect::<Vec<_>>(), vec!["battery", "鼓包"]);
        assert_eq!(ab.terms["鼓包"].messages, 20);
        assert_eq!(ab.negative_messages, 20);
    }

    #[test]
    fn critical_messages_alert_once_each() {
        let now = t("2026-11-20T00:00:00Z");
        let safety = row(
            "m1",
            "2026-11-03T10:00:00Z",
            "negative",
            &[("product_quality", "negative")],
            &["safety", "escalation"],
        );
        let a = critical_alert(&safety, now).unwrap();
        assert_eq!(
            (a.kind, a.severity, a.score),
            (AlertKind::CriticalMessage, Severity::Critical, 2.0)
        );
        assert_eq!(a.theme_id.as_deref(), Some("product_quality"));
        assert_eq!(a.example_message_ids, vec!["m1"]);
        assert_eq!(
            critical_alert(&safety, now).unwrap().alert_id,
            a.alert_id,
            "stable id"
        );

        let mut churn = row(
            "m2",
            "2026-11-03T10:00:00Z",
            "negative",
            &[],
            &["churn_risk"],
        );
        assert!(
            critical_alert(&churn, now).is_none(),
            "churn risk alone is not critical"
        );
        churn.feedback.customer = Some(Customer {
            id: None,
            segment: Some(Segment::HighValue),
        });
        let a = critical_alert(&churn, now).unwrap();
        assert_eq!(a.severity, Severity::High);
        assert_ne!(a.alert_id, critical_alert(&safety, now).unwrap().alert_id);
    }

    #[test]
    fn bad_detector_settings_are_refused() {
        let bad = DetectorConfig {
            alpha: 0.0,
            ..DetectorConfig::default()
        };
        assert!(matches!(
            EmergingDetector::new(bad),
            Err(ConfigError::OutOfRange { name: "alpha", .. })
        ));
    }
}
