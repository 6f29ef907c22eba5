//! Withdrawals from the app against a real hub: a mistyped IBAN never leaves the app; a withdrawal holds
//! the money (the balance and a pending history line in the cache); the operator's decision reaches the
//! open app — the balance, the line's outcome and one native notification; offline, it is refused, not
//! queued.
mod support;
use serde_json::json;
use support::*;
use tally_client::view::*;
use tally_client::Error;
use tally_protocol::*;

fn out(key: &str, minor: i64, to: &str) -> WithdrawMoney {
    WithdrawMoney { key: key.into(), amount: Money::new(minor, Currency::USD), destination: to.into() }
}

fn line(app: &App, id: TxId) -> Option<Transaction> {
    let f = TxFilter { kinds: vec![TxKind::Withdrawal], ..Default::default() };
    app.engine.transactions(&f, None, 50).unwrap().rows.into_iter().map(|r| r.tx).find(|t| t.id == id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withdrawal_is_held_then_decided_and_the_open_app_shows_each_step() {
    let mut hub = Hub::start().await;
    hub.register("wes").await;
    hub.deposit("wes", 10_000).await;
    let dir = tempfile::tempdir().unwrap();
    let app = App::new(dir.path());
    app.engine.sign_in(&hub.url(), "wes", "pass-word-123", None).await.unwrap();
    app.wait_live().await;
    app.until("the deposit", |_| app.usd() == (10_000, 0)).await;

    let e = app.engine.withdraw(&out("k0", 1_000, "NL91 ABNA 0417 1643 01")).await.unwrap_err();
    assert!(matches!(&e, Error::InvalidInput(m) if m.contains("check digits")), "{e:?}");
    let e = app.engine.withdraw(&out("k0", 0, "NL91 ABNA 0417 1643 00")).await.unwrap_err();
    assert!(matches!(e, Error::InvalidInput(_)), "{e:?}");
    let e = app.engine.withdraw(&out("k0", 20_000, "NL91 ABNA 0417 1643 00")).await.unwrap_err();
    assert_eq!(e.to_string(), "available balance is 100.00 USD", "the hub's words");

    let rej = app.engine.withdraw(&out("k1", 3_000, "nl91abna0417164300")).await.unwrap();
    assert_eq!((rej.status, rej.destination.as_str()), (WithdrawalStatus::Pending, "NL91 ABNA 0417 1643 00"));
    app.until("the hold", |_| app.usd() == (7_000, 3_000)).await;
    app.until("the pending line", |_| line(&app, rej.transaction_id).is_some()).await;
    let l = line(&app, rej.transaction_id).unwrap();
    assert_eq!(
        (l.status, l.direction, l.memo.as_str()),
        (TransferStatus::Pending, Direction::Out, "NL91 ABNA 0417 1643 00")
    );
    let paid = app.engine.withdraw(&out("k2", 2_000, "Wise, wes@example.com")).await.unwrap();
    app.until("both held", |_| app.usd() == (5_000, 5_000)).await;

    let reason = "The account holder's name does not match yours.";
    let (s, v) =
        hub.admin_post("/v1/admin/withdrawals/decide", json!({"id": rej.id, "approve": false, "reason": reason})).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = hub.admin_post("/v1/admin/withdrawals/decide", json!({"id": paid.id, "approve": true})).await;
    assert_eq!(s, 200, "{v}");
    app.until("the outcome", |_| app.usd() == (8_000, 0)).await;
    app.until("both lines", |_| {
        line(&app, rej.transaction_id).map(|l| l.status) == Some(TransferStatus::Failed)
            && line(&app, paid.transaction_id).map(|l| l.status) == Some(TransferStatus::Completed)
    })
    .await;
    app.until("two notifications", |_| app.shown().iter().filter(|n| n.title.starts_with("Withdrawal")).count() >= 2)
        .await;
    let shown = app.shown();
    let titles: Vec<&str> = shown.iter().map(|n| n.title.as_str()).collect();
    let rejected = shown.iter().find(|n| n.title.contains("rejected")).unwrap_or_else(|| panic!("{titles:?}"));
    assert!(rejected.body.starts_with(reason), "{}", rejected.body);
    assert_eq!(rejected.target, Some(NotificationTarget::Transaction { id: rej.transaction_id }));
    assert_eq!(titles.iter().filter(|t| t.contains("paid out")).count(), 1, "{titles:?}");

    hub.stop().await;
    app.wait_not_live().await;
    let e = app.engine.withdraw(&out("k3", 1_000, "Wise, wes@example.com")).await.unwrap_err();
    assert!(matches!(e, Error::Offline | Error::Network(_)), "refused, not queued: {e:?}");
    assert_eq!(app.usd(), (8_000, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn money_added_by_the_reference_the_app_shows_arrives_live_and_the_instructions_stay_offline() {
    let mut hub = Hub::start().await;
    hub.register("ada").await;
    let dir = tempfile::tempdir().unwrap();
    let app = App::new(dir.path());
    app.engine.sign_in(&hub.url(), "ada", "pass-word-123", None).await.unwrap();
    app.wait_live().await;
    let text = "Bank transfer to Tally Ltd, IBAN GB82 WEST 1234 5698 7654 32, your reference in the note.";
    let (s, v) = hub.admin_post("/v1/admin/deposit-instructions", json!({"instructions": text})).await;
    assert_eq!(s, 200, "{v}");
    let info = app.engine.deposit_info().await.unwrap();
    assert_eq!(info.instructions, text);
    assert_eq!(deposit_ref::parse(&info.reference).as_deref(), Ok(info.reference.as_str()));

    let body =
        json!({"reference": info.reference, "amount": {"minor": 2_500, "currency": "USD"}, "memo": "Bank transfer"});
    let (s, v) = hub.admin_post("/v1/admin/deposit", body).await;
    assert_eq!(s, 200, "{v}");
    app.until("the deposit", |_| app.usd() == (2_500, 0)).await;
    app.until("its notification", |_| app.shown().iter().any(|n| n.title == "Deposit of 25.00 USD")).await;
    // It was $20.00: finance corrects it with a new line, and the app shows both.
    let fix = json!({"username": "ada", "amount": {"minor": 500, "currency": "USD"}, "direction": "out", "reason": "$20.00 arrived"});
    let (s, v) = hub.admin_post("/v1/admin/adjustments", fix).await;
    assert_eq!(s, 200, "{v}");
    app.until("the correction", |_| app.usd() == (2_000, 0)).await;
    let f = TxFilter { kinds: vec![TxKind::Adjustment], ..Default::default() };
    let rows = app.engine.transactions(&f, None, 10).unwrap().rows;
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].tx.direction, rows[0].tx.memo.as_str()), (Direction::Out, "$20.00 arrived"));

    hub.stop().await;
    app.wait_not_live().await;
    assert_eq!(app.engine.deposit_info().await.unwrap(), info, "offline: what the hub said last");
}
