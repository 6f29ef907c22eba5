//! Withdrawals: `withdrawals`, one row per request to take money out, and its history line's outcome.
use crate::error::HubResult;
use crate::ids::TenantId;
use crate::store::enum_str;
use crate::store::repo::{NewWithdrawalRow, WithdrawalRepo, WithdrawalRow};
use crate::store::sql::{args, unreadable, Db, Row};
use tally_protocol::*;

const COLS: &str = "id, user_id, amount, currency, destination, status, reason, tx_id, created_at, updated_at";

fn withdrawal_row(r: &Row) -> HubResult<WithdrawalRow> {
    let currency = r.text(3)?;
    let status = r.text(5)?;
    Ok(WithdrawalRow {
        id: r.get(0)?,
        user: r.get(1)?,
        amount: Money::new(r.get(2)?, Currency::parse(currency).map_err(|_| unreadable("currency", currency))?),
        destination: r.get(4)?,
        status: WithdrawalStatus::parse(status).ok_or_else(|| unreadable("withdrawal status", status))?,
        reason: r.get(6)?,
        tx: r.get(7)?,
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
    })
}

impl<D: Db> WithdrawalRepo for D {
    fn insert_withdrawal(&mut self, w: &NewWithdrawalRow<'_>) -> HubResult<WithdrawalId> {
        self.insert_id(
            "INSERT INTO withdrawals (tenant_id, user_id, amount, currency, destination, status, tx_id, idem_key,
               body_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $9, $9)
             RETURNING id",
            args![
                w.tenant,
                w.user,
                w.amount.minor,
                w.amount.currency.as_str(),
                w.destination,
                w.tx,
                w.key,
                w.body_hash,
                w.at
            ],
        )
    }

    fn withdrawal_row(&mut self, tenant: TenantId, id: WithdrawalId) -> HubResult<Option<WithdrawalRow>> {
        let sql = format!("SELECT {COLS} FROM withdrawals WHERE id = $1 AND tenant_id = $2");
        self.opt(&sql, args![id, tenant])?.map(|r| withdrawal_row(&r)).transpose()
    }

    fn withdrawal_by_key(&mut self, user: UserId, key: &str) -> HubResult<Option<(WithdrawalId, String)>> {
        let r =
            self.opt("SELECT id, body_hash FROM withdrawals WHERE user_id = $1 AND idem_key = $2", args![user, key])?;
        r.map(|r| Ok((r.get(0)?, r.get(1)?))).transpose()
    }

    fn withdrawals_in(
        &mut self,
        tenant: TenantId,
        status: WithdrawalStatus,
        after: WithdrawalId,
        limit: u32,
    ) -> HubResult<Vec<WithdrawalRow>> {
        let sql = format!(
            "SELECT {COLS} FROM withdrawals WHERE tenant_id = $1 AND status = $2 AND id > $3 ORDER BY id LIMIT $4"
        );
        let rows = self.rows(&sql, args![tenant, status.as_str(), after, limit as i64])?;
        rows.iter().map(withdrawal_row).collect()
    }

    fn decide_withdrawal(
        &mut self,
        id: WithdrawalId,
        status: WithdrawalStatus,
        reason: Option<&str>,
        at: Millis,
    ) -> HubResult<bool> {
        let n = self.exec(
            "UPDATE withdrawals SET status = $2, reason = $3, updated_at = $4 WHERE id = $1 AND status = 'pending'",
            args![id, status.as_str(), reason, at],
        )?;
        Ok(n == 1)
    }

    fn set_line_outcome(
        &mut self,
        line: TxId,
        status: TransferStatus,
        balance_after: i64,
        at: Millis,
    ) -> HubResult<()> {
        self.exec(
            "UPDATE transactions SET status = $2, balance_after = $3, updated_at = $4 WHERE id = $1",
            args![line, &enum_str(&status), balance_after, at],
        )?;
        Ok(())
    }
}
