//! The whole history on every device: a fresh cache downloads everything the hub holds (transactions,
//! notifications, chat), resumes after the engine is killed half-way, heals a client that was away longer
//! than the logs' retention, and never calls a payment "not sent" when the hub carried it out.
mod support;
use serde_json::json;
use std::time::Duration;
use support::*;
use tally_client::view::*;
use tally_protocol::*;

const LONG: Duration = Duration::from_secs(120);

fn generous(c: &mut tally_hub::Config) {
    c.rate_per_sec = 100_000;
    c.rate_burst = 100_000;
    c.user_rate_per_sec = 100_000;
}

async fn sign_in(server: &str, name: &str, dir: &std::path::Path) -> App {
    let app = App::new(dir);
    app.engine.sign_in(server, name, "pass-word-123", None).await.expect("sign in");
    app
}

async fn until_complete(app: &App) -> SyncProgress {
    let deadline = tokio::time::Instant::now() + LONG;
    loop {
        let p = app.engine.sync_progress().unwrap();
        if p.complete {
            return p;
        }
        assert!(tokio::time::Instant::now() < deadline, "history download never completed: {p:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every cached transaction (id, memo, status), oldest first, through the engine's own paging.
fn app_transactions(app: &App) -> Vec<(i64, String, String)> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = app.engine.transactions(&TxFilter::default(), cursor.as_ref(), 500).unwrap();
        out.extend(page.rows.iter().map(|r| (r.tx.id, r.tx.memo.clone(), format!("{:?}", r.tx.status))));
        match page.next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    out.sort();
    out
}

async fn hub_transactions(hub: &Hub, user: i64) -> Vec<(i64, String, String)> {
    let c = hub.db();
    let mut s = c.prepare("SELECT id, memo, status FROM transactions WHERE user_id = ?1 ORDER BY id").unwrap();
    let rows = s
        .query_map([user], |r| {
            let status: String = r.get(2)?;
            let mut st = status.clone();
            st[..1].make_ascii_uppercase();
            Ok((r.get(0)?, r.get(1)?, st))
        })
        .unwrap();
    rows.collect::<Result<Vec<_>, _>>().unwrap()
}

async fn hub_count(hub: &Hub, sql: &'static str, arg: i64) -> u64 {
    hub.db().query_row(sql, [arg], |r| r.get::<_, i64>(0)).unwrap() as u64
}

/// Every cached notification, by the engine's own paging (newest first, 200 a page).
fn app_notifications(app: &App) -> Vec<Notification> {
    let mut out: Vec<Notification> = Vec::new();
    let mut before = None;
    loop {
        let page = app.engine.notifications(before, 200).unwrap();
        let Some(min) = page.iter().map(|n| n.id).min() else { break };
        out.extend(page);
        before = Some(min);
    }
    out
}

/// All cached messages of a room (seq, text), oldest first.
async fn app_messages(app: &App, room: RoomId) -> Vec<(u64, String)> {
    let mut out: Vec<(u64, String)> = Vec::new();
    let mut before = None;
    loop {
        let page = app.engine.messages(room, before, 200).await.unwrap();
        let Some(first) = page.first().map(|m| m.message.seq) else { break };
        out.extend(page.iter().map(|m| (m.message.seq, m.message.text.clone())));
        if page.len() < 200 {
            break;
        }
        before = Some(first);
    }
    out.sort();
    out.dedup();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_cache_downloads_the_whole_history_exactly() {
    let hub = Hub::start_with(generous).await;
    hub.register("alice").await;
    hub.register("bob").await;
    // 20,000 transactions (2,000 of them with a notification each) and a room of 5,000 messages, all made
    // through the hub's API.
    hub.deposits("alice", 18_000, false).await;
    hub.deposits("alice", 2_000, true).await;
    let mut bob = Raw::connect(&hub, "bob").await;
    let room = bob.request(json!({"type": "room_create", "kind": "direct", "members": ["alice"]})).await;
    let room = room["data"]["room"]["id"].as_i64().unwrap();
    bob.messages(room, 5_000, "line").await;
    let edited = bob.request(json!({"type": "history", "channel": format!("room:{room}"), "limit": 1})).await;
    let last = edited["data"]["events"][0]["data"]["message"]["id"].as_i64().unwrap();
    bob.request(json!({"type": "message_edit", "room": room, "message": last, "text": "edited"})).await;

    let dir = tempfile::tempdir().unwrap();
    let alice = sign_in(&hub.url(), "alice", dir.path()).await;
    let p = until_complete(&alice).await;
    let hub_tx = hub_transactions(&hub, 1).await;
    assert_eq!(hub_tx.len(), 20_000);
    assert_eq!(app_transactions(&alice), hub_tx, "the cache holds exactly the hub's transactions");
    let notes = hub_count(&hub, "SELECT COUNT(*) FROM notifications WHERE user_id = ?1", 1).await;
    assert_eq!(notes, 2_001, "2,000 deposits and the warning that a new device signed in");
    let cached_notes = app_notifications(&alice);
    assert_eq!(cached_notes.len() as u64, notes);
    let msgs = app_messages(&alice, room).await;
    assert_eq!(msgs.len(), 5_000, "every message of the room is on the device");
    assert_eq!(msgs.last().map(|m| m.1.as_str()), Some("edited"));
    assert_eq!(msgs.first().map(|m| m.1.as_str()), Some("line 1"));
    // Progress told the truth: 20,000 + 2,001 + 5,000 rows, each part complete.
    assert_eq!(p.total, Some(27_001), "{p:?}");
    assert!(p.parts.iter().all(|x| x.complete && Some(x.fetched) == x.total), "{p:?}");
    // Pages of up to 1,000: 20 + 2 + 5 plus at most one empty tail page per part.
    let pages = alice.engine.history_pages_fetched().unwrap();
    assert!((27..=30).contains(&pages), "{pages} pages");
    // Offline it is all still there.
    alice.engine.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_killed_half_way_resumes_from_its_cursor() {
    let hub = Hub::start_with(generous).await;
    hub.register("carol").await;
    hub.deposits("carol", 20_000, false).await;
    let dir = tempfile::tempdir().unwrap();
    let secrets = {
        let carol = sign_in(&hub.url(), "carol", dir.path()).await;
        carol
            .until("half the history", |e| {
                e.sync_progress().map(|p| p.parts.iter().any(|x| x.fetched >= 8_000)).unwrap_or(false)
            })
            .await;
        // Mid-way the numbers the progress bar shows are the truth: some of the hub's 20,000, not complete.
        let mid = carol.engine.sync_progress().unwrap();
        let part = mid.parts.iter().find(|p| p.kind == SyncKind::Transactions).unwrap();
        // Beside the transactions: one notification, the warning that a new device signed in.
        assert_eq!((part.total, mid.total), (Some(20_000), Some(20_001)), "{mid:?}");
        assert!(!part.complete && !mid.complete && (8_000..20_000).contains(&part.fetched), "{mid:?}");
        let notes = mid.parts.iter().find(|p| p.kind == SyncKind::Notifications).map_or(0, |p| p.fetched);
        assert_eq!(mid.fetched, part.fetched + notes, "{mid:?}");
        // Gone mid-download, like a quit or a crash: whatever committed stays, nothing else.
        carol.engine.shutdown();
        carol.secrets.clone()
    };
    let carol = App::with_parts(dir.path(), secrets, Default::default());
    assert!(carol.engine.restore().unwrap().is_some(), "the session is restorable");
    let had = carol.engine.sync_progress().unwrap();
    let had_tx = had.parts.iter().find(|p| p.kind == SyncKind::Transactions).unwrap().fetched;
    assert!((8_000..20_000).contains(&had_tx), "resumes from {had_tx}");
    until_complete(&carol).await;
    assert_eq!(app_transactions(&carol), hub_transactions(&hub, 1).await);
    let pages = carol.engine.history_pages_fetched().unwrap();
    let left = (20_000 - had_tx).div_ceil(1_000);
    assert!(pages <= left + 3, "restarted from scratch? {pages} pages for {left} left");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_away_longer_than_retention_gets_every_missed_row_once() {
    let hub = Hub::start_with(|c| {
        generous(c);
        c.retention_events = 50;
    })
    .await;
    hub.register("dana").await;
    hub.register("eli").await;
    hub.deposits("dana", 300, true).await;
    hub.deposit("eli", 1_000_000).await;
    let proxy = Proxy::start(hub.addr).await;
    let dir = tempfile::tempdir().unwrap();
    let dana = sign_in(&proxy.url(), "dana", dir.path()).await;
    until_complete(&dana).await;
    // A pending payment to dana is open when she drops off: it completes while she is away.
    let mut eli = Raw::connect(&hub, "eli").await;
    proxy.refuse();
    proxy.cut();
    dana.wait_not_live().await;
    for i in 0..500 {
        let f = json!({"type": "transfer_create", "idempotency_key": format!("k{i}"), "to": "dana",
                       "amount": {"minor": 1, "currency": "USD"}, "memo": format!("away {i}")});
        eli.request(f).await;
    }
    let hub_tx = hub_transactions(&hub, 1).await;
    // Wait for the hub to finish processing every transfer, so "completed" is the truth to match.
    for _ in 0..400 {
        if hub_transactions(&hub, 1).await.iter().all(|t| t.2 == "Completed") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let hub_tx_final = hub_transactions(&hub, 1).await;
    // Dana reads everything on another device while this one is away.
    let read_all = json!({"type": "notifications_read_all"});
    Raw::connect(&hub, "dana").await.request(read_all).await;
    assert_eq!(hub_tx.len(), hub_tx_final.len());
    // Retention runs (the hub's pass comes every minute; here at once): the logs keep their last 50
    // events, so what dana missed is no longer replayable and must come from the changes feeds.
    let trimmed = hub.store().write(|c, _| tally_hub::log::trim(c, 50, i64::MAX / 2)).await.unwrap();
    assert!(trimmed > 500, "the logs were trimmed ({trimmed} events)");
    proxy.heal();
    dana.engine.reconnect_now().unwrap();
    dana.wait_live().await;
    let deadline = tokio::time::Instant::now() + LONG;
    while app_transactions(&dana) != hub_tx_final {
        assert!(tokio::time::Instant::now() < deadline, "never caught up: {} rows", app_transactions(&dana).len());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(hub_tx_final.len(), 800, "300 deposits and 500 payments");
    assert_eq!(app_transactions(&dana).len(), 800, "no hole and no duplicate");
    // Notifications come through their own changes feed: every one, read or not as the hub says.
    let hub_notes = hub_count(&hub, "SELECT COUNT(*) FROM notifications WHERE user_id = ?1", 1).await;
    let deadline = tokio::time::Instant::now() + LONG;
    while (app_notifications(&dana).len() as u64) < hub_notes || app_notifications(&dana).iter().any(|n| !n.read) {
        let unread = dana.engine.unread_counts().unwrap();
        assert!(tokio::time::Instant::now() < deadline, "notifications never caught up: {unread:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let unread = dana.engine.unread_counts().unwrap();
    let notes = app_notifications(&dana);
    assert_eq!(notes.len() as u64, hub_notes, "no notification missing or doubled");
    assert!(notes.iter().all(|n| n.read), "read elsewhere while away: {unread:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_whose_ack_was_lost_and_whose_deadline_passed_shows_completed_once() {
    let hub = Hub::start().await;
    hub.register("fay").await;
    hub.register("gus").await;
    hub.deposit("fay", 10_000).await;
    let proxy = Proxy::start(hub.addr).await;
    let dir = tempfile::tempdir().unwrap();
    let fay = sign_in(&proxy.url(), "fay", dir.path()).await;
    fay.wait_live().await;
    fay.until("contacts", |e| e.contacts().map(|c| c.iter().any(|u| u.username == "gus")).unwrap_or(false)).await;
    fay.engine.set_prefs(&Prefs { transfer_expiry_secs: 30, ..fay.engine.prefs().unwrap() }).unwrap();
    // The request reaches the hub; its answer never comes back.
    proxy.deafen();
    let sent = fay
        .engine
        .send_money(&SendMoney {
            to: "gus".into(),
            amount: Money::new(2_500, Currency::USD),
            memo: "rent".into(),
            room: None,
        })
        .unwrap();
    let key = sent.transfer.idempotency_key.clone().unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    while hub_count(&hub, "SELECT COUNT(*) FROM transfers WHERE from_user = ?1 AND status = 'completed'", 1).await == 0
    {
        assert!(tokio::time::Instant::now() < deadline, "the hub never carried it out");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    proxy.refuse();
    proxy.cut();
    fay.wait_not_live().await;
    tokio::time::sleep(Duration::from_millis(30_500)).await; // the deadline passes while offline
    proxy.heal();
    fay.engine.reconnect_now().unwrap();
    fay.until("the payment shows completed", |e| {
        e.transfers_open().unwrap().iter().any(|t| {
            t.transfer.idempotency_key.as_deref() == Some(&key) && t.transfer.status == TransferStatus::Completed
        })
    })
    .await;
    let mine: Vec<_> = fay
        .engine
        .transfers_open()
        .unwrap()
        .into_iter()
        .filter(|t| t.transfer.idempotency_key.as_deref() == Some(&key))
        .collect();
    assert_eq!(mine.len(), 1, "shown once: {mine:?}");
    assert!(!matches!(mine[0].local, LocalState::Failed { .. }), "never 'not sent': {:?}", mine[0].local);
    assert!(fay.engine.outbox().unwrap().is_empty(), "nothing left queued");
    assert_eq!(
        hub_count(&hub, "SELECT COUNT(*) FROM transfers WHERE from_user = ?1", 1).await,
        1,
        "carried out exactly once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_that_never_reached_the_hub_before_its_deadline_is_not_sent_and_never_executes() {
    let hub = Hub::start().await;
    hub.register("hal").await;
    hub.register("ivy").await;
    hub.deposit("hal", 10_000).await;
    let proxy = Proxy::start(hub.addr).await;
    let dir = tempfile::tempdir().unwrap();
    let hal = sign_in(&proxy.url(), "hal", dir.path()).await;
    hal.wait_live().await;
    hal.until("contacts", |e| e.contacts().map(|c| c.iter().any(|u| u.username == "ivy")).unwrap_or(false)).await;
    hal.engine.set_prefs(&Prefs { transfer_expiry_secs: 30, ..hal.engine.prefs().unwrap() }).unwrap();
    proxy.refuse();
    proxy.cut();
    hal.wait_not_live().await;
    hal.engine
        .send_money(&SendMoney {
            to: "ivy".into(),
            amount: Money::new(100, Currency::USD),
            memo: "late".into(),
            room: None,
        })
        .unwrap();
    tokio::time::sleep(Duration::from_millis(30_500)).await;
    proxy.heal();
    hal.engine.reconnect_now().unwrap();
    hal.until("marked not sent", |e| {
        e.outbox()
            .unwrap()
            .iter()
            .any(|o| matches!(&o.local, LocalState::Failed { code: CommandErrorCode::Hub(ErrorCode::Expired), .. }))
    })
    .await;
    assert_eq!(hub_count(&hub, "SELECT COUNT(*) FROM transfers WHERE from_user = ?1", 1).await, 0);
}
