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
    conn.prepare_cached("INSERT INTO notifications (tenant_id, user_id, kind, priority, title, body, target, read, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?8)")?.execute(params![tenant, user, kind_str(kind), prio_str(priority), title, body, target_json, now],
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

const COLS: &str = "id, kind, priority, title, body, target, read, created_at, updated_at";

/// A stored enum this hub cannot read: a typed storage error, never a silent default.
fn parse<T: serde::de::DeserializeOwned>(what: &str, s: String) -> rusqlite::Result<T> {
    serde_json::from_value(serde_json::Value::String(s.clone())).map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("unreadable {what} {s:?}").into(),
        )
    })
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Notification, i64)> {
    let target = match r.get::<_, Option<String>>(5)? {
        Some(s) => Some(
            serde_json::from_str(&s)
                .map_err(|e| rusqlite::Error::FromSqlConversionFailure(5, rusqlite::types::Type::Text, Box::new(e)))?,
        ),
        None => None,
    };
    let n = Notification {
        id: r.get(0)?,
        kind: parse("notification kind", r.get(1)?)?,
        priority: parse("priority", r.get(2)?)?,
        title: r.get(3)?,
        body: r.get(4)?,
        target,
        read: r.get(6)?,
        created_at: r.get(7)?,
    };
    Ok((n, r.get(8)?))
}

/// A page of a user's notifications, newest first, with ids below `before` (at most `MAX_SNAPSHOT_PAGE`).
pub fn page(
    conn: &Connection,
    tenant: TenantId,
    user: i64,
    before: Option<NotificationId>,
    limit: u32,
) -> HubResult<(Vec<Notification>, u32, Option<NotificationId>)> {
    let limit = limit.clamp(1, MAX_SNAPSHOT_PAGE);
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM notifications WHERE user_id = ?1 AND tenant_id = ?2 AND id < ?3 ORDER BY id DESC LIMIT ?4"
    ))?;
    let rows = stmt.query_map(params![user, tenant, before.unwrap_or(i64::MAX), limit as i64 + 1], from_row)?;
    let mut out: Vec<Notification> = rows.map(|r| r.map(|(n, _)| n)).collect::<Result<_, _>>()?;
    let next = if out.len() > limit as usize {
        out.truncate(limit as usize);
        out.last().map(|n| n.id)
    } else {
        None
    };
    Ok((out, unread(conn, tenant, user)?, next))
}

pub fn unread(conn: &Connection, tenant: TenantId, user: i64) -> HubResult<u32> {
    Ok(conn
        .prepare_cached("SELECT COUNT(*) FROM notifications WHERE user_id = ?1 AND tenant_id = ?2 AND read = 0")?
        .query_row(params![user, tenant], |r| r.get(0))?)
}

pub fn count(conn: &Connection, tenant: TenantId, user: i64) -> HubResult<u64> {
    let n: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM notifications WHERE user_id = ?1 AND tenant_id = ?2")?
        .query_row(params![user, tenant], |r| r.get(0))?;
    Ok(n as u64)
}

/// Notifications created or changed (read) after `since`, oldest change first, and the next cursor.
pub fn changes(
    conn: &Connection,
    tenant: TenantId,
    user: i64,
    since: ChangeCursor,
    limit: u32,
) -> HubResult<(Vec<Notification>, Option<ChangeCursor>)> {
    let limit = limit.clamp(1, MAX_SNAPSHOT_PAGE);
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM notifications WHERE user_id = ?1 AND tenant_id = ?2 AND (updated_at, id) > (?3, ?4)
         ORDER BY updated_at, id LIMIT ?5"
    ))?;
    let rows = stmt.query_map(params![user, tenant, since.updated_at, since.id, limit as i64 + 1], from_row)?;
    let mut rows: Vec<(Notification, i64)> = rows.collect::<Result<_, _>>()?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next = if more { rows.last().map(|(n, at)| ChangeCursor { updated_at: *at, id: n.id }) } else { None };
    Ok((rows.into_iter().map(|(n, _)| n).collect(), next))
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
                if conn.prepare_cached("UPDATE notifications SET read = 1, updated_at = ?4 WHERE id = ?1 AND user_id = ?2 AND tenant_id = ?3 AND read = 0")?.execute(params![id, user, tenant, now_ms()],
                )? == 1
                {
                    changed.push(*id);
                }
            }
            changed
        }
        None => {
            let n = conn
                .prepare_cached("UPDATE notifications SET read = 1, updated_at = ?3 WHERE user_id = ?1 AND tenant_id = ?2 AND read = 0")?
                .execute(params![user, tenant, now_ms()])?;
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
