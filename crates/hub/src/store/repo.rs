//! The storage seam: what the hub's domain modules ask of a database, one repository per domain, all of
//! them implemented by a backend's transaction handle (`Tx`). Domain modules (ledger, chat, notify, log,
//! auth) hold the rules and take `&mut dyn Tx`; the SQL lives only in `store/repos/…`, written once for
//! both databases and implemented for every backend handle. Methods take `&mut self` so a backend whose transaction needs exclusive access (a
//! PostgreSQL client) fits the same trait.
//!
//! Rows come back typed: a stored value a backend cannot read is a storage error, never a default.
use crate::error::HubResult;
use crate::ids::TenantId;
use crate::position::Head;
use tally_protocol::*;

/// Everything one write job or read may touch, inside one transaction.
pub trait Tx:
    LogRepo
    + LedgerRepo
    + RequestRepo
    + ChatRepo
    + AttachmentRepo
    + NotifyRepo
    + AuthRepo
    + SecurityRepo
    + AuditRepo
    + OperatorRepo
    + KycRepo
    + WithdrawalRepo
    + DepositRepo
    + ComplianceRepo
    + FeedRepo
{
    /// A trivial round trip (health checks).
    fn ping(&mut self) -> HubResult<()>;
    /// Takes or renews the lease `name` for `holder` until `until`; false while another holder's lease
    /// has not run out. (SQLite: always true — one process owns the file.)
    fn take_lease(&mut self, name: &str, holder: &str, until: Millis, now: Millis) -> HubResult<bool>;
}

// ---- channel logs --------------------------------------------------------------------------------------

pub trait LogRepo {
    fn channel_head(&mut self, tenant: TenantId, channel: &Channel) -> HubResult<Option<Head>>;
    /// Creates the channel at seq 0 with `epoch` unless it exists.
    fn create_channel(&mut self, tenant: TenantId, channel: &Channel, epoch: &str) -> HubResult<()>;
    /// Stores event `seq` (its encoded JSON) and moves the channel's head to it (on SQLite in memory only:
    /// its writer writes the heads once per group, `write_heads`).
    fn insert_event(&mut self, tenant: TenantId, channel: &Channel, seq: u64, ts: Millis, json: &str) -> HubResult<()>;
    /// Writes the heads' rows (SQLite's writer, once per group, before it commits).
    fn write_heads(&mut self, heads: &crate::store::sql::Heads) -> HubResult<()>;
    /// The oldest seq still stored for the channel.
    fn oldest_seq(&mut self, tenant: TenantId, channel: &Channel) -> HubResult<Option<u64>>;
    /// Stored event JSON texts with `from <= seq <= to`, oldest first, at most `limit`.
    fn events_between(
        &mut self,
        tenant: TenantId,
        channel: &Channel,
        from: u64,
        to: u64,
        limit: usize,
    ) -> HubResult<Vec<(u64, String)>>;
    /// Stored event JSON texts with `seq < before`, newest first.
    fn events_before(&mut self, tenant: TenantId, channel: &Channel, before: u64, limit: u32)
        -> HubResult<Vec<String>>;
    /// Deletes at most `limit` events: those older than `cutoff`, then those beyond `keep` per channel.
    fn trim_events(&mut self, keep: u64, cutoff: Millis, limit: usize) -> HubResult<usize>;
}

// ---- ledger ---------------------------------------------------------------------------------------------

/// A transaction (history line) and its counterparty's id, still to be resolved to a summary.
pub type TxRow = (Transaction, Option<UserId>);

/// A history line to write.
pub struct NewTxLine<'a> {
    pub tenant: TenantId,
    pub user: UserId,
    pub kind: TxKind,
    /// Money in or out of the user's account (an adjustment goes either way).
    pub direction: Direction,
    pub amount: Money,
    pub balance_after: i64,
    pub counterparty: Option<UserId>,
    pub memo: &'a str,
    pub transfer: Option<TransferId>,
    pub status: TransferStatus,
    pub created_at: Millis,
}

/// A transfer as stored: parties by id.
#[derive(Debug, Clone)]
pub struct TransferRow {
    pub id: TransferId,
    pub from: UserId,
    pub to: UserId,
    pub amount: Money,
    pub memo: String,
    pub status: TransferStatus,
    pub progress: u8,
    pub failure: Option<String>,
    pub key: String,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// A transfer to write (status pending, progress 0).
pub struct NewTransferRow<'a> {
    pub tenant: TenantId,
    pub from: UserId,
    pub to: UserId,
    pub amount: Money,
    pub memo: &'a str,
    pub key: &'a str,
    pub body_hash: &'a str,
    pub at: Millis,
}

/// One of the ledger's invariants broken, as found by the backend's sums.
/// Sums are i128: a tenant's total (or a running sum of postings) can pass what one balance may hold.
pub enum Violation {
    /// Per tenant and currency the postings must sum to zero.
    PostingsUnbalanced { tenant: TenantId, currency: String, sum: i128 },
    /// Per account `available + pending` must equal its postings.
    AccountDrift { user: UserId, currency: String, balance: i128, posted: i128 },
    /// Per tenant and currency the balances must equal deposits minus withdrawals.
    TenantDrift { tenant: TenantId, currency: String, balances: i128, external: i128 },
    /// Per sender and currency the day's running total (`sent_daily`, what the daily limit reads) must
    /// equal the sum of that UTC day's transfers from them that did not fail.
    DailyTotalDrift { user: UserId, currency: String, day: i64, kept: i64, transfers: i128 },
}

/// SQL sums of i64 columns that cannot overflow: each value is split as `x = q * 2^32 + r` (SQL's
/// truncating `/` and `%`, the same on SQLite and PostgreSQL), the two parts summed apart (each fits in
/// i64 for up to 2^31 rows), and put back together here.
pub fn wide_sum(q: i64, r: i64) -> i128 {
    (q as i128) * (1i128 << 32) + r as i128
}

pub trait LedgerRepo {
    /// Takes the ledger's per-user locks, in id order, until the transaction ends. Every ledger job takes
    /// its parties' locks before touching their rows, so jobs of several hubs on the same users queue
    /// instead of deadlocking. (SQLite: nothing to do; its one writer runs one job at a time.)
    fn lock_parties(&mut self, users: &[UserId]) -> HubResult<()>;
    fn ensure_account(&mut self, tenant: TenantId, user: UserId, currency: Currency) -> HubResult<()>;
    fn account(&mut self, user: UserId, currency: Currency) -> HubResult<Option<Balance>>;
    fn accounts(&mut self, user: UserId) -> HubResult<Vec<Balance>>;
    /// Adds to an account's balances; `insufficient_funds` when `available` would go below zero.
    fn add_balance(&mut self, user: UserId, currency: Currency, d_available: i64, d_pending: i64) -> HubResult<()>;
    /// One leg of a double entry (`account` 0 is the tenant's external account).
    fn insert_posting(&mut self, tenant: TenantId, entry: &str, account: UserId, amount: Money) -> HubResult<()>;
    fn insert_tx_line(&mut self, line: &NewTxLine<'_>) -> HubResult<TxId>;
    fn tx_line(&mut self, tenant: TenantId, id: TxId) -> HubResult<Option<TxRow>>;
    /// A user's lines with ids below `before`, newest first.
    fn tx_lines_before(&mut self, tenant: TenantId, user: UserId, before: TxId, limit: u32) -> HubResult<Vec<TxRow>>;
    fn tx_line_count(&mut self, tenant: TenantId, user: UserId) -> HubResult<u64>;
    /// A user's lines changed after `since`, oldest change first, each with its `updated_at`.
    fn tx_lines_changed(
        &mut self,
        tenant: TenantId,
        user: UserId,
        since: ChangeCursor,
        limit: u32,
    ) -> HubResult<Vec<(TxRow, Millis)>>;
    /// The lines of a transfer: (line, owner).
    fn transfer_lines(&mut self, transfer: TransferId) -> HubResult<Vec<(TxId, UserId)>>;
    fn set_transfer_lines_status(&mut self, transfer: TransferId, status: TransferStatus, at: Millis) -> HubResult<()>;
    /// A transfer's lines reach a final status in one statement; `user`'s line (whose balance moved at the
    /// end) gets its new balance.
    fn close_transfer_lines(
        &mut self,
        transfer: TransferId,
        status: TransferStatus,
        balance_after: (UserId, i64),
        at: Millis,
    ) -> HubResult<()>;
    /// The sender's transfer with this key: (id, hash of the request body).
    fn transfer_by_key(&mut self, user: UserId, key: &str) -> HubResult<Option<(TransferId, String)>>;
    fn transfer_row(&mut self, tenant: TenantId, id: TransferId) -> HubResult<Option<TransferRow>>;
    fn insert_transfer(&mut self, t: &NewTransferRow<'_>) -> HubResult<TransferId>;
    fn set_transfer_status(
        &mut self,
        id: TransferId,
        status: TransferStatus,
        progress: u8,
        failure: Option<&str>,
        at: Millis,
    ) -> HubResult<()>;
    /// Sum of the sender's transfers in `currency` since `since`, failed ones excluded.
    fn sent_since(&mut self, user: UserId, currency: Currency, since: Millis) -> HubResult<i64>;
    /// What the sender has sent in `currency` on UTC day `day` (failed transfers excluded): one row.
    fn sent_on_day(&mut self, user: UserId, currency: Currency, day: i64) -> HubResult<i64>;
    /// Adds a new transfer made on `day` to the sender's running total (a later day starts it over).
    fn add_sent(&mut self, user: UserId, currency: Currency, day: i64, amount: i64) -> HubResult<()>;
    /// Takes a failed transfer made on `day` out of the total, if that day is still the one kept.
    fn remove_sent(&mut self, user: UserId, currency: Currency, day: i64, amount: i64) -> HubResult<()>;
    fn open_transfer_ids(&mut self, tenant: TenantId, user: UserId) -> HubResult<Vec<TransferId>>;
    fn unfinished_transfers(&mut self) -> HubResult<Vec<(TenantId, TransferId)>>;
    /// Unfinished transfers nobody moved since `before` (their hub died, or its steps kept failing).
    fn stale_transfers(&mut self, before: Millis) -> HubResult<Vec<(TenantId, TransferId)>>;
    /// Moves a transfer and its lines back in time (demo history only).
    fn backdate_transfer(&mut self, id: TransferId, at: Millis) -> HubResult<()>;
    fn ledger_violations(&mut self) -> HubResult<Vec<Violation>>;
}

// ---- payment requests -----------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct RequestRow {
    pub id: RequestId,
    pub requester: UserId,
    pub payer: UserId,
    pub amount: Money,
    pub memo: String,
    pub status: RequestStatus,
    pub expires_at: Option<Millis>,
    pub transfer: Option<TransferId>,
    pub attempts: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
}

pub struct NewRequestRow<'a> {
    pub tenant: TenantId,
    pub requester: UserId,
    pub payer: UserId,
    pub amount: Money,
    pub memo: &'a str,
    pub expires_at: Option<Millis>,
    pub key: &'a str,
    pub body_hash: &'a str,
    pub at: Millis,
}

pub trait RequestRepo {
    fn insert_request(&mut self, r: &NewRequestRow<'_>) -> HubResult<RequestId>;
    fn request_row(&mut self, tenant: TenantId, id: RequestId) -> HubResult<Option<RequestRow>>;
    /// The requester's request with this idempotency key, and the hash of the body it was made with.
    fn request_by_key(&mut self, requester: UserId, key: &str) -> HubResult<Option<(RequestId, String)>>;
    /// How many open requests `requester` has out.
    fn open_requests_by(&mut self, requester: UserId) -> HubResult<u64>;
    /// The request a transfer pays, if any.
    fn request_paid_by(&mut self, transfer: TransferId) -> HubResult<Option<RequestId>>;
    /// Sets status (and, when given, the paying transfer and its attempt count).
    fn set_request_status(
        &mut self,
        id: RequestId,
        status: RequestStatus,
        paying: Option<(TransferId, i64)>,
        at: Millis,
    ) -> HubResult<()>;
    /// The user's requests (either party): every open or paying one, and the newest `limit`.
    fn request_ids_of(&mut self, tenant: TenantId, user: UserId, limit: u32) -> HubResult<Vec<RequestId>>;
    /// Open requests whose `expires_at` is before `now`, oldest deadline first, at most `limit`.
    fn expired_requests(&mut self, now: Millis, limit: u32) -> HubResult<Vec<(TenantId, RequestId)>>;
}

// ---- chat -------------------------------------------------------------------------------------------------

pub struct RoomRow {
    pub kind: RoomKind,
    pub name: String,
    pub created_at: Millis,
}

#[derive(Debug, Clone)]
pub struct MessageRow {
    pub id: MessageId,
    pub room: RoomId,
    pub seq: u64,
    pub client_msg_id: String,
    pub sender: UserId,
    pub text: String,
    pub mentions: Vec<UserId>,
    pub sent_at: Millis,
    pub edited_at: Option<Millis>,
    pub deleted: bool,
    pub card: Option<MessageCard>,
    pub attachment: Option<Attachment>,
}

pub struct NewMessageRow<'a> {
    pub room: RoomId,
    pub seq: u64,
    pub client_msg_id: &'a str,
    pub sender: UserId,
    pub text: &'a str,
    pub mentions: &'a [UserId],
    pub at: Millis,
    pub card: Option<&'a MessageCard>,
    pub attachment: Option<&'a Attachment>,
}

/// A file uploaded to a room, and the blob of its thumbnail.
#[derive(Debug, Clone)]
pub struct AttachmentRow {
    pub attachment: Attachment,
    pub thumb: Option<String>,
    pub uploader: UserId,
}

/// What a tenant stores (`blobs`, counted against its quota) and what each room may read (`attachments`).
pub trait AttachmentRepo {
    /// The tenant's own (max file, quota) in bytes, when its operator set them.
    fn attachment_limits(&mut self, tenant: TenantId) -> HubResult<Option<(u64, u64)>>;
    fn set_attachment_limits(&mut self, tenant: TenantId, max_file: u64, quota: u64) -> HubResult<()>;
    /// Bytes of every blob the tenant stores.
    fn blob_usage(&mut self, tenant: TenantId) -> HubResult<u64>;
    /// The blob's size, when the tenant stores it.
    fn blob_size(&mut self, tenant: TenantId, id: &str) -> HubResult<Option<u64>>;
    /// Records a blob (again: nothing happens).
    fn insert_blob(&mut self, tenant: TenantId, id: &str, size: u64, at: Millis) -> HubResult<()>;
    /// Records a file uploaded to a room (the same file again: nothing happens).
    fn insert_attachment(&mut self, tenant: TenantId, room: RoomId, row: &AttachmentRow, at: Millis) -> HubResult<()>;
    fn attachment(&mut self, room: RoomId, id: &str) -> HubResult<Option<AttachmentRow>>;
}

pub trait ChatRepo {
    fn room_tenant(&mut self, room: RoomId) -> HubResult<Option<TenantId>>;
    fn room_row(&mut self, tenant: TenantId, room: RoomId) -> HubResult<Option<RoomRow>>;
    /// Members in the order they joined.
    fn room_members(&mut self, room: RoomId) -> HubResult<Vec<UserSummary>>;
    fn member_ids(&mut self, room: RoomId) -> HubResult<Vec<UserId>>;
    /// Member ids in the order they joined (the longest-standing first).
    fn member_ids_by_joining(&mut self, room: RoomId) -> HubResult<Vec<UserId>>;
    fn rooms_of_user(&mut self, user: UserId) -> HubResult<Vec<RoomId>>;
    fn is_member(&mut self, room: RoomId, user: UserId) -> HubResult<bool>;
    /// Adds a member; false when they already were one.
    fn insert_member(&mut self, room: RoomId, user: UserId, at: Millis) -> HubResult<bool>;
    fn delete_member(&mut self, room: RoomId, user: UserId) -> HubResult<()>;
    /// The member with this username, if any.
    fn member_named(&mut self, room: RoomId, username: &str) -> HubResult<Option<UserSummary>>;
    /// A group's admins, in the order they joined.
    fn room_admins(&mut self, room: RoomId) -> HubResult<Vec<UserId>>;
    /// Makes a member an admin (true) or not.
    fn set_admin(&mut self, room: RoomId, user: UserId, admin: bool) -> HubResult<()>;
    fn rename_room(&mut self, room: RoomId, name: &str) -> HubResult<()>;
    /// A member's own choices for the room: (muted, pinned); None for a non-member.
    fn member_prefs(&mut self, room: RoomId, user: UserId) -> HubResult<Option<(bool, bool)>>;
    fn set_member_prefs(&mut self, room: RoomId, user: UserId, muted: bool, pinned: bool) -> HubResult<()>;
    fn direct_room(&mut self, key: &str) -> HubResult<Option<RoomId>>;
    /// A new room; `direct_key` for a direct room (unique per pair).
    fn insert_room(
        &mut self,
        tenant: TenantId,
        kind: RoomKind,
        name: &str,
        direct_key: Option<&str>,
        at: Millis,
    ) -> HubResult<RoomId>;
    fn message_by_client_id(
        &mut self,
        room: RoomId,
        sender: UserId,
        client_msg_id: &str,
    ) -> HubResult<Option<MessageId>>;
    fn insert_message(&mut self, m: &NewMessageRow<'_>) -> HubResult<MessageId>;
    fn message_row(&mut self, tenant: TenantId, id: MessageId) -> HubResult<Option<MessageRow>>;
    /// (emoji, user), oldest first.
    fn reactions(&mut self, message: MessageId) -> HubResult<Vec<(String, UserId)>>;
    fn set_message_text(&mut self, id: MessageId, text: &str, at: Millis) -> HubResult<()>;
    /// Empties the text, marks it deleted and drops its reactions.
    fn tombstone_message(&mut self, id: MessageId, at: Millis) -> HubResult<()>;
    /// Adds or removes a reaction; whether anything changed.
    fn set_reaction(&mut self, message: MessageId, user: UserId, emoji: &str, on: bool, at: Millis) -> HubResult<bool>;
    fn touch_message(&mut self, id: MessageId, at: Millis) -> HubResult<()>;
    /// Raises the member's read position to `up_to`; whether it moved.
    fn raise_read_position(&mut self, room: RoomId, user: UserId, up_to: u64) -> HubResult<bool>;
    fn read_positions(&mut self, room: RoomId) -> HubResult<Vec<(UserId, u64)>>;
    /// Ids of messages with `seq < before`, newest first.
    fn message_ids_before(&mut self, room: RoomId, before: u64, limit: u32) -> HubResult<Vec<MessageId>>;
    fn message_count(&mut self, room: RoomId) -> HubResult<u64>;
    /// (id, updated_at) of messages changed after `since`, oldest change first.
    fn messages_changed(
        &mut self,
        room: RoomId,
        since: ChangeCursor,
        limit: u32,
    ) -> HubResult<Vec<(MessageId, Millis)>>;
}

// ---- notifications ---------------------------------------------------------------------------------------

pub struct NewNotification<'a> {
    pub tenant: TenantId,
    pub user: UserId,
    pub kind: NotificationKind,
    pub priority: Priority,
    pub title: &'a str,
    pub body: &'a str,
    pub target: Option<&'a NotificationTarget>,
    pub text: Option<&'a NotificationText>,
    pub at: Millis,
}

pub trait NotifyRepo {
    fn insert_notification(&mut self, n: &NewNotification<'_>) -> HubResult<NotificationId>;
    /// Ids below `before`, newest first.
    fn notifications_before(
        &mut self,
        tenant: TenantId,
        user: UserId,
        before: NotificationId,
        limit: u32,
    ) -> HubResult<Vec<Notification>>;
    fn unread_count(&mut self, tenant: TenantId, user: UserId) -> HubResult<u32>;
    fn notification_count(&mut self, tenant: TenantId, user: UserId) -> HubResult<u64>;
    fn notifications_changed(
        &mut self,
        tenant: TenantId,
        user: UserId,
        since: ChangeCursor,
        limit: u32,
    ) -> HubResult<Vec<(Notification, Millis)>>;
    /// Marks one read; whether it was unread.
    fn mark_notification_read(
        &mut self,
        tenant: TenantId,
        user: UserId,
        id: NotificationId,
        at: Millis,
    ) -> HubResult<bool>;
    /// Marks all read; how many were unread.
    fn mark_all_notifications_read(&mut self, tenant: TenantId, user: UserId, at: Millis) -> HubResult<usize>;
    fn active_user_ids(&mut self, tenant: TenantId) -> HubResult<Vec<UserId>>;
}

// ---- users, tenants and sessions -------------------------------------------------------------------------

pub struct NewUser<'a> {
    pub tenant: TenantId,
    pub username: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub limits: (i64, i64),
    pub at: Millis,
}

/// A stored refresh token (looked up by the hash of the token).
pub struct RefreshRow {
    pub family: String,
    pub user: UserId,
    pub tenant: TenantId,
    pub expires_at: Millis,
    pub used: bool,
    pub used_at: Option<Millis>,
}

pub struct NewRefresh<'a> {
    pub hash: &'a str,
    pub family: &'a str,
    pub user: UserId,
    pub tenant: TenantId,
    pub expires_at: Millis,
    pub parent: Option<&'a str>,
    pub at: Millis,
}

pub trait AuthRepo {
    fn tenant_id(&mut self, name: &str) -> HubResult<Option<TenantId>>;
    fn insert_tenant(&mut self, name: &str, at: Millis) -> HubResult<()>;
    /// The new user's id, or None when the username is taken in that tenant.
    fn insert_user(&mut self, u: &NewUser<'_>) -> HubResult<Option<UserId>>;
    /// (summary, password hash, active).
    fn user_by_name(&mut self, tenant: TenantId, username: &str) -> HubResult<Option<(UserSummary, String, bool)>>;
    /// Users of the tenant whose username or display name holds `text` (any case), by username.
    fn search_users(&mut self, tenant: TenantId, text: &str, limit: u32) -> HubResult<Vec<UserSummary>>;
    fn user_summary(&mut self, tenant: TenantId, id: UserId) -> HubResult<Option<UserSummary>>;
    /// `None` for an unknown user, else whether they are active.
    fn user_active(&mut self, user: UserId) -> HubResult<Option<bool>>;
    fn user_active_in(&mut self, tenant: TenantId, user: UserId) -> HubResult<Option<bool>>;
    fn presence(&mut self, tenant: TenantId, user: UserId) -> HubResult<Option<(PresenceStatus, Option<Millis>)>>;
    fn set_presence(&mut self, tenant: TenantId, user: UserId, status: PresenceStatus) -> HubResult<()>;
    /// Moves last-seen forward to `at` (never back).
    fn set_last_seen(&mut self, tenant: TenantId, user: UserId, at: Millis) -> HubResult<()>;
    /// (single, daily) limits in minor units.
    fn transfer_limits(&mut self, tenant: TenantId, user: UserId) -> HubResult<Option<(i64, i64)>>;
    /// Active users of the tenant except `user`, by display name.
    fn contacts(&mut self, tenant: TenantId, user: UserId, limit: u32) -> HubResult<Vec<UserSummary>>;
    fn insert_refresh(&mut self, r: &NewRefresh<'_>) -> HubResult<()>;
    fn refresh_row(&mut self, hash: &str) -> HubResult<Option<RefreshRow>>;
    /// Spends the token, if nobody has (a conditional update: of two hubs rotating it at once, one wins).
    fn mark_refresh_used(&mut self, hash: &str, at: Millis) -> HubResult<bool>;
    /// Records the one re-presentation a spent token is allowed; false when it already had it.
    fn mark_refresh_regranted(&mut self, hash: &str) -> HubResult<bool>;
    /// Whether a successor of this token hash was used.
    fn successor_used(&mut self, hash: &str) -> HubResult<bool>;
    /// Marks the user active or disabled; false for an unknown user.
    fn set_user_active(&mut self, tenant: TenantId, user: UserId, active: bool) -> HubResult<bool>;
    fn refresh_family(&mut self, hash: &str) -> HubResult<Option<String>>;
    /// Records the family as revoked and deletes its tokens.
    fn revoke_family(&mut self, family: &str, at: Millis) -> HubResult<()>;
    fn is_revoked(&mut self, family: &str) -> HubResult<bool>;
}

/// Who may sign up in a tenant (a wire type: the admin endpoints and the sign-up screen name it).
pub use tally_protocol::http::Registration;

/// A signed-in device: one refresh-token family.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SessionRow {
    pub family: String,
    #[serde(skip)]
    pub tenant: TenantId,
    #[serde(skip)]
    pub user: UserId,
    pub device: String,
    pub platform: String,
    pub ip: String,
    pub created_at: Millis,
    pub last_seen_at: Millis,
}

/// Two-factor state of a user: the enabled secret, one being enrolled, the last time step used.
pub struct TotpRow {
    pub secret: Option<String>,
    pub pending: Option<String>,
    pub last_step: i64,
}

/// Tenant policies, invites, device sessions, passwords and two-factor secrets.
pub trait SecurityRepo {
    fn tenant_policy(&mut self, tenant: TenantId) -> HubResult<Option<(Registration, bool)>>;
    fn set_tenant_policy(&mut self, tenant: TenantId, registration: Registration, require_2fa: bool) -> HubResult<()>;
    fn insert_invite(&mut self, hash: &str, tenant: TenantId, at: Millis, expires_at: Millis) -> HubResult<()>;
    /// Whether the tenant has this invite, unused and unexpired (a read: the sign-up spends it later).
    fn invite_open(&mut self, hash: &str, tenant: TenantId, at: Millis) -> HubResult<bool>;
    /// Spends an unused, unexpired invite of the tenant for `user`; false when there is none.
    fn use_invite(&mut self, hash: &str, tenant: TenantId, user: UserId, at: Millis) -> HubResult<bool>;
    fn insert_session(&mut self, s: &SessionRow) -> HubResult<()>;
    fn touch_session(&mut self, family: &str, ip: &str, at: Millis) -> HubResult<()>;
    /// When the session (refresh-token family) was opened; None for families from before sessions.
    fn session_created_at(&mut self, family: &str) -> HubResult<Option<Millis>>;
    /// The user's sessions that are not revoked, newest first.
    fn sessions_of(&mut self, tenant: TenantId, user: UserId) -> HubResult<Vec<SessionRow>>;
    /// Every family of the user that is not revoked (sessions, and tokens from before sessions existed).
    fn live_families(&mut self, tenant: TenantId, user: UserId) -> HubResult<Vec<String>>;
    fn password_hash(&mut self, tenant: TenantId, user: UserId) -> HubResult<Option<String>>;
    fn set_password_hash(&mut self, tenant: TenantId, user: UserId, hash: &str) -> HubResult<()>;
    fn totp(&mut self, tenant: TenantId, user: UserId) -> HubResult<Option<TotpRow>>;
    fn set_totp_pending(&mut self, user: UserId, secret: Option<&str>) -> HubResult<()>;
    /// Enables `secret` (clearing the pending one) or, with None, disables two-factor.
    fn set_totp_secret(&mut self, user: UserId, secret: Option<&str>, step: i64) -> HubResult<()>;
    /// Records `step` as used; false when it (or a later one) was already used: a replayed code.
    fn advance_totp_step(&mut self, user: UserId, step: i64) -> HubResult<bool>;
    fn replace_recovery_codes(&mut self, user: UserId, hashes: &[String]) -> HubResult<()>;
    /// Spends a recovery code; false when it is unknown or used.
    fn use_recovery_code(&mut self, user: UserId, hash: &str, at: Millis) -> HubResult<bool>;
    fn recovery_codes_left(&mut self, user: UserId) -> HubResult<u32>;
}

// ---- audit trail ---------------------------------------------------------------------------------------

/// One entry of the audit trail, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub seq: u64,
    pub at: Millis,
    /// None: the whole hub (an operator action on no tenant in particular).
    pub tenant: Option<TenantId>,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub ip: String,
    pub prev_hash: String,
    pub hash: String,
}

pub trait AuditRepo {
    /// The last entry's seq and hash (0 and "" before the first). In a write on PostgreSQL the head is
    /// locked until the transaction ends, so appends from several hubs take turns.
    fn audit_head(&mut self) -> HubResult<(u64, String)>;
    /// Appends `row` (its seq one past the head's) and moves the head to it.
    fn append_audit(&mut self, row: &AuditRow) -> HubResult<()>;
    /// Entries after `after`, oldest first, at most `limit`; only `tenant`'s when given.
    fn audit_page(&mut self, tenant: Option<TenantId>, after: u64, limit: u32) -> HubResult<Vec<AuditRow>>;
}

// ---- operators -----------------------------------------------------------------------------------------

/// An operator account, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorRow {
    pub id: i64,
    pub username: String,
    /// None: every tenant.
    pub tenant: Option<TenantId>,
    pub role: String,
    pub password_hash: String,
    pub totp_secret: String,
    /// The last TOTP step used (the replay guard).
    pub totp_step: i64,
}

pub trait OperatorRepo {
    /// A new operator; `conflict` when the name is taken.
    fn insert_operator(&mut self, row: &OperatorRow, at: Millis) -> HubResult<i64>;
    fn operator_by_name(&mut self, username: &str) -> HubResult<Option<OperatorRow>>;
    /// How many operators have `role`.
    fn operators_with_role(&mut self, role: &str) -> HubResult<u64>;
    /// Records `step` as used; false when it (or a later one) was already used.
    fn advance_operator_step(&mut self, id: i64, step: i64) -> HubResult<bool>;
    fn insert_operator_session(
        &mut self,
        token_hash: &str,
        operator: i64,
        at: Millis,
        expires: Millis,
    ) -> HubResult<()>;
    /// The operator whose unexpired session this is.
    fn operator_of_session(&mut self, token_hash: &str, now: Millis) -> HubResult<Option<OperatorRow>>;
}

// ---- the operators' live feed --------------------------------------------------------------------------

/// Which lines the feed reads; every `None` matches all.
#[derive(Debug, Clone, Default)]
pub struct FeedQuery {
    /// None: every tenant (an operator not limited to one).
    pub tenant: Option<TenantId>,
    pub kind: Option<String>,
    pub status: Option<String>,
    pub currency: Option<String>,
    pub min_minor: Option<i64>,
    pub user: Option<UserId>,
}

/// A line of the feed: the line, whose it is (tenant, user), and when it last changed.
pub struct FeedRow {
    pub row: TxRow,
    pub tenant: TenantId,
    pub user: UserId,
    pub updated_at: Millis,
}

pub trait FeedRepo {
    /// Lines matching `q` written or changed after `since`, oldest change first, at most `limit`.
    fn feed_changes(&mut self, q: &FeedQuery, since: ChangeCursor, limit: u32) -> HubResult<Vec<FeedRow>>;
    /// The newest lines matching `q`, newest change first, at most `limit`.
    fn feed_newest(&mut self, q: &FeedQuery, limit: u32) -> HubResult<Vec<FeedRow>>;
}

// ---- KYC -----------------------------------------------------------------------------------------------

pub trait KycRepo {
    /// The user's transfer limits (single, daily) and level, from one read of their row (None: no such user).
    fn limits_and_level(&mut self, tenant: TenantId, user: UserId) -> HubResult<Option<((i64, i64), KycLevel)>>;
    /// Sets the user's level and their transfer limits (single, daily) with it; false: no such user.
    fn set_kyc(&mut self, tenant: TenantId, user: UserId, level: KycLevel, limits: (i64, i64)) -> HubResult<bool>;
    /// The tenant's own limits for a level, if its operator set them.
    fn kyc_limits(&mut self, tenant: TenantId, level: KycLevel) -> HubResult<Option<(i64, i64)>>;
    fn set_kyc_limits(&mut self, tenant: TenantId, level: KycLevel, limits: (i64, i64)) -> HubResult<()>;
}

// ---- withdrawals ---------------------------------------------------------------------------------------

pub struct NewWithdrawalRow<'a> {
    pub tenant: TenantId,
    pub user: UserId,
    pub amount: Money,
    pub destination: &'a str,
    pub tx: TxId,
    pub key: &'a str,
    pub body_hash: &'a str,
    pub at: Millis,
}

pub struct WithdrawalRow {
    pub id: WithdrawalId,
    pub user: UserId,
    pub amount: Money,
    pub destination: String,
    pub status: WithdrawalStatus,
    pub reason: Option<String>,
    pub tx: TxId,
    pub created_at: Millis,
    pub updated_at: Millis,
}

pub trait WithdrawalRepo {
    fn insert_withdrawal(&mut self, w: &NewWithdrawalRow<'_>) -> HubResult<WithdrawalId>;
    fn withdrawal_row(&mut self, tenant: TenantId, id: WithdrawalId) -> HubResult<Option<WithdrawalRow>>;
    /// The user's withdrawal with this idempotency key, and the hash of the body it was made with.
    fn withdrawal_by_key(&mut self, user: UserId, key: &str) -> HubResult<Option<(WithdrawalId, String)>>;
    /// A tenant's withdrawals in `status`, oldest first, after `after` (ids).
    fn withdrawals_in(
        &mut self,
        tenant: TenantId,
        status: WithdrawalStatus,
        after: WithdrawalId,
        limit: u32,
    ) -> HubResult<Vec<WithdrawalRow>>;
    /// Moves a pending withdrawal to its outcome; false when it was no longer pending.
    fn decide_withdrawal(
        &mut self,
        id: WithdrawalId,
        status: WithdrawalStatus,
        reason: Option<&str>,
        at: Millis,
    ) -> HubResult<bool>;
    /// The withdrawal's history line takes its outcome and the balance after it.
    fn set_line_outcome(&mut self, line: TxId, status: TransferStatus, balance_after: i64, at: Millis)
        -> HubResult<()>;
}

// ---- adding money --------------------------------------------------------------------------------------

pub trait DepositRepo {
    /// The user's deposit reference, if they have one yet (None also for no such user).
    fn deposit_ref(&mut self, tenant: TenantId, user: UserId) -> HubResult<Option<String>>;
    /// Gives the user `reference` unless they have one; false when they had one already.
    fn set_deposit_ref(&mut self, tenant: TenantId, user: UserId, reference: &str) -> HubResult<bool>;
    fn user_by_deposit_ref(&mut self, tenant: TenantId, reference: &str) -> HubResult<Option<UserId>>;
    fn deposit_instructions(&mut self, tenant: TenantId) -> HubResult<String>;
    fn set_deposit_instructions(&mut self, tenant: TenantId, text: &str) -> HubResult<()>;
}

// ---- compliance holds ----------------------------------------------------------------------------------

/// A tenant's review rules (hundredths of a major unit; None: off).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RulesRow {
    pub single_over: Option<i64>,
    pub hourly_count_over: Option<i64>,
    pub hourly_amount_over: Option<i64>,
    pub new_payee_over: Option<i64>,
}

pub trait ComplianceRepo {
    fn compliance_rules(&mut self, tenant: TenantId) -> HubResult<Option<RulesRow>>;
    fn set_compliance_rules(&mut self, tenant: TenantId, rules: &RulesRow) -> HubResult<()>;
    /// How many transfers the sender made in `currency` since `since`, failed ones excluded.
    fn sent_count_since(&mut self, user: UserId, currency: Currency, since: Millis) -> HubResult<i64>;
    /// Whether `from` paid `to` before (a transfer other than `except`, not failed).
    fn paid_before(&mut self, from: UserId, to: UserId, except: TransferId) -> HubResult<bool>;
    fn insert_review(&mut self, transfer: TransferId, tenant: TenantId, reason: &str, at: Millis) -> HubResult<()>;
    /// The tenant's transfers waiting for a review after `after`: (transfer, reason, held at), oldest first.
    fn open_reviews(
        &mut self,
        tenant: TenantId,
        after: TransferId,
        limit: u32,
    ) -> HubResult<Vec<(TransferId, String, Millis)>>;
    /// Closes an open review; false when it was not open.
    fn close_review(&mut self, transfer: TransferId, outcome: &str, at: Millis) -> HubResult<bool>;
}
