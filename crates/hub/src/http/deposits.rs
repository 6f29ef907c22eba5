//! Adding money over HTTP: the user's reference and the tenant's instructions
//! (`GET /v1/account/deposit-info`), and the instructions set by finance (`POST /v1/admin/deposit-instructions`).
use super::account::Caller;
use super::operator_auth::Operator;
use super::*;
use tally_protocol::http::{DepositInfo, DepositInstructionsRequest, Done};

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
