//! Fan-out: who is subscribed to what, and delivery of published events to connections.
//!
//! `Fanout` is the narrow interface the rest of the hub uses; `LocalFanout` delivers in-process. A
//! multi-node deployment puts a broker behind the same trait. Each event is encoded once and the bytes are
//! shared by every subscriber. Delivery never blocks: a connection whose queue is full is closed as a
//! slow consumer (4008) instead of growing memory.
use crate::conn::Conn;
use axum::extract::ws::Utf8Bytes;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Instant;
use tally_protocol::{Channel, ErrorCode, UserId};

pub use crate::ids::TenantId;

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

/// The hub's view of fan-out: register subscriptions, publish, and end subscriptions.
pub trait Fanout: Send + Sync {
    fn subscribe(&self, tenant: TenantId, channel: Channel, conn: &Arc<Conn>);
    fn unsubscribe(&self, tenant: TenantId, channel: Channel, conn_id: u64);
    fn publish(&self, events: &[Published]);
    /// Ends `user`'s subscriptions to `channel` on every connection (left a room), telling them why.
    fn kick(&self, tenant: TenantId, channel: Channel, user: UserId, code: ErrorCode);
    fn subscription_count(&self) -> usize;
}

type Subs = HashMap<u64, Arc<Conn>>;

#[derive(Default)]
pub struct LocalFanout {
    map: RwLock<HashMap<(TenantId, Channel), Subs>>,
}

impl Fanout for LocalFanout {
    fn subscribe(&self, tenant: TenantId, channel: Channel, conn: &Arc<Conn>) {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        map.entry((tenant, channel)).or_default().insert(conn.id, conn.clone());
        metrics::gauge!("tally_subscriptions").increment(1.0);
    }

    fn unsubscribe(&self, tenant: TenantId, channel: Channel, conn_id: u64) {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        if let Some(subs) = map.get_mut(&(tenant, channel)) {
            if subs.remove(&conn_id).is_some() {
                metrics::gauge!("tally_subscriptions").decrement(1.0);
            }
            if subs.is_empty() {
                map.remove(&(tenant, channel));
            }
        }
    }

    fn publish(&self, events: &[Published]) {
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        for ev in events {
            if let Some(subs) = map.get(&(ev.tenant, ev.channel)) {
                for conn in subs.values() {
                    conn.deliver(ev);
                }
            }
            metrics::histogram!("tally_fanout_seconds").record(ev.at.elapsed().as_secs_f64());
        }
    }

    fn kick(&self, tenant: TenantId, channel: Channel, user: UserId, code: ErrorCode) {
        let victims: Vec<Arc<Conn>> = {
            let map = self.map.read().unwrap_or_else(|e| e.into_inner());
            map.get(&(tenant, channel))
                .map(|s| s.values().filter(|c| c.user.id == user).cloned().collect())
                .unwrap_or_default()
        };
        for c in victims {
            self.unsubscribe(tenant, channel, c.id);
            c.end_subscription(channel, code);
        }
    }

    fn subscription_count(&self) -> usize {
        self.map.read().unwrap_or_else(|e| e.into_inner()).values().map(|s| s.len()).sum()
    }
}
