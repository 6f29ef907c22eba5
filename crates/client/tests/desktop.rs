//! The keyring and notification paths against the real services of a desktop session (gnome-keyring's
//! Secret Service and a notification daemon on D-Bus). `make test` runs these inside
//! scripts/desktop-session.sh with TALLY_REQUIRE_DESKTOP=1, where a missing service is a failure. Run
//! bare (no session bus), they report what is missing and pass without checking.
use std::sync::Arc;
use std::time::Duration;
use tally_client::notify::{Native, NoteAction, Notifier, OnAction};
use tally_client::notify_dbus::DbusNotifier;
use tally_client::secrets::{KeyringStore, SecretStore, StoredSession};
use tally_protocol::{NotificationTarget, Priority};

#[path = "../../../tests/support/notify_watch.rs"]
mod notify_watch;
use notify_watch::NotifyWatch;

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

/// A notification goes to the real daemon, and clicking it there (`dunstctl action`, what a click does)
/// comes back once to the one callback with its target; no thread waits per notification.
#[test]
fn native_notifications_reach_the_daemon_and_a_click_comes_back_with_its_target() {
    let (clicked, clicks) = std::sync::mpsc::channel();
    let on_action: OnAction = Arc::new(move |a| {
        let _ = clicked.send(a);
    });
    let watch = NotifyWatch::start();
    let n = DbusNotifier::start("Tally test", on_action);
    let title = format!("Bob paid you $12.00 #{}", std::process::id());
    let target = NotificationTarget::Transfer { id: 41 };
    let shown = n.show(&Native {
        key: "n:1".into(),
        title: title.clone(),
        body: "Rent <b>&</b>\u{202E}tnem".into(),
        priority: Priority::Normal,
        target: Some(target.clone()),
    });
    match shown {
        Ok(()) => {}
        Err(e) if !required() => {
            eprintln!("skipped: {e}");
            return;
        }
        Err(e) => panic!("notification daemon unavailable in the desktop session: {e}"),
    }
    let Some(watch) = watch else { return assert!(!required(), "dbus-monitor is installed") };
    if !which("dunstctl") {
        assert!(!required(), "the desktop session has dunst");
        return;
    }
    let shown = watch.wait_for(&title, Duration::from_secs(5)).expect("the daemon was asked to show it");
    // The daemon as users have it (Debian's dunstrc) parses markup and says so: others' text is escaped,
    // and no bidi override reaches it.
    assert_eq!((shown.app.as_str(), shown.body.as_str()), ("Tally test", "Rent &lt;b&gt;&amp;&lt;/b&gt;tnem"));
    assert_eq!(shown.actions, ["default", "Open"]);
    let displayed = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(30));
        dunstctl(&["count", "displayed"]).trim() != "0"
    });
    assert!(displayed, "the daemon never showed the notification");
    assert_eq!(n.waiting(), 1);
    dunstctl(&["action", "0"]);
    let got = clicks.recv_timeout(Duration::from_secs(5)).expect("the click came back");
    assert_eq!(got, NoteAction::Open(target));
    assert!(clicks.recv_timeout(Duration::from_millis(300)).is_err(), "one click, one action");
    assert_eq!(n.waiting(), 0);
}

fn dunstctl(args: &[&str]) -> String {
    let out = std::process::Command::new("dunstctl").args(args).output().expect("dunstctl");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn which(cmd: &str) -> bool {
    std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {cmd}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}
