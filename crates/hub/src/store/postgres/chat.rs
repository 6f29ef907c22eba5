//! Rooms, members, messages and reactions in PostgreSQL.
use super::{col, PgTx};
use crate::error::{HubError, HubResult};
use crate::fanout::TenantId;
use crate::store::repo::{ChatRepo, MessageRow, NewMessageRow, RoomRow};
use postgres::{GenericClient, Row};
use tally_protocol::*;

fn summary(r: &Row) -> HubResult<UserSummary> {
    Ok(UserSummary { id: col(r, 0)?, username: col(r, 1)?, display_name: col(r, 2)? })
}

fn ids(rows: Vec<Row>) -> HubResult<Vec<i64>> {
    rows.iter().map(|r| col(r, 0)).collect()
}

impl<C: GenericClient> ChatRepo for PgTx<'_, C> {
    fn room_tenant(&mut self, room: RoomId) -> HubResult<Option<TenantId>> {
        Ok(self
            .opt("SELECT tenant_id FROM rooms WHERE id = $1", &[&room])?
            .map(|r| col(&r, 0))
            .transpose()?
            .map(TenantId))
    }

    fn room_row(&mut self, tenant: TenantId, room: RoomId) -> HubResult<Option<RoomRow>> {
        let Some(r) =
            self.opt("SELECT kind, name, created_at FROM rooms WHERE id = $1 AND tenant_id = $2", &[&room, &tenant.0])?
        else {
            return Ok(None);
        };
        let kind = match col::<String>(&r, 0)?.as_str() {
            "direct" => RoomKind::Direct,
            "group" => RoomKind::Group,
            other => return Err(HubError::internal(format!("unreadable room kind {other:?}"))),
        };
        Ok(Some(RoomRow { kind, name: col(&r, 1)?, created_at: col(&r, 2)? }))
    }

    fn room_members(&mut self, room: RoomId) -> HubResult<Vec<UserSummary>> {
        let rows = self.rows(
            "SELECT u.id, u.username, u.display_name FROM room_members m JOIN users u ON u.id = m.user_id
             WHERE m.room_id = $1 ORDER BY m.joined_at, u.id",
            &[&room],
        )?;
        rows.iter().map(summary).collect()
    }

    fn member_ids(&mut self, room: RoomId) -> HubResult<Vec<UserId>> {
        ids(self.rows("SELECT user_id FROM room_members WHERE room_id = $1", &[&room])?)
    }

    fn rooms_of_user(&mut self, user: UserId) -> HubResult<Vec<RoomId>> {
        ids(self.rows("SELECT room_id FROM room_members WHERE user_id = $1 ORDER BY room_id", &[&user])?)
    }

    fn is_member(&mut self, room: RoomId, user: UserId) -> HubResult<bool> {
        Ok(self.opt("SELECT 1 FROM room_members WHERE room_id = $1 AND user_id = $2", &[&room, &user])?.is_some())
    }

    fn insert_member(&mut self, room: RoomId, user: UserId, at: Millis) -> HubResult<bool> {
        let n = self.exec(
            "INSERT INTO room_members (room_id, user_id, read_up_to, joined_at) VALUES ($1, $2, 0, $3)
             ON CONFLICT DO NOTHING",
            &[&room, &user, &at],
        )?;
        Ok(n > 0)
    }

    fn delete_member(&mut self, room: RoomId, user: UserId) -> HubResult<()> {
        self.exec("DELETE FROM room_members WHERE room_id = $1 AND user_id = $2", &[&room, &user])?;
        Ok(())
    }

    fn member_named(&mut self, room: RoomId, username: &str) -> HubResult<Option<UserSummary>> {
        self.opt(
            "SELECT u.id, u.username, u.display_name FROM users u JOIN room_members m ON m.user_id = u.id
             WHERE m.room_id = $1 AND u.username = $2",
            &[&room, &username],
        )?
        .map(|r| summary(&r))
        .transpose()
    }

    fn direct_room(&mut self, key: &str) -> HubResult<Option<RoomId>> {
        self.opt("SELECT id FROM rooms WHERE direct_key = $1", &[&key])?.map(|r| col(&r, 0)).transpose()
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
        let r = self.one(
            "INSERT INTO rooms (tenant_id, kind, name, direct_key, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            &[&tenant.0, &kind, &name, &direct_key, &at],
        )?;
        col(&r, 0)
    }

    fn message_by_client_id(
        &mut self,
        room: RoomId,
        sender: UserId,
        client_msg_id: &str,
    ) -> HubResult<Option<MessageId>> {
        self.opt(
            "SELECT id FROM messages WHERE room_id = $1 AND sender = $2 AND client_msg_id = $3",
            &[&room, &sender, &client_msg_id],
        )?
        .map(|r| col(&r, 0))
        .transpose()
    }

    fn insert_message(&mut self, m: &NewMessageRow<'_>) -> HubResult<MessageId> {
        let mentions = serde_json::to_string(m.mentions).map_err(HubError::internal)?;
        let r = self.one(
            "INSERT INTO messages (room_id, seq, client_msg_id, sender, text, mentions, sent_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
            &[&m.room, &(m.seq as i64), &m.client_msg_id, &m.sender, &m.text, &mentions, &m.at],
        )?;
        col(&r, 0)
    }

    fn message_row(&mut self, tenant: TenantId, id: MessageId) -> HubResult<Option<MessageRow>> {
        let Some(r) = self.opt(
            "SELECT m.id, m.room_id, m.seq, m.client_msg_id, m.sender, m.text, m.mentions, m.sent_at, m.edited_at,
               m.deleted FROM messages m JOIN rooms r ON r.id = m.room_id WHERE m.id = $1 AND r.tenant_id = $2",
            &[&id, &tenant.0],
        )?
        else {
            return Ok(None);
        };
        let mentions: String = col(&r, 6)?;
        Ok(Some(MessageRow {
            id: col(&r, 0)?,
            room: col(&r, 1)?,
            seq: col::<i64>(&r, 2)? as u64,
            client_msg_id: col(&r, 3)?,
            sender: col(&r, 4)?,
            text: col(&r, 5)?,
            mentions: serde_json::from_str(&mentions)
                .map_err(|_| HubError::internal(format!("unreadable mentions {mentions:?}")))?,
            sent_at: col(&r, 7)?,
            edited_at: col(&r, 8)?,
            deleted: col(&r, 9)?,
        }))
    }

    fn reactions(&mut self, message: MessageId) -> HubResult<Vec<(String, UserId)>> {
        let rows = self.rows(
            "SELECT emoji, user_id FROM reactions WHERE message_id = $1 ORDER BY created_at, user_id",
            &[&message],
        )?;
        rows.iter().map(|r| Ok((col(r, 0)?, col(r, 1)?))).collect()
    }

    fn set_message_text(&mut self, id: MessageId, text: &str, at: Millis) -> HubResult<()> {
        self.exec("UPDATE messages SET text = $2, edited_at = $3, updated_at = $3 WHERE id = $1", &[&id, &text, &at])?;
        Ok(())
    }

    fn tombstone_message(&mut self, id: MessageId, at: Millis) -> HubResult<()> {
        self.exec("UPDATE messages SET deleted = TRUE, text = '', updated_at = $2 WHERE id = $1", &[&id, &at])?;
        self.exec("DELETE FROM reactions WHERE message_id = $1", &[&id])?;
        Ok(())
    }

    fn set_reaction(&mut self, message: MessageId, user: UserId, emoji: &str, on: bool, at: Millis) -> HubResult<bool> {
        let n = if on {
            self.exec(
                "INSERT INTO reactions (message_id, user_id, emoji, created_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT DO NOTHING",
                &[&message, &user, &emoji, &at],
            )?
        } else {
            self.exec(
                "DELETE FROM reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3",
                &[&message, &user, &emoji],
            )?
        };
        Ok(n > 0)
    }

    fn touch_message(&mut self, id: MessageId, at: Millis) -> HubResult<()> {
        self.exec("UPDATE messages SET updated_at = $2 WHERE id = $1", &[&id, &at])?;
        Ok(())
    }

    fn raise_read_position(&mut self, room: RoomId, user: UserId, up_to: u64) -> HubResult<bool> {
        let n = self.exec(
            "UPDATE room_members SET read_up_to = $3 WHERE room_id = $1 AND user_id = $2 AND read_up_to < $3",
            &[&room, &user, &(up_to as i64)],
        )?;
        Ok(n > 0)
    }

    fn read_positions(&mut self, room: RoomId) -> HubResult<Vec<(UserId, u64)>> {
        let rows = self.rows("SELECT user_id, read_up_to FROM room_members WHERE room_id = $1", &[&room])?;
        rows.iter().map(|r| Ok((col(r, 0)?, col::<i64>(r, 1)? as u64))).collect()
    }

    fn message_ids_before(&mut self, room: RoomId, before: u64, limit: u32) -> HubResult<Vec<MessageId>> {
        ids(self.rows(
            "SELECT id FROM messages WHERE room_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3",
            &[&room, &(before.min(i64::MAX as u64) as i64), &(limit as i64)],
        )?)
    }

    fn message_count(&mut self, room: RoomId) -> HubResult<u64> {
        let r = self.one("SELECT COUNT(*) FROM messages WHERE room_id = $1", &[&room])?;
        Ok(col::<i64>(&r, 0)? as u64)
    }

    fn messages_changed(
        &mut self,
        room: RoomId,
        since: ChangeCursor,
        limit: u32,
    ) -> HubResult<Vec<(MessageId, Millis)>> {
        let rows = self.rows(
            "SELECT id, updated_at FROM messages WHERE room_id = $1 AND (updated_at, id) > ($2, $3)
             ORDER BY updated_at, id LIMIT $4",
            &[&room, &since.updated_at, &since.id, &(limit as i64)],
        )?;
        rows.iter().map(|r| Ok((col(r, 0)?, col(r, 1)?))).collect()
    }
}
