//! Tally wire protocol.
//!
//! JSON text frames over one WebSocket. Each direction has one envelope enum tagged by `type`
//! ([`ClientFrame`], [`ServerFrame`]). Durable events carry `(channel, epoch, seq)`; ephemeral ones do not.
//! Money is always [`Money`]: integer minor units plus an ISO-4217 code. This crate holds types only:
//! nothing async, no I/O. `docs/PROTOCOL.md` is the prose version of this crate and a test keeps them equal.

pub mod attachment;
mod channel;
mod codec;
pub mod deposit_ref;
pub mod destination;
mod error;
mod frames;
pub mod http;
pub mod live;
mod model;
mod money;
pub mod text;
pub mod ts;

pub use attachment::{Attachment, AttachmentKind};
pub use channel::{Channel, ChannelParseError};
pub use codec::{decode_client, decode_server, encode, DecodeError, SERVER_FRAME_TYPES};
pub use error::{CloseCode, ErrorCode};
pub use frames::*;
pub use model::*;
pub use money::{limit_in, Currency, CurrencyError, Money};

/// The protocol version this build speaks. Sent as `v` in `hello` and `welcome`.
pub const PROTOCOL_VERSION: u16 = 1;
/// Oldest client protocol version the hub still accepts.
pub const MIN_PROTOCOL_VERSION: u16 = 1;
/// Largest number of events in one replay `batch` frame.
pub const MAX_REPLAY_BATCH: usize = 500;
/// Largest page a `history` request may ask for.
pub const MAX_HISTORY_PAGE: u32 = 1000;
/// Largest page of a paged `snapshot` (transactions, notifications and the `*_changes` feeds).
pub const MAX_SNAPSHOT_PAGE: u32 = 1000;
/// Longest chat message text, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 8 * 1024;
/// Longest transfer memo, in bytes.
pub const MAX_MEMO_BYTES: usize = 280;
/// Furthest a payment request's `expires_at` may lie ahead: 90 days.
pub const MAX_REQUEST_EXPIRY_MS: Millis = 90 * 86_400_000;

/// Unix time in milliseconds, UTC.
pub type Millis = i64;
/// Client-chosen request id, echoed in the `ack` or `error` that answers it.
pub type ReqId = u64;
pub type UserId = i64;
pub type RoomId = i64;
pub type TransferId = i64;
pub type MessageId = i64;
pub type NotificationId = i64;
pub type TxId = i64;
pub type RequestId = i64;
pub type WithdrawalId = i64;
