//! Messages: send, edit, delete, reactions, read receipts, mentions, and a room's history.
use super::rooms::{require_member, room};
use crate::error::{HubError, HubResult};
use crate::ids::TenantId;
use crate::log;
use crate::notify;
use crate::store::repo::NewMessageRow;
use crate::store::{now_ms, Emits, Tx};
use tally_protocol::*;

/// Usernames mentioned as `@name` that are members of the room (excluding the sender).
fn mentions(tx: &mut dyn Tx, room_id: RoomId, sender: UserId, text: &str) -> HubResult<Vec<UserSummary>> {
    let mut out: Vec<UserSummary> = Vec::new();
    for (i, _) in text.match_indices('@') {
        let name: String =
            text[i + 1..].chars().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')).collect();
        let name = name.trim_end_matches(['.', '-']).to_lowercase();
        if name.len() < 2 {
            continue;
        }
        if let Some(u) = tx.member_named(room_id, &name)? {
            if u.id != sender && !out.iter().any(|o| o.id == u.id) {
                out.push(u);
            }
        }
    }
    Ok(out)
}

pub fn message(tx: &mut dyn Tx, tenant: TenantId, id: MessageId) -> HubResult<Option<Message>> {
    let Some(m) = tx.message_row(tenant, id)? else { return Ok(None) };
    let sender = tx.user_summary(tenant, m.sender)?.ok_or_else(|| HubError::internal("sender missing"))?;
    let mut reactions: Vec<Reaction> = Vec::new();
    for (emoji, user) in tx.reactions(id)? {
        match reactions.iter_mut().find(|r| r.emoji == emoji) {
            Some(r) => r.users.push(user),
            None => reactions.push(Reaction { emoji, users: vec![user] }),
        }
    }
    Ok(Some(Message {
        id,
        room: m.room,
        seq: m.seq,
        client_msg_id: m.client_msg_id,
        sender,
        text: if m.deleted { String::new() } else { m.text },
        mentions: m.mentions,
        sent_at: m.sent_at,
        edited_at: m.edited_at,
        deleted: m.deleted,
        reactions,
        card: if m.deleted { None } else { m.card },
        attachment: if m.deleted { None } else { m.attachment },
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

/// A message as its sender sends it: the text (a caption when a file goes with it) and the `id` of a file
/// uploaded to the room.
pub struct Outgoing {
    pub client_msg_id: String,
    pub text: String,
    pub attachment: Option<String>,
}

impl Outgoing {
    /// A text message.
    pub fn text(client_msg_id: impl Into<String>, text: impl Into<String>) -> Outgoing {
        Outgoing { client_msg_id: client_msg_id.into(), text: text.into(), attachment: None }
    }
}

/// Posts a message; a repeat of the same `client_msg_id` by the same sender returns the stored one. A file
/// must have been uploaded to this room (`attachments::upload`); with one, the text may be empty.
pub fn send(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    sender: &UserSummary,
    room_id: RoomId,
    out: &Outgoing,
) -> HubResult<Message> {
    require_member(tx, tenant, room_id, sender.id)?;
    let (client_msg_id, text) = (out.client_msg_id.as_str(), out.text.as_str());
    if client_msg_id.is_empty() || client_msg_id.len() > 64 {
        return Err(HubError::invalid("client_msg_id must be 1-64 characters"));
    }
    if let Some(id) = tx.message_by_client_id(room_id, sender.id, client_msg_id)? {
        return message(tx, tenant, id)?.ok_or_else(|| HubError::internal("message vanished"));
    }
    let attachment = match &out.attachment {
        Some(id) => Some(tx.attachment(room_id, id)?.ok_or_else(|| HubError::not_found("attachment"))?.attachment),
        None => None,
    };
    if attachment.is_none() || !text.is_empty() {
        validate_text(text)?;
    }
    let mentioned = mentions(tx, room_id, sender.id, text)?;
    let mention_ids: Vec<UserId> = mentioned.iter().map(|u| u.id).collect();
    let body = Body { text, card: None, attachment: attachment.as_ref() };
    let msg = store_message(tx, emits, tenant, sender.id, (room_id, client_msg_id), &mention_ids, body)?;
    notify_mentions(tx, emits, tenant, sender, &msg, mentioned)?;
    Ok(msg)
}

/// What a stored message shows.
struct Body<'a> {
    text: &'a str,
    card: Option<&'a MessageCard>,
    attachment: Option<&'a Attachment>,
}

/// Stores a message, appends its event, and marks it read by its sender.
fn store_message(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    sender: UserId,
    (room_id, client_msg_id): (RoomId, &str),
    mentions: &[UserId],
    body: Body<'_>,
) -> HubResult<Message> {
    let channel = Channel::Room(room_id);
    let seq = log::next_seq(tx, tenant, &channel)?;
    let Body { text, card, attachment } = body;
    let row =
        NewMessageRow { room: room_id, seq, client_msg_id, sender, text, mentions, at: now_ms(), card, attachment };
    let id = tx.insert_message(&row)?;
    let msg = message(tx, tenant, id)?.ok_or_else(|| HubError::internal("message vanished"))?;
    let got = log::append(tx, emits, tenant, channel, EventData::Message { message: msg.clone() })?;
    debug_assert_eq!(got, seq);
    // The sender has read their own message.
    tx.raise_read_position(room_id, sender, seq)?;
    Ok(msg)
}

/// Posts a payment or a payment request in `room_id` as a card, its memo as the text. Both parties must be
/// members. Once per payment: its `client_msg_id` is `transfer:{id}` or `request:{id}`.
pub fn post_card(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    sender: &UserSummary,
    room_id: RoomId,
    card: MessageCard,
    memo: &str,
) -> HubResult<Message> {
    require_member(tx, tenant, room_id, sender.id)?;
    let (others, cmid): (Vec<UserId>, String) = match &card {
        MessageCard::Transfer { id, to, .. } => (vec![to.id], format!("transfer:{id}")),
        MessageCard::Request { id, payer, .. } => (vec![payer.id], format!("request:{id}")),
        MessageCard::Split { shares, .. } => {
            (shares.iter().map(|s| s.payer.id).collect(), format!("split:{}", shares.first().map_or(0, |s| s.request)))
        }
    };
    for other in others {
        if !tx.is_member(room_id, other)? {
            return Err(HubError::invalid("the other person is not in this conversation"));
        }
    }
    if let Some(id) = tx.message_by_client_id(room_id, sender.id, &cmid)? {
        return message(tx, tenant, id)?.ok_or_else(|| HubError::internal("message vanished"));
    }
    let body = Body { text: memo, card: Some(&card), attachment: None };
    store_message(tx, emits, tenant, sender.id, (room_id, &cmid), &[], body)
}

fn notify_mentions(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    sender: &UserSummary,
    msg: &Message,
    mentioned: Vec<UserSummary>,
) -> HubResult<()> {
    if mentioned.is_empty() {
        return Ok(());
    }
    let room_name = room(tx, tenant, msg.room, 0)?.map(|r| r.name).unwrap_or_default();
    let title = if room_name.is_empty() {
        format!("{} mentioned you", sender.display_name)
    } else {
        format!("{} mentioned you in {}", sender.display_name, room_name)
    };
    let by = sender.display_name.clone();
    let text = if room_name.is_empty() {
        NotificationText::Mentioned { by }
    } else {
        NotificationText::MentionedIn { by, room: room_name.clone() }
    };
    let preview: String = msg.text.chars().take(140).collect();
    for u in mentioned {
        let target = Some(NotificationTarget::Room { id: msg.room, message: Some(msg.id) });
        let (kind, priority) = (NotificationKind::Mention, Priority::Normal);
        let text = Some(text.clone());
        let n = notify::New { tenant, user: u.id, kind, priority, title: &title, body: &preview, target, text };
        notify::create(tx, emits, n)?;
    }
    Ok(())
}

fn own_message(tx: &mut dyn Tx, tenant: TenantId, user: UserId, room_id: RoomId, id: MessageId) -> HubResult<Message> {
    require_member(tx, tenant, room_id, user)?;
    let m = message(tx, tenant, id)?.filter(|m| m.room == room_id).ok_or_else(|| HubError::not_found("message"))?;
    if m.sender.id != user {
        return Err(HubError::forbidden("only the author can change a message"));
    }
    if m.deleted {
        return Err(HubError::not_found("message"));
    }
    Ok(m)
}

pub fn edit(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    user: UserId,
    room_id: RoomId,
    id: MessageId,
    text: &str,
) -> HubResult<()> {
    let m = own_message(tx, tenant, user, room_id, id)?;
    if m.card.is_some() {
        return Err(HubError::invalid("a payment's message cannot be edited"));
    }
    validate_text(text)?;
    if m.text == text {
        return Ok(());
    }
    let now = now_ms();
    tx.set_message_text(id, text, now)?;
    let edited = EventData::MessageEdited { message: id, text: text.into(), edited_at: now };
    log::append(tx, emits, tenant, Channel::Room(room_id), edited)?;
    Ok(())
}

pub fn delete(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    user: UserId,
    room_id: RoomId,
    id: MessageId,
) -> HubResult<()> {
    own_message(tx, tenant, user, room_id, id)?;
    tx.tombstone_message(id, now_ms())?;
    log::append(tx, emits, tenant, Channel::Room(room_id), EventData::MessageDeleted { message: id })?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub fn react(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    user: &UserSummary,
    room_id: RoomId,
    id: MessageId,
    emoji: &str,
    on: bool,
) -> HubResult<()> {
    require_member(tx, tenant, room_id, user.id)?;
    if emoji.is_empty() || emoji.len() > 32 || emoji.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(HubError::invalid("emoji must be 1-32 bytes without spaces"));
    }
    let m = message(tx, tenant, id)?
        .filter(|m| m.room == room_id && !m.deleted)
        .ok_or_else(|| HubError::not_found("message"))?;
    let now = now_ms();
    if tx.set_reaction(m.id, user.id, emoji, on, now)? {
        tx.touch_message(m.id, now)?;
        let r = EventData::Reaction { message: id, emoji: emoji.into(), user: user.clone(), on };
        log::append(tx, emits, tenant, Channel::Room(room_id), r)?;
    }
    Ok(())
}

pub fn read(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    user: &UserSummary,
    room_id: RoomId,
    up_to: u64,
) -> HubResult<()> {
    require_member(tx, tenant, room_id, user.id)?;
    let head = log::head(tx, tenant, &Channel::Room(room_id))?.map(|h| h.seq).unwrap_or(0);
    let up_to = up_to.min(head);
    if tx.raise_read_position(room_id, user.id, up_to)? {
        log::append(tx, emits, tenant, Channel::Room(room_id), EventData::Receipt { user: user.clone(), up_to })?;
    }
    Ok(())
}

/// Message history as `message` events (current state: edits applied, tombstones), newest first.
pub fn history(
    tx: &mut dyn Tx,
    tenant: TenantId,
    room_id: RoomId,
    before: Option<u64>,
    limit: u32,
) -> HubResult<(Vec<Event>, bool)> {
    let limit = limit.clamp(1, MAX_HISTORY_PAGE);
    let ids = tx.message_ids_before(room_id, before.unwrap_or(u64::MAX >> 1), limit + 1)?;
    let has_more = ids.len() > limit as usize;
    let events = message_events(tx, tenant, room_id, ids.into_iter().take(limit as usize))?;
    Ok((events, has_more))
}

/// How many messages a room holds.
pub fn message_count(tx: &mut dyn Tx, room_id: RoomId) -> HubResult<u64> {
    tx.message_count(room_id)
}

/// Messages posted or changed after `since`, oldest change first (current state), and the next cursor.
pub fn changes(
    tx: &mut dyn Tx,
    tenant: TenantId,
    room_id: RoomId,
    since: ChangeCursor,
    limit: u32,
) -> HubResult<(Vec<Event>, Option<ChangeCursor>)> {
    let limit = limit.clamp(1, MAX_HISTORY_PAGE);
    let mut rows = tx.messages_changed(room_id, since, limit + 1)?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next = if more { rows.last().map(|&(id, at)| ChangeCursor { updated_at: at, id }) } else { None };
    let events = message_events(tx, tenant, room_id, rows.into_iter().map(|(id, _)| id))?;
    Ok((events, next))
}

/// `message` events carrying the current state of these messages, in the given order.
fn message_events(
    tx: &mut dyn Tx,
    tenant: TenantId,
    room_id: RoomId,
    ids: impl Iterator<Item = MessageId>,
) -> HubResult<Vec<Event>> {
    let epoch = log::head(tx, tenant, &Channel::Room(room_id))?.map(|h| h.epoch).unwrap_or_default();
    let mut out = Vec::new();
    for id in ids {
        if let Some(m) = message(tx, tenant, id)? {
            let (seq, ts) = (m.seq, m.sent_at);
            let data = EventData::Message { message: m };
            out.push(Event { channel: Channel::Room(room_id), epoch: epoch.clone(), seq, ts, data });
        }
    }
    Ok(out)
}

/// Every member's read position in a room.
pub fn read_positions(tx: &mut dyn Tx, room_id: RoomId) -> HubResult<Vec<(UserId, u64)>> {
    tx.read_positions(room_id)
}
