//! Two-factor sign-in: TOTP (RFC 6238 through totp-rs: SHA-1, 6 digits, 30 s steps, one step of skew
//! either way) with a replay guard (a code whose time step was already used is refused, so a code seen
//! over someone's shoulder cannot be used again), and ten one-time recovery codes kept as hashes.
use crate::error::{HubError, HubResult};
use crate::ids::TenantId;
use crate::secrets::random_token;
use crate::secrets::sha256_hex;
use crate::store::now_ms;
use crate::store::Tx;
use rand::RngCore;
use tally_protocol::{ErrorCode, UserId};
use totp_rs::{Algorithm, Secret, TOTP};

const STEP_SECS: u64 = 30;
pub const RECOVERY_CODES: usize = 10;

/// What enrolment shows: the secret (for typing in) and the otpauth:// URL (for the QR code).
pub struct Enrolment {
    pub secret: String,
    pub otpauth_url: String,
}

pub(crate) fn totp(secret_b32: &str, account: &str) -> HubResult<TOTP> {
    let bytes = Secret::Encoded(secret_b32.to_string()).to_bytes().map_err(HubError::internal)?;
    TOTP::new(Algorithm::SHA1, 6, 1, STEP_SECS, bytes, Some("Tally".into()), account.replace(':', "_"))
        .map_err(HubError::internal)
}

/// The time step `code` matches (now, one before or one after), if any.
pub fn matching_step(secret_b32: &str, code: &str, now_secs: u64) -> HubResult<Option<i64>> {
    let t = totp(secret_b32, "")?;
    let code = code.trim();
    let now = now_secs / STEP_SECS;
    for step in [now, now.saturating_sub(1), now + 1] {
        if t.generate(step * STEP_SECS) == code {
            return Ok(Some(step as i64));
        }
    }
    Ok(None)
}

/// Starts enrolment: a new secret, pending until a code from it is shown (`enable`).
pub fn setup(tx: &mut dyn Tx, tenant: TenantId, user: UserId, account: &str) -> HubResult<Enrolment> {
    let row = tx.totp(tenant, user)?.ok_or_else(|| HubError::not_found("user"))?;
    if row.secret.is_some() {
        return Err(HubError::new(ErrorCode::Conflict, "two-factor is already on; turn it off first"));
    }
    let mut raw = [0u8; 20];
    rand::thread_rng().fill_bytes(&mut raw);
    let secret = Secret::Raw(raw.to_vec()).to_encoded().to_string();
    tx.set_totp_pending(user, Some(&secret))?;
    Ok(Enrolment { otpauth_url: totp(&secret, account)?.get_url(), secret })
}

/// Finishes enrolment with a code from the pending secret; returns the recovery codes (shown once).
pub fn enable(tx: &mut dyn Tx, tenant: TenantId, user: UserId, code: &str) -> HubResult<Vec<String>> {
    let row = tx.totp(tenant, user)?.ok_or_else(|| HubError::not_found("user"))?;
    let pending = row.pending.ok_or_else(|| HubError::invalid("start two-factor set-up first"))?;
    let step = matching_step(&pending, code, now_secs())?
        .ok_or_else(|| HubError::invalid("that code does not match; check the time on your phone and try again"))?;
    tx.set_totp_secret(user, Some(&pending), step)?;
    new_recovery_codes(tx, user)
}

/// Ten new recovery codes (shown once); the old ones stop working.
pub fn new_recovery_codes(tx: &mut dyn Tx, user: UserId) -> HubResult<Vec<String>> {
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| recovery_code()).collect();
    let hashes: Vec<String> = codes.iter().map(|c| sha256_hex(&normalize(c))).collect();
    tx.replace_recovery_codes(user, &hashes)?;
    Ok(codes)
}

/// Off, with no recovery codes left (the user's own, after proving who they are, or the operator's).
pub fn reset(tx: &mut dyn Tx, user: UserId) -> HubResult<()> {
    tx.set_totp_pending(user, None)?;
    tx.set_totp_secret(user, None, 0)?;
    tx.replace_recovery_codes(user, &[])
}

pub fn is_enabled(tx: &mut dyn Tx, tenant: TenantId, user: UserId) -> HubResult<bool> {
    Ok(tx.totp(tenant, user)?.is_some_and(|r| r.secret.is_some()))
}

/// The tenant requires two-factor and the user has not turned it on (the session is held to enrolment).
pub fn must_enrol(tx: &mut dyn Tx, tenant: TenantId, user: UserId) -> HubResult<bool> {
    Ok(super::policy::of(tx, tenant)?.1 && !is_enabled(tx, tenant, user)?)
}

/// Checks a second factor: a TOTP code not used before, or an unused recovery code (then spent).
pub fn verify(tx: &mut dyn Tx, tenant: TenantId, user: UserId, code: &str) -> HubResult<()> {
    let row = tx.totp(tenant, user)?.ok_or_else(|| HubError::not_found("user"))?;
    let secret = row.secret.ok_or_else(|| HubError::invalid("two-factor is not on"))?;
    let wrong = || HubError::new(ErrorCode::Unauthorized, "wrong two-factor code");
    let code = code.trim();
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        let step = matching_step(&secret, code, now_secs())?.ok_or_else(wrong)?;
        if !tx.advance_totp_step(user, step)? {
            return Err(HubError::new(ErrorCode::Unauthorized, "that code was already used; wait for the next one"));
        }
        return Ok(());
    }
    if tx.use_recovery_code(user, &sha256_hex(&normalize(code)), now_ms())? {
        Ok(())
    } else {
        Err(wrong())
    }
}

pub fn recovery_codes_left(tx: &mut dyn Tx, user: UserId) -> HubResult<u32> {
    tx.recovery_codes_left(user)
}

/// `xxxxx-xxxxx` from an alphabet without look-alikes.
fn recovery_code() -> String {
    let s = random_token("", 10).to_ascii_lowercase().replace(['0', 'o', '1', 'l', 'i'], "7");
    format!("{}-{}", &s[..5], &s[5..])
}

/// How a typed recovery code is compared: case and separators do not matter.
fn normalize(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect()
}

fn now_secs() -> u64 {
    (now_ms() / 1000).max(0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_their_step_and_one_either_side_only() {
        let secret = Secret::Raw(b"12345678901234567890".to_vec()).to_encoded().to_string();
        let t = totp(&secret, "").unwrap();
        // RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits); the 6-digit code is its tail.
        assert_eq!(t.generate(59), "287082");
        let now = 1_000_000_000u64;
        let code = t.generate(now);
        let step = (now / 30) as i64;
        assert_eq!(matching_step(&secret, &code, now).unwrap(), Some(step));
        assert_eq!(matching_step(&secret, &code, now + 30).unwrap(), Some(step), "one step late");
        assert_eq!(matching_step(&secret, &code, now - 30).unwrap(), Some(step), "one step early");
        assert_eq!(matching_step(&secret, &code, now + 90).unwrap(), None, "three steps late");
    }

    #[test]
    fn recovery_codes_compare_without_case_or_separators() {
        let c = recovery_code();
        assert_eq!(c.len(), 11);
        assert_eq!(normalize(&c.to_uppercase().replace('-', " ")), normalize(&c));
    }
}
