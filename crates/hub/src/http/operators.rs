//! Operator accounts over HTTP: making one (`POST /v1/admin/operators`: an admin, or the admin token for
//! the first admin) and signing in (`POST /v1/operators/sign-in`: password and TOTP code, both always).
use super::operator_auth::{Operator, Who};
use super::*;
use crate::account::password;
use crate::operators::{self, Role};
use crate::throttle::address_key;
use tally_protocol::http::{OperatorCreated, OperatorRequest, OperatorSession, OperatorSignIn};

pub(super) async fn create(
    State(s): State<AppState>,
    op: Operator,
    ApiJson(b): ApiJson<OperatorRequest>,
) -> ApiResult<Json<OperatorCreated>> {
    let role = Role::parse(&b.role)?;
    let bootstrap = matches!(op.who, Who::Token);
    if bootstrap && role != Role::Admin {
        return Err(HubError::forbidden("the admin token makes the first admin operator only").into());
    }
    let tenant = match &b.tenant {
        Some(name) => Some(op.tenant(&s, Some(name.clone())).await?),
        None => op.own_tenant(),
    };
    let username = crate::directory::canonical_username(&b.username);
    crate::directory::validate_username(&username)?;
    password::check_new(&b.password, &username, "")?;
    let hash = hash_password(&s, b.password).await?;
    let name = username.clone();
    let made = s
        .hub
        .store
        .write(move |c, _| {
            // Two bootstrap calls at once make one admin, not two.
            if bootstrap && operators::admins_exist(c)? {
                return Err(HubError::new(ErrorCode::Conflict, "an admin operator exists already"));
            }
            let made = operators::create(c, &name, role, tenant, &hash)?;
            let detail = format!("role {}", role.as_str());
            let subject = format!("operator:{name}");
            audit::by_operator(c, &op.label(), tenant, Action::OperatorCreated, &subject, &detail, &op.ip)?;
            Ok(made)
        })
        .await?;
    Ok(Json(OperatorCreated {
        username,
        role: role.as_str().into(),
        tenant: b.tenant,
        totp_secret: made.totp_secret,
        otpauth_url: made.otpauth_url,
    }))
}

/// Password, then code: each attempt counted (per operator and per address) before anything is checked;
/// unknown names cost the same hashing as known ones.
pub(super) async fn sign_in(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<OperatorSignIn>,
) -> ApiResult<Json<OperatorSession>> {
    let name = crate::directory::canonical_username(&b.username);
    let ip = client_addr(&s, &peer, &headers);
    let (op_key, ip_key) = (format!("op:{name}"), address_key(ip));
    take_attempt(&s, &[&op_key, &ip_key]).await?;
    let wrong = || ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, "wrong username, password or code");
    let ticket = s.hub.password_work.ticket()?;
    let found = s.hub.store.read(move |c| c.operator_by_name(&name)).await?;
    let Some(o) = found else {
        let _ = ticket.hash(b.password).await?;
        return Err(wrong());
    };
    if !ticket.verify(b.password, o.password_hash.clone()).await? {
        return Err(wrong());
    }
    let (row, code, at) = (o.clone(), b.totp, ip.to_string());
    let token = s
        .hub
        .store
        .write(move |c, _| {
            let token = operators::open_session(c, &row, &code)?;
            let who = format!("operator:{}", row.username);
            audit::by_operator(c, &who, row.tenant, Action::OperatorSignedIn, &who, "signed in", &at)?;
            Ok(token)
        })
        .await?;
    s.hub.throttle.clear(&op_key).await;
    s.hub.throttle.release(&[&ip_key]).await;
    Ok(Json(OperatorSession {
        token,
        role: o.role,
        tenant_id: o.tenant.map(|t| t.0),
        expires_in: (operators::SESSION_MS / 1000) as u64,
    }))
}
