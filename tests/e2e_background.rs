//! The app living in the background, end to end: the real app binary in the real WebView, a real hub,
//! the desktop session's real notification daemon (dunst) and X server. Alice closes the window the way a
//! window manager closes it; the app keeps running, says so in a notification (there is no tray host on
//! Xvfb), and a click on that notification brings the window back. With the window closed again, bob pays
//! alice through the socket: exactly one native notification with the payment's title and body is shown,
//! and clicking it opens the window on that payment. A tally://pay link opened by a second launch fills
//! Send's review in, and alice sends it. With "Keep running when the window is closed" off, closing the
//! window ends the app.
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
async fn closing_the_window_keeps_tally_running_and_notifications_open_the_payment() {
    tokio::time::timeout(Duration::from_secs(240), scenario())
        .await
        .expect("the background scenario took over 4 minutes");
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

async fn scenario() {
    tally_client::install_crypto();
    let hub_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = format!("http://127.0.0.1:{port}");
    let hub = tally_hub::start(hub_config(hub_dir.path(), port)).await.expect("hub");
    let app_data = tempfile::tempdir().unwrap();
    // A home of its own: the login item is written under it, never in the real one.
    let home = tempfile::tempdir().unwrap();
    let home_env = [("HOME", home.path().to_str().unwrap())];
    let bin = env!("CARGO_BIN_EXE_tally");
    let Some((_driver, c)) = open_app_at(bin, app_data.path(), "background", &home_env).await else { return };
    let watch = NotifyWatch::start().expect("dbus-monitor on the session bus");
    let x = X11::connect();
    dunstctl(&["close-all"]);

    // Alice signs in.
    sign_in_form(&c, &server, "alice", tally_hub::demo::PASSWORD).await;
    let live = "const e = document.querySelector('[data-testid=conn-pill]'); return e && e.dataset.state === 'live';";
    wait_js(&c, "live", live).await;
    let win = x.find("Tally").expect("the app's window on the X server");
    let pid = x.pid(win).expect("the window names its process");
    assert!(x.viewable(win));

    // 1. Closed as a window manager closes it: hidden, not ended, and the daemon says Tally still runs.
    x.close(win);
    until("the window to go out of sight", || !x.viewable(win)).await;
    let notice = watch.wait_for("Tally is still running", Duration::from_secs(5)).expect("the still-running notice");
    assert_eq!(notice.actions, ["default", "Open Tally", "quit", "Quit"]);
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists(), "the app is still running");
    wait_js(&c, "the page still answering", "return document.readyState === 'complete';").await;
    // A click on the notice brings the window back.
    displayed(1).await;
    dunstctl(&["action", "0"]);
    until("the window back on screen", || x.viewable(win)).await;

    // 2. Closed again (the notice is dismissed); bob pays alice through the socket.
    x.close(win);
    until("the window to go out of sight again", || !x.viewable(win)).await;
    watch.wait_for("Tally is still running", Duration::from_secs(5));
    until("the second notice", || watch.all().iter().filter(|s| s.summary == "Tally is still running").count() == 2)
        .await;
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
    let memo = format!("for the tickets {}", std::process::id());
    bob.send_money(&SendMoney {
        to: "alice".into(),
        amount: Money::new(1_234, Currency::USD),
        memo: memo.clone(),
        room: None,
    })
    .unwrap();
    let paid = watch.wait_for("paid you", Duration::from_secs(20)).expect("a native notification of the payment");
    assert_eq!(paid.app, "Tally");
    // In the app's money format, as the screens write it (the hub wrote "12.34 USD").
    assert_eq!(paid.summary, "Bob Brown paid you $12.34");
    assert!(paid.body.contains(&memo), "the memo is in the body: {paid:?}");
    tokio::time::sleep(Duration::from_millis(1500)).await; // the transfer completes; nothing more is raised
    let payments: Vec<_> = watch.all().into_iter().filter(|s| s.summary.contains("paid you")).collect();
    assert_eq!(payments.len(), 1, "exactly one notification for one payment: {payments:?}");

    // 3. A click on it opens the window on that payment.
    displayed(1).await;
    dunstctl(&["action", "0"]);
    until("the window back on screen", || x.viewable(win)).await;
    let detail = format!(
        "const d = document.querySelector('[data-testid=detail-dialog]'); return d && d.textContent.includes({memo:?});"
    );
    wait_js(&c, "the payment's details open", &detail).await;
    shot(&c, "bg-01-opened-from-notification").await;

    wait_css(&c, "[data-testid=detail-dialog]").await.send_keys("\u{E00C}").await.unwrap(); // Escape

    // 4. A tally://pay link, opened as the OS opens one (a second launch with the link, handed to the
    //    running app, which comes forward): Send's review, filled in; nothing moves until alice sends.
    x.close(win);
    until("the window out of sight before the link", || !x.viewable(win)).await;
    let before = bob.balances().unwrap()[0].balance.available;
    let link = "tally://pay?to=bob&amount=3.21&currency=USD&memo=from%20a%20link";
    let second = std::process::Command::new(env!("CARGO_BIN_EXE_tally"))
        .arg(link)
        .env("TALLY_DATA_DIR", app_data.path().join("second"))
        .status()
        .expect("a second launch");
    assert!(second.success(), "the second launch hands the link over and ends");
    until("the window brought forward by the link", || x.viewable(win)).await;
    let review = "const r = document.querySelector('[data-testid=send-review]'); return r && r.textContent.includes('$3.21') && r.textContent.includes('from a link') && !!document.querySelector('[data-testid=send-from-link]');";
    wait_js(&c, "the link's payment at review", review).await;
    shot(&c, "bg-02-pay-link-review").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(bob.balances().unwrap()[0].balance.available, before, "the link moved no money by itself");
    click(&c, "[data-testid=send-confirm]").await;
    let done =
        "const r = document.querySelector('[data-testid=send-result]'); return r && r.dataset.phase === 'completed';";
    wait_js(&c, "the payment completed", done).await;
    shot(&c, "bg-03-pay-link-completed").await;
    // Watched on Send with the window in front: the app says it, no system popup repeats it.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let own: Vec<_> = watch.all().into_iter().filter(|s| s.summary.contains("sent to")).collect();
    assert!(own.is_empty(), "no popup for your own payment while you watch it: {own:?}");

    // 5. Start at login: off by default; on writes the login item the desktop reads at sign-in, which
    //    starts Tally in the background; off removes it.
    nav(&c, "settings").await;
    let login = "[data-testid=login-item-toggle]";
    wait_js(&c, "start at login, off", &format!("return document.querySelector('{login}')?.checked === false;")).await;
    let autostart = home.path().join(".config/autostart");
    let items = || std::fs::read_dir(&autostart).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or(vec![]);
    assert!(items().is_empty(), "no login item before it is asked for: {:?}", items());
    click(&c, login).await;
    until("the login item written", || items().len() == 1).await;
    let entry = std::fs::read_to_string(&items()[0]).unwrap();
    assert!(entry.contains(&format!("Exec={bin} --background")), "starts this app, in the background: {entry}");
    assert!(entry.contains("Type=Application"), "{entry}");
    click(&c, login).await;
    until("the login item removed", || items().is_empty()).await;

    // 6. With "Keep running when the window is closed" off, closing the window ends the app.
    let toggle = "[data-testid=keep-running-toggle]";
    wait_js(&c, "the setting, on", &format!("return document.querySelector('{toggle}')?.checked === true;")).await;
    click(&c, toggle).await;
    let off = "return [...document.querySelectorAll('[data-testid=toast]')].some(t => t.textContent.includes('Closing the window quits Tally'));";
    wait_js(&c, "the setting saved", off).await;
    x.close(win);
    let proc = format!("/proc/{pid}");
    until("the app to end", || !std::path::Path::new(&proc).exists() || is_zombie(&proc)).await;
    bob.shutdown();
    hub.shutdown().await;
}

fn is_zombie(proc: &str) -> bool {
    std::fs::read_to_string(format!("{proc}/stat")).map(|s| s.contains(") Z ")).unwrap_or(true)
}
