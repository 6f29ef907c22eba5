//! Every Prometheus series the hub reports, in one catalogue: name, kind, what it counts and the values
//! its label takes. `register` describes each one and makes it present from the start (counters and
//! gauges at zero, histograms empty), for every label value known in advance, so dashboards and alerts
//! (docs/grafana/tally-hub.json) work before the first event. Call sites name series by these constants.
use tally_protocol::{CloseCode, ErrorCode};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// The values a series' one label takes, known before any event.
#[derive(Debug, Clone, Copy)]
pub enum Values {
    Fixed(&'static [&'static str]),
    /// Every `ErrorCode`, by its wire name.
    ErrorCodes,
    /// Every WebSocket `CloseCode`, by its number.
    CloseCodes,
}

impl Values {
    pub fn list(self) -> Vec<String> {
        match self {
            Values::Fixed(v) => v.iter().map(|s| s.to_string()).collect(),
            Values::ErrorCodes => ErrorCode::ALL.iter().map(|c| c.as_str().to_string()).collect(),
            Values::CloseCodes => CloseCode::ALL.iter().map(|c| c.code().to_string()).collect(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Series {
    pub name: &'static str,
    pub kind: Kind,
    pub help: &'static str,
    pub label: Option<(&'static str, Values)>,
}

pub const CONNECTIONS: &str = "tally_connections";
pub const SUBSCRIPTIONS: &str = "tally_subscriptions";
pub const SUBSCRIPTIONS_LIVE: &str = "tally_subscriptions_live";
pub const FRAMES_IN: &str = "tally_frames_in_total";
pub const FRAMES_OUT: &str = "tally_frames_out_total";
pub const REJECTED_FRAMES: &str = "tally_rejected_frames_total";
pub const CLOSES: &str = "tally_closes_total";
pub const SLOW_CONSUMERS: &str = "tally_slow_consumers_total";
pub const WS_REFUSED: &str = "tally_ws_refused_total";
pub const REJECTED_ORIGINS: &str = "tally_rejected_origins_total";
pub const TLS_HANDSHAKE_FAILURES: &str = "tally_tls_handshake_failures_total";
pub const FANOUT_SECONDS: &str = "tally_fanout_seconds";
pub const EVENTS_APPENDED: &str = "tally_events_appended_total";
pub const TRANSFERS: &str = "tally_transfers_total";
pub const WITHDRAWALS: &str = "tally_withdrawals_total";
pub const TRANSFERS_ADOPTED: &str = "tally_transfers_adopted_total";
pub const COMMIT_SECONDS: &str = "tally_commit_seconds";
pub const COMMIT_GROUP_SIZE: &str = "tally_commit_group_size";
pub const WRITER_QUEUE: &str = "tally_writer_queue_depth";
pub const WAL_FRAMES: &str = "tally_sqlite_wal_frames";
pub const WAL_BEHIND: &str = "tally_sqlite_wal_frames_unchecked";
pub const STORE_CONFLICT_RETRIES: &str = "tally_store_conflict_retries_total";
pub const LOGIN_FAILURES: &str = "tally_login_failures_total";
pub const ADMIN_REFUSED: &str = "tally_admin_refused_total";
pub const PASSWORD_HASHES: &str = "tally_password_hashes_total";
pub const PASSWORD_WORK_REFUSED: &str = "tally_password_work_refused_total";
pub const PASSWORD_WORK_INSIDE: &str = "tally_password_work_inside";
pub const ATTACHMENTS_UPLOADED: &str = "tally_attachments_uploaded_total";
pub const ATTACHMENT_BYTES_UPLOADED: &str = "tally_attachment_bytes_uploaded_total";
pub const BROKER_RECONNECTS: &str = "tally_broker_reconnects_total";
pub const BROKER_GAPS_FILLED: &str = "tally_broker_gaps_filled_total";
pub const DEVICES_REDIS_ERRORS: &str = "tally_devices_redis_errors_total";
pub const THROTTLE_REDIS_ERRORS: &str = "tally_throttle_redis_errors_total";
pub const THROTTLE_EVICTIONS: &str = "tally_throttle_evictions_total";

/// The statuses `TRANSFERS` counts: created, then each state change.
pub const TRANSFER_STATUSES: &[&str] = &["pending", "processing", "completed", "failed", "review"];
/// The statuses `WITHDRAWALS` counts: requested, then paid out or rejected.
pub const WITHDRAWAL_STATUSES: &[&str] = &["pending", "completed", "rejected"];

const fn s(name: &'static str, kind: Kind, help: &'static str) -> Series {
    Series { name, kind, help, label: None }
}

const fn l(name: &'static str, kind: Kind, help: &'static str, key: &'static str, values: Values) -> Series {
    Series { name, kind, help, label: Some((key, values)) }
}

use Kind::*;

/// The catalogue.
pub const ALL: &[Series] = &[
    s(CONNECTIONS, Gauge, "Open WebSocket connections"),
    s(SUBSCRIPTIONS, Gauge, "Channel subscriptions held by open connections"),
    s(SUBSCRIPTIONS_LIVE, Gauge, "Channel subscriptions in the fan-out registry, counted at scrape"),
    s(FRAMES_IN, Counter, "Frames received from clients"),
    s(FRAMES_OUT, Counter, "Frames written to clients (deliveries)"),
    l(REJECTED_FRAMES, Counter, "Client frames answered with an error, by error code", "code", Values::ErrorCodes),
    l(CLOSES, Counter, "WebSocket connections closed by the hub, by close code", "code", Values::CloseCodes),
    s(SLOW_CONSUMERS, Counter, "Connections closed because their outgoing queue overflowed"),
    l(
        WS_REFUSED,
        Counter,
        "WebSocket upgrades refused by a per-address cap",
        "cap",
        Values::Fixed(&["open", "unauthenticated"]),
    ),
    s(REJECTED_ORIGINS, Counter, "WebSocket upgrades refused for their Origin"),
    s(TLS_HANDSHAKE_FAILURES, Counter, "TLS handshakes that failed or timed out"),
    s(FANOUT_SECONDS, Histogram, "From an event's commit to its delivery to every local subscriber, seconds"),
    s(EVENTS_APPENDED, Counter, "Events appended to channel logs"),
    l(
        TRANSFERS,
        Counter,
        "Transfers created (pending) and their state changes",
        "status",
        Values::Fixed(TRANSFER_STATUSES),
    ),
    l(
        WITHDRAWALS,
        Counter,
        "Withdrawals requested (pending) and decided (completed, rejected)",
        "status",
        Values::Fixed(WITHDRAWAL_STATUSES),
    ),
    s(TRANSFERS_ADOPTED, Counter, "Transfers in flight taken over from a hub that stopped"),
    s(COMMIT_SECONDS, Histogram, "Writer commit time per group of write jobs, seconds"),
    s(COMMIT_GROUP_SIZE, Histogram, "Write jobs per writer commit"),
    s(WRITER_QUEUE, Gauge, "Write jobs waiting for the writer, counted at scrape"),
    s(WAL_FRAMES, Gauge, "Frames in the SQLite write-ahead log at the last checkpoint (embedded store)"),
    s(WAL_BEHIND, Gauge, "WAL frames not yet copied into the SQLite database file (embedded store)"),
    s(STORE_CONFLICT_RETRIES, Counter, "Write jobs run again after a serialization conflict (PostgreSQL)"),
    s(LOGIN_FAILURES, Counter, "Failed sign-ins (wrong password, unknown user, wrong second factor)"),
    s(ADMIN_REFUSED, Counter, "Admin API calls refused for a missing or wrong token"),
    l(
        PASSWORD_HASHES,
        Counter,
        "Password hashes (op=hash) and checks (op=verify) run",
        "op",
        Values::Fixed(&["hash", "verify"]),
    ),
    s(PASSWORD_WORK_REFUSED, Counter, "Password hashes and checks refused because the queue was full (answered 429)"),
    s(PASSWORD_WORK_INSIDE, Gauge, "Password hashes and checks running or waiting"),
    s(ATTACHMENTS_UPLOADED, Counter, "Files uploaded to conversations"),
    s(ATTACHMENT_BYTES_UPLOADED, Counter, "Bytes of files uploaded to conversations"),
    s(BROKER_RECONNECTS, Counter, "Reconnections to the Redis broker"),
    s(BROKER_GAPS_FILLED, Counter, "Events missed on the broker and read back from the store"),
    s(DEVICES_REDIS_ERRORS, Counter, "Redis errors while sharing which devices are online"),
    s(THROTTLE_REDIS_ERRORS, Counter, "Redis errors in the shared throttles (the hub fell back to its own)"),
    s(THROTTLE_EVICTIONS, Counter, "Throttle entries evicted to bound memory"),
];

/// Describes every series and makes it present. Adds nothing to a count already running (several hubs in
/// one process share one recorder).
pub fn register() {
    for series in ALL {
        describe(series);
        match series.label {
            None => touch(series.kind, series.name, None),
            Some((key, values)) => {
                for v in values.list() {
                    touch(series.kind, series.name, Some((key, v)));
                }
            }
        }
    }
}

fn describe(series: &Series) {
    match series.kind {
        Counter => metrics::describe_counter!(series.name, series.help),
        Gauge => metrics::describe_gauge!(series.name, series.help),
        Histogram => metrics::describe_histogram!(series.name, series.help),
    }
}

fn touch(kind: Kind, name: &'static str, label: Option<(&'static str, String)>) {
    let labels: Vec<metrics::Label> = label.map(|(k, v)| metrics::Label::new(k, v)).into_iter().collect();
    match kind {
        Counter => metrics::counter!(name, labels).increment(0),
        Gauge => metrics::gauge!(name, labels).increment(0.0),
        Histogram => {
            let _ = metrics::histogram!(name, labels);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_prometheus_names_with_the_right_suffix() {
        let mut names: Vec<_> = ALL.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len(), "a series is catalogued twice");
        for s in ALL {
            assert!(s.name.starts_with("tally_") && s.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
            assert_eq!(
                s.kind == Counter,
                s.name.ends_with("_total"),
                "{}: counters, and only they, end in _total",
                s.name
            );
            assert!(!s.help.is_empty());
        }
    }
}
