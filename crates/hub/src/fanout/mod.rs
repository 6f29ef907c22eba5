//! Fan-out: who is subscribed to what, and delivery of published events to connections.
//!
//! `Fanout` is the narrow interface the rest of the hub uses. `LocalFanout` (local.rs) is the registry of
//! this hub's connections and delivers in-process: the whole story for one hub. `RedisFanout` (redis.rs)
//! puts Redis pub/sub between several hubs, as a doorbell: every event still carries its (epoch, seq),
//! a hub that notices a gap reads the missing events from the store, and the store stays the truth. Each
//! event is encoded once and the bytes are shared by every subscriber. Delivery never blocks: a
//! connection whose queue is full is closed as a slow consumer (4008) instead of growing memory.
mod local;
mod redis;

pub use local::LocalFanout;
pub use redis::RedisFanout;

use crate::conn::Conn;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tally_protocol::{Channel, ErrorCode, UserId};

pub use crate::ids::TenantId;
pub use crate::published::{Frame, Published};

/// What one hub tells the others beyond events.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Control {
    /// A session was revoked (logout, refresh-token reuse): close its connections everywhere.
    Revoke { sid: String },
    /// A user's account was disabled: close every connection of theirs, whatever token it runs on.
    EndUser { tenant: TenantId, user: UserId },
    /// The hubs holding a user's connections changed: their shares of the user's rate budget change.
    Devices { tenant: TenantId, user: UserId },
}

/// Called with every control message from another hub.
pub type Inbound = Arc<dyn Fn(Control) + Send + Sync>;

/// Resolves when a new subscription will see every event published from now on (at once in-process).
pub type Ready = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The hub's view of fan-out: register subscriptions, publish, and end subscriptions.
pub trait Fanout: Send + Sync {
    fn subscribe(&self, tenant: TenantId, channel: Channel, conn: &Arc<Conn>);
    fn unsubscribe(&self, tenant: TenantId, channel: Channel, conn_id: u64);
    fn publish(&self, events: &[Published]);
    /// Ends `user`'s subscriptions to `channel` on every connection (left a room), telling them why.
    fn kick(&self, tenant: TenantId, channel: Channel, user: UserId, code: ErrorCode);
    fn subscription_count(&self) -> usize;
    /// Resolves once events published anywhere reach this hub's subscribers of `channel` (a broker's
    /// subscription is confirmed), so a replay that reads the log after it misses nothing.
    fn ready(&self, _tenant: TenantId, _channel: Channel) -> Ready {
        Box::pin(std::future::ready(()))
    }
    /// Sends a control message to every other hub.
    fn control(&self, _c: Control) {}
    /// Where control messages from other hubs go.
    fn set_inbound(&self, _handler: Inbound) {}
}
