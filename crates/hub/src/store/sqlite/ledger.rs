//! The ledger in SQLite: `accounts` (CHECK available >= 0), `postings`, `transfers`, `transactions`.
use super::{enum_from, SqliteTx};
use crate::error::{HubError, HubResult};
use crate::fanout::TenantId;
use crate::store::enum_str;
use crate::store::repo::{wide_sum, LedgerRepo, NewTransferRow, NewTxLine, TransferRow, TxRow, Violation};
use rusqlite::{params, OptionalExtension};
use tally_protocol::*;

const TX_COLS: &str =
    "id, kind, direction, amount, currency, balance_after, counterparty, memo, transfer_id, status, created_at";

fn currency(s: &str) -> rusqlite::Result<Currency> {
    Currency::parse(s).map_err(|_| super::unreadable("currency", s))
}

fn tx_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TxRow> {
    let direction: String = r.get(2)?;
    Ok((
        Transaction {
            id: r.get(0)?,
            kind: enum_from("transaction kind", &r.get::<_, String>(1)?)?,
            direction: match direction.as_str() {
                "in" => Direction::In,
                "out" => Direction::Out,
                other => return Err(super::unreadable("direction", other)),
            },
            amount: Money::new(r.get(3)?, currency(&r.get::<_, String>(4)?)?),
            balance_after: r.get(5)?,
            counterparty: None,
            memo: r.get(7)?,
            transfer_id: r.get(8)?,
            status: enum_from("transfer status", &r.get::<_, String>(9)?)?,
            created_at: r.get(10)?,
        },
        r.get(6)?,
    ))
}

impl LedgerRepo for SqliteTx<'_> {
    fn lock_parties(&mut self, _users: &[UserId]) -> HubResult<()> {
        Ok(())
    }

    fn ensure_account(&mut self, tenant: TenantId, user: UserId, currency: Currency) -> HubResult<()> {
        self.c
            .prepare_cached(
                "INSERT OR IGNORE INTO accounts (user_id, currency, tenant_id, available, pending, updated_at)
                 VALUES (?1, ?2, ?3, 0, 0, ?4)",
            )?
            .execute(params![user, currency.as_str(), tenant, crate::store::now_ms()])?;
        Ok(())
    }

    fn account(&mut self, user: UserId, currency: Currency) -> HubResult<Option<Balance>> {
        Ok(self
            .c
            .prepare_cached("SELECT available, pending, updated_at FROM accounts WHERE user_id = ?1 AND currency = ?2")?
            .query_row(params![user, currency.as_str()], |r| {
                Ok(Balance { currency, available: r.get(0)?, pending: r.get(1)?, as_of: r.get(2)? })
            })
            .optional()?)
    }

    fn accounts(&mut self, user: UserId) -> HubResult<Vec<Balance>> {
        let mut stmt = self.c.prepare_cached(
            "SELECT currency, available, pending, updated_at FROM accounts WHERE user_id = ?1 ORDER BY currency",
        )?;
        let rows = stmt.query_map([user], |r| {
            Ok(Balance {
                currency: currency(&r.get::<_, String>(0)?)?,
                available: r.get(1)?,
                pending: r.get(2)?,
                as_of: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn add_balance(&mut self, user: UserId, currency: Currency, d_available: i64, d_pending: i64) -> HubResult<()> {
        let n = self
            .c
            .prepare_cached(
                // The guard keeps `available + pending` (and so each of them) within i64: past it, SQLite
                // would turn the column into a REAL. Every change's two deltas have opposite signs or one is
                // zero, so their sum does not overflow.
                "UPDATE accounts SET available = available + ?3, pending = pending + ?4, updated_at = ?5
                 WHERE user_id = ?1 AND currency = ?2
                   AND (?3 + ?4 <= 0 OR available + pending <= 9223372036854775807 - (?3 + ?4))",
            )?
            .execute(params![user, currency.as_str(), d_available, d_pending, crate::store::now_ms()]);
        match n {
            Ok(1) => Ok(()),
            Ok(_) if self.account(user, currency)?.is_some() => Err(crate::store::balance_overflow()),
            Ok(_) => Err(HubError::internal("account missing")),
            // CHECK (available >= 0) failed: never overdraw.
            Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
                Err(HubError::new(ErrorCode::InsufficientFunds, "insufficient funds"))
            }
            Err(e) => Err(e.into()),
        }
    }

    fn insert_posting(&mut self, tenant: TenantId, entry: &str, account: UserId, amount: Money) -> HubResult<()> {
        self.c
            .prepare_cached(
                "INSERT INTO postings (tenant_id, entry, account_user, currency, amount, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![tenant, entry, account, amount.currency.as_str(), amount.minor, crate::store::now_ms()])?;
        Ok(())
    }

    fn insert_tx_line(&mut self, l: &NewTxLine<'_>) -> HubResult<TxId> {
        let direction = match l.kind {
            TxKind::TransferIn | TxKind::Deposit => "in",
            TxKind::TransferOut | TxKind::Withdrawal => "out",
        };
        // updated_at is the time of writing even when created_at is backdated: the changes feed follows it.
        self.c
            .prepare_cached(
                "INSERT INTO transactions (tenant_id, user_id, kind, direction, amount, currency, balance_after,
                   counterparty, memo, transfer_id, status, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )?
            .execute(params![
                l.tenant,
                l.user,
                enum_str(&l.kind),
                direction,
                l.amount.minor,
                l.amount.currency.as_str(),
                l.balance_after,
                l.counterparty,
                l.memo,
                l.transfer,
                enum_str(&l.status),
                l.created_at,
                crate::store::now_ms()
            ])?;
        Ok(self.c.last_insert_rowid())
    }

    fn tx_line(&mut self, tenant: TenantId, id: TxId) -> HubResult<Option<TxRow>> {
        Ok(self
            .c
            .prepare_cached(&format!("SELECT {TX_COLS} FROM transactions WHERE id = ?1 AND tenant_id = ?2"))?
            .query_row(params![id, tenant], tx_from_row)
            .optional()?)
    }

    fn tx_lines_before(&mut self, tenant: TenantId, user: UserId, before: TxId, limit: u32) -> HubResult<Vec<TxRow>> {
        let mut stmt = self.c.prepare_cached(&format!(
            "SELECT {TX_COLS} FROM transactions WHERE user_id = ?1 AND tenant_id = ?2 AND id < ?3 ORDER BY id DESC LIMIT ?4"
        ))?;
        let rows = stmt.query_map(params![user, tenant, before, limit as i64], tx_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn tx_line_count(&mut self, tenant: TenantId, user: UserId) -> HubResult<u64> {
        let n: i64 = self
            .c
            .prepare_cached("SELECT COUNT(*) FROM transactions WHERE user_id = ?1 AND tenant_id = ?2")?
            .query_row(params![user, tenant], |r| r.get(0))?;
        Ok(n as u64)
    }

    fn tx_lines_changed(
        &mut self,
        tenant: TenantId,
        user: UserId,
        since: ChangeCursor,
        limit: u32,
    ) -> HubResult<Vec<(TxRow, Millis)>> {
        let mut stmt = self.c.prepare_cached(&format!(
            "SELECT {TX_COLS}, updated_at FROM transactions
             WHERE user_id = ?1 AND tenant_id = ?2 AND (updated_at, id) > (?3, ?4) ORDER BY updated_at, id LIMIT ?5"
        ))?;
        let rows = stmt.query_map(params![user, tenant, since.updated_at, since.id, limit as i64], |r| {
            Ok((tx_from_row(r)?, r.get::<_, i64>(11)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn transfer_lines(&mut self, transfer: TransferId) -> HubResult<Vec<(TxId, UserId)>> {
        let mut stmt =
            self.c.prepare_cached("SELECT id, user_id FROM transactions WHERE transfer_id = ?1 ORDER BY id")?;
        let rows = stmt.query_map([transfer], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn set_transfer_lines_status(&mut self, transfer: TransferId, status: TransferStatus, at: Millis) -> HubResult<()> {
        self.c
            .prepare_cached("UPDATE transactions SET status = ?2, updated_at = ?3 WHERE transfer_id = ?1")?
            .execute(params![transfer, enum_str(&status), at])?;
        Ok(())
    }

    fn set_line_balance_after(
        &mut self,
        transfer: TransferId,
        user: UserId,
        balance: i64,
        at: Millis,
    ) -> HubResult<()> {
        self.c
            .prepare_cached(
                "UPDATE transactions SET balance_after = ?3, updated_at = ?4 WHERE transfer_id = ?1 AND user_id = ?2",
            )?
            .execute(params![transfer, user, balance, at])?;
        Ok(())
    }

    fn transfer_by_key(&mut self, user: UserId, key: &str) -> HubResult<Option<(TransferId, String)>> {
        Ok(self
            .c
            .prepare_cached("SELECT id, body_hash FROM transfers WHERE from_user = ?1 AND idem_key = ?2")?
            .query_row(params![user, key], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    fn transfer_row(&mut self, tenant: TenantId, id: TransferId) -> HubResult<Option<TransferRow>> {
        Ok(self
            .c
            .prepare_cached(
                "SELECT id, from_user, to_user, amount, currency, memo, status, progress, failure, idem_key, created_at,
                   updated_at FROM transfers WHERE id = ?1 AND tenant_id = ?2",
            )?
            .query_row(params![id, tenant], |r| {
                Ok(TransferRow {
                    id: r.get(0)?,
                    from: r.get(1)?,
                    to: r.get(2)?,
                    amount: Money::new(r.get(3)?, currency(&r.get::<_, String>(4)?)?),
                    memo: r.get(5)?,
                    status: enum_from("transfer status", &r.get::<_, String>(6)?)?,
                    progress: r.get::<_, i64>(7)?.clamp(0, 100) as u8,
                    failure: r.get(8)?,
                    key: r.get(9)?,
                    created_at: r.get(10)?,
                    updated_at: r.get(11)?,
                })
            })
            .optional()?)
    }

    fn insert_transfer(&mut self, t: &NewTransferRow<'_>) -> HubResult<TransferId> {
        self.c
            .prepare_cached(
                "INSERT INTO transfers (tenant_id, from_user, to_user, amount, currency, memo, status, progress, idem_key,
                   body_hash, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?7, ?8, ?9, ?9)",
            )?
            .execute(params![
                t.tenant,
                t.from,
                t.to,
                t.amount.minor,
                t.amount.currency.as_str(),
                t.memo,
                t.key,
                t.body_hash,
                t.at
            ])?;
        Ok(self.c.last_insert_rowid())
    }

    fn set_transfer_status(
        &mut self,
        id: TransferId,
        status: TransferStatus,
        progress: u8,
        failure: Option<&str>,
        at: Millis,
    ) -> HubResult<()> {
        self.c
            .prepare_cached(
                "UPDATE transfers SET status = ?2, progress = ?3, failure = COALESCE(?4, failure), updated_at = ?5
                 WHERE id = ?1",
            )?
            .execute(params![id, enum_str(&status), progress, failure, at])?;
        Ok(())
    }

    fn sent_since(&mut self, user: UserId, currency: Currency, since: Millis) -> HubResult<i64> {
        Ok(self
            .c
            .prepare_cached(
                "SELECT COALESCE(SUM(amount), 0) FROM transfers
                 WHERE from_user = ?1 AND currency = ?2 AND created_at >= ?3 AND status != 'failed'",
            )?
            .query_row(params![user, currency.as_str(), since], |r| r.get(0))?)
    }

    fn open_transfer_ids(&mut self, tenant: TenantId, user: UserId) -> HubResult<Vec<TransferId>> {
        let mut stmt = self.c.prepare_cached(
            "SELECT id FROM transfers WHERE tenant_id = ?1 AND (from_user = ?2 OR to_user = ?2)
               AND status IN ('pending','processing') ORDER BY id",
        )?;
        let rows = stmt.query_map(params![tenant, user], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn unfinished_transfers(&mut self) -> HubResult<Vec<(TenantId, TransferId)>> {
        let mut stmt = self
            .c
            .prepare("SELECT tenant_id, id FROM transfers WHERE status IN ('pending','processing') ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn stale_transfers(&mut self, before: Millis) -> HubResult<Vec<(TenantId, TransferId)>> {
        let mut stmt = self.c.prepare_cached(
            "SELECT tenant_id, id FROM transfers WHERE status IN ('pending','processing') AND updated_at < ?1
             ORDER BY id LIMIT 1000",
        )?;
        let rows = stmt.query_map([before], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn backdate_transfer(&mut self, id: TransferId, at: Millis) -> HubResult<()> {
        self.c.execute("UPDATE transactions SET created_at = ?2 WHERE transfer_id = ?1", params![id, at])?;
        self.c.execute("UPDATE transfers SET created_at = ?2, updated_at = ?2 WHERE id = ?1", params![id, at])?;
        Ok(())
    }

    fn ledger_violations(&mut self) -> HubResult<Vec<Violation>> {
        let mut out = Vec::new();
        let mut stmt = self.c.prepare(
            "SELECT tenant_id, currency, SUM(amount / 4294967296), SUM(amount % 4294967296) FROM postings
             GROUP BY tenant_id, currency",
        )?;
        for row in stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, wide_sum(r.get(2)?, r.get(3)?))))? {
            let (tenant, currency, sum) = row?;
            if sum != 0 {
                out.push(Violation::PostingsUnbalanced { tenant, currency, sum });
            }
        }
        let mut stmt = self.c.prepare(
            "SELECT a.user_id, a.currency, a.available + a.pending,
               COALESCE((SELECT SUM(p.amount / 4294967296) FROM postings p
                 WHERE p.account_user = a.user_id AND p.currency = a.currency), 0),
               COALESCE((SELECT SUM(p.amount % 4294967296) FROM postings p
                 WHERE p.account_user = a.user_id AND p.currency = a.currency), 0)
             FROM accounts a",
        )?;
        for row in
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)?, wide_sum(r.get(3)?, r.get(4)?))))?
        {
            let (user, currency, balance, posted) = row?;
            if balance as i128 != posted {
                out.push(Violation::AccountDrift { user, currency, balance: balance as i128, posted });
            }
        }
        let mut stmt = self.c.prepare(
            "SELECT a.tenant_id, a.currency,
               SUM((a.available + a.pending) / 4294967296), SUM((a.available + a.pending) % 4294967296),
               COALESCE((SELECT SUM(p.amount / 4294967296) FROM postings p
                 WHERE p.tenant_id = a.tenant_id AND p.currency = a.currency AND p.account_user = 0), 0),
               COALESCE((SELECT SUM(p.amount % 4294967296) FROM postings p
                 WHERE p.tenant_id = a.tenant_id AND p.currency = a.currency AND p.account_user = 0), 0)
             FROM accounts a GROUP BY a.tenant_id, a.currency",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, wide_sum(r.get(2)?, r.get(3)?), wide_sum(r.get(4)?, r.get(5)?)))
        })?;
        for row in rows {
            let (tenant, currency, balances, posted) = row?;
            if balances != -posted {
                out.push(Violation::TenantDrift { tenant, currency, balances, external: -posted });
            }
        }
        Ok(out)
    }
}
