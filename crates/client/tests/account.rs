//! Accounts through the real engine against a real hub: sign-up as the hub's policy allows, two-factor
//! turned on from the app and asked for at the next sign-in, the device list, and a device signed out
//! from another one losing its socket, its keychain entry and every byte of its cache; sign-out deleting
//! the cache unless the user keeps it; a KYC level set by the operator reaching the signed-in app at once.
mod support;
use serde_json::json;
use std::time::{SystemTime, UNIX_EPOCH};
use support::*;
use tally_client::engine::NewAccount;
use tally_client::secrets::SecretStore;
use tally_client::view::*;
use tally_client::Error;
use tally_protocol::ErrorCode;

const STRONG: &str = "plum otter kettle 93";

fn code_at(secret: &str, unix: u64) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.to_string()).to_bytes().unwrap();
    totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes, None, String::new()).unwrap().generate(unix)
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn account<'a>(username: &'a str, password: &'a str) -> NewAccount<'a> {
    NewAccount { username, display_name: username, password, invite: None }
}

fn hub_code(e: &Error) -> Option<ErrorCode> {
    match e {
        Error::Hub { code, .. } => Some(*code),
        _ => None,
    }
}

/// Every file under `dir` (the app's data directory), with its bytes.
fn files(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = vec![];
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else if let Ok(b) = std::fs::read(&p) {
            out.push((p, b));
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_follows_the_policy_and_two_factor_is_asked_for_at_the_next_sign_in() {
    let closed = Hub::start_with(|c| c.registration = Some(tally_hub::store::repo::Registration::Closed)).await;
    let d0 = tempfile::tempdir().unwrap();
    let app = App::new(d0.path());
    let info = app.engine.registration_info(&closed.url()).await.unwrap();
    assert_eq!(info.registration, Registration::Closed);
    let e = app.engine.sign_up(&closed.url(), account("ivy", STRONG)).await.unwrap_err();
    assert_eq!(hub_code(&e), Some(ErrorCode::Forbidden), "{e}");

    let hub = Hub::start().await;
    let e = app.engine.sign_up(&hub.url(), account("ivy", "password1234")).await.unwrap_err();
    assert_eq!(hub_code(&e), Some(ErrorCode::Invalid), "{e}");
    assert!(e.to_string().starts_with("password"), "{e}");
    let s = app.engine.sign_up(&hub.url(), account("ivy", STRONG)).await.expect("sign up");
    assert_eq!(s.user.username, "ivy");
    app.wait_live().await;

    let setup = app.engine.two_factor_setup(STRONG).await.unwrap();
    assert!(setup.otpauth_url.starts_with("otpauth://totp/Tally:ivy?"), "{}", setup.otpauth_url);
    let codes = app.engine.two_factor_enable(&code_at(&setup.secret, now())).await.unwrap();
    assert_eq!(codes.len(), 10);
    let status = app.engine.two_factor_status().await.unwrap();
    assert_eq!((status.enabled, status.recovery_codes_left, status.required), (true, 10, false));

    let d1 = tempfile::tempdir().unwrap();
    let laptop = App::new(d1.path());
    let e = laptop.engine.sign_in(&hub.url(), "ivy", STRONG, None).await.unwrap_err();
    assert_eq!(hub_code(&e), Some(ErrorCode::TwoFactorRequired), "{e}");
    let e = laptop.engine.sign_in(&hub.url(), "ivy", STRONG, Some("000000")).await.unwrap_err();
    assert_eq!(hub_code(&e), Some(ErrorCode::Unauthorized), "{e}");
    laptop
        .engine
        .sign_in(&hub.url(), "ivy", STRONG, Some(&code_at(&setup.secret, now() + 30)))
        .await
        .expect("with the code");
    laptop.wait_live().await;

    let devices = app.engine.devices().await.unwrap();
    assert_eq!(devices.len(), 2, "{devices:?}");
    assert_eq!(devices.iter().filter(|d| d.current).count(), 1);
    let platform = std::env::consts::OS;
    assert!(devices.iter().all(|d| d.platform == platform && !d.device.is_empty()), "{devices:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_signed_out_elsewhere_loses_its_socket_keys_and_cache_and_sign_out_deletes_the_cache() {
    let hub = Hub::start().await;
    hub.register("jon").await;
    let memo = "zanzibar quartz 7731";
    let r = hub
        .http
        .post(format!("{}/v1/admin/deposit", hub.url()))
        .bearer_auth(&hub.admin)
        .json(&json!({"username": "jon", "amount": {"minor": 4200, "currency": "USD"}, "memo": memo}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);

    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (lost, kept) = (App::new(d1.path()), App::new(d2.path()));
    for app in [&lost, &kept] {
        app.engine.sign_in(&hub.url(), "jon", "pass-word-123", None).await.unwrap();
        app.wait_live().await;
        app.until("the deposit is cached", |e| e.balances().map(|b| !b.is_empty()).unwrap_or(false)).await;
    }
    let page = lost.engine.transactions(&TxFilter::default(), None, 10).unwrap();
    assert!(page.rows.iter().any(|r| r.tx.memo == memo), "the deposit is shown");
    for (path, bytes) in files(d1.path()) {
        assert!(!contains(&bytes, b"zanzibar"), "{} holds the memo in the clear", path.display());
    }
    assert!(lost.secrets.load().unwrap().is_some());
    let account = cache_account(&lost);
    assert!(lost.secrets.cache_key(&account).unwrap().is_some(), "the cache key is in the keychain");

    let devices = kept.engine.devices().await.unwrap();
    // Sign-up made a session too; the lost laptop is the other one signed in last.
    assert_eq!(devices.len(), 3, "{devices:?}");
    let other = devices.iter().filter(|d| !d.current).max_by_key(|d| d.created_at).expect("the lost laptop");
    kept.engine.sign_out_device(&other.id).await.unwrap();
    let mut w = lost.engine.conn_watch().unwrap();
    let state = tokio::time::timeout(WAIT, w.wait_for(|s| matches!(s, ConnState::AuthFailed { .. })))
        .await
        .expect("the lost device is told at once")
        .unwrap()
        .clone();
    assert!(matches!(state, ConnState::AuthFailed { .. }), "{state:?}");
    assert!(lost.secrets.load().unwrap().is_none(), "its refresh token is gone from the keychain");
    assert!(lost.secrets.cache_key(&account).unwrap().is_none(), "and its cache key");
    assert!(lost.engine.balances().unwrap().is_empty(), "nothing of the account is shown");
    for (path, bytes) in files(d1.path()) {
        assert!(!contains(&bytes, memo.as_bytes()), "{} still holds the memo", path.display());
        assert!(!contains(&bytes, b"zanzibar"), "{} still holds part of the memo", path.display());
    }
    assert_eq!(kept.engine.devices().await.unwrap().len(), 2);

    // Signing out deletes the cache by default; "keep offline data" keeps it.
    let kept_account = cache_account(&kept);
    kept.engine.sign_out(true).await.unwrap();
    assert!(files(d2.path()).iter().all(|(p, _)| !p.to_string_lossy().contains("cache.db")), "no cache file is left");
    assert!(kept.secrets.cache_key(&kept_account).unwrap().is_none(), "nor its key");
    let d3 = tempfile::tempdir().unwrap();
    let keeper = App::new(d3.path());
    keeper.engine.sign_in(&hub.url(), "jon", "pass-word-123", None).await.unwrap();
    keeper.until("the deposit is cached", |e| e.balances().map(|b| !b.is_empty()).unwrap_or(false)).await;
    let keeper_account = cache_account(&keeper);
    keeper.engine.sign_out(false).await.unwrap();
    assert!(files(d3.path()).iter().any(|(p, _)| p.ends_with("cache.db")), "kept, as asked");
    assert!(keeper.secrets.cache_key(&keeper_account).unwrap().is_some(), "with the key that opens it");
}

/// The keychain name of the signed-in account's cache key (its cache directory's name).
fn cache_account(app: &App) -> String {
    let dirs: Vec<_> = std::fs::read_dir(app.dir.join("accounts")).unwrap().flatten().collect();
    assert_eq!(dirs.len(), 1);
    dirs[0].file_name().to_string_lossy().into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_lock_hides_everything_until_the_pin_and_ten_wrong_pins_erase_the_device() {
    let hub = Hub::start().await;
    hub.register("kai").await;
    hub.deposit("kai", 1_000).await;
    let dir = tempfile::tempdir().unwrap();
    let app = App::new(dir.path());
    app.engine.sign_in(&hub.url(), "kai", "pass-word-123", None).await.unwrap();
    app.until("the deposit is cached", |e| e.balances().map(|b| !b.is_empty()).unwrap_or(false)).await;
    assert!(!app.engine.app_lock_state().enabled);

    let e = app.engine.set_app_lock(Some("12a4".into()), 5, None).await.unwrap_err();
    assert_eq!(e.code(), CommandErrorCode::Local(LocalErrorCode::InvalidInput));
    app.engine.set_app_lock(Some("4821".into()), 5, None).await.unwrap();
    let stored = app.secrets.secret("app-lock").unwrap().unwrap();
    assert!(stored.contains("$argon2") && !stored.contains("4821"), "only a hash is kept");
    let s = app.engine.app_lock_state();
    assert_eq!((s.enabled, s.locked, s.after_minutes, s.attempts_left), (true, false, 5, 10));

    app.engine.lock_now();
    let e = app.engine.balances().unwrap_err();
    assert_eq!(e.code(), CommandErrorCode::Local(LocalErrorCode::Locked));
    // Money that arrives while locked is announced without saying how much or from whom.
    let before = app.shown().len();
    hub.deposit("kai", 2_500).await;
    app.until("a notification while locked", |_| app.shown().len() > before).await;
    let n = app.shown().pop().unwrap();
    assert_eq!((n.title.as_str(), n.body.as_str()), ("New activity", "Unlock Tally to see it."), "{n:?}");
    assert!(app
        .engine
        .send_money(&SendMoney {
            to: "x".into(),
            amount: tally_protocol::Money::new(1, tally_protocol::Currency::USD),
            memo: String::new(),
            room: None
        })
        .is_err());
    let e = app.engine.unlock("0000".into()).await.unwrap_err();
    assert!(e.to_string().contains("9 attempts left"), "{e}");
    app.engine.unlock("4821".into()).await.unwrap();
    assert!(!app.engine.balances().unwrap().is_empty());
    // Changing or removing the lock needs the PIN in use.
    assert!(app.engine.set_app_lock(None, 5, Some("1111".into())).await.is_err());

    // A new start (the same keychain) begins locked, and quitting does not reset the count of wrong PINs.
    assert!(app.engine.unlock("0000".into()).await.is_err());
    let again = App::with_parts(dir.path(), app.secrets.clone(), Default::default());
    let s = again.engine.app_lock_state();
    assert_eq!((s.locked, s.attempts_left), (true, 9), "{s:?}");
    app.engine.unlock("4821".into()).await.unwrap();
    app.engine.lock_now();
    // PINs tried at once are counted before they are checked: of twenty sent together (the right one
    // among them, late), only the ten the count allows are checked, and the tenth wrong one erases.
    let tries = (0..20).map(|i| {
        let pin = if i == 15 { "4821".to_string() } else { format!("{:04}", 1000 + i) };
        app.engine.unlock(pin)
    });
    let answers = futures_util::future::join_all(tries).await;
    assert!(answers.iter().all(|a| a.is_err()), "the right PIN came after the count ran out");
    assert_eq!(
        answers
            .iter()
            .filter(|a| matches!(a, Err(e) if e.code() == CommandErrorCode::Local(LocalErrorCode::Auth)))
            .count(),
        1,
        "one erase"
    );
    assert!(app.engine.session().is_none(), "signed out");
    assert!(files(dir.path()).iter().all(|(p, _)| !p.to_string_lossy().contains("cache.db")), "the cache is deleted");
    // Signing in again with the password opens the app (the lock stays on for next time).
    app.engine.lock_now();
    app.engine.sign_in(&hub.url(), "kai", "pass-word-123", None).await.unwrap();
    let s = app.engine.app_lock_state();
    assert_eq!((s.enabled, s.locked, s.attempts_left), (true, false, 10), "{s:?}");
    app.engine.set_app_lock(None, 5, Some("4821".into())).await.unwrap();
    assert!(!app.engine.app_lock_state().enabled);
}

/// A tenant that requires two-factor: the app signs up, sees the requirement, and a payment is refused
/// with `two_factor_required` (kept in the outbox as failed, nothing moved); after enrolment from the app
/// the same payment, retried on the same connection, goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn where_two_factor_is_required_a_payment_waits_for_enrolment_and_then_goes_through() {
    let hub = Hub::start().await;
    hub.register("bob").await;
    let r = hub
        .http
        .post(format!("{}/v1/admin/tenants", hub.url()))
        .bearer_auth(&hub.admin)
        .json(&json!({"name": "default", "require_two_factor": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let dir = tempfile::tempdir().unwrap();
    let app = App::new(dir.path());
    let s = app.engine.sign_up(&hub.url(), account("ivy", STRONG)).await.expect("sign up");
    assert!(s.must_enrol_two_factor);
    hub.deposit("ivy", 1_000).await;
    app.until("the deposit is cached", |e| e.balances().map(|b| !b.is_empty()).unwrap_or(false)).await;

    let pay = SendMoney {
        to: "bob".into(),
        amount: tally_protocol::Money::new(250, tally_protocol::Currency::USD),
        memo: "lunch".into(),
        room: None,
    };
    let sent = app.engine.send_money(&pay).expect("queued");
    let id = sent.outbox_id.expect("in the outbox");
    let refused = CommandErrorCode::Hub(ErrorCode::TwoFactorRequired);
    app.until("refused until enrolment", |e| {
        e.outbox()
            .unwrap()
            .iter()
            .any(|o| o.id == id && matches!(&o.local, LocalState::Failed { code, .. } if *code == refused))
    })
    .await;
    assert_eq!(app.usd().0, 1_000, "nothing moved");

    let setup = app.engine.two_factor_setup(STRONG).await.unwrap();
    app.engine.two_factor_enable(&code_at(&setup.secret, now())).await.unwrap();
    app.engine.retry_outbox(id).expect("retry");
    app.until("paid once enrolled", |e| e.outbox().unwrap().is_empty()).await;
    app.until("the balance shows it", |_| app.usd().0 == 750).await;
    assert_eq!(hub.invariants().await["ok"], true);
}

/// Support verifies the user while their app is open: the session's limits and level change without a
/// reconnect, and the app's own check lets a payment the old limit refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kyc_level_set_by_the_operator_reaches_the_open_app_at_once() {
    let hub = Hub::start().await;
    hub.register("kai").await;
    let dir = tempfile::tempdir().unwrap();
    let app = App::new(dir.path());
    app.engine.sign_in(&hub.url(), "kai", "pass-word-123", None).await.unwrap();
    app.wait_live().await;
    let level = |app: &App| app.engine.session().and_then(|s| s.limits).map(|l| (l.kyc_level, l.transfer_single_max));
    assert_eq!(level(&app), Some((tally_protocol::KycLevel::None, 500_000)));
    let (s, v) = hub.admin_post("/v1/admin/users/kyc", json!({"username": "kai", "level": "verified"})).await;
    assert_eq!(s, 200, "{v}");
    app.until("the new limits", |_| level(&app) == Some((tally_protocol::KycLevel::Verified, 10_000_000))).await;
    assert_eq!(app.engine.limits().unwrap().single_max, Some(10_000_000));
}
