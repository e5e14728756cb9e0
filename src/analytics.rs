//! The aggregator behind ingest's `Analytics` seam: each commit round's
//! rows become `rollups` records (through the worker's [`Windower`]),
//! critical-message alerts, and the partial window counts the detector
//! sums across workers.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, TimeDelta, Utc};
use tongdian_aggregator::{
    critical_alert, window_totals, DetectorConfig, Observed, PartialCounts, SlaConfig, TermCounts,
    WindowConfig, WindowCounts, WindowId, WindowSpec, Windower,
};
use tongdian_ingest::{Analytics, Derived};
use tongdian_schemas::analytics::AlertRecord;
use tongdian_schemas::FeedbackRow;

use crate::config::{parse_span, AnalyticsConfig};
use crate::enrich::NlpEnricher;
use crate::notify::Notifier;

/// The windows, lateness and SLAs of `config`.
pub fn window_config(config: &AnalyticsConfig) -> Result<WindowConfig> {
    let mut windows = Vec::new();
    for w in &config.windows {
        let secs = parse_span(w).with_context(|| "analytics.windows".to_string())?;
        windows.push(WindowSpec {
            size: TimeDelta::seconds(secs as i64),
            offset: TimeDelta::zero(),
        });
    }
    let wc = WindowConfig {
        windows,
        allowed_lateness: TimeDelta::seconds(config.allowed_lateness_secs as i64),
        sla: SlaConfig {
            by_channel: config
                .sla_secs_by_channel
                .iter()
                .map(|(c, s)| (c.clone(), *s as i64))
                .collect(),
            fallback_secs: Some(config.sla_default_secs as i64),
        },
        ..WindowConfig::default()
    };
    wc.validate().context("analytics")?;
    Ok(wc)
}

/// The detector's settings from `config`, and the size of the window it
/// watches.
pub fn detector_config(config: &AnalyticsConfig) -> Result<(DetectorConfig, TimeDelta)> {
    let detect = parse_span(&config.detect_window).context("analytics.detect_window")?;
    if !config
        .windows
        .iter()
        .any(|w| parse_span(w).ok() == Some(detect))
    {
        bail!(
            "analytics.detect_window `{}` is not one of analytics.windows ({})",
            config.detect_window,
            config.windows.join(", ")
        );
    }
    let dc = DetectorConfig {
        warmup: config.warmup_windows,
        term_warmup: config.warmup_windows,
        min_volume: config.min_volume,
        z_threshold: config.z_threshold,
        persistence: config.persistence,
        ..DetectorConfig::default()
    };
    dc.validate().context("analytics")?;
    Ok((dc, TimeDelta::seconds(detect as i64)))
}

/// One worker's analytics state: only its watermark outlives a commit
/// round, so a crash loses nothing the tables do not have.
pub struct WorkerAnalytics {
    windower: Windower,
    enricher: Arc<NlpEnricher>,
    /// This worker's name in the counts topic.
    source: String,
    /// The latest event time read from each partition.
    event_time: HashMap<(String, i32), DateTime<Utc>>,
    allowed_lateness: TimeDelta,
    notifier: Option<Notifier>,
}

impl WorkerAnalytics {
    pub fn new(
        config: &AnalyticsConfig,
        enricher: Arc<NlpEnricher>,
        notifier: Option<Notifier>,
    ) -> Result<WorkerAnalytics> {
        let windows = window_config(config)?;
        Ok(WorkerAnalytics {
            allowed_lateness: windows.allowed_lateness,
            windower: Windower::new(windows)?,
            enricher,
            source: format!("worker-{}", uuid::Uuid::new_v4()),
            event_time: HashMap::new(),
            notifier,
        })
    }

    /// What this worker promises about event time: no partition it reads is
    /// behind this, less the allowed lateness. Per partition, because a
    /// backlog is read a batch of one partition at a time, so the latest
    /// event over all of them runs far ahead of the slowest.
    fn watermark(&self) -> Option<DateTime<Utc>> {
        self.event_time
            .values()
            .min()
            .map(|t| *t - self.allowed_lateness)
    }
}

/// Worth the segmenter's time only for the messages new-term counting
/// takes: negative ones, or ones complaining about a theme.
fn is_negative(row: &FeedbackRow) -> bool {
    row.analysis.as_ref().is_some_and(|a| {
        a.sentiment_label == "negative" || a.themes.iter().any(|t| t.polarity == "negative")
    })
}

impl Analytics for WorkerAnalytics {
    fn rollups(&mut self, rows: &[FeedbackRow]) -> Derived {
        let mut window_terms: BTreeMap<WindowId, TermCounts> = BTreeMap::new();
        let mut late = 0;
        for row in rows {
            let terms = match (&row.feedback.text, is_negative(row)) {
                (Some(text), true) => self.enricher.analyzer().terms(text),
                _ => Vec::new(),
            };
            // Terms by window for every message, late ones too: which
            // messages the windower counts late depends on the order the
            // partitions were read in, and detection must not.
            if !terms.is_empty() {
                for spec in &self.windower.config().windows {
                    window_terms
                        .entry(spec.window_of(row.feedback.created_at))
                        .or_default()
                        .add_message(&row.feedback.id, &terms);
                }
            }
            if let Observed::LateCorrection { .. } = self.windower.observe(row) {
                late += 1;
            }
            let p = &row.provenance;
            let t = self
                .event_time
                .entry((p.topic.clone(), p.partition))
                .or_insert(row.feedback.created_at);
            *t = (*t).max(row.feedback.created_at);
        }
        let emitted = self.windower.flush();
        // Detection counts every message of the round, late ones included:
        // whether a window is complete is decided globally, by the detector.
        let windows: Vec<WindowCounts> =
            window_totals(emitted.rollups.iter().map(|r| (&r.key, &r.measures)))
                .into_iter()
                .map(|(w, totals)| {
                    WindowCounts::from_totals(
                        w,
                        Some(&totals),
                        window_terms.remove(&w).unwrap_or_default(),
                    )
                })
                .collect();
        // One message per window keeps each small; the watermark travels
        // on the last only, after every window it may close has been sent.
        let mut partials: Vec<PartialCounts> = windows
            .into_iter()
            .map(|w| PartialCounts {
                source: self.source.clone(),
                watermark: None,
                windows: vec![w],
            })
            .collect();
        if let Some(last) = partials.last_mut() {
            last.watermark = self.watermark();
        }
        let counts = partials
            .iter()
            .map(|p| {
                let body = serde_json::to_vec(p).expect("partial counts serialise");
                (self.source.clone(), body)
            })
            .collect();
        Derived {
            rollups: emitted.rollups.iter().map(|r| r.to_record()).collect(),
            counts,
            late,
        }
    }

    fn critical_alerts(&self, rows: &[FeedbackRow]) -> Vec<AlertRecord> {
        rows.iter()
            .filter_map(|r| critical_alert(r, r.ingested_at))
            .map(|a| a.to_record())
            .collect()
    }

    /// A watermark past every window: this worker sends nothing more, so it
    /// holds no window open (its partitions' next owner reports anew).
    fn finish(&mut self) -> Vec<(String, Vec<u8>)> {
        let done = PartialCounts {
            source: self.source.clone(),
            watermark: Some(end_of_time()),
            windows: Vec::new(),
        };
        let body = serde_json::to_vec(&done).expect("partial counts serialise");
        vec![(self.source.clone(), body)]
    }

    fn committed_alerts(&mut self, alerts: &[AlertRecord]) {
        if let Some(n) = &self.notifier {
            for a in alerts {
                n.send(a.clone());
            }
        }
    }
}

/// The watermark of a worker that has stopped: later than any event.
fn end_of_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("9999-12-31T23:59:59Z")
        .expect("a valid timestamp")
        .with_timezone(&Utc)
}

/// Theme id → the taxonomy's effort, for priorities.
pub fn efforts(enricher: &NlpEnricher) -> BTreeMap<String, u8> {
    enricher
        .analyzer()
        .taxonomy()
        .themes()
        .iter()
        .map(|t| (t.id.clone(), t.effort))
        .collect()
}
