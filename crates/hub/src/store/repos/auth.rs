//! Tenants, users and refresh tokens.
use crate::error::HubResult;
use crate::ids::TenantId;
use crate::store::enum_str;
use crate::store::repo::{AuthRepo, NewRefresh, NewUser, RefreshRow};
use crate::store::sql::{args, enum_from, Db, Row};
use tally_protocol::*;

fn summary(r: &Row) -> HubResult<UserSummary> {
    Ok(UserSummary { id: r.get(0)?, username: r.get(1)?, display_name: r.get(2)? })
}

impl<D: Db> AuthRepo for D {
    fn tenant_id(&mut self, name: &str) -> HubResult<Option<TenantId>> {
        self.opt("SELECT id FROM tenants WHERE name = $1", args![name])?.map(|r| r.get(0)).transpose()
    }

    fn insert_tenant(&mut self, name: &str, at: Millis) -> HubResult<()> {
        self.exec("INSERT INTO tenants (name, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING", args![name, at])?;
        Ok(())
    }

    fn insert_user(&mut self, u: &NewUser<'_>) -> HubResult<Option<UserId>> {
        let r = self.opt(
            "INSERT INTO users (tenant_id, username, display_name, password_hash, limit_single, limit_daily, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING id",
            args![u.tenant, u.username, u.display_name, u.password_hash, u.limits.0, u.limits.1, u.at],
        )?;
        r.map(|r| r.get(0)).transpose()
    }

    fn user_by_name(&mut self, tenant: TenantId, username: &str) -> HubResult<Option<(UserSummary, String, bool)>> {
        let r = self.opt(
            "SELECT id, username, display_name, password_hash, active FROM users WHERE tenant_id = $1 AND username = $2",
            args![tenant, username],
        )?;
        r.map(|r| Ok((summary(&r)?, r.get(3)?, r.get(4)?))).transpose()
    }

    fn search_users(&mut self, tenant: TenantId, text: &str, limit: u32) -> HubResult<Vec<UserSummary>> {
        let escaped = text.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        let pattern = format!("%{escaped}%");
        let rows = self.rows(
            "SELECT id, username, display_name FROM users WHERE tenant_id = $1
               AND (username LIKE $2 ESCAPE '\\' OR LOWER(display_name) LIKE $2 ESCAPE '\\') ORDER BY username LIMIT $3",
            args![tenant, &pattern, limit as i64],
        )?;
        rows.iter().map(summary).collect()
    }

    fn user_summary(&mut self, tenant: TenantId, id: UserId) -> HubResult<Option<UserSummary>> {
        let r = self
            .opt("SELECT id, username, display_name FROM users WHERE tenant_id = $1 AND id = $2", args![tenant, id])?;
        r.map(|r| summary(&r)).transpose()
    }

    fn user_active(&mut self, user: UserId) -> HubResult<Option<bool>> {
        self.opt("SELECT active FROM users WHERE id = $1", args![user])?.map(|r| r.get(0)).transpose()
    }

    fn user_active_in(&mut self, tenant: TenantId, user: UserId) -> HubResult<Option<bool>> {
        self.opt("SELECT active FROM users WHERE tenant_id = $1 AND id = $2", args![tenant, user])?
            .map(|r| r.get(0))
            .transpose()
    }

    fn presence(&mut self, tenant: TenantId, user: UserId) -> HubResult<Option<(PresenceStatus, Option<Millis>)>> {
        let r =
            self.opt("SELECT presence, last_seen FROM users WHERE tenant_id = $1 AND id = $2", args![tenant, user])?;
        r.map(|r| Ok((enum_from("presence", r.text(0)?)?, r.get(1)?))).transpose()
    }

    fn set_presence(&mut self, tenant: TenantId, user: UserId, status: PresenceStatus) -> HubResult<()> {
        self.exec(
            "UPDATE users SET presence = $3 WHERE tenant_id = $1 AND id = $2",
            args![tenant, user, &enum_str(&status)],
        )?;
        Ok(())
    }

    fn set_last_seen(&mut self, tenant: TenantId, user: UserId, at: Millis) -> HubResult<()> {
        self.exec(
            "UPDATE users SET last_seen = CASE WHEN COALESCE(last_seen, 0) > $3 THEN last_seen ELSE $3 END
             WHERE tenant_id = $1 AND id = $2",
            args![tenant, user, at],
        )?;
        Ok(())
    }

    fn transfer_limits(&mut self, tenant: TenantId, user: UserId) -> HubResult<Option<(i64, i64)>> {
        let r = self
            .opt("SELECT limit_single, limit_daily FROM users WHERE tenant_id = $1 AND id = $2", args![tenant, user])?;
        r.map(|r| Ok((r.get(0)?, r.get(1)?))).transpose()
    }

    fn contacts(&mut self, tenant: TenantId, user: UserId, limit: u32) -> HubResult<Vec<UserSummary>> {
        let rows = self.rows(
            "SELECT id, username, display_name FROM users WHERE tenant_id = $1 AND id != $2 AND active
             ORDER BY display_name LIMIT $3",
            args![tenant, user, limit as i64],
        )?;
        rows.iter().map(summary).collect()
    }

    fn insert_refresh(&mut self, r: &NewRefresh<'_>) -> HubResult<()> {
        self.exec(
            "INSERT INTO refresh_tokens (hash, family, user_id, tenant_id, expires_at, created_at, parent)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            args![r.hash, r.family, r.user, r.tenant, r.expires_at, r.at, r.parent],
        )?;
        Ok(())
    }

    fn refresh_row(&mut self, hash: &str) -> HubResult<Option<RefreshRow>> {
        let r = self.opt(
            "SELECT family, user_id, tenant_id, expires_at, used, used_at FROM refresh_tokens WHERE hash = $1",
            args![hash],
        )?;
        r.map(|r| {
            Ok(RefreshRow {
                family: r.get(0)?,
                user: r.get(1)?,
                tenant: r.get(2)?,
                expires_at: r.get(3)?,
                used: r.get(4)?,
                used_at: r.get(5)?,
            })
        })
        .transpose()
    }

    fn mark_refresh_used(&mut self, hash: &str, at: Millis) -> HubResult<bool> {
        // At READ COMMITTED a second hub's UPDATE waits for the first one's commit, then finds `used` set.
        let n = self.exec(
            "UPDATE refresh_tokens SET used = TRUE, used_at = $2 WHERE hash = $1 AND NOT used",
            args![hash, at],
        )?;
        Ok(n == 1)
    }

    fn mark_refresh_regranted(&mut self, hash: &str) -> HubResult<bool> {
        let n =
            self.exec("UPDATE refresh_tokens SET regranted = TRUE WHERE hash = $1 AND NOT regranted", args![hash])?;
        Ok(n == 1)
    }

    fn set_user_active(&mut self, tenant: TenantId, user: UserId, active: bool) -> HubResult<bool> {
        let n =
            self.exec("UPDATE users SET active = $3 WHERE tenant_id = $1 AND id = $2", args![tenant, user, active])?;
        Ok(n == 1)
    }

    fn successor_used(&mut self, hash: &str) -> HubResult<bool> {
        self.value("SELECT EXISTS (SELECT 1 FROM refresh_tokens WHERE parent = $1 AND used)", args![hash])
    }

    fn refresh_family(&mut self, hash: &str) -> HubResult<Option<String>> {
        self.opt("SELECT family FROM refresh_tokens WHERE hash = $1", args![hash])?.map(|r| r.get(0)).transpose()
    }

    fn revoke_family(&mut self, family: &str, at: Millis) -> HubResult<()> {
        self.exec(
            "INSERT INTO revoked_sessions (family, revoked_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            args![family, at],
        )?;
        self.exec("DELETE FROM refresh_tokens WHERE family = $1", args![family])?;
        Ok(())
    }

    fn is_revoked(&mut self, family: &str) -> HubResult<bool> {
        Ok(self.opt("SELECT 1 FROM revoked_sessions WHERE family = $1", args![family])?.is_some())
    }
}
