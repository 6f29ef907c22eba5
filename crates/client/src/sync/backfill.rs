//! The history download over the live connection: the user's whole history (transactions, notifications,
//! each room's messages), newest first, one page of up to 1,000 rows in flight at a time, and only when
//! the outbox and the owed snapshots have nothing in flight, so live traffic and the user's own actions go
//! first. Changes owed after a `recovered: false` are fetched before older pages: the newest hole first.
use crate::store::{PageEnd, PageRows, PartKey, PartState};
use crate::view::Prefs;
use crate::Error;
use tally_protocol::*;

/// Rows per page (the hub's `MAX_SNAPSHOT_PAGE`).
pub const PAGE: u32 = MAX_SNAPSHOT_PAGE;
/// With "keep chat history offline" on, a room keeps this many of its newest messages (every message of
/// any smaller room); older ones are fetched when scrolled to.
pub const ROOM_KEEP_ALL: u64 = 10_000;
/// With it off, a room keeps its newest this many.
pub const ROOM_KEEP_RECENT: u64 = 500;

/// What a part needs next.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Work {
    /// Changes since the cursor (a hole after `recovered: false`).
    Changes(ChangeCursor),
    /// The next older page.
    Backfill(Option<i64>),
}

/// How many rows of a part this device keeps.
pub fn cap(key: PartKey, prefs: &Prefs) -> u64 {
    match key {
        PartKey::Room(_) if prefs.keep_chat_history => ROOM_KEEP_ALL,
        PartKey::Room(_) => ROOM_KEEP_RECENT,
        _ => u64::MAX,
    }
}

/// The first part with work to do, and that work: owed changes before older pages.
pub fn next_work(parts: &[PartState]) -> Option<(PartKey, Work)> {
    if let Some(p) = parts.iter().find(|p| p.changes.is_some()) {
        return p.changes.map(|c| (p.key, Work::Changes(c)));
    }
    // Transactions first (what History shows), then notifications, then rooms; but the newest page of
    // every part before any part's older pages, so each part's total (and the newest of everything) is
    // known early and the progress bar can say "41,200 of 100,000" rather than "so far".
    let order = |p: &&PartState| {
        let kind = match p.key {
            PartKey::Transactions => 0,
            PartKey::Notifications => 1,
            PartKey::Room(_) => 2,
        };
        (p.pages > 0 || p.total.is_some(), kind)
    };
    parts.iter().filter(|p| !p.complete).min_by_key(order).map(|p| (p.key, Work::Backfill(p.next_before)))
}

/// The request for a part's work.
pub fn frame(key: PartKey, work: Work, id: ReqId) -> ClientFrame {
    let limit = PAGE;
    let what = match (key, work) {
        (PartKey::Transactions, Work::Backfill(before)) => SnapshotKind::Transactions { before, limit },
        (PartKey::Transactions, Work::Changes(since)) => SnapshotKind::TransactionChanges { since, limit },
        (PartKey::Notifications, Work::Backfill(before)) => SnapshotKind::Notifications { before, limit },
        (PartKey::Notifications, Work::Changes(since)) => SnapshotKind::NotificationChanges { since, limit },
        (PartKey::Room(room), Work::Changes(since)) => SnapshotKind::MessageChanges { room, since, limit },
        (PartKey::Room(room), Work::Backfill(before)) => {
            let before = before.map(|s| s as u64);
            return ClientFrame::History { id, channel: Channel::Room(room), before, limit };
        }
    };
    ClientFrame::Snapshot { id, what }
}

/// The rows of a reply and where they leave the part; a reply of the wrong shape is an error.
pub fn page(key: PartKey, work: Work, data: Option<AckData>) -> Result<(PageRows, PageEnd), Error> {
    let changes = matches!(work, Work::Changes(_));
    let end = |next_before: Option<i64>, next_since: Option<ChangeCursor>, total: Option<u64>| {
        if changes {
            PageEnd::Changes { next: next_since }
        } else {
            PageEnd::Backfill { next_before, total }
        }
    };
    match (key, data) {
        (PartKey::Transactions, Some(AckData::Transactions { transactions, next_before, next_since, total })) => {
            Ok((PageRows::Transactions(transactions), end(next_before, next_since, total)))
        }
        (
            PartKey::Notifications,
            Some(AckData::Notifications { notifications, next_before, next_since, total, .. }),
        ) => Ok((PageRows::Notifications(notifications), end(next_before, next_since, total))),
        (PartKey::Room(_), Some(AckData::History { events, has_more, next_since, total })) => {
            let oldest = events.iter().map(|e| e.seq as i64).min();
            let next_before = if has_more { oldest } else { None };
            Ok((PageRows::Messages(events), end(next_before, next_since, total)))
        }
        (key, other) => Err(Error::Network(format!(
            "unexpected reply to the {} history page: {}",
            key.encode(),
            other.map(|d| format!("{d:?}").chars().take(40).collect::<String>()).unwrap_or_else(|| "empty".into())
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(key: PartKey, complete: bool, changes: Option<ChangeCursor>) -> PartState {
        PartState { key, next_before: Some(5), complete, fetched: 0, total: None, pages: 0, changes }
    }

    #[test]
    fn owed_changes_come_before_older_pages_and_transactions_before_rooms() {
        let since = ChangeCursor { updated_at: 10, id: 0 };
        let parts = vec![
            part(PartKey::Room(3), false, None),
            part(PartKey::Transactions, false, None),
            part(PartKey::Notifications, true, Some(since)),
        ];
        assert_eq!(next_work(&parts), Some((PartKey::Notifications, Work::Changes(since))));
        let parts = vec![part(PartKey::Room(3), false, None), part(PartKey::Transactions, false, None)];
        assert_eq!(next_work(&parts), Some((PartKey::Transactions, Work::Backfill(Some(5)))));
        assert_eq!(next_work(&[part(PartKey::Room(3), true, None)]), None);
    }

    #[test]
    fn every_part_gets_its_newest_page_and_total_before_any_older_pages() {
        let started = PartState { pages: 3, total: Some(20_000), ..part(PartKey::Transactions, false, None) };
        let parts = vec![started, part(PartKey::Room(3), false, None), part(PartKey::Notifications, false, None)];
        assert_eq!(next_work(&parts), Some((PartKey::Notifications, Work::Backfill(Some(5)))));
        let notes = PartState { pages: 1, total: Some(10), ..part(PartKey::Notifications, false, None) };
        let parts = vec![parts[0].clone(), parts[1].clone(), notes.clone()];
        assert_eq!(next_work(&parts), Some((PartKey::Room(3), Work::Backfill(Some(5)))));
        let room = PartState { pages: 1, total: Some(7), ..part(PartKey::Room(3), false, None) };
        assert_eq!(next_work(&[room, notes, parts[0].clone()]), Some((PartKey::Transactions, Work::Backfill(Some(5)))));
    }

    #[test]
    fn a_reply_of_the_wrong_shape_is_an_error_not_an_empty_page() {
        let r = page(PartKey::Transactions, Work::Backfill(None), Some(AckData::Rooms { rooms: vec![] }));
        assert!(r.is_err());
        assert!(page(PartKey::Room(1), Work::Backfill(None), None).is_err());
    }

    #[test]
    fn a_room_page_continues_below_its_oldest_seq_only_when_the_hub_has_more() {
        let ev = |seq| Event {
            channel: Channel::Room(1),
            epoch: "e".into(),
            seq,
            ts: 0,
            data: EventData::MessageDeleted { message: seq as i64 },
        };
        let data = AckData::History { events: vec![ev(9), ev(8)], has_more: true, next_since: None, total: Some(9) };
        let (_, end) = page(PartKey::Room(1), Work::Backfill(None), Some(data)).unwrap();
        assert!(matches!(end, PageEnd::Backfill { next_before: Some(8), total: Some(9) }));
    }
}
