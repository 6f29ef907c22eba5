//! The ledger: `accounts` (`CHECK (available >= 0)`), `postings`, `transfers`, `transactions`. Balances
//! change only by conditional updates under the CHECK, so no two writers (hubs on one PostgreSQL) can
//! overdraw an account between them.
use crate::error::{HubError, HubResult};
use crate::ids::TenantId;
use crate::store::repo::{wide_sum, LedgerRepo, NewTransferRow, NewTxLine, TransferRow, TxRow, Violation};
use crate::store::sql::{args, enum_from, unreadable, Db, Dialect, Row};
use crate::store::{enum_str, now_ms};
use tally_protocol::*;

pub(super) const TX_COLS: &str =
    "id, kind, direction, amount, currency, balance_after, counterparty, memo, transfer_id, status, created_at";

fn currency(s: &str) -> HubResult<Currency> {
    Currency::parse(s).map_err(|_| unreadable("currency", s))
}

pub(super) fn tx_row(r: &Row) -> HubResult<TxRow> {
    let t = Transaction {
        id: r.get(0)?,
        kind: enum_from("transaction kind", r.text(1)?)?,
        direction: match r.text(2)? {
            "in" => Direction::In,
            "out" => Direction::Out,
            other => return Err(unreadable("direction", other)),
        },
        amount: Money::new(r.get(3)?, currency(r.text(4)?)?),
        balance_after: r.get(5)?,
        counterparty: None,
        memo: r.get(7)?,
        transfer_id: r.get(8)?,
        status: enum_from("transfer status", r.text(9)?)?,
        created_at: r.get(10)?,
    };
    Ok((t, r.get(6)?))
}

fn balance(r: &Row, currency: Currency) -> HubResult<Balance> {
    Ok(Balance { currency, available: r.get(0)?, pending: r.get(1)?, as_of: r.get(2)? })
}

fn transfer_row(r: &Row) -> HubResult<TransferRow> {
    Ok(TransferRow {
        id: r.get(0)?,
        from: r.get(1)?,
        to: r.get(2)?,
        amount: Money::new(r.get(3)?, currency(r.text(4)?)?),
        memo: r.get(5)?,
        status: enum_from("transfer status", r.text(6)?)?,
        progress: r.get::<i64>(7)?.clamp(0, 100) as u8,
        failure: r.get(8)?,
        key: r.get(9)?,
        created_at: r.get(10)?,
        updated_at: r.get(11)?,
    })
}

impl<D: Db> LedgerRepo for D {
    /// PostgreSQL: the parties' user rows `FOR UPDATE`, in id order, so ledger jobs of several hubs on
    /// the same users queue instead of deadlocking. SQLite's one writer runs one job at a time.
    fn lock_parties(&mut self, users: &[UserId]) -> HubResult<()> {
        if self.dialect() == Dialect::Sqlite {
            return Ok(());
        }
        let mut ids = users.to_vec();
        ids.sort_unstable();
        ids.dedup();
        self.rows("SELECT id FROM users WHERE id = ANY($1) ORDER BY id FOR UPDATE", args![&ids[..]])?;
        Ok(())
    }

    fn ensure_account(&mut self, tenant: TenantId, user: UserId, currency: Currency) -> HubResult<()> {
        self.exec(
            "INSERT INTO accounts (user_id, currency, tenant_id, available, pending, updated_at)
             VALUES ($1, $2, $3, 0, 0, $4) ON CONFLICT DO NOTHING",
            args![user, currency.as_str(), tenant, now_ms()],
        )?;
        Ok(())
    }

    fn account(&mut self, user: UserId, currency: Currency) -> HubResult<Option<Balance>> {
        let r = self.opt(
            "SELECT available, pending, updated_at FROM accounts WHERE user_id = $1 AND currency = $2",
            args![user, currency.as_str()],
        )?;
        r.map(|r| balance(&r, currency)).transpose()
    }

    fn accounts(&mut self, user: UserId) -> HubResult<Vec<Balance>> {
        let rows = self.rows(
            "SELECT available, pending, updated_at, currency FROM accounts WHERE user_id = $1 ORDER BY currency",
            args![user],
        )?;
        rows.iter().map(|r| balance(r, currency(r.text(3)?)?)).collect()
    }

    fn add_balance(&mut self, user: UserId, currency: Currency, d_available: i64, d_pending: i64) -> HubResult<()> {
        let n = self.exec(
            // The guard keeps `available + pending` (and so each of them) within i64: past it SQLite would
            // turn the column into a REAL and PostgreSQL fail with "bigint out of range"; this answers
            // with one typed error on both. Every change's two deltas have opposite signs or one is zero,
            // so their sum does not overflow. A CHECK failure (overdraw) is `insufficient_funds`.
            "UPDATE accounts SET available = available + $3, pending = pending + $4, updated_at = $5
             WHERE user_id = $1 AND currency = $2
               AND (CAST($3 AS BIGINT) + CAST($4 AS BIGINT) <= 0
                 OR available + pending <= 9223372036854775807 - (CAST($3 AS BIGINT) + CAST($4 AS BIGINT)))",
            args![user, currency.as_str(), d_available, d_pending, now_ms()],
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
            args![tenant, entry, account, amount.currency.as_str(), amount.minor, now_ms()],
        )?;
        Ok(())
    }

    fn insert_tx_line(&mut self, l: &NewTxLine<'_>) -> HubResult<TxId> {
        let direction = match l.direction {
            Direction::In => "in",
            Direction::Out => "out",
        };
        let (kind, status) = (enum_str(&l.kind), enum_str(&l.status));
        // updated_at is the time of writing even when created_at is backdated: the changes feed follows it.
        self.insert_id(
            "INSERT INTO transactions (tenant_id, user_id, kind, direction, amount, currency, balance_after,
               counterparty, memo, transfer_id, status, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
            args![
                l.tenant,
                l.user,
                &kind,
                direction,
                l.amount.minor,
                l.amount.currency.as_str(),
                l.balance_after,
                l.counterparty,
                l.memo,
                l.transfer,
                &status,
                l.created_at,
                now_ms(),
            ],
        )
    }

    fn tx_line(&mut self, tenant: TenantId, id: TxId) -> HubResult<Option<TxRow>> {
        let sql = format!("SELECT {TX_COLS} FROM transactions WHERE id = $1 AND tenant_id = $2");
        self.opt(&sql, args![id, tenant])?.map(|r| tx_row(&r)).transpose()
    }

    fn tx_lines_before(&mut self, tenant: TenantId, user: UserId, before: TxId, limit: u32) -> HubResult<Vec<TxRow>> {
        let sql = format!(
            "SELECT {TX_COLS} FROM transactions WHERE user_id = $1 AND tenant_id = $2 AND id < $3 ORDER BY id DESC LIMIT $4"
        );
        self.rows(&sql, args![user, tenant, before, i64::from(limit)])?.iter().map(tx_row).collect()
    }

    fn tx_line_count(&mut self, tenant: TenantId, user: UserId) -> HubResult<u64> {
        self.value("SELECT COUNT(*) FROM transactions WHERE user_id = $1 AND tenant_id = $2", args![user, tenant])
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
        let rows = self.rows(&sql, args![user, tenant, since.updated_at, since.id, i64::from(limit)])?;
        rows.iter().map(|r| Ok((tx_row(r)?, r.get(11)?))).collect()
    }

    fn transfer_lines(&mut self, transfer: TransferId) -> HubResult<Vec<(TxId, UserId)>> {
        let rows =
            self.rows("SELECT id, user_id FROM transactions WHERE transfer_id = $1 ORDER BY id", args![transfer])?;
        rows.iter().map(|r| Ok((r.get(0)?, r.get(1)?))).collect()
    }

    fn set_transfer_lines_status(&mut self, transfer: TransferId, status: TransferStatus, at: Millis) -> HubResult<()> {
        self.exec(
            "UPDATE transactions SET status = $2, updated_at = $3 WHERE transfer_id = $1",
            args![transfer, &enum_str(&status), at],
        )?;
        Ok(())
    }

    fn close_transfer_lines(
        &mut self,
        transfer: TransferId,
        status: TransferStatus,
        (user, balance): (UserId, i64),
        at: Millis,
    ) -> HubResult<()> {
        self.exec(
            "UPDATE transactions SET status = $2, updated_at = $3,
                    balance_after = CASE WHEN user_id = $4 THEN $5 ELSE balance_after END
             WHERE transfer_id = $1",
            args![transfer, &enum_str(&status), at, user, balance],
        )?;
        Ok(())
    }

    fn transfer_by_key(&mut self, user: UserId, key: &str) -> HubResult<Option<(TransferId, String)>> {
        let r =
            self.opt("SELECT id, body_hash FROM transfers WHERE from_user = $1 AND idem_key = $2", args![user, key])?;
        r.map(|r| Ok((r.get(0)?, r.get(1)?))).transpose()
    }

    fn transfer_row(&mut self, tenant: TenantId, id: TransferId) -> HubResult<Option<TransferRow>> {
        let r = self.opt(
            "SELECT id, from_user, to_user, amount, currency, memo, status, progress, failure, idem_key, created_at,
               updated_at FROM transfers WHERE id = $1 AND tenant_id = $2",
            args![id, tenant],
        )?;
        r.map(|r| transfer_row(&r)).transpose()
    }

    fn insert_transfer(&mut self, t: &NewTransferRow<'_>) -> HubResult<TransferId> {
        self.insert_id(
            "INSERT INTO transfers (tenant_id, from_user, to_user, amount, currency, memo, status, progress, idem_key,
               body_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $8, $9, $9)
             RETURNING id",
            args![t.tenant, t.from, t.to, t.amount.minor, t.amount.currency.as_str(), t.memo, t.key, t.body_hash, t.at],
        )
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
            args![id, &enum_str(&status), i64::from(progress), failure, at],
        )?;
        Ok(())
    }

    fn sent_since(&mut self, user: UserId, currency: Currency, since: Millis) -> HubResult<i64> {
        self.value(
            "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM transfers
             WHERE from_user = $1 AND currency = $2 AND created_at >= $3 AND status != 'failed'",
            args![user, currency.as_str(), since],
        )
    }

    fn sent_on_day(&mut self, user: UserId, currency: Currency, day: i64) -> HubResult<i64> {
        let row = self.opt(
            "SELECT amount FROM sent_daily WHERE user_id = $1 AND currency = $2 AND day = $3",
            args![user, currency.as_str(), day],
        )?;
        row.map_or(Ok(0), |r| r.get(0))
    }

    fn add_sent(&mut self, user: UserId, currency: Currency, day: i64, amount: i64) -> HubResult<()> {
        // An older day's transfer (a clock stepping back over midnight) leaves today's total alone.
        self.exec(
            "INSERT INTO sent_daily (user_id, currency, day, amount) VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id, currency) DO UPDATE SET
               amount = CASE WHEN excluded.day > sent_daily.day THEN excluded.amount
                             WHEN excluded.day = sent_daily.day THEN sent_daily.amount + excluded.amount
                             ELSE sent_daily.amount END,
               day = CASE WHEN excluded.day > sent_daily.day THEN excluded.day ELSE sent_daily.day END",
            args![user, currency.as_str(), day, amount],
        )?;
        Ok(())
    }

    fn remove_sent(&mut self, user: UserId, currency: Currency, day: i64, amount: i64) -> HubResult<()> {
        self.exec(
            "UPDATE sent_daily SET amount = amount - $4 WHERE user_id = $1 AND currency = $2 AND day = $3",
            args![user, currency.as_str(), day, amount],
        )?;
        Ok(())
    }

    fn open_transfer_ids(&mut self, tenant: TenantId, user: UserId) -> HubResult<Vec<TransferId>> {
        self.column(
            "SELECT id FROM transfers WHERE tenant_id = $1 AND (from_user = $2 OR to_user = $2)
               AND status IN ('pending','processing','review') ORDER BY id",
            args![tenant, user],
        )
    }

    fn unfinished_transfers(&mut self) -> HubResult<Vec<(TenantId, TransferId)>> {
        let rows =
            self.rows("SELECT tenant_id, id FROM transfers WHERE status IN ('pending','processing') ORDER BY id", &[])?;
        rows.iter().map(|r| Ok((r.get(0)?, r.get(1)?))).collect()
    }

    fn stale_transfers(&mut self, before: Millis) -> HubResult<Vec<(TenantId, TransferId)>> {
        let rows = self.rows(
            "SELECT tenant_id, id FROM transfers WHERE status IN ('pending','processing') AND updated_at < $1
             ORDER BY id LIMIT 1000",
            args![before],
        )?;
        rows.iter().map(|r| Ok((r.get(0)?, r.get(1)?))).collect()
    }

    fn backdate_transfer(&mut self, id: TransferId, at: Millis) -> HubResult<()> {
        self.exec("UPDATE transactions SET created_at = $2 WHERE transfer_id = $1", args![id, at])?;
        self.exec("UPDATE transfers SET created_at = $2, updated_at = $2 WHERE id = $1", args![id, at])?;
        Ok(())
    }

    fn ledger_violations(&mut self) -> HubResult<Vec<Violation>> {
        let mut out = Vec::new();
        for r in self.rows(
            "SELECT tenant_id, currency, CAST(SUM(amount / 4294967296) AS BIGINT), CAST(SUM(amount % 4294967296) AS BIGINT)
             FROM postings GROUP BY tenant_id, currency",
            &[],
        )? {
            let sum = wide_sum(r.get(2)?, r.get(3)?);
            if sum != 0 {
                out.push(Violation::PostingsUnbalanced { tenant: r.get(0)?, currency: r.get(1)?, sum });
            }
        }
        for r in self.rows(
            "SELECT a.user_id, a.currency, a.available + a.pending,
               CAST(COALESCE((SELECT SUM(p.amount / 4294967296) FROM postings p
                 WHERE p.account_user = a.user_id AND p.currency = a.currency), 0) AS BIGINT),
               CAST(COALESCE((SELECT SUM(p.amount % 4294967296) FROM postings p
                 WHERE p.account_user = a.user_id AND p.currency = a.currency), 0) AS BIGINT)
             FROM accounts a",
            &[],
        )? {
            let (balance, posted) = (r.get::<i64>(2)? as i128, wide_sum(r.get(3)?, r.get(4)?));
            if balance != posted {
                out.push(Violation::AccountDrift { user: r.get(0)?, currency: r.get(1)?, balance, posted });
            }
        }
        for r in self.rows(
            "SELECT a.tenant_id, a.currency,
               CAST(SUM((a.available + a.pending) / 4294967296) AS BIGINT),
               CAST(SUM((a.available + a.pending) % 4294967296) AS BIGINT),
               CAST(COALESCE((SELECT SUM(p.amount / 4294967296) FROM postings p
                 WHERE p.tenant_id = a.tenant_id AND p.currency = a.currency AND p.account_user = 0), 0) AS BIGINT),
               CAST(COALESCE((SELECT SUM(p.amount % 4294967296) FROM postings p
                 WHERE p.tenant_id = a.tenant_id AND p.currency = a.currency AND p.account_user = 0), 0) AS BIGINT)
             FROM accounts a GROUP BY a.tenant_id, a.currency",
            &[],
        )? {
            let (balances, posted) = (wide_sum(r.get(2)?, r.get(3)?), wide_sum(r.get(4)?, r.get(5)?));
            if balances != -posted {
                let (tenant, currency) = (r.get(0)?, r.get(1)?);
                out.push(Violation::TenantDrift { tenant, currency, balances, external: -posted });
            }
        }
        for r in self.rows(
            "SELECT d.user_id, d.currency, d.day, d.amount,
               CAST(COALESCE(SUM(t.amount / 4294967296), 0) AS BIGINT),
               CAST(COALESCE(SUM(t.amount % 4294967296), 0) AS BIGINT)
             FROM sent_daily d LEFT JOIN transfers t ON t.from_user = d.user_id AND t.currency = d.currency
               AND t.created_at >= d.day * 86400000 AND t.created_at < (d.day + 1) * 86400000
               AND t.status != 'failed'
             GROUP BY d.user_id, d.currency, d.day, d.amount",
            &[],
        )? {
            let (kept, transfers) = (r.get::<i64>(3)?, wide_sum(r.get(4)?, r.get(5)?));
            if kept as i128 != transfers {
                let (user, currency, day) = (r.get(0)?, r.get(1)?, r.get(2)?);
                out.push(Violation::DailyTotalDrift { user, currency, day, kept, transfers });
            }
        }
        Ok(out)
    }
}
