//! Several hubs on one PostgreSQL database, written to at once, and (with a Redis each test starts)
//! delivering to each other's subscribers. Run by `make test-postgres`, which starts the PostgreSQL
//! server; without TALLY_TEST_PG these say they were skipped.
mod common;
use common::*;
use rand::{Rng, SeedableRng};
use std::collections::HashSet;
use tally_protocol::*;

const USERS: [&str; 6] = ["ada", "bo", "cy", "di", "ed", "flo"];
const START: i64 = 10_000;

async fn three_hubs() -> Option<Vec<TestHub>> {
    three_hubs_with(None).await
}

/// Three hubs on one fresh database, and on `broker` when given.
async fn three_hubs_with(broker: Option<String>) -> Option<Vec<TestHub>> {
    let server = match std::env::var("TALLY_TEST_PG") {
        Ok(s) if !s.is_empty() => s,
        _ => {
            eprintln!("SKIPPED: needs TALLY_TEST_PG (make test-postgres)");
            return None;
        }
    };
    let db = fresh_database(server).await;
    let mut hubs: Vec<TestHub> = Vec::new();
    for _ in 0..3 {
        // A transfer advances only every 30 ms, so hubs keep processing while others write. The hubs
        // share one blob directory (the first hub's), as a cluster shares one network file system.
        let broker = broker.clone();
        let blobs = hubs.first().map(|h| h.dir.path().join("blobs"));
        hubs.push(
            TestHub::start_on(Some(db.clone()), move |c| {
                c.transfer_step_ms = 30;
                c.broker = broker;
                if blobs.is_some() {
                    c.blob_dir = blobs;
                }
            })
            .await,
        );
    }
    Some(hubs)
}

/// Every user's USD balance (available, pending) as the database has it.
async fn balances(hub: &TestHub, ids: &[UserId]) -> Vec<(i64, i64)> {
    let store = hub.running.as_ref().unwrap().hub.store.clone();
    let mut out = Vec::new();
    for &id in ids {
        let b = store.read(move |c| tally_hub::ledger::balance(c, id, Currency::USD)).await.unwrap();
        out.push((b.available, b.pending));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_of_transfers_through_three_hubs_keeps_the_ledger_exact() {
    let Some(hubs) = three_hubs().await else { return };
    let mut sessions = Vec::new();
    for u in USERS {
        sessions.push(hubs[0].register(u).await);
        hubs[0].deposit(u, START).await;
    }
    let ids: Vec<UserId> = sessions.iter().map(|s| s.user.id).collect();
    // Every user on every hub, each sending 15 random payments (some larger than what is left).
    let seed: u64 = rand::thread_rng().gen();
    eprintln!("storm seed {seed}");
    let mut tasks = Vec::new();
    for (h, hub) in hubs.iter().enumerate() {
        for (u, s) in sessions.iter().enumerate() {
            let mut c = hub.connect(s).await;
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ ((h * 16 + u) as u64));
            tasks.push(tokio::spawn(async move {
                let mut results = Vec::new();
                for i in 0..15 {
                    let to = USERS[(u + rng.gen_range(1..USERS.len())) % USERS.len()];
                    let amount = rng.gen_range(1..4_000);
                    results.push(c.transfer(&format!("h{h}-u{u}-{i}"), to, amount).await);
                }
                results
            }));
        }
    }
    let mut accepted = 0;
    for t in tasks {
        for r in t.await.unwrap() {
            match r {
                Ok(_) => accepted += 1,
                Err((code, msg)) => assert!(
                    matches!(code, ErrorCode::InsufficientFunds | ErrorCode::LimitExceeded),
                    "only a typed refusal is acceptable: {code:?} {msg}"
                ),
            }
        }
    }
    assert!(accepted > 50, "{accepted} of 270 accepted");
    // All of them settle, whichever hub processes them.
    let store = hubs[1].running.as_ref().unwrap().hub.store.clone();
    for _ in 0..300 {
        if store.read(tally_hub::ledger::unfinished_transfers).await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(store.read(tally_hub::ledger::unfinished_transfers).await.unwrap().is_empty(), "transfers left open");
    let b = balances(&hubs[2], &ids).await;
    assert!(b.iter().all(|&(available, pending)| available >= 0 && pending == 0), "{b:?}");
    assert_eq!(b.iter().map(|x| x.0).sum::<i64>(), START * USERS.len() as i64, "money was made or lost: {b:?}");
    for hub in &hubs {
        assert_eq!(hub.invariants_ok().await["ok"], true);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_idempotency_key_sent_to_two_hubs_at_once_makes_one_transfer() {
    let Some(hubs) = three_hubs().await else { return };
    let ann = hubs[0].register("ann").await;
    hubs[0].register("bob").await;
    hubs[0].deposit("ann", 100_000).await;
    let mut ids = HashSet::new();
    for i in 0..20 {
        let mut a = hubs[i % 3].connect(&ann).await;
        let mut b = hubs[(i + 1) % 3].connect(&ann).await;
        let key = format!("same-{i}");
        let (ra, rb) = tokio::join!(a.transfer(&key, "bob", 100), b.transfer(&key, "bob", 100));
        let (ta, tb) = (ra.expect("first hub"), rb.expect("second hub"));
        assert_eq!(ta.id, tb.id, "both hubs answer with the one transfer");
        ids.insert(ta.id);
    }
    assert_eq!(ids.len(), 20);
    let store = hubs[0].running.as_ref().unwrap().hub.store.clone();
    for _ in 0..300 {
        if store.read(tally_hub::ledger::unfinished_transfers).await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let b = balances(&hubs[0], &[ann.user.id]).await;
    assert_eq!(b, vec![(100_000 - 20 * 100, 0)], "each key charged once");
    assert_eq!(hubs[1].invariants_ok().await["ok"], true);
}

/// A Redis server of this test's own (Debian's redis-server, a plain process on a free loopback port, no
/// persistence), so the test can stop and start it.
struct TestRedis {
    port: u16,
    child: Option<std::process::Child>,
    dir: tempfile::TempDir,
}

impl TestRedis {
    fn start() -> TestRedis {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut r = TestRedis { port, child: None, dir: tempfile::tempdir().unwrap() };
        r.restart();
        r
    }
    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
    fn restart(&mut self) {
        self.stop();
        let child = std::process::Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server (scripts/deps.sh test installs it)");
        self.child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("redis-server did not start");
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn subscribed(hub: &TestHub, s: &Session, channels: &[Channel]) -> Client {
    let mut c = hub.connect(s).await;
    for ch in channels {
        c.subscribe(*ch, None).await.expect("subscribe");
    }
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_through_one_hub_reaches_the_payee_on_another_and_chat_spans_hubs() {
    if std::env::var("TALLY_TEST_PG").is_err() {
        return eprintln!("SKIPPED: needs TALLY_TEST_PG (make test-postgres)");
    }
    let redis = TestRedis::start();
    let hubs = three_hubs_with(Some(redis.url())).await.unwrap();
    let ann = hubs[0].register("ann").await;
    let bob = hubs[0].register("bob").await;
    hubs[0].deposit("ann", 10_000).await;
    let mut on_c =
        subscribed(&hubs[2], &bob, &[Channel::Balance(bob.user.id), Channel::Transactions(bob.user.id)]).await;
    let mut on_a = hubs[0].connect(&ann).await;
    let t = on_a.transfer("x-hub-1", "bob", 2_500).await.unwrap();
    // Bob, connected to hub C, sees the payment made on hub A, completed (posted in the job that made it).
    let mut statuses = Vec::new();
    while statuses.last() != Some(&TransferStatus::Completed) {
        if let EventData::Transaction { transaction } = on_c.event_on(Channel::Transactions(bob.user.id)).await.data {
            assert_eq!(transaction.transfer_id, Some(t.id));
            statuses.push(transaction.status);
        }
    }
    assert_eq!(statuses, vec![TransferStatus::Completed], "one line, final");
    // A room whose members are on different hubs.
    let room = match on_a
        .request(|id| ClientFrame::RoomCreate {
            id,
            kind: RoomKind::Direct,
            name: String::new(),
            members: vec!["bob".into()],
        })
        .await
        .unwrap()
    {
        Some(AckData::Room { room }) => room.id,
        other => panic!("{other:?}"),
    };
    let mut bob_b = subscribed(&hubs[1], &bob, &[Channel::Room(room)]).await;
    on_a.request(|id| ClientFrame::MessageSend {
        id,
        room,
        client_msg_id: "m1".into(),
        text: "hi from A".into(),
        attachment: None,
    })
    .await
    .unwrap();
    match bob_b.event_on(Channel::Room(room)).await.data {
        EventData::Message { message } => assert_eq!(message.text, "hi from A"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_or_a_disabled_account_on_one_hub_closes_the_sockets_on_the_others() {
    if std::env::var("TALLY_TEST_PG").is_err() {
        return eprintln!("SKIPPED: needs TALLY_TEST_PG (make test-postgres)");
    }
    let redis = TestRedis::start();
    let hubs = three_hubs_with(Some(redis.url())).await.unwrap();
    let ann = hubs[0].register("ann").await;
    let mut on_b = hubs[1].connect(&ann).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await; // the control subscription is up
    let (status, _) = hubs[0].post("/v1/auth/logout", serde_json::json!({"refresh_token": ann.refresh})).await;
    assert_eq!(status, 204);
    assert_eq!(on_b.closed_with().await, Some(CloseCode::SessionRevoked.code()));

    // A disabled account loses its sockets on every hub, those on operator-minted tokens (no session) too.
    let bea = hubs[0].register("bea").await;
    let (_, v) = hubs[0].admin_post("/v1/admin/tokens", serde_json::json!({"usernames": ["bea"]})).await;
    let minted = v["tokens"][0]["access_token"].as_str().expect("token").to_string();
    let mut minted_on_c = Client::connect(&hubs[2].ws_url(), &minted, vec![]).await;
    let mut session_on_b = hubs[1].connect(&bea).await;
    let body = serde_json::json!({"username": "bea", "active": false});
    assert_eq!(hubs[0].admin_post("/v1/admin/users/active", body).await.0, 200);
    assert_eq!(minted_on_c.closed_with().await, Some(CloseCode::SessionRevoked.code()));
    assert_eq!(session_on_b.closed_with().await, Some(CloseCode::SessionRevoked.code()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_under_load_loses_no_event() {
    if std::env::var("TALLY_TEST_PG").is_err() {
        return eprintln!("SKIPPED: needs TALLY_TEST_PG (make test-postgres)");
    }
    let mut redis = TestRedis::start();
    let hubs = three_hubs_with(Some(redis.url())).await.unwrap();
    let ann = hubs[0].register("ann").await;
    let bob = hubs[0].register("bob").await;
    hubs[0].deposit("ann", 100_000).await;
    let ch = Channel::Transactions(bob.user.id);
    let mut watcher = subscribed(&hubs[2], &bob, &[ch]).await;
    let mut payer = hubs[0].connect(&ann).await;
    for i in 0..40 {
        if i == 15 {
            redis.restart(); // everything published meanwhile is gone from Redis
        }
        payer.transfer(&format!("r-{i}"), "bob", 10).await.expect("the ledger does not need Redis");
    }
    // Every one of bob's 40 lines arrives (each as pending, then processing, then completed), in order
    // and with no seq missing: gaps were read from PostgreSQL.
    let mut seqs = Vec::new();
    let mut completed = std::collections::HashSet::new();
    while completed.len() < 40 {
        let ev = watcher.event_on(ch).await;
        seqs.push(ev.seq);
        if let EventData::Transaction { transaction } = ev.data {
            if transaction.status == TransferStatus::Completed {
                completed.insert(transaction.id);
            }
        }
    }
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "a gap or a duplicate: {seqs:?}");
    // And it was the store that filled them: the hubs saw Redis go and read what they missed.
    let m =
        hubs[2].http.get(hubs[2].running.as_ref().unwrap().metrics_url()).send().await.unwrap().text().await.unwrap();
    let value = |name: &str| -> f64 {
        m.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    assert!(value("tally_broker_reconnects_total") >= 1.0, "{m}");
    eprintln!("gaps filled from the store: {}", value("tally_broker_gaps_filled_total"));
}

/// A hub as its own process (so it can be SIGKILLed), on the shared database and bus.
const METRICS_TOKEN: &str = "cluster-test-metrics-token";

struct HubProcess {
    child: std::process::Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl HubProcess {
    fn start(store: &str, broker: &str) -> HubProcess {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = tempfile::tempdir().unwrap();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_tally-hub"))
            .args(["--bind", &format!("127.0.0.1:{port}"), "--transfer-step-ms", "20", "--heartbeat-ms", "500"])
            .args(["--registration", "open"])
            .args(["--metrics-bind", "127.0.0.1:0", "--metrics-token", METRICS_TOKEN])
            .args(["--jwt-secret", "cluster-test-secret-cluster-test-secret-01"])
            .arg("--data-dir")
            .arg(dir.path())
            .env("TALLY_STORE", store)
            .env("TALLY_BROKER", broker)
            .env("TALLY_LOG", "warn")
            .spawn()
            .expect("tally-hub");
        let h = HubProcess { child, port, dir };
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return h;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        panic!("tally-hub did not start");
    }
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A child process stopped when the test ends, however it ends (a failed assertion included).
struct Stopped(std::process::Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// HAProxy in front of the hubs, as the deployment runs it (scripts/cluster.sh).
fn haproxy(dir: &std::path::Path, hubs: &[HubProcess]) -> (Stopped, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let servers: String =
        hubs.iter().enumerate().map(|(i, h)| format!("  server hub{i} 127.0.0.1:{} check\n", h.port)).collect();
    let cfg = format!(
        "global\n  maxconn 1000\ndefaults\n  mode http\n  timeout connect 1s\n  timeout client 60s\n  timeout server 60s\n  \
         timeout tunnel 1h\n  retries 3\n  option redispatch\nfrontend tally\n  bind 127.0.0.1:{port}\n  default_backend hubs\n\
         backend hubs\n  balance leastconn\n  option httpchk GET /readyz\n  default-server inter 300ms fall 1 rise 1\n{servers}"
    );
    let path = dir.join("haproxy.cfg");
    std::fs::write(&path, cfg).unwrap();
    let child = std::process::Command::new("haproxy")
        .arg("-f")
        .arg(&path)
        .arg("-db")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("haproxy (scripts/deps.sh test installs it)");
    let child = Stopped(child);
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return (child, port);
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    panic!("haproxy did not start");
}

/// How many sockets a hub process holds (its own /metrics).
async fn connections(http: &reqwest::Client, hub: &HubProcess) -> f64 {
    let m = http
        .get(format!("{}/metrics", hub.url()))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    m.lines()
        .find(|l| l.starts_with("tally_connections "))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_killed_under_load_loses_its_clients_to_the_others_and_they_recover_exactly() {
    let Ok(server) = std::env::var("TALLY_TEST_PG") else {
        return eprintln!("SKIPPED: needs TALLY_TEST_PG (make test-postgres)");
    };
    let redis = TestRedis::start();
    let db = fresh_database(server).await;
    let mut hubs: Vec<HubProcess> = (0..3).map(|_| HubProcess::start(&db, &redis.url())).collect();
    let dir = tempfile::tempdir().unwrap();
    let (proxy, port) = haproxy(dir.path(), &hubs);
    let front = format!("ws://127.0.0.1:{port}/v1/ws");
    let http = reqwest::Client::new();
    let register = |name: &'static str| {
        let (http, url) = (http.clone(), format!("http://127.0.0.1:{port}/v1/auth/register"));
        async move {
            let body = serde_json::json!({"username": name, "password": "correct horse battery", "display_name": name});
            let v: serde_json::Value = http.post(url).json(&body).send().await.unwrap().json().await.unwrap();
            Session::from_json(&v)
        }
    };
    let (ann, bob) = (register("ann").await, register("bob").await);
    let admin = std::fs::read_to_string(hubs[0].dir.path().join("admin.token")).unwrap();
    let deposit = serde_json::json!({"username": "ann", "amount": {"minor": 100_000, "currency": "USD"}, "memo": "in"});
    let r = http.post(format!("{}/v1/admin/deposit", hubs[0].url())).bearer_auth(&admin).json(&deposit).send().await;
    assert_eq!(r.unwrap().status().as_u16(), 200);

    let ch = Channel::Transactions(bob.user.id);
    let mut watcher = Client::connect(&front, &bob.access, vec![]).await;
    let (_, sub) = watcher.subscribe(ch, None).await.unwrap();
    let ServerFrame::Subscribed { epoch, mut seq, .. } = sub else { panic!("{sub:?}") };
    // The hub the watcher is on is the one to die.
    let mut victim = None;
    for (i, h) in hubs.iter().enumerate() {
        if connections(&http, h).await >= 1.0 {
            victim = Some(i);
        }
    }
    let victim = victim.expect("the watcher is on one of the hubs");
    // The payer on the same hub: its transfers in flight die with it and must be taken over.
    let mut spare = Vec::new();
    let mut payer = None;
    for _ in 0..8 {
        let c = Client::connect(&front, &ann.access, vec![]).await;
        if connections(&http, &hubs[victim]).await >= 2.0 {
            payer = Some(c);
            break;
        }
        spare.push(c);
    }
    let mut payer = payer.expect("a payer on the victim hub");
    let mut seen = Vec::new();
    for i in 0..30 {
        if i == 10 {
            let _ = hubs[victim].child.kill(); // SIGKILL: no goodbye to anyone
        }
        let key = format!("k-{i}");
        // The payer retries through the proxy with the same key until the hub that answers applies it once.
        let pay = |id| ClientFrame::TransferCreate {
            id,
            idempotency_key: key.clone(),
            to: "bob".into(),
            amount: Money::new(10, Currency::USD),
            memo: "storm".into(),
            expires_at: None,
            room: None,
        };
        for attempt in 0..50 {
            match payer.try_request(pay, std::time::Duration::from_secs(3)).await {
                Some(ServerFrame::Ack { .. }) => break,
                Some(other) => panic!("payment {i} refused: {other:?}"),
                None => {
                    assert!(attempt < 49, "payment {i} never went through");
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    payer = reconnect(&front, &ann.access).await;
                }
            }
        }
    }
    // The watcher's socket died with its hub; it reconnects through the proxy and resumes from its position.
    let mut completed = HashSet::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while completed.len() < 30 && std::time::Instant::now() < deadline {
        match watcher.try_event_on(ch, std::time::Duration::from_secs(2)).await {
            Some(ev) => {
                assert_eq!(ev.seq, seq + 1, "a gap or a duplicate after {seq}");
                seq = ev.seq;
                seen.push(ev.seq);
                if let EventData::Transaction { transaction } = ev.data {
                    if transaction.status == TransferStatus::Completed {
                        completed.insert(transaction.id);
                    }
                }
            }
            None => {
                // Silent: the link is gone (or quiet). Reconnect and subscribe from where it was.
                watcher = reconnect(&front, &bob.access).await;
                let since = Some(Position { epoch: epoch.clone(), seq });
                let (replayed, _) = watcher.subscribe(ch, since).await.unwrap();
                for ev in replayed {
                    assert_eq!(ev.seq, seq + 1, "replay resumes exactly after {seq}");
                    seq = ev.seq;
                    if let EventData::Transaction { transaction } = ev.data {
                        if transaction.status == TransferStatus::Completed {
                            completed.insert(transaction.id);
                        }
                    }
                }
            }
        }
    }
    assert_eq!(completed.len(), 30, "every payment completed and reached bob, including those the dead hub held");
    let inv: serde_json::Value = http
        .get(format!("{}/v1/admin/invariants", hubs[(victim + 1) % 3].url()))
        .bearer_auth(std::fs::read_to_string(hubs[(victim + 1) % 3].dir.path().join("admin.token")).unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(inv["ok"], true, "{inv}");
    drop(proxy);
    hubs.clear();
}

/// Connects through the proxy, retrying while it still routes to a hub that just died.
async fn reconnect(front: &str, token: &str) -> Client {
    for _ in 0..50 {
        if let Some(c) = Client::try_connect(front, token).await {
            return c;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("no hub answered through the proxy");
}

/// A PostgreSQL server of this test's own (so it can be stopped): Debian's binaries as a plain process,
/// as its own user when the tests run as root.
struct TestPostgres {
    dir: std::path::PathBuf,
    port: u16,
    bin: std::path::PathBuf,
}

impl TestPostgres {
    fn pg(&self, tool: &str) -> std::process::Command {
        let exe = self.bin.join(tool);
        let root = std::process::Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false);
        if root {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            std::process::Command::new(exe)
        }
    }

    fn start() -> TestPostgres {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL is installed")
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .max()
            .unwrap();
        let dir = std::env::temp_dir().join(format!("tally-pgstop-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let _ = std::process::Command::new("chown").arg("postgres").arg(&dir).status();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let pg = TestPostgres { dir, port, bin };
        let data = pg.dir.join("data");
        let ok = pg.pg("initdb").arg("-D").arg(&data).args(["--auth=trust", "-U", "tally"]).output().unwrap();
        assert!(ok.status.success(), "initdb: {}", String::from_utf8_lossy(&ok.stderr));
        pg.up();
        pg
    }

    fn up(&self) {
        let opts = format!("-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off", self.port, self.dir.display());
        let ok = self
            .pg("pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-w", "-o", &opts])
            .arg("-l")
            .arg(self.dir.join("log"))
            .arg("start")
            .status()
            .unwrap();
        assert!(ok.success(), "pg_ctl start");
    }

    fn down(&self) {
        let _ = self.pg("pg_ctl").arg("-D").arg(self.dir.join("data")).args(["-m", "fast", "stop"]).status();
    }

    fn url(&self) -> String {
        format!("postgres://tally@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        let _ = self.pg("pg_ctl").arg("-D").arg(self.dir.join("data")).args(["-m", "immediate", "stop"]).status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_going_away_gives_typed_retryable_errors_and_nothing_is_lost_when_it_returns() {
    if std::env::var("TALLY_TEST_PG").is_err() {
        return eprintln!("SKIPPED: needs TALLY_TEST_PG (make test-postgres)");
    }
    let pg = TestPostgres::start();
    let hub = TestHub::start_on(Some(pg.url()), |c| c.transfer_step_ms = 5).await;
    let ann = hub.register("ann").await;
    hub.register("bob").await;
    hub.deposit("ann", 10_000).await;
    let mut c = hub.connect(&ann).await;
    c.transfer("before", "bob", 1_000).await.expect("a payment while the database is up");
    pg.down();
    // Writes are refused with the retryable `unavailable`; the socket stays up.
    let refused = c.transfer("during", "bob", 500).await;
    assert!(matches!(&refused, Err((ErrorCode::Unavailable, _))), "{refused:?}");
    let ping = c.request(|id| ClientFrame::Ping { id, ts: 1 }).await;
    assert!(ping.is_ok(), "the hub still answers: {ping:?}");
    pg.up();
    // The same request (same key) goes through once the database is back; nothing before it was lost.
    let mut after = None;
    for _ in 0..50 {
        match c.transfer("during", "bob", 500).await {
            Ok(t) => {
                after = Some(t);
                break;
            }
            Err((ErrorCode::Unavailable, _)) => tokio::time::sleep(std::time::Duration::from_millis(200)).await,
            Err(other) => panic!("{other:?}"),
        }
    }
    let after = after.expect("writes resume");
    assert_eq!(after.amount.minor, 500);
    let again = c.transfer("during", "bob", 500).await.unwrap();
    assert_eq!(again.id, after.id, "applied once");
    let store = hub.running.as_ref().unwrap().hub.store.clone();
    for _ in 0..100 {
        if store.read(tally_hub::ledger::unfinished_transfers).await.map(|v| v.is_empty()).unwrap_or(false) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let b = balances(&hub, &[ann.user.id]).await;
    assert_eq!(b, vec![(10_000 - 1_000 - 500, 0)]);
    assert_eq!(hub.invariants_ok().await["ok"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sign_ins_spread_over_three_hubs_share_one_budget() {
    if std::env::var("TALLY_TEST_PG").is_err() {
        return eprintln!("SKIPPED: needs TALLY_TEST_PG (make test-postgres)");
    }
    let redis = TestRedis::start();
    let hubs = three_hubs_with(Some(redis.url())).await.unwrap();
    hubs[0].register("erin").await;
    // Five wrong passwords (the limit), each on the next hub: no hub alone saw five.
    for i in 0..5 {
        let (st, _) =
            hubs[i % 3].post("/v1/auth/login", serde_json::json!({"username": "erin", "password": "nope"})).await;
        assert_eq!(st, 401);
    }
    for hub in &hubs {
        let good = serde_json::json!({"username": "erin", "password": "correct horse battery"});
        let (st, v) = hub.post("/v1/auth/login", good).await;
        assert_eq!(st, 429, "every hub refuses now: {v}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_counts_every_device_on_every_hub() {
    let Ok(server) = std::env::var("TALLY_TEST_PG") else {
        return eprintln!("SKIPPED: needs TALLY_TEST_PG (make test-postgres)");
    };
    let redis = TestRedis::start();
    let db = fresh_database(server).await;
    let mut hubs = Vec::new();
    for _ in 0..3 {
        let broker = Some(redis.url());
        hubs.push(
            TestHub::start_on(Some(db.clone()), move |c| {
                c.presence_grace_secs = 1;
                c.broker = broker;
            })
            .await,
        );
    }
    let ann = hubs[0].register("ann").await;
    let bob = hubs[0].register("bob").await;
    let ch = Channel::PresenceUser(ann.user.id);
    let laptop = hubs[0].connect(&ann).await;
    let phone = hubs[1].connect(&ann).await;
    // Bob on the third hub, where ann has no device, sees her online.
    let mut watcher = hubs[2].connect(&bob).await;
    watcher.subscribe(ch, None).await.unwrap();
    let status = |f: &ServerFrame| match f {
        ServerFrame::Ephemeral { channel, data: Ephemeral::Presence { status, .. } } if *channel == ch => Some(*status),
        _ => None,
    };
    let first = watcher.wait_for("presence snapshot", |f| status(f).is_some()).await;
    assert_eq!(status(&first), Some(PresenceStatus::Online));
    // The laptop goes; after the grace she is still online (the phone, on another hub).
    drop(laptop);
    let mut seen = Vec::new();
    while let Some(f) = watcher.try_next(std::time::Duration::from_millis(2_500)).await {
        seen.extend(status(&f));
    }
    assert!(!seen.contains(&PresenceStatus::Offline), "shown offline while her phone is connected: {seen:?}");
    // The phone goes too: offline, from the hub that held it.
    drop(phone);
    let off = watcher.wait_for("offline", |f| status(f) == Some(PresenceStatus::Offline)).await;
    assert_eq!(status(&off), Some(PresenceStatus::Offline));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_has_one_holder_and_passes_on_when_it_runs_out() {
    let Some(hubs) = three_hubs().await else { return };
    let take = |hub: &TestHub, holder: &'static str, ttl: i64| {
        let store = hub.running.as_ref().unwrap().hub.store.clone();
        async move {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
            store.write(move |c, _| c.take_lease("duty", holder, now + ttl, now)).await.unwrap()
        }
    };
    assert!(take(&hubs[0], "a", 400).await, "free: taken");
    assert!(!take(&hubs[1], "b", 400).await, "held by a");
    assert!(take(&hubs[0], "a", 400).await, "a renews");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await; // a stopped renewing (died)
    assert!(take(&hubs[2], "b", 400).await, "ran out: b takes it");
    assert!(!take(&hubs[0], "a", 400).await, "now held by b");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_on_two_hubs_shares_one_rate_budget() {
    let Ok(server) = std::env::var("TALLY_TEST_PG") else {
        return eprintln!("SKIPPED: needs TALLY_TEST_PG (make test-postgres)");
    };
    let redis = TestRedis::start();
    let db = fresh_database(server).await;
    let mut hubs = Vec::new();
    for _ in 0..2 {
        let broker = Some(redis.url());
        hubs.push(
            TestHub::start_on(Some(db.clone()), move |c| {
                c.broker = broker;
                c.user_rate_per_sec = 10; // a burst of 20 for the user, wherever they are connected
                c.rate_per_sec = 1_000;
                c.rate_burst = 1_000;
            })
            .await,
        );
    }
    let ann = hubs[0].register("ann").await;
    let mut a = hubs[0].connect(&ann).await;
    let mut b = hubs[1].connect(&ann).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await; // both hubs know of both devices
                                                                     // Refused frames past the first of each second get no answer (one coalesced error): count acks.
    for i in 0..30 {
        for c in [&mut a, &mut b] {
            let id = c.id();
            c.send(&ClientFrame::Ping { id, ts: i }).await;
        }
    }
    let mut accepted = 0;
    for c in [&mut a, &mut b] {
        while let Some(f) = c.try_next(std::time::Duration::from_millis(500)).await {
            if matches!(f, ServerFrame::Ack { .. }) {
                accepted += 1;
            }
        }
    }
    // Alone each hub would grant its full burst of 20 (40 in all); shared, the user gets about one burst.
    assert!((15..=28).contains(&accepted), "{accepted} of 60 pings accepted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_uploaded_through_one_hub_is_downloaded_through_another() {
    let Some(hubs) = three_hubs().await else { return };
    let (ann, bob) = (hubs[0].register("ann").await, hubs[0].register("bob").await);
    let mut on_a = hubs[0].connect(&ann).await;
    let room = match on_a
        .request(|id| ClientFrame::RoomCreate {
            id,
            kind: RoomKind::Direct,
            name: String::new(),
            members: vec!["bob".into()],
        })
        .await
    {
        Ok(Some(AckData::Room { room })) => room.id,
        other => panic!("{other:?}"),
    };
    let body = b"Flat bills\nRent,1200.00\nPower,84.20\n".to_vec();
    let up = hubs[0]
        .http
        .post(format!("{}/v1/rooms/{room}/attachments?name=bills.csv", hubs[0].base))
        .bearer_auth(&ann.access)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(up.status(), 200);
    let att: Attachment =
        serde_json::from_value(up.json::<serde_json::Value>().await.unwrap()["attachment"].clone()).unwrap();
    assert_eq!(att.mime, "text/plain");
    let down = hubs[2]
        .http
        .get(format!("{}/v1/rooms/{room}/attachments/{}", hubs[2].base, att.id))
        .bearer_auth(&bob.access)
        .send()
        .await
        .unwrap();
    assert_eq!(down.status(), 200);
    assert_eq!(down.bytes().await.unwrap().as_ref(), body.as_slice());
}
