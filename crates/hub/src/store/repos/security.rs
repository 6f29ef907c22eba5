//! Tenant policies, invites, device sessions, passwords and two-factor secrets.
use crate::error::HubResult;
use crate::ids::TenantId;
use crate::store::enum_str;
use crate::store::repo::{Registration, SecurityRepo, SessionRow, TotpRow};
use crate::store::sql::{args, enum_from, Db};
use tally_protocol::*;

impl<D: Db> SecurityRepo for D {
    fn tenant_policy(&mut self, tenant: TenantId) -> HubResult<Option<(Registration, bool)>> {
        let r = self.opt("SELECT registration, require_2fa FROM tenants WHERE id = $1", args![tenant])?;
        r.map(|r| Ok((enum_from("registration", r.text(0)?)?, r.get(1)?))).transpose()
    }

    fn set_tenant_policy(&mut self, tenant: TenantId, registration: Registration, require_2fa: bool) -> HubResult<()> {
        let reg = enum_str(&registration);
        self.exec(
            "UPDATE tenants SET registration = $2, require_2fa = $3 WHERE id = $1",
            args![tenant, &reg, require_2fa],
        )?;
        Ok(())
    }

    fn insert_invite(&mut self, hash: &str, tenant: TenantId, at: Millis, expires_at: Millis) -> HubResult<()> {
        self.exec(
            "INSERT INTO invites (hash, tenant_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
            args![hash, tenant, at, expires_at],
        )?;
        Ok(())
    }

    fn invite_open(&mut self, hash: &str, tenant: TenantId, at: Millis) -> HubResult<bool> {
        let r = self.one(
            "SELECT COUNT(*) FROM invites
             WHERE hash = $1 AND tenant_id = $2 AND used_by IS NULL AND expires_at > $3",
            args![hash, tenant, at],
        )?;
        Ok(r.get::<i64>(0)? == 1)
    }

    fn use_invite(&mut self, hash: &str, tenant: TenantId, user: UserId, at: Millis) -> HubResult<bool> {
        let n = self.exec(
            "UPDATE invites SET used_by = $3, used_at = $4
             WHERE hash = $1 AND tenant_id = $2 AND used_by IS NULL AND expires_at > $4",
            args![hash, tenant, user, at],
        )?;
        Ok(n == 1)
    }

    fn insert_session(&mut self, s: &SessionRow) -> HubResult<()> {
        self.exec(
            "INSERT INTO sessions (family, tenant_id, user_id, device, platform, ip, created_at, last_seen_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (family) DO UPDATE SET device = EXCLUDED.device, platform = EXCLUDED.platform,
               ip = EXCLUDED.ip, last_seen_at = EXCLUDED.last_seen_at",
            args![&s.family, s.tenant, s.user, &s.device, &s.platform, &s.ip, s.created_at, s.last_seen_at],
        )?;
        Ok(())
    }

    fn touch_session(&mut self, family: &str, ip: &str, at: Millis) -> HubResult<()> {
        self.exec(
            "UPDATE sessions SET ip = $2, last_seen_at = CASE WHEN last_seen_at > $3 THEN last_seen_at ELSE $3 END
             WHERE family = $1",
            args![family, ip, at],
        )?;
        Ok(())
    }

    fn session_created_at(&mut self, family: &str) -> HubResult<Option<Millis>> {
        self.opt("SELECT created_at FROM sessions WHERE family = $1", args![family])?.map(|r| r.get(0)).transpose()
    }

    fn sessions_of(&mut self, tenant: TenantId, user: UserId) -> HubResult<Vec<SessionRow>> {
        let rows = self.rows(
            "SELECT family, tenant_id, user_id, device, platform, ip, created_at, last_seen_at FROM sessions s
             WHERE tenant_id = $1 AND user_id = $2
               AND NOT EXISTS (SELECT 1 FROM revoked_sessions r WHERE r.family = s.family)
             ORDER BY last_seen_at DESC",
            args![tenant, user],
        )?;
        rows.iter()
            .map(|r| {
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
            })
            .collect()
    }

    fn live_families(&mut self, tenant: TenantId, user: UserId) -> HubResult<Vec<String>> {
        let rows = self.rows(
            "SELECT family FROM sessions WHERE tenant_id = $1 AND user_id = $2
             UNION SELECT family FROM refresh_tokens WHERE tenant_id = $1 AND user_id = $2
             EXCEPT SELECT family FROM revoked_sessions",
            args![tenant, user],
        )?;
        rows.iter().map(|r| r.get(0)).collect()
    }

    fn password_hash(&mut self, tenant: TenantId, user: UserId) -> HubResult<Option<String>> {
        self.opt("SELECT password_hash FROM users WHERE tenant_id = $1 AND id = $2", args![tenant, user])?
            .map(|r| r.get(0))
            .transpose()
    }

    fn set_password_hash(&mut self, tenant: TenantId, user: UserId, hash: &str) -> HubResult<()> {
        self.exec("UPDATE users SET password_hash = $3 WHERE tenant_id = $1 AND id = $2", args![tenant, user, hash])?;
        Ok(())
    }

    fn totp(&mut self, tenant: TenantId, user: UserId) -> HubResult<Option<TotpRow>> {
        let r = self.opt(
            "SELECT totp_secret, totp_pending, totp_last_step FROM users WHERE tenant_id = $1 AND id = $2",
            args![tenant, user],
        )?;
        r.map(|r| Ok(TotpRow { secret: r.get(0)?, pending: r.get(1)?, last_step: r.get(2)? })).transpose()
    }

    fn set_totp_pending(&mut self, user: UserId, secret: Option<&str>) -> HubResult<()> {
        self.exec("UPDATE users SET totp_pending = $2 WHERE id = $1", args![user, secret])?;
        Ok(())
    }

    fn set_totp_secret(&mut self, user: UserId, secret: Option<&str>, step: i64) -> HubResult<()> {
        self.exec(
            "UPDATE users SET totp_secret = $2, totp_pending = NULL, totp_last_step = $3 WHERE id = $1",
            args![user, secret, step],
        )?;
        Ok(())
    }

    fn advance_totp_step(&mut self, user: UserId, step: i64) -> HubResult<bool> {
        let n =
            self.exec("UPDATE users SET totp_last_step = $2 WHERE id = $1 AND totp_last_step < $2", args![user, step])?;
        Ok(n == 1)
    }

    fn replace_recovery_codes(&mut self, user: UserId, hashes: &[String]) -> HubResult<()> {
        self.exec("DELETE FROM recovery_codes WHERE user_id = $1", args![user])?;
        for h in hashes {
            self.exec("INSERT INTO recovery_codes (user_id, hash) VALUES ($1, $2)", args![user, h])?;
        }
        Ok(())
    }

    fn use_recovery_code(&mut self, user: UserId, hash: &str, at: Millis) -> HubResult<bool> {
        let n = self.exec(
            "UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND hash = $2 AND used_at IS NULL",
            args![user, hash, at],
        )?;
        Ok(n == 1)
    }

    fn recovery_codes_left(&mut self, user: UserId) -> HubResult<u32> {
        let r = self.one("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL", args![user])?;
        Ok(r.get::<i64>(0)? as u32)
    }
}
