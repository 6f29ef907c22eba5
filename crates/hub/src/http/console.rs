//! The operators' console at /console/: static files (the built `ui/dist-console`) behind headers that
//! keep it to itself — scripts, styles and calls only from this origin, never framed, no referrer. It
//! holds nothing secret: an operator signs in with password and TOTP and its session token lives in the
//! tab's sessionStorage; every action goes through the same /v1/admin/* gate as curl.
use super::AppState;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use axum::Router;
use std::path::Path;
use tower_http::services::ServeDir;

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
                   connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

pub(super) fn router(dir: &Path) -> Router<AppState> {
    Router::new().nest_service("/console", ServeDir::new(dir)).layer(axum::middleware::map_response(guarded))
}

async fn guarded(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}
