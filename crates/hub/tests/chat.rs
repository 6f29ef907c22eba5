mod common;
use common::*;
use tally_protocol::*;

async fn room_of_three(hub: &TestHub) -> (Session, Session, Session, Client, Client, Room) {
    let a = hub.register("amy").await;
    let b = hub.register("bea").await;
    let c = hub.register("cyd").await;
    let mut ca = hub.connect(&a).await;
    let room = match ca
        .request(|id| ClientFrame::RoomCreate {
            id,
            kind: RoomKind::Group,
            name: "Trip".into(),
            members: vec!["bea".into()],
        })
        .await
        .unwrap()
    {
        Some(AckData::Room { room }) => room,
        other => panic!("{other:?}"),
    };
    let mut cb = hub.connect(&b).await;
    ca.subscribe(Channel::Room(room.id), None).await.unwrap();
    cb.subscribe(Channel::Room(room.id), None).await.unwrap();
    (a, b, c, ca, cb, room)
}

fn send(room: RoomId, cmid: &str, text: &str) -> impl FnOnce(u64) -> ClientFrame {
    let (cmid, text) = (cmid.to_string(), text.to_string());
    move |id| ClientFrame::MessageSend { id, room, client_msg_id: cmid, text, attachment: None }
}

#[tokio::test]
async fn messages_are_idempotent_verbatim_and_editable_by_their_author_only() {
    let hub = TestHub::start().await;
    let (_a, b, _c, mut ca, mut cb, room) = room_of_three(&hub).await;
    let evil = "<img src=x onerror=alert(1)> '; DROP TABLE messages; --";
    let m1 = match ca.request(send(room.id, "m-1", evil)).await.unwrap() {
        Some(AckData::Message { message }) => message,
        other => panic!("{other:?}"),
    };
    assert_eq!(m1.text, evil);
    let again = match ca.request(send(room.id, "m-1", evil)).await.unwrap() {
        Some(AckData::Message { message }) => message,
        other => panic!("{other:?}"),
    };
    assert_eq!(again.id, m1.id, "resend returns the stored message");
    let e = cb.event_on(Channel::Room(room.id)).await;
    assert!(matches!(&e.data, EventData::Message { message } if message.text == evil && message.seq == e.seq));

    assert_eq!(
        cb.request(|id| ClientFrame::MessageEdit { id, room: room.id, message: m1.id, text: "hijack".into() })
            .await
            .unwrap_err()
            .0,
        ErrorCode::Forbidden
    );
    ca.request(|id| ClientFrame::MessageEdit { id, room: room.id, message: m1.id, text: "fixed".into() })
        .await
        .unwrap();
    let e = cb.event_on(Channel::Room(room.id)).await;
    assert!(matches!(e.data, EventData::MessageEdited { ref text, .. } if text == "fixed"));
    cb.request(|id| ClientFrame::React { id, room: room.id, message: m1.id, emoji: "👍".into(), on: true })
        .await
        .unwrap();
    cb.request(|id| ClientFrame::React { id, room: room.id, message: m1.id, emoji: "👍".into(), on: true })
        .await
        .unwrap();
    let e = ca
        .wait_for("reaction", |f| matches!(f, ServerFrame::Event(Event { data: EventData::Reaction { .. }, .. })))
        .await;
    assert!(matches!(e, ServerFrame::Event(Event { data: EventData::Reaction { on: true, .. }, .. })));
    cb.request(|id| ClientFrame::Read { id, room: room.id, up_to: 9_999 }).await.unwrap();
    let e = ca
        .wait_for("receipt", |f| matches!(f, ServerFrame::Event(Event { data: EventData::Receipt { .. }, .. })))
        .await;
    let ServerFrame::Event(Event { data: EventData::Receipt { user, up_to }, .. }) = e else { panic!() };
    assert_eq!(user.id, b.user.id);
    assert!(up_to < 9_999, "clamped to the room's head");
    ca.request(|id| ClientFrame::MessageDelete { id, room: room.id, message: m1.id }).await.unwrap();
    ca.wait_for("tombstone", |f| matches!(f, ServerFrame::Event(Event { data: EventData::MessageDeleted { .. }, .. })))
        .await;
    // History shows the tombstone with no text.
    match cb
        .request(|id| ClientFrame::History { id, channel: Channel::Room(room.id), before: None, limit: 10 })
        .await
        .unwrap()
    {
        Some(AckData::History { events, .. }) => {
            let m = events.iter().find_map(|e| match &e.data {
                EventData::Message { message } if message.id == m1.id => Some(message.clone()),
                _ => None,
            });
            let m = m.expect("message in history");
            assert!(m.deleted && m.text.is_empty());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(ca.request(send(room.id, "m-2", "")).await.unwrap_err().0, ErrorCode::Invalid);
    assert_eq!(
        ca.request(send(room.id, "m-3", &"x".repeat(MAX_MESSAGE_BYTES + 1))).await.unwrap_err().0,
        ErrorCode::Invalid
    );
}

#[tokio::test]
async fn rooms_are_private_to_members_and_tenants_are_isolated() {
    let hub = TestHub::start().await;
    let (_a, _b, c, mut ca, _cb, room) = room_of_three(&hub).await;
    let mut cc = hub.connect(&c).await;
    assert_eq!(cc.subscribe(Channel::Room(room.id), None).await.unwrap_err().0, ErrorCode::ForbiddenChannel);
    assert_eq!(cc.request(send(room.id, "x", "hi")).await.unwrap_err().0, ErrorCode::Forbidden);
    assert_eq!(cc.subscribe(Channel::Balance(_a.user.id), None).await.unwrap_err().0, ErrorCode::ForbiddenChannel);
    // Another tenant: same room id, same user ids are invisible.
    hub.admin_post("/v1/admin/tenants", serde_json::json!({"name": "acme"})).await;
    let other = hub.register_in("amy", Some("acme")).await;
    assert_ne!(other.user.id, _a.user.id);
    let mut co = hub.connect(&other).await;
    assert_eq!(co.subscribe(Channel::Room(room.id), None).await.unwrap_err().0, ErrorCode::NotFound);
    assert_eq!(co.subscribe(Channel::PresenceUser(_a.user.id), None).await.unwrap_err().0, ErrorCode::NotFound);
    assert_eq!(co.transfer("k", "bea", 1).await.unwrap_err().0, ErrorCode::NotFound);
    match co.request(|id| ClientFrame::Snapshot { id, what: SnapshotKind::Contacts }).await.unwrap() {
        Some(AckData::Contacts { users }) => assert!(users.is_empty()),
        other => panic!("{other:?}"),
    }
    // Inviting gives access; leaving takes it away and ends the subscription.
    ca.request(|id| ClientFrame::RoomInvite { id, room: room.id, username: "cyd".into() }).await.unwrap();
    cc.subscribe(Channel::Room(room.id), None).await.unwrap();
    cc.request(|id| ClientFrame::RoomLeave { id, room: room.id }).await.unwrap();
    let f = cc.wait_for("unsubscribed", |f| matches!(f, ServerFrame::Unsubscribed { .. })).await;
    assert!(matches!(f, ServerFrame::Unsubscribed { code: ErrorCode::ForbiddenChannel, .. }));
}

fn room_in(ack: Option<AckData>) -> Room {
    match ack {
        Some(AckData::Room { room }) => room,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_groups_admins_rename_it_and_remove_members_and_one_takes_over_when_the_last_leaves() {
    let hub = TestHub::start().await;
    let (a, b, c, mut ca, mut cb, room) = room_of_three(&hub).await;
    assert_eq!(room.admins, vec![a.user.id], "the creator is the group's admin");
    ca.request(|id| ClientFrame::RoomInvite { id, room: room.id, username: "cyd".into() }).await.unwrap();
    let mut cc = hub.connect(&c).await;
    cc.subscribe(Channel::Room(room.id), None).await.unwrap();

    // A member who is not an admin may do neither; a direct room has no admins.
    let e = cb.request(|id| ClientFrame::RoomRename { id, room: room.id, name: "Bea's".into() }).await.unwrap_err();
    assert_eq!(e.0, ErrorCode::Forbidden);
    let e = cb.request(|id| ClientFrame::RoomRemove { id, room: room.id, username: "cyd".into() }).await.unwrap_err();
    assert_eq!(e.0, ErrorCode::Forbidden);
    let direct = room_in(
        ca.request(|id| ClientFrame::RoomCreate {
            id,
            kind: RoomKind::Direct,
            name: String::new(),
            members: vec!["bea".into()],
        })
        .await
        .unwrap(),
    );
    assert!(direct.admins.is_empty());
    let e = ca.request(|id| ClientFrame::RoomRename { id, room: direct.id, name: "x".into() }).await.unwrap_err();
    assert_eq!(e.0, ErrorCode::Invalid);

    // The admin renames it: the answer and every member's user channel carry the new name.
    cb.subscribe(Channel::User(b.user.id), None).await.unwrap();
    let e = ca.request(|id| ClientFrame::RoomRename { id, room: room.id, name: "  ".into() }).await.unwrap_err();
    assert_eq!(e.0, ErrorCode::Invalid, "a blank name");
    let renamed = room_in(
        ca.request(|id| ClientFrame::RoomRename { id, room: room.id, name: " Ski trip ".into() }).await.unwrap(),
    );
    assert_eq!(renamed.name, "Ski trip");
    cb.wait_for("room_joined with the new name", |f| {
        matches!(f, ServerFrame::Event(e) if matches!(&e.data, EventData::RoomJoined { room: r } if r.name == "Ski trip"))
    })
    .await;

    // The admin removes cyd: cyd's subscription ends, the room hears of it, cyd can no longer post.
    let e = ca.request(|id| ClientFrame::RoomRemove { id, room: room.id, username: "amy".into() }).await.unwrap_err();
    assert_eq!(e.0, ErrorCode::Invalid, "an admin leaves with room_leave, not by removing herself");
    let e =
        ca.request(|id| ClientFrame::RoomRemove { id, room: room.id, username: "nobody".into() }).await.unwrap_err();
    assert_eq!(e.0, ErrorCode::NotFound);
    let after =
        room_in(ca.request(|id| ClientFrame::RoomRemove { id, room: room.id, username: "cyd".into() }).await.unwrap());
    assert_eq!(after.members.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(), ["amy", "bea"]);
    let f = cc.wait_for("unsubscribed", |f| matches!(f, ServerFrame::Unsubscribed { .. })).await;
    assert!(matches!(f, ServerFrame::Unsubscribed { code: ErrorCode::ForbiddenChannel, .. }));
    assert_eq!(cc.request(send(room.id, "late", "still here?")).await.unwrap_err().0, ErrorCode::Forbidden);

    // The last admin leaves: bea, the longest-standing member left, becomes admin and may rename it.
    ca.request(|id| ClientFrame::RoomLeave { id, room: room.id }).await.unwrap();
    cb.wait_for("room_joined with bea as admin", |f| {
        matches!(f, ServerFrame::Event(e) if matches!(&e.data, EventData::RoomJoined { room: r } if r.admins == vec![b.user.id]))
    })
    .await;
    cb.request(|id| ClientFrame::RoomRename { id, room: room.id, name: "Bea's trip".into() }).await.unwrap();
}

#[tokio::test]
async fn a_members_mute_and_pin_are_their_own_and_reach_their_other_devices() {
    let hub = TestHub::start().await;
    let (a, b, _c, mut ca, mut cb, room) = room_of_three(&hub).await;
    let mut cb2 = hub.connect(&b).await; // bea's other device
    cb2.subscribe(Channel::User(b.user.id), None).await.unwrap();
    let mine = room_in(
        cb.request(|id| ClientFrame::RoomPrefs { id, room: room.id, muted: true, pinned: true }).await.unwrap(),
    );
    assert!(mine.muted && mine.pinned, "{mine:?}");
    cb2.wait_for("room_joined with bea's choices", |f| {
        matches!(f, ServerFrame::Event(e) if matches!(&e.data, EventData::RoomJoined { room: r } if r.muted && r.pinned))
    })
    .await;
    // amy's view of the room is unchanged.
    match ca.request(|id| ClientFrame::Snapshot { id, what: SnapshotKind::Rooms }).await.unwrap() {
        Some(AckData::Rooms { rooms }) => {
            let r = rooms.iter().find(|r| r.id == room.id).unwrap();
            assert!(!r.muted && !r.pinned, "{r:?}");
        }
        other => panic!("{other:?}"),
    }
    // Someone not in the room has no choices to make there.
    let mut cc = hub.connect(&_c).await;
    let e =
        cc.request(|id| ClientFrame::RoomPrefs { id, room: room.id, muted: true, pinned: false }).await.unwrap_err();
    assert_eq!(e.0, ErrorCode::Forbidden);
    let back = room_in(
        cb.request(|id| ClientFrame::RoomPrefs { id, room: room.id, muted: false, pinned: true }).await.unwrap(),
    );
    assert!(!back.muted && back.pinned);
    let _ = a;
}

#[tokio::test]
async fn mentions_notify_and_typing_expires() {
    let hub = TestHub::start().await;
    let (_a, b, _c, mut ca, mut cb, room) = room_of_three(&hub).await;
    cb.subscribe(Channel::Notifications(b.user.id), None).await.unwrap();
    ca.request(send(room.id, "hi", "hey @bea, tickets?")).await.unwrap();
    let n = cb.event_on(Channel::Notifications(b.user.id)).await;
    match n.data {
        EventData::Notification { notification } => {
            assert_eq!(notification.kind, NotificationKind::Mention);
            assert!(matches!(notification.target, Some(NotificationTarget::Room { id, .. }) if id == room.id));
        }
        other => panic!("{other:?}"),
    }
    ca.request(|id| ClientFrame::Typing { id, room: room.id, active: true }).await.unwrap();
    let f = cb
        .wait_for("typing", |f| {
            matches!(f, ServerFrame::Ephemeral { data: Ephemeral::Typing { active: true, .. }, .. })
        })
        .await;
    assert!(matches!(f, ServerFrame::Ephemeral { channel: Channel::Room(_), .. }));
    // Not renewed: the hub ends it by itself after ~5 s.
    cb.wait_for("typing stop", |f| {
        matches!(f, ServerFrame::Ephemeral { data: Ephemeral::Typing { active: false, .. }, .. })
    })
    .await;
}

#[tokio::test]
async fn presence_follows_connections_with_grace_and_invisibility() {
    let hub = TestHub::start_with(|c| c.presence_grace_secs = 1).await;
    let (a, _b, _c, ca, mut cb, room) = room_of_three(&hub).await;
    cb.subscribe(Channel::PresenceRoom(room.id), None).await.unwrap();
    // Snapshot after subscribing: amy is online.
    cb.wait_for("amy online", |f| matches!(f, ServerFrame::Ephemeral { data: Ephemeral::Presence { user, status: PresenceStatus::Online, .. }, .. } if user.id == a.user.id)).await;
    let mut ca2 = hub.connect(&a).await;
    ca2.request(|id| ClientFrame::PresenceSet { id, status: PresenceStatus::Invisible }).await.unwrap();
    cb.wait_for("amy offline (invisible)", |f| matches!(f, ServerFrame::Ephemeral { data: Ephemeral::Presence { user, status: PresenceStatus::Offline, .. }, .. } if user.id == a.user.id)).await;
    ca2.request(|id| ClientFrame::PresenceSet { id, status: PresenceStatus::Busy }).await.unwrap();
    cb.wait_for("amy busy", |f| matches!(f, ServerFrame::Ephemeral { data: Ephemeral::Presence { user, status: PresenceStatus::Busy, .. }, .. } if user.id == a.user.id)).await;
    drop(ca);
    drop(ca2);
    // Offline only after the grace period, with last_seen.
    let f = cb.wait_for("amy offline", |f| matches!(f, ServerFrame::Ephemeral { data: Ephemeral::Presence { user, status: PresenceStatus::Offline, .. }, .. } if user.id == a.user.id)).await;
    assert!(matches!(f, ServerFrame::Ephemeral { data: Ephemeral::Presence { last_seen: Some(_), .. }, .. }));
}

#[tokio::test]
async fn notifications_mark_read_and_broadcast() {
    let hub = TestHub::start().await;
    let a = hub.register("ida").await;
    let mut c = hub.connect(&a).await;
    c.subscribe(Channel::Notifications(a.user.id), None).await.unwrap();
    c.subscribe(Channel::Broadcast, None).await.unwrap();
    let (st, _) = hub
        .admin_post(
            "/v1/admin/broadcast",
            serde_json::json!({"title": "Maintenance", "body": "tonight", "priority": "high"}),
        )
        .await;
    assert_eq!(st, 200);
    let e = c.event_on(Channel::Broadcast).await;
    assert!(matches!(e.data, EventData::System { priority: Priority::High, .. }));
    let n = c.event_on(Channel::Notifications(a.user.id)).await;
    let EventData::Notification { notification } = n.data else { panic!() };
    hub.deposit("ida", 500).await;
    c.event_on(Channel::Notifications(a.user.id)).await;
    match c
        .request(|id| ClientFrame::Snapshot { id, what: SnapshotKind::Notifications { before: None, limit: 10 } })
        .await
        .unwrap()
    {
        Some(AckData::Notifications { unread, notifications, .. }) => {
            assert_eq!(unread, 2);
            assert_eq!(notifications.len(), 2);
        }
        other => panic!("{other:?}"),
    }
    c.request(|id| ClientFrame::NotificationsRead { id, ids: vec![notification.id] }).await.unwrap();
    let e = c.event_on(Channel::Notifications(a.user.id)).await;
    assert!(matches!(e.data, EventData::NotificationsRead { all: false, ref ids } if ids == &vec![notification.id]));
    c.request(|id| ClientFrame::NotificationsReadAll { id }).await.unwrap();
    let e = c.event_on(Channel::Notifications(a.user.id)).await;
    assert!(matches!(e.data, EventData::NotificationsRead { all: true, .. }));
}

/// SQL-looking and HTML/script payloads in every text field a user or operator can write come back
/// byte for byte (they are data, never SQL or markup; the UI renders them as text — see tests/e2e.rs).
#[tokio::test]
async fn hostile_text_is_stored_verbatim_in_every_field() {
    let hub = TestHub::start().await;
    let evil = "<script>x()</script><b onclick=y()>'; DROP TABLE users;--\"`${x}\u{202e}";
    assert!(evil.chars().count() <= 64);
    // Names are held to one more rule than text (docs/SECURITY.md): no hidden characters, so the bidi
    // override stays in memos and messages and a name carries the rest of the hostile text.
    let evil_name = evil.trim_end_matches('\u{202e}');
    let (status, v) = hub
        .post(
            "/v1/auth/register",
            serde_json::json!({"username": "eve", "password": "correct horse battery", "display_name": evil}),
        )
        .await;
    assert_eq!((status, v["code"].as_str()), (400, Some("invalid")), "a name with a bidi override: {v}");
    // Too long is a typed error, not a silent cut.
    let (status, v) = hub
        .post(
            "/v1/auth/register",
            serde_json::json!({"username": "longname", "password": "correct horse battery", "display_name": "x".repeat(65)}),
        )
        .await;
    assert_eq!((status, v["code"].as_str()), (400, Some("invalid")), "{v}");
    // Display name at registration.
    let (status, v) = hub
        .post(
            "/v1/auth/register",
            serde_json::json!({"username": "eve", "password": "correct horse battery", "display_name": evil_name}),
        )
        .await;
    assert_eq!(status, 201, "{v}");
    let eve = Session::from_json(&v);
    assert_eq!(eve.user.display_name, evil_name);
    let bob = hub.register("bob").await;
    hub.deposit("eve", 10_000).await;
    let mut ce = hub.connect(&eve).await;
    // Transfer memo.
    let t = match ce
        .request(|id| ClientFrame::TransferCreate {
            id,
            idempotency_key: "evil-1".into(),
            to: "bob".into(),
            amount: Money::new(100, Currency::USD),
            memo: evil.into(),
            expires_at: None,
            room: None,
        })
        .await
        .unwrap()
    {
        Some(AckData::Transfer { transfer }) => transfer,
        other => panic!("{other:?}"),
    };
    assert_eq!(t.memo, evil);
    // Room name, message text, edit, reaction.
    let room = match ce
        .request(|id| ClientFrame::RoomCreate {
            id,
            kind: RoomKind::Group,
            name: evil_name.into(),
            members: vec!["bob".into()],
        })
        .await
        .unwrap()
    {
        Some(AckData::Room { room }) => room,
        other => panic!("{other:?}"),
    };
    assert_eq!(room.name, evil_name);
    let m = match ce.request(send(room.id, "evil-m", evil)).await.unwrap() {
        Some(AckData::Message { message }) => message,
        other => panic!("{other:?}"),
    };
    assert_eq!(m.text, evil);
    let edited = format!("{evil} (edited)");
    let e2 = edited.clone();
    ce.request(move |id| ClientFrame::MessageEdit { id, room: room.id, message: m.id, text: e2 }).await.unwrap();
    // Everything reads back verbatim through another user's eyes: history, snapshots, contacts.
    let mut cb = hub.connect(&bob).await;
    let replayed = match cb
        .request(|id| ClientFrame::History { id, channel: Channel::Room(room.id), before: None, limit: 50 })
        .await
        .unwrap()
    {
        Some(AckData::History { events, .. }) => events,
        other => panic!("{other:?}"),
    };
    let texts: Vec<String> = replayed
        .iter()
        .filter_map(|e| match &e.data {
            EventData::Message { message } => Some(message.text.clone()),
            EventData::MessageEdited { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect();
    assert!(texts.contains(&edited), "{texts:?}");
    let txs = match cb
        .request(|id| ClientFrame::Snapshot { id, what: SnapshotKind::Transactions { before: None, limit: 10 } })
        .await
        .unwrap()
    {
        Some(AckData::Transactions { transactions, .. }) => transactions,
        other => panic!("{other:?}"),
    };
    assert!(txs
        .iter()
        .any(|t| t.memo == evil && t.counterparty.as_ref().map(|c| c.display_name.as_str()) == Some(evil_name)));
    assert_eq!(hub.invariants_ok().await["ok"], serde_json::json!(true));
}
