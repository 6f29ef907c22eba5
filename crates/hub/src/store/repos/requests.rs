//! Payment requests: `payment_requests`, one row per request.
use crate::error::HubResult;
use crate::ids::TenantId;
use crate::store::enum_str;
use crate::store::repo::{NewRequestRow, RequestRepo, RequestRow};
use crate::store::sql::{args, enum_from, unreadable, Db, Row};
use tally_protocol::*;

const COLS: &str =
    "id, requester, payer, amount, currency, memo, status, expires_at, transfer_id, attempts, created_at, updated_at";

fn request_row(r: &Row) -> HubResult<RequestRow> {
    let currency = r.text(4)?;
    Ok(RequestRow {
        id: r.get(0)?,
        requester: r.get(1)?,
        payer: r.get(2)?,
        amount: Money::new(r.get(3)?, Currency::parse(currency).map_err(|_| unreadable("currency", currency))?),
        memo: r.get(5)?,
        status: enum_from("request status", r.text(6)?)?,
        expires_at: r.get(7)?,
        transfer: r.get(8)?,
        attempts: r.get(9)?,
        created_at: r.get(10)?,
        updated_at: r.get(11)?,
    })
}

impl<D: Db> RequestRepo for D {
    fn insert_request(&mut self, r: &NewRequestRow<'_>) -> HubResult<RequestId> {
        self.insert_id(
            "INSERT INTO payment_requests (tenant_id, requester, payer, amount, currency, memo, status, expires_at,
               idem_key, body_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $9, $10, $10)
             RETURNING id",
            args![
                r.tenant,
                r.requester,
                r.payer,
                r.amount.minor,
                r.amount.currency.as_str(),
                r.memo,
                r.expires_at,
                r.key,
                r.body_hash,
                r.at
            ],
        )
    }

    fn request_row(&mut self, tenant: TenantId, id: RequestId) -> HubResult<Option<RequestRow>> {
        let sql = format!("SELECT {COLS} FROM payment_requests WHERE id = $1 AND tenant_id = $2");
        self.opt(&sql, args![id, tenant])?.map(|r| request_row(&r)).transpose()
    }

    fn request_by_key(&mut self, requester: UserId, key: &str) -> HubResult<Option<(RequestId, String)>> {
        let r = self.opt(
            "SELECT id, body_hash FROM payment_requests WHERE requester = $1 AND idem_key = $2",
            args![requester, key],
        )?;
        r.map(|r| Ok((r.get(0)?, r.get(1)?))).transpose()
    }

    fn open_requests_by(&mut self, requester: UserId) -> HubResult<u64> {
        self.value("SELECT COUNT(*) FROM payment_requests WHERE requester = $1 AND status = 'open'", args![requester])
    }

    fn request_paid_by(&mut self, transfer: TransferId) -> HubResult<Option<RequestId>> {
        self.opt("SELECT id FROM payment_requests WHERE transfer_id = $1", args![transfer])?
            .map(|r| r.get(0))
            .transpose()
    }

    fn set_request_status(
        &mut self,
        id: RequestId,
        status: RequestStatus,
        paying: Option<(TransferId, i64)>,
        at: Millis,
    ) -> HubResult<()> {
        let (transfer, attempts) = (paying.map(|p| p.0), paying.map(|p| p.1));
        self.exec(
            "UPDATE payment_requests SET status = $2, transfer_id = COALESCE($3, transfer_id),
               attempts = COALESCE($4, attempts), updated_at = $5 WHERE id = $1",
            args![id, &enum_str(&status), transfer, attempts, at],
        )?;
        Ok(())
    }

    fn request_ids_of(&mut self, tenant: TenantId, user: UserId, limit: u32) -> HubResult<Vec<RequestId>> {
        let mut ids: Vec<RequestId> = self.column(
            "SELECT id FROM payment_requests WHERE tenant_id = $1 AND (requester = $2 OR payer = $2)
               AND status IN ('open','paying')",
            args![tenant, user],
        )?;
        ids.extend(self.column::<RequestId>(
            "SELECT id FROM (SELECT id FROM payment_requests WHERE requester = $2 AND tenant_id = $1
                UNION ALL SELECT id FROM payment_requests WHERE payer = $2 AND tenant_id = $1) AS mine
             ORDER BY id DESC LIMIT $3",
            args![tenant, user, i64::from(limit)],
        )?);
        ids.sort_unstable_by(|a, b| b.cmp(a));
        ids.dedup();
        Ok(ids)
    }

    fn expired_requests(&mut self, now: Millis, limit: u32) -> HubResult<Vec<(TenantId, RequestId)>> {
        let rows = self.rows(
            "SELECT tenant_id, id FROM payment_requests WHERE status = 'open' AND expires_at < $1
             ORDER BY expires_at LIMIT $2",
            args![now, i64::from(limit)],
        )?;
        rows.iter().map(|r| Ok((r.get(0)?, r.get(1)?))).collect()
    }
}
