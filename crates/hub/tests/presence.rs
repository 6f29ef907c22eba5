//! Presence that tells the truth across the grace period and restarts: the status a user chose is kept,
//! and "last seen" is known after they went offline.
mod common;
use common::*;
use tally_protocol::*;

async fn presence_of(c: &mut Client, channel: Channel, who: UserId) -> (PresenceStatus, Option<Millis>) {
    match c.wait_for("presence", |f| matches!(f, ServerFrame::Ephemeral { data: Ephemeral::Presence { user, .. }, channel: ch } if user.id == who && *ch == channel)).await {
        ServerFrame::Ephemeral { data: Ephemeral::Presence { status, last_seen, .. }, .. } => (status, last_seen),
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn a_chosen_status_and_last_seen_survive_the_grace_and_a_restart() {
    let mut hub = TestHub::start_with(|c| c.presence_grace_secs = 0).await;
    let a = hub.register("nia").await;
    let b = hub.register("oli").await;
    let mut ca = hub.connect(&a).await;
    ca.request(|id| ClientFrame::PresenceSet { id, status: PresenceStatus::Busy }).await.unwrap();
    drop(ca);
    // Offline after the (zero) grace; last seen is known.
    let mut cb = hub.connect(&b).await;
    let ch = Channel::PresenceUser(a.user.id);
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    cb.subscribe(ch, None).await.unwrap();
    let (status, seen) = presence_of(&mut cb, ch, a.user.id).await;
    assert_eq!(status, PresenceStatus::Offline);
    assert!(seen.is_some(), "last seen after going offline");
    hub.restart_with(|c| c.presence_grace_secs = 0).await;
    // A new hub process: last seen still known, and the chosen status comes back with the user.
    let mut cb = hub.connect(&b).await;
    cb.subscribe(ch, None).await.unwrap();
    assert_eq!(presence_of(&mut cb, ch, a.user.id).await, (PresenceStatus::Offline, seen));
    let _ca = hub.connect(&a).await;
    assert_eq!(presence_of(&mut cb, ch, a.user.id).await.0, PresenceStatus::Busy, "still busy, as chosen");
}
