use tally_protocol::ErrorCode;

/// A request's failure: a protocol error code and a message safe to show the user, and (for storage and
/// other internal failures) the underlying cause, kept for logs and operators and never sent to clients.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct HubError {
    pub code: ErrorCode,
    pub message: String,
    pub cause: Option<String>,
}

impl HubError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        HubError { code, message: message.into(), cause: None }
    }
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let cause = cause.to_string();
        tracing::error!(error = %cause, "internal error");
        HubError { code: ErrorCode::Internal, message: "internal error".into(), cause: Some(cause) }
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
    /// The store cannot take writes right now (disk full, locked, I/O): retryable, nothing was applied.
    pub fn storage_unavailable(cause: impl std::fmt::Display) -> Self {
        let cause = cause.to_string();
        tracing::warn!(error = %cause, "storage unavailable");
        let message = "storage is temporarily unavailable; try again".to_string();
        HubError { code: ErrorCode::Unavailable, message, cause: Some(cause) }
    }
}

pub type HubResult<T> = Result<T, HubError>;
