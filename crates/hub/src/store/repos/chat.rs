//! Rooms, members, messages and reactions.
use crate::error::{HubError, HubResult};
use crate::ids::TenantId;
use crate::store::repo::{ChatRepo, MessageRow, NewMessageRow, RoomRow};
use crate::store::sql::{args, pos, unreadable, Db, Row};
use tally_protocol::*;

fn summary(r: &Row) -> HubResult<UserSummary> {
    Ok(UserSummary { id: r.get(0)?, username: r.get(1)?, display_name: r.get(2)? })
}

impl<D: Db> ChatRepo for D {
    fn room_tenant(&mut self, room: RoomId) -> HubResult<Option<TenantId>> {
        self.opt("SELECT tenant_id FROM rooms WHERE id = $1", args![room])?.map(|r| r.get(0)).transpose()
    }

    fn room_row(&mut self, tenant: TenantId, room: RoomId) -> HubResult<Option<RoomRow>> {
        let Some(r) =
            self.opt("SELECT kind, name, created_at FROM rooms WHERE id = $1 AND tenant_id = $2", args![room, tenant])?
        else {
            return Ok(None);
        };
        let kind = match r.text(0)? {
            "direct" => RoomKind::Direct,
            "group" => RoomKind::Group,
            other => return Err(unreadable("room kind", other)),
        };
        Ok(Some(RoomRow { kind, name: r.get(1)?, created_at: r.get(2)? }))
    }

    fn room_members(&mut self, room: RoomId) -> HubResult<Vec<UserSummary>> {
        let rows = self.rows(
            "SELECT u.id, u.username, u.display_name FROM room_members m JOIN users u ON u.id = m.user_id
             WHERE m.room_id = $1 ORDER BY m.joined_at, u.id",
            args![room],
        )?;
        rows.iter().map(summary).collect()
    }

    fn member_ids(&mut self, room: RoomId) -> HubResult<Vec<UserId>> {
        self.column("SELECT user_id FROM room_members WHERE room_id = $1", args![room])
    }

    fn member_ids_by_joining(&mut self, room: RoomId) -> HubResult<Vec<UserId>> {
        self.column("SELECT user_id FROM room_members WHERE room_id = $1 ORDER BY joined_at, user_id", args![room])
    }

    fn rooms_of_user(&mut self, user: UserId) -> HubResult<Vec<RoomId>> {
        self.column("SELECT room_id FROM room_members WHERE user_id = $1 ORDER BY room_id", args![user])
    }

    fn is_member(&mut self, room: RoomId, user: UserId) -> HubResult<bool> {
        Ok(self.opt("SELECT 1 FROM room_members WHERE room_id = $1 AND user_id = $2", args![room, user])?.is_some())
    }

    fn insert_member(&mut self, room: RoomId, user: UserId, at: Millis) -> HubResult<bool> {
        let n = self.exec(
            "INSERT INTO room_members (room_id, user_id, read_up_to, joined_at) VALUES ($1, $2, 0, $3)
             ON CONFLICT DO NOTHING",
            args![room, user, at],
        )?;
        Ok(n > 0)
    }

    fn delete_member(&mut self, room: RoomId, user: UserId) -> HubResult<()> {
        self.exec("DELETE FROM room_members WHERE room_id = $1 AND user_id = $2", args![room, user])?;
        Ok(())
    }

    fn member_named(&mut self, room: RoomId, username: &str) -> HubResult<Option<UserSummary>> {
        self.opt(
            "SELECT u.id, u.username, u.display_name FROM users u JOIN room_members m ON m.user_id = u.id
             WHERE m.room_id = $1 AND u.username = $2",
            args![room, username],
        )?
        .map(|r| summary(&r))
        .transpose()
    }

    fn room_admins(&mut self, room: RoomId) -> HubResult<Vec<UserId>> {
        self.column(
            "SELECT user_id FROM room_members WHERE room_id = $1 AND role = 'admin' ORDER BY joined_at, user_id",
            args![room],
        )
    }

    fn set_admin(&mut self, room: RoomId, user: UserId, admin: bool) -> HubResult<()> {
        let role = if admin { "admin" } else { "member" };
        self.exec("UPDATE room_members SET role = $3 WHERE room_id = $1 AND user_id = $2", args![room, user, role])?;
        Ok(())
    }

    fn member_prefs(&mut self, room: RoomId, user: UserId) -> HubResult<Option<(bool, bool)>> {
        let r =
            self.opt("SELECT muted, pinned FROM room_members WHERE room_id = $1 AND user_id = $2", args![room, user])?;
        r.map(|r| Ok((r.get(0)?, r.get(1)?))).transpose()
    }

    fn set_member_prefs(&mut self, room: RoomId, user: UserId, muted: bool, pinned: bool) -> HubResult<()> {
        self.exec(
            "UPDATE room_members SET muted = $3, pinned = $4 WHERE room_id = $1 AND user_id = $2",
            args![room, user, muted, pinned],
        )?;
        Ok(())
    }

    fn rename_room(&mut self, room: RoomId, name: &str) -> HubResult<()> {
        self.exec("UPDATE rooms SET name = $2 WHERE id = $1", args![room, name])?;
        Ok(())
    }

    fn direct_room(&mut self, key: &str) -> HubResult<Option<RoomId>> {
        self.opt("SELECT id FROM rooms WHERE direct_key = $1", args![key])?.map(|r| r.get(0)).transpose()
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
        self.insert_id(
            "INSERT INTO rooms (tenant_id, kind, name, direct_key, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            args![tenant, kind, name, direct_key, at],
        )
    }

    fn message_by_client_id(
        &mut self,
        room: RoomId,
        sender: UserId,
        client_msg_id: &str,
    ) -> HubResult<Option<MessageId>> {
        self.opt(
            "SELECT id FROM messages WHERE room_id = $1 AND sender = $2 AND client_msg_id = $3",
            args![room, sender, client_msg_id],
        )?
        .map(|r| r.get(0))
        .transpose()
    }

    fn insert_message(&mut self, m: &NewMessageRow<'_>) -> HubResult<MessageId> {
        let mentions = serde_json::to_string(m.mentions).map_err(HubError::internal)?;
        let card = m.card.map(serde_json::to_string).transpose().map_err(HubError::internal)?;
        let file = m.attachment.map(serde_json::to_string).transpose().map_err(HubError::internal)?;
        self.insert_id(
            "INSERT INTO messages (room_id, seq, client_msg_id, sender, text, mentions, sent_at, updated_at, card,
               attachment) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9) RETURNING id",
            args![
                m.room,
                m.seq as i64,
                m.client_msg_id,
                m.sender,
                m.text,
                &mentions,
                m.at,
                card.as_ref(),
                file.as_ref()
            ],
        )
    }

    fn message_row(&mut self, tenant: TenantId, id: MessageId) -> HubResult<Option<MessageRow>> {
        let Some(r) = self.opt(
            "SELECT m.id, m.room_id, m.seq, m.client_msg_id, m.sender, m.text, m.mentions, m.sent_at, m.edited_at,
               m.deleted, m.card, m.attachment FROM messages m JOIN rooms r ON r.id = m.room_id WHERE m.id = $1 AND r.tenant_id = $2",
            args![id, tenant],
        )?
        else {
            return Ok(None);
        };
        let mentions: String = r.get(6)?;
        let card = match r.get::<Option<String>>(10)? {
            Some(c) => Some(serde_json::from_str(&c).map_err(|_| unreadable("message card", &c))?),
            None => None,
        };
        let attachment = match r.get::<Option<String>>(11)? {
            Some(a) => Some(serde_json::from_str(&a).map_err(|_| unreadable("message attachment", &a))?),
            None => None,
        };
        Ok(Some(MessageRow {
            id: r.get(0)?,
            room: r.get(1)?,
            seq: r.get(2)?,
            client_msg_id: r.get(3)?,
            sender: r.get(4)?,
            text: r.get(5)?,
            mentions: serde_json::from_str(&mentions).map_err(|_| unreadable("mentions", &mentions))?,
            sent_at: r.get(7)?,
            edited_at: r.get(8)?,
            deleted: r.get(9)?,
            card,
            attachment,
        }))
    }

    fn reactions(&mut self, message: MessageId) -> HubResult<Vec<(String, UserId)>> {
        let rows = self.rows(
            "SELECT emoji, user_id FROM reactions WHERE message_id = $1 ORDER BY created_at, user_id",
            args![message],
        )?;
        rows.iter().map(|r| Ok((r.get(0)?, r.get(1)?))).collect()
    }

    fn set_message_text(&mut self, id: MessageId, text: &str, at: Millis) -> HubResult<()> {
        self.exec("UPDATE messages SET text = $2, edited_at = $3, updated_at = $3 WHERE id = $1", args![id, text, at])?;
        Ok(())
    }

    fn tombstone_message(&mut self, id: MessageId, at: Millis) -> HubResult<()> {
        self.exec("UPDATE messages SET deleted = TRUE, text = '', updated_at = $2 WHERE id = $1", args![id, at])?;
        self.exec("DELETE FROM reactions WHERE message_id = $1", args![id])?;
        Ok(())
    }

    fn set_reaction(&mut self, message: MessageId, user: UserId, emoji: &str, on: bool, at: Millis) -> HubResult<bool> {
        let n = if on {
            self.exec(
                "INSERT INTO reactions (message_id, user_id, emoji, created_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT DO NOTHING",
                args![message, user, emoji, at],
            )?
        } else {
            self.exec(
                "DELETE FROM reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3",
                args![message, user, emoji],
            )?
        };
        Ok(n > 0)
    }

    fn touch_message(&mut self, id: MessageId, at: Millis) -> HubResult<()> {
        self.exec("UPDATE messages SET updated_at = $2 WHERE id = $1", args![id, at])?;
        Ok(())
    }

    fn raise_read_position(&mut self, room: RoomId, user: UserId, up_to: u64) -> HubResult<bool> {
        let n = self.exec(
            "UPDATE room_members SET read_up_to = $3 WHERE room_id = $1 AND user_id = $2 AND read_up_to < $3",
            args![room, user, up_to as i64],
        )?;
        Ok(n > 0)
    }

    fn read_positions(&mut self, room: RoomId) -> HubResult<Vec<(UserId, u64)>> {
        let rows = self.rows("SELECT user_id, read_up_to FROM room_members WHERE room_id = $1", args![room])?;
        rows.iter().map(|r| Ok((r.get(0)?, r.get(1)?))).collect()
    }

    fn message_ids_before(&mut self, room: RoomId, before: u64, limit: u32) -> HubResult<Vec<MessageId>> {
        self.column(
            "SELECT id FROM messages WHERE room_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3",
            args![room, pos(before), i64::from(limit)],
        )
    }

    fn message_count(&mut self, room: RoomId) -> HubResult<u64> {
        self.value("SELECT COUNT(*) FROM messages WHERE room_id = $1", args![room])
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
            args![room, since.updated_at, since.id, i64::from(limit)],
        )?;
        rows.iter().map(|r| Ok((r.get(0)?, r.get(1)?))).collect()
    }
}
