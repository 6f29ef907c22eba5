//! Accounts, passwords (argon2), access tokens (JWT HS256) and rotating refresh tokens.
use crate::error::{HubError, HubResult};
use crate::ids::TenantId;
use crate::store::now_ms;
use crate::store::repo::NewUser;
use crate::store::Tx;
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::distributions::Alphanumeric;
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tally_protocol::{ErrorCode, PresenceStatus, UserId, UserSummary};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: i64,
    /// Tenant id.
    pub tid: TenantId,
    /// Session id (refresh-token family).
    pub sid: String,
    pub iat: i64,
    pub exp: i64,
    /// The tenant requires two-factor and this user has not turned it on: the session may read and may
    /// enrol, but moves no money and writes to no one until it has (the claim is settled at every issue,
    /// so it clears at the first refresh after enrolment and appears at the first after a reset).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub enrol: bool,
}

pub struct Keys {
    enc: EncodingKey,
    dec: DecodingKey,
    pub access_ttl_secs: u64,
    pub refresh_ttl_secs: u64,
}

impl Keys {
    pub fn new(secret: &[u8], access_ttl_secs: u64, refresh_ttl_secs: u64) -> Self {
        Keys {
            enc: EncodingKey::from_secret(secret),
            dec: DecodingKey::from_secret(secret),
            access_ttl_secs,
            refresh_ttl_secs,
        }
    }

    pub fn issue(&self, user: UserId, tenant: TenantId, sid: &str, enrol: bool) -> HubResult<String> {
        // `exp` has whole seconds: round up, so the token lives at least the `expires_in` it is issued with
        // (a client renews at ~80 % of that; rounding down would cut up to a second off).
        let now = now_ms();
        let claims = Claims {
            sub: user,
            tid: tenant,
            sid: sid.to_string(),
            iat: now / 1000,
            exp: (now + 999) / 1000 + self.access_ttl_secs as i64,
            enrol,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.enc).map_err(HubError::internal)
    }

    /// Verifies signature (HS256 only: `alg: none` and every other algorithm is refused) and expiry.
    pub fn verify(&self, token: &str) -> Result<Claims, ErrorCode> {
        let mut v = Validation::new(Algorithm::HS256);
        v.leeway = 0;
        v.set_required_spec_claims(&["exp"]);
        match decode::<Claims>(token, &self.dec, &v) {
            Ok(d) => Ok(d.claims),
            Err(e) => match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => Err(ErrorCode::TokenExpired),
                _ => Err(ErrorCode::Unauthorized),
            },
        }
    }
}

pub fn hash_password(password: &str) -> HubResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(HubError::internal)
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok()).unwrap_or(false)
}

pub fn random_token(prefix: &str, len: usize) -> String {
    let s: String = rand::thread_rng().sample_iter(&Alphanumeric).take(len).map(char::from).collect();
    format!("{prefix}{s}")
}

pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

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

pub fn tenant_id(tx: &mut dyn Tx, name: &str) -> HubResult<Option<TenantId>> {
    tx.tenant_id(name)
}

pub fn ensure_tenant(tx: &mut dyn Tx, name: &str) -> HubResult<TenantId> {
    tx.insert_tenant(name, now_ms())?;
    tx.tenant_id(name)?.ok_or_else(|| HubError::internal("tenant vanished"))
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

/// A user's own transfer limits: (single, daily), minor units.
pub fn transfer_limits(tx: &mut dyn Tx, tenant: TenantId, user: UserId) -> HubResult<(i64, i64)> {
    tx.transfer_limits(tenant, user)?.ok_or_else(|| HubError::not_found("user"))
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

pub fn revoke_family(tx: &mut dyn Tx, family: &str) -> HubResult<()> {
    tx.revoke_family(family, now_ms())
}

pub fn is_revoked(tx: &mut dyn Tx, family: &str) -> HubResult<bool> {
    tx.is_revoked(family)
}

pub fn password_hash(tx: &mut dyn Tx, tenant: TenantId, user: UserId) -> HubResult<Option<String>> {
    tx.password_hash(tenant, user)
}

pub fn set_password_hash(tx: &mut dyn Tx, tenant: TenantId, user: UserId, hash: &str) -> HubResult<()> {
    tx.set_password_hash(tenant, user, hash)
}
