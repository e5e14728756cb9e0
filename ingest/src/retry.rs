//! Trying again what failed for a while: waits doubling from 0.5 s to
//! 30 s, for up to a limit. One schedule for table commits, the dead-letter
//! topic and the detector's commits, so an outage reads the same in each.

use std::time::{Duration, Instant};

/// The first wait…
const FIRST_WAIT: Duration = Duration::from_millis(500);
/// …doubling up to this.
const MAX_WAIT: Duration = Duration::from_secs(30);

#[derive(Debug)]
pub struct Retry {
    started: Instant,
    limit: Duration,
    next: Duration,
    waits: u32,
}

impl Retry {
    /// Retries from now for up to `limit`.
    pub fn new(limit: Duration) -> Retry {
        Retry {
            started: Instant::now(),
            limit,
            next: FIRST_WAIT,
            waits: 0,
        }
    }

    /// How long to wait before the next try; `None` once `limit` has
    /// passed since the retries began, when the failure is final.
    pub fn next_wait(&mut self) -> Option<Duration> {
        if self.started.elapsed() >= self.limit {
            return None;
        }
        let wait = self.next;
        self.next = (self.next * 2).min(MAX_WAIT);
        self.waits += 1;
        Some(wait)
    }

    /// Whether a wait was handed out: a success now ends an outage.
    pub fn retried(&self) -> bool {
        self.waits > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_thirty_seconds() {
        let mut retry = Retry::new(Duration::from_secs(3600));
        assert!(!retry.retried());
        let waits: Vec<u64> = (0..9)
            .map(|_| retry.next_wait().unwrap().as_millis() as u64)
            .collect();
        assert_eq!(
            waits,
            [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]
        );
        assert!(retry.retried());
    }

    #[test]
    fn the_limit_ends_the_retries() {
        let mut retry = Retry::new(Duration::ZERO);
        assert_eq!(retry.next_wait(), None);
        assert!(!retry.retried());
    }
}
