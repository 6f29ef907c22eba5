//! The API the app shell calls. One `Engine` per app; at most one signed-in session at a time.
use crate::api::Api;
use crate::netwatch::{self, NetworkMonitor};
use crate::notify::Notifier;
use crate::outbox::OutboxAction;
use crate::secrets::SecretStore;
use crate::store::{now_ms, Echo, Store};
use crate::sync::{self, Cmd, Shared, TokenState};
use crate::view::*;
use crate::Error;
use rand::distributions::Alphanumeric;
use rand::Rng;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tally_protocol::*;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

mod account;
pub(crate) mod app_lock;
mod attachments;
pub use app_lock::OPEN_WHILE_LOCKED;
mod cache_key;
mod requests;
mod withdrawals;
pub use account::{device_info, NewAccount};

#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Root of the app's data: one database per (server, user) below it.
    pub data_dir: PathBuf,
    /// Sent in `hello` (for the hub's logs).
    pub client_name: String,
    /// The longest reconnect waits (10 s in front of the user, 120 s in the background by default).
    pub reconnect_caps: crate::backoff::Caps,
    /// PEM certificates trusted beside the public roots (a self-hosted hub's own CA).
    pub extra_ca_pem: Option<Vec<u8>>,
}

impl EngineConfig {
    pub fn new(data_dir: impl Into<PathBuf>, client_name: impl Into<String>) -> Self {
        EngineConfig {
            data_dir: data_dir.into(),
            client_name: client_name.into(),
            reconnect_caps: Default::default(),
            extra_ca_pem: None,
        }
    }
}

struct Active {
    shared: Arc<Shared>,
    cmds: mpsc::UnboundedSender<Cmd>,
    state: watch::Receiver<ConnState>,
    task: tokio::task::JoinHandle<()>,
    db_dir: PathBuf,
}

pub struct Engine {
    cfg: EngineConfig,
    secrets: Arc<dyn SecretStore>,
    notifier: Arc<dyn Notifier>,
    events: broadcast::Sender<AppEvent>,
    active: Mutex<Option<Active>>,
    network: Mutex<Arc<dyn NetworkMonitor>>,
    tls: Result<Arc<rustls::ClientConfig>, String>,
    /// Shared with the socket task, which hides notification contents while the app is locked.
    lock: Arc<Mutex<app_lock::LockRuntime>>,
    /// Whether the app's window is in front (shared with the socket task: no popup for what it shows).
    foreground: Arc<std::sync::atomic::AtomicBool>,
    /// The UI's language and money format, for native notifications (shared with the socket task).
    display: crate::display::SharedStyle,
}

fn slug(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect()
}

/// A message this device is sending, as shown until the hub has it (no id or seq yet).
fn local_echo(room: RoomId, cmid: &str, sender: UserSummary, text: &str) -> Message {
    Message {
        id: 0,
        room,
        seq: 0,
        client_msg_id: cmid.to_string(),
        sender,
        text: text.to_string(),
        mentions: vec![],
        sent_at: now_ms(),
        edited_at: None,
        deleted: false,
        reactions: vec![],
        card: None,
        attachment: None,
    }
}

fn random_id(prefix: &str) -> String {
    let s: String = rand::thread_rng().sample_iter(&Alphanumeric).take(20).map(char::from).collect();
    format!("{prefix}{s}")
}

impl Engine {
    pub fn new(cfg: EngineConfig, secrets: Arc<dyn SecretStore>, notifier: Arc<dyn Notifier>) -> Engine {
        crate::install_crypto();
        let (events, _) = broadcast::channel(1024);
        let tls = crate::tls::client_config(cfg.extra_ca_pem.as_deref()).map_err(|e| e.to_string());
        let network = Mutex::new(netwatch::platform());
        // In front until the shell says otherwise (a start at login hides the window at once).
        let foreground = Arc::new(std::sync::atomic::AtomicBool::new(true));
        Engine {
            cfg,
            secrets,
            notifier,
            events,
            active: Mutex::new(None),
            network,
            tls,
            lock: Default::default(),
            foreground,
            display: Default::default(),
        }
    }

    /// The TLS trust every connection uses (an unusable extra CA is reported at each sign-in).
    fn api(&self, server: &str) -> Result<Api, Error> {
        match &self.tls {
            Ok(tls) => Api::new(server, tls),
            Err(e) => Err(Error::InvalidInput(e.clone())),
        }
    }

    /// Live updates for the UI.
    pub fn events(&self) -> broadcast::Receiver<AppEvent> {
        self.events.subscribe()
    }

    /// Where the engine learns that the network went down or came back (the platform's by default; the
    /// next sign-in or restore follows it).
    pub fn set_network_monitor(&self, monitor: Arc<dyn NetworkMonitor>) {
        *self.network.lock().unwrap_or_else(|e| e.into_inner()) = monitor;
    }

    pub fn secret_store_kind(&self) -> &'static str {
        self.secrets.kind()
    }

    fn db_dir(&self, server: &str, user: i64) -> PathBuf {
        self.cfg.data_dir.join("accounts").join(format!("{}-{user}", slug(server)))
    }

    fn with<T>(&self, f: impl FnOnce(&Active) -> Result<T, Error>) -> Result<T, Error> {
        let a = self.active.lock().unwrap_or_else(|e| e.into_inner());
        match a.as_ref() {
            Some(a) => f(a),
            None => Err(Error::NotSignedIn),
        }
    }

    /// The cache, for the UI's reads: refused while the app lock is locked.
    fn store(&self) -> Result<Arc<Store>, Error> {
        self.check_unlocked()?;
        self.with(|a| Ok(a.shared.store.clone()))
    }

    fn start(
        &self,
        server: &str,
        user: UserSummary,
        refresh: String,
        first: Option<&crate::api::Tokens>,
    ) -> Result<SessionInfo, Error> {
        let db_dir = self.db_dir(server, user.id);
        let store = Arc::new(cache_key::open_cache(self.secrets.as_ref(), &db_dir, user.id)?);
        store.set_meta("server", server)?;
        store.set_meta("user", &serde_json::to_string(&user).unwrap_or_default())?;
        let (state_tx, state_rx) = watch::channel(ConnState::Offline { since: None });
        let shared = Arc::new(Shared {
            api: self.api(server)?,
            store,
            user: user.clone(),
            secrets: self.secrets.clone(),
            notifier: self.notifier.clone(),
            events: self.events.clone(),
            state: state_tx,
            client_name: self.cfg.client_name.clone(),
            reconnect_caps: self.cfg.reconnect_caps,
            tokens: Mutex::new(TokenState::new(refresh)),
            refresh_gate: Default::default(),
            typing: Mutex::new(Default::default()),
            focused_room: Mutex::new(None),
            pages_fetched: Default::default(),
            cache_account: cache_key::cache_account(&db_dir),
            lock: self.lock.clone(),
            foreground: self.foreground.clone(),
            display: self.display.clone(),
            files: Default::default(),
        });
        if let Some(t) = first {
            shared.install_tokens(t)?;
        }
        let (cmds, rx) = mpsc::unbounded_channel();
        let net = self.network.lock().unwrap_or_else(|e| e.into_inner()).watch();
        let task = tokio::spawn(sync::run(shared.clone(), rx, net));
        tokio::spawn(sync::files::run(shared.clone(), cmds.clone()));
        let mut a = self.active.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = a.take() {
            let _ = old.cmds.send(Cmd::Shutdown);
        }
        *a = Some(Active { shared, cmds, state: state_rx, task, db_dir });
        drop(a);
        let _ = self.events.send(AppEvent::Changed { changes: vec![Change::Session] });
        Ok(SessionInfo {
            server: server.to_string(),
            user,
            secret_store: self.secrets.kind().to_string(),
            limits: None,
            must_enrol_two_factor: first.is_some_and(|t| t.must_enrol_two_factor),
        })
    }

    pub async fn demo_info(&self, server: &str) -> Result<DemoInfo, Error> {
        self.api(server)?.demo_info().await
    }

    /// Resumes the session kept in the keychain (works offline: the cache is shown at once).
    pub fn restore(&self) -> Result<Option<SessionInfo>, Error> {
        if let Some(s) = self.session() {
            return Ok(Some(s));
        }
        match self.secrets.load()? {
            Some(s) => {
                let user = UserSummary { id: s.user_id, username: s.username, display_name: s.display_name };
                self.start(&s.server, user, s.refresh_token, None).map(Some)
            }
            None => Ok(None),
        }
    }

    pub fn session(&self) -> Option<SessionInfo> {
        self.with(|a| {
            let limits = a.shared.store.limits().ok().flatten();
            Ok(SessionInfo {
                server: a.shared.api.base.clone(),
                user: a.shared.user.clone(),
                secret_store: self.secrets.kind().to_string(),
                limits,
                must_enrol_two_factor: false,
            })
        })
        .ok()
    }

    /// Signs out: revokes the refresh token (when online), forgets the keychain entry, and optionally
    /// deletes the local cache.
    pub async fn sign_out(&self, wipe: bool) -> Result<(), Error> {
        let active = self.active.lock().unwrap_or_else(|e| e.into_inner()).take();
        let Some(a) = active else { return Ok(()) };
        let _ = a.cmds.send(Cmd::Shutdown);
        // The socket task ends before the hub hears of the sign-out: the hub closes a revoked session's
        // sockets (4010), and a task still running would take that close for "signed out elsewhere" and
        // wipe the cache the user asked to keep.
        let _ = tokio::time::timeout(Duration::from_secs(5), a.task).await;
        let refresh = a.shared.tokens.lock().unwrap_or_else(|e| e.into_inner()).refresh.clone();
        let _ = tokio::time::timeout(Duration::from_secs(5), a.shared.api.logout(&refresh)).await;
        self.secrets.clear()?;
        let db_dir = a.db_dir.clone();
        drop(a.shared);
        if wipe {
            std::fs::remove_dir_all(&db_dir)
                .map_err(|e| Error::Storage(format!("could not delete the local cache: {e}")))?;
            self.secrets.delete_cache_key(&cache_key::cache_account(&db_dir))?;
        }
        let _ = self.events.send(AppEvent::Conn { conn: ConnState::Offline { since: None } });
        let _ = self.events.send(AppEvent::Changed { changes: vec![Change::Session] });
        Ok(())
    }

    pub fn conn_state(&self) -> ConnState {
        self.with(|a| Ok(a.state.borrow().clone())).unwrap_or(ConnState::Offline { since: None })
    }

    /// A watch on the connection state (for tests and the tray).
    pub fn conn_watch(&self) -> Option<watch::Receiver<ConnState>> {
        self.with(|a| Ok(a.state.clone())).ok()
    }

    /// The UI's retry button and OS network-up events.
    pub fn reconnect_now(&self) -> Result<(), Error> {
        self.with(|a| {
            let _ = a.cmds.send(Cmd::ReconnectNow);
            Ok(())
        })
    }

    /// Background apps back off longer (cap 120 s instead of 10 s); coming back to the front retries at once
    /// when the last attempt is older than the foreground cap.
    pub fn set_background(&self, background: bool) {
        self.foreground.store(!background, std::sync::atomic::Ordering::Relaxed);
        self.lock_on_return(background);
        let _ = self.with(|a| {
            let _ = a.cmds.send(Cmd::Background(background));
            Ok(())
        });
    }

    /// The UI's language and how it writes money: native notifications say amounts as the app's screens
    /// do, and the engine's own texts are in that language. A style that is not valid changes nothing.
    pub fn set_display(&self, style: crate::display::DisplayStyle) -> Result<(), Error> {
        style.validate().map_err(Error::InvalidInput)?;
        *self.display.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(style));
        Ok(())
    }

    pub fn set_focused_room(&self, room: Option<RoomId>) {
        let _ = self.with(|a| {
            *a.shared.focused_room.lock().unwrap_or_else(|e| e.into_inner()) = room;
            Ok(())
        });
    }

    pub(crate) async fn request(
        &self,
        make: impl FnOnce(ReqId) -> ClientFrame + Send + 'static,
    ) -> Result<Option<AckData>, Error> {
        let (tx, rx) = oneshot::channel();
        self.with(|a| a.cmds.send(Cmd::Request(Box::new(make), tx)).map_err(|_| Error::Offline))?;
        match tokio::time::timeout(sync::ACK_TIMEOUT + Duration::from_secs(1), rx).await {
            Ok(Ok(r)) => r,
            _ => Err(Error::Offline),
        }
    }

    fn kick(&self) {
        let _ = self.with(|a| {
            let _ = a.cmds.send(Cmd::Kick);
            Ok(())
        });
    }

    fn changed(&self, changes: Vec<Change>) {
        let _ = self.events.send(AppEvent::Changed { changes });
    }

    fn outbox_update(&self, update: OutboxUpdate) {
        let _ = self.events.send(AppEvent::Outbox { update });
    }

    /// Queues an action and tells the UI (the outbox list grows without being read again) before the
    /// flusher can say it is being sent.
    fn enqueue(
        &self,
        store: &Store,
        action: &OutboxAction,
        expires_at: Option<i64>,
        summary: &str,
        echo: Echo<'_>,
    ) -> Result<i64, Error> {
        store.enqueue(action, expires_at, summary, echo, |id| {
            if let Some(item) = store.outbox_item(id)? {
                self.outbox_update(OutboxUpdate::Queued { item });
            }
            Ok(())
        })
    }

    // ---- reads ------------------------------------------------------------------------------------------

    pub fn balances(&self) -> Result<Vec<BalanceView>, Error> {
        self.store()?.balances()
    }
    pub fn transactions(&self, f: &TxFilter, cursor: Option<&TxCursor>, limit: u32) -> Result<TxPage, Error> {
        self.store()?.transactions(f, cursor, limit)
    }
    pub fn balance_history(&self, currency: &str, f: &TxFilter) -> Result<Vec<BalancePoint>, Error> {
        self.store()?.balance_history(currency, f)
    }
    pub fn spending_by_counterparty(&self, f: &TxFilter) -> Result<Vec<CounterpartySpend>, Error> {
        self.store()?.spending_by_counterparty(f)
    }
    pub fn export_csv(&self, f: &TxFilter) -> Result<String, Error> {
        self.store()?.export_csv(f)
    }
    pub fn transfers_open(&self) -> Result<Vec<TransferView>, Error> {
        self.store()?.transfers_open()
    }
    pub fn contacts(&self) -> Result<Vec<UserSummary>, Error> {
        self.store()?.contacts()
    }
    pub fn outbox(&self) -> Result<Vec<OutboxItem>, Error> {
        self.store()?.outbox_items()
    }
    pub fn notifications(&self, before: Option<NotificationId>, limit: u32) -> Result<Vec<Notification>, Error> {
        self.store()?.notifications(before, limit)
    }
    /// Where one of the user's transfers stands, by its idempotency key: queued, in flight, completed,
    /// failed or not sent (what the Send screen follows). None: no such transfer on this device.
    pub fn transfer_status(&self, key: &str) -> Result<Option<TransferView>, Error> {
        self.store()?.transfer_by_key(key)
    }

    /// The user's own limits and what is left of today's.
    pub fn limits(&self) -> Result<LimitsView, Error> {
        let store = self.store()?;
        let limits = store.limits()?;
        let sent_today = store.sent_today()?;
        let mut currencies: Vec<Currency> = store.balances()?.into_iter().map(|b| b.balance.currency).collect();
        currencies.extend(sent_today.iter().map(|m| m.currency));
        currencies.sort();
        currencies.dedup();
        let remaining_today = match &limits {
            Some(l) => currencies
                .into_iter()
                .map(|c| {
                    let sent = sent_today.iter().find(|m| m.currency == c).map(|m| m.minor).unwrap_or(0);
                    let daily = tally_protocol::limit_in(l.transfer_daily_max, c);
                    Money::new(daily.saturating_sub(sent).max(0), c)
                })
                .collect(),
            None => vec![],
        };
        Ok(LimitsView {
            single_max: limits.as_ref().map(|l| l.transfer_single_max),
            daily_max: limits.as_ref().map(|l| l.transfer_daily_max),
            sent_today,
            remaining_today,
        })
    }

    /// How much of the whole history is on this device.
    pub fn sync_progress(&self) -> Result<SyncProgress, Error> {
        self.store()?.sync_progress()
    }
    /// History pages this engine fetched since it started (backfill and owed changes).
    pub fn history_pages_fetched(&self) -> Result<u64, Error> {
        self.with(|a| Ok(a.shared.pages_fetched.load(std::sync::atomic::Ordering::Relaxed)))
    }
    pub fn unread_counts(&self) -> Result<UnreadCounts, Error> {
        self.store()?.unread_counts()
    }
    pub fn search(&self, q: &str) -> Result<SearchResults, Error> {
        self.store()?.search(q)
    }
    /// Messages of one room matching `q`, newest first (at most 50), from this device's cache.
    pub fn search_room(&self, room: RoomId, q: &str) -> Result<Vec<MessageView>, Error> {
        self.store()?.search_room(room, q)
    }
    pub fn prefs(&self) -> Result<Prefs, Error> {
        self.store()?.prefs()
    }
    /// Holds native notifications back for `minutes` (0 resumes them). Returns the prefs as they are now.
    pub fn pause_notifications(&self, minutes: u32) -> Result<Prefs, Error> {
        if minutes > 7 * 24 * 60 {
            return Err(Error::InvalidInput("notifications can be paused for at most a week".into()));
        }
        let store = self.store()?;
        let mut p = store.prefs()?;
        p.notifications_paused_until = (minutes > 0).then(|| crate::store::now_ms() + i64::from(minutes) * 60_000);
        store.set_prefs(&p)?;
        self.changed(vec![Change::Prefs]);
        Ok(p)
    }

    pub fn set_prefs(&self, p: &Prefs) -> Result<(), Error> {
        if p.transfer_expiry_secs < 30 || p.transfer_expiry_secs > 24 * 3600 {
            return Err(Error::InvalidInput("offline transfer expiry must be between 30 seconds and 24 hours".into()));
        }
        if !(50..=20_000).contains(&p.file_cache_mb) {
            return Err(Error::InvalidInput("keep between 50 MB and 20 GB of files for offline use".into()));
        }
        let store = self.store()?;
        let before = store.prefs()?;
        store.set_prefs(p)?;
        if p.file_cache_mb < before.file_cache_mb {
            store.trim_files(u64::from(p.file_cache_mb) * 1024 * 1024)?;
        }
        if before.keep_chat_history != p.keep_chat_history {
            // Rooms that stopped at the old cap download on to the new one.
            let cap = sync::room_cap(p);
            if store.reopen_room_parts(cap)? > 0 {
                self.changed(vec![Change::Sync]);
                self.kick();
            }
        }
        Ok(())
    }

    pub fn rooms(&self) -> Result<Vec<RoomView>, Error> {
        let (store, shared) = self.with(|a| Ok((a.shared.store.clone(), a.shared.clone())))?;
        store.rooms(&|r| shared.typing_in(r))
    }

    /// Messages of a room, oldest first. When the cache has fewer than `limit` older messages and the
    /// hub is reachable, older history is fetched first.
    pub async fn messages(&self, room: RoomId, before_seq: Option<u64>, limit: u32) -> Result<Vec<MessageView>, Error> {
        let store = self.store()?;
        let before = before_seq.map(|s| s as i64);
        let cached = store.messages(room, before, limit)?;
        let needs_more = before_seq.is_some() && (cached.len() as u32) < limit;
        if needs_more && matches!(self.conn_state(), ConnState::Live { .. }) {
            let oldest = store.oldest_seq(room)?;
            let r = self
                .request(move |id| ClientFrame::History {
                    id,
                    channel: Channel::Room(room),
                    before: oldest,
                    limit: limit.min(MAX_HISTORY_PAGE),
                })
                .await;
            if let Ok(Some(AckData::History { events, .. })) = r {
                store.upsert_messages(&events)?;
                return store.messages(room, before, limit);
            }
        }
        Ok(cached)
    }

    // ---- actions (through the outbox: they work offline) ------------------------------------------------

    /// Queues a transfer; it is sent when live and dropped (failed, with the reason) if it cannot be sent
    /// before the offline expiry.
    pub fn send_money(&self, req: &SendMoney) -> Result<TransferView, Error> {
        let store = self.store()?;
        let me = self.with(|a| Ok(a.shared.user.clone()))?;
        let to = req.to.trim().to_lowercase();
        if to.is_empty() {
            return Err(Error::InvalidInput("choose who to pay".into()));
        }
        if to == me.username {
            return Err(Error::InvalidInput("you cannot send money to yourself".into()));
        }
        if req.amount.minor <= 0 {
            return Err(Error::InvalidInput("the amount must be more than zero".into()));
        }
        if req.memo.len() > MAX_MEMO_BYTES {
            return Err(Error::InvalidInput(format!("the note is longer than {MAX_MEMO_BYTES} bytes")));
        }
        if let Some(b) = store.balances()?.into_iter().find(|b| b.balance.currency == req.amount.currency) {
            if b.balance.available < req.amount.minor {
                return Err(Error::Hub {
                    code: ErrorCode::InsufficientFunds,
                    message: "not enough money available".into(),
                });
            }
        }
        let key = random_id("tr_");
        let expiry = store.prefs()?.transfer_expiry_secs as i64 * 1000;
        let expires_at = now_ms() + expiry;
        let recipient = store.contacts()?.into_iter().find(|u| u.username == to).unwrap_or(UserSummary {
            id: 0,
            username: to.clone(),
            display_name: to.clone(),
        });
        let now = now_ms();
        let echo = Transfer {
            id: 0,
            from: me,
            to: recipient.clone(),
            amount: req.amount,
            memo: req.memo.clone(),
            status: TransferStatus::Pending,
            progress: 0,
            failure: None,
            idempotency_key: Some(key.clone()),
            created_at: now,
            updated_at: now,
        };
        let action = OutboxAction::Transfer {
            idempotency_key: key.clone(),
            to,
            amount: req.amount,
            memo: req.memo.clone(),
            room: req.room,
        };
        let summary = format!("{} {} to {}", req.amount.minor, req.amount.currency, recipient.display_name);
        let _ = self.enqueue(&store, &action, Some(expires_at), &summary, Echo::Transfer(&echo))?;
        self.changed(vec![Change::Transfers]);
        self.kick();
        store.transfer_by_key(&key)?.ok_or_else(|| Error::Storage("queued transfer vanished".into()))
    }

    pub fn send_message(&self, room: RoomId, text: &str) -> Result<MessageView, Error> {
        let store = self.store()?;
        let me = self.with(|a| Ok(a.shared.user.clone()))?;
        if text.trim().is_empty() {
            return Err(Error::InvalidInput("the message is empty".into()));
        }
        if text.len() > MAX_MESSAGE_BYTES {
            return Err(Error::InvalidInput(format!("messages are limited to {} KiB", MAX_MESSAGE_BYTES / 1024)));
        }
        if store.room(room)?.is_none() {
            return Err(Error::InvalidInput("no such conversation".into()));
        }
        let cmid = random_id("c_");
        let echo = local_echo(room, &cmid, me, text);
        let action = OutboxAction::Message { room, client_msg_id: cmid, text: text.to_string() };
        let id = self.enqueue(&store, &action, None, "message", Echo::Message(&echo))?;
        self.changed(vec![Change::Messages { room }, Change::Rooms]);
        self.kick();
        Ok(MessageView { message: echo, local: LocalState::Pending, outbox_id: Some(id), read_by: vec![], card: None })
    }

    fn queue_room_action(&self, action: OutboxAction) -> Result<(), Error> {
        let store = self.store()?;
        let _ = self.enqueue(&store, &action, None, action.kind().as_str(), Echo::None)?;
        self.kick();
        Ok(())
    }

    pub fn edit_message(&self, room: RoomId, message: MessageId, text: &str) -> Result<(), Error> {
        if text.trim().is_empty() || text.len() > MAX_MESSAGE_BYTES {
            return Err(Error::InvalidInput("the message must be 1 byte to 8 KiB".into()));
        }
        self.queue_room_action(OutboxAction::Edit { room, message, text: text.to_string() })
    }
    pub fn delete_message(&self, room: RoomId, message: MessageId) -> Result<(), Error> {
        self.queue_room_action(OutboxAction::Delete { room, message })
    }
    pub fn react(&self, room: RoomId, message: MessageId, emoji: &str, on: bool) -> Result<(), Error> {
        if emoji.is_empty() || emoji.len() > 32 {
            return Err(Error::InvalidInput("pick an emoji".into()));
        }
        self.queue_room_action(OutboxAction::React { room, message, emoji: emoji.to_string(), on })
    }
    /// Marks a room read locally at once (the badge drops) and tells the hub when live.
    pub fn mark_read(&self, room: RoomId, up_to: u64) -> Result<(), Error> {
        let store = self.store()?;
        if !store.mark_room_read_locally(room, up_to)? {
            return Ok(());
        }
        self.changed(vec![Change::Rooms]);
        self.queue_room_action(OutboxAction::Read { room, up_to })
    }

    pub async fn set_typing(&self, room: RoomId, active: bool) -> Result<(), Error> {
        if !matches!(self.conn_state(), ConnState::Live { .. }) {
            return Ok(()); // typing is ephemeral: nothing to queue
        }
        self.request(move |id| ClientFrame::Typing { id, room, active }).await.map(|_| ())
    }

    pub async fn set_presence(&self, status: PresenceStatus) -> Result<(), Error> {
        self.request(move |id| ClientFrame::PresenceSet { id, status }).await.map(|_| ())
    }

    pub fn mark_notifications_read(&self, ids: &[NotificationId]) -> Result<(), Error> {
        let store = self.store()?;
        if ids.is_empty() {
            return Ok(());
        }
        store.mark_notifications_read_locally(Some(ids))?;
        let _ = self.enqueue(
            &store,
            &OutboxAction::NotificationsRead { ids: ids.to_vec() },
            None,
            "mark read",
            Echo::None,
        )?;
        self.changed(vec![Change::Notifications]);
        self.kick();
        Ok(())
    }

    pub fn mark_all_read(&self) -> Result<(), Error> {
        let store = self.store()?;
        store.mark_notifications_read_locally(None)?;
        let _ =
            self.enqueue(&store, &OutboxAction::NotificationsRead { ids: vec![] }, None, "mark all read", Echo::None)?;
        self.changed(vec![Change::Notifications]);
        self.kick();
        Ok(())
    }

    pub fn retry_outbox(&self, id: i64) -> Result<(), Error> {
        let store = self.store()?;
        let expiry = now_ms() + store.prefs()?.transfer_expiry_secs as i64 * 1000;
        let is_transfer =
            store.outbox_rows()?.iter().any(|r| r.id == id && matches!(r.action, Ok(OutboxAction::Transfer { .. })));
        let expires_at = is_transfer.then_some(expiry);
        let announce = || self.outbox_update(OutboxUpdate::Retrying { id, expires_at });
        if !store.outbox_retry(id, expires_at, announce)? {
            return Err(Error::InvalidInput("nothing to retry".into()));
        }
        self.changed(vec![Change::Transfers, Change::Rooms]);
        self.kick();
        Ok(())
    }

    pub fn discard_outbox(&self, id: i64) -> Result<(), Error> {
        let store = self.store()?;
        // A file being uploaded stops at once.
        self.with(|a| {
            a.shared.files.cancel(id);
            Ok(())
        })?;
        let rooms = store.room_ids()?;
        if store.outbox_discard(id)? {
            self.outbox_update(OutboxUpdate::Discarded { id });
        }
        let mut changes = vec![Change::Transfers, Change::Rooms];
        changes.extend(rooms.into_iter().map(|room| Change::Messages { room }));
        self.changed(changes);
        Ok(())
    }

    /// Needs the hub (rooms are created there); fails with `offline` otherwise.
    pub async fn create_room(&self, kind: RoomKind, name: &str, members: Vec<String>) -> Result<RoomView, Error> {
        let name = name.to_string();
        let r = self.request(move |id| ClientFrame::RoomCreate { id, kind, name, members }).await?;
        match r {
            Some(AckData::Room { room }) => {
                let store = self.store()?;
                store.upsert_room(&room)?;
                self.changed(vec![Change::Rooms]);
                Ok(RoomView { room, unread: 0, last_message: None, presence: None, last_seen: None, typing: vec![] })
            }
            _ => Err(Error::Network("unexpected answer".into())),
        }
    }

    /// Adds `username` to the group `room` (any member may; a direct room takes no one). Needs the hub;
    /// the room as it is now, its members included.
    pub async fn invite_member(&self, room: RoomId, username: &str) -> Result<RoomView, Error> {
        let username = username.trim().to_string();
        if username.is_empty() || username.len() > 64 {
            return Err(Error::InvalidInput("a username of 1-64 characters".into()));
        }
        let r = self.request(move |id| ClientFrame::RoomInvite { id, room, username }).await?;
        self.room_answer(r)
    }

    /// Renames the group `room` (its admins only, as the hub checks). Needs the hub.
    pub async fn rename_room(&self, room: RoomId, name: &str) -> Result<RoomView, Error> {
        let name = name.trim().to_string();
        if name.is_empty() || name.len() > 80 {
            return Err(Error::InvalidInput("a group name of 1-80 bytes".into()));
        }
        let r = self.request(move |id| ClientFrame::RoomRename { id, room, name }).await?;
        self.room_answer(r)
    }

    /// Removes `username` from the group `room` (its admins only, as the hub checks). Needs the hub.
    pub async fn remove_member(&self, room: RoomId, username: &str) -> Result<RoomView, Error> {
        let username = username.to_string();
        let r = self.request(move |id| ClientFrame::RoomRemove { id, room, username }).await?;
        self.room_answer(r)
    }

    /// The user's own choices for `room` (muted: no popups for its messages, mentions still notify;
    /// pinned: first in the list), kept by the hub for all their devices. Needs the hub.
    pub async fn set_room_prefs(&self, room: RoomId, muted: bool, pinned: bool) -> Result<RoomView, Error> {
        let r = self.request(move |id| ClientFrame::RoomPrefs { id, room, muted, pinned }).await?;
        self.room_answer(r)
    }

    /// Keeps the room a room request answered with, and gives it back as the room list shows it.
    fn room_answer(&self, answer: Option<AckData>) -> Result<RoomView, Error> {
        let Some(AckData::Room { room }) = answer else { return Err(Error::Network("unexpected answer".into())) };
        self.store()?.upsert_room(&room)?;
        self.changed(vec![Change::Rooms, Change::Messages { room: room.id }]);
        let rooms = self.rooms()?;
        rooms.into_iter().find(|rv| rv.room.id == room.id).ok_or_else(|| Error::Storage("the room was not kept".into()))
    }

    /// Leaves `room`. Needs the hub. Its history stays in this cache, out of the room list (the hub's
    /// `room_left` event on the user's channel says the same on this user's other devices).
    pub async fn leave_room(&self, room: RoomId) -> Result<(), Error> {
        self.request(move |id| ClientFrame::RoomLeave { id, room }).await?;
        self.store()?.mark_room_left(room)?;
        self.changed(vec![Change::Rooms]);
        Ok(())
    }

    /// Stops the socket task (app exit).
    pub fn shutdown(&self) {
        if let Some(a) = self.active.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = a.cmds.send(Cmd::Shutdown);
        }
    }
}
