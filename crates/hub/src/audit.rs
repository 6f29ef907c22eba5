//! The audit trail: every operator action and every security-relevant user action (sign-ins, bursts of
//! failed ones, password and two-factor changes, sessions ended), who did it, what, to whom, when and
//! from where. Append-only, written in the same transaction as the action, and chained: each entry holds
//! the SHA-256 of the entry before it, so an entry changed, inserted or removed afterwards breaks the chain
//! at that entry (`verify`, `tally-hub audit verify`). Never a secret or a message body: `detail` is a
//! short description built here.
use crate::error::{HubError, HubResult};
use crate::ids::TenantId;
use crate::store::now_ms;
use crate::store::repo::AuditRow;
use crate::store::Tx;
use sha2::{Digest, Sha256};
use tally_protocol::UserId;

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor<'a> {
    /// An operator: `operator` (the admin token) or `operator:NAME` (an operator account).
    Operator(&'a str),
    User(UserId),
}

impl Actor<'_> {
    fn label(self) -> String {
        match self {
            Actor::Operator(who) => who.into(),
            Actor::User(id) => format!("user:{id}"),
        }
    }
}

/// What was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    SignIn,
    SignInFailures,
    PasswordChanged,
    TwoFactorEnabled,
    TwoFactorDisabled,
    RecoveryCodesRenewed,
    SessionRevoked,
    OtherSessionsRevoked,
    TenantPolicySet,
    AttachmentLimitsSet,
    InvitesIssued,
    PasswordReset,
    TwoFactorReset,
    AccountDisabled,
    AccountEnabled,
    Deposit,
    Withdrawal,
    Broadcast,
    UsersProvisioned,
    DepositsProvisioned,
    TokensIssued,
    RoomCreated,
    EventsPublished,
    OperatorCreated,
    OperatorSignedIn,
    KycLevelSet,
    KycLimitsSet,
    UserLimitsSet,
    WithdrawalPaidOut,
    WithdrawalRejected,
    DepositInstructionsSet,
    ComplianceRulesSet,
    ReviewReleased,
    ReviewRejected,
    Adjustment,
    UserViewed,
    UsersSearched,
    LiveWatched,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        use Action::*;
        match self {
            SignIn => "sign_in",
            SignInFailures => "sign_in_failures",
            PasswordChanged => "password_changed",
            TwoFactorEnabled => "two_factor_enabled",
            TwoFactorDisabled => "two_factor_disabled",
            RecoveryCodesRenewed => "recovery_codes_renewed",
            SessionRevoked => "session_revoked",
            OtherSessionsRevoked => "other_sessions_revoked",
            TenantPolicySet => "tenant_policy_set",
            AttachmentLimitsSet => "attachment_limits_set",
            InvitesIssued => "invites_issued",
            PasswordReset => "password_reset",
            TwoFactorReset => "two_factor_reset",
            AccountDisabled => "account_disabled",
            AccountEnabled => "account_enabled",
            Deposit => "deposit",
            Withdrawal => "withdrawal",
            WithdrawalPaidOut => "withdrawal_paid_out",
            WithdrawalRejected => "withdrawal_rejected",
            DepositInstructionsSet => "deposit_instructions_set",
            ComplianceRulesSet => "compliance_rules_set",
            ReviewReleased => "review_released",
            ReviewRejected => "review_rejected",
            Adjustment => "adjustment",
            UserViewed => "user_viewed",
            UsersSearched => "users_searched",
            LiveWatched => "live_watched",
            Broadcast => "broadcast",
            UsersProvisioned => "users_provisioned",
            DepositsProvisioned => "deposits_provisioned",
            TokensIssued => "tokens_issued",
            RoomCreated => "room_created",
            EventsPublished => "events_published",
            OperatorCreated => "operator_created",
            OperatorSignedIn => "operator_signed_in",
            KycLevelSet => "kyc_level_set",
            KycLimitsSet => "kyc_limits_set",
            UserLimitsSet => "user_limits_set",
        }
    }
}

/// An entry to append. `subject` is what was acted on (`user:alice`, `tenant:acme`), `detail` a short
/// description without secrets, `ip` where the request came from.
pub struct Entry<'a> {
    pub tenant: Option<TenantId>,
    pub actor: Actor<'a>,
    pub action: Action,
    pub subject: &'a str,
    pub detail: &'a str,
    pub ip: &'a str,
}

/// Appends `e` after the newest entry (in the caller's transaction: kept only if the action is).
pub fn record(tx: &mut dyn Tx, e: Entry<'_>) -> HubResult<()> {
    let (seq, prev_hash) = tx.audit_head()?;
    let mut row = AuditRow {
        seq: seq + 1,
        at: now_ms(),
        tenant: e.tenant,
        actor: e.actor.label(),
        action: e.action.as_str().into(),
        subject: e.subject.into(),
        detail: e.detail.into(),
        ip: e.ip.into(),
        prev_hash,
        hash: String::new(),
    };
    row.hash = hash_of(&row);
    tx.append_audit(&row)
}

/// A user's own security change, on their own account.
pub fn by_user(
    tx: &mut dyn Tx,
    (tenant, user): (TenantId, UserId),
    action: Action,
    detail: &str,
    ip: &str,
) -> HubResult<()> {
    let subject = format!("user:{user}");
    record(tx, Entry { tenant: Some(tenant), actor: Actor::User(user), action, subject: &subject, detail, ip })
}

/// An operator's action on `subject` (in `tenant`, or the whole hub); `who` as `Actor::Operator` names it.
pub fn by_operator(
    tx: &mut dyn Tx,
    who: &str,
    tenant: Option<TenantId>,
    action: Action,
    subject: &str,
    detail: &str,
    ip: &str,
) -> HubResult<()> {
    record(tx, Entry { tenant, actor: Actor::Operator(who), action, subject, detail, ip })
}

/// The entry's fields in their one order (the hash's and the CSV's), all but its own hash.
fn fields(r: &AuditRow) -> [String; 9] {
    let tenant = r.tenant.map(|t| t.0.to_string()).unwrap_or_default();
    [
        r.seq.to_string(),
        r.at.to_string(),
        tenant,
        r.actor.clone(),
        r.action.clone(),
        r.subject.clone(),
        r.detail.clone(),
        r.ip.clone(),
        r.prev_hash.clone(),
    ]
}

/// The entry's hash: SHA-256 over every field but the hash itself, each length-prefixed (so no two
/// different entries write the same bytes), the previous entry's hash included.
pub fn hash_of(r: &AuditRow) -> String {
    let mut h = Sha256::new();
    for f in fields(r) {
        h.update((f.len() as u64).to_be_bytes());
        h.update(f.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Where the chain breaks, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub seq: u64,
    pub why: &'static str,
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the audit trail is broken at entry {}: {}", self.seq, self.why)
    }
}

/// Reads the whole trail, oldest first, and checks every link: the entries checked, or the first break.
pub fn verify(tx: &mut dyn Tx) -> HubResult<Result<u64, Broken>> {
    let (mut after, mut prev) = (0u64, String::new());
    loop {
        let page = tx.audit_page(None, after, 1000)?;
        let Some(last) = page.last().map(|r| r.seq) else { break };
        for r in &page {
            let why = if r.seq != after + 1 {
                Some("the entry before it is missing")
            } else if r.prev_hash != prev {
                Some("it does not follow the entry before it")
            } else if hash_of(r) != r.hash {
                Some("it was changed after it was written")
            } else {
                None
            };
            if let Some(why) = why {
                return Ok(Err(Broken { seq: r.seq, why }));
            }
            (after, prev) = (r.seq, r.hash.clone());
        }
        debug_assert_eq!(after, last);
    }
    let (head, head_hash) = tx.audit_head()?;
    if head != after || head_hash != prev {
        return Ok(Err(Broken { seq: head, why: "the newest entries were removed" }));
    }
    Ok(Ok(after))
}

/// `tally-hub audit verify`: opens the database (`backend`) on its own, without serving, and checks the
/// whole trail.
pub async fn verify_store(backend: &crate::store::Backend) -> HubResult<Result<u64, Broken>> {
    if let crate::store::Backend::Sqlite(path) = backend {
        if !path.exists() {
            return Err(HubError::not_found(&format!("a hub database at {}", path.display())));
        }
    }
    let store = crate::store::Store::start(backend, std::sync::Arc::new(|_| {}))?;
    store.read(|c| verify(c)).await
}

/// Entries as CSV (a header, then one line per entry; every field quoted, spreadsheet formulas defused).
pub fn to_csv(rows: &[AuditRow]) -> HubResult<String> {
    let mut w = csv::WriterBuilder::new().quote_style(csv::QuoteStyle::Always).from_writer(vec![]);
    let fail = |e: csv::Error| HubError::internal(format!("audit CSV: {e}"));
    w.write_record(["seq", "at", "tenant", "actor", "action", "subject", "detail", "ip", "prev_hash", "hash"])
        .map_err(fail)?;
    for r in rows {
        let cells = fields(r).into_iter().chain([r.hash.clone()]);
        w.write_record(cells.map(|f| tally_protocol::text::defuse_formula(&f).into_owned())).map_err(fail)?;
    }
    let bytes = w.into_inner().map_err(|e| HubError::internal(format!("audit CSV: {e}")))?;
    String::from_utf8(bytes).map_err(HubError::internal)
}
