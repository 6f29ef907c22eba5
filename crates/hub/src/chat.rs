//! Rooms (direct and group) and messages: send (idempotent by client_msg_id), edit, delete (tombstone),
//! reactions, read receipts and mentions. Text is stored exactly as given; it is never interpreted.
use crate::auth;
use crate::error::{HubError, HubResult};
use crate::fanout::TenantId;
use crate::log;
use crate::notify;
use crate::store::{now_ms, Emits};
use rusqlite::{params, Connection, OptionalExtension};
use tally_protocol::*;

pub fn is_member(conn: &Connection, room: RoomId, user: i64) -> HubResult<bool> {
    Ok(conn
        .query_row("SELECT 1 FROM room_members WHERE room_id = ?1 AND user_id = ?2", params![room, user], |_| Ok(()))
        .optional()?
        .is_some())
}

fn room_tenant(conn: &Connection, room: RoomId) -> HubResult<Option<TenantId>> {
    Ok(conn.prepare_cached("SELECT tenant_id FROM rooms WHERE id = ?1")?.query_row([room], |r| r.get(0)).optional()?)
}

/// The room as `viewer` sees it (a direct room is named after the other member).
pub fn room(conn: &Connection, tenant: TenantId, id: RoomId, viewer: i64) -> HubResult<Option<Room>> {
    let row: Option<(String, String, i64)> = conn
        .query_row(
            "SELECT kind, name, created_at FROM rooms WHERE id = ?1 AND tenant_id = ?2",
            params![id, tenant],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((kind, name, created_at)) = row else { return Ok(None) };
    let mut stmt = conn.prepare_cached(
        "SELECT u.id, u.username, u.display_name FROM room_members m JOIN users u ON u.id = m.user_id WHERE m.room_id = ?1 ORDER BY m.joined_at, u.id",
    )?;
    let members: Vec<UserSummary> = stmt
        .query_map([id], |r| Ok(UserSummary { id: r.get(0)?, username: r.get(1)?, display_name: r.get(2)? }))?
        .collect::<Result<_, _>>()?;
    let kind = if kind == "direct" { RoomKind::Direct } else { RoomKind::Group };
    let name = match kind {
        RoomKind::Direct => members.iter().find(|m| m.id != viewer).map(|m| m.display_name.clone()).unwrap_or(name),
        RoomKind::Group => name,
    };
    Ok(Some(Room { id, kind, name, members, created_at }))
}

pub fn rooms_of(conn: &Connection, tenant: TenantId, user: i64) -> HubResult<Vec<Room>> {
    let ids: Vec<i64> = {
        let mut stmt = conn.prepare_cached("SELECT room_id FROM room_members WHERE user_id = ?1 ORDER BY room_id")?;
        let rows = stmt.query_map([user], |r| r.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    let mut out = Vec::new();
    for id in ids {
        if let Some(r) = room(conn, tenant, id, user)? {
            out.push(r);
        }
    }
    Ok(out)
}

pub fn member_ids(conn: &Connection, room: RoomId) -> HubResult<Vec<i64>> {
    let mut stmt = conn.prepare_cached("SELECT user_id FROM room_members WHERE room_id = ?1")?;
    let rows = stmt.query_map([room], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn add_member(
    conn: &Connection,
    emits: &mut Emits,
    tenant: TenantId,
    room_id: RoomId,
    user: &UserSummary,
) -> HubResult<bool> {
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO room_members (room_id, user_id, read_up_to, joined_at) VALUES (?1, ?2, 0, ?3)",
        )?
        .execute(params![room_id, user.id, now_ms()])?;
    if n == 0 {
        return Ok(false);
    }
    log::append(
        conn,
        emits,
        tenant,
        Channel::Room(room_id),
        EventData::Member { user: user.clone(), change: MemberChange::Joined },
    )?;
    Ok(true)
}

/// Announces the room (as each member sees it) on every member's `user:` channel.
fn announce_room(conn: &Connection, emits: &mut Emits, tenant: TenantId, room_id: RoomId, to: &[i64]) -> HubResult<()> {
    for u in to {
        if let Some(r) = room(conn, tenant, room_id, *u)? {
            log::append(conn, emits, tenant, Channel::User(*u), EventData::RoomJoined { room: r })?;
        }
    }
    Ok(())
}

pub fn create_room(
    conn: &Connection,
    emits: &mut Emits,
    tenant: TenantId,
    creator: &UserSummary,
    kind: RoomKind,
    name: &str,
    members: &[String],
) -> HubResult<Room> {
    if members.len() > 100 {
        return Err(HubError::invalid("at most 100 members at creation"));
    }
    let mut others = Vec::new();
    for m in members {
        let (u, _, active) = auth::user_by_name(conn, tenant, m)?.ok_or_else(|| HubError::not_found("user"))?;
        if !active {
            return Err(HubError::not_found("user"));
        }
        if u.id != creator.id && !others.iter().any(|o: &UserSummary| o.id == u.id) {
            others.push(u);
        }
    }
    let now = now_ms();
    let room_id = match kind {
        RoomKind::Direct => {
            if others.len() != 1 {
                return Err(HubError::invalid("a direct room has exactly one other member"));
            }
            let (a, b) = (creator.id.min(others[0].id), creator.id.max(others[0].id));
            let key = format!("{tenant}:{a}:{b}");
            if let Some(id) = conn
                .query_row("SELECT id FROM rooms WHERE direct_key = ?1", [&key], |r| r.get::<_, i64>(0))
                .optional()?
            {
                return room(conn, tenant, id, creator.id)?.ok_or_else(|| HubError::internal("room vanished"));
            }
            conn.prepare_cached(
                "INSERT INTO rooms (tenant_id, kind, name, direct_key, created_at) VALUES (?1, 'direct', '', ?2, ?3)",
            )?
            .execute(params![tenant, key, now])?;
            conn.last_insert_rowid()
        }
        RoomKind::Group => {
            let name = name.trim();
            if name.is_empty() || name.len() > 80 {
                return Err(HubError::invalid("a group needs a name of 1-80 bytes"));
            }
            conn.prepare_cached("INSERT INTO rooms (tenant_id, kind, name, created_at) VALUES (?1, 'group', ?2, ?3)")?
                .execute(params![tenant, name, now])?;
            conn.last_insert_rowid()
        }
    };
    add_member(conn, emits, tenant, room_id, creator)?;
    for o in &others {
        add_member(conn, emits, tenant, room_id, o)?;
    }
    let mut all: Vec<i64> = vec![creator.id];
    all.extend(others.iter().map(|o| o.id));
    announce_room(conn, emits, tenant, room_id, &all)?;
    room(conn, tenant, room_id, creator.id)?.ok_or_else(|| HubError::internal("room vanished"))
}

/// Creates a group room with any number of members at once (operators: announcement rooms, load tests).
/// Unlike `create_room` (≤ 100 members, one announcement per member per invite) it announces the room
/// once per member, so a room of thousands costs O(members).
pub fn create_group_bulk(
    conn: &Connection,
    emits: &mut Emits,
    tenant: TenantId,
    name: &str,
    members: &[String],
) -> HubResult<Room> {
    let name = name.trim();
    if name.is_empty() || name.len() > 80 {
        return Err(HubError::invalid("a group needs a name of 1-80 bytes"));
    }
    if members.is_empty() || members.len() > 20_000 {
        return Err(HubError::invalid("1-20000 members"));
    }
    let mut users = Vec::with_capacity(members.len());
    for m in members {
        let (u, _, active) = auth::user_by_name(conn, tenant, m)?.ok_or_else(|| HubError::not_found("user"))?;
        if !active {
            return Err(HubError::not_found("user"));
        }
        users.push(u);
    }
    conn.prepare_cached("INSERT INTO rooms (tenant_id, kind, name, created_at) VALUES (?1, 'group', ?2, ?3)")?
        .execute(params![tenant, name, now_ms()])?;
    let room_id = conn.last_insert_rowid();
    for u in &users {
        add_member(conn, emits, tenant, room_id, u)?;
    }
    // A group looks the same to every member: build it once.
    let r = room(conn, tenant, room_id, users[0].id)?.ok_or_else(|| HubError::internal("room vanished"))?;
    for u in &users {
        log::append(conn, emits, tenant, Channel::User(u.id), EventData::RoomJoined { room: r.clone() })?;
    }
    Ok(r)
}

/// `not_found` for a room of another tenant (or none), `forbidden` for a non-member.
pub fn require_member(conn: &Connection, tenant: TenantId, room: RoomId, user: i64) -> HubResult<()> {
    if room_tenant(conn, room)? != Some(tenant) {
        return Err(HubError::not_found("room"));
    }
    if !is_member(conn, room, user)? {
        return Err(HubError::forbidden("you are not a member of this room"));
    }
    Ok(())
}

pub fn invite(
    conn: &Connection,
    emits: &mut Emits,
    tenant: TenantId,
    by: &UserSummary,
    room_id: RoomId,
    username: &str,
) -> HubResult<Room> {
    require_member(conn, tenant, room_id, by.id)?;
    let r = room(conn, tenant, room_id, by.id)?.ok_or_else(|| HubError::not_found("room"))?;
    if r.kind == RoomKind::Direct {
        return Err(HubError::invalid("direct rooms cannot take more members"));
    }
    let (u, _, active) = auth::user_by_name(conn, tenant, username)?.ok_or_else(|| HubError::not_found("user"))?;
    if !active {
        return Err(HubError::not_found("user"));
    }
    if add_member(conn, emits, tenant, room_id, &u)? {
        let all = member_ids(conn, room_id)?;
        announce_room(conn, emits, tenant, room_id, &all)?;
    }
    room(conn, tenant, room_id, by.id)?.ok_or_else(|| HubError::not_found("room"))
}

/// Leaves a room. Returns true when the user was a member (the caller then ends their subscriptions).
pub fn leave(
    conn: &Connection,
    emits: &mut Emits,
    tenant: TenantId,
    user: &UserSummary,
    room_id: RoomId,
) -> HubResult<()> {
    require_member(conn, tenant, room_id, user.id)?;
    conn.prepare_cached("DELETE FROM room_members WHERE room_id = ?1 AND user_id = ?2")?
        .execute(params![room_id, user.id])?;
    log::append(
        conn,
        emits,
        tenant,
        Channel::Room(room_id),
        EventData::Member { user: user.clone(), change: MemberChange::Left },
    )?;
    log::append(conn, emits, tenant, Channel::User(user.id), EventData::RoomLeft { room: room_id })?;
    Ok(())
}

/// Usernames mentioned as `@name` that are members of the room (excluding the sender).
fn mentions(conn: &Connection, room_id: RoomId, sender: i64, text: &str) -> HubResult<Vec<UserSummary>> {
    let mut out: Vec<UserSummary> = Vec::new();
    for (i, _) in text.match_indices('@') {
        let name: String =
            text[i + 1..].chars().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')).collect();
        let name = name.trim_end_matches(['.', '-']).to_lowercase();
        if name.len() < 2 {
            continue;
        }
        let u: Option<UserSummary> = conn
            .query_row(
                "SELECT u.id, u.username, u.display_name FROM users u JOIN room_members m ON m.user_id = u.id WHERE m.room_id = ?1 AND u.username = ?2",
                params![room_id, name],
                |r| Ok(UserSummary { id: r.get(0)?, username: r.get(1)?, display_name: r.get(2)? }),
            )
            .optional()?;
        if let Some(u) = u {
            if u.id != sender && !out.iter().any(|o| o.id == u.id) {
                out.push(u);
            }
        }
    }
    Ok(out)
}

pub fn message(conn: &Connection, tenant: TenantId, id: MessageId) -> HubResult<Option<Message>> {
    let row = conn
        .query_row(
            "SELECT m.id, m.room_id, m.seq, m.client_msg_id, m.sender, m.text, m.mentions, m.sent_at, m.edited_at, m.deleted
             FROM messages m JOIN rooms r ON r.id = m.room_id WHERE m.id = ?1 AND r.tenant_id = ?2",
            params![id, tenant],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, i64>(7)?,
                    r.get::<_, Option<i64>>(8)?,
                    r.get::<_, bool>(9)?,
                ))
            },
        )
        .optional()?;
    let Some((id, room, seq, cmid, sender, text, mentions, sent_at, edited_at, deleted)) = row else { return Ok(None) };
    let sender = auth::user_summary(conn, tenant, sender)?.ok_or_else(|| HubError::internal("sender missing"))?;
    let mut reactions: Vec<Reaction> = Vec::new();
    let mut stmt =
        conn.prepare_cached("SELECT emoji, user_id FROM reactions WHERE message_id = ?1 ORDER BY created_at, user_id")?;
    for row in stmt.query_map([id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
        let (emoji, user) = row?;
        match reactions.iter_mut().find(|r| r.emoji == emoji) {
            Some(r) => r.users.push(user),
            None => reactions.push(Reaction { emoji, users: vec![user] }),
        }
    }
    Ok(Some(Message {
        id,
        room,
        seq: seq as u64,
        client_msg_id: cmid,
        sender,
        text: if deleted { String::new() } else { text },
        mentions: serde_json::from_str(&mentions).unwrap_or_default(),
        sent_at,
        edited_at,
        deleted,
        reactions,
    }))
}

fn validate_text(text: &str) -> HubResult<()> {
    if text.trim().is_empty() {
        return Err(HubError::invalid("message text is empty"));
    }
    if text.len() > MAX_MESSAGE_BYTES {
        return Err(HubError::invalid(format!("message text is longer than {MAX_MESSAGE_BYTES} bytes")));
    }
    Ok(())
}

/// Posts a message; a repeat of the same `client_msg_id` by the same sender returns the stored one.
pub fn send(
    conn: &Connection,
    emits: &mut Emits,
    tenant: TenantId,
    sender: &UserSummary,
    room_id: RoomId,
    client_msg_id: &str,
    text: &str,
) -> HubResult<Message> {
    require_member(conn, tenant, room_id, sender.id)?;
    if client_msg_id.is_empty() || client_msg_id.len() > 64 {
        return Err(HubError::invalid("client_msg_id must be 1-64 characters"));
    }
    if let Some(id) = conn
        .query_row(
            "SELECT id FROM messages WHERE room_id = ?1 AND sender = ?2 AND client_msg_id = ?3",
            params![room_id, sender.id, client_msg_id],
            |r| r.get::<_, i64>(0),
        )
        .optional()?
    {
        return message(conn, tenant, id)?.ok_or_else(|| HubError::internal("message vanished"));
    }
    validate_text(text)?;
    let mentioned = mentions(conn, room_id, sender.id, text)?;
    let channel = Channel::Room(room_id);
    let seq = log::next_seq(conn, tenant, &channel)?;
    let now = now_ms();
    let mention_ids: Vec<i64> = mentioned.iter().map(|u| u.id).collect();
    conn.prepare_cached("INSERT INTO messages (room_id, seq, client_msg_id, sender, text, mentions, sent_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)")?.execute(params![room_id, seq as i64, client_msg_id, sender.id, text, serde_json::to_string(&mention_ids).unwrap_or_else(|_| "[]".into()), now],
    )?;
    let id = conn.last_insert_rowid();
    let msg = message(conn, tenant, id)?.ok_or_else(|| HubError::internal("message vanished"))?;
    let got = log::append(conn, emits, tenant, channel, EventData::Message { message: msg.clone() })?;
    debug_assert_eq!(got, seq);
    // The sender has read their own message.
    conn.prepare_cached(
        "UPDATE room_members SET read_up_to = MAX(read_up_to, ?3) WHERE room_id = ?1 AND user_id = ?2",
    )?
    .execute(params![room_id, sender.id, seq as i64])?;
    let room_name = room(conn, tenant, room_id, 0)?.map(|r| r.name).unwrap_or_default();
    for u in mentioned {
        let title = if room_name.is_empty() {
            format!("{} mentioned you", sender.display_name)
        } else {
            format!("{} mentioned you in {}", sender.display_name, room_name)
        };
        let preview: String = text.chars().take(140).collect();
        notify::create(
            conn,
            emits,
            tenant,
            u.id,
            NotificationKind::Mention,
            Priority::Normal,
            &title,
            &preview,
            Some(NotificationTarget::Room { id: room_id, message: Some(id) }),
        )?;
    }
    Ok(msg)
}

fn own_message(conn: &Connection, tenant: TenantId, user: i64, room_id: RoomId, id: MessageId) -> HubResult<Message> {
    require_member(conn, tenant, room_id, user)?;
    let m = message(conn, tenant, id)?.filter(|m| m.room == room_id).ok_or_else(|| HubError::not_found("message"))?;
    if m.sender.id != user {
        return Err(HubError::forbidden("only the author can change a message"));
    }
    if m.deleted {
        return Err(HubError::not_found("message"));
    }
    Ok(m)
}

pub fn edit(
    conn: &Connection,
    emits: &mut Emits,
    tenant: TenantId,
    user: i64,
    room_id: RoomId,
    id: MessageId,
    text: &str,
) -> HubResult<()> {
    let m = own_message(conn, tenant, user, room_id, id)?;
    validate_text(text)?;
    if m.text == text {
        return Ok(());
    }
    let now = now_ms();
    conn.prepare_cached("UPDATE messages SET text = ?2, edited_at = ?3, updated_at = ?3 WHERE id = ?1")?
        .execute(params![id, text, now])?;
    log::append(
        conn,
        emits,
        tenant,
        Channel::Room(room_id),
        EventData::MessageEdited { message: id, text: text.into(), edited_at: now },
    )?;
    Ok(())
}

pub fn delete(
    conn: &Connection,
    emits: &mut Emits,
    tenant: TenantId,
    user: i64,
    room_id: RoomId,
    id: MessageId,
) -> HubResult<()> {
    own_message(conn, tenant, user, room_id, id)?;
    conn.prepare_cached("UPDATE messages SET deleted = 1, text = '', updated_at = ?2 WHERE id = ?1")?
        .execute(params![id, now_ms()])?;
    conn.prepare_cached("DELETE FROM reactions WHERE message_id = ?1")?.execute([id])?;
    log::append(conn, emits, tenant, Channel::Room(room_id), EventData::MessageDeleted { message: id })?;
    Ok(())
}

pub fn react(
    conn: &Connection,
    emits: &mut Emits,
    tenant: TenantId,
    user: &UserSummary,
    room_id: RoomId,
    id: MessageId,
    emoji: &str,
    on: bool,
) -> HubResult<()> {
    require_member(conn, tenant, room_id, user.id)?;
    if emoji.is_empty() || emoji.len() > 32 || emoji.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(HubError::invalid("emoji must be 1-32 bytes without spaces"));
    }
    let m = message(conn, tenant, id)?
        .filter(|m| m.room == room_id && !m.deleted)
        .ok_or_else(|| HubError::not_found("message"))?;
    let n = if on {
        conn.prepare_cached(
            "INSERT OR IGNORE INTO reactions (message_id, user_id, emoji, created_at) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![m.id, user.id, emoji, now_ms()])?
    } else {
        conn.prepare_cached("DELETE FROM reactions WHERE message_id = ?1 AND user_id = ?2 AND emoji = ?3")?
            .execute(params![m.id, user.id, emoji])?
    };
    if n > 0 {
        conn.prepare_cached("UPDATE messages SET updated_at = ?2 WHERE id = ?1")?.execute(params![m.id, now_ms()])?;
        log::append(
            conn,
            emits,
            tenant,
            Channel::Room(room_id),
            EventData::Reaction { message: id, emoji: emoji.into(), user: user.clone(), on },
        )?;
    }
    Ok(())
}

pub fn read(
    conn: &Connection,
    emits: &mut Emits,
    tenant: TenantId,
    user: &UserSummary,
    room_id: RoomId,
    up_to: u64,
) -> HubResult<()> {
    require_member(conn, tenant, room_id, user.id)?;
    let head = log::head(conn, tenant, &Channel::Room(room_id))?.map(|h| h.seq).unwrap_or(0);
    let up_to = up_to.min(head);
    let n = conn
        .prepare_cached(
            "UPDATE room_members SET read_up_to = ?3 WHERE room_id = ?1 AND user_id = ?2 AND read_up_to < ?3",
        )?
        .execute(params![room_id, user.id, up_to as i64])?;
    if n > 0 {
        log::append(conn, emits, tenant, Channel::Room(room_id), EventData::Receipt { user: user.clone(), up_to })?;
    }
    Ok(())
}

/// Message history as `message` events (current state: edits applied, tombstones), newest first.
pub fn history(
    conn: &Connection,
    tenant: TenantId,
    room_id: RoomId,
    before: Option<u64>,
    limit: u32,
) -> HubResult<(Vec<Event>, bool)> {
    let limit = limit.clamp(1, MAX_HISTORY_PAGE);
    let ids: Vec<i64> = {
        let mut stmt =
            conn.prepare_cached("SELECT id FROM messages WHERE room_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3")?;
        let rows =
            stmt.query_map(params![room_id, before.unwrap_or(u64::MAX >> 1) as i64, limit as i64 + 1], |r| r.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    let has_more = ids.len() > limit as usize;
    let events = message_events(conn, tenant, room_id, ids.into_iter().take(limit as usize))?;
    Ok((events, has_more))
}

/// How many messages a room holds.
pub fn message_count(conn: &Connection, room_id: RoomId) -> HubResult<u64> {
    let n: i64 =
        conn.prepare_cached("SELECT COUNT(*) FROM messages WHERE room_id = ?1")?.query_row([room_id], |r| r.get(0))?;
    Ok(n as u64)
}

/// Messages posted or changed after `since`, oldest change first (current state), and the next cursor.
pub fn changes(
    conn: &Connection,
    tenant: TenantId,
    room_id: RoomId,
    since: ChangeCursor,
    limit: u32,
) -> HubResult<(Vec<Event>, Option<ChangeCursor>)> {
    let limit = limit.clamp(1, MAX_HISTORY_PAGE);
    let mut rows: Vec<(i64, i64)> = {
        let mut stmt = conn.prepare_cached(
            "SELECT id, updated_at FROM messages WHERE room_id = ?1 AND (updated_at, id) > (?2, ?3)
             ORDER BY updated_at, id LIMIT ?4",
        )?;
        let rows = stmt.query_map(params![room_id, since.updated_at, since.id, limit as i64 + 1], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        rows.collect::<Result<_, _>>()?
    };
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next = if more { rows.last().map(|&(id, at)| ChangeCursor { updated_at: at, id }) } else { None };
    let events = message_events(conn, tenant, room_id, rows.into_iter().map(|(id, _)| id))?;
    Ok((events, next))
}

/// `message` events carrying the current state of these messages, in the given order.
fn message_events(
    conn: &Connection,
    tenant: TenantId,
    room_id: RoomId,
    ids: impl Iterator<Item = i64>,
) -> HubResult<Vec<Event>> {
    let epoch = log::head(conn, tenant, &Channel::Room(room_id))?.map(|h| h.epoch).unwrap_or_default();
    let mut out = Vec::new();
    for id in ids {
        if let Some(m) = message(conn, tenant, id)? {
            out.push(Event {
                channel: Channel::Room(room_id),
                epoch: epoch.clone(),
                seq: m.seq,
                ts: m.sent_at,
                data: EventData::Message { message: m },
            });
        }
    }
    Ok(out)
}

/// Whether `user` shares a room with `other` (for presence ACL).
pub fn read_positions(conn: &Connection, room_id: RoomId) -> HubResult<Vec<(i64, u64)>> {
    let mut stmt = conn.prepare_cached("SELECT user_id, read_up_to FROM room_members WHERE room_id = ?1")?;
    let rows = stmt.query_map([room_id], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
