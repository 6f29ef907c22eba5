use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The `code` of an `error` frame. Stable: clients switch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame is not valid JSON or does not match the shape of its `type`.
    BadFrame,
    /// The frame's `type` is not one this hub knows.
    UnknownType,
    /// No valid access token (missing, forged, wrong signature, wrong algorithm, revoked).
    Unauthorized,
    /// The access token has expired: refresh it and reconnect.
    TokenExpired,
    /// The user may not subscribe to this channel.
    ForbiddenChannel,
    /// The user may not do this (not a member of the room, not the author of the message, ...).
    Forbidden,
    /// Too many frames: slow down. `retryable` is true.
    RateLimited,
    /// The frame is larger than `limits.max_frame_bytes`.
    FrameTooLarge,
    /// The `v` in `hello` is not supported by this hub.
    UnsupportedVersion,
    /// No such user, room, message or transfer (or not visible to you).
    NotFound,
    /// The idempotency key was used before with a different request body.
    Conflict,
    /// The sender's available balance is too small.
    InsufficientFunds,
    /// A per-user limit (single transfer or daily total) would be exceeded.
    LimitExceeded,
    /// A field is out of range: non-positive amount, text too long, unknown currency, ...
    Invalid,
    /// More subscriptions than `limits.max_subscriptions`.
    TooManySubscriptions,
    /// The request's `expires_at` has passed: the hub did not carry it out (a queued payment sent too late).
    Expired,
    /// The hub is shutting down or overloaded; retry later.
    Unavailable,
    /// Something went wrong on the hub. Nothing was changed unless an event says so.
    Internal,
    /// Sign-in: the password is right and the account has two-factor on; send the code (`totp`) too.
    TwoFactorRequired,
    /// An upload is larger than the tenant's attachment limit (HTTP 413).
    TooLarge,
    /// An upload's content is not a type on the allow-list, whatever its name says (HTTP 415).
    UnsupportedType,
    /// The tenant's storage for attachments is full (HTTP 507).
    QuotaExceeded,
}

impl ErrorCode {
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorCode::BadFrame => "bad_frame",
            ErrorCode::UnknownType => "unknown_type",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::TokenExpired => "token_expired",
            ErrorCode::ForbiddenChannel => "forbidden_channel",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::FrameTooLarge => "frame_too_large",
            ErrorCode::UnsupportedVersion => "unsupported_version",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::InsufficientFunds => "insufficient_funds",
            ErrorCode::LimitExceeded => "limit_exceeded",
            ErrorCode::Invalid => "invalid",
            ErrorCode::TooManySubscriptions => "too_many_subscriptions",
            ErrorCode::Expired => "expired",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
            ErrorCode::TwoFactorRequired => "two_factor_required",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::UnsupportedType => "unsupported_type",
            ErrorCode::QuotaExceeded => "quota_exceeded",
        }
    }

    /// Whether sending the same request again later may succeed.
    pub fn retryable(&self) -> bool {
        matches!(self, ErrorCode::RateLimited | ErrorCode::Unavailable | ErrorCode::Internal | ErrorCode::TokenExpired)
    }

    pub const ALL: [ErrorCode; 22] = [
        ErrorCode::BadFrame,
        ErrorCode::UnknownType,
        ErrorCode::Unauthorized,
        ErrorCode::TokenExpired,
        ErrorCode::ForbiddenChannel,
        ErrorCode::Forbidden,
        ErrorCode::RateLimited,
        ErrorCode::FrameTooLarge,
        ErrorCode::UnsupportedVersion,
        ErrorCode::NotFound,
        ErrorCode::Conflict,
        ErrorCode::InsufficientFunds,
        ErrorCode::LimitExceeded,
        ErrorCode::Invalid,
        ErrorCode::TooManySubscriptions,
        ErrorCode::Expired,
        ErrorCode::Unavailable,
        ErrorCode::Internal,
        ErrorCode::TwoFactorRequired,
        ErrorCode::TooLarge,
        ErrorCode::UnsupportedType,
        ErrorCode::QuotaExceeded,
    ];
}

/// WebSocket close codes the hub uses. 1000-1015 are RFC 6455's; 4000-4999 are Tally's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum CloseCode {
    Normal = 1000,
    GoingAway = 1001,
    ProtocolError = 1002,
    InvalidData = 1007,
    PolicyViolation = 1008,
    MessageTooBig = 1009,
    InternalError = 1011,
    /// Graceful restart; a `reconnect` frame with a delay hint precedes it.
    ServiceRestart = 1012,
    /// The first frame was not a well-formed `hello`.
    BadHello = 4000,
    /// The token is invalid or revoked. Permanent: do not retry with the same token.
    Unauthorized = 4001,
    /// The access token expired. Refresh, then reconnect at once.
    TokenExpired = 4002,
    /// `hello.v` is not supported. Permanent: the app must be updated.
    UnsupportedVersion = 4003,
    /// No `hello` within the auth timeout.
    AuthTimeout = 4004,
    /// The client did not read fast enough; its queue overflowed. Reconnect and recover.
    SlowConsumer = 4008,
    /// The connection kept exceeding its rate limit.
    RateLimited = 4009,
    /// The session was revoked (logout elsewhere, password change).
    SessionRevoked = 4010,
}

impl CloseCode {
    /// Every close code, in numeric order.
    pub const ALL: [CloseCode; 16] = [
        CloseCode::Normal,
        CloseCode::GoingAway,
        CloseCode::ProtocolError,
        CloseCode::InvalidData,
        CloseCode::PolicyViolation,
        CloseCode::MessageTooBig,
        CloseCode::InternalError,
        CloseCode::ServiceRestart,
        CloseCode::BadHello,
        CloseCode::Unauthorized,
        CloseCode::TokenExpired,
        CloseCode::UnsupportedVersion,
        CloseCode::AuthTimeout,
        CloseCode::SlowConsumer,
        CloseCode::RateLimited,
        CloseCode::SessionRevoked,
    ];

    pub fn code(self) -> u16 {
        self as u16
    }
    pub fn from_code(code: u16) -> Option<CloseCode> {
        CloseCode::ALL.into_iter().find(|c| c.code() == code)
    }
    /// A permanent close: reconnecting with the same credentials/build cannot succeed.
    pub fn is_permanent(self) -> bool {
        matches!(self, CloseCode::Unauthorized | CloseCode::UnsupportedVersion | CloseCode::SessionRevoked)
    }
}
