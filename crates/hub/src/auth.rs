//! Accounts, passwords (argon2), access tokens (JWT HS256) and rotating refresh tokens.
use crate::error::{HubError, HubResult};
use crate::store::now_ms;
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::distributions::Alphanumeric;
use rand::Rng;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use tally_protocol::{ErrorCode, PresenceStatus, UserSummary};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: i64,
    /// Tenant id.
    pub tid: i64,
    /// Session id (refresh-token family).
    pub sid: String,
    pub iat: i64,
    pub exp: i64,
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

    pub fn issue(&self, user: i64, tenant: i64, sid: &str) -> HubResult<String> {
        // `exp` has whole seconds: round up, so the token lives at least the `expires_in` it is issued with
        // (a client renews at ~80 % of that; rounding down would cut up to a second off).
        let now = now_ms();
        let claims = Claims {
            sub: user,
            tid: tenant,
            sid: sid.to_string(),
            iat: now / 1000,
            exp: (now + 999) / 1000 + self.access_ttl_secs as i64,
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

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

pub fn validate_username(u: &str) -> HubResult<()> {
    if u.len() < 2
        || u.len() > 32
        || !u.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.' || b == b'-')
    {
        return Err(HubError::invalid("username: 2-32 characters of a-z, 0-9, '_', '.', '-'"));
    }
    Ok(())
}

pub fn tenant_id(conn: &Connection, name: &str) -> HubResult<Option<i64>> {
    Ok(conn.prepare_cached("SELECT id FROM tenants WHERE name = ?1")?.query_row([name], |r| r.get(0)).optional()?)
}

pub fn ensure_tenant(conn: &Connection, name: &str) -> HubResult<i64> {
    conn.prepare_cached("INSERT OR IGNORE INTO tenants (name, created_at) VALUES (?1, ?2)")?
        .execute(params![name, now_ms()])?;
    tenant_id(conn, name)?.ok_or_else(|| HubError::internal("tenant vanished"))
}

/// Creates a user. `conflict` when the username is taken in that tenant.
pub fn create_user(
    conn: &Connection,
    tenant: i64,
    username: &str,
    display_name: &str,
    password_hash: &str,
    limits: (i64, i64),
) -> HubResult<UserSummary> {
    validate_username(username)?;
    if display_name.trim().chars().count() > 64 {
        return Err(HubError::invalid("display_name: at most 64 characters"));
    }
    let display = if display_name.trim().is_empty() { username.to_string() } else { display_name.trim().to_string() };
    let n = conn.prepare_cached("INSERT OR IGNORE INTO users (tenant_id, username, display_name, password_hash, limit_single, limit_daily, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?.execute(params![tenant, username, display, password_hash, limits.0, limits.1, now_ms()],
    )?;
    if n == 0 {
        return Err(HubError::new(ErrorCode::Conflict, "username already taken"));
    }
    Ok(UserSummary { id: conn.last_insert_rowid(), username: username.to_string(), display_name: display })
}

pub fn user_by_name(conn: &Connection, tenant: i64, username: &str) -> HubResult<Option<(UserSummary, String, bool)>> {
    Ok(conn
        .query_row(
            "SELECT id, username, display_name, password_hash, active FROM users WHERE tenant_id = ?1 AND username = ?2",
            params![tenant, username],
            |r| Ok((UserSummary { id: r.get(0)?, username: r.get(1)?, display_name: r.get(2)? }, r.get(3)?, r.get(4)?)),
        )
        .optional()?)
}

pub fn user_summary(conn: &Connection, tenant: i64, id: i64) -> HubResult<Option<UserSummary>> {
    Ok(conn
        .prepare_cached("SELECT id, username, display_name FROM users WHERE tenant_id = ?1 AND id = ?2")?
        .query_row(params![tenant, id], |r| {
            Ok(UserSummary { id: r.get(0)?, username: r.get(1)?, display_name: r.get(2)? })
        })
        .optional()?)
}

/// The presence status a user chose and when they were last seen (kept across restarts).
pub fn presence_of(conn: &Connection, tenant: i64, user: i64) -> HubResult<(PresenceStatus, Option<i64>)> {
    let row: Option<(String, Option<i64>)> = conn
        .prepare_cached("SELECT presence, last_seen FROM users WHERE tenant_id = ?1 AND id = ?2")?
        .query_row(params![tenant, user], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((status, last_seen)) = row else { return Ok((PresenceStatus::Online, None)) };
    let status = serde_json::from_value(serde_json::Value::String(status.clone()))
        .map_err(|_| HubError::internal(format!("unreadable presence {status:?}")))?;
    Ok((status, last_seen))
}

pub fn set_presence(conn: &Connection, tenant: i64, user: i64, status: PresenceStatus) -> HubResult<()> {
    let s = serde_json::to_value(status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    conn.prepare_cached("UPDATE users SET presence = ?3 WHERE tenant_id = ?1 AND id = ?2")?
        .execute(params![tenant, user, s])?;
    Ok(())
}

pub fn set_last_seen(conn: &Connection, tenant: i64, user: i64, at: i64) -> HubResult<()> {
    conn.prepare_cached(
        "UPDATE users SET last_seen = MAX(COALESCE(last_seen, 0), ?3) WHERE tenant_id = ?1 AND id = ?2",
    )?
    .execute(params![tenant, user, at])?;
    Ok(())
}

/// A user's own transfer limits: (single, daily), minor units.
pub fn transfer_limits(conn: &Connection, tenant: i64, user: i64) -> HubResult<(i64, i64)> {
    Ok(conn
        .prepare_cached("SELECT limit_single, limit_daily FROM users WHERE tenant_id = ?1 AND id = ?2")?
        .query_row(params![tenant, user], |r| Ok((r.get(0)?, r.get(1)?)))?)
}

/// Whether the user exists and is not disabled.
pub fn is_active(conn: &Connection, tenant: i64, user: i64) -> HubResult<bool> {
    let active: Option<bool> = conn
        .prepare_cached("SELECT active FROM users WHERE tenant_id = ?1 AND id = ?2")?
        .query_row(params![tenant, user], |r| r.get(0))
        .optional()?;
    Ok(active.unwrap_or(false))
}

/// People `user` can pay or message: the active users of the tenant, by display name (at most 1,000).
pub fn contacts(conn: &Connection, tenant: i64, user: i64) -> HubResult<Vec<UserSummary>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, username, display_name FROM users WHERE tenant_id = ?1 AND id != ?2 AND active = 1
         ORDER BY display_name LIMIT 1000",
    )?;
    let rows = stmt.query_map(params![tenant, user], |r| {
        Ok(UserSummary { id: r.get(0)?, username: r.get(1)?, display_name: r.get(2)? })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Stores a new refresh token of `family` and returns it (only its hash is kept).
/// Stores a new refresh token of `family` (replacing `parent`, a token hash, when rotating) and returns it.
pub fn new_refresh(
    conn: &Connection,
    user: i64,
    tenant: i64,
    family: &str,
    parent: Option<&str>,
    ttl_secs: u64,
) -> HubResult<String> {
    let token = random_token("rt_", 43);
    conn.prepare_cached("INSERT INTO refresh_tokens (hash, family, user_id, tenant_id, expires_at, created_at, parent) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?.execute(params![sha256_hex(&token), family, user, tenant, now_ms() + ttl_secs as i64 * 1000, now_ms(), parent],
    )?;
    Ok(token)
}

pub enum RefreshOutcome {
    /// Rotated: the old token is spent; here is who it belongs to and its hash (the successor's parent).
    Rotated {
        user: i64,
        tenant: i64,
        family: String,
        parent: String,
    },
    /// An already-used token came back: the family is revoked (theft).
    Reused {
        family: String,
    },
    Invalid,
}

/// Spends a refresh token. One that was just rotated may be presented again for `grace_ms` provided its
/// successor was never used (RFC 9700 §4.14.2): a refresh whose response was lost does not sign the user
/// out. Any other reuse revokes the whole family.
pub fn rotate_refresh(conn: &Connection, token: &str, grace_ms: i64) -> HubResult<RefreshOutcome> {
    let hash = sha256_hex(token);
    let row: Option<(String, i64, i64, i64, bool, Option<i64>)> = conn
        .prepare_cached(
            "SELECT family, user_id, tenant_id, expires_at, used, used_at FROM refresh_tokens WHERE hash = ?1",
        )?
        .query_row([&hash], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
        .optional()?;
    let Some((family, user, tenant, expires_at, used, used_at)) = row else { return Ok(RefreshOutcome::Invalid) };
    if is_revoked(conn, &family)? || expires_at < now_ms() {
        return Ok(RefreshOutcome::Invalid);
    }
    if used {
        // Within the grace window and with a successor nobody used: the same client asking again (its
        // answer was lost). Drop that successor and issue a new one. Anything else is replay: revoke.
        let in_grace = grace_ms > 0 && used_at.is_some_and(|t| now_ms() - t <= grace_ms);
        let successor_used: bool = conn
            .prepare_cached("SELECT COALESCE(MAX(used), 0) FROM refresh_tokens WHERE parent = ?1")?
            .query_row([&hash], |r| r.get(0))?;
        if !in_grace || successor_used {
            revoke_family(conn, &family)?;
            return Ok(RefreshOutcome::Reused { family });
        }
        conn.prepare_cached("DELETE FROM refresh_tokens WHERE parent = ?1 AND used = 0")?.execute([&hash])?;
        return Ok(RefreshOutcome::Rotated { user, tenant, family, parent: hash });
    }
    conn.prepare_cached("UPDATE refresh_tokens SET used = 1, used_at = ?2 WHERE hash = ?1")?
        .execute(params![hash, now_ms()])?;
    Ok(RefreshOutcome::Rotated { user, tenant, family, parent: hash })
}

/// Revokes the family of `token`; returns the family when the token was known.
pub fn logout(conn: &Connection, token: &str) -> HubResult<Option<String>> {
    let family: Option<String> = conn
        .query_row("SELECT family FROM refresh_tokens WHERE hash = ?1", [sha256_hex(token)], |r| r.get(0))
        .optional()?;
    if let Some(f) = &family {
        revoke_family(conn, f)?;
    }
    Ok(family)
}

pub fn revoke_family(conn: &Connection, family: &str) -> HubResult<()> {
    conn.prepare_cached("INSERT OR IGNORE INTO revoked_sessions (family, revoked_at) VALUES (?1, ?2)")?
        .execute(params![family, now_ms()])?;
    conn.prepare_cached("DELETE FROM refresh_tokens WHERE family = ?1")?.execute([family])?;
    Ok(())
}

pub fn is_revoked(conn: &Connection, family: &str) -> HubResult<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM revoked_sessions WHERE family = ?1")?
        .query_row([family], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Failed-login throttling by key (username and client address), in memory.
pub struct LoginThrottle {
    max_failures: u32,
    window_ms: i64,
    failures: Mutex<HashMap<String, Vec<i64>>>,
}

impl LoginThrottle {
    pub fn new(max_failures: u32) -> Self {
        LoginThrottle { max_failures, window_ms: 5 * 60 * 1000, failures: Mutex::new(HashMap::new()) }
    }
    fn recent(&self, map: &mut HashMap<String, Vec<i64>>, key: &str) -> usize {
        let cutoff = now_ms() - self.window_ms;
        let v = map.entry(key.to_string()).or_default();
        v.retain(|t| *t > cutoff);
        v.len()
    }
    pub fn is_blocked(&self, keys: &[&str]) -> bool {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        keys.iter().any(|k| self.recent(&mut map, k) >= self.max_failures as usize)
    }
    pub fn fail(&self, keys: &[&str]) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 100_000 {
            map.clear(); // bounded memory under a credential-stuffing flood
        }
        for k in keys {
            map.entry(k.to_string()).or_default().push(now_ms());
        }
    }
    pub fn succeed(&self, key: &str) {
        self.failures.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }
}
