//! Token buckets for per-connection and per-user frame rates.
use std::time::Instant;

pub struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    pub fn new(rate_per_sec: f64, burst: f64) -> Self {
        Bucket { rate: rate_per_sec, burst, tokens: burst, at: Instant::now() }
    }

    /// Takes one token; false when the bucket is empty.
    pub fn take(&mut self) -> bool {
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.at).as_secs_f64() * self.rate).min(self.burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Over-the-budget accounting for one connection, in one-second windows: a connection that sends more
/// than 10× its sustained rate within a window is closed (`4009`), and of the frames refused in a window
/// only the first is answered (`rate_limited`): a flood gets one error per second back, not one per frame.
pub struct Flood {
    limit: u32,
    window: Instant,
    frames: u32,
    refused: u32,
}

impl Flood {
    pub fn new(rate_per_sec: u32) -> Flood {
        Flood { limit: rate_per_sec.saturating_mul(10).max(10), window: Instant::now(), frames: 0, refused: 0 }
    }

    /// Counts an incoming frame; true when the connection went past 10× its rate in this window.
    pub fn frame(&mut self) -> bool {
        self.frame_at(Instant::now())
    }

    fn frame_at(&mut self, now: Instant) -> bool {
        if now.duration_since(self.window).as_secs_f64() >= 1.0 {
            self.window = now;
            self.frames = 0;
            self.refused = 0;
        }
        self.frames += 1;
        self.frames > self.limit
    }

    /// A frame over the rate was refused: true for the first of its window (answer it), false after
    /// (drop it unanswered).
    pub fn refused(&mut self) -> bool {
        self.refused += 1;
        self.refused == 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_flood_past_ten_times_the_rate_is_caught_within_its_window() {
        let mut f = Flood::new(50);
        let t0 = Instant::now();
        assert!((0..500).all(|_| !f.frame_at(t0)), "500 frames in a second is 10×: still allowed");
        assert!(f.frame_at(t0 + Duration::from_millis(900)), "the 501st in the same second is not");
        // 400 a second, every second, is refused frames but never a close.
        let mut f = Flood::new(50);
        for s in 0..5 {
            assert!((0..400).all(|i| !f.frame_at(t0 + Duration::from_millis(s * 1000 + i * 2))));
        }
    }

    #[test]
    fn one_answer_per_window() {
        let mut f = Flood::new(5);
        let t0 = Instant::now();
        f.frame_at(t0);
        assert!(f.refused());
        assert!(!f.refused() && !f.refused());
        f.frame_at(t0 + Duration::from_millis(1001));
        assert!(f.refused(), "a new window is answered again");
    }

    #[test]
    fn burst_then_refuse() {
        let mut b = super::Bucket::new(1.0, 3.0);
        assert!(b.take() && b.take() && b.take());
        assert!(!b.take());
    }
}
