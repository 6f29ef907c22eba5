//! The real app in the real WebView for end-to-end tests: tauri-driver + WebKitWebDriver started in their
//! own process group, a WebDriver session with the app binary, and the waits and clicks a person's
//! actions need (each bounded; a failure saves a screenshot and the page's source).
#![allow(dead_code)]
use fantoccini::{Client, ClientBuilder, Locator};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const WAIT: Duration = Duration::from_secs(30);

pub struct Driver(Child);
impl Drop for Driver {
    fn drop(&mut self) {
        // tauri-driver runs in its own process group with WebKitWebDriver and the app: end them all.
        let _ = Command::new("kill").args(["-TERM", "--", &format!("-{}", self.0.id())]).status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn tool(name: &str) -> Option<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    let candidates = [
        home.join(".cargo/bin").join(name),
        PathBuf::from("/usr/bin").join(name),
        PathBuf::from("/usr/local/bin").join(name),
    ];
    candidates.into_iter().find(|p| p.exists())
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A demo hub (alice, bob, ...) on `port`, quick heartbeats and transfer steps.
pub fn hub_config(dir: &std::path::Path, port: u16) -> tally_hub::Config {
    let mut cfg = tally_hub::Config::for_dir(dir);
    cfg.bind = format!("127.0.0.1:{port}").parse().unwrap();
    cfg.demo = true;
    cfg.demo_bot_ms = 0;
    cfg.transfer_step_ms = 150;
    cfg.heartbeat_ms = 1_000;
    cfg
}

pub async fn wait_css(c: &Client, css: &str) -> fantoccini::elements::Element {
    match c.wait().at_most(WAIT).for_element(Locator::Css(css)).await {
        Ok(e) => e,
        Err(e) => {
            let _ = tokio::time::timeout(Duration::from_secs(10), shot(c, "failure")).await;
            let src = tokio::time::timeout(Duration::from_secs(10), c.source())
                .await
                .ok()
                .and_then(|r| r.ok())
                .unwrap_or_default();
            panic!("no {css}: {e}\npage: {}", src.chars().take(3000).collect::<String>());
        }
    }
}

/// Waits until `js` (a function body returning a value) returns something truthy.
pub async fn wait_js(c: &Client, what: &str, js: &str) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let v = c.execute(js, vec![]).await.unwrap_or(serde_json::Value::Null);
        let truthy = match &v {
            serde_json::Value::Null => false,
            serde_json::Value::Bool(b) => *b,
            serde_json::Value::Number(n) => n.as_f64() != Some(0.0),
            serde_json::Value::String(s) => !s.is_empty(),
            _ => true,
        };
        if truthy {
            return v;
        }
        if tokio::time::Instant::now() >= deadline {
            let _ = tokio::time::timeout(Duration::from_secs(10), shot(c, "failure")).await;
            let text = c.execute("return document.body.innerText", vec![]).await.unwrap_or_default();
            panic!("timed out waiting for {what}; the page says: {text}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn shot(c: &Client, name: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/e2e-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    if let Ok(png) = c.screenshot().await {
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
}

/// Clicks like a person: the element must be visible and not covered. A cover that lasts longer than an
/// animation (a toast over a button, a stuck overlay) is a UI bug, so it fails naming what covers it.
pub async fn click(c: &Client, css: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    loop {
        let el = wait_css(c, css).await;
        match el.click().await {
            Ok(()) => return,
            Err(fantoccini::error::CmdError::Standard(e))
                if e.error == fantoccini::error::ErrorStatus::ElementClickIntercepted
                    && tokio::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => {
                shot(c, "failure-click").await;
                let cover = c
                    .execute(
                        "const e = document.querySelector(arguments[0]); if (!e) return null; \
                         const r = e.getBoundingClientRect(); \
                         const t = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2); \
                         return t ? t.outerHTML.slice(0, 300) : null;",
                        vec![serde_json::json!(css)],
                    )
                    .await
                    .unwrap_or_default();
                panic!("could not click {css}: {e}\ncovered by: {cover}");
            }
        }
    }
}

/// Fills the sign-in form as a person would and submits it: the server, then the username (replacing
/// the one the WebView remembers from an earlier run), then the password.
pub async fn sign_in_form(c: &Client, server: &str, username: &str, password: &str) {
    let field = wait_css(c, "[data-testid=signin-server]").await;
    field.clear().await.unwrap();
    field.send_keys(server).await.unwrap();
    let user = wait_css(c, "[data-testid=signin-username]").await;
    user.clear().await.unwrap();
    user.send_keys(username).await.unwrap();
    wait_css(c, "[data-testid=signin-password]").await.send_keys(password).await.unwrap();
    click(c, "[data-testid=signin-submit]").await;
}

pub async fn nav(c: &Client, view: &str) {
    click(c, &format!("[data-testid=nav-{view}]")).await;
}

/// The app under a test identity (its own data dir and keychain service) in a WebDriver session, or
/// `None` when the desktop pieces are missing and the run does not require them (then the test skips).
pub async fn open_app(app_data: &std::path::Path, name: &str) -> Option<(Driver, Client)> {
    open_app_at(env!("CARGO_BIN_EXE_tally"), app_data, name, &[]).await
}

/// `open_app` for a given binary (an installed one), with extra environment for the app.
pub async fn open_app_at(
    binary: &str,
    app_data: &std::path::Path,
    name: &str,
    env: &[(&str, &str)],
) -> Option<(Driver, Client)> {
    let required = std::env::var_os("TALLY_REQUIRE_DESKTOP").is_some();
    let (Some(driver_bin), Some(_)) = (tool("tauri-driver"), tool("WebKitWebDriver")) else {
        assert!(!required, "tauri-driver or WebKitWebDriver is missing (scripts/deps.sh test installs them)");
        eprintln!("skipped: tauri-driver/WebKitWebDriver not installed");
        return None;
    };
    if std::env::var_os("DISPLAY").is_none() {
        assert!(!required, "no DISPLAY: run inside scripts/desktop-session.sh");
        eprintln!("skipped: no display");
        return None;
    }
    let (wd_port, native_port) = (free_port(), free_port());
    let driver = Driver(
        Command::new(driver_bin)
            .args(["--port", &wd_port.to_string(), "--native-port", &native_port.to_string()])
            .env("TALLY_DATA_DIR", app_data)
            .env("TALLY_KEYRING_SERVICE", format!("app.tally.{name}-{}", std::process::id()))
            .env("WEBKIT_DISABLE_DMABUF_RENDERER", "1")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("tauri-driver starts"),
    );
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), "wry".into());
    caps.insert("tauri:options".into(), serde_json::json!({ "application": binary }));
    let wd_url = format!("http://127.0.0.1:{wd_port}");
    for _ in 0..50 {
        let mut builder = ClientBuilder::rustls().expect("tls");
        builder.capabilities(caps.clone());
        match tokio::time::timeout(Duration::from_secs(60), builder.connect(&wd_url)).await {
            Ok(Ok(client)) => return Some((driver, client)),
            Ok(Err(_)) => tokio::time::sleep(Duration::from_millis(200)).await,
            Err(_) => panic!("the WebDriver session did not start within 60 s"),
        }
    }
    panic!("no WebDriver session with the app");
}

/// The hub's database file, opened read-only beside the running hub (WAL lets a second reader in).
pub fn hub_db(dir: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(dir.join("hub.db"), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
}

/// Clicks Send's "Confirm" like a person and waits for the result to say completed: how long that took on
/// the page (from the click's event to the DOM change that showed "completed", `performance.now()`), and
/// each phase the result showed on the way. Printed by the caller, never asserted (a figure, not a test).
pub async fn confirm_payment_timed(c: &Client) -> (f64, Vec<String>) {
    const WATCH: &str = "const w = window.__payment = { t0: null, done: null, phases: [] };
        const seen = () => {
          const e = document.querySelector('[data-testid=send-result]');
          if (!e || w.t0 === null) return;
          if (w.phases[w.phases.length - 1] !== e.dataset.phase) w.phases.push(e.dataset.phase);
          if (e.dataset.phase === 'completed' && w.done === null) w.done = performance.now();
        };
        document.addEventListener('click', ev => {
          if (w.t0 === null && ev.target.closest('[data-testid=send-confirm]')) w.t0 = performance.now();
        }, { capture: true });
        w.observer = new MutationObserver(seen);
        w.observer.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-phase'] });";
    c.execute(WATCH, vec![]).await.expect("the payment watcher");
    click(c, "[data-testid=send-confirm]").await;
    let read = "const w = window.__payment; if (w.done === null) return null; w.observer.disconnect();
        return [w.done - w.t0, w.phases];";
    let v = wait_js(c, "the payment completed", read).await;
    let phases = v[1].as_array().map(|a| a.iter().filter_map(|p| p.as_str().map(String::from)).collect());
    (v[0].as_f64().unwrap_or(f64::NAN), phases.unwrap_or_default())
}
