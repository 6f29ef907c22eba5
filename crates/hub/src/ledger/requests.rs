//! Payment requests: one person asks another for money. The payer pays one in a single step (a transfer
//! to the requester, linked to the request), or declines it; the requester may withdraw it while it is
//! open; past its `expires_at` it cannot be paid and the hub marks it `expired`. Every change is an event
//! on both parties' `user:` channels.
use super::transfers::{create_transfer, transfer_for, Created, NewTransfer};
use super::{fmt_money, validate_memo};
use crate::error::{HubError, HubResult};
use crate::ids::TenantId;
use crate::log;
use crate::notify;
use crate::store::repo::{NewRequestRow, RequestRow};
use crate::store::{now_ms, Emits, Tx};
use sha2::{Digest, Sha256};
use tally_protocol::*;

/// Most open requests one person may have out at a time: asking is free, so it is capped.
pub const MAX_OPEN_REQUESTS: u64 = 100;

/// What a requester asks for in a `request_create`.
pub struct NewRequest<'a> {
    pub key: &'a str,
    pub to: &'a str,
    pub amount: Money,
    pub memo: &'a str,
    pub expires_at: Option<Millis>,
}

fn body_hash(r: &NewRequest<'_>) -> String {
    let mut h = Sha256::new();
    h.update(r.to.as_bytes());
    h.update([0]);
    h.update(r.amount.minor.to_le_bytes());
    h.update(r.amount.currency.as_str().as_bytes());
    h.update([0]);
    h.update(r.memo.as_bytes());
    h.update([0]);
    h.update(r.expires_at.unwrap_or(0).to_le_bytes());
    hex::encode(h.finalize())
}

fn from_row(tx: &mut dyn Tx, tenant: TenantId, r: RequestRow) -> HubResult<PaymentRequest> {
    let requester = tx.user_summary(tenant, r.requester)?.ok_or_else(|| HubError::internal("requester missing"))?;
    let payer = tx.user_summary(tenant, r.payer)?.ok_or_else(|| HubError::internal("payer missing"))?;
    Ok(PaymentRequest {
        id: r.id,
        requester,
        payer,
        amount: r.amount,
        memo: r.memo,
        status: r.status,
        expires_at: r.expires_at,
        transfer: r.transfer,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

/// The request as `viewer` may see it: only its two parties see it at all.
pub fn request_for(
    tx: &mut dyn Tx,
    tenant: TenantId,
    id: RequestId,
    viewer: UserId,
) -> HubResult<Option<PaymentRequest>> {
    match tx.request_row(tenant, id)? {
        Some(r) if r.requester == viewer || r.payer == viewer => Ok(Some(from_row(tx, tenant, r)?)),
        _ => Ok(None),
    }
}

/// The user's requests, newest first: every open one and the newest `MAX_SNAPSHOT_PAGE`.
pub fn requests_of(tx: &mut dyn Tx, tenant: TenantId, user: UserId) -> HubResult<Vec<PaymentRequest>> {
    let mut out = Vec::new();
    for id in tx.request_ids_of(tenant, user, MAX_SNAPSHOT_PAGE)? {
        if let Some(r) = request_for(tx, tenant, id, user)? {
            out.push(r);
        }
    }
    Ok(out)
}

/// Publishes the request's current state on both parties' channels.
fn emit_request(tx: &mut dyn Tx, emits: &mut Emits, tenant: TenantId, id: RequestId) -> HubResult<PaymentRequest> {
    let row = tx.request_row(tenant, id)?.ok_or_else(|| HubError::internal("request vanished"))?;
    let r = from_row(tx, tenant, row)?;
    for user in [r.requester.id, r.payer.id] {
        log::append(tx, emits, tenant, Channel::User(user), EventData::Request { request: r.clone() })?;
    }
    Ok(r)
}

/// Asks `req.to` for money: idempotency, validation, then the request and the payer's notification.
/// Returns the request and whether it is new (false: the earlier one with this key).
pub fn create_request(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    me: &UserSummary,
    req: NewRequest<'_>,
) -> HubResult<(PaymentRequest, bool)> {
    if req.key.is_empty() || req.key.len() > 128 {
        return Err(HubError::invalid("idempotency_key must be 1-128 characters"));
    }
    let hash = body_hash(&req);
    if let Some((id, h)) = tx.request_by_key(me.id, req.key)? {
        if h != hash {
            return Err(HubError::new(ErrorCode::Conflict, "idempotency key already used for a different request"));
        }
        let r = request_for(tx, tenant, id, me.id)?.ok_or_else(|| HubError::internal("request vanished"))?;
        return Ok((r, false));
    }
    validate_request(&req)?;
    let payer = payer(tx, tenant, me, req.to)?;
    if tx.open_requests_by(me.id)? >= MAX_OPEN_REQUESTS {
        let why = format!("you have {MAX_OPEN_REQUESTS} open requests: cancel some before asking again");
        return Err(HubError::new(ErrorCode::LimitExceeded, why));
    }
    let row = NewRequestRow {
        tenant,
        requester: me.id,
        payer: payer.id,
        amount: req.amount,
        memo: req.memo,
        expires_at: req.expires_at,
        key: req.key,
        body_hash: &hash,
        at: now_ms(),
    };
    let id = tx.insert_request(&row)?;
    let r = emit_request(tx, emits, tenant, id)?;
    let title = format!("{} requests {}", me.display_name, fmt_money(r.amount));
    let target = Some(NotificationTarget::Request { id });
    let (kind, priority) = (NotificationKind::PaymentRequest, Priority::Normal);
    let text = Some(NotificationText::PaymentRequested { from: me.display_name.clone(), amount: r.amount });
    notify::create(
        tx,
        emits,
        notify::New { tenant, user: payer.id, kind, priority, title: &title, body: &r.memo, target, text },
    )?;
    Ok((r, true))
}

fn validate_request(req: &NewRequest<'_>) -> HubResult<()> {
    if !req.amount.is_positive() {
        return Err(HubError::invalid("amount must be positive"));
    }
    validate_memo(req.memo)?;
    if let Some(at) = req.expires_at {
        let now = now_ms();
        if at <= now {
            return Err(HubError::invalid("expires_at must be in the future"));
        }
        if at - now > MAX_REQUEST_EXPIRY_MS {
            return Err(HubError::invalid("a request may run for at most 90 days"));
        }
    }
    Ok(())
}

/// What a requester asks for in a `request_split`.
#[derive(Clone, Copy)]
pub struct NewSplit<'a> {
    pub key: &'a str,
    pub total: Money,
    pub with: &'a [String],
    pub memo: &'a str,
    pub expires_at: Option<Millis>,
}

/// Most people one split may ask.
pub const MAX_SPLIT_WITH: usize = 49;

/// Splits `total` between `me` and `split.with`: one request to each of them for `total / n` (n counts
/// `me`; the cents left over stay in `me`'s own share). Each request's key is the split's and the payer's,
/// so a retry finds the same requests.
pub fn split_request(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    me: &UserSummary,
    split: NewSplit<'_>,
) -> HubResult<Vec<PaymentRequest>> {
    let mut with: Vec<String> = split.with.iter().map(|u| u.trim().to_lowercase()).collect();
    with.sort();
    with.dedup();
    if with.is_empty() || with.len() > MAX_SPLIT_WITH || with.len() != split.with.len() {
        return Err(HubError::invalid(format!("a split asks 1-{MAX_SPLIT_WITH} different people")));
    }
    if split.key.is_empty() || split.key.len() > 64 {
        return Err(HubError::invalid("idempotency_key must be 1-64 characters"));
    }
    let people = i64::try_from(with.len() + 1).map_err(HubError::internal)?;
    let share = split.total.minor / people;
    if !split.total.is_positive() || share <= 0 {
        return Err(HubError::invalid("the total is too small to split between that many people"));
    }
    let mut out = Vec::with_capacity(with.len());
    for who in split.with {
        let key = format!("{}:{}", split.key, who.trim().to_lowercase());
        let amount = Money::new(share, split.total.currency);
        let req = NewRequest { key: &key, to: who, amount, memo: split.memo, expires_at: split.expires_at };
        out.push(create_request(tx, emits, tenant, me, req)?.0);
    }
    Ok(out)
}

/// The active payer by username; never the requester.
fn payer(tx: &mut dyn Tx, tenant: TenantId, me: &UserSummary, username: &str) -> HubResult<UserSummary> {
    match crate::directory::user_by_name(tx, tenant, username)? {
        Some((u, _, true)) if u.id == me.id => Err(HubError::invalid("you cannot request money from yourself")),
        Some((u, _, true)) => Ok(u),
        _ => Err(HubError::not_found("user")),
    }
}

/// The request if `me` is its payer (`not_found` to anyone but its parties, `invalid` to its requester).
fn as_payer(tx: &mut dyn Tx, tenant: TenantId, me: UserId, id: RequestId) -> HubResult<RequestRow> {
    match tx.request_row(tenant, id)? {
        Some(r) if r.payer == me => Ok(r),
        Some(r) if r.requester == me => Err(HubError::invalid("this is your own request: the other person pays it")),
        _ => Err(HubError::not_found("request")),
    }
}

/// Pays a request made of `me`: a transfer of its amount to the requester. While that transfer is on its
/// way or after it completed, the same transfer again (paying twice is impossible).
pub fn pay_request(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    me: &UserSummary,
    id: RequestId,
) -> HubResult<Created> {
    let r = as_payer(tx, tenant, me.id, id)?;
    // Read again under the parties' locks: another device of the payer may be paying it at this moment.
    tx.lock_parties(&[r.requester, r.payer])?;
    let r = as_payer(tx, tenant, me.id, id)?;
    match (r.status, r.transfer) {
        (RequestStatus::Paying | RequestStatus::Paid, Some(t)) => {
            let t = transfer_for(tx, tenant, t, me.id)?.ok_or_else(|| HubError::internal("transfer vanished"))?;
            return Ok(Created::Existing(t));
        }
        (RequestStatus::Open, _) if r.expires_at.is_some_and(|at| now_ms() > at) => {
            return Err(HubError::new(ErrorCode::Expired, "this request has expired"));
        }
        (RequestStatus::Open, _) => {}
        (status, _) => return Err(closed(status)),
    }
    let requester = tx.user_summary(tenant, r.requester)?.ok_or_else(|| HubError::not_found("user"))?;
    let (attempt, key) = (r.attempts + 1, format!("request:{id}:{}", r.attempts + 1));
    let req = NewTransfer { key: &key, to: &requester.username, amount: r.amount, memo: &r.memo, expires_at: None };
    let created = create_transfer(tx, emits, tenant, me, req)?;
    let (t, status) = match &created {
        Created::New(t) | Created::Existing(t) => (t.id, t.status),
    };
    tx.set_request_status(id, RequestStatus::Paying, Some((t, attempt)), now_ms())?;
    emit_request(tx, emits, tenant, id)?;
    if status.is_final() {
        // Posted in this job, before the request named it: `paid` now (or open again).
        on_transfer_final(tx, emits, tenant, t, status)?;
    }
    Ok(created)
}

/// Why a request that is not open cannot be paid, declined or cancelled.
fn closed(status: RequestStatus) -> HubError {
    match status {
        RequestStatus::Expired => HubError::new(ErrorCode::Expired, "this request has expired"),
        RequestStatus::Paying => HubError::invalid("a payment for this request is on its way"),
        RequestStatus::Paid => HubError::invalid("this request is already paid"),
        RequestStatus::Declined => HubError::invalid("this request was declined"),
        RequestStatus::Cancelled => HubError::invalid("this request was cancelled"),
        RequestStatus::Open => HubError::internal("an open request is not closed"),
    }
}

/// The payer declines an open request; the requester is told. Declining it again answers the same.
pub fn decline_request(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    me: &UserSummary,
    id: RequestId,
) -> HubResult<PaymentRequest> {
    let r = as_payer(tx, tenant, me.id, id)?;
    match r.status {
        RequestStatus::Declined => {
            return request_for(tx, tenant, id, me.id)?.ok_or_else(|| HubError::not_found("request"))
        }
        RequestStatus::Open => {}
        status => return Err(closed(status)),
    }
    tx.set_request_status(id, RequestStatus::Declined, None, now_ms())?;
    let shown = emit_request(tx, emits, tenant, id)?;
    let title = format!("{} declined your request for {}", me.display_name, fmt_money(r.amount));
    let target = Some(NotificationTarget::Request { id });
    let n = notify::New {
        tenant,
        user: r.requester,
        kind: NotificationKind::PaymentRequest,
        priority: Priority::Normal,
        title: &title,
        body: &r.memo,
        target,
        text: Some(NotificationText::RequestDeclined { by: me.display_name.clone(), amount: r.amount }),
    };
    notify::create(tx, emits, n)?;
    Ok(shown)
}

/// The requester withdraws their open request. Cancelling it again answers the same.
pub fn cancel_request(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    me: &UserSummary,
    id: RequestId,
) -> HubResult<PaymentRequest> {
    let r = match tx.request_row(tenant, id)? {
        Some(r) if r.requester == me.id => r,
        Some(r) if r.payer == me.id => return Err(HubError::invalid("only the person who asked can cancel a request")),
        _ => return Err(HubError::not_found("request")),
    };
    match r.status {
        RequestStatus::Cancelled => request_for(tx, tenant, id, me.id)?.ok_or_else(|| HubError::not_found("request")),
        RequestStatus::Open => {
            tx.set_request_status(id, RequestStatus::Cancelled, None, now_ms())?;
            emit_request(tx, emits, tenant, id)
        }
        status => Err(closed(status)),
    }
}

/// A transfer reached its end: the request it pays is `paid`, or open again when it failed (expired
/// instead when its deadline passed meanwhile).
pub fn on_transfer_final(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    transfer: TransferId,
    status: TransferStatus,
) -> HubResult<()> {
    let Some(id) = tx.request_paid_by(transfer)? else { return Ok(()) };
    let Some(r) = tx.request_row(tenant, id)? else { return Ok(()) };
    if r.status != RequestStatus::Paying {
        return Ok(());
    }
    let now = now_ms();
    let next = match status {
        TransferStatus::Completed => RequestStatus::Paid,
        _ if r.expires_at.is_some_and(|at| now > at) => RequestStatus::Expired,
        _ => RequestStatus::Open,
    };
    tx.set_request_status(id, next, None, now)?;
    emit_request(tx, emits, tenant, id)?;
    Ok(())
}

/// Marks open requests past their deadline `expired`, at most `limit` in one pass; returns how many.
pub fn expire_requests(tx: &mut dyn Tx, emits: &mut Emits, limit: u32) -> HubResult<usize> {
    let now = now_ms();
    let due = tx.expired_requests(now, limit)?;
    for &(tenant, id) in &due {
        tx.set_request_status(id, RequestStatus::Expired, None, now)?;
        emit_request(tx, emits, tenant, id)?;
    }
    Ok(due.len())
}
