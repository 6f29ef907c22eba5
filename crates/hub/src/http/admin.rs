//! The operator's endpoints (admin token): tenants, money in and out, broadcasts, bulk set-up for
//! benchmarks, invariants.
use super::operator_auth::Operator;
use super::*;
use crate::account::{password, policy, sessions, two_factor};
use tally_protocol::http::{
    AccessToken, AccessTokens, ActiveChanged, ActiveRequest, BroadcastRequest, DepositsMade, DepositsRequest, Done,
    InvariantsReport, InviteCodes, InvitesRequest, MoneyMoved, MoneyRequest, PasswordReset, PublishCount,
    PublishRequest, RoomCreated, RoomRequest, SignedOut, TenantInfo, TenantRequest, TokensRequest, UserRef,
    UsersCreated, UsersRequest,
};
use tally_protocol::NotificationText;

/// Creates a tenant (or finds it) and sets what of its policy the body names.
pub(super) async fn tenant(
    State(s): State<AppState>,
    op: Operator,
    ApiJson(b): ApiJson<TenantRequest>,
) -> ApiResult<Json<TenantInfo>> {
    crate::directory::validate_username(&b.name)?;
    let (id, registration, required) = s
        .hub
        .store
        .write(move |c, _| {
            let id = crate::auth::tenants::ensure_tenant(c, &b.name)?;
            op.check_tenant(id)?;
            let (reg, req) = policy::of(c, id)?;
            let (reg, req) = (b.registration.unwrap_or(reg), b.require_two_factor.unwrap_or(req));
            policy::set(c, id, reg, req)?;
            let detail = format!("registration {}, two-factor required: {req}", reg.as_str());
            audit::by_operator(
                c,
                &op.label(),
                Some(id),
                Action::TenantPolicySet,
                &format!("tenant:{}", b.name),
                &detail,
                &op.ip,
            )?;
            Ok((id, reg, req))
        })
        .await?;
    Ok(Json(TenantInfo { id: id.0, registration, require_two_factor: required }))
}

/// Sets a tenant's own attachment limits (at most 1 GiB a file).
pub(super) async fn attachment_limits(
    State(s): State<AppState>,
    op: Operator,
    ApiJson(b): ApiJson<tally_protocol::http::AttachmentLimitsRequest>,
) -> ApiResult<Json<tally_protocol::http::AttachmentLimits>> {
    if b.max_file_bytes == 0 || b.max_file_bytes > crate::attachments::MAX_FILE_LIMIT {
        return Err(HubError::invalid("max_file_bytes must be 1 byte to 1 GiB").into());
    }
    let tenant = op.tenant(&s, Some(b.tenant.clone())).await?;
    let used = s
        .hub
        .store
        .write(move |c, _| {
            c.set_attachment_limits(tenant, b.max_file_bytes, b.quota_bytes)?;
            let detail = format!("files up to {} bytes, {} bytes in all", b.max_file_bytes, b.quota_bytes);
            let subject = format!("tenant:{}", b.tenant);
            audit::by_operator(c, &op.label(), Some(tenant), Action::AttachmentLimitsSet, &subject, &detail, &op.ip)?;
            c.blob_usage(tenant)
        })
        .await?;
    Ok(Json(tally_protocol::http::AttachmentLimits {
        max_file_bytes: b.max_file_bytes,
        quota_bytes: b.quota_bytes,
        used_bytes: used,
    }))
}

/// Single-use invite codes for a tenant whose registration is `invite`. Shown once; only hashes are kept.
pub(super) async fn invites(
    State(s): State<AppState>,
    op: Operator,
    ApiJson(b): ApiJson<InvitesRequest>,
) -> ApiResult<Json<InviteCodes>> {
    let tenant = op.tenant(&s, b.tenant.clone()).await?;
    let codes = s
        .hub
        .store
        .write(move |c, _| {
            let codes = policy::create_invites(c, tenant, b.count, b.ttl_secs)?;
            let detail = format!("{} invite codes, valid {} s", b.count, b.ttl_secs);
            audit::by_operator(c, &op.label(), Some(tenant), Action::InvitesIssued, "invites", &detail, &op.ip)?;
            Ok(codes)
        })
        .await?;
    Ok(Json(InviteCodes { codes }))
}

/// "Forgot password", done by the operator: sets a new password (the same rules as the user's own) and
/// signs every device of the user out.
pub(super) async fn reset_password(
    State(s): State<AppState>,
    op: Operator,
    ApiJson(b): ApiJson<PasswordReset>,
) -> ApiResult<Json<SignedOut>> {
    let tenant = op.tenant(&s, b.tenant.clone()).await?;
    let name = b.username.clone();
    let who = s.hub.store.read(move |c| crate::directory::user_by_name(c, tenant, &name)).await?;
    let (u, _, _) = who.ok_or_else(|| HubError::not_found("user"))?;
    password::check_new(&b.password, &u.username, &u.display_name)?;
    let hash = hash_password(&s, b.password).await?;
    let gone = s
        .hub
        .store
        .write(move |c, e| {
            crate::auth::passwords::set_password_hash(c, tenant, u.id, &hash)?;
            let gone = sessions::revoke_others(c, tenant, u.id, "")?;
            let detail = format!("set a new password; {} devices signed out", gone.len());
            let subject = format!("user:{}", u.id);
            audit::by_operator(c, &op.label(), Some(tenant), Action::PasswordReset, &subject, &detail, &op.ip)?;
            let body = "The operator of this hub set a new password for your account and signed every device out.";
            let told = ("Your password was reset", body);
            sessions::security(c, e, (tenant, u.id), told, NotificationText::PasswordReset)?;
            Ok(gone)
        })
        .await?;
    for f in &gone {
        s.hub.revoke_session(f);
    }
    Ok(Json(SignedOut { signed_out_devices: count(gone.len()) }))
}

/// Disables an account (or enables it again). A disabled account cannot sign in, refresh, say `hello` or
/// call the account endpoints; every session it has ends at once (4010 on every hub) and the user is told.
pub(super) async fn set_active(
    State(s): State<AppState>,
    op: Operator,
    ApiJson(b): ApiJson<ActiveRequest>,
) -> ApiResult<Json<ActiveChanged>> {
    let tenant = op.tenant(&s, b.tenant.clone()).await?;
    let (name, active) = (crate::directory::canonical_username(&b.username), b.active);
    let (uid, gone) = s
        .hub
        .store
        .write(move |c, e| {
            let (u, _, _) =
                crate::directory::user_by_name(c, tenant, &name)?.ok_or_else(|| HubError::not_found("user"))?;
            crate::directory::set_active(c, tenant, u.id, active)?;
            let subject = format!("user:{}", u.id);
            if active {
                audit::by_operator(
                    c,
                    &op.label(),
                    Some(tenant),
                    Action::AccountEnabled,
                    &subject,
                    "enabled the account",
                    &op.ip,
                )?;
                let body = "The operator of this hub enabled your account again: you can sign in.";
                let told = ("Your account was enabled", body);
                sessions::security(c, e, (tenant, u.id), told, NotificationText::AccountEnabled)?;
                return Ok((u.id, vec![]));
            }
            let gone = sessions::revoke_others(c, tenant, u.id, "")?;
            let detail = format!("disabled the account; {} devices signed out", gone.len());
            audit::by_operator(c, &op.label(), Some(tenant), Action::AccountDisabled, &subject, &detail, &op.ip)?;
            let body = "The operator of this hub disabled your account and signed every device out.";
            let told = ("Your account was disabled", body);
            sessions::security(c, e, (tenant, u.id), told, NotificationText::AccountDisabled)?;
            Ok((u.id, gone))
        })
        .await?;
    if !active {
        s.hub.end_user(tenant, uid, &gone);
    }
    Ok(Json(ActiveChanged { active, signed_out_devices: count(gone.len()) }))
}

/// Turns a user's two-factor off (a lost phone and no recovery codes), after the operator has checked who
/// is asking. The user is told on every device.
pub(super) async fn reset_two_factor(
    State(s): State<AppState>,
    op: Operator,
    ApiJson(b): ApiJson<UserRef>,
) -> ApiResult<StatusCode> {
    let tenant = op.tenant(&s, b.tenant.clone()).await?;
    s.hub
        .store
        .write(move |c, e| {
            let (u, _, _) = crate::directory::user_by_name(c, tenant, &b.username)?.ok_or_else(|| HubError::not_found("user"))?;
            two_factor::reset(c, u.id)?;
            let subject = format!("user:{}", u.id);
            audit::by_operator(c, &op.label(), Some(tenant), Action::TwoFactorReset, &subject, "turned two-factor off", &op.ip)?;
            let body = "The operator of this hub turned two-factor sign-in off for your account. Turn it on again in Settings → Security.";
            let told = ("Two-factor sign-in was reset", body);
            sessions::security(c, e, (tenant, u.id), told, NotificationText::TwoFactorReset)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whose money moves: the user named, or (a deposit) the owner of the reference on the bank transfer.
fn money_user(
    c: &mut dyn crate::store::Tx,
    t: TenantId,
    b: &MoneyRequest,
    deposit: bool,
) -> crate::error::HubResult<tally_protocol::UserId> {
    match (&b.reference, b.username.is_empty()) {
        (Some(r), true) if deposit => crate::deposits::user_for(c, t, r),
        (Some(_), true) => Err(HubError::invalid("a withdrawal names the user, not a deposit reference")),
        (Some(_), false) => Err(HubError::invalid("give a username or a reference, not both")),
        (None, _) => {
            Ok(crate::directory::user_by_name(c, t, &b.username)?.ok_or_else(|| HubError::not_found("user"))?.0.id)
        }
    }
}

async fn money_op(s: AppState, op: Operator, b: MoneyRequest, deposit: bool) -> ApiResult<Json<MoneyMoved>> {
    let tenant_name = b.tenant.clone().unwrap_or_else(|| "default".into());
    let id = s
        .hub
        .store
        .write(move |c, e| {
            let t = crate::auth::tenants::tenant_id(c, &tenant_name)?.ok_or_else(|| HubError::not_found("tenant"))?;
            op.check_tenant(t)?;
            let user = money_user(c, t, &b, deposit)?;
            let id = if deposit {
                ledger::deposit(c, e, t, user, b.amount, &b.memo, None)?
            } else {
                ledger::withdraw(c, e, t, user, b.amount, &b.memo)?
            };
            let action = if deposit { Action::Deposit } else { Action::Withdrawal };
            let detail = format!("{} {} minor units, transaction {id}", b.amount.currency, b.amount.minor);
            audit::by_operator(c, &op.label(), Some(t), action, &format!("user:{user}"), &detail, &op.ip)?;
            Ok(id)
        })
        .await?;
    Ok(Json(MoneyMoved { transaction_id: id }))
}

pub(super) async fn deposit(
    State(s): State<AppState>,
    op: Operator,
    ApiJson(b): ApiJson<MoneyRequest>,
) -> ApiResult<Json<MoneyMoved>> {
    money_op(s, op, b, true).await
}
pub(super) async fn withdraw(
    State(s): State<AppState>,
    op: Operator,
    ApiJson(b): ApiJson<MoneyRequest>,
) -> ApiResult<Json<MoneyMoved>> {
    money_op(s, op, b, false).await
}

/// Many deposits to one user in one transaction, through the ledger like single ones (provisioning, load
/// tests and the history-download tests).
pub(super) async fn deposits(
    State(s): State<AppState>,
    op: Operator,
    ApiJson(b): ApiJson<DepositsRequest>,
) -> ApiResult<Json<DepositsMade>> {
    if b.count == 0 || b.count > 10_000 {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::Invalid, "count must be 1-10000"));
    }
    let tenant = op.tenant(&s, b.tenant.clone()).await?;
    let ids = s
        .hub
        .store
        .write(move |c, e| {
            let (u, _, _) =
                crate::directory::user_by_name(c, tenant, &b.username)?.ok_or_else(|| HubError::not_found("user"))?;
            let mut ids = Vec::with_capacity(b.count as usize);
            for i in 1..=b.count {
                let memo = format!("{} #{i}", b.memo).trim().to_string();
                // A deposit "at" now is the same as one without a time, minus the notification.
                let at = if b.notify { None } else { Some(crate::store::now_ms()) };
                ids.push(ledger::deposit(c, e, tenant, u.id, b.amount, &memo, at)?);
            }
            let detail = format!("{} deposits of {} {} minor units", b.count, b.amount.currency, b.amount.minor);
            audit::by_operator(
                c,
                &op.label(),
                Some(tenant),
                Action::DepositsProvisioned,
                &format!("user:{}", u.id),
                &detail,
                &op.ip,
            )?;
            Ok(ids)
        })
        .await?;
    Ok(Json(DepositsMade { count: count(ids.len()), first: ids.first().copied(), last: ids.last().copied() }))
}

pub(super) async fn broadcast(
    State(s): State<AppState>,
    op: Operator,
    ApiJson(b): ApiJson<BroadcastRequest>,
) -> ApiResult<Json<Done>> {
    let tenant_name = b.tenant.clone().unwrap_or_else(|| "default".into());
    s.hub
        .store
        .write(move |c, e| {
            let t = crate::auth::tenants::tenant_id(c, &tenant_name)?.ok_or_else(|| HubError::not_found("tenant"))?;
            op.check_tenant(t)?;
            notify::broadcast(c, e, t, &b.title, &b.body, b.priority)?;
            let detail = format!("a {:?}-priority announcement", b.priority).to_lowercase();
            audit::by_operator(c, &op.label(), Some(t), Action::Broadcast, "broadcast", &detail, &op.ip)
        })
        .await?;
    Ok(Json(Done { ok: true }))
}

pub(super) async fn invariants(State(s): State<AppState>) -> ApiResult<Json<InvariantsReport>> {
    let problems = s.hub.store.read(ledger::check_invariants).await?;
    Ok(Json(InvariantsReport { ok: problems.is_empty(), problems }))
}

/// Provisions up to 5,000 users in one transaction. Existing usernames are a `conflict` (nothing is
/// created).
pub(super) async fn users(
    State(s): State<AppState>,
    op: Operator,
    ApiJson(b): ApiJson<UsersRequest>,
) -> ApiResult<Json<UsersCreated>> {
    if b.users.is_empty() || b.users.len() > 5_000 {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::Invalid, "1-5000 users per request"));
    }
    let tenant = op.tenant(&s, b.tenant.clone()).await?;
    let hash = match b.password {
        Some(p) if p.len() < 8 || p.len() > 256 => {
            return Err(ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::Invalid, "password must be 8-256 characters"))
        }
        Some(p) => hash_password(&s, p).await?,
        // Not a PHC string: never verifies.
        None => "!disabled".to_string(),
    };
    let limits = (s.hub.cfg.limit_single, s.hub.cfg.limit_daily);
    let users = s
        .hub
        .store
        .write(move |c, _| {
            let made = b
                .users
                .iter()
                .map(|u| crate::directory::create_user(c, tenant, &u.username, &u.display_name, &hash, limits))
                .collect::<Result<Vec<_>, _>>()?;
            let detail = format!("{} users", made.len());
            audit::by_operator(c, &op.label(), Some(tenant), Action::UsersProvisioned, "users", &detail, &op.ip)?;
            Ok(made)
        })
        .await?;
    Ok(Json(UsersCreated { users }))
}

/// Issues access tokens (no refresh token) for existing, active users: support tooling and load tests.
/// Each token is its own session family, so it can be revoked alone.
pub(super) async fn tokens(
    State(s): State<AppState>,
    op: Operator,
    ApiJson(b): ApiJson<TokensRequest>,
) -> ApiResult<Json<AccessTokens>> {
    if b.usernames.is_empty() || b.usernames.len() > 20_000 {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::Invalid, "1-20000 usernames per request"));
    }
    let tenant = op.tenant(&s, b.tenant.clone()).await?;
    let found = s
        .hub
        .store
        .read(move |c| {
            // The tenant's rule read once, not once per user (up to 20,000 here).
            let required = policy::of(c, tenant)?.1;
            b.usernames
                .iter()
                .map(|n| match crate::directory::user_by_name(c, tenant, n)? {
                    Some((u, _, true)) => Ok((required && !two_factor::is_enabled(c, tenant, u.id)?, u)),
                    _ => Err(HubError::not_found("user")),
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    let detail = format!("{} access tokens", found.len());
    s.hub
        .store
        .write(move |c, _| {
            audit::by_operator(c, &op.label(), Some(tenant), Action::TokensIssued, "users", &detail, &op.ip)
        })
        .await?;
    let mut out = Vec::with_capacity(found.len());
    for (enrol, u) in found {
        let token = s.hub.keys.issue(u.id, tenant, &crate::secrets::random_token("f_", 16), enrol)?;
        out.push(AccessToken { user: u, access_token: token });
    }
    Ok(Json(AccessTokens { tokens: out, expires_in: s.hub.keys.access_ttl_secs }))
}

/// Creates a group room with any number of members (announcement rooms).
pub(super) async fn room(
    State(s): State<AppState>,
    op: Operator,
    ApiJson(b): ApiJson<RoomRequest>,
) -> ApiResult<Json<RoomCreated>> {
    let tenant = op.tenant(&s, b.tenant.clone()).await?;
    let room = s
        .hub
        .store
        .write(move |c, e| {
            let room = chat::create_group_bulk(c, e, tenant, &b.name, &b.members)?;
            let detail = format!("a group of {} members", room.members.len());
            audit::by_operator(
                c,
                &op.label(),
                Some(tenant),
                Action::RoomCreated,
                &format!("room:{}", room.id),
                &detail,
                &op.ip,
            )?;
            Ok(room)
        })
        .await?;
    Ok(Json(RoomCreated { id: room.id, members: count(room.members.len()) }))
}

/// Appends `system` events to channels (durable, with seq, replayed on recovery like any event) in one
/// transaction: operator announcements to a room, a user or the whole tenant.
pub(super) async fn publish(
    State(s): State<AppState>,
    op: Operator,
    ApiJson(b): ApiJson<PublishRequest>,
) -> ApiResult<Json<PublishCount>> {
    if b.events.is_empty() || b.events.len() > 10_000 {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::Invalid, "1-10000 events per request"));
    }
    if b.events.iter().any(|e| e.title.len() > 256 || e.body.len() > 4096) {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::Invalid, "title ≤ 256 and body ≤ 4096 bytes"));
    }
    let channels = b.events.iter().map(|e| Channel::parse(&e.channel).ok()).collect::<Option<Vec<Channel>>>();
    let Some(channels) = channels else {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::Invalid, "no such channel"));
    };
    if channels
        .iter()
        .any(|c| !matches!(c, Channel::Broadcast | Channel::Room(_) | Channel::User(_) | Channel::Notifications(_)))
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::Invalid,
            "announcements go to broadcast, room:, user: or notifications: channels",
        ));
    }
    let tenant = op.tenant(&s, b.tenant.clone()).await?;
    let n = b.events.len();
    s.hub
        .store
        .write(move |c, e| {
            for (ev, channel) in b.events.iter().zip(&channels) {
                let data = EventData::System { title: ev.title.clone(), body: ev.body.clone(), priority: ev.priority };
                crate::log::append(c, e, tenant, *channel, data)?;
            }
            audit::by_operator(
                c,
                &op.label(),
                Some(tenant),
                Action::EventsPublished,
                "channels",
                &format!("{n} system events"),
                &op.ip,
            )
        })
        .await?;
    Ok(Json(PublishCount { published: count(n) }))
}
