//! Tenants, users and refresh tokens in SQLite.
use super::{enum_from, SqliteTx};
use crate::error::HubResult;
use crate::fanout::TenantId;
use crate::store::enum_str;
use crate::store::repo::{AuthRepo, NewRefresh, NewUser, RefreshRow};
use rusqlite::{params, OptionalExtension};
use tally_protocol::*;

fn summary(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserSummary> {
    Ok(UserSummary { id: r.get(0)?, username: r.get(1)?, display_name: r.get(2)? })
}

impl AuthRepo for SqliteTx<'_> {
    fn tenant_id(&mut self, name: &str) -> HubResult<Option<TenantId>> {
        Ok(self
            .c
            .prepare_cached("SELECT id FROM tenants WHERE name = ?1")?
            .query_row([name], |r| r.get(0))
            .optional()?)
    }

    fn insert_tenant(&mut self, name: &str, at: Millis) -> HubResult<()> {
        self.c
            .prepare_cached("INSERT OR IGNORE INTO tenants (name, created_at) VALUES (?1, ?2)")?
            .execute(params![name, at])?;
        Ok(())
    }

    fn insert_user(&mut self, u: &NewUser<'_>) -> HubResult<Option<UserId>> {
        let n = self
            .c
            .prepare_cached(
                "INSERT OR IGNORE INTO users (tenant_id, username, display_name, password_hash, limit_single,
                   limit_daily, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![u.tenant, u.username, u.display_name, u.password_hash, u.limits.0, u.limits.1, u.at])?;
        Ok((n > 0).then(|| self.c.last_insert_rowid()))
    }

    fn user_by_name(&mut self, tenant: TenantId, username: &str) -> HubResult<Option<(UserSummary, String, bool)>> {
        Ok(self
            .c
            .prepare_cached(
                "SELECT id, username, display_name, password_hash, active FROM users WHERE tenant_id = ?1 AND username = ?2",
            )?
            .query_row(params![tenant, username], |r| Ok((summary(r)?, r.get(3)?, r.get(4)?)))
            .optional()?)
    }

    fn user_summary(&mut self, tenant: TenantId, id: UserId) -> HubResult<Option<UserSummary>> {
        Ok(self
            .c
            .prepare_cached("SELECT id, username, display_name FROM users WHERE tenant_id = ?1 AND id = ?2")?
            .query_row(params![tenant, id], summary)
            .optional()?)
    }

    fn user_active(&mut self, user: UserId) -> HubResult<Option<bool>> {
        Ok(self
            .c
            .prepare_cached("SELECT active FROM users WHERE id = ?1")?
            .query_row([user], |r| r.get(0))
            .optional()?)
    }

    fn user_active_in(&mut self, tenant: TenantId, user: UserId) -> HubResult<Option<bool>> {
        Ok(self
            .c
            .prepare_cached("SELECT active FROM users WHERE tenant_id = ?1 AND id = ?2")?
            .query_row(params![tenant, user], |r| r.get(0))
            .optional()?)
    }

    fn presence(&mut self, tenant: TenantId, user: UserId) -> HubResult<Option<(PresenceStatus, Option<Millis>)>> {
        let row: Option<(String, Option<i64>)> = self
            .c
            .prepare_cached("SELECT presence, last_seen FROM users WHERE tenant_id = ?1 AND id = ?2")?
            .query_row(params![tenant, user], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        match row {
            Some((status, last_seen)) => Ok(Some((enum_from("presence", &status)?, last_seen))),
            None => Ok(None),
        }
    }

    fn set_presence(&mut self, tenant: TenantId, user: UserId, status: PresenceStatus) -> HubResult<()> {
        self.c.prepare_cached("UPDATE users SET presence = ?3 WHERE tenant_id = ?1 AND id = ?2")?.execute(params![
            tenant,
            user,
            enum_str(&status)
        ])?;
        Ok(())
    }

    fn set_last_seen(&mut self, tenant: TenantId, user: UserId, at: Millis) -> HubResult<()> {
        self.c
            .prepare_cached(
                "UPDATE users SET last_seen = MAX(COALESCE(last_seen, 0), ?3) WHERE tenant_id = ?1 AND id = ?2",
            )?
            .execute(params![tenant, user, at])?;
        Ok(())
    }

    fn transfer_limits(&mut self, tenant: TenantId, user: UserId) -> HubResult<Option<(i64, i64)>> {
        Ok(self
            .c
            .prepare_cached("SELECT limit_single, limit_daily FROM users WHERE tenant_id = ?1 AND id = ?2")?
            .query_row(params![tenant, user], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    fn contacts(&mut self, tenant: TenantId, user: UserId, limit: u32) -> HubResult<Vec<UserSummary>> {
        let mut stmt = self.c.prepare_cached(
            "SELECT id, username, display_name FROM users WHERE tenant_id = ?1 AND id != ?2 AND active = 1
             ORDER BY display_name LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![tenant, user, limit], summary)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    fn insert_refresh(&mut self, r: &NewRefresh<'_>) -> HubResult<()> {
        self.c
            .prepare_cached(
                "INSERT INTO refresh_tokens (hash, family, user_id, tenant_id, expires_at, created_at, parent)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![r.hash, r.family, r.user, r.tenant, r.expires_at, r.at, r.parent])?;
        Ok(())
    }

    fn refresh_row(&mut self, hash: &str) -> HubResult<Option<RefreshRow>> {
        Ok(self
            .c
            .prepare_cached(
                "SELECT family, user_id, tenant_id, expires_at, used, used_at FROM refresh_tokens WHERE hash = ?1",
            )?
            .query_row([hash], |r| {
                Ok(RefreshRow {
                    family: r.get(0)?,
                    user: r.get(1)?,
                    tenant: r.get(2)?,
                    expires_at: r.get(3)?,
                    used: r.get(4)?,
                    used_at: r.get(5)?,
                })
            })
            .optional()?)
    }

    fn mark_refresh_used(&mut self, hash: &str, at: Millis) -> HubResult<bool> {
        let n = self
            .c
            .prepare_cached("UPDATE refresh_tokens SET used = 1, used_at = ?2 WHERE hash = ?1 AND used = 0")?
            .execute(params![hash, at])?;
        Ok(n == 1)
    }

    fn mark_refresh_regranted(&mut self, hash: &str) -> HubResult<bool> {
        let n = self
            .c
            .prepare_cached("UPDATE refresh_tokens SET regranted = 1 WHERE hash = ?1 AND regranted = 0")?
            .execute([hash])?;
        Ok(n == 1)
    }

    fn set_user_active(&mut self, tenant: TenantId, user: UserId, active: bool) -> HubResult<bool> {
        let n = self
            .c
            .prepare_cached("UPDATE users SET active = ?3 WHERE tenant_id = ?1 AND id = ?2")?
            .execute(params![tenant, user, active])?;
        Ok(n == 1)
    }

    fn successor_used(&mut self, hash: &str) -> HubResult<bool> {
        Ok(self
            .c
            .prepare_cached("SELECT COALESCE(MAX(used), 0) FROM refresh_tokens WHERE parent = ?1")?
            .query_row([hash], |r| r.get(0))?)
    }

    fn refresh_family(&mut self, hash: &str) -> HubResult<Option<String>> {
        Ok(self
            .c
            .prepare_cached("SELECT family FROM refresh_tokens WHERE hash = ?1")?
            .query_row([hash], |r| r.get(0))
            .optional()?)
    }

    fn revoke_family(&mut self, family: &str, at: Millis) -> HubResult<()> {
        self.c
            .prepare_cached("INSERT OR IGNORE INTO revoked_sessions (family, revoked_at) VALUES (?1, ?2)")?
            .execute(params![family, at])?;
        self.c.prepare_cached("DELETE FROM refresh_tokens WHERE family = ?1")?.execute([family])?;
        Ok(())
    }

    fn is_revoked(&mut self, family: &str) -> HubResult<bool> {
        Ok(self
            .c
            .prepare_cached("SELECT 1 FROM revoked_sessions WHERE family = ?1")?
            .query_row([family], |_| Ok(()))
            .optional()?
            .is_some())
    }
}
