//! What fan-out carries: a committed event (or an ephemeral one) encoded once. Its own module so that
//! connections (which deliver it) and fan-out (which routes it) both depend on it and not on each other.
use crate::ids::TenantId;
use axum::extract::ws::Utf8Bytes;
use std::time::Instant;
use tally_protocol::Channel;

/// An encoded server frame (UTF-8 JSON text), encoded once and shared by every subscriber without a copy.
/// What a broker carries between hubs: `as_str` out, `Frame::new` in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame(Utf8Bytes);

impl Frame {
    pub fn new(text: String) -> Self {
        Frame(Utf8Bytes::from(text))
    }
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
    /// The text for a socket's writer (shared, not copied).
    pub(crate) fn to_ws(&self) -> Utf8Bytes {
        self.0.clone()
    }
}

/// One committed durable event (or an ephemeral one, `seq == 0`), encoded once.
#[derive(Clone)]
pub struct Published {
    pub tenant: TenantId,
    pub channel: Channel,
    pub seq: u64,
    /// The complete frame text to send (`{"type":"event",...}` or `{"type":"ephemeral",...}`).
    pub frame: Frame,
    /// When the event was committed (for the fan-out latency histogram).
    pub at: Instant,
}
