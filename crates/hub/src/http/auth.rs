//! Sign-up, sign-in, token refresh and sign-out.
use super::*;
use crate::auth::RefreshOutcome;

#[derive(Deserialize)]
pub(super) struct Credentials {
    username: String,
    password: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    tenant: Option<String>,
}

async fn tokens(
    hub: &Arc<Hub>,
    user: UserSummary,
    tenant: TenantId,
    family: String,
    parent: Option<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let access = hub.keys.issue(user.id, tenant, &family)?;
    let ttl = hub.keys.refresh_ttl_secs;
    let (uid, fam) = (user.id, family.clone());
    let refresh =
        hub.store.write(move |c, _| accounts::new_refresh(c, uid, tenant, &fam, parent.as_deref(), ttl)).await?;
    Ok(Json(json!({
        "access_token": access, "refresh_token": refresh, "expires_in": hub.keys.access_ttl_secs,
        "token_type": "Bearer", "user": user
    })))
}

pub(super) async fn register(State(s): State<AppState>, ApiJson(c): ApiJson<Credentials>) -> ApiResult<Response> {
    if c.password.len() < 8 || c.password.len() > 256 {
        return Err(ApiError(StatusCode::BAD_REQUEST, ErrorCode::Invalid, "password must be 8-256 characters".into()));
    }
    let username = accounts::canonical_username(&c.username);
    accounts::validate_username(&username)?;
    let tenant_name = c.tenant.unwrap_or_else(|| "default".into());
    let tenant = s
        .hub
        .store
        .read(move |conn| accounts::tenant_id(conn, &tenant_name))
        .await?
        .ok_or_else(|| HubError::not_found("tenant"))?;
    let hash = tokio::task::spawn_blocking(move || accounts::hash_password(&c.password))
        .await
        .map_err(HubError::internal)??;
    let limits = (s.hub.cfg.limit_single, s.hub.cfg.limit_daily);
    let display = c.display_name;
    let user = s
        .hub
        .store
        .write(move |conn, _| accounts::create_user(conn, tenant, &username, &display, &hash, limits))
        .await?;
    let body = tokens(&s.hub, user, tenant, accounts::random_token("f_", 16), None).await?;
    Ok((StatusCode::CREATED, body).into_response())
}

pub(super) async fn login(
    State(s): State<AppState>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    headers: HeaderMap,
    ApiJson(c): ApiJson<Credentials>,
) -> ApiResult<Json<serde_json::Value>> {
    let tenant_name = c.tenant.clone().unwrap_or_else(|| "default".into());
    let username = accounts::canonical_username(&c.username);
    let user_key = format!("u:{tenant_name}:{username}");
    let ip_key = format!("ip:{}", client_ip(peer.ip(), &headers, &s.hub.cfg.trusted_proxy));
    if s.hub.throttle.is_blocked(&[&user_key, &ip_key]).await {
        return Err(ApiError(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            "too many failed sign-ins; try again in a few minutes".into(),
        ));
    }
    let uname = username.clone();
    let found = s
        .hub
        .store
        .read(move |conn| {
            let Some(t) = accounts::tenant_id(conn, &tenant_name)? else { return Ok(None) };
            Ok(accounts::user_by_name(conn, t, &uname)?.map(|u| (t, u)))
        })
        .await?;
    let password = c.password;
    let ok = match found {
        Some((tenant, (user, hash, active))) => {
            let good =
                tokio::task::spawn_blocking(move || accounts::verify_password(&password, &hash)).await.unwrap_or(false);
            (good && active).then_some((tenant, user))
        }
        None => {
            // Same work as a real check, so timing does not reveal which usernames exist.
            let _ = tokio::task::spawn_blocking(move || accounts::hash_password(&password)).await;
            None
        }
    };
    match ok {
        Some((tenant, user)) => {
            s.hub.throttle.succeed(&user_key).await;
            tokens(&s.hub, user, tenant, accounts::random_token("f_", 16), None).await
        }
        None => {
            s.hub.throttle.fail(&[&user_key, &ip_key]).await;
            metrics::counter!("tally_login_failures_total").increment(1);
            Err(ApiError(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, "wrong username or password".into()))
        }
    }
}

#[derive(Deserialize)]
pub(super) struct RefreshBody {
    refresh_token: String,
}

pub(super) async fn refresh(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<RefreshBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let grace_ms = s.hub.cfg.refresh_grace_secs as i64 * 1000;
    let outcome = s.hub.store.write(move |c, _| accounts::rotate_refresh(c, &b.refresh_token, grace_ms)).await?;
    match outcome {
        RefreshOutcome::Rotated { user, tenant, family, parent } => {
            let u = s
                .hub
                .store
                .read(move |c| accounts::user_summary(c, tenant, user))
                .await?
                .ok_or_else(|| HubError::new(ErrorCode::Unauthorized, "unknown user"))?;
            tokens(&s.hub, u, tenant, family, Some(parent)).await
        }
        RefreshOutcome::Reused { family } => {
            tracing::warn!("refresh token reuse detected; session revoked");
            s.hub.revoke_session(&family);
            Err(ApiError(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthorized,
                "refresh token already used; session revoked".into(),
            ))
        }
        RefreshOutcome::Invalid => {
            Err(ApiError(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, "invalid or expired refresh token".into()))
        }
    }
}

pub(super) async fn logout(State(s): State<AppState>, ApiJson(b): ApiJson<RefreshBody>) -> ApiResult<StatusCode> {
    if let Some(family) = s.hub.store.write(move |c, _| accounts::logout(c, &b.refresh_token)).await? {
        s.hub.revoke_session(&family);
    }
    Ok(StatusCode::NO_CONTENT)
}
