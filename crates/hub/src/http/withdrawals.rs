//! The withdrawal queue over HTTP: `GET /v1/admin/withdrawals` (any operator who reads the ledger) and
//! `POST /v1/admin/withdrawals/decide` (finance): pay out or reject, with an audit entry in the same
//! transaction.
use super::operator_auth::Operator;
use super::*;
use axum::extract::Query;
use tally_protocol::http::{WithdrawalDecision, WithdrawalsPage};
use tally_protocol::{Withdrawal, WithdrawalId, WithdrawalStatus};

const PAGE_MAX: u32 = 500;

#[derive(Debug, Deserialize)]
pub(super) struct QueueQuery {
    /// `pending` (the default), `completed` or `rejected`.
    status: Option<String>,
    #[serde(default)]
    after: WithdrawalId,
    limit: Option<u32>,
    tenant: Option<String>,
}

pub(super) async fn queue(
    State(s): State<AppState>,
    op: Operator,
    Query(q): Query<QueueQuery>,
) -> ApiResult<Json<WithdrawalsPage>> {
    let status = match q.status.as_deref() {
        None => WithdrawalStatus::Pending,
        Some(v) => WithdrawalStatus::parse(v)
            .ok_or_else(|| HubError::invalid("status must be pending, completed or rejected"))?,
    };
    let limit = page_limit(q.limit, PAGE_MAX)?;
    let tenant = op.tenant(&s, q.tenant).await?;
    let after = q.after;
    let withdrawals = s.hub.store.read(move |c| ledger::withdrawals(c, tenant, status, after, limit)).await?;
    let next_after = next_after(&withdrawals, limit, |w| w.id);
    Ok(Json(WithdrawalsPage { withdrawals, next_after }))
}

pub(super) async fn decide(
    State(s): State<AppState>,
    op: Operator,
    ApiJson(b): ApiJson<WithdrawalDecision>,
) -> ApiResult<Json<Withdrawal>> {
    let tenant = op.tenant(&s, b.tenant.clone()).await?;
    let w = s
        .hub
        .store
        .write(move |c, e| {
            let decision =
                if b.approve { ledger::Decision::PayOut } else { ledger::Decision::Reject { reason: &b.reason } };
            let w = ledger::decide_withdrawal(c, e, tenant, b.id, decision)?;
            let (action, detail) = if b.approve {
                (Action::WithdrawalPaidOut, format!("{} {} minor units", w.amount.currency, w.amount.minor))
            } else {
                let m = w.amount;
                (Action::WithdrawalRejected, format!("{} {} minor units: {}", m.currency, m.minor, b.reason.trim()))
            };
            let subject = format!("withdrawal:{}", w.id);
            audit::by_operator(c, &op.label(), Some(tenant), action, &subject, &detail, &op.ip)?;
            Ok(w)
        })
        .await?;
    Ok(Json(w))
}
