//! Compliance holds through the front door: each of the four rules fires just over its value and not at
//! it; a held transfer keeps the sender's money without posting it, survives a restart, and is released
//! (it completes) or rejected (it fails and the money comes back), with the ledger sound throughout.
mod common;
use common::*;
use serde_json::{json, Value};
use std::time::Duration;
use tally_protocol::*;

async fn rules(hub: &TestHub, body: Value) {
    let (s, v) = hub.admin_post("/v1/admin/compliance-rules", body).await;
    assert_eq!(s, 200, "{v}");
}

async fn pay(c: &mut Client, key: &str, to: &str, minor: i64) -> TransferStatus {
    c.transfer(key, to, minor).await.unwrap_or_else(|e| panic!("{key}: {e:?}")).status
}

async fn get(hub: &TestHub, path: &str) -> Value {
    let r = hub.http.get(format!("{}{path}", hub.base)).bearer_auth(&hub.admin).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    r.json().await.unwrap()
}

async fn status_now(hub: &TestHub, c: &mut Client, id: TransferId) -> TransferStatus {
    let _ = hub;
    match c.request(|rid| ClientFrame::Snapshot { id: rid, what: SnapshotKind::OpenTransfers }).await.unwrap() {
        Some(AckData::Transfers { transfers }) => transfers.iter().find(|t| t.id == id).map(|t| t.status),
        other => panic!("{other:?}"),
    }
    .unwrap_or(TransferStatus::Completed)
}

#[tokio::test]
async fn each_rule_fires_over_its_value_and_not_at_it() {
    let hub = TestHub::start().await;
    for name in ["alice", "bob", "carol", "dave", "erin", "frank"] {
        hub.register(name).await;
    }
    for name in ["alice", "carol", "dave", "erin"] {
        hub.deposit(name, 1_000_000).await;
    }
    let session = |name: &str| {
        let (u, p) = (name.to_string(), "correct horse battery".to_string());
        let hub = &hub;
        async move {
            let (_, v) = hub.post("/v1/auth/login", json!({"username": u, "password": p})).await;
            hub.connect(&Session::from_json(&v)).await
        }
    };

    rules(&hub, json!({"single_over": 50_000})).await;
    let mut a = session("alice").await;
    assert_eq!(pay(&mut a, "a1", "bob", 50_000).await, TransferStatus::Completed, "at the amount");
    assert_eq!(pay(&mut a, "a2", "bob", 50_001).await, TransferStatus::Review, "one cent over");

    rules(&hub, json!({"hourly_count_over": 2})).await;
    let mut c = session("carol").await;
    assert_eq!(pay(&mut c, "c1", "bob", 100).await, TransferStatus::Completed);
    assert_eq!(pay(&mut c, "c2", "bob", 100).await, TransferStatus::Completed, "the second: at the count");
    assert_eq!(pay(&mut c, "c3", "bob", 100).await, TransferStatus::Review, "the third in the hour");

    rules(&hub, json!({"hourly_amount_over": 10_000})).await;
    let mut d = session("dave").await;
    assert_eq!(pay(&mut d, "d1", "bob", 6_000).await, TransferStatus::Completed);
    assert_eq!(pay(&mut d, "d2", "bob", 4_000).await, TransferStatus::Completed, "$100.00 in the hour: at it");
    assert_eq!(pay(&mut d, "d3", "bob", 1).await, TransferStatus::Review, "one cent over in the hour");

    rules(&hub, json!({"new_payee_over": 20_000})).await;
    let mut e = session("erin").await;
    assert_eq!(pay(&mut e, "e1", "bob", 20_000).await, TransferStatus::Completed, "a new payee, at the amount");
    assert_eq!(pay(&mut e, "e2", "frank", 20_001).await, TransferStatus::Review, "a new payee, over it");
    assert_eq!(pay(&mut e, "e3", "bob", 90_000).await, TransferStatus::Completed, "paid before");

    let (s, v) = hub.admin_post("/v1/admin/compliance-rules", json!({"single_over": 0})).await;
    assert_eq!((s, v["code"].as_str()), (400, Some("invalid")), "{v}");
    let q = get(&hub, "/v1/admin/reviews").await;
    let reasons: Vec<&str> = q["reviews"].as_array().unwrap().iter().map(|r| r["reason"].as_str().unwrap()).collect();
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    assert!(reasons[0].contains("over 500.00 USD"), "{reasons:?}");
    assert_eq!(hub.invariants_ok().await["ok"], true);
}

#[tokio::test]
async fn a_held_transfer_survives_a_restart_and_is_released_or_rejected() {
    let mut hub = TestHub::start().await;
    let alice = hub.register("alice").await;
    let bob = hub.register("bob").await;
    hub.deposit("alice", 100_000).await;
    rules(&hub, json!({"single_over": 10_000})).await;
    let mut c = hub.connect(&alice).await;
    c.subscribe(Channel::Notifications(alice.user.id), None).await.unwrap();
    let held = c.transfer("h1", "bob", 30_000).await.unwrap();
    let rejected = c.transfer("h2", "bob", 20_000).await.unwrap();
    assert_eq!((held.status, rejected.status), (TransferStatus::Review, TransferStatus::Review));
    let e = c.event_on(Channel::Notifications(alice.user.id)).await;
    let EventData::Notification { notification } = e.data else { panic!("{e:?}") };
    assert_eq!(notification.title, "Your payment of 300.00 USD to BOB is under review");
    assert!(!notification.body.contains("over"), "the rule is not told: {}", notification.body);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(status_now(&hub, &mut c, held.id).await, TransferStatus::Review, "not driven on");
    assert_eq!(hub.invariants_ok().await["ok"], true);

    drop(c);
    hub.restart_with(|_| {}).await;
    let q = get(&hub, "/v1/admin/reviews").await;
    assert_eq!(q["reviews"].as_array().map(Vec::len), Some(2), "{q}");

    let (s, v) = hub
        .admin_post(
            "/v1/admin/reviews/decide",
            json!({"transfer": held.id, "release": true, "reason": "known customer"}),
        )
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("completed")), "posted with the release: {v}");
    let (s, v) = hub
        .admin_post("/v1/admin/reviews/decide", json!({"transfer": rejected.id, "release": false, "reason": "no"}))
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("failed")), "{v}");
    let (s, _) = hub.admin_post("/v1/admin/reviews/decide", json!({"transfer": held.id, "release": false})).await;
    assert_eq!(s, 409, "decided once");

    let mut b = hub.connect(&bob).await;
    for _ in 0..200 {
        if let Some(AckData::Balances { balances }) =
            b.request(|id| ClientFrame::Snapshot { id, what: SnapshotKind::Balances }).await.unwrap()
        {
            if balances.iter().any(|x| x.available == 30_000) {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let mut a = hub.connect(&alice).await;
    let Some(AckData::Balances { balances }) =
        a.request(|id| ClientFrame::Snapshot { id, what: SnapshotKind::Balances }).await.unwrap()
    else {
        panic!()
    };
    assert_eq!((balances[0].available, balances[0].pending), (70_000, 0), "released went, rejected came back");
    assert_eq!(hub.invariants_ok().await["ok"], true);
    assert_eq!(get(&hub, "/v1/admin/reviews").await["reviews"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn a_rejected_payment_gives_its_amount_back_to_the_day_s_limit() {
    let hub = TestHub::start_with(|c| {
        c.limit_single = 50_000;
        c.limit_daily = 60_000;
    })
    .await;
    let alice = hub.register("alice").await;
    hub.register("bob").await;
    hub.deposit("alice", 200_000).await;
    rules(&hub, json!({"single_over": 30_000})).await;
    let mut c = hub.connect(&alice).await;
    let held = c.transfer("d1", "bob", 40_000).await.unwrap();
    assert_eq!(held.status, TransferStatus::Review);
    // Held, it counts: 40,000 of 60,000 sent today.
    let (code, why) = c.transfer("d2", "bob", 25_000).await.unwrap_err();
    assert_eq!(code, ErrorCode::LimitExceeded, "{why}");
    assert!(why.contains("400.00") && why.contains("already sent today"), "{why}");
    let (s, v) = hub
        .admin_post("/v1/admin/reviews/decide", json!({"transfer": held.id, "release": false, "reason": "no"}))
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("failed")), "{v}");
    // Rejected, it no longer does: the whole 60,000 is there again, and not a cent more.
    assert_eq!(c.transfer("d3", "bob", 25_000).await.unwrap().status, TransferStatus::Completed);
    assert_eq!(c.transfer("d4", "bob", 25_000).await.unwrap().status, TransferStatus::Completed);
    let (code, why) = c.transfer("d5", "bob", 10_001).await.unwrap_err();
    assert_eq!(code, ErrorCode::LimitExceeded, "{why}");
    assert!(why.contains("500.00 USD already sent today"), "{why}");
    assert_eq!(hub.invariants_ok().await["ok"], true);
}
