//! Test support: a real hub on loopback, a TCP proxy we control (drop, stall/half-open), and engines.
#![allow(dead_code)]
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tally_client::notify::RecordingNotifier;
use tally_client::secrets::MemoryStore;
use tally_client::view::*;
use tally_client::{Engine, EngineConfig};
use tally_hub::{Config, Running};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;

pub const WAIT: Duration = Duration::from_secs(20);

pub fn hub_config(dir: &std::path::Path, addr: SocketAddr) -> Config {
    let mut cfg = Config::for_dir(dir);
    cfg.bind = addr;
    cfg.transfer_step_ms = 20;
    cfg.heartbeat_ms = 500;
    cfg.presence_grace_secs = 1;
    cfg.jwt_secret = Some("client-tests-secret-client-tests-secret-01".into());
    // Sign-up is closed by default; the suites' users register themselves.
    cfg.registration = Some(tally_hub::store::repo::Registration::Open);
    cfg
}

pub struct Hub {
    pub running: Option<Running>,
    pub dir: tempfile::TempDir,
    pub addr: SocketAddr,
    pub admin: String,
    pub http: reqwest::Client,
    pub tweak: fn(&mut Config),
}

impl Hub {
    pub async fn start() -> Hub {
        Self::start_with(|_| {}).await
    }
    pub async fn start_with(tweak: fn(&mut Config)) -> Hub {
        let dir = tempfile::tempdir().unwrap();
        // Bind to port 0 once to learn a free port, then keep using it across restarts.
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = probe.local_addr().unwrap();
        drop(probe);
        let mut cfg = hub_config(dir.path(), addr);
        tweak(&mut cfg);
        let running = tally_hub::start(cfg).await.expect("hub");
        let admin = std::fs::read_to_string(dir.path().join("admin.token")).unwrap();
        Hub { running: Some(running), dir, addr, admin, http: reqwest::Client::new(), tweak }
    }
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
    /// Stops the hub: graceful (clients get a reconnect hint) or abrupt (tasks just vanish).
    pub async fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
    }
    pub async fn start_again(&mut self) {
        let mut cfg = hub_config(self.dir.path(), self.addr);
        (self.tweak)(&mut cfg);
        for _ in 0..50 {
            match tally_hub::start(cfg.clone()).await {
                Ok(r) => {
                    self.running = Some(r);
                    return;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        panic!("hub did not restart on {}", self.addr);
    }
    pub async fn register(&self, name: &str) {
        let r = self
            .http
            .post(format!("{}/v1/auth/register", self.url()))
            .json(&json!({"username": name, "password": "pass-word-123", "display_name": name}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
    }
    pub async fn deposit(&self, name: &str, minor: i64) {
        let r = self
            .http
            .post(format!("{}/v1/admin/deposit", self.url()))
            .bearer_auth(&self.admin)
            .json(&json!({"username": name, "amount": {"minor": minor, "currency": "USD"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
    }
    /// An operator's call (the admin token): its status and answer.
    pub async fn admin_post(&self, path: &str, body: Value) -> (u16, Value) {
        let r =
            self.http.post(format!("{}{path}", self.url())).bearer_auth(&self.admin).json(&body).send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }
    pub async fn admin_get(&self, path: &str) -> Value {
        let r = self.http.get(format!("{}{path}", self.url())).bearer_auth(&self.admin).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
        r.json().await.unwrap()
    }
    /// The operator sets the default tenant's own attachment limits (bytes).
    pub async fn file_limits(&self, max_file: u64, quota: u64) {
        let r = self
            .http
            .post(format!("{}/v1/admin/attachment-limits", self.url()))
            .bearer_auth(&self.admin)
            .json(&json!({"tenant": "default", "max_file_bytes": max_file, "quota_bytes": quota}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
    }
    /// `count` deposits to `name` in one hub transaction (through the ledger, like single deposits).
    pub async fn deposits(&self, name: &str, count: u32, notify: bool) {
        let mut left = count;
        while left > 0 {
            let n = left.min(10_000);
            let r = self
                .http
                .post(format!("{}/v1/admin/deposits", self.url()))
                .bearer_auth(&self.admin)
                .json(&json!({"username": name, "amount": {"minor": 100, "currency": "USD"}, "count": n,
                              "memo": "top-up", "notify": notify}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap_or_default());
            left -= n;
        }
    }
    /// An access token for `name` (password login, as the app does).
    pub async fn access_token(&self, name: &str) -> String {
        let r: Value = self
            .http
            .post(format!("{}/v1/auth/login", self.url()))
            .json(&json!({"username": name, "password": "pass-word-123"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["access_token"].as_str().expect("access token").to_string()
    }
    pub async fn invariants(&self) -> Value {
        self.http
            .get(format!("{}/v1/admin/invariants", self.url()))
            .bearer_auth(&self.admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
    pub fn store(&self) -> tally_hub::store::Store {
        self.running.as_ref().unwrap().hub.store.clone()
    }
    /// The hub's database file, opened read-only beside the running hub (WAL lets a second reader in): the
    /// truth a test compares the app against.
    pub fn db(&self) -> rusqlite::Connection {
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
        rusqlite::Connection::open_with_flags(self.dir.path().join("hub.db"), flags).unwrap()
    }
}

/// A loopback TCP proxy between the app and the hub that a test can break on purpose.
pub struct Proxy {
    pub addr: SocketAddr,
    /// 0 pass, 1 stall (keep sockets open, forward nothing: a half-open link), 2 refuse new connections,
    /// 3 deaf (forward what the app sends, hold back what the hub answers: a lost ack), 4 flaky (pass the
    /// hub's first answer, then drop the connection: a hub that welcomes and dies, over and over).
    mode: Arc<AtomicU8>,
    cut: broadcast::Sender<()>,
    /// Connections accepted (refused ones included): how often the app tried.
    pub accepts: Arc<AtomicUsize>,
}

impl Proxy {
    pub async fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mode = Arc::new(AtomicU8::new(0));
        let (cut, _) = broadcast::channel(4);
        let (m, c) = (mode.clone(), cut.clone());
        let accepts = Arc::new(AtomicUsize::new(0));
        let counted = accepts.clone();
        tokio::spawn(async move {
            loop {
                let Ok((inbound, _)) = listener.accept().await else { return };
                counted.fetch_add(1, Ordering::SeqCst);
                if m.load(Ordering::SeqCst) == 2 {
                    drop(inbound);
                    continue;
                }
                let (m2, mut cut_rx) = (m.clone(), c.subscribe());
                tokio::spawn(async move {
                    let Ok(outbound) = TcpStream::connect(target).await else { return };
                    let (mut ri, mut wi) = inbound.into_split();
                    let (mut ro, mut wo) = outbound.into_split();
                    let m3 = m2.clone();
                    let up = async move {
                        let mut buf = vec![0u8; 16 * 1024];
                        loop {
                            let n = match ri.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => n,
                            };
                            while m2.load(Ordering::SeqCst) == 1 {
                                tokio::time::sleep(Duration::from_millis(20)).await;
                            }
                            if wo.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    };
                    let down = async move {
                        let mut buf = vec![0u8; 16 * 1024];
                        loop {
                            let n = match ro.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => n,
                            };
                            while matches!(m3.load(Ordering::SeqCst), 1 | 3) {
                                tokio::time::sleep(Duration::from_millis(20)).await;
                            }
                            if wi.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                            if m3.load(Ordering::SeqCst) == 4 && buf[..n].windows(9).any(|w| w == b"\"welcome\"") {
                                tokio::time::sleep(Duration::from_millis(50)).await;
                                return;
                            }
                        }
                    };
                    tokio::select! { _ = up => {}, _ = down => {}, _ = cut_rx.recv() => {} }
                });
            }
        });
        Proxy { addr, mode, cut, accepts }
    }
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
    /// Drops every current connection (RST/FIN, like a Wi-Fi switch).
    pub fn cut(&self) {
        let _ = self.cut.send(());
    }
    pub fn stall(&self) {
        self.mode.store(1, Ordering::SeqCst);
    }
    pub fn flaky(&self) {
        self.mode.store(4, Ordering::SeqCst);
    }
    pub fn deafen(&self) {
        self.mode.store(3, Ordering::SeqCst);
    }
    pub fn refuse(&self) {
        self.mode.store(2, Ordering::SeqCst);
    }
    pub fn heal(&self) {
        self.mode.store(0, Ordering::SeqCst);
    }
}

pub struct App {
    pub engine: Engine,
    pub notifier: Arc<RecordingNotifier>,
    pub secrets: Arc<MemoryStore>,
    pub dir: std::path::PathBuf,
}

impl App {
    pub fn new(dir: &std::path::Path) -> App {
        Self::with_parts(dir, Arc::new(MemoryStore::default()), Arc::new(RecordingNotifier::default()))
    }
    pub fn with_parts(dir: &std::path::Path, secrets: Arc<MemoryStore>, notifier: Arc<RecordingNotifier>) -> App {
        Self::with_config(EngineConfig::new(dir, "test"), secrets, notifier)
    }
    pub fn with_config(cfg: EngineConfig, secrets: Arc<MemoryStore>, notifier: Arc<RecordingNotifier>) -> App {
        let dir = cfg.data_dir.clone();
        let engine = Engine::new(cfg, secrets.clone(), notifier.clone());
        App { engine, notifier, secrets, dir }
    }

    pub async fn wait_live(&self) {
        let mut w = self.engine.conn_watch().expect("signed in");
        tokio::time::timeout(WAIT, w.wait_for(|s| matches!(s, ConnState::Live { .. })))
            .await
            .expect("never went live")
            .unwrap();
    }

    pub async fn wait_not_live(&self) -> ConnState {
        let mut w = self.engine.conn_watch().expect("signed in");
        let s = tokio::time::timeout(WAIT, w.wait_for(|s| !matches!(s, ConnState::Live { .. })))
            .await
            .expect("stayed live")
            .unwrap()
            .clone();
        s
    }

    /// Polls a condition on the engine (its store) until true.
    pub async fn until(&self, what: &str, f: impl Fn(&Engine) -> bool) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !f(&self.engine) {
            if tokio::time::Instant::now() > deadline {
                panic!("timed out waiting until {what}");
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub fn usd(&self) -> (i64, i64) {
        self.engine
            .balances()
            .unwrap()
            .into_iter()
            .find(|b| b.balance.currency.as_str() == "USD")
            .map(|b| (b.balance.available, b.balance.pending))
            .unwrap_or((0, 0))
    }

    pub fn shown(&self) -> Vec<tally_client::notify::Native> {
        self.notifier.shown.lock().unwrap().clone()
    }
}

/// Balances (currency, available, pending) and transactions (id, status).
pub type Truth = (Vec<(String, i64, i64)>, Vec<(i64, String)>);

/// The hub's truth for a user: balances and transaction ids/statuses, read from its database.
pub async fn hub_truth(hub: &Hub, user: i64) -> Truth {
    let c = hub.db();
    let mut s =
        c.prepare("SELECT currency, available, pending FROM accounts WHERE user_id = ?1 ORDER BY currency").unwrap();
    let b =
        s.query_map([user], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().collect::<Result<Vec<_>, _>>().unwrap();
    let mut s = c.prepare("SELECT id, status FROM transactions WHERE user_id = ?1 ORDER BY id").unwrap();
    let t = s.query_map([user], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().collect::<Result<Vec<_>, _>>().unwrap();
    (b, t)
}

pub fn app_truth(app: &App) -> Truth {
    let b = app
        .engine
        .balances()
        .unwrap()
        .into_iter()
        .map(|b| (b.balance.currency.to_string(), b.balance.available, b.balance.pending))
        .collect();
    let mut t: Vec<(i64, String)> = Vec::new();
    let mut cursor = None;
    loop {
        let page = app.engine.transactions(&TxFilter::default(), cursor.as_ref(), 500).unwrap();
        t.extend(
            page.rows
                .iter()
                .map(|r| (r.tx.id, serde_json::to_value(r.tx.status).unwrap().as_str().unwrap().to_string())),
        );
        match page.next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    t.sort();
    (b, t)
}

/// A raw protocol connection (the hub's own socket API, as any client speaks it) that pipelines requests:
/// for filling a hub with history quickly through the front door.
pub struct Raw {
    ws: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>,
    next: u64,
}

impl Raw {
    pub async fn connect(hub: &Hub, name: &str) -> Raw {
        use futures_util::SinkExt;
        let token = hub.access_token(name).await;
        let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/v1/ws", hub.addr)).await.unwrap();
        let hello = json!({"type": "hello", "v": 1, "token": token});
        ws.send(tokio_tungstenite::tungstenite::Message::text(hello.to_string())).await.unwrap();
        let mut raw = Raw { ws, next: 0 };
        raw.until(|f| f["type"] == "welcome").await;
        raw
    }
    async fn until(&mut self, f: impl Fn(&Value) -> bool) -> Value {
        use futures_util::StreamExt;
        loop {
            let m = tokio::time::timeout(WAIT, self.ws.next()).await.expect("hub answered").unwrap().unwrap();
            if let tokio_tungstenite::tungstenite::Message::Text(t) = m {
                let v: Value = serde_json::from_str(&t).unwrap();
                if f(&v) {
                    return v;
                }
            }
        }
    }
    /// Sends one request and waits for its ack.
    pub async fn request(&mut self, mut frame: Value) -> Value {
        use futures_util::SinkExt;
        self.next += 1;
        let id = self.next;
        frame["id"] = json!(id);
        self.ws.send(tokio_tungstenite::tungstenite::Message::text(frame.to_string())).await.unwrap();
        let v = self.until(|f| f["id"] == json!(id) && (f["type"] == "ack" || f["type"] == "error")).await;
        assert_eq!(v["type"], "ack", "{v}");
        v
    }
    /// Posts `n` messages to a room, up to 100 in flight (each acked before the call returns).
    pub async fn messages(&mut self, room: i64, n: u32, text: &str) {
        use futures_util::SinkExt;
        let (mut sent, mut acked) = (0u32, 0u32);
        while acked < n {
            while sent < n && sent - acked < 100 {
                sent += 1;
                self.next += 1;
                let f = json!({"type": "message_send", "id": self.next, "room": room,
                               "client_msg_id": format!("bulk-{}", self.next), "text": format!("{text} {sent}")});
                self.ws.send(tokio_tungstenite::tungstenite::Message::text(f.to_string())).await.unwrap();
            }
            let v = self.until(|f| f["type"] == "ack" || f["type"] == "error").await;
            assert_eq!(v["type"], "ack", "{v}");
            acked += 1;
        }
    }
}
