//! `LiveStats` from two readings of the hub's Prometheus text a second apart: gauges as read, rates as the
//! counters' growth over the time between the readings. The text is parsed by `prometheus-parse`; the
//! series are `crate::series`' catalogue, each with at most one label.
use crate::series;
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;
use tally_protocol::live::LiveStats;
use tally_protocol::Millis;

/// One reading: each series' value by `name` or `name|label value`.
#[derive(Debug, Default)]
struct Reading(HashMap<String, f64>);

impl Reading {
    fn parse(text: &str) -> Reading {
        let lines = text.lines().map(|l| Ok(l.to_string()));
        let Ok(scrape) = prometheus_parse::Scrape::parse(lines) else { return Reading::default() };
        let mut values = HashMap::new();
        for s in scrape.samples {
            let v = match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                _ => continue,
            };
            let key = match s.labels.values().next() {
                Some(label) => format!("{}|{label}", s.metric),
                None => s.metric,
            };
            values.insert(key, v);
        }
        Reading(values)
    }

    fn get(&self, key: &str) -> f64 {
        self.0.get(key).copied().unwrap_or(0.0)
    }
}

/// Turns readings into `LiveStats`, keeping the last one to take rates against.
#[derive(Debug, Default)]
pub struct Sampler {
    last: Option<(Instant, Reading)>,
}

impl Sampler {
    /// The stats of `text` (the hub's rendered metrics) read at `now`; rates are zero on the first call.
    pub fn sample(&mut self, text: &str, at: Millis) -> LiveStats {
        let now = Instant::now();
        let cur = Reading::parse(text);
        let (secs, prev) = match self.last.take() {
            Some((then, prev)) => (now.duration_since(then).as_secs_f64().max(1e-3), prev),
            None => (f64::INFINITY, Reading::default()),
        };
        // A counter that went down was reset: its rate over this second is unknown, shown as zero.
        let rate = |key: &str| ((cur.get(key) - prev.get(key)).max(0.0) / secs * 100.0).round() / 100.0;
        let by_label = |name: &str, values: Vec<String>, keep_zero: bool| -> BTreeMap<String, f64> {
            let each = values.into_iter().map(|v| (rate(&format!("{name}|{v}")), v));
            each.filter(|(r, _)| keep_zero || *r > 0.0).map(|(r, v)| (v, r)).collect()
        };
        let statuses = series::TRANSFER_STATUSES.iter().map(|s| s.to_string()).collect();
        let codes = tally_protocol::ErrorCode::ALL.iter().map(|c| c.as_str().to_string()).collect();
        let commits = cur.get(&count(series::COMMIT_SECONDS)) - prev.get(&count(series::COMMIT_SECONDS));
        let committing = cur.get(&sum(series::COMMIT_SECONDS)) - prev.get(&sum(series::COMMIT_SECONDS));
        let stats = LiveStats {
            at,
            connections: cur.get(series::CONNECTIONS).max(0.0) as u64,
            subscriptions: cur.get(series::SUBSCRIPTIONS).max(0.0) as u64,
            deliveries_per_s: rate(series::FRAMES_OUT),
            frames_in_per_s: rate(series::FRAMES_IN),
            transfers_per_s: by_label(series::TRANSFERS, statuses, true),
            errors_per_s: by_label(series::REJECTED_FRAMES, codes, false),
            writer_queue: cur.get(series::WRITER_QUEUE).max(0.0) as u64,
            commits_per_s: rate(&count(series::COMMIT_SECONDS)),
            commit_ms: (commits > 0.0 && secs.is_finite()).then(|| (committing / commits * 1e5).round() / 100.0),
        };
        self.last = Some((now, cur));
        stats
    }
}

fn count(histogram: &str) -> String {
    format!("{histogram}_count")
}

fn sum(histogram: &str) -> String {
    format!("{histogram}_sum")
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEFORE: &str = "# TYPE tally_connections gauge\ntally_connections 3\n\
        # TYPE tally_frames_out_total counter\ntally_frames_out_total 100\n\
        # TYPE tally_transfers_total counter\ntally_transfers_total{status=\"pending\"} 10\n\
        # TYPE tally_rejected_frames_total counter\ntally_rejected_frames_total{code=\"invalid\"} 1\n\
        # TYPE tally_commit_seconds histogram\ntally_commit_seconds_bucket{le=\"+Inf\"} 4\n\
        tally_commit_seconds_sum 0.004\ntally_commit_seconds_count 4\n";
    const AFTER: &str = "# TYPE tally_connections gauge\ntally_connections 5\n\
        # TYPE tally_frames_out_total counter\ntally_frames_out_total 160\n\
        # TYPE tally_transfers_total counter\ntally_transfers_total{status=\"pending\"} 12\n\
        # TYPE tally_rejected_frames_total counter\ntally_rejected_frames_total{code=\"invalid\"} 1\n\
        # TYPE tally_commit_seconds histogram\ntally_commit_seconds_bucket{le=\"+Inf\"} 6\n\
        tally_commit_seconds_sum 0.010\ntally_commit_seconds_count 6\n";

    #[test]
    fn gauges_as_read_rates_from_growth_and_the_mean_commit_of_the_interval() {
        let mut s = Sampler::default();
        let first = s.sample(BEFORE, 1);
        assert_eq!((first.connections, first.deliveries_per_s, first.commit_ms), (3, 0.0, None));
        assert_eq!(first.transfers_per_s.get("completed"), Some(&0.0), "every status, at zero too");
        std::thread::sleep(std::time::Duration::from_millis(200));
        let next = s.sample(AFTER, 2);
        assert_eq!(next.connections, 5);
        assert!(next.deliveries_per_s > 0.0 && next.deliveries_per_s <= 300.0, "{}", next.deliveries_per_s);
        assert!(next.transfers_per_s["pending"] > 0.0);
        assert!(next.errors_per_s.is_empty(), "a code that did not grow is left out");
        assert_eq!(next.commit_ms, Some(3.0), "6 ms over 2 commits");
        let reset = s.sample("# TYPE tally_frames_out_total counter\ntally_frames_out_total 5\n", 3);
        assert_eq!(reset.deliveries_per_s, 0.0, "a reset counter is not a negative rate");
    }
}
