//! HTTP routes: auth, health, metrics, admin and the WebSocket upgrade.
use crate::auth::{self, RefreshOutcome};
use crate::chat;
use crate::error::HubError;
use crate::fanout::TenantId;
use crate::hub::Hub;
use crate::ledger;
use crate::listener::Peer;
use crate::notify;
use crate::proxy::client_ip;
use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use metrics_exporter_prometheus::PrometheusHandle;
use serde::Deserialize;
use serde_json::json;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tally_protocol::{Channel, ErrorCode, EventData, Money, Priority, UserSummary};

#[derive(Clone)]
pub struct AppState {
    pub hub: Arc<Hub>,
    pub metrics: PrometheusHandle,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_with_token))
        .route("/v1/ws", get(ws_upgrade))
        .route("/v1/demo", get(demo_info))
        .route("/v1/auth/register", post(register))
        .route("/v1/auth/login", post(login))
        .route("/v1/auth/refresh", post(refresh))
        .route("/v1/auth/logout", post(logout))
        .route("/v1/admin/tenants", post(admin_tenant))
        .route("/v1/admin/deposit", post(admin_deposit))
        .route("/v1/admin/withdraw", post(admin_withdraw))
        .route("/v1/admin/deposits", post(admin_deposits))
        .route("/v1/admin/broadcast", post(admin_broadcast))
        .route("/v1/admin/invariants", get(admin_invariants))
        .route("/v1/admin/users", post(admin_users))
        .route("/v1/admin/tokens", post(admin_tokens))
        .route("/v1/admin/rooms", post(admin_room))
        .route("/v1/admin/publish", post(admin_publish))
        .with_state(state)
}

/// The `--metrics-bind` listener: Prometheus text and liveness, nothing else.
pub fn metrics_router(state: AppState) -> Router {
    Router::new().route("/metrics", get(metrics_text)).route("/healthz", get(|| async { "ok" })).with_state(state)
}

struct ApiError(StatusCode, ErrorCode, String);
impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({"code": self.1, "message": self.2}))).into_response()
    }
}
impl From<HubError> for ApiError {
    fn from(e: HubError) -> Self {
        let status = match e.code {
            ErrorCode::Unauthorized | ErrorCode::TokenExpired => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden | ErrorCode::ForbiddenChannel => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::Conflict | ErrorCode::InsufficientFunds => StatusCode::CONFLICT,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError(status, e.code, e.message)
    }
}
type ApiResult<T> = Result<T, ApiError>;

async fn readyz(State(s): State<AppState>) -> Response {
    if s.hub.ready.load(Ordering::Acquire) && s.hub.store.read(|c| c.ping()).await.is_ok() {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready").into_response()
    }
}

/// /metrics on the public listener: only with `--metrics-token`, to that bearer token.
async fn metrics_with_token(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let Some(want) = s.hub.cfg.metrics_token.as_deref() else {
        return ApiError(StatusCode::NOT_FOUND, ErrorCode::NotFound, "metrics are served on --metrics-bind".into())
            .into_response();
    };
    if !constant_time_eq(bearer(&headers).as_bytes(), want.as_bytes()) {
        return ApiError(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, "metrics token required".into())
            .into_response();
    }
    metrics_text(State(s)).await
}

fn bearer(headers: &HeaderMap) -> &str {
    headers.get("authorization").and_then(|h| h.to_str().ok()).and_then(|h| h.strip_prefix("Bearer ")).unwrap_or("")
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn metrics_text(State(s): State<AppState>) -> Response {
    metrics::gauge!("tally_subscriptions_live").set(s.hub.fanout.subscription_count() as f64);
    ([("content-type", "text/plain; version=0.0.4")], s.metrics.render()).into_response()
}

async fn ws_upgrade(State(s): State<AppState>, headers: HeaderMap, ws: WebSocketUpgrade) -> Response {
    if let Some(origin) = headers.get("origin").and_then(|o| o.to_str().ok()) {
        let allowed = s.hub.cfg.allowed_origins.iter().any(|a| a == "*" || a.eq_ignore_ascii_case(origin));
        if !allowed {
            metrics::counter!("tally_rejected_origins_total").increment(1);
            return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
        }
    }
    if !s.hub.ready.load(Ordering::Acquire) {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    }
    let hub = s.hub.clone();
    // Small buffers: client frames are small, and an idle connection should cost a few KiB, not the
    // 128 KiB read buffer tungstenite allocates by default. Writes still coalesce up to 16 KiB.
    ws.max_message_size(1 << 20)
        .max_frame_size(1 << 20)
        .read_buffer_size(1024)
        .write_buffer_size(16 * 1024)
        .on_upgrade(move |socket| crate::ws::serve_socket(hub, Box::new(socket)))
}

async fn demo_info(State(s): State<AppState>) -> Json<serde_json::Value> {
    if s.hub.cfg.demo {
        Json(
            json!({"demo": true, "users": crate::demo::USERS.iter().map(|u| u.0).collect::<Vec<_>>(), "password": crate::demo::PASSWORD}),
        )
    } else {
        Json(json!({"demo": false, "users": []}))
    }
}

#[derive(Deserialize)]
struct Credentials {
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
    let refresh = hub.store.write(move |c, _| auth::new_refresh(c, uid, tenant, &fam, parent.as_deref(), ttl)).await?;
    Ok(Json(json!({
        "access_token": access, "refresh_token": refresh, "expires_in": hub.keys.access_ttl_secs,
        "token_type": "Bearer", "user": user
    })))
}

async fn register(State(s): State<AppState>, Json(c): Json<Credentials>) -> ApiResult<Response> {
    if c.password.len() < 8 || c.password.len() > 256 {
        return Err(ApiError(StatusCode::BAD_REQUEST, ErrorCode::Invalid, "password must be 8-256 characters".into()));
    }
    let username = c.username.trim().to_lowercase();
    auth::validate_username(&username)?;
    let tenant_name = c.tenant.unwrap_or_else(|| "default".into());
    let tenant = s
        .hub
        .store
        .read(move |conn| auth::tenant_id(conn, &tenant_name))
        .await?
        .ok_or_else(|| HubError::not_found("tenant"))?;
    let hash =
        tokio::task::spawn_blocking(move || auth::hash_password(&c.password)).await.map_err(HubError::internal)??;
    let limits = (s.hub.cfg.limit_single, s.hub.cfg.limit_daily);
    let display = c.display_name;
    let user =
        s.hub.store.write(move |conn, _| auth::create_user(conn, tenant, &username, &display, &hash, limits)).await?;
    let body = tokens(&s.hub, user, tenant, auth::random_token("f_", 16), None).await?;
    Ok((StatusCode::CREATED, body).into_response())
}

async fn login(
    State(s): State<AppState>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    headers: HeaderMap,
    Json(c): Json<Credentials>,
) -> ApiResult<Json<serde_json::Value>> {
    let tenant_name = c.tenant.clone().unwrap_or_else(|| "default".into());
    let username = c.username.trim().to_lowercase();
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
            let Some(t) = auth::tenant_id(conn, &tenant_name)? else { return Ok(None) };
            Ok(auth::user_by_name(conn, t, &uname)?.map(|u| (t, u)))
        })
        .await?;
    let password = c.password;
    let ok = match found {
        Some((tenant, (user, hash, active))) => {
            let good =
                tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash)).await.unwrap_or(false);
            (good && active).then_some((tenant, user))
        }
        None => {
            // Same work as a real check, so timing does not reveal which usernames exist.
            let _ = tokio::task::spawn_blocking(move || auth::hash_password(&password)).await;
            None
        }
    };
    match ok {
        Some((tenant, user)) => {
            s.hub.throttle.succeed(&user_key).await;
            tokens(&s.hub, user, tenant, auth::random_token("f_", 16), None).await
        }
        None => {
            s.hub.throttle.fail(&[&user_key, &ip_key]).await;
            metrics::counter!("tally_login_failures_total").increment(1);
            Err(ApiError(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, "wrong username or password".into()))
        }
    }
}

#[derive(Deserialize)]
struct RefreshBody {
    refresh_token: String,
}

async fn refresh(State(s): State<AppState>, Json(b): Json<RefreshBody>) -> ApiResult<Json<serde_json::Value>> {
    let grace_ms = s.hub.cfg.refresh_grace_secs as i64 * 1000;
    let outcome = s.hub.store.write(move |c, _| auth::rotate_refresh(c, &b.refresh_token, grace_ms)).await?;
    match outcome {
        RefreshOutcome::Rotated { user, tenant, family, parent } => {
            let u = s
                .hub
                .store
                .read(move |c| auth::user_summary(c, tenant, user))
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

async fn logout(State(s): State<AppState>, Json(b): Json<RefreshBody>) -> ApiResult<StatusCode> {
    if let Some(family) = s.hub.store.write(move |c, _| auth::logout(c, &b.refresh_token)).await? {
        s.hub.revoke_session(&family);
    }
    Ok(StatusCode::NO_CONTENT)
}

fn require_admin(s: &AppState, headers: &HeaderMap) -> ApiResult<()> {
    if constant_time_eq(bearer(headers).as_bytes(), s.hub.admin_token.as_bytes()) {
        Ok(())
    } else {
        Err(ApiError(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, "admin token required".into()))
    }
}

#[derive(Deserialize)]
struct TenantBody {
    name: String,
}

async fn admin_tenant(
    State(s): State<AppState>,
    headers: HeaderMap,
    Json(b): Json<TenantBody>,
) -> ApiResult<Json<serde_json::Value>> {
    require_admin(&s, &headers)?;
    auth::validate_username(&b.name)?;
    let id = s.hub.store.write(move |c, _| auth::ensure_tenant(c, &b.name)).await?;
    Ok(Json(json!({"id": id})))
}

#[derive(Deserialize)]
struct MoneyBody {
    username: String,
    amount: Money,
    #[serde(default)]
    memo: String,
    #[serde(default)]
    tenant: Option<String>,
}

async fn money_op(s: AppState, headers: HeaderMap, b: MoneyBody, deposit: bool) -> ApiResult<Json<serde_json::Value>> {
    require_admin(&s, &headers)?;
    let tenant_name = b.tenant.unwrap_or_else(|| "default".into());
    let id = s
        .hub
        .store
        .write(move |c, e| {
            let t = auth::tenant_id(c, &tenant_name)?.ok_or_else(|| HubError::not_found("tenant"))?;
            let (u, _, _) = auth::user_by_name(c, t, &b.username)?.ok_or_else(|| HubError::not_found("user"))?;
            if deposit {
                ledger::deposit(c, e, t, u.id, b.amount, &b.memo, None)
            } else {
                ledger::withdraw(c, e, t, u.id, b.amount, &b.memo)
            }
        })
        .await?;
    Ok(Json(json!({"transaction_id": id})))
}

async fn admin_deposit(
    State(s): State<AppState>,
    headers: HeaderMap,
    Json(b): Json<MoneyBody>,
) -> ApiResult<Json<serde_json::Value>> {
    money_op(s, headers, b, true).await
}
async fn admin_withdraw(
    State(s): State<AppState>,
    headers: HeaderMap,
    Json(b): Json<MoneyBody>,
) -> ApiResult<Json<serde_json::Value>> {
    money_op(s, headers, b, false).await
}

#[derive(Deserialize)]
struct DepositsBody {
    username: String,
    amount: Money,
    /// How many deposits (1-10,000), each its own ledger entry and history line.
    count: u32,
    /// Each deposit's memo is this followed by ` #n`.
    #[serde(default)]
    memo: String,
    /// Raise a `deposit` notification for each one (default true).
    #[serde(default = "yes")]
    notify: bool,
    #[serde(default)]
    tenant: Option<String>,
}

fn yes() -> bool {
    true
}

/// Many deposits to one user in one transaction, through the ledger like single ones (provisioning, load
/// tests and the history-download tests).
async fn admin_deposits(
    State(s): State<AppState>,
    headers: HeaderMap,
    Json(b): Json<DepositsBody>,
) -> ApiResult<Json<serde_json::Value>> {
    require_admin(&s, &headers)?;
    if b.count == 0 || b.count > 10_000 {
        return Err(ApiError(StatusCode::BAD_REQUEST, ErrorCode::Invalid, "count must be 1-10000".into()));
    }
    let tenant = tenant_or_404(&s, b.tenant).await?;
    let ids = s
        .hub
        .store
        .write(move |c, e| {
            let (u, _, _) = auth::user_by_name(c, tenant, &b.username)?.ok_or_else(|| HubError::not_found("user"))?;
            let mut ids = Vec::with_capacity(b.count as usize);
            for i in 1..=b.count {
                let memo = format!("{} #{i}", b.memo).trim().to_string();
                // A deposit "at" now is the same as one without a time, minus the notification.
                let at = if b.notify { None } else { Some(crate::store::now_ms()) };
                ids.push(ledger::deposit(c, e, tenant, u.id, b.amount, &memo, at)?);
            }
            Ok(ids)
        })
        .await?;
    Ok(Json(json!({"count": ids.len(), "first": ids.first(), "last": ids.last()})))
}

#[derive(Deserialize)]
struct BroadcastBody {
    title: String,
    body: String,
    priority: Priority,
    #[serde(default)]
    tenant: Option<String>,
}

async fn admin_broadcast(
    State(s): State<AppState>,
    headers: HeaderMap,
    Json(b): Json<BroadcastBody>,
) -> ApiResult<Json<serde_json::Value>> {
    require_admin(&s, &headers)?;
    let tenant_name = b.tenant.unwrap_or_else(|| "default".into());
    s.hub
        .store
        .write(move |c, e| {
            let t = auth::tenant_id(c, &tenant_name)?.ok_or_else(|| HubError::not_found("tenant"))?;
            notify::broadcast(c, e, t, &b.title, &b.body, b.priority)
        })
        .await?;
    Ok(Json(json!({"ok": true})))
}

async fn admin_invariants(State(s): State<AppState>, headers: HeaderMap) -> ApiResult<Json<serde_json::Value>> {
    require_admin(&s, &headers)?;
    let problems = s.hub.store.read(ledger::check_invariants).await?;
    Ok(Json(json!({"ok": problems.is_empty(), "problems": problems})))
}

async fn tenant_or_404(s: &AppState, name: Option<String>) -> ApiResult<TenantId> {
    let name = name.unwrap_or_else(|| "default".into());
    Ok(s.hub.store.read(move |c| auth::tenant_id(c, &name)).await?.ok_or_else(|| HubError::not_found("tenant"))?)
}

#[derive(Deserialize)]
struct NewUser {
    username: String,
    #[serde(default)]
    display_name: String,
}

#[derive(Deserialize)]
struct UsersBody {
    users: Vec<NewUser>,
    /// One initial password for all of them; none: password sign-in stays disabled (tokens come from
    /// `/v1/admin/tokens`, as for accounts provisioned from another identity system).
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    tenant: Option<String>,
}

/// Provisions up to 5,000 users in one transaction. Existing usernames are a `conflict` (nothing is
/// created).
async fn admin_users(
    State(s): State<AppState>,
    headers: HeaderMap,
    Json(b): Json<UsersBody>,
) -> ApiResult<Json<serde_json::Value>> {
    require_admin(&s, &headers)?;
    if b.users.is_empty() || b.users.len() > 5_000 {
        return Err(ApiError(StatusCode::BAD_REQUEST, ErrorCode::Invalid, "1-5000 users per request".into()));
    }
    let tenant = tenant_or_404(&s, b.tenant).await?;
    let hash = match b.password {
        Some(p) if p.len() < 8 || p.len() > 256 => {
            return Err(ApiError(
                StatusCode::BAD_REQUEST,
                ErrorCode::Invalid,
                "password must be 8-256 characters".into(),
            ))
        }
        Some(p) => tokio::task::spawn_blocking(move || auth::hash_password(&p)).await.map_err(HubError::internal)??,
        // Not a PHC string: never verifies.
        None => "!disabled".to_string(),
    };
    let limits = (s.hub.cfg.limit_single, s.hub.cfg.limit_daily);
    let users = s
        .hub
        .store
        .write(move |c, _| {
            b.users
                .iter()
                .map(|u| {
                    auth::create_user(c, tenant, &u.username.trim().to_lowercase(), &u.display_name, &hash, limits)
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    Ok(Json(json!({ "users": users })))
}

#[derive(Deserialize)]
struct TokensBody {
    usernames: Vec<String>,
    #[serde(default)]
    tenant: Option<String>,
}

/// Issues access tokens (no refresh token) for existing, active users: support tooling and load tests.
/// Each token is its own session family, so it can be revoked alone.
async fn admin_tokens(
    State(s): State<AppState>,
    headers: HeaderMap,
    Json(b): Json<TokensBody>,
) -> ApiResult<Json<serde_json::Value>> {
    require_admin(&s, &headers)?;
    if b.usernames.is_empty() || b.usernames.len() > 20_000 {
        return Err(ApiError(StatusCode::BAD_REQUEST, ErrorCode::Invalid, "1-20000 usernames per request".into()));
    }
    let tenant = tenant_or_404(&s, b.tenant).await?;
    let found = s
        .hub
        .store
        .read(move |c| {
            b.usernames
                .iter()
                .map(|n| match auth::user_by_name(c, tenant, n)? {
                    Some((u, _, true)) => Ok(u),
                    _ => Err(HubError::not_found("user")),
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    let mut out = Vec::with_capacity(found.len());
    for u in found {
        let token = s.hub.keys.issue(u.id, tenant, &auth::random_token("f_", 16))?;
        out.push(json!({"user": u, "access_token": token}));
    }
    Ok(Json(json!({ "tokens": out, "expires_in": s.hub.keys.access_ttl_secs })))
}

#[derive(Deserialize)]
struct RoomBody {
    name: String,
    members: Vec<String>,
    #[serde(default)]
    tenant: Option<String>,
}

/// Creates a group room with any number of members (announcement rooms).
async fn admin_room(
    State(s): State<AppState>,
    headers: HeaderMap,
    Json(b): Json<RoomBody>,
) -> ApiResult<Json<serde_json::Value>> {
    require_admin(&s, &headers)?;
    let tenant = tenant_or_404(&s, b.tenant).await?;
    let room = s.hub.store.write(move |c, e| chat::create_group_bulk(c, e, tenant, &b.name, &b.members)).await?;
    Ok(Json(json!({ "id": room.id, "members": room.members.len() })))
}

#[derive(Deserialize)]
struct PublishItem {
    channel: Channel,
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default = "low")]
    priority: Priority,
}
fn low() -> Priority {
    Priority::Low
}

#[derive(Deserialize)]
struct PublishBody {
    events: Vec<PublishItem>,
    #[serde(default)]
    tenant: Option<String>,
}

/// Appends `system` events to channels (durable, with seq, replayed on recovery like any event) in one
/// transaction: operator announcements to a room, a user or the whole tenant.
async fn admin_publish(
    State(s): State<AppState>,
    headers: HeaderMap,
    Json(b): Json<PublishBody>,
) -> ApiResult<Json<serde_json::Value>> {
    require_admin(&s, &headers)?;
    if b.events.is_empty() || b.events.len() > 10_000 {
        return Err(ApiError(StatusCode::BAD_REQUEST, ErrorCode::Invalid, "1-10000 events per request".into()));
    }
    if b.events.iter().any(|e| e.title.len() > 256 || e.body.len() > 4096) {
        return Err(ApiError(StatusCode::BAD_REQUEST, ErrorCode::Invalid, "title ≤ 256 and body ≤ 4096 bytes".into()));
    }
    if b.events.iter().any(|e| {
        !matches!(e.channel, Channel::Broadcast | Channel::Room(_) | Channel::User(_) | Channel::Notifications(_))
    }) {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            ErrorCode::Invalid,
            "announcements go to broadcast, room:, user: or notifications: channels".into(),
        ));
    }
    let tenant = tenant_or_404(&s, b.tenant).await?;
    let n = b.events.len();
    s.hub
        .store
        .write(move |c, e| {
            for ev in &b.events {
                let data = EventData::System { title: ev.title.clone(), body: ev.body.clone(), priority: ev.priority };
                crate::log::append(c, e, tenant, ev.channel, data)?;
            }
            Ok(())
        })
        .await?;
    Ok(Json(json!({ "published": n })))
}
