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

    /// Hands events to their channels' subscribers on this hub (each connection's queue; never blocks). A
    /// run of events on one channel (a burst) goes to each subscriber whole before the next one's turn, so
    /// each socket wakes once and writes the run in one flush instead of once per event; per channel the
    /// order is kept, and runs stay in the order given.
    pub fn deliver(&self, events: &[Published]) {
        let map = self.subs.read().unwrap_or_else(|e| e.into_inner());
        for run in events.chunk_by(|a, b| (a.tenant, a.channel) == (b.tenant, b.channel)) {
            if let Some(subs) = map.get(&(run[0].tenant, run[0].channel)) {
                for conn in subs.values() {
                    conn.deliver(run);
                }
            }
            for ev in run {
                metrics::histogram!(crate::series::FANOUT_SECONDS).record(ev.at.elapsed().as_secs_f64());
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::published::Frame;
    use std::time::Instant;
    use tally_protocol::{ServerFrame, UserSummary};
    use tokio::sync::mpsc;

    const T: TenantId = TenantId(1);

    fn conn(id: u64) -> (Arc<Conn>, mpsc::Receiver<axum::extract::ws::Utf8Bytes>) {
        let (tx, rx) = mpsc::channel(64);
        let user = UserSummary { id: id as i64, username: format!("u{id}"), display_name: String::new() };
        (Arc::new(Conn::new(id, T, user, String::new(), tx)), rx)
    }

    fn ev(channel: Channel, seq: u64) -> Published {
        Published { tenant: T, channel, seq, frame: Frame::new(format!("{channel}#{seq}")), at: Instant::now() }
    }

    fn live(r: &Registry, c: &Arc<Conn>, channel: Channel) {
        c.begin_subscription(channel);
        r.subscribe(T, channel, c, || {});
        c.finish_subscription(channel, 0, &ServerFrame::Ping { ts: 0 });
    }

    fn drain(rx: &mut mpsc::Receiver<axum::extract::ws::Utf8Bytes>) -> Vec<String> {
        std::iter::from_fn(|| rx.try_recv().ok()).map(|f| f.as_str().to_string()).filter(|f| f.contains('#')).collect()
    }

    /// Runs of one channel reach every subscriber whole and in order; runs of other channels keep their
    /// place; a seq at or below what was sent is not sent twice; a subscriber still recovering buffers the
    /// run and gets it after `subscribed`.
    #[test]
    fn runs_reach_each_subscriber_whole_and_in_order() {
        let r = Registry::default();
        let (a, b) = (Channel::Broadcast, Channel::User(1));
        let (one, mut rx1) = conn(1);
        let (two, mut rx2) = conn(2);
        live(&r, &one, a);
        live(&r, &one, b);
        live(&r, &two, a);
        let events = [ev(a, 1), ev(a, 2), ev(a, 3), ev(b, 1), ev(a, 4), ev(a, 3)];
        r.deliver(&events);
        assert_eq!(drain(&mut rx1), ["broadcast#1", "broadcast#2", "broadcast#3", "user:1#1", "broadcast#4"]);
        assert_eq!(drain(&mut rx2), ["broadcast#1", "broadcast#2", "broadcast#3", "broadcast#4"]);

        let (three, mut rx3) = conn(3);
        three.begin_subscription(a);
        r.subscribe(T, a, &three, || {});
        r.deliver(&[ev(a, 5), ev(a, 6)]);
        assert!(drain(&mut rx3).is_empty(), "held while recovering");
        three.finish_subscription(a, 5, &ServerFrame::Ping { ts: 0 });
        assert_eq!(drain(&mut rx3), ["broadcast#6"], "after the replay that ended at 5");
        assert_eq!(drain(&mut rx1), ["broadcast#5", "broadcast#6"]);
    }
}
