//! Notifications in SQLite: kind and priority stored by their protocol names, the target as JSON.
use super::{enum_from, SqliteTx};
use crate::error::HubResult;
use crate::fanout::TenantId;
use crate::store::enum_str;
use crate::store::repo::{NewNotification, NotifyRepo};
use rusqlite::params;
use tally_protocol::*;

const COLS: &str = "id, kind, priority, title, body, target, read, created_at, updated_at";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Notification, Millis)> {
    let target = match r.get::<_, Option<String>>(5)? {
        Some(s) => Some(
            serde_json::from_str(&s)
                .map_err(|e| rusqlite::Error::FromSqlConversionFailure(5, rusqlite::types::Type::Text, Box::new(e)))?,
        ),
        None => None,
    };
    let n = Notification {
        id: r.get(0)?,
        kind: enum_from("notification kind", &r.get::<_, String>(1)?)?,
        priority: enum_from("priority", &r.get::<_, String>(2)?)?,
        title: r.get(3)?,
        body: r.get(4)?,
        target,
        read: r.get(6)?,
        created_at: r.get(7)?,
    };
    Ok((n, r.get(8)?))
}

impl NotifyRepo for SqliteTx<'_> {
    fn insert_notification(&mut self, n: &NewNotification<'_>) -> HubResult<NotificationId> {
        let target = match n.target {
            Some(t) => Some(serde_json::to_string(t).map_err(crate::error::HubError::internal)?),
            None => None,
        };
        self.c
            .prepare_cached(
                "INSERT INTO notifications (tenant_id, user_id, kind, priority, title, body, target, read, created_at,
                   updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?8)",
            )?
            .execute(params![
                n.tenant,
                n.user,
                enum_str(&n.kind),
                enum_str(&n.priority),
                n.title,
                n.body,
                target,
                n.at
            ])?;
        Ok(self.c.last_insert_rowid())
    }

    fn notifications_before(
        &mut self,
        tenant: TenantId,
        user: UserId,
        before: NotificationId,
        limit: u32,
    ) -> HubResult<Vec<Notification>> {
        let mut stmt = self.c.prepare_cached(&format!(
            "SELECT {COLS} FROM notifications WHERE user_id = ?1 AND tenant_id = ?2 AND id < ?3 ORDER BY id DESC LIMIT ?4"
        ))?;
        let rows = stmt.query_map(params![user, tenant, before, limit as i64], from_row)?;
        Ok(rows.map(|r| r.map(|(n, _)| n)).collect::<Result<_, _>>()?)
    }

    fn unread_count(&mut self, tenant: TenantId, user: UserId) -> HubResult<u32> {
        Ok(self
            .c
            .prepare_cached("SELECT COUNT(*) FROM notifications WHERE user_id = ?1 AND tenant_id = ?2 AND read = 0")?
            .query_row(params![user, tenant], |r| r.get(0))?)
    }

    fn notification_count(&mut self, tenant: TenantId, user: UserId) -> HubResult<u64> {
        let n: i64 = self
            .c
            .prepare_cached("SELECT COUNT(*) FROM notifications WHERE user_id = ?1 AND tenant_id = ?2")?
            .query_row(params![user, tenant], |r| r.get(0))?;
        Ok(n as u64)
    }

    fn notifications_changed(
        &mut self,
        tenant: TenantId,
        user: UserId,
        since: ChangeCursor,
        limit: u32,
    ) -> HubResult<Vec<(Notification, Millis)>> {
        let mut stmt = self.c.prepare_cached(&format!(
            "SELECT {COLS} FROM notifications WHERE user_id = ?1 AND tenant_id = ?2 AND (updated_at, id) > (?3, ?4)
             ORDER BY updated_at, id LIMIT ?5"
        ))?;
        let rows = stmt.query_map(params![user, tenant, since.updated_at, since.id, limit as i64], from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn mark_notification_read(
        &mut self,
        tenant: TenantId,
        user: UserId,
        id: NotificationId,
        at: Millis,
    ) -> HubResult<bool> {
        let n = self
            .c
            .prepare_cached(
                "UPDATE notifications SET read = 1, updated_at = ?4
                 WHERE id = ?1 AND user_id = ?2 AND tenant_id = ?3 AND read = 0",
            )?
            .execute(params![id, user, tenant, at])?;
        Ok(n == 1)
    }

    fn mark_all_notifications_read(&mut self, tenant: TenantId, user: UserId, at: Millis) -> HubResult<usize> {
        Ok(self
            .c
            .prepare_cached(
                "UPDATE notifications SET read = 1, updated_at = ?3 WHERE user_id = ?1 AND tenant_id = ?2 AND read = 0",
            )?
            .execute(params![user, tenant, at])?)
    }

    fn active_user_ids(&mut self, tenant: TenantId) -> HubResult<Vec<UserId>> {
        let mut stmt = self.c.prepare_cached("SELECT id FROM users WHERE tenant_id = ?1 AND active = 1")?;
        let rows = stmt.query_map([tenant], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
