//! HTTP routes: auth, health, metrics, admin and the WebSocket upgrade. Every error, including a
//! malformed or oversized body, an unknown path or a wrong method, is the documented JSON
//! `{"code", "message"}` (`errors.rs`).
mod account;
mod admin;
mod attachments;
mod audit_trail;
mod auth;
mod console;
mod deposits;
mod errors;
mod kyc;
mod live;
mod operator_auth;
mod operators;
mod ops;
mod reviews;
mod step_up;
mod users;
mod withdrawals;

pub(crate) use crate::audit::{self, Action};
pub(crate) use crate::chat;
pub(crate) use crate::error::HubError;
pub(crate) use crate::hub::Hub;
pub(crate) use crate::ids::TenantId;
pub(crate) use crate::ledger;
pub(crate) use crate::listener::Peer;
pub(crate) use crate::notify;
pub(crate) use crate::proxy::client_ip;
pub(crate) use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
pub(crate) use axum::http::{HeaderMap, StatusCode};
pub(crate) use axum::response::{IntoResponse, Response};
pub(crate) use axum::Json;
pub(crate) use errors::{ApiError, ApiJson, ApiResult};
pub(crate) use serde::Deserialize;
pub(crate) use std::sync::Arc;
pub(crate) use tally_protocol::{Channel, ErrorCode, EventData, UserSummary};

use axum::routing::{get, post};
use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;

/// A count in an answer (the requests that make them are bounded far below `u32::MAX`).
pub(crate) fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[derive(Clone)]
pub struct AppState {
    pub hub: Arc<Hub>,
    pub metrics: PrometheusHandle,
}

/// Bodies of the sign-in, sign-up and account endpoints: credentials, a code, a device name.
const ACCOUNT_BODY_LIMIT: usize = 8 * 1024;
/// Bodies of the operator's single-item endpoints.
const ADMIN_BODY_LIMIT: usize = 16 * 1024;
/// The operator's bulk endpoints (tally-bench creates thousands of users or events in one call).
const ADMIN_BULK_BODY_LIMIT: usize = 16 * 1024 * 1024;

pub fn router(state: AppState) -> Router {
    let ops = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics_with_token))
        .route("/v1/ws", get(ops::ws_upgrade))
        .route("/v1/demo", get(ops::demo_info));
    let accounts = Router::new()
        .route("/v1/auth/register", post(auth::register))
        .route("/v1/auth/login", post(auth::login))
        .route("/v1/auth/refresh", post(auth::refresh))
        .route("/v1/auth/logout", post(auth::logout))
        .route("/v1/auth/registration", get(auth::registration))
        .route("/v1/operators/sign-in", post(operators::sign_in))
        .route("/v1/operators/live", get(live::upgrade))
        .route("/v1/account/sessions", get(account::list_sessions))
        .route("/v1/account/sessions/revoke", post(account::revoke_session))
        .route("/v1/account/sessions/revoke-others", post(account::revoke_other_sessions))
        .route("/v1/account/password", post(account::change_password))
        .route("/v1/account/two-factor", get(account::two_factor_status))
        .route("/v1/account/deposit-info", get(deposits::info))
        .route("/v1/account/two-factor/setup", post(account::two_factor_setup))
        .route("/v1/account/two-factor/enable", post(account::two_factor_enable))
        .route("/v1/account/two-factor/disable", post(account::two_factor_disable))
        .route("/v1/account/two-factor/recovery-codes", post(account::two_factor_recovery_codes));
    // Uploads stream to a staging file and stop at the tenant's own limit (no body limit layer here).
    let files = Router::new()
        .route("/v1/rooms/{room}/attachments", post(attachments::upload))
        .route("/v1/rooms/{room}/attachments/{id}", get(attachments::download))
        .route("/v1/rooms/{room}/attachments/{id}/thumbnail", get(attachments::thumbnail));
    let admin = Router::new()
        .route("/v1/admin/tenants", post(admin::tenant))
        .route("/v1/admin/attachment-limits", post(admin::attachment_limits))
        .route("/v1/admin/invites", post(admin::invites))
        .route("/v1/admin/password", post(admin::reset_password))
        .route("/v1/admin/two-factor/reset", post(admin::reset_two_factor))
        .route("/v1/admin/users/active", post(admin::set_active))
        .route("/v1/admin/users/kyc", post(kyc::set_level))
        .route("/v1/admin/kyc-limits", post(kyc::set_limits))
        .route("/v1/admin/users/limits", post(kyc::set_user_limits))
        .route("/v1/admin/deposit", post(admin::deposit))
        .route("/v1/admin/withdraw", post(admin::withdraw))
        .route("/v1/admin/withdrawals", get(withdrawals::queue))
        .route("/v1/admin/deposit-instructions", post(deposits::set_instructions))
        .route("/v1/admin/adjustments", post(deposits::adjust))
        .route("/v1/admin/compliance-rules", post(reviews::set_rules))
        .route("/v1/admin/reviews", get(reviews::queue))
        .route("/v1/admin/users/search", get(users::search))
        .route("/v1/admin/users/detail", get(users::detail))
        .route("/v1/admin/reviews/decide", post(reviews::decide))
        .route("/v1/admin/withdrawals/decide", post(withdrawals::decide))
        .route("/v1/admin/broadcast", post(admin::broadcast))
        .route("/v1/admin/invariants", get(admin::invariants))
        .route("/v1/admin/audit", get(audit_trail::audit))
        .route("/v1/admin/operators", post(operators::create));
    let admin_bulk = Router::new()
        .route("/v1/admin/deposits", post(admin::deposits))
        .route("/v1/admin/users", post(admin::users))
        .route("/v1/admin/tokens", post(admin::tokens))
        .route("/v1/admin/rooms", post(admin::room))
        .route("/v1/admin/publish", post(admin::publish));
    // The admin token is checked before a byte of the body is read (the outermost layer).
    let admin = errors::limited(admin, ADMIN_BODY_LIMIT)
        .merge(errors::limited(admin_bulk, ADMIN_BULK_BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(state.clone(), operator_auth::gate));
    let mut routes = errors::limited(ops, ACCOUNT_BODY_LIMIT)
        .merge(errors::limited(accounts, ACCOUNT_BODY_LIMIT))
        .merge(admin)
        .merge(files.layer(axum::extract::DefaultBodyLimit::disable()));
    if let Some(dir) = &state.hub.cfg.updates_dir {
        // The app's update feed: static files (no listing; paths outside the directory are refused).
        routes = routes.nest_service("/updates", tower_http::services::ServeDir::new(dir));
    }
    if let Some(dir) = &state.hub.cfg.console_dir {
        routes = routes.merge(console::router(dir));
    }
    routes.fallback(errors::no_such_endpoint).method_not_allowed_fallback(errors::wrong_method).with_state(state)
}

/// An admin list's page size: `limit` (default 100), refused (`400 invalid`) outside 1-`max`.
fn page_limit(limit: Option<u32>, max: u32) -> ApiResult<u32> {
    let limit = limit.unwrap_or(100);
    if limit == 0 || limit > max {
        return Err(HubError::invalid(format!("limit must be 1-{max}")).into());
    }
    Ok(limit)
}

/// Where the next page starts: the last row's key when this page is full, none when it is the last.
fn next_after<T, K>(rows: &[T], limit: u32, key: impl Fn(&T) -> K) -> Option<K> {
    (rows.len() == limit as usize).then(|| rows.last().map(key)).flatten()
}

/// The `--metrics-bind` listener: Prometheus text and liveness, nothing else.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(ops::metrics_text))
        .route("/healthz", get(|| async { "ok" }))
        .fallback(errors::no_such_endpoint)
        .with_state(state)
}

/// The tenant of that name (`default` when none is given), or `404 not_found`.
async fn tenant_or_404(s: &AppState, name: Option<String>) -> ApiResult<TenantId> {
    let name = name.unwrap_or_else(|| "default".into());
    Ok(s.hub
        .store
        .read(move |c| crate::auth::tenants::tenant_id(c, &name))
        .await?
        .ok_or_else(|| HubError::not_found("tenant"))?)
}

/// The client a request comes from: its socket's peer, or the address a `--trusted-proxy` names.
fn client_addr(s: &AppState, peer: &Peer, headers: &HeaderMap) -> std::net::IpAddr {
    client_ip(peer.0.ip(), headers, &s.hub.cfg.trusted_proxy)
}

/// Hashes a password (argon2) through the hub's password gate (bounded; 429 when it is full).
async fn hash_password(s: &AppState, password: String) -> ApiResult<String> {
    Ok(s.hub.password_work.hash(password).await?)
}

/// Checks a password against its hash through the hub's password gate.
async fn password_matches(s: &AppState, password: String, hash: String) -> ApiResult<bool> {
    Ok(s.hub.password_work.verify(password, hash).await?)
}

/// 429 `rate_limited` for a key that has used its guesses, with how long until its window ends.
fn throttled(b: crate::throttle::Blocked) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::RateLimited,
        "too many failed attempts; try again in a few minutes",
    )
    .retry_after((b.retry_after_ms.max(0) as u64).div_ceil(1000))
}

/// One attempt under every key, taken before the guess is checked (429 when any key is out of guesses).
async fn take_attempt(s: &AppState, keys: &[&str]) -> ApiResult<()> {
    s.hub.throttle.attempt(keys).await.map(|_| ()).map_err(throttled)
}
