//! Tenant policies, invites, device sessions, passwords and two-factor secrets in SQLite.
use super::{enum_from, SqliteTx};
use crate::error::HubResult;
use crate::fanout::TenantId;
use crate::store::enum_str;
use crate::store::repo::{Registration, SecurityRepo, SessionRow, TotpRow};
use rusqlite::{params, OptionalExtension};
use tally_protocol::*;

impl SecurityRepo for SqliteTx<'_> {
    fn tenant_policy(&mut self, tenant: TenantId) -> HubResult<Option<(Registration, bool)>> {
        let row: Option<(String, bool)> = self
            .c
            .prepare_cached("SELECT registration, require_2fa FROM tenants WHERE id = ?1")?
            .query_row([tenant], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        row.map(|(reg, two)| Ok((enum_from("registration", &reg)?, two))).transpose()
    }

    fn set_tenant_policy(&mut self, tenant: TenantId, registration: Registration, require_2fa: bool) -> HubResult<()> {
        self.c
            .prepare_cached("UPDATE tenants SET registration = ?2, require_2fa = ?3 WHERE id = ?1")?
            .execute(params![tenant, enum_str(&registration), require_2fa])?;
        Ok(())
    }

    fn insert_invite(&mut self, hash: &str, tenant: TenantId, at: Millis, expires_at: Millis) -> HubResult<()> {
        self.c
            .prepare_cached("INSERT INTO invites (hash, tenant_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![hash, tenant, at, expires_at])?;
        Ok(())
    }

    fn invite_open(&mut self, hash: &str, tenant: TenantId, at: Millis) -> HubResult<bool> {
        let n: i64 = self
            .c
            .prepare_cached(
                "SELECT COUNT(*) FROM invites
                 WHERE hash = ?1 AND tenant_id = ?2 AND used_by IS NULL AND expires_at > ?3",
            )?
            .query_row(params![hash, tenant, at], |r| r.get(0))?;
        Ok(n == 1)
    }

    fn use_invite(&mut self, hash: &str, tenant: TenantId, user: UserId, at: Millis) -> HubResult<bool> {
        let n = self
            .c
            .prepare_cached(
                "UPDATE invites SET used_by = ?3, used_at = ?4
                 WHERE hash = ?1 AND tenant_id = ?2 AND used_by IS NULL AND expires_at > ?4",
            )?
            .execute(params![hash, tenant, user, at])?;
        Ok(n == 1)
    }

    fn insert_session(&mut self, s: &SessionRow) -> HubResult<()> {
        self.c
            .prepare_cached(
                "INSERT OR REPLACE INTO sessions (family, tenant_id, user_id, device, platform, ip, created_at,
                   last_seen_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![s.family, s.tenant, s.user, s.device, s.platform, s.ip, s.created_at, s.last_seen_at])?;
        Ok(())
    }

    fn touch_session(&mut self, family: &str, ip: &str, at: Millis) -> HubResult<()> {
        self.c
            .prepare_cached("UPDATE sessions SET ip = ?2, last_seen_at = MAX(last_seen_at, ?3) WHERE family = ?1")?
            .execute(params![family, ip, at])?;
        Ok(())
    }

    fn session_created_at(&mut self, family: &str) -> HubResult<Option<Millis>> {
        Ok(self
            .c
            .prepare_cached("SELECT created_at FROM sessions WHERE family = ?1")?
            .query_row([family], |r| r.get(0))
            .optional()?)
    }

    fn sessions_of(&mut self, tenant: TenantId, user: UserId) -> HubResult<Vec<SessionRow>> {
        let mut stmt = self.c.prepare_cached(
            "SELECT family, tenant_id, user_id, device, platform, ip, created_at, last_seen_at FROM sessions s
             WHERE tenant_id = ?1 AND user_id = ?2
               AND NOT EXISTS (SELECT 1 FROM revoked_sessions r WHERE r.family = s.family)
             ORDER BY last_seen_at DESC",
        )?;
        let rows = stmt.query_map(params![tenant, user], |r| {
            Ok(SessionRow {
                family: r.get(0)?,
                tenant: r.get(1)?,
                user: r.get(2)?,
                device: r.get(3)?,
                platform: r.get(4)?,
                ip: r.get(5)?,
                created_at: r.get(6)?,
                last_seen_at: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn live_families(&mut self, tenant: TenantId, user: UserId) -> HubResult<Vec<String>> {
        let mut stmt = self.c.prepare_cached(
            "SELECT family FROM sessions WHERE tenant_id = ?1 AND user_id = ?2
             UNION SELECT family FROM refresh_tokens WHERE tenant_id = ?1 AND user_id = ?2
             EXCEPT SELECT family FROM revoked_sessions",
        )?;
        let rows = stmt.query_map(params![tenant, user], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn password_hash(&mut self, tenant: TenantId, user: UserId) -> HubResult<Option<String>> {
        Ok(self
            .c
            .prepare_cached("SELECT password_hash FROM users WHERE tenant_id = ?1 AND id = ?2")?
            .query_row(params![tenant, user], |r| r.get(0))
            .optional()?)
    }

    fn set_password_hash(&mut self, tenant: TenantId, user: UserId, hash: &str) -> HubResult<()> {
        self.c
            .prepare_cached("UPDATE users SET password_hash = ?3 WHERE tenant_id = ?1 AND id = ?2")?
            .execute(params![tenant, user, hash])?;
        Ok(())
    }

    fn totp(&mut self, tenant: TenantId, user: UserId) -> HubResult<Option<TotpRow>> {
        Ok(self
            .c
            .prepare_cached(
                "SELECT totp_secret, totp_pending, totp_last_step FROM users WHERE tenant_id = ?1 AND id = ?2",
            )?
            .query_row(params![tenant, user], |r| {
                Ok(TotpRow { secret: r.get(0)?, pending: r.get(1)?, last_step: r.get(2)? })
            })
            .optional()?)
    }

    fn set_totp_pending(&mut self, user: UserId, secret: Option<&str>) -> HubResult<()> {
        self.c.prepare_cached("UPDATE users SET totp_pending = ?2 WHERE id = ?1")?.execute(params![user, secret])?;
        Ok(())
    }

    fn set_totp_secret(&mut self, user: UserId, secret: Option<&str>, step: i64) -> HubResult<()> {
        self.c
            .prepare_cached(
                "UPDATE users SET totp_secret = ?2, totp_pending = NULL, totp_last_step = ?3 WHERE id = ?1",
            )?
            .execute(params![user, secret, step])?;
        Ok(())
    }

    fn advance_totp_step(&mut self, user: UserId, step: i64) -> HubResult<bool> {
        let n = self
            .c
            .prepare_cached("UPDATE users SET totp_last_step = ?2 WHERE id = ?1 AND totp_last_step < ?2")?
            .execute(params![user, step])?;
        Ok(n == 1)
    }

    fn replace_recovery_codes(&mut self, user: UserId, hashes: &[String]) -> HubResult<()> {
        self.c.prepare_cached("DELETE FROM recovery_codes WHERE user_id = ?1")?.execute([user])?;
        let mut ins = self.c.prepare_cached("INSERT INTO recovery_codes (user_id, hash) VALUES (?1, ?2)")?;
        for h in hashes {
            ins.execute(params![user, h])?;
        }
        Ok(())
    }

    fn use_recovery_code(&mut self, user: UserId, hash: &str, at: Millis) -> HubResult<bool> {
        let n = self
            .c
            .prepare_cached(
                "UPDATE recovery_codes SET used_at = ?3 WHERE user_id = ?1 AND hash = ?2 AND used_at IS NULL",
            )?
            .execute(params![user, hash, at])?;
        Ok(n == 1)
    }

    fn recovery_codes_left(&mut self, user: UserId) -> HubResult<u32> {
        Ok(self
            .c
            .prepare_cached("SELECT COUNT(*) FROM recovery_codes WHERE user_id = ?1 AND used_at IS NULL")?
            .query_row([user], |r| r.get(0))?)
    }
}
