//! The HTTP API's bodies: every request the hub reads and every answer it writes, one type each. The hub
//! serialises these and the client deserialises them; `docs/PROTOCOL.md` shows each with an example that a
//! test parses as the type it names (`tests/http_golden.rs`). Optional request fields default as the
//! docs say, so an older client's body still reads.
use crate::{
    Balance, Direction, ErrorCode, KycLevel, Millis, Money, Notification, Priority, Transaction, Transfer, TransferId,
    UserSummary, Withdrawal, WithdrawalId,
};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

fn yes() -> bool {
    true
}

// ---- errors ---------------------------------------------------------------------------------------------

/// Every error answer: a typed code and a message safe to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
}

// ---- sign-up, sign-in, tokens ---------------------------------------------------------------------------

/// What a client says about itself at sign-in (free text; the hub trims and bounds it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub platform: String,
}

/// `POST /v1/auth/register`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignUpRequest {
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub display_name: String,
    /// The tenant's name (`default` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// A single-use invite code, where the tenant's registration is `invite`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite: Option<String>,
    #[serde(default)]
    pub device: DeviceInfo,
}

/// `POST /v1/auth/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInRequest {
    pub username: String,
    pub password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The authenticator's code or a recovery code, where two-factor is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp: Option<String>,
    #[serde(default)]
    pub device: DeviceInfo,
}

/// `POST /v1/auth/refresh` and `POST /v1/auth/logout`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// The token answer of sign-up, sign-in and refresh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds the access token lives.
    pub expires_in: u64,
    /// Always `Bearer`.
    pub token_type: String,
    pub user: UserSummary,
    /// The tenant requires two-factor and this account has not turned it on yet.
    #[serde(default)]
    pub must_enrol_two_factor: bool,
    /// Whether two-factor is on for this account (sign-up and sign-in say; a refresh does not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub two_factor: Option<bool>,
}

/// Who may sign up in a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Registration {
    Open,
    /// With a single-use invite code from the operator.
    Invite,
    Closed,
}

impl Registration {
    pub const ALL: [Registration; 3] = [Registration::Open, Registration::Invite, Registration::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            Registration::Open => "open",
            Registration::Invite => "invite",
            Registration::Closed => "closed",
        }
    }
}

impl std::str::FromStr for Registration {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Registration::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("not open, invite or closed: {s}"))
    }
}

/// `GET /v1/auth/registration?tenant=`: what the sign-up screen needs to know before the user types.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct RegistrationInfo {
    pub registration: Registration,
    pub require_two_factor: bool,
    pub password_min_chars: u32,
}

/// `GET /v1/demo`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DemoInfo {
    pub demo: bool,
    pub users: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

// ---- the signed-in user's account -----------------------------------------------------------------------

/// One signed-in device of the user (Settings → Devices).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DeviceSession {
    pub id: String,
    pub device: String,
    pub platform: String,
    /// Where it was last seen from (an IP address).
    pub ip: String,
    #[ts(type = "number")]
    pub created_at: Millis,
    #[ts(type = "number")]
    pub last_seen_at: Millis,
    /// This device.
    pub current: bool,
}

/// `GET /v1/account/sessions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionList {
    pub sessions: Vec<DeviceSession>,
}

/// `POST /v1/account/sessions/revoke`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRef {
    pub id: String,
}

/// `POST /v1/account/sessions/revoke-others`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revoked {
    pub revoked: u32,
}

/// `POST /v1/account/password`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordChange {
    pub current: String,
    pub new: String,
    /// A current two-factor code or a recovery code, where two-factor is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// The answer of a password change or reset: how many other devices were signed out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedOut {
    pub signed_out_devices: u32,
}

/// `GET /v1/account/two-factor`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct TwoFactorStatus {
    pub enabled: bool,
    pub recovery_codes_left: u32,
    /// The tenant requires it (it cannot be turned off).
    pub required: bool,
}

/// What the user typed to prove it is them (two-factor set-up, disable, new recovery codes).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proof {
    /// The current password.
    #[serde(default)]
    pub password: String,
    /// A current two-factor code or a recovery code (where two-factor is on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// `POST /v1/account/two-factor/setup`: the secret to type in and the `otpauth://` URL the QR code shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct TwoFactorSetup {
    pub secret: String,
    pub otpauth_url: String,
}

/// `POST /v1/account/two-factor/enable`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeRequest {
    pub code: String,
}

/// Recovery codes, shown once (enable, new codes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

// ---- attachments ----------------------------------------------------------------------------------------

/// `POST /v1/rooms/{room}/attachments?name=…`: the file as stored. Send it with `message_send`'s
/// `attachment` (its `id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uploaded {
    pub attachment: crate::Attachment,
}

// ---- the operator's endpoints (admin token) -------------------------------------------------------------

/// `POST /v1/admin/attachment-limits`: a tenant's own limits for attachments, in bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentLimitsRequest {
    pub tenant: String,
    pub max_file_bytes: u64,
    pub quota_bytes: u64,
}

/// The tenant's attachment limits as they now are, and what it stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentLimits {
    pub max_file_bytes: u64,
    pub quota_bytes: u64,
    pub used_bytes: u64,
}

/// `POST /v1/admin/tenants`: creates the tenant if missing and sets the fields given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantRequest {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<Registration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_two_factor: Option<bool>,
}

/// The tenant as it now is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantInfo {
    pub id: i64,
    pub registration: Registration,
    pub require_two_factor: bool,
}

/// `POST /v1/admin/invites`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitesRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// 1-1000 codes.
    #[serde(default = "InvitesRequest::one")]
    pub count: u32,
    /// How long each code is valid (at most a year).
    #[serde(default = "InvitesRequest::week")]
    pub ttl_secs: u64,
}

impl InvitesRequest {
    fn one() -> u32 {
        1
    }
    fn week() -> u64 {
        7 * 24 * 3600
    }
}

/// Single-use sign-up codes, shown only here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteCodes {
    pub codes: Vec<String>,
}

/// `POST /v1/admin/password`: a new password for a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordReset {
    pub username: String,
    pub password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

/// `POST /v1/admin/users/active`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveRequest {
    pub username: String,
    pub active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

/// The account's state after `users/active`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveChanged {
    pub active: bool,
    pub signed_out_devices: u32,
}

/// A user by name (`POST /v1/admin/two-factor/reset`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRef {
    pub username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

/// `POST /v1/admin/deposit` and `/withdraw`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoneyRequest {
    /// The user, by name; or give `reference` instead (a deposit: the reference on the bank transfer).
    #[serde(default)]
    pub username: String,
    /// A user's deposit reference (`TLY-XXXX-XXXX-NN`, read leniently); a mistyped one is `400 invalid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    pub amount: Money,
    #[serde(default)]
    pub memo: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

/// `GET /v1/admin/withdrawals?status=pending&after=0&limit=100&tenant=…`: the finance queue, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithdrawalsPage {
    pub withdrawals: Vec<Withdrawal>,
    /// Pass as `after` for the next page; none when this page is the last.
    pub next_after: Option<WithdrawalId>,
}

/// `POST /v1/admin/withdrawals/decide` (finance): pay a pending withdrawal out (`approve: true`) or reject
/// it with a reason the user reads (the money goes back to their balance). Answered with the `Withdrawal`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithdrawalDecision {
    pub id: WithdrawalId,
    pub approve: bool,
    #[serde(default)]
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

/// `GET /v1/account/deposit-info`: how the user adds money — the reference to write on a bank transfer
/// (theirs alone, for good) and the instructions the operator published (empty until they do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DepositInfo {
    pub reference: String,
    pub instructions: String,
}

/// `POST /v1/admin/deposit-instructions` (finance): what users read under "Add money", at most 2000 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepositInstructionsRequest {
    pub instructions: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

/// `POST /v1/admin/compliance-rules` (finance): which transfers of the tenant wait for a review before
/// they move. Amounts in hundredths of a major unit (as limits), each rule off when absent; a rule fires
/// when the figure is over (not at) its value. Answered with the rules now in force.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplianceRules {
    /// One transfer over this amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub single_over: Option<i64>,
    /// More than this many transfers by the sender in the last hour (this one included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hourly_count_over: Option<i64>,
    /// More than this amount sent by the sender in the last hour (this one included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hourly_amount_over: Option<i64>,
    /// A first transfer to someone the sender never paid before, over this amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_payee_over: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

/// One transfer waiting for a review, with the rule that held it (never shown to the user).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldTransfer {
    pub transfer: Transfer,
    pub reason: String,
    pub held_at: Millis,
}

/// `GET /v1/admin/reviews?after=ID&limit=N&tenant=…`: the review queue, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewsPage {
    pub reviews: Vec<HeldTransfer>,
    pub next_after: Option<TransferId>,
}

/// `POST /v1/admin/reviews/decide` (finance): release a held transfer (it goes on and completes) or
/// reject it (it fails, the money goes back to the sender). `reason` is for the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewDecision {
    pub transfer: TransferId,
    pub release: bool,
    #[serde(default)]
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

/// `POST /v1/admin/adjustments` (finance): a correcting entry — `amount` into (`"in"`) or out of (`"out"`)
/// the user's account, with the reason they read; `corrects` names the user's transaction it puts right.
/// Answered with the new line's `MoneyMoved`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdjustmentRequest {
    pub username: String,
    pub amount: Money,
    pub direction: Direction,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrects: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

/// `GET /v1/admin/users/search?q=TEXT&tenant=…`: users whose username or display name holds the text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSearch {
    pub users: Vec<UserSummary>,
}

/// `GET /v1/admin/users/detail?username=…&tenant=…`: one user as support and finance see them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserDetail {
    pub user: UserSummary,
    pub active: bool,
    pub kyc_level: KycLevel,
    /// Hundredths of a major unit, as limits.
    pub transfer_single_max: i64,
    pub transfer_daily_max: i64,
    pub balances: Vec<Balance>,
    /// The newest 20.
    pub transactions: Vec<Transaction>,
    pub devices: Vec<DeviceSession>,
    /// The newest 20 sent to them.
    pub notifications: Vec<Notification>,
}

/// The history line a deposit or withdrawal wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoneyMoved {
    pub transaction_id: i64,
}

/// `POST /v1/admin/deposits`: many deposits in one transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepositsRequest {
    pub username: String,
    pub amount: Money,
    /// 1-10,000.
    pub count: u32,
    #[serde(default)]
    pub memo: String,
    /// `false`: no notifications.
    #[serde(default = "yes")]
    pub notify: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

/// The deposits made: their count and first and last transaction ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepositsMade {
    pub count: u32,
    pub first: Option<i64>,
    pub last: Option<i64>,
}

/// `POST /v1/admin/broadcast`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BroadcastRequest {
    pub title: String,
    pub body: String,
    pub priority: Priority,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

/// An answer with nothing more to say than that it was done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Done {
    pub ok: bool,
}

/// `GET /v1/admin/invariants`: the ledger's invariants checked now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvariantsReport {
    pub ok: bool,
    pub problems: Vec<String>,
}

/// `POST /v1/admin/operators`: a new operator account (an admin's to make; the admin token makes the first
/// admin only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorRequest {
    pub username: String,
    pub password: String,
    /// `admin`, `support`, `finance` or `auditor`.
    pub role: String,
    /// Limits the operator to this tenant; none: every tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

/// The answer to `POST /v1/admin/operators`: the TOTP secret the operator's authenticator needs, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorCreated {
    pub username: String,
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    pub totp_secret: String,
    pub otpauth_url: String,
}

/// `POST /v1/operators/sign-in`: password and a current code, both always.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorSignIn {
    pub username: String,
    pub password: String,
    pub totp: String,
}

/// An operator's session: its token is the `Authorization: Bearer` of the `/v1/admin/*` endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorSession {
    pub token: String,
    pub role: String,
    /// The id of the tenant the operator is limited to; none: every tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<i64>,
    pub expires_in: u64,
}

/// `POST /v1/admin/users/kyc`: sets a user's KYC level (support).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KycRequest {
    pub username: String,
    pub level: KycLevel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

/// The user's level and the transfer limits that came with it (hundredths of a major unit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KycChanged {
    pub level: KycLevel,
    pub transfer_single_max: i64,
    pub transfer_daily_max: i64,
}

/// `POST /v1/admin/kyc-limits`: a tenant's own transfer limits for a level (hundredths of a major unit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KycLimitsRequest {
    pub level: KycLevel,
    pub transfer_single_max: i64,
    pub transfer_daily_max: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

/// `POST /v1/admin/users/limits`: one user's own transfer limits (hundredths of a major unit), set by
/// finance with the reason the user reads; their KYC level stays. The answer is a `KycChanged`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserLimitsRequest {
    pub username: String,
    pub transfer_single_max: i64,
    pub transfer_daily_max: i64,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

/// One entry of the audit trail (`GET /v1/admin/audit`): who (`operator`, `user:ID`), what (`sign_in`,
/// `password_changed`, `deposit`, …), to whom, when, from where, and its place in the hash chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    pub at: Millis,
    /// The tenant's id; none for an action on the whole hub.
    pub tenant: Option<i64>,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub ip: String,
    /// The previous entry's hash ("" for the first).
    pub prev_hash: String,
    /// SHA-256 of this entry's fields and `prev_hash`, hex.
    pub hash: String,
}

/// `GET /v1/admin/audit`: a page of the trail, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Pass as `after` for the next page; none when this page is the last.
    pub next_after: Option<u64>,
}

/// One user of `POST /v1/admin/users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUser {
    pub username: String,
    #[serde(default)]
    pub display_name: String,
}

/// `POST /v1/admin/users`: 1-5,000 users in one transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsersRequest {
    pub users: Vec<NewUser>,
    /// 8-256 bytes; without it, password sign-in stays disabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

/// The users created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsersCreated {
    pub users: Vec<UserSummary>,
}

/// `POST /v1/admin/tokens`: access tokens for 1-20,000 users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokensRequest {
    pub usernames: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

/// One user's access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessToken {
    pub user: UserSummary,
    pub access_token: String,
}

/// Access tokens only (no refresh token), each its own session family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokens {
    pub tokens: Vec<AccessToken>,
    pub expires_in: u64,
}

/// `POST /v1/admin/rooms`: a group room of any size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomRequest {
    pub name: String,
    /// Usernames, 1-20,000.
    pub members: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

/// The room made and how many members it has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomCreated {
    pub id: i64,
    pub members: u32,
}

/// One durable `system` event of `POST /v1/admin/publish`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishItem {
    /// `broadcast`, `room:`, `user:` or `notifications:` (a string: a name that is no channel is refused
    /// by name).
    pub channel: String,
    pub title: String,
    #[serde(default)]
    pub body: String,
    #[serde(default = "PublishItem::low")]
    pub priority: Priority,
}

impl PublishItem {
    fn low() -> Priority {
        Priority::Low
    }
}

/// `POST /v1/admin/publish`: 1-10,000 events in one transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishRequest {
    pub events: Vec<PublishItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

/// How many events were published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishCount {
    pub published: u32,
}
