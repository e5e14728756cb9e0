//! One worker process as `run` and `demo` start it: the ingest loop with
//! the aggregator plugged in, and the detector beside it (after it, for a
//! bounded run).

use std::future::Future;
use std::sync::Arc;

use anyhow::Result;
use chrono::TimeDelta;
use tokio::sync::watch;
use tongdian_aggregator::{Backoff, WebhookFormat};
use tongdian_ingest::{AnalyticsOptions, Metrics, RunOptions, RunStats, TableLocation};

use crate::analytics::{detector_config, efforts, WorkerAnalytics};
use crate::config::{Config, WebhookFormatConfig};
use crate::detect::{self, DetectReport, DetectorSetup, Until};
use crate::enrich::NlpEnricher;
use crate::notify::Notifier;
use crate::observe::RunObserver;

/// How long a stopping worker waits for its detector.
const DETECTOR_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

pub struct Outcome {
    pub stats: RunStats,
    pub observer: RunObserver,
    pub detector: Option<DetectReport>,
    pub notifier: Option<Notifier>,
}

/// Runs until `shutdown` (or, with `exit_at_end`, until the backlog is in
/// the tables and the detector has read every count).
pub async fn run(
    config: &Config,
    enricher: Arc<NlpEnricher>,
    metrics: Arc<Metrics>,
    exit_at_end: bool,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<Outcome> {
    let a = &config.analytics;
    let notifier = a.webhook_url.as_ref().map(|url| {
        let format = match a.webhook_format {
            WebhookFormatConfig::Json => WebhookFormat::Json,
            WebhookFormatConfig::Slack => WebhookFormat::Slack,
        };
        Notifier::start(url.clone(), format, Backoff::default())
    });
    let analytics = if a.enabled {
        Some(AnalyticsOptions {
            analytics: Box::new(WorkerAnalytics::new(a, enricher.clone(), notifier.clone())?),
            alerts_topic: a.alerts_topic.clone(),
            counts_topic: a.counts_topic.clone(),
        })
    } else {
        None
    };
    let detector = if a.enabled && a.detector && !a.counts_topic.is_empty() {
        let (detector, detect_window) = detector_config(a)?;
        let covering = enricher.clone();
        Some(DetectorSetup {
            kafka: config.kafka.clone(),
            counts_topic: a.counts_topic.clone(),
            alerts_topic: a.alerts_topic.clone(),
            location: TableLocation::new(
                &config.sink.output,
                config.sink.storage_options.clone().into_iter().collect(),
            ),
            detector,
            detect_window,
            efforts: efforts(&enricher),
            source_timeout: TimeDelta::seconds(a.source_timeout_secs as i64),
            // A term is covered when, on its own, it already reads as a theme.
            covered: Box::new(move |term: &str| {
                !covering.analyzer().analyze(term).themes.is_empty()
            }),
            notifier: notifier.clone(),
        })
    } else {
        None
    };

    let (stop, stopped) = watch::channel(false);
    let stop = Arc::new(stop);
    let on_signal = stop.clone();
    tokio::spawn(async move {
        shutdown.await;
        let _ = on_signal.send(true);
    });
    let wait_stop = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };

    let mut observer = RunObserver::new();
    let worker = async {
        let result = tongdian_ingest::run(
            &config.ingest(),
            enricher.as_ref(),
            &mut observer,
            RunOptions {
                exit_at_end,
                metrics,
                analytics,
            },
            wait_stop(stopped.clone()),
        )
        .await;
        if !exit_at_end || result.is_err() {
            // The detector follows the worker out.
            let _ = stop.send(true);
        }
        result
    };
    let (stats, report) = match detector {
        Some(setup) if exit_at_end => {
            let stats = worker.await?;
            let report = detect::run(setup, Until::<std::future::Ready<()>>::Drained).await?;
            (stats, Some(report))
        }
        Some(setup) => {
            // Its own task, so that its waits never hold the worker up.
            let detector = tokio::spawn(detect::run(
                setup,
                Until::Shutdown(wait_stop(stopped.clone())),
            ));
            let stats = worker.await;
            // Its output is a function of the counts topic, so a detector
            // that cannot finish promptly (waiting for a broker) loses
            // nothing by being left: the next one replays.
            let report = match tokio::time::timeout(DETECTOR_GRACE, detector).await {
                Ok(joined) => Some(joined??),
                Err(_) => {
                    tracing::warn!("the detector did not stop in time; leaving it");
                    None
                }
            };
            (stats?, report)
        }
        None => (worker.await?, None),
    };
    Ok(Outcome {
        stats,
        observer,
        detector: report,
        notifier,
    })
}
