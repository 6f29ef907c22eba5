//! Payment requests as the UI lists them: open and paying ones first, then the rest, newest first.
use crate::store::Store;
use crate::view::*;
use crate::Error;
use rusqlite::params;
use tally_protocol::*;

impl Store {
    /// Up to `limit` of the user's requests (`me`: the signed-in user, to tell asked from asking).
    pub fn payment_requests(&self, me: UserId, limit: u32) -> Result<Vec<RequestView>, Error> {
        let c = self.reader();
        let mut stmt = c.prepare_cached(
            "SELECT json FROM payment_requests
             ORDER BY status IN ('open','paying') DESC, created_at DESC, id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit.clamp(1, 1000)], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for json in rows {
            let json = json?;
            let request: PaymentRequest = serde_json::from_str(&json)
                .map_err(|e| Error::Storage(format!("a cached payment request cannot be read: {e}")))?;
            out.push(RequestView { incoming: request.payer.id == me, request });
        }
        Ok(out)
    }

    /// One request, by id.
    pub fn payment_request(&self, me: UserId, id: RequestId) -> Result<Option<RequestView>, Error> {
        let request = cached_request(&self.reader(), id)?;
        Ok(request.map(|request| RequestView { incoming: request.payer.id == me, request }))
    }
}

/// One cached request as the hub last described it (the request list, a card's status).
pub(super) fn cached_request(c: &rusqlite::Connection, id: RequestId) -> Result<Option<PaymentRequest>, Error> {
    use rusqlite::OptionalExtension;
    let json: Option<String> = c
        .prepare_cached("SELECT json FROM payment_requests WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    let Some(json) = json else { return Ok(None) };
    let request = serde_json::from_str(&json)
        .map_err(|e| Error::Storage(format!("a cached payment request cannot be read: {e}")))?;
    Ok(Some(request))
}
