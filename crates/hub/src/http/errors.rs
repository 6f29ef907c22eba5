//! HTTP errors, all as the documented JSON `{"code", "message"}`: the hub's own, a body that is not
//! the JSON asked for (axum would answer plain text), a body over the limit (answered with 413 after
//! reading it away, so the client sees the answer instead of a broken pipe), an unknown path, a wrong
//! method.
use super::*;
use axum::body::Body;
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, Request};
use axum::middleware::Next;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use std::time::Duration;

pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    /// Seconds to wait before trying again (`Retry-After`), for 429 and 503.
    pub retry_after: Option<u64>,
}
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), retry_after: None }
    }
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs.max(1));
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = tally_protocol::http::ErrorBody { code: self.code, message: self.message };
        let mut r = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            r.headers_mut().insert("retry-after", axum::http::HeaderValue::from(secs));
        }
        r
    }
}

impl From<HubError> for ApiError {
    fn from(e: HubError) -> Self {
        let status = match e.code {
            ErrorCode::Unauthorized | ErrorCode::TokenExpired | ErrorCode::TwoFactorRequired => {
                StatusCode::UNAUTHORIZED
            }
            ErrorCode::Forbidden | ErrorCode::ForbiddenChannel => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::Conflict | ErrorCode::InsufficientFunds => StatusCode::CONFLICT,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::FrameTooLarge | ErrorCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::UnsupportedType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::QuotaExceeded => StatusCode::INSUFFICIENT_STORAGE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        };
        let retry = matches!(e.code, ErrorCode::RateLimited | ErrorCode::Unavailable);
        let e2 = ApiError::new(status, e.code, e.message);
        if retry {
            e2.retry_after(crate::account::hashing::BUSY_RETRY_SECS)
        } else {
            e2
        }
    }
}

/// `Json<T>` whose rejection is ours: 400/415/422 `bad_frame`, 413 `frame_too_large`.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(rejected(rejection)),
        }
    }
}

fn rejected(r: JsonRejection) -> ApiError {
    let status = r.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(status, ErrorCode::FrameTooLarge, "the request body is too large");
    }
    let message = match &r {
        JsonRejection::MissingJsonContentType(_) => "send the body as JSON (Content-Type: application/json)".into(),
        // The body's text, not a secret: which field is missing or of the wrong type, and where.
        other => other.body_text(),
    };
    ApiError::new(status, ErrorCode::BadFrame, message)
}

/// Bodies over this much are not read away for a 413: the connection is closed instead.
const DRAIN_AT_MOST: u64 = 16 * 1024 * 1024;

/// Routes whose bodies may be at most `limit` bytes.
pub fn limited(routes: axum::Router<AppState>, limit: usize) -> axum::Router<AppState> {
    routes
        .layer(axum::middleware::from_fn(move |req: Request, next: Next| refuse_large(req, next, limit)))
        .layer(DefaultBodyLimit::max(limit))
}

/// A declared length over the limit is answered 413 once the body has been read away (bounded in
/// bytes and time): answering before would reset the connection under a client still sending.
async fn refuse_large(req: Request, next: Next, limit: usize) -> Response {
    let declared =
        req.headers().get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(n) if n > limit as u64 => {
            if n <= DRAIN_AT_MOST {
                drain(req.into_body()).await;
            }
            let mut r = ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::FrameTooLarge,
                format!("the request body is over {limit} bytes"),
            )
            .into_response();
            r.headers_mut().insert("connection", axum::http::HeaderValue::from_static("close"));
            r
        }
        _ => next.run(req).await,
    }
}

pub(super) async fn drain(body: Body) {
    let mut data = body.into_data_stream();
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        let mut seen = 0u64;
        while let Some(Ok(chunk)) = data.next().await {
            seen += chunk.len() as u64;
            if seen > DRAIN_AT_MOST {
                break;
            }
        }
    })
    .await;
}

pub async fn no_such_endpoint() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such endpoint")
}

pub async fn wrong_method() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, ErrorCode::Invalid, "this endpoint does not take that method")
}
