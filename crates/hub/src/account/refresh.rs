//! Refresh tokens: one family per session, rotated at every use, with an idle limit (a token unused for
//! that long expires) and an absolute one (no session outlives it, however often it refreshes).
//!
//! A spent token may be presented exactly once more, within the grace window and while its successor is
//! unused (a client whose answer was lost, or two hubs that got the same refresh at once): it gets the
//! *same* successor again, so nothing the rightful client holds is dropped. The successor is derived from
//! the token it replaces (HMAC-SHA256 under the hub's secret), which is what lets the hub hand it out
//! twice while storing only hashes. Any other reuse is theft: the family is revoked.
use crate::error::{HubError, HubResult};
use crate::ids::TenantId;
use crate::secrets::random_token;
use crate::secrets::sha256_hex;
use crate::store::now_ms;
use crate::store::repo::NewRefresh;
use crate::store::Tx;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tally_protocol::UserId;

/// How long sessions and their tokens live, and how the successor of a token is made.
#[derive(Clone)]
pub struct Lifetimes {
    /// A refresh token not used within this long expires (the session is idle).
    pub idle_ms: i64,
    /// No session lives longer than this from its sign-in.
    pub max_age_ms: i64,
    /// A spent token may come back once within this long.
    pub grace_ms: i64,
    successor_key: Vec<u8>,
}

impl Lifetimes {
    pub fn new(secret: &[u8], idle_secs: u64, max_age_secs: u64, grace_secs: u64) -> Self {
        let ms = |s: u64| (s as i64).saturating_mul(1000);
        Lifetimes {
            idle_ms: ms(idle_secs),
            max_age_ms: ms(max_age_secs),
            grace_ms: ms(grace_secs),
            successor_key: secret.to_vec(),
        }
    }

    /// The successor of `token`: unpredictable without the hub's secret and the token itself.
    fn successor(&self, token: &str) -> HubResult<String> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.successor_key).map_err(HubError::internal)?;
        mac.update(b"tally refresh successor\0");
        mac.update(token.as_bytes());
        Ok(format!("rt_{}", hex::encode(mac.finalize().into_bytes())))
    }

    fn expiry(&self, now: i64, session_start: Option<i64>) -> i64 {
        let idle = now.saturating_add(self.idle_ms);
        session_start.map_or(idle, |s| idle.min(s.saturating_add(self.max_age_ms)))
    }
}

pub enum RefreshOutcome {
    /// The token was good: here is the successor to hand out (new, or the same one again).
    Rotated { user: UserId, tenant: TenantId, family: String, refresh: String },
    /// A spent token came back a second time, late, or after its successor was used: the family is revoked.
    Reused { family: String },
    /// Unknown, expired, revoked, past the session's absolute limit, or of a disabled account.
    Invalid,
}

/// The first refresh token of a new session (`family`).
pub fn open(tx: &mut dyn Tx, life: &Lifetimes, (tenant, user): (TenantId, UserId), family: &str) -> HubResult<String> {
    let token = random_token("rt_", 43);
    let at = now_ms();
    let row = NewRefresh {
        hash: &sha256_hex(&token),
        family,
        user,
        tenant,
        expires_at: life.expiry(at, Some(at)),
        parent: None,
        at,
    };
    tx.insert_refresh(&row)?;
    Ok(token)
}

/// Spends `token` and answers with its successor, or says why not.
pub fn rotate(tx: &mut dyn Tx, life: &Lifetimes, token: &str) -> HubResult<RefreshOutcome> {
    let (hash, now) = (sha256_hex(token), now_ms());
    let Some(row) = tx.refresh_row(&hash)? else { return Ok(RefreshOutcome::Invalid) };
    if tx.is_revoked(&row.family)? || row.expires_at < now {
        return Ok(RefreshOutcome::Invalid);
    }
    let started = tx.session_created_at(&row.family)?;
    let too_old = started.is_some_and(|s| now.saturating_sub(s) >= life.max_age_ms);
    if too_old || tx.user_active(row.user)? != Some(true) {
        tx.revoke_family(&row.family, now)?;
        return Ok(RefreshOutcome::Invalid);
    }
    let successor = life.successor(token)?;
    let (user, tenant, family) = (row.user, row.tenant, row.family);
    if !row.used && tx.mark_refresh_used(&hash, now)? {
        let next = NewRefresh {
            hash: &sha256_hex(&successor),
            family: &family,
            user,
            tenant,
            expires_at: life.expiry(now, started),
            parent: Some(&hash),
            at: now,
        };
        tx.insert_refresh(&next)?;
        return Ok(RefreshOutcome::Rotated { user, tenant, family, refresh: successor });
    }
    // Spent already (perhaps a moment ago by another hub): once, in the window, with its successor unused,
    // the same successor again; anything else is a replay.
    // (Spent by another hub between our read and our update: its time is read again.)
    let used_at = if row.used { row.used_at } else { tx.refresh_row(&hash)?.and_then(|r| r.used_at) };
    let in_grace = life.grace_ms > 0 && used_at.is_some_and(|t| now - t <= life.grace_ms);
    if in_grace && !tx.successor_used(&hash)? && tx.mark_refresh_regranted(&hash)? {
        return Ok(RefreshOutcome::Rotated { user, tenant, family, refresh: successor });
    }
    tx.revoke_family(&family, now)?;
    Ok(RefreshOutcome::Reused { family })
}

/// Revokes the family of `token`; returns the family when the token was known.
pub fn logout(tx: &mut dyn Tx, token: &str) -> HubResult<Option<String>> {
    let family = tx.refresh_family(&sha256_hex(token))?;
    if let Some(f) = &family {
        tx.revoke_family(f, now_ms())?;
    }
    Ok(family)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn successors_are_stable_per_token_and_differ_between_tokens_and_secrets() {
        let a = Lifetimes::new(b"one secret", 60, 120, 30);
        let b = Lifetimes::new(b"another secret", 60, 120, 30);
        let s = |l: &Lifetimes, t: &str| l.successor(t).unwrap();
        assert_eq!(s(&a, "rt_x"), s(&a, "rt_x"));
        assert_ne!(s(&a, "rt_x"), s(&a, "rt_y"));
        assert_ne!(s(&a, "rt_x"), s(&b, "rt_x"));
        assert_eq!(a.expiry(1_000, Some(0)), 61_000, "idle first");
        assert_eq!(a.expiry(100_000, Some(0)), 120_000, "then the session's absolute limit");
    }
}
