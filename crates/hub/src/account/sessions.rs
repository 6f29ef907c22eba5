//! Signed-in devices: one per refresh-token family, with the device's name and platform, where it was
//! last seen from and when. A new sign-in warns the user's other devices (a `security` notification);
//! signing a device out revokes its family (its refresh token dies, its sockets close with 4010).
use crate::error::{HubError, HubResult};
use crate::ids::TenantId;
use crate::notify;
use crate::store::repo::SessionRow;
use crate::store::{now_ms, Emits, Tx};
use tally_protocol::{NotificationKind, NotificationTarget, NotificationText, Priority, UserId};

/// What a client says about itself at sign-in (free text; trimmed and bounded here).
pub use tally_protocol::http::DeviceInfo as Device;

/// Free text from the device, shown in the user's device list: one line, without hidden characters (a
/// device named `Eve's phone\u{202E}enohp` must not read as something else), at most 64 characters.
fn bounded(s: &str, fallback: &str) -> String {
    let s = tally_protocol::text::one_line(s, 64);
    if s.is_empty() {
        fallback.to_string()
    } else {
        s
    }
}

/// Records a new session; with `warn`, tells the user's other devices about it.
pub fn open(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    (tenant, user): (TenantId, UserId),
    family: &str,
    device: &Device,
    ip: &str,
    warn: bool,
) -> HubResult<()> {
    let others = tx.live_families(tenant, user)?.into_iter().filter(|f| f != family).count();
    let at = now_ms();
    let row = SessionRow {
        family: family.to_string(),
        tenant,
        user,
        device: bounded(&device.name, "Unknown device"),
        platform: bounded(&device.platform, "unknown"),
        ip: ip.to_string(),
        created_at: at,
        last_seen_at: at,
    };
    tx.insert_session(&row)?;
    if warn && others > 0 {
        let body = format!(
            "{} ({}) from {}. If this was not you, sign it out in Settings → Devices and change your password.",
            row.device, row.platform, row.ip
        );
        let text = NotificationText::NewSignIn { device: row.device, platform: row.platform, ip: row.ip };
        let title = "New sign-in to your account";
        security(tx, emits, (tenant, user), (title, &body), text)?;
    }
    Ok(())
}

/// A high-priority `security` notification (on every device of the user): the hub's English, and what it
/// says as data for the app to word in its reader's language.
pub fn security(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    (tenant, user): (TenantId, UserId),
    (title, body): (&str, &str),
    text: NotificationText,
) -> HubResult<()> {
    let n = notify::New {
        tenant,
        user,
        kind: NotificationKind::Security,
        priority: Priority::High,
        title,
        body,
        target: None::<NotificationTarget>,
        text: Some(text),
    };
    notify::create(tx, emits, n).map(|_| ())
}

pub fn touch(tx: &mut dyn Tx, family: &str, ip: &str) -> HubResult<()> {
    tx.touch_session(family, ip, now_ms())
}

pub fn list(tx: &mut dyn Tx, tenant: TenantId, user: UserId) -> HubResult<Vec<SessionRow>> {
    tx.sessions_of(tenant, user)
}

/// Signs one of the user's devices out (not found for anyone else's).
pub fn revoke(tx: &mut dyn Tx, tenant: TenantId, user: UserId, family: &str) -> HubResult<()> {
    if !tx.live_families(tenant, user)?.iter().any(|f| f == family) {
        return Err(HubError::not_found("session"));
    }
    tx.revoke_family(family, now_ms())
}

/// Signs every device of the user out but `keep`; returns the families revoked.
pub fn revoke_others(tx: &mut dyn Tx, tenant: TenantId, user: UserId, keep: &str) -> HubResult<Vec<String>> {
    let gone: Vec<String> = tx.live_families(tenant, user)?.into_iter().filter(|f| f != keep).collect();
    for f in &gone {
        tx.revoke_family(f, now_ms())?;
    }
    Ok(gone)
}
