//! Withdrawals through the front door: a user asks over the socket, the amount is held (balance and a
//! pending history line), the request survives a restart, finance pays it out or rejects it with a reason,
//! and the user's app hears each step with a `withdrawal` notification; bad input is refused with a clear
//! error and moves nothing; a support operator may read the queue but not decide; the ledger stays sound.
mod common;
use common::*;
use serde_json::json;
use tally_protocol::*;

const IBAN: &str = "de89 3704 0044 0532 0130 00";

async fn withdraw(c: &mut Client, key: &str, minor: i64, to: &str) -> Result<Withdrawal, (ErrorCode, String)> {
    let (key, destination) = (key.to_string(), to.to_string());
    let amount = Money::new(minor, Currency::USD);
    match c.request(|id| ClientFrame::WithdrawalCreate { id, idempotency_key: key, amount, destination }).await? {
        Some(AckData::Withdrawal { withdrawal }) => Ok(withdrawal),
        other => panic!("unexpected ack {other:?}"),
    }
}

async fn balance_event(c: &mut Client, user: UserId) -> Balance {
    let e = c.event_on(Channel::Balance(user)).await;
    let EventData::Balance { balance } = e.data else { panic!("{e:?}") };
    balance
}

async fn line_event(c: &mut Client, user: UserId) -> Transaction {
    let e = c.event_on(Channel::Transactions(user)).await;
    let EventData::Transaction { transaction } = e.data else { panic!("{e:?}") };
    transaction
}

async fn notification(c: &mut Client, user: UserId) -> Notification {
    let e = c.event_on(Channel::Notifications(user)).await;
    let EventData::Notification { notification } = e.data else { panic!("{e:?}") };
    notification
}

async fn subscribed(hub: &TestHub, s: &Session) -> Client {
    let mut c = hub.connect(s).await;
    let me = s.user.id;
    for ch in [Channel::Balance(me), Channel::Transactions(me), Channel::Notifications(me)] {
        c.subscribe(ch, None).await.unwrap();
    }
    c
}

#[tokio::test]
async fn a_withdrawal_holds_the_money_until_finance_pays_it_out_or_rejects_it() {
    let mut hub = TestHub::start().await;
    let alice = hub.register("alice").await;
    let me = alice.user.id;
    hub.deposit("alice", 10_000).await;
    let mut c = subscribed(&hub, &alice).await;

    // Refused, nothing held: a mistyped IBAN, more than the balance, nothing to say where.
    let (code, why) = withdraw(&mut c, "bad", 1_000, "DE89 3704 0044 0532 0130 01").await.unwrap_err();
    assert_eq!(code, ErrorCode::Invalid);
    assert!(why.contains("check digits"), "{why}");
    let (code, why) = withdraw(&mut c, "much", 10_001, IBAN).await.unwrap_err();
    assert_eq!(code, ErrorCode::InsufficientFunds, "{why}");
    assert!(why.contains("100.00"), "{why}");
    let (code, _) = withdraw(&mut c, "empty", 1_000, "  ").await.unwrap_err();
    assert_eq!(code, ErrorCode::Invalid);

    // Held: available down, pending up, a pending line to the grouped IBAN; a retry is the same withdrawal.
    let w = withdraw(&mut c, "w1", 3_000, IBAN).await.unwrap();
    assert_eq!((w.status, w.destination.as_str()), (WithdrawalStatus::Pending, "DE89 3704 0044 0532 0130 00"));
    let b = balance_event(&mut c, me).await;
    assert_eq!((b.available, b.pending), (7_000, 3_000));
    let line = line_event(&mut c, me).await;
    assert_eq!((line.id, line.kind, line.status), (w.transaction_id, TxKind::Withdrawal, TransferStatus::Pending));
    assert_eq!((line.balance_after, line.memo.as_str()), (7_000, "DE89 3704 0044 0532 0130 00"));
    assert_eq!(withdraw(&mut c, "w1", 3_000, IBAN).await.unwrap().id, w.id);
    let (code, _) = withdraw(&mut c, "w1", 3_001, IBAN).await.unwrap_err();
    assert_eq!(code, ErrorCode::Conflict);
    let w2 = withdraw(&mut c, "w2", 2_000, "PayPal alice@example.com").await.unwrap();
    assert_eq!(balance_event(&mut c, me).await.available, 5_000);
    line_event(&mut c, me).await;

    // The queue survives a restart.
    drop(c);
    hub.restart_with(|_| {}).await;
    let mut c = subscribed(&hub, &alice).await;
    let admin = hub.admin.clone();
    let (s, v) = hub.get_as(&admin, "/v1/admin/withdrawals").await;
    assert_eq!(s, 200, "{v}");
    let ids: Vec<i64> = v["withdrawals"].as_array().unwrap().iter().map(|w| w["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [w.id, w2.id]);
    assert_eq!(v["withdrawals"][0]["user"]["username"], "alice");

    // Rejected: a reason is needed; the hold goes back; the line failed; the user is told why.
    let (s, v) = hub.post_as(&admin, "/v1/admin/withdrawals/decide", json!({"id": w.id, "approve": false})).await;
    assert_eq!((s, v["code"].as_str()), (400, Some("invalid")), "{v}");
    let reject = json!({"id": w.id, "approve": false, "reason": "The account name does not match yours."});
    let (s, v) = hub.post_as(&admin, "/v1/admin/withdrawals/decide", reject.clone()).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("rejected")), "{v}");
    let b = balance_event(&mut c, me).await;
    assert_eq!((b.available, b.pending), (8_000, 2_000));
    let line = line_event(&mut c, me).await;
    assert_eq!((line.status, line.balance_after), (TransferStatus::Failed, 8_000));
    let n = notification(&mut c, me).await;
    assert_eq!((n.kind, n.title.as_str()), (NotificationKind::Withdrawal, "Withdrawal of 30.00 USD rejected"));
    assert!(n.body.starts_with("The account name does not match yours."), "{}", n.body);
    assert_eq!(n.target, Some(NotificationTarget::Transaction { id: w.transaction_id }));
    let (s, v) = hub.post_as(&admin, "/v1/admin/withdrawals/decide", reject).await;
    assert_eq!((s, v["code"].as_str()), (409, Some("conflict")), "decided once: {v}");

    // Paid out: the hold leaves the tenant; the line completed; the user is told where it went.
    let (s, v) = hub.post_as(&admin, "/v1/admin/withdrawals/decide", json!({"id": w2.id, "approve": true})).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("completed")), "{v}");
    let b = balance_event(&mut c, me).await;
    assert_eq!((b.available, b.pending), (8_000, 0));
    assert_eq!(line_event(&mut c, me).await.status, TransferStatus::Completed);
    let n = notification(&mut c, me).await;
    assert_eq!(
        (n.title.as_str(), n.body.as_str()),
        ("Withdrawal of 20.00 USD paid out", "Sent to PayPal alice@example.com")
    );
    let (s, v) = hub.get_as(&admin, "/v1/admin/withdrawals?status=completed").await;
    assert_eq!((s, v["withdrawals"].as_array().map(Vec::len)), (200, Some(1)), "{v}");
    let (s, v) = hub.get_as(&admin, "/v1/admin/withdrawals?status=lost").await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(hub.invariants_ok().await["ok"], true);

    let (s, v) = hub.get_as(&admin, "/v1/admin/audit").await;
    assert_eq!(s, 200);
    let actions: Vec<&str> = v["entries"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    assert!(actions.contains(&"withdrawal_rejected") && actions.contains(&"withdrawal_paid_out"), "{actions:?}");
}

#[tokio::test]
async fn support_reads_the_queue_and_only_finance_decides() {
    let hub = TestHub::start().await;
    let alice = hub.register("alice").await;
    hub.deposit("alice", 5_000).await;
    let mut c = hub.connect(&alice).await;
    let w = withdraw(&mut c, "w", 1_000, IBAN).await.unwrap();
    let root = hub.operator(&hub.admin, "root", "admin").await;
    let sue = hub.operator(&root, "sue", "support").await;
    let fin = hub.operator(&root, "fin", "finance").await;

    let (s, v) = hub.get_as(&sue, "/v1/admin/withdrawals").await;
    assert_eq!((s, v["withdrawals"].as_array().map(Vec::len)), (200, Some(1)), "{v}");
    let (s, v) = hub.post_as(&sue, "/v1/admin/withdrawals/decide", json!({"id": w.id, "approve": true})).await;
    assert_eq!((s, v["code"].as_str()), (403, Some("forbidden")), "{v}");
    let (s, v) = hub.post_as(&fin, "/v1/admin/withdrawals/decide", json!({"id": w.id, "approve": true})).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("completed")), "{v}");
    let (s, _) = hub.post_as(&fin, "/v1/admin/withdrawals/decide", json!({"id": 999_999, "approve": true})).await;
    assert_eq!(s, 404);
    let (s, v) = hub.get_as(&root, "/v1/admin/audit").await;
    assert_eq!(s, 200);
    let by_fin = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "withdrawal_paid_out" && e["actor"] == "operator:fin");
    assert!(by_fin, "{v}");
}
