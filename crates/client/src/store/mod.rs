//! The local store: everything the UI shows, in SQLite (WAL), so the app works with no network.
//!
//! Events are applied one transaction per batch, idempotently by `(channel, seq)`, and each channel's
//! position is written in the same transaction as the events it covers.
use crate::view::*;
use crate::Error;
use rusqlite::{params, Connection, OptionalExtension, Transaction as SqlTx};
use std::path::Path;
use std::sync::Mutex;
use tally_protocol::*;

mod backfill;
mod outbox;
mod schema;
pub use backfill::*;
pub use outbox::*;
use schema::migrations;
pub use schema::schema_version;

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

fn open_conn(path: &Path) -> Result<Connection, Error> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // Rows removed by a REPLACE conflict fire delete triggers only with this on (keeps `counts` right).
    conn.pragma_update(None, "recursive_triggers", "ON")?;
    Ok(conn)
}

/// A user's local database: a writer (sync engine) and a reader (UI queries).
pub struct Store {
    write: Mutex<Connection>,
    read: Mutex<Connection>,
    pub me: i64,
}

impl Store {
    /// Opens (creating or migrating) the database. A database from a newer app version is refused.
    pub fn open(path: &Path, me: i64) -> Result<Store, Error> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::Storage(format!("cannot create {}: {e}", dir.display())))?;
        }
        let mut w = open_conn(path)?;
        let version: usize = w.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))? as usize;
        if version > schema_version() {
            return Err(Error::Storage(format!(
                "this cache was written by a newer Tally (schema {version}, this app knows {}); update the app or sign out to reset it",
                schema_version()
            )));
        }
        migrations().to_latest(&mut w).map_err(|e| Error::Storage(format!("migrating the cache failed: {e}")))?;
        let r = open_conn(path)?;
        Ok(Store { write: Mutex::new(w), read: Mutex::new(r), me })
    }

    pub fn writer(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.write.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub fn reader(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.read.lock().unwrap_or_else(|e| e.into_inner())
    }

    // ---- positions ------------------------------------------------------------------------------------

    pub fn positions(&self) -> Result<Vec<(Channel, Position)>, Error> {
        let c = self.reader();
        let mut stmt = c.prepare("SELECT channel, epoch, seq FROM positions")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (ch, epoch, seq) = row?;
            if let Ok(ch) = Channel::parse(&ch) {
                out.push((ch, Position { epoch, seq: seq as u64 }));
            }
        }
        Ok(out)
    }

    pub fn position(&self, channel: &Channel) -> Result<Option<Position>, Error> {
        Ok(self
            .reader()
            .query_row("SELECT epoch, seq FROM positions WHERE channel = ?1", [channel.to_string()], |r| {
                Ok(Position { epoch: r.get(0)?, seq: r.get::<_, i64>(1)? as u64 })
            })
            .optional()?)
    }

    pub fn set_position(&self, channel: &Channel, pos: &Position) -> Result<(), Error> {
        set_position(&self.writer(), channel, pos)
    }

    pub fn forget_position(&self, channel: &Channel) -> Result<(), Error> {
        self.writer().execute("DELETE FROM positions WHERE channel = ?1", [channel.to_string()])?;
        Ok(())
    }

    /// Applies a run of events of one channel in one transaction. Events at or before the stored position
    /// are skipped (idempotent); a gap or a new epoch stops application and is reported so the caller can
    /// resubscribe. Returns what changed.
    pub fn apply_events(&self, channel: &Channel, events: &[Event]) -> Result<Applied, Error> {
        let mut c = self.writer();
        let tx = c.transaction()?;
        let mut pos: Option<Position> = tx
            .query_row("SELECT epoch, seq FROM positions WHERE channel = ?1", [channel.to_string()], |r| {
                Ok(Position { epoch: r.get(0)?, seq: r.get::<_, i64>(1)? as u64 })
            })
            .optional()?;
        let mut applied = Applied::default();
        let mut text = TxText::default();
        let mut last_ts = None;
        for e in events {
            if let Some(p) = &pos {
                if e.epoch == p.epoch && e.seq <= p.seq {
                    applied.duplicates += 1;
                    continue;
                }
                if e.epoch != p.epoch || e.seq != p.seq + 1 {
                    applied.gap = true;
                    break;
                }
            }
            apply_one(&tx, self.me, e, &mut applied, &mut text)?;
            pos = Some(Position { epoch: e.epoch.clone(), seq: e.seq });
            last_ts = Some(e.ts);
            applied.count += 1;
        }
        text.index(&tx)?;
        // The position covers exactly the events applied, in the same transaction.
        if let (Some(p), true) = (&pos, applied.count > 0) {
            set_position_ts(&tx, channel, p, last_ts)?;
        }
        tx.commit()?;
        Ok(applied)
    }

    // ---- snapshots (after `recovered: false` or first sign-in) -----------------------------------------

    pub fn replace_balances(&self, balances: &[Balance]) -> Result<(), Error> {
        let mut c = self.writer();
        let tx = c.transaction()?;
        tx.execute("DELETE FROM balances", [])?;
        for b in balances {
            upsert_balance(&tx, b)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Stores the newest page of history and marks older cached rows as possibly stale (kept, not deleted).
    pub fn refresh_transactions(&self, page: &[Transaction]) -> Result<(), Error> {
        let mut c = self.writer();
        let tx = c.transaction()?;
        let mut text = TxText::default();
        for t in page {
            upsert_tx(&tx, t, &mut text)?;
        }
        text.index(&tx)?;
        if let Some(oldest) = page.iter().map(|t| t.id).min() {
            tx.execute("UPDATE transactions SET stale = 1 WHERE id < ?1", [oldest])?;
            tx.execute("UPDATE transactions SET stale = 0 WHERE id >= ?1", [oldest])?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn upsert_transactions(&self, page: &[Transaction]) -> Result<(), Error> {
        let mut c = self.writer();
        let tx = c.transaction()?;
        let mut text = TxText::default();
        for t in page {
            upsert_tx(&tx, t, &mut text)?;
        }
        text.index(&tx)?;
        tx.commit()?;
        Ok(())
    }

    /// Stores notifications from a snapshot without raising them (they are not news).
    pub fn upsert_notifications_quietly(&self, list: &[Notification]) -> Result<(), Error> {
        let mut c = self.writer();
        let tx = c.transaction()?;
        for n in list {
            insert_notification(&tx, n, true)?;
            tx.execute("UPDATE notifications SET read = MAX(read, ?2) WHERE id = ?1", params![n.id, n.read])?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn replace_rooms(&self, rooms: &[Room]) -> Result<(), Error> {
        let mut c = self.writer();
        let tx = c.transaction()?;
        tx.execute("UPDATE rooms SET left_room = 1", [])?;
        for r in rooms {
            upsert_room(&tx, r)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The hub ended this room's subscription (the user left or was removed): keep its history, mark it.
    pub fn mark_room_left(&self, room: RoomId) -> Result<(), Error> {
        self.writer().execute("UPDATE rooms SET left_room = 1 WHERE id = ?1", [room])?;
        Ok(())
    }

    pub fn upsert_room(&self, room: &Room) -> Result<(), Error> {
        upsert_room(&self.writer(), room)
    }

    pub fn upsert_messages(&self, events: &[Event]) -> Result<(), Error> {
        let mut c = self.writer();
        let tx = c.transaction()?;
        let mut applied = Applied::default();
        for e in events {
            if let EventData::Message { message } = &e.data {
                upsert_message(&tx, self.me, message, &mut applied)?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub fn upsert_transfer(&self, t: &Transfer, local: &str) -> Result<(), Error> {
        upsert_transfer(&self.writer(), t, local)
    }

    pub fn replace_contacts(&self, users: &[UserSummary]) -> Result<(), Error> {
        let mut c = self.writer();
        let tx = c.transaction()?;
        tx.execute("DELETE FROM contacts", [])?;
        for u in users {
            tx.execute("INSERT INTO contacts (id, json) VALUES (?1, ?2)", params![u.id, to_json(u)])?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn set_presence(&self, user: i64, status: PresenceStatus, last_seen: Option<i64>) -> Result<(), Error> {
        self.writer().execute(
            "INSERT INTO presence (user_id, status, last_seen) VALUES (?1, ?2, ?3)
             ON CONFLICT(user_id) DO UPDATE SET status = excluded.status, last_seen = excluded.last_seen",
            params![user, enum_str(&status), last_seen],
        )?;
        Ok(())
    }

    /// Records that a native notification for `key` was shown; false when it already had been.
    pub fn mark_notified(&self, key: &str) -> Result<bool, Error> {
        let n = self
            .writer()
            .execute("INSERT OR IGNORE INTO notified_keys (key, at) VALUES (?1, ?2)", params![key, now_ms()])?;
        Ok(n == 1)
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>, Error> {
        Ok(self.reader().query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }
    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), Error> {
        self.writer().execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    pub fn prefs(&self) -> Result<Prefs, Error> {
        let json: Option<String> =
            self.reader().query_row("SELECT json FROM prefs WHERE key = 'prefs'", [], |r| r.get(0)).optional()?;
        Ok(json.and_then(|j| serde_json::from_str(&j).ok()).unwrap_or_default())
    }
    pub fn set_prefs(&self, p: &Prefs) -> Result<(), Error> {
        self.writer().execute(
            "INSERT INTO prefs (key, json) VALUES ('prefs', ?1) ON CONFLICT(key) DO UPDATE SET json = excluded.json",
            [to_json(p)],
        )?;
        Ok(())
    }

    /// Remembers that `channel` owes a snapshot (after `recovered: false`) until one is applied, so a
    /// connection lost in between does not leave the cache silently behind.
    pub fn snapshot_needed(&self, channel: &Channel) -> Result<(), Error> {
        self.set_meta(&format!("snap:{channel}"), "1")
    }
    pub fn snapshot_done(&self, channel: &Channel) -> Result<(), Error> {
        self.writer().execute("DELETE FROM meta WHERE key = ?1", [format!("snap:{channel}")])?;
        Ok(())
    }
    pub fn snapshots_owed(&self) -> Result<Vec<Channel>, Error> {
        let c = self.reader();
        let mut stmt = c.prepare("SELECT key FROM meta WHERE key LIKE 'snap:%'")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.filter_map(|k| k.ok().and_then(|k| Channel::parse(&k[5..]).ok())).collect())
    }

    /// Marks that every balance was confirmed by the hub now (we are live).
    pub fn confirm_balances(&self) -> Result<(), Error> {
        self.writer().execute("UPDATE balances SET confirmed_at = ?1", [now_ms()])?;
        Ok(())
    }
}

/// What applying a batch did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Applied {
    pub count: usize,
    pub duplicates: usize,
    /// A seq gap or epoch change was seen: resubscribe from the stored position.
    pub gap: bool,
    pub changes: Vec<Change>,
    /// Notifications new to this device (candidates for a native notification).
    pub new_notifications: Vec<Notification>,
    /// Messages from others new to this device.
    pub new_messages: Vec<Message>,
    pub rooms_joined: Vec<RoomId>,
    pub rooms_left: Vec<RoomId>,
    pub system: Vec<(String, String, Priority)>,
    /// Transfers whose status changed (for live progress and completion notices).
    pub transfers: Vec<Transfer>,
}

impl Applied {
    fn change(&mut self, c: Change) {
        if !self.changes.contains(&c) {
            self.changes.push(c);
        }
    }
}

fn set_position(c: &Connection, channel: &Channel, p: &Position) -> Result<(), Error> {
    set_position_ts(c, channel, p, None)
}

/// Stores a channel's position; `ts` (hub time of the last event it covers) is kept when None.
fn set_position_ts(c: &Connection, channel: &Channel, p: &Position, ts: Option<Millis>) -> Result<(), Error> {
    c.prepare_cached(
        "INSERT INTO positions (channel, epoch, seq, ts) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(channel) DO UPDATE
         SET epoch = excluded.epoch, seq = excluded.seq, ts = COALESCE(excluded.ts, positions.ts)",
    )?
    .execute(params![channel.to_string(), p.epoch, p.seq as i64, ts])?;
    Ok(())
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}
pub(crate) fn enum_str<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}
pub(crate) fn enum_from<T: serde::de::DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
}

fn upsert_balance(c: &Connection, b: &Balance) -> Result<(), Error> {
    c.execute(
        "INSERT INTO balances (currency, available, pending, as_of, confirmed_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(currency) DO UPDATE SET available = excluded.available, pending = excluded.pending,
           as_of = excluded.as_of, confirmed_at = excluded.confirmed_at WHERE excluded.as_of >= balances.as_of",
        params![b.currency.as_str(), b.available, b.pending, b.as_of, now_ms()],
    )?;
    Ok(())
}

/// Full-text entries of the transactions written in the current SQLite transaction, indexed after the
/// batch's row writes. Opening a statement journal (which a statement that fires a trigger and may abort
/// needs) makes FTS5 flush its pending in-memory index through its savepoint hook, so row and index writes
/// interleaved can mean a flush per row (measured: applying events 2-3× slower with the `counts` trigger on
/// an upsert). Indexed after the rows, FTS5 flushes once, at commit, whatever the row writes need.
#[derive(Default)]
struct TxText(Vec<(i64, String, String)>);

impl TxText {
    fn index(&mut self, c: &Connection) -> Result<(), Error> {
        for (id, memo, cp) in self.0.drain(..) {
            c.prepare_cached("DELETE FROM tx_fts WHERE rowid = ?1")?.execute([id])?;
            c.prepare_cached("INSERT INTO tx_fts (rowid, memo, counterparty) VALUES (?1, ?2, ?3)")?
                .execute(params![id, memo, cp])?;
        }
        Ok(())
    }
}

/// Inserts or updates a transaction row; its full-text entry is queued on `text` (see [`TxText`]).
///
/// `INSERT OR IGNORE` then `UPDATE` rather than one `ON CONFLICT DO UPDATE`: an upsert's update part may
/// abort, so with the `counts` trigger it needs a statement journal for every row (~+2-4 µs a row); an
/// `OR IGNORE` insert cannot abort, and the trigger fires only for rows really inserted. (Every NOT NULL
/// column gets a non-null value here, so IGNORE only ever skips an existing id.)
fn upsert_tx(c: &Connection, t: &Transaction, text: &mut TxText) -> Result<(), Error> {
    let (cp_id, cp_user, cp_name) = match &t.counterparty {
        Some(u) => (Some(u.id), Some(u.username.clone()), Some(u.display_name.clone())),
        None => (None, None, None),
    };
    let status = enum_str(&t.status);
    let inserted = c
        .prepare_cached(
            "INSERT OR IGNORE INTO transactions (id, kind, direction, amount, currency, balance_after, cp_id, cp_username, cp_name, memo, transfer_id, status, created_at, stale)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 0)",
        )?
        .execute(params![t.id, enum_str(&t.kind), enum_str(&t.direction), t.amount.minor, t.amount.currency.as_str(), t.balance_after,
            cp_id, cp_user, cp_name, t.memo, t.transfer_id, status, t.created_at])?;
    if inserted == 0 {
        // A final status (completed, failed) never goes back to pending/processing: a page read on the
        // hub before the change may arrive after the live event that carried it.
        c.prepare_cached(
            "UPDATE transactions SET status = ?2, balance_after = ?3, memo = ?4, cp_name = ?5, stale = 0
             WHERE id = ?1 AND NOT (status IN ('completed', 'failed') AND ?2 IN ('pending', 'processing'))",
        )?
        .execute(params![t.id, status, t.balance_after, t.memo, cp_name])?;
    }
    let cp = t.counterparty.as_ref().map(|u| format!("{} {}", u.username, u.display_name)).unwrap_or_default();
    text.0.push((t.id, t.memo.clone(), cp));
    Ok(())
}

fn upsert_transfer(c: &Connection, t: &Transfer, local: &str) -> Result<(), Error> {
    // The row may exist under the idempotency key (queued locally) or under the id (seen on the channel).
    let key: Option<String> =
        c.query_row("SELECT key FROM transfers WHERE id = ?1", [t.id], |r| r.get(0)).optional()?;
    let key = key.or_else(|| t.idempotency_key.clone()).unwrap_or_else(|| format!("id:{}", t.id));
    let mut stored = t.clone();
    if stored.idempotency_key.is_none() && !key.starts_with("id:") {
        stored.idempotency_key = Some(key.clone());
    }
    c.execute(
        "INSERT INTO transfers (key, id, json, status, local_state, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(key) DO UPDATE SET id = excluded.id, json = excluded.json, status = excluded.status,
           local_state = excluded.local_state, outbox_id = NULL, expires_at = NULL, updated_at = excluded.updated_at
         WHERE excluded.updated_at >= transfers.updated_at OR transfers.local_state != 'sent'",
        params![key, t.id, to_json(&stored), enum_str(&t.status), local, t.updated_at],
    )?;
    c.execute(
        "INSERT OR IGNORE INTO transfer_history (transfer_id, status, progress, at) VALUES (?1, ?2, ?3, ?4)",
        params![t.id, enum_str(&t.status), t.progress, t.updated_at],
    )?;
    Ok(())
}

fn upsert_room(c: &Connection, r: &Room) -> Result<(), Error> {
    c.execute(
        "INSERT INTO rooms (id, json, left_room, last_activity) VALUES (?1, ?2, 0, ?3)
         ON CONFLICT(id) DO UPDATE SET json = excluded.json, left_room = 0",
        params![r.id, to_json(r), r.created_at],
    )?;
    Ok(())
}

fn insert_notification(c: &Connection, n: &Notification, notified: bool) -> Result<bool, Error> {
    let prio = match n.priority {
        Priority::Low => 0,
        Priority::Normal => 1,
        Priority::High => 2,
        Priority::Critical => 3,
    };
    let inserted = c
        .prepare_cached(
            "INSERT OR IGNORE INTO notifications (id, json, priority, read, created_at, notified) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![n.id, to_json(n), prio, n.read, n.created_at, notified])?;
    Ok(inserted == 1)
}

fn upsert_message(c: &Connection, me: i64, m: &Message, applied: &mut Applied) -> Result<(), Error> {
    let existing: Option<(i64, String)> = c
        .prepare_cached(
            "SELECT local_id, json FROM messages WHERE id = ?1 OR (room = ?2 AND sender_id = ?3 AND client_msg_id = ?4)",
        )?
        .query_row(params![m.id, m.room, m.sender.id, m.client_msg_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let local_id = match existing {
        Some((lid, json)) => {
            if newer_here(&json, m) {
                return Ok(());
            }
            c.prepare_cached(
                "UPDATE messages SET id = ?2, seq = ?3, json = ?4, text = ?5, local_state = 'sent', outbox_id = NULL, sort_key = ?3 WHERE local_id = ?1",
            )?
            .execute(params![lid, m.id, m.seq as i64, to_json(m), m.text])?;
            lid
        }
        None => {
            c.prepare_cached(
                "INSERT INTO messages (id, room, seq, client_msg_id, sender_id, json, text, local_state, sort_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'sent', ?3)",
            )?
            .execute(params![m.id, m.room, m.seq as i64, m.client_msg_id, m.sender.id, to_json(m), m.text])?;
            if m.sender.id != me && !m.deleted {
                applied.new_messages.push(m.clone());
            }
            c.last_insert_rowid()
        }
    };
    c.prepare_cached("DELETE FROM msg_fts WHERE rowid = ?1")?.execute([local_id])?;
    if !m.deleted {
        c.prepare_cached("INSERT INTO msg_fts (rowid, text) VALUES (?1, ?2)")?.execute(params![local_id, m.text])?;
    }
    c.prepare_cached("UPDATE rooms SET last_activity = MAX(last_activity, ?2) WHERE id = ?1")?
        .execute(params![m.room, m.sent_at])?;
    if m.sender.id == me {
        c.prepare_cached("UPDATE rooms SET my_read = MAX(my_read, ?2) WHERE id = ?1")?
            .execute(params![m.room, m.seq as i64])?;
    }
    applied.change(Change::Messages { room: m.room });
    applied.change(Change::Rooms);
    Ok(())
}

/// Whether the stored copy of a message is newer than `m` (a page read before an edit or delete that this
/// device already applied live): a tombstone stays a tombstone, a later edit is not undone.
fn newer_here(stored_json: &str, m: &Message) -> bool {
    let Ok(stored) = serde_json::from_str::<Message>(stored_json) else { return false };
    (stored.deleted && !m.deleted) || stored.edited_at.unwrap_or(0) > m.edited_at.unwrap_or(0)
}

fn update_message_json(c: &Connection, id: MessageId, f: impl FnOnce(&mut Message)) -> Result<Option<Message>, Error> {
    let row: Option<(i64, String)> = c
        .query_row("SELECT local_id, json FROM messages WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((lid, json)) = row else { return Ok(None) };
    let Ok(mut m) = serde_json::from_str::<Message>(&json) else { return Ok(None) };
    f(&mut m);
    c.execute("UPDATE messages SET json = ?2, text = ?3 WHERE local_id = ?1", params![lid, to_json(&m), m.text])?;
    c.execute("DELETE FROM msg_fts WHERE rowid = ?1", [lid])?;
    if !m.deleted {
        c.execute("INSERT INTO msg_fts (rowid, text) VALUES (?1, ?2)", params![lid, m.text])?;
    }
    Ok(Some(m))
}

fn apply_one(c: &SqlTx<'_>, me: i64, e: &Event, applied: &mut Applied, text: &mut TxText) -> Result<(), Error> {
    match &e.data {
        EventData::Balance { balance } => {
            upsert_balance(c, balance)?;
            applied.change(Change::Balances);
        }
        EventData::Transaction { transaction } => {
            upsert_tx(c, transaction, text)?;
            applied.change(Change::Transactions);
        }
        EventData::Transfer { transfer } => {
            upsert_transfer(c, transfer, "sent")?;
            applied.transfers.push(transfer.clone());
            applied.change(Change::Transfers);
        }
        EventData::RoomJoined { room } => {
            upsert_room(c, room)?;
            applied.rooms_joined.push(room.id);
            applied.change(Change::Rooms);
        }
        EventData::RoomLeft { room } => {
            c.execute("UPDATE rooms SET left_room = 1 WHERE id = ?1", [room])?;
            applied.rooms_left.push(*room);
            applied.change(Change::Rooms);
        }
        EventData::Message { message } => upsert_message(c, me, message, applied)?,
        EventData::MessageEdited { message, text, edited_at } => {
            if let Some(m) = update_message_json(c, *message, |m| {
                m.text = text.clone();
                m.edited_at = Some(*edited_at);
            })? {
                applied.change(Change::Messages { room: m.room });
            }
        }
        EventData::MessageDeleted { message } => {
            if let Some(m) = update_message_json(c, *message, |m| {
                m.deleted = true;
                m.text.clear();
                m.reactions.clear();
            })? {
                applied.change(Change::Messages { room: m.room });
            }
        }
        EventData::Reaction { message, emoji, user, on } => {
            if let Some(m) = update_message_json(c, *message, |m| {
                let pos = m.reactions.iter().position(|r| &r.emoji == emoji);
                match (pos, on) {
                    (Some(i), true) => {
                        if !m.reactions[i].users.contains(&user.id) {
                            m.reactions[i].users.push(user.id)
                        }
                    }
                    (None, true) => m.reactions.push(Reaction { emoji: emoji.clone(), users: vec![user.id] }),
                    (Some(i), false) => {
                        m.reactions[i].users.retain(|u| *u != user.id);
                        if m.reactions[i].users.is_empty() {
                            m.reactions.remove(i);
                        }
                    }
                    (None, false) => {}
                }
            })? {
                applied.change(Change::Messages { room: m.room });
            }
        }
        EventData::Receipt { user, up_to } => {
            if let Channel::Room(room) = e.channel {
                c.execute(
                    "INSERT INTO receipts (room, user_id, json, up_to) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(room, user_id) DO UPDATE SET up_to = MAX(up_to, excluded.up_to), json = excluded.json",
                    params![room, user.id, to_json(user), *up_to as i64],
                )?;
                if user.id == me {
                    c.execute(
                        "UPDATE rooms SET my_read = MAX(my_read, ?2) WHERE id = ?1",
                        params![room, *up_to as i64],
                    )?;
                    applied.change(Change::Rooms);
                }
                applied.change(Change::Messages { room });
            }
        }
        EventData::Member { user, change } => {
            if let Channel::Room(room) = e.channel {
                let json: Option<String> =
                    c.query_row("SELECT json FROM rooms WHERE id = ?1", [room], |r| r.get(0)).optional()?;
                if let Some(mut r) = json.and_then(|j| serde_json::from_str::<Room>(&j).ok()) {
                    r.members.retain(|m| m.id != user.id);
                    if *change == MemberChange::Joined {
                        r.members.push(user.clone());
                    }
                    c.execute("UPDATE rooms SET json = ?2 WHERE id = ?1", params![room, to_json(&r)])?;
                    applied.change(Change::Rooms);
                }
            }
        }
        EventData::Notification { notification } => {
            // A live event is news even when a history page stored the row a moment earlier (the page was
            // read after the notification was written but answered before its event was sent): raising is
            // once per key anyway (`notified_keys`).
            insert_notification(c, notification, false)?;
            if !notification.read {
                applied.new_notifications.push(notification.clone());
            }
            applied.change(Change::Notifications);
        }
        EventData::NotificationsRead { ids, all } => {
            if *all {
                c.execute("UPDATE notifications SET read = 1 WHERE created_at <= ?1", [e.ts])?;
            } else {
                for id in ids {
                    c.execute("UPDATE notifications SET read = 1 WHERE id = ?1", [id])?;
                }
            }
            applied.change(Change::Notifications);
        }
        EventData::System { title, body, priority } => {
            applied.system.push((title.clone(), body.clone(), *priority));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(seq: u64, epoch: &str, available: i64) -> Event {
        Event {
            channel: Channel::Balance(1),
            epoch: epoch.into(),
            seq,
            ts: seq as i64,
            data: EventData::Balance {
                balance: Balance { currency: Currency::USD, available, pending: 0, as_of: seq as i64 },
            },
        }
    }

    #[test]
    fn events_apply_once_in_order_and_gaps_stop_application() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("c.db"), 1).unwrap();
        let ch = Channel::Balance(1);
        let a = s.apply_events(&ch, &[ev(1, "e", 10), ev(2, "e", 20)]).unwrap();
        assert_eq!((a.count, a.gap), (2, false));
        // A replay of what we have is skipped, not applied twice.
        let a = s.apply_events(&ch, &[ev(2, "e", 999)]).unwrap();
        assert_eq!((a.count, a.duplicates), (0, 1));
        assert_eq!(s.balances().unwrap()[0].balance.available, 20);
        // seq 4 after 2: a gap. Nothing is applied and the position stays, so a resubscribe heals it.
        let a = s.apply_events(&ch, &[ev(4, "e", 40)]).unwrap();
        assert!(a.gap);
        assert_eq!(s.position(&ch).unwrap(), Some(Position { epoch: "e".into(), seq: 2 }));
        // A new epoch is also a gap.
        assert!(s.apply_events(&ch, &[ev(3, "other", 30)]).unwrap().gap);
        let a = s.apply_events(&ch, &[ev(3, "e", 30), ev(4, "e", 40)]).unwrap();
        assert_eq!((a.count, a.gap), (2, false));
        assert_eq!(s.balances().unwrap()[0].balance.available, 40);
    }

    #[test]
    fn the_most_used_currency_comes_first() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("c.db"), 1).unwrap();
        let bal = |c: Currency| Balance { currency: c, available: 1, pending: 0, as_of: 1 };
        s.replace_balances(&[bal(Currency::EUR), bal(Currency::USD)]).unwrap();
        let tx = |id: i64, c: Currency| Transaction {
            id,
            kind: TxKind::Deposit,
            direction: Direction::In,
            amount: Money::new(1, c),
            balance_after: 1,
            counterparty: None,
            memo: String::new(),
            transfer_id: None,
            status: TransferStatus::Completed,
            created_at: id,
        };
        s.upsert_transactions(&[tx(1, Currency::EUR), tx(2, Currency::USD), tx(3, Currency::USD)]).unwrap();
        let order: Vec<String> = s.balances().unwrap().iter().map(|b| b.balance.currency.to_string()).collect();
        assert_eq!(order, vec!["USD", "EUR"]);
    }

    fn txn(id: i64, memo: &str) -> Transaction {
        Transaction {
            id,
            kind: TxKind::TransferIn,
            direction: Direction::In,
            amount: Money::new(100, Currency::USD),
            balance_after: id,
            counterparty: None,
            memo: memo.into(),
            transfer_id: None,
            status: TransferStatus::Completed,
            created_at: 1_000 + id,
        }
    }

    fn tx_ev(seq: u64) -> Event {
        Event {
            channel: Channel::Transactions(1),
            epoch: "e".into(),
            seq,
            ts: seq as i64,
            data: EventData::Transaction { transaction: txn(seq as i64, "lunch") },
        }
    }

    /// The trigger-kept count, what `COUNT(*)` says, and the total the unfiltered first page reports.
    fn counts(s: &Store) -> (i64, i64, u32) {
        let c = s.reader();
        let kept: i64 = c.query_row("SELECT n FROM counts WHERE name = 'transactions'", [], |r| r.get(0)).unwrap();
        let exact: i64 = c.query_row("SELECT COUNT(*) FROM transactions", [], |r| r.get(0)).unwrap();
        drop(c);
        (kept, exact, s.transactions(&Default::default(), None, 10).unwrap().total)
    }

    #[test]
    fn the_transaction_count_follows_inserts_replays_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("c.db"), 1).unwrap();
        assert_eq!(counts(&s), (0, 0, 0));
        let ch = Channel::Transactions(1);
        // Events, then a replay of them (skipped by position) and an overlapping batch.
        s.apply_events(&ch, &(1..=5).map(tx_ev).collect::<Vec<_>>()).unwrap();
        assert_eq!(s.apply_events(&ch, &(1..=5).map(tx_ev).collect::<Vec<_>>()).unwrap().duplicates, 5);
        s.apply_events(&ch, &(4..=8).map(tx_ev).collect::<Vec<_>>()).unwrap();
        assert_eq!(counts(&s), (8, 8, 8));
        // Snapshot pages that upsert rows already cached (ON CONFLICT DO UPDATE) do not count them twice.
        s.upsert_transactions(&(1..=10).map(|i| txn(i, "snapshot")).collect::<Vec<_>>()).unwrap();
        s.refresh_transactions(&(6..=12).map(|i| txn(i, "refreshed")).collect::<Vec<_>>()).unwrap();
        s.refresh_transactions(&(6..=12).map(|i| txn(i, "refreshed")).collect::<Vec<_>>()).unwrap();
        assert_eq!(counts(&s), (12, 12, 12));
        // ... but do update them, text index included.
        let ids = |q: &str| s.search(q).unwrap().transactions.iter().map(|t| t.tx.id).collect::<Vec<_>>();
        assert_eq!(ids("snapshot"), vec![5, 4, 3, 2, 1]);
        assert_eq!(ids("refreshed"), (6..=12).rev().collect::<Vec<_>>());
        let page = s.transactions(&Default::default(), None, 20).unwrap();
        let stale: Vec<i64> = page.rows.iter().filter(|r| r.stale).map(|r| r.tx.id).collect();
        assert_eq!(stale, vec![5, 4, 3, 2, 1]);
        assert_eq!(page.rows[0].tx.memo, "refreshed");
        // The same event applied again on a fresh channel position (a resubscribe from scratch).
        s.forget_position(&ch).unwrap();
        s.apply_events(&ch, &(1..=12).map(tx_ev).collect::<Vec<_>>()).unwrap();
        assert_eq!(counts(&s), (12, 12, 12));
        {
            let c = s.writer();
            // A REPLACE deletes the old row first: with recursive triggers on, that delete is counted too.
            c.execute("INSERT OR REPLACE INTO transactions SELECT * FROM transactions WHERE id = 3", []).unwrap();
            c.execute("DELETE FROM transactions WHERE id IN (1, 2)", []).unwrap();
            // A rolled-back insert leaves the count as it was (same transaction as the rows).
            c.execute_batch(
                "BEGIN; INSERT INTO transactions SELECT id + 100, kind, direction, amount, currency, balance_after, cp_id,
                   cp_username, cp_name, memo, transfer_id, status, created_at, stale FROM transactions; ROLLBACK;",
            )
            .unwrap();
        }
        assert_eq!(counts(&s), (10, 10, 10));
        // A filtered first page still counts exactly.
        let f = TxFilter { from: Some(1_005), ..Default::default() };
        assert_eq!(s.transactions(&f, None, 10).unwrap().total, 8);
        s.writer().execute("DELETE FROM transactions", []).unwrap();
        assert_eq!(counts(&s), (0, 0, 0));
    }

    #[test]
    fn migrations_keep_rows_cached_before_them_counted_and_searchable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        {
            let mut c = rusqlite::Connection::open(&path).unwrap();
            migrations().to_version(&mut c, 1).unwrap();
            let tx = c.transaction().unwrap();
            let mut text = TxText::default();
            for i in 1..=7 {
                upsert_tx(&tx, &txn(i, "old"), &mut text).unwrap();
            }
            text.index(&tx).unwrap();
            let bob = UserSummary { id: 2, username: "bob".into(), display_name: "Bob".into() };
            let m = Message {
                id: 1,
                room: 1,
                seq: 1,
                client_msg_id: "c1".into(),
                sender: bob,
                text: "old news".into(),
                mentions: vec![],
                sent_at: 1,
                edited_at: None,
                deleted: false,
                reactions: vec![],
            };
            upsert_message(&tx, 1, &m, &mut Applied::default()).unwrap();
            tx.commit().unwrap();
        }
        let s = Store::open(&path, 1).unwrap();
        assert_eq!(counts(&s), (7, 7, 7));
        s.upsert_transactions(&[txn(8, "new")]).unwrap();
        assert_eq!(counts(&s), (8, 8, 8));
        // Rows and messages cached before the migrations stay searchable (migration 3 rebuilt the index).
        let found: Vec<i64> = s.search("ol").unwrap().transactions.iter().map(|t| t.tx.id).collect();
        assert_eq!(found, vec![7, 6, 5, 4, 3, 2, 1]);
        assert_eq!(s.search("new").unwrap().transactions.len(), 1);
        assert_eq!(s.search("ol").unwrap().messages.len(), 1);
    }

    #[test]
    fn an_older_schema_is_migrated_and_reopening_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        drop(rusqlite::Connection::open(&path).unwrap()); // version 0: an empty, older database
        drop(Store::open(&path, 1).unwrap());
        let s = Store::open(&path, 1).unwrap();
        let v: i64 = s.reader().pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(v as usize, schema_version());
    }
}
