//! The signed-in user's own security settings (Bearer access token): devices, password, two-factor. Every
//! change to how the account is protected asks for the user again (`step_up`).
use super::step_up::{prove, tell, Proof};
use super::*;
use crate::account::{password, sessions, two_factor};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use tally_protocol::http::{
    CodeRequest, DeviceSession, PasswordChange, RecoveryCodes, Revoked, SessionList, SessionRef, SignedOut,
    TwoFactorSetup, TwoFactorStatus,
};
use tally_protocol::NotificationText;

/// The caller, from `Authorization: Bearer <access token>` of a session that is not revoked and an active
/// account, and the address it calls from (what the step-up throttle counts).
pub(super) struct Caller {
    pub(super) tenant: TenantId,
    pub(super) user: tally_protocol::UserId,
    session: String,
    ip: std::net::IpAddr,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<Peer>>()
            .map(|c| c.0)
            .ok_or_else(|| HubError::internal("no peer address on the request"))?;
        let ip = client_addr(s, &peer, &parts.headers);
        let token = super::ops::bearer(&parts.headers).to_string();
        let claims =
            s.hub.keys.verify(&token).map_err(|code| ApiError::new(StatusCode::UNAUTHORIZED, code, "sign in again"))?;
        let (sid, tenant, user) = (claims.sid.clone(), claims.tid, claims.sub);
        let ok = s
            .hub
            .store
            .read(move |c| {
                Ok(!crate::auth::sessions::is_revoked(c, &sid)? && crate::directory::is_active(c, tenant, user)?)
            })
            .await?;
        if !ok {
            return Err(ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, "this session has ended"));
        }
        Ok(Caller { tenant, user, session: claims.sid, ip })
    }
}

pub(super) async fn list_sessions(State(s): State<AppState>, me: Caller) -> ApiResult<Json<SessionList>> {
    let (tenant, user) = (me.tenant, me.user);
    let rows = s.hub.store.read(move |c| sessions::list(c, tenant, user)).await?;
    let sessions = rows
        .into_iter()
        .map(|r| {
            let current = r.family == me.session;
            device_session(r, current)
        })
        .collect();
    Ok(Json(SessionList { sessions }))
}

/// A signed-in device as the account's list and the operator's user page show it.
pub(super) fn device_session(r: crate::store::repo::SessionRow, current: bool) -> DeviceSession {
    DeviceSession {
        id: r.family,
        device: r.device,
        platform: r.platform,
        ip: r.ip,
        created_at: r.created_at,
        last_seen_at: r.last_seen_at,
        current,
    }
}

/// Signs one device out: its refresh token dies and its sockets close at once (4010), on every hub.
pub(super) async fn revoke_session(
    State(s): State<AppState>,
    me: Caller,
    ApiJson(b): ApiJson<SessionRef>,
) -> ApiResult<StatusCode> {
    let (tenant, user, family, ip) = (me.tenant, me.user, b.id.clone(), me.ip.to_string());
    s.hub
        .store
        .write(move |c, _| {
            sessions::revoke(c, tenant, user, &family)?;
            audit::by_user(c, (tenant, user), Action::SessionRevoked, "signed one device out", &ip)
        })
        .await?;
    s.hub.revoke_session(&b.id);
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn revoke_other_sessions(State(s): State<AppState>, me: Caller) -> ApiResult<Json<Revoked>> {
    let revoked = revoke_others(&s, &me).await?;
    Ok(Json(Revoked { revoked }))
}

async fn revoke_others(s: &AppState, me: &Caller) -> ApiResult<u32> {
    let (tenant, user, keep, ip) = (me.tenant, me.user, me.session.clone(), me.ip.to_string());
    let gone = s
        .hub
        .store
        .write(move |c, _| {
            let gone = sessions::revoke_others(c, tenant, user, &keep)?;
            let detail = format!("signed {} other devices out", gone.len());
            audit::by_user(c, (tenant, user), Action::OtherSessionsRevoked, &detail, &ip)?;
            Ok(gone)
        })
        .await?;
    for f in &gone {
        s.hub.revoke_session(f);
    }
    Ok(super::count(gone.len()))
}

/// Changes the password (the current one, and a code where two-factor is on, are asked again) and signs
/// every other device out.
pub(super) async fn change_password(
    State(s): State<AppState>,
    me: Caller,
    ApiJson(b): ApiJson<PasswordChange>,
) -> ApiResult<Json<SignedOut>> {
    let (tenant, user) = (me.tenant, me.user);
    let who = s.hub.store.read(move |c| crate::directory::user_summary(c, tenant, user)).await?;
    let who = who.ok_or_else(|| HubError::not_found("user"))?;
    password::check_new(&b.new, &who.username, &who.display_name)?;
    prove(&s, (tenant, user), me.ip, Proof { password: b.current, code: b.code }).await?;
    let hash = hash_password(&s, b.new).await?;
    let ip = me.ip.to_string();
    s.hub
        .store
        .write(move |c, _| {
            crate::auth::passwords::set_password_hash(c, tenant, user, &hash)?;
            audit::by_user(c, (tenant, user), Action::PasswordChanged, "changed their password", &ip)
        })
        .await?;
    let gone = revoke_others(&s, &me).await?;
    let body = "Your password was changed from one of your devices, and every other device was signed out. \
                If this was not you, contact the operator of your server now.";
    tell(&s, (tenant, user), ("Your password was changed", body), NotificationText::PasswordChanged).await?;
    Ok(Json(SignedOut { signed_out_devices: gone }))
}

pub(super) async fn two_factor_status(State(s): State<AppState>, me: Caller) -> ApiResult<Json<TwoFactorStatus>> {
    let (tenant, user) = (me.tenant, me.user);
    let (enabled, left, required) = s
        .hub
        .store
        .read(move |c| {
            let on = two_factor::is_enabled(c, tenant, user)?;
            Ok((on, two_factor::recovery_codes_left(c, user)?, crate::account::policy::of(c, tenant)?.1))
        })
        .await?;
    Ok(Json(TwoFactorStatus { enabled, recovery_codes_left: left, required }))
}

/// Starts enrolment: needs the current password (a stolen token alone cannot enrol someone else's phone).
pub(super) async fn two_factor_setup(
    State(s): State<AppState>,
    me: Caller,
    ApiJson(b): ApiJson<Proof>,
) -> ApiResult<Json<TwoFactorSetup>> {
    let (tenant, user) = (me.tenant, me.user);
    if s.hub.store.read(move |c| two_factor::is_enabled(c, tenant, user)).await? {
        return Err(HubError::new(ErrorCode::Conflict, "two-factor is already on; turn it off first").into());
    }
    prove(&s, (tenant, user), me.ip, b).await?;
    let e = s
        .hub
        .store
        .write(move |c, _| {
            let who = crate::directory::user_summary(c, tenant, user)?.ok_or_else(|| HubError::not_found("user"))?;
            two_factor::setup(c, tenant, user, &who.username)
        })
        .await?;
    Ok(Json(TwoFactorSetup { secret: e.secret, otpauth_url: e.otpauth_url }))
}

/// Finishes enrolment with a code from the new authenticator (the set-up itself needed the password).
pub(super) async fn two_factor_enable(
    State(s): State<AppState>,
    me: Caller,
    ApiJson(b): ApiJson<CodeRequest>,
) -> ApiResult<Json<RecoveryCodes>> {
    let (tenant, user) = (me.tenant, me.user);
    let ip = me.ip.to_string();
    let codes = s
        .hub
        .store
        .write(move |c, _| {
            let codes = two_factor::enable(c, tenant, user, &b.code)?;
            audit::by_user(c, (tenant, user), Action::TwoFactorEnabled, "turned two-factor sign-in on", &ip)?;
            Ok(codes)
        })
        .await?;
    let body = "Two-factor sign-in was turned on for your account. If this was not you, contact the operator of \
                your server now.";
    tell(&s, (tenant, user), ("Two-factor sign-in turned on", body), NotificationText::TwoFactorOn).await?;
    Ok(Json(RecoveryCodes { recovery_codes: codes }))
}

/// Turns two-factor off with the password and a current code; not where the tenant requires it.
pub(super) async fn two_factor_disable(
    State(s): State<AppState>,
    me: Caller,
    ApiJson(b): ApiJson<Proof>,
) -> ApiResult<StatusCode> {
    let (tenant, user) = (me.tenant, me.user);
    let (required, enabled) = s
        .hub
        .store
        .read(move |c| Ok((crate::account::policy::of(c, tenant)?.1, two_factor::is_enabled(c, tenant, user)?)))
        .await?;
    if required {
        return Err(HubError::forbidden("two-factor is required here; it cannot be turned off").into());
    }
    if !enabled {
        return Err(HubError::invalid("two-factor is not on").into());
    }
    prove(&s, (tenant, user), me.ip, b).await?;
    let ip = me.ip.to_string();
    s.hub
        .store
        .write(move |c, _| {
            two_factor::reset(c, user)?;
            audit::by_user(c, (tenant, user), Action::TwoFactorDisabled, "turned two-factor sign-in off", &ip)
        })
        .await?;
    let body = "Two-factor sign-in was turned off for your account; signing in now needs only the password. If \
                this was not you, change your password and contact the operator of your server now.";
    tell(&s, (tenant, user), ("Two-factor sign-in turned off", body), NotificationText::TwoFactorOff).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ten new recovery codes (the old ones stop working), with the password and a current code.
pub(super) async fn two_factor_recovery_codes(
    State(s): State<AppState>,
    me: Caller,
    ApiJson(b): ApiJson<Proof>,
) -> ApiResult<Json<RecoveryCodes>> {
    let (tenant, user) = (me.tenant, me.user);
    if !s.hub.store.read(move |c| two_factor::is_enabled(c, tenant, user)).await? {
        return Err(HubError::invalid("two-factor is not on").into());
    }
    prove(&s, (tenant, user), me.ip, b).await?;
    let ip = me.ip.to_string();
    let codes = s
        .hub
        .store
        .write(move |c, _| {
            let codes = two_factor::new_recovery_codes(c, user)?;
            audit::by_user(c, (tenant, user), Action::RecoveryCodesRenewed, "made new recovery codes", &ip)?;
            Ok(codes)
        })
        .await?;
    let body = "New recovery codes were made for your account; the old ones no longer work.";
    tell(&s, (tenant, user), ("New recovery codes", body), NotificationText::RecoveryCodesNew).await?;
    Ok(Json(RecoveryCodes { recovery_codes: codes }))
}
