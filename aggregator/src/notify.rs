//! What the alert webhook sends and how it retries; the HTTP client itself
//! lives with the I/O. The sender must run off the ingestion path (a bounded
//! queue that drops, and counts, the oldest alert when full) so that a slow
//! or dead endpoint never blocks ingestion; alerts are in the `alerts` table
//! and topic regardless.

use std::time::Duration;

use serde_json::{json, Value};

use tongdian_schemas::analytics::AlertRecord;

use crate::hash::hash64;

/// Body format of the webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WebhookFormat {
    /// The alert as JSON, the same fields as the `alerts` table.
    #[default]
    Json,
    /// A Slack incoming-webhook message (`text` plus `blocks`).
    Slack,
}

fn headline(alert: &AlertRecord) -> String {
    let what = match alert.kind.as_str() {
        "volume_spike" => "Volume spike",
        "negative_share_spike" => "Negative share spike",
        "new_term" => "New complaint term",
        "critical_message" => "Critical message",
        other => other,
    };
    let subject = match (&alert.term, &alert.theme_id, &alert.channel) {
        (Some(term), _, _) => format!(" `{term}`"),
        (None, Some(theme), Some(ch)) => format!(" in `{theme}` on {ch}"),
        (None, Some(theme), None) => format!(" in `{theme}`"),
        _ => String::new(),
    };
    format!("[{}] {what}{subject}", alert.severity)
}

/// The request body for `alert`.
pub fn webhook_body(alert: &AlertRecord, format: WebhookFormat) -> Value {
    match format {
        WebhookFormat::Json => serde_json::to_value(alert).expect("alerts serialise"),
        WebhookFormat::Slack => {
            let emoji = match alert.severity.as_str() {
                "critical" => ":rotating_light:",
                "high" => ":red_circle:",
                "medium" => ":large_orange_circle:",
                _ => ":large_yellow_circle:",
            };
            let text = format!("{emoji} {}", headline(alert));
            let examples = if alert.example_message_ids.is_empty() {
                String::new()
            } else {
                format!("\nexamples: {}", alert.example_message_ids.join(", "))
            };
            json!({
                "text": text,
                "blocks": [
                    {"type": "section", "text": {"type": "mrkdwn", "text": format!("*{text}*\n{}", alert.detail)}},
                    {"type": "context", "elements": [{"type": "mrkdwn", "text": format!(
                        "window {} – {} · score {:.1} · alert `{}`{examples}",
                        alert.window_start.to_rfc3339(), alert.window_end.to_rfc3339(), alert.score, alert.alert_id
                    )}]}
                ]
            })
        }
    }
}

/// Retry schedule: exponential from `initial`, capped at `max_delay`, at
/// most `max_attempts` attempts in all, with deterministic "equal jitter"
/// (half the delay fixed, half spread by a hash of the alert id and attempt)
/// so that alerts failing together do not retry in lockstep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub initial: Duration,
    pub max_delay: Duration,
    pub max_attempts: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_secs(1),
            max_delay: Duration::from_secs(300),
            max_attempts: 8,
        }
    }
}

impl Backoff {
    /// The wait before attempt `attempt` (1 is the first retry, after the
    /// initial attempt failed); `None` once the attempts are used up.
    pub fn delay(&self, alert_id: &str, attempt: u32) -> Option<Duration> {
        if attempt == 0 || attempt >= self.max_attempts {
            return None;
        }
        let factor = 2u32.saturating_pow(attempt - 1);
        let full = self.initial.saturating_mul(factor).min(self.max_delay);
        let mut key = alert_id.as_bytes().to_vec();
        key.extend(attempt.to_le_bytes());
        let fraction = (hash64(&key, 5) >> 11) as f64 / (1u64 << 53) as f64;
        Some(full / 2 + full.mul_f64(0.5 * fraction))
    }
}

/// Whether an HTTP status is worth retrying: timeouts, rate limits and
/// server errors; any other 4xx will fail the same way again.
pub fn is_retryable(status: u16) -> bool {
    status == 408 || status == 429 || (500..600).contains(&status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::critical_alert;
    use crate::rollup::tests::{row, t};

    fn alert() -> AlertRecord {
        let r = row(
            "m1",
            "2026-11-03T10:00:00Z",
            "negative",
            &[("product_quality", "negative")],
            &["safety"],
        );
        critical_alert(&r, t("2026-11-03T10:00:01Z"))
            .unwrap()
            .to_record()
    }

    #[test]
    fn json_body_has_the_table_columns() {
        let body = webhook_body(&alert(), WebhookFormat::Json);
        assert_eq!(body["kind"], "critical_message");
        assert_eq!(body["severity"], "critical");
        assert_eq!(body["theme_id"], "product_quality");
        assert_eq!(body["example_message_ids"][0], "m1");
        assert!(body["alert_id"].as_str().unwrap().len() == 32);
    }

    #[test]
    fn slack_body_has_text_and_blocks() {
        let body = webhook_body(&alert(), WebhookFormat::Slack);
        let text = body["text"].as_str().unwrap();
        assert!(
            text.contains("[critical] Critical message in `product_quality`"),
            "{text}"
        );
        assert_eq!(body["blocks"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn backoff_grows_is_capped_and_gives_up() {
        let b = Backoff {
            initial: Duration::from_secs(2),
            max_delay: Duration::from_secs(10),
            max_attempts: 6,
        };
        let delays: Vec<Duration> = (1..6).map(|n| b.delay("a", n).unwrap()).collect();
        for (n, d) in delays.iter().enumerate() {
            let full = Duration::from_secs(2 * (1 << n)).min(Duration::from_secs(10));
            assert!(*d >= full / 2 && *d <= full, "attempt {}: {d:?}", n + 1);
        }
        assert_eq!(b.delay("a", 6), None);
        assert_eq!(b.delay("a", 0), None);
        assert_eq!(b.delay("a", 3), b.delay("a", 3), "deterministic");
        assert_ne!(b.delay("a", 3), b.delay("b", 3), "spread across alerts");
        assert!(is_retryable(503) && is_retryable(429) && !is_retryable(400) && !is_retryable(200));
    }
}
