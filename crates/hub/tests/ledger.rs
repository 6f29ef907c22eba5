mod common;
use common::*;
use serde_json::json;
use tally_protocol::*;

/// A payment between two users is posted in the job that accepts it: the ack says completed, and each
/// party hears one balance, one history line and (the recipient) one notification, all final.
#[tokio::test]
async fn transfer_reaches_both_parties_posted_at_once() {
    let hub = TestHub::start().await;
    let (a, b) = (hub.register("ann").await, hub.register("ben").await);
    hub.deposit("ann", 10_000).await;
    let mut ca = hub.connect(&a).await;
    let mut cb = hub.connect(&b).await;
    for ch in [Channel::Balance(a.user.id), Channel::Transactions(a.user.id)] {
        ca.subscribe(ch, None).await.unwrap();
    }
    for ch in [Channel::Balance(b.user.id), Channel::Transactions(b.user.id), Channel::Notifications(b.user.id)] {
        cb.subscribe(ch, None).await.unwrap();
    }
    let t = ca.transfer("k1", "ben", 2_500).await.unwrap();
    assert_eq!(t.status, TransferStatus::Completed);
    assert_eq!(t.idempotency_key.as_deref(), Some("k1"));
    // Both may follow the transfer; statuses arrive in order with progress.
    let (replayed, _) =
        cb.subscribe(Channel::Transfer(t.id), Some(Position { epoch: String::new(), seq: 0 })).await.unwrap();
    assert!(replayed.is_empty()); // wrong epoch → not recovered, nothing replayed
                                  // Sender: the money gone, nothing left on hold, in one event.
    let e = ca.event_on(Channel::Balance(a.user.id)).await;
    assert!(matches!(e.data, EventData::Balance { balance: Balance { available: 7_500, pending: 0, .. } }), "{e:?}");
    // Recipient: credited, with a transaction and a payment notification.
    loop {
        let e = cb.event_on(Channel::Balance(b.user.id)).await;
        if let EventData::Balance { balance } = e.data {
            if balance.available == 2_500 {
                break;
            }
        }
    }
    let n = loop {
        let e = cb.event_on(Channel::Notifications(b.user.id)).await;
        if let EventData::Notification { notification } = e.data {
            break notification;
        }
    };
    assert_eq!(n.kind, NotificationKind::Payment);
    assert!(n.title.contains("25.00 USD"), "{}", n.title);
    // The same as data, for the app to word in its reader's language.
    let from = a.user.display_name.clone();
    assert_eq!(n.text, Some(NotificationText::PaymentReceived { from, amount: Money::new(2_500, Currency::USD) }));
    let mut statuses = vec![];
    while statuses.last() != Some(&TransferStatus::Completed) {
        let e = cb.event_on(Channel::Transactions(b.user.id)).await;
        if let EventData::Transaction { transaction } = e.data {
            assert_eq!(transaction.direction, Direction::In);
            assert!(transaction.transfer_id == Some(t.id));
            statuses.push(transaction.status);
        }
    }
    assert_eq!(statuses, vec![TransferStatus::Completed], "one line, final");
    assert_eq!(hub.invariants_ok().await["ok"], true);
}

#[tokio::test]
async fn idempotency_key_retries_apply_once_and_conflict_on_a_different_body() {
    let hub = TestHub::start().await;
    let a = hub.register("cat").await;
    hub.register("dan").await;
    hub.deposit("cat", 100_000).await;
    // 100 concurrent retries of one key over 10 connections → exactly one transfer.
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (url, tok) = (hub.ws_url(), a.access.clone());
        tasks.push(tokio::spawn(async move {
            let mut c = Client::connect(&url, &tok, vec![]).await;
            let mut ids = Vec::new();
            for _ in 0..10 {
                ids.push(c.transfer("same-key", "dan", 1_000).await.expect("retry ok").id);
            }
            ids
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.extend(t.await.unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "one transfer for one key: {ids:?}");
    let mut c = hub.connect(&a).await;
    let err = c.transfer("same-key", "dan", 2_000).await.unwrap_err();
    assert_eq!(err.0, ErrorCode::Conflict);
    // Charged once: wait for the one transfer to settle, then the sender has 99,000 in all.
    let store = hub.running.as_ref().unwrap().hub.store.clone();
    for _ in 0..200 {
        if store.read(tally_hub::ledger::unfinished_transfers).await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    match c.request(|id| ClientFrame::Snapshot { id, what: SnapshotKind::Balances }).await.unwrap() {
        Some(AckData::Balances { balances }) => assert_eq!(balances[0].available + balances[0].pending, 99_000),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn overdrafts_limits_and_bad_amounts_are_refused_with_typed_errors() {
    let hub = TestHub::start_with(|c| {
        c.limit_single = 5_000;
        c.limit_daily = 8_000;
    })
    .await;
    let a = hub.register("eve").await;
    hub.register("fox").await;
    hub.deposit("eve", 20_000).await;
    let mut c = hub.connect(&a).await;
    c.subscribe(Channel::Notifications(a.user.id), None).await.unwrap();
    assert_eq!(c.transfer("k1", "fox", 6_000).await.unwrap_err().0, ErrorCode::LimitExceeded);
    let n = c.event_on(Channel::Notifications(a.user.id)).await;
    assert!(matches!(
        n.data,
        EventData::Notification { notification: Notification { kind: NotificationKind::Limits, .. } }
    ));
    c.transfer("k2", "fox", 5_000).await.unwrap();
    assert_eq!(c.transfer("k3", "fox", 4_000).await.unwrap_err().0, ErrorCode::LimitExceeded); // daily
    assert_eq!(c.transfer("k4", "nobody", 100).await.unwrap_err().0, ErrorCode::NotFound);
    assert_eq!(c.transfer("k5", "eve", 100).await.unwrap_err().0, ErrorCode::Invalid);
    assert_eq!(c.transfer("k6", "fox", 0).await.unwrap_err().0, ErrorCode::Invalid);
    assert_eq!(c.transfer("k7", "fox", -5).await.unwrap_err().0, ErrorCode::Invalid);
    let poor = hub.register("gil").await;
    let mut p = hub.connect(&poor).await;
    assert_eq!(p.transfer("k1", "fox", 1).await.unwrap_err().0, ErrorCode::InsufficientFunds);
    assert_eq!(hub.invariants_ok().await["ok"], true);
}

#[tokio::test]
async fn ledger_invariant_holds_after_a_concurrent_storm() {
    let hub = TestHub::start().await;
    let names = ["s1", "s2", "s3", "s4", "s5", "s6"];
    let mut sessions = Vec::new();
    for n in names {
        sessions.push(hub.register(n).await);
        hub.deposit(n, 50_000).await;
    }
    let mut tasks = Vec::new();
    for (i, s) in sessions.iter().enumerate() {
        let (url, tok) = (hub.ws_url(), s.access.clone());
        tasks.push(tokio::spawn(async move {
            let mut c = Client::connect(&url, &tok, vec![]).await;
            let mut ok = 0;
            for k in 0..40 {
                let to = names[(i + 1 + k % 5) % 6];
                // Some will fail for lack of funds: that is part of the storm.
                if c.transfer(&format!("{i}-{k}"), to, 1_000 + (k as i64 * 337) % 9_000).await.is_ok() {
                    ok += 1;
                }
            }
            ok
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert!(total > 100, "most transfers should succeed ({total})");
    // Let the processors finish, then check.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let open = hub.running.as_ref().unwrap().hub.store.read(tally_hub::ledger::unfinished_transfers).await.unwrap();
        if open.is_empty() || tokio::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let inv = hub.invariants_ok().await;
    assert_eq!(inv["ok"], true, "{inv}");
}

#[tokio::test]
async fn withdrawals_never_overdraw_and_keep_the_invariant() {
    let hub = TestHub::start().await;
    hub.register("wes").await;
    hub.deposit("wes", 1_000).await;
    let w = |minor: i64| serde_json::json!({"username": "wes", "amount": {"minor": minor, "currency": "USD"}, "memo": "cash out"});
    let (st, v) = hub.admin_post("/v1/admin/withdraw", w(1_001)).await;
    assert_eq!((st, v["code"].as_str()), (409, Some("insufficient_funds")), "{v}");
    let (st, _) = hub.admin_post("/v1/admin/withdraw", w(400)).await;
    assert_eq!(st, 200);
    let (st, v) = hub.admin_post("/v1/admin/withdraw", w(0)).await;
    assert_eq!((st, v["code"].as_str()), (400, Some("invalid")));
    // Without the admin token: refused.
    let (st, _) = hub.post("/v1/admin/withdraw", w(1)).await;
    assert_eq!(st, 401);
    assert_eq!(hub.invariants_ok().await["ok"], true);
}

#[tokio::test]
async fn a_currency_the_sender_does_not_hold_or_iso_does_not_list_is_invalid_not_insufficient_funds() {
    let hub = TestHub::start().await;
    let a = hub.register("cur-a").await;
    hub.register("cur-b").await;
    hub.deposit("cur-a", 1_000).await;
    let mut c = hub.connect(&a).await;
    let eur = c
        .request(|id| ClientFrame::TransferCreate {
            id,
            idempotency_key: "k-eur".into(),
            to: "cur-b".into(),
            amount: Money::new(100, Currency::parse("EUR").unwrap()),
            memo: String::new(),
            expires_at: None,
            room: None,
        })
        .await;
    let (code, message) = eur.unwrap_err();
    assert_eq!(code, ErrorCode::Invalid, "{message}");
    assert!(message.contains("no EUR account"), "{message}");
    let id = c.id();
    c.send_raw(&format!(
        r#"{{"type":"transfer_create","id":{id},"idempotency_key":"k-xyz","to":"cur-b","amount":{{"minor":100,"currency":"XYZ"}}}}"#
    ))
    .await;
    let f = c.wait_for("the answer", |f| matches!(f, ServerFrame::Error { id: Some(i), .. } if *i == id)).await;
    assert!(matches!(f, ServerFrame::Error { code: ErrorCode::Invalid, .. }), "{f:?}");
}

async fn balances(c: &mut Client) -> Vec<Balance> {
    match c.request(|id| ClientFrame::Snapshot { id, what: SnapshotKind::Balances }).await.unwrap() {
        Some(AckData::Balances { balances }) => balances,
        other => panic!("{other:?}"),
    }
}

async fn pay_in(c: &mut Client, key: &str, to: &str, amount: Money) -> Result<Transfer, (ErrorCode, String)> {
    match c
        .request(|id| ClientFrame::TransferCreate {
            id,
            idempotency_key: key.into(),
            to: to.into(),
            amount,
            memo: String::new(),
            expires_at: None,
            room: None,
        })
        .await
    {
        Ok(Some(AckData::Transfer { transfer })) => Ok(transfer),
        Ok(other) => panic!("{other:?}"),
        Err(e) => Err(e),
    }
}

/// A limit means the same in every currency (hundredths of a major unit): 50.00 per payment is 50.00 USD
/// and 50 JPY, not 5,000 JPY.
#[tokio::test]
async fn limits_mean_the_same_in_every_currency() {
    let hub = TestHub::start_with(|c| {
        c.limit_single = 5_000;
        c.limit_daily = 8_000;
    })
    .await;
    let a = hub.register("yui").await;
    hub.register("ken").await;
    let jpy = Currency::parse("JPY").unwrap();
    let (s, v) = hub
        .admin_post("/v1/admin/deposit", json!({"username": "yui", "amount": {"minor": 100_000, "currency": "JPY"}}))
        .await;
    assert_eq!(s, 200, "{v}");
    let mut c = hub.connect(&a).await;
    let (code, message) = pay_in(&mut c, "j1", "ken", Money::new(51, jpy)).await.unwrap_err();
    assert_eq!(code, ErrorCode::LimitExceeded, "¥51 is over a 50.00 limit: {message}");
    pay_in(&mut c, "j2", "ken", Money::new(50, jpy)).await.expect("¥50 is within it");
    pay_in(&mut c, "j3", "ken", Money::new(30, jpy)).await.expect("¥80 today is the daily limit");
    let (code, _) = pay_in(&mut c, "j4", "ken", Money::new(1, jpy)).await.unwrap_err();
    assert_eq!(code, ErrorCode::LimitExceeded, "daily, in yen");
}

/// Balances are i64 minor units and never leave that range: a deposit that would pass i64::MAX is refused
/// with a typed error and changes nothing (on SQLite the column would otherwise silently become a REAL),
/// and a payment the recipient's balance cannot hold fails and goes back to the sender.
#[tokio::test]
async fn balances_stop_at_the_largest_amount_and_nothing_overflows() {
    let hub = TestHub::start_with(|c| {
        c.limit_single = i64::MAX;
        c.limit_daily = i64::MAX;
    })
    .await;
    let rich = hub.register("rich").await;
    let payer = hub.register("payer").await;
    hub.deposit("rich", i64::MAX).await;
    let (s, v) = hub
        .admin_post("/v1/admin/deposit", json!({"username": "rich", "amount": {"minor": 1, "currency": "USD"}}))
        .await;
    assert_eq!((s, v["code"].as_str()), (400, Some("invalid")), "{v}");
    hub.deposit("payer", 10).await;
    let mut p = hub.connect(&payer).await;
    p.transfer("over", "rich", 10).await.expect("accepted: the hold is the payer's");
    let mut back = balances(&mut p).await;
    for _ in 0..200 {
        if back[0].pending == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        back = balances(&mut p).await;
    }
    assert_eq!((back[0].available, back[0].pending), (10, 0), "the payment failed and the payer has it back");
    let mut r = hub.connect(&rich).await;
    assert_eq!(balances(&mut r).await[0].available, i64::MAX, "unchanged, and still an integer");
    assert_eq!(hub.invariants_ok().await["ok"], true);
}
