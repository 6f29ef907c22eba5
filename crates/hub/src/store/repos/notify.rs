//! Notifications: kind and priority stored by their protocol names, the target and the text as JSON.
use crate::error::{HubError, HubResult};
use crate::ids::TenantId;
use crate::store::enum_str;
use crate::store::repo::{NewNotification, NotifyRepo};
use crate::store::sql::{args, enum_from, unreadable, Db, Row};
use tally_protocol::*;

const COLS: &str = "id, kind, priority, title, body, target, read, created_at, updated_at, text_json";

fn notification(r: &Row) -> HubResult<(Notification, Millis)> {
    let target = match r.get::<Option<String>>(5)? {
        Some(s) => Some(serde_json::from_str(&s).map_err(|_| unreadable("notification target", &s))?),
        None => None,
    };
    let text = match r.get::<Option<String>>(9)? {
        Some(s) => Some(serde_json::from_str(&s).map_err(|_| unreadable("notification text", &s))?),
        None => None,
    };
    let n = Notification {
        id: r.get(0)?,
        kind: enum_from("notification kind", r.text(1)?)?,
        priority: enum_from("priority", r.text(2)?)?,
        title: r.get(3)?,
        body: r.get(4)?,
        target,
        text,
        read: r.get(6)?,
        created_at: r.get(7)?,
    };
    Ok((n, r.get(8)?))
}

impl<D: Db> NotifyRepo for D {
    fn insert_notification(&mut self, n: &NewNotification<'_>) -> HubResult<NotificationId> {
        let target = match n.target {
            Some(t) => Some(serde_json::to_string(t).map_err(HubError::internal)?),
            None => None,
        };
        let text = match n.text {
            Some(t) => Some(serde_json::to_string(t).map_err(HubError::internal)?),
            None => None,
        };
        let (kind, priority) = (enum_str(&n.kind), enum_str(&n.priority));
        self.insert_id(
            "INSERT INTO notifications (tenant_id, user_id, kind, priority, title, body, target, read, created_at,
               updated_at, text_json) VALUES ($1, $2, $3, $4, $5, $6, $7, FALSE, $8, $8, $9) RETURNING id",
            args![n.tenant, n.user, &kind, &priority, n.title, n.body, target.as_ref(), n.at, text.as_ref()],
        )
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
        let rows = self.rows(&sql, args![user, tenant, before, i64::from(limit)])?;
        rows.iter().map(|r| notification(r).map(|(n, _)| n)).collect()
    }

    fn unread_count(&mut self, tenant: TenantId, user: UserId) -> HubResult<u32> {
        self.value(
            "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND tenant_id = $2 AND NOT read",
            args![user, tenant],
        )
    }

    fn notification_count(&mut self, tenant: TenantId, user: UserId) -> HubResult<u64> {
        self.value("SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND tenant_id = $2", args![user, tenant])
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
        let rows = self.rows(&sql, args![user, tenant, since.updated_at, since.id, i64::from(limit)])?;
        rows.iter().map(notification).collect()
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
            args![id, user, tenant, at],
        )?;
        Ok(n == 1)
    }

    fn mark_all_notifications_read(&mut self, tenant: TenantId, user: UserId, at: Millis) -> HubResult<usize> {
        let n = self.exec(
            "UPDATE notifications SET read = TRUE, updated_at = $3 WHERE user_id = $1 AND tenant_id = $2 AND NOT read",
            args![user, tenant, at],
        )?;
        Ok(n as usize)
    }

    fn active_user_ids(&mut self, tenant: TenantId) -> HubResult<Vec<UserId>> {
        self.column("SELECT id FROM users WHERE tenant_id = $1 AND active", args![tenant])
    }
}
