//! Compliance holds over HTTP: the tenant's rules (`POST /v1/admin/compliance-rules`, finance), the
//! review queue (`GET /v1/admin/reviews`, any ledger reader) and a decision on one held transfer
//! (`POST /v1/admin/reviews/decide`, finance), each write with an audit entry in the same transaction.
use super::operator_auth::Operator;
use super::*;
use axum::extract::Query;
use tally_protocol::http::{ComplianceRules, Done, ReviewDecision, ReviewsPage};
use tally_protocol::{Transfer, TransferId};

const PAGE_MAX: u32 = 500;

#[derive(Debug, Deserialize)]
pub(super) struct QueueQuery {
    #[serde(default)]
    after: TransferId,
    limit: Option<u32>,
    tenant: Option<String>,
}

pub(super) async fn queue(
    State(s): State<AppState>,
    op: Operator,
    Query(q): Query<QueueQuery>,
) -> ApiResult<Json<ReviewsPage>> {
    let limit = page_limit(q.limit, PAGE_MAX)?;
    let tenant = op.tenant(&s, q.tenant).await?;
    let after = q.after;
    let reviews = s.hub.store.read(move |c| ledger::reviews(c, tenant, after, limit)).await?;
    let next_after = next_after(&reviews, limit, |r| r.transfer.id);
    Ok(Json(ReviewsPage { reviews, next_after }))
}

pub(super) async fn decide(
    State(s): State<AppState>,
    op: Operator,
    ApiJson(b): ApiJson<ReviewDecision>,
) -> ApiResult<Json<Transfer>> {
    let tenant = op.tenant(&s, b.tenant.clone()).await?;
    let t = s
        .hub
        .store
        .write(move |c, e| {
            let t = ledger::decide_review(c, e, tenant, b.transfer, b.release)?;
            let action = if b.release { Action::ReviewReleased } else { Action::ReviewRejected };
            let m = t.amount;
            let detail = format!("{} {} minor units: {}", m.currency, m.minor, b.reason.trim());
            let subject = format!("transfer:{}", t.id);
            audit::by_operator(c, &op.label(), Some(tenant), action, &subject, &detail, &op.ip)?;
            Ok(t)
        })
        .await?;
    Ok(Json(t))
}

pub(super) async fn set_rules(
    State(s): State<AppState>,
    op: Operator,
    ApiJson(b): ApiJson<ComplianceRules>,
) -> ApiResult<Json<Done>> {
    let tenant = op.tenant(&s, b.tenant.clone()).await?;
    s.hub
        .store
        .write(move |c, _| {
            crate::compliance::set_rules(c, tenant, &b)?;
            let detail = format!(
                "single over {:?}, hourly count over {:?}, hourly amount over {:?}, new payee over {:?}",
                b.single_over, b.hourly_count_over, b.hourly_amount_over, b.new_payee_over
            );
            let (who, action) = (op.label(), Action::ComplianceRulesSet);
            audit::by_operator(c, &who, Some(tenant), action, "compliance-rules", &detail, &op.ip)
        })
        .await?;
    Ok(Json(Done { ok: true }))
}
