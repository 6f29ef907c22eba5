//! The hub's connection registry: its live connections and their subscriptions by channel, and
//! in-process delivery to them. Knows nothing of brokers: the caller's `first` / `last` hooks run under
//! the registry's lock when a channel gains its first subscriber on this hub or loses its last, so the
//! broker hears of interest in the order it changed.
use crate::conn::Conn;
use crate::ids::TenantId;
use crate::published::Published;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use tally_protocol::{Channel, ErrorCode, UserId};

type Subs = HashMap<u64, Arc<Conn>>;

#[derive(Default)]
pub struct Registry {
    conns: Mutex<HashMap<u64, Arc<Conn>>>,
    subs: RwLock<HashMap<(TenantId, Channel), Subs>>,
}

impl Registry {
    pub fn register(&self, conn: &Arc<Conn>) {
        self.conns.lock().unwrap_or_else(|e| e.into_inner()).insert(conn.id, conn.clone());
        metrics::gauge!(crate::series::CONNECTIONS).increment(1.0);
    }

    /// Forgets a connection; `last` runs for each channel it was the last subscriber of.
    pub fn unregister(&self, conn: &Arc<Conn>, mut last: impl FnMut(Channel)) {
        for ch in conn.channels() {
            self.unsubscribe(conn.tenant, ch, conn.id, || last(ch));
        }
        if self.conns.lock().unwrap_or_else(|e| e.into_inner()).remove(&conn.id).is_some() {
            metrics::gauge!(crate::series::CONNECTIONS).decrement(1.0);
        }
    }

    pub fn connections(&self) -> Vec<Arc<Conn>> {
        self.conns.lock().unwrap_or_else(|e| e.into_inner()).values().cloned().collect()
    }

    /// Adds a subscription; `first` runs when it is the channel's first on this hub.
    pub fn subscribe(&self, tenant: TenantId, channel: Channel, conn: &Arc<Conn>, first: impl FnOnce()) {
        let mut map = self.subs.write().unwrap_or_else(|e| e.into_inner());
        let subs = map.entry((tenant, channel)).or_default();
        if subs.is_empty() {
            first();
        }
        if subs.insert(conn.id, conn.clone()).is_none() {
            metrics::gauge!(crate::series::SUBSCRIPTIONS).increment(1.0);
        }
    }

    /// Removes a subscription; `last` runs when the channel has no subscriber left on this hub.
    pub fn unsubscribe(&self, tenant: TenantId, channel: Channel, conn_id: u64, last: impl FnOnce()) {
        let mut map = self.subs.write().unwrap_or_else(|e| e.into_inner());
        let Some(subs) = map.get_mut(&(tenant, channel)) else { return };
        if subs.remove(&conn_id).is_some() {
            metrics::gauge!(crate::series::SUBSCRIPTIONS).decrement(1.0);
        }
        if subs.is_empty() {
            map.remove(&(tenant, channel));
            last();
        }
    }

    /// Hands events to their channels' subscribers on this hub (each connection's queue; never blocks).
    pub fn deliver(&self, events: &[Published]) {
        let map = self.subs.read().unwrap_or_else(|e| e.into_inner());
        for ev in events {
            if let Some(subs) = map.get(&(ev.tenant, ev.channel)) {
                for conn in subs.values() {
                    conn.deliver(ev);
                }
            }
            metrics::histogram!(crate::series::FANOUT_SECONDS).record(ev.at.elapsed().as_secs_f64());
        }
    }

    /// Ends `user`'s subscriptions to `channel` on this hub, telling each connection why; `last` runs if
    /// the channel is left without subscribers.
    pub fn kick(&self, tenant: TenantId, channel: Channel, user: UserId, code: ErrorCode, mut last: impl FnMut()) {
        let victims: Vec<Arc<Conn>> = {
            let map = self.subs.read().unwrap_or_else(|e| e.into_inner());
            map.get(&(tenant, channel))
                .map(|s| s.values().filter(|c| c.user.id == user).cloned().collect())
                .unwrap_or_default()
        };
        for c in victims {
            self.unsubscribe(tenant, channel, c.id, &mut last);
            c.end_subscription(channel, code);
        }
    }

    /// Whether any connection of this hub is subscribed to the channel.
    pub fn has_subscribers(&self, tenant: TenantId, channel: Channel) -> bool {
        self.subs.read().unwrap_or_else(|e| e.into_inner()).contains_key(&(tenant, channel))
    }

    pub fn subscription_count(&self) -> usize {
        self.subs.read().unwrap_or_else(|e| e.into_inner()).values().map(|s| s.len()).sum()
    }
}
