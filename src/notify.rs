//! The alert webhook: a background task fed through a bounded queue, so a
//! slow or dead endpoint never holds up ingestion. When the queue is full
//! the alert is dropped from the webhook and counted; it is still in the
//! `alerts` table and topic.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tongdian_aggregator::{is_retryable, webhook_body, Backoff, WebhookFormat};
use tongdian_schemas::analytics::AlertRecord;

/// Alerts waiting for the webhook.
const QUEUE: usize = 1024;

/// What the webhook did, for logs and tests.
#[derive(Debug, Default)]
pub struct WebhookStats {
    pub queued: AtomicU64,
    pub delivered: AtomicU64,
    pub failed: AtomicU64,
    pub dropped: AtomicU64,
}

#[derive(Clone)]
pub struct Notifier {
    queue: mpsc::Sender<AlertRecord>,
    pub stats: Arc<WebhookStats>,
}

impl Notifier {
    /// Starts the sender task on the current runtime.
    pub fn start(url: String, format: WebhookFormat, backoff: Backoff) -> Notifier {
        let (queue, mut rx) = mpsc::channel::<AlertRecord>(QUEUE);
        let stats = Arc::new(WebhookStats::default());
        let task_stats = stats.clone();
        tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("an HTTP client with default settings");
            while let Some(alert) = rx.recv().await {
                let ok = post(&client, &url, format, backoff, &alert).await;
                let counter = if ok {
                    &task_stats.delivered
                } else {
                    &task_stats.failed
                };
                counter.fetch_add(1, Relaxed);
            }
        });
        Notifier { queue, stats }
    }

    /// Queues `alert`; never waits.
    pub fn send(&self, alert: AlertRecord) {
        if self.queue.try_send(alert).is_ok() {
            self.stats.queued.fetch_add(1, Relaxed);
        } else {
            self.stats.dropped.fetch_add(1, Relaxed);
            tracing::warn!("alert webhook queue full; alert left to the alerts table and topic");
        }
    }

    /// Waits (up to `limit`) until every queued alert has been tried: the
    /// end of a bounded run.
    pub async fn drain(&self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        let done = || {
            self.stats.delivered.load(Relaxed) + self.stats.failed.load(Relaxed)
                >= self.stats.queued.load(Relaxed)
        };
        while !done() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    format: WebhookFormat,
    backoff: Backoff,
    alert: &AlertRecord,
) -> bool {
    // Serialised once: every attempt sends the same bytes.
    let body = webhook_body(alert, format).to_string();
    let mut attempt = 0;
    loop {
        let outcome = client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.clone())
            .send()
            .await;
        let retry = match &outcome {
            Ok(r) if r.status().is_success() => return true,
            Ok(r) => is_retryable(r.status().as_u16()),
            Err(_) => true,
        };
        attempt += 1;
        let delay = if retry {
            backoff.delay(&alert.alert_id, attempt)
        } else {
            None
        };
        match delay {
            Some(d) => tokio::time::sleep(d).await,
            None => {
                let why = match outcome {
                    Ok(r) => format!("HTTP {}", r.status()),
                    Err(e) => e.to_string(),
                };
                tracing::warn!(alert_id = %alert.alert_id, %why, attempts = attempt, "alert webhook failed; giving up");
                return false;
            }
        }
    }
}
