//! A run's headline numbers, accumulated from committed rows: volumes, NPS,
//! CSAT, and the themes customers complain about most. Additive, so partial
//! summaries merge.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use tongdian_schemas::{DeadLetter, FeedbackRow, Kind};

/// Promoter / passive / detractor counts. NPS = % promoters (9–10) −
/// % detractors (0–6).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct NpsCounts {
    pub promoters: u64,
    pub passives: u64,
    pub detractors: u64,
}

impl NpsCounts {
    pub fn add(&mut self, score: u8) {
        match score {
            9..=10 => self.promoters += 1,
            7..=8 => self.passives += 1,
            _ => self.detractors += 1,
        }
    }

    pub fn responses(&self) -> u64 {
        self.promoters + self.passives + self.detractors
    }

    /// In [-100, 100]; `None` without responses.
    pub fn nps(&self) -> Option<f64> {
        let n = self.responses();
        (n > 0).then(|| 100.0 * (self.promoters as f64 - self.detractors as f64) / n as f64)
    }
}

/// CSAT = share of 4–5 answers on a 1–5 scale.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CsatCounts {
    pub responses: u64,
    pub satisfied: u64,
}

impl CsatCounts {
    pub fn add(&mut self, score: u8) {
        self.responses += 1;
        if score >= 4 {
            self.satisfied += 1;
        }
    }

    /// In [0, 100]; `None` without responses.
    pub fn csat_percent(&self) -> Option<f64> {
        (self.responses > 0).then(|| 100.0 * self.satisfied as f64 / self.responses as f64)
    }
}

/// Mentions of one theme.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ThemeCounts {
    pub category: String,
    pub stage: String,
    pub mentions: u64,
    pub negative: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    pub messages: u64,
    pub by_kind: BTreeMap<&'static str, u64>,
    pub sentiment: BTreeMap<String, u64>,
    pub nps: NpsCounts,
    pub csat: CsatCounts,
    pub themes: HashMap<String, ThemeCounts>,
    pub flags: BTreeMap<String, u64>,
    pub dead_letters: u64,
    pub dead_letters_by_reason: BTreeMap<&'static str, u64>,
}

impl Summary {
    pub fn add_feedback(&mut self, rows: &[FeedbackRow]) {
        for row in rows {
            self.messages += 1;
            let kind: Kind = row.feedback.kind;
            *self.by_kind.entry(kind.as_str()).or_default() += 1;
            if let Some(survey) = &row.feedback.survey {
                if let Some(nps) = survey.nps {
                    self.nps.add(nps);
                }
                if let Some(csat) = survey.csat {
                    self.csat.add(csat);
                }
            }
            let Some(analysis) = &row.analysis else {
                continue;
            };
            *self
                .sentiment
                .entry(analysis.sentiment_label.clone())
                .or_default() += 1;
            for flag in &analysis.flags {
                *self.flags.entry(flag.clone()).or_default() += 1;
            }
            for theme in &analysis.themes {
                let counts = self
                    .themes
                    .entry(theme.id.clone())
                    .or_insert_with(|| ThemeCounts {
                        category: theme.category.clone(),
                        stage: theme.stage.clone(),
                        ..ThemeCounts::default()
                    });
                counts.mentions += 1;
                if theme.polarity == "negative" {
                    counts.negative += 1;
                }
            }
        }
    }

    pub fn add_dead_letters(&mut self, rows: &[DeadLetter]) {
        for row in rows {
            self.dead_letters += 1;
            *self
                .dead_letters_by_reason
                .entry(row.rejection.reason.as_str())
                .or_default() += 1;
        }
    }

    /// Themes by negative mentions, most first; ties by id for a stable order.
    pub fn top_negative_themes(&self, n: usize) -> Vec<(&str, &ThemeCounts)> {
        let mut themes: Vec<_> = self
            .themes
            .iter()
            .filter(|(_, c)| c.negative > 0)
            .map(|(id, c)| (id.as_str(), c))
            .collect();
        themes.sort_by(|a, b| b.1.negative.cmp(&a.1.negative).then(a.0.cmp(b.0)));
        themes.truncate(n);
        themes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nps_is_promoters_minus_detractors() {
        let mut n = NpsCounts::default();
        assert_eq!(n.nps(), None);
        for s in [10, 9, 8, 6, 0] {
            n.add(s);
        }
        assert_eq!((n.promoters, n.passives, n.detractors), (2, 1, 2));
        assert_eq!(n.nps(), Some(0.0));
        n.add(9);
        assert!((n.nps().unwrap() - 100.0 / 6.0).abs() < 1e-9);
    }

    #[test]
    fn csat_counts_four_and_five_as_satisfied() {
        let mut c = CsatCounts::default();
        for s in [5, 4, 3, 1] {
            c.add(s);
        }
        assert_eq!(c.csat_percent(), Some(50.0));
    }
}
