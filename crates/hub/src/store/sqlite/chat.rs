//! Rooms, members, messages and reactions in SQLite.
use super::SqliteTx;
use crate::error::{HubError, HubResult};
use crate::fanout::TenantId;
use crate::store::repo::{ChatRepo, MessageRow, NewMessageRow, RoomRow};
use rusqlite::{params, OptionalExtension};
use tally_protocol::*;

fn summary(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserSummary> {
    Ok(UserSummary { id: r.get(0)?, username: r.get(1)?, display_name: r.get(2)? })
}

fn ids<T: rusqlite::types::FromSql>(rows: impl Iterator<Item = rusqlite::Result<T>>) -> HubResult<Vec<T>> {
    Ok(rows.collect::<Result<_, _>>()?)
}

impl ChatRepo for SqliteTx<'_> {
    fn room_tenant(&mut self, room: RoomId) -> HubResult<Option<TenantId>> {
        Ok(self
            .c
            .prepare_cached("SELECT tenant_id FROM rooms WHERE id = ?1")?
            .query_row([room], |r| r.get(0))
            .optional()?)
    }

    fn room_row(&mut self, tenant: TenantId, room: RoomId) -> HubResult<Option<RoomRow>> {
        let row: Option<(String, String, i64)> = self
            .c
            .prepare_cached("SELECT kind, name, created_at FROM rooms WHERE id = ?1 AND tenant_id = ?2")?
            .query_row(params![room, tenant], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let Some((kind, name, created_at)) = row else { return Ok(None) };
        let kind = match kind.as_str() {
            "direct" => RoomKind::Direct,
            "group" => RoomKind::Group,
            other => return Err(super::unreadable("room kind", other).into()),
        };
        Ok(Some(RoomRow { kind, name, created_at }))
    }

    fn room_members(&mut self, room: RoomId) -> HubResult<Vec<UserSummary>> {
        let mut stmt = self.c.prepare_cached(
            "SELECT u.id, u.username, u.display_name FROM room_members m JOIN users u ON u.id = m.user_id
             WHERE m.room_id = ?1 ORDER BY m.joined_at, u.id",
        )?;
        let rows = stmt.query_map([room], summary)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn member_ids(&mut self, room: RoomId) -> HubResult<Vec<UserId>> {
        let mut stmt = self.c.prepare_cached("SELECT user_id FROM room_members WHERE room_id = ?1")?;
        let rows = stmt.query_map([room], |r| r.get(0))?;
        ids(rows)
    }

    fn rooms_of_user(&mut self, user: UserId) -> HubResult<Vec<RoomId>> {
        let mut stmt = self.c.prepare_cached("SELECT room_id FROM room_members WHERE user_id = ?1 ORDER BY room_id")?;
        let rows = stmt.query_map([user], |r| r.get(0))?;
        ids(rows)
    }

    fn is_member(&mut self, room: RoomId, user: UserId) -> HubResult<bool> {
        Ok(self
            .c
            .prepare_cached("SELECT 1 FROM room_members WHERE room_id = ?1 AND user_id = ?2")?
            .query_row(params![room, user], |_| Ok(()))
            .optional()?
            .is_some())
    }

    fn insert_member(&mut self, room: RoomId, user: UserId, at: Millis) -> HubResult<bool> {
        let n = self
            .c
            .prepare_cached(
                "INSERT OR IGNORE INTO room_members (room_id, user_id, read_up_to, joined_at) VALUES (?1, ?2, 0, ?3)",
            )?
            .execute(params![room, user, at])?;
        Ok(n > 0)
    }

    fn delete_member(&mut self, room: RoomId, user: UserId) -> HubResult<()> {
        self.c
            .prepare_cached("DELETE FROM room_members WHERE room_id = ?1 AND user_id = ?2")?
            .execute(params![room, user])?;
        Ok(())
    }

    fn member_named(&mut self, room: RoomId, username: &str) -> HubResult<Option<UserSummary>> {
        Ok(self
            .c
            .prepare_cached(
                "SELECT u.id, u.username, u.display_name FROM users u JOIN room_members m ON m.user_id = u.id
                 WHERE m.room_id = ?1 AND u.username = ?2",
            )?
            .query_row(params![room, username], summary)
            .optional()?)
    }

    fn direct_room(&mut self, key: &str) -> HubResult<Option<RoomId>> {
        Ok(self
            .c
            .prepare_cached("SELECT id FROM rooms WHERE direct_key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }

    fn insert_room(
        &mut self,
        tenant: TenantId,
        kind: RoomKind,
        name: &str,
        direct_key: Option<&str>,
        at: Millis,
    ) -> HubResult<RoomId> {
        let kind = match kind {
            RoomKind::Direct => "direct",
            RoomKind::Group => "group",
        };
        self.c
            .prepare_cached(
                "INSERT INTO rooms (tenant_id, kind, name, direct_key, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![tenant, kind, name, direct_key, at])?;
        Ok(self.c.last_insert_rowid())
    }

    fn message_by_client_id(
        &mut self,
        room: RoomId,
        sender: UserId,
        client_msg_id: &str,
    ) -> HubResult<Option<MessageId>> {
        Ok(self
            .c
            .prepare_cached("SELECT id FROM messages WHERE room_id = ?1 AND sender = ?2 AND client_msg_id = ?3")?
            .query_row(params![room, sender, client_msg_id], |r| r.get(0))
            .optional()?)
    }

    fn insert_message(&mut self, m: &NewMessageRow<'_>) -> HubResult<MessageId> {
        let mentions = serde_json::to_string(m.mentions).map_err(HubError::internal)?;
        self.c
            .prepare_cached(
                "INSERT INTO messages (room_id, seq, client_msg_id, sender, text, mentions, sent_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
            )?
            .execute(params![m.room, m.seq as i64, m.client_msg_id, m.sender, m.text, mentions, m.at])?;
        Ok(self.c.last_insert_rowid())
    }

    fn message_row(&mut self, tenant: TenantId, id: MessageId) -> HubResult<Option<MessageRow>> {
        Ok(self
            .c
            .prepare_cached(
                "SELECT m.id, m.room_id, m.seq, m.client_msg_id, m.sender, m.text, m.mentions, m.sent_at, m.edited_at,
                   m.deleted FROM messages m JOIN rooms r ON r.id = m.room_id WHERE m.id = ?1 AND r.tenant_id = ?2",
            )?
            .query_row(params![id, tenant], |r| {
                let mentions: String = r.get(6)?;
                Ok(MessageRow {
                    id: r.get(0)?,
                    room: r.get(1)?,
                    seq: r.get::<_, i64>(2)? as u64,
                    client_msg_id: r.get(3)?,
                    sender: r.get(4)?,
                    text: r.get(5)?,
                    mentions: serde_json::from_str(&mentions).map_err(|_| super::unreadable("mentions", &mentions))?,
                    sent_at: r.get(7)?,
                    edited_at: r.get(8)?,
                    deleted: r.get(9)?,
                })
            })
            .optional()?)
    }

    fn reactions(&mut self, message: MessageId) -> HubResult<Vec<(String, UserId)>> {
        let mut stmt = self.c.prepare_cached(
            "SELECT emoji, user_id FROM reactions WHERE message_id = ?1 ORDER BY created_at, user_id",
        )?;
        let rows = stmt.query_map([message], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn set_message_text(&mut self, id: MessageId, text: &str, at: Millis) -> HubResult<()> {
        self.c
            .prepare_cached("UPDATE messages SET text = ?2, edited_at = ?3, updated_at = ?3 WHERE id = ?1")?
            .execute(params![id, text, at])?;
        Ok(())
    }

    fn tombstone_message(&mut self, id: MessageId, at: Millis) -> HubResult<()> {
        self.c
            .prepare_cached("UPDATE messages SET deleted = 1, text = '', updated_at = ?2 WHERE id = ?1")?
            .execute(params![id, at])?;
        self.c.prepare_cached("DELETE FROM reactions WHERE message_id = ?1")?.execute([id])?;
        Ok(())
    }

    fn set_reaction(&mut self, message: MessageId, user: UserId, emoji: &str, on: bool, at: Millis) -> HubResult<bool> {
        let n = if on {
            self.c
                .prepare_cached(
                    "INSERT OR IGNORE INTO reactions (message_id, user_id, emoji, created_at) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![message, user, emoji, at])?
        } else {
            self.c
                .prepare_cached("DELETE FROM reactions WHERE message_id = ?1 AND user_id = ?2 AND emoji = ?3")?
                .execute(params![message, user, emoji])?
        };
        Ok(n > 0)
    }

    fn touch_message(&mut self, id: MessageId, at: Millis) -> HubResult<()> {
        self.c.prepare_cached("UPDATE messages SET updated_at = ?2 WHERE id = ?1")?.execute(params![id, at])?;
        Ok(())
    }

    fn raise_read_position(&mut self, room: RoomId, user: UserId, up_to: u64) -> HubResult<bool> {
        let n = self
            .c
            .prepare_cached(
                "UPDATE room_members SET read_up_to = ?3 WHERE room_id = ?1 AND user_id = ?2 AND read_up_to < ?3",
            )?
            .execute(params![room, user, up_to as i64])?;
        Ok(n > 0)
    }

    fn read_positions(&mut self, room: RoomId) -> HubResult<Vec<(UserId, u64)>> {
        let mut stmt = self.c.prepare_cached("SELECT user_id, read_up_to FROM room_members WHERE room_id = ?1")?;
        let rows = stmt.query_map([room], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn message_ids_before(&mut self, room: RoomId, before: u64, limit: u32) -> HubResult<Vec<MessageId>> {
        let mut stmt = self
            .c
            .prepare_cached("SELECT id FROM messages WHERE room_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3")?;
        let rows = stmt.query_map(params![room, before.min(i64::MAX as u64) as i64, limit as i64], |r| r.get(0))?;
        ids(rows)
    }

    fn message_count(&mut self, room: RoomId) -> HubResult<u64> {
        let n: i64 = self
            .c
            .prepare_cached("SELECT COUNT(*) FROM messages WHERE room_id = ?1")?
            .query_row([room], |r| r.get(0))?;
        Ok(n as u64)
    }

    fn messages_changed(
        &mut self,
        room: RoomId,
        since: ChangeCursor,
        limit: u32,
    ) -> HubResult<Vec<(MessageId, Millis)>> {
        let mut stmt = self.c.prepare_cached(
            "SELECT id, updated_at FROM messages WHERE room_id = ?1 AND (updated_at, id) > (?2, ?3)
             ORDER BY updated_at, id LIMIT ?4",
        )?;
        let rows =
            stmt.query_map(params![room, since.updated_at, since.id, limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
