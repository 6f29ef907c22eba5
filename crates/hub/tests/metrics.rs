//! Every series in the hub's catalogue (`tally_hub::series`) is on /metrics from the start, described and
//! at zero for every label value known in advance, so dashboards and alerts work before the first event;
//! the shipped Grafana dashboard (docs/grafana/tally-hub.json) queries only catalogued series, and every
//! one of them.
mod common;
use common::*;
use std::collections::BTreeSet;
use tally_hub::series::{self, Kind};

fn kind_word(k: Kind) -> &'static str {
    match k {
        Kind::Counter => "counter",
        Kind::Gauge => "gauge",
        Kind::Histogram => "histogram",
    }
}

/// The value of the sample `line_start` (a series name with its labels, as Prometheus text writes it).
fn sample(text: &str, line_start: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(line_start)?.strip_prefix(' ')?.trim().parse().ok())
}

#[tokio::test]
async fn every_series_is_described_and_at_zero_before_any_traffic() {
    // This process's only hub: the recorder is the process's, and nothing else has counted yet.
    let hub = TestHub::start().await;
    let url = hub.running.as_ref().unwrap().metrics_url();
    let text = hub.http.get(&url).send().await.unwrap().text().await.unwrap();
    let mut missing = vec![];
    for s in series::ALL {
        if !text.contains(&format!("# HELP {} {}", s.name, s.help)) {
            missing.push(format!("{}: no HELP", s.name));
        }
        if !text.contains(&format!("# TYPE {} {}", s.name, kind_word(s.kind))) {
            missing.push(format!("{}: no TYPE {}", s.name, kind_word(s.kind)));
        }
        let lines: Vec<String> = match (s.kind, s.label) {
            (Kind::Histogram, _) => vec![format!("{}_count", s.name)],
            (_, None) => vec![s.name.to_string()],
            (_, Some((key, values))) => values.list().iter().map(|v| format!("{}{{{key}=\"{v}\"}}", s.name)).collect(),
        };
        for line in lines {
            // Histograms are present; starting the hub has already committed (the tenant, migrations).
            match sample(&text, &line) {
                Some(v) if v == 0.0 || s.kind == Kind::Histogram => {}
                other => missing.push(format!("{line}: {other:?}, not 0")),
            }
        }
    }
    assert!(missing.is_empty(), "{} problems:\n{}\n\n{text}", missing.len(), missing.join("\n"));

    // And they count: one connection, its welcome, the sign-up's commit.
    let a = hub.register("oli").await;
    let _c = hub.connect(&a).await;
    let text = hub.http.get(&url).send().await.unwrap().text().await.unwrap();
    assert_eq!(sample(&text, series::CONNECTIONS), Some(1.0), "{text}");
    assert!(sample(&text, series::FRAMES_OUT) >= Some(1.0), "its welcome went out: {text}");
    assert!(sample(&text, &format!("{}_count", series::COMMIT_SECONDS)) >= Some(1.0), "the sign-up committed");
}

#[test]
fn the_grafana_dashboard_charts_every_series_and_only_those() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/grafana/tally-hub.json");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).expect("valid JSON");
    let mut queried = BTreeSet::new();
    for panel in json["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().expect("a PromQL expr");
            for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if word.starts_with("tally_") {
                    let base = ["_bucket", "_sum", "_count"].iter().find_map(|s| word.strip_suffix(s)).unwrap_or(word);
                    queried.insert(base.to_string());
                }
            }
        }
    }
    let catalogued: BTreeSet<String> = series::ALL.iter().map(|s| s.name.to_string()).collect();
    let unknown: Vec<_> = queried.difference(&catalogued).collect();
    let uncharted: Vec<_> = catalogued.difference(&queried).collect();
    assert!(unknown.is_empty(), "the dashboard queries series the hub does not report: {unknown:?}");
    assert!(uncharted.is_empty(), "series with no panel: {uncharted:?}");
}
