//! Who may see and touch what, for every channel and every request type: a user of the same tenant who
//! is not a party is refused (`forbidden_channel` / `forbidden`, or `not_found` for an object of theirs);
//! a user of another tenant gets exactly the answer an id that exists nowhere gets (`not_found` for rooms
//! and presence, `forbidden_channel` for another user's personal channels and transfers, which are never
//! the caller's). Nothing refused changes anything.
mod common;
use common::*;
use tally_protocol::*;

struct World {
    hub: TestHub,
    ann: Session,
    cal: Session,
    transfer_cd: TransferId,
    room: RoomId,
    message: MessageId,
}

/// ann, cal and dee in one tenant; cal paid dee (ann is no party); dee and cal share a room ann is not in.
async fn world() -> World {
    let hub = TestHub::start().await;
    let ann = hub.register("ann").await;
    let cal = hub.register("cal").await;
    let dee = hub.register("dee").await;
    hub.deposit("cal", 10_000).await;
    let mut cc = hub.connect(&cal).await;
    let t = cc.transfer("k-cd", "dee", 500).await.unwrap();
    let mut cd = hub.connect(&dee).await;
    let room = match cd
        .request(|id| ClientFrame::RoomCreate {
            id,
            kind: RoomKind::Group,
            name: "dc".into(),
            members: vec!["cal".into()],
        })
        .await
        .unwrap()
    {
        Some(AckData::Room { room }) => room.id,
        other => panic!("{other:?}"),
    };
    let message = match cd
        .request(|id| ClientFrame::MessageSend {
            id,
            room,
            client_msg_id: "m1".into(),
            text: "private".into(),
            attachment: None,
        })
        .await
        .unwrap()
    {
        Some(AckData::Message { message }) => message.id,
        other => panic!("{other:?}"),
    };
    World { hub, ann, cal, transfer_cd: t.id, room, message }
}

fn theirs(w: &World) -> Vec<Channel> {
    let c = w.cal.user.id;
    vec![
        Channel::User(c),
        Channel::Balance(c),
        Channel::Transactions(c),
        Channel::Notifications(c),
        Channel::Transfer(w.transfer_cd),
        Channel::Room(w.room),
        Channel::PresenceRoom(w.room),
    ]
}

/// Every request that names the room or its message.
fn room_requests(room: RoomId, message: MessageId) -> Vec<Box<dyn FnOnce(u64) -> ClientFrame>> {
    vec![
        Box::new(move |id| ClientFrame::MessageSend {
            id,
            room,
            client_msg_id: "x".into(),
            text: "hi".into(),
            attachment: None,
        }),
        Box::new(move |id| ClientFrame::MessageEdit { id, room, message, text: "changed".into() }),
        Box::new(move |id| ClientFrame::MessageDelete { id, room, message }),
        Box::new(move |id| ClientFrame::React { id, room, message, emoji: "👍".into(), on: true }),
        Box::new(move |id| ClientFrame::Read { id, room, up_to: 1 }),
        Box::new(move |id| ClientFrame::Typing { id, room, active: true }),
        Box::new(move |id| ClientFrame::RoomInvite { id, room, username: "ann".into() }),
        Box::new(move |id| ClientFrame::RoomLeave { id, room }),
        Box::new(move |id| ClientFrame::RoomRename { id, room, name: "mine".into() }),
        Box::new(move |id| ClientFrame::RoomRemove { id, room, username: "ann".into() }),
        Box::new(move |id| ClientFrame::RoomPrefs { id, room, muted: true, pinned: true }),
    ]
}

/// The user's unread notifications, by id (a notification arriving later adds to it; marking one read
/// would take it out).
async fn unread_of(hub: &TestHub, s: &Session) -> std::collections::BTreeSet<NotificationId> {
    let mut c = hub.connect(s).await;
    match c
        .request(|id| ClientFrame::Snapshot { id, what: SnapshotKind::Notifications { before: None, limit: 50 } })
        .await
    {
        Ok(Some(AckData::Notifications { notifications, .. })) => {
            notifications.into_iter().filter(|n| !n.read).map(|n| n.id).collect()
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_user_of_the_same_tenant_reaches_nothing_of_someone_else() {
    let w = world().await;
    let mut ca = w.hub.connect(&w.ann).await;
    for ch in theirs(&w) {
        let e = ca.subscribe(ch, None).await.unwrap_err();
        assert_eq!(e.0, ErrorCode::ForbiddenChannel, "subscribe {ch}: {e:?}");
        if ch.is_durable() {
            let e = ca.request(|id| ClientFrame::History { id, channel: ch, before: None, limit: 10 }).await;
            assert!(matches!(e, Err((ErrorCode::ForbiddenChannel, _))), "history {ch}: {e:?}");
        }
    }
    for make in room_requests(w.room, w.message) {
        let e = ca.request(make).await.unwrap_err();
        assert!(matches!(e.0, ErrorCode::Forbidden | ErrorCode::NotFound), "{e:?}");
    }
    // Marking someone else's notifications read changes nothing of theirs.
    let before = unread_of(&w.hub, &w.cal).await;
    assert!(!before.is_empty(), "cal was told about the room at least");
    let ids: Vec<NotificationId> = (1..=50).collect();
    let _ = ca.request(|id| ClientFrame::NotificationsRead { id, ids }).await;
    // Every one still unread (one that arrived meanwhile may be added: the count alone raced with it).
    let after = unread_of(&w.hub, &w.cal).await;
    assert!(before.is_subset(&after), "cal's unread {before:?} must stay unread, now {after:?}");
    assert_eq!(w.hub.invariants_ok().await["ok"], true);
}

#[tokio::test]
async fn a_user_of_another_tenant_finds_nothing_at_all() {
    let w = world().await;
    let bo = w.hub.register_in("bo", Some("acme")).await;
    let mut cb = w.hub.connect(&bo).await;
    let mut channels = theirs(&w);
    channels.push(Channel::PresenceUser(w.cal.user.id));
    for ch in channels {
        let e = cb.subscribe(ch, None).await.unwrap_err();
        // Exactly what the same channel of an id that exists nowhere answers.
        let nowhere = match &ch {
            Channel::User(_) => Channel::User(999_999),
            Channel::Balance(_) => Channel::Balance(999_999),
            Channel::Transactions(_) => Channel::Transactions(999_999),
            Channel::Notifications(_) => Channel::Notifications(999_999),
            Channel::Transfer(_) => Channel::Transfer(999_999),
            Channel::Room(_) => Channel::Room(999_999),
            Channel::PresenceRoom(_) => Channel::PresenceRoom(999_999),
            Channel::PresenceUser(_) => Channel::PresenceUser(999_999),
            Channel::Broadcast => Channel::Broadcast,
        };
        let n = cb.subscribe(nowhere, None).await.unwrap_err();
        assert_eq!(e.0, n.0, "subscribe {ch} answers like {nowhere}: {e:?} vs {n:?}");
        assert!(matches!(e.0, ErrorCode::NotFound | ErrorCode::ForbiddenChannel), "subscribe {ch}: {e:?}");
    }
    for make in room_requests(w.room, w.message) {
        let e = cb.request(make).await.unwrap_err();
        assert!(matches!(e.0, ErrorCode::NotFound | ErrorCode::Forbidden), "{e:?}");
    }
    assert_eq!(cb.transfer("k-x", "cal", 1).await.unwrap_err().0, ErrorCode::NotFound);
    let e = cb
        .request(|id| ClientFrame::RoomCreate {
            id,
            kind: RoomKind::Direct,
            name: String::new(),
            members: vec!["cal".into()],
        })
        .await
        .unwrap_err();
    assert_eq!(e.0, ErrorCode::NotFound, "{e:?}");
    // The HTTP side: an access token of this tenant reaches only its own account.
    let r = w.hub.http.get(format!("{}/v1/account/sessions", w.hub.base)).bearer_auth(&bo.access).send().await.unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["sessions"].as_array().unwrap().len(), 1, "{v}");
}
