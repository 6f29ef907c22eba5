//! KYC levels: how far a user's identity has been checked (`none`, `basic`, `verified`), set by the
//! operator's support team, each with its own transfer limits: the tenant's own for the level when its
//! operator set them, else the hub's defaults times 1, 5 and 20. Setting a level moves the user's limits
//! with it, tells the user (a `kyc` notification) and their apps (a `limits` event on `user:{id}`, the whole
//! of `welcome.limits`), in one transaction. A transfer over the level's limits is refused as before
//! (`limit_exceeded` and a `limits` notification).
use crate::error::{HubError, HubResult};
use crate::ids::TenantId;
use crate::notify;
use crate::store::{Emits, Tx};
use tally_protocol::*;

/// The hub's default limits multiplied per level, where the tenant has none of its own.
fn multiplier(level: KycLevel) -> i64 {
    match level {
        KycLevel::None => 1,
        KycLevel::Basic => 5,
        KycLevel::Verified => 20,
    }
}

/// A level's (single, daily) limits in `tenant`; `defaults` are the hub's (`--limit-single`, `--limit-daily`).
pub fn level_limits(tx: &mut dyn Tx, tenant: TenantId, level: KycLevel, defaults: (i64, i64)) -> HubResult<(i64, i64)> {
    if let Some(own) = tx.kyc_limits(tenant, level)? {
        return Ok(own);
    }
    let m = multiplier(level);
    let too_big = || HubError::invalid("the default limits times the level's multiplier do not fit");
    Ok((defaults.0.checked_mul(m).ok_or_else(too_big)?, defaults.1.checked_mul(m).ok_or_else(too_big)?))
}

/// "5,000.00": a limit (hundredths of a major unit, the same in every currency) as the user reads it.
fn amount(hundredths: i64) -> String {
    let whole = (hundredths / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{grouped}.{:02}", hundredths % 100)
}

/// Sets `user`'s level and limits; tells them and their apps. `base` is what the hub announces to everyone
/// (frame size, rates), `files` the hub's attachment defaults. The new limits.
pub fn set_level(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    (tenant, user): (TenantId, UserId),
    level: KycLevel,
    defaults: (i64, i64),
    (base, files): (Limits, crate::attachments::Limits),
) -> HubResult<Limits> {
    let (single, daily) = level_limits(tx, tenant, level, defaults)?;
    if !tx.set_kyc(tenant, user, level, (single, daily))? {
        return Err(HubError::not_found("user"));
    }
    let title = format!("Identity check: {}", level.as_str());
    let body = format!(
        "You can now send up to {} in one payment and {} a day (in any currency's major units).",
        amount(single),
        amount(daily)
    );
    let text = NotificationText::KycLevel { level, single, daily };
    let told = Told { kind: NotificationKind::Kyc, title: &title, body: &body, text };
    announce(tx, emits, (tenant, user), (level, single, daily), (base, files), told)
}

/// Refused unless `0 < single ≤ daily`.
pub fn check_limits(single: i64, daily: i64) -> HubResult<()> {
    if single <= 0 || daily < single {
        return Err(HubError::invalid("limits must be positive, and the daily one at least the single one"));
    }
    Ok(())
}

/// Sets `user`'s own transfer limits, their level unchanged (finance, with the `reason` they read);
/// tells them (a `limits` notification) and their apps (a `limits` event). The new limits.
pub fn set_user_limits(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    (tenant, user): (TenantId, UserId),
    (single, daily): (i64, i64),
    reason: &str,
    (base, files): (Limits, crate::attachments::Limits),
) -> HubResult<Limits> {
    check_limits(single, daily)?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(HubError::invalid("reason: say why the limits change; the user reads it"));
    }
    crate::directory::visible_text("reason", reason)?;
    let (_, level) = tx.limits_and_level(tenant, user)?.ok_or_else(|| HubError::not_found("user"))?;
    if !tx.set_kyc(tenant, user, level, (single, daily))? {
        return Err(HubError::not_found("user"));
    }
    let body = format!(
        "You can now send up to {} in one payment and {} a day (in any currency's major units). {reason}",
        amount(single),
        amount(daily)
    );
    let text = NotificationText::LimitsChanged { single, daily, reason: reason.into() };
    let told = Told { kind: NotificationKind::Limits, title: "Your limits changed", body: &body, text };
    announce(tx, emits, (tenant, user), (level, single, daily), (base, files), told)
}

/// What the user is told about their new limits.
struct Told<'a> {
    kind: NotificationKind,
    title: &'a str,
    body: &'a str,
    /// The same, as data.
    text: NotificationText,
}

/// The notification and the `limits` event (the whole of `welcome.limits`) for a user's new limits.
fn announce(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    (tenant, user): (TenantId, UserId),
    (level, single, daily): (KycLevel, i64, i64),
    (base, files): (Limits, crate::attachments::Limits),
    told: Told<'_>,
) -> HubResult<Limits> {
    let limits = Limits {
        transfer_single_max: single,
        transfer_daily_max: daily,
        attachment_max_bytes: crate::attachments::limits(tx, tenant, files)?.max_file,
        kyc_level: level,
        ..base
    };
    let n = notify::New {
        tenant,
        user,
        kind: told.kind,
        priority: Priority::Normal,
        title: told.title,
        body: told.body,
        target: None,
        text: Some(told.text),
    };
    notify::create(tx, emits, n)?;
    crate::log::append(tx, emits, tenant, Channel::User(user), EventData::Limits { limits: limits.clone() })?;
    Ok(limits)
}
