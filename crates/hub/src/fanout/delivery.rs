//! Gap filling, in one place: with a broker, every event for this hub's connections — its own commits and
//! other hubs' publications — passes through one ordered task that knows the last seq it delivered per
//! channel. An event beyond the next one means a gap (the broker dropped a message, or two hubs' commits
//! arrived out of order): the missing events are read from the store first. One at or below it is a
//! duplicate and dropped. A channel the broker resumes (a confirmed subscription, a reconnect) is read
//! from the store past its last seq.
use super::registry::Registry;
use crate::ids::TenantId;
use crate::log;
use crate::published::{Frame, Published};
use crate::store::Store;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use tally_protocol::Channel;
use tokio::sync::mpsc;

/// To the delivery task.
pub enum Delivery {
    Events(Vec<Published>),
    /// Read these channels from the store past the last seq delivered.
    Refill(Vec<(TenantId, Channel)>),
}

/// Starts the delivery task on the hub's runtime.
pub fn spawn(registry: Arc<Registry>, store: Store, rx: mpsc::UnboundedReceiver<Delivery>) {
    tokio::spawn(deliver(registry, store, rx));
}

/// Delivers events to this hub's connections in seq order per channel, reading gaps from the store.
async fn deliver(registry: Arc<Registry>, store: Store, mut rx: mpsc::UnboundedReceiver<Delivery>) {
    let mut last: HashMap<(TenantId, Channel), u64> = HashMap::new();
    let mut n: u64 = 0;
    while let Some(d) = rx.recv().await {
        n += 1;
        if n.is_multiple_of(1024) {
            last.retain(|(t, ch), _| registry.has_subscribers(*t, *ch));
        }
        match d {
            Delivery::Events(events) => {
                for ev in events {
                    in_order(&registry, &store, &mut last, ev).await;
                }
            }
            Delivery::Refill(channels) => {
                for key in channels {
                    refill(&registry, &store, &mut last, key).await;
                }
            }
        }
    }
}

/// One event: a duplicate is dropped, a gap before it filled from the store, then it is delivered.
async fn in_order(registry: &Registry, store: &Store, last: &mut HashMap<(TenantId, Channel), u64>, ev: Published) {
    if ev.seq == 0 {
        registry.deliver(std::slice::from_ref(&ev));
        return;
    }
    let key = (ev.tenant, ev.channel);
    match last.get(&key).copied() {
        Some(l) if ev.seq <= l => return, // already delivered
        Some(l) if ev.seq > l + 1 => fill(registry, store, key, l, ev.seq - 1).await,
        _ => {}
    }
    if registry.has_subscribers(ev.tenant, ev.channel) {
        last.insert(key, ev.seq);
    }
    registry.deliver(std::slice::from_ref(&ev));
}

/// A channel that may have missed events. A new interest has no last seq yet: its subscriptions' own
/// replays cover what came before.
async fn refill(
    registry: &Registry,
    store: &Store,
    last: &mut HashMap<(TenantId, Channel), u64>,
    (tenant, channel): (TenantId, Channel),
) {
    let key = (tenant, channel);
    let Some(l) = last.get(&key).copied() else { return };
    let Ok(Some(head)) = store.read(move |c| log::head(c, tenant, &channel)).await else { return };
    if head.seq > l {
        fill(registry, store, key, l, head.seq).await;
        last.insert(key, head.seq);
    }
}

/// Delivers the stored events `from < seq <= to` of a channel (a gap), oldest first.
async fn fill(registry: &Registry, store: &Store, (tenant, channel): (TenantId, Channel), from: u64, to: u64) {
    metrics::counter!(crate::series::BROKER_GAPS_FILLED).increment(1);
    let mut next = from + 1;
    while next <= to {
        let page = store.read(move |c| log::read_range(c, tenant, &channel, next, to, 500)).await;
        let Ok(page) = page else { return };
        let Some(&(last_seq, _)) = page.last() else { return };
        let events: Vec<Published> = page
            .into_iter()
            .map(|(seq, json)| Published {
                tenant,
                channel,
                seq,
                frame: Frame::new(log::event_frame(&json)),
                at: Instant::now(),
            })
            .collect();
        registry.deliver(&events);
        next = last_seq + 1;
    }
}
