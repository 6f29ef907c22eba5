//! The outbox's storage: each queued action with its local echo (a pending message or transfer), written
//! in one transaction; delivered items are deleted, failed ones wait for the user.
use super::{now_ms, to_json, unreadable, Store};
use crate::outbox::{OutboxAction, OutboxQueue, OutboxState};
use crate::view::{CommandErrorCode, LocalState};
use crate::Error;
use rusqlite::{params, OptionalExtension};
use tally_protocol::*;

#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRow {
    pub id: i64,
    pub queue: OutboxQueue,
    /// The action, or why its stored payload could not be read.
    pub action: Result<OutboxAction, String>,
    pub state: OutboxState,
    /// How many times it was sent (0: it never left this device).
    pub attempts: u32,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

impl Store {
    /// Adds an action to the outbox, with its local echo, in one transaction. `announce` runs after the
    /// commit while the writer is still held: the flusher marks an item sent only through the writer, so
    /// whatever `announce` tells the UI ("queued") always comes before "sending".
    pub fn enqueue(
        &self,
        action: &OutboxAction,
        expires_at: Option<i64>,
        summary: &str,
        echo: Echo<'_>,
        announce: impl FnOnce(i64) -> Result<(), Error>,
    ) -> Result<i64, Error> {
        let mut c = self.writer();
        let tx = c.transaction()?;
        tx.execute(
            "INSERT INTO outbox (queue, kind, payload, state, created_at, expires_at, summary) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                String::from(action.queue()),
                action.kind().as_str(),
                action.encode(),
                OutboxState::Pending.as_str(),
                now_ms(),
                expires_at,
                summary
            ],
        )?;
        let id = tx.last_insert_rowid();
        match echo {
            Echo::None => {}
            Echo::Message(m) | Echo::File(m, _) => {
                if let Echo::File(_, bytes) = echo {
                    tx.execute("INSERT INTO uploads (outbox_id, bytes) VALUES (?1, ?2)", params![id, bytes])?;
                }
                let sort: i64 = tx.query_row(
                    "SELECT COALESCE(MAX(sort_key), 0) + 1 FROM messages WHERE room = ?1",
                    [m.room],
                    |r| r.get(0),
                )?;
                tx.execute(
                    "INSERT INTO messages (id, room, seq, client_msg_id, sender_id, json, text, local_state, outbox_id, sort_key)
                     VALUES (NULL, ?1, NULL, ?2, ?3, ?4, ?5, 'pending', ?6, ?7)",
                    params![m.room, m.client_msg_id, m.sender.id, to_json(m), m.text, id, sort],
                )?;
                let lid = tx.last_insert_rowid();
                tx.execute("INSERT INTO msg_fts (rowid, text) VALUES (?1, ?2)", params![lid, m.text])?;
            }
            Echo::Transfer(t) => {
                let key = t.idempotency_key.clone().unwrap_or_default();
                tx.execute(
                    "INSERT INTO transfers (key, id, json, status, local_state, outbox_id, expires_at, updated_at) VALUES (?1, NULL, ?2, 'pending', 'pending', ?3, ?4, ?5)",
                    params![key, to_json(t), id, expires_at, now_ms()],
                )?;
            }
        }
        tx.commit()?;
        announce(id)?;
        drop(c);
        Ok(id)
    }

    pub fn outbox_rows(&self) -> Result<Vec<OutboxRow>, Error> {
        let c = self.reader();
        let mut stmt = c.prepare(
            "SELECT id, queue, kind, payload, state, attempts, created_at, expires_at FROM outbox ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            let state: String = r.get(4)?;
            Ok(OutboxRow {
                id: r.get(0)?,
                queue: r.get::<_, String>(1).map(OutboxQueue::try_from)?.map_err(|e| unreadable(1, e))?,
                action: OutboxAction::decode(&r.get::<_, String>(2)?, &r.get::<_, String>(3)?),
                state: OutboxState::parse(&state).ok_or_else(|| {
                    rusqlite::Error::FromSqlConversionFailure(
                        4,
                        rusqlite::types::Type::Text,
                        format!("outbox state {state:?}").into(),
                    )
                })?,
                attempts: r.get(5)?,
                created_at: r.get(6)?,
                expires_at: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Moves the room's own read marker forward (the badge drops at once); false when it already was.
    pub fn mark_room_read_locally(&self, room: RoomId, up_to: u64) -> Result<bool, Error> {
        let n = self.writer().execute(
            "UPDATE rooms SET my_read = MAX(my_read, ?2) WHERE id = ?1 AND my_read < ?2",
            params![room, up_to as i64],
        )?;
        Ok(n > 0)
    }

    pub fn outbox_attempt(&self, id: i64) -> Result<(), Error> {
        self.writer().execute("UPDATE outbox SET attempts = attempts + 1 WHERE id = ?1", [id])?;
        Ok(())
    }

    /// Removes a delivered item.
    pub fn outbox_done(&self, id: i64) -> Result<(), Error> {
        self.writer().execute("DELETE FROM outbox WHERE id = ?1", [id])?;
        Ok(())
    }

    /// Marks an item failed (permanent error or expiry): it waits for the user's retry or discard.
    pub fn outbox_fail(&self, id: i64, code: CommandErrorCode, reason: &str) -> Result<(), Error> {
        let mut c = self.writer();
        let tx = c.transaction()?;
        tx.execute(
            "UPDATE outbox SET state = 'failed', error_code = ?2, error = ?3 WHERE id = ?1",
            params![id, code.to_string(), reason],
        )?;
        let state = super::local_state::encode(&LocalState::Failed { reason: reason.to_string(), code });
        tx.execute("UPDATE messages SET local_state = ?2 WHERE outbox_id = ?1", params![id, state])?;
        tx.execute("UPDATE transfers SET local_state = ?2 WHERE outbox_id = ?1", params![id, state])?;
        tx.commit()?;
        Ok(())
    }

    /// Puts a failed item back in line; `announce` runs as in [`Store::enqueue`], before the flusher can
    /// pick the item up again.
    pub fn outbox_retry(&self, id: i64, new_expiry: Option<i64>, announce: impl FnOnce()) -> Result<bool, Error> {
        let mut c = self.writer();
        let tx = c.transaction()?;
        let n = tx.execute(
            "UPDATE outbox SET state = 'pending', error_code = NULL, error = NULL, expires_at = COALESCE(?2, expires_at) WHERE id = ?1 AND state = 'failed'",
            params![id, new_expiry],
        )?;
        tx.execute("UPDATE messages SET local_state = 'pending' WHERE outbox_id = ?1", [id])?;
        tx.execute(
            "UPDATE transfers SET local_state = 'pending', expires_at = COALESCE(?2, expires_at) WHERE outbox_id = ?1",
            params![id, new_expiry],
        )?;
        tx.commit()?;
        if n == 1 {
            announce();
        }
        drop(c);
        Ok(n == 1)
    }

    /// A queued file is on the hub: the item now names what the hub stored (and is ready to be sent as a
    /// message); its bytes leave the queue and are kept with the downloaded files (`cap`).
    pub fn outbox_uploaded(&self, id: i64, uploaded: &Attachment, cap: u64) -> Result<(), Error> {
        let (room, bytes) = {
            let mut c = self.writer();
            let tx = c.transaction()?;
            let (kind, payload): (String, String) =
                tx.query_row("SELECT kind, payload FROM outbox WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            let mut action = OutboxAction::decode(&kind, &payload).map_err(Error::Storage)?;
            let OutboxAction::Attachment { room, uploaded: slot, .. } = &mut action else {
                return Err(Error::Storage(format!("outbox item {id} is not a file")));
            };
            *slot = Some(uploaded.clone());
            let room = *room;
            tx.execute("UPDATE outbox SET payload = ?2 WHERE id = ?1", params![id, action.encode()])?;
            let bytes: Option<Vec<u8>> =
                tx.query_row("SELECT bytes FROM uploads WHERE outbox_id = ?1", [id], |r| r.get(0)).optional()?;
            tx.execute("DELETE FROM uploads WHERE outbox_id = ?1", [id])?;
            tx.commit()?;
            (room, bytes)
        };
        if let Some(b) = bytes.filter(|b| b.len() as u64 == uploaded.size) {
            // What was sent is what the hub stored (a picture loses its metadata there: not this copy).
            self.keep_file(room, &uploaded.id, super::Variant::File, &b, cap)?;
        }
        Ok(())
    }

    /// Drops an item and its local echo.
    pub fn outbox_discard(&self, id: i64) -> Result<bool, Error> {
        let mut c = self.writer();
        let tx = c.transaction()?;
        let n = tx.execute("DELETE FROM outbox WHERE id = ?1", [id])?;
        tx.execute(
            "DELETE FROM msg_fts WHERE rowid IN (SELECT local_id FROM messages WHERE outbox_id = ?1 AND id IS NULL)",
            [id],
        )?;
        tx.execute("DELETE FROM messages WHERE outbox_id = ?1 AND id IS NULL", [id])?;
        tx.execute("DELETE FROM transfers WHERE outbox_id = ?1 AND id IS NULL", [id])?;
        tx.execute("DELETE FROM uploads WHERE outbox_id = ?1", [id])?;
        tx.commit()?;
        Ok(n == 1)
    }
}

/// The local echo written with an outbox item.
#[derive(Clone, Copy)]
pub enum Echo<'a> {
    None,
    Message(&'a Message),
    /// A message carrying a file, and the file's bytes (kept until it is uploaded).
    File(&'a Message, &'a [u8]),
    Transfer(&'a Transfer),
}
