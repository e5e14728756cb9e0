//! What the binary watches while a worker runs: the run summary (fed only
//! committed rows) and a progress line on a terminal.

use std::io::IsTerminal;
use std::time::Duration;

use crate::detect::DetectReport;
use indicatif::{ProgressBar, ProgressStyle};
use tongdian_aggregator::Summary;
use tongdian_ingest::{Observer, RunStats};
use tongdian_schemas::{DeadLetter, FeedbackRow};

pub struct RunObserver {
    pub summary: Summary,
    bar: ProgressBar,
}

impl RunObserver {
    pub fn new() -> RunObserver {
        let bar = if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed} {msg}").expect("template"),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        } else {
            ProgressBar::hidden()
        };
        RunObserver {
            summary: Summary::default(),
            bar,
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Observer for RunObserver {
    fn committed(&mut self, feedback: &[FeedbackRow], dead_letters: &[DeadLetter]) {
        self.summary.add_feedback(feedback);
        self.summary.add_dead_letters(dead_letters);
    }

    fn progress(&mut self, s: &RunStats) {
        self.bar.set_message(format!(
            "read {} · committed {} feedback, {} dead letters · {} commits",
            s.consumed, s.feedback_rows, s.dead_letters, s.commits
        ));
    }
}

/// The summary as `demo` and `run --exit-at-end` print it.
pub fn render(
    summary: &Summary,
    detector: Option<&DetectReport>,
    critical_alerts: u64,
    output: &str,
) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let kinds: Vec<String> = summary
        .by_kind
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    let _ = writeln!(
        s,
        "messages     {} ({})",
        summary.messages,
        kinds.join(", ")
    );
    let reasons: Vec<String> = summary
        .dead_letters_by_reason
        .iter()
        .map(|(r, n)| format!("{r} {n}"))
        .collect();
    let _ = writeln!(
        s,
        "dead letters {}{}",
        summary.dead_letters,
        if reasons.is_empty() {
            String::new()
        } else {
            format!(" ({})", reasons.join(", "))
        }
    );
    match summary.nps.nps() {
        Some(nps) => {
            let _ = writeln!(
                s,
                "NPS          {nps:+.1} ({} responses: {} promoters, {} passives, {} detractors)",
                summary.nps.responses(),
                summary.nps.promoters,
                summary.nps.passives,
                summary.nps.detractors
            );
        }
        None => {
            let _ = writeln!(s, "NPS          no responses");
        }
    }
    match summary.csat.csat_percent() {
        Some(csat) => {
            let _ = writeln!(
                s,
                "CSAT         {csat:.1}% satisfied ({} responses)",
                summary.csat.responses
            );
        }
        None => {
            let _ = writeln!(s, "CSAT         no responses");
        }
    }
    let sentiment: Vec<String> = summary
        .sentiment
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    let _ = writeln!(s, "sentiment    {}", sentiment.join(", "));
    let flags: Vec<String> = summary
        .flags
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    if !flags.is_empty() {
        let _ = writeln!(s, "risk flags   {}", flags.join(", "));
    }
    let _ = writeln!(s, "top negative themes:");
    for (i, (id, c)) in summary.top_negative_themes(5).into_iter().enumerate() {
        let _ = writeln!(
            s,
            "  {}. {id:<20} {:>4} negative of {:>4} mentions  ({}, {})",
            i + 1,
            c.negative,
            c.mentions,
            c.stage,
            c.category
        );
    }
    if let Some(d) = detector {
        render_detector(&mut s, d, critical_alerts);
        let _ = writeln!(
            s,
            "tables       {output}/feedback, {output}/dead_letters, {output}/rollups, {output}/pain_points, {output}/alerts"
        );
    } else {
        let _ = writeln!(s, "tables       {output}/feedback, {output}/dead_letters");
    }
    s
}

/// The latest day's priorities (or the latest window's, without daily
/// windows) and the alerts.
fn render_detector(s: &mut String, d: &DetectReport, critical_alerts: u64) {
    use std::fmt::Write;
    let longest = d
        .pain_points
        .iter()
        .map(|p| p.window_end - p.window_start)
        .max();
    let latest = d
        .pain_points
        .iter()
        .filter(|p| Some(p.window_end - p.window_start) == longest)
        .map(|p| p.window_start)
        .max();
    if let Some(start) = latest {
        let mut top: Vec<_> = d
            .pain_points
            .iter()
            .filter(|p| p.window_start == start && Some(p.window_end - p.window_start) == longest)
            .filter(|p| p.complaints > 0)
            .collect();
        top.sort_by_key(|p| p.rank);
        let grain = top.first().map_or("", |p| p.grain.as_str());
        let _ = writeln!(
            s,
            "top priorities ({grain} window from {}):",
            start.format("%Y-%m-%d %H:%M UTC")
        );
        for p in top.iter().take(5) {
            let driver = p
                .nps_driver_impact
                .map_or(String::new(), |n| format!(", NPS driver {n:+.1}"));
            let _ = writeln!(
                s,
                "  {}. {:<20} {:<6} impact {:>5.1}  effort {}  {} complaints{driver}",
                p.rank, p.theme, p.moscow, p.impact, p.effort, p.complaints
            );
        }
    }
    let mut kinds: std::collections::BTreeMap<&str, u64> = Default::default();
    if critical_alerts > 0 {
        kinds.insert("critical_message", critical_alerts);
    }
    for a in &d.alerts {
        *kinds.entry(a.kind.as_str()).or_default() += 1;
    }
    let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
    let _ = writeln!(
        s,
        "alerts       {}{}",
        d.alerts.len() as u64 + critical_alerts,
        if kinds.is_empty() {
            String::new()
        } else {
            format!(" ({})", kinds.join(", "))
        }
    );
    let mut recent: Vec<_> = d
        .alerts
        .iter()
        .filter(|a| a.kind != "critical_message")
        .collect();
    recent.sort_by_key(|a| std::cmp::Reverse(a.window_start));
    for a in recent.iter().take(5) {
        let _ = writeln!(
            s,
            "  {} [{}] {}",
            a.window_start.format("%Y-%m-%d %H:%M"),
            a.severity,
            a.detail
        );
    }
}
