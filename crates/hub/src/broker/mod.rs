//! The broker between hubs, in centrifuge's sense: it knows channels, positions and bytes — publish a
//! committed event, subscribe a channel, hand other hubs' publications back through a handler — and
//! nothing of connections, the store or auth. A lone hub has none. `RedisBroker` (redis.rs) is Redis
//! pub/sub used as a doorbell: every event still carries its (epoch, seq), the hub that receives it
//! fills gaps from the store (`fanout/delivery.rs`), and the store stays the truth.
mod redis;

pub use redis::RedisBroker;

use crate::ids::TenantId;
use crate::published::Published;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tally_protocol::{Channel, UserId};

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

/// What a broker hands back to its hub.
pub enum Inbound {
    /// Events other hubs committed, as they arrived: in any order, possibly with gaps or twice.
    Publications(Vec<Published>),
    /// These channels' publications may have been missed (a subscription just confirmed, or the broker
    /// came back after an outage): read them from the store past the last position delivered.
    Resume(Vec<(TenantId, Channel)>),
    /// A control message from another hub.
    Control(Control),
}

/// Where a broker hands what it receives.
pub type Handler = Arc<dyn Fn(Inbound) + Send + Sync>;

/// Resolves once publications of a channel from every hub reach this one (at once without a broker).
pub type Ready = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Publish and subscribe by channel between hubs. Calls never block: they queue work for the broker's
/// own task.
pub trait Broker: Send + Sync {
    /// Sends events this hub committed (or ephemeral ones) to every other hub.
    fn publish(&self, events: &[Published]);
    /// Starts receiving the channel's publications from other hubs.
    fn subscribe(&self, tenant: TenantId, channel: Channel);
    /// Stops receiving them (no connection of this hub wants the channel any more).
    fn unsubscribe(&self, tenant: TenantId, channel: Channel);
    /// Resolves once the channel's subscription is confirmed (or after a bounded wait: gaps heal later).
    fn ready(&self, tenant: TenantId, channel: Channel) -> Ready;
    /// Sends a control message to every other hub.
    fn control(&self, c: Control);
}
