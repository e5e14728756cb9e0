//! A generated two-week stream with daily cycles, delayed arrivals and two
//! injected incidents, run through the whole pure pipeline (windows →
//! partial counts → global assembly → detection) by one worker and by two
//! workers splitting the partitions.
//!
//! The generator is deterministic (fixed seed, its own PRNG), so every run
//! sees the same stream.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, TimeDelta, Timelike, Utc};
use tongdian_aggregator::{
    critical_alert, hash64, Alert, AlertKind, CountsAssembler, DetectorConfig, EmergingDetector,
    PartialCounts, Rollups, WindowConfig, WindowCounts, Windower, ALL,
};
use tongdian_schemas::{
    Analysis, Customer, Evidence, Feedback, FeedbackRow, Kind, Provenance, Segment, Survey,
    ThemeMention,
};

/// splitmix64: small, fast, and fixed forever, unlike a crate's default RNG.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Knuth's method, in chunks so that large means do not underflow.
    fn poisson(&mut self, mean: f64) -> u64 {
        let mut left = mean;
        let mut n = 0;
        while left > 0.0 {
            let chunk = left.min(20.0);
            left -= chunk;
            let limit = (-chunk).exp();
            let mut p = self.unit();
            while p > limit {
                n += 1;
                p *= self.unit();
            }
        }
        n
    }
}

const START: &str = "2026-11-02T00:00:00Z";
const DAYS: i64 = 14;
const MEAN_PER_HOUR: f64 = 150.0;
/// Volume by hour of the day in China (UTC+8): quiet nights, a lunchtime
/// and a larger evening peak.
const DAILY: [f64; 24] = [
    0.35, 0.2, 0.12, 0.1, 0.1, 0.15, 0.3, 0.55, 0.85, 1.1, 1.25, 1.3, 1.2, 1.15, 1.2, 1.25, 1.3,
    1.35, 1.45, 1.6, 1.7, 1.55, 1.1, 0.7,
];
/// (theme, share of messages mentioning it, chance a mention is negative,
/// keyword the analyser matched).
const THEMES: [(&str, f64, f64, &str); 10] = [
    ("delivery", 0.12, 0.4, "物流"),
    ("customer_service", 0.14, 0.5, "客服"),
    ("product_quality", 0.12, 0.45, "质量"),
    ("pricing", 0.08, 0.35, "价格"),
    ("website_app", 0.08, 0.55, "app"),
    ("packaging", 0.05, 0.3, "包装"),
    ("returns_refunds", 0.06, 0.6, "退款"),
    ("checkout_payment", 0.04, 0.5, "支付"),
    ("staff_attitude", 0.04, 0.5, "态度"),
    ("membership", 0.03, 0.3, "会员"),
];
const CHANNELS: [(&str, f64); 4] = [
    ("app", 0.45),
    ("wechat", 0.25),
    ("marketplace", 0.2),
    ("web", 0.1),
];
const SOURCES: [&str; 4] = ["tmall", "jd", "zendesk", "wechat_survey"];
const GENERIC_NEGATIVE: [&str; 5] = ["太差", "失望", "不好", "垃圾", "生气"];
/// Theme keywords (and 电池, product_quality's) cover these terms.
const COVERED: [&str; 11] = [
    "物流", "客服", "质量", "价格", "app", "包装", "退款", "支付", "态度", "会员", "电池",
];

const BURST_THEME: &str = "delivery";
/// Day 9, 14:00 China time: delivery ×5 for three hours.
const BURST_START: &str = "2026-11-10T06:00:00Z";
const BURST_HOURS: i64 = 3;
/// Day 12, 20:00 China time: a complaint nobody has a theme for.
const NEW_TERM: &str = "鼓包";
const NEW_TERM_START: &str = "2026-11-13T12:00:00Z";
const NEW_TERM_HOURS: i64 = 6;

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

struct Message {
    row: FeedbackRow,
    terms: Vec<String>,
    arrival: DateTime<Utc>,
}

fn pick<'a, T>(rng: &mut Rng, items: &'a [(T, f64)]) -> &'a T {
    let total: f64 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.unit() * total;
    for (item, w) in items {
        if x < *w {
            return item;
        }
        x -= w;
    }
    &items[items.len() - 1].0
}

/// Zipf-distributed everyday words (uncovered, but steady).
fn everyday_word(rng: &mut Rng) -> String {
    let weights: Vec<(usize, f64)> = (1..=300).map(|k| (k, 1.0 / k as f64)).collect();
    format!("词{}", pick(rng, &weights))
}

struct Spec<'a> {
    themes: Vec<(&'a str, bool)>,
    extra_terms: Vec<String>,
    force_negative: bool,
}

fn message(rng: &mut Rng, n: u64, created_at: DateTime<Utc>, spec: Spec) -> Message {
    let id = format!("msg-{n:06}");
    let negative = spec.force_negative || spec.themes.iter().any(|(_, neg)| *neg);
    let label = if negative {
        "negative"
    } else if rng.chance(0.5) {
        "positive"
    } else {
        "neutral"
    };
    let score = match label {
        "negative" => -0.3 - 0.6 * rng.unit(),
        "positive" => 0.3 + 0.6 * rng.unit(),
        _ => 0.0,
    };
    let mut flags = Vec::new();
    if negative && rng.chance(0.02) {
        flags.push("safety".to_string());
    }
    if negative && rng.chance(0.03) {
        flags.push("escalation".to_string());
    }
    if negative && rng.chance(0.08) {
        flags.push("churn_risk".to_string());
    }
    let kind = [Kind::Review, Kind::Ticket, Kind::Survey, Kind::Social][rng.below(4) as usize];
    let customer = rng.below(5_000);
    let segment = Segment::ALL[(customer % 4) as usize];
    let mut terms: Vec<String> = spec
        .themes
        .iter()
        .map(|(id, _)| THEMES.iter().find(|t| t.0 == *id).unwrap().3.to_string())
        .collect();
    if negative {
        terms.push(GENERIC_NEGATIVE[rng.below(5) as usize].to_string());
    }
    for _ in 0..(2 + rng.below(3)) {
        terms.push(everyday_word(rng));
    }
    terms.extend(spec.extra_terms);
    let themes = spec
        .themes
        .iter()
        .map(|(id, neg)| {
            let def = THEMES.iter().find(|t| t.0 == *id).unwrap();
            ThemeMention {
                id: id.to_string(),
                category: "process".into(),
                stage: "purchase".into(),
                polarity: if *neg { "negative" } else { "positive" }.into(),
                evidence: vec![Evidence {
                    text: def.3.into(),
                    start: 0,
                    end: 2,
                }],
            }
        })
        .collect();
    let delay = match rng.unit() {
        x if x < 0.90 => TimeDelta::seconds(rng.below(60) as i64),
        x if x < 0.99 => TimeDelta::seconds(60 + rng.below(1_800) as i64),
        _ => TimeDelta::seconds(3_600 + rng.below(7_200) as i64),
    };
    let arrival = created_at + delay;
    let row = FeedbackRow {
        feedback: Feedback {
            id: id.clone(),
            kind,
            created_at,
            source: SOURCES[rng.below(4) as usize].into(),
            text: Some(terms.join(" ")),
            channel: Some(pick(rng, &CHANNELS).to_string()),
            lang: Some("zh-CN".into()),
            customer: Some(Customer {
                id: Some(format!("c{customer}")),
                segment: Some(segment),
            }),
            rating: None,
            survey: (kind == Kind::Survey).then(|| Survey {
                nps: Some(if negative {
                    rng.below(7)
                } else {
                    6 + rng.below(5)
                } as u8),
                csat: Some(if negative {
                    1 + rng.below(3)
                } else {
                    3 + rng.below(3)
                } as u8),
                ces: Some(1 + rng.below(7) as u8),
            }),
            ticket: None,
            attributes: BTreeMap::new(),
        },
        analysis: Some(Analysis {
            script: "hans".into(),
            sentiment_label: label.into(),
            sentiment_score: score,
            themes,
            flags,
            emotions: if negative && rng.chance(0.3) {
                vec!["anger".into()]
            } else {
                vec![]
            },
        }),
        provenance: Provenance {
            topic: "feedback.reviews".into(),
            partition: (hash64(id.as_bytes(), 9) % 4) as i32,
            offset: n as i64,
        },
        ingested_at: arrival,
    };
    Message {
        row,
        terms,
        arrival,
    }
}

/// The stream, in arrival order; `inject` adds the two incidents.
fn generate(inject: bool) -> Vec<Message> {
    let mut rng = Rng(20_261_102);
    let mut out = Vec::new();
    let start = t(START);
    let burst = t(BURST_START)..t(BURST_START) + TimeDelta::hours(BURST_HOURS);
    let new_term = t(NEW_TERM_START)..t(NEW_TERM_START) + TimeDelta::hours(NEW_TERM_HOURS);
    for h in 0..DAYS * 24 {
        let hour = start + TimeDelta::hours(h);
        let local = (hour.hour() as usize + 8) % 24;
        let weekend = matches!((h / 24 + 1) % 7, 6 | 0);
        let mean = MEAN_PER_HOUR * DAILY[local] * if weekend { 1.2 } else { 1.0 };
        let at = |rng: &mut Rng| hour + TimeDelta::milliseconds(rng.below(3_600_000) as i64);
        for _ in 0..rng.poisson(mean) {
            let created = at(&mut rng);
            // Customer service is busier in office hours: a theme-specific
            // daily cycle on top of the overall one.
            let office = (9..18).contains(&local);
            let mut themes = Vec::new();
            for (id, share, neg, _) in THEMES {
                let share = if id == "customer_service" && office {
                    share * 1.3
                } else {
                    share
                };
                if rng.chance(share) {
                    themes.push((id, rng.chance(neg)));
                }
            }
            let spec = Spec {
                themes,
                extra_terms: vec![],
                force_negative: false,
            };
            out.push(message(&mut rng, out.len() as u64, created, spec));
        }
        if inject && burst.contains(&hour) {
            let share = THEMES.iter().find(|x| x.0 == BURST_THEME).unwrap().1;
            for _ in 0..rng.poisson(4.0 * share * mean) {
                let created = at(&mut rng);
                let spec = Spec {
                    themes: vec![(BURST_THEME, rng.chance(0.4))],
                    extra_terms: vec![],
                    force_negative: false,
                };
                out.push(message(&mut rng, out.len() as u64, created, spec));
            }
        }
        if inject && new_term.contains(&hour) {
            for _ in 0..rng.poisson(12.0) {
                let created = at(&mut rng);
                let extra = vec![NEW_TERM.to_string(), "电池".to_string()];
                let spec = Spec {
                    themes: vec![],
                    extra_terms: extra,
                    force_negative: true,
                };
                out.push(message(&mut rng, out.len() as u64, created, spec));
            }
        }
    }
    out.sort_by(|a, b| {
        a.arrival
            .cmp(&b.arrival)
            .then(a.row.feedback.id.cmp(&b.row.feedback.id))
    });
    out
}

struct WorkerRun {
    rollups: Rollups,
    /// (when published, counts message)
    partials: Vec<(DateTime<Utc>, PartialCounts)>,
    late: u64,
}

/// One worker over its share of the stream, publishing partial counts of
/// the hourly windows it closes.
fn run_worker(name: &str, messages: &[&Message], end: DateTime<Utc>) -> WorkerRun {
    let mut w = Windower::new(WindowConfig::default()).unwrap();
    let mut rollups = Rollups::new();
    let mut partials = Vec::new();
    let hourly = |c: &WindowCounts| c.window.length() == TimeDelta::hours(1);
    let mut publish =
        |at, w: &Windower, emitted: tongdian_aggregator::Emitted, rollups: &mut Rollups| {
            rollups.extend(emitted.rollups);
            let windows: Vec<WindowCounts> = emitted
                .closed
                .into_iter()
                .chain(emitted.partial)
                .filter(hourly)
                .collect();
            partials.push((
                at,
                PartialCounts {
                    source: name.into(),
                    watermark: w.watermark(),
                    windows,
                },
            ));
        };
    for m in messages {
        w.observe_with_terms(&m.row, &m.terms);
        let emitted = w.take_closed();
        if !emitted.rollups.is_empty() {
            publish(m.arrival, &w, emitted, &mut rollups);
        }
    }
    w.advance_watermark(end);
    let emitted = w.flush();
    publish(end, &w, emitted, &mut rollups);
    WorkerRun {
        rollups,
        partials,
        late: w.stats().late,
    }
}

/// Global assembly and detection over the workers' published counts, in
/// publication order.
fn detect(runs: &[&WorkerRun]) -> Vec<Alert> {
    let mut partials: Vec<&(DateTime<Utc>, PartialCounts)> =
        runs.iter().flat_map(|r| r.partials.iter()).collect();
    partials.sort_by_key(|(at, p)| (*at, p.source.clone()));
    let sources: Vec<String> = runs
        .iter()
        .filter_map(|r| r.partials.first())
        .map(|p| p.1.source.clone())
        .collect();
    let mut assembler = CountsAssembler::new(sources);
    let mut detector = EmergingDetector::new(DetectorConfig::default()).unwrap();
    let covered: BTreeSet<&str> = COVERED.into_iter().collect();
    let mut alerts = Vec::new();
    for (_, p) in partials {
        assembler.add(p);
        for counts in assembler.take_complete() {
            let created = counts.window.end + TimeDelta::minutes(1);
            alerts.extend(
                detector
                    .observe(&counts, |term| covered.contains(term), created)
                    .unwrap(),
            );
        }
    }
    alerts
}

fn within_two_windows(a: &Alert, start: &str) -> bool {
    let start = t(start);
    a.window_start >= start && a.window_start < start + TimeDelta::hours(2)
}

/// Alerts the injections explain: the burst theme during (or just after)
/// its burst, and the new term.
fn explained(a: &Alert) -> bool {
    let burst = t(BURST_START);
    let during_burst =
        a.window_start >= burst && a.window_start < burst + TimeDelta::hours(BURST_HOURS + 1);
    (a.theme_id.as_deref() == Some(BURST_THEME) && during_burst)
        || a.term.as_deref() == Some(NEW_TERM)
}

fn check_alerts(alerts: &[Alert]) {
    let burst = alerts.iter().find(|a| {
        a.kind == AlertKind::VolumeSpike
            && a.theme_id.as_deref() == Some(BURST_THEME)
            && a.channel.is_none()
    });
    let burst = burst.unwrap_or_else(|| panic!("no volume spike for {BURST_THEME}: {alerts:#?}"));
    assert!(
        within_two_windows(burst, BURST_START),
        "burst alerted late: {burst:#?}"
    );
    assert!(burst.observed >= 3.0 * burst.expected, "{burst:#?}");

    let term = alerts
        .iter()
        .find(|a| a.kind == AlertKind::NewTerm && a.term.as_deref() == Some(NEW_TERM));
    let term = term.unwrap_or_else(|| panic!("no new-term alert for {NEW_TERM}: {alerts:#?}"));
    assert!(
        within_two_windows(term, NEW_TERM_START),
        "new term alerted late: {term:#?}"
    );
    assert!(!term.example_message_ids.is_empty());

    let false_alerts: Vec<&Alert> = alerts.iter().filter(|a| !explained(a)).collect();
    assert!(
        false_alerts.len() <= 1,
        "quiet themes raised {} alerts: {false_alerts:#?}",
        false_alerts.len()
    );
}

#[test]
fn two_weeks_with_injected_incidents_one_worker_and_two() {
    let messages = generate(true);
    assert!(messages.len() > 40_000, "{} messages", messages.len());
    let end = t(START) + TimeDelta::days(DAYS) + TimeDelta::hours(2);

    let all: Vec<&Message> = messages.iter().collect();
    let single = run_worker("solo", &all, end);
    assert!(single.late > 0, "the stream must exercise late corrections");
    let single_alerts = detect(&[&single]);
    check_alerts(&single_alerts);

    // Two workers over one topic: partitions 0–1 and 2–3.
    let (a, b): (Vec<&Message>, Vec<&Message>) = messages
        .iter()
        .partition(|m| m.row.provenance.partition < 2);
    let (wa, wb) = (run_worker("w1", &a, end), run_worker("w2", &b, end));
    let pair_alerts = detect(&[&wa, &wb]);
    check_alerts(&pair_alerts);

    // The rollups sum to exactly one worker's: every additive measure and
    // every sketch, window by window and dimension by dimension, once late
    // corrections are folded into their windows.
    let mut merged = wa.rollups.clone();
    merged.merge(&wb.rollups);
    assert_eq!(
        merged.without_late_flag(),
        single.rollups.without_late_flag()
    );
    let total: u64 = single
        .rollups
        .iter()
        .filter(|(k, _)| k.dims.theme == ALL && k.window.length() == TimeDelta::days(1))
        .map(|(_, m)| m.messages)
        .sum();
    assert_eq!(
        total,
        messages.len() as u64,
        "every message is in exactly one daily all-row"
    );

    // Critical messages: one alert per qualifying message, same ids each time.
    let now = end;
    let critical: Vec<Alert> = messages
        .iter()
        .filter_map(|m| critical_alert(&m.row, now))
        .collect();
    let ids: BTreeSet<&str> = critical.iter().map(|a| a.alert_id.as_str()).collect();
    assert_eq!(ids.len(), critical.len());
    let expected = messages
        .iter()
        .filter(|m| {
            let a = m.row.analysis.as_ref().unwrap();
            let has = |f: &str| a.flags.iter().any(|x| x == f);
            let high_value = m.row.feedback.customer.as_ref().and_then(|c| c.segment)
                == Some(Segment::HighValue);
            has("safety") || has("escalation") || (has("churn_risk") && high_value)
        })
        .count();
    assert_eq!(critical.len(), expected);
    assert!(expected > 100);
}

#[test]
fn without_the_incidents_the_quiet_stream_raises_at_most_one_alert() {
    let messages = generate(false);
    let end = t(START) + TimeDelta::days(DAYS) + TimeDelta::hours(2);
    let all: Vec<&Message> = messages.iter().collect();
    let alerts = detect(&[&run_worker("solo", &all, end)]);
    assert!(alerts.len() <= 1, "{alerts:#?}");
}
