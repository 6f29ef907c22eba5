//! One refresh in flight per account, against a real hub that revokes the whole session family when a
//! refresh token is spent twice (no grace window here).
use super::{Shared, TokenState};
use crate::api::Api;
use crate::notify::RecordingNotifier;
use crate::secrets::MemoryStore;
use crate::store::Store;
use crate::view::ConnState;
use std::sync::{Arc, Mutex};
use tokio::sync::{broadcast, watch};

async fn hub(dir: &std::path::Path) -> (tally_hub::Running, String) {
    let mut cfg = tally_hub::Config::for_dir(dir);
    cfg.bind = "127.0.0.1:0".parse().unwrap();
    cfg.refresh_grace_secs = 0;
    cfg.registration = Some(tally_hub::store::repo::Registration::Open);
    cfg.jwt_secret = Some("single-flight-tests-secret-single-flight-01".into());
    let running = tally_hub::start(cfg).await.expect("hub");
    let url = format!("http://{}", running.addr);
    let r = reqwest::Client::new()
        .post(format!("{url}/v1/auth/register"))
        .json(&serde_json::json!({"username": "sam", "password": "pass-word-123", "display_name": "Sam"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    (running, url)
}

fn shared(url: &str, dir: &std::path::Path, tokens: &crate::api::Tokens) -> Arc<Shared> {
    let (events, _) = broadcast::channel(64);
    Arc::new(Shared {
        api: Api::new(url, &crate::tls::client_config(None).unwrap()).unwrap(),
        store: Arc::new(Store::open(&dir.join("cache.db"), tokens.user.id).unwrap()),
        user: tokens.user.clone(),
        secrets: Arc::new(MemoryStore::default()),
        notifier: Arc::new(RecordingNotifier::default()),
        events,
        state: watch::channel(ConnState::Offline { since: None }).0,
        client_name: "test".into(),
        reconnect_caps: Default::default(),
        // A restored session: only the refresh token, so every caller needs a refresh.
        tokens: Mutex::new(TokenState::new(tokens.refresh_token.clone())),
        refresh_gate: Default::default(),
        typing: Mutex::new(Default::default()),
        focused_room: Mutex::new(None),
        pages_fetched: Default::default(),
        cache_account: "test".into(),
        lock: Default::default(),
        foreground: Default::default(),
        display: Default::default(),
        files: Default::default(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_share_one_refresh_and_the_session_survives() {
    let dir = tempfile::tempdir().unwrap();
    let (running, url) = hub(dir.path()).await;
    let first = Api::new(&url, &crate::tls::client_config(None).unwrap())
        .unwrap()
        .login("sam", "pass-word-123", None, &crate::engine::device_info("test"))
        .await
        .unwrap();
    let sh = shared(&url, dir.path(), &first);
    // Sixteen callers at once (the socket's connect, an in-band renewal, ...), some forcing a refresh.
    let calls: Vec<_> = (0..16)
        .map(|i| {
            let sh = sh.clone();
            tokio::spawn(async move { sh.access_token(i % 4 == 0).await })
        })
        .collect();
    let mut tokens = Vec::new();
    for c in calls {
        tokens.push(c.await.unwrap().expect("every caller gets a token"));
    }
    // Spending the same refresh token twice would have revoked the family: the stored one still works,
    // and no other refresh token was issued and lost on the way.
    let generation = sh.tokens.lock().unwrap().generation;
    assert!((1..=5).contains(&generation), "{generation} refreshes for 16 callers (4 of them forced)");
    let stored = sh.tokens.lock().unwrap().refresh.clone();
    assert_eq!(sh.secrets.load().unwrap().map(|s| s.refresh_token), Some(stored.clone()));
    let next = Api::new(&url, &crate::tls::client_config(None).unwrap())
        .unwrap()
        .refresh(&stored)
        .await
        .expect("the session was not revoked");
    assert_ne!(next.refresh_token, stored);
    assert!(tokens.iter().all(|t| !t.is_empty()));
    running.shutdown().await;
}
