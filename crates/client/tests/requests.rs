//! Payment requests from the app (#14, money in the conversation): asking, paying once, declining and
//! cancelling through the engine against a real hub; what each party's cache shows, and what a fresh
//! device of the requester downloads.
mod support;
use support::*;
use tally_client::view::*;
use tally_protocol::*;

async fn signed_in(server: &str, name: &str, dir: &std::path::Path) -> App {
    let app = App::new(dir);
    app.engine.sign_in(server, name, "pass-word-123", None).await.expect("sign in");
    app.wait_live().await;
    app
}

fn ask(key: &str, from: &str, minor: i64, memo: &str) -> AskMoney {
    AskMoney {
        key: key.into(),
        from: from.into(),
        amount: Money::new(minor, Currency::USD),
        memo: memo.into(),
        expires_at: None,
        room: None,
    }
}

fn status_of(app: &App, id: RequestId) -> Option<RequestStatus> {
    app.engine.payment_requests().unwrap().into_iter().find(|r| r.request.id == id).map(|r| r.request.status)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_is_paid_once_and_both_apps_follow_it_and_a_new_device_has_it() {
    let hub = Hub::start().await;
    for name in ["amy", "bea"] {
        hub.register(name).await;
    }
    hub.deposit("bea", 10_000).await;
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let amy = signed_in(&hub.url(), "amy", da.path()).await;
    let bea = signed_in(&hub.url(), "bea", db.path()).await;

    let asked = amy.engine.request_money(&ask("form-1", " Bea ", 1_200, " Cinema 🎬 ")).await.expect("asked");
    assert!(!asked.incoming);
    assert_eq!((asked.request.status, asked.request.memo.as_str()), (RequestStatus::Open, "Cinema 🎬"));
    let again = amy.engine.request_money(&ask("form-1", "bea", 1_200, "Cinema 🎬")).await.expect("same form");
    assert_eq!(again.request.id, asked.request.id, "a retried form does not ask twice");
    let id = asked.request.id;

    // bea's app has it as asked of her, with a notification that opens it.
    bea.until("bea sees the request", |_| status_of(&bea, id) == Some(RequestStatus::Open)).await;
    assert!(bea.engine.payment_requests().unwrap()[0].incoming);
    bea.until("bea is notified", |e| {
        e.notifications(None, 50)
            .unwrap()
            .iter()
            .any(|n| n.kind == NotificationKind::PaymentRequest && n.target == Some(NotificationTarget::Request { id }))
    })
    .await;

    let paid = bea.engine.pay_request(id).await.expect("bea pays");
    assert_eq!((paid.transfer.to.username.as_str(), paid.transfer.amount.minor), ("amy", 1_200));
    assert_eq!(bea.engine.pay_request(id).await.expect("again").transfer.id, paid.transfer.id, "paid once");
    amy.until("amy sees it paid", |_| status_of(&amy, id) == Some(RequestStatus::Paid)).await;
    bea.until("bea sees it paid", |_| status_of(&bea, id) == Some(RequestStatus::Paid)).await;
    bea.until("bea's payment completed", |e| {
        e.transfer_status(paid.transfer.idempotency_key.as_deref().unwrap())
            .unwrap()
            .is_some_and(|t| t.transfer.status == TransferStatus::Completed)
    })
    .await;
    amy.until("amy was paid", |_| amy.usd().0 == 1_200).await;
    assert_eq!(bea.usd().0, 8_800);

    // Declined and cancelled requests reach the other side too.
    let declined = amy.engine.request_money(&ask("form-2", "bea", 500, "")).await.unwrap().request.id;
    bea.until("bea has the second", |_| status_of(&bea, declined).is_some()).await;
    assert_eq!(bea.engine.decline_request(declined).await.unwrap().request.status, RequestStatus::Declined);
    amy.until("amy sees it declined", |_| status_of(&amy, declined) == Some(RequestStatus::Declined)).await;
    let cancelled = amy.engine.request_money(&ask("form-3", "bea", 700, "")).await.unwrap().request.id;
    assert_eq!(amy.engine.cancel_request(cancelled).await.unwrap().request.status, RequestStatus::Cancelled);
    bea.until("bea sees it withdrawn", |_| status_of(&bea, cancelled) == Some(RequestStatus::Cancelled)).await;
    let e = bea.engine.pay_request(cancelled).await.unwrap_err();
    assert_eq!(e.code(), CommandErrorCode::Hub(ErrorCode::Invalid), "{e}");
    assert!(amy.engine.request_money(&ask("form-4", "amy", 100, "")).await.is_err(), "not of oneself");

    // A new device of amy's downloads all three, newest first, open ones first.
    let dn = tempfile::tempdir().unwrap();
    let fresh = signed_in(&hub.url(), "amy", dn.path()).await;
    fresh.until("the new device has the requests", |e| e.payment_requests().unwrap().len() == 3).await;
    let got: Vec<(RequestId, RequestStatus)> =
        fresh.engine.payment_requests().unwrap().iter().map(|r| (r.request.id, r.request.status)).collect();
    assert_eq!(
        got,
        vec![(cancelled, RequestStatus::Cancelled), (declined, RequestStatus::Declined), (id, RequestStatus::Paid)]
    );
}

fn card_of(app: &App, room: RoomId, cmid: &str) -> Option<(MessageCard, Option<CardState>)> {
    let rt = tokio::runtime::Handle::current();
    let ms = tokio::task::block_in_place(|| rt.block_on(app.engine.messages(room, None, 50))).ok()?;
    ms.into_iter().find(|m| m.message.client_msg_id == cmid).and_then(|m| m.message.card.clone().map(|c| (c, m.card)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payments_and_requests_in_a_conversation_are_cards_with_live_status_on_both_sides() {
    let hub = Hub::start().await;
    for name in ["amy", "bea"] {
        hub.register(name).await;
    }
    hub.deposit("amy", 10_000).await;
    hub.deposit("bea", 10_000).await;
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let amy = signed_in(&hub.url(), "amy", da.path()).await;
    let bea = signed_in(&hub.url(), "bea", db.path()).await;
    let room = amy.engine.create_room(RoomKind::Direct, "", vec!["bea".into()]).await.unwrap().room.id;
    bea.until("bea has the conversation", |e| e.rooms().unwrap().iter().any(|r| r.room.id == room)).await;

    // amy pays bea from the conversation (through the outbox, like any payment).
    let req = SendMoney {
        to: "bea".into(),
        amount: Money::new(1_500, Currency::USD),
        memo: "Tickets".into(),
        room: Some(room),
    };
    let sent = amy.engine.send_money(&req).unwrap();
    let key = sent.transfer.idempotency_key.clone().unwrap();
    amy.until("amy's payment went out", |e| e.transfer_status(&key).unwrap().is_some_and(|t| t.transfer.id > 0)).await;
    let id = amy.engine.transfer_status(&key).unwrap().unwrap().transfer.id;
    let cmid = format!("transfer:{id}");
    let done = Some(CardState::Transfer { status: TransferStatus::Completed });
    for (who, app) in [("amy", &amy), ("bea", &bea)] {
        app.until(&format!("{who} sees the card completed"), |_| {
            card_of(app, room, &cmid).is_some_and(|(_, s)| s == done)
        })
        .await;
    }
    let (card, _) = card_of(&bea, room, &cmid).unwrap();
    assert!(
        matches!(card, MessageCard::Transfer { amount, ref to, .. } if amount.minor == 1_500 && to.username == "bea")
    );
    assert!(!bea.shown().iter().any(|n| n.key.starts_with("m:")), "the card raised no message notification");

    // bea asks amy in the conversation; amy pays it from there.
    let ask = AskMoney {
        key: "k".into(),
        from: "amy".into(),
        amount: Money::new(700, Currency::USD),
        memo: "Taxi".into(),
        expires_at: None,
        room: Some(room),
    };
    let r = bea.engine.request_money(&ask).await.unwrap().request.id;
    let cmid = format!("request:{r}");
    let open_card = |app: &App| {
        card_of(app, room, &cmid).is_some_and(
            |(_, s)| matches!(s, Some(CardState::Request { request }) if request.status == RequestStatus::Open),
        )
    };
    amy.until("amy sees the request's card, open", |_| open_card(&amy)).await;
    amy.engine.pay_request(r).await.unwrap();
    for (who, app) in [("amy", &amy), ("bea", &bea)] {
        app.until(&format!("{who} sees the request paid on its card"), |_| {
            card_of(app, room, &cmid).is_some_and(
                |(_, s)| matches!(s, Some(CardState::Request { request }) if request.status == RequestStatus::Paid),
            )
        })
        .await;
    }
}

fn split_states(app: &App, room: RoomId) -> Option<Vec<(String, RequestStatus)>> {
    let rt = tokio::runtime::Handle::current();
    let ms = tokio::task::block_in_place(|| rt.block_on(app.engine.messages(room, None, 50))).ok()?;
    let m = ms.into_iter().find(|m| matches!(m.message.card, Some(MessageCard::Split { .. })))?;
    let Some(CardState::Split { requests }) = m.card else { return None };
    Some(requests.into_iter().map(|r| (r.payer.username, r.status)).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_split_is_one_card_each_member_pays_their_share_from() {
    let hub = Hub::start().await;
    for name in ["amy", "bea", "cai"] {
        hub.register(name).await;
    }
    hub.deposit("bea", 10_000).await;
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let amy = signed_in(&hub.url(), "amy", da.path()).await;
    let bea = signed_in(&hub.url(), "bea", db.path()).await;
    let room =
        amy.engine.create_room(RoomKind::Group, "Dinner", vec!["bea".into(), "cai".into()]).await.unwrap().room.id;
    let bill = SplitBill {
        key: "dinner".into(),
        room,
        total: Money::new(3_000, Currency::USD),
        with: vec!["bea".into(), "cai".into()],
        memo: "Pasta".into(),
        expires_at: None,
    };
    let asked = amy.engine.split_bill(&bill).await.unwrap();
    assert_eq!(asked.iter().map(|r| r.request.amount.minor).collect::<Vec<_>>(), [1_000, 1_000], "a third each");
    let open = RequestStatus::Open;
    amy.until("amy's card tracks both shares", |_| {
        split_states(&amy, room) == Some(vec![("bea".into(), open), ("cai".into(), open)])
    })
    .await;
    bea.until("bea's card has her share", |_| split_states(&bea, room) == Some(vec![("bea".into(), open)])).await;
    let mine = bea.engine.payment_requests().unwrap().into_iter().find(|r| r.incoming).unwrap().request.id;
    bea.engine.pay_request(mine).await.unwrap();
    amy.until("amy's card shows bea paid and cai not yet", |_| {
        split_states(&amy, room) == Some(vec![("bea".into(), RequestStatus::Paid), ("cai".into(), open)])
    })
    .await;
}
