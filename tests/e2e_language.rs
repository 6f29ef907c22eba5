//! Languages in the real app: the real binary in the real WebView, a real hub, the desktop session's
//! notification daemon. Started on a German system (a de_DE.UTF-8 locale built into a temp dir, as a
//! German desktop sets LANG), the sign-in screen is German and so is what the shell says itself when the
//! window is closed ("Tally läuft weiter", "Tally öffnen", "Beenden"), and so is the native notification
//! of a payment bob makes through the socket meanwhile (the hub sends its text as data; the app words it).
//! Settings → Language → English switches the UI and the shell's words at once.
use std::sync::Arc;
use std::time::Duration;
use tally_client::notify::RecordingNotifier;
use tally_client::secrets::MemoryStore;
use tally_client::view::*;
use tally_client::{Engine, EngineConfig};
use tally_protocol::*;

#[path = "support/notify_watch.rs"]
mod notify_watch;
#[path = "support/webview.rs"]
mod webview;
#[path = "support/x11_window.rs"]
mod x11_window;
use notify_watch::{displayed, dunstctl, NotifyWatch};
use webview::*;
use x11_window::X11;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_german_system_gets_german_and_the_override_switches_the_ui_and_the_shell() {
    tokio::time::timeout(Duration::from_secs(180), scenario())
        .await
        .expect("the language scenario took over 3 minutes");
}

/// de_DE.UTF-8 built into `dir` (LOCPATH), as Debian's `locales` package builds it for the system.
fn german_locale(dir: &std::path::Path) -> bool {
    let out = std::process::Command::new("localedef")
        .args(["-i", "de_DE", "-f", "UTF-8"])
        .arg(dir.join("de_DE.UTF-8"))
        .output();
    matches!(out, Ok(o) if dir.join("de_DE.UTF-8").exists() || o.status.success())
}

async fn until(what: &str, mut ok: impl FnMut() -> bool) {
    for _ in 0..100 {
        if ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn text_of(c: &fantoccini::Client, css: &str) -> String {
    wait_css(c, css).await.text().await.unwrap_or_default().trim().to_string()
}

async fn scenario() {
    let required = std::env::var_os("TALLY_REQUIRE_DESKTOP").is_some();
    let locales = tempfile::tempdir().unwrap();
    if !german_locale(locales.path()) {
        assert!(!required, "localedef could not build de_DE.UTF-8 (scripts/deps.sh test installs `locales`)");
        eprintln!("skipped: no localedef");
        return;
    }
    tally_client::install_crypto();
    let hub_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = format!("http://127.0.0.1:{port}");
    let _hub = tally_hub::start(hub_config(hub_dir.path(), port)).await.expect("hub");
    let app_data = tempfile::tempdir().unwrap();
    let locpath = locales.path().to_str().unwrap();
    let env = [("LOCPATH", locpath), ("LANG", "de_DE.UTF-8"), ("LC_ALL", "de_DE.UTF-8"), ("LANGUAGE", "de_DE:de")];
    let Some((_driver, c)) = open_app_at(env!("CARGO_BIN_EXE_tally"), app_data.path(), "language", &env).await else {
        return;
    };
    let watch = NotifyWatch::start().expect("dbus-monitor on the session bus");
    let x = X11::connect();
    dunstctl(&["close-all"]);

    // 1. The system's language: German from the first screen. (The WebView keeps its storage between runs
    // on this machine: a language picked by an earlier run is forgotten first, as "System" in Settings does.)
    wait_js(&c, "the page", "return document.readyState === 'complete';").await;
    c.execute("localStorage.removeItem('tally.language'); location.reload(); return true;", vec![]).await.ok();
    wait_js(&c, "German on the sign-in screen", "return document.documentElement.lang === 'de';").await;
    assert_eq!(text_of(&c, "[data-testid=signin-submit]").await, "Anmelden");
    shot(&c, "language-de-sign-in").await;
    sign_in_form(&c, &server, "alice", tally_hub::demo::PASSWORD).await;
    let live = "const e = document.querySelector('[data-testid=conn-pill]'); return e && e.dataset.state === 'live';";
    wait_js(&c, "live", live).await;
    assert_eq!(text_of(&c, "[data-testid=nav-settings]").await, "Einstellungen");
    assert!(text_of(&c, "#bal-title").await.contains("Verfügbares Guthaben"));

    // 2. The shell speaks it too: closing the window says so in German, with German buttons.
    let win = x.find("Tally").expect("the app's window on the X server");
    x.close(win);
    until("the window to go out of sight", || !x.viewable(win)).await;
    let notice =
        watch.wait_for("Tally läuft weiter", Duration::from_secs(5)).expect("the still-running notice in German");
    assert_eq!(notice.actions, ["default", "Tally öffnen", "quit", "Beenden"]);
    // Its Open, clicked once the daemon shows it (and it alone).
    displayed(1).await;
    dunstctl(&["action", "0"]);
    until("the window back on screen", || x.viewable(win)).await;

    // Closed again, bob pays alice through the socket: the native notification is German, the amount in
    // German money format, the memo as bob wrote it (the hub wrote "Bob Brown paid you 12.34 USD" and its
    // text as data); a click on it opens the payment.
    x.close(win);
    until("the window out of sight again", || !x.viewable(win)).await;
    until("the second notice", || watch.all().iter().filter(|s| s.summary == "Tally läuft weiter").count() == 2).await;
    dunstctl(&["close-all"]);
    let bob_dir = tempfile::tempdir().unwrap();
    let bob = Engine::new(
        EngineConfig::new(bob_dir.path(), "e2e-bob"),
        Arc::new(MemoryStore::default()),
        Arc::new(RecordingNotifier::default()),
    );
    bob.sign_in(&server, "bob", tally_hub::demo::PASSWORD, None).await.unwrap();
    let mut w = bob.conn_watch().unwrap();
    tokio::time::timeout(WAIT, w.wait_for(|s| matches!(s, ConnState::Live { .. }))).await.unwrap().unwrap();
    let memo = format!("für die Karten {}", std::process::id());
    let amount = Money::new(1_234, Currency::USD);
    bob.send_money(&SendMoney { to: "alice".into(), amount, memo: memo.clone(), room: None }).unwrap();
    let paid = watch.wait_for("gezahlt", Duration::from_secs(20)).expect("a German notification of the payment");
    // (German puts a no-break space before the sign; the daemon's wire may carry it as a plain one.)
    assert_eq!(paid.summary.replace('\u{a0}', " "), "Bob Brown hat dir 12,34 $ gezahlt");
    assert!(paid.body.contains(&memo), "the memo is in the body: {paid:?}");
    displayed(1).await;
    dunstctl(&["action", "0"]);
    until("the window back on screen", || x.viewable(win)).await;
    let detail = format!(
        "const d = document.querySelector('[data-testid=detail-dialog]'); return d && d.textContent.includes({memo:?});"
    );
    wait_js(&c, "the payment's details open", &detail).await;
    wait_css(&c, "[data-testid=detail-dialog]").await.send_keys("\u{E00C}").await.unwrap(); // Escape
                                                                                            // The app's own list says it in German too.
    nav(&c, "notifications").await;
    let listed = "const n = document.querySelector('[data-testid=notification]'); \
                  return n && n.textContent.includes('Bob Brown hat dir 12,34\u{a0}$ gezahlt');";
    wait_js(&c, "the notification listed in German", listed).await;
    shot(&c, "language-de-notification").await;

    // 3. Settings → Language → English: the UI at once, and the shell's words with it.
    nav(&c, "settings").await;
    let select = wait_css(&c, "[data-testid=language-section] [data-testid=language-select]").await;
    select.select_by_value("en").await.expect("pick English");
    wait_js(&c, "English after the override", "return document.documentElement.lang === 'en';").await;
    assert_eq!(text_of(&c, "[data-testid=nav-settings]").await, "Settings");
    shot(&c, "language-en-override").await;
    dunstctl(&["close-all"]);
    x.close(win);
    until("the window to go out of sight again", || !x.viewable(win)).await;
    let notice = watch.wait_for("Tally is still running", Duration::from_secs(5)).expect("the notice in English");
    assert_eq!(notice.actions, ["default", "Open Tally", "quit", "Quit"]);
    // Back to following the system, for the next run on this machine.
    c.execute("localStorage.removeItem('tally.language'); return true;", vec![]).await.ok();
}
