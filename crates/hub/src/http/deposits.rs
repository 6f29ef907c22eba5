//! Money from outside over HTTP: the user's reference and the tenant's instructions
//! (`GET /v1/account/deposit-info`), the instructions set by finance (`POST /v1/admin/deposit-instructions`),
//! and finance's correcting entries (`POST /v1/admin/adjustments`).
use super::account::Caller;
use super::operator_auth::Operator;
use super::*;
use tally_protocol::http::{AdjustmentRequest, DepositInfo, DepositInstructionsRequest, Done, MoneyMoved};

pub(super) async fn info(State(s): State<AppState>, me: Caller) -> ApiResult<Json<DepositInfo>> {
    let (tenant, user) = (me.tenant, me.user);
    Ok(Json(s.hub.store.write(move |c, _| crate::deposits::info(c, tenant, user)).await?))
}

pub(super) async fn set_instructions(
    State(s): State<AppState>,
    op: Operator,
    ApiJson(b): ApiJson<DepositInstructionsRequest>,
) -> ApiResult<Json<Done>> {
    let tenant = op.tenant(&s, b.tenant.clone()).await?;
    s.hub
        .store
        .write(move |c, _| {
            crate::deposits::set_instructions(c, tenant, &b.instructions)?;
            let detail = format!("{} bytes", b.instructions.trim().len());
            let (who, action) = (op.label(), Action::DepositInstructionsSet);
            audit::by_operator(c, &who, Some(tenant), action, "deposit-instructions", &detail, &op.ip)
        })
        .await?;
    Ok(Json(Done { ok: true }))
}

pub(super) async fn adjust(
    State(s): State<AppState>,
    op: Operator,
    ApiJson(b): ApiJson<AdjustmentRequest>,
) -> ApiResult<Json<MoneyMoved>> {
    let tenant = op.tenant(&s, b.tenant.clone()).await?;
    let id = s
        .hub
        .store
        .write(move |c, e| {
            let (u, _, _) =
                crate::directory::user_by_name(c, tenant, &b.username)?.ok_or_else(|| HubError::not_found("user"))?;
            let reason = match b.corrects {
                Some(line) => {
                    // The line corrected must be this user's own.
                    let own = c.tx_lines_before(tenant, u.id, line.saturating_add(1), 1)?;
                    if own.first().map(|(t, _)| t.id) != Some(line) {
                        return Err(HubError::not_found("transaction of this user"));
                    }
                    format!("Correction of transaction {line}: {}", b.reason.trim())
                }
                None => b.reason.trim().to_string(),
            };
            let incoming = b.direction == tally_protocol::Direction::In;
            let id = ledger::adjust(c, e, tenant, u.id, (b.amount, incoming), &reason)?;
            let sign = if incoming { "+" } else { "-" };
            let detail =
                format!("{sign}{} {} minor units, transaction {id}: {reason}", b.amount.currency, b.amount.minor);
            let subject = format!("user:{}", u.id);
            audit::by_operator(c, &op.label(), Some(tenant), Action::Adjustment, &subject, &detail, &op.ip)?;
            Ok(id)
        })
        .await?;
    Ok(Json(MoneyMoved { transaction_id: id }))
}
