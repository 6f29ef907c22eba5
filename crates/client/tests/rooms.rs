//! Groups from the app (#14, rooms and people): inviting someone into a group and leaving one, through the
//! engine against a real hub; what each member's cache then shows.
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

fn members(app: &App, room: RoomId) -> Vec<String> {
    let rooms = app.engine.rooms().unwrap();
    let mut names: Vec<String> = rooms
        .iter()
        .find(|rv| rv.room.id == room)
        .map(|rv| rv.room.members.iter().map(|u| u.username.clone()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

fn listed(app: &App, room: RoomId) -> bool {
    app.engine.rooms().unwrap().iter().any(|rv| rv.room.id == room)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_invites_someone_into_a_group_and_another_leaves_it() {
    let hub = Hub::start().await;
    for name in ["amy", "bea", "cai"] {
        hub.register(name).await;
    }
    let (da, db, dc) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let amy = signed_in(&hub.url(), "amy", da.path()).await;
    let bea = signed_in(&hub.url(), "bea", db.path()).await;
    let cai = signed_in(&hub.url(), "cai", dc.path()).await;
    let room = amy.engine.create_room(RoomKind::Group, "Trip", vec!["bea".into()]).await.unwrap().room.id;
    bea.until("bea is in the group", |_| listed(&bea, room)).await;
    assert!(!listed(&cai, room), "cai is not in it yet");

    // bea (a member, not its creator) invites cai.
    let rv = bea.engine.invite_member(room, " cai ").await.expect("a member invites");
    let mut names: Vec<String> = rv.room.members.iter().map(|u| u.username.clone()).collect();
    names.sort();
    assert_eq!(names, ["amy", "bea", "cai"], "the answer is the room with its new member");
    cai.until("cai sees the group", |_| listed(&cai, room)).await;
    amy.until("amy sees three members", |_| members(&amy, room) == ["amy", "bea", "cai"]).await;
    cai.engine.send_message(room, "hello all").unwrap();
    amy.until("cai's message reaches amy", |_| cached_texts(&amy, room).iter().any(|m| m == "hello all")).await;

    // What the hub refuses comes back as its error, and nothing changes.
    let direct = amy.engine.create_room(RoomKind::Direct, "", vec!["bea".into()]).await.unwrap().room.id;
    let e = amy.engine.invite_member(direct, "cai").await.unwrap_err();
    assert_eq!(e.code(), CommandErrorCode::Hub(ErrorCode::Invalid), "{e}");
    let e = amy.engine.invite_member(room, "nobody-here").await.unwrap_err();
    assert_eq!(e.code(), CommandErrorCode::Hub(ErrorCode::NotFound), "{e}");
    assert!(amy.engine.invite_member(room, "").await.is_err(), "an empty name is refused before the hub");
    assert_eq!(members(&amy, room), ["amy", "bea", "cai"]);

    // amy created it: she is its admin and may rename it and remove people; bea may do neither.
    assert_eq!(rv.room.admins, vec![amy.engine.session().unwrap().user.id]);
    let e = bea.engine.rename_room(room, "Bea's").await.unwrap_err();
    assert_eq!(e.code(), CommandErrorCode::Hub(ErrorCode::Forbidden), "{e}");
    let renamed = amy.engine.rename_room(room, " Ski trip ").await.expect("the admin renames");
    assert_eq!(renamed.room.name, "Ski trip");
    cai.until("cai sees the new name", |e| {
        e.rooms().unwrap().iter().any(|r| r.room.id == room && r.room.name == "Ski trip")
    })
    .await;
    assert!(amy.engine.rename_room(room, "   ").await.is_err(), "a blank name is refused before the hub");
    let e = bea.engine.remove_member(room, "cai").await.unwrap_err();
    assert_eq!(e.code(), CommandErrorCode::Hub(ErrorCode::Forbidden), "{e}");
    let after = amy.engine.remove_member(room, "cai").await.expect("the admin removes cai");
    assert_eq!(after.room.members.len(), 2);
    cai.until("the group is out of cai's list", |_| !listed(&cai, room)).await;
    bea.until("bea sees cai gone", |_| members(&bea, room) == ["amy", "bea"]).await;
    amy.engine.invite_member(room, "cai").await.expect("and back in");
    cai.until("cai sees the group again", |_| listed(&cai, room)).await;

    // bea leaves: out of her list at once; the others see two members; she can no longer post there.
    bea.engine.leave_room(room).await.expect("bea leaves");
    assert!(!listed(&bea, room), "the room left is out of bea's list at once");
    amy.until("amy sees bea gone", |_| members(&amy, room) == ["amy", "cai"]).await;
    cai.until("cai sees bea gone", |_| members(&cai, room) == ["amy", "cai"]).await;
    let e = bea.engine.invite_member(room, "bea").await.unwrap_err();
    assert_eq!(e.code(), CommandErrorCode::Hub(ErrorCode::Forbidden), "{e}");
}

/// The texts of the room's cached messages.
fn cached_texts(app: &App, room: RoomId) -> Vec<String> {
    let rt = tokio::runtime::Handle::current();
    tokio::task::block_in_place(|| rt.block_on(app.engine.messages(room, None, 50)))
        .unwrap_or_default()
        .into_iter()
        .map(|m| m.message.text)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_muted_room_raises_no_popups_and_leaves_the_badge_and_a_pinned_one_comes_first() {
    let hub = Hub::start().await;
    for name in ["dee", "eve"] {
        hub.register(name).await;
    }
    let (dd, de) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let dee = signed_in(&hub.url(), "dee", dd.path()).await;
    let eve = signed_in(&hub.url(), "eve", de.path()).await;
    let dm = dee.engine.create_room(RoomKind::Direct, "", vec!["eve".into()]).await.unwrap().room.id;
    let group = dee.engine.create_room(RoomKind::Group, "Book club", vec!["eve".into()]).await.unwrap().room.id;
    eve.until("eve is in both", |_| listed(&eve, dm) && listed(&eve, group)).await;

    // Muted: dee's message arrives and counts in the room, but raises no popup and not the badge.
    let rv = eve.engine.set_room_prefs(dm, true, false).await.expect("mute");
    assert!(rv.room.muted);
    dee.engine.send_message(dm, "quiet one").unwrap();
    eve.until("the message arrives", |e| e.rooms().unwrap().iter().any(|r| r.room.id == dm && r.unread == 1)).await;
    assert!(!eve.shown().iter().any(|n| n.body.contains("quiet one")), "no popup in a muted room: {:?}", eve.shown());
    assert_eq!(eve.engine.unread_counts().unwrap().chat, 0, "a muted room is not in the badge");

    // Unmuted: the next one pops up and counts.
    eve.engine.set_room_prefs(dm, false, false).await.expect("unmute");
    dee.engine.send_message(dm, "loud one").unwrap();
    eve.until("a popup for the next message", |_| eve.shown().iter().any(|n| n.body.contains("loud one"))).await;
    assert_eq!(eve.engine.unread_counts().unwrap().chat, 2);

    // Pinned: the group goes first though the direct room had the latest message.
    assert_eq!(eve.engine.rooms().unwrap()[0].room.id, dm, "latest activity first");
    eve.engine.set_room_prefs(group, false, true).await.expect("pin");
    let rooms = eve.engine.rooms().unwrap();
    assert_eq!((rooms[0].room.id, rooms[0].room.pinned), (group, true));
    assert!(!dee.engine.rooms().unwrap().iter().any(|r| r.room.pinned), "dee's list is dee's");
}

/// A direct room `create_room` finds already made, asked for right after sign-in (its answer can reach the
/// cache before the rooms snapshot, and no `room_joined` comes for it), is still followed live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_direct_room_found_at_sign_in_is_followed_live() {
    let hub = Hub::start().await;
    for name in ["amy", "bea"] {
        hub.register(name).await;
    }
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let bea = signed_in(&hub.url(), "bea", db.path()).await;
    let room = bea.engine.create_room(RoomKind::Direct, "", vec!["amy".into()]).await.unwrap().room.id;
    bea.engine.send_message(room, "before").unwrap();
    let amy = signed_in(&hub.url(), "amy", da.path()).await;
    assert_eq!(amy.engine.create_room(RoomKind::Direct, "", vec!["bea".into()]).await.unwrap().room.id, room);
    amy.until("amy has the earlier message", |_| cached_texts(&amy, room).iter().any(|m| m == "before")).await;
    bea.engine.send_message(room, "live one").unwrap();
    amy.until("amy gets the new message live", |_| cached_texts(&amy, room).iter().any(|m| m == "live one")).await;
}
