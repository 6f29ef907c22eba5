//! Test support: a real hub on a loopback port with a temp data dir, and a small protocol client.
#![allow(dead_code)]
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tally_hub::{Config, Running};
use tally_protocol::*;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const WAIT: Duration = Duration::from_secs(10);

pub struct TestHub {
    pub running: Option<Running>,
    pub dir: tempfile::TempDir,
    /// The PostgreSQL database of this hub when the suite runs against PostgreSQL (TALLY_TEST_PG).
    pub store: Option<String>,
    pub http: reqwest::Client,
    pub admin: String,
    pub base: String,
}

pub fn test_config(dir: &std::path::Path) -> Config {
    let mut cfg = Config::for_dir(dir);
    cfg.transfer_step_ms = 5;
    cfg.jwt_secret = Some("test-secret-test-secret-test-secret-0123".into());
    // Sign-up is closed by default; the suite's users register themselves.
    cfg.registration = Some(tally_hub::store::repo::Registration::Open);
    cfg
}

impl TestHub {
    pub async fn start() -> TestHub {
        Self::start_with(|_| {}).await
    }

    /// A hub on the suite's store: the embedded SQLite file, or a fresh PostgreSQL database when
    /// TALLY_TEST_PG names a server (`scripts/with-postgres.sh` starts one).
    pub async fn start_with(f: impl FnOnce(&mut Config)) -> TestHub {
        let store = match std::env::var("TALLY_TEST_PG") {
            Ok(server) if !server.is_empty() => Some(fresh_database(server).await),
            _ => None,
        };
        Self::start_on(store, f).await
    }

    /// A hub on the embedded SQLite store whatever the suite runs on (tests of the file itself).
    pub async fn start_sqlite_with(f: impl FnOnce(&mut Config)) -> TestHub {
        Self::start_on(None, f).await
    }

    /// A hub on this store (None: SQLite in a fresh data dir; Some: that PostgreSQL database).
    pub async fn start_on(store: Option<String>, f: impl FnOnce(&mut Config)) -> TestHub {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cfg = test_config(dir.path());
        cfg.store = store.clone();
        f(&mut cfg);
        let data_dir = cfg.data_dir.clone();
        let running = tally_hub::start(cfg).await.expect("hub starts");
        let admin = std::fs::read_to_string(data_dir.join("admin.token")).expect("admin token");
        let base = running.base_url();
        TestHub { running: Some(running), dir, store, http: reqwest::Client::new(), admin, base }
    }

    /// Stops the hub (graceful) and starts a new one on the same data dir (new port).
    pub async fn restart_with(&mut self, f: impl FnOnce(&mut Config)) {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
        let mut cfg = test_config(self.dir.path());
        cfg.store = self.store.clone();
        f(&mut cfg);
        let running = tally_hub::start(cfg).await.expect("hub restarts");
        self.base = running.base_url();
        self.running = Some(running);
    }

    pub fn ws_url(&self) -> String {
        format!("{}/v1/ws", self.base.replacen("http", "ws", 1))
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self.http.post(format!("{}{path}", self.base)).json(&body).send().await.expect("http");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Password hashes and checks done so far, read from `/metrics` (`tally_password_hashes_total`).
    pub async fn password_hashes(&self) -> u64 {
        let url = self.running.as_ref().expect("running").metrics_url();
        let text = self.http.get(url).send().await.unwrap().text().await.unwrap();
        text.lines()
            .filter(|l| l.starts_with("tally_password_hashes_total"))
            .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap() as u64)
            .sum()
    }

    pub async fn admin_post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.admin)
            .json(&body)
            .send()
            .await
            .expect("http");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// GET `path` with `token` as the bearer: the status and the JSON body (null if none).
    pub async fn get_as(&self, token: &str, path: &str) -> (u16, Value) {
        let r = self.http.get(format!("{}{path}", self.base)).bearer_auth(token).send().await.expect("http");
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// POST `body` to `path` with `token` as the bearer: the status and the JSON body (null if none).
    pub async fn post_as(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        let r =
            self.http.post(format!("{}{path}", self.base)).bearer_auth(token).json(&body).send().await.expect("http");
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// An operator made by `by` (an admin's session, or the admin token for the first) as a team makes
    /// one, signed in with a TOTP code: their session token.
    pub async fn operator(&self, by: &str, name: &str, role: &str) -> String {
        const PW: &str = "operator pass phrase 42";
        let body = serde_json::json!({"username": name, "password": PW, "role": role});
        let (s, v) = self.post_as(by, "/v1/admin/operators", body).await;
        assert_eq!(s, 200, "{v}");
        let secret = v["totp_secret"].as_str().expect("a TOTP secret");
        let body = serde_json::json!({"username": name, "password": PW, "totp": code_now(secret)});
        let (s, v) = self.post("/v1/operators/sign-in", body).await;
        assert_eq!(s, 200, "{v}");
        v["token"].as_str().expect("a session token").to_string()
    }

    pub async fn register(&self, username: &str) -> Session {
        self.register_in(username, None).await
    }

    pub async fn register_in(&self, username: &str, tenant: Option<&str>) -> Session {
        let mut body =
            json!({"username": username, "password": "correct horse battery", "display_name": username.to_uppercase()});
        if let Some(t) = tenant {
            // Tenants are the operator's to make; this one lets anyone sign up.
            let (s, v) = self.admin_post("/v1/admin/tenants", json!({"name": t, "registration": "open"})).await;
            assert_eq!(s, 200, "tenant {t}: {v}");
            body["tenant"] = json!(t);
        }
        let (status, v) = self.post("/v1/auth/register", body).await;
        assert_eq!(status, 201, "register {username}: {v}");
        Session::from_json(&v)
    }

    pub async fn deposit(&self, username: &str, minor: i64) {
        let (s, v) = self
            .admin_post(
                "/v1/admin/deposit",
                json!({"username": username, "amount": {"minor": minor, "currency": "USD"}, "memo": "top-up"}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
    }

    pub async fn invariants_ok(&self) -> Value {
        let r =
            self.http.get(format!("{}/v1/admin/invariants", self.base)).bearer_auth(&self.admin).send().await.unwrap();
        r.json().await.unwrap()
    }

    pub async fn connect(&self, s: &Session) -> Client {
        Client::connect(&self.ws_url(), &s.access, vec![]).await
    }
}

#[derive(Clone, Debug)]
pub struct Session {
    pub access: String,
    pub refresh: String,
    pub user: UserSummary,
}

impl Session {
    pub fn from_json(v: &Value) -> Session {
        Session {
            access: v["access_token"].as_str().expect("access").to_string(),
            refresh: v["refresh_token"].as_str().expect("refresh").to_string(),
            user: serde_json::from_value(v["user"].clone()).expect("user"),
        }
    }
}

pub type WsStream = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub struct Client {
    pub ws: WsStream,
    pub welcome: Welcome,
    next_id: u64,
    /// Frames received while waiting for something else.
    pub inbox: Vec<ServerFrame>,
}

impl Client {
    pub async fn connect(url: &str, token: &str, subscriptions: Vec<SubscribeSpec>) -> Client {
        let (ws, _) = tokio_tungstenite::connect_async(url).await.expect("ws connect");
        Self::over(ws, token, subscriptions).await
    }

    /// Says `hello` on an open socket (plain or TLS) and waits for `welcome`.
    pub async fn over(mut ws: WsStream, token: &str, subscriptions: Vec<SubscribeSpec>) -> Client {
        let hello = ClientFrame::Hello(Hello {
            v: PROTOCOL_VERSION,
            token: token.into(),
            subscriptions,
            client: Some("test".into()),
        });
        ws.send(WsMessage::text(encode(&hello))).await.expect("send hello");
        let mut c = Client { ws, welcome: dummy_welcome(), next_id: 1, inbox: vec![] };
        match c.next_frame().await {
            ServerFrame::Welcome(w) => c.welcome = w,
            other => panic!("expected welcome, got {other:?}"),
        }
        c
    }

    /// Opens a socket, sends `first` raw, and returns the close code the hub answers with.
    pub async fn close_code_for(url: &str, first: Option<&str>) -> Option<u16> {
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("ws connect");
        if let Some(f) = first {
            ws.send(WsMessage::text(f.to_string())).await.expect("send");
        }
        loop {
            match tokio::time::timeout(WAIT, ws.next()).await {
                Ok(Some(Ok(WsMessage::Close(Some(cf))))) => return Some(cf.code.into()),
                Ok(Some(Ok(_))) => continue,
                _ => return None,
            }
        }
    }

    pub fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub async fn send(&mut self, f: &ClientFrame) {
        self.ws.send(WsMessage::text(encode(f))).await.expect("send");
    }

    pub async fn send_raw(&mut self, s: &str) {
        self.ws.send(WsMessage::text(s.to_string())).await.expect("send");
    }

    /// The next frame from the socket (skipping pings, which it answers).
    pub async fn next_frame(&mut self) -> ServerFrame {
        loop {
            let m = tokio::time::timeout(WAIT, self.ws.next()).await.expect("timed out waiting for a frame");
            match m {
                Some(Ok(WsMessage::Text(t))) => {
                    let f = decode_server(&t).unwrap_or_else(|e| panic!("undecodable frame {e}: {t}"));
                    if let ServerFrame::Ping { ts } = f {
                        self.send(&ClientFrame::Pong { ts }).await;
                        continue;
                    }
                    return f;
                }
                Some(Ok(WsMessage::Close(cf))) => panic!("closed: {cf:?}"),
                Some(Ok(_)) => continue,
                other => panic!("socket ended: {other:?}"),
            }
        }
    }

    /// Like `connect`, but None when the socket cannot be opened or is refused (a hub that just died).
    pub async fn try_connect(url: &str, token: &str) -> Option<Client> {
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.ok()?;
        let hello =
            ClientFrame::Hello(Hello { v: PROTOCOL_VERSION, token: token.into(), subscriptions: vec![], client: None });
        ws.send(WsMessage::text(encode(&hello))).await.ok()?;
        let mut c = Client { ws, welcome: dummy_welcome(), next_id: 1, inbox: vec![] };
        match c.try_next(WAIT).await? {
            ServerFrame::Welcome(w) => c.welcome = w,
            _ => return None,
        }
        Some(c)
    }

    /// The next frame, or None when the socket ended or `wait` passed (answers pings).
    pub async fn try_next(&mut self, wait: Duration) -> Option<ServerFrame> {
        loop {
            match tokio::time::timeout(wait, self.ws.next()).await.ok()?? {
                Ok(WsMessage::Text(t)) => {
                    let f = decode_server(&t).ok()?;
                    if let ServerFrame::Ping { ts } = f {
                        let _ = self.ws.send(WsMessage::text(encode(&ClientFrame::Pong { ts }))).await;
                        continue;
                    }
                    return Some(f);
                }
                Ok(WsMessage::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    /// The next live event on `channel`, or None when the socket ended or `wait` passed.
    pub async fn try_event_on(&mut self, channel: Channel, wait: Duration) -> Option<Event> {
        let is = |f: &ServerFrame| matches!(f, ServerFrame::Event(e) if e.channel == channel);
        if let Some(i) = self.inbox.iter().position(is) {
            if let ServerFrame::Event(e) = self.inbox.remove(i) {
                return Some(e);
            }
        }
        loop {
            match self.try_next(wait).await? {
                ServerFrame::Event(e) if e.channel == channel => return Some(e),
                other => self.inbox.push(other),
            }
        }
    }

    /// A request's answer, or None when the socket ended or `wait` passed.
    pub async fn try_request(&mut self, make: impl FnOnce(u64) -> ClientFrame, wait: Duration) -> Option<ServerFrame> {
        let id = self.id();
        self.ws.send(WsMessage::text(encode(&make(id)))).await.ok()?;
        loop {
            match self.try_next(wait).await? {
                f @ ServerFrame::Ack { id: i, .. } if i == id => return Some(f),
                f @ ServerFrame::Error { id: Some(i), .. } if i == id => return Some(f),
                other => self.inbox.push(other),
            }
        }
    }

    /// Waits for a frame matching `pred` (checking the inbox first); others are kept in the inbox.
    pub async fn wait_for(&mut self, what: &str, pred: impl Fn(&ServerFrame) -> bool) -> ServerFrame {
        if let Some(i) = self.inbox.iter().position(&pred) {
            return self.inbox.remove(i);
        }
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if tokio::time::Instant::now() > deadline {
                panic!("timed out waiting for {what}; inbox: {:?}", self.inbox);
            }
            let f = self.next_frame().await;
            if pred(&f) {
                return f;
            }
            self.inbox.push(f);
        }
    }

    /// Sends a request and returns its `ack` data or `error`.
    pub async fn request(
        &mut self,
        make: impl FnOnce(u64) -> ClientFrame,
    ) -> Result<Option<AckData>, (ErrorCode, String)> {
        let id = self.id();
        let f = make(id);
        self.send(&f).await;
        let reply = self
            .wait_for(
                "reply",
                |f| matches!(f, ServerFrame::Ack { id: i, .. } | ServerFrame::Error { id: Some(i), .. } if *i == id),
            )
            .await;
        match reply {
            ServerFrame::Ack { data, .. } => Ok(data),
            ServerFrame::Error { code, message, .. } => Err((code, message)),
            _ => unreachable!(),
        }
    }

    /// Subscribes and collects replayed events until `subscribed`.
    pub async fn subscribe(
        &mut self,
        channel: Channel,
        since: Option<Position>,
    ) -> Result<(Vec<Event>, ServerFrame), (ErrorCode, String)> {
        let id = self.id();
        self.send(&ClientFrame::Subscribe { id, channel, since }).await;
        let mut replayed = Vec::new();
        loop {
            let f = self.next_frame().await;
            match f {
                ServerFrame::Batch { channel: c, events } if c == channel => replayed.extend(events),
                ServerFrame::Subscribed { id: Some(i), .. } if i == id => return Ok((replayed, f)),
                ServerFrame::Error { id: Some(i), code, message, .. } if i == id => return Err((code, message)),
                other => self.inbox.push(other),
            }
        }
    }

    /// Waits for the next live event on `channel`.
    pub async fn event_on(&mut self, channel: Channel) -> Event {
        match self
            .wait_for(&format!("event on {channel}"), |f| matches!(f, ServerFrame::Event(e) if e.channel == channel))
            .await
        {
            ServerFrame::Event(e) => e,
            _ => unreachable!(),
        }
    }

    pub async fn transfer(&mut self, key: &str, to: &str, minor: i64) -> Result<Transfer, (ErrorCode, String)> {
        let (key, to) = (key.to_string(), to.to_string());
        match self
            .request(|id| ClientFrame::TransferCreate {
                id,
                idempotency_key: key,
                to,
                amount: Money::new(minor, Currency::USD),
                memo: "test".into(),
                expires_at: None,
                room: None,
            })
            .await?
        {
            Some(AckData::Transfer { transfer }) => Ok(transfer),
            other => panic!("unexpected ack {other:?}"),
        }
    }

    /// Reads the close code, draining frames.
    pub async fn closed_with(&mut self) -> Option<u16> {
        loop {
            match tokio::time::timeout(WAIT, self.ws.next()).await {
                Ok(Some(Ok(WsMessage::Close(Some(cf))))) => return Some(cf.code.into()),
                // Still a live client meanwhile: heartbeats are answered, so only the reason under test ends it.
                Ok(Some(Ok(WsMessage::Text(t)))) => {
                    if let Ok(ServerFrame::Ping { ts }) = decode_server(&t) {
                        self.send(&ClientFrame::Pong { ts }).await;
                    }
                }
                Ok(Some(Ok(_))) => continue,
                _ => return None,
            }
        }
    }
}

fn dummy_welcome() -> Welcome {
    Welcome {
        v: 0,
        session_id: String::new(),
        user: UserSummary { id: 0, username: String::new(), display_name: String::new() },
        server_time: 0,
        heartbeat_ms: 0,
        limits: Limits {
            max_frame_bytes: 0,
            max_subscriptions: 0,
            rate_per_sec: 0,
            burst: 0,
            transfer_single_max: 0,
            transfer_daily_max: 0,
            attachment_max_bytes: 0,
            kyc_level: KycLevel::None,
        },
    }
}

/// A new, empty database on the PostgreSQL server at `server` (a URL of its `postgres` database).
pub async fn fresh_database(server: String) -> String {
    let name = format!("t_{}", rand_suffix());
    let url = tokio::task::spawn_blocking(move || {
        let mut c = postgres::Client::connect(&server, postgres::NoTls).expect("the test PostgreSQL server");
        c.batch_execute(&format!("CREATE DATABASE {name}")).expect("create database");
        let base = server.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(server);
        format!("{base}/{name}")
    })
    .await
    .unwrap();
    url
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{}_{}_{}", std::process::id(), nanos, N.fetch_add(1, Ordering::Relaxed))
}

/// The authenticator's code for `secret` (base32) at `unix` seconds: SHA-1, 6 digits, 30 s steps.
pub fn code_at(secret: &str, unix: u64) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.to_string()).to_bytes().unwrap();
    totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes, None, String::new()).unwrap().generate(unix)
}

/// The authenticator's code for `secret` now.
pub fn code_now(secret: &str) -> String {
    code_at(secret, std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs())
}
