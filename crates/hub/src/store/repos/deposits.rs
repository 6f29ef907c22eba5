//! Adding money: `users.deposit_ref` and `tenants.deposit_instructions`.
use crate::error::HubResult;
use crate::ids::TenantId;
use crate::store::repo::DepositRepo;
use crate::store::sql::{args, Db};
use tally_protocol::UserId;

impl<D: Db> DepositRepo for D {
    fn deposit_ref(&mut self, tenant: TenantId, user: UserId) -> HubResult<Option<String>> {
        let r = self.opt("SELECT deposit_ref FROM users WHERE tenant_id = $1 AND id = $2", args![tenant, user])?;
        Ok(r.map(|r| r.get::<Option<String>>(0)).transpose()?.flatten())
    }

    fn set_deposit_ref(&mut self, tenant: TenantId, user: UserId, reference: &str) -> HubResult<bool> {
        let n = self.exec(
            "UPDATE users SET deposit_ref = $3 WHERE tenant_id = $1 AND id = $2 AND deposit_ref IS NULL",
            args![tenant, user, reference],
        )?;
        Ok(n == 1)
    }

    fn user_by_deposit_ref(&mut self, tenant: TenantId, reference: &str) -> HubResult<Option<UserId>> {
        self.opt("SELECT id FROM users WHERE tenant_id = $1 AND deposit_ref = $2", args![tenant, reference])?
            .map(|r| r.get(0))
            .transpose()
    }

    fn deposit_instructions(&mut self, tenant: TenantId) -> HubResult<String> {
        let r = self.opt("SELECT deposit_instructions FROM tenants WHERE id = $1", args![tenant])?;
        Ok(r.map(|r| r.get::<String>(0)).transpose()?.unwrap_or_default())
    }

    fn set_deposit_instructions(&mut self, tenant: TenantId, text: &str) -> HubResult<()> {
        self.exec("UPDATE tenants SET deposit_instructions = $2 WHERE id = $1", args![tenant, text])?;
        Ok(())
    }
}
