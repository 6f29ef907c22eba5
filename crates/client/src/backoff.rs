//! Reconnect delays: exponential, capped first, then full jitter.
//!
//! delay = 250 ms + uniform(0, min(cap, 500 ms · 2^attempt)); cap 30 s in the foreground, 120 s in the
//! background. The first retry after an established session drops comes within a random 0–1 s. The attempt
//! count resets only after 60 s of healthy connection.
use rand::Rng;
use std::time::Duration;

pub const BASE: Duration = Duration::from_millis(250);
pub const UNIT_MS: u64 = 500;
pub const CAP_FOREGROUND: Duration = Duration::from_secs(30);
pub const CAP_BACKGROUND: Duration = Duration::from_secs(120);
pub const HEALTHY_RESET: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct Backoff {
    pub attempt: u32,
    pub background: bool,
}

impl Backoff {
    pub fn new() -> Self {
        Backoff { attempt: 0, background: false }
    }

    pub fn cap(&self) -> Duration {
        if self.background {
            CAP_BACKGROUND
        } else {
            CAP_FOREGROUND
        }
    }

    /// The upper bound of the jitter window for `attempt`.
    pub fn window(&self, attempt: u32) -> Duration {
        let exp = UNIT_MS.saturating_mul(1u64 << attempt.min(20));
        Duration::from_millis(exp).min(self.cap())
    }

    /// The delay before the next attempt; advances the attempt count.
    pub fn next_delay(&mut self, rng: &mut impl Rng) -> Duration {
        let w = self.window(self.attempt).as_millis() as u64;
        self.attempt = self.attempt.saturating_add(1);
        BASE + Duration::from_millis(rng.gen_range(0..=w))
    }

    /// The delay right after an established session dropped: 0–1 s, so a fleet does not reconnect at once.
    pub fn first_retry(rng: &mut impl Rng) -> Duration {
        Duration::from_millis(rng.gen_range(0..=1000))
    }

    /// Called when a connection has been healthy for `healthy_for`.
    pub fn on_healthy(&mut self, healthy_for: Duration) {
        if healthy_for >= HEALTHY_RESET {
            self.attempt = 0;
        }
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn delays_stay_within_the_capped_window() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut b = Backoff::new();
        for attempt in 0..40u32 {
            let w = b.window(attempt);
            let d = b.next_delay(&mut rng);
            assert!(d >= BASE && d <= BASE + w, "attempt {attempt}: {d:?} outside {w:?}");
            assert!(w <= CAP_FOREGROUND);
        }
        assert_eq!(b.window(3), Duration::from_millis(4000));
        assert_eq!(b.window(30), CAP_FOREGROUND);
        b.background = true;
        assert_eq!(b.window(30), CAP_BACKGROUND);
    }

    #[test]
    fn jitter_spreads_delays() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..50 {
            let mut b = Backoff { attempt: 6, background: false };
            seen.insert(b.next_delay(&mut rng).as_millis() / 1000);
        }
        assert!(seen.len() > 10, "full jitter should spread over the window: {seen:?}");
    }

    #[test]
    fn attempts_reset_only_after_a_minute_of_health() {
        let mut b = Backoff { attempt: 5, background: false };
        b.on_healthy(Duration::from_secs(59));
        assert_eq!(b.attempt, 5);
        b.on_healthy(Duration::from_secs(60));
        assert_eq!(b.attempt, 0);
        let mut rng = StdRng::seed_from_u64(3);
        for _ in 0..100 {
            assert!(Backoff::first_retry(&mut rng) <= Duration::from_secs(1));
        }
    }
}
