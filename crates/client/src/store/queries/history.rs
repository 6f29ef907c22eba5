//! The history: balances, a page of transactions under a filter, the balance over time, spending by
//! counterparty and what was sent today (limits are counted over the UTC day).
use super::search::fts_query;
use super::{tx_row, TX_COLS};
use crate::store::{enum_str, now_ms, Store};
use crate::view::*;
use crate::Error;
use rusqlite::types::Value as SqlValue;
use rusqlite::{params_from_iter, OptionalExtension};
use tally_protocol::*;

/// The WHERE clause `filter_sql` extends; left as is when no filter is set.
const NO_FILTER: &str = " WHERE 1=1";

fn filter_sql(f: &TxFilter, sql: &mut String, args: &mut Vec<SqlValue>) {
    if let Some(from) = f.from {
        sql.push_str(" AND t.created_at >= ?");
        args.push(from.into());
    }
    if let Some(to) = f.to {
        sql.push_str(" AND t.created_at < ?");
        args.push(to.into());
    }
    if let Some(d) = f.direction {
        sql.push_str(" AND t.direction = ?");
        args.push(enum_str(&d).into());
    }
    if !f.kinds.is_empty() {
        sql.push_str(" AND t.kind IN (");
        sql.push_str(&vec!["?"; f.kinds.len()].join(","));
        sql.push(')');
        args.extend(f.kinds.iter().map(|k| SqlValue::from(enum_str(k))));
    }
    if let Some(q) = f.counterparty.as_deref().and_then(fts_query) {
        // Through the full-text index (username and display name), not a LIKE scan of every row.
        sql.push_str(" AND t.id IN (SELECT rowid FROM tx_fts WHERE tx_fts MATCH ?)");
        args.push(format!("counterparty : ({q})").into());
    }
    if let Some(min) = f.min_minor {
        sql.push_str(" AND t.amount >= ?");
        args.push(min.into());
    }
    if let Some(max) = f.max_minor {
        sql.push_str(" AND t.amount <= ?");
        args.push(max.into());
    }
    if let Some(c) = f.currency.as_ref().filter(|s| !s.is_empty()) {
        sql.push_str(" AND t.currency = ?");
        args.push(c.clone().into());
    }
    if let Some(q) = f.search.as_deref().and_then(fts_query) {
        sql.push_str(" AND t.id IN (SELECT rowid FROM tx_fts WHERE tx_fts MATCH ?)");
        args.push(q.into());
    }
}

impl Store {
    pub fn balances(&self) -> Result<Vec<BalanceView>, Error> {
        let c = self.reader();
        // The currency used most comes first: the UI shows it as the main balance.
        let mut stmt = c.prepare_cached(
            "SELECT currency, available, pending, as_of, confirmed_at FROM balances b
             ORDER BY (SELECT COUNT(*) FROM transactions t WHERE t.currency = b.currency) DESC, currency",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(BalanceView {
                balance: Balance {
                    currency: super::currency_col(r, 0)?,
                    available: r.get(1)?,
                    pending: r.get(2)?,
                    as_of: r.get(3)?,
                },
                as_of: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A page of history, newest first, after `cursor`.
    pub fn transactions(&self, f: &TxFilter, cursor: Option<&TxCursor>, limit: u32) -> Result<TxPage, Error> {
        let limit = limit.clamp(1, 500);
        let c = self.reader();
        let mut where_sql = String::from(NO_FILTER);
        let mut args: Vec<SqlValue> = Vec::new();
        filter_sql(f, &mut where_sql, &mut args);
        let total: u32 = match cursor {
            Some(_) => 0,
            // Unfiltered: the count the insert/delete triggers keep (migration 2), not a scan of every row.
            None if where_sql == NO_FILTER => c
                .prepare_cached("SELECT n FROM counts WHERE name = 'transactions'")?
                .query_row([], |r| r.get(0))
                .optional()?
                .unwrap_or(0),
            // Filtered: an exact COUNT(*) of the matching rows.
            None => c.query_row(
                &format!("SELECT COUNT(*) FROM transactions t{where_sql}"),
                params_from_iter(args.iter()),
                |r| r.get(0),
            )?,
        };
        let mut sql = format!("SELECT {TX_COLS} FROM transactions t{where_sql}");
        let mut page_args = args.clone();
        if let Some(cur) = cursor {
            sql.push_str(" AND (t.created_at, t.id) < (?, ?)");
            page_args.push(cur.created_at.into());
            page_args.push(cur.id.into());
        }
        sql.push_str(" ORDER BY t.created_at DESC, t.id DESC LIMIT ?");
        page_args.push((limit as i64 + 1).into());
        let mut stmt = c.prepare_cached(&sql)?;
        let mut rows: Vec<TxRow> =
            stmt.query_map(params_from_iter(page_args.iter()), tx_row)?.collect::<Result<_, _>>()?;
        let next = if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            rows.last().map(|r| TxCursor { created_at: r.tx.created_at, id: r.tx.id })
        } else {
            None
        };
        Ok(TxPage { rows, next, total })
    }

    /// Balance after each transaction of `currency` in the filtered range, oldest first, thinned to ≤ 500 points.
    pub fn balance_history(&self, currency: &str, f: &TxFilter) -> Result<Vec<BalancePoint>, Error> {
        let c = self.reader();
        let mut f = f.clone();
        f.currency = Some(currency.to_string());
        let mut sql =
            String::from("SELECT t.created_at, t.balance_after FROM transactions t WHERE t.status != 'failed'");
        let mut args = Vec::new();
        filter_sql(
            &TxFilter {
                direction: None,
                kinds: vec![],
                counterparty: None,
                min_minor: None,
                max_minor: None,
                search: None,
                ..f
            },
            &mut sql,
            &mut args,
        );
        sql.push_str(" ORDER BY t.created_at, t.id");
        let mut stmt = c.prepare_cached(&sql)?;
        let pts: Vec<BalancePoint> = stmt
            .query_map(params_from_iter(args.iter()), |r| Ok(BalancePoint { ts: r.get(0)?, balance_minor: r.get(1)? }))?
            .collect::<Result<_, _>>()?;
        if pts.len() <= 500 {
            return Ok(pts);
        }
        let step = pts.len().div_ceil(500);
        let last = pts.last().cloned();
        let mut out: Vec<BalancePoint> = pts.into_iter().step_by(step).collect();
        if let Some(l) = last {
            if out.last() != Some(&l) {
                out.push(l);
            }
        }
        Ok(out)
    }

    pub fn spending_by_counterparty(&self, f: &TxFilter) -> Result<Vec<CounterpartySpend>, Error> {
        let c = self.reader();
        let mut sql = String::from(
            "SELECT t.cp_id, MAX(t.cp_username), MAX(t.cp_name), SUM(CASE WHEN t.direction = 'out' THEN t.amount ELSE 0 END),
             SUM(CASE WHEN t.direction = 'in' THEN t.amount ELSE 0 END), COUNT(*) FROM transactions t WHERE t.cp_id IS NOT NULL AND t.status != 'failed'",
        );
        let mut args = Vec::new();
        filter_sql(f, &mut sql, &mut args);
        sql.push_str(" GROUP BY t.cp_id ORDER BY 4 DESC, 5 DESC LIMIT 20");
        let mut stmt = c.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(args.iter()), |r| {
            Ok(CounterpartySpend {
                counterparty: UserSummary {
                    id: r.get(0)?,
                    username: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                    display_name: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                },
                out_minor: r.get(3)?,
                in_minor: r.get(4)?,
                count: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// What the user sent today (since UTC midnight, as the hub counts for the daily limit), per currency:
    /// outgoing transfers that did not fail.
    pub fn sent_today(&self) -> Result<Vec<Money>, Error> {
        let day_start = now_ms() - now_ms().rem_euclid(86_400_000);
        let c = self.reader();
        let mut stmt = c.prepare_cached(
            "SELECT currency, SUM(amount) FROM transactions WHERE kind = 'transfer_out' AND status != 'failed'
             AND created_at >= ?1 GROUP BY currency ORDER BY currency",
        )?;
        let rows = stmt.query_map([day_start], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (cur, sum) = row?;
            let currency = Currency::parse(&cur).map_err(|e| Error::Storage(e.to_string()))?;
            out.push(Money::new(sum, currency));
        }
        Ok(out)
    }
}
