//! The account's security screens end to end: the real app binary in the real WebView (tauri-driver +
//! WebKitWebDriver) against a real hub whose operator requires two-factor. A new person signs up, is
//! held to enrolment, turns two-factor on from the QR screen (the code computed from the key the app
//! shows), pays someone, locks the app with a PIN, signs out (the cache is deleted) and signs in again
//! with a code. Screenshots land in target/e2e-screenshots/ (2x-).
use fantoccini::Client;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[path = "support/webview.rs"]
mod webview;
use webview::*;

const PASSWORD: &str = "plum otter kettle 93";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_two_factor_app_lock_and_sign_out_in_the_real_app() {
    tokio::time::timeout(Duration::from_secs(300), scenario()).await.expect("the account scenario took over 5 minutes");
}

fn code_at(secret: &str, unix: u64) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.to_string()).to_bytes().expect("the key the app shows is base32");
    totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes, None, String::new()).unwrap().generate(unix)
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

async fn admin_post(server: &str, admin: &str, path: &str, body: serde_json::Value) {
    let r = reqwest::Client::new().post(format!("{server}{path}")).bearer_auth(admin).json(&body).send().await;
    assert_eq!(r.unwrap().status().as_u16(), 200, "{path}");
}

async fn type_into(c: &Client, testid: &str, text: &str) {
    let el = wait_css(c, &format!("[data-testid='{testid}']")).await;
    el.clear().await.unwrap();
    el.send_keys(text).await.unwrap();
}

async fn balance_is(c: &Client, minor: i64) {
    let js = format!(
        "const e = document.querySelector('[data-testid=balance-amount]'); return e && Number(e.dataset.minor) === {minor};"
    );
    wait_js(c, &format!("a balance of {minor}"), &js).await;
}

/// Every file under the app's data directory whose name mentions the cache.
fn cache_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else if p.file_name().is_some_and(|n| n.to_string_lossy().contains("cache.db")) {
                out.push(p);
            }
        }
    }
    out
}

async fn scenario() {
    tally_client::install_crypto();
    let hub_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = format!("http://127.0.0.1:{port}");
    let hub = tally_hub::start(hub_config(hub_dir.path(), port)).await.expect("hub");
    let admin = std::fs::read_to_string(hub_dir.path().join("admin.token")).unwrap();
    admin_post(
        &server,
        &admin,
        "/v1/admin/tenants",
        serde_json::json!({"name": "default", "require_two_factor": true}),
    )
    .await;
    let app_data = tempfile::tempdir().unwrap();
    let Some((_driver, c)) = open_app(app_data.path(), "e2e-account").await else { return };

    sign_up(&c, &server).await;
    let secret = enrol(&c).await;
    admin_post(
        &server,
        &admin,
        "/v1/admin/deposit",
        serde_json::json!({"username": "zoe", "amount": {"minor": 5_000, "currency": "USD"}}),
    )
    .await;
    pay_bob(&c).await;
    let paid: (i64, String) = hub_db(hub_dir.path())
        .query_row(
            "SELECT t.amount, t.status FROM transfers t JOIN users u ON u.id = t.from_user WHERE u.username = 'zoe'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(paid, (1_234, "completed".to_string()), "the hub holds the payment");
    lock_and_unlock(&c).await;
    sign_out(&c, app_data.path()).await;
    sign_in_with_code(&c, &secret).await;
    let _ = c.close().await;
    hub.shutdown().await;
}

async fn sign_up(c: &Client, server: &str) {
    click(c, "[data-testid=signup-open]").await;
    type_into(c, "signin-server", server).await;
    wait_js(c, "the sign-up form open", "return !!document.querySelector('[data-testid=signup-username]');").await;
    type_into(c, "signup-username", "zoe").await;
    type_into(c, "signup-display-name", "Zoe Zhang").await;
    type_into(c, "signup-password", PASSWORD).await;
    type_into(c, "signup-confirm", PASSWORD).await;
    shot(c, "20-sign-up").await;
    click(c, "[data-testid=signup-submit]").await;
}

/// The server requires two-factor: the app says so at once; the key it shows yields the code.
async fn enrol(c: &Client) -> String {
    wait_css(c, "[data-testid=enrol-dialog]").await;
    wait_css(c, "[data-testid=enrol-banner]").await;
    shot(c, "21-enrol-required").await;
    click(c, "[data-testid=enrol-dialog-go]").await;
    // A security change asks for the password again, even right after signing up.
    type_into(c, "2fa-password", PASSWORD).await;
    click(c, "[data-testid='2fa-password-continue']").await;
    wait_css(c, "[data-testid='2fa-dialog'] [data-testid=qr-code] svg").await;
    let shown = wait_css(c, "[data-testid='2fa-secret']").await.text().await.unwrap();
    let secret: String = shown.chars().filter(|ch| !ch.is_whitespace()).collect();
    assert!(secret.len() >= 32, "the key is shown in full: {shown:?}");
    type_into(c, "2fa-code", &code_at(&secret, now())).await;
    click(c, "[data-testid='2fa-enable']").await;
    let n = wait_js(
        c,
        "ten recovery codes",
        r#"return document.querySelectorAll('[data-testid="2fa-recovery-codes"] li').length;"#,
    )
    .await;
    assert_eq!(n, serde_json::json!(10));
    shot(c, "22-recovery-codes").await;
    click(c, "[data-testid='2fa-saved']").await;
    click(c, "[data-testid='2fa-done']").await;
    wait_js(
        c,
        "two-factor on",
        r#"const e = document.querySelector('[data-testid="2fa-status"]'); return e && e.dataset.enabled === 'true';"#,
    )
    .await;
    secret
}

/// Enrolled on this very session: the payment goes through without signing in again.
async fn pay_bob(c: &Client) {
    nav(c, "home").await;
    wait_js(c, "the banner gone", "return !document.querySelector('[data-testid=enrol-banner]');").await;
    balance_is(c, 5_000).await;
    nav(c, "send").await;
    type_into(c, "send-recipient-search", "bob").await;
    click(c, "[data-testid=send-recipient][data-username=bob]").await;
    type_into(c, "send-amount", "12.34").await;
    type_into(c, "send-memo", "first payment").await;
    click(c, "[data-testid=send-continue]").await;
    wait_css(c, "[data-testid=send-review]").await;
    let (ms, phases) = confirm_payment_timed(c).await;
    println!("payment: Confirm -> \"completed\" on the page in {ms:.0} ms (shown: {})", phases.join(" -> "));
    shot(c, "23-paid").await;
}

/// A PIN from Settings, "Lock now": nothing of the account is on the page until the PIN.
async fn lock_and_unlock(c: &Client) {
    nav(c, "settings").await;
    click(c, "[data-testid=lock-turn-on]").await;
    type_into(c, "lock-pin-new", "4821").await;
    type_into(c, "lock-pin-confirm", "4821").await;
    click(c, "[data-testid=lock-submit]").await;
    wait_js(
        c,
        "the lock on",
        "const e = document.querySelector('[data-testid=lock-status]'); return e && e.dataset.enabled === 'true';",
    )
    .await;
    click(c, "[data-testid=lock-now]").await;
    wait_css(c, "[data-testid=lock-screen]").await;
    let shown = c
        .execute("return [!!document.querySelector('[data-testid=balance-amount]'), document.body.innerText];", vec![])
        .await
        .unwrap();
    assert_eq!(shown[0], serde_json::json!(false), "no balance behind the lock");
    let text = shown[1].as_str().unwrap_or_default();
    assert!(!text.contains("37.66") && !text.contains("first payment"), "nothing of the account: {text}");
    shot(c, "24-locked").await;
    type_into(c, "lock-pin", "0000").await;
    click(c, "[data-testid=lock-unlock]").await;
    wait_js(c, "a wrong PIN counted", "const e = document.querySelector('[data-testid=lock-error]'); return e && /attempts? left/.test(e.textContent);").await;
    type_into(c, "lock-pin", "4821").await;
    click(c, "[data-testid=lock-unlock]").await;
    nav(c, "home").await;
    balance_is(c, 5_000 - 1_234).await;
}

/// Sign-out, keeping nothing (the default): the cache file is gone.
async fn sign_out(c: &Client, app_data: &std::path::Path) {
    assert!(!cache_files(app_data).is_empty(), "a cache while signed in");
    nav(c, "settings").await;
    click(c, "[data-testid=sign-out]").await;
    click(c, "[data-testid=sign-out-confirm]").await;
    wait_css(c, "[data-testid=signin-password]").await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while !cache_files(app_data).is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "cache left behind: {:?}", cache_files(app_data));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The next sign-in asks for a code (one from a later time step: the enrolment's is spent).
async fn sign_in_with_code(c: &Client, secret: &str) {
    type_into(c, "signin-username", "zoe").await;
    type_into(c, "signin-password", PASSWORD).await;
    click(c, "[data-testid=signin-submit]").await;
    wait_css(c, "[data-testid=signin-code-prompt]").await;
    type_into(c, "signin-code", &code_at(secret, now() + 30)).await;
    shot(c, "25-sign-in-code").await;
    click(c, "[data-testid=signin-code-submit]").await;
    balance_is(c, 5_000 - 1_234).await;
}
