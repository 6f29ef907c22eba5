//! Notifications: persisted per user, each one a durable event on `notifications:{user}`.
use crate::error::HubResult;
use crate::fanout::TenantId;
use crate::log;
use crate::store::{now_ms, Emits};
use rusqlite::{params, Connection};
use tally_protocol::*;

fn kind_str(k: NotificationKind) -> String {
    serde_json::to_value(k).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_else(|| "system".into())
}
fn prio_str(p: Priority) -> String {
    serde_json::to_value(p).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_else(|| "normal".into())
}

#[allow(clippy::too_many_arguments)]
pub fn create(
    conn: &Connection,
    emits: &mut Emits,
    tenant: TenantId,
    user: i64,
    kind: NotificationKind,
    priority: Priority,
    title: &str,
    body: &str,
    target: Option<NotificationTarget>,
) -> HubResult<Notification> {
    let now = now_ms();
    let target_json = target.as_ref().map(|t| serde_json::to_string(t).unwrap_or_default());
    conn.prepare_cached("INSERT INTO notifications (tenant_id, user_id, kind, priority, title, body, target, read, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8)")?.execute(params![tenant, user, kind_str(kind), prio_str(priority), title, body, target_json, now],
    )?;
    let n = Notification {
        id: conn.last_insert_rowid(),
        kind,
        priority,
        title: title.into(),
        body: body.into(),
        target,
        read: false,
        created_at: now,
    };
    log::append(
        conn,
        emits,
        tenant,
        Channel::Notifications(user),
        EventData::Notification { notification: n.clone() },
    )?;
    Ok(n)
}

pub fn page(
    conn: &Connection,
    tenant: TenantId,
    user: i64,
    before: Option<NotificationId>,
    limit: u32,
) -> HubResult<(Vec<Notification>, u32, Option<NotificationId>)> {
    let limit = limit.clamp(1, 100);
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, priority, title, body, target, read, created_at FROM notifications
         WHERE user_id = ?1 AND tenant_id = ?2 AND id < ?3 ORDER BY id DESC LIMIT ?4",
    )?;
    let rows = stmt.query_map(params![user, tenant, before.unwrap_or(i64::MAX), limit as i64 + 1], |r| {
        Ok(Notification {
            id: r.get(0)?,
            kind: serde_json::from_value(serde_json::Value::String(r.get(1)?)).unwrap_or(NotificationKind::System),
            priority: serde_json::from_value(serde_json::Value::String(r.get(2)?)).unwrap_or(Priority::Normal),
            title: r.get(3)?,
            body: r.get(4)?,
            target: r.get::<_, Option<String>>(5)?.and_then(|s| serde_json::from_str(&s).ok()),
            read: r.get(6)?,
            created_at: r.get(7)?,
        })
    })?;
    let mut out: Vec<Notification> = rows.collect::<Result<_, _>>()?;
    let next = if out.len() > limit as usize {
        out.truncate(limit as usize);
        out.last().map(|n| n.id)
    } else {
        None
    };
    let unread: u32 = conn
        .prepare_cached("SELECT COUNT(*) FROM notifications WHERE user_id = ?1 AND tenant_id = ?2 AND read = 0")?
        .query_row(params![user, tenant], |r| r.get(0))?;
    Ok((out, unread, next))
}

/// Marks some (or all) of a user's notifications read; emits one event when anything changed.
pub fn mark_read(
    conn: &Connection,
    emits: &mut Emits,
    tenant: TenantId,
    user: i64,
    ids: Option<&[NotificationId]>,
) -> HubResult<()> {
    let changed: Vec<i64> = match ids {
        Some(ids) => {
            let mut changed = Vec::new();
            for id in ids.iter().take(1000) {
                if conn.prepare_cached("UPDATE notifications SET read = 1 WHERE id = ?1 AND user_id = ?2 AND tenant_id = ?3 AND read = 0")?.execute(params![id, user, tenant],
                )? == 1
                {
                    changed.push(*id);
                }
            }
            changed
        }
        None => {
            let n = conn
                .prepare_cached("UPDATE notifications SET read = 1 WHERE user_id = ?1 AND tenant_id = ?2 AND read = 0")?
                .execute(params![user, tenant])?;
            if n == 0 {
                return Ok(());
            }
            log::append(
                conn,
                emits,
                tenant,
                Channel::Notifications(user),
                EventData::NotificationsRead { ids: vec![], all: true },
            )?;
            return Ok(());
        }
    };
    if !changed.is_empty() {
        log::append(
            conn,
            emits,
            tenant,
            Channel::Notifications(user),
            EventData::NotificationsRead { ids: changed, all: false },
        )?;
    }
    Ok(())
}

/// A tenant-wide announcement: a `system` event on `broadcast` and a notification for every user.
pub fn broadcast(
    conn: &Connection,
    emits: &mut Emits,
    tenant: TenantId,
    title: &str,
    body: &str,
    priority: Priority,
) -> HubResult<()> {
    log::append(
        conn,
        emits,
        tenant,
        Channel::Broadcast,
        EventData::System { title: title.into(), body: body.into(), priority },
    )?;
    let users: Vec<i64> = {
        let mut stmt = conn.prepare("SELECT id FROM users WHERE tenant_id = ?1 AND active = 1")?;
        let rows = stmt.query_map([tenant], |r| r.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    for u in users {
        create(conn, emits, tenant, u, NotificationKind::System, priority, title, body, None)?;
    }
    Ok(())
}
