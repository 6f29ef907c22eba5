//! What a client needs to hold the whole history: keyset pages of up to 1,000, "changed since" feeds that
//! carry rows whose state changed (a completed transfer, an edited message, a notification read
//! elsewhere), transfer lookup by idempotency key, hub-enforced deadlines, and databases of the previous
//! release migrated in place.
mod common;
use common::*;
use serde_json::json;
use tally_protocol::*;

fn since(ms: Millis) -> ChangeCursor {
    ChangeCursor { updated_at: ms, id: 0 }
}

async fn tx_changes(c: &mut Client, from: ChangeCursor) -> (Vec<Transaction>, Option<ChangeCursor>) {
    let what = SnapshotKind::TransactionChanges { since: from, limit: 1000 };
    match c.request(|id| ClientFrame::Snapshot { id, what }).await.unwrap() {
        Some(AckData::Transactions { transactions, next_since, next_before: None, total: None }) => {
            (transactions, next_since)
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn history_pages_hold_up_to_a_thousand_rows_and_the_first_carries_the_total() {
    let hub = TestHub::start().await;
    let a = hub.register("amy").await;
    let (status, _) = hub
        .admin_post("/v1/admin/deposits", json!({"username": "amy", "amount": {"minor": 5, "currency": "EUR"}, "count": 2500, "memo": "m", "notify": false}))
        .await;
    assert_eq!(status, 200);
    let mut c = hub.connect(&a).await;
    let mut before = None;
    let mut seen = 0;
    for page in 0..3 {
        let what = SnapshotKind::Transactions { before, limit: 1000 };
        let Some(AckData::Transactions { transactions, next_before, total, .. }) =
            c.request(|id| ClientFrame::Snapshot { id, what }).await.unwrap()
        else {
            panic!()
        };
        assert_eq!(total, if page == 0 { Some(2500) } else { None });
        assert!(transactions.windows(2).all(|w| w[0].id > w[1].id), "newest first");
        seen += transactions.len();
        before = next_before;
    }
    assert_eq!((seen, before), (2500, None));
    let what = SnapshotKind::Transactions { before: None, limit: 1001 };
    let err = c.request(|id| ClientFrame::Snapshot { id, what }).await.unwrap_err();
    assert_eq!(err.0, ErrorCode::Invalid);
    let (_, notes) = hub
        .admin_post(
            "/v1/admin/deposits",
            json!({"username": "amy", "amount": {"minor": 5, "currency": "EUR"}, "count": 10001}),
        )
        .await;
    assert_eq!(notes["code"], "invalid");
}

#[tokio::test]
async fn the_changes_feed_carries_rows_that_changed_while_a_client_was_away() {
    let hub = TestHub::start().await;
    let a = hub.register("ann").await;
    let b = hub.register("ben").await;
    hub.deposit("ann", 10_000).await;
    let mut ca = hub.connect(&a).await;
    let t = ca.transfer("k1", "ben", 700).await.unwrap();
    let start = t.created_at - 1;
    // Posted in the job that made it: final in its ack (its rows were written pending and changed).
    assert!(t.status.is_final(), "{t:?}");
    let mut cb = hub.connect(&b).await;
    let (rows, next) = tx_changes(&mut cb, since(start)).await;
    assert_eq!(next, None);
    let mine: Vec<_> = rows.iter().filter(|r| r.transfer_id == Some(t.id)).collect();
    assert_eq!(mine.len(), 1, "ben's side of it, once: {rows:?}");
    assert_eq!(mine[0].status, TransferStatus::Completed, "in its current state");
    // Nothing changed after the newest change: an empty page.
    let newest = now_ms() + 1_000;
    assert!(tx_changes(&mut cb, since(newest)).await.0.is_empty());

    // Messages: an edit and a delete show up in the room's feed in their current state.
    let room = match cb
        .request(|id| ClientFrame::RoomCreate {
            id,
            kind: RoomKind::Direct,
            name: String::new(),
            members: vec!["ann".into()],
        })
        .await
        .unwrap()
    {
        Some(AckData::Room { room }) => room.id,
        other => panic!("{other:?}"),
    };
    let mut ids = vec![];
    for i in 0..3 {
        let text = format!("m{i}");
        let cmid = format!("c{i}");
        match cb
            .request(|id| ClientFrame::MessageSend { id, room, client_msg_id: cmid, text, attachment: None })
            .await
            .unwrap()
        {
            Some(AckData::Message { message }) => ids.push(message.id),
            other => panic!("{other:?}"),
        }
    }
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let mark = now_ms();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let (m0, m1) = (ids[0], ids[1]);
    cb.request(|id| ClientFrame::MessageEdit { id, room, message: m0, text: "fixed".into() }).await.unwrap();
    cb.request(|id| ClientFrame::MessageDelete { id, room, message: m1 }).await.unwrap();
    let what = SnapshotKind::MessageChanges { room, since: since(mark), limit: 1000 };
    let Some(AckData::History { events, next_since: None, .. }) =
        cb.request(|id| ClientFrame::Snapshot { id, what }).await.unwrap()
    else {
        panic!()
    };
    let states: Vec<(i64, String, bool)> = events
        .iter()
        .map(|e| match &e.data {
            EventData::Message { message } => (message.id, message.text.clone(), message.deleted),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(states, vec![(m0, "fixed".into(), false), (m1, String::new(), true)]);
    // Not a member: refused, nothing disclosed.
    let c = hub.register("cat").await;
    let mut cc = hub.connect(&c).await;
    let what = SnapshotKind::MessageChanges { room, since: since(0), limit: 10 };
    assert_eq!(cc.request(|id| ClientFrame::Snapshot { id, what }).await.unwrap_err().0, ErrorCode::Forbidden);

    // Notifications read on another device come back read.
    let what = SnapshotKind::NotificationChanges { since: since(mark), limit: 1000 };
    cb.request(|id| ClientFrame::NotificationsReadAll { id }).await.unwrap();
    let Some(AckData::Notifications { notifications, unread, .. }) =
        cb.request(|id| ClientFrame::Snapshot { id, what }).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(unread, 0);
    assert!(!notifications.is_empty() && notifications.iter().all(|n| n.read), "{notifications:?}");
}

#[tokio::test]
async fn a_transfer_is_found_by_its_key_and_a_late_one_is_refused() {
    let hub = TestHub::start().await;
    let a = hub.register("dot").await;
    let _b = hub.register("eve").await;
    hub.deposit("dot", 10_000).await;
    let mut ca = hub.connect(&a).await;
    let t = ca.transfer("key-1", "eve", 100).await.unwrap();
    let what = SnapshotKind::TransferByKey { idempotency_key: "key-1".into() };
    match ca.request(|id| ClientFrame::Snapshot { id, what }).await.unwrap() {
        Some(AckData::Transfer { transfer }) => {
            assert_eq!((transfer.id, transfer.idempotency_key.as_deref()), (t.id, Some("key-1")))
        }
        other => panic!("{other:?}"),
    }
    let what = SnapshotKind::TransferByKey { idempotency_key: "never-sent".into() };
    assert_eq!(ca.request(|id| ClientFrame::Snapshot { id, what }).await.unwrap_err().0, ErrorCode::NotFound);
    // Someone else's key is not theirs to look up.
    let mut cb = hub.connect(&_b).await;
    let what = SnapshotKind::TransferByKey { idempotency_key: "key-1".into() };
    assert_eq!(cb.request(|id| ClientFrame::Snapshot { id, what }).await.unwrap_err().0, ErrorCode::NotFound);

    // Past its deadline a new transfer moves no money; a retry of one already carried out still answers.
    let late = |key: &'static str, expires_at| {
        move |id| ClientFrame::TransferCreate {
            id,
            idempotency_key: key.into(),
            to: "eve".into(),
            amount: Money::new(100, Currency::USD),
            memo: "test".into(),
            expires_at: Some(expires_at),
            room: None,
        }
    };
    let err = ca.request(late("key-2", now_ms() - 1)).await.unwrap_err();
    assert_eq!(err.0, ErrorCode::Expired);
    match ca.request(late("key-1", now_ms() - 1)).await.unwrap() {
        Some(AckData::Transfer { transfer }) => assert_eq!(transfer.id, t.id),
        other => panic!("{other:?}"),
    }
    let what = SnapshotKind::TransferByKey { idempotency_key: "key-2".into() };
    assert_eq!(ca.request(|id| ClientFrame::Snapshot { id, what }).await.unwrap_err().0, ErrorCode::NotFound);
    assert_eq!(hub.invariants_ok().await["ok"], true);
}

fn now_ms() -> Millis {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

#[tokio::test]
async fn a_database_of_the_previous_release_is_migrated_in_place() {
    let dir = tempfile::tempdir().unwrap();
    {
        // Exactly what the first release left on disk: its schema, user_version 1, a user with history.
        let c = rusqlite::Connection::open(dir.path().join("hub.db")).unwrap();
        c.execute_batch(tally_hub::store::SCHEMA_V1).unwrap();
        c.pragma_update(None, "user_version", 1).unwrap();
        c.execute_batch(
            "INSERT INTO tenants (id, name, created_at) VALUES (1, 'default', 1);
             INSERT INTO users (id, tenant_id, username, display_name, password_hash, limit_single, limit_daily, created_at)
               VALUES (1, 1, 'old', 'Old Timer', '!disabled', 100000, 100000, 1);
             INSERT INTO transactions (tenant_id, user_id, kind, direction, amount, currency, balance_after, memo, status, created_at)
               VALUES (1, 1, 'deposit', 'in', 500, 'USD', 500, 'from 2025', 'completed', 1700000000000);
             INSERT INTO accounts (user_id, currency, tenant_id, available, updated_at) VALUES (1, 'USD', 1, 500, 1);
             INSERT INTO postings (tenant_id, entry, account_user, currency, amount, created_at)
               VALUES (1, 'dep:x', 0, 'USD', -500, 1), (1, 'dep:x', 1, 'USD', 500, 1);
             INSERT INTO rooms (id, tenant_id, kind, name, created_at) VALUES (1, 1, 'group', 'Old group', 1);
             INSERT INTO room_members (room_id, user_id, joined_at) VALUES (1, 1, 1), (1, 2, 9);",
        )
        .unwrap();
    }
    // The first release left hub.db readable by everyone (0644): the hub refuses it and says how to fix it.
    let refused = tally_hub::start(test_config(dir.path())).await.err().expect("an open hub.db is refused");
    assert!(refused.message.contains("chmod 600") && refused.message.contains("hub.db"), "{}", refused.message);
    std::fs::set_permissions(dir.path().join("hub.db"), std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let mut hub = TestHub::start_sqlite_with(|c| c.data_dir = dir.path().to_path_buf()).await;
    // Read what the running hub left on disk (WAL lets a second reader in).
    let (version, updated, admins): (i64, i64, String) = {
        let c = rusqlite::Connection::open(dir.path().join("hub.db")).unwrap();
        let v = c.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        let u = c.query_row("SELECT updated_at FROM transactions WHERE user_id = 1", [], |r| r.get(0)).unwrap();
        let a = c
            .query_row("SELECT group_concat(user_id) FROM room_members WHERE role = 'admin'", [], |r| r.get(0))
            .unwrap();
        (v, u, a)
    };
    assert_eq!((version, updated), (tally_hub::store::SCHEMA_VERSION, 1_700_000_000_000));
    assert_eq!(admins, "1", "a group from before roles: its founding member is its admin, the later one is not");
    // The old row is in the changes feed; the hub keeps working on the migrated file.
    let token = hub.admin_post("/v1/admin/tokens", json!({"usernames": ["old"]})).await.1;
    let access =
        token["tokens"][0]["access_token"].as_str().or(token["tokens"][0].as_str()).expect("token").to_string();
    let mut c = Client::connect(&hub.ws_url(), &access, vec![]).await;
    let (rows, _) = tx_changes(&mut c, since(0)).await;
    assert_eq!(rows.iter().map(|r| r.memo.as_str()).collect::<Vec<_>>(), vec!["from 2025"]);
    assert_eq!(hub.invariants_ok().await["ok"], true);
    hub.running.take().unwrap().shutdown().await;
    // A database from a newer hub is refused, not damaged.
    let c = rusqlite::Connection::open(dir.path().join("hub.db")).unwrap();
    c.pragma_update(None, "user_version", 99).unwrap();
    drop(c);
    let cfg = test_config(dir.path());
    assert!(tally_hub::start(cfg).await.is_err());
}
