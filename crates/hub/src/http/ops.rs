//! Health, readiness, metrics, demo info and the WebSocket upgrade.
use super::*;
use std::sync::atomic::Ordering;

pub(super) async fn readyz(State(s): State<AppState>) -> Response {
    if s.hub.ready.load(Ordering::Acquire) && s.hub.store.read(|c| c.ping()).await.is_ok() {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready").into_response()
    }
}

/// /metrics on the public listener: only with `--metrics-token`, to that bearer token.
pub(super) async fn metrics_with_token(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let Some(want) = s.hub.cfg.metrics_token.as_deref() else {
        return ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "metrics are served on --metrics-bind")
            .into_response();
    };
    if !constant_time_eq(bearer(&headers).as_bytes(), want.as_bytes()) {
        return ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, "metrics token required")
            .into_response();
    }
    metrics_text(State(s)).await
}

pub(super) fn bearer(headers: &HeaderMap) -> &str {
    headers.get("authorization").and_then(|h| h.to_str().ok()).and_then(|h| h.strip_prefix("Bearer ")).unwrap_or("")
}

pub(super) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(super) async fn metrics_text(State(s): State<AppState>) -> Response {
    ([("content-type", "text/plain; version=0.0.4")], rendered(&s)).into_response()
}

/// The Prometheus text, with the gauges counted at scrape brought up to date (`/metrics` and the
/// operators' live stats read this one text).
pub(super) fn rendered(s: &AppState) -> String {
    metrics::gauge!(crate::series::SUBSCRIPTIONS_LIVE).set(s.hub.fanout.subscription_count() as f64);
    metrics::gauge!(crate::series::WRITER_QUEUE).set(s.hub.store.queued() as f64);
    s.metrics.render()
}

/// Why a WebSocket upgrade is refused before anything else is looked at: an `Origin` the hub was not
/// told to allow (403), or a hub shutting down (503). None: go on.
pub(super) fn upgrade_refused(s: &AppState, headers: &HeaderMap) -> Option<Response> {
    if !origin_allowed(s, headers) {
        return Some((StatusCode::FORBIDDEN, "origin not allowed").into_response());
    }
    if !s.hub.ready.load(Ordering::Acquire) {
        return Some((StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response());
    }
    None
}

/// False (and counted) when the request names an `Origin` the hub was not told to allow.
fn origin_allowed(s: &AppState, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get("origin").and_then(|o| o.to_str().ok()) else { return true };
    let allowed = s.hub.cfg.allowed_origins.iter().any(|a| a == "*" || a.eq_ignore_ascii_case(origin));
    if !allowed {
        metrics::counter!(crate::series::REJECTED_ORIGINS).increment(1);
    }
    allowed
}

pub(super) async fn ws_upgrade(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if let Some(refused) = upgrade_refused(&s, &headers) {
        return refused;
    }
    let ip = client_addr(&s, &peer, &headers);
    let place = match s.hub.conn_caps.admit(ip) {
        Ok(p) => p,
        Err(which) => {
            let what = match which {
                crate::conn_caps::Refused::Open => "too many connections from this address",
                crate::conn_caps::Refused::Unauthenticated => {
                    "too many connections from this address waiting to sign in"
                }
            };
            metrics::counter!(crate::series::WS_REFUSED, "cap" => which.label()).increment(1);
            return ApiError::new(StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimited, what)
                .retry_after(5)
                .into_response();
        }
    };
    let hub = s.hub.clone();
    // Counted before the 101 goes out, so a drain that starts now waits for this socket too.
    let counted = hub.socket_opened();
    // Small buffers: client frames are small, and an idle connection should cost a few KiB, not the
    // 128 KiB read buffer tungstenite allocates by default. Writes still coalesce up to 16 KiB. A frame up
    // to twice the limit is read and answered `frame_too_large`; anything larger closes with 1009 before
    // it is buffered (so an unauthenticated socket holds at most that much).
    let most = (s.hub.cfg.max_frame_bytes as usize).saturating_mul(2);
    ws.max_message_size(most)
        .max_frame_size(most)
        .read_buffer_size(1024)
        .write_buffer_size(16 * 1024)
        .on_upgrade(move |socket| crate::ws::serve_socket(hub, Box::new(socket), (counted, place)))
}

pub(super) async fn demo_info(State(s): State<AppState>) -> Json<tally_protocol::http::DemoInfo> {
    use tally_protocol::http::DemoInfo;
    if s.hub.cfg.demo {
        let users = crate::demo::USERS.iter().map(|u| u.0.to_string()).collect();
        Json(DemoInfo { demo: true, users, password: Some(crate::demo::PASSWORD.to_string()) })
    } else {
        Json(DemoInfo { demo: false, users: vec![], password: None })
    }
}
