//! Adding money through the front door: each user gets their own deposit reference (the same every
//! time), reads the instructions finance published, and a deposit credited by that reference reaches
//! their open app at once with a `deposit` notification; a mistyped reference is refused, never credited
//! to someone else.
mod common;
use common::*;
use serde_json::{json, Value};
use tally_protocol::*;

async fn info(hub: &TestHub, token: &str) -> (u16, Value) {
    let r = hub.http.get(format!("{}/v1/account/deposit-info", hub.base)).bearer_auth(token).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn usd(minor: i64) -> Value {
    json!({"minor": minor, "currency": "USD"})
}

#[tokio::test]
async fn a_deposit_by_reference_reaches_its_owner_live_and_a_typo_reaches_nobody() {
    let hub = TestHub::start().await;
    let alice = hub.register("alice").await;
    let bob = hub.register("bob").await;
    let (s, v) = info(&hub, &alice.access).await;
    assert_eq!((s, v["instructions"].as_str()), (200, Some("")), "{v}");
    let reference = v["reference"].as_str().unwrap().to_string();
    assert_eq!(deposit_ref::parse(&reference).as_deref(), Ok(reference.as_str()), "a well-formed reference");
    assert_eq!(info(&hub, &alice.access).await.1["reference"], reference, "the same every time");
    assert_ne!(info(&hub, &bob.access).await.1["reference"], reference, "each user their own");
    assert_eq!(info(&hub, "not a token").await.0, 401);

    let text =
        "Bank transfer to Tally Ltd\nIBAN GB82 WEST 1234 5698 7654 32\nWrite your reference in the payment note.";
    let (s, v) = hub.admin_post("/v1/admin/deposit-instructions", json!({"instructions": text})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(info(&hub, &alice.access).await.1["instructions"], text);
    let (s, _) = hub.admin_post("/v1/admin/deposit-instructions", json!({"instructions": "IBAN \u{202E}23"})).await;
    assert_eq!(s, 400, "no direction overrides");

    let mut c = hub.connect(&alice).await;
    for ch in [Channel::Balance(alice.user.id), Channel::Notifications(alice.user.id)] {
        c.subscribe(ch, None).await.unwrap();
    }
    // As a bank statement has it: lower case, spaces for dashes.
    let written = reference.to_lowercase().replace('-', " ");
    let body = json!({"reference": written, "amount": usd(5_000), "memo": "Bank transfer"});
    let (s, v) = hub.admin_post("/v1/admin/deposit", body).await;
    assert_eq!(s, 200, "{v}");
    let e = c.event_on(Channel::Balance(alice.user.id)).await;
    let EventData::Balance { balance } = e.data else { panic!("{e:?}") };
    assert_eq!(balance.available, 5_000);
    let e = c.event_on(Channel::Notifications(alice.user.id)).await;
    let EventData::Notification { notification } = e.data else { panic!("{e:?}") };
    assert_eq!((notification.kind, notification.title.as_str()), (NotificationKind::Deposit, "Deposit of 50.00 USD"));
    assert_eq!(notification.text, Some(NotificationText::Deposit { amount: Money::new(5_000, Currency::USD) }));

    // One character wrong: refused by the check digits; a sound reference nobody has: not found.
    let mut typo: Vec<char> = reference.chars().collect();
    typo[5] = if typo[5] == '7' { '8' } else { '7' };
    let typo: String = typo.into_iter().collect();
    let (s, v) = hub.admin_post("/v1/admin/deposit", json!({"reference": typo, "amount": usd(100)})).await;
    assert_eq!((s, v["code"].as_str()), (400, Some("invalid")), "{v}");
    assert!(v["message"].as_str().unwrap().contains("check digits"), "{v}");
    let nobody = deposit_ref::make([9, 9, 9, 9, 9]);
    let (s, _) = hub.admin_post("/v1/admin/deposit", json!({"reference": nobody, "amount": usd(100)})).await;
    assert_eq!(s, 404);
    let both = json!({"username": "bob", "reference": reference, "amount": usd(100)});
    assert_eq!(hub.admin_post("/v1/admin/deposit", both).await.0, 400);
    let out = json!({"reference": reference, "amount": usd(100)});
    assert_eq!(hub.admin_post("/v1/admin/withdraw", out).await.0, 400, "a withdrawal names the user");
    assert!(c.try_event_on(Channel::Balance(alice.user.id), std::time::Duration::from_millis(300)).await.is_none());
    assert_eq!(hub.invariants_ok().await["ok"], true);

    let r = hub.http.get(format!("{}/v1/admin/audit", hub.base)).bearer_auth(&hub.admin).send().await.unwrap();
    let v: Value = r.json().await.unwrap();
    assert!(v["entries"].as_array().unwrap().iter().any(|e| e["action"] == "deposit_instructions_set"), "{v}");
}

#[tokio::test]
async fn a_mistake_is_put_right_by_a_correcting_entry_not_an_edit() {
    let hub = TestHub::start().await;
    let alice = hub.register("alice").await;
    hub.register("bob").await;
    hub.deposit("alice", 10_000).await;
    hub.deposit("bob", 100).await;
    let mut c = hub.connect(&alice).await;
    c.subscribe(Channel::Transactions(alice.user.id), None).await.unwrap();
    let deposit = lines(&mut c).await.remove(0);
    c.subscribe(Channel::Notifications(alice.user.id), None).await.unwrap();

    let body = |minor: i64, direction: &str, reason: &str, corrects: Option<i64>| json!({"username": "alice", "amount": usd(minor), "direction": direction, "reason": reason, "corrects": corrects});
    let (s, v) = hub
        .admin_post("/v1/admin/adjustments", body(1_000, "out", "Entered as $100.00; $90.00 arrived", Some(deposit.id)))
        .await;
    assert_eq!(s, 200, "{v}");
    let e = c.event_on(Channel::Transactions(alice.user.id)).await;
    let EventData::Transaction { transaction: fix } = e.data else { panic!("{e:?}") };
    assert_eq!(
        (fix.kind, fix.direction, fix.amount.minor, fix.balance_after),
        (TxKind::Adjustment, Direction::Out, 1_000, 9_000)
    );
    assert_eq!(fix.memo, format!("Correction of transaction {}: Entered as $100.00; $90.00 arrived", deposit.id));
    let e = c.event_on(Channel::Notifications(alice.user.id)).await;
    let EventData::Notification { notification } = e.data else { panic!("{e:?}") };
    assert_eq!(
        (notification.kind, notification.title.as_str()),
        (NotificationKind::Balance, "Your balance was corrected: -10.00 USD")
    );
    let (s, v) = hub.admin_post("/v1/admin/adjustments", body(500, "in", "Fee refunded", None)).await;
    assert_eq!(s, 200, "{v}");

    // Refused, nothing moves: no reason; another user's line; more than the balance.
    assert_eq!(hub.admin_post("/v1/admin/adjustments", body(1, "in", " ", None)).await.0, 400);
    let (s, _) = hub.admin_post("/v1/admin/adjustments", body(1, "in", "x", Some(deposit.id + 1))).await;
    assert_eq!(s, 404, "bob's deposit is not alice's to correct");
    let (s, v) = hub.admin_post("/v1/admin/adjustments", body(1_000_000, "out", "x", None)).await;
    assert_eq!((s, v["code"].as_str()), (409, Some("insufficient_funds")), "{v}");

    // The deposit itself is as it was: history is appended to, never edited.
    let transactions = lines(&mut c).await;
    let first = transactions.iter().find(|t| t.id == deposit.id).unwrap();
    assert_eq!((first.amount.minor, first.kind), (10_000, TxKind::Deposit));
    assert_eq!(transactions[0].balance_after, 9_500);
    assert_eq!(hub.invariants_ok().await["ok"], true);
}

async fn lines(c: &mut Client) -> Vec<Transaction> {
    let what = SnapshotKind::Transactions { before: None, limit: 10 };
    match c.request(|id| ClientFrame::Snapshot { id, what }).await.unwrap() {
        Some(AckData::Transactions { transactions, .. }) => transactions,
        other => panic!("{other:?}"),
    }
}
