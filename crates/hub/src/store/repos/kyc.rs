//! KYC: `users.kyc_level` (with the user's `limit_single`/`limit_daily`) and `tenant_kyc_limits`.
use crate::error::{HubError, HubResult};
use crate::ids::TenantId;
use crate::store::repo::KycRepo;
use crate::store::sql::{args, Db};
use tally_protocol::{KycLevel, UserId};

impl<D: Db> KycRepo for D {
    fn limits_and_level(&mut self, tenant: TenantId, user: UserId) -> HubResult<Option<((i64, i64), KycLevel)>> {
        let r = self.opt(
            "SELECT limit_single, limit_daily, kyc_level FROM users WHERE tenant_id = $1 AND id = $2",
            args![tenant, user],
        )?;
        let Some(r) = r else { return Ok(None) };
        let level: String = r.get(2)?;
        let level =
            KycLevel::parse(&level).ok_or_else(|| HubError::internal(format!("unreadable KYC level {level:?}")))?;
        Ok(Some(((r.get(0)?, r.get(1)?), level)))
    }

    fn set_kyc(
        &mut self,
        tenant: TenantId,
        user: UserId,
        level: KycLevel,
        (single, daily): (i64, i64),
    ) -> HubResult<bool> {
        let n = self.exec(
            "UPDATE users SET kyc_level = $3, limit_single = $4, limit_daily = $5 WHERE tenant_id = $1 AND id = $2",
            args![tenant, user, level.as_str(), single, daily],
        )?;
        Ok(n == 1)
    }

    fn kyc_limits(&mut self, tenant: TenantId, level: KycLevel) -> HubResult<Option<(i64, i64)>> {
        let r = self.opt(
            "SELECT limit_single, limit_daily FROM tenant_kyc_limits WHERE tenant_id = $1 AND level = $2",
            args![tenant, level.as_str()],
        )?;
        r.map(|r| Ok((r.get(0)?, r.get(1)?))).transpose()
    }

    fn set_kyc_limits(&mut self, tenant: TenantId, level: KycLevel, (single, daily): (i64, i64)) -> HubResult<()> {
        self.exec(
            "INSERT INTO tenant_kyc_limits (tenant_id, level, limit_single, limit_daily) VALUES ($1, $2, $3, $4)
             ON CONFLICT (tenant_id, level) DO UPDATE SET limit_single = $3, limit_daily = $4",
            args![tenant, level.as_str(), single, daily],
        )?;
        Ok(())
    }
}
