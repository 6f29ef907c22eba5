//! What the engine and its socket task share: the store, the API, the token state, the event sender, who
//! is typing, and the commands the engine sends the task.
use super::*;

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
    /// Uploads and thumbnails (`files.rs`).
    pub files: super::files::FileWork,
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
    pub(super) fn emit(&self, e: AppEvent) {
        let _ = self.events.send(e);
    }
    pub(super) fn changed(&self, changes: Vec<Change>) {
        if !changes.is_empty() {
            self.emit(AppEvent::Changed { changes });
        }
    }
    pub(super) fn outbox_update(&self, update: OutboxUpdate) {
        self.emit(AppEvent::Outbox { update });
    }
    /// Stops an outbox item (it waits for the user) and tells the UI why.
    pub(super) fn fail_item(&self, id: i64, code: CommandErrorCode, reason: &str) -> Result<(), Error> {
        self.store.outbox_fail(id, code, reason)?;
        self.outbox_update(OutboxUpdate::Failed { id, local: LocalState::Failed { reason: reason.into(), code } });
        Ok(())
    }
    pub(super) fn set_state(&self, s: ConnState) {
        if *self.state.borrow() != s {
            if matches!(s, ConnState::Live { .. }) {
                // Files queued while offline go out now.
                self.files.wake.notify_one();
            }
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

    pub(super) fn raise(&self, notifications: &[Notification], messages: &[Message]) {
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
                    let (title, body, text) = (n.title.clone(), n.body.clone(), n.text.clone());
                    self.emit(AppEvent::Toast { kind: n.kind, title, body, text })
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "notification"),
            }
        }
        // A payment's or a request's card raises nothing of its own: the money's notification says it.
        for m in messages.iter().filter(|m| m.card.is_none()) {
            if let Err(e) = r.message(m) {
                tracing::warn!(error = %e, "message notification");
            }
        }
    }
}
