//! Several hubs, one Redis: pub/sub as a doorbell between hubs, never the source of truth.
//!
//! Every event a hub commits is published to the Redis channel `tally:{tenant}:{channel}` as
//! `origin seq frame`. The hub subscribes to the Redis channels its connections want (its interest,
//! kept here so a reconnect can subscribe them again) and hands what other hubs publish to its handler.
//! When the Redis connection comes back, every channel of interest is handed back as `Resume`: the hub
//! reads what it missed from the store. A Redis outage therefore costs delivery latency, never an event.
//! Control messages (a revoked session) go to `tally:control`.
use super::{Broker, Control, Handler, Inbound, Ready};
use crate::ids::TenantId;
use crate::published::{Frame, Published};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tally_protocol::Channel;
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

/// The broker's interest and each subscription's confirmation, shared with its Redis task.
#[derive(Default)]
struct Subscriptions {
    /// Redis channel names this hub wants, each with whether Redis has confirmed the subscription.
    wanted: HashMap<String, watch::Sender<bool>>,
}

type Shared = Arc<Mutex<Subscriptions>>;

fn lock(s: &Shared) -> MutexGuard<'_, Subscriptions> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

/// To the Redis task.
enum Cmd {
    Publish(String, String),
    Subscribe(String),
    Unsubscribe(String),
}

pub struct RedisBroker {
    origin: String,
    cmds: mpsc::UnboundedSender<Cmd>,
    subs: Shared,
}

impl RedisBroker {
    /// Starts the Redis task; what other hubs publish goes to `handler`.
    pub fn start(url: &str, handler: Handler) -> Result<Arc<RedisBroker>, String> {
        let client = ::redis::Client::open(url).map_err(|e| format!("bad --broker URL: {e}"))?;
        // Tells this hub's own messages apart when Redis echoes them back.
        let origin = format!("{:016x}", rand::random::<u64>());
        let (cmds, cmd_rx) = mpsc::unbounded_channel();
        let subs = Shared::default();
        let link = Link { client, origin: origin.clone(), subs: subs.clone(), handler };
        tokio::spawn(link.run(cmd_rx));
        Ok(Arc::new(RedisBroker { origin, cmds, subs }))
    }
}

impl Broker for RedisBroker {
    fn publish(&self, events: &[Published]) {
        for ev in events {
            let payload = format!("{} {} {}", self.origin, ev.seq, ev.frame.as_str());
            let _ = self.cmds.send(Cmd::Publish(redis_name(ev.tenant, ev.channel), payload));
        }
    }

    fn subscribe(&self, tenant: TenantId, channel: Channel) {
        let name = redis_name(tenant, channel);
        lock(&self.subs).wanted.entry(name.clone()).or_insert_with(|| watch::channel(false).0);
        let _ = self.cmds.send(Cmd::Subscribe(name));
    }

    fn unsubscribe(&self, tenant: TenantId, channel: Channel) {
        let name = redis_name(tenant, channel);
        lock(&self.subs).wanted.remove(&name);
        let _ = self.cmds.send(Cmd::Unsubscribe(name));
    }

    fn ready(&self, tenant: TenantId, channel: Channel) -> Ready {
        let rx = lock(&self.subs).wanted.get(&redis_name(tenant, channel)).map(|t| t.subscribe());
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
}

/// The Redis side: one subscriber connection and one for publishing, made again when lost.
struct Link {
    client: ::redis::Client,
    origin: String,
    subs: Shared,
    handler: Handler,
}

impl Link {
    async fn run(self, mut cmds: mpsc::UnboundedReceiver<Cmd>) {
        let mut backoff = Duration::from_millis(100);
        loop {
            match self.session(&mut cmds).await {
                Ok(()) => return, // the hub is gone
                Err(e) => {
                    tracing::warn!(error = %e, "redis broker connection lost; events are read from the store meanwhile");
                    metrics::counter!(crate::series::BROKER_RECONNECTS).increment(1);
                }
            }
            for tx in lock(&self.subs).wanted.values() {
                tx.send_replace(false);
            }
            // Publishes queued meanwhile are dropped: other hubs read those events from the store when
            // they notice the gap or reconnect. Subscriptions are re-made from the interest.
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
        // Everything this hub wants, again; then the hub reads what it missed from the store.
        let names: Vec<String> = lock(&self.subs).wanted.keys().cloned().collect();
        for name in &names {
            sink.subscribe(name).await?;
            self.confirm(name);
        }
        (self.handler)(Inbound::Resume(names.iter().filter_map(|n| parse_name(n)).collect()));
        loop {
            tokio::select! {
                cmd = cmds.recv() => match cmd {
                    None => return Ok(()),
                    Some(Cmd::Publish(name, payload)) => {
                        ::redis::cmd("PUBLISH").arg(&name).arg(payload).query_async::<()>(&mut publisher).await?;
                    }
                    // The interest decides, as it is when the command runs: a channel wanted again
                    // after an unsubscribe was queued stays subscribed.
                    Some(Cmd::Subscribe(name)) => {
                        if lock(&self.subs).wanted.contains_key(&name) {
                            sink.subscribe(&name).await?;
                            self.confirm(&name);
                            (self.handler)(Inbound::Resume(parse_name(&name).into_iter().collect()));
                        }
                    }
                    Some(Cmd::Unsubscribe(name)) => {
                        if !lock(&self.subs).wanted.contains_key(&name) {
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
        if let Some(tx) = lock(&self.subs).wanted.get(name) {
            tx.send_replace(true);
        }
    }

    /// A message from Redis: another hub's event (this hub's own are delivered already) or a control
    /// message.
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
            match serde_json::from_str::<Control>(body) {
                Ok(c) => (self.handler)(Inbound::Control(c)),
                Err(e) => tracing::warn!(error = %e, "unreadable control message dropped"),
            }
            return;
        }
        let (Some((tenant, channel)), Ok(seq)) = (parse_name(name), seq.parse::<u64>()) else {
            tracing::warn!(channel = name, "broker message for an unknown channel dropped");
            return;
        };
        let ev = Published { tenant, channel, seq, frame: Frame::new(body.to_string()), at: Instant::now() };
        (self.handler)(Inbound::Publications(vec![ev]));
    }
}
