//! The registry of this hub's subscriptions and in-process delivery.
use super::{Fanout, Published, TenantId};
use crate::conn::Conn;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use tally_protocol::{Channel, ErrorCode, UserId};

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

impl LocalFanout {
    /// Whether any connection of this hub is subscribed to the channel (a broker's interest).
    pub fn has_subscribers(&self, tenant: TenantId, channel: Channel) -> bool {
        self.map.read().unwrap_or_else(|e| e.into_inner()).contains_key(&(tenant, channel))
    }

    /// Every channel this hub's connections are subscribed to.
    pub fn channels(&self) -> Vec<(TenantId, Channel)> {
        self.map.read().unwrap_or_else(|e| e.into_inner()).keys().copied().collect()
    }
}
