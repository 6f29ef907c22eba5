//! The feed of one console: the filter it asked for, and how far it has read. Each second it reads the
//! lines changed since a little before its high-water mark (`OVERLAP_MS`: on PostgreSQL several hubs
//! commit at once, and a line stamped earlier can commit later) and skips those it has sent unchanged.
//! More than `PER_TICK` in one read: the newest page instead, marked `skipped`.
use crate::error::{HubError, HubResult};
use crate::ids::TenantId;
use crate::store::repo::{FeedQuery, FeedRow};
use crate::store::{enum_str, Tx};
use std::collections::HashMap;
use tally_protocol::live::{FeedFilter, FeedLine, FEED_FIRST_PAGE, MAX_FILTER_USERNAME};
use tally_protocol::*;

/// How far back each read starts before the newest change already seen.
pub const OVERLAP_MS: i64 = 5_000;
/// Lines one read carries at most.
pub const PER_TICK: u32 = 500;

/// A console's feed: what it shows and what it has been sent.
pub struct Feed {
    query: FeedQuery,
    /// The newest change sent.
    mark: ChangeCursor,
    /// Lines sent within the overlap, by id: the change each was sent at.
    sent: HashMap<TxId, Millis>,
}

/// The query of `filter` in `tenant`; an unknown user is `not_found`, a name too long `invalid`.
pub fn query(tx: &mut dyn Tx, tenant: TenantId, filter: &FeedFilter) -> HubResult<FeedQuery> {
    let user = match filter.username.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        None => None,
        Some(u) if u.len() > MAX_FILTER_USERNAME => return Err(HubError::invalid("username: too long")),
        Some(u) => {
            let (found, _, _) =
                crate::directory::user_by_name(tx, tenant, u)?.ok_or_else(|| HubError::not_found("user"))?;
            Some(found.id)
        }
    };
    if filter.min_minor.is_some_and(|m| m < 0) {
        return Err(HubError::invalid("min_minor: an amount is not negative"));
    }
    Ok(FeedQuery {
        tenant: Some(tenant),
        kind: filter.kind.as_ref().map(enum_str),
        status: filter.status.as_ref().map(enum_str),
        currency: filter.currency.map(|c| c.as_str().to_string()),
        min_minor: filter.min_minor,
        user,
    })
}

impl Feed {
    /// A feed of `query` and its first page: the newest lines that match.
    pub fn start(tx: &mut dyn Tx, query: FeedQuery, now: Millis) -> HubResult<(Feed, Vec<FeedLine>)> {
        let rows = tx.feed_newest(&query, FEED_FIRST_PAGE)?;
        let mut feed = Feed { query, mark: ChangeCursor { updated_at: now - OVERLAP_MS, id: 0 }, sent: HashMap::new() };
        feed.note(&rows);
        Ok((feed, lines(tx, rows)?))
    }

    /// What changed since the last read (oldest first), and whether lines were skipped to keep up.
    pub fn next(&mut self, tx: &mut dyn Tx) -> HubResult<(Vec<FeedLine>, bool)> {
        let since = ChangeCursor { updated_at: self.mark.updated_at - OVERLAP_MS, id: 0 };
        let mut rows = tx.feed_changes(&self.query, since, PER_TICK + 1)?;
        if rows.len() > PER_TICK as usize {
            let mut newest = tx.feed_newest(&self.query, FEED_FIRST_PAGE)?;
            newest.reverse();
            self.sent.clear();
            self.note(&newest);
            return Ok((lines(tx, newest)?, true));
        }
        rows.retain(|r| self.sent.get(&r.row.0.id) != Some(&r.updated_at));
        self.note(&rows);
        let floor = self.mark.updated_at - OVERLAP_MS;
        self.sent.retain(|_, at| *at >= floor);
        Ok((lines(tx, rows)?, false))
    }

    fn note(&mut self, rows: &[FeedRow]) {
        for r in rows {
            self.sent.insert(r.row.0.id, r.updated_at);
            let at = ChangeCursor { updated_at: r.updated_at, id: r.row.0.id };
            if (at.updated_at, at.id) > (self.mark.updated_at, self.mark.id) {
                self.mark = at;
            }
        }
    }
}

/// Rows as `FeedLine`s: each owner and counterparty looked up once.
fn lines(tx: &mut dyn Tx, rows: Vec<FeedRow>) -> HubResult<Vec<FeedLine>> {
    let mut users: HashMap<(TenantId, UserId), Option<UserSummary>> = HashMap::new();
    let mut who = |tx: &mut dyn Tx, tenant: TenantId, id: UserId| -> HubResult<Option<UserSummary>> {
        if let Some(u) = users.get(&(tenant, id)) {
            return Ok(u.clone());
        }
        let u = tx.user_summary(tenant, id)?;
        users.insert((tenant, id), u.clone());
        Ok(u)
    };
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let (mut transaction, counterparty) = r.row;
        let user = who(tx, r.tenant, r.user)?.ok_or_else(|| HubError::internal("a line's owner is missing"))?;
        if let Some(cp) = counterparty {
            transaction.counterparty = who(tx, r.tenant, cp)?;
        }
        out.push(FeedLine { user, transaction, updated_at: r.updated_at });
    }
    Ok(out)
}
