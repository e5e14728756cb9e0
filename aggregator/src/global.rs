//! Global window counts assembled from every worker's partial counts.
//!
//! Each worker sees only its partitions, so it publishes the
//! [`WindowCounts`] of the windows it closes (and, on flush, of windows
//! still open) together with its watermark, as a [`PartialCounts`]. One
//! consumer, e.g. of a counts topic with a single partition or keyed so that
//! one consumer sees everything it detects on, feeds them to a
//! [`CountsAssembler`], which sums partials per window and releases a window
//! once every source's watermark has passed its end: then no source will
//! send more for it on time. Partials that arrive after their window was
//! released are counted and left out of detection; the `rollups` table still
//! receives them as late corrections.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::alerts::WindowCounts;
use crate::rollup::WindowId;

/// One worker's contribution, the body of a counts-topic message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartialCounts {
    /// Who sent it: a worker (or partition) id, stable across its messages.
    pub source: String,
    /// The sender's watermark after these counts; `None` before its first
    /// message.
    pub watermark: Option<DateTime<Utc>>,
    pub windows: Vec<WindowCounts>,
}

/// What [`CountsAssembler::add`] did with a partial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Added {
    /// Windows added to pending totals.
    pub pending: usize,
    /// Windows already released, so not used for detection.
    pub late: usize,
}

/// Sums partial counts per window and releases complete windows in order.
#[derive(Debug, Default)]
pub struct CountsAssembler {
    sources: BTreeMap<String, Option<DateTime<Utc>>>,
    pending: BTreeMap<WindowId, WindowCounts>,
    released_through: Option<DateTime<Utc>>,
    late_windows: u64,
}

impl CountsAssembler {
    /// Starts with the sources expected to report (they hold windows back
    /// until they do). Sources not listed are added when they first report.
    pub fn new<S: Into<String>>(sources: impl IntoIterator<Item = S>) -> CountsAssembler {
        CountsAssembler {
            sources: sources.into_iter().map(|s| (s.into(), None)).collect(),
            ..CountsAssembler::default()
        }
    }

    /// A source that has left (a worker that shut down or lost its
    /// partitions) no longer holds windows back.
    pub fn remove_source(&mut self, source: &str) {
        self.sources.remove(source);
    }

    pub fn add(&mut self, partial: &PartialCounts) -> Added {
        let mut added = Added {
            pending: 0,
            late: 0,
        };
        for c in &partial.windows {
            if self.released_through.is_some_and(|r| c.window.end <= r) {
                added.late += 1;
                self.late_windows += 1;
                continue;
            }
            added.pending += 1;
            match self.pending.get_mut(&c.window) {
                Some(sum) => sum.merge(c),
                None => {
                    self.pending.insert(c.window, c.clone());
                }
            }
        }
        let wm = self.sources.entry(partial.source.clone()).or_default();
        if let Some(new) = partial.watermark {
            *wm = Some(wm.map_or(new, |old| old.max(new)));
        }
        added
    }

    /// The smallest watermark over the sources; `None` while one has not
    /// reported or there are none.
    pub fn global_watermark(&self) -> Option<DateTime<Utc>> {
        if self.sources.is_empty() {
            return None;
        }
        self.sources
            .values()
            .try_fold(None, |min: Option<DateTime<Utc>>, w| {
                w.map(|w| Some(min.map_or(w, |m| m.min(w))))
            })?
    }

    /// Windows every source has closed, in window order; each once.
    pub fn take_complete(&mut self) -> Vec<WindowCounts> {
        let Some(wm) = self.global_watermark() else {
            return Vec::new();
        };
        let done: Vec<WindowId> = self
            .pending
            .keys()
            .filter(|w| w.end <= wm)
            .copied()
            .collect();
        self.released_through = Some(self.released_through.map_or(wm, |r| r.max(wm)));
        done.into_iter()
            .filter_map(|w| self.pending.remove(&w))
            .collect()
    }

    /// Every pending window, complete or not, in window order: at the end of
    /// a bounded run (`--exit-at-end`), when no source will send more.
    pub fn take_all(&mut self) -> Vec<WindowCounts> {
        if let Some(last) = self.pending.keys().map(|w| w.end).max() {
            self.released_through = Some(self.released_through.map_or(last, |r| r.max(last)));
        }
        std::mem::take(&mut self.pending).into_values().collect()
    }

    /// Sources currently expected to report.
    pub fn sources(&self) -> impl Iterator<Item = &str> {
        self.sources.keys().map(String::as_str)
    }

    /// Partial windows that arrived after their release, over the lifetime.
    pub fn late_windows(&self) -> u64 {
        self.late_windows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::SeriesCounts;
    use crate::rollup::tests::t;
    use chrono::TimeDelta;

    fn counts(hour: i64, theme: u64) -> WindowCounts {
        let start = t("2026-11-03T00:00:00Z") + TimeDelta::hours(hour);
        let mut c = WindowCounts::empty(WindowId {
            start,
            end: start + TimeDelta::hours(1),
        });
        c.total = SeriesCounts {
            messages: theme * 2,
            analysed: theme * 2,
            negative: 0,
        };
        c.themes.insert(
            "delivery".into(),
            SeriesCounts {
                messages: theme,
                analysed: theme,
                negative: 0,
            },
        );
        c
    }

    fn partial(source: &str, watermark: &str, windows: Vec<WindowCounts>) -> PartialCounts {
        PartialCounts {
            source: source.into(),
            watermark: Some(t(watermark)),
            windows,
        }
    }

    #[test]
    fn a_window_is_released_once_every_source_has_closed_it() {
        let mut a = CountsAssembler::new(["w1", "w2"]);
        a.add(&partial("w1", "2026-11-03T01:00:00Z", vec![counts(0, 3)]));
        assert!(a.take_complete().is_empty(), "w2 has not reported");
        a.add(&partial("w2", "2026-11-03T00:30:00Z", vec![]));
        assert!(a.take_complete().is_empty(), "w2 has not closed hour 0");
        a.add(&partial("w2", "2026-11-03T01:10:00Z", vec![counts(0, 4)]));
        let done = a.take_complete();
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].themes["delivery"].messages, 7);
        assert_eq!(done[0].total.messages, 14);

        // A straggler for a released window is counted, not re-released.
        let added = a.add(&partial("w1", "2026-11-03T01:20:00Z", vec![counts(0, 1)]));
        assert_eq!(
            added,
            Added {
                pending: 0,
                late: 1
            }
        );
        assert_eq!(a.late_windows(), 1);
        assert!(a.take_complete().is_empty());
    }

    #[test]
    fn a_departed_source_stops_holding_windows_back() {
        let mut a = CountsAssembler::new(["w1", "w2"]);
        a.add(&partial(
            "w1",
            "2026-11-03T02:00:00Z",
            vec![counts(0, 3), counts(1, 2)],
        ));
        a.remove_source("w2");
        let done = a.take_complete();
        assert_eq!(
            done.iter().map(|c| c.window.start).collect::<Vec<_>>(),
            vec![t("2026-11-03T00:00:00Z"), t("2026-11-03T01:00:00Z")]
        );
        a.add(&partial("w1", "2026-11-03T02:30:00Z", vec![counts(2, 5)]));
        let rest = a.take_all();
        assert_eq!(rest.len(), 1, "an open window, released at the end");
        assert_eq!(rest[0].themes["delivery"].messages, 5);
        assert!(a.take_all().is_empty());
        let json =
            serde_json::to_string(&partial("w1", "2026-11-03T02:00:00Z", vec![counts(0, 1)]))
                .unwrap();
        let back: PartialCounts = serde_json::from_str(&json).unwrap();
        assert_eq!(back.windows[0], counts(0, 1), "partials travel as JSON");
    }
}
