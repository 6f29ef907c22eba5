//! Sign-up, sign-in (with the second factor), token refresh and sign-out.
use super::*;
use crate::account::refresh::{self, RefreshOutcome};
use crate::account::{password, policy, sessions, two_factor};
use crate::throttle::address_key;

use tally_protocol::http::{RefreshRequest, RegistrationInfo, SignInRequest, SignUpRequest, TokenResponse};
use tally_protocol::NotificationText;

/// How tokens are issued: for a new session (a device signing in), or after a rotation (`refresh`, the
/// successor the rotation stored).
enum Issue {
    New { device: sessions::Device, warn: bool },
    Rotated { refresh: String },
}

async fn tokens(
    hub: &Arc<Hub>,
    (user, tenant): (UserSummary, TenantId),
    family: String,
    issue: Issue,
    ip: String,
) -> ApiResult<TokenResponse> {
    let (uid, fam, life) = (user.id, family.clone(), hub.lifetimes.clone());
    let (refresh, enrol) = hub
        .store
        .write(move |c, e| {
            let refresh = match &issue {
                Issue::New { device, warn } => {
                    sessions::open(c, e, (tenant, uid), &fam, device, &ip, *warn)?;
                    let detail = format!("signed in on a device named {:?} ({})", device.name, device.platform);
                    audit::by_user(c, (tenant, uid), Action::SignIn, &detail, &ip)?;
                    refresh::open(c, &life, (tenant, uid), &fam)?
                }
                Issue::Rotated { refresh } => {
                    sessions::touch(c, &fam, &ip)?;
                    refresh.clone()
                }
            };
            Ok((refresh, two_factor::must_enrol(c, tenant, uid)?))
        })
        .await?;
    let access = hub.keys.issue(user.id, tenant, &family, enrol)?;
    Ok(TokenResponse {
        access_token: access,
        refresh_token: refresh,
        expires_in: hub.keys.access_ttl_secs,
        token_type: "Bearer".into(),
        user,
        must_enrol_two_factor: enrol,
        two_factor: None,
    })
}

/// Sign-up, as the tenant's policy allows, with a password that passes the rules. The attempt is counted
/// per address and per username before anything is looked at, and everything that costs memory or CPU
/// (the password rules, the hash) comes after the tenant's policy says this sign-up may happen. Guesses
/// (an unknown or closed tenant, a wrong invite code, a taken username) keep their count; a mistake in
/// what was typed (a weak password, a malformed name) gives it back.
pub(super) async fn register(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    ApiJson(c): ApiJson<SignUpRequest>,
) -> ApiResult<Response> {
    let ip = client_addr(&s, &peer, &headers);
    let username = crate::directory::canonical_username(&c.username);
    let tenant_name = c.tenant.as_deref().unwrap_or("default");
    let keys = [format!("reg-{}", address_key(ip)), format!("reg-u:{tenant_name}:{username}")];
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    take_attempt(&s, &keys).await?;
    let device = c.device.clone();
    let (user, tenant) = match create_account(&s, c, username).await {
        Ok(u) => u,
        Err(e) => {
            if matches!(
                e.code,
                ErrorCode::Invalid | ErrorCode::RateLimited | ErrorCode::Internal | ErrorCode::Unavailable
            ) {
                s.hub.throttle.release(&keys).await;
            }
            return Err(e);
        }
    };
    s.hub.throttle.release(&keys).await;
    let issue = Issue::New { device, warn: false };
    let mut body =
        tokens(&s.hub, (user, tenant), crate::secrets::random_token("f_", 16), issue, ip.to_string()).await?;
    body.two_factor = Some(false);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// The new user and its tenant: policy first (a closed tenant does not say which names are taken), then
/// the name and password rules, then whether the name is free, and only then the hash.
async fn create_account(s: &AppState, c: SignUpRequest, username: String) -> ApiResult<(UserSummary, TenantId)> {
    let tenant = tenant_or_404(s, c.tenant).await?;
    let invite = c.invite.clone();
    s.hub.store.read(move |conn| policy::gate(conn, tenant, invite.as_deref())).await?;
    crate::directory::validate_username(&username)?;
    password::check_new(&c.password, &username, &c.display_name)?;
    let name = username.clone();
    if s.hub.store.read(move |conn| crate::directory::user_by_name(conn, tenant, &name)).await?.is_some() {
        return Err(HubError::new(ErrorCode::Conflict, "username already taken").into());
    }
    let hash = hash_password(s, c.password).await?;
    let limits = (s.hub.cfg.limit_single, s.hub.cfg.limit_daily);
    let (display, invite) = (c.display_name, c.invite);
    let user = s
        .hub
        .store
        .write(move |conn, _| {
            policy::gate(conn, tenant, invite.as_deref())?;
            let u = crate::directory::create_user(conn, tenant, &username, &display, &hash, limits)?;
            policy::admit(conn, tenant, u.id, invite.as_deref())?;
            Ok(u)
        })
        .await?;
    Ok((user, tenant))
}

/// Sign-in: the password, then (when two-factor is on) the code. Each attempt is counted against the
/// username and the address before either is checked, so a burst that arrives together gets exactly the
/// allowed number of guesses; the right password (and code) gives the attempt back. A burst of wrong
/// codes warns the user (their password is known).
pub(super) async fn login(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    ApiJson(c): ApiJson<SignInRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let tenant_name = c.tenant.clone().unwrap_or_else(|| "default".into());
    let username = crate::directory::canonical_username(&c.username);
    let user_key = format!("u:{tenant_name}:{username}");
    let ip = client_addr(&s, &peer, &headers);
    let ip_key = address_key(ip);
    let keys = [user_key.as_str(), ip_key.as_str()];
    take_attempt(&s, &keys).await?;
    let (tenant, user) = match check_password(&s, tenant_name, username, c.password).await {
        Ok(Checked::Right(tenant, user)) => (tenant, user),
        Ok(wrong) => {
            metrics::counter!(crate::series::LOGIN_FAILURES).increment(1);
            if let Checked::WrongPassword(tenant, uid) = wrong {
                wrong_password(&s, (tenant, uid), &ip.to_string()).await?;
            }
            return Err(ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, "wrong username or password"));
        }
        Err(e) => {
            s.hub.throttle.release(&keys).await;
            return Err(e);
        }
    };
    let uid = user.id;
    let enabled = s.hub.store.read(move |t| two_factor::is_enabled(t, tenant, uid)).await?;
    if enabled {
        second_factor(&s, (tenant, uid), c.totp, &keys, &ip.to_string()).await?;
    }
    s.hub.throttle.clear(&user_key).await;
    s.hub.throttle.clear(&format!("pw:{}:{}", tenant.0, user.id)).await;
    s.hub.throttle.release(&[&ip_key]).await;
    let device = Issue::New { device: c.device, warn: true };
    let mut body =
        tokens(&s.hub, (user, tenant), crate::secrets::random_token("f_", 16), device, ip.to_string()).await?;
    body.two_factor = Some(enabled);
    Ok(Json(body))
}

/// What a password check found.
enum Checked {
    Right(TenantId, UserSummary),
    /// An existing user's name with a wrong password (or a disabled account).
    WrongPassword(TenantId, tally_protocol::UserId),
    NoSuchUser,
}

/// Wrong passwords in a row for one account (within the throttle's window) before the user is warned and
/// the burst is written to the audit trail (once per burst; with the default --login-max-failures, the
/// attempt that locks the account's sign-ins for a while).
const PASSWORD_BURST: u32 = 5;

/// Counts a wrong password against the account; at the burst, tells the user and the audit trail.
async fn wrong_password(s: &AppState, (tenant, uid): (TenantId, tally_protocol::UserId), ip: &str) -> ApiResult<()> {
    let n = s.hub.throttle.fail(&[&format!("pw:{}:{uid}", tenant.0)]).await;
    if n != PASSWORD_BURST {
        return Ok(());
    }
    let ip = ip.to_string();
    s.hub
        .store
        .write(move |t, em| {
            let body = format!(
                "Someone tried to sign in to your account with a wrong password {n} times in a row, from {ip}. \
                 If this was not you, nothing got in; a long password you use nowhere else keeps it that way."
            );
            let text = NotificationText::WrongPasswords { count: u64::from(n), ip: ip.clone() };
            sessions::security(t, em, (tenant, uid), ("Failed sign-in attempts", &body), text)?;
            let detail = format!("{n} wrong passwords in a row");
            audit::by_user(t, (tenant, uid), Action::SignInFailures, &detail, &ip)
        })
        .await?;
    Ok(())
}

/// Whether the password is right for an active account. Unknown names cost the same hashing. The place in
/// the password gate is taken first: when it is full, nothing is read or hashed.
async fn check_password(s: &AppState, tenant_name: String, username: String, password: String) -> ApiResult<Checked> {
    let ticket = s.hub.password_work.ticket()?;
    let found = s
        .hub
        .store
        .read(move |conn| {
            let Some(t) = crate::auth::tenants::tenant_id(conn, &tenant_name)? else { return Ok(None) };
            Ok(crate::directory::user_by_name(conn, t, &username)?.map(|u| (t, u)))
        })
        .await?;
    Ok(match found {
        Some((tenant, (user, hash, active))) => {
            let good = ticket.verify(password, hash).await?;
            if good && active {
                Checked::Right(tenant, user)
            } else {
                Checked::WrongPassword(tenant, user.id)
            }
        }
        None => {
            // Same work as a real check, so timing does not reveal which usernames exist.
            let _ = ticket.hash(password).await?;
            Checked::NoSuchUser
        }
    })
}

/// Wrong second factors in a row (within the throttle's window) before the user is warned.
const TWO_FACTOR_BURST: u32 = 3;

/// The second factor of a sign-in whose password was right. No code yet is not a guess (the attempt is
/// given back); a wrong code keeps it.
async fn second_factor(
    s: &AppState,
    (tenant, uid): (TenantId, tally_protocol::UserId),
    code: Option<String>,
    keys: &[&str],
    ip: &str,
) -> ApiResult<()> {
    let Some(code) = code.filter(|c| !c.trim().is_empty()) else {
        s.hub.throttle.release(keys).await;
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::TwoFactorRequired,
            "enter the code from your authenticator app (or a recovery code)",
        ));
    };
    let checked = s.hub.store.write(move |t, _| two_factor::verify(t, tenant, uid, &code)).await;
    let Err(e) = checked else { return Ok(()) };
    let burst_key = format!("2fa:{}:{uid}", tenant.0);
    let n = s.hub.throttle.fail(&[&burst_key]).await;
    metrics::counter!(crate::series::LOGIN_FAILURES).increment(1);
    if n == TWO_FACTOR_BURST {
        let body = format!(
            "Someone signed in with your password from {ip} but gave a wrong two-factor code {n} times. \
             Change your password now."
        );
        let ip = ip.to_string();
        s.hub
            .store
            .write(move |t, em| {
                let text = NotificationText::WrongCodes { count: u64::from(n), ip: ip.clone() };
                sessions::security(t, em, (tenant, uid), ("Failed sign-in attempts", &body), text)?;
                let detail = format!("the right password, then {n} wrong two-factor codes in a row");
                audit::by_user(t, (tenant, uid), Action::SignInFailures, &detail, &ip)
            })
            .await?;
    }
    Err(e.into())
}

pub(super) async fn refresh(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<RefreshRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let life = s.hub.lifetimes.clone();
    let outcome = s.hub.store.write(move |c, _| refresh::rotate(c, &life, &b.refresh_token)).await?;
    match outcome {
        RefreshOutcome::Rotated { user, tenant, family, refresh } => {
            let u = s
                .hub
                .store
                .read(move |c| crate::directory::user_summary(c, tenant, user))
                .await?
                .ok_or_else(|| HubError::new(ErrorCode::Unauthorized, "unknown user"))?;
            let ip = client_addr(&s, &peer, &headers).to_string();
            Ok(Json(tokens(&s.hub, (u, tenant), family, Issue::Rotated { refresh }, ip).await?))
        }
        RefreshOutcome::Reused { family } => {
            tracing::warn!("refresh token reuse detected; session revoked");
            s.hub.revoke_session(&family);
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthorized,
                "refresh token already used; session revoked",
            ))
        }
        RefreshOutcome::Invalid => {
            Err(ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, "invalid or expired refresh token"))
        }
    }
}

pub(super) async fn logout(State(s): State<AppState>, ApiJson(b): ApiJson<RefreshRequest>) -> ApiResult<StatusCode> {
    if let Some(family) = s.hub.store.write(move |c, _| refresh::logout(c, &b.refresh_token)).await? {
        s.hub.revoke_session(&family);
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub(super) struct PolicyQuery {
    #[serde(default)]
    tenant: Option<String>,
}

/// What the sign-up screen needs to know: whether sign-up is open, by invite, or closed.
pub(super) async fn registration(
    State(s): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<PolicyQuery>,
) -> ApiResult<Json<RegistrationInfo>> {
    let tenant = tenant_or_404(&s, q.tenant).await?;
    let (registration, require) = s.hub.store.read(move |t| policy::of(t, tenant)).await?;
    Ok(Json(RegistrationInfo {
        registration,
        require_two_factor: require,
        password_min_chars: password::MIN_CHARS as u32,
    }))
}
