//! Several hubs, one Redis: pub/sub as a doorbell between hubs, never the source of truth.
//!
//! Every event a hub commits is delivered to its own subscribers and published to the Redis channel
//! `tally:{tenant}:{channel}` as `origin seq frame`. A hub subscribes to the Redis channels its
//! connections are subscribed to (interest), and delivers what other hubs publish. All deliveries of one
//! hub pass through one ordered task that knows the last seq it delivered per channel: an event beyond
//! the next one means a gap (Redis dropped a message, or two hubs' commits arrived out of order), and the
//! missing events are read from the store first; one at or below it is a duplicate and dropped. When the
//! Redis connection comes back, every channel with interest is re-read from the store from its last seq.
//! A Redis outage therefore costs delivery latency, never an event. Control messages (a revoked session)
//! go to `tally:control`.
use super::{Control, Fanout, Frame, Inbound, LocalFanout, Published, Ready, TenantId};
use crate::conn::Conn;
use crate::log;
use crate::store::Store;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tally_protocol::{Channel, ErrorCode, UserId};
use tokio::sync::{mpsc, watch};

const CONTROL: &str = "tally:control";
/// How long a new subscription waits for Redis to confirm before replaying anyway (gaps heal later).
const READY_WAIT: Duration = Duration::from_secs(2);

fn redis_name(tenant: TenantId, channel: Channel) -> String {
    format!("tally:{}:{channel}", tenant.0)
}

fn parse_name(name: &str) -> Option<(TenantId, Channel)> {
    let rest = name.strip_prefix("tally:")?;
    let (t, ch) = rest.split_once(':')?;
    Some((TenantId(t.parse().ok()?), ch.parse().ok()?))
}

/// To the Redis task.
enum Cmd {
    Publish(String, String),
    Subscribe(String),
    Unsubscribe(String),
}

/// To the delivery task.
enum Delivery {
    Events(Vec<Published>),
    /// Read the channel from the store past the last seq delivered (after a reconnect or a new interest).
    Refill(TenantId, Channel),
}

pub struct RedisFanout {
    local: Arc<LocalFanout>,
    origin: String,
    cmds: mpsc::UnboundedSender<Cmd>,
    deliveries: mpsc::UnboundedSender<Delivery>,
    /// Per Redis channel: whether the subscription is confirmed.
    confirmed: Arc<Mutex<HashMap<String, watch::Sender<bool>>>>,
    inbound: Arc<OnceLock<Inbound>>,
}

impl RedisFanout {
    /// Starts the Redis and delivery tasks. `store` is set once the store exists (it reads gaps).
    pub fn start(url: &str, store: Arc<OnceLock<Store>>) -> Result<Arc<RedisFanout>, String> {
        let client = ::redis::Client::open(url).map_err(|e| format!("bad --broker URL: {e}"))?;
        let local = Arc::new(LocalFanout::default());
        let origin = crate::auth::random_token("", 12);
        let (cmds, cmd_rx) = mpsc::unbounded_channel();
        let (deliveries, delivery_rx) = mpsc::unbounded_channel();
        let confirmed: Arc<Mutex<HashMap<String, watch::Sender<bool>>>> = Default::default();
        let inbound: Arc<OnceLock<Inbound>> = Default::default();
        let link = Link {
            client,
            origin: origin.clone(),
            local: local.clone(),
            confirmed: confirmed.clone(),
            deliveries: deliveries.clone(),
            inbound: inbound.clone(),
        };
        tokio::spawn(link.run(cmd_rx));
        tokio::spawn(deliver(local.clone(), store, delivery_rx));
        Ok(Arc::new(RedisFanout { local, origin, cmds, deliveries, confirmed, inbound }))
    }

    fn interest_ended(&self, tenant: TenantId, channel: Channel) {
        if !self.local.has_subscribers(tenant, channel) {
            let name = redis_name(tenant, channel);
            self.confirmed.lock().unwrap_or_else(|e| e.into_inner()).remove(&name);
            let _ = self.cmds.send(Cmd::Unsubscribe(name));
        }
    }
}

impl Fanout for RedisFanout {
    fn subscribe(&self, tenant: TenantId, channel: Channel, conn: &Arc<Conn>) {
        let first = !self.local.has_subscribers(tenant, channel);
        self.local.subscribe(tenant, channel, conn);
        if first {
            let name = redis_name(tenant, channel);
            self.confirmed
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(name.clone())
                .or_insert_with(|| watch::channel(false).0);
            let _ = self.cmds.send(Cmd::Subscribe(name));
        }
    }

    fn unsubscribe(&self, tenant: TenantId, channel: Channel, conn_id: u64) {
        self.local.unsubscribe(tenant, channel, conn_id);
        self.interest_ended(tenant, channel);
    }

    fn publish(&self, events: &[Published]) {
        for ev in events {
            let payload = format!("{} {} {}", self.origin, ev.seq, ev.frame.as_str());
            let _ = self.cmds.send(Cmd::Publish(redis_name(ev.tenant, ev.channel), payload));
        }
        let _ = self.deliveries.send(Delivery::Events(events.to_vec()));
    }

    fn kick(&self, tenant: TenantId, channel: Channel, user: UserId, code: ErrorCode) {
        // A user's subscriptions on other hubs end when their own checks run (the membership is gone from
        // the store); here the ones on this hub.
        self.local.kick(tenant, channel, user, code);
        self.interest_ended(tenant, channel);
    }

    fn subscription_count(&self) -> usize {
        self.local.subscription_count()
    }

    fn ready(&self, tenant: TenantId, channel: Channel) -> Ready {
        let rx = self
            .confirmed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&redis_name(tenant, channel))
            .map(|t| t.subscribe());
        Box::pin(async move {
            if let Some(mut rx) = rx {
                let _ = tokio::time::timeout(READY_WAIT, rx.wait_for(|ok| *ok)).await;
            }
        })
    }

    fn control(&self, c: Control) {
        if let Ok(json) = serde_json::to_string(&c) {
            let _ = self.cmds.send(Cmd::Publish(CONTROL.into(), format!("{} 0 {json}", self.origin)));
        }
    }

    fn set_inbound(&self, handler: Inbound) {
        let _ = self.inbound.set(handler);
    }
}

/// The Redis side: one subscriber connection and one for publishing, made again when lost.
struct Link {
    client: ::redis::Client,
    origin: String,
    local: Arc<LocalFanout>,
    confirmed: Arc<Mutex<HashMap<String, watch::Sender<bool>>>>,
    deliveries: mpsc::UnboundedSender<Delivery>,
    inbound: Arc<OnceLock<Inbound>>,
}

impl Link {
    async fn run(self, mut cmds: mpsc::UnboundedReceiver<Cmd>) {
        let mut backoff = Duration::from_millis(100);
        loop {
            match self.session(&mut cmds).await {
                Ok(()) => return, // the hub is gone
                Err(e) => {
                    tracing::warn!(error = %e, "redis broker connection lost; events are read from the store meanwhile");
                    metrics::counter!("tally_broker_reconnects_total").increment(1);
                }
            }
            for tx in self.confirmed.lock().unwrap_or_else(|e| e.into_inner()).values() {
                tx.send_replace(false);
            }
            // Publishes queued meanwhile are dropped: other hubs read those events from the store when
            // they notice the gap or reconnect.
            while let Ok(Cmd::Publish(..) | Cmd::Subscribe(_) | Cmd::Unsubscribe(_)) = cmds.try_recv() {}
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    }

    /// One connected period. Ok when the hub shut down, Err when Redis went away.
    async fn session(&self, cmds: &mut mpsc::UnboundedReceiver<Cmd>) -> Result<(), ::redis::RedisError> {
        let (mut sink, mut stream) = self.client.get_async_pubsub().await?.split();
        let mut publisher = self.client.get_multiplexed_async_connection().await?;
        sink.subscribe(CONTROL).await?;
        // Everything this hub had interest in, again; then read what was missed from the store.
        for (tenant, channel) in self.local.channels() {
            let name = redis_name(tenant, channel);
            sink.subscribe(&name).await?;
            self.confirm(&name);
            let _ = self.deliveries.send(Delivery::Refill(tenant, channel));
        }
        loop {
            tokio::select! {
                cmd = cmds.recv() => match cmd {
                    None => return Ok(()),
                    Some(Cmd::Publish(name, payload)) => {
                        ::redis::cmd("PUBLISH").arg(&name).arg(payload).query_async::<()>(&mut publisher).await?;
                    }
                    Some(Cmd::Subscribe(name)) => {
                        sink.subscribe(&name).await?;
                        self.confirm(&name);
                        if let Some((t, ch)) = parse_name(&name) {
                            let _ = self.deliveries.send(Delivery::Refill(t, ch));
                        }
                    }
                    Some(Cmd::Unsubscribe(name)) => {
                        let still = parse_name(&name).is_some_and(|(t, ch)| self.local.has_subscribers(t, ch));
                        if !still {
                            sink.unsubscribe(&name).await?;
                        }
                    }
                },
                msg = stream.next() => match msg {
                    None => return Err(::redis::RedisError::from((::redis::ErrorKind::IoError, "subscription closed"))),
                    Some(m) => self.received(m.get_channel_name(), &m.get_payload::<String>().unwrap_or_default()),
                },
            }
        }
    }

    fn confirm(&self, name: &str) {
        let mut map = self.confirmed.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(name.to_string()).or_insert_with(|| watch::channel(false).0).send_replace(true);
    }

    /// A message from Redis: another hub's event (ours are delivered already) or a control message.
    fn received(&self, name: &str, payload: &str) {
        let mut parts = payload.splitn(3, ' ');
        let (Some(origin), Some(seq), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
            tracing::warn!(channel = name, "unreadable broker message dropped");
            return;
        };
        if origin == self.origin {
            return;
        }
        if name == CONTROL {
            match (serde_json::from_str::<Control>(body), self.inbound.get()) {
                (Ok(c), Some(handler)) => handler(c),
                (Ok(_), None) => {}
                (Err(e), _) => tracing::warn!(error = %e, "unreadable control message dropped"),
            }
            return;
        }
        let (Some((tenant, channel)), Ok(seq)) = (parse_name(name), seq.parse::<u64>()) else {
            tracing::warn!(channel = name, "broker message for an unknown channel dropped");
            return;
        };
        let ev = Published { tenant, channel, seq, frame: Frame::new(body.to_string()), at: Instant::now() };
        let _ = self.deliveries.send(Delivery::Events(vec![ev]));
    }
}

/// Delivers events to this hub's connections in seq order per channel, reading gaps from the store.
async fn deliver(local: Arc<LocalFanout>, store: Arc<OnceLock<Store>>, mut rx: mpsc::UnboundedReceiver<Delivery>) {
    let mut last: HashMap<(TenantId, Channel), u64> = HashMap::new();
    let mut n: u64 = 0;
    while let Some(d) = rx.recv().await {
        n += 1;
        if n.is_multiple_of(1024) {
            last.retain(|(t, ch), _| local.has_subscribers(*t, *ch));
        }
        let Some(store) = store.get() else { continue };
        match d {
            Delivery::Events(events) => {
                for ev in events {
                    if ev.seq == 0 {
                        local.publish(std::slice::from_ref(&ev));
                        continue;
                    }
                    let key = (ev.tenant, ev.channel);
                    match last.get(&key).copied() {
                        Some(l) if ev.seq <= l => continue, // already delivered
                        Some(l) if ev.seq > l + 1 => fill(&local, store, key, l, ev.seq - 1).await,
                        _ => {}
                    }
                    if local.has_subscribers(ev.tenant, ev.channel) {
                        last.insert(key, ev.seq);
                    }
                    local.publish(std::slice::from_ref(&ev));
                }
            }
            Delivery::Refill(tenant, channel) => {
                // A new interest has no last seq yet: its subscriptions' own replays cover what came before.
                let key = (tenant, channel);
                let Some(l) = last.get(&key).copied() else { continue };
                let Ok(Some(head)) = store.read(move |c| log::head(c, tenant, &channel)).await else { continue };
                if head.seq > l {
                    fill(&local, store, key, l, head.seq).await;
                    last.insert(key, head.seq);
                }
            }
        }
    }
}

/// Delivers the stored events `from < seq <= to` of a channel (a gap), oldest first.
async fn fill(local: &LocalFanout, store: &Store, (tenant, channel): (TenantId, Channel), from: u64, to: u64) {
    metrics::counter!("tally_broker_gaps_filled_total").increment(1);
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
        local.publish(&events);
        next = last_seq + 1;
    }
}
