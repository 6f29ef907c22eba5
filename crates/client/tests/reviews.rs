//! A payment held for a compliance review, from the app against a real hub: the open app shows it under
//! review (not completed, not failed, the money held), keeps following it, and shows it completed once
//! the operator releases it — or failed with the money back when a second one is rejected.
mod support;
use serde_json::json;
use support::*;
use tally_client::view::*;
use tally_protocol::*;

fn status(app: &App, key: &str) -> Option<TransferStatus> {
    let open = app.engine.transfers_open().unwrap();
    open.into_iter().find(|t| t.transfer.idempotency_key.as_deref() == Some(key)).map(|t| t.transfer.status)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_payment_shows_under_review_then_completes_or_comes_back() {
    let hub = Hub::start().await;
    for name in ["rex", "ann"] {
        hub.register(name).await;
    }
    hub.deposit("rex", 100_000).await;
    let (s, v) = hub.admin_post("/v1/admin/compliance-rules", json!({"single_over": 10_000})).await;
    assert_eq!(s, 200, "{v}");
    let dir = tempfile::tempdir().unwrap();
    let app = App::new(dir.path());
    app.engine.sign_in(&hub.url(), "rex", "pass-word-123", None).await.unwrap();
    app.wait_live().await;

    let send = |minor| SendMoney {
        to: "ann".into(),
        amount: Money::new(minor, Currency::USD),
        memo: "rent".into(),
        room: None,
    };
    let held = app.engine.send_money(&send(30_000)).unwrap();
    let other = app.engine.send_money(&send(20_000)).unwrap();
    let (k1, k2) = (held.transfer.idempotency_key.clone().unwrap(), other.transfer.idempotency_key.clone().unwrap());
    app.until("both under review", |_| {
        status(&app, &k1) == Some(TransferStatus::Review) && status(&app, &k2) == Some(TransferStatus::Review)
    })
    .await;
    app.until("the money held", |_| app.usd() == (50_000, 50_000)).await;

    let reviews = hub.admin_get("/v1/admin/reviews").await;
    let ids: Vec<i64> =
        reviews["reviews"].as_array().unwrap().iter().map(|r| r["transfer"]["id"].as_i64().unwrap()).collect();
    assert_eq!(ids.len(), 2, "{reviews}");
    let (s, v) = hub.admin_post("/v1/admin/reviews/decide", json!({"transfer": ids[0], "release": true})).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = hub.admin_post("/v1/admin/reviews/decide", json!({"transfer": ids[1], "release": false})).await;
    assert_eq!(s, 200, "{v}");
    app.until("released and completed, rejected and failed", |_| {
        status(&app, &k1) == Some(TransferStatus::Completed) && status(&app, &k2) == Some(TransferStatus::Failed)
    })
    .await;
    app.until("the rejected money back", |_| app.usd() == (70_000, 0)).await;
}
