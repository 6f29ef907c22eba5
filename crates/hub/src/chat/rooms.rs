//! Rooms and who is in them. Every membership change is an event on the room and on the member's
//! `user:` channel (which is how a device learns of a room it was added to).
use crate::error::{HubError, HubResult};
use crate::ids::TenantId;
use crate::log;
use crate::store::{now_ms, Emits, Tx};
use tally_protocol::*;

pub fn is_member(tx: &mut dyn Tx, room: RoomId, user: UserId) -> HubResult<bool> {
    tx.is_member(room, user)
}

pub fn member_ids(tx: &mut dyn Tx, room: RoomId) -> HubResult<Vec<UserId>> {
    tx.member_ids(room)
}

/// The room as `viewer` sees it (a direct room is named after the other member).
pub fn room(tx: &mut dyn Tx, tenant: TenantId, id: RoomId, viewer: UserId) -> HubResult<Option<Room>> {
    let Some(row) = tx.room_row(tenant, id)? else { return Ok(None) };
    let members = tx.room_members(id)?;
    let name = match row.kind {
        RoomKind::Direct => members.iter().find(|m| m.id != viewer).map(|m| m.display_name.clone()).unwrap_or(row.name),
        RoomKind::Group => row.name,
    };
    let admins = match row.kind {
        RoomKind::Direct => vec![],
        RoomKind::Group => tx.room_admins(id)?,
    };
    let (muted, pinned) = tx.member_prefs(id, viewer)?.unwrap_or((false, false));
    Ok(Some(Room { id, kind: row.kind, name, members, admins, muted, pinned, created_at: row.created_at }))
}

pub fn rooms_of(tx: &mut dyn Tx, tenant: TenantId, user: UserId) -> HubResult<Vec<Room>> {
    let mut out = Vec::new();
    for id in tx.rooms_of_user(user)? {
        if let Some(r) = room(tx, tenant, id, user)? {
            out.push(r);
        }
    }
    Ok(out)
}

fn add_member(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    room_id: RoomId,
    user: &UserSummary,
) -> HubResult<bool> {
    if !tx.insert_member(room_id, user.id, now_ms())? {
        return Ok(false);
    }
    let joined = EventData::Member { user: user.clone(), change: MemberChange::Joined };
    log::append(tx, emits, tenant, Channel::Room(room_id), joined)?;
    Ok(true)
}

/// Announces the room (as each member sees it) on every member's `user:` channel.
fn announce_room(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    room_id: RoomId,
    to: &[UserId],
) -> HubResult<()> {
    for u in to {
        if let Some(r) = room(tx, tenant, room_id, *u)? {
            log::append(tx, emits, tenant, Channel::User(*u), EventData::RoomJoined { room: r })?;
        }
    }
    Ok(())
}

/// Announces the room to everyone in it now.
fn announce_to_members(tx: &mut dyn Tx, emits: &mut Emits, tenant: TenantId, room_id: RoomId) -> HubResult<()> {
    let all = tx.member_ids(room_id)?;
    announce_room(tx, emits, tenant, room_id, &all)
}

/// The room as `viewer` sees it now; `not_found` when it is not there (another tenant's, or none).
fn room_now(tx: &mut dyn Tx, tenant: TenantId, room_id: RoomId, viewer: UserId) -> HubResult<Room> {
    room(tx, tenant, room_id, viewer)?.ok_or_else(|| HubError::not_found("room"))
}

/// The active users with these usernames.
fn active_users(tx: &mut dyn Tx, tenant: TenantId, names: &[String]) -> HubResult<Vec<UserSummary>> {
    let mut out = Vec::with_capacity(names.len());
    for m in names {
        match crate::directory::user_by_name(tx, tenant, m)? {
            Some((u, _, true)) => out.push(u),
            _ => return Err(HubError::not_found("user")),
        }
    }
    Ok(out)
}

fn group_name(name: &str) -> HubResult<&str> {
    let name = name.trim();
    if name.is_empty() || name.len() > 80 {
        return Err(HubError::invalid("a group needs a name of 1-80 bytes"));
    }
    crate::directory::visible_text("name", name)?;
    Ok(name)
}

pub fn create_room(
    tx: &mut dyn Tx,
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
    let mut others: Vec<UserSummary> = Vec::new();
    for u in active_users(tx, tenant, members)? {
        if u.id != creator.id && !others.iter().any(|o| o.id == u.id) {
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
            if let Some(id) = tx.direct_room(&key)? {
                return room(tx, tenant, id, creator.id)?.ok_or_else(|| HubError::internal("room vanished"));
            }
            tx.insert_room(tenant, RoomKind::Direct, "", Some(&key), now)?
        }
        RoomKind::Group => tx.insert_room(tenant, RoomKind::Group, group_name(name)?, None, now)?,
    };
    add_member(tx, emits, tenant, room_id, creator)?;
    if kind == RoomKind::Group {
        tx.set_admin(room_id, creator.id, true)?;
    }
    for o in &others {
        add_member(tx, emits, tenant, room_id, o)?;
    }
    let mut all: Vec<UserId> = vec![creator.id];
    all.extend(others.iter().map(|o| o.id));
    announce_room(tx, emits, tenant, room_id, &all)?;
    room(tx, tenant, room_id, creator.id)?.ok_or_else(|| HubError::internal("room vanished"))
}

/// Creates a group room with any number of members at once (operators: announcement rooms, load tests).
/// Unlike `create_room` (≤ 100 members, one announcement per member per invite) it announces the room
/// once per member, so a room of thousands costs O(members).
pub fn create_group_bulk(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    name: &str,
    members: &[String],
) -> HubResult<Room> {
    let name = group_name(name)?;
    if members.is_empty() || members.len() > 20_000 {
        return Err(HubError::invalid("1-20000 members"));
    }
    let users = active_users(tx, tenant, members)?;
    let room_id = tx.insert_room(tenant, RoomKind::Group, name, None, now_ms())?;
    for u in &users {
        add_member(tx, emits, tenant, room_id, u)?;
    }
    // A group looks the same to every member: build it once.
    let r = room(tx, tenant, room_id, users[0].id)?.ok_or_else(|| HubError::internal("room vanished"))?;
    for u in &users {
        log::append(tx, emits, tenant, Channel::User(u.id), EventData::RoomJoined { room: r.clone() })?;
    }
    Ok(r)
}

/// `not_found` for a room of another tenant (or none), `forbidden` for a non-member.
pub fn require_member(tx: &mut dyn Tx, tenant: TenantId, room: RoomId, user: UserId) -> HubResult<()> {
    if tx.room_tenant(room)? != Some(tenant) {
        return Err(HubError::not_found("room"));
    }
    if !tx.is_member(room, user)? {
        return Err(HubError::forbidden("you are not a member of this room"));
    }
    Ok(())
}

pub fn invite(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    by: &UserSummary,
    room_id: RoomId,
    username: &str,
) -> HubResult<Room> {
    require_member(tx, tenant, room_id, by.id)?;
    let r = room_now(tx, tenant, room_id, by.id)?;
    if r.kind == RoomKind::Direct {
        return Err(HubError::invalid("direct rooms cannot take more members"));
    }
    let u = active_users(tx, tenant, &[username.to_string()])?.remove(0);
    if add_member(tx, emits, tenant, room_id, &u)? {
        announce_to_members(tx, emits, tenant, room_id)?;
    }
    room_now(tx, tenant, room_id, by.id)
}

/// Leaves a room (the caller then ends the user's subscriptions to it). A group whose last admin leaves
/// gets its longest-standing member as admin, so someone can still manage it.
pub fn leave(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    user: &UserSummary,
    room_id: RoomId,
) -> HubResult<()> {
    require_member(tx, tenant, room_id, user.id)?;
    drop_member(tx, emits, tenant, room_id, user)?;
    let is_group = tx.room_row(tenant, room_id)?.is_some_and(|r| r.kind == RoomKind::Group);
    if is_group && tx.room_admins(room_id)?.is_empty() {
        if let Some(next) = tx.member_ids_by_joining(room_id)?.first().copied() {
            tx.set_admin(room_id, next, true)?;
            announce_to_members(tx, emits, tenant, room_id)?;
        }
    }
    Ok(())
}

/// Takes `user` out of the room: a `member` event on the room, `room_left` on the user's channel.
fn drop_member(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    room_id: RoomId,
    user: &UserSummary,
) -> HubResult<()> {
    tx.delete_member(room_id, user.id)?;
    let left = EventData::Member { user: user.clone(), change: MemberChange::Left };
    log::append(tx, emits, tenant, Channel::Room(room_id), left)?;
    log::append(tx, emits, tenant, Channel::User(user.id), EventData::RoomLeft { room: room_id })?;
    Ok(())
}

/// A group `by` is an admin of: `invalid` for a direct room, `forbidden` for a member who is not an admin.
fn require_admin(tx: &mut dyn Tx, tenant: TenantId, room_id: RoomId, by: UserId) -> HubResult<()> {
    require_member(tx, tenant, room_id, by)?;
    let row = tx.room_row(tenant, room_id)?.ok_or_else(|| HubError::not_found("room"))?;
    if row.kind == RoomKind::Direct {
        return Err(HubError::invalid("a direct room has no admins"));
    }
    if !tx.room_admins(room_id)?.contains(&by) {
        return Err(HubError::forbidden("only the group's admins may do this"));
    }
    Ok(())
}

/// The user's own choices for a room they are in; their other devices hear of it through `room_joined` on
/// their `user:` channel.
pub fn set_prefs(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    user: &UserSummary,
    room_id: RoomId,
    muted: bool,
    pinned: bool,
) -> HubResult<Room> {
    require_member(tx, tenant, room_id, user.id)?;
    tx.set_member_prefs(room_id, user.id, muted, pinned)?;
    announce_room(tx, emits, tenant, room_id, &[user.id])?;
    room_now(tx, tenant, room_id, user.id)
}

/// Renames a group (its admins only); every member hears of it through `room_joined`.
pub fn rename(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    by: &UserSummary,
    room_id: RoomId,
    name: &str,
) -> HubResult<Room> {
    require_admin(tx, tenant, room_id, by.id)?;
    tx.rename_room(room_id, group_name(name)?)?;
    announce_to_members(tx, emits, tenant, room_id)?;
    room_now(tx, tenant, room_id, by.id)
}

/// Removes `username` from a group (its admins only; one leaves with `leave`). Returns the room as it is
/// now and who was removed (the caller ends their subscriptions to it).
pub fn remove(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    by: &UserSummary,
    room_id: RoomId,
    username: &str,
) -> HubResult<(Room, UserId)> {
    require_admin(tx, tenant, room_id, by.id)?;
    let gone = tx.member_named(room_id, username)?.ok_or_else(|| HubError::not_found("member"))?;
    if gone.id == by.id {
        return Err(HubError::invalid("to leave a room, use room_leave"));
    }
    drop_member(tx, emits, tenant, room_id, &gone)?;
    announce_to_members(tx, emits, tenant, room_id)?;
    let r = room_now(tx, tenant, room_id, by.id)?;
    Ok((r, gone.id))
}
