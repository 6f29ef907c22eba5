//! Chat as the UI reads it: contacts, rooms (with their last message, unread count, presence and who is
//! typing), a page of messages with read receipts, and the sequence numbers the sync needs.
use super::message_view;
use crate::store::{enum_from, Store};
use crate::view::*;
use crate::Error;
use rusqlite::{params, Connection, OptionalExtension};
use tally_protocol::*;

impl Store {
    pub fn contacts(&self) -> Result<Vec<UserSummary>, Error> {
        let c = self.reader();
        let mut stmt = c.prepare_cached("SELECT json FROM contacts ORDER BY id")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.map(|r| {
            let json = r?;
            serde_json::from_str(&json).map_err(|e| Error::Storage(format!("a cached contact cannot be read: {e}")))
        })
        .collect()
    }

    pub fn room(&self, id: RoomId) -> Result<Option<Room>, Error> {
        let json: Option<String> = self
            .reader()
            .query_row("SELECT json FROM rooms WHERE id = ?1 AND left_room = 0", [id], |r| r.get(0))
            .optional()?;
        Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
    }

    pub fn room_ids(&self) -> Result<Vec<RoomId>, Error> {
        let c = self.reader();
        let mut stmt = c.prepare_cached("SELECT id FROM rooms WHERE left_room = 0")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The rooms the user is in: pinned first, then by latest activity.
    pub fn rooms(&self, typing: &dyn Fn(RoomId) -> Vec<UserSummary>) -> Result<Vec<RoomView>, Error> {
        let ids: Vec<(RoomId, String, i64)> = {
            let c = self.reader();
            let mut stmt = c.prepare_cached(
                "SELECT id, json, my_read FROM rooms WHERE left_room = 0 ORDER BY last_activity DESC",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut out = Vec::new();
        for (id, json, my_read) in ids {
            let Ok(room) = serde_json::from_str::<Room>(&json) else { continue };
            let c = self.reader();
            let unread: u32 = c.query_row(
                "SELECT COUNT(*) FROM messages WHERE room = ?1 AND seq > ?2 AND sender_id != ?3 AND json NOT LIKE '%\"deleted\":true%'",
                params![id, my_read, self.me],
                |r| r.get(0),
            )?;
            let last = last_message(&c, self.me, id)?;
            let (presence, last_seen) = if room.kind == RoomKind::Direct {
                match room.members.iter().find(|m| m.id != self.me) {
                    Some(o) => presence_row(&c, o.id)?,
                    None => (None, None),
                }
            } else {
                (None, None)
            };
            drop(c);
            out.push(RoomView { room, unread, last_message: last, presence, last_seen, typing: typing(id) });
        }
        // Pinned rooms first, each part by latest activity (the sort is stable).
        out.sort_by_key(|rv| !rv.room.pinned);
        Ok(out)
    }

    /// Messages of a room, oldest first: the `limit` newest before `before_seq` (pending local echoes last).
    pub fn messages(&self, room: RoomId, before_sort: Option<i64>, limit: u32) -> Result<Vec<MessageView>, Error> {
        let limit = limit.clamp(1, crate::view::MAX_PAGE);
        let c = self.reader();
        let receipts = receipts(&c, room)?;
        let mut stmt = c.prepare_cached(
            "SELECT json, local_state, outbox_id, seq FROM messages WHERE room = ?1 AND sort_key < ?2 ORDER BY sort_key DESC, local_id DESC LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![room, before_sort.unwrap_or(i64::MAX), limit], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, Option<i64>>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (json, local, outbox_id, seq) = row?;
            let mut view = message_view(&json, &local, outbox_id)?;
            if let Some(s) = seq {
                let sender = view.message.sender.id;
                view.read_by = receipts
                    .iter()
                    .filter(|(u, up)| u.id != sender && *up as i64 >= s)
                    .map(|(u, _)| u.clone())
                    .collect();
            }
            if let Some(card) = &view.message.card {
                view.card = card_state(&c, card)?;
            }
            out.push(view);
        }
        out.reverse();
        Ok(out)
    }

    /// The lowest seq cached for a room (to page older history from the hub).
    pub fn oldest_seq(&self, room: RoomId) -> Result<Option<u64>, Error> {
        Ok(self
            .reader()
            .query_row("SELECT MIN(seq) FROM messages WHERE room = ?1 AND seq IS NOT NULL", [room], |r| {
                r.get::<_, Option<i64>>(0)
            })?
            .map(|s| s as u64))
    }

    pub fn room_head_seq(&self, room: RoomId) -> Result<u64, Error> {
        Ok(self
            .reader()
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM messages WHERE room = ?1", [room], |r| r.get::<_, i64>(0))?
            as u64)
    }
}

fn receipts(c: &Connection, room: RoomId) -> Result<Vec<(UserSummary, u64)>, Error> {
    let mut stmt = c.prepare_cached("SELECT json, up_to FROM receipts WHERE room = ?1")?;
    let rows = stmt.query_map([room], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (json, up) = row?;
        if let Ok(u) = serde_json::from_str::<UserSummary>(&json) {
            out.push((u, up as u64));
        }
    }
    Ok(out)
}

fn last_message(c: &Connection, _me: i64, room: RoomId) -> Result<Option<MessageView>, Error> {
    let row: Option<(String, String, Option<i64>)> = c
        .query_row("SELECT json, local_state, outbox_id FROM messages WHERE room = ?1 ORDER BY sort_key DESC, local_id DESC LIMIT 1", [room], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    row.map(|(json, local, outbox_id)| message_view(&json, &local, outbox_id)).transpose()
}

/// A person's last known presence and, while offline, when they were last seen.
fn presence_row(c: &Connection, user: UserId) -> Result<(Option<PresenceStatus>, Option<Millis>), Error> {
    let row: Option<(String, Option<i64>)> = c
        .prepare_cached("SELECT status, last_seen FROM presence WHERE user_id = ?1")?
        .query_row([user], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(match row {
        Some((s, seen)) => {
            let status: Option<PresenceStatus> = enum_from(&s);
            let seen = if status == Some(PresenceStatus::Offline) { seen } else { None };
            (status, seen)
        }
        None => (None, None),
    })
}

/// Where a card's payment or request stands, from what this device holds: the sender's transfer or the
/// recipient's transaction line (indexed by transfer), or the request. None when it holds neither.
fn card_state(c: &rusqlite::Connection, card: &MessageCard) -> Result<Option<CardState>, Error> {
    use rusqlite::OptionalExtension;
    match card {
        MessageCard::Transfer { id, .. } => {
            let status: Option<String> = c
                .prepare_cached("SELECT status FROM transfers WHERE id = ?1")?
                .query_row([id], |r| r.get(0))
                .optional()?;
            let status = match status {
                Some(s) => Some(s),
                None => c
                    .prepare_cached("SELECT status FROM transactions WHERE transfer_id = ?1 LIMIT 1")?
                    .query_row([id], |r| r.get(0))
                    .optional()?,
            };
            let Some(status) = status else { return Ok(None) };
            let status = crate::store::enum_from::<TransferStatus>(&status)
                .ok_or_else(|| Error::Storage(format!("a cached transfer status cannot be read: {status}")))?;
            Ok(Some(CardState::Transfer { status }))
        }
        MessageCard::Request { id, .. } => {
            Ok(super::requests::cached_request(c, *id)?.map(|r| CardState::Request { request: Box::new(r) }))
        }
        MessageCard::Split { shares, .. } => {
            let mut requests = Vec::new();
            for s in shares {
                requests.extend(super::requests::cached_request(c, s.request)?);
            }
            Ok((!requests.is_empty()).then_some(CardState::Split { requests }))
        }
    }
}
