//! Security changes need the user, not just a token: enrolling two-factor, turning it off, new recovery
//! codes and a new password each ask for the current password, and, where two-factor is on, a current
//! code. The proof is throttled like sign-in (per user and per address, counted before it is checked) and
//! each change raises a `security` notification on every device.
use super::*;
use crate::account::{sessions, two_factor};
use crate::throttle::address_key;

pub(super) use tally_protocol::http::Proof;

/// Checks the proof for `(tenant, user)` asking from `ip`; `Ok` only when the password (and, with
/// two-factor on, the code) is right.
pub(super) async fn prove(
    s: &AppState,
    (tenant, user): (TenantId, tally_protocol::UserId),
    ip: std::net::IpAddr,
    proof: Proof,
) -> ApiResult<()> {
    let user_key = format!("step:{}:{user}", tenant.0);
    let ip_key = format!("step-{}", address_key(ip));
    let keys = [user_key.as_str(), ip_key.as_str()];
    take_attempt(s, &keys).await?;
    match check(s, (tenant, user), proof).await {
        Ok(()) => {
            s.hub.throttle.clear(&user_key).await;
            s.hub.throttle.release(&[&ip_key]).await;
            Ok(())
        }
        Err(e) => {
            // Only wrong passwords and codes are guesses.
            if e.code != ErrorCode::Unauthorized {
                s.hub.throttle.release(&keys).await;
            }
            Err(e)
        }
    }
}

async fn check(s: &AppState, (tenant, user): (TenantId, tally_protocol::UserId), proof: Proof) -> ApiResult<()> {
    if proof.password.is_empty() {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::Invalid, "enter your current password"));
    }
    let (hash, enabled) = s
        .hub
        .store
        .read(move |c| {
            Ok((crate::auth::passwords::password_hash(c, tenant, user)?, two_factor::is_enabled(c, tenant, user)?))
        })
        .await?;
    let hash = hash.ok_or_else(|| HubError::not_found("user"))?;
    if !password_matches(s, proof.password, hash).await? {
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, "the current password is wrong"));
    }
    if !enabled {
        return Ok(());
    }
    let Some(code) = proof.code.filter(|c| !c.trim().is_empty()) else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::TwoFactorRequired,
            "enter a code from your authenticator app (or a recovery code)",
        ));
    };
    s.hub.store.write(move |t, _| two_factor::verify(t, tenant, user, &code)).await?;
    Ok(())
}

/// Tells every device of the user about a security change.
pub(super) async fn tell(
    s: &AppState,
    (tenant, user): (TenantId, tally_protocol::UserId),
    (title, body): (&'static str, &'static str),
    text: tally_protocol::NotificationText,
) -> ApiResult<()> {
    s.hub.store.write(move |t, e| sessions::security(t, e, (tenant, user), (title, body), text.clone())).await?;
    Ok(())
}
