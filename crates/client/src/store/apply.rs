//! Applying what the hub sends to the cache: one event at a time inside the batch's transaction
//! (`apply_one`), and the upserts that events, snapshots and history pages share. State, not deltas:
//! applying the same row twice changes nothing, and a row already newer here is kept.
use super::{enum_str, now_ms, to_json};
use crate::view::LocalState;
use crate::view::*;
use crate::Error;
use rusqlite::{params, Connection, OptionalExtension, Transaction as SqlTx};
use tally_protocol::*;

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
    pub(super) fn change(&mut self, c: Change) {
        if !self.changes.contains(&c) {
            self.changes.push(c);
        }
    }
}

pub(super) fn upsert_balance(c: &Connection, b: &Balance) -> Result<(), Error> {
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
pub(super) struct TxText(pub(super) Vec<(i64, String, String)>);

impl TxText {
    pub(super) fn index(&mut self, c: &Connection) -> Result<(), Error> {
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
pub(super) fn upsert_tx(c: &Connection, t: &Transaction, text: &mut TxText) -> Result<(), Error> {
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
             WHERE id = ?1 AND NOT (status IN ('completed', 'failed') AND ?2 IN ('pending', 'processing', 'review'))",
        )?
        .execute(params![t.id, status, t.balance_after, t.memo, cp_name])?;
    }
    let cp = t.counterparty.as_ref().map(|u| format!("{} {}", u.username, u.display_name)).unwrap_or_default();
    text.0.push((t.id, t.memo.clone(), cp));
    Ok(())
}

pub(super) fn upsert_transfer(c: &Connection, t: &Transfer, local: &LocalState) -> Result<(), Error> {
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
        params![key, t.id, to_json(&stored), enum_str(&t.status), super::local_state::encode(local), t.updated_at],
    )?;
    c.execute(
        "INSERT OR IGNORE INTO transfer_history (transfer_id, status, progress, at) VALUES (?1, ?2, ?3, ?4)",
        params![t.id, enum_str(&t.status), t.progress, t.updated_at],
    )?;
    Ok(())
}

/// A request as the hub last described it: a row already changed later here is kept.
pub(super) fn upsert_request(c: &Connection, r: &PaymentRequest) -> Result<(), Error> {
    c.prepare_cached(
        "INSERT INTO payment_requests (id, json, status, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(id) DO UPDATE SET json = excluded.json, status = excluded.status, updated_at = excluded.updated_at
         WHERE excluded.updated_at >= payment_requests.updated_at",
    )?
    .execute(params![r.id, to_json(r), enum_str(&r.status), r.created_at, r.updated_at])?;
    Ok(())
}

pub(super) fn upsert_room(c: &Connection, r: &Room) -> Result<(), Error> {
    c.execute(
        "INSERT INTO rooms (id, json, left_room, last_activity) VALUES (?1, ?2, 0, ?3)
         ON CONFLICT(id) DO UPDATE SET json = excluded.json, left_room = 0",
        params![r.id, to_json(r), r.created_at],
    )?;
    Ok(())
}

pub(super) fn insert_notification(c: &Connection, n: &Notification, notified: bool) -> Result<bool, Error> {
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

pub(super) fn upsert_message(c: &Connection, me: i64, m: &Message, applied: &mut Applied) -> Result<(), Error> {
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
    if let Some(a) = m.attachment.as_ref().filter(|a| a.thumbnail && !m.deleted) {
        // Every picture's thumbnail is fetched for offline use (`sync/files.rs`).
        c.prepare_cached(
            "INSERT OR IGNORE INTO wanted_thumbs (room, id) SELECT ?1, ?2
             WHERE NOT EXISTS (SELECT 1 FROM files WHERE id = ?2 AND variant = 'thumb')",
        )?
        .execute(params![m.room, a.id])?;
    }
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
pub(super) fn newer_here(stored_json: &str, m: &Message) -> bool {
    let Ok(stored) = serde_json::from_str::<Message>(stored_json) else { return false };
    (stored.deleted && !m.deleted) || stored.edited_at.unwrap_or(0) > m.edited_at.unwrap_or(0)
}

pub(super) fn update_message_json(
    c: &Connection,
    id: MessageId,
    f: impl FnOnce(&mut Message),
) -> Result<Option<Message>, Error> {
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

pub(super) fn apply_one(
    c: &SqlTx<'_>,
    me: i64,
    e: &Event,
    applied: &mut Applied,
    text: &mut TxText,
) -> Result<(), Error> {
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
            upsert_transfer(c, transfer, &LocalState::Sent)?;
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
        EventData::Request { request } => {
            upsert_request(c, request)?;
            applied.change(Change::Requests);
        }
        EventData::Limits { limits } => {
            // What `welcome` would say now (an operator set the user's KYC level): the session shows it.
            super::put_meta(c, "limits", &to_json(limits))?;
            applied.change(Change::Session);
        }
        EventData::Message { message } => upsert_message(c, me, message, applied)?,
        EventData::MessageEdited { .. } | EventData::MessageDeleted { .. } | EventData::Reaction { .. } => {
            apply_message_change(c, &e.data, applied)?
        }
        EventData::Receipt { user, up_to } => apply_receipt(c, me, e.channel, user, *up_to, applied)?,
        EventData::Member { user, change } => apply_member(c, e.channel, user, *change, applied)?,
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

/// An edit, a delete or a reaction: the stored message's state is updated in place.
fn apply_message_change(c: &Connection, data: &EventData, applied: &mut Applied) -> Result<(), Error> {
    let updated = match data {
        EventData::MessageEdited { message, text, edited_at } => update_message_json(c, *message, |m| {
            m.text = text.clone();
            m.edited_at = Some(*edited_at);
        })?,
        EventData::MessageDeleted { message } => update_message_json(c, *message, |m| {
            m.deleted = true;
            m.text.clear();
            m.reactions.clear();
        })?,
        EventData::Reaction { message, emoji, user, on } => {
            update_message_json(c, *message, |m| react(m, emoji, user.id, *on))?
        }
        _ => None,
    };
    if let Some(m) = updated {
        applied.change(Change::Messages { room: m.room });
    }
    Ok(())
}

fn react(m: &mut Message, emoji: &str, user: UserId, on: bool) {
    let pos = m.reactions.iter().position(|r| r.emoji == emoji);
    match (pos, on) {
        (Some(i), true) => {
            if !m.reactions[i].users.contains(&user) {
                m.reactions[i].users.push(user)
            }
        }
        (None, true) => m.reactions.push(Reaction { emoji: emoji.to_string(), users: vec![user] }),
        (Some(i), false) => {
            m.reactions[i].users.retain(|u| *u != user);
            if m.reactions[i].users.is_empty() {
                m.reactions.remove(i);
            }
        }
        (None, false) => {}
    }
}

fn apply_receipt(
    c: &Connection,
    me: UserId,
    channel: Channel,
    user: &UserSummary,
    up_to: u64,
    applied: &mut Applied,
) -> Result<(), Error> {
    let Channel::Room(room) = channel else { return Ok(()) };
    c.execute(
        "INSERT INTO receipts (room, user_id, json, up_to) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(room, user_id) DO UPDATE SET up_to = MAX(up_to, excluded.up_to), json = excluded.json",
        params![room, user.id, to_json(user), up_to as i64],
    )?;
    if user.id == me {
        c.execute("UPDATE rooms SET my_read = MAX(my_read, ?2) WHERE id = ?1", params![room, up_to as i64])?;
        applied.change(Change::Rooms);
    }
    applied.change(Change::Messages { room });
    Ok(())
}

fn apply_member(
    c: &Connection,
    channel: Channel,
    user: &UserSummary,
    change: MemberChange,
    applied: &mut Applied,
) -> Result<(), Error> {
    let Channel::Room(room) = channel else { return Ok(()) };
    let json: Option<String> = c.query_row("SELECT json FROM rooms WHERE id = ?1", [room], |r| r.get(0)).optional()?;
    if let Some(mut r) = json.and_then(|j| serde_json::from_str::<Room>(&j).ok()) {
        r.members.retain(|m| m.id != user.id);
        if change == MemberChange::Joined {
            r.members.push(user.clone());
        } else {
            // Someone who left is no admin of it any more (a successor arrives with the room itself).
            r.admins.retain(|id| *id != user.id);
        }
        c.execute("UPDATE rooms SET json = ?2 WHERE id = ?1", params![room, to_json(&r)])?;
        applied.change(Change::Rooms);
    }
    Ok(())
}
