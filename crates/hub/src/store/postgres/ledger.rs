//! The ledger in PostgreSQL. Balances change only by conditional updates under `CHECK (available >= 0)`
//! (a row lock each), so concurrent transfers from different hubs can never overdraw an account.
use super::{col, enum_from, PgTx};
use crate::error::{HubError, HubResult};
use crate::fanout::TenantId;
use crate::store::enum_str;
use crate::store::repo::{wide_sum, LedgerRepo, NewTransferRow, NewTxLine, TransferRow, TxRow, Violation};
use postgres::{GenericClient, Row};
use tally_protocol::*;

const TX_COLS: &str =
    "id, kind, direction, amount, currency, balance_after, counterparty, memo, transfer_id, status, created_at";

fn currency(s: &str) -> HubResult<Currency> {
    Currency::parse(s).map_err(|_| HubError::internal(format!("unreadable currency {s:?}")))
}

fn tx_row(r: &Row) -> HubResult<TxRow> {
    let direction: String = col(r, 2)?;
    let t = Transaction {
        id: col(r, 0)?,
        kind: enum_from("transaction kind", &col::<String>(r, 1)?)?,
        direction: match direction.as_str() {
            "in" => Direction::In,
            "out" => Direction::Out,
            other => return Err(HubError::internal(format!("unreadable direction {other:?}"))),
        },
        amount: Money::new(col(r, 3)?, currency(&col::<String>(r, 4)?)?),
        balance_after: col(r, 5)?,
        counterparty: None,
        memo: col(r, 7)?,
        transfer_id: col(r, 8)?,
        status: enum_from("transfer status", &col::<String>(r, 9)?)?,
        created_at: col(r, 10)?,
    };
    Ok((t, col(r, 6)?))
}

fn balance(r: &Row, currency: Currency) -> HubResult<Balance> {
    Ok(Balance { currency, available: col(r, 0)?, pending: col(r, 1)?, as_of: col(r, 2)? })
}

impl<C: GenericClient> LedgerRepo for PgTx<'_, C> {
    fn lock_parties(&mut self, users: &[UserId]) -> HubResult<()> {
        let mut ids = users.to_vec();
        ids.sort_unstable();
        ids.dedup();
        self.rows("SELECT id FROM users WHERE id = ANY($1) ORDER BY id FOR UPDATE", &[&ids])?;
        Ok(())
    }

    fn ensure_account(&mut self, tenant: TenantId, user: UserId, currency: Currency) -> HubResult<()> {
        self.exec(
            "INSERT INTO accounts (user_id, currency, tenant_id, available, pending, updated_at)
             VALUES ($1, $2, $3, 0, 0, $4) ON CONFLICT DO NOTHING",
            &[&user, &currency.as_str(), &tenant.0, &crate::store::now_ms()],
        )?;
        Ok(())
    }

    fn account(&mut self, user: UserId, currency: Currency) -> HubResult<Option<Balance>> {
        let r = self.opt(
            "SELECT available, pending, updated_at FROM accounts WHERE user_id = $1 AND currency = $2",
            &[&user, &currency.as_str()],
        )?;
        r.map(|r| balance(&r, currency)).transpose()
    }

    fn accounts(&mut self, user: UserId) -> HubResult<Vec<Balance>> {
        let rows = self.rows(
            "SELECT available, pending, updated_at, currency FROM accounts WHERE user_id = $1 ORDER BY currency",
            &[&user],
        )?;
        rows.iter().map(|r| balance(r, currency(&col::<String>(r, 3)?)?)).collect()
    }

    fn add_balance(&mut self, user: UserId, currency: Currency, d_available: i64, d_pending: i64) -> HubResult<()> {
        let n = self.exec(
            // The guard keeps the sums in range (PostgreSQL would fail the statement with "bigint out of
            // range"; this answers with the same typed error as SQLite).
            "UPDATE accounts SET available = available + $3, pending = pending + $4, updated_at = $5
             WHERE user_id = $1 AND currency = $2
               AND ($3::BIGINT + $4::BIGINT <= 0 OR available + pending <= 9223372036854775807 - ($3::BIGINT + $4::BIGINT))",
            &[&user, &currency.as_str(), &d_available, &d_pending, &crate::store::now_ms()],
        )?;
        if n == 1 {
            return Ok(());
        }
        if self.account(user, currency)?.is_some() {
            return Err(crate::store::balance_overflow());
        }
        Err(HubError::internal("account missing"))
    }

    fn insert_posting(&mut self, tenant: TenantId, entry: &str, account: UserId, amount: Money) -> HubResult<()> {
        self.exec(
            "INSERT INTO postings (tenant_id, entry, account_user, currency, amount, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[&tenant.0, &entry, &account, &amount.currency.as_str(), &amount.minor, &crate::store::now_ms()],
        )?;
        Ok(())
    }

    fn insert_tx_line(&mut self, l: &NewTxLine<'_>) -> HubResult<TxId> {
        let direction = match l.kind {
            TxKind::TransferIn | TxKind::Deposit => "in",
            TxKind::TransferOut | TxKind::Withdrawal => "out",
        };
        let r = self.one(
            "INSERT INTO transactions (tenant_id, user_id, kind, direction, amount, currency, balance_after,
               counterparty, memo, transfer_id, status, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
            &[
                &l.tenant.0,
                &l.user,
                &enum_str(&l.kind),
                &direction,
                &l.amount.minor,
                &l.amount.currency.as_str(),
                &l.balance_after,
                &l.counterparty,
                &l.memo,
                &l.transfer,
                &enum_str(&l.status),
                &l.created_at,
                &crate::store::now_ms(),
            ],
        )?;
        col(&r, 0)
    }

    fn tx_line(&mut self, tenant: TenantId, id: TxId) -> HubResult<Option<TxRow>> {
        let sql = format!("SELECT {TX_COLS} FROM transactions WHERE id = $1 AND tenant_id = $2");
        self.opt(&sql, &[&id, &tenant.0])?.map(|r| tx_row(&r)).transpose()
    }

    fn tx_lines_before(&mut self, tenant: TenantId, user: UserId, before: TxId, limit: u32) -> HubResult<Vec<TxRow>> {
        let sql = format!(
            "SELECT {TX_COLS} FROM transactions WHERE user_id = $1 AND tenant_id = $2 AND id < $3 ORDER BY id DESC LIMIT $4"
        );
        self.rows(&sql, &[&user, &tenant.0, &before, &(limit as i64)])?.iter().map(tx_row).collect()
    }

    fn tx_line_count(&mut self, tenant: TenantId, user: UserId) -> HubResult<u64> {
        let r =
            self.one("SELECT COUNT(*) FROM transactions WHERE user_id = $1 AND tenant_id = $2", &[&user, &tenant.0])?;
        Ok(col::<i64>(&r, 0)? as u64)
    }

    fn tx_lines_changed(
        &mut self,
        tenant: TenantId,
        user: UserId,
        since: ChangeCursor,
        limit: u32,
    ) -> HubResult<Vec<(TxRow, Millis)>> {
        let sql = format!(
            "SELECT {TX_COLS}, updated_at FROM transactions
             WHERE user_id = $1 AND tenant_id = $2 AND (updated_at, id) > ($3, $4) ORDER BY updated_at, id LIMIT $5"
        );
        let rows = self.rows(&sql, &[&user, &tenant.0, &since.updated_at, &since.id, &(limit as i64)])?;
        rows.iter().map(|r| Ok((tx_row(r)?, col(r, 11)?))).collect()
    }

    fn transfer_lines(&mut self, transfer: TransferId) -> HubResult<Vec<(TxId, UserId)>> {
        let rows =
            self.rows("SELECT id, user_id FROM transactions WHERE transfer_id = $1 ORDER BY id", &[&transfer])?;
        rows.iter().map(|r| Ok((col(r, 0)?, col(r, 1)?))).collect()
    }

    fn set_transfer_lines_status(&mut self, transfer: TransferId, status: TransferStatus, at: Millis) -> HubResult<()> {
        self.exec(
            "UPDATE transactions SET status = $2, updated_at = $3 WHERE transfer_id = $1",
            &[&transfer, &enum_str(&status), &at],
        )?;
        Ok(())
    }

    fn set_line_balance_after(
        &mut self,
        transfer: TransferId,
        user: UserId,
        balance: i64,
        at: Millis,
    ) -> HubResult<()> {
        self.exec(
            "UPDATE transactions SET balance_after = $3, updated_at = $4 WHERE transfer_id = $1 AND user_id = $2",
            &[&transfer, &user, &balance, &at],
        )?;
        Ok(())
    }

    fn transfer_by_key(&mut self, user: UserId, key: &str) -> HubResult<Option<(TransferId, String)>> {
        let r =
            self.opt("SELECT id, body_hash FROM transfers WHERE from_user = $1 AND idem_key = $2", &[&user, &key])?;
        r.map(|r| Ok((col(&r, 0)?, col(&r, 1)?))).transpose()
    }

    fn transfer_row(&mut self, tenant: TenantId, id: TransferId) -> HubResult<Option<TransferRow>> {
        let Some(r) = self.opt(
            "SELECT id, from_user, to_user, amount, currency, memo, status, progress, failure, idem_key, created_at,
               updated_at FROM transfers WHERE id = $1 AND tenant_id = $2",
            &[&id, &tenant.0],
        )?
        else {
            return Ok(None);
        };
        Ok(Some(TransferRow {
            id: col(&r, 0)?,
            from: col(&r, 1)?,
            to: col(&r, 2)?,
            amount: Money::new(col(&r, 3)?, currency(&col::<String>(&r, 4)?)?),
            memo: col(&r, 5)?,
            status: enum_from("transfer status", &col::<String>(&r, 6)?)?,
            progress: col::<i64>(&r, 7)?.clamp(0, 100) as u8,
            failure: col(&r, 8)?,
            key: col(&r, 9)?,
            created_at: col(&r, 10)?,
            updated_at: col(&r, 11)?,
        }))
    }

    fn insert_transfer(&mut self, t: &NewTransferRow<'_>) -> HubResult<TransferId> {
        let r = self.one(
            "INSERT INTO transfers (tenant_id, from_user, to_user, amount, currency, memo, status, progress, idem_key,
               body_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $8, $9, $9)
             RETURNING id",
            &[
                &t.tenant.0,
                &t.from,
                &t.to,
                &t.amount.minor,
                &t.amount.currency.as_str(),
                &t.memo,
                &t.key,
                &t.body_hash,
                &t.at,
            ],
        )?;
        col(&r, 0)
    }

    fn set_transfer_status(
        &mut self,
        id: TransferId,
        status: TransferStatus,
        progress: u8,
        failure: Option<&str>,
        at: Millis,
    ) -> HubResult<()> {
        self.exec(
            "UPDATE transfers SET status = $2, progress = $3, failure = COALESCE($4, failure), updated_at = $5 WHERE id = $1",
            &[&id, &enum_str(&status), &(progress as i64), &failure, &at],
        )?;
        Ok(())
    }

    fn sent_since(&mut self, user: UserId, currency: Currency, since: Millis) -> HubResult<i64> {
        let r = self.one(
            "SELECT COALESCE(SUM(amount), 0)::BIGINT FROM transfers
             WHERE from_user = $1 AND currency = $2 AND created_at >= $3 AND status != 'failed'",
            &[&user, &currency.as_str(), &since],
        )?;
        col(&r, 0)
    }

    fn open_transfer_ids(&mut self, tenant: TenantId, user: UserId) -> HubResult<Vec<TransferId>> {
        let rows = self.rows(
            "SELECT id FROM transfers WHERE tenant_id = $1 AND (from_user = $2 OR to_user = $2)
               AND status IN ('pending','processing') ORDER BY id",
            &[&tenant.0, &user],
        )?;
        rows.iter().map(|r| col(r, 0)).collect()
    }

    fn unfinished_transfers(&mut self) -> HubResult<Vec<(TenantId, TransferId)>> {
        let rows =
            self.rows("SELECT tenant_id, id FROM transfers WHERE status IN ('pending','processing') ORDER BY id", &[])?;
        rows.iter().map(|r| Ok((TenantId(col(r, 0)?), col(r, 1)?))).collect()
    }

    fn stale_transfers(&mut self, before: Millis) -> HubResult<Vec<(TenantId, TransferId)>> {
        let rows = self.rows(
            "SELECT tenant_id, id FROM transfers WHERE status IN ('pending','processing') AND updated_at < $1
             ORDER BY id LIMIT 1000",
            &[&before],
        )?;
        rows.iter().map(|r| Ok((TenantId(col(r, 0)?), col(r, 1)?))).collect()
    }

    fn backdate_transfer(&mut self, id: TransferId, at: Millis) -> HubResult<()> {
        self.exec("UPDATE transactions SET created_at = $2 WHERE transfer_id = $1", &[&id, &at])?;
        self.exec("UPDATE transfers SET created_at = $2, updated_at = $2 WHERE id = $1", &[&id, &at])?;
        Ok(())
    }

    fn ledger_violations(&mut self) -> HubResult<Vec<Violation>> {
        let mut out = Vec::new();
        for r in self.rows(
            "SELECT tenant_id, currency, SUM(amount / 4294967296)::BIGINT, SUM(amount % 4294967296)::BIGINT
             FROM postings GROUP BY tenant_id, currency",
            &[],
        )? {
            let sum = wide_sum(col(&r, 2)?, col(&r, 3)?);
            if sum != 0 {
                out.push(Violation::PostingsUnbalanced { tenant: TenantId(col(&r, 0)?), currency: col(&r, 1)?, sum });
            }
        }
        for r in self.rows(
            "SELECT a.user_id, a.currency, a.available + a.pending,
               COALESCE((SELECT SUM(p.amount / 4294967296) FROM postings p
                 WHERE p.account_user = a.user_id AND p.currency = a.currency), 0)::BIGINT,
               COALESCE((SELECT SUM(p.amount % 4294967296) FROM postings p
                 WHERE p.account_user = a.user_id AND p.currency = a.currency), 0)::BIGINT
             FROM accounts a",
            &[],
        )? {
            let (balance, posted) = (col::<i64>(&r, 2)? as i128, wide_sum(col(&r, 3)?, col(&r, 4)?));
            if balance != posted {
                out.push(Violation::AccountDrift { user: col(&r, 0)?, currency: col(&r, 1)?, balance, posted });
            }
        }
        for r in self.rows(
            "SELECT a.tenant_id, a.currency,
               SUM((a.available + a.pending) / 4294967296)::BIGINT, SUM((a.available + a.pending) % 4294967296)::BIGINT,
               COALESCE((SELECT SUM(p.amount / 4294967296) FROM postings p
                 WHERE p.tenant_id = a.tenant_id AND p.currency = a.currency AND p.account_user = 0), 0)::BIGINT,
               COALESCE((SELECT SUM(p.amount % 4294967296) FROM postings p
                 WHERE p.tenant_id = a.tenant_id AND p.currency = a.currency AND p.account_user = 0), 0)::BIGINT
             FROM accounts a GROUP BY a.tenant_id, a.currency",
            &[],
        )? {
            let (balances, posted) = (wide_sum(col(&r, 2)?, col(&r, 3)?), wide_sum(col(&r, 4)?, col(&r, 5)?));
            if balances != -posted {
                let (tenant, currency) = (TenantId(col(&r, 0)?), col(&r, 1)?);
                out.push(Violation::TenantDrift { tenant, currency, balances, external: -posted });
            }
        }
        Ok(out)
    }
}
