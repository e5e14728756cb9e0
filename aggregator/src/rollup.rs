//! Rollup rows: additive measures of one event-time window for one
//! combination of dimensions, the content of the `rollups` table.
//!
//! # Dimensions and the `all` convention
//!
//! A row's key is its window (`window_start`, `window_end`; `grain` is the
//! length as a label), `is_late_correction`, and `theme`, `category`,
//! `stage`, `channel`, `kind`, `source`, `segment`.
//!
//! A message has exactly one channel, kind, source and segment, but any
//! number of themes. So every message contributes to
//! - one **`all` row**: `theme`, `category` and `stage` are the literal
//!   string `all`; this is the row to total messages, surveys or SLA over,
//!   because a message with three themes is still counted once here;
//! - one **theme row** per distinct theme it mentions, with that theme's
//!   category and stage.
//!
//! Summing theme rows therefore counts a message once per theme (that is the
//! point of a theme breakdown); totals come from `theme = 'all'`. A missing
//! channel or segment is `unknown`. There is no `all` value for channel,
//! kind, source or segment: sum over them instead.
//!
//! # Measures (all additive)
//!
//! Per row, over the messages the row counts:
//! - `messages`; `analysed`: those with a text analysis (score-only surveys
//!   have none); `mentions`: (message, theme) pairs, so in a theme row equal
//!   to `messages` and in the `all` row the sum of the theme rows' `messages`.
//! - `negative`, `neutral`, `positive`, `mixed`: in the `all` row the
//!   message's sentiment label; in a theme row the polarity of the theme's
//!   mentions in the message (negative and positive mentions together count
//!   as mixed). Their sum is `analysed`.
//! - `complaints`: messages with a negative mention of the row's theme (in
//!   the `all` row: of any theme), counting mixed ones.
//! - `sentiment_sum`: Σ message sentiment score (so mean = sum / analysed);
//!   `negative_intensity_sum`: Σ max(0, −score) over the complaints. Both are
//!   kept internally in millionths so that merging is exact.
//! - `promoters` (NPS 9–10), `passives` (7–8), `detractors` (0–6);
//!   `csat_responses`, `csat_satisfied` (4–5); `ces_sum`, `ces_count`.
//! - `sla_met`, `sla_missed`: tickets classified by [`SlaConfig`].
//! - `flag_churn_risk`, `flag_escalation`, `flag_safety`,
//!   `flag_expectation_gap`: messages carrying the flag;
//!   `angry_or_frustrated`: messages with the `anger` or `frustration`
//!   emotion.
//! - `customers_hll` / `customers_estimate`: distinct `customer.id`s
//!   (HyperLogLog, [`crate::hll`]); `negative_customers_*` the same over the
//!   complaints. Merge the sketches to combine rows; estimates do not add.
//!
//! [`Rollups::merge`] adds measures key by key and merges sketches
//! register-wise, so it is associative and commutative and partial rollups
//! from any number of workers combine to exactly one worker's result.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use tongdian_schemas::analytics::RollupRecord;
use tongdian_schemas::{Feedback, FeedbackRow, Segment};

use crate::error::{ConfigError, SketchError};
use crate::hash::hash64;
use crate::hll::Hll;

/// The theme (and category, stage) value of rows that count every message
/// once.
pub const ALL: &str = "all";
/// The value of a missing channel or segment.
pub const UNKNOWN: &str = "unknown";

/// An event-time window, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct WindowId {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl WindowId {
    pub fn length(&self) -> TimeDelta {
        self.end - self.start
    }

    /// The `grain` label of the window's length.
    pub fn grain(&self) -> String {
        grain_label(self.length())
    }

    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }
}

/// `1d`, `6h`, `15m` or `90s`: the largest unit that divides the length.
pub fn grain_label(length: TimeDelta) -> String {
    let s = length.num_seconds();
    match s {
        _ if s != 0 && s % 86_400 == 0 => format!("{}d", s / 86_400),
        _ if s != 0 && s % 3_600 == 0 => format!("{}h", s / 3_600),
        _ if s != 0 && s % 60 == 0 => format!("{}m", s / 60),
        _ => format!("{s}s"),
    }
}

/// The dimension values of a rollup row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dimensions {
    pub theme: String,
    pub category: String,
    pub stage: String,
    pub channel: String,
    pub kind: String,
    pub source: String,
    pub segment: String,
}

/// What identifies a rollup row. Ordered by window first, so a map of rows
/// iterates window by window.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RollupKey {
    pub window: WindowId,
    pub is_late_correction: bool,
    pub dims: Dimensions,
}

/// The additive measures of one rollup row (see the module documentation).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measures {
    pub messages: u64,
    pub analysed: u64,
    pub mentions: u64,
    pub negative: u64,
    pub neutral: u64,
    pub positive: u64,
    pub mixed: u64,
    pub complaints: u64,
    /// Σ sentiment score, in millionths.
    pub sentiment_sum_micros: i64,
    /// Σ max(0, −score) over complaints, in millionths.
    pub negative_intensity_micros: i64,
    pub promoters: u64,
    pub passives: u64,
    pub detractors: u64,
    pub csat_responses: u64,
    pub csat_satisfied: u64,
    pub ces_sum: u64,
    pub ces_count: u64,
    pub sla_met: u64,
    pub sla_missed: u64,
    pub flag_churn_risk: u64,
    pub flag_escalation: u64,
    pub flag_safety: u64,
    pub flag_expectation_gap: u64,
    pub angry_or_frustrated: u64,
    pub customers: Hll,
    pub negative_customers: Hll,
}

fn micros(x: f64) -> i64 {
    (x * 1e6).round() as i64
}

impl Measures {
    /// Adds `other` in. Associative and commutative.
    pub fn merge(&mut self, other: &Measures) {
        self.messages += other.messages;
        self.analysed += other.analysed;
        self.mentions += other.mentions;
        self.negative += other.negative;
        self.neutral += other.neutral;
        self.positive += other.positive;
        self.mixed += other.mixed;
        self.complaints += other.complaints;
        self.sentiment_sum_micros += other.sentiment_sum_micros;
        self.negative_intensity_micros += other.negative_intensity_micros;
        self.promoters += other.promoters;
        self.passives += other.passives;
        self.detractors += other.detractors;
        self.csat_responses += other.csat_responses;
        self.csat_satisfied += other.csat_satisfied;
        self.ces_sum += other.ces_sum;
        self.ces_count += other.ces_count;
        self.sla_met += other.sla_met;
        self.sla_missed += other.sla_missed;
        self.flag_churn_risk += other.flag_churn_risk;
        self.flag_escalation += other.flag_escalation;
        self.flag_safety += other.flag_safety;
        self.flag_expectation_gap += other.flag_expectation_gap;
        self.angry_or_frustrated += other.angry_or_frustrated;
        self.customers.merge(&other.customers);
        self.negative_customers.merge(&other.negative_customers);
    }

    pub fn sentiment_sum(&self) -> f64 {
        self.sentiment_sum_micros as f64 / 1e6
    }

    pub fn negative_intensity_sum(&self) -> f64 {
        self.negative_intensity_micros as f64 / 1e6
    }

    pub fn nps_responses(&self) -> u64 {
        self.promoters + self.passives + self.detractors
    }

    /// NPS in [-100, 100]; `None` without responses.
    pub fn nps(&self) -> Option<f64> {
        nps(self.promoters, self.passives, self.detractors)
    }
}

/// % promoters − % detractors; `None` without responses.
pub fn nps(promoters: u64, passives: u64, detractors: u64) -> Option<f64> {
    let n = promoters + passives + detractors;
    (n > 0).then(|| 100.0 * (promoters as f64 - detractors as f64) / n as f64)
}

/// First-response SLA targets.
///
/// A message is a **ticket for SLA purposes** when it carries
/// `ticket.opened_at` (whatever its `kind`). Its target is the entry for its
/// channel in `by_channel`, else `fallback` (the after-sales target: tickets
/// that do not come in through a live-chat channel are after-sales cases);
/// with neither it is not classified. Then:
/// - with `first_response_at`: **met** if `first_response_at − opened_at ≤
///   target` (a response stamped before the opening counts as immediate),
///   else **missed**;
/// - without it: **missed** if the message was produced (`created_at`) more
///   than the target after `opened_at`, the SLA having visibly lapsed;
///   otherwise still pending and not classified.
///
/// Defaults: `chat`, `im`, `live_chat`, `online_chat`, `wechat` 30 s (WeChat
/// customer service is a chat), every other channel 2 h.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaConfig {
    pub by_channel: BTreeMap<String, i64>,
    pub fallback_secs: Option<i64>,
}

impl Default for SlaConfig {
    fn default() -> Self {
        let by_channel = ["chat", "im", "live_chat", "online_chat", "wechat"]
            .into_iter()
            .map(|c| (c.to_owned(), 30))
            .collect();
        SlaConfig {
            by_channel,
            fallback_secs: Some(2 * 3_600),
        }
    }
}

/// How a ticket did against its first-response target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaOutcome {
    Met,
    Missed,
}

impl SlaConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let fallback = self.fallback_secs.map(|s| ("fallback".to_owned(), s));
        let entries = self
            .by_channel
            .iter()
            .map(|(c, s)| (c.clone(), *s))
            .chain(fallback);
        for (channel, secs) in entries {
            if secs < 0 {
                return Err(ConfigError::NegativeSla { channel, secs });
            }
        }
        Ok(())
    }

    pub fn target(&self, channel: Option<&str>) -> Option<TimeDelta> {
        channel
            .and_then(|c| self.by_channel.get(c))
            .copied()
            .or(self.fallback_secs)
            .map(TimeDelta::seconds)
    }

    /// The rule in the type's documentation; `None` when not classified.
    pub fn classify(&self, feedback: &Feedback) -> Option<SlaOutcome> {
        let ticket = feedback.ticket.as_ref()?;
        let opened = ticket.opened_at?;
        let target = self.target(feedback.channel.as_deref())?;
        match ticket.first_response_at {
            Some(first) if first - opened <= target => Some(SlaOutcome::Met),
            Some(_) => Some(SlaOutcome::Missed),
            None if feedback.created_at - opened > target => Some(SlaOutcome::Missed),
            None => None,
        }
    }
}

/// Sentiment class of a message (for the `all` row) or of its mentions of
/// one theme (for a theme row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Negative,
    Neutral,
    Positive,
    Mixed,
}

impl Class {
    fn is_complaint(self) -> bool {
        matches!(self, Class::Negative | Class::Mixed)
    }
}

#[derive(Debug, Clone)]
struct ThemeFacts {
    id: String,
    category: String,
    stage: String,
    class: Class,
}

/// Everything a message contributes to rollups, computed once per message
/// and added to each window it falls in.
#[derive(Debug, Clone)]
pub struct MessageFacts {
    pub(crate) id: String,
    channel: String,
    kind: String,
    source: String,
    segment: String,
    customer: Option<u64>,
    /// `None` for a message without text analysis.
    overall: Option<Class>,
    score_micros: i64,
    intensity_micros: i64,
    complaint: bool,
    themes: Vec<ThemeFacts>,
    survey: (Option<u8>, Option<u8>, Option<u8>),
    sla: Option<SlaOutcome>,
    flags: [bool; 4],
    angry_or_frustrated: bool,
    pub(crate) created_at: DateTime<Utc>,
}

fn label_class(label: &str) -> Class {
    match label {
        "negative" => Class::Negative,
        "positive" => Class::Positive,
        "mixed" => Class::Mixed,
        _ => Class::Neutral,
    }
}

impl MessageFacts {
    pub fn new(row: &FeedbackRow, sla: &SlaConfig) -> MessageFacts {
        let f = &row.feedback;
        let a = row.analysis.as_ref();
        // A theme can in principle be mentioned several times; it is one
        // theme row per message, with the polarities combined.
        let mut themes: Vec<ThemeFacts> = Vec::new();
        let mut polarities: BTreeMap<&str, (bool, bool)> = BTreeMap::new();
        for t in a.map_or(&[][..], |a| a.themes.as_slice()) {
            let p = polarities.entry(t.id.as_str()).or_default();
            p.0 |= t.polarity == "negative";
            p.1 |= t.polarity == "positive";
            if !themes.iter().any(|x| x.id == t.id) {
                themes.push(ThemeFacts {
                    id: t.id.clone(),
                    category: t.category.clone(),
                    stage: t.stage.clone(),
                    class: Class::Neutral,
                });
            }
        }
        for t in &mut themes {
            t.class = match polarities[t.id.as_str()] {
                (true, true) => Class::Mixed,
                (true, false) => Class::Negative,
                (false, true) => Class::Positive,
                (false, false) => Class::Neutral,
            };
        }
        let has_flag = |name: &str| a.is_some_and(|a| a.flags.iter().any(|x| x == name));
        let score = a.map_or(0.0, |a| a.sentiment_score);
        let survey = f.survey.as_ref();
        MessageFacts {
            id: f.id.clone(),
            channel: f.channel.clone().unwrap_or_else(|| UNKNOWN.to_owned()),
            kind: f.kind.as_str().to_owned(),
            source: f.source.clone(),
            segment: f
                .customer
                .as_ref()
                .and_then(|c| c.segment)
                .map_or(UNKNOWN, Segment::as_str)
                .to_owned(),
            customer: f
                .customer
                .as_ref()
                .and_then(|c| c.id.as_deref())
                .map(|id| hash64(id.as_bytes(), 0)),
            overall: a.map(|a| label_class(&a.sentiment_label)),
            score_micros: micros(score),
            intensity_micros: micros((-score).max(0.0)),
            complaint: themes.iter().any(|t| t.class.is_complaint()),
            themes,
            survey: (
                survey.and_then(|s| s.nps),
                survey.and_then(|s| s.csat),
                survey.and_then(|s| s.ces),
            ),
            sla: sla.classify(f),
            flags: [
                has_flag("churn_risk"),
                has_flag("escalation"),
                has_flag("safety"),
                has_flag("expectation_gap"),
            ],
            angry_or_frustrated: a.is_some_and(|a| {
                a.emotions
                    .iter()
                    .any(|e| e == "anger" || e == "frustration")
            }),
            created_at: f.created_at,
        }
    }

    /// Negative for new-term counting: a negative sentiment label or a
    /// complaint about some theme.
    pub fn is_negative(&self) -> bool {
        self.overall == Some(Class::Negative) || self.complaint
    }

    pub fn is_customer_high_value(&self) -> bool {
        self.segment == Segment::HighValue.as_str()
    }

    fn dims(&self, theme: &str, category: &str, stage: &str) -> Dimensions {
        Dimensions {
            theme: theme.to_owned(),
            category: category.to_owned(),
            stage: stage.to_owned(),
            channel: self.channel.clone(),
            kind: self.kind.clone(),
            source: self.source.clone(),
            segment: self.segment.clone(),
        }
    }

    /// Adds this message to `m` as one of the messages of a row whose
    /// sentiment class is `class` and complaint status `complaint`.
    fn add_to(&self, m: &mut Measures, class: Option<Class>, complaint: bool, mentions: u64) {
        m.messages += 1;
        m.mentions += mentions;
        if let Some(class) = class {
            m.analysed += 1;
            m.sentiment_sum_micros += self.score_micros;
            match class {
                Class::Negative => m.negative += 1,
                Class::Neutral => m.neutral += 1,
                Class::Positive => m.positive += 1,
                Class::Mixed => m.mixed += 1,
            }
        }
        if complaint {
            m.complaints += 1;
            m.negative_intensity_micros += self.intensity_micros;
        }
        let (nps, csat, ces) = self.survey;
        match nps {
            Some(9..=10) => m.promoters += 1,
            Some(7..=8) => m.passives += 1,
            Some(_) => m.detractors += 1,
            None => {}
        }
        if let Some(c) = csat {
            m.csat_responses += 1;
            m.csat_satisfied += u64::from(c >= 4);
        }
        if let Some(c) = ces {
            m.ces_sum += u64::from(c);
            m.ces_count += 1;
        }
        match self.sla {
            Some(SlaOutcome::Met) => m.sla_met += 1,
            Some(SlaOutcome::Missed) => m.sla_missed += 1,
            None => {}
        }
        let [churn, escalation, safety, gap] = self.flags.map(u64::from);
        m.flag_churn_risk += churn;
        m.flag_escalation += escalation;
        m.flag_safety += safety;
        m.flag_expectation_gap += gap;
        m.angry_or_frustrated += u64::from(self.angry_or_frustrated);
        if let Some(c) = self.customer {
            m.customers.insert_hash(c);
            if complaint {
                m.negative_customers.insert_hash(c);
            }
        }
    }
}

/// One rollup row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupRow {
    pub key: RollupKey,
    pub measures: Measures,
}

impl RollupRow {
    /// The table record, with sketch bytes and estimates.
    pub fn to_record(&self) -> RollupRecord {
        let (k, m, d) = (&self.key, &self.measures, &self.key.dims);
        let i = |x: u64| x as i64;
        RollupRecord {
            window_start: k.window.start,
            window_end: k.window.end,
            grain: k.window.grain(),
            is_late_correction: k.is_late_correction,
            theme: d.theme.clone(),
            category: d.category.clone(),
            stage: d.stage.clone(),
            channel: d.channel.clone(),
            kind: d.kind.clone(),
            source: d.source.clone(),
            segment: d.segment.clone(),
            messages: i(m.messages),
            analysed: i(m.analysed),
            mentions: i(m.mentions),
            negative: i(m.negative),
            neutral: i(m.neutral),
            positive: i(m.positive),
            mixed: i(m.mixed),
            complaints: i(m.complaints),
            sentiment_sum: m.sentiment_sum(),
            negative_intensity_sum: m.negative_intensity_sum(),
            promoters: i(m.promoters),
            passives: i(m.passives),
            detractors: i(m.detractors),
            csat_responses: i(m.csat_responses),
            csat_satisfied: i(m.csat_satisfied),
            ces_sum: i(m.ces_sum),
            ces_count: i(m.ces_count),
            sla_met: i(m.sla_met),
            sla_missed: i(m.sla_missed),
            flag_churn_risk: i(m.flag_churn_risk),
            flag_escalation: i(m.flag_escalation),
            flag_safety: i(m.flag_safety),
            flag_expectation_gap: i(m.flag_expectation_gap),
            angry_or_frustrated: i(m.angry_or_frustrated),
            customers_hll: m.customers.to_bytes(),
            customers_estimate: m.customers.estimate(),
            negative_customers_hll: m.negative_customers.to_bytes(),
            negative_customers_estimate: m.negative_customers.estimate(),
        }
    }

    /// A record read back from the table (negative counts are clamped to
    /// zero: the table never holds them).
    pub fn from_record(r: &RollupRecord) -> Result<RollupRow, SketchError> {
        let u = |x: i64| x.max(0) as u64;
        Ok(RollupRow {
            key: RollupKey {
                window: WindowId {
                    start: r.window_start,
                    end: r.window_end,
                },
                is_late_correction: r.is_late_correction,
                dims: Dimensions {
                    theme: r.theme.clone(),
                    category: r.category.clone(),
                    stage: r.stage.clone(),
                    channel: r.channel.clone(),
                    kind: r.kind.clone(),
                    source: r.source.clone(),
                    segment: r.segment.clone(),
                },
            },
            measures: Measures {
                messages: u(r.messages),
                analysed: u(r.analysed),
                mentions: u(r.mentions),
                negative: u(r.negative),
                neutral: u(r.neutral),
                positive: u(r.positive),
                mixed: u(r.mixed),
                complaints: u(r.complaints),
                sentiment_sum_micros: micros(r.sentiment_sum),
                negative_intensity_micros: micros(r.negative_intensity_sum),
                promoters: u(r.promoters),
                passives: u(r.passives),
                detractors: u(r.detractors),
                csat_responses: u(r.csat_responses),
                csat_satisfied: u(r.csat_satisfied),
                ces_sum: u(r.ces_sum),
                ces_count: u(r.ces_count),
                sla_met: u(r.sla_met),
                sla_missed: u(r.sla_missed),
                flag_churn_risk: u(r.flag_churn_risk),
                flag_escalation: u(r.flag_escalation),
                flag_safety: u(r.flag_safety),
                flag_expectation_gap: u(r.flag_expectation_gap),
                angry_or_frustrated: u(r.angry_or_frustrated),
                customers: Hll::from_bytes(&r.customers_hll)?,
                negative_customers: Hll::from_bytes(&r.negative_customers_hll)?,
            },
        })
    }
}

/// A set of rollup rows, keyed; the unit that workers emit and merge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rollups {
    rows: BTreeMap<RollupKey, Measures>,
}

impl Rollups {
    pub fn new() -> Rollups {
        Rollups::default()
    }

    /// Adds one message to `window`: its `all` row and one row per theme.
    pub fn add(&mut self, window: WindowId, is_late_correction: bool, facts: &MessageFacts) {
        let mut add = |dims: Dimensions, class, complaint, mentions| {
            let key = RollupKey {
                window,
                is_late_correction,
                dims,
            };
            facts.add_to(
                self.rows.entry(key).or_default(),
                class,
                complaint,
                mentions,
            );
        };
        add(
            facts.dims(ALL, ALL, ALL),
            facts.overall,
            facts.complaint,
            facts.themes.len() as u64,
        );
        for t in &facts.themes {
            add(
                facts.dims(&t.id, &t.category, &t.stage),
                Some(t.class),
                t.class.is_complaint(),
                1,
            );
        }
    }

    /// Convenience for [`Rollups::add`] from a row.
    pub fn add_row(
        &mut self,
        window: WindowId,
        is_late_correction: bool,
        row: &FeedbackRow,
        sla: &SlaConfig,
    ) {
        self.add(window, is_late_correction, &MessageFacts::new(row, sla));
    }

    /// Folds `other` in, key by key.
    pub fn merge(&mut self, other: &Rollups) {
        for (k, m) in &other.rows {
            self.merge_row(k.clone(), m);
        }
    }

    fn merge_row(&mut self, key: RollupKey, m: &Measures) {
        match self.rows.get_mut(&key) {
            Some(existing) => existing.merge(m),
            None => {
                self.rows.insert(key, m.clone());
            }
        }
    }

    /// Rows, e.g. read back from the table, merged in.
    pub fn extend(&mut self, rows: impl IntoIterator<Item = RollupRow>) {
        for r in rows {
            self.merge_row(r.key, &r.measures);
        }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&RollupKey, &Measures)> {
        self.rows.iter()
    }

    /// The rows in key order (window, late flag, dimensions).
    pub fn into_rows(self) -> Vec<RollupRow> {
        self.rows
            .into_iter()
            .map(|(key, measures)| RollupRow { key, measures })
            .collect()
    }

    /// The same rows with the late flag cleared, merged: a window's final
    /// numbers however its data arrived.
    pub fn without_late_flag(&self) -> Rollups {
        let mut out = Rollups::new();
        for (k, m) in &self.rows {
            out.merge_row(
                RollupKey {
                    is_late_correction: false,
                    ..k.clone()
                },
                m,
            );
        }
        out
    }
}

/// One theme's totals in a window, over every other dimension.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThemeTotal {
    pub category: String,
    pub stage: String,
    pub measures: Measures,
}

/// A window's numbers summed over channel, kind, source, segment and the
/// late flag: what priorities and alerts work from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowTotals {
    pub window: WindowId,
    /// The `all` rows: every message once.
    pub all: Measures,
    /// `all` rows per channel.
    pub channels: BTreeMap<String, Measures>,
    pub themes: BTreeMap<String, ThemeTotal>,
    /// Theme rows per (theme, channel).
    pub theme_channels: BTreeMap<(String, String), Measures>,
}

impl WindowTotals {
    fn new(window: WindowId) -> WindowTotals {
        WindowTotals {
            window,
            all: Measures::default(),
            channels: BTreeMap::new(),
            themes: BTreeMap::new(),
            theme_channels: BTreeMap::new(),
        }
    }

    fn add(&mut self, d: &Dimensions, m: &Measures) {
        if d.theme == ALL {
            self.all.merge(m);
            self.channels.entry(d.channel.clone()).or_default().merge(m);
        } else {
            let t = self
                .themes
                .entry(d.theme.clone())
                .or_insert_with(|| ThemeTotal {
                    category: d.category.clone(),
                    stage: d.stage.clone(),
                    measures: Measures::default(),
                });
            t.measures.merge(m);
            self.theme_channels
                .entry((d.theme.clone(), d.channel.clone()))
                .or_default()
                .merge(m);
        }
    }
}

/// Totals per window from any rows (on time and late alike).
pub fn window_totals<'a>(
    rows: impl IntoIterator<Item = (&'a RollupKey, &'a Measures)>,
) -> BTreeMap<WindowId, WindowTotals> {
    let mut out: BTreeMap<WindowId, WindowTotals> = BTreeMap::new();
    for (k, m) in rows {
        out.entry(k.window)
            .or_insert_with(|| WindowTotals::new(k.window))
            .add(&k.dims, m);
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::BTreeMap as Map;
    use tongdian_schemas::{
        Analysis, Customer, Evidence, Kind, Provenance, Survey, ThemeMention, Ticket,
    };

    pub(crate) fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    /// A row for tests: `themes` as (id, polarity).
    pub(crate) fn row(
        id: &str,
        created_at: &str,
        label: &str,
        themes: &[(&str, &str)],
        flags: &[&str],
    ) -> FeedbackRow {
        let created_at = t(created_at);
        FeedbackRow {
            feedback: Feedback {
                id: id.into(),
                kind: Kind::Review,
                created_at,
                source: "jd".into(),
                text: Some("x".into()),
                channel: Some("app".into()),
                lang: None,
                customer: Some(Customer {
                    id: Some(format!("c-{id}")),
                    segment: None,
                }),
                rating: None,
                survey: None,
                ticket: None,
                attributes: Map::new(),
            },
            analysis: Some(Analysis {
                script: "hans".into(),
                sentiment_label: label.into(),
                sentiment_score: match label {
                    "negative" => -0.5,
                    "positive" => 0.5,
                    _ => 0.0,
                },
                themes: themes
                    .iter()
                    .map(|(id, p)| ThemeMention {
                        id: id.to_string(),
                        category: "process".into(),
                        stage: "purchase".into(),
                        polarity: p.to_string(),
                        evidence: vec![Evidence {
                            text: "x".into(),
                            start: 0,
                            end: 1,
                        }],
                    })
                    .collect(),
                flags: flags.iter().map(|f| f.to_string()).collect(),
                emotions: vec![],
            }),
            provenance: Provenance {
                topic: "t".into(),
                partition: 0,
                offset: 0,
            },
            ingested_at: created_at,
        }
    }

    fn hour(start: &str) -> WindowId {
        let start = t(start);
        WindowId {
            start,
            end: start + TimeDelta::hours(1),
        }
    }

    #[test]
    fn all_rows_count_a_message_once_and_theme_rows_once_per_theme() {
        let w = hour("2026-11-03T10:00:00Z");
        let mut r = Rollups::new();
        let sla = SlaConfig::default();
        r.add_row(
            w,
            false,
            &row(
                "a",
                "2026-11-03T10:05:00Z",
                "negative",
                &[("delivery", "negative"), ("pricing", "neutral")],
                &["churn_risk"],
            ),
            &sla,
        );
        r.add_row(
            w,
            false,
            &row(
                "b",
                "2026-11-03T10:06:00Z",
                "positive",
                &[("delivery", "positive")],
                &[],
            ),
            &sla,
        );
        let totals = window_totals(r.iter());
        let tot = &totals[&w];
        assert_eq!(
            (tot.all.messages, tot.all.mentions, tot.all.complaints),
            (2, 3, 1)
        );
        assert_eq!(
            (tot.all.negative, tot.all.positive, tot.all.flag_churn_risk),
            (1, 1, 1)
        );
        let d = &tot.themes["delivery"].measures;
        assert_eq!(
            (d.messages, d.mentions, d.negative, d.positive, d.complaints),
            (2, 2, 1, 1, 1)
        );
        assert_eq!(d.negative_intensity_sum(), 0.5);
        assert_eq!(d.sentiment_sum(), 0.0);
        assert_eq!(tot.themes["pricing"].measures.neutral, 1);
        let theme_messages: u64 = tot.themes.values().map(|t| t.measures.messages).sum();
        assert_eq!(theme_messages, tot.all.mentions);
        assert!((d.negative_customers.estimate() - 1.0).abs() < 0.01);
        assert!((tot.all.customers.estimate() - 2.0).abs() < 0.01);
    }

    #[test]
    fn a_theme_mentioned_both_ways_is_mixed_and_a_complaint() {
        let w = hour("2026-11-03T10:00:00Z");
        let mut r = Rollups::new();
        r.add_row(
            w,
            false,
            &row(
                "a",
                "2026-11-03T10:05:00Z",
                "mixed",
                &[("delivery", "negative"), ("delivery", "positive")],
                &[],
            ),
            &SlaConfig::default(),
        );
        let d = &window_totals(r.iter())[&w].themes["delivery"].measures;
        assert_eq!(
            (d.messages, d.mixed, d.complaints, d.analysed),
            (1, 1, 1, 1)
        );
    }

    #[test]
    fn surveys_without_text_count_scores_but_no_sentiment() {
        let w = hour("2026-11-03T10:00:00Z");
        let mut survey = row("s", "2026-11-03T10:05:00Z", "neutral", &[], &[]);
        survey.analysis = None;
        survey.feedback.kind = Kind::Survey;
        survey.feedback.survey = Some(Survey {
            nps: Some(6),
            csat: Some(4),
            ces: Some(3),
        });
        let mut r = Rollups::new();
        r.add_row(w, false, &survey, &SlaConfig::default());
        let all = &window_totals(r.iter())[&w].all;
        assert_eq!((all.messages, all.analysed, all.neutral), (1, 0, 0));
        assert_eq!(
            (
                all.detractors,
                all.csat_satisfied,
                all.ces_sum,
                all.ces_count
            ),
            (1, 1, 3, 1)
        );
        assert_eq!(all.nps(), Some(-100.0));
    }

    #[test]
    fn sla_classification_follows_the_documented_rule() {
        let sla = SlaConfig::default();
        let mut f = row("t", "2026-11-03T12:00:00Z", "neutral", &[], &[]).feedback;
        let mut ticket = |channel: &str, first: Option<&str>| {
            f.channel = Some(channel.into());
            f.ticket = Some(Ticket {
                opened_at: Some(t("2026-11-03T10:00:00Z")),
                first_response_at: first.map(t),
                resolved_at: None,
                status: None,
            });
            sla.classify(&f)
        };
        assert_eq!(
            ticket("wechat", Some("2026-11-03T10:00:30Z")),
            Some(SlaOutcome::Met)
        );
        assert_eq!(
            ticket("chat", Some("2026-11-03T10:00:31Z")),
            Some(SlaOutcome::Missed)
        );
        assert_eq!(
            ticket("email", Some("2026-11-03T11:59:00Z")),
            Some(SlaOutcome::Met)
        );
        assert_eq!(
            ticket("email", Some("2026-11-03T12:01:00Z")),
            Some(SlaOutcome::Missed)
        );
        // Unanswered: missed once the target has visibly passed (created
        // 12:00, two hours after opening, is not yet past 2 h)…
        assert_eq!(ticket("email", None), None);
        assert_eq!(ticket("chat", None), Some(SlaOutcome::Missed));
        // …and no ticket timing at all is not a ticket.
        f.ticket = None;
        assert_eq!(sla.classify(&f), None);
        let strict = SlaConfig {
            by_channel: Map::new(),
            fallback_secs: None,
        };
        assert_eq!(strict.target(Some("chat")), None);
        let bad = SlaConfig {
            by_channel: [("x".to_string(), -1)].into(),
            fallback_secs: None,
        };
        assert!(matches!(
            bad.validate(),
            Err(ConfigError::NegativeSla { .. })
        ));
    }

    #[test]
    fn records_round_trip_with_sketches() {
        let w = hour("2026-11-03T10:00:00Z");
        let mut r = Rollups::new();
        for i in 0..40 {
            r.add_row(
                w,
                i % 2 == 0,
                &row(
                    &format!("m{i}"),
                    "2026-11-03T10:05:00Z",
                    "negative",
                    &[("delivery", "negative")],
                    &["safety"],
                ),
                &SlaConfig::default(),
            );
        }
        for row in r.clone().into_rows() {
            let rec = row.to_record();
            assert_eq!(rec.grain, "1h");
            // Twenty customers in 4,096 registers: a register collision or two.
            assert!(
                (rec.customers_estimate - 20.0).abs() < 1.5,
                "{}",
                rec.customers_estimate
            );
            assert_eq!(RollupRow::from_record(&rec).unwrap(), row);
        }
        assert_eq!(r.without_late_flag().len(), 2);
    }

    #[test]
    fn merging_any_split_in_any_order_equals_one_pass() {
        // Property-style: many random messages, many random splits into
        // three workers, merged in different groupings and orders.
        let mut seed = 0x5eed_u64;
        let mut next = move |n: u64| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % n
        };
        let themes = ["delivery", "pricing", "customer_service", "packaging"];
        let labels = ["negative", "positive", "neutral", "mixed"];
        let polarities = ["negative", "positive", "neutral"];
        let rows: Vec<(WindowId, bool, FeedbackRow)> = (0..600)
            .map(|i| {
                let n_themes = next(3) as usize;
                let mentions: Vec<(&str, &str)> = (0..n_themes)
                    .map(|_| (themes[next(4) as usize], polarities[next(3) as usize]))
                    .collect();
                let mut r = row(
                    &format!("m{i}"),
                    "2026-11-03T10:05:00Z",
                    labels[next(4) as usize],
                    &mentions,
                    &[],
                );
                r.feedback.customer = Some(Customer {
                    id: Some(format!("c{}", next(150))),
                    segment: None,
                });
                r.feedback.survey = Some(Survey {
                    nps: Some(next(11) as u8),
                    csat: Some(1 + next(5) as u8),
                    ces: None,
                });
                (
                    hour(["2026-11-03T10:00:00Z", "2026-11-03T11:00:00Z"][next(2) as usize]),
                    next(5) == 0,
                    r,
                )
            })
            .collect();
        let sla = SlaConfig::default();
        let mut whole = Rollups::new();
        for (w, late, r) in &rows {
            whole.add_row(*w, *late, r, &sla);
        }
        for _ in 0..20 {
            let mut parts = [Rollups::new(), Rollups::new(), Rollups::new()];
            for (w, late, r) in &rows {
                parts[next(3) as usize].add_row(*w, *late, r, &sla);
            }
            let [a, b, c] = parts;
            let mut left = a.clone();
            left.merge(&b);
            left.merge(&c);
            let mut bc = c.clone();
            bc.merge(&b);
            let mut right = bc;
            right.merge(&a);
            assert_eq!(left, whole);
            assert_eq!(right, whole);
        }
        let bytes: Vec<Vec<u8>> = whole.iter().map(|(_, m)| m.customers.to_bytes()).collect();
        assert!(bytes.iter().any(|b| b.len() > 2), "sketches took part");
    }

    #[test]
    fn grain_labels() {
        assert_eq!(grain_label(TimeDelta::days(1)), "1d");
        assert_eq!(grain_label(TimeDelta::hours(36)), "36h");
        assert_eq!(grain_label(TimeDelta::minutes(15)), "15m");
        assert_eq!(grain_label(TimeDelta::seconds(90)), "90s");
    }
}
