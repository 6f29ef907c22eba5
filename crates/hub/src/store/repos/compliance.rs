//! Compliance holds: `compliance_rules` (one row per tenant) and `transfer_reviews`.
use crate::error::HubResult;
use crate::ids::TenantId;
use crate::store::repo::{ComplianceRepo, RulesRow};
use crate::store::sql::{args, Db};
use tally_protocol::*;

impl<D: Db> ComplianceRepo for D {
    fn compliance_rules(&mut self, tenant: TenantId) -> HubResult<Option<RulesRow>> {
        let r = self.opt(
            "SELECT single_over, hourly_count_over, hourly_amount_over, new_payee_over FROM compliance_rules
             WHERE tenant_id = $1",
            args![tenant],
        )?;
        r.map(|r| {
            Ok(RulesRow {
                single_over: r.get(0)?,
                hourly_count_over: r.get(1)?,
                hourly_amount_over: r.get(2)?,
                new_payee_over: r.get(3)?,
            })
        })
        .transpose()
    }

    fn set_compliance_rules(&mut self, tenant: TenantId, x: &RulesRow) -> HubResult<()> {
        self.exec(
            "INSERT INTO compliance_rules (tenant_id, single_over, hourly_count_over, hourly_amount_over, new_payee_over)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id) DO UPDATE SET single_over = $2,
             hourly_count_over = $3, hourly_amount_over = $4, new_payee_over = $5",
            args![tenant, x.single_over, x.hourly_count_over, x.hourly_amount_over, x.new_payee_over],
        )?;
        Ok(())
    }

    fn sent_count_since(&mut self, user: UserId, currency: Currency, since: Millis) -> HubResult<i64> {
        self.value(
            "SELECT COUNT(*) FROM transfers
             WHERE from_user = $1 AND currency = $2 AND created_at >= $3 AND status != 'failed'",
            args![user, currency.as_str(), since],
        )
    }

    fn paid_before(&mut self, from: UserId, to: UserId, except: TransferId) -> HubResult<bool> {
        let r = self.opt(
            "SELECT 1 FROM transfers WHERE from_user = $1 AND to_user = $2 AND id != $3 AND status != 'failed' LIMIT 1",
            args![from, to, except],
        )?;
        Ok(r.is_some())
    }

    fn insert_review(&mut self, transfer: TransferId, tenant: TenantId, reason: &str, at: Millis) -> HubResult<()> {
        self.exec(
            "INSERT INTO transfer_reviews (transfer_id, tenant_id, reason, created_at) VALUES ($1, $2, $3, $4)",
            args![transfer, tenant, reason, at],
        )?;
        Ok(())
    }

    fn open_reviews(
        &mut self,
        tenant: TenantId,
        after: TransferId,
        limit: u32,
    ) -> HubResult<Vec<(TransferId, String, Millis)>> {
        let rows = self.rows(
            "SELECT transfer_id, reason, created_at FROM transfer_reviews
             WHERE tenant_id = $1 AND outcome IS NULL AND transfer_id > $2 ORDER BY transfer_id LIMIT $3",
            args![tenant, after, limit as i64],
        )?;
        rows.iter().map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).collect()
    }

    fn close_review(&mut self, transfer: TransferId, outcome: &str, at: Millis) -> HubResult<bool> {
        let n = self.exec(
            "UPDATE transfer_reviews SET outcome = $2, decided_at = $3 WHERE transfer_id = $1 AND outcome IS NULL",
            args![transfer, outcome, at],
        )?;
        Ok(n == 1)
    }
}
