//! Notifications in PostgreSQL.
use super::{col, enum_from, PgTx};
use crate::error::{HubError, HubResult};
use crate::fanout::TenantId;
use crate::store::enum_str;
use crate::store::repo::{NewNotification, NotifyRepo};
use postgres::{GenericClient, Row};
use tally_protocol::*;

const COLS: &str = "id, kind, priority, title, body, target, read, created_at, updated_at";

fn from_row(r: &Row) -> HubResult<(Notification, Millis)> {
    let target = match col::<Option<String>>(r, 5)? {
        Some(s) => Some(serde_json::from_str(&s).map_err(|e| HubError::internal(format!("unreadable target: {e}")))?),
        None => None,
    };
    let n = Notification {
        id: col(r, 0)?,
        kind: enum_from("notification kind", &col::<String>(r, 1)?)?,
        priority: enum_from("priority", &col::<String>(r, 2)?)?,
        title: col(r, 3)?,
        body: col(r, 4)?,
        target,
        read: col(r, 6)?,
        created_at: col(r, 7)?,
    };
    Ok((n, col(r, 8)?))
}

impl<C: GenericClient> NotifyRepo for PgTx<'_, C> {
    fn insert_notification(&mut self, n: &NewNotification<'_>) -> HubResult<NotificationId> {
        let target = match n.target {
            Some(t) => Some(serde_json::to_string(t).map_err(HubError::internal)?),
            None => None,
        };
        let r = self.one(
            "INSERT INTO notifications (tenant_id, user_id, kind, priority, title, body, target, read, created_at,
               updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, FALSE, $8, $8) RETURNING id",
            &[&n.tenant.0, &n.user, &enum_str(&n.kind), &enum_str(&n.priority), &n.title, &n.body, &target, &n.at],
        )?;
        col(&r, 0)
    }

    fn notifications_before(
        &mut self,
        tenant: TenantId,
        user: UserId,
        before: NotificationId,
        limit: u32,
    ) -> HubResult<Vec<Notification>> {
        let sql = format!(
            "SELECT {COLS} FROM notifications WHERE user_id = $1 AND tenant_id = $2 AND id < $3 ORDER BY id DESC LIMIT $4"
        );
        let rows = self.rows(&sql, &[&user, &tenant.0, &before, &(limit as i64)])?;
        rows.iter().map(|r| from_row(r).map(|(n, _)| n)).collect()
    }

    fn unread_count(&mut self, tenant: TenantId, user: UserId) -> HubResult<u32> {
        let r = self.one(
            "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND tenant_id = $2 AND NOT read",
            &[&user, &tenant.0],
        )?;
        Ok(col::<i64>(&r, 0)? as u32)
    }

    fn notification_count(&mut self, tenant: TenantId, user: UserId) -> HubResult<u64> {
        let r =
            self.one("SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND tenant_id = $2", &[&user, &tenant.0])?;
        Ok(col::<i64>(&r, 0)? as u64)
    }

    fn notifications_changed(
        &mut self,
        tenant: TenantId,
        user: UserId,
        since: ChangeCursor,
        limit: u32,
    ) -> HubResult<Vec<(Notification, Millis)>> {
        let sql = format!(
            "SELECT {COLS} FROM notifications WHERE user_id = $1 AND tenant_id = $2 AND (updated_at, id) > ($3, $4)
             ORDER BY updated_at, id LIMIT $5"
        );
        let rows = self.rows(&sql, &[&user, &tenant.0, &since.updated_at, &since.id, &(limit as i64)])?;
        rows.iter().map(from_row).collect()
    }

    fn mark_notification_read(
        &mut self,
        tenant: TenantId,
        user: UserId,
        id: NotificationId,
        at: Millis,
    ) -> HubResult<bool> {
        let n = self.exec(
            "UPDATE notifications SET read = TRUE, updated_at = $4
             WHERE id = $1 AND user_id = $2 AND tenant_id = $3 AND NOT read",
            &[&id, &user, &tenant.0, &at],
        )?;
        Ok(n == 1)
    }

    fn mark_all_notifications_read(&mut self, tenant: TenantId, user: UserId, at: Millis) -> HubResult<usize> {
        let n = self.exec(
            "UPDATE notifications SET read = TRUE, updated_at = $3 WHERE user_id = $1 AND tenant_id = $2 AND NOT read",
            &[&user, &tenant.0, &at],
        )?;
        Ok(n as usize)
    }

    fn active_user_ids(&mut self, tenant: TenantId) -> HubResult<Vec<UserId>> {
        let rows = self.rows("SELECT id FROM users WHERE tenant_id = $1 AND active", &[&tenant.0])?;
        rows.iter().map(|r| col(r, 0)).collect()
    }
}
