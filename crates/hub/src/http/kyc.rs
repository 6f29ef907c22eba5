//! KYC and limits over HTTP: a user's level (`POST /v1/admin/users/kyc`, support), a tenant's limits per
//! level (`POST /v1/admin/kyc-limits`, admin) and one user's own limits (`POST /v1/admin/users/limits`,
//! finance).
use super::operator_auth::Operator;
use super::*;
use tally_protocol::http::{Done, KycChanged, KycLimitsRequest, KycRequest, UserLimitsRequest};

pub(super) async fn set_level(
    State(s): State<AppState>,
    op: Operator,
    ApiJson(b): ApiJson<KycRequest>,
) -> ApiResult<Json<KycChanged>> {
    let tenant = op.tenant(&s, b.tenant.clone()).await?;
    let defaults = (s.hub.cfg.limit_single, s.hub.cfg.limit_daily);
    let (base, files) = (s.hub.limits(None), s.hub.attachments.defaults);
    let limits = s
        .hub
        .store
        .write(move |c, e| {
            let (u, _, _) =
                crate::directory::user_by_name(c, tenant, &b.username)?.ok_or_else(|| HubError::not_found("user"))?;
            let limits = crate::kyc::set_level(c, e, (tenant, u.id), b.level, defaults, (base.clone(), files))?;
            let detail = format!("level {}", b.level.as_str());
            let subject = format!("user:{}", u.id);
            audit::by_operator(c, &op.label(), Some(tenant), Action::KycLevelSet, &subject, &detail, &op.ip)?;
            Ok(limits)
        })
        .await?;
    Ok(Json(changed(&limits)))
}

/// The tenant's own limits for a level, for users given that level from now on (those at it already
/// keep theirs until their level is set again).
pub(super) async fn set_limits(
    State(s): State<AppState>,
    op: Operator,
    ApiJson(b): ApiJson<KycLimitsRequest>,
) -> ApiResult<Json<Done>> {
    crate::kyc::check_limits(b.transfer_single_max, b.transfer_daily_max)?;
    let tenant = op.tenant(&s, b.tenant.clone()).await?;
    s.hub
        .store
        .write(move |c, _| {
            c.set_kyc_limits(tenant, b.level, (b.transfer_single_max, b.transfer_daily_max))?;
            let detail =
                format!("level {}: {} single, {} daily", b.level.as_str(), b.transfer_single_max, b.transfer_daily_max);
            audit::by_operator(c, &op.label(), Some(tenant), Action::KycLimitsSet, "kyc-limits", &detail, &op.ip)
        })
        .await?;
    Ok(Json(Done { ok: true }))
}

/// One user's own limits (finance), with the reason they read; their level stays.
pub(super) async fn set_user_limits(
    State(s): State<AppState>,
    op: Operator,
    ApiJson(b): ApiJson<UserLimitsRequest>,
) -> ApiResult<Json<KycChanged>> {
    crate::kyc::check_limits(b.transfer_single_max, b.transfer_daily_max)?;
    let tenant = op.tenant(&s, b.tenant.clone()).await?;
    let (base, files) = (s.hub.limits(None), s.hub.attachments.defaults);
    let limits = s
        .hub
        .store
        .write(move |c, e| {
            let (u, _, _) =
                crate::directory::user_by_name(c, tenant, &b.username)?.ok_or_else(|| HubError::not_found("user"))?;
            let new = (b.transfer_single_max, b.transfer_daily_max);
            let limits = crate::kyc::set_user_limits(c, e, (tenant, u.id), new, &b.reason, (base.clone(), files))?;
            let detail = format!("{} single, {} daily: {}", new.0, new.1, b.reason.trim());
            let subject = format!("user:{}", u.id);
            audit::by_operator(c, &op.label(), Some(tenant), Action::UserLimitsSet, &subject, &detail, &op.ip)?;
            Ok(limits)
        })
        .await?;
    Ok(Json(changed(&limits)))
}

/// What an operator is answered after a user's limits moved: their level and transfer limits.
fn changed(limits: &tally_protocol::Limits) -> KycChanged {
    KycChanged {
        level: limits.kyc_level,
        transfer_single_max: limits.transfer_single_max,
        transfer_daily_max: limits.transfer_daily_max,
    }
}
