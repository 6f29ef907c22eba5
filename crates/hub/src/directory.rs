//! The user directory: usernames and display names, looking users up (the ledger finds a payee here,
//! chat a member), presence kept across restarts, transfer limits, whether an account is active, and
//! the people a user can pay or message.
use crate::error::{HubError, HubResult};
use crate::ids::TenantId;
use crate::store::now_ms;
use crate::store::repo::NewUser;
use crate::store::Tx;
use tally_protocol::{ErrorCode, PresenceStatus, UserId, UserSummary};

/// The one username rule, everywhere a name is given (sign-up, sign-in, a transfer's `to`, room members,
/// mentions, the admin endpoints): surrounding spaces are dropped and case does not matter (`ALICE` is
/// `alice`); names are stored in this form.
pub fn canonical_username(u: &str) -> String {
    u.trim().to_ascii_lowercase()
}

/// A canonical username: 2-32 of `a-z`, `0-9`, `_`, `.`, `-`.
pub fn validate_username(u: &str) -> HubResult<()> {
    if u.len() < 2
        || u.len() > 32
        || !u.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.' || b == b'-')
    {
        return Err(HubError::invalid("username: 2-32 characters of a-z, 0-9, '_', '.', '-'"));
    }
    Ok(())
}

/// Creates a user. `conflict` when the username is taken in that tenant.
pub fn create_user(
    tx: &mut dyn Tx,
    tenant: TenantId,
    username: &str,
    display_name: &str,
    password_hash: &str,
    limits: (i64, i64),
) -> HubResult<UserSummary> {
    let username = &canonical_username(username);
    validate_username(username)?;
    if display_name.trim().chars().count() > 64 {
        return Err(HubError::invalid("display_name: at most 64 characters"));
    }
    visible_text("display_name", display_name)?;
    let display = if display_name.trim().is_empty() { username.to_string() } else { display_name.trim().to_string() };
    let row = NewUser { tenant, username, display_name: &display, password_hash, limits, at: now_ms() };
    match tx.insert_user(&row)? {
        Some(id) => Ok(UserSummary { id, username: username.to_string(), display_name: display }),
        None => Err(HubError::new(ErrorCode::Conflict, "username already taken")),
    }
}

/// (summary, password hash, active).
pub fn user_by_name(
    tx: &mut dyn Tx,
    tenant: TenantId,
    username: &str,
) -> HubResult<Option<(UserSummary, String, bool)>> {
    tx.user_by_name(tenant, &canonical_username(username))
}

pub fn user_summary(tx: &mut dyn Tx, tenant: TenantId, id: UserId) -> HubResult<Option<UserSummary>> {
    tx.user_summary(tenant, id)
}

/// The presence status a user chose and when they were last seen (kept across restarts).
pub fn presence_of(tx: &mut dyn Tx, tenant: TenantId, user: UserId) -> HubResult<(PresenceStatus, Option<i64>)> {
    Ok(tx.presence(tenant, user)?.unwrap_or((PresenceStatus::Online, None)))
}

pub fn set_presence(tx: &mut dyn Tx, tenant: TenantId, user: UserId, status: PresenceStatus) -> HubResult<()> {
    tx.set_presence(tenant, user, status)
}

pub fn set_last_seen(tx: &mut dyn Tx, tenant: TenantId, user: UserId, at: i64) -> HubResult<()> {
    tx.set_last_seen(tenant, user, at)
}

/// What one user may do, as `welcome` announces it: their own transfer limits and their tenant's file limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnLimits {
    /// (single, daily), in hundredths of a major unit.
    pub transfer: (i64, i64),
    /// The largest file, in bytes.
    pub attachment_max: u64,
    pub kyc_level: tally_protocol::KycLevel,
}

/// A user's `OwnLimits`; `files` are the hub's attachment defaults, for a tenant without its own.
pub fn own_limits(
    tx: &mut dyn Tx,
    tenant: TenantId,
    user: UserId,
    files: crate::attachments::Limits,
) -> HubResult<OwnLimits> {
    let (transfer, kyc_level) = tx.limits_and_level(tenant, user)?.ok_or_else(|| HubError::not_found("user"))?;
    let attachment_max = crate::attachments::limits(tx, tenant, files)?.max_file;
    Ok(OwnLimits { transfer, attachment_max, kyc_level })
}

/// Whether the user exists and is not disabled.
/// Refuses a name holding characters that change how it reads without being seen (line breaks, bidi
/// overrides and marks, zero-width spaces: `tally_protocol::text`), naming the first one.
pub fn visible_text(field: &str, s: &str) -> HubResult<()> {
    match tally_protocol::text::hidden_chars(s).first() {
        None => Ok(()),
        Some(c) => Err(HubError::invalid(format!(
            "{field}: holds an invisible or control character (U+{:04X}); type it without",
            *c as u32
        ))),
    }
}

/// Disables (or re-enables) an account; `not_found` for an unknown user.
pub fn set_active(tx: &mut dyn Tx, tenant: TenantId, user: UserId, active: bool) -> HubResult<()> {
    if tx.set_user_active(tenant, user, active)? {
        Ok(())
    } else {
        Err(HubError::not_found("user"))
    }
}

pub fn is_active(tx: &mut dyn Tx, tenant: TenantId, user: UserId) -> HubResult<bool> {
    Ok(tx.user_active_in(tenant, user)?.unwrap_or(false))
}

/// People `user` can pay or message: the active users of the tenant, by display name (at most 1,000).
pub fn contacts(tx: &mut dyn Tx, tenant: TenantId, user: UserId) -> HubResult<Vec<UserSummary>> {
    tx.contacts(tenant, user, 1000)
}
