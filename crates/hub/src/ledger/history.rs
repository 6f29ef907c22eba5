//! A user's transaction lines: one per movement of their money, with the counterparty resolved.
use crate::error::HubResult;
use crate::ids::TenantId;
use crate::log;
use crate::store::repo::TxRow;
use crate::store::{Emits, Tx};
use std::collections::HashMap;
use tally_protocol::*;

pub fn transaction(tx: &mut dyn Tx, tenant: TenantId, id: TxId) -> HubResult<Option<Transaction>> {
    match tx.tx_line(tenant, id)? {
        Some(row) => Ok(with_counterparties(tx, tenant, vec![row])?.pop()),
        None => Ok(None),
    }
}

/// Resolves counterparties of a page of rows, looking each user up once.
fn with_counterparties(tx: &mut dyn Tx, tenant: TenantId, rows: Vec<TxRow>) -> HubResult<Vec<Transaction>> {
    let mut seen: HashMap<UserId, Option<UserSummary>> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for (mut t, cp) in rows {
        if let Some(cp) = cp {
            let user = match seen.get(&cp) {
                Some(u) => u.clone(),
                None => {
                    let u = tx.user_summary(tenant, cp)?;
                    seen.insert(cp, u.clone());
                    u
                }
            };
            t.counterparty = user;
        }
        out.push(t);
    }
    Ok(out)
}

/// A page of a user's transactions, newest first, with ids below `before` (at most `MAX_SNAPSHOT_PAGE`).
pub fn transactions_page(
    tx: &mut dyn Tx,
    tenant: TenantId,
    user: UserId,
    before: Option<TxId>,
    limit: u32,
) -> HubResult<(Vec<Transaction>, Option<TxId>)> {
    let limit = limit.clamp(1, MAX_SNAPSHOT_PAGE);
    let rows = tx.tx_lines_before(tenant, user, before.unwrap_or(i64::MAX), limit + 1)?;
    let mut out = with_counterparties(tx, tenant, rows)?;
    let next = if out.len() > limit as usize {
        out.truncate(limit as usize);
        out.last().map(|t| t.id)
    } else {
        None
    };
    Ok((out, next))
}

/// How many transactions a user has.
pub fn transactions_count(tx: &mut dyn Tx, tenant: TenantId, user: UserId) -> HubResult<u64> {
    tx.tx_line_count(tenant, user)
}

/// Transactions created or changed after `since`, oldest change first, and the cursor of the next page.
pub fn transaction_changes(
    tx: &mut dyn Tx,
    tenant: TenantId,
    user: UserId,
    since: ChangeCursor,
    limit: u32,
) -> HubResult<(Vec<Transaction>, Option<ChangeCursor>)> {
    let limit = limit.clamp(1, MAX_SNAPSHOT_PAGE);
    let mut rows = tx.tx_lines_changed(tenant, user, since, limit + 1)?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next = if more { rows.last().map(|((t, _), at)| ChangeCursor { updated_at: *at, id: t.id }) } else { None };
    let out = with_counterparties(tx, tenant, rows.into_iter().map(|(r, _)| r).collect())?;
    Ok((out, next))
}

pub(super) fn emit_tx(tx: &mut dyn Tx, emits: &mut Emits, tenant: TenantId, user: UserId, id: TxId) -> HubResult<()> {
    if let Some(t) = transaction(tx, tenant, id)? {
        log::append(tx, emits, tenant, Channel::Transactions(user), EventData::Transaction { transaction: t })?;
    }
    Ok(())
}
