//! Tenants, users and refresh tokens in PostgreSQL.
use super::{col, enum_from, PgTx};
use crate::error::HubResult;
use crate::fanout::TenantId;
use crate::store::enum_str;
use crate::store::repo::{AuthRepo, NewRefresh, NewUser, RefreshRow};
use postgres::{GenericClient, Row};
use tally_protocol::*;

fn summary(r: &Row) -> HubResult<UserSummary> {
    Ok(UserSummary { id: col(r, 0)?, username: col(r, 1)?, display_name: col(r, 2)? })
}

impl<C: GenericClient> AuthRepo for PgTx<'_, C> {
    fn tenant_id(&mut self, name: &str) -> HubResult<Option<TenantId>> {
        Ok(self.opt("SELECT id FROM tenants WHERE name = $1", &[&name])?.map(|r| col(&r, 0)).transpose()?.map(TenantId))
    }

    fn insert_tenant(&mut self, name: &str, at: Millis) -> HubResult<()> {
        self.exec("INSERT INTO tenants (name, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING", &[&name, &at])?;
        Ok(())
    }

    fn insert_user(&mut self, u: &NewUser<'_>) -> HubResult<Option<UserId>> {
        let r = self.opt(
            "INSERT INTO users (tenant_id, username, display_name, password_hash, limit_single, limit_daily, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING id",
            &[&u.tenant.0, &u.username, &u.display_name, &u.password_hash, &u.limits.0, &u.limits.1, &u.at],
        )?;
        r.map(|r| col(&r, 0)).transpose()
    }

    fn user_by_name(&mut self, tenant: TenantId, username: &str) -> HubResult<Option<(UserSummary, String, bool)>> {
        let r = self.opt(
            "SELECT id, username, display_name, password_hash, active FROM users WHERE tenant_id = $1 AND username = $2",
            &[&tenant.0, &username],
        )?;
        r.map(|r| Ok((summary(&r)?, col(&r, 3)?, col(&r, 4)?))).transpose()
    }

    fn user_summary(&mut self, tenant: TenantId, id: UserId) -> HubResult<Option<UserSummary>> {
        let r = self
            .opt("SELECT id, username, display_name FROM users WHERE tenant_id = $1 AND id = $2", &[&tenant.0, &id])?;
        r.map(|r| summary(&r)).transpose()
    }

    fn user_active(&mut self, user: UserId) -> HubResult<Option<bool>> {
        self.opt("SELECT active FROM users WHERE id = $1", &[&user])?.map(|r| col(&r, 0)).transpose()
    }

    fn user_active_in(&mut self, tenant: TenantId, user: UserId) -> HubResult<Option<bool>> {
        self.opt("SELECT active FROM users WHERE tenant_id = $1 AND id = $2", &[&tenant.0, &user])?
            .map(|r| col(&r, 0))
            .transpose()
    }

    fn presence(&mut self, tenant: TenantId, user: UserId) -> HubResult<Option<(PresenceStatus, Option<Millis>)>> {
        let r =
            self.opt("SELECT presence, last_seen FROM users WHERE tenant_id = $1 AND id = $2", &[&tenant.0, &user])?;
        r.map(|r| Ok((enum_from("presence", &col::<String>(&r, 0)?)?, col(&r, 1)?))).transpose()
    }

    fn set_presence(&mut self, tenant: TenantId, user: UserId, status: PresenceStatus) -> HubResult<()> {
        self.exec(
            "UPDATE users SET presence = $3 WHERE tenant_id = $1 AND id = $2",
            &[&tenant.0, &user, &enum_str(&status)],
        )?;
        Ok(())
    }

    fn set_last_seen(&mut self, tenant: TenantId, user: UserId, at: Millis) -> HubResult<()> {
        self.exec(
            "UPDATE users SET last_seen = GREATEST(COALESCE(last_seen, 0), $3) WHERE tenant_id = $1 AND id = $2",
            &[&tenant.0, &user, &at],
        )?;
        Ok(())
    }

    fn transfer_limits(&mut self, tenant: TenantId, user: UserId) -> HubResult<Option<(i64, i64)>> {
        let r = self
            .opt("SELECT limit_single, limit_daily FROM users WHERE tenant_id = $1 AND id = $2", &[&tenant.0, &user])?;
        r.map(|r| Ok((col(&r, 0)?, col(&r, 1)?))).transpose()
    }

    fn contacts(&mut self, tenant: TenantId, user: UserId, limit: u32) -> HubResult<Vec<UserSummary>> {
        let rows = self.rows(
            "SELECT id, username, display_name FROM users WHERE tenant_id = $1 AND id != $2 AND active
             ORDER BY display_name LIMIT $3",
            &[&tenant.0, &user, &(limit as i64)],
        )?;
        rows.iter().map(summary).collect()
    }

    fn insert_refresh(&mut self, r: &NewRefresh<'_>) -> HubResult<()> {
        self.exec(
            "INSERT INTO refresh_tokens (hash, family, user_id, tenant_id, expires_at, created_at, parent)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[&r.hash, &r.family, &r.user, &r.tenant.0, &r.expires_at, &r.at, &r.parent],
        )?;
        Ok(())
    }

    fn refresh_row(&mut self, hash: &str) -> HubResult<Option<RefreshRow>> {
        let r = self.opt(
            "SELECT family, user_id, tenant_id, expires_at, used, used_at FROM refresh_tokens WHERE hash = $1",
            &[&hash],
        )?;
        r.map(|r| {
            Ok(RefreshRow {
                family: col(&r, 0)?,
                user: col(&r, 1)?,
                tenant: TenantId(col(&r, 2)?),
                expires_at: col(&r, 3)?,
                used: col(&r, 4)?,
                used_at: col(&r, 5)?,
            })
        })
        .transpose()
    }

    fn mark_refresh_used(&mut self, hash: &str, at: Millis) -> HubResult<bool> {
        // At READ COMMITTED a second hub's UPDATE waits for the first one's commit, then finds `used` set.
        let n = self
            .exec("UPDATE refresh_tokens SET used = TRUE, used_at = $2 WHERE hash = $1 AND NOT used", &[&hash, &at])?;
        Ok(n == 1)
    }

    fn mark_refresh_regranted(&mut self, hash: &str) -> HubResult<bool> {
        let n = self.exec("UPDATE refresh_tokens SET regranted = TRUE WHERE hash = $1 AND NOT regranted", &[&hash])?;
        Ok(n == 1)
    }

    fn set_user_active(&mut self, tenant: TenantId, user: UserId, active: bool) -> HubResult<bool> {
        let n =
            self.exec("UPDATE users SET active = $3 WHERE tenant_id = $1 AND id = $2", &[&tenant.0, &user, &active])?;
        Ok(n == 1)
    }

    fn successor_used(&mut self, hash: &str) -> HubResult<bool> {
        let r = self.one("SELECT COALESCE(BOOL_OR(used), FALSE) FROM refresh_tokens WHERE parent = $1", &[&hash])?;
        col(&r, 0)
    }

    fn refresh_family(&mut self, hash: &str) -> HubResult<Option<String>> {
        self.opt("SELECT family FROM refresh_tokens WHERE hash = $1", &[&hash])?.map(|r| col(&r, 0)).transpose()
    }

    fn revoke_family(&mut self, family: &str, at: Millis) -> HubResult<()> {
        self.exec(
            "INSERT INTO revoked_sessions (family, revoked_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&family, &at],
        )?;
        self.exec("DELETE FROM refresh_tokens WHERE family = $1", &[&family])?;
        Ok(())
    }

    fn is_revoked(&mut self, family: &str) -> HubResult<bool> {
        Ok(self.opt("SELECT 1 FROM revoked_sessions WHERE family = $1", &[&family])?.is_some())
    }
}
