//! The keyring and notification paths against the real services of a desktop session (gnome-keyring's
//! Secret Service and a notification daemon on D-Bus). `make test` runs these inside
//! scripts/desktop-session.sh with TALLY_REQUIRE_DESKTOP=1, where a missing service is a failure. Run
//! bare (no session bus), they report what is missing and pass without checking.
use tally_client::notify::{DesktopNotifier, Native, Notifier};
use tally_client::secrets::{KeyringStore, SecretStore, StoredSession};
use tally_protocol::Priority;

fn required() -> bool {
    std::env::var_os("TALLY_REQUIRE_DESKTOP").is_some()
}

#[test]
fn sessions_round_trip_through_the_os_keychain() {
    let service = format!("app.tally.test-{}", std::process::id());
    let store = match KeyringStore::probe(&service) {
        Ok(s) => s,
        Err(e) if !required() => {
            eprintln!("skipped: {e}");
            return;
        }
        Err(e) => panic!("no keychain in the desktop session: {e}"),
    };
    assert_eq!(store.kind(), "keychain");
    let s = StoredSession {
        server: "http://127.0.0.1:1".into(),
        user_id: 7,
        username: "ann".into(),
        display_name: "Ann".into(),
        refresh_token: "rt_secret".into(),
    };
    store.save(&s).unwrap();
    // A second handle (another process would do the same) sees it: it is in the keychain, not memory.
    let again = KeyringStore::probe(&service).unwrap();
    assert_eq!(again.load().unwrap(), Some(s));
    again.clear().unwrap();
    assert_eq!(store.load().unwrap(), None);
    // The cache key sits beside it, one entry per account, and goes with the account's cache.
    let key = tally_client::store::encryption::CacheKey::generate();
    store.save_cache_key("http___127_0_0_1_1-7", key.hex()).unwrap();
    assert_eq!(again.cache_key("http___127_0_0_1_1-7").unwrap().as_deref(), Some(key.hex()));
    assert_eq!(again.cache_key("http___127_0_0_1_1-8").unwrap(), None);
    again.delete_cache_key("http___127_0_0_1_1-7").unwrap();
    assert_eq!(store.cache_key("http___127_0_0_1_1-7").unwrap(), None);
}

#[test]
fn native_notifications_reach_the_notification_daemon() {
    let n = DesktopNotifier { app_name: "Tally test".into(), on_click: None };
    let title = format!("Bob paid you 12.00 USD #{}", std::process::id());
    let shown = n.show(&Native {
        key: "n:1".into(),
        title: title.clone(),
        body: "Rent".into(),
        priority: Priority::Normal,
        target: None,
    });
    match shown {
        Ok(()) => {}
        Err(e) if !required() => {
            eprintln!("skipped: {e}");
            return;
        }
        Err(e) => panic!("notification daemon unavailable in the desktop session: {e}"),
    }
    if which("dunstctl") {
        // The daemon has it (displayed or in its history).
        let mut seen = false;
        for _ in 0..50 {
            let out = std::process::Command::new("dunstctl").arg("history").output().unwrap();
            let disp = std::process::Command::new("dunstctl").arg("count").arg("displayed").output().unwrap();
            if String::from_utf8_lossy(&out.stdout).contains(&title)
                || String::from_utf8_lossy(&disp.stdout).trim() != "0"
            {
                seen = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert!(seen, "the daemon never received the notification");
    }
}

fn which(cmd: &str) -> bool {
    std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {cmd}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}
