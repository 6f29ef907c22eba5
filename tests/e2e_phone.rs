//! Phone-sized windows in the real WebView (Android and iOS builds cannot be made on this machine; this is
//! the layout they would show): the app window at 390×844 and 360×740, signed in to a demo hub, every view
//! visited; nothing scrolls sideways (the same measurement as the Chromium layout tests,
//! ui/tests/overflow.mjs), the bottom bar's tabs are 44 px touch targets, and a screenshot of each view
//! lands in target/e2e-screenshots/phone-*.png.
use std::time::Duration;

#[path = "support/webview.rs"]
mod webview;
use webview::*;

const OVERFLOW: &str = include_str!("../ui/tests/overflow.mjs");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_view_fits_a_phone_sized_window_in_the_real_webview() {
    tokio::time::timeout(Duration::from_secs(240), scenario()).await.expect("the phone scenario took over 4 minutes");
}

async fn overflow(c: &fantoccini::Client) -> Vec<String> {
    let js = format!("{}\nreturn overflowProblems();", OVERFLOW.replace("export function", "function"));
    let v = c.execute(&js, vec![]).await.expect("the measurement runs");
    serde_json::from_value(v).unwrap_or_default()
}

/// The window as the X server shows it (WebKit's own snapshot of some views at phone size can take
/// minutes): ImageMagick's `import` of the window titled Tally.
fn window_shot(name: &str) {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/e2e-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let id = std::process::Command::new("xdotool").args(["search", "--onlyvisible", "--name", "^Tally$"]).output();
    let id = id.map(|o| String::from_utf8_lossy(&o.stdout).lines().next().unwrap_or("root").to_string());
    let id = id.unwrap_or_else(|_| "root".into());
    let out = dir.join(format!("{name}.png"));
    let _ = std::process::Command::new("import").args(["-window", &id]).arg(out).status();
}

async fn scenario() {
    tally_client::install_crypto();
    let hub_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = format!("http://127.0.0.1:{port}");
    let hub = tally_hub::start(hub_config(hub_dir.path(), port)).await.expect("hub");
    let app_data = tempfile::tempdir().unwrap();
    let Some((_driver, c)) = open_app(app_data.path(), "phone").await else { return };
    sign_in_form(&c, &server, "alice", tally_hub::demo::PASSWORD).await;
    wait_css(&c, "[data-testid=balance-amount]").await;

    let mut problems = vec![];
    for (w, h) in [(390u32, 844u32), (360, 740)] {
        c.set_window_size(w, h).await.expect("the window takes a phone's size");
        let inner = format!("return Math.abs(innerWidth - {w}) <= 24;");
        wait_js(&c, &format!("a {w} px wide page"), &inner).await;
        for view in ["home", "history", "send", "chat", "notifications", "settings"] {
            let tab = format!("[data-testid=nav-{view}]");
            let size = format!(
                "const r = document.querySelector('{tab}').getBoundingClientRect(); return r.width >= 44 && r.height >= 44 && r.top > innerHeight / 2;"
            );
            if c.execute(&size, vec![]).await.unwrap_or_default() != serde_json::json!(true) {
                problems.push(format!("{w}×{h} {view}: the tab is not a 44 px target in the bottom bar"));
            }
            click(&c, &tab).await;
            tokio::time::sleep(Duration::from_millis(400)).await;
            for p in overflow(&c).await {
                problems.push(format!("{w}×{h} {view}: {p}"));
            }
            window_shot(&format!("phone-{w}-{view}"));
        }
    }
    assert!(problems.is_empty(), "in the real WebView at phone sizes:\n  {}", problems.join("\n  "));
    let _ = c.close().await;
    hub.shutdown().await;
}
