//! Payment requests end to end over the socket: ask, pay once, decline, cancel, expire.
mod common;
use common::*;
use std::time::Duration;
use tally_protocol::*;

fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::USD)
}

fn ask(key: &str, to: &str, minor: i64, memo: &str, expires_at: Option<Millis>) -> impl FnOnce(u64) -> ClientFrame {
    let (key, to, memo) = (key.to_string(), to.to_string(), memo.to_string());
    move |id| ClientFrame::RequestCreate {
        id,
        idempotency_key: key,
        to,
        amount: usd(minor),
        memo,
        expires_at,
        room: None,
    }
}

async fn request(c: &mut Client, f: impl FnOnce(u64) -> ClientFrame) -> PaymentRequest {
    match c.request(f).await.unwrap() {
        Some(AckData::Request { request }) => request,
        other => panic!("{other:?}"),
    }
}

async fn pay(c: &mut Client, request: RequestId) -> Result<Transfer, (ErrorCode, String)> {
    match c.request(|id| ClientFrame::RequestPay { id, request }).await? {
        Some(AckData::Transfer { transfer }) => Ok(transfer),
        other => panic!("{other:?}"),
    }
}

/// Waits on `user:{user}` for the request to reach `status`.
async fn request_event(c: &mut Client, user: UserId, id: RequestId, status: RequestStatus) -> PaymentRequest {
    loop {
        let e = c.event_on(Channel::User(user)).await;
        if let EventData::Request { request } = e.data {
            if request.id == id && request.status == status {
                return request;
            }
        }
    }
}

fn now() -> Millis {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as Millis
}

#[tokio::test]
async fn a_request_is_paid_once_and_both_parties_follow_it() {
    let hub = TestHub::start().await;
    let (a, b, _c) = (hub.register("amy").await, hub.register("bea").await, hub.register("cyd").await);
    let (mut ca, mut cb) = (hub.connect(&a).await, hub.connect(&b).await);
    ca.subscribe(Channel::User(a.user.id), None).await.unwrap();
    for ch in [Channel::User(b.user.id), Channel::Notifications(b.user.id), Channel::Balance(b.user.id)] {
        cb.subscribe(ch, None).await.unwrap();
    }
    let r = request(&mut ca, ask("r1", "bea", 2_500, "Dinner 🍜", None)).await;
    assert_eq!(
        (r.status, r.requester.id, r.payer.id, r.amount),
        (RequestStatus::Open, a.user.id, b.user.id, usd(2_500))
    );
    assert_eq!(request(&mut ca, ask("r1", "bea", 2_500, "Dinner 🍜", None)).await.id, r.id, "same key, same request");
    let e = ca.request(ask("r1", "bea", 9_999, "Dinner 🍜", None)).await.unwrap_err();
    assert_eq!(e.0, ErrorCode::Conflict);

    // The payer hears of it: an event on their channel and a `payment_request` notification.
    assert_eq!(request_event(&mut cb, b.user.id, r.id, RequestStatus::Open).await.memo, "Dinner 🍜");
    let n = loop {
        if let EventData::Notification { notification } = cb.event_on(Channel::Notifications(b.user.id)).await.data {
            break notification;
        }
    };
    assert_eq!(n.kind, NotificationKind::PaymentRequest);
    assert_eq!(n.target, Some(NotificationTarget::Request { id: r.id }));
    assert!(n.title.contains("25.00 USD"), "{}", n.title);

    // Only the payer pays it; a stranger does not even learn it exists. Without the money, nothing changes.
    assert_eq!(pay(&mut ca, r.id).await.unwrap_err().0, ErrorCode::Invalid);
    let mut cc = hub.connect(&_c).await;
    assert_eq!(pay(&mut cc, r.id).await.unwrap_err().0, ErrorCode::NotFound);
    assert_eq!(
        cc.request(|id| ClientFrame::RequestDecline { id, request: r.id }).await.unwrap_err().0,
        ErrorCode::NotFound
    );
    assert_eq!(pay(&mut cb, r.id).await.unwrap_err().0, ErrorCode::InsufficientFunds);

    hub.deposit("bea", 10_000).await;
    let t = pay(&mut cb, r.id).await.unwrap();
    assert_eq!((t.from.id, t.to.id, t.amount, t.memo.as_str()), (b.user.id, a.user.id, usd(2_500), "Dinner 🍜"));
    assert_eq!(pay(&mut cb, r.id).await.unwrap().id, t.id, "paying again is the same transfer");
    let paid = request_event(&mut ca, a.user.id, r.id, RequestStatus::Paid).await;
    assert_eq!(paid.transfer, Some(t.id));
    request_event(&mut cb, b.user.id, r.id, RequestStatus::Paid).await;
    assert_eq!(pay(&mut cb, r.id).await.unwrap().id, t.id, "still the same transfer once paid");
    let e = cb.request(|id| ClientFrame::RequestDecline { id, request: r.id }).await.unwrap_err();
    assert_eq!(e.0, ErrorCode::Invalid, "{}", e.1);

    // One payment moved: 100.00 − 25.00.
    let snap = cb.request(|id| ClientFrame::Snapshot { id, what: SnapshotKind::Balances }).await.unwrap();
    let Some(AckData::Balances { balances }) = snap else { panic!("{snap:?}") };
    assert_eq!(balances[0].available, 7_500);
    let snap = cb.request(|id| ClientFrame::Snapshot { id, what: SnapshotKind::Requests }).await.unwrap();
    let Some(AckData::Requests { requests }) = snap else { panic!("{snap:?}") };
    assert_eq!(requests.iter().map(|q| (q.id, q.status)).collect::<Vec<_>>(), vec![(r.id, RequestStatus::Paid)]);
    let inv = hub.invariants_ok().await;
    assert_eq!(inv["ok"], true, "{inv}");
}

#[tokio::test]
async fn declined_cancelled_and_expired_requests_cannot_be_paid() {
    let hub = TestHub::start().await;
    let (a, b) = (hub.register("amy").await, hub.register("bea").await);
    hub.deposit("bea", 10_000).await;
    let (mut ca, mut cb) = (hub.connect(&a).await, hub.connect(&b).await);
    for ch in [Channel::User(a.user.id), Channel::Notifications(a.user.id)] {
        ca.subscribe(ch, None).await.unwrap();
    }

    let declined = request(&mut ca, ask("d", "bea", 100, "", None)).await;
    let r = request(&mut cb, |id| ClientFrame::RequestDecline { id, request: declined.id }).await;
    assert_eq!(r.status, RequestStatus::Declined);
    request_event(&mut ca, a.user.id, declined.id, RequestStatus::Declined).await;
    let n = loop {
        if let EventData::Notification { notification } = ca.event_on(Channel::Notifications(a.user.id)).await.data {
            break notification;
        }
    };
    assert!(n.title.contains("declined"), "{}", n.title);
    assert_eq!(pay(&mut cb, declined.id).await.unwrap_err().0, ErrorCode::Invalid);

    let cancelled = request(&mut ca, ask("c", "bea", 100, "", None)).await;
    let e = cb.request(|id| ClientFrame::RequestCancel { id, request: cancelled.id }).await.unwrap_err();
    assert_eq!(e.0, ErrorCode::Invalid, "only its requester cancels it");
    let r = request(&mut ca, |id| ClientFrame::RequestCancel { id, request: cancelled.id }).await;
    assert_eq!(r.status, RequestStatus::Cancelled);
    assert_eq!(pay(&mut cb, cancelled.id).await.unwrap_err().0, ErrorCode::Invalid);

    // Past its deadline the hub's sweep marks it expired, on both parties' channels, and it cannot be paid.
    let soon = request(&mut ca, ask("e", "bea", 100, "", Some(now() + 1_000))).await;
    let expired = tokio::time::timeout(
        Duration::from_secs(15),
        request_event(&mut ca, a.user.id, soon.id, RequestStatus::Expired),
    )
    .await
    .expect("the request expires within a sweep");
    assert_eq!(expired.expires_at, soon.expires_at);
    assert_eq!(pay(&mut cb, soon.id).await.unwrap_err().0, ErrorCode::Expired);

    // Bad asks are refused with the reason.
    for (f, code) in [
        (ask("x1", "amy", 100, "", None), ErrorCode::Invalid),
        (ask("x2", "nobody", 100, "", None), ErrorCode::NotFound),
        (ask("x3", "bea", 0, "", None), ErrorCode::Invalid),
        (ask("x4", "bea", 100, "", Some(now() - 1)), ErrorCode::Invalid),
        (ask("x5", "bea", 100, "", Some(now() + MAX_REQUEST_EXPIRY_MS + 60_000)), ErrorCode::Invalid),
        (ask("x6", "bea", 100, &"m".repeat(MAX_MEMO_BYTES + 1), None), ErrorCode::Invalid),
    ] {
        assert_eq!(ca.request(f).await.unwrap_err().0, code);
    }
}

#[tokio::test]
async fn a_payment_that_fails_reopens_the_request_and_the_next_attempt_pays_it() {
    let hub = TestHub::start().await;
    let (a, b) = (hub.register("amy").await, hub.register("bea").await);
    hub.deposit("bea", 10_000).await;
    let (mut ca, mut cb) = (hub.connect(&a).await, hub.connect(&b).await);
    cb.subscribe(Channel::User(b.user.id), None).await.unwrap();
    let r = request(&mut ca, ask("r", "bea", 1_000, "", None)).await;
    drop(ca);

    // bea's payment is held for review and finance rejects it: the payment fails, the request is open again.
    let rules = serde_json::json!({"single_over": 500});
    assert_eq!(hub.admin_post("/v1/admin/compliance-rules", rules).await.0, 200);
    let first = pay(&mut cb, r.id).await.unwrap();
    assert_eq!(first.status, TransferStatus::Review);
    request_event(&mut cb, b.user.id, r.id, RequestStatus::Paying).await;
    let reject = serde_json::json!({"transfer": first.id, "release": false, "reason": "Not this time"});
    let (s, v) = hub.admin_post("/v1/admin/reviews/decide", reject).await;
    assert_eq!(s, 200, "{v}");
    let reopened = request_event(&mut cb, b.user.id, r.id, RequestStatus::Open).await;
    assert_eq!(reopened.transfer, Some(first.id), "the failed attempt stays linked");
    assert_eq!(hub.admin_post("/v1/admin/compliance-rules", serde_json::json!({})).await.0, 200);

    let second = pay(&mut cb, r.id).await.unwrap();
    assert_ne!(second.id, first.id, "a new attempt is a new transfer");
    let paid = request_event(&mut cb, b.user.id, r.id, RequestStatus::Paid).await;
    assert_eq!(paid.transfer, Some(second.id));
    let snap = cb.request(|id| ClientFrame::Snapshot { id, what: SnapshotKind::Balances }).await.unwrap();
    let Some(AckData::Balances { balances }) = snap else { panic!("{snap:?}") };
    assert_eq!((balances[0].available, balances[0].pending), (9_000, 0), "one payment moved, the failed one came back");
}

#[tokio::test]
async fn payments_and_requests_made_in_a_conversation_are_cards_there_once() {
    let hub = TestHub::start().await;
    let (a, b, _c) = (hub.register("amy").await, hub.register("bea").await, hub.register("cyd").await);
    hub.deposit("amy", 10_000).await;
    let (mut ca, mut cb) = (hub.connect(&a).await, hub.connect(&b).await);
    let room = match ca
        .request(|id| ClientFrame::RoomCreate {
            id,
            kind: RoomKind::Direct,
            name: String::new(),
            members: vec!["bea".into()],
        })
        .await
        .unwrap()
    {
        Some(AckData::Room { room }) => room.id,
        other => panic!("{other:?}"),
    };
    cb.subscribe(Channel::Room(room), None).await.unwrap();
    let pay = |key: &str, to: &str, room: Option<RoomId>| {
        let (key, to) = (key.to_string(), to.to_string());
        move |id| ClientFrame::TransferCreate {
            id,
            idempotency_key: key,
            to,
            amount: usd(1_500),
            memo: "Tickets 🎟".into(),
            expires_at: None,
            room,
        }
    };
    let t = match ca.request(pay("p1", "bea", Some(room))).await.unwrap() {
        Some(AckData::Transfer { transfer }) => transfer,
        other => panic!("{other:?}"),
    };
    let m = match cb.event_on(Channel::Room(room)).await.data {
        EventData::Message { message } => message,
        other => panic!("{other:?}"),
    };
    assert_eq!(m.sender.id, a.user.id);
    assert_eq!(m.text, "Tickets 🎟", "the memo is the text");
    assert_eq!(m.card, Some(MessageCard::Transfer { id: t.id, to: t.to.clone(), amount: usd(1_500) }));
    // A retry of the payment is the same payment and posts nothing more.
    ca.request(pay("p1", "bea", Some(room))).await.unwrap();
    let e = cb.request(|id| ClientFrame::MessageEdit { id, room, message: m.id, text: "x".into() }).await.unwrap_err();
    assert_eq!(e.0, ErrorCode::Forbidden, "not bea's to edit");
    let e = ca.request(|id| ClientFrame::MessageEdit { id, room, message: m.id, text: "x".into() }).await.unwrap_err();
    assert_eq!(e.0, ErrorCode::Invalid, "a payment's message is never edited: {}", e.1);

    let r = match cb
        .request(|id| ClientFrame::RequestCreate {
            id,
            idempotency_key: "r1".into(),
            to: "amy".into(),
            amount: usd(700),
            memo: "Half the taxi".into(),
            expires_at: None,
            room: Some(room),
        })
        .await
        .unwrap()
    {
        Some(AckData::Request { request }) => request,
        other => panic!("{other:?}"),
    };
    let m = loop {
        if let EventData::Message { message } = cb.event_on(Channel::Room(room)).await.data {
            break message;
        }
    };
    assert_eq!(m.card, Some(MessageCard::Request { id: r.id, payer: r.payer.clone(), amount: usd(700) }));
    let (events, _) = {
        let h =
            cb.request(|id| ClientFrame::History { id, channel: Channel::Room(room), before: None, limit: 50 }).await;
        match h.unwrap() {
            Some(AckData::History { events, has_more, .. }) => (events, has_more),
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(events.len(), 2, "one card per payment and per request");

    // Someone outside the conversation cannot be paid in it: refused, and no money moves.
    let e = ca.request(pay("p2", "cyd", Some(room))).await.unwrap_err();
    assert_eq!(e.0, ErrorCode::Invalid, "{}", e.1);
    let snap = ca.request(|id| ClientFrame::Snapshot { id, what: SnapshotKind::Balances }).await.unwrap();
    let Some(AckData::Balances { balances }) = snap else { panic!("{snap:?}") };
    assert_eq!(balances[0].available, 8_500, "only the first payment");
}

#[tokio::test]
async fn a_split_in_a_group_asks_each_member_for_a_share_on_one_card() {
    let hub = TestHub::start().await;
    let names = ["amy", "bea", "cyd", "dan", "eve"];
    let mut s = Vec::new();
    for n in names {
        s.push(hub.register(n).await);
    }
    hub.deposit("bea", 10_000).await;
    let (mut ca, mut cb) = (hub.connect(&s[0]).await, hub.connect(&s[1]).await);
    let members = vec!["bea".into(), "cyd".into(), "dan".into()];
    let room = match ca
        .request(|id| ClientFrame::RoomCreate { id, kind: RoomKind::Group, name: "Dinner".into(), members })
        .await
        .unwrap()
    {
        Some(AckData::Room { room }) => room.id,
        other => panic!("{other:?}"),
    };
    cb.subscribe(Channel::Room(room), None).await.unwrap();
    let split = |key: &str, with: &[&str], minor: i64| {
        let (key, with) = (key.to_string(), with.iter().map(|w| w.to_string()).collect::<Vec<_>>());
        move |id| ClientFrame::RequestSplit {
            id,
            idempotency_key: key,
            room,
            total: usd(minor),
            with,
            memo: "Dinner 🍝".into(),
            expires_at: None,
        }
    };
    // $60.01 between the 4 of us: $15.00 each from the three asked; amy's own share takes the cent.
    let requests = match ca.request(split("s1", &["bea", "cyd", "dan"], 6_001)).await.unwrap() {
        Some(AckData::Requests { requests }) => requests,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        requests.iter().map(|r| (r.payer.username.as_str(), r.amount.minor)).collect::<Vec<_>>(),
        [("bea", 1_500), ("cyd", 1_500), ("dan", 1_500)]
    );
    let m = match cb.event_on(Channel::Room(room)).await.data {
        EventData::Message { message } => message,
        other => panic!("{other:?}"),
    };
    let Some(MessageCard::Split { total, shares }) = m.card else { panic!("{:?}", m.card) };
    assert_eq!(total, usd(6_001));
    assert_eq!(shares.iter().map(|s| s.request).collect::<Vec<_>>(), requests.iter().map(|r| r.id).collect::<Vec<_>>());
    // A retry is the same split: the same requests, no second card.
    let again = match ca.request(split("s1", &["bea", "cyd", "dan"], 6_001)).await.unwrap() {
        Some(AckData::Requests { requests }) => requests,
        other => panic!("{other:?}"),
    };
    assert_eq!(again.iter().map(|r| r.id).collect::<Vec<_>>(), requests.iter().map(|r| r.id).collect::<Vec<_>>());
    // bea pays her share like any request.
    let t = pay(&mut cb, requests[0].id).await.unwrap();
    assert_eq!(t.amount, usd(1_500));

    // Refused: someone outside the group (nothing is asked), nobody, oneself, a total too small.
    assert_eq!(ca.request(split("s2", &["bea", "eve"], 1_000)).await.unwrap_err().0, ErrorCode::Invalid);
    assert_eq!(ca.request(split("s3", &[], 1_000)).await.unwrap_err().0, ErrorCode::Invalid);
    assert_eq!(ca.request(split("s4", &["amy"], 1_000)).await.unwrap_err().0, ErrorCode::Invalid);
    assert_eq!(ca.request(split("s5", &["bea", "bea"], 1_000)).await.unwrap_err().0, ErrorCode::Invalid);
    assert_eq!(ca.request(split("s6", &["bea", "cyd", "dan"], 3)).await.unwrap_err().0, ErrorCode::Invalid);
    let snap = ca.request(|id| ClientFrame::Snapshot { id, what: SnapshotKind::Requests }).await.unwrap();
    let Some(AckData::Requests { requests: all }) = snap else { panic!("{snap:?}") };
    assert_eq!(all.len(), 3, "the refused splits asked nobody");
}
