//! End to end: the real app binary (UI embedded) in the real WebView, driven by tauri-driver +
//! WebKitWebDriver, against a real hub, inside a desktop session (Xvfb, D-Bus, gnome-keyring, a
//! notification daemon). A second user is a real sync engine in this process. Screenshots of the main
//! screens land in target/e2e-screenshots/.
//!
//! Needs: `tauri-driver` (cargo install), `WebKitWebDriver` (Debian webkit2gtk-driver) and a display. With
//! TALLY_REQUIRE_DESKTOP=1 (as `make test` sets) missing pieces fail the test; otherwise it is skipped.
use fantoccini::Client;
use std::sync::Arc;
use std::time::Duration;
use tally_client::notify::RecordingNotifier;
use tally_client::secrets::MemoryStore;
use tally_client::view::*;
use tally_client::{Engine, EngineConfig};
use tally_protocol::*;

#[path = "support/slow_link.rs"]
mod slow_link;
use slow_link::SlowLink;
#[path = "support/webview.rs"]
mod webview;
use webview::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_end_to_end() {
    // Bounded: a hung WebView must fail the run, not stall CI.
    tokio::time::timeout(Duration::from_secs(300), scenario())
        .await
        .expect("the end-to-end scenario took over 5 minutes");
}

async fn scenario() {
    tally_client::install_crypto();
    // The hub, on a port we keep across a restart.
    let hub_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = format!("http://127.0.0.1:{port}");
    let hub = tally_hub::start(hub_config(hub_dir.path(), port)).await.expect("hub");
    // The app reaches the hub over a slow link at first, so its history download can be watched.
    let mut link = SlowLink::start(port).await;
    let app_server = format!("http://127.0.0.1:{}", link.port);
    // A long history, made through the hub's own API: the fresh app must download all of it.
    let admin = std::fs::read_to_string(hub_dir.path().join("admin.token")).unwrap();
    let seeded = reqwest::Client::new()
        .post(format!("{server}/v1/admin/deposits"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"username": "alice", "amount": {"minor": 125, "currency": "USD"}, "count": 5000,
                                  "memo": "pocket money", "notify": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(seeded.status().as_u16(), 200);
    let (alice_total, alice_oldest): (i64, String) = {
        let c = hub_db(hub_dir.path());
        let n = c
            .query_row(
                "SELECT COUNT(*) FROM transactions t JOIN users u ON u.id = t.user_id WHERE u.username = 'alice'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let m = c
            .query_row(
                "SELECT t.memo FROM transactions t JOIN users u ON u.id = t.user_id WHERE u.username = 'alice'
                 ORDER BY t.created_at, t.id LIMIT 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        (n, m)
    };
    assert!(alice_total > 5_000);

    // The app, under a test identity: its own data dir and keychain service.
    let app_data = tempfile::tempdir().unwrap();
    let Some((_driver, c)) = open_app(app_data.path(), "e2e").await else { return };

    // 1. Sign in as alice.
    let title = c.title().await.unwrap_or_default();
    let server_field = wait_css(&c, "[data-testid=signin-server]").await;
    assert!(title.contains("Tally") || title.is_empty(), "title {title}");
    server_field.clear().await.unwrap();
    server_field.send_keys(&app_server).await.unwrap();
    wait_css(&c, "[data-testid=signin-username]").await.send_keys("alice").await.unwrap();
    wait_css(&c, "[data-testid=signin-password]").await.send_keys(tally_hub::demo::PASSWORD).await.unwrap();
    shot(&c, "01-sign-in").await;
    click(&c, "[data-testid=signin-submit]").await;
    wait_js(
        &c,
        "a balance",
        "const e = document.querySelector('[data-testid=balance-amount]'); return e && Number(e.dataset.minor) > 0;",
    )
    .await;
    wait_js(
        &c,
        "live",
        "const e = document.querySelector('[data-testid=conn-pill]'); return e && e.dataset.state === 'live';",
    )
    .await;
    watch_the_download(&c, alice_total).await;
    link.fast();
    nav(&c, "home").await;
    shot(&c, "02-home").await;

    // 2. Bob (a real engine) pays alice: it appears without a reload.
    let bob_dir = tempfile::tempdir().unwrap();
    let bob = Engine::new(
        EngineConfig::new(bob_dir.path(), "e2e-bob"),
        Arc::new(MemoryStore::default()),
        Arc::new(RecordingNotifier::default()),
    );
    bob.sign_in(&server, "bob", tally_hub::demo::PASSWORD, None).await.unwrap();
    let mut w = bob.conn_watch().unwrap();
    tokio::time::timeout(WAIT, w.wait_for(|s| matches!(s, ConnState::Live { .. }))).await.unwrap().unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    while bob.contacts().unwrap().is_empty() || bob.balances().unwrap().is_empty() {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let memo = format!("e2e payment {}", std::process::id());
    bob.send_money(&SendMoney {
        to: "alice".into(),
        amount: Money::new(4_200, Currency::USD),
        memo: memo.clone(),
        room: None,
    })
    .unwrap();
    wait_js(&c, "the payment in the feed", &format!("return [...document.querySelectorAll('[data-testid=feed-row]')].some(r => r.textContent.includes({memo:?}));")).await;
    shot(&c, "03-home-payment-received").await;

    // 3. Chat: alice writes to bob; bob receives it.
    nav(&c, "chat").await;
    let dm = bob.rooms().unwrap().into_iter().find(|r| r.room.kind == RoomKind::Direct).expect("demo DM").room.id;
    wait_css(&c, "[data-testid=room-item]").await;
    c.execute("const items=[...document.querySelectorAll('[data-testid=room-item]')]; (items.find(i => i.textContent.includes('Bob Brown')) || items[0]).click();", vec![]).await.unwrap();
    // The pane shows the DM (its seeded first message) before we type into it.
    wait_js(&c, "the DM with Bob open", "return [...document.querySelectorAll('[data-testid=message-text]')].some(e => e.textContent.includes('Pizza tonight'));").await;
    let input = wait_css(&c, "[data-testid=chat-input]").await;
    input.send_keys("hello from the e2e test").await.unwrap();
    click(&c, "[data-testid=chat-send]").await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let msgs = bob.messages(dm, None, 50).await.unwrap();
        if msgs.iter().any(|m| m.message.text == "hello from the e2e test") {
            break;
        }
        if tokio::time::Instant::now() > deadline {
            shot(&c, "failure-chat").await;
            let outbox = c.execute("return document.body.innerText.slice(0, 2000)", vec![]).await.unwrap_or_default();
            panic!(
                "bob never got alice's message; bob has {:?}\nalice sees: {outbox}",
                bob.messages(dm, None, 50).await.unwrap().iter().map(|m| m.message.text.clone()).collect::<Vec<_>>()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Hostile text from bob shows as text.
    let evil = "<img src=x onerror=\"window.__pwned=1\"> <b>bold?</b>";
    bob.send_message(dm, evil).unwrap();
    wait_js(&c, "the hostile message as text", "return [...document.querySelectorAll('[data-testid=message-text]')].some(e => e.textContent.includes('<img src=x'));").await;
    let imgs = c
        .execute(
            "return document.querySelectorAll('[data-testid=message-pane] img, [data-testid=message-pane] b').length;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(imgs, serde_json::json!(0), "message text was rendered as HTML");
    let pwned = c.execute("return window.__pwned === 1;", vec![]).await.unwrap();
    assert_eq!(pwned, serde_json::json!(false));
    shot(&c, "04-chat").await;

    // 4. The whole history is on the device ("History complete" in Settings), then the hub goes away: the
    // app says so and every transaction is browsable offline.
    nav(&c, "settings").await;
    wait_js(&c, "history complete", "return [...document.querySelectorAll('[data-testid=sync-text]')].some(e => e.textContent.includes('History complete'));").await;
    nav(&c, "chat").await;
    let count_sql = "SELECT COUNT(*) FROM transactions t JOIN users u ON u.id = t.user_id WHERE u.username = 'alice'";
    let alice_total: i64 = hub_db(hub_dir.path()).query_row(count_sql, [], |r| r.get(0)).unwrap();
    hub.shutdown().await;
    link.go_down();
    wait_js(
        &c,
        "not live",
        "const e = document.querySelector('[data-testid=conn-pill]'); return e && e.dataset.state !== 'live';",
    )
    .await;
    let queued = "written while offline";
    let input = wait_css(&c, "[data-testid=chat-input]").await;
    input.send_keys(queued).await.unwrap();
    click(&c, "[data-testid=chat-send]").await;
    wait_css(&c, "[data-testid=message-pending]").await;
    shot(&c, "05-chat-offline-pending").await;
    nav(&c, "history").await;
    wait_js(&c, "cached history rows", "return document.querySelectorAll('[data-testid=history-row]').length > 5;")
        .await;
    // History lists every transaction offline.
    let want = alice_total.to_string();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let js = "const e = document.querySelector('[data-testid=history-count]'); return e ? e.textContent : '';";
        let text = c.execute(js, vec![]).await.unwrap_or_default();
        let text = text.as_str().unwrap_or_default().to_string();
        if text.chars().filter(char::is_ascii_digit).collect::<String>() == want {
            break;
        }
        if tokio::time::Instant::now() > deadline {
            shot(&c, "failure-history-count").await;
            panic!("History shows {text:?}, the hub holds {want} transactions");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    shot(&c, "06-history-offline").await;
    // Scrolled to the end, the oldest transaction the hub holds is there.
    // End, as a person would press it in the table, jumps to the oldest row.
    let table = wait_css(&c, "[data-testid=history-table]").await;
    table.send_keys("\u{E010}").await.unwrap(); // WebDriver's End key
    let oldest_js = format!("return [...document.querySelectorAll('[data-testid=history-row]')].some(r => r.textContent.includes({alice_oldest:?}));");
    let deadline = tokio::time::Instant::now() + WAIT;
    while c.execute(&oldest_js, vec![]).await.unwrap_or_default() != serde_json::json!(true) {
        if tokio::time::Instant::now() > deadline {
            shot(&c, "failure-history-oldest").await;
            let rows = c.execute("return [...document.querySelectorAll('[data-testid=history-row]')].slice(-3).map(r => r.textContent).join(' | ');", vec![]).await.unwrap_or_default();
            panic!("the oldest transaction {alice_oldest:?} is not shown at the end; last rows: {rows}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    shot(&c, "06b-history-offline-oldest").await;
    nav(&c, "notifications").await;
    shot(&c, "07-notifications").await;
    nav(&c, "send").await;
    shot(&c, "08-send-offline").await;
    nav(&c, "settings").await;
    shot(&c, "09-settings").await;

    // 5. The hub comes back: the app reconnects on its own and the queued message goes out once.
    let hub = tally_hub::start(hub_config(hub_dir.path(), port)).await.expect("hub restarts");
    link.come_back().await;
    wait_js(
        &c,
        "live again",
        "const e = document.querySelector('[data-testid=conn-pill]'); return e && e.dataset.state === 'live';",
    )
    .await;
    bob.reconnect_now().ok();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let msgs = bob.messages(dm, None, 100).await.unwrap();
        let n = msgs.iter().filter(|m| m.message.text == queued).count();
        if n == 1 {
            break;
        }
        assert!(n <= 1, "queued message delivered twice");
        assert!(tokio::time::Instant::now() < deadline, "queued message never arrived");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    nav(&c, "chat").await;
    shot(&c, "10-chat-flushed").await;
    nav(&c, "home").await;
    shot(&c, "11-home-live").await;
    let _ = c.close().await;
    bob.shutdown();
    hub.shutdown().await;
}

/// "Downloading history — N of M" in History, moving, then in Settings, while the slow link trickles the
/// history in: M counts at least every transaction the hub holds for alice, N stays below it.
async fn watch_the_download(c: &Client, alice_total: i64) {
    const READ: &str = "const t = [...document.querySelectorAll('[data-testid=sync-text]')].map(e => e.textContent)
        .find(s => s.includes('Downloading history') && s.includes(' of '));
        if (!t) return null; const [n, m] = t.split('—')[1].split(' of ');
        const digits = s => Number(s.replace(/[^0-9]/g, '')); return [digits(n), digits(m)];";
    let pair = |v: serde_json::Value| (v[0].as_i64().unwrap(), v[1].as_i64().unwrap());
    nav(c, "history").await;
    let (first, total) = pair(wait_js(c, "\"Downloading history — N of M\" in History", READ).await);
    assert!(total >= alice_total && first < total, "History shows {first} of {total}; alice has {alice_total}");
    shot(c, "02a-history-downloading").await;
    let moving = format!("const r = (() => {{ {READ} }})(); return r && r[0] > {first} ? r : null;");
    let (later, _) = pair(wait_js(c, "the download moving on", &moving).await);
    assert!(later < total, "{later} of {total} is not still downloading");
    nav(c, "settings").await;
    let (in_settings, _) = pair(wait_js(c, "\"Downloading history — N of M\" in Settings", READ).await);
    assert!(in_settings >= later && in_settings < total);
    shot(c, "02b-settings-downloading").await;
}
