use tally_protocol::ErrorCode;

/// A request's failure: a protocol error code and a message safe to show the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct HubError {
    pub code: ErrorCode,
    pub message: String,
}

impl HubError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        HubError { code, message: message.into() }
    }
    pub fn internal(message: impl std::fmt::Display) -> Self {
        tracing::error!(error = %message, "internal error");
        HubError::new(ErrorCode::Internal, "internal error")
    }
    pub fn not_found(what: &str) -> Self {
        HubError::new(ErrorCode::NotFound, format!("{what} not found"))
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        HubError::new(ErrorCode::Invalid, message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        HubError::new(ErrorCode::Forbidden, message)
    }
}

impl From<rusqlite::Error> for HubError {
    fn from(e: rusqlite::Error) -> Self {
        HubError::internal(e)
    }
}
impl From<r2d2::Error> for HubError {
    fn from(e: r2d2::Error) -> Self {
        HubError::internal(e)
    }
}

pub type HubResult<T> = Result<T, HubError>;
