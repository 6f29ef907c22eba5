//! The operators' live socket (`GET /v1/operators/live`): what the hub is doing, once a second, and the
//! feed of money moving in the operator's tenants, as it moves. JSON text frames, one envelope per
//! direction tagged by `type` ([`LiveRequest`] from the console, [`LiveFrame`] from the hub).
use crate::{Currency, ErrorCode, Millis, Transaction, TransferStatus, TxKind, UserSummary};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use ts_rs::TS;

/// The `Sec-WebSocket-Protocol` the console asks for and the hub answers with; the operator's session
/// token travels beside it as `bearer.<token>` (a browser cannot set `Authorization` on a WebSocket).
pub const LIVE_SUBPROTOCOL: &str = "tally.operator.v1";
/// Lines the feed shows at most after a filter is set (the newest that match).
pub const FEED_FIRST_PAGE: u32 = 50;
/// Longest username a filter may name.
pub const MAX_FILTER_USERNAME: usize = 64;

/// From the console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveRequest {
    /// Which lines the feed shows from now on; answered by a `feed` with `replace: true` (the newest
    /// [`FEED_FIRST_PAGE`] that match), then every matching line as it is written or changes.
    Filter { filter: FeedFilter },
}

/// Every field narrows the feed; none: every line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct FeedFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub kind: Option<TxKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub status: Option<TransferStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "Currency")]
    pub currency: Option<Currency>,
    /// Lines of at least this many minor units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    pub min_minor: Option<i64>,
    /// One user's lines (exactly this username).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub username: Option<String>,
}

/// From the hub.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveFrame {
    /// Once a second.
    Stats { stats: LiveStats },
    /// Lines written or changed. `replace`: the answer to a filter, instead of what the console shows;
    /// otherwise a line replaces the one with its id, or comes first. `skipped`: more changed than the
    /// feed carries in a second; these are the newest.
    Feed {
        lines: Vec<FeedLine>,
        replace: bool,
        #[serde(default)]
        skipped: bool,
    },
    /// A request refused (an unknown user in a filter, a frame that is not a `LiveRequest`); the socket
    /// stays open and the feed keeps its filter.
    Error { code: ErrorCode, message: String },
}

/// What this hub is doing: gauges as they are, rates over the last second, from the same numbers its
/// `/metrics` shows. In a cluster each hub reports its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct LiveStats {
    #[ts(type = "number")]
    pub at: Millis,
    #[ts(type = "number")]
    pub connections: u64,
    #[ts(type = "number")]
    pub subscriptions: u64,
    /// Frames written to clients per second.
    pub deliveries_per_s: f64,
    /// Frames received from clients per second.
    pub frames_in_per_s: f64,
    /// Transfers created (`pending`) and changing status, per second, by status.
    pub transfers_per_s: BTreeMap<String, f64>,
    /// Client frames answered with an error per second, by error code (codes at zero left out).
    pub errors_per_s: BTreeMap<String, f64>,
    /// Write jobs waiting for the writer.
    #[ts(type = "number")]
    pub writer_queue: u64,
    /// Writer commits per second.
    pub commits_per_s: f64,
    /// Mean commit time over the last second, milliseconds; none without a commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub commit_ms: Option<f64>,
}

/// One transaction line of the feed, with the user it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct FeedLine {
    pub user: UserSummary,
    pub transaction: Transaction,
    /// When the line was written or last changed status.
    #[ts(type = "number")]
    pub updated_at: Millis,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_with_their_type_tags() {
        let r: LiveRequest =
            serde_json::from_str(r#"{"type":"filter","filter":{"kind":"withdrawal","min_minor":100}}"#).unwrap();
        let LiveRequest::Filter { filter } = r;
        assert_eq!((filter.kind, filter.min_minor, filter.status), (Some(TxKind::Withdrawal), Some(100), None));
        let f = LiveFrame::Feed { lines: vec![], replace: true, skipped: false };
        assert_eq!(serde_json::to_string(&f).unwrap(), r#"{"type":"feed","lines":[],"replace":true,"skipped":false}"#);
    }
}
