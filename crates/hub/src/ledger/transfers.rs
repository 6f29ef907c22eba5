//! Transfers between users: accepted idempotently (a hold: available → pending), then advanced by the
//! hub's processor (pending → processing → completed, or failed with the hold returned).
use super::accounts::{balance, emit_balance, post};
use super::history::emit_tx;
use super::{fmt_money, validate_memo};
use crate::error::{HubError, HubResult};
use crate::ids::TenantId;
use crate::log;
use crate::notify;
use crate::store::repo::{NewTransferRow, NewTxLine, TransferRow};
use crate::store::{now_ms, Emits, Tx};
use sha2::{Digest, Sha256};
use tally_protocol::*;

fn body_hash(to: &str, amount: Money, memo: &str) -> String {
    let mut h = Sha256::new();
    h.update(to.as_bytes());
    h.update([0]);
    h.update(amount.minor.to_le_bytes());
    h.update(amount.currency.as_str().as_bytes());
    h.update([0]);
    h.update(memo.as_bytes());
    hex::encode(h.finalize())
}

fn from_row(tx: &mut dyn Tx, tenant: TenantId, r: TransferRow) -> HubResult<Transfer> {
    let from = tx.user_summary(tenant, r.from)?.ok_or_else(|| HubError::internal("sender missing"))?;
    let to = tx.user_summary(tenant, r.to)?.ok_or_else(|| HubError::internal("recipient missing"))?;
    Ok(Transfer {
        id: r.id,
        from,
        to,
        amount: r.amount,
        memo: r.memo,
        status: r.status,
        progress: r.progress,
        failure: r.failure,
        idempotency_key: Some(r.key),
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

pub fn transfer(tx: &mut dyn Tx, tenant: TenantId, id: TransferId) -> HubResult<Option<Transfer>> {
    match tx.transfer_row(tenant, id)? {
        Some(r) => Ok(Some(from_row(tx, tenant, r)?)),
        None => Ok(None),
    }
}

/// The transfer as a given user may see it (the idempotency key only for its sender).
pub fn transfer_for(tx: &mut dyn Tx, tenant: TenantId, id: TransferId, viewer: UserId) -> HubResult<Option<Transfer>> {
    Ok(transfer(tx, tenant, id)?.filter(|t| t.from.id == viewer || t.to.id == viewer).map(|mut t| {
        if t.from.id != viewer {
            t.idempotency_key = None;
        }
        t
    }))
}

/// The sender's own transfer with this idempotency key, key included.
pub fn transfer_by_key(tx: &mut dyn Tx, tenant: TenantId, user: UserId, key: &str) -> HubResult<Option<Transfer>> {
    match tx.transfer_by_key(user, key)? {
        Some((id, _)) => transfer_for(tx, tenant, id, user),
        None => Ok(None),
    }
}

pub fn open_transfers(tx: &mut dyn Tx, tenant: TenantId, user: UserId) -> HubResult<Vec<Transfer>> {
    let mut out = Vec::new();
    for id in tx.open_transfer_ids(tenant, user)? {
        if let Some(t) = transfer_for(tx, tenant, id, user)? {
            out.push(t);
        }
    }
    Ok(out)
}

pub fn unfinished_transfers(tx: &mut dyn Tx) -> HubResult<Vec<(TenantId, TransferId)>> {
    tx.unfinished_transfers()
}

/// Unfinished transfers not moved for `idle_ms`: the hub driving them is gone (or its steps failed).
pub fn stale_transfers(tx: &mut dyn Tx, idle_ms: i64) -> HubResult<Vec<(TenantId, TransferId)>> {
    tx.stale_transfers(now_ms() - idle_ms)
}

pub(super) fn emit_transfer(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    id: TransferId,
) -> HubResult<Transfer> {
    let mut t = transfer(tx, tenant, id)?.ok_or_else(|| HubError::internal("transfer vanished"))?;
    let key = t.idempotency_key.take(); // the channel is shared by both parties: no key on it
    log::append(tx, emits, tenant, Channel::Transfer(id), EventData::Transfer { transfer: t.clone() })?;
    t.idempotency_key = key;
    Ok(t)
}

/// Whether this request created a new transfer or returned an earlier one with the same key.
pub enum Created {
    New(Transfer),
    Existing(Transfer),
}

/// What a sender asks for in a `transfer_create`.
pub struct NewTransfer<'a> {
    pub key: &'a str,
    pub to: &'a str,
    pub amount: Money,
    pub memo: &'a str,
    /// The sender's deadline; a new transfer past it is refused with `expired`.
    pub expires_at: Option<Millis>,
}

/// Accepts a transfer: idempotency, validation, limits, then a hold of the amount (available → pending).
pub fn create_transfer(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    from: &UserSummary,
    req: NewTransfer<'_>,
) -> HubResult<Created> {
    if req.key.is_empty() || req.key.len() > 128 {
        return Err(HubError::invalid("idempotency_key must be 1-128 characters"));
    }
    let hash = body_hash(req.to, req.amount, req.memo);
    if let Some((id, h)) = tx.transfer_by_key(from.id, req.key)? {
        if h != hash {
            return Err(HubError::new(ErrorCode::Conflict, "idempotency key already used for a different transfer"));
        }
        let t = transfer(tx, tenant, id)?.ok_or_else(|| HubError::internal("transfer vanished"))?;
        return Ok(Created::Existing(t));
    }
    if req.expires_at.is_some_and(|deadline| now_ms() > deadline) {
        return Err(HubError::new(ErrorCode::Expired, "this payment's deadline passed before it reached the hub"));
    }
    if !req.amount.is_positive() {
        return Err(HubError::invalid("amount must be positive"));
    }
    validate_memo(req.memo)?;
    let to = recipient(tx, tenant, from, req.to)?;
    tx.lock_parties(&[from.id, to.id])?;
    check_limits(tx, tenant, from.id, req.amount)?;
    let id = hold(tx, tenant, from.id, &to, &req, &hash)?;
    super::reviews::hold_if_flagged(tx, emits, tenant, (from, &to), id, req.amount)?;
    let row = tx.transfer_row(tenant, id)?.ok_or_else(|| HubError::internal("transfer vanished"))?;
    let created = if row.status == TransferStatus::Review { "review" } else { "pending" };
    metrics::counter!(crate::series::TRANSFERS, "status" => created).increment(1);
    // Between two Tally users nothing waits: the hold is posted in the job that made it. Only a transfer
    // held for review stays open (until finance decides).
    let status = if row.status == TransferStatus::Pending { finish(tx, tenant, &row, now_ms())? } else { row.status };
    Ok(Created::New(publish(tx, emits, tenant, &row, status)?))
}

/// The active recipient by username; never the sender.
fn recipient(tx: &mut dyn Tx, tenant: TenantId, from: &UserSummary, username: &str) -> HubResult<UserSummary> {
    let (to, _, active) =
        crate::directory::user_by_name(tx, tenant, username)?.ok_or_else(|| HubError::not_found("recipient"))?;
    if !active {
        return Err(HubError::not_found("recipient"));
    }
    if to.id == from.id {
        return Err(HubError::invalid("you cannot send money to yourself"));
    }
    Ok(to)
}

/// The sender's single and daily limits (the caller raises the `limits` notification in its own job).
fn check_limits(tx: &mut dyn Tx, tenant: TenantId, from: UserId, amount: Money) -> HubResult<()> {
    let (single, daily) = tx.transfer_limits(tenant, from)?.ok_or_else(|| HubError::internal("sender missing"))?;
    let sent_today = tx.sent_on_day(from, amount.currency, day_of(now_ms()))?;
    let money = |m| fmt_money(Money::new(m, amount.currency));
    // Limits mean the same in every currency (hundredths of a major unit): in this one's minor units.
    let (single, daily) = (limit_in(single, amount.currency), limit_in(daily, amount.currency));
    if amount.minor > single {
        return Err(HubError::new(ErrorCode::LimitExceeded, format!("single transfer limit is {}", money(single))));
    }
    if sent_today.checked_add(amount.minor).is_none_or(|total| total > daily) {
        let why = format!("daily limit is {}; {} already sent today", money(daily), money(sent_today));
        return Err(HubError::new(ErrorCode::LimitExceeded, why));
    }
    Ok(())
}

/// Moves a transfer back in time (the demo's month of history): its amount moves from the running total of
/// the day it was made on to the new day's (kept only while that is the sender's latest day), so the daily
/// limit and the ledger's invariants stay true.
pub fn backdate_transfer(tx: &mut dyn Tx, tenant: TenantId, id: TransferId, at: Millis) -> HubResult<()> {
    let t = tx.transfer_row(tenant, id)?.ok_or_else(|| HubError::not_found("transfer"))?;
    if t.status != TransferStatus::Failed {
        tx.remove_sent(t.from, t.amount.currency, day_of(t.created_at), t.amount.minor)?;
        tx.add_sent(t.from, t.amount.currency, day_of(at), t.amount.minor)?;
    }
    tx.backdate_transfer(id, at)
}

/// The UTC day a time falls on, as the daily limit counts days.
fn day_of(at: Millis) -> i64 {
    at.div_euclid(86_400_000)
}

/// Paying in a currency the sender holds no account in: with money in other currencies that is a
/// mistake in the request (`invalid`, naming what they hold); with no money at all, a lack of funds.
fn no_account(tx: &mut dyn Tx, from: UserId, currency: Currency) -> HubError {
    let held: Vec<String> = match tx.accounts(from) {
        Ok(a) => a.iter().map(|b| b.currency.to_string()).collect(),
        Err(e) => return e,
    };
    if held.is_empty() {
        let why = format!("available balance is {}", fmt_money(Money::new(0, currency)));
        return HubError::new(ErrorCode::InsufficientFunds, why);
    }
    HubError::invalid(format!("you have no {currency} account (you hold {})", held.join(", ")))
}

/// Holds the amount (available → pending), stores the transfer and both parties' pending lines.
fn hold(
    tx: &mut dyn Tx,
    tenant: TenantId,
    from: UserId,
    to: &UserSummary,
    req: &NewTransfer<'_>,
    hash: &str,
) -> HubResult<TransferId> {
    let amount = req.amount;
    let available = match tx.account(from, amount.currency)? {
        Some(own) => own.available,
        None => return Err(no_account(tx, from, amount.currency)),
    };
    tx.ensure_account(tenant, to.id, amount.currency)?;
    if available < amount.minor {
        let why = format!("available balance is {}", fmt_money(Money::new(available, amount.currency)));
        return Err(HubError::new(ErrorCode::InsufficientFunds, why));
    }
    tx.add_balance(from, amount.currency, -amount.minor, amount.minor)?;
    let at = now_ms();
    tx.add_sent(from, amount.currency, day_of(at), amount.minor)?;
    let row = NewTransferRow { tenant, from, to: to.id, amount, memo: req.memo, key: req.key, body_hash: hash, at };
    let id = tx.insert_transfer(&row)?;
    let legs = [(from, TxKind::TransferOut, Direction::Out, to.id), (to.id, TxKind::TransferIn, Direction::In, from)];
    for (user, kind, direction, other) in legs {
        let balance_after = balance(tx, user, amount.currency)?.available;
        tx.insert_tx_line(&NewTxLine {
            tenant,
            user,
            kind,
            direction,
            amount,
            balance_after,
            counterparty: Some(other),
            memo: req.memo,
            transfer: Some(id),
            status: TransferStatus::Pending,
            created_at: at,
        })?;
    }
    Ok(id)
}

/// Finishes a transfer left open (`pending` or `processing`: made by an earlier version, or its job
/// interrupted): completed, or failed when the recipient cannot take it. Returns the new status, or None
/// when it was final already or waits for a review.
pub fn advance_transfer(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    id: TransferId,
) -> HubResult<Option<TransferStatus>> {
    let Some(t) = tx.transfer_row(tenant, id)? else { return Ok(None) };
    // Read again under the parties' locks: another hub may have moved it meanwhile.
    tx.lock_parties(&[t.from, t.to])?;
    let Some(t) = tx.transfer_row(tenant, id)? else { return Ok(None) };
    match t.status {
        TransferStatus::Pending | TransferStatus::Processing => {}
        TransferStatus::Completed | TransferStatus::Failed | TransferStatus::Review => return Ok(None),
    }
    let next = finish(tx, tenant, &t, now_ms())?;
    publish(tx, emits, tenant, &t, next)?;
    Ok(Some(next))
}

/// Posts a held transfer: completed, or failed (the hold returned) when the recipient's account closed
/// meanwhile or their balance cannot hold that much.
pub(super) fn finish(tx: &mut dyn Tx, tenant: TenantId, t: &TransferRow, now: Millis) -> HubResult<TransferStatus> {
    if tx.user_active(t.to)? != Some(true) {
        return refund(tx, t, now, "recipient account is closed");
    }
    if !can_receive(tx, t)? {
        return refund(tx, t, now, "the recipient's balance cannot hold that much");
    }
    settle(tx, tenant, t, now)
}

/// Tells both parties where a transfer stands after this job: the transfer on its channel, both balances
/// and both history lines; once it is final, the notifications, the request it pays and the count.
pub(super) fn publish(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    t: &TransferRow,
    status: TransferStatus,
) -> HubResult<Transfer> {
    let shown = emit_transfer(tx, emits, tenant, t.id)?;
    emit_balance(tx, emits, tenant, t.from, t.amount.currency)?;
    emit_balance(tx, emits, tenant, t.to, t.amount.currency)?;
    for (line, user) in tx.transfer_lines(t.id)? {
        emit_tx(tx, emits, tenant, user, line)?;
    }
    if status.is_final() {
        notify_outcome(tx, emits, tenant, &shown, status)?;
        super::requests::on_transfer_final(tx, emits, tenant, t.id, status)?;
        let label = if status == TransferStatus::Completed { "completed" } else { "failed" };
        metrics::counter!(crate::series::TRANSFERS, "status" => label).increment(1);
    }
    Ok(shown)
}

/// The hold becomes the recipient's money: pending → their available, and the entry is posted.
fn settle(tx: &mut dyn Tx, tenant: TenantId, t: &TransferRow, now: Millis) -> HubResult<TransferStatus> {
    tx.add_balance(t.from, t.amount.currency, 0, -t.amount.minor)?;
    tx.add_balance(t.to, t.amount.currency, t.amount.minor, 0)?;
    post(tx, tenant, &format!("tr:{}", t.id), (t.from, t.to), t.amount)?;
    tx.set_transfer_status(t.id, TransferStatus::Completed, 100, None, now)?;
    let to_after = balance(tx, t.to, t.amount.currency)?.available;
    tx.close_transfer_lines(t.id, TransferStatus::Completed, (t.to, to_after), now)?;
    Ok(TransferStatus::Completed)
}

/// Whether the recipient's balance can take the amount (a balance is at most i64 minor units).
fn can_receive(tx: &mut dyn Tx, t: &TransferRow) -> HubResult<bool> {
    Ok(balance(tx, t.to, t.amount.currency)?.available.checked_add(t.amount.minor).is_some())
}

/// The recipient cannot take the money (the account closed meanwhile, or its balance is full): the hold
/// goes back to the sender.
pub(super) fn refund(tx: &mut dyn Tx, t: &TransferRow, now: Millis, why: &str) -> HubResult<TransferStatus> {
    tx.add_balance(t.from, t.amount.currency, t.amount.minor, -t.amount.minor)?;
    tx.remove_sent(t.from, t.amount.currency, day_of(t.created_at), t.amount.minor)?;
    tx.set_transfer_status(t.id, TransferStatus::Failed, 100, Some(why), now)?;
    let from_after = balance(tx, t.from, t.amount.currency)?.available;
    tx.close_transfer_lines(t.id, TransferStatus::Failed, (t.from, from_after), now)?;
    Ok(TransferStatus::Failed)
}

pub(super) fn notify_outcome(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    t: &Transfer,
    status: TransferStatus,
) -> HubResult<()> {
    let target = Some(NotificationTarget::Transfer { id: t.id });
    let amount = fmt_money(t.amount);
    let (from, to) = (t.from.display_name.clone(), t.to.display_name.clone());
    let notes = match status {
        TransferStatus::Completed => vec![
            (
                (t.to.id, NotificationKind::Payment, Priority::Normal),
                format!("{from} paid you {amount}"),
                t.memo.clone(),
                NotificationText::PaymentReceived { from, amount: t.amount },
            ),
            (
                (t.from.id, NotificationKind::Transfer, Priority::Low),
                format!("{amount} sent to {to}"),
                t.memo.clone(),
                NotificationText::PaymentSent { to, amount: t.amount },
            ),
        ],
        TransferStatus::Failed => vec![(
            (t.from.id, NotificationKind::Transfer, Priority::High),
            format!("Transfer of {amount} to {to} failed"),
            "The money is back in your balance.".to_string(),
            NotificationText::TransferFailed { to, amount: t.amount },
        )],
        TransferStatus::Pending | TransferStatus::Processing | TransferStatus::Review => vec![],
    };
    for ((user, kind, priority), title, body, text) in notes {
        let (target, text) = (target.clone(), Some(text));
        let n = notify::New { tenant, user, kind, priority, title: &title, body: &body, target, text };
        notify::create(tx, emits, n)?;
    }
    Ok(())
}
