//! The hub's shared state and the request handlers that turn client frames into store jobs.
use crate::auth::{self, Keys, LoginThrottle};
use crate::chat;
use crate::config::Config;
use crate::conn::Conn;
use crate::error::{HubError, HubResult};
use crate::fanout::{Fanout, LocalFanout, Published, TenantId};
use crate::ledger::{self, Created};
use crate::log::{self, Recovery};
use crate::notify;
use crate::presence::{self, Presence};
use crate::ratelimit::Bucket;
use crate::store::{now_ms, Store};
use axum::extract::ws::Utf8Bytes;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tally_protocol::*;
use tokio::sync::watch;

pub struct Hub {
    pub cfg: Config,
    pub store: Store,
    pub fanout: Arc<dyn Fanout>,
    pub keys: Keys,
    pub presence: Presence,
    pub throttle: LoginThrottle,
    pub admin_token: String,
    pub ready: AtomicBool,
    pub shutdown: watch::Sender<bool>,
    conns: Mutex<HashMap<u64, Arc<Conn>>>,
    next_conn: AtomicU64,
    user_rates: Mutex<HashMap<(TenantId, UserId), Bucket>>,
}

impl Hub {
    pub fn new(cfg: Config, jwt_secret: Vec<u8>, admin_token: String) -> HubResult<Arc<Hub>> {
        let fanout: Arc<LocalFanout> = Arc::new(LocalFanout::default());
        let publish_to = fanout.clone();
        let store = Store::start(
            &cfg.data_dir.join("hub.db"),
            Arc::new(move |events: Vec<Published>| publish_to.publish(&events)),
        )?;
        let keys = Keys::new(&jwt_secret, cfg.access_ttl_secs, cfg.refresh_ttl_secs);
        let hub = Arc::new(Hub {
            presence: Presence::new(Duration::from_secs(cfg.presence_grace_secs)),
            throttle: LoginThrottle::new(cfg.login_max_failures),
            cfg,
            store,
            fanout,
            keys,
            admin_token,
            ready: AtomicBool::new(false),
            shutdown: watch::channel(false).0,
            conns: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(1),
            user_rates: Mutex::new(HashMap::new()),
        });
        Ok(hub)
    }

    /// The limits a user works under: the connection's, and their own transfer limits (`None`: the hub's
    /// defaults, for a user the store could not be asked about).
    pub fn limits(&self, transfer: Option<(i64, i64)>) -> Limits {
        let (single, daily) = transfer.unwrap_or((self.cfg.limit_single, self.cfg.limit_daily));
        Limits {
            max_frame_bytes: self.cfg.max_frame_bytes,
            max_subscriptions: self.cfg.max_subscriptions,
            rate_per_sec: self.cfg.rate_per_sec,
            burst: self.cfg.rate_burst,
            transfer_single_max: single,
            transfer_daily_max: daily,
        }
    }

    pub fn next_conn_id(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    pub fn register(&self, conn: &Arc<Conn>) {
        self.conns.lock().unwrap_or_else(|e| e.into_inner()).insert(conn.id, conn.clone());
        metrics::gauge!("tally_connections").increment(1.0);
    }

    pub fn unregister(&self, conn: &Arc<Conn>) {
        for ch in conn.channels() {
            self.fanout.unsubscribe(conn.tenant, ch, conn.id);
        }
        if self.conns.lock().unwrap_or_else(|e| e.into_inner()).remove(&conn.id).is_some() {
            metrics::gauge!("tally_connections").decrement(1.0);
        }
    }

    pub fn connections(&self) -> Vec<Arc<Conn>> {
        self.conns.lock().unwrap_or_else(|e| e.into_inner()).values().cloned().collect()
    }

    /// Closes every connection of a revoked session.
    pub fn revoke_session(&self, sid: &str) {
        for c in self.connections() {
            if c.sid == sid {
                c.close(CloseCode::SessionRevoked, "session revoked");
            }
        }
    }

    /// The per-user budget shared by all of a user's connections.
    pub fn user_rate_ok(&self, tenant: TenantId, user: UserId) -> bool {
        let mut map = self.user_rates.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 200_000 {
            map.clear();
        }
        map.entry((tenant, user))
            .or_insert_with(|| Bucket::new(self.cfg.user_rate_per_sec as f64, (self.cfg.user_rate_per_sec * 2) as f64))
            .take()
    }

    /// Publishes a presence change to `presence:{user}` and every `presence:room:{id}` the user is in.
    pub async fn publish_presence(&self, change: presence::Change) {
        let Ok(Some(user)) = self.store.read(move |c| crate::auth::user_summary(c, change.tenant, change.user)).await
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

    /// Background duties: presence grace and typing expiry (every second), log retention (every minute).
    pub fn spawn_housekeeping(self: &Arc<Self>) {
        let hub = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            let mut n: u64 = 0;
            let mut trim_backlog = false;
            loop {
                tick.tick().await;
                n += 1;
                let (offline, typing) = hub.presence.tick();
                for ch in offline {
                    if let Some(at) = ch.last_seen {
                        let (t, u) = (ch.tenant, ch.user);
                        let _ = hub.store.write(move |c, _| auth::set_last_seen(c, t, u, at)).await;
                    }
                    hub.publish_presence(ch).await;
                }
                for (tenant, room, user) in typing {
                    if let Ok(Some(u)) = hub.store.read(move |c| crate::auth::user_summary(c, tenant, user)).await {
                        let ev = log::ephemeral(
                            tenant,
                            Channel::Room(room),
                            Ephemeral::Typing { room, user: u, active: false },
                        );
                        hub.fanout.publish(&[ev]);
                    }
                }
                // Retention in bounded passes: every 60 s, and every second while a pass still finds a
                // full batch (a backlog is worked off without ever stalling the writer for long).
                if n.is_multiple_of(60) || trim_backlog {
                    let (keep, age) = (hub.cfg.retention_events, hub.cfg.retention_secs as i64 * 1000);
                    match hub.store.write(move |c, _| log::trim(c, keep, age)).await {
                        Ok(deleted) => trim_backlog = deleted >= log::TRIM_BATCH,
                        Err(e) => {
                            trim_backlog = false;
                            tracing::warn!(error = %e, "log retention failed");
                        }
                    }
                }
            }
        });
    }

    /// Drives a transfer through its states, one step every `transfer_step_ms`.
    pub fn drive_transfer(self: &Arc<Self>, tenant: TenantId, id: TransferId) {
        let hub = self.clone();
        tokio::spawn(async move {
            for _ in 0..4 {
                tokio::time::sleep(Duration::from_millis(hub.cfg.transfer_step_ms)).await;
                match hub.store.write(move |c, e| ledger::advance_transfer(c, e, tenant, id)).await {
                    Ok(Some(s)) if !s.is_final() => continue,
                    Ok(_) => return,
                    Err(e) => {
                        tracing::error!(transfer = id, error = %e, "transfer step failed; retrying");
                    }
                }
            }
        });
    }

    /// Resumes transfers left in flight by a previous run.
    pub async fn resume_transfers(self: &Arc<Self>) -> HubResult<()> {
        let open = self.store.read(ledger::unfinished_transfers).await?;
        for (tenant, id) in open {
            self.drive_transfer(tenant, id);
        }
        Ok(())
    }

    /// Whether `conn`'s user may subscribe to `channel`.
    pub async fn authorize(&self, conn: &Conn, channel: Channel) -> HubResult<()> {
        let (tenant, me) = (conn.tenant, conn.user.id);
        let forbidden = || HubError::new(ErrorCode::ForbiddenChannel, format!("you may not subscribe to {channel}"));
        match channel {
            Channel::User(u) | Channel::Balance(u) | Channel::Transactions(u) | Channel::Notifications(u) => {
                if u == me {
                    Ok(())
                } else {
                    Err(forbidden())
                }
            }
            Channel::Broadcast => Ok(()),
            Channel::PresenceUser(u) => {
                let same_tenant =
                    self.store.read(move |c| Ok(crate::auth::user_summary(c, tenant, u)?.is_some())).await?;
                if same_tenant {
                    Ok(())
                } else {
                    Err(HubError::not_found("user"))
                }
            }
            Channel::Room(r) | Channel::PresenceRoom(r) => {
                match self.store.read(move |c| chat::require_member(c, tenant, r, me)).await {
                    Err(e) if e.code == ErrorCode::Forbidden => Err(forbidden()),
                    other => other,
                }
            }
            Channel::Transfer(t) => match self.store.read(move |c| ledger::transfer_for(c, tenant, t, me)).await? {
                Some(_) => Ok(()),
                None => Err(forbidden()),
            },
        }
    }

    /// Subscribes with replay. Sends `batch` frames, then `subscribed`, then live events; or an error.
    pub async fn subscribe(
        &self,
        conn: &Arc<Conn>,
        id: Option<ReqId>,
        channel: Channel,
        since: Option<Position>,
    ) -> HubResult<()> {
        let resubscribe = conn.is_subscribed(&channel);
        if !resubscribe && conn.subscription_count() >= self.cfg.max_subscriptions as usize {
            return Err(HubError::new(
                ErrorCode::TooManySubscriptions,
                format!("at most {} subscriptions", self.cfg.max_subscriptions),
            ));
        }
        self.authorize(conn, channel).await?;
        if resubscribe {
            self.fanout.unsubscribe(conn.tenant, channel, conn.id);
            conn.remove_subscription(&channel);
        }
        let tenant = conn.tenant;
        if !channel.is_durable() {
            conn.begin_subscription(channel);
            self.fanout.subscribe(tenant, channel, conn);
            conn.finish_subscription(
                channel,
                0,
                &ServerFrame::Subscribed { id, channel, epoch: String::new(), seq: 0, recovered: false, replayed: 0 },
            );
            self.send_presence_snapshot(conn, channel).await;
            return Ok(());
        }
        conn.begin_subscription(channel);
        self.fanout.subscribe(tenant, channel, conn);
        let result = self.replay(conn, channel, since).await;
        match result {
            Ok((head, last, recovered, replayed)) => {
                conn.finish_subscription(
                    channel,
                    last,
                    &ServerFrame::Subscribed { id, channel, epoch: head.epoch, seq: last, recovered, replayed },
                );
                Ok(())
            }
            Err(e) => {
                self.fanout.unsubscribe(tenant, channel, conn.id);
                conn.remove_subscription(&channel);
                Err(e)
            }
        }
    }

    async fn replay(
        &self,
        conn: &Arc<Conn>,
        channel: Channel,
        since: Option<Position>,
    ) -> HubResult<(log::Head, u64, bool, u32)> {
        let tenant = conn.tenant;
        let head = match self.store.read(move |c| log::head(c, tenant, &channel)).await? {
            Some(h) => h,
            None => self.store.write(move |c, _| log::head_or_create(c, tenant, &channel)).await?,
        };
        let Some(since) = since else { return Ok((head.clone(), head.seq, false, 0)) };
        let h2 = head.clone();
        let plan =
            self.store.read(move |c| log::plan_recovery(c, tenant, &channel, &h2, &since.epoch, since.seq)).await?;
        match plan {
            Recovery::Lost => Ok((head.clone(), head.seq, false, 0)),
            Recovery::Replay { from, to } => {
                let mut next = from;
                let mut replayed: u32 = 0;
                while next <= to {
                    let page = self
                        .store
                        .read(move |c| log::read_range(c, tenant, &channel, next, to, MAX_REPLAY_BATCH))
                        .await?;
                    // The log must hold every seq in range (trimmed meanwhile → not recovered).
                    let contiguous =
                        page.first().map(|p| p.0) == Some(next) && page.windows(2).all(|w| w[1].0 == w[0].0 + 1);
                    if !contiguous {
                        return Ok((head.clone(), head.seq, false, replayed));
                    }
                    let last = page.last().map(|p| p.0).unwrap_or(next);
                    let texts: Vec<String> = page.into_iter().map(|p| p.1).collect();
                    replayed += texts.len() as u32;
                    conn.send_raw(Utf8Bytes::from(log::batch_frame(&channel, &texts))).await;
                    next = last + 1;
                }
                Ok((head.clone(), to, true, replayed))
            }
        }
    }

    async fn send_presence_snapshot(&self, conn: &Arc<Conn>, channel: Channel) {
        let tenant = conn.tenant;
        let users: Vec<UserSummary> = match channel {
            Channel::PresenceUser(u) => self
                .store
                .read(move |c| crate::auth::user_summary(c, tenant, u))
                .await
                .ok()
                .flatten()
                .into_iter()
                .collect(),
            Channel::PresenceRoom(r) => self
                .store
                .read(move |c| chat::room(c, tenant, r, 0))
                .await
                .ok()
                .flatten()
                .map(|r| r.members)
                .unwrap_or_default(),
            _ => vec![],
        };
        for user in users {
            if !self.presence.knows(tenant, user.id) {
                let uid = user.id;
                if let Ok(stored) = self.store.read(move |c| auth::presence_of(c, tenant, uid)).await {
                    self.presence.remember(tenant, uid, stored);
                }
            }
            let (status, last_seen) = self.presence.shown(tenant, user.id);
            let frame = ServerFrame::Ephemeral { channel, data: Ephemeral::Presence { user, status, last_seen } };
            conn.send(&frame).await;
        }
    }

    /// Handles one request frame; returns the `ack`/`error` to send (subscribe sends its own answer).
    pub async fn handle(self: &Arc<Self>, conn: &Arc<Conn>, frame: ClientFrame) -> Option<ServerFrame> {
        let id = frame.req_id();
        let result = self.dispatch(conn, frame).await;
        match (id, result) {
            (_, Ok(Reply::None)) => None,
            (Some(id), Ok(Reply::Ack(data))) => Some(ServerFrame::ack(id, data.map(|d| *d))),
            (None, Ok(Reply::Ack(_))) => None,
            (id, Err(e)) => {
                metrics::counter!("tally_rejected_frames_total", "code" => e.code.as_str()).increment(1);
                Some(ServerFrame::error(id, e.code, e.message))
            }
        }
    }

    async fn dispatch(self: &Arc<Self>, conn: &Arc<Conn>, frame: ClientFrame) -> HubResult<Reply> {
        let tenant = conn.tenant;
        let me = conn.user.clone();
        let uid = me.id;
        use ClientFrame as F;
        Ok(match frame {
            F::Hello(_) => return Err(HubError::new(ErrorCode::BadFrame, "already authenticated")),
            F::Pong { .. } => Reply::None,
            F::Ping { .. } => Reply::Ack(Some(Box::new(AckData::Pong { server_time: now_ms() }))),
            F::Auth { token, .. } => {
                self.renew(conn, &token).await?;
                Reply::Ack(None)
            }
            F::Subscribe { id, channel, since } => {
                self.subscribe(conn, Some(id), channel, since).await?;
                Reply::None
            }
            F::Unsubscribe { channel, .. } => {
                self.fanout.unsubscribe(tenant, channel, conn.id);
                conn.remove_subscription(&channel);
                Reply::Ack(None)
            }
            F::History { channel, before, limit, .. } => {
                if limit == 0 || limit > MAX_HISTORY_PAGE {
                    return Err(HubError::invalid(format!("limit must be 1-{MAX_HISTORY_PAGE}")));
                }
                if !channel.is_durable() {
                    return Err(HubError::invalid("ephemeral channels have no history"));
                }
                self.authorize(conn, channel).await?;
                let (events, has_more, total) = match channel {
                    Channel::Room(r) => {
                        self.store
                            .read(move |c| {
                                let (events, more) = chat::history(c, tenant, r, before, limit)?;
                                let total = if before.is_none() { Some(chat::message_count(c, r)?) } else { None };
                                Ok((events, more, total))
                            })
                            .await?
                    }
                    _ => {
                        let ev = self
                            .store
                            .read(move |c| {
                                log::read_before(c, tenant, &channel, before.unwrap_or(u64::MAX >> 1), limit + 1)
                            })
                            .await?;
                        let more = ev.len() > limit as usize;
                        (ev.into_iter().take(limit as usize).collect(), more, None)
                    }
                };
                Reply::Ack(Some(Box::new(AckData::History { events, has_more, next_since: None, total })))
            }
            F::Snapshot { what, .. } => Reply::Ack(Some(Box::new(self.snapshot(tenant, uid, what).await?))),
            F::TransferCreate { idempotency_key, to, amount, memo, expires_at, .. } => {
                let from = me.clone();
                let res = self
                    .store
                    .write(move |c, e| {
                        let req =
                            ledger::NewTransfer { key: &idempotency_key, to: &to, amount, memo: &memo, expires_at };
                        ledger::create_transfer(c, e, tenant, &from, req)
                    })
                    .await;
                match res {
                    Ok(Created::New(t)) => {
                        self.drive_transfer(tenant, t.id);
                        Reply::Ack(Some(Box::new(AckData::Transfer { transfer: t })))
                    }
                    Ok(Created::Existing(t)) => Reply::Ack(Some(Box::new(AckData::Transfer { transfer: t }))),
                    Err(e) if e.code == ErrorCode::LimitExceeded => {
                        let body = e.message.clone();
                        let _ = self
                            .store
                            .write(move |c, em| {
                                let (kind, priority) = (NotificationKind::Limits, Priority::High);
                                let title = "Transfer blocked by a limit";
                                let n =
                                    notify::New { tenant, user: uid, kind, priority, title, body: &body, target: None };
                                notify::create(c, em, n)
                            })
                            .await;
                        return Err(e);
                    }
                    Err(e) => return Err(e),
                }
            }
            F::RoomCreate { kind, name, members, .. } => {
                let room =
                    self.store.write(move |c, e| chat::create_room(c, e, tenant, &me, kind, &name, &members)).await?;
                Reply::Ack(Some(Box::new(AckData::Room { room })))
            }
            F::RoomInvite { room, username, .. } => {
                let room = self.store.write(move |c, e| chat::invite(c, e, tenant, &me, room, &username)).await?;
                Reply::Ack(Some(Box::new(AckData::Room { room })))
            }
            F::RoomLeave { room, .. } => {
                self.store.write(move |c, e| chat::leave(c, e, tenant, &me, room)).await?;
                self.fanout.kick(tenant, Channel::Room(room), uid, ErrorCode::ForbiddenChannel);
                self.fanout.kick(tenant, Channel::PresenceRoom(room), uid, ErrorCode::ForbiddenChannel);
                Reply::Ack(None)
            }
            F::MessageSend { room, client_msg_id, text, .. } => {
                let message =
                    self.store.write(move |c, e| chat::send(c, e, tenant, &me, room, &client_msg_id, &text)).await?;
                if self.presence.typing(tenant, room, uid, false) {
                    let ev = log::ephemeral(
                        tenant,
                        Channel::Room(room),
                        Ephemeral::Typing { room, user: conn.user.clone(), active: false },
                    );
                    self.fanout.publish(&[ev]);
                }
                Reply::Ack(Some(Box::new(AckData::Message { message })))
            }
            F::MessageEdit { room, message, text, .. } => {
                self.store.write(move |c, e| chat::edit(c, e, tenant, uid, room, message, &text)).await?;
                Reply::Ack(None)
            }
            F::MessageDelete { room, message, .. } => {
                self.store.write(move |c, e| chat::delete(c, e, tenant, uid, room, message)).await?;
                Reply::Ack(None)
            }
            F::React { room, message, emoji, on, .. } => {
                self.store.write(move |c, e| chat::react(c, e, tenant, &me, room, message, &emoji, on)).await?;
                Reply::Ack(None)
            }
            F::Read { room, up_to, .. } => {
                self.store.write(move |c, e| chat::read(c, e, tenant, &me, room, up_to)).await?;
                Reply::Ack(None)
            }
            F::Typing { room, active, .. } => {
                let member = self.store.read(move |c| chat::is_member(c, room, uid)).await?;
                if !member {
                    return Err(HubError::forbidden("you are not a member of this room"));
                }
                if self.presence.typing(tenant, room, uid, active) {
                    let ev = log::ephemeral(tenant, Channel::Room(room), Ephemeral::Typing { room, user: me, active });
                    self.fanout.publish(&[ev]);
                }
                Reply::Ack(None)
            }
            F::PresenceSet { status, .. } => {
                // Kept in the database too: the choice outlives the grace period and restarts.
                self.store.write(move |c, _| auth::set_presence(c, tenant, uid, status)).await?;
                if let Some(ch) = self.presence.set(tenant, uid, status) {
                    self.publish_presence(ch).await;
                }
                Reply::Ack(None)
            }
            F::NotificationsRead { ids, .. } => {
                self.store.write(move |c, e| notify::mark_read(c, e, tenant, uid, Some(&ids))).await?;
                Reply::Ack(None)
            }
            F::NotificationsReadAll { .. } => {
                self.store.write(move |c, e| notify::mark_read(c, e, tenant, uid, None)).await?;
                Reply::Ack(None)
            }
        })
    }

    /// In-band renewal: a new access token of the same user and session extends the connection's authority.
    /// A revoked session or a disabled user closes the connection instead.
    async fn renew(&self, conn: &Arc<Conn>, token: &str) -> HubResult<()> {
        let claims =
            self.keys.verify(token).map_err(|code| HubError::new(code, "that token cannot renew this connection"))?;
        if claims.sub != conn.user.id || claims.tid != conn.tenant || claims.sid != conn.sid {
            return Err(HubError::new(ErrorCode::Unauthorized, "the token belongs to another session"));
        }
        let (tenant, uid, sid) = (conn.tenant, conn.user.id, conn.sid.clone());
        let (revoked, active) =
            self.store.read(move |c| Ok((auth::is_revoked(c, &sid)?, auth::is_active(c, tenant, uid)?))).await?;
        if revoked || !active {
            conn.close(CloseCode::SessionRevoked, "session revoked");
            return Err(HubError::new(ErrorCode::Unauthorized, "session revoked"));
        }
        conn.set_token_expires_ms(claims.exp.saturating_mul(1000));
        Ok(())
    }

    pub async fn snapshot(&self, tenant: TenantId, uid: UserId, what: SnapshotKind) -> HubResult<AckData> {
        let page_ok = |limit: u32| {
            if limit == 0 || limit > MAX_SNAPSHOT_PAGE {
                return Err(HubError::invalid(format!("limit must be 1-{MAX_SNAPSHOT_PAGE}")));
            }
            Ok(())
        };
        Ok(match what {
            SnapshotKind::Balances => {
                AckData::Balances { balances: self.store.read(move |c| ledger::balances(c, uid)).await? }
            }
            SnapshotKind::Transactions { before, limit } => {
                page_ok(limit)?;
                self.store
                    .read(move |c| {
                        let (transactions, next_before) = ledger::transactions_page(c, tenant, uid, before, limit)?;
                        let total =
                            if before.is_none() { Some(ledger::transactions_count(c, tenant, uid)?) } else { None };
                        Ok(AckData::Transactions { transactions, next_before, next_since: None, total })
                    })
                    .await?
            }
            SnapshotKind::TransactionChanges { since, limit } => {
                page_ok(limit)?;
                let (transactions, next_since) =
                    self.store.read(move |c| ledger::transaction_changes(c, tenant, uid, since, limit)).await?;
                AckData::Transactions { transactions, next_before: None, next_since, total: None }
            }
            SnapshotKind::Rooms => {
                AckData::Rooms { rooms: self.store.read(move |c| chat::rooms_of(c, tenant, uid)).await? }
            }
            SnapshotKind::Contacts => {
                AckData::Contacts { users: self.store.read(move |c| auth::contacts(c, tenant, uid)).await? }
            }
            SnapshotKind::Notifications { before, limit } => {
                page_ok(limit)?;
                self.store
                    .read(move |c| {
                        let (notifications, unread, next_before) = notify::page(c, tenant, uid, before, limit)?;
                        let total = if before.is_none() { Some(notify::count(c, tenant, uid)?) } else { None };
                        Ok(AckData::Notifications { notifications, unread, next_before, next_since: None, total })
                    })
                    .await?
            }
            SnapshotKind::NotificationChanges { since, limit } => {
                page_ok(limit)?;
                self.store
                    .read(move |c| {
                        let (notifications, next_since) = notify::changes(c, tenant, uid, since, limit)?;
                        let unread = notify::unread(c, tenant, uid)?;
                        Ok(AckData::Notifications { notifications, unread, next_before: None, next_since, total: None })
                    })
                    .await?
            }
            SnapshotKind::MessageChanges { room, since, limit } => {
                page_ok(limit)?;
                self.store
                    .read(move |c| {
                        chat::require_member(c, tenant, room, uid)?;
                        let (events, next_since) = chat::changes(c, tenant, room, since, limit)?;
                        Ok(AckData::History { has_more: next_since.is_some(), events, next_since, total: None })
                    })
                    .await?
            }
            SnapshotKind::Transfer { id } => {
                match self.store.read(move |c| ledger::transfer_for(c, tenant, id, uid)).await? {
                    Some(transfer) => AckData::Transfer { transfer },
                    None => return Err(HubError::not_found("transfer")),
                }
            }
            SnapshotKind::TransferByKey { idempotency_key } => {
                match self.store.read(move |c| ledger::transfer_by_key(c, tenant, uid, &idempotency_key)).await? {
                    Some(transfer) => AckData::Transfer { transfer },
                    None => return Err(HubError::not_found("transfer")),
                }
            }
            SnapshotKind::OpenTransfers => AckData::Transfers {
                transfers: self.store.read(move |c| ledger::open_transfers(c, tenant, uid)).await?,
            },
        })
    }
}

pub enum Reply {
    None,
    Ack(Option<Box<AckData>>),
}
