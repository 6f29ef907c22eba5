//! The operators' live feed: `transactions` of every user, by when each line was written or last changed
//! (`transactions_feed`), narrowed by a filter. One statement per read, the same on both databases: a
//! filter field left out binds NULL and matches every row.
use super::ledger::{tx_row, TX_COLS};
use crate::error::HubResult;
use crate::store::repo::{FeedQuery, FeedRepo, FeedRow};
use crate::store::sql::{args, Db, Row};
use tally_protocol::ChangeCursor;

/// `$1`–`$6`: tenant, kind, status, currency, least amount, user. (The casts give PostgreSQL each
/// parameter's type where it is compared with NULL.)
const MATCHES: &str = "(CAST($1 AS BIGINT) IS NULL OR tenant_id = $1)
    AND (CAST($2 AS TEXT) IS NULL OR kind = $2) AND (CAST($3 AS TEXT) IS NULL OR status = $3)
    AND (CAST($4 AS TEXT) IS NULL OR currency = $4) AND (CAST($5 AS BIGINT) IS NULL OR amount >= $5)
    AND (CAST($6 AS BIGINT) IS NULL OR user_id = $6)";

fn feed_row(r: &Row) -> HubResult<FeedRow> {
    Ok(FeedRow { row: tx_row(r)?, tenant: crate::ids::TenantId(r.get(11)?), user: r.get(12)?, updated_at: r.get(13)? })
}

impl<D: Db> FeedRepo for D {
    fn feed_changes(&mut self, q: &FeedQuery, since: ChangeCursor, limit: u32) -> HubResult<Vec<FeedRow>> {
        let sql = format!(
            "SELECT {TX_COLS}, tenant_id, user_id, updated_at FROM transactions
             WHERE {MATCHES} AND (updated_at, id) > ($7, $8) ORDER BY updated_at, id LIMIT $9"
        );
        let a = args![
            q.tenant,
            q.kind.as_ref(),
            q.status.as_ref(),
            q.currency.as_ref(),
            q.min_minor,
            q.user,
            since.updated_at,
            since.id,
            i64::from(limit)
        ];
        self.rows(&sql, a)?.iter().map(feed_row).collect()
    }

    fn feed_newest(&mut self, q: &FeedQuery, limit: u32) -> HubResult<Vec<FeedRow>> {
        let sql = format!(
            "SELECT {TX_COLS}, tenant_id, user_id, updated_at FROM transactions
             WHERE {MATCHES} ORDER BY updated_at DESC, id DESC LIMIT $7"
        );
        let a = args![
            q.tenant,
            q.kind.as_ref(),
            q.status.as_ref(),
            q.currency.as_ref(),
            q.min_minor,
            q.user,
            i64::from(limit)
        ];
        self.rows(&sql, a)?.iter().map(feed_row).collect()
    }
}
