//! Signed updates end to end, on the installed app (scripts/update-test.sh builds the .deb with a
//! development update key made for the run, installs it, and makes a newer package and its signature).
//! The installed Tally (0.1.0) signs in to a demo hub that serves the update feed (`--updates-dir`): a
//! feed whose signature was made for another file is refused and says so, nothing is installed; with the
//! right signature, "Install and restart" downloads the newer package, verifies it and installs it
//! (dpkg then holds the newer version).
//!
//! Runs only when scripts/update-test.sh sets TALLY_UPDATE_TEST (the directory with `new.deb`,
//! `new.deb.sig`, `other.sig` and the newer version in `version`); skipped otherwise.
use std::time::Duration;

#[path = "support/webview.rs"]
mod webview;
use webview::*;

fn installed_version() -> String {
    let out = std::process::Command::new("dpkg-query").args(["-W", "-f=${Version}", "tally"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn feed(dir: &std::path::Path, version: &str, url: &str, signature: &str) {
    let latest = serde_json::json!({
        "version": version,
        "notes": "A newer Tally, for the update test.",
        "pub_date": "2026-12-06T00:00:00Z",
        "platforms": { "linux-x86_64-deb": { "url": url, "signature": signature } }
    });
    std::fs::write(dir.join("latest.json"), latest.to_string()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_installed_app_refuses_a_bad_signature_and_installs_a_signed_update() {
    let Some(work) = std::env::var_os("TALLY_UPDATE_TEST").map(std::path::PathBuf::from) else {
        return eprintln!("skipped: run by scripts/update-test.sh (make test-bundle)");
    };
    tokio::time::timeout(Duration::from_secs(300), scenario(&work))
        .await
        .expect("the update scenario took over 5 minutes");
}

async fn scenario(work: &std::path::Path) {
    tally_client::install_crypto();
    let version = std::fs::read_to_string(work.join("version")).unwrap().trim().to_string();
    let before = installed_version();
    assert_ne!(before, version);
    let updates = work.join("feed");
    std::fs::create_dir_all(&updates).unwrap();
    std::fs::copy(work.join("new.deb"), updates.join("Tally_new_amd64.deb")).unwrap();
    let hub_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = format!("http://127.0.0.1:{port}");
    let mut cfg = hub_config(hub_dir.path(), port);
    cfg.updates_dir = Some(updates.clone());
    let hub = tally_hub::start(cfg).await.expect("hub");
    let deb_url = format!("{server}/updates/Tally_new_amd64.deb");
    let other = std::fs::read_to_string(work.join("other.sig")).unwrap();
    feed(&updates, &version, &deb_url, other.trim());

    let app_data = tempfile::tempdir().unwrap();
    let feed_url = format!("{server}/updates/latest.json");
    let env = [("TALLY_UPDATE_URL", feed_url.as_str())];
    let Some((_driver, c)) = open_app_at("/usr/bin/tally", app_data.path(), "update", &env).await else { return };
    sign_in_form(&c, &server, "alice", tally_hub::demo::PASSWORD).await;
    wait_css(&c, "[data-testid=balance-amount]").await;
    nav(&c, "settings").await;

    // A signature made for another file: refused, said plainly, nothing installed.
    click(&c, "[data-testid=update-check]").await;
    let available =
        format!("return document.querySelector('[data-testid=update-available]')?.textContent.includes('{version}');");
    wait_js(&c, "the newer version offered", &available).await;
    click(&c, "[data-testid=update-install]").await;
    let refused = "return document.querySelector('[data-testid=update-error]')?.textContent.includes('signature does not match');";
    wait_js(&c, "the bad signature refused", refused).await;
    shot(&c, "update-01-bad-signature").await;
    assert_eq!(installed_version(), before, "nothing was installed");

    // The right signature: downloaded, verified, installed.
    let good = std::fs::read_to_string(work.join("new.deb.sig")).unwrap();
    feed(&updates, &version, &deb_url, good.trim());
    click(&c, "[data-testid=update-check]").await;
    wait_js(&c, "the newer version offered again", &available).await;
    click(&c, "[data-testid=update-install]").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while installed_version() != version {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the update was not installed (dpkg has {})",
            installed_version()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let _ = c.close().await;
    hub.shutdown().await;
}
