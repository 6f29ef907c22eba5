//! Counters and latency histograms (HdrHistogram, microseconds), shipped between processes as
//! base64-encoded V2 histograms and merged by the orchestrator.
use base64::Engine as _;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use hdrhistogram::Histogram;
use serde_json::{json, Value};

pub fn hist() -> Histogram<u64> {
    // 1 µs .. 10 min, 3 significant figures.
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("static bounds")
}

pub fn encode(h: &Histogram<u64>) -> String {
    let mut buf = Vec::new();
    V2Serializer::new().serialize(h, &mut buf).expect("in-memory serialization");
    base64::engine::general_purpose::STANDARD.encode(buf)
}

pub fn decode(s: &str) -> Option<Histogram<u64>> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(s).ok()?;
    Deserializer::new().deserialize(&mut bytes.as_slice()).ok()
}

pub struct Stats {
    pub lat: Histogram<u64>,
    pub received: u64,
    pub gaps: u64,
    pub dups: u64,
    pub errors: u64,
    /// Reconnect storm: drop → caught up, per connection.
    pub storm: Histogram<u64>,
    pub resub_count: u64,
    /// Reconnect storm: connections that saw their socket drop (all of them when the one server dies;
    /// a third when one hub of three does).
    pub dropped: u64,
    /// Resubscriptions per 100 ms window (key: wall-clock ns / 100 ms).
    pub resub_buckets: std::collections::BTreeMap<u64, u64>,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            lat: hist(),
            received: 0,
            gaps: 0,
            dups: 0,
            errors: 0,
            storm: hist(),
            resub_count: 0,
            dropped: 0,
            resub_buckets: Default::default(),
        }
    }
}

impl Stats {
    pub fn reset(&mut self) {
        *self = Stats::default();
    }

    pub fn latency(&mut self, ns: u64) {
        self.received += 1;
        let _ = self.lat.record((ns / 1_000).clamp(1, 600_000_000));
    }

    pub fn caught_up(&mut self, ns: u64) {
        let _ = self.storm.record((ns / 1_000).clamp(1, 600_000_000));
    }

    pub fn resubscribed(&mut self, at_ns: u64) {
        self.resub_count += 1;
        *self.resub_buckets.entry(at_ns / 100_000_000).or_default() += 1;
    }

    /// The most resubscriptions completed in any one-second window.
    pub fn peak_resub_per_s(&self) -> u64 {
        let Some((&first, _)) = self.resub_buckets.iter().next() else { return 0 };
        let last = *self.resub_buckets.keys().next_back().unwrap_or(&first);
        (first..=last)
            .map(|start| (start..start + 10).map(|b| self.resub_buckets.get(&b).copied().unwrap_or(0)).sum())
            .max()
            .unwrap_or(0)
    }

    pub fn to_json(&self) -> Value {
        json!({
            "lat": encode(&self.lat), "received": self.received, "gaps": self.gaps, "dups": self.dups,
            "errors": self.errors, "storm": encode(&self.storm), "resub_count": self.resub_count,
            "dropped": self.dropped,
            "resub_buckets": self.resub_buckets.iter().map(|(k, v)| (k.to_string(), *v)).collect::<std::collections::BTreeMap<_, _>>(),
        })
    }

    /// Adds a worker's report into this one.
    pub fn merge_json(&mut self, v: &Value) {
        let n = |k: &str| v[k].as_u64().unwrap_or(0);
        if let Some(h) = v["lat"].as_str().and_then(decode) {
            let _ = self.lat.add(&h);
        }
        if let Some(h) = v["storm"].as_str().and_then(decode) {
            let _ = self.storm.add(&h);
        }
        self.received += n("received");
        self.gaps += n("gaps");
        self.dups += n("dups");
        self.errors += n("errors");
        self.resub_count += n("resub_count");
        self.dropped += n("dropped");
        if let Some(m) = v["resub_buckets"].as_object() {
            for (k, c) in m {
                if let (Ok(k), Some(c)) = (k.parse::<u64>(), c.as_u64()) {
                    *self.resub_buckets.entry(k).or_default() += c;
                }
            }
        }
    }
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, Default, serde::Serialize, serde::Deserialize)]
pub struct Pcts {
    pub p50: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub n: u64,
}

pub fn pcts(h: &Histogram<u64>) -> Pcts {
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1_000.0;
    Pcts { p50: ms(0.50), p99: ms(0.99), p999: ms(0.999), max: h.max() as f64 / 1_000.0, n: h.len() }
}

/// (percentile, ms) points for a latency-percentile plot, 0 .. 99.99.
pub fn curve(h: &Histogram<u64>) -> Vec<(f64, f64)> {
    const QS: [f64; 14] = [0.0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9995, 0.9999, 0.99995, 0.99999, 1.0];
    if h.is_empty() {
        return vec![];
    }
    QS.iter().map(|&q| (q * 100.0, h.value_at_quantile(q) as f64 / 1_000.0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_survive_the_trip_and_merge() {
        let mut a = Stats::default();
        for ns in [1_000_000u64, 2_000_000, 50_000_000] {
            a.latency(ns);
        }
        a.gaps = 2;
        let mut total = Stats::default();
        total.merge_json(&a.to_json());
        total.merge_json(&a.to_json());
        assert_eq!(total.received, 6);
        assert_eq!(total.gaps, 4);
        assert_eq!(total.lat.len(), 6);
        let mut r = Stats::default();
        for i in 0..30u64 {
            r.resubscribed(1_000_000_000 + i * 50_000_000); // 20 per second for 1.5 s
        }
        let mut m = Stats::default();
        m.merge_json(&r.to_json());
        assert_eq!(m.peak_resub_per_s(), 20);
        let p = pcts(&total.lat);
        assert!((p.p50 - 2.0).abs() < 0.01, "{p:?}");
        assert!((p.max - 50.0).abs() < 0.1, "{p:?}");
    }
}
