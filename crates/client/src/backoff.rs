//! Reconnect delays: exponential, capped first, then full jitter.
//!
//! delay = 250 ms + uniform(0, min(cap, 500 ms · 2^attempt)); cap 10 s in the foreground (a user waiting
//! in front of the window; Socket.IO uses 5 s, Centrifugo 20 s), 120 s in the background. The first retry
//! after a session that was healthy for a minute drops comes within a random 0–1 s; a session that drops
//! sooner (a hub in a crash loop, closing with 4008/4009/1012 right after accepting) backs off like a
//! failed attempt, because the attempt count resets only after 60 s of healthy connection.
use rand::Rng;
use std::time::Duration;

pub const BASE: Duration = Duration::from_millis(250);
pub const UNIT_MS: u64 = 500;
pub const CAP_FOREGROUND: Duration = Duration::from_secs(10);
pub const CAP_BACKGROUND: Duration = Duration::from_secs(120);
pub const HEALTHY_RESET: Duration = Duration::from_secs(60);

/// The longest wait between attempts, in front of the user and in the background.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    pub foreground: Duration,
    pub background: Duration,
}

impl Default for Caps {
    fn default() -> Self {
        Caps { foreground: CAP_FOREGROUND, background: CAP_BACKGROUND }
    }
}

#[derive(Debug, Clone)]
pub struct Backoff {
    pub attempt: u32,
    pub background: bool,
    pub caps: Caps,
}

impl Backoff {
    pub fn new() -> Self {
        Self::with_caps(Caps::default())
    }

    pub fn with_caps(caps: Caps) -> Self {
        Backoff { attempt: 0, background: false, caps }
    }

    pub fn cap(&self) -> Duration {
        if self.background {
            self.caps.background
        } else {
            self.caps.foreground
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

    /// The delay after a connection ended. `live_for`: how long it had been live (None: it never was);
    /// `hint`: the hub's `reconnect` delay or a close code's; `Duration::ZERO` asks for an immediate retry
    /// (a refreshed token), granted once in a row.
    pub fn after_drop(&mut self, live_for: Option<Duration>, hint: Option<Duration>, rng: &mut impl Rng) -> Duration {
        if live_for.is_some_and(|l| l >= HEALTHY_RESET) {
            self.attempt = 0;
            return hint.unwrap_or_else(|| Self::first_retry(rng));
        }
        if hint == Some(Duration::ZERO) && self.attempt == 0 && live_for.is_none() {
            self.attempt = 1;
            return Duration::ZERO;
        }
        self.next_delay(rng).max(hint.unwrap_or(Duration::ZERO))
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
            let mut b = Backoff { attempt: 6, ..Backoff::new() };
            seen.insert(b.next_delay(&mut rng).as_millis() / 1000);
        }
        assert!(seen.len() > 10, "full jitter should spread over the window: {seen:?}");
    }

    #[test]
    fn a_hub_that_closes_right_after_accepting_is_not_hit_every_half_second() {
        let mut rng = StdRng::seed_from_u64(9);
        let mut b = Backoff::new();
        let restart = Some(Duration::from_millis(500));
        let delays: Vec<Duration> =
            (0..12).map(|_| b.after_drop(Some(Duration::from_millis(80)), restart, &mut rng)).collect();
        assert!(b.attempt >= 12, "each short session counts as an attempt");
        // Late delays are drawn from windows up to the cap; their sum grows like the backoff, not 0.5 s each.
        let late: Duration = delays[6..].iter().sum();
        assert!(late > Duration::from_secs(12), "{delays:?}");
        assert!(delays.iter().all(|d| *d <= BASE + CAP_FOREGROUND));
        // A session healthy for a minute starts over with a quick retry.
        let d = b.after_drop(Some(Duration::from_secs(61)), None, &mut rng);
        assert!(d <= Duration::from_secs(1) && b.attempt == 0);
        // "Retry at once" (a refreshed token) is granted once in a row, then it backs off.
        assert_eq!(b.after_drop(None, Some(Duration::ZERO), &mut rng), Duration::ZERO);
        assert!(b.after_drop(None, Some(Duration::ZERO), &mut rng) >= BASE);
    }

    #[test]
    fn attempts_reset_only_after_a_minute_of_health() {
        let mut b = Backoff { attempt: 5, ..Backoff::new() };
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
