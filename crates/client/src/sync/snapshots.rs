//! Snapshots owed after `recovered: false` (balances; payment requests, open transfers and rooms; a transfer): jittered, at
//! most two at a time, and remembered in the cache until done.
use super::*;

/// Requests the snapshots owed after `recovered: false`, at most two at a time.
pub(super) async fn run_snapshots(sh: &Arc<Shared>, conn: &mut Conn) -> Result<(), Error> {
    while conn.snapshots_running < SNAPSHOT_CONCURRENCY {
        let Some(&(channel, not_before)) = conn.snapshot_queue.front() else { break };
        if Instant::now() < not_before {
            break;
        }
        conn.snapshot_queue.pop_front();
        let me = sh.user.id;
        let kinds: Vec<SnapshotKind> = match channel {
            Channel::Balance(u) if u == me => vec![SnapshotKind::Balances],
            Channel::User(u) if u == me => {
                vec![SnapshotKind::Requests, SnapshotKind::OpenTransfers, SnapshotKind::Rooms]
            }
            Channel::Transfer(id) => vec![SnapshotKind::Transfer { id }],
            _ => {
                // History channels are the backfill's (an older cache may still owe them a snapshot).
                sh.store.snapshot_done(&channel)?;
                vec![]
            }
        };
        for what in kinds {
            conn.snapshots_running += 1;
            let w = what.clone();
            conn.request(move |id| ClientFrame::Snapshot { id, what: w }, Pending::Snapshot(channel, what)).await?;
        }
    }
    Ok(())
}

pub(super) async fn apply_snapshot(
    sh: &Arc<Shared>,
    conn: &mut Conn,
    _channel: Channel,
    _what: SnapshotKind,
    data: AckData,
) -> Result<(), Error> {
    let mut changes = vec![];
    match data {
        AckData::Balances { balances } => {
            sh.store.replace_balances(&balances)?;
            changes.push(Change::Balances);
        }
        AckData::Rooms { rooms } => {
            sh.store.replace_rooms(&rooms)?;
            sh.store.ensure_parts(&wanted_parts(sh))?;
            for r in &rooms {
                // Every room not followed yet, including one a request's answer put in the cache first (a
                // direct room `room_create` found already made): no `room_joined` will come for it.
                if sh.store.position(&Channel::Room(r.id))?.is_none() {
                    for ch in [Channel::Room(r.id), Channel::PresenceRoom(r.id)] {
                        conn.request(
                            |id| ClientFrame::Subscribe { id, channel: ch, since: None },
                            Pending::Subscribe(ch),
                        )
                        .await?;
                    }
                }
            }
            changes.push(Change::Rooms);
            changes.push(Change::Sync);
        }
        AckData::Contacts { users } => sh.store.replace_contacts(&users)?,
        AckData::Requests { requests } => {
            sh.store.upsert_requests(&requests)?;
            changes.push(Change::Requests);
        }
        AckData::Transfers { transfers } => {
            for t in &transfers {
                sh.store.upsert_transfer(t, &LocalState::Sent)?;
                if !t.status.is_final() {
                    let ch = Channel::Transfer(t.id);
                    if sh.store.position(&ch)?.is_none() {
                        conn.request(
                            |id| ClientFrame::Subscribe { id, channel: ch, since: None },
                            Pending::Subscribe(ch),
                        )
                        .await?;
                    }
                }
            }
            changes.push(Change::Transfers);
        }
        AckData::Transfer { transfer } => {
            sh.store.upsert_transfer(&transfer, &LocalState::Sent)?;
            changes.push(Change::Transfers);
        }
        // History pages (transactions, notifications, messages) are the backfill's: `on_backfill_reply`.
        _ => {}
    }
    sh.changed(changes);
    Ok(())
}
