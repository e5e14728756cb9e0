//! Pain-point priorities per window and theme: the `pain_points` table.
//!
//! Everything is computed from a window's rollup totals
//! ([`crate::rollup::WindowTotals`]: on-time and late rows, all channels,
//! kinds, sources and segments), so it can be recomputed from the `rollups`
//! table at any time. For theme `t` in the window, with `all` the window's
//! `all` row:
//!
//! **Scope**, how widespread the pain is:
//! - `message_share = complaints_t / messages_all`
//! - `customer_share = negative_customers_t / customers_all` (HyperLogLog
//!   estimates; equal to `message_share` when the window has no customer
//!   ids), clamped to [0, 1]
//! - `scope = (message_share + customer_share) / 2`
//!
//! **Severity**, how much it hurts, in [0.2, 1]:
//! - `intensity = negative_intensity_sum_t / complaints_t`: mean negativity
//!   (`max(0, −sentiment)`) of the complaining messages
//! - `emotion_rate = angry_or_frustrated_t / messages_t`
//! - `flag_rate = min(1, (churn_risk_t + escalation_t + 2·safety_t) / messages_t)`
//! - `severity = 0.2 + 0.4·intensity + 0.2·emotion_rate + 0.2·flag_rate`
//!   (the floor keeps a widespread but mildly worded pain from vanishing)
//!
//! **Customer impact** `impact = 100 · scope · severity`: roughly "percent of
//! the window's customers hurt, weighted by how badly".
//!
//! **Value–effort**: `effort` (1 quick fix … 5 structural change) comes from
//! the taxonomy (unknown themes: `default_effort`, 3);
//! `value_effort = impact / effort`.
//!
//! **MoSCoW**, with `v = impact / max impact of the window's themes`:
//! - `must`: at least `min_complaints` (3) complaints, and either a
//!   `safety` flag on a message about the theme, or `v ≥ 0.5` with
//!   `effort ≤ 3`;
//! - `should`: at least `min_complaints` complaints and `v ≥ 0.5`, or
//!   `v ≥ 0.25` with `effort ≤ 2`;
//! - `could`: any other theme with a complaint;
//! - `wont`: no complaints in the window.
//!
//! **Rank**: by bucket (must first), then `value_effort`, then `impact`,
//! both descending, then theme id; 1 is the top.
//!
//! **NPS driver impact**: with P, Pa, D the window's promoters, passives and
//! detractors, `P_t`, `Pa_t`, `D_t` those of the responses whose message
//! mentions `t`, and `NPS(p, a, d) = 100 (p − d) / (p + a + d)`:
//! `nps_driver_impact = NPS(P, Pa, D) − NPS(P − P_t, Pa − Pa_t, D − D_t)`,
//! behind `nps_responses = P_t + Pa_t + D_t` responses; negative means the
//! theme drags NPS down. Undefined (null) when either NPS has no responses.
//! `nps_with_theme = NPS(P_t, Pa_t, D_t)`.

use std::collections::BTreeMap;

use serde::Serialize;
use tongdian_schemas::analytics::PainPointRecord;

use crate::rollup::{nps, Measures, WindowId, WindowTotals};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Moscow {
    Must,
    Should,
    Could,
    Wont,
}

impl Moscow {
    pub fn as_str(self) -> &'static str {
        match self {
            Moscow::Must => "must",
            Moscow::Should => "should",
            Moscow::Could => "could",
            Moscow::Wont => "wont",
        }
    }
}

/// Settings of the priority model (module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct PriorityConfig {
    pub default_effort: u8,
    pub min_complaints: u64,
}

impl Default for PriorityConfig {
    fn default() -> Self {
        PriorityConfig {
            default_effort: 3,
            min_complaints: 3,
        }
    }
}

/// One theme's priority in one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PainPoint {
    pub window: WindowId,
    pub theme: String,
    pub category: String,
    pub stage: String,
    pub messages: u64,
    pub complaints: u64,
    pub customers_estimate: f64,
    pub negative_customers_estimate: f64,
    pub message_share: f64,
    pub customer_share: f64,
    pub scope: f64,
    pub intensity: f64,
    pub emotion_rate: f64,
    pub flag_rate: f64,
    pub severity: f64,
    pub impact: f64,
    pub effort: u8,
    pub value_effort: f64,
    pub moscow: Moscow,
    pub rank: u32,
    pub nps_responses: u64,
    pub nps_with_theme: Option<f64>,
    pub nps_driver_impact: Option<f64>,
}

impl PainPoint {
    pub fn to_record(&self) -> PainPointRecord {
        PainPointRecord {
            window_start: self.window.start,
            window_end: self.window.end,
            grain: self.window.grain(),
            theme: self.theme.clone(),
            category: self.category.clone(),
            stage: self.stage.clone(),
            messages: self.messages as i64,
            complaints: self.complaints as i64,
            customers_estimate: self.customers_estimate,
            negative_customers_estimate: self.negative_customers_estimate,
            message_share: self.message_share,
            customer_share: self.customer_share,
            scope: self.scope,
            intensity: self.intensity,
            emotion_rate: self.emotion_rate,
            flag_rate: self.flag_rate,
            severity: self.severity,
            impact: self.impact,
            effort: i32::from(self.effort),
            value_effort: self.value_effort,
            moscow: self.moscow.as_str().to_owned(),
            rank: self.rank as i32,
            nps_responses: self.nps_responses as i64,
            nps_with_theme: self.nps_with_theme,
            nps_driver_impact: self.nps_driver_impact,
        }
    }
}

fn ratio(num: f64, den: f64) -> f64 {
    if den > 0.0 {
        num / den
    } else {
        0.0
    }
}

/// NPS of `all` minus NPS of `all` without `theme`'s responses.
fn nps_driver(all: &Measures, theme: &Measures) -> Option<f64> {
    let with = all.nps()?;
    let without = nps(
        all.promoters.saturating_sub(theme.promoters),
        all.passives.saturating_sub(theme.passives),
        all.detractors.saturating_sub(theme.detractors),
    )?;
    Some(with - without)
}

/// The window's pain points, ranked (rank 1 first). `efforts` maps theme
/// ids to the taxonomy's effort (1–5; other values are clamped).
pub fn pain_points(
    totals: &WindowTotals,
    efforts: &BTreeMap<String, u8>,
    config: &PriorityConfig,
) -> Vec<PainPoint> {
    let all = &totals.all;
    let customers_all = all.customers.estimate();
    let mut points: Vec<PainPoint> = totals
        .themes
        .iter()
        .map(|(theme, t)| {
            let m = &t.measures;
            let messages = m.messages as f64;
            let message_share = ratio(m.complaints as f64, all.messages as f64);
            let negative_customers = m.negative_customers.estimate();
            let customer_share = if customers_all >= 1.0 {
                (negative_customers / customers_all).clamp(0.0, 1.0)
            } else {
                message_share
            };
            let scope = (message_share + customer_share) / 2.0;
            let intensity = ratio(m.negative_intensity_sum(), m.complaints as f64).clamp(0.0, 1.0);
            let emotion_rate = ratio(m.angry_or_frustrated as f64, messages);
            let flags = (m.flag_churn_risk + m.flag_escalation + 2 * m.flag_safety) as f64;
            let flag_rate = ratio(flags, messages).min(1.0);
            let severity = 0.2 + 0.4 * intensity + 0.2 * emotion_rate + 0.2 * flag_rate;
            let impact = 100.0 * scope * severity;
            let effort = efforts
                .get(theme)
                .copied()
                .unwrap_or(config.default_effort)
                .clamp(1, 5);
            PainPoint {
                window: totals.window,
                theme: theme.clone(),
                category: t.category.clone(),
                stage: t.stage.clone(),
                messages: m.messages,
                complaints: m.complaints,
                customers_estimate: m.customers.estimate(),
                negative_customers_estimate: negative_customers,
                message_share,
                customer_share,
                scope,
                intensity,
                emotion_rate,
                flag_rate,
                severity,
                impact,
                effort,
                value_effort: impact / f64::from(effort),
                moscow: Moscow::Wont,
                rank: 0,
                nps_responses: m.nps_responses(),
                nps_with_theme: m.nps(),
                nps_driver_impact: nps_driver(all, m),
            }
        })
        .collect();
    let max_impact = points.iter().map(|p| p.impact).fold(0.0, f64::max);
    for p in &mut points {
        let safety = totals.themes[&p.theme].measures.flag_safety > 0;
        let v = ratio(p.impact, max_impact);
        let eligible = p.complaints >= config.min_complaints;
        p.moscow = if eligible && (safety || (v >= 0.5 && p.effort <= 3)) {
            Moscow::Must
        } else if eligible && (v >= 0.5 || (v >= 0.25 && p.effort <= 2)) {
            Moscow::Should
        } else if p.complaints > 0 {
            Moscow::Could
        } else {
            Moscow::Wont
        };
    }
    points.sort_by(|a, b| {
        a.moscow
            .cmp(&b.moscow)
            .then(b.value_effort.total_cmp(&a.value_effort))
            .then(b.impact.total_cmp(&a.impact))
            .then(a.theme.cmp(&b.theme))
    });
    for (i, p) in points.iter_mut().enumerate() {
        p.rank = i as u32 + 1;
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rollup::tests::{row, t};
    use crate::rollup::{window_totals, Rollups, SlaConfig};
    use chrono::TimeDelta;
    use tongdian_schemas::Survey;

    fn window() -> WindowId {
        let start = t("2026-11-03T00:00:00Z");
        WindowId {
            start,
            end: start + TimeDelta::days(1),
        }
    }

    fn totals(rows: &[tongdian_schemas::FeedbackRow]) -> WindowTotals {
        let mut r = Rollups::new();
        for row in rows {
            r.add_row(window(), false, row, &SlaConfig::default());
        }
        window_totals(r.iter()).remove(&window()).unwrap()
    }

    fn with_nps(mut r: tongdian_schemas::FeedbackRow, score: u8) -> tongdian_schemas::FeedbackRow {
        r.feedback.survey = Some(Survey {
            nps: Some(score),
            csat: None,
            ces: None,
        });
        r
    }

    #[test]
    fn nps_driver_is_nps_minus_nps_without_the_theme() {
        // 4 responses: two detractors about delivery, one promoter about
        // pricing, one passive without theme. NPS = (1 − 2)/4 = −25; without
        // delivery's two: (1 − 0)/2 = +50, so delivery drives −75.
        let rows = vec![
            with_nps(
                row(
                    "a",
                    "2026-11-03T01:00:00Z",
                    "negative",
                    &[("delivery", "negative")],
                    &[],
                ),
                2,
            ),
            with_nps(
                row(
                    "b",
                    "2026-11-03T02:00:00Z",
                    "negative",
                    &[("delivery", "negative")],
                    &[],
                ),
                5,
            ),
            with_nps(
                row(
                    "c",
                    "2026-11-03T03:00:00Z",
                    "positive",
                    &[("pricing", "positive")],
                    &[],
                ),
                10,
            ),
            with_nps(row("d", "2026-11-03T04:00:00Z", "neutral", &[], &[]), 8),
        ];
        let points = pain_points(&totals(&rows), &BTreeMap::new(), &PriorityConfig::default());
        let delivery = points.iter().find(|p| p.theme == "delivery").unwrap();
        assert_eq!(delivery.nps_responses, 2);
        assert_eq!(delivery.nps_with_theme, Some(-100.0));
        assert!((delivery.nps_driver_impact.unwrap() + 75.0).abs() < 1e-9);
        let pricing = points.iter().find(|p| p.theme == "pricing").unwrap();
        // Without pricing's promoter: (0 − 2)/3 = −66.7; −25 − (−66.7) = +41.7.
        assert!((pricing.nps_driver_impact.unwrap() - (-25.0 + 200.0 / 3.0)).abs() < 1e-9);
        assert_eq!(pricing.moscow, Moscow::Wont, "no complaints");
    }

    #[test]
    fn impact_follows_the_documented_formula_and_drives_the_rank() {
        let mut rows = Vec::new();
        for i in 0..6 {
            rows.push(row(
                &format!("d{i}"),
                "2026-11-03T01:00:00Z",
                "negative",
                &[("delivery", "negative")],
                &[],
            ));
        }
        for i in 0..3 {
            rows.push(row(
                &format!("p{i}"),
                "2026-11-03T01:00:00Z",
                "negative",
                &[("pricing", "negative")],
                &["churn_risk"],
            ));
        }
        rows.push(row(
            "q",
            "2026-11-03T01:00:00Z",
            "negative",
            &[("packaging", "negative")],
            &["safety"],
        ));
        for i in 0..10 {
            rows.push(row(
                &format!("n{i}"),
                "2026-11-03T01:00:00Z",
                "positive",
                &[],
                &[],
            ));
        }
        let efforts: BTreeMap<String, u8> = [
            ("delivery".into(), 3),
            ("pricing".into(), 4),
            ("packaging".into(), 2),
        ]
        .into();
        let points = pain_points(&totals(&rows), &efforts, &PriorityConfig::default());
        let d = points.iter().find(|p| p.theme == "delivery").unwrap();
        // 6 of 20 messages and (distinct customer per message) 6 of 20 customers.
        assert!((d.message_share - 0.3).abs() < 1e-12);
        assert!((d.customer_share - 0.3).abs() < 0.01);
        // Every complaint scored −0.5: severity 0.2 + 0.4·0.5.
        assert!((d.intensity - 0.5).abs() < 1e-12 && (d.severity - 0.4).abs() < 1e-12);
        assert!((d.impact - 100.0 * d.scope * 0.4).abs() < 1e-9);
        assert_eq!((d.moscow, d.rank), (Moscow::Must, 1));
        let p = points.iter().find(|p| p.theme == "pricing").unwrap();
        assert!((p.flag_rate - 1.0).abs() < 1e-12);
        assert_eq!(p.moscow, Moscow::Should, "v ≥ 0.5 but effort 4");
        let q = points.iter().find(|p| p.theme == "packaging").unwrap();
        assert_eq!(
            q.moscow,
            Moscow::Could,
            "a single safety complaint is under min_complaints"
        );
        let ranks: Vec<u32> = points.iter().map(|p| p.rank).collect();
        assert_eq!(ranks, vec![1, 2, 3]);
        let rec = d.to_record();
        assert_eq!(
            (rec.grain.as_str(), rec.moscow.as_str(), rec.effort),
            ("1d", "must", 3)
        );
    }
}
