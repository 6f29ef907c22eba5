//! Fan-out: the hub's connection registry (`registry.rs`), the broker between hubs when there is one
//! (`crate::broker`), and the ordered delivery that fills gaps from the store (`delivery.rs`), put
//! together. A lone hub delivers each commit straight to its registry. With a broker, its own commits
//! and other hubs' publications both pass through the delivery task, which puts each channel in seq
//! order. Each event is encoded once and the bytes are shared by every subscriber. Delivery never
//! blocks: a connection whose queue is full is closed as a slow consumer (4008) instead of growing memory.
mod delivery;
mod registry;

pub use registry::Registry;

use crate::broker::{Broker, Control, Inbound, Ready, RedisBroker};
use crate::conn::Conn;
use crate::ids::TenantId;
use crate::published::Published;
use crate::store::Store;
use delivery::Delivery;
use std::sync::Arc;
use tally_protocol::{Channel, ErrorCode, UserId};
use tokio::sync::mpsc;

/// The broker and the queue into the delivery task.
struct Shared {
    broker: Arc<dyn Broker>,
    delivery: mpsc::UnboundedSender<Delivery>,
}

pub struct Fanout {
    pub registry: Arc<Registry>,
    shared: Option<Shared>,
}

/// A hub's fan-out as it starts. Control messages from other hubs arrive on the returned receiver. The delivery task starts
/// with [`Fanout::start_delivery`] once the store exists (it reads gaps from it).
pub struct Starting {
    pub fanout: Arc<Fanout>,
    pub control: mpsc::UnboundedReceiver<Control>,
    delivery: Option<mpsc::UnboundedReceiver<Delivery>>,
}

impl Fanout {
    /// Starts fan-out: alone, or with a Redis broker at `broker_url` (`--broker`).
    pub fn start(broker_url: Option<&str>) -> Result<Starting, String> {
        let registry = Arc::new(Registry::default());
        let (control_tx, control) = mpsc::unbounded_channel();
        let Some(url) = broker_url else {
            return Ok(Starting { fanout: Arc::new(Fanout { registry, shared: None }), control, delivery: None });
        };
        let (delivery_tx, delivery_rx) = mpsc::unbounded_channel();
        let to_delivery = delivery_tx.clone();
        let broker: Arc<dyn Broker> = RedisBroker::start(
            url,
            Arc::new(move |inbound| {
                let _ = match inbound {
                    Inbound::Publications(events) => to_delivery.send(Delivery::Events(events)),
                    Inbound::Resume(channels) => to_delivery.send(Delivery::Refill(channels)),
                    Inbound::Control(c) => return drop(control_tx.send(c)),
                };
            }),
        )?;
        let shared = Some(Shared { broker, delivery: delivery_tx });
        Ok(Starting { fanout: Arc::new(Fanout { registry, shared }), control, delivery: Some(delivery_rx) })
    }

    pub fn subscribe(&self, tenant: TenantId, channel: Channel, conn: &Arc<Conn>) {
        self.registry.subscribe(tenant, channel, conn, || {
            if let Some(s) = &self.shared {
                s.broker.subscribe(tenant, channel)
            }
        });
    }

    pub fn unsubscribe(&self, tenant: TenantId, channel: Channel, conn_id: u64) {
        self.registry.unsubscribe(tenant, channel, conn_id, || self.interest_ended(tenant, channel));
    }

    /// Forgets a connection and its subscriptions.
    pub fn unregister(&self, conn: &Arc<Conn>) {
        self.registry.unregister(conn, |ch| self.interest_ended(conn.tenant, ch));
    }

    fn interest_ended(&self, tenant: TenantId, channel: Channel) {
        if let Some(s) = &self.shared {
            s.broker.unsubscribe(tenant, channel)
        }
    }

    /// Events committed (or ephemeral) on this hub: to its subscribers and, with a broker, every hub's.
    pub fn publish(&self, events: &[Published]) {
        match &self.shared {
            None => self.registry.deliver(events),
            Some(s) => {
                s.broker.publish(events);
                let _ = s.delivery.send(Delivery::Events(events.to_vec()));
            }
        }
    }

    /// Ends `user`'s subscriptions to `channel` on this hub (left a room), telling them why. Their
    /// subscriptions on other hubs end when those hubs' own checks run (the membership is gone from the
    /// store).
    pub fn kick(&self, tenant: TenantId, channel: Channel, user: UserId, code: ErrorCode) {
        self.registry.kick(tenant, channel, user, code, || self.interest_ended(tenant, channel));
    }

    pub fn subscription_count(&self) -> usize {
        self.registry.subscription_count()
    }

    /// Resolves once events published anywhere reach this hub's subscribers of `channel`, so a replay
    /// that reads the log after it misses nothing.
    pub fn ready(&self, tenant: TenantId, channel: Channel) -> Ready {
        match &self.shared {
            None => Box::pin(std::future::ready(())),
            Some(s) => s.broker.ready(tenant, channel),
        }
    }

    /// Sends a control message to every other hub.
    pub fn control(&self, c: Control) {
        if let Some(s) = &self.shared {
            s.broker.control(c)
        }
    }
}

impl Starting {
    /// Starts the delivery task (with a broker) now that the store it reads gaps from exists.
    pub fn start_delivery(&mut self, store: &Store) {
        if let Some(rx) = self.delivery.take() {
            delivery::spawn(self.fanout.registry.clone(), store.clone(), rx);
        }
    }
}
