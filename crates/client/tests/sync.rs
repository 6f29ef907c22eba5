mod support;
use std::time::Duration;
use support::*;
use tally_client::secrets::SecretStore;
use tally_client::view::*;
use tally_protocol::*;

async fn signed_in(_hub: &Hub, server: &str, name: &str, dir: &std::path::Path) -> App {
    let app = App::new(dir);
    app.engine.sign_in(server, name, "pass-word-123", None).await.expect("sign in");
    app.wait_live().await;
    app
}

fn unique_keys(app: &App) {
    let keys: Vec<String> = app.shown().iter().map(|n| n.key.clone()).collect();
    let mut dedup = keys.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(keys.len(), dedup.len(), "a notification was raised twice: {keys:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_sign_in_fills_the_cache_and_live_payments_arrive_once() {
    let hub = Hub::start().await;
    hub.register("ava").await;
    hub.register("bo").await;
    hub.deposit("ava", 50_000).await;
    hub.deposit("bo", 50_000).await;
    let dir = tempfile::tempdir().unwrap();
    let ava = signed_in(&hub, &hub.url(), "ava", dir.path()).await;
    ava.until("balance cached", |e| e.balances().map(|b| !b.is_empty()).unwrap_or(false)).await;
    assert_eq!(ava.usd(), (50_000, 0));
    let dir_b = tempfile::tempdir().unwrap();
    let bo = signed_in(&hub, &hub.url(), "bo", dir_b.path()).await;
    bo.until("contacts", |e| e.contacts().map(|c| c.iter().any(|u| u.username == "ava")).unwrap_or(false)).await;
    bo.engine
        .send_money(&SendMoney {
            to: "ava".into(),
            amount: Money::new(1_234, Currency::USD),
            memo: "lunch".into(),
            room: None,
        })
        .unwrap();
    ava.until("payment received", |_| ava.usd() == (51_234, 0)).await;
    bo.until("transfer completed", |e| {
        e.transfers_open().unwrap().iter().any(|t| t.transfer.status == TransferStatus::Completed)
    })
    .await;
    assert_eq!(bo.usd(), (48_766, 0));
    ava.until("payment notification", |_| ava.shown().iter().any(|n| n.title.contains("paid you"))).await;
    // History shows it with the counterparty, searchable offline.
    let page =
        ava.engine.transactions(&TxFilter { search: Some("lunch".into()), ..Default::default() }, None, 10).unwrap();
    assert_eq!(page.rows.len(), 1);
    assert_eq!(page.rows[0].tx.counterparty.as_ref().unwrap().username, "bo");
    assert_eq!(app_truth(&ava), hub_truth(&hub, 1).await);
    unique_keys(&ava);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hub_restart_recovers_missed_events_without_duplicates() {
    let mut hub = Hub::start().await;
    hub.register("cy").await;
    hub.register("di").await;
    hub.deposit("cy", 100_000).await;
    hub.deposit("di", 100_000).await;
    let dir = tempfile::tempdir().unwrap();
    let cy = signed_in(&hub, &hub.url(), "cy", dir.path()).await;
    let dir2 = tempfile::tempdir().unwrap();
    let di = signed_in(&hub, &hub.url(), "di", dir2.path()).await;
    di.until("contacts", |e| !e.contacts().unwrap().is_empty()).await;
    for i in 0..3 {
        di.engine
            .send_money(&SendMoney {
                to: "cy".into(),
                amount: Money::new(100 + i, Currency::USD),
                memo: format!("before {i}"),
                room: None,
            })
            .unwrap();
    }
    cy.until("three payments", |_| cy.usd().0 == 100_303).await;
    hub.stop().await;
    let state = cy.wait_not_live().await;
    assert!(
        matches!(state, ConnState::BackingOff { .. } | ConnState::Connecting | ConnState::Authenticating),
        "{state:?}"
    );
    // Offline: the cache is still there.
    assert_eq!(cy.usd().0, 100_303);
    hub.start_again().await;
    cy.wait_live().await;
    di.wait_live().await;
    for i in 0..5 {
        di.engine
            .send_money(&SendMoney {
                to: "cy".into(),
                amount: Money::new(10, Currency::USD),
                memo: format!("after {i}"),
                room: None,
            })
            .unwrap();
    }
    cy.until("five more", |_| cy.usd().0 == 100_353).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let truth = hub_truth(&hub, 1).await;
        if app_truth(&cy) == truth {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "cache never matched the hub:\n{:?}\n{:?}",
            app_truth(&cy),
            truth
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    unique_keys(&cy);
    let payments = cy.shown().iter().filter(|n| n.title.contains("paid you")).count();
    assert_eq!(payments, 8, "each payment notified exactly once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_links_are_detected_by_heartbeats_and_cut_links_recover() {
    let hub = Hub::start().await;
    hub.register("ed").await;
    hub.register("flo").await;
    hub.deposit("flo", 10_000).await;
    let proxy = Proxy::start(hub.addr).await;
    let dir = tempfile::tempdir().unwrap();
    let ed = signed_in(&hub, &proxy.url(), "ed", dir.path()).await;
    // Stalled link: TCP stays up but nothing flows. Two missed heartbeats (500 ms each) → reconnect.
    proxy.stall();
    let started = std::time::Instant::now();
    ed.wait_not_live().await;
    assert!(started.elapsed() < Duration::from_secs(5), "dead link noticed in {:?}", started.elapsed());
    proxy.heal();
    proxy.cut(); // drop the stalled sockets
    ed.wait_live().await;
    // A payment made while the link is cut arrives after it heals.
    proxy.refuse();
    proxy.cut();
    ed.wait_not_live().await;
    let dir2 = tempfile::tempdir().unwrap();
    let flo = signed_in(&hub, &hub.url(), "flo", dir2.path()).await;
    flo.until("contacts", |e| !e.contacts().unwrap().is_empty()).await;
    flo.engine
        .send_money(&SendMoney {
            to: "ed".into(),
            amount: Money::new(700, Currency::USD),
            memo: "while you were away".into(),
            room: None,
        })
        .unwrap();
    flo.until("sent", |_| flo.usd().0 == 9_300).await;
    proxy.heal();
    ed.engine.reconnect_now().unwrap();
    ed.until("payment replayed", |_| ed.usd().0 == 700).await;
    // The balance and the history line are replayed on two channels: the line may land a moment after the
    // balance (a payment is posted in one job, so both arrive together), never twice and never not at all.
    let truth = hub_truth(&hub, 1).await;
    ed.until("the history line replayed too", |_| app_truth(&ed) == truth).await;
    assert_eq!(app_truth(&ed), truth);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_outbox_survives_restart_and_flushes_once_with_expiry_for_transfers() {
    let hub = Hub::start().await;
    hub.register("gia").await;
    hub.register("hal").await;
    hub.deposit("gia", 10_000).await;
    let proxy = Proxy::start(hub.addr).await;
    let dir = tempfile::tempdir().unwrap();
    let secrets = std::sync::Arc::new(tally_client::secrets::MemoryStore::default());
    let notifier = std::sync::Arc::new(tally_client::notify::RecordingNotifier::default());
    let gia = App::with_parts(dir.path(), secrets.clone(), notifier.clone());
    gia.engine.sign_in(&proxy.url(), "gia", "pass-word-123", None).await.unwrap();
    gia.wait_live().await;
    gia.until("contacts and rooms", |e| !e.contacts().unwrap().is_empty()).await;
    let room = gia.engine.create_room(RoomKind::Direct, "", vec!["hal".into()]).await.unwrap().room.id;
    // Go offline, queue things.
    proxy.refuse();
    proxy.cut();
    gia.wait_not_live().await;
    let mut prefs = gia.engine.prefs().unwrap();
    prefs.transfer_expiry_secs = 30;
    gia.engine.set_prefs(&prefs).unwrap();
    let queued = gia
        .engine
        .send_money(&SendMoney {
            to: "hal".into(),
            amount: Money::new(2_500, Currency::USD),
            memo: "offline rent".into(),
            room: None,
        })
        .unwrap();
    assert_eq!(queued.local, LocalState::Pending);
    assert!(queued.expires_at.is_some());
    for i in 0..3 {
        gia.engine.send_message(room, &format!("offline message {i}")).unwrap();
    }
    let local = gia.engine.messages(room, None, 50).await.unwrap();
    assert_eq!(local.iter().filter(|m| m.local == LocalState::Pending).count(), 3, "local echo shown at once");
    // Restart the app with the outbox full.
    gia.engine.shutdown();
    drop(gia);
    let gia = App::with_parts(dir.path(), secrets, notifier);
    gia.engine.restore().unwrap().expect("session restored from the keychain");
    assert_eq!(gia.engine.outbox().unwrap().len(), 4);
    proxy.heal();
    gia.wait_live().await;
    gia.until("outbox flushed", |e| e.outbox().unwrap().is_empty()).await;
    gia.until("transfer completed", |_| gia.usd() == (7_500, 0)).await;
    let msgs = gia.engine.messages(room, None, 50).await.unwrap();
    let texts: Vec<&str> = msgs.iter().map(|m| m.message.text.as_str()).collect();
    assert_eq!(texts, vec!["offline message 0", "offline message 1", "offline message 2"], "in order, once each");
    assert!(msgs.iter().all(|m| m.local == LocalState::Sent && m.message.id > 0));
    // Hub side: exactly one transfer and three messages.
    let db = hub.db();
    let transfers = db.query_row("SELECT COUNT(*) FROM transfers", [], |r| r.get::<_, i64>(0)).unwrap();
    let messages =
        db.query_row("SELECT COUNT(*) FROM messages WHERE room_id = ?1", [room], |r| r.get::<_, i64>(0)).unwrap();
    assert_eq!((transfers, messages), (1, 3));

    // A transfer that waits past its expiry is not sent; the user sees why and may retry.
    proxy.refuse();
    proxy.cut();
    gia.wait_not_live().await;
    let store_prefs = Prefs { transfer_expiry_secs: 30, ..gia.engine.prefs().unwrap() };
    gia.engine.set_prefs(&store_prefs).unwrap();
    gia.engine
        .send_money(&SendMoney {
            to: "hal".into(),
            amount: Money::new(100, Currency::USD),
            memo: "too late".into(),
            room: None,
        })
        .unwrap();
    // Age the item past its expiry instead of waiting 30 s.
    {
        let dbs: Vec<_> = std::fs::read_dir(dir.path().join("accounts")).unwrap().collect();
        let account = dbs[0].as_ref().unwrap();
        let db = account.path().join("cache.db");
        // The cache is encrypted: its key is in the (test's) keychain.
        let key = gia.secrets.cache_key(&account.file_name().to_string_lossy()).unwrap().expect("cache key");
        let c = rusqlite::Connection::open(db).unwrap();
        c.execute_batch(&format!("PRAGMA key = \"x'{key}'\";")).unwrap();
        c.execute("UPDATE outbox SET expires_at = 1", []).unwrap();
    }
    proxy.heal();
    gia.engine.reconnect_now().unwrap();
    gia.wait_live().await;
    gia.until("expired", |e| {
        e.outbox()
            .unwrap()
            .iter()
            .any(|o| matches!(&o.local, LocalState::Failed { code: CommandErrorCode::Hub(ErrorCode::Expired), .. }))
    })
    .await;
    assert_eq!(gia.usd(), (7_500, 0), "an expired transfer is never sent");
    let failed = gia.engine.outbox().unwrap()[0].id;
    gia.engine.discard_outbox(failed).unwrap();
    assert!(gia.engine.outbox().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_errors_fail_the_item_and_do_not_block_other_queues() {
    let hub = Hub::start().await;
    hub.register("ian").await;
    hub.register("jo").await;
    hub.deposit("ian", 1_000).await;
    let dir = tempfile::tempdir().unwrap();
    let ian = signed_in(&hub, &hub.url(), "ian", dir.path()).await;
    ian.until("contacts and balance", |e| !e.contacts().unwrap().is_empty() && !e.balances().unwrap().is_empty()).await;
    let room = ian.engine.create_room(RoomKind::Direct, "", vec!["jo".into()]).await.unwrap().room.id;
    // The cached balance says 1000 available; a transfer to a non-existent user fails permanently.
    ian.engine
        .send_money(&SendMoney {
            to: "nobody".into(),
            amount: Money::new(10, Currency::USD),
            memo: String::new(),
            room: None,
        })
        .unwrap();
    ian.engine.send_message(room, "still goes through").unwrap();
    ian.until("transfer failed", |e| {
        e.outbox()
            .unwrap()
            .iter()
            .any(|o| matches!(&o.local, LocalState::Failed { code: CommandErrorCode::Hub(ErrorCode::NotFound), .. }))
    })
    .await;
    ian.until("message sent", |e| e.outbox().unwrap().len() == 1).await;
    let err = ian
        .engine
        .send_money(&SendMoney {
            to: "jo".into(),
            amount: Money::new(5_000, Currency::USD),
            memo: String::new(),
            room: None,
        })
        .unwrap_err();
    assert_eq!(err.code().to_string(), "insufficient_funds");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_access_tokens_are_refreshed_and_revoked_sessions_stop_retrying() {
    let hub = Hub::start_with(|c| c.access_ttl_secs = 2).await;
    hub.register("kai").await;
    let dir = tempfile::tempdir().unwrap();
    let kai = signed_in(&hub, &hub.url(), "kai", dir.path()).await;
    // Let the token expire, then force a reconnect: the engine refreshes first and goes live.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    hub.running.as_ref().unwrap().hub.connections().iter().for_each(|c| c.close(CloseCode::GoingAway, "test"));
    kai.wait_not_live().await;
    kai.wait_live().await;
    // Revoke the session on the hub: the engine must stop and ask the user to sign in again.
    let family = hub.running.as_ref().unwrap().hub.connections()[0].sid.clone();
    let f2 = family.clone();
    hub.store().write(move |c, _| tally_hub::auth::sessions::revoke_family(c, &f2)).await.unwrap();
    hub.running.as_ref().unwrap().hub.revoke_session(&family);
    let mut w = kai.engine.conn_watch().unwrap();
    let s = tokio::time::timeout(WAIT, w.wait_for(|s| matches!(s, ConnState::AuthFailed { .. })))
        .await
        .unwrap()
        .unwrap()
        .clone();
    assert!(matches!(s, ConnState::AuthFailed { .. }));
    // And it does not hammer the hub: no new connection appears.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(hub.running.as_ref().unwrap().hub.connections().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_overflow_refetches_a_snapshot_and_keeps_old_history_marked_stale() {
    let hub = Hub::start_with(|c| c.retention_events = 3).await;
    hub.register("lu").await;
    hub.register("mo").await;
    hub.deposit("lu", 100_000).await;
    let proxy = Proxy::start(hub.addr).await;
    let dir = tempfile::tempdir().unwrap();
    let lu = signed_in(&hub, &proxy.url(), "lu", dir.path()).await;
    lu.until("balance", |_| lu.usd().0 == 100_000).await;
    proxy.refuse();
    proxy.cut();
    lu.wait_not_live().await;
    let dir2 = tempfile::tempdir().unwrap();
    let mo = signed_in(&hub, &hub.url(), "mo", dir2.path()).await;
    // Deposits to lu while offline; then trim the log beyond retention.
    for _ in 0..6 {
        hub.deposit("lu", 1_000).await;
    }
    drop(mo);
    hub.store().write(|c, _| tally_hub::log::trim(c, 3, i64::MAX / 2)).await.unwrap();
    proxy.heal();
    lu.engine.reconnect_now().unwrap();
    lu.wait_live().await;
    lu.until("snapshot applied", |_| lu.usd().0 == 106_000).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if app_truth(&lu) == hub_truth(&hub, 1).await {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "cache never matched after a snapshot");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_database_is_refused_clearly_and_sign_out_can_wipe() {
    let hub = Hub::start().await;
    hub.register("ned").await;
    let dir = tempfile::tempdir().unwrap();
    let ned = signed_in(&hub, &hub.url(), "ned", dir.path()).await;
    ned.engine.sign_out(true).await.unwrap();
    assert!(ned.engine.session().is_none());
    assert!(std::fs::read_dir(dir.path().join("accounts")).unwrap().next().is_none(), "cache wiped");
    // A database from the future.
    let path = dir.path().join("future.db");
    let c = rusqlite::Connection::open(&path).unwrap();
    c.pragma_update(None, "user_version", 99).unwrap();
    drop(c);
    let err = tally_client::store::Store::open(&path, 1).err().expect("refused");
    assert!(err.to_string().contains("newer Tally"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_that_closes_right_after_accepting_is_backed_off_not_hammered() {
    // Every connection is welcomed and then dropped at once, like a hub in a crash loop behind a balancer.
    let hub = Hub::start().await;
    hub.register("kit").await;
    let proxy = Proxy::start(hub.addr).await;
    let dir = tempfile::tempdir().unwrap();
    let kit = App::new(dir.path());
    kit.engine.sign_in(&proxy.url(), "kit", "pass-word-123", None).await.expect("sign in");
    kit.wait_live().await;
    proxy.flaky();
    proxy.cut();
    let mut w = kit.engine.conn_watch().unwrap();
    // Short sessions count as failed attempts: the attempt number climbs instead of restarting at 0-1 s.
    let climbed = tokio::time::timeout(
        Duration::from_secs(40),
        w.wait_for(|s| matches!(s, ConnState::BackingOff { attempt, .. } if *attempt >= 4)),
    )
    .await;
    assert!(climbed.is_ok(), "still retrying at the first-retry pace: {:?}", kit.engine.conn_state());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_down_is_offline_at_once_with_no_attempts_and_up_reconnects_within_a_second() {
    let hub = Hub::start().await;
    hub.register("lux").await;
    let proxy = Proxy::start(hub.addr).await;
    let dir = tempfile::tempdir().unwrap();
    let lux = App::new(dir.path());
    let net = tally_client::netwatch::ManualMonitor::new();
    lux.engine.set_network_monitor(net.clone());
    lux.engine.sign_in(&proxy.url(), "lux", "pass-word-123", None).await.expect("sign in");
    lux.wait_live().await;
    // The link is cut and the OS says the network is gone.
    proxy.refuse();
    proxy.cut();
    net.set(tally_client::netwatch::Reachability::Down);
    let mut w = lux.engine.conn_watch().unwrap();
    tokio::time::timeout(Duration::from_secs(1), w.wait_for(|s| matches!(s, ConnState::Offline { since: Some(_) })))
        .await
        .expect("Offline at once, not after heartbeats or backoff")
        .unwrap();
    let tried = proxy.accepts.load(std::sync::atomic::Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(proxy.accepts.load(std::sync::atomic::Ordering::SeqCst), tried, "no attempts while down");
    assert!(matches!(lux.engine.conn_state(), ConnState::Offline { .. }));
    // Back: the app (in front) retries within a second.
    proxy.heal();
    let back = std::time::Instant::now();
    net.set(tally_client::netwatch::Reachability::Up);
    lux.wait_live().await;
    assert!(back.elapsed() < Duration::from_millis(2_500), "took {:?}", back.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_raises_one_toast_and_one_native_notification() {
    let hub = Hub::start().await;
    hub.register("max").await;
    let dir = tempfile::tempdir().unwrap();
    let max = signed_in(&hub, &hub.url(), "max", dir.path()).await;
    // Subscribed and the (empty) history downloaded: what comes now is live.
    max.until("history complete", |e| e.sync_progress().map(|p| p.complete).unwrap_or(false)).await;
    let mut events = max.engine.events();
    let r = hub
        .http
        .post(format!("{}/v1/admin/broadcast", hub.url()))
        .bearer_auth(&hub.admin)
        .json(&serde_json::json!({"title": "Maintenance tonight", "body": "22:00-23:00 UTC", "priority": "high"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    max.until("the notification in the cache", |e| {
        e.notifications(None, 10).map(|l| l.iter().any(|n| n.title == "Maintenance tonight")).unwrap_or(false)
    })
    .await;
    max.until("the native notification", |_| max.shown().iter().any(|n| n.title == "Maintenance tonight")).await;
    // Everything the broadcast caused has arrived by now (event and notification); count the toasts.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut toasts = 0;
    while let Ok(e) = events.try_recv() {
        if matches!(&e, AppEvent::Toast { title, .. } if title == "Maintenance tonight") {
            toasts += 1;
        }
    }
    assert_eq!(toasts, 1, "one toast per broadcast");
    assert_eq!(max.shown().iter().filter(|n| n.title == "Maintenance tonight").count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_connection_outlasts_its_access_token_by_renewing_it_in_band() {
    // Three-second access tokens: the hub closes a connection whose token expires unrenewed (4002).
    let hub = Hub::start_with(|c| c.access_ttl_secs = 3).await;
    hub.register("ned").await;
    let dir = tempfile::tempdir().unwrap();
    let ned = signed_in(&hub, &hub.url(), "ned", dir.path()).await;
    let mut w = ned.engine.conn_watch().unwrap();
    let watch = tokio::time::timeout(Duration::from_secs(8), w.wait_for(|s| !matches!(s, ConnState::Live { .. })));
    assert!(watch.await.is_err(), "the connection dropped: {:?}", ned.engine.conn_state());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_sign_in_with_rooms_stays_live_instead_of_stalling_on_its_own_subscriptions() {
    // The rooms arrive in a snapshot after `welcome`; subscribing to them must not leave requests
    // "unanswered" (a `subscribe` is answered by `subscribed`), which used to drop the connection 10 s in.
    let hub = Hub::start().await;
    hub.register("ola").await;
    hub.register("pia").await;
    let mut pia = Raw::connect(&hub, "pia").await;
    pia.request(serde_json::json!({"type": "room_create", "kind": "direct", "members": ["ola"]})).await;
    let dir = tempfile::tempdir().unwrap();
    let ola = signed_in(&hub, &hub.url(), "ola", dir.path()).await;
    ola.until("the room", |e| e.rooms().map(|r| !r.is_empty()).unwrap_or(false)).await;
    let mut w = ola.engine.conn_watch().unwrap();
    let dropped = tokio::time::timeout(Duration::from_secs(12), w.wait_for(|s| !matches!(s, ConnState::Live { .. })));
    assert!(dropped.await.is_err(), "the connection dropped: {:?}", ola.engine.conn_state());
}

/// Waits (bounded) for a backoff whose next attempt is at least `ahead_ms` away; returns when it is due.
async fn long_backoff(app: &App, ahead_ms: i64) -> i64 {
    let mut w = app.engine.conn_watch().unwrap();
    let far = |s: &ConnState| matches!(s, ConnState::BackingOff { retry_at, .. } if *retry_at - now_ms() >= ahead_ms);
    let s =
        tokio::time::timeout(Duration::from_secs(60), w.wait_for(far)).await.expect("the backoff never grew").unwrap();
    match *s {
        ConnState::BackingOff { retry_at, .. } => retry_at,
        _ => unreachable!(),
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coming_to_the_front_cuts_a_background_backoff_to_the_foreground_cap() {
    let hub = Hub::start().await;
    hub.register("fay").await;
    let proxy = Proxy::start(hub.addr).await;
    let dir = tempfile::tempdir().unwrap();
    // A 1 s foreground cap (10 s in the app) keeps the test short; the background cap stays 120 s.
    let mut cfg = tally_client::EngineConfig::new(dir.path(), "test");
    cfg.reconnect_caps.foreground = Duration::from_secs(1);
    let fay = App::with_config(cfg, Default::default(), Default::default());
    fay.engine.sign_in(&proxy.url(), "fay", "pass-word-123", None).await.expect("sign in");
    fay.wait_live().await;
    fay.engine.set_background(true);
    for (round, wait_first) in [(1, false), (2, true)] {
        proxy.refuse();
        proxy.cut();
        // In the background the waits grow past the foreground cap.
        let due = long_backoff(&fay, 5_000).await;
        if wait_first {
            // The last attempt is now older than the foreground cap: coming to the front retries at once.
            tokio::time::sleep(Duration::from_millis(1_200)).await;
        }
        proxy.heal();
        let front = std::time::Instant::now();
        fay.engine.set_background(false);
        fay.wait_live().await;
        let took = front.elapsed();
        let limit = if wait_first { 600 } else { 1_500 };
        assert!(took < Duration::from_millis(limit), "round {round}: live after {took:?}");
        assert!(now_ms() < due - 2_000, "round {round}: the background wait was not cut short");
        fay.engine.set_background(true);
    }
}

/// The UI's outbox list, kept by the typed updates alone (what `ui/src/lib/outbox.svelte.ts` does).
fn fold(list: &mut Vec<OutboxItem>, u: &OutboxUpdate) {
    match u {
        OutboxUpdate::Queued { item } => list.push(item.clone()),
        OutboxUpdate::Sending { id } => list.iter_mut().filter(|o| o.id == *id).for_each(|o| o.attempts += 1),
        OutboxUpdate::Sent { id } | OutboxUpdate::Discarded { id } => list.retain(|o| o.id != *id),
        OutboxUpdate::Failed { id, local } => {
            list.iter_mut().filter(|o| o.id == *id).for_each(|o| o.local = local.clone())
        }
        OutboxUpdate::Retrying { id, expires_at } => list.iter_mut().filter(|o| o.id == *id).for_each(|o| {
            o.local = LocalState::Pending;
            o.expires_at = expires_at.or(o.expires_at);
        }),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_outbox_updates_follow_each_item_and_rebuild_the_list() {
    let hub = Hub::start().await;
    hub.register("kim").await;
    hub.register("lou").await;
    hub.deposit("kim", 1_000).await;
    let dir = tempfile::tempdir().unwrap();
    let kim = signed_in(&hub, &hub.url(), "kim", dir.path()).await;
    kim.until("contacts and balance", |e| !e.contacts().unwrap().is_empty() && !e.balances().unwrap().is_empty()).await;
    let room = kim.engine.create_room(RoomKind::Direct, "", vec!["lou".into()]).await.unwrap().room.id;
    let mut events = kim.engine.events();
    let mut list = kim.engine.outbox().unwrap();
    assert!(list.is_empty());
    // One payment the hub refuses for good (no such user) and one message it takes.
    let pay = SendMoney { to: "nobody".into(), amount: Money::new(10, Currency::USD), memo: String::new(), room: None };
    let transfer = kim.engine.send_money(&pay).unwrap().outbox_id.expect("queued");
    // Several messages while the flusher is already busy: each is announced as queued before it is sent
    // (the UI cannot count an attempt on an item it does not list yet).
    let messages: Vec<i64> = (0..12)
        .map(|i| kim.engine.send_message(room, &format!("hello lou {i}")).unwrap().outbox_id.expect("queued"))
        .collect();
    let mut seen: Vec<OutboxUpdate> = Vec::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    let done = |seen: &[OutboxUpdate]| {
        seen.iter().any(|u| matches!(u, OutboxUpdate::Failed { id, .. } if *id == transfer))
            && messages.iter().all(|m| seen.iter().any(|u| matches!(u, OutboxUpdate::Sent { id } if id == m)))
    };
    while !done(&seen) {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok(AppEvent::Outbox { update })) => {
                fold(&mut list, &update);
                seen.push(update);
            }
            Ok(Ok(_)) => {}
            other => panic!("no outbox updates in time: {other:?}; seen {seen:?}"),
        }
    }
    let life = |item: i64| -> Vec<&'static str> {
        seen.iter()
            .filter(|u| u.id() == item)
            .map(|u| match u {
                OutboxUpdate::Queued { .. } => "queued",
                OutboxUpdate::Sending { .. } => "sending",
                OutboxUpdate::Sent { .. } => "sent",
                OutboxUpdate::Failed { .. } => "failed",
                OutboxUpdate::Retrying { .. } => "retrying",
                OutboxUpdate::Discarded { .. } => "discarded",
            })
            .collect()
    };
    assert_eq!(life(transfer), ["queued", "sending", "failed"]);
    for m in &messages {
        assert_eq!(life(*m), ["queued", "sending", "sent"], "message item {m}");
    }
    assert_eq!(list, kim.engine.outbox().unwrap(), "the updates alone rebuild the outbox list");
    assert!(matches!(&list[0].local, LocalState::Failed { code: CommandErrorCode::Hub(ErrorCode::NotFound), .. }));
    // The user's own moves are updates too.
    kim.engine.discard_outbox(transfer).unwrap();
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok(AppEvent::Outbox { update })) => {
                fold(&mut list, &update);
                if update == (OutboxUpdate::Discarded { id: transfer }) {
                    break;
                }
            }
            Ok(Ok(_)) => {}
            other => panic!("no discard update: {other:?}"),
        }
    }
    assert!(list.is_empty() && kim.engine.outbox().unwrap().is_empty());
}
