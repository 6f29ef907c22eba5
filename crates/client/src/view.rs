//! What the app shows: the types the engine hands to the UI (through the Tauri shell) and the commands'
//! inputs. Generated as TypeScript into `ui/src/bindings/app.ts`; the UI never redefines them.

use serde::{Deserialize, Serialize};
/// The account types the hub answers with, as the UI sees them (defined with the HTTP API).
pub use tally_protocol::http::{
    DemoInfo, DepositInfo, DeviceSession, Registration, RegistrationInfo, TwoFactorSetup, TwoFactorStatus,
};
use tally_protocol::{
    Balance, Direction, Message, Millis, Money, NotificationKind, PaymentRequest, PresenceStatus, Room, RoomId,
    Transaction, Transfer, TransferStatus, TxKind, UserSummary,
};
use ts_rs::TS;

/// The connection as the UI renders it (the header pill).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnState {
    /// No network or not signed in; `since` is when the last live connection ended.
    Offline {
        since: Option<Millis>,
    },
    Connecting,
    Authenticating,
    Live {
        latency_ms: Option<u32>,
    },
    /// Waiting before the next attempt; `retry_at` is a wall-clock time.
    BackingOff {
        attempt: u32,
        retry_at: Millis,
        last_error: String,
        /// When the last live session ended (None: this device has not been live since it started).
        #[ts(type = "number | null")]
        offline_since: Option<Millis>,
    },
    /// The hub refused our credentials for good: the user must sign in again.
    AuthFailed {
        reason: String,
    },
    /// The app build is too old or the session was ended; no automatic retry.
    Closed {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SessionInfo {
    pub server: String,
    pub user: UserSummary,
    /// Where tokens are kept: `"keychain"` or `"memory"` (no OS keychain service found; the user is told).
    pub secret_store: String,
    /// The hub's limits for this user, as last announced (absent before the first connection).
    pub limits: Option<tally_protocol::Limits>,
    /// The tenant requires two-factor and this account has not turned it on (Settings asks at once).
    pub must_enrol_two_factor: bool,
}

/// The optional app lock (Settings → Security).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AppLockState {
    pub enabled: bool,
    /// The PIN must be given before anything is shown.
    pub locked: bool,
    /// Minutes out of sight before the app locks.
    pub after_minutes: u32,
    /// Wrong PINs left before the account is signed out and its data deleted.
    pub attempts_left: u32,
}

/// Transaction history filter. Every field is optional; all given ones must match.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct TxFilter {
    pub from: Option<Millis>,
    pub to: Option<Millis>,
    pub direction: Option<Direction>,
    pub kinds: Vec<TxKind>,
    /// Username or display name, case-insensitive substring.
    pub counterparty: Option<String>,
    pub min_minor: Option<i64>,
    pub max_minor: Option<i64>,
    pub currency: Option<String>,
    /// Full-text search over memo and counterparty.
    pub search: Option<String>,
}

/// Keyset cursor: the last row of the previous page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct TxCursor {
    pub created_at: Millis,
    pub id: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct TxRow {
    pub tx: Transaction,
    /// Cached before the last `recovered: false` resync: may be out of date.
    pub stale: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct TxPage {
    pub rows: Vec<TxRow>,
    pub next: Option<TxCursor>,
    /// Rows matching the filter in the whole cache (on the first page; 0 on later pages).
    pub total: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct BalancePoint {
    pub ts: Millis,
    pub balance_minor: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CounterpartySpend {
    pub counterparty: UserSummary,
    pub out_minor: i64,
    pub in_minor: i64,
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct BalanceView {
    pub balance: Balance,
    /// When this value was last confirmed by the hub (equals `balance.as_of` unless offline).
    pub as_of: Millis,
}

/// Local state of something the user did: waiting in the outbox, sent, or failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum LocalState {
    /// Confirmed by the hub.
    Sent,
    /// In the outbox, not yet acknowledged.
    Pending,
    /// Will not be sent without the user's word: `reason` says why; retry or discard.
    Failed { reason: String, code: CommandErrorCode },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct MessageView {
    pub message: Message,
    pub local: LocalState,
    /// Outbox item for a pending/failed local echo (for retry/discard).
    pub outbox_id: Option<i64>,
    /// Members (other than the sender) whose read receipt covers this message.
    pub read_by: Vec<UserSummary>,
    /// Where the payment or request on the message's card stands, as this device knows it (its parties
    /// do; other members of a group see the card without it).
    pub card: Option<CardState>,
}

/// Where a card's payment or request stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CardState {
    /// The payment's status: its sender's transfer, or its recipient's transaction line.
    Transfer { status: TransferStatus },
    /// The request as this device last heard of it.
    Request { request: Box<PaymentRequest> },
    /// The split's requests this device holds (all of them for whoever split it; a payer, their own).
    Split { requests: Vec<PaymentRequest> },
}

/// A bill split in a group, as the Split form makes it (`key`: the form's own idempotency key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SplitBill {
    pub key: String,
    #[ts(type = "number")]
    pub room: RoomId,
    pub total: Money,
    /// Usernames of the members asked.
    pub with: Vec<String>,
    pub memo: String,
    #[ts(type = "number | null")]
    pub expires_at: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct RoomView {
    pub room: Room,
    pub unread: u32,
    pub last_message: Option<MessageView>,
    /// Presence of the other member, for direct rooms.
    pub presence: Option<PresenceStatus>,
    /// When the other member of a direct room was last online (while offline).
    #[ts(type = "number | null")]
    pub last_seen: Option<Millis>,
    pub typing: Vec<UserSummary>,
}

/// A payment request as the app lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct RequestView {
    pub request: PaymentRequest,
    /// Asked of this user (they are the payer), rather than asked by them.
    pub incoming: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct TransferView {
    pub transfer: Transfer,
    pub local: LocalState,
    pub outbox_id: Option<i64>,
    /// For a transfer queued offline: when it will be dropped unless sent.
    pub expires_at: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct OutboxItem {
    pub id: i64,
    pub kind: crate::outbox::OutboxKind,
    /// The ordered queue this item belongs to (`room:7`, `transfers`).
    #[ts(type = "string")]
    pub queue: crate::outbox::OutboxQueue,
    pub local: LocalState,
    pub created_at: Millis,
    pub expires_at: Option<Millis>,
    pub attempts: u32,
    /// A short human description ("$25.00 to bob", "message in Flatmates").
    pub summary: String,
}

/// What happened to one outbox item, pushed to the UI as it happens (`AppEvent::Outbox`), so the outbox list
/// follows without reading the whole outbox again. matrix-rust-sdk's send-queue updates are the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "update", rename_all = "snake_case")]
pub enum OutboxUpdate {
    /// A new item waits to be sent (its local echo is shown).
    Queued { item: OutboxItem },
    /// It went to the hub (one more attempt).
    Sending { id: i64 },
    /// The hub carried it out: it leaves the outbox.
    Sent { id: i64 },
    /// Stopped (a permanent error, or its deadline passed): it waits for the user's retry or discard.
    Failed { id: i64, local: LocalState },
    /// The user asked to try again: it waits to be sent again, a payment with a new deadline.
    Retrying { id: i64, expires_at: Option<Millis> },
    /// The user dropped it, and its local echo.
    Discarded { id: i64 },
}

impl OutboxUpdate {
    pub fn id(&self) -> i64 {
        match self {
            OutboxUpdate::Queued { item } => item.id,
            OutboxUpdate::Sending { id }
            | OutboxUpdate::Sent { id }
            | OutboxUpdate::Failed { id, .. }
            | OutboxUpdate::Retrying { id, .. }
            | OutboxUpdate::Discarded { id } => *id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct UnreadCounts {
    pub notifications: u32,
    pub chat: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SearchResults {
    pub transactions: Vec<TxRow>,
    pub messages: Vec<MessageView>,
}

/// How much of the offline file cache is used, and the user's cap (`Prefs.file_cache_mb`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct FileCache {
    #[ts(type = "number")]
    pub used_bytes: u64,
    pub cap_mb: u32,
}

/// Quiet hours in local minutes after midnight; `start > end` wraps past midnight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct QuietHours {
    pub start_min: u16,
    pub end_min: u16,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct Prefs {
    /// Notification kinds the user turned off (critical security alerts always show).
    pub muted_kinds: Vec<NotificationKind>,
    pub quiet_hours: Option<QuietHours>,
    /// Offline transfer expiry, seconds.
    pub transfer_expiry_secs: u32,
    /// `system`, `light` or `dark`.
    pub theme: String,
    /// Keep chat history offline: every room's newest 10,000 messages (all of any smaller room) stay on
    /// this device; off keeps the newest 500 per room. Older messages are fetched when scrolled to.
    pub keep_chat_history: bool,
    /// Closing the window hides it and the app keeps its connection and raises notifications (desktop);
    /// off, closing the window quits.
    pub keep_running: bool,
    /// Native notifications are held back until then (ms since the epoch; "Pause notifications for 1
    /// hour" in the tray). Critical security alerts still show.
    #[ts(optional, type = "number")]
    pub notifications_paused_until: Option<i64>,
    /// Downloaded files and thumbnails kept for offline use, at most this many MiB (least recently used
    /// go first).
    pub file_cache_mb: u32,
}

impl Default for Prefs {
    fn default() -> Self {
        Prefs {
            muted_kinds: vec![],
            quiet_hours: None,
            transfer_expiry_secs: 300,
            theme: "system".into(),
            keep_chat_history: true,
            keep_running: true,
            notifications_paused_until: None,
            file_cache_mb: 500,
        }
    }
}

/// What changed in the local store; the UI re-reads the parts it shows. Pushed as the `tally://changed` event.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(tag = "topic", rename_all = "snake_case")]
pub enum Change {
    Balances,
    Transactions,
    Transfers,
    Rooms,
    Messages {
        room: i64,
    },
    Typing {
        room: i64,
    },
    Presence,
    Notifications,
    Outbox,
    Session,
    /// The history download moved on (see [`SyncProgress`]).
    Sync,
    /// The app lock locked or unlocked (see [`AppLockState`]).
    Lock,
    /// The preferences changed outside Settings (a pause from the tray).
    Prefs,
    /// Payment requests (asked, or asked of the user) were made or changed.
    Requests,
}

/// Every topic, for when the UI must re-read everything (it missed events).
pub fn all_changes() -> Vec<Change> {
    vec![
        Change::Balances,
        Change::Transactions,
        Change::Transfers,
        Change::Rooms,
        Change::Presence,
        Change::Notifications,
        Change::Outbox,
        Change::Session,
        Change::Sync,
        Change::Prefs,
        Change::Requests,
    ]
}

/// Pushed to the UI: `tally://event`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AppEvent {
    Conn {
        conn: ConnState,
    },
    Changed {
        changes: Vec<Change>,
    },
    /// One outbox item moved (queued, sending, sent, failed, retrying, discarded).
    Outbox {
        update: OutboxUpdate,
    },
    /// Incoming money, completed/failed transfers, messages: for live regions and toasts.
    Toast {
        kind: NotificationKind,
        title: String,
        body: String,
        /// What title and body say, as data: the UI words it in its language (none: show them).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        text: Option<tally_protocol::NotificationText>,
    },
    /// A native notification was clicked: show this.
    Open {
        target: tally_protocol::NotificationTarget,
    },
    /// A `tally://` link was opened: the UI takes it (`take_link`) and shows what it asks for.
    LinkWaiting,
    /// Something went wrong outside any command the user ran (the keychain refused to keep the session,
    /// ...): show it, the user must know.
    Problem {
        error: CommandError,
    },
    /// A queued file is going out: bytes sent of `total` (about once per percent).
    Upload {
        item: i64,
        #[ts(type = "number")]
        sent: u64,
        #[ts(type = "number")]
        total: u64,
    },
    /// A file is coming in (`open_attachment`, `save_attachment`): bytes received of `total`.
    Download {
        id: String,
        #[ts(type = "number")]
        received: u64,
        #[ts(type = "number")]
        total: u64,
    },
    /// The quiet check at start found a newer version (installed from Settings).
    UpdateAvailable {
        version: String,
    },
    /// An update is downloading: bytes so far, of how many when the server says.
    UpdateProgress {
        #[ts(type = "number")]
        downloaded: u64,
        #[ts(type = "number | null")]
        total: Option<u64>,
    },
}

/// What "Check for updates" found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct UpdateCheck {
    /// This app's version.
    pub current: String,
    /// A newer version, signed with this app's key, when there is one.
    pub available: Option<UpdateOffer>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct UpdateOffer {
    pub version: String,
    /// The release notes, when the feed has them.
    pub notes: Option<String>,
}

/// Errors that happen on this device (the hub's own are [`tally_protocol::ErrorCode`]s).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum LocalErrorCode {
    Offline,
    NotSignedIn,
    InvalidInput,
    KeychainUnavailable,
    NotificationsUnavailable,
    Storage,
    Network,
    Auth,
    /// The server address is plain http:// to another machine.
    InsecureServer,
    /// The app lock is on: the PIN first.
    Locked,
    /// Checking for, downloading or installing an update failed (a bad signature among others).
    Update,
    /// The user stopped it (an upload or a download).
    Cancelled,
}

/// A command's error code: one of this device's or one of the hub's (the same strings on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(untagged)]
pub enum CommandErrorCode {
    Local(LocalErrorCode),
    Hub(tally_protocol::ErrorCode),
}

impl From<LocalErrorCode> for CommandErrorCode {
    fn from(c: LocalErrorCode) -> Self {
        CommandErrorCode::Local(c)
    }
}

impl From<tally_protocol::ErrorCode> for CommandErrorCode {
    fn from(c: tally_protocol::ErrorCode) -> Self {
        CommandErrorCode::Hub(c)
    }
}

impl std::fmt::Display for CommandErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(s)) => f.write_str(&s),
            _ => f.write_str("unknown"),
        }
    }
}

/// A command's error as the UI sees it: switch on `code`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, thiserror::Error)]
#[error("{code}: {message}")]
pub struct CommandError {
    pub code: CommandErrorCode,
    pub message: String,
}

impl CommandError {
    pub fn local(code: LocalErrorCode, message: impl Into<String>) -> Self {
        CommandError { code: CommandErrorCode::Local(code), message: message.into() }
    }
}

/// The amount shown in a send form: parsed from user input by the UI into minor units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SendMoney {
    pub to: String,
    pub amount: Money,
    pub memo: String,
    /// The conversation it is sent from: shown there as a card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    pub room: Option<RoomId>,
}

/// A payment request as the Request form makes it. `key` is the form's own idempotency key: a retry of
/// the same form (its answer was lost) finds the same request instead of asking twice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AskMoney {
    pub key: String,
    pub from: String,
    pub amount: Money,
    pub memo: String,
    #[ts(type = "number | null")]
    pub expires_at: Option<Millis>,
    /// The conversation it is asked in: shown there as a card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    pub room: Option<RoomId>,
}

/// A withdrawal as the Withdraw form makes it. `key` is the form's own idempotency key: a retry of the
/// same form (its answer was lost) finds the same withdrawal instead of holding the money twice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct WithdrawMoney {
    pub key: String,
    pub amount: Money,
    /// An IBAN or other payout details (`tally_protocol::destination`).
    pub destination: String,
}

pub fn bindings() -> String {
    let cfg = tally_protocol::ts::config();
    let mut s = String::from(
        "// GENERATED by crates/client (src/view.rs) from the Rust types. Do not edit.\n\
         // Regenerate with `make bindings`; a test fails when this file is stale.\n\n",
    );
    s.push_str("import type { ");
    s.push_str(
        &[
            "Balance",
            "ErrorCode",
            "Direction",
            "Limits",
            "Message",
            "Money",
            "NotificationKind",
            "PaymentRequest",
            "NotificationTarget",
            "NotificationText",
            "PresenceStatus",
            "Room",
            "Transaction",
            "Transfer",
            "TransferStatus",
            "TxKind",
            "UserSummary",
        ]
        .join(", "),
    );
    s.push_str(" } from \"./protocol\";\n\n");
    macro_rules! add { ($($t:ty),*) => { $( s.push_str(&tally_protocol::ts::export_decl::<$t>(&cfg)); s.push('\n'); )* } }
    add!(
        ConnState,
        SessionInfo,
        Registration,
        RegistrationInfo,
        DeviceSession,
        TwoFactorStatus,
        DepositInfo,
        TwoFactorSetup,
        AppLockState,
        DemoInfo,
        TxFilter,
        TxCursor,
        TxRow,
        TxPage,
        BalancePoint,
        CounterpartySpend,
        BalanceView,
        LocalState,
        MessageView,
        RoomView,
        RequestView,
        AskMoney,
        SplitBill,
        WithdrawMoney,
        CardState,
        TransferView,
        OutboxItem,
        OutboxUpdate,
        UnreadCounts,
        SearchResults,
        QuietHours,
        Prefs,
        FileCache,
        Change,
        AppEvent,
        LocalErrorCode,
        CommandErrorCode,
        CommandError,
        SendMoney,
        SyncKind,
        SyncPart,
        SyncProgress,
        LimitsView,
        crate::links::LinkIntent,
        crate::links::OpenedLink,
        UpdateCheck,
        UpdateOffer,
        crate::outbox::OutboxKind,
        crate::display::DisplayStyle,
        crate::display::MoneyStyle,
        crate::display::MoneyAffixes
    );
    s.trim_end().to_string() + "\n"
}

/// What part of the history a [`SyncPart`] downloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SyncKind {
    Transactions,
    Notifications,
    /// One chat room's messages (`SyncPart::room`).
    Messages,
}

/// One part of the history download: how many rows are on this device out of how many the hub holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SyncPart {
    pub kind: SyncKind,
    /// The room, for `messages`.
    #[ts(type = "number | null")]
    pub room: Option<i64>,
    /// Rows downloaded so far (by the backfill; live rows are not counted).
    #[ts(type = "number")]
    pub fetched: u64,
    /// Rows the hub reported when the download began (absent until the first page arrived).
    #[ts(type = "number | null")]
    pub total: Option<u64>,
    /// Everything down to the oldest row is on this device.
    pub complete: bool,
}

/// How much of the user's whole history is cached on this device (the `sync_progress` command).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct SyncProgress {
    pub parts: Vec<SyncPart>,
    /// Sum of the parts' `fetched`.
    #[ts(type = "number")]
    pub fetched: u64,
    /// Sum of the parts' `total` once every part knows its total.
    #[ts(type = "number | null")]
    pub total: Option<u64>,
    /// Every part is complete (and at least the transactions part exists): "History complete".
    pub complete: bool,
}

/// The user's transfer limits as the Send screen shows them: their own limits from the hub and what is
/// left of today's, per currency held (the `limits` command).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct LimitsView {
    /// Largest single transfer, in hundredths of a major unit, the same in every currency (10000 is 100.00
    /// USD and 100 JPY: `tally_protocol::limit_in`); absent before the first connection.
    #[ts(type = "number | null")]
    pub single_max: Option<i64>,
    /// Daily total per currency, in hundredths of a major unit like `single_max`.
    #[ts(type = "number | null")]
    pub daily_max: Option<i64>,
    /// Sent today (UTC day, as the hub counts), per currency.
    pub sent_today: Vec<Money>,
    /// Left of today's limit, per currency the user holds or sent today.
    pub remaining_today: Vec<Money>,
}

/// The most one page of messages or notifications holds (the UI's `MAX_PAGE`; the commands refuse more):
/// a view refreshing what it shows asks for as many as it holds.
pub const MAX_PAGE: u32 = 500;
