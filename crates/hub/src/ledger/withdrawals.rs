//! Withdrawals: a user takes money out to an account of their own. The request holds the amount
//! (available → pending, a pending history line) until the tenant's finance team pays it out (the hold is
//! posted to the tenant's external account) or rejects it with a reason (the hold goes back); the user
//! gets a `withdrawal` notification either way. A retry with the same key returns the same withdrawal.
use super::accounts::{balance, emit_balance, post};
use super::history::emit_tx;
use super::{fmt_money, EXTERNAL};
use crate::error::{HubError, HubResult};
use crate::ids::TenantId;
use crate::notify;
use crate::store::repo::{NewTxLine, NewWithdrawalRow, WithdrawalRow};
use crate::store::{now_ms, Emits, Tx};
use sha2::{Digest, Sha256};
use tally_protocol::*;

/// Longest rejection reason, in bytes.
pub const MAX_REASON_BYTES: usize = 280;

/// What a user asks for in a `withdrawal_create`.
pub struct NewWithdrawal<'a> {
    pub key: &'a str,
    pub amount: Money,
    pub destination: &'a str,
}

/// What finance decides about a pending withdrawal.
pub enum Decision<'a> {
    PayOut,
    Reject { reason: &'a str },
}

fn body_hash(amount: Money, destination: &str) -> String {
    let mut h = Sha256::new();
    h.update(amount.minor.to_le_bytes());
    h.update(amount.currency.as_str().as_bytes());
    h.update([0]);
    h.update(destination.as_bytes());
    hex::encode(h.finalize())
}

fn view(tx: &mut dyn Tx, tenant: TenantId, r: WithdrawalRow) -> HubResult<Withdrawal> {
    let user = tx.user_summary(tenant, r.user)?.ok_or_else(|| HubError::internal("withdrawal's user missing"))?;
    Ok(Withdrawal {
        id: r.id,
        user,
        amount: r.amount,
        destination: r.destination,
        status: r.status,
        reason: r.reason,
        transaction_id: r.tx,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

pub fn withdrawal(tx: &mut dyn Tx, tenant: TenantId, id: WithdrawalId) -> HubResult<Option<Withdrawal>> {
    match tx.withdrawal_row(tenant, id)? {
        Some(r) => Ok(Some(view(tx, tenant, r)?)),
        None => Ok(None),
    }
}

/// A tenant's withdrawals in `status`, oldest first (the finance queue).
pub fn withdrawals(
    tx: &mut dyn Tx,
    tenant: TenantId,
    status: WithdrawalStatus,
    after: WithdrawalId,
    limit: u32,
) -> HubResult<Vec<Withdrawal>> {
    let rows = tx.withdrawals_in(tenant, status, after, limit)?;
    rows.into_iter().map(|r| view(tx, tenant, r)).collect()
}

/// Accepts a withdrawal: idempotency, the destination's rule, then a hold of the amount.
pub fn request_withdrawal(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    user: UserId,
    req: NewWithdrawal<'_>,
) -> HubResult<Withdrawal> {
    if req.key.is_empty() || req.key.len() > 128 {
        return Err(HubError::invalid("idempotency_key must be 1-128 characters"));
    }
    let destination =
        tally_protocol::destination::destination(req.destination).map_err(|e| HubError::invalid(e.to_string()))?;
    let hash = body_hash(req.amount, &destination);
    if let Some((id, h)) = tx.withdrawal_by_key(user, req.key)? {
        if h != hash {
            return Err(HubError::new(ErrorCode::Conflict, "idempotency key already used for a different withdrawal"));
        }
        return withdrawal(tx, tenant, id)?.ok_or_else(|| HubError::internal("withdrawal vanished"));
    }
    if !req.amount.is_positive() {
        return Err(HubError::invalid("amount must be positive"));
    }
    tx.lock_parties(&[user])?;
    let amount = req.amount;
    let available = tx.account(user, amount.currency)?.map_or(0, |b| b.available);
    if available < amount.minor {
        let why = format!("available balance is {}", fmt_money(Money::new(available, amount.currency)));
        return Err(HubError::new(ErrorCode::InsufficientFunds, why));
    }
    tx.add_balance(user, amount.currency, -amount.minor, amount.minor)?;
    let at = now_ms();
    let line = tx.insert_tx_line(&NewTxLine {
        tenant,
        user,
        kind: TxKind::Withdrawal,
        direction: Direction::Out,
        amount,
        balance_after: available - amount.minor,
        counterparty: None,
        memo: &destination,
        transfer: None,
        status: TransferStatus::Pending,
        created_at: at,
    })?;
    let row = NewWithdrawalRow {
        tenant,
        user,
        amount,
        destination: &destination,
        tx: line,
        key: req.key,
        body_hash: &hash,
        at,
    };
    let id = tx.insert_withdrawal(&row)?;
    emit_balance(tx, emits, tenant, user, amount.currency)?;
    emit_tx(tx, emits, tenant, user, line)?;
    metrics::counter!(crate::series::WITHDRAWALS, "status" => "pending").increment(1);
    withdrawal(tx, tenant, id)?.ok_or_else(|| HubError::internal("withdrawal vanished"))
}

/// Pays a pending withdrawal out or rejects it; `conflict` when it was decided already.
pub fn decide_withdrawal(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    id: WithdrawalId,
    decision: Decision<'_>,
) -> HubResult<Withdrawal> {
    if let Decision::Reject { reason } = decision {
        if reason.trim().is_empty() || reason.len() > MAX_REASON_BYTES {
            return Err(HubError::invalid(format!("a rejection needs a reason of 1-{MAX_REASON_BYTES} bytes")));
        }
    }
    let user = tx.withdrawal_row(tenant, id)?.ok_or_else(|| HubError::not_found("withdrawal"))?.user;
    tx.lock_parties(&[user])?;
    // Read again under the user's lock: another operator (or hub) may have decided it meanwhile.
    let w = tx.withdrawal_row(tenant, id)?.ok_or_else(|| HubError::not_found("withdrawal"))?;
    if w.status != WithdrawalStatus::Pending {
        return Err(HubError::new(ErrorCode::Conflict, format!("this withdrawal was {} already", w.status.as_str())));
    }
    let (amount, now) = (w.amount, now_ms());
    let (status, line_status, reason) = match decision {
        Decision::PayOut => {
            tx.add_balance(w.user, amount.currency, 0, -amount.minor)?;
            post(tx, tenant, &format!("wdr:{id}"), (w.user, EXTERNAL), amount)?;
            (WithdrawalStatus::Completed, TransferStatus::Completed, None)
        }
        Decision::Reject { reason } => {
            tx.add_balance(w.user, amount.currency, amount.minor, -amount.minor)?;
            (WithdrawalStatus::Rejected, TransferStatus::Failed, Some(reason.trim()))
        }
    };
    let after = balance(tx, w.user, amount.currency)?.available;
    tx.set_line_outcome(w.tx, line_status, after, now)?;
    if !tx.decide_withdrawal(id, status, reason, now)? {
        return Err(HubError::new(ErrorCode::Conflict, "this withdrawal was decided already"));
    }
    emit_balance(tx, emits, tenant, w.user, amount.currency)?;
    emit_tx(tx, emits, tenant, w.user, w.tx)?;
    notify_outcome(tx, emits, tenant, &w, reason)?;
    metrics::counter!(crate::series::WITHDRAWALS, "status" => status.as_str()).increment(1);
    withdrawal(tx, tenant, id)?.ok_or_else(|| HubError::internal("withdrawal vanished"))
}

fn notify_outcome(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    w: &WithdrawalRow,
    rejected: Option<&str>,
) -> HubResult<()> {
    let amount = fmt_money(w.amount);
    let (title, body, priority, text) = match rejected {
        None => (
            format!("Withdrawal of {amount} paid out"),
            format!("Sent to {}", w.destination),
            Priority::Normal,
            NotificationText::WithdrawalPaid { amount: w.amount, destination: w.destination.clone() },
        ),
        Some(reason) => (
            format!("Withdrawal of {amount} rejected"),
            format!("{reason} The money is back in your balance."),
            Priority::High,
            NotificationText::WithdrawalRejected { amount: w.amount, reason: reason.to_string() },
        ),
    };
    let target = Some(NotificationTarget::Transaction { id: w.tx });
    let n = notify::New {
        tenant,
        user: w.user,
        kind: NotificationKind::Withdrawal,
        priority,
        title: &title,
        body: &body,
        target,
        text: Some(text),
    };
    notify::create(tx, emits, n)?;
    Ok(())
}
