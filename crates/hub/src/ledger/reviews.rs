//! Compliance holds: a new transfer that matches one of its tenant's rules (`crate::compliance`) waits in
//! `review` — the money held from the sender, nothing posted — until finance releases it (it goes on as
//! `pending` and completes as any transfer) or rejects it (it fails and the hold goes back). The rule that
//! held it is kept for the operators and never shown to the parties; the sender reads "under review".
use super::fmt_money;
use super::transfers::{finish, publish, refund, transfer};
use crate::error::{HubError, HubResult};
use crate::ids::TenantId;
use crate::notify;
use crate::store::{now_ms, Emits, Tx};
use tally_protocol::http::HeldTransfer;
use tally_protocol::*;

/// Puts the transfer just held (`id`) in review when a rule says so, and tells the sender.
pub(super) fn hold_if_flagged(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    (from, to): (&UserSummary, &UserSummary),
    id: TransferId,
    amount: Money,
) -> HubResult<()> {
    let Some(reason) = crate::compliance::flag(tx, tenant, (from.id, to.id), id, amount)? else { return Ok(()) };
    let now = now_ms();
    tx.set_transfer_status(id, TransferStatus::Review, 0, None, now)?;
    tx.set_transfer_lines_status(id, TransferStatus::Review, now)?;
    tx.insert_review(id, tenant, &reason, now)?;
    let title = format!("Your payment of {} to {} is under review", fmt_money(amount), to.display_name);
    let body = "The money is held meanwhile. You'll be told when it goes through or comes back.";
    let target = Some(NotificationTarget::Transfer { id });
    let (kind, priority) = (NotificationKind::Transfer, Priority::Normal);
    let text = Some(NotificationText::TransferInReview { to: to.display_name.clone(), amount });
    notify::create(
        tx,
        emits,
        notify::New { tenant, user: from.id, kind, priority, title: &title, body, target, text },
    )?;
    Ok(())
}

/// The tenant's transfers waiting for a review, oldest first.
pub fn reviews(tx: &mut dyn Tx, tenant: TenantId, after: TransferId, limit: u32) -> HubResult<Vec<HeldTransfer>> {
    let mut out = Vec::new();
    for (id, reason, held_at) in tx.open_reviews(tenant, after, limit)? {
        let transfer = transfer(tx, tenant, id)?.ok_or_else(|| HubError::internal("held transfer missing"))?;
        out.push(HeldTransfer { transfer, reason, held_at });
    }
    Ok(out)
}

/// Releases a held transfer (posted in this job: completed, or failed when the recipient cannot take it)
/// or rejects it (failed, the hold returned). `conflict` when it is not waiting for a review.
pub fn decide_review(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    id: TransferId,
    release: bool,
) -> HubResult<Transfer> {
    let t = tx.transfer_row(tenant, id)?.ok_or_else(|| HubError::not_found("transfer"))?;
    tx.lock_parties(&[t.from, t.to])?;
    let t = tx.transfer_row(tenant, id)?.ok_or_else(|| HubError::not_found("transfer"))?;
    if t.status != TransferStatus::Review {
        return Err(HubError::new(ErrorCode::Conflict, "this transfer is not waiting for a review"));
    }
    let now = now_ms();
    let status =
        if release { finish(tx, tenant, &t, now)? } else { refund(tx, &t, now, "This payment was not approved.")? };
    if !tx.close_review(id, if release { "released" } else { "rejected" }, now)? {
        return Err(HubError::new(ErrorCode::Conflict, "this review was decided already"));
    }
    let shown = publish(tx, emits, tenant, &t, status)?;
    Ok(shown)
}
