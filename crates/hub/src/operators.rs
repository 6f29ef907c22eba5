//! Operator accounts, apart from wallet users: a role that decides what they may do, an optional tenant
//! they are limited to, a password and a mandatory TOTP code to sign in, and short sessions (opaque
//! tokens, kept as hashes). The admin token from the data directory is the bootstrap: it acts as an
//! admin until the first admin operator exists, and is refused from then on.
use crate::account::two_factor;
use crate::error::{HubError, HubResult};
use crate::ids::TenantId;
use crate::secrets::{random_token, sha256_hex};
use crate::store::now_ms;
use crate::store::repo::OperatorRow;
use crate::store::Tx;
use rand::RngCore;
use tally_protocol::ErrorCode;

/// How long an operator's session lasts: a working day.
pub const SESSION_MS: i64 = 8 * 3600 * 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything.
    Admin,
    /// Users: reset passwords and two-factor, disable and enable accounts.
    Support,
    /// Money: deposits and withdrawals.
    Finance,
    /// Read-only: the audit trail and the ledger's invariants.
    Auditor,
}

/// What an operator endpoint does, as far as roles are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    ManageOperators,
    ManageTenants,
    ManageUsers,
    MoveMoney,
    Broadcast,
    Provision,
    ReadAudit,
    ReadLedger,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Support, Role::Finance, Role::Auditor];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Support => "support",
            Role::Finance => "finance",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> HubResult<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| HubError::invalid("role must be admin, support, finance or auditor"))
    }

    pub fn may(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => true,
            Role::Support => matches!(p, ManageUsers | ReadLedger),
            Role::Finance => matches!(p, MoveMoney | ReadLedger),
            Role::Auditor => matches!(p, ReadAudit | ReadLedger),
        }
    }
}

/// A new operator: stored with a fresh TOTP secret, shown once (the otpauth:// URL for their phone).
pub struct Created {
    pub id: i64,
    pub totp_secret: String,
    pub otpauth_url: String,
}

/// Adds an operator. Only the admin token while no admin exists, or an admin, gets here (the caller checks).
pub fn create(
    tx: &mut dyn Tx,
    username: &str,
    role: Role,
    tenant: Option<TenantId>,
    password_hash: &str,
) -> HubResult<Created> {
    let username = crate::directory::canonical_username(username);
    crate::directory::validate_username(&username)?;
    let mut raw = [0u8; 20];
    rand::thread_rng().fill_bytes(&mut raw);
    let secret = totp_rs::Secret::Raw(raw.to_vec()).to_encoded().to_string();
    let row = OperatorRow {
        id: 0,
        username: username.clone(),
        tenant,
        role: role.as_str().into(),
        password_hash: password_hash.into(),
        totp_secret: secret.clone(),
        totp_step: 0,
    };
    let id = tx.insert_operator(&row, now_ms())?;
    let url = two_factor::totp(&secret, &format!("operator {username}"))?.get_url();
    Ok(Created { id, totp_secret: secret, otpauth_url: url })
}

/// Whether any admin operator exists (then the admin token is retired).
pub fn admins_exist(tx: &mut dyn Tx) -> HubResult<bool> {
    Ok(tx.operators_with_role(Role::Admin.as_str())? > 0)
}

/// The second step of signing in, once the password was right: the code (not a used one), then a new
/// session; its token, shown once.
pub fn open_session(tx: &mut dyn Tx, op: &OperatorRow, code: &str) -> HubResult<String> {
    let now_secs = (now_ms() / 1000) as u64;
    let wrong = || HubError::new(ErrorCode::Unauthorized, "wrong username, password or code");
    let step = two_factor::matching_step(&op.totp_secret, code, now_secs)?.ok_or_else(wrong)?;
    if !tx.advance_operator_step(op.id, step)? {
        return Err(wrong());
    }
    let token = random_token("op_", 32);
    let now = now_ms();
    tx.insert_operator_session(&sha256_hex(&token), op.id, now, now + SESSION_MS)?;
    Ok(token)
}

/// The operator a session token belongs to, while it lasts.
pub fn of_session(tx: &mut dyn Tx, token: &str) -> HubResult<Option<OperatorRow>> {
    tx.operator_of_session(&sha256_hex(token), now_ms())
}
