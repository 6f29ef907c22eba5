//! Domain objects carried inside frames.
use crate::{
    Channel, Currency, MessageId, Millis, Money, NotificationId, RequestId, RoomId, TransferId, TxId, UserId,
    WithdrawalId,
};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A position in a channel's log. `epoch` changes when the channel's log is reset; `seq` counts events
/// from 1 within an epoch, strictly +1 with no gaps.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
pub struct Position {
    pub epoch: String,
    #[ts(type = "number")]
    pub seq: u64,
}

/// A channel to subscribe to, with the last position the client has applied (for recovery).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SubscribeSpec {
    pub channel: Channel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub since: Option<Position>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct UserSummary {
    #[ts(type = "number")]
    pub id: UserId,
    pub username: String,
    pub display_name: String,
}

/// Limits the hub enforces on this connection, announced in `welcome`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Limits {
    pub max_frame_bytes: u32,
    pub max_subscriptions: u32,
    /// Sustained frames per second allowed per connection.
    pub rate_per_sec: u32,
    /// Burst of frames allowed above the sustained rate.
    pub burst: u32,
    /// Largest single transfer for this user, in hundredths of a major unit, the same in every currency:
    /// 10000 is 100.00 USD, 100 JPY and 100.000 BHD (`limit_in` gives it in a currency's minor units).
    #[ts(type = "number")]
    pub transfer_single_max: i64,
    /// This user's largest total of transfers sent in one UTC day, per currency (hundredths of a major
    /// unit, as above).
    #[ts(type = "number")]
    pub transfer_daily_max: i64,
    /// Largest file this user may send in a conversation, in bytes: the tenant's own limit (an operator
    /// sets it), else the hub's default. A hub that predates it is read as the default (25 MiB).
    #[serde(default = "default_attachment_max")]
    #[ts(type = "number")]
    pub attachment_max_bytes: u64,
    /// How far this user's identity has been checked; the transfer limits above are this level's.
    #[serde(default)]
    pub kyc_level: KycLevel,
}

/// How far a user's identity has been checked (by the operator's support team); each level has its own
/// transfer limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum KycLevel {
    /// Not checked: the tenant's starting limits.
    #[default]
    None,
    Basic,
    Verified,
}

impl KycLevel {
    pub const ALL: [KycLevel; 3] = [KycLevel::None, KycLevel::Basic, KycLevel::Verified];

    pub fn as_str(self) -> &'static str {
        match self {
            KycLevel::None => "none",
            KycLevel::Basic => "basic",
            KycLevel::Verified => "verified",
        }
    }

    pub fn parse(s: &str) -> Option<KycLevel> {
        KycLevel::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

fn default_attachment_max() -> u64 {
    crate::attachment::DEFAULT_MAX_ATTACHMENT_BYTES
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Balance {
    pub currency: Currency,
    /// Spendable now (minor units).
    #[ts(type = "number")]
    pub available: i64,
    /// Held by transfers in flight (minor units).
    #[ts(type = "number")]
    pub pending: i64,
    /// When the hub computed this balance.
    #[ts(type = "number")]
    pub as_of: Millis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum TxKind {
    TransferIn,
    TransferOut,
    Deposit,
    Withdrawal,
    /// A correcting entry by the operator (its direction says which way), with the reason as its memo:
    /// history is never edited, a mistake is corrected by a new line.
    Adjustment,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    In,
    Out,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum TransferStatus {
    Pending,
    Processing,
    Completed,
    Failed,
    /// Held for a compliance review by the operator (the money held, not posted): released, it goes on
    /// as `pending`; rejected, it fails and the money goes back.
    Review,
}

impl TransferStatus {
    pub fn is_final(&self) -> bool {
        matches!(self, TransferStatus::Completed | TransferStatus::Failed)
    }
}

/// One line of a user's transaction history. `amount` is always positive; `direction` gives the sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Transaction {
    #[ts(type = "number")]
    pub id: TxId,
    pub kind: TxKind,
    pub direction: Direction,
    pub amount: Money,
    /// Balance (available) of this currency right after the transaction, in minor units.
    #[ts(type = "number")]
    pub balance_after: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub counterparty: Option<UserSummary>,
    #[serde(default)]
    pub memo: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    pub transfer_id: Option<TransferId>,
    pub status: TransferStatus,
    #[ts(type = "number")]
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Transfer {
    #[ts(type = "number")]
    pub id: TransferId,
    pub from: UserSummary,
    pub to: UserSummary,
    pub amount: Money,
    #[serde(default)]
    pub memo: String,
    pub status: TransferStatus,
    /// 0-100.
    pub progress: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub failure: Option<String>,
    /// The sender's idempotency key; present only in frames sent to the sender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub idempotency_key: Option<String>,
    #[ts(type = "number")]
    pub created_at: Millis,
    #[ts(type = "number")]
    pub updated_at: Millis,
}

/// Where a payment request stands. `open` may be paid, declined, cancelled or expire; `paying` has a
/// transfer on its way (it fails back to `open`, or completes to `paid`); the other four are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Open,
    Paying,
    Paid,
    Declined,
    Cancelled,
    Expired,
}

impl RequestStatus {
    pub fn is_final(self) -> bool {
        !matches!(self, RequestStatus::Open | RequestStatus::Paying)
    }
}

/// Where a withdrawal stands: `pending` holds the money until the operator's finance team pays it out
/// (`completed`) or refuses it (`rejected`, the money back in the user's balance).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum WithdrawalStatus {
    Pending,
    Completed,
    Rejected,
}

impl WithdrawalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            WithdrawalStatus::Pending => "pending",
            WithdrawalStatus::Completed => "completed",
            WithdrawalStatus::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [WithdrawalStatus::Pending, WithdrawalStatus::Completed, WithdrawalStatus::Rejected]
            .into_iter()
            .find(|w| w.as_str() == s)
    }
}

/// Money a user asked to take out of Tally to an account of their own. Its history line
/// (`transaction_id`) is pending while it waits and follows its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Withdrawal {
    #[ts(type = "number")]
    pub id: WithdrawalId,
    pub user: UserSummary,
    pub amount: Money,
    /// An IBAN (checked, in groups of four) or the free text the user gave.
    pub destination: String,
    pub status: WithdrawalStatus,
    /// Why it was rejected (or the operator's note on paying it out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub reason: Option<String>,
    #[ts(type = "number")]
    pub transaction_id: TxId,
    #[ts(type = "number")]
    pub created_at: Millis,
    #[ts(type = "number")]
    pub updated_at: Millis,
}

/// One person asking another for money. The hub keeps it and publishes each change on both parties'
/// `user:` channels; the payer pays it in one step (`request_pay`), which makes a transfer to the requester.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PaymentRequest {
    #[ts(type = "number")]
    pub id: RequestId,
    /// Who asks, and receives the money.
    pub requester: UserSummary,
    /// Who is asked to pay.
    pub payer: UserSummary,
    pub amount: Money,
    #[serde(default)]
    pub memo: String,
    pub status: RequestStatus,
    /// Past it the request cannot be paid; the hub marks it `expired`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    pub expires_at: Option<Millis>,
    /// The transfer that pays it (the latest attempt, when one failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    pub transfer: Option<TransferId>,
    #[ts(type = "number")]
    pub created_at: Millis,
    #[ts(type = "number")]
    pub updated_at: Millis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RoomKind {
    Direct,
    Group,
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Room {
    #[ts(type = "number")]
    pub id: RoomId,
    pub kind: RoomKind,
    /// Group name; for direct rooms the other member's display name.
    pub name: String,
    pub members: Vec<UserSummary>,
    /// A group's admins (who may rename it and remove members): its creator, then whoever the hub makes
    /// admin when the last one leaves. Empty for a direct room.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[ts(type = "number[]", optional)]
    pub admins: Vec<UserId>,
    /// The viewer's own choices for this room (on every device of theirs): muted (no popups for its
    /// messages; mentions still notify) and pinned (first in the list).
    #[serde(default, skip_serializing_if = "is_false")]
    #[ts(type = "boolean", optional)]
    pub muted: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    #[ts(type = "boolean", optional)]
    pub pinned: bool,
    #[ts(type = "number")]
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Reaction {
    pub emoji: String,
    #[ts(type = "number[]")]
    pub users: Vec<UserId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Message {
    #[ts(type = "number")]
    pub id: MessageId,
    #[ts(type = "number")]
    pub room: RoomId,
    /// The seq of the `message` event in the room's log (orders the room's history).
    #[ts(type = "number")]
    pub seq: u64,
    /// The sender's own id for this message: makes sending idempotent and matches local echo.
    pub client_msg_id: String,
    pub sender: UserSummary,
    /// Plain text, stored and delivered verbatim. Never HTML.
    pub text: String,
    #[ts(type = "number[]")]
    pub mentions: Vec<UserId>,
    #[ts(type = "number")]
    pub sent_at: Millis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    pub edited_at: Option<Millis>,
    #[serde(default)]
    pub deleted: bool,
    #[serde(default)]
    pub reactions: Vec<Reaction>,
    /// A payment or a payment request this message shows as a card (its text is the memo). Posted by the
    /// hub with the `transfer_create` or `request_create` that named the room; never edited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub card: Option<MessageCard>,
    /// A file or a picture sent with the message (its text is the caption, possibly empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub attachment: Option<crate::Attachment>,
}

/// What a card in the conversation shows: the sender paid `to`, or asks `payer` for money. The amount and
/// the other party are kept on the card so every member sees them; where it stands is the parties' own
/// (the transfer's or the request's events).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MessageCard {
    Transfer {
        #[ts(type = "number")]
        id: TransferId,
        to: UserSummary,
        amount: Money,
    },
    Request {
        #[ts(type = "number")]
        id: RequestId,
        payer: UserSummary,
        amount: Money,
    },
    /// A bill split in a group: one request per member asked, tracked together. The sender's own share is
    /// what is left of `total` after theirs (it takes any cents that do not divide evenly).
    Split { total: Money, shares: Vec<SplitShare> },
}

/// One member's part of a split: the request that asks them for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SplitShare {
    #[ts(type = "number")]
    pub request: RequestId,
    pub payer: UserSummary,
    pub amount: Money,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    Balance,
    Transaction,
    Transfer,
    Payment,
    Deposit,
    Withdrawal,
    Security,
    Limits,
    Kyc,
    Card,
    Mention,
    Message,
    System,
    /// Someone asks the user for money (target: the request).
    PaymentRequest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    Normal,
    High,
    Critical,
}

/// What a notification is about, so a click can open it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NotificationTarget {
    Transfer {
        #[ts(type = "number")]
        id: TransferId,
    },
    Room {
        #[ts(type = "number")]
        id: RoomId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "number")]
        message: Option<MessageId>,
    },
    Transaction {
        #[ts(type = "number")]
        id: TxId,
    },
    Request {
        #[ts(type = "number")]
        id: RequestId,
    },
}

/// What a notification says, as data: the app words it in its reader's language (its locales'
/// `notification_text.<key>`), and `title`/`body` keep the hub's English for apps that do not know the
/// key. Names, memos, reasons and device details are the people's own text, never translated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "key", rename_all = "snake_case")]
pub enum NotificationText {
    /// "{from} paid you {amount}" (the body is the memo).
    PaymentReceived {
        from: String,
        amount: Money,
    },
    /// "{amount} sent to {to}" (the body is the memo).
    PaymentSent {
        to: String,
        amount: Money,
    },
    /// "Transfer of {amount} to {to} failed", "The money is back in your balance."
    TransferFailed {
        to: String,
        amount: Money,
    },
    /// "Your payment of {amount} to {to} is under review", and that the money is held meanwhile.
    TransferInReview {
        to: String,
        amount: Money,
    },
    /// "Transfer blocked by a limit" (the body is the hub's reason).
    TransferBlocked,
    /// "Deposit of {amount}" (the body is the memo).
    Deposit {
        amount: Money,
    },
    /// "Withdrawal of {amount}" (the body is the memo).
    Withdrawal {
        amount: Money,
    },
    /// "Your balance was corrected: +{amount}" / "-{amount}" (the body is the memo).
    BalanceCredited {
        amount: Money,
    },
    BalanceDebited {
        amount: Money,
    },
    /// "Withdrawal of {amount} paid out", "Sent to {destination}".
    WithdrawalPaid {
        amount: Money,
        destination: String,
    },
    /// "Withdrawal of {amount} rejected", "{reason} The money is back in your balance."
    WithdrawalRejected {
        amount: Money,
        reason: String,
    },
    /// "{from} requests {amount}" (the body is the memo).
    PaymentRequested {
        from: String,
        amount: Money,
    },
    /// "{by} declined your request for {amount}" (the body is the memo).
    RequestDeclined {
        by: String,
        amount: Money,
    },
    /// "{by} mentioned you" (the body is the message).
    Mentioned {
        by: String,
    },
    /// "{by} mentioned you in {room}" (the body is the message).
    MentionedIn {
        by: String,
        room: String,
    },
    /// "New sign-in to your account", "{device} ({platform}) from {ip}. If this was not you, …"
    NewSignIn {
        device: String,
        platform: String,
        ip: String,
    },
    /// "Your limits changed", "You can now send up to {single} in one payment and {daily} a day … {reason}"
    /// (limits in hundredths of a major unit, the same in every currency, as `Limits` has them).
    LimitsChanged {
        #[ts(type = "number")]
        single: i64,
        #[ts(type = "number")]
        daily: i64,
        reason: String,
    },
    /// "Identity check: {level}", and the limits that come with it (hundredths of a major unit).
    KycLevel {
        level: KycLevel,
        #[ts(type = "number")]
        single: i64,
        #[ts(type = "number")]
        daily: i64,
    },
    /// Security notices: the user's own changes (told on every device) and the operator's.
    PasswordChanged,
    TwoFactorOn,
    TwoFactorOff,
    RecoveryCodesNew,
    PasswordReset,
    AccountEnabled,
    AccountDisabled,
    TwoFactorReset,
    /// "Someone tried to sign in … with a wrong password {count} times in a row, from {ip}."
    WrongPasswords {
        #[ts(type = "number")]
        count: u64,
        ip: String,
    },
    /// "Someone signed in with your password from {ip} but gave a wrong two-factor code {count} times."
    WrongCodes {
        #[ts(type = "number")]
        count: u64,
        ip: String,
    },
    /// A key this app does not know (a newer hub): the notification's `title` and `body` as written.
    #[serde(other)]
    #[ts(skip)]
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Notification {
    #[ts(type = "number")]
    pub id: NotificationId,
    pub kind: NotificationKind,
    pub priority: Priority,
    pub title: String,
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub target: Option<NotificationTarget>,
    /// What `title` and `body` say, as data for the app to word in its language (none: show them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub text: Option<NotificationText>,
    pub read: bool,
    #[ts(type = "number")]
    pub created_at: Millis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PresenceStatus {
    Online,
    Away,
    Busy,
    /// Set by a user to appear offline. Others never see this value: they see `offline`.
    Invisible,
    Offline,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum MemberChange {
    Joined,
    Left,
}
