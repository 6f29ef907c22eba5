//! The one socket task: connect, authenticate, resubscribe with stored positions, apply events exactly
//! once, heal gaps, refetch snapshots after `recovered: false`, flush the outbox, heartbeats and latency,
//! token refresh, and reconnect with backoff when anything breaks.
use crate::api::Api;
use crate::backoff::Backoff;
use crate::notify::{Notifier, Raiser};
use crate::outbox::{OutboxAction, OutboxQueue, OutboxState};
use crate::secrets::{SecretStore, StoredSession};
use crate::store::{now_ms, OutboxRow, Store};
use crate::view::*;
use crate::Error;
use futures_util::SinkExt;
use rand::Rng;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tally_protocol::*;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::Message as WsMessage;

mod backfill;
mod live;
mod reconnect;
mod session;
#[cfg(test)]
mod single_flight_tests;
use crate::netwatch::Reachability;
use crate::store::{PageEnd, PartKey};
use backfill::Work;
pub use reconnect::run;

/// How many messages of a room this device keeps with these preferences.
pub fn room_cap(prefs: &Prefs) -> u64 {
    backfill::cap(PartKey::Room(0), prefs)
}

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const ACK_TIMEOUT: Duration = Duration::from_secs(10);
const SNAPSHOT_CONCURRENCY: usize = 2;

pub type Reply = oneshot::Sender<Result<Option<AckData>, Error>>;

/// Commands from the engine to the socket task.
pub enum Cmd {
    /// Send a request now (fails at once when not live).
    Request(Box<dyn FnOnce(ReqId) -> ClientFrame + Send>, Reply),
    /// The outbox has new work.
    Kick,
    ReconnectNow,
    Background(bool),
    Shutdown,
}

/// Who is typing where, and since when.
pub type Typing = HashMap<RoomId, HashMap<UserId, (UserSummary, Instant)>>;

/// State shared between the engine and its socket task.
pub struct Shared {
    pub api: Api,
    pub store: Arc<Store>,
    pub user: UserSummary,
    pub secrets: Arc<dyn SecretStore>,
    pub notifier: Arc<dyn Notifier>,
    pub events: broadcast::Sender<AppEvent>,
    pub state: watch::Sender<ConnState>,
    pub client_name: String,
    pub reconnect_caps: crate::backoff::Caps,
    pub tokens: Mutex<TokenState>,
    /// One refresh in flight per account: every caller that finds the token stale waits here.
    pub refresh_gate: tokio::sync::Mutex<()>,
    pub typing: Mutex<Typing>,
    pub focused_room: Mutex<Option<RoomId>>,
    /// History pages fetched by this engine (backfill and changes), for tests and diagnostics.
    pub pages_fetched: std::sync::atomic::AtomicU64,
    /// The keychain name of this account's cache key.
    pub cache_account: String,
    /// The app lock's state: while it hides the app, notifications say only that something happened.
    pub lock: Arc<Mutex<crate::engine::app_lock::LockRuntime>>,
    /// The app's window is in front (`Engine::set_background(false)`).
    pub foreground: Arc<std::sync::atomic::AtomicBool>,
    /// The UI's language and money format (none until the UI said).
    pub display: crate::display::SharedStyle,
}

pub struct TokenState {
    pub access: Option<String>,
    pub access_expires: Instant,
    pub lifetime: Duration,
    pub refresh: String,
    /// Bumped by every installed token pair (tells a waiting caller that someone else refreshed).
    pub generation: u64,
}

impl TokenState {
    /// Only a refresh token (a restored session): the first use refreshes.
    pub fn new(refresh: String) -> Self {
        TokenState {
            access: None,
            access_expires: Instant::now(),
            lifetime: Duration::from_secs(900),
            refresh,
            generation: 0,
        }
    }
}

impl Shared {
    fn emit(&self, e: AppEvent) {
        let _ = self.events.send(e);
    }
    fn changed(&self, changes: Vec<Change>) {
        if !changes.is_empty() {
            self.emit(AppEvent::Changed { changes });
        }
    }
    fn outbox_update(&self, update: OutboxUpdate) {
        self.emit(AppEvent::Outbox { update });
    }
    /// Stops an outbox item (it waits for the user) and tells the UI why.
    fn fail_item(&self, id: i64, code: CommandErrorCode, reason: &str) -> Result<(), Error> {
        self.store.outbox_fail(id, code, reason)?;
        self.outbox_update(OutboxUpdate::Failed { id, local: LocalState::Failed { reason: reason.into(), code } });
        Ok(())
    }
    fn set_state(&self, s: ConnState) {
        if *self.state.borrow() != s {
            self.state.send_replace(s.clone());
            self.emit(AppEvent::Conn { conn: s });
        }
    }

    /// The hub ended this session (signed out from another device, a password change or reset, a stolen
    /// refresh token): nothing of the account may stay on this device. The keychain entry goes and the
    /// cache is emptied in place (the empty file is reused by the next sign-in or deleted by sign-out).
    pub fn forget_account(&self) {
        if let Err(e) = self.secrets.clear() {
            tracing::warn!(error = %e, "could not remove the session from the keychain");
        }
        match self.store.wipe() {
            Ok(()) => tracing::info!("session ended by the hub: the local cache was wiped"),
            Err(e) => tracing::error!(error = %e, "could not wipe the local cache"),
        }
        if let Err(e) = self.secrets.delete_cache_key(&self.cache_account) {
            tracing::warn!(error = %e, "could not remove the cache key from the keychain");
        }
        self.changed(crate::view::all_changes());
    }

    pub fn typing_in(&self, room: RoomId) -> Vec<UserSummary> {
        let mut t = self.typing.lock().unwrap_or_else(|e| e.into_inner());
        let Some(m) = t.get_mut(&room) else { return vec![] };
        m.retain(|_, (_, at)| at.elapsed() < Duration::from_secs(6));
        m.values().map(|(u, _)| u.clone()).collect()
    }

    /// A valid access token, refreshing (and rotating the stored refresh token) when needed. Single
    /// flight: concurrent callers share one refresh (two would spend the same refresh token twice).
    pub async fn access_token(&self, force: bool) -> Result<String, Error> {
        let (current, seen) = {
            let t = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
            let fresh = t.access.is_some() && t.access_expires > Instant::now() + Duration::from_secs(30);
            (if fresh && !force { t.access.clone() } else { None }, t.generation)
        };
        if let Some(a) = current {
            return Ok(a);
        }
        let _one_at_a_time = self.refresh_gate.lock().await;
        let refresh = {
            let t = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
            if t.generation != seen {
                // Someone refreshed while this caller waited: that token is as new as a second one.
                if let Some(a) = &t.access {
                    return Ok(a.clone());
                }
            }
            t.refresh.clone()
        };
        let tokens = self.api.refresh(&refresh).await?;
        self.install_tokens(&tokens)?;
        Ok(tokens.access_token)
    }

    pub fn install_tokens(&self, t: &crate::api::Tokens) -> Result<(), Error> {
        {
            let mut s = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
            s.access = Some(t.access_token.clone());
            s.lifetime = Duration::from_secs(t.expires_in.max(1));
            s.access_expires = Instant::now() + s.lifetime;
            s.refresh = t.refresh_token.clone();
            s.generation += 1;
        }
        let saved = self.secrets.save(&StoredSession {
            server: self.api.base.clone(),
            user_id: self.user.id,
            username: self.user.username.clone(),
            display_name: self.user.display_name.clone(),
            refresh_token: t.refresh_token.clone(),
        });
        if let Err(e) = saved {
            tracing::warn!(error = %e, "could not save the session to the keychain");
            // The user must know: the next start will not be signed in.
            let message = format!("Tally could not save your sign-in to the system keychain ({e}). You will have to sign in again next time.");
            self.emit(AppEvent::Problem { error: CommandError::local(LocalErrorCode::KeychainUnavailable, message) });
        }
        Ok(())
    }

    fn raise(&self, notifications: &[Notification], messages: &[Message]) {
        let focused = *self.focused_room.lock().unwrap_or_else(|e| e.into_inner());
        let r = Raiser {
            store: &self.store,
            notifier: &*self.notifier,
            local_minute: crate::notify::local_minute_now(),
            focused_room: focused,
            private: self.lock.lock().unwrap_or_else(|e| e.into_inner()).hides_content(),
            foreground: self.foreground.load(std::sync::atomic::Ordering::Relaxed),
            display: self.display.read().unwrap_or_else(|e| e.into_inner()).clone(),
        };
        for n in notifications {
            match r.notification(n) {
                // No toast on a lock screen: the notification centre has it once unlocked.
                Ok(true) if !r.private => {
                    self.emit(AppEvent::Toast { kind: n.kind, title: n.title.clone(), body: n.body.clone() })
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "notification"),
            }
        }
        for m in messages {
            if let Err(e) = r.message(m) {
                tracing::warn!(error = %e, "message notification");
            }
        }
    }
}

/// Channels this client follows: its own, the broadcast, its rooms (and their presence), open transfers.
fn wanted_channels(sh: &Shared) -> Vec<Channel> {
    let me = sh.user.id;
    let mut out = vec![
        Channel::User(me),
        Channel::Balance(me),
        Channel::Transactions(me),
        Channel::Notifications(me),
        Channel::Broadcast,
    ];
    for r in sh.store.room_ids().unwrap_or_default() {
        out.push(Channel::Room(r));
        out.push(Channel::PresenceRoom(r));
    }
    for t in sh.store.transfers_open().unwrap_or_default() {
        if !t.transfer.status.is_final() && t.transfer.id > 0 && t.local == LocalState::Sent {
            out.push(Channel::Transfer(t.transfer.id));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The parts of the history this device downloads: transactions, notifications and each room's messages.
fn wanted_parts(sh: &Shared) -> Vec<PartKey> {
    let mut out = vec![PartKey::Transactions, PartKey::Notifications];
    out.extend(sh.store.room_ids().unwrap_or_default().into_iter().map(PartKey::Room));
    out
}

/// Sends the next history page request when nothing of the user's own is in flight.
async fn run_backfill(sh: &Arc<Shared>, conn: &mut Conn) -> Result<(), Error> {
    if conn.backfill_in_flight || conn.snapshots_running > 0 || !conn.in_flight_queues.is_empty() {
        return Ok(());
    }
    let Some((key, work)) = backfill::next_work(&sh.store.parts()?) else { return Ok(()) };
    conn.backfill_in_flight = true;
    conn.request(|id| backfill::frame(key, work, id), Pending::Backfill(key, work)).await
}

fn on_backfill_reply(sh: &Arc<Shared>, key: PartKey, work: Work, reply: HubReply) -> Result<(), Error> {
    let data = match reply {
        Ok(data) => data,
        Err((ErrorCode::Forbidden | ErrorCode::NotFound | ErrorCode::ForbiddenChannel, msg, _)) => {
            // Not ours any more (left the room): stop downloading it; the room's own events say the rest.
            tracing::info!(part = %key.encode(), %msg, "history part refused; dropping it");
            return sh.store.ensure_parts(&wanted_parts(sh).into_iter().filter(|k| *k != key).collect::<Vec<_>>());
        }
        Err((code, msg, _)) => return Err(Error::Hub { code, message: msg }),
    };
    let (rows, end) = backfill::page(key, work, data)?;
    let cap = backfill::cap(key, &sh.store.prefs()?);
    let applied = sh.store.apply_part_page(key, &rows, &end, cap)?;
    sh.pages_fetched.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if let PageEnd::Backfill { next_before: None, .. } = end {
        tracing::info!(part = %key.encode(), "history part complete");
    }
    sh.changed(applied.changes);
    Ok(())
}

pub(crate) enum Outcome {
    Shutdown,
    /// Do not retry on our own: the user must act (sign in again, update the app).
    Permanent(ConnState),
    /// Reconnect: `live_for` is how long the session was live (None if it never was).
    Dropped {
        live_for: Option<Duration>,
        hint: Option<Duration>,
        error: String,
    },
}

#[derive(Debug)]
enum Pending {
    External(ReplyBox),
    Outbox {
        item: i64,
        queue: OutboxQueue,
    },
    Ping(Instant),
    Snapshot(Channel, SnapshotKind),
    Backfill(PartKey, Work),
    /// Looking an expired outbox transfer up on the hub by its key.
    Reconcile {
        item: i64,
        queue: OutboxQueue,
    },
    Subscribe(Channel),
    /// The in-band token renewal.
    Renew,
    Quiet,
}

#[derive(Debug)]
struct ReplyBox(Option<Reply>);

type WsStream = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Conn {
    ws: WsStream,
    next_id: ReqId,
    pending: HashMap<ReqId, (Pending, Instant)>,
    in_flight_queues: HashSet<OutboxQueue>,
    snapshot_queue: VecDeque<(Channel, Instant)>,
    snapshots_running: usize,
    retry_outbox_at: Option<Instant>,
    backfill_in_flight: bool,
    /// The hub's clock minus ours, from `welcome`.
    hub_skew_ms: i64,
}

impl Conn {
    fn new(ws: WsStream) -> Conn {
        Conn {
            ws,
            next_id: 0,
            pending: HashMap::new(),
            in_flight_queues: HashSet::new(),
            snapshot_queue: VecDeque::new(),
            snapshots_running: 0,
            retry_outbox_at: None,
            backfill_in_flight: false,
            hub_skew_ms: 0,
        }
    }
    async fn send(&mut self, f: &ClientFrame) -> Result<(), Error> {
        self.ws.send(WsMessage::text(encode(f))).await.map_err(|e| Error::Network(e.to_string()))
    }
    async fn request(&mut self, make: impl FnOnce(ReqId) -> ClientFrame, p: Pending) -> Result<(), Error> {
        self.next_id += 1;
        let id = self.next_id;
        self.pending.insert(id, (p, Instant::now()));
        self.send(&make(id)).await
    }
}

fn close_outcome(code: u16, reason: &str, live_for: Option<Duration>, hint: Option<Duration>) -> Outcome {
    match CloseCode::from_code(code) {
        Some(CloseCode::UnsupportedVersion) => Outcome::Permanent(ConnState::Closed {
            reason: "This version of Tally is too old for the server. Please update the app.".into(),
        }),
        Some(CloseCode::SessionRevoked) => Outcome::Permanent(ConnState::AuthFailed {
            reason: "You were signed out (from another device or for security). Sign in again.".into(),
        }),
        Some(CloseCode::ServiceRestart) => Outcome::Dropped {
            live_for,
            hint: hint.or(Some(Duration::from_millis(500))),
            error: "server restarting".into(),
        },
        _ => Outcome::Dropped { live_for, hint, error: format!("connection closed ({code} {reason})") },
    }
}

/// One connection attempt and, if it goes live, the whole session.
async fn connect_once(
    sh: &Arc<Shared>,
    cmds: &mut mpsc::UnboundedReceiver<Cmd>,
    backoff: &mut Backoff,
    net: &mut watch::Receiver<Reachability>,
) -> Outcome {
    match session::open(sh).await {
        Ok((conn, welcome)) => live::run(sh, conn, welcome, cmds, backoff, net).await,
        Err(outcome) => outcome,
    }
}

fn short_ws_error(e: &tokio_tungstenite::tungstenite::Error) -> String {
    use tokio_tungstenite::tungstenite::Error as E;
    match e {
        E::Io(io) => format!("network: {}", io.kind()),
        E::Http(r) => format!("server refused the connection ({})", r.status()),
        E::ConnectionClosed | E::AlreadyClosed => "connection closed".into(),
        other => other.to_string(),
    }
}

async fn on_frame(
    sh: &Arc<Shared>,
    conn: &mut Conn,
    frame: ServerFrame,
    hint: &mut Option<Duration>,
) -> Result<(), Error> {
    match frame {
        ServerFrame::Ping { ts } => conn.send(&ClientFrame::Pong { ts }).await?,
        ServerFrame::Event(e) => {
            let ch = e.channel;
            apply(sh, conn, ch, &[e]).await?;
        }
        ServerFrame::Batch { channel, events } => apply(sh, conn, channel, &events).await?,
        ServerFrame::Subscribed { id, channel, epoch, seq, recovered, .. } => {
            // `subscribed` is the answer to a `subscribe` request: it is no longer waiting (left pending, it
            // would count as unanswered and drop a healthy connection after ACK_TIMEOUT).
            if let Some(id) = id {
                conn.pending.remove(&id);
            }
            let stored = sh.store.position(&channel)?;
            if channel.is_durable() && (!recovered || stored.is_none()) {
                let head = Position { epoch, seq };
                if PartKey::of_channel(&channel, sh.user.id).is_some() {
                    // History rows: continue from the head and owe the part what changed meanwhile (or
                    // its whole download), fetched page by page by the backfill.
                    sh.store.recover_from_head(&channel, &head, now_ms() + conn.hub_skew_ms)?;
                    sh.changed(vec![Change::Sync]);
                } else {
                    // State: continue from the head; refetch it (jittered, limited) instead of the lost events.
                    sh.store.set_position(&channel, &head)?;
                    sh.store.snapshot_needed(&channel)?;
                    let not_before = Instant::now() + Duration::from_millis(rand::thread_rng().gen_range(0..250));
                    conn.snapshot_queue.push_back((channel, not_before));
                }
            }
        }
        ServerFrame::Unsubscribed { channel, code } => {
            tracing::info!(%channel, ?code, "the server ended a subscription");
            sh.store.forget_position(&channel)?;
            if let Channel::Room(r) = channel {
                sh.store.mark_room_left(r)?;
                sh.changed(vec![Change::Rooms]);
            }
        }
        ServerFrame::Ephemeral { data, .. } => match data {
            Ephemeral::Typing { room, user, active } => {
                if user.id != sh.user.id {
                    let mut t = sh.typing.lock().unwrap_or_else(|e| e.into_inner());
                    let m = t.entry(room).or_default();
                    if active {
                        m.insert(user.id, (user, Instant::now()));
                    } else {
                        m.remove(&user.id);
                    }
                    drop(t);
                    sh.changed(vec![Change::Typing { room }]);
                }
            }
            Ephemeral::Presence { user, status, last_seen } => {
                sh.store.set_presence(user.id, status, last_seen)?;
                sh.changed(vec![Change::Presence, Change::Rooms]);
            }
        },
        ServerFrame::Ack { id, data } => on_reply(sh, conn, id, Ok(data)).await?,
        ServerFrame::Error { id: Some(id), code, message, retryable } => {
            on_reply(sh, conn, id, Err((code, message, retryable))).await?
        }
        ServerFrame::Error { id: None, code, message, .. } => tracing::warn!(?code, %message, "server error"),
        ServerFrame::Reconnect { delay_ms, .. } => *hint = Some(Duration::from_millis(delay_ms)),
        ServerFrame::Welcome(_) => {}
    }
    Ok(())
}
async fn apply(sh: &Arc<Shared>, conn: &mut Conn, channel: Channel, events: &[Event]) -> Result<(), Error> {
    let applied = sh.store.apply_events(&channel, events)?;
    if applied.gap {
        // A gap or a new epoch: heal by resubscribing from what we have.
        let since = sh.store.position(&channel)?;
        tracing::info!(%channel, "gap detected; resubscribing");
        conn.request(|id| ClientFrame::Subscribe { id, channel, since }, Pending::Subscribe(channel)).await?;
    }
    for r in &applied.rooms_joined {
        for ch in [Channel::Room(*r), Channel::PresenceRoom(*r)] {
            let since = sh.store.position(&ch)?;
            conn.request(|id| ClientFrame::Subscribe { id, channel: ch, since }, Pending::Subscribe(ch)).await?;
        }
    }
    for r in &applied.rooms_left {
        for ch in [Channel::Room(*r), Channel::PresenceRoom(*r)] {
            sh.store.forget_position(&ch)?;
            conn.request(|id| ClientFrame::Unsubscribe { id, channel: ch }, Pending::Quiet).await?;
        }
    }
    for t in &applied.transfers {
        if t.status.is_final() {
            sh.store.forget_position(&Channel::Transfer(t.id))?;
            conn.request(|id| ClientFrame::Unsubscribe { id, channel: Channel::Transfer(t.id) }, Pending::Quiet)
                .await?;
        }
    }
    if !applied.rooms_joined.is_empty() || !applied.rooms_left.is_empty() {
        sh.store.ensure_parts(&wanted_parts(sh))?;
    }
    // A broadcast also arrives as a `system` notification of its own, which is what raises the toast
    // (once, honouring the user's muted kinds): the broadcast event itself raises nothing.
    sh.raise(&applied.new_notifications, &applied.new_messages);
    // Events never change the outbox (its items end in `on_outbox_reply`): no Outbox topic here.
    sh.changed(applied.changes.clone());
    Ok(())
}

/// Requests the snapshots owed after `recovered: false`, at most two at a time.
async fn run_snapshots(sh: &Arc<Shared>, conn: &mut Conn) -> Result<(), Error> {
    while conn.snapshots_running < SNAPSHOT_CONCURRENCY {
        let Some(&(channel, not_before)) = conn.snapshot_queue.front() else { break };
        if Instant::now() < not_before {
            break;
        }
        conn.snapshot_queue.pop_front();
        let me = sh.user.id;
        let kinds: Vec<SnapshotKind> = match channel {
            Channel::Balance(u) if u == me => vec![SnapshotKind::Balances],
            Channel::User(u) if u == me => vec![SnapshotKind::Rooms, SnapshotKind::OpenTransfers],
            Channel::Transfer(id) => vec![SnapshotKind::Transfer { id }],
            _ => {
                // History channels are the backfill's (an older cache may still owe them a snapshot).
                sh.store.snapshot_done(&channel)?;
                vec![]
            }
        };
        for what in kinds {
            conn.snapshots_running += 1;
            let w = what.clone();
            conn.request(move |id| ClientFrame::Snapshot { id, what: w }, Pending::Snapshot(channel, what)).await?;
        }
    }
    Ok(())
}

type HubReply = Result<Option<AckData>, (ErrorCode, String, bool)>;

async fn on_reply(sh: &Arc<Shared>, conn: &mut Conn, id: ReqId, reply: HubReply) -> Result<(), Error> {
    let Some((pending, _)) = conn.pending.remove(&id) else { return Ok(()) };
    match pending {
        Pending::Quiet => {}
        Pending::Renew => {
            if let Err((code, message, _)) = reply {
                // The hub would not extend this connection (session revoked, user disabled): it closes it.
                tracing::warn!(?code, %message, "in-band token renewal refused");
            }
        }
        Pending::Subscribe(ch) => {
            if let Err((code, msg, _)) = reply {
                tracing::info!(%ch, ?code, %msg, "subscription refused");
                sh.store.forget_position(&ch)?;
            }
        }
        Pending::External(ReplyBox(r)) => {
            if let Some(r) = r {
                let _ = r.send(reply.map_err(|(code, message, _)| Error::Hub { code, message }));
            }
        }
        Pending::Ping(sent) => {
            let rtt = sent.elapsed().as_millis().min(u32::MAX as u128) as u32;
            sh.set_state(ConnState::Live { latency_ms: Some(rtt) });
        }
        Pending::Snapshot(channel, what) => {
            conn.snapshots_running = conn.snapshots_running.saturating_sub(1);
            match reply {
                Ok(Some(data)) => {
                    let done = !matches!(what, SnapshotKind::OpenTransfers | SnapshotKind::Contacts);
                    apply_snapshot(sh, conn, channel, what, data).await?;
                    if done {
                        sh.store.snapshot_done(&channel)?;
                    }
                }
                Ok(None) => {}
                Err((code, msg, _)) => tracing::warn!(%channel, ?code, %msg, "snapshot refused"),
            }
        }
        Pending::Backfill(key, work) => {
            conn.backfill_in_flight = false;
            on_backfill_reply(sh, key, work, reply)?;
            run_backfill(sh, conn).await?;
        }
        Pending::Reconcile { item, queue } => {
            conn.in_flight_queues.remove(&queue);
            on_reconcile_reply(sh, conn, item, reply).await?;
            flush_outbox(sh, conn).await;
        }
        Pending::Outbox { item, queue } => {
            conn.in_flight_queues.remove(&queue);
            on_outbox_reply(sh, conn, item, reply).await?;
            flush_outbox(sh, conn).await;
        }
    }
    Ok(())
}

async fn apply_snapshot(
    sh: &Arc<Shared>,
    conn: &mut Conn,
    _channel: Channel,
    _what: SnapshotKind,
    data: AckData,
) -> Result<(), Error> {
    let mut changes = vec![];
    match data {
        AckData::Balances { balances } => {
            sh.store.replace_balances(&balances)?;
            changes.push(Change::Balances);
        }
        AckData::Rooms { rooms } => {
            let before: HashSet<RoomId> = sh.store.room_ids()?.into_iter().collect();
            sh.store.replace_rooms(&rooms)?;
            sh.store.ensure_parts(&wanted_parts(sh))?;
            for r in &rooms {
                if !before.contains(&r.id) {
                    for ch in [Channel::Room(r.id), Channel::PresenceRoom(r.id)] {
                        conn.request(
                            |id| ClientFrame::Subscribe { id, channel: ch, since: None },
                            Pending::Subscribe(ch),
                        )
                        .await?;
                    }
                }
            }
            changes.push(Change::Rooms);
            changes.push(Change::Sync);
        }
        AckData::Contacts { users } => sh.store.replace_contacts(&users)?,
        AckData::Transfers { transfers } => {
            for t in &transfers {
                sh.store.upsert_transfer(t, &LocalState::Sent)?;
                if !t.status.is_final() {
                    let ch = Channel::Transfer(t.id);
                    if sh.store.position(&ch)?.is_none() {
                        conn.request(
                            |id| ClientFrame::Subscribe { id, channel: ch, since: None },
                            Pending::Subscribe(ch),
                        )
                        .await?;
                    }
                }
            }
            changes.push(Change::Transfers);
        }
        AckData::Transfer { transfer } => {
            sh.store.upsert_transfer(&transfer, &LocalState::Sent)?;
            changes.push(Change::Transfers);
        }
        // History pages (transactions, notifications, messages) are the backfill's: `on_backfill_reply`.
        _ => {}
    }
    sh.changed(changes);
    Ok(())
}

/// Sends the first pending item of every queue that has nothing in flight.
async fn flush_outbox(sh: &Arc<Shared>, conn: &mut Conn) {
    let rows = match sh.store.outbox_rows() {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "outbox unreadable");
            return;
        }
    };
    let mut seen_queues = HashSet::new();
    for row in rows {
        if !seen_queues.insert(row.queue)
            || conn.in_flight_queues.contains(&row.queue)
            || row.state != OutboxState::Pending
        {
            // One ordered queue per conversation: only its head may be in flight; a failed head blocks
            // its own queue (the user decides), never the others.
            continue;
        }
        let action = match &row.action {
            Ok(a) => a.clone(),
            Err(e) => {
                tracing::warn!(item = row.id, error = %e, "unreadable outbox item");
                let _ =
                    sh.fail_item(row.id, LocalErrorCode::InvalidInput.into(), "this queued action could not be read");
                continue;
            }
        };
        conn.in_flight_queues.insert(row.queue);
        if conn.request_outbox(sh, &row, action).await.is_err() {
            return;
        }
    }
}

/// "Not sent: you were offline for more than 5 minutes."
fn expiry_reason(row: &OutboxRow) -> String {
    let mins = (row.expires_at.unwrap_or(row.created_at) - row.created_at) / 60_000;
    format!("Not sent: you were offline for more than {} minute{}.", mins.max(1), if mins == 1 { "" } else { "s" })
}

impl Conn {
    /// Sends one outbox item; an expired one is failed, or, when it was sent before and its answer never
    /// came, first looked up on the hub by its idempotency key (it may have been carried out).
    async fn request_outbox(&mut self, sh: &Arc<Shared>, row: &OutboxRow, action: OutboxAction) -> Result<(), Error> {
        let pending = Pending::Outbox { item: row.id, queue: row.queue };
        if row.expires_at.is_some_and(|exp| now_ms() > exp) {
            if let (OutboxAction::Transfer { idempotency_key, .. }, true) = (&action, row.attempts > 0) {
                let what = SnapshotKind::TransferByKey { idempotency_key: idempotency_key.clone() };
                let reconcile = Pending::Reconcile { item: row.id, queue: row.queue };
                return self.request(move |id| ClientFrame::Snapshot { id, what }, reconcile).await;
            }
            // It never left this device: certainly not carried out.
            self.in_flight_queues.remove(&row.queue);
            let _ = sh.fail_item(row.id, ErrorCode::Expired.into(), &expiry_reason(row));
            sh.changed(vec![Change::Transfers]);
            return Ok(());
        }
        if sh.store.outbox_attempt(row.id).is_ok() {
            sh.outbox_update(OutboxUpdate::Sending { id: row.id });
        }
        let expires_at = row.expires_at;
        self.request(move |id| action.frame(id, expires_at), pending).await
    }
}

/// The hub's answer to "did you carry out this transfer?" for an expired item that was sent before.
async fn on_reconcile_reply(sh: &Arc<Shared>, conn: &mut Conn, item: i64, reply: HubReply) -> Result<(), Error> {
    match reply {
        Ok(Some(AckData::Transfer { transfer })) => {
            // It was: the payment went through (or is going through). Link the row and follow it.
            sh.store.upsert_transfer(&transfer, &LocalState::Sent)?;
            sh.store.outbox_done(item)?;
            sh.outbox_update(OutboxUpdate::Sent { id: item });
            if !transfer.status.is_final() {
                let ch = Channel::Transfer(transfer.id);
                conn.request(|id| ClientFrame::Subscribe { id, channel: ch, since: None }, Pending::Subscribe(ch))
                    .await?;
            }
        }
        Err((ErrorCode::NotFound, ..)) => {
            // It was not, and the hub refuses it past its deadline: it is truly not sent.
            let row = sh.store.outbox_rows()?.into_iter().find(|r| r.id == item);
            let reason = row.as_ref().map(expiry_reason).unwrap_or_else(|| "Not sent: it expired.".into());
            sh.fail_item(item, ErrorCode::Expired.into(), &reason)?;
        }
        Err((code, message, _)) => {
            tracing::info!(?code, %message, "could not look up an expired transfer; asking again shortly");
            conn.retry_outbox_at = Some(Instant::now() + Duration::from_secs(2));
        }
        Ok(_) => return Err(Error::Network("unexpected reply to a transfer lookup".into())),
    }
    sh.changed(vec![Change::Transfers]);
    Ok(())
}

async fn on_outbox_reply(sh: &Arc<Shared>, conn: &mut Conn, item: i64, reply: HubReply) -> Result<(), Error> {
    let mut changes = vec![];
    match reply {
        Ok(data) => {
            match data {
                Some(AckData::Transfer { transfer }) => {
                    sh.store.upsert_transfer(&transfer, &LocalState::Sent)?;
                    changes.push(Change::Transfers);
                    if !transfer.status.is_final() {
                        let ch = Channel::Transfer(transfer.id);
                        conn.request(
                            |id| ClientFrame::Subscribe { id, channel: ch, since: None },
                            Pending::Subscribe(ch),
                        )
                        .await?;
                    }
                }
                Some(AckData::Message { message }) => {
                    let room = message.room;
                    let e = Event {
                        channel: Channel::Room(room),
                        epoch: String::new(),
                        seq: message.seq,
                        ts: message.sent_at,
                        data: EventData::Message { message },
                    };
                    sh.store.upsert_messages(&[e])?;
                    changes.push(Change::Messages { room });
                    changes.push(Change::Rooms);
                }
                _ => {}
            }
            sh.store.outbox_done(item)?;
            sh.outbox_update(OutboxUpdate::Sent { id: item });
        }
        Err((code, message, retryable)) => {
            if retryable {
                // Try again shortly with the same key: the hub applies it once.
                conn.retry_outbox_at = Some(Instant::now() + Duration::from_secs(2));
            } else {
                sh.fail_item(item, code.into(), &message)?;
                changes.push(Change::Transfers);
                changes.push(Change::Rooms);
                for r in sh.store.room_ids()? {
                    changes.push(Change::Messages { room: r });
                }
            }
        }
    }
    sh.changed(changes);
    Ok(())
}
