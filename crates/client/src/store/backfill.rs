//! The history download's durable state: one `sync_parts` row per part (transactions, notifications, each
//! room's messages) with its backfill cursor ("complete down to id X") and the changes still owed after a
//! `recovered: false`. Every page's rows and the cursor that covers them commit in one transaction, so a
//! quit or a crash mid-way resumes where it stopped and never restarts.
use super::{insert_notification, set_position_ts, upsert_message, upsert_tx, Applied, Store, TxText};
use crate::view::{Change, SyncKind, SyncPart, SyncProgress};
use crate::Error;
use rusqlite::{params, OptionalExtension};
use tally_protocol::*;

/// How far back a "changes since" starts before the last event applied: the hub stamps a row's
/// `updated_at` and the event's `ts` in the same job, but not in the same instant (and hubs' clocks differ).
pub const CHANGES_MARGIN_MS: i64 = 60_000;

/// One part of the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PartKey {
    Transactions,
    Notifications,
    Room(RoomId),
}

impl PartKey {
    pub fn encode(&self) -> String {
        match self {
            PartKey::Transactions => "transactions".into(),
            PartKey::Notifications => "notifications".into(),
            PartKey::Room(r) => format!("room:{r}"),
        }
    }
    pub fn parse(s: &str) -> Option<PartKey> {
        match s {
            "transactions" => Some(PartKey::Transactions),
            "notifications" => Some(PartKey::Notifications),
            _ => s.strip_prefix("room:").and_then(|r| r.parse().ok()).map(PartKey::Room),
        }
    }
    /// The part a durable channel's rows belong to (for user `me`).
    pub fn of_channel(channel: &Channel, me: UserId) -> Option<PartKey> {
        match *channel {
            Channel::Transactions(u) if u == me => Some(PartKey::Transactions),
            Channel::Notifications(u) if u == me => Some(PartKey::Notifications),
            Channel::Room(r) => Some(PartKey::Room(r)),
            _ => None,
        }
    }
}

/// A part's stored state.
#[derive(Debug, Clone, PartialEq)]
pub struct PartState {
    pub key: PartKey,
    /// The next backfill page is strictly older than this id (or seq, for rooms); None: from the newest.
    pub next_before: Option<i64>,
    pub complete: bool,
    pub fetched: u64,
    pub total: Option<u64>,
    pub pages: u64,
    /// Changes owed since this cursor (after a `recovered: false`); None: nothing owed.
    pub changes: Option<ChangeCursor>,
}

/// The rows of one page, by part.
pub enum PageRows {
    Transactions(Vec<Transaction>),
    Notifications(Vec<Notification>),
    Messages(Vec<Event>),
}

impl PageRows {
    pub fn len(&self) -> usize {
        match self {
            PageRows::Transactions(v) => v.len(),
            PageRows::Notifications(v) => v.len(),
            PageRows::Messages(v) => v.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where a page leaves its part.
pub enum PageEnd {
    /// A backfill page: continue below `next_before`, or the part is complete (None). `total` comes with
    /// the first page.
    Backfill { next_before: Option<i64>, total: Option<u64> },
    /// A changes page: continue from `next`, or nothing more is owed (None).
    Changes { next: Option<ChangeCursor> },
}

fn part_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Option<PartState>> {
    let key: String = r.get(0)?;
    let changes = match (r.get::<_, Option<i64>>(6)?, r.get::<_, Option<i64>>(7)?) {
        (Some(updated_at), id) => Some(ChangeCursor { updated_at, id: id.unwrap_or(0) }),
        _ => None,
    };
    let Some(key) = PartKey::parse(&key) else { return Ok(None) };
    Ok(Some(PartState {
        key,
        next_before: r.get(1)?,
        complete: r.get(2)?,
        fetched: r.get::<_, i64>(3)? as u64,
        total: r.get::<_, Option<i64>>(4)?.map(|n| n as u64),
        pages: r.get::<_, i64>(5)? as u64,
        changes,
    }))
}

const PART_COLS: &str = "part, next_before, complete, fetched, total, pages, changes_ts, changes_id";

impl Store {
    /// Makes sure each of these parts has a row (a new part starts from the newest row) and drops the
    /// rows of rooms no longer followed.
    pub fn ensure_parts(&self, keys: &[PartKey]) -> Result<(), Error> {
        let mut c = self.writer();
        let tx = c.transaction()?;
        let wanted: Vec<String> = keys.iter().map(PartKey::encode).collect();
        for k in &wanted {
            tx.prepare_cached("INSERT OR IGNORE INTO sync_parts (part) VALUES (?1)")?.execute([k])?;
        }
        let stored: Vec<String> = {
            let mut stmt = tx.prepare("SELECT part FROM sync_parts WHERE part LIKE 'room:%'")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        for k in stored.iter().filter(|k| !wanted.contains(k)) {
            tx.execute("DELETE FROM sync_parts WHERE part = ?1", [k])?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn parts(&self) -> Result<Vec<PartState>, Error> {
        let c = self.reader();
        let mut stmt = c.prepare_cached(&format!("SELECT {PART_COLS} FROM sync_parts ORDER BY part"))?;
        let rows = stmt.query_map([], part_from_row)?;
        Ok(rows.filter_map(|r| r.transpose()).collect::<Result<_, _>>()?)
    }

    pub fn part(&self, key: PartKey) -> Result<Option<PartState>, Error> {
        let c = self.reader();
        let row = c
            .prepare_cached(&format!("SELECT {PART_COLS} FROM sync_parts WHERE part = ?1"))?
            .query_row([key.encode()], part_from_row)
            .optional()?;
        Ok(row.flatten())
    }

    /// The download's progress as the UI shows it.
    pub fn sync_progress(&self) -> Result<SyncProgress, Error> {
        let parts: Vec<SyncPart> = self
            .parts()?
            .into_iter()
            .map(|p| {
                let (kind, room) = match p.key {
                    PartKey::Transactions => (SyncKind::Transactions, None),
                    PartKey::Notifications => (SyncKind::Notifications, None),
                    PartKey::Room(r) => (SyncKind::Messages, Some(r)),
                };
                let total = if p.complete { Some(p.total.unwrap_or(0).max(p.fetched)) } else { p.total };
                SyncPart { kind, room, fetched: p.fetched, total, complete: p.complete && p.changes.is_none() }
            })
            .collect();
        let fetched = parts.iter().map(|p| p.fetched).sum();
        let total = parts.iter().map(|p| p.total).sum::<Option<u64>>();
        // Until the room list has arrived, rooms still to be downloaded are not known yet.
        let rooms_known = self.meta(&format!("snap:{}", Channel::User(self.me)))?.is_none();
        let complete =
            rooms_known && parts.iter().any(|p| p.kind == SyncKind::Transactions) && parts.iter().all(|p| p.complete);
        Ok(SyncProgress { parts, fetched, total, complete })
    }

    /// After `recovered: false` on a channel whose events this device applied before: continue from the
    /// hub's head, and owe the part every change since the last event applied (or, for a cache that never
    /// recorded that time, a fresh download). One transaction, so a crash cannot lose what is owed.
    /// `hub_now` (the hub's clock) becomes the position's time: everything before it is covered.
    pub fn recover_from_head(&self, channel: &Channel, head: &Position, hub_now: Millis) -> Result<(), Error> {
        let mut c = self.writer();
        let tx = c.transaction()?;
        let last_ts: Option<i64> = tx
            .query_row("SELECT ts FROM positions WHERE channel = ?1", [channel.to_string()], |r| r.get(0))
            .optional()?
            .flatten();
        if let Some(part) = PartKey::of_channel(channel, self.me) {
            let k = part.encode();
            tx.prepare_cached("INSERT OR IGNORE INTO sync_parts (part) VALUES (?1)")?.execute([&k])?;
            match last_ts {
                Some(ts) => tx.execute(
                    "UPDATE sync_parts SET changes_ts = MIN(COALESCE(changes_ts, ?2), ?2),
                       changes_id = CASE WHEN changes_ts IS NULL OR ?2 < changes_ts THEN 0 ELSE changes_id END
                     WHERE part = ?1",
                    params![k, ts - CHANGES_MARGIN_MS],
                )?,
                None => tx.execute(
                    "UPDATE sync_parts SET next_before = NULL, complete = 0, fetched = 0, total = NULL, changes_ts = NULL,
                       changes_id = NULL WHERE part = ?1",
                    [&k],
                )?,
            };
        }
        set_position_ts(&tx, channel, head, Some(hub_now))?;
        tx.commit()?;
        Ok(())
    }

    /// Rooms whose download stopped at a smaller cap (not at their oldest message) continue; returns how
    /// many. (Turning the setting off keeps what is cached: nothing is deleted.)
    pub fn reopen_room_parts(&self, cap: u64) -> Result<usize, Error> {
        Ok(self.writer().execute(
            "UPDATE sync_parts SET complete = 0 WHERE part LIKE 'room:%' AND complete = 1
               AND next_before IS NOT NULL AND fetched < ?1",
            [cap as i64],
        )?)
    }

    /// Stores one page of a part and moves its cursor, in one transaction. Returns what changed.
    pub fn apply_part_page(&self, key: PartKey, rows: &PageRows, end: &PageEnd, cap: u64) -> Result<Applied, Error> {
        let mut c = self.writer();
        let tx = c.transaction()?;
        let mut applied = Applied::default();
        store_rows(&tx, self.me, rows, &mut applied)?;
        let k = key.encode();
        let n = rows.len() as i64;
        match end {
            PageEnd::Backfill { next_before, total } => {
                let fetched: i64 = tx
                    .query_row("SELECT fetched FROM sync_parts WHERE part = ?1", [&k], |r| r.get(0))
                    .optional()?
                    .unwrap_or(0);
                // A part is complete at its oldest row, or when it holds as much as this device keeps.
                let done = next_before.is_none() || (fetched + n) as u64 >= cap;
                tx.execute(
                    "UPDATE sync_parts SET next_before = ?2, complete = ?3, fetched = fetched + ?4,
                       total = COALESCE(?5, total), pages = pages + 1 WHERE part = ?1",
                    params![k, next_before, done, n, total.map(|t| t as i64)],
                )?;
            }
            PageEnd::Changes { next } => {
                tx.execute(
                    "UPDATE sync_parts SET changes_ts = ?2, changes_id = ?3, pages = pages + 1 WHERE part = ?1",
                    params![k, next.map(|c| c.updated_at), next.map(|c| c.id)],
                )?;
            }
        }
        tx.commit()?;
        applied.changes.push(Change::Sync);
        Ok(applied)
    }
}

/// Upserts a page's rows (state, not deltas: a row already newer on this device is kept).
fn store_rows(tx: &rusqlite::Transaction<'_>, me: UserId, rows: &PageRows, applied: &mut Applied) -> Result<(), Error> {
    match rows {
        PageRows::Transactions(list) => {
            let mut text = TxText::default();
            for t in list {
                upsert_tx(tx, t, &mut text)?;
            }
            text.index(tx)?;
            if !list.is_empty() {
                applied.change(Change::Transactions);
            }
        }
        PageRows::Notifications(list) => {
            for n in list {
                insert_notification(tx, n, true)?;
                tx.prepare_cached("UPDATE notifications SET read = MAX(read, ?2) WHERE id = ?1")?
                    .execute(params![n.id, n.read])?;
            }
            if !list.is_empty() {
                applied.change(Change::Notifications);
            }
        }
        PageRows::Messages(events) => {
            for e in events {
                if let EventData::Message { message } = &e.data {
                    upsert_message(tx, me, message, applied)?;
                }
            }
            // Old messages are not news: nothing from a page is raised as a notification.
            applied.new_messages.clear();
        }
    }
    Ok(())
}
