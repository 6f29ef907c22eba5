//! The two envelopes: what a client sends ([`ClientFrame`]) and what the hub sends ([`ServerFrame`]).
use crate::*;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// First frame of every connection. The hub answers `welcome`, or closes with a documented code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Hello {
    /// Protocol version the client speaks.
    pub v: u16,
    /// The JWT access token from `/v1/auth/login` or `/v1/auth/refresh`. Never put in the URL.
    pub token: String,
    /// Channels to (re)subscribe to right after `welcome`, each with the last position applied.
    #[serde(default)]
    pub subscriptions: Vec<SubscribeSpec>,
    /// Free-form client name and version, for the hub's logs and metrics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub client: Option<String>,
}

/// A position in a "changed since" feed: the next page holds rows changed after `(updated_at, id)`.
/// Start one at `{updated_at: <last event ts you applied on the channel>, id: 0}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ChangeCursor {
    #[ts(type = "number")]
    pub updated_at: Millis,
    #[ts(type = "number")]
    pub id: i64,
}

/// What to fetch with a `snapshot` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SnapshotKind {
    /// Every balance of the user.
    Balances,
    /// A page of transactions, newest first, strictly older than `before` (a transaction id); at most
    /// `MAX_SNAPSHOT_PAGE`. The first page (no `before`) also carries the user's `total`.
    Transactions {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "number")]
        before: Option<TxId>,
        limit: u32,
    },
    /// Transactions created or changed (status, balance) after `since`, oldest change first: what a client
    /// that was away longer than the log's retention missed.
    TransactionChanges { since: ChangeCursor, limit: u32 },
    /// Rooms the user is a member of.
    Rooms,
    /// People the user can pay or message (same tenant).
    Contacts,
    /// A page of notifications, newest first, strictly older than `before` (a notification id); at most
    /// `MAX_SNAPSHOT_PAGE`. The first page also carries the user's `total`.
    Notifications {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "number")]
        before: Option<NotificationId>,
        limit: u32,
    },
    /// Notifications created or changed (read) after `since`, oldest change first.
    NotificationChanges { since: ChangeCursor, limit: u32 },
    /// Messages of a room posted or changed (edited, deleted, reacted to) after `since`, oldest change
    /// first, as `message` events carrying the current state.
    MessageChanges {
        #[ts(type = "number")]
        room: RoomId,
        since: ChangeCursor,
        limit: u32,
    },
    /// The caller's own transfer with this idempotency key (`not_found` when the hub never executed it):
    /// how a client learns the outcome of a `transfer_create` whose ack was lost.
    TransferByKey { idempotency_key: String },
    /// One transfer (sender or recipient only).
    Transfer {
        #[ts(type = "number")]
        id: TransferId,
    },
    /// Transfers of the user that are not final yet.
    OpenTransfers,
    /// The user's payment requests, asked or asked of them: every open one and the newest
    /// `MAX_SNAPSHOT_PAGE` in all, newest first.
    Requests,
}

/// Frames a client sends. Every frame but `hello` and `pong` is a request with an `id` and gets exactly
/// one `ack` or `error` with that id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    Hello(Hello),
    /// Answer to the hub's `ping`.
    Pong {
        #[ts(type = "number")]
        ts: Millis,
    },
    /// Client-side heartbeat and latency probe; acked with `pong` data.
    Ping {
        #[ts(type = "number")]
        id: ReqId,
        #[ts(type = "number")]
        ts: Millis,
    },
    /// Hands the hub a fresh access token of the same session on a live connection. A connection whose
    /// token expires without one is closed with 4002.
    Auth {
        #[ts(type = "number")]
        id: ReqId,
        token: String,
    },
    Subscribe {
        #[ts(type = "number")]
        id: ReqId,
        channel: Channel,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        since: Option<Position>,
    },
    Unsubscribe {
        #[ts(type = "number")]
        id: ReqId,
        channel: Channel,
    },
    /// Older events of a durable channel (chat history pages), newest first, strictly before `before`.
    History {
        #[ts(type = "number")]
        id: ReqId,
        channel: Channel,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "number")]
        before: Option<u64>,
        limit: u32,
    },
    /// Current state (after `recovered: false`, or on first sign-in).
    Snapshot {
        #[ts(type = "number")]
        id: ReqId,
        what: SnapshotKind,
    },
    /// Send money. Same `idempotency_key` + same body returns the same transfer; a different body is `conflict`.
    TransferCreate {
        #[ts(type = "number")]
        id: ReqId,
        idempotency_key: String,
        /// Recipient's username.
        to: String,
        amount: Money,
        #[serde(default)]
        memo: String,
        /// The sender's deadline: past it the hub refuses the request with `expired` instead of moving
        /// money (a payment queued offline must not execute days later).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "number")]
        expires_at: Option<Millis>,
        /// A room both parties are in: the payment is posted there as a card (in the same commit).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "number")]
        room: Option<RoomId>,
    },
    /// Ask `to` for money. Same `idempotency_key` + same body returns the same request; a different body
    /// is `conflict`. Acked with `request`.
    RequestCreate {
        #[ts(type = "number")]
        id: ReqId,
        idempotency_key: String,
        /// The payer's username.
        to: String,
        amount: Money,
        #[serde(default)]
        memo: String,
        /// After this the request cannot be paid (at most `MAX_REQUEST_EXPIRY_MS` ahead).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "number")]
        expires_at: Option<Millis>,
        /// A room both parties are in: the request is posted there as a card (in the same commit).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "number")]
        room: Option<RoomId>,
    },
    /// Split `total` in a group between the sender and the members named in `with`: one request to each of
    /// them for an equal share (the sender's own share takes the cents left over), posted in `room` as one
    /// card. Retried with the same key, the same requests. Acked with `requests`.
    RequestSplit {
        #[ts(type = "number")]
        id: ReqId,
        idempotency_key: String,
        #[ts(type = "number")]
        room: RoomId,
        total: Money,
        /// Usernames of the members asked (not the sender).
        with: Vec<String>,
        #[serde(default)]
        memo: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "number")]
        expires_at: Option<Millis>,
    },
    /// Pay a request made of the sender: a transfer of its amount to the requester, acked with `transfer`.
    /// Asking again while that transfer is on its way, or after it completed, returns the same transfer.
    RequestPay {
        #[ts(type = "number")]
        id: ReqId,
        #[ts(type = "number")]
        request: RequestId,
    },
    /// Decline a request made of the sender. Acked with `request`.
    RequestDecline {
        #[ts(type = "number")]
        id: ReqId,
        #[ts(type = "number")]
        request: RequestId,
    },
    /// Withdraw the sender's own open request. Acked with `request`.
    RequestCancel {
        #[ts(type = "number")]
        id: ReqId,
        #[ts(type = "number")]
        request: RequestId,
    },
    /// Take money out to the user's own account: the amount is held (pending in history) until the
    /// operator pays it out or rejects it. Same `idempotency_key` + same body returns the same withdrawal;
    /// a different body is `conflict`. Acked with `withdrawal`.
    WithdrawalCreate {
        #[ts(type = "number")]
        id: ReqId,
        idempotency_key: String,
        amount: Money,
        /// An IBAN (validated by its check digits) or other payout details, at most 140 bytes.
        destination: String,
    },
    RoomCreate {
        #[ts(type = "number")]
        id: ReqId,
        kind: RoomKind,
        /// Group name (ignored for direct rooms).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        name: String,
        /// Usernames to add besides the creator. Exactly one for a direct room.
        members: Vec<String>,
    },
    RoomInvite {
        #[ts(type = "number")]
        id: ReqId,
        #[ts(type = "number")]
        room: RoomId,
        username: String,
    },
    RoomLeave {
        #[ts(type = "number")]
        id: ReqId,
        #[ts(type = "number")]
        room: RoomId,
    },
    /// Renames a group (its admins only).
    RoomRename {
        #[ts(type = "number")]
        id: ReqId,
        #[ts(type = "number")]
        room: RoomId,
        name: String,
    },
    /// Removes a member from a group (its admins only; to leave, `room_leave`).
    RoomRemove {
        #[ts(type = "number")]
        id: ReqId,
        #[ts(type = "number")]
        room: RoomId,
        username: String,
    },
    /// The sender's own choices for a room they are in: muted, pinned.
    RoomPrefs {
        #[ts(type = "number")]
        id: ReqId,
        #[ts(type = "number")]
        room: RoomId,
        muted: bool,
        pinned: bool,
    },
    /// Post a message. `client_msg_id` makes it idempotent: a resend returns the stored message.
    MessageSend {
        #[ts(type = "number")]
        id: ReqId,
        #[ts(type = "number")]
        room: RoomId,
        client_msg_id: String,
        /// The text, or a picture's or file's caption (then it may be empty).
        text: String,
        /// The `id` of a file uploaded to this room (`POST /v1/rooms/{room}/attachments`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        attachment: Option<String>,
    },
    MessageEdit {
        #[ts(type = "number")]
        id: ReqId,
        #[ts(type = "number")]
        room: RoomId,
        #[ts(type = "number")]
        message: MessageId,
        text: String,
    },
    MessageDelete {
        #[ts(type = "number")]
        id: ReqId,
        #[ts(type = "number")]
        room: RoomId,
        #[ts(type = "number")]
        message: MessageId,
    },
    /// Add (`on: true`) or remove a reaction. Idempotent.
    React {
        #[ts(type = "number")]
        id: ReqId,
        #[ts(type = "number")]
        room: RoomId,
        #[ts(type = "number")]
        message: MessageId,
        emoji: String,
        on: bool,
    },
    /// Mark the room read up to (and including) a seq of its log. Never moves backwards.
    Read {
        #[ts(type = "number")]
        id: ReqId,
        #[ts(type = "number")]
        room: RoomId,
        #[ts(type = "number")]
        up_to: u64,
    },
    /// Typing indicator. Expires after 5 s unless renewed.
    Typing {
        #[ts(type = "number")]
        id: ReqId,
        #[ts(type = "number")]
        room: RoomId,
        active: bool,
    },
    PresenceSet {
        #[ts(type = "number")]
        id: ReqId,
        status: PresenceStatus,
    },
    NotificationsRead {
        #[ts(type = "number")]
        id: ReqId,
        #[ts(type = "number[]")]
        ids: Vec<NotificationId>,
    },
    NotificationsReadAll {
        #[ts(type = "number")]
        id: ReqId,
    },
}

impl ClientFrame {
    /// The request id, for frames that are requests.
    pub fn req_id(&self) -> Option<ReqId> {
        use ClientFrame::*;
        match self {
            Hello(_) | Pong { .. } => None,
            Ping { id, .. }
            | Auth { id, .. }
            | Subscribe { id, .. }
            | Unsubscribe { id, .. }
            | History { id, .. }
            | Snapshot { id, .. }
            | TransferCreate { id, .. }
            | RequestCreate { id, .. }
            | RequestSplit { id, .. }
            | RequestPay { id, .. }
            | RequestDecline { id, .. }
            | RequestCancel { id, .. }
            | WithdrawalCreate { id, .. }
            | RoomCreate { id, .. }
            | RoomInvite { id, .. }
            | RoomLeave { id, .. }
            | RoomRename { id, .. }
            | RoomRemove { id, .. }
            | RoomPrefs { id, .. }
            | MessageSend { id, .. }
            | MessageEdit { id, .. }
            | MessageDelete { id, .. }
            | React { id, .. }
            | Read { id, .. }
            | Typing { id, .. }
            | PresenceSet { id, .. }
            | NotificationsRead { id, .. }
            | NotificationsReadAll { id } => Some(*id),
        }
    }

    /// The wire name of this frame's `type`.
    pub fn type_name(&self) -> &'static str {
        use ClientFrame::*;
        match self {
            Hello(_) => "hello",
            Pong { .. } => "pong",
            Ping { .. } => "ping",
            Auth { .. } => "auth",
            Subscribe { .. } => "subscribe",
            Unsubscribe { .. } => "unsubscribe",
            History { .. } => "history",
            Snapshot { .. } => "snapshot",
            TransferCreate { .. } => "transfer_create",
            RequestCreate { .. } => "request_create",
            RequestSplit { .. } => "request_split",
            RequestPay { .. } => "request_pay",
            RequestDecline { .. } => "request_decline",
            RequestCancel { .. } => "request_cancel",
            WithdrawalCreate { .. } => "withdrawal_create",
            RoomCreate { .. } => "room_create",
            RoomInvite { .. } => "room_invite",
            RoomLeave { .. } => "room_leave",
            RoomRename { .. } => "room_rename",
            RoomRemove { .. } => "room_remove",
            RoomPrefs { .. } => "room_prefs",
            MessageSend { .. } => "message_send",
            MessageEdit { .. } => "message_edit",
            MessageDelete { .. } => "message_delete",
            React { .. } => "react",
            Read { .. } => "read",
            Typing { .. } => "typing",
            PresenceSet { .. } => "presence_set",
            NotificationsRead { .. } => "notifications_read",
            NotificationsReadAll { .. } => "notifications_read_all",
        }
    }
}

/// The client frame `type`s this protocol version defines (to tell `unknown_type` from `bad_frame`).
pub const CLIENT_FRAME_TYPES: &[&str] = &[
    "hello",
    "pong",
    "ping",
    "auth",
    "subscribe",
    "unsubscribe",
    "history",
    "snapshot",
    "transfer_create",
    "request_create",
    "request_split",
    "request_pay",
    "request_decline",
    "request_cancel",
    "withdrawal_create",
    "room_create",
    "room_invite",
    "room_leave",
    "room_rename",
    "room_remove",
    "room_prefs",
    "message_send",
    "message_edit",
    "message_delete",
    "react",
    "read",
    "typing",
    "presence_set",
    "notifications_read",
    "notifications_read_all",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Welcome {
    pub v: u16,
    pub session_id: String,
    pub user: UserSummary,
    /// Hub clock, for the client to estimate skew.
    #[ts(type = "number")]
    pub server_time: Millis,
    /// The hub pings this often; two missed pings mean the connection is dead.
    #[ts(type = "number")]
    pub heartbeat_ms: u64,
    pub limits: Limits,
}

/// A durable event: appended to `channel`'s log at `(epoch, seq)` before it was sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Event {
    pub channel: Channel,
    pub epoch: String,
    #[ts(type = "number")]
    pub seq: u64,
    #[ts(type = "number")]
    pub ts: Millis,
    pub data: EventData,
}

impl Event {
    pub fn position(&self) -> Position {
        Position { epoch: self.epoch.clone(), seq: self.seq }
    }
}

/// The payload of a durable event. Events carry whole objects (state, not deltas) where they can, so
/// applying one is an upsert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventData {
    /// On `balance:{user}`.
    Balance { balance: Balance },
    /// On `transactions:{user}`: a new or updated history line.
    Transaction { transaction: Transaction },
    /// On `transfer:{id}`: a status or progress change.
    Transfer { transfer: Transfer },
    /// On `user:{user}`: the user joined a room or its details changed.
    RoomJoined { room: Room },
    /// On `user:{user}`: the user left (or was removed from) a room.
    RoomLeft {
        #[ts(type = "number")]
        room: RoomId,
    },
    /// On `user:{requester}` and `user:{payer}`: a payment request was made or changed.
    Request { request: PaymentRequest },
    /// On `user:{user}`: this user's limits changed (an operator set their KYC level); the whole of
    /// `welcome.limits` as it is now.
    Limits { limits: Limits },
    /// On `room:{id}`: a new message (the message's `seq` equals the event's).
    Message { message: Message },
    MessageEdited {
        #[ts(type = "number")]
        message: MessageId,
        text: String,
        #[ts(type = "number")]
        edited_at: Millis,
    },
    /// The message became a tombstone: its text is gone.
    MessageDeleted {
        #[ts(type = "number")]
        message: MessageId,
    },
    Reaction {
        #[ts(type = "number")]
        message: MessageId,
        emoji: String,
        user: UserSummary,
        on: bool,
    },
    /// `user` has read the room up to `up_to` (a seq of this room's log).
    Receipt {
        user: UserSummary,
        #[ts(type = "number")]
        up_to: u64,
    },
    /// On `room:{id}`: membership changed.
    Member { user: UserSummary, change: MemberChange },
    /// On `notifications:{user}`.
    Notification { notification: Notification },
    /// On `notifications:{user}`: these notifications are now read (`all`: every one up to now).
    NotificationsRead {
        #[ts(type = "number[]")]
        ids: Vec<NotificationId>,
        all: bool,
    },
    /// On `broadcast`: a tenant-wide announcement.
    System { title: String, body: String, priority: Priority },
}

/// Ephemeral events: never logged, no seq, lost if you are not connected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Ephemeral {
    /// On `room:{id}`. `active: false` or 5 s without renewal ends it.
    Typing {
        #[ts(type = "number")]
        room: RoomId,
        user: UserSummary,
        active: bool,
    },
    /// On `presence:{user}` and `presence:room:{id}`.
    Presence {
        user: UserSummary,
        status: PresenceStatus,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "number")]
        last_seen: Option<Millis>,
    },
}

/// The result carried by an `ack`, for requests that return something.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AckData {
    Pong {
        #[ts(type = "number")]
        server_time: Millis,
    },
    Transfer {
        transfer: Transfer,
    },
    Message {
        message: Message,
    },
    Room {
        room: Room,
    },
    Balances {
        balances: Vec<Balance>,
    },
    Transactions {
        transactions: Vec<Transaction>,
        /// Pass as `before` to get the next page; absent on the last page.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "number")]
        next_before: Option<TxId>,
        /// `transaction_changes` only: pass as `since` for the next page; absent on the last page.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        next_since: Option<ChangeCursor>,
        /// How many transactions the user has (first page of `transactions` only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "number")]
        total: Option<u64>,
    },
    Rooms {
        rooms: Vec<Room>,
    },
    Contacts {
        users: Vec<UserSummary>,
    },
    Notifications {
        notifications: Vec<Notification>,
        unread: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "number")]
        next_before: Option<NotificationId>,
        /// `notification_changes` only: pass as `since` for the next page; absent on the last page.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        next_since: Option<ChangeCursor>,
        /// How many notifications the user has (first page of `notifications` only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "number")]
        total: Option<u64>,
    },
    Transfers {
        transfers: Vec<Transfer>,
    },
    Request {
        request: PaymentRequest,
    },
    Requests {
        requests: Vec<PaymentRequest>,
    },
    Withdrawal {
        withdrawal: Withdrawal,
    },
    /// Events of a `history` request, newest first (or of `message_changes`, oldest change first).
    History {
        events: Vec<Event>,
        has_more: bool,
        /// `message_changes` only: pass as `since` for the next page; absent on the last page.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        next_since: Option<ChangeCursor>,
        /// How many messages the room holds (the first page of a room's `history` only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "number")]
        total: Option<u64>,
    },
}

/// Frames the hub sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    Welcome(Welcome),
    /// A subscription is live. Any replayed events were sent before this frame (as `batch` frames).
    /// `recovered` is true only when every event after `since` was replayed; when false the client must
    /// refetch a snapshot. `epoch`/`seq` is the channel's head at the moment live delivery began.
    Subscribed {
        /// The `subscribe` request's id; absent for subscriptions made by `hello`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "number")]
        id: Option<ReqId>,
        channel: Channel,
        epoch: String,
        #[ts(type = "number")]
        seq: u64,
        recovered: bool,
        replayed: u32,
    },
    /// The hub ended a subscription (the user left the room, the transfer was archived, ...).
    Unsubscribed {
        channel: Channel,
        code: ErrorCode,
    },
    /// One live durable event.
    Event(Event),
    /// Replayed durable events of one channel, oldest first, at most 500.
    Batch {
        channel: Channel,
        events: Vec<Event>,
    },
    Ephemeral {
        channel: Channel,
        data: Ephemeral,
    },
    Ack {
        #[ts(type = "number")]
        id: ReqId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        data: Option<AckData>,
    },
    Error {
        /// The failed request's id; absent when the frame had none (or was unreadable).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "number")]
        id: Option<ReqId>,
        code: ErrorCode,
        message: String,
        retryable: bool,
    },
    /// Heartbeat: answer with `pong` carrying the same `ts`.
    Ping {
        #[ts(type = "number")]
        ts: Millis,
    },
    /// The hub is about to close this connection (graceful shutdown): reconnect after `delay_ms`.
    Reconnect {
        #[ts(type = "number")]
        delay_ms: u64,
        reason: String,
    },
}

impl ServerFrame {
    pub fn error(id: Option<ReqId>, code: ErrorCode, message: impl Into<String>) -> Self {
        ServerFrame::Error { id, code, message: message.into(), retryable: code.retryable() }
    }
    pub fn ack(id: ReqId, data: Option<AckData>) -> Self {
        ServerFrame::Ack { id, data }
    }
}
