//! Notifications: persisted per user, each one a durable event on `notifications:{user}`.
use crate::error::HubResult;
use crate::ids::TenantId;
use crate::log;
use crate::store::repo::NewNotification;
use crate::store::{now_ms, Emits, Tx};
use tally_protocol::*;

/// A notification to raise.
pub struct New<'a> {
    pub tenant: TenantId,
    pub user: UserId,
    pub kind: NotificationKind,
    pub priority: Priority,
    pub title: &'a str,
    pub body: &'a str,
    pub target: Option<NotificationTarget>,
    /// What title and body say, as data for the app to word in its reader's language.
    pub text: Option<NotificationText>,
}

pub fn create(tx: &mut dyn Tx, emits: &mut Emits, n: New<'_>) -> HubResult<Notification> {
    let New { tenant, user, kind, priority, title, body, target, text } = n;
    let at = now_ms();
    let row =
        NewNotification { tenant, user, kind, priority, title, body, target: target.as_ref(), text: text.as_ref(), at };
    let id = tx.insert_notification(&row)?;
    let n = Notification {
        id,
        kind,
        priority,
        title: title.into(),
        body: body.into(),
        target,
        text,
        read: false,
        created_at: at,
    };
    log::append(tx, emits, tenant, Channel::Notifications(user), EventData::Notification { notification: n.clone() })?;
    Ok(n)
}

/// A page of a user's notifications, newest first, with ids below `before` (at most `MAX_SNAPSHOT_PAGE`).
pub fn page(
    tx: &mut dyn Tx,
    tenant: TenantId,
    user: UserId,
    before: Option<NotificationId>,
    limit: u32,
) -> HubResult<(Vec<Notification>, u32, Option<NotificationId>)> {
    let limit = limit.clamp(1, MAX_SNAPSHOT_PAGE);
    let mut out = tx.notifications_before(tenant, user, before.unwrap_or(i64::MAX), limit + 1)?;
    let next = if out.len() > limit as usize {
        out.truncate(limit as usize);
        out.last().map(|n| n.id)
    } else {
        None
    };
    Ok((out, tx.unread_count(tenant, user)?, next))
}

pub fn unread(tx: &mut dyn Tx, tenant: TenantId, user: UserId) -> HubResult<u32> {
    tx.unread_count(tenant, user)
}

pub fn count(tx: &mut dyn Tx, tenant: TenantId, user: UserId) -> HubResult<u64> {
    tx.notification_count(tenant, user)
}

/// Notifications created or changed (read) after `since`, oldest change first, and the next cursor.
pub fn changes(
    tx: &mut dyn Tx,
    tenant: TenantId,
    user: UserId,
    since: ChangeCursor,
    limit: u32,
) -> HubResult<(Vec<Notification>, Option<ChangeCursor>)> {
    let limit = limit.clamp(1, MAX_SNAPSHOT_PAGE);
    let mut rows = tx.notifications_changed(tenant, user, since, limit + 1)?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next = if more { rows.last().map(|(n, at)| ChangeCursor { updated_at: *at, id: n.id }) } else { None };
    Ok((rows.into_iter().map(|(n, _)| n).collect(), next))
}

/// Marks some (or all) of a user's notifications read; emits one event when anything changed.
pub fn mark_read(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    user: UserId,
    ids: Option<&[NotificationId]>,
) -> HubResult<()> {
    let at = now_ms();
    let data = match ids {
        Some(ids) => {
            let mut changed = Vec::new();
            for id in ids.iter().take(1000) {
                if tx.mark_notification_read(tenant, user, *id, at)? {
                    changed.push(*id);
                }
            }
            if changed.is_empty() {
                return Ok(());
            }
            EventData::NotificationsRead { ids: changed, all: false }
        }
        None => {
            if tx.mark_all_notifications_read(tenant, user, at)? == 0 {
                return Ok(());
            }
            EventData::NotificationsRead { ids: vec![], all: true }
        }
    };
    log::append(tx, emits, tenant, Channel::Notifications(user), data)?;
    Ok(())
}

/// A tenant-wide announcement: a `system` event on `broadcast` and a notification for every user.
pub fn broadcast(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    title: &str,
    body: &str,
    priority: Priority,
) -> HubResult<()> {
    let system = EventData::System { title: title.into(), body: body.into(), priority };
    log::append(tx, emits, tenant, Channel::Broadcast, system)?;
    for user in tx.active_user_ids(tenant)? {
        let kind = NotificationKind::System;
        create(tx, emits, New { tenant, user, kind, priority, title, body, target: None, text: None })?;
    }
    Ok(())
}
