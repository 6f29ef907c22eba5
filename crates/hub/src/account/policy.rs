//! Who may sign up in a tenant: `open`, `invite` (a single-use code an operator made) or `closed`, and
//! whether the tenant requires two-factor.
use crate::error::{HubError, HubResult};
use crate::ids::TenantId;
use crate::secrets::random_token;
use crate::secrets::sha256_hex;
use crate::store::now_ms;
use crate::store::repo::Registration;
use crate::store::Tx;
use tally_protocol::{ErrorCode, UserId};

pub fn of(tx: &mut dyn Tx, tenant: TenantId) -> HubResult<(Registration, bool)> {
    tx.tenant_policy(tenant)?.ok_or_else(|| HubError::not_found("tenant"))
}

pub fn set(tx: &mut dyn Tx, tenant: TenantId, registration: Registration, require_two_factor: bool) -> HubResult<()> {
    tx.set_tenant_policy(tenant, registration, require_two_factor)
}

/// Before anything else of a sign-up is looked at: closed tenants refuse, invite tenants want a code
/// that is there to spend (read here; `admit` spends it in the write, so two sign-ups racing for one code
/// still get one account).
pub fn gate(tx: &mut dyn Tx, tenant: TenantId, invite: Option<&str>) -> HubResult<()> {
    match of(tx, tenant)?.0 {
        Registration::Open => Ok(()),
        Registration::Closed => Err(closed()),
        Registration::Invite => {
            let code = invite.map(str::trim).filter(|c| !c.is_empty()).ok_or_else(needs_invite)?;
            if tx.invite_open(&sha256_hex(code), tenant, now_ms())? {
                Ok(())
            } else {
                Err(bad_invite())
            }
        }
    }
}

fn bad_invite() -> HubError {
    HubError::new(ErrorCode::Forbidden, "this invite code is not valid (used, expired or mistyped)")
}

fn closed() -> HubError {
    HubError::new(
        ErrorCode::Forbidden,
        "sign-up is closed here; ask the operator of this hub for an account or an invite",
    )
}

fn needs_invite() -> HubError {
    HubError::new(ErrorCode::Forbidden, "sign-up here needs an invite code from the operator")
}

/// Lets `user`, just created in this transaction, in (or refuses, which rolls the creation back).
pub fn admit(tx: &mut dyn Tx, tenant: TenantId, user: UserId, invite: Option<&str>) -> HubResult<()> {
    match of(tx, tenant)?.0 {
        Registration::Open => Ok(()),
        Registration::Closed => Err(closed()),
        Registration::Invite => {
            let code = invite.map(str::trim).filter(|c| !c.is_empty()).ok_or_else(needs_invite)?;
            if tx.use_invite(&sha256_hex(code), tenant, user, now_ms())? {
                Ok(())
            } else {
                Err(bad_invite())
            }
        }
    }
}

/// `count` new single-use invite codes for the tenant, valid for `ttl_secs`. Only their hashes are kept.
pub fn create_invites(tx: &mut dyn Tx, tenant: TenantId, count: u32, ttl_secs: u64) -> HubResult<Vec<String>> {
    if !(1..=1000).contains(&count) {
        return Err(HubError::invalid("count: 1-1000"));
    }
    let at = now_ms();
    let expires = at.saturating_add((ttl_secs.min(365 * 86_400) * 1000) as i64);
    let mut codes = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let code = random_token("inv_", 24);
        tx.insert_invite(&sha256_hex(&code), tenant, at, expires)?;
        codes.push(code);
    }
    Ok(codes)
}
