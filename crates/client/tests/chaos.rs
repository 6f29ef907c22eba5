//! Chaos: several real engines pay each other and chat while the hub process is SIGKILLed and restarted
//! and their links are cut or stalled through a loopback proxy, many times over, with a printed seed so a
//! failure replays (TALLY_CHAOS_SEED). At the end: the ledger invariant holds, every cache equals the
//! hub's truth, no message is lost or duplicated, and each notification was raised once.
//!
//! The same run once more on the distributed deployment (with TALLY_TEST_PG, `make test-postgres`):
//! three hub processes on one PostgreSQL database with a Redis between them, each engine on its own hub,
//! a random hub SIGKILLed each round.
mod support;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::process::{Child, Command};
use std::time::Duration;
use support::*;
use tally_client::view::*;
use tally_protocol::*;

const USERS: [&str; 4] = ["ana", "ben", "cai", "dee"];

/// Entry point of the hub child process (the test re-executes its own binary with this test selected).
#[test]
#[ignore = "entry point of the chaos test's hub process, not a test by itself"]
fn chaos_hub_process() {
    let (Ok(dir), Ok(addr)) = (std::env::var("TALLY_CHAOS_DIR"), std::env::var("TALLY_CHAOS_ADDR")) else { return };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    rt.block_on(async move {
        let mut cfg = hub_config(std::path::Path::new(&dir), addr.parse().unwrap());
        cfg.transfer_step_ms = 30;
        cfg.store = std::env::var("TALLY_CHAOS_STORE").ok();
        cfg.broker = std::env::var("TALLY_CHAOS_BROKER").ok();
        let _running = tally_hub::start(cfg).await.expect("hub child starts");
        std::future::pending::<()>().await;
    });
}

struct HubProcess {
    child: Option<Child>,
    dir: std::path::PathBuf,
    addr: std::net::SocketAddr,
    /// PostgreSQL and Redis for a hub of the distributed deployment.
    store: Option<(String, String)>,
}

impl HubProcess {
    async fn spawn(&mut self) {
        let child = Command::new(std::env::current_exe().unwrap())
            .args(["--ignored", "--exact", "chaos_hub_process", "--nocapture", "--test-threads=1"])
            .env("TALLY_CHAOS_DIR", &self.dir)
            .env("TALLY_CHAOS_ADDR", self.addr.to_string())
            .envs(
                self.store
                    .iter()
                    .flat_map(|(s, b)| [("TALLY_CHAOS_STORE", s.clone()), ("TALLY_CHAOS_BROKER", b.clone())]),
            )
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn hub");
        self.child = Some(child);
        let url = format!("http://{}/readyz", self.addr);
        for _ in 0..200 {
            if reqwest::get(&url).await.map(|r| r.status().is_success()).unwrap_or(false) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("hub child never became ready");
    }
    fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill").args(["-9", &c.id().to_string()]).status();
            let _ = c.wait();
        }
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

async fn post(url: &str, token: Option<&str>, body: serde_json::Value) -> serde_json::Value {
    let mut r = reqwest::Client::new().post(url).json(&body);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let resp = r.send().await.expect("http");
    assert!(resp.status().is_success(), "{url}: {}", resp.status());
    resp.json().await.unwrap_or(serde_json::Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engines_survive_hub_kills_and_broken_links() {
    let dir = tempfile::tempdir().unwrap();
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let hub = HubProcess { child: None, dir: dir.path().to_path_buf(), addr, store: None };
    chaos(vec![hub], Truth::Sqlite(dir.path().join("hub.db"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engines_survive_hub_kills_and_broken_links_on_three_hubs_with_postgres_and_redis() {
    let Ok(server) = std::env::var("TALLY_TEST_PG") else {
        return eprintln!("SKIPPED: needs TALLY_TEST_PG (make test-postgres)");
    };
    let redis = RedisChild::start();
    let db = fresh_database(&server).await;
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let hubs = dirs
        .iter()
        .map(|d| HubProcess {
            child: None,
            dir: d.path().to_path_buf(),
            addr: std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap(),
            store: Some((db.clone(), redis.url())),
        })
        .collect();
    chaos(hubs, Truth::Postgres(db)).await;
}

/// Where the hubs' truth is read from at the end.
enum Truth {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl Truth {
    /// (balances, transaction ids and statuses) of a user, and how many messages the room holds.
    async fn of(&self, uid: i64, room: RoomId) -> (support::Truth, i64) {
        const BALANCES: &str = "SELECT currency, available, pending FROM accounts WHERE user_id = $1 ORDER BY currency";
        const LINES: &str = "SELECT id, status FROM transactions WHERE user_id = $1 ORDER BY id";
        const MESSAGES: &str = "SELECT COUNT(*) FROM messages WHERE room_id = $1";
        match self {
            Truth::Sqlite(path) => {
                let db = rusqlite::Connection::open(path).unwrap();
                let mut s = db.prepare(BALANCES).unwrap();
                let b = s
                    .query_map([uid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .unwrap()
                    .map(Result::unwrap)
                    .collect();
                let mut s = db.prepare(LINES).unwrap();
                let t = s.query_map([uid], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect();
                let m = db.query_row(MESSAGES, [room], |r| r.get(0)).unwrap();
                ((b, t), m)
            }
            Truth::Postgres(url) => {
                let url = url.clone();
                tokio::task::spawn_blocking(move || {
                    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
                    let b =
                        c.query(BALANCES, &[&uid]).unwrap().iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect();
                    let t = c.query(LINES, &[&uid]).unwrap().iter().map(|r| (r.get(0), r.get(1))).collect();
                    let m = c.query_one(MESSAGES, &[&room]).unwrap().get(0);
                    ((b, t), m)
                })
                .await
                .unwrap()
            }
        }
    }
}

/// A Redis server of the test's own (Debian's redis-server, no persistence).
struct RedisChild(Child, u16);

impl RedisChild {
    fn start() -> RedisChild {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server (scripts/deps.sh test installs it)");
        let r = RedisChild(child, port);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        r
    }
    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.1)
    }
}

impl Drop for RedisChild {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A fresh database on the test PostgreSQL server.
async fn fresh_database(server: &str) -> String {
    let server = server.to_string();
    let name = format!("chaos_{}", std::process::id());
    tokio::task::spawn_blocking(move || {
        let mut c = postgres::Client::connect(&server, postgres::NoTls).unwrap();
        c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        format!("{}/{name}", server.rsplit_once('/').unwrap().0)
    })
    .await
    .unwrap()
}

async fn chaos(mut hubs: Vec<HubProcess>, truth: Truth) {
    let seed: u64 =
        std::env::var("TALLY_CHAOS_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| rand::thread_rng().gen());
    println!("chaos seed {seed} on {} hub(s) (replay with TALLY_CHAOS_SEED={seed})", hubs.len());
    let mut rng = StdRng::seed_from_u64(seed);
    for h in hubs.iter_mut() {
        h.spawn().await;
    }
    let base = format!("http://{}", hubs[0].addr);
    let admin = std::fs::read_to_string(hubs[0].dir.join("admin.token")).unwrap();
    for u in USERS {
        post(
            &format!("{base}/v1/auth/register"),
            None,
            serde_json::json!({"username": u, "password": "pass-word-123"}),
        )
        .await;
        post(
            &format!("{base}/v1/admin/deposit"),
            Some(&admin),
            serde_json::json!({"username": u, "amount": {"minor": 100_000, "currency": "USD"}}),
        )
        .await;
    }
    // Each engine through a proxy of its own to "its" hub (with several hubs they are spread over them).
    let mut proxies = Vec::new();
    let mut apps = Vec::new();
    let mut dirs = Vec::new();
    for (i, u) in USERS.iter().enumerate() {
        let proxy = Proxy::start(hubs[i % hubs.len()].addr).await;
        let d = tempfile::tempdir().unwrap();
        let app = App::new(d.path());
        app.engine.sign_in(&proxy.url(), u, "pass-word-123", None).await.unwrap();
        proxies.push(proxy);
        app.wait_live().await;
        app.until("contacts and balance", |e| e.contacts().unwrap().len() == 3 && !e.balances().unwrap().is_empty())
            .await;
        apps.push(app);
        dirs.push(d);
    }
    let room = apps[0]
        .engine
        .create_room(RoomKind::Group, "Chaos", USERS[1..].iter().map(|s| s.to_string()).collect())
        .await
        .unwrap()
        .room
        .id;
    for a in &apps[1..] {
        a.until("room joined", |e| e.rooms().unwrap().iter().any(|r| r.room.id == room)).await;
    }

    let mut faults = 0;
    let mut sent_messages = 0;
    for round in 0..8 {
        for (i, a) in apps.iter().enumerate() {
            let to = USERS[(i + rng.gen_range(1..4)) % 4];
            let _ = a.engine.send_money(&SendMoney {
                to: to.into(),
                amount: Money::new(rng.gen_range(1..500), Currency::USD),
                memo: format!("r{round}"),
                room: None,
            });
            if a.engine.send_message(room, &format!("{} says hello in round {round}", USERS[i])).is_ok() {
                sent_messages += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(rng.gen_range(50..400))).await;
        match rng.gen_range(0..3) {
            0 => {
                let h = rng.gen_range(0..hubs.len());
                hubs[h].kill9();
                tokio::time::sleep(Duration::from_millis(rng.gen_range(100..600))).await;
                hubs[h].spawn().await;
            }
            1 => proxies.iter().for_each(|p| p.cut()),
            _ => {
                proxies.iter().for_each(|p| p.stall());
                tokio::time::sleep(Duration::from_millis(rng.gen_range(500..2_000))).await;
                proxies.iter().for_each(|p| {
                    p.heal();
                    p.cut()
                });
            }
        }
        faults += 1;
    }
    proxies.iter().for_each(|p| p.heal());
    for a in &apps {
        a.engine.reconnect_now().ok();
    }
    // Everything queued goes out exactly once and every transfer settles.
    for a in &apps {
        a.wait_live().await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let outbox = a.engine.outbox().unwrap();
            let pending = outbox.iter().filter(|o| o.local == LocalState::Pending).count();
            let open = a
                .engine
                .transfers_open()
                .unwrap()
                .iter()
                .filter(|t| !t.transfer.status.is_final() && t.local == LocalState::Sent)
                .count();
            if pending == 0 && open == 0 {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "seed {seed}: outbox/transfers never settled ({pending} pending, {open} open)"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let inv = reqwest::Client::new()
        .get(format!("{base}/v1/admin/invariants"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(inv["ok"], true, "seed {seed}: {inv}");
    // Caches equal the hubs' truth (read from the database itself).
    for (i, a) in apps.iter().enumerate() {
        let uid = i as i64 + 1;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let hub_msgs = loop {
            let ((b, t), m) = truth.of(uid, room).await;
            if app_truth(a) == (b.clone(), t.clone()) {
                break m;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "seed {seed}: {}'s cache differs from the hub:\n{:?}\n{:?}",
                USERS[i],
                app_truth(a),
                (b, t)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        // Messages: all of them, once each, in every member's cache.
        assert_eq!(hub_msgs, sent_messages, "seed {seed}: the hub lost or duplicated messages");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let msgs = a.engine.messages(room, None, 200).await.unwrap();
            let mut ids: Vec<String> = msgs.iter().map(|m| m.message.client_msg_id.clone()).collect();
            let n = ids.len();
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), n, "seed {seed}: duplicate message in {}'s cache", USERS[i]);
            if n as i64 == hub_msgs && msgs.iter().all(|m| m.local == LocalState::Sent) {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "seed {seed}: {} has {n} of {hub_msgs} messages", USERS[i]);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let keys: Vec<String> = a.shown().iter().map(|n| n.key.clone()).collect();
        let mut dedup = keys.clone();
        dedup.sort();
        dedup.dedup();
        assert_eq!(keys.len(), dedup.len(), "seed {seed}: a notification was raised twice for {}", USERS[i]);
    }
    println!(
        "chaos: survived {faults} faults (seed {seed}); {sent_messages} messages, ledger sound, caches equal the hub"
    );
    for a in &apps {
        a.engine.shutdown();
    }
}
