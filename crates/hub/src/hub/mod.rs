//! The hub's shared state: configuration, the store, fan-out, presence, keys and the live connections.
//! The request handlers live beside it: `dispatch` (request frames), `subscribe` (authorization and
//! replay), `snapshots`, and `background` (housekeeping and transfer processing).
mod background;
mod dispatch;
mod snapshots;
mod subscribe;
pub(crate) use subscribe::Start;

use crate::auth::tokens::Keys;
use crate::broker::Control;
use crate::config::Config;
use crate::conn::Conn;
use crate::devices::Devices;
use crate::directory::OwnLimits;
use crate::error::HubError;
use crate::error::HubResult;
use crate::fanout::Fanout;
use crate::ids::TenantId;
use crate::log;
use crate::presence::{self, Presence};
use crate::published::Published;
use crate::ratelimit::Bucket;
use crate::store::Store;
use crate::throttle::Throttle;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tally_protocol::*;
use tokio::sync::watch;

pub struct SocketGuard(Arc<AtomicUsize>);
impl Drop for SocketGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

pub struct Hub {
    pub cfg: Config,
    pub store: Store,
    pub fanout: Arc<Fanout>,
    pub keys: Keys,
    /// Refresh-token lifetimes and successors.
    pub lifetimes: crate::account::refresh::Lifetimes,
    pub presence: Presence,
    pub throttle: Throttle,
    /// The gate every password hash and check goes through.
    pub password_work: crate::account::hashing::PasswordWork,
    /// Per-address caps on open and unauthenticated sockets.
    pub conn_caps: crate::conn_caps::ConnCaps,
    pub devices: Devices,
    /// Files and pictures sent in rooms.
    pub attachments: crate::attachments::Attachments,
    /// This process among the cluster's hubs (lease holder name).
    pub instance: String,
    pub admin_token: String,
    pub ready: AtomicBool,
    pub shutdown: watch::Sender<bool>,
    /// Upgraded sockets from the upgrade to their close (handshake included), for the drain.
    sockets: Arc<AtomicUsize>,
    next_conn: AtomicU64,
    user_rates: Mutex<HashMap<(TenantId, UserId), Bucket>>,
    /// Over how many hubs each user's rate budget is shared (absent: 1).
    user_shares: Mutex<HashMap<(TenantId, UserId), u32>>,
}

impl Hub {
    pub async fn new(cfg: Config, jwt_secret: Vec<u8>, admin_token: String) -> HubResult<Arc<Hub>> {
        let mut starting = Fanout::start(cfg.broker.as_deref()).map_err(HubError::internal)?;
        let fanout = starting.fanout.clone();
        let publish_to = fanout.clone();
        let store = Store::start(&cfg.backend(), Arc::new(move |events: Vec<Published>| publish_to.publish(&events)))?;
        starting.start_delivery(&store);
        let keys = Keys::new(&jwt_secret, cfg.access_ttl_secs, cfg.refresh_ttl_secs);
        let lifetimes = crate::account::refresh::Lifetimes::new(
            &jwt_secret,
            cfg.refresh_ttl_secs,
            cfg.session_max_age_secs,
            cfg.refresh_grace_secs,
        );
        // One multiplexed Redis connection for the login throttle and the device directory (fan-out
        // keeps its own pub/sub connections).
        let (throttle, devices) = match &cfg.broker {
            Some(url) => {
                let client = redis::Client::open(url.as_str())
                    .map_err(|e| HubError::internal(format!("bad --broker URL: {e}")))?;
                let conn = redis::aio::ConnectionManager::new(client)
                    .await
                    .map_err(|e| HubError::internal(format!("redis: {e}")))?;
                (Throttle::shared(cfg.login_max_failures, conn.clone()), Devices::shared(conn))
            }
            None => (Throttle::local(cfg.login_max_failures), Devices::local()),
        };
        let blobs = crate::attachments::DirBlobStore::open(&cfg.blob_dir())
            .map_err(|e| HubError::internal(format!("cannot open the blob directory: {e}")))?;
        let defaults =
            crate::attachments::Limits { max_file: cfg.attachment_max_bytes, quota: cfg.attachment_quota_bytes };
        let attachments = crate::attachments::Attachments::new(Box::new(blobs), defaults);
        let hub = Arc::new(Hub {
            attachments,
            presence: Presence::new(Duration::from_secs(cfg.presence_grace_secs)),
            throttle,
            password_work: crate::account::hashing::PasswordWork::new(
                cfg.password_work_parallel,
                cfg.password_work_queue,
            ),
            conn_caps: crate::conn_caps::ConnCaps::new(cfg.max_conns_per_address, cfg.max_unauthenticated_per_address),
            devices,
            instance: crate::secrets::random_token("hub_", 12),
            cfg,
            store,
            fanout,
            keys,
            lifetimes,
            admin_token,
            ready: AtomicBool::new(false),
            shutdown: watch::channel(false).0,
            sockets: Default::default(),
            next_conn: AtomicU64::new(1),
            user_rates: Mutex::new(HashMap::new()),
            user_shares: Mutex::new(HashMap::new()),
        });
        tokio::spawn(controls(Arc::downgrade(&hub), starting.control));
        Ok(hub)
    }

    /// The limits a user works under: the connection's, their own transfer limits and their tenant's file
    /// limit (`None`: the hub's defaults, for a user the store could not be asked about).
    pub fn limits(&self, own: Option<OwnLimits>) -> Limits {
        let OwnLimits { transfer: (single, daily), attachment_max, kyc_level } = own.unwrap_or(OwnLimits {
            transfer: (self.cfg.limit_single, self.cfg.limit_daily),
            attachment_max: self.attachments.defaults.max_file,
            kyc_level: KycLevel::None,
        });
        Limits {
            max_frame_bytes: self.cfg.max_frame_bytes,
            max_subscriptions: self.cfg.max_subscriptions,
            rate_per_sec: self.cfg.rate_per_sec,
            burst: self.cfg.rate_burst,
            transfer_single_max: single,
            transfer_daily_max: daily,
            attachment_max_bytes: attachment_max,
            kyc_level,
        }
    }

    pub fn next_conn_id(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    pub fn register(&self, conn: &Arc<Conn>) {
        self.fanout.registry.register(conn);
    }

    pub fn unregister(&self, conn: &Arc<Conn>) {
        self.fanout.unregister(conn);
    }

    /// Counts an upgraded socket until the guard drops.
    pub fn socket_opened(&self) -> SocketGuard {
        self.sockets.fetch_add(1, Ordering::AcqRel);
        SocketGuard(self.sockets.clone())
    }

    pub fn open_sockets(&self) -> usize {
        self.sockets.load(Ordering::Acquire)
    }

    pub fn connections(&self) -> Vec<Arc<Conn>> {
        self.fanout.registry.connections()
    }

    /// Closes every connection of a revoked session, on every hub.
    pub fn revoke_session(&self, sid: &str) {
        self.close_session(sid);
        self.fanout.control(Control::Revoke { sid: sid.to_string() });
    }

    /// Ends every session of a user (a disabled account): their refresh tokens die, and their sockets close
    /// with 4010 on every hub, those on operator-minted tokens of no session included.
    pub fn end_user(&self, tenant: TenantId, user: UserId, families: &[String]) {
        for f in families {
            self.revoke_session(f);
        }
        self.close_user(tenant, user);
        self.fanout.control(Control::EndUser { tenant, user });
    }

    /// Closes this hub's connections of a user.
    fn close_user(&self, tenant: TenantId, user: UserId) {
        for c in self.connections() {
            if c.tenant == tenant && c.user.id == user {
                c.close(CloseCode::SessionRevoked, "account disabled");
            }
        }
    }

    /// Closes this hub's connections of a session.
    fn close_session(&self, sid: &str) {
        for c in self.connections() {
            if c.sid == sid {
                c.close(CloseCode::SessionRevoked, "session revoked");
            }
        }
    }

    /// The per-user budget shared by all of a user's connections: on every hub that holds some, its share
    /// (the budget divided by how many hubs do), so the user's total stays the configured one.
    pub fn user_rate_ok(&self, tenant: TenantId, user: UserId) -> bool {
        let share = self.user_shares.lock().unwrap_or_else(|e| e.into_inner()).get(&(tenant, user)).copied();
        let rate = self.cfg.user_rate_per_sec as f64 / share.unwrap_or(1).max(1) as f64;
        let mut map = self.user_rates.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 200_000 {
            map.clear();
        }
        map.entry((tenant, user)).or_insert_with(|| Bucket::new(rate, rate * 2.0)).take()
    }

    /// Recounts the hubs holding the user's connections and resizes this hub's share of their budget;
    /// `tell` lets the other hubs do the same (this hub's devices for the user changed).
    pub async fn share_rate_budget(&self, tenant: TenantId, user: UserId, tell: bool) {
        let n = self.devices.hubs_holding(tenant, user).await;
        let old = {
            let mut shares = self.user_shares.lock().unwrap_or_else(|e| e.into_inner());
            if shares.len() > 200_000 {
                shares.clear(); // bounded memory; a user without an entry gets the whole budget again
            }
            shares.insert((tenant, user), n)
        };
        if old.unwrap_or(1) != n {
            self.user_rates.lock().unwrap_or_else(|e| e.into_inner()).remove(&(tenant, user));
        }
        if tell {
            self.fanout.control(Control::Devices { tenant, user });
        }
    }

    /// Publishes a presence change to `presence:{user}` and every `presence:room:{id}` the user is in.
    pub async fn publish_presence(&self, change: presence::Change) {
        let Ok(Some(user)) =
            self.store.read(move |c| crate::directory::user_summary(c, change.tenant, change.user)).await
        else {
            return;
        };
        let rooms: Vec<RoomId> = self.store.read(move |c| c.rooms_of_user(change.user)).await.unwrap_or_default();
        let data = Ephemeral::Presence { user, status: change.shown, last_seen: change.last_seen };
        let mut out = vec![log::ephemeral(change.tenant, Channel::PresenceUser(change.user), data.clone())];
        for r in rooms {
            out.push(log::ephemeral(change.tenant, Channel::PresenceRoom(r), data.clone()));
        }
        self.fanout.publish(&out);
    }
}

/// Control messages from other hubs, for as long as the hub lives: a revoked session or a disabled
/// account closes its connections here too; a user's devices moved between hubs.
async fn controls(hub: std::sync::Weak<Hub>, mut rx: tokio::sync::mpsc::UnboundedReceiver<Control>) {
    while let Some(c) = rx.recv().await {
        let Some(h) = hub.upgrade() else { return };
        match c {
            Control::Revoke { sid } => h.close_session(&sid),
            Control::EndUser { tenant, user } => h.close_user(tenant, user),
            Control::Devices { tenant, user } => {
                tokio::spawn(async move { h.share_rate_budget(tenant, user, false).await });
            }
        }
    }
}

pub enum Reply {
    None,
    Ack(Option<Box<AckData>>),
}

impl Reply {
    fn ack(data: AckData) -> Self {
        Reply::Ack(Some(Box::new(data)))
    }
}
