//! Groups in the real app (#14, rooms and people): alice, in the real WebView, makes a group with bob and
//! carol, removes carol and adds her back from its people, renames it, mentions bob through the @ list, mutes it and leaves;
//! bob, a real sync engine in this process, sees each step arrive from the hub.
use std::sync::Arc;
use std::time::Duration;
use tally_client::notify::RecordingNotifier;
use tally_client::secrets::MemoryStore;
use tally_client::view::*;
use tally_client::{Engine, EngineConfig};
use tally_protocol::*;

#[path = "support/webview.rs"]
mod webview;
use webview::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_made_and_run_from_the_app() {
    tokio::time::timeout(Duration::from_secs(240), scenario()).await.expect("the groups scenario took over 4 minutes");
}

/// Waits until bob's engine sees `what` of the group named in `f`.
async fn bob_sees(bob: &Engine, what: &str, f: impl Fn(&RoomView) -> bool) -> RoomView {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(rv) = bob.rooms().unwrap().into_iter().find(|rv| rv.room.kind == RoomKind::Group && f(rv)) {
            return rv;
        }
        assert!(tokio::time::Instant::now() < deadline, "bob never saw {what}: {:?}", bob.rooms().unwrap());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn names(rv: &RoomView) -> Vec<String> {
    let mut n: Vec<String> = rv.room.members.iter().map(|u| u.username.clone()).collect();
    n.sort();
    n
}

async fn scenario() {
    tally_client::install_crypto();
    let hub_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = format!("http://127.0.0.1:{port}");
    let hub = tally_hub::start(hub_config(hub_dir.path(), port)).await.expect("hub");
    let bob_dir = tempfile::tempdir().unwrap();
    let notifier = Arc::new(RecordingNotifier::default());
    let bob = Engine::new(
        EngineConfig::new(bob_dir.path(), "e2e-groups-bob"),
        Arc::new(MemoryStore::default()),
        notifier.clone(),
    );
    bob.sign_in(&server, "bob", tally_hub::demo::PASSWORD, None).await.unwrap();
    let app_data = tempfile::tempdir().unwrap();
    let Some((_driver, c)) = open_app(app_data.path(), "groups").await else { return };
    sign_in_form(&c, &server, "alice", tally_hub::demo::PASSWORD).await;
    wait_css(&c, "[data-testid=balance-amount]").await;

    // A group with bob and carol, made in the app.
    nav(&c, "chat").await;
    click(&c, "[data-testid=chat-new]").await;
    click(&c, "[data-testid=new-chat-dialog] input[value=bob]").await;
    click(&c, "[data-testid=new-chat-dialog] input[value=carol]").await;
    let name = wait_css(&c, "#field-room-name").await;
    name.send_keys("E2E trip").await.unwrap();
    click(&c, "[data-testid=new-chat-dialog] .btn-primary").await;
    wait_js(
        &c,
        "the group open",
        "return document.querySelector('[data-testid=room-title]')?.textContent === 'E2E trip';",
    )
    .await;
    let rv = bob_sees(&bob, "the new group", |rv| rv.room.name == "E2E trip").await;
    assert_eq!(names(&rv), ["alice", "bob", "carol"]);
    let room = rv.room.id;
    let alice_id = rv.room.members.iter().find(|u| u.username == "alice").unwrap().id;
    assert_eq!(rv.room.admins, vec![alice_id], "alice made it: she is its admin");

    // Her people: remove carol, then add her back; rename it.
    click(&c, "[data-testid=room-members]").await;
    click(&c, "[data-testid=member][data-username=carol] [data-testid=member-remove]").await;
    click(&c, "[data-testid=remove-confirm]").await;
    bob_sees(&bob, "carol removed", |rv| rv.room.id == room && names(rv) == ["alice", "bob"]).await;
    click(&c, "[data-testid=members-dialog] [data-testid=member-pick][value=carol]").await;
    click(&c, "[data-testid=members-add]").await;
    bob_sees(&bob, "carol back", |rv| rv.room.id == room && names(rv) == ["alice", "bob", "carol"]).await;
    let field = wait_css(&c, "[data-testid=room-rename]").await;
    field.clear().await.unwrap();
    field.send_keys("E2E ski trip").await.unwrap();
    click(&c, "[data-testid=room-rename-save]").await;
    bob_sees(&bob, "the new name", |rv| rv.room.id == room && rv.room.name == "E2E ski trip").await;
    click(&c, "[data-testid=members-dialog] [aria-label=Close]").await;
    shot(&c, "groups-01-renamed").await;

    // A mention picked from the @ list reaches bob as a mention.
    let input = wait_css(&c, "[data-testid=chat-input]").await;
    input.send_keys("@bo").await.unwrap();
    wait_css(&c, "[data-testid=mention-option][data-username=bob]").await;
    input.send_keys("\u{E007}").await.unwrap(); // Enter: takes bob
    input.send_keys("tickets?").await.unwrap();
    let v = c.execute("return document.querySelector('[data-testid=chat-input]').value", vec![]).await.unwrap();
    assert_eq!(v, serde_json::json!("@bob tickets?"));
    click(&c, "[data-testid=chat-send]").await;
    let deadline = tokio::time::Instant::now() + WAIT;
    let bob_id = rv.room.members.iter().find(|u| u.username == "bob").unwrap().id;
    loop {
        let msgs = bob.messages(room, None, 20).await.unwrap();
        if let Some(m) = msgs.iter().find(|m| m.message.text == "@bob tickets?") {
            assert_eq!(m.message.mentions, vec![bob_id], "the hub read it as a mention of bob");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "bob never got the mention");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Mute: kept by the hub for alice only.
    click(&c, "[data-testid=room-mute]").await;
    wait_css(&c, "[data-testid=room-mute][aria-pressed=true]").await;
    let muted: bool = hub_db(hub_dir.path())
        .query_row("SELECT muted FROM room_members WHERE room_id = ?1 AND user_id = ?2", [room, alice_id], |r| r.get(0))
        .unwrap();
    assert!(muted, "the hub keeps alice's choice");
    assert!(!bob_sees(&bob, "the group", |rv| rv.room.id == room).await.room.muted, "bob's is his own");

    // Alice leaves: the group leaves her list; bob, the longest-standing member left, becomes its admin.
    click(&c, "[data-testid=room-members]").await;
    click(&c, "[data-testid=room-leave]").await;
    click(&c, "[data-testid=leave-confirm]").await;
    let gone = format!("return !document.querySelector('[data-testid=room-item][data-room=\"{room}\"]');");
    wait_js(&c, "the group out of alice's list", &gone).await;
    let rv = bob_sees(&bob, "alice gone and bob admin", |rv| rv.room.id == room && names(rv) == ["bob", "carol"]).await;
    let rv = if rv.room.admins == vec![bob_id] {
        rv
    } else {
        bob_sees(&bob, "bob admin", |rv| rv.room.id == room && rv.room.admins == vec![bob_id]).await
    };
    assert_eq!(rv.room.admins, vec![bob_id]);
    shot(&c, "groups-02-left").await;
    let _ = c.close().await;
    bob.shutdown();
    hub.shutdown().await;
}
