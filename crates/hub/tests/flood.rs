//! Nobody without an account can exhaust the hub (one test in its own process: it reads the hub's
//! password-work counter from /metrics). Floods of sign-ups to a closed tenant, wrong passwords from a
//! rotating IPv6 /64, admin calls without a token and unauthenticated sockets, all at once and bounded,
//! on loopback: refused requests cost no password work, 429s arrive with Retry-After, and a real user
//! still signs in meanwhile.
mod common;
use common::*;
use futures_util::future::join_all;
use futures_util::SinkExt;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as WsMessage;

const PW: &str = "correct horse battery";

async fn hashes(hub: &TestHub) -> u64 {
    hub.password_hashes().await
}

async fn post_from(hub: &TestHub, path: &str, from: &str, body: Value) -> (u16, Option<String>, Value) {
    let r = hub.http.post(format!("{}{path}", hub.base)).header("x-forwarded-for", from).json(&body).send().await;
    let r = r.expect("http");
    let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    (r.status().as_u16(), retry, r.json().await.unwrap_or(Value::Null))
}

fn tally(results: &[(u16, Option<String>, Value)]) -> HashMap<u16, usize> {
    let mut m = HashMap::new();
    for (s, _, _) in results {
        *m.entry(*s).or_default() += 1;
    }
    m
}

/// Bob signs in from his own address while the floods run, waiting as Retry-After says (bounded).
async fn real_sign_in(hub: &TestHub) -> u16 {
    for _ in 0..40 {
        let body = json!({"username": "bob", "password": PW});
        let (s, retry, v) = post_from(hub, "/v1/auth/login", "192.0.2.77", body).await;
        if s != 429 {
            assert_eq!(s, 200, "{v}");
            return s;
        }
        let secs: u64 = retry.expect("429 says when to retry").parse().unwrap();
        tokio::time::sleep(Duration::from_millis(250 * secs)).await;
    }
    panic!("bob never got in");
}

/// The close code a socket gets for sending `first` before hello (the send itself may be cut short).
async fn close_code_after(url: &str, first: String) -> Option<u16> {
    use futures_util::StreamExt;
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("ws connect");
    let _ = ws.send(WsMessage::text(first)).await;
    loop {
        match tokio::time::timeout(WAIT, ws.next()).await {
            Ok(Some(Ok(WsMessage::Close(Some(cf))))) => return Some(cf.code.into()),
            Ok(Some(Ok(_))) => continue,
            _ => return None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_without_credentials_costs_no_password_work_and_a_real_user_still_signs_in() {
    let hub = TestHub::start_with(|c| {
        c.trusted_proxy = vec!["127.0.0.1/32".parse().unwrap()];
        c.password_work_parallel = 2;
        c.password_work_queue = 6;
        c.max_unauthenticated_per_address = 8;
    })
    .await;
    hub.register("alice").await;
    hub.register("bob").await;
    let (s, v) = hub.admin_post("/v1/admin/tenants", json!({"name": "vault"})).await;
    assert_eq!((s, v["registration"].as_str()), (200, Some("closed")));
    let before = hashes(&hub).await;

    // 1. Sign-ups to a closed tenant, 10 from each of 30 addresses, all at once: five answers each (403),
    //    then 429; no password rules run and nothing is hashed.
    let signups = (0..300).map(|i| {
        let body = json!({"username": format!("mallory{i}"), "password": PW, "tenant": "vault"});
        let from = format!("198.51.100.{}", i % 30);
        let hub = &hub;
        async move { post_from(hub, "/v1/auth/register", &from, body).await }
    });
    // 2. Wrong passwords for alice, 60 at once, each from another address of one IPv6 /64.
    let guesses = (0..60).map(|i| {
        let body = json!({"username": "alice", "password": format!("wrong guess number {i}")});
        let from = format!("2001:db8:4:5::{:x}", i + 1);
        let hub = &hub;
        async move { post_from(hub, "/v1/auth/login", &from, body).await }
    });
    let (signups, guesses, bob) = tokio::join!(join_all(signups), join_all(guesses), real_sign_in(&hub));
    assert_eq!(bob, 200);
    assert_eq!(tally(&signups), HashMap::from([(403, 150), (429, 150)]), "five answers per address");
    assert!(signups
        .iter()
        .filter(|r| r.0 == 429)
        .all(|r| r.1.as_deref().is_some_and(|s| s.parse::<u64>().unwrap() > 0)));
    assert_eq!(tally(&guesses), HashMap::from([(401, 5), (429, 55)]), "exactly five guesses for the /64");
    let after = hashes(&hub).await;
    assert_eq!(after - before, 5 + 1, "only alice's five allowed guesses and bob's sign-in were hashed");

    // 2b. Sign-ups to an invite-only tenant with made-up codes, each from its own address (so no throttle
    //     helps): every one is refused before its password is hashed.
    hub.admin_post("/v1/admin/tenants", json!({"name": "club", "registration": "invite"})).await;
    let before = hashes(&hub).await;
    let made_up = (0..40).map(|i| {
        let body =
            json!({"username": format!("eve{i}"), "password": PW, "tenant": "club", "invite": format!("inv_{i}")});
        let from = format!("192.0.2.{}", i + 1);
        let hub = &hub;
        async move { post_from(hub, "/v1/auth/register", &from, body).await }
    });
    let made_up = join_all(made_up).await;
    assert_eq!(tally(&made_up), HashMap::from([(403, 40)]));
    assert_eq!(hashes(&hub).await, before, "a made-up invite code costs no password hash");

    // 3. Unknown users from 200 addresses at once: at most 2 hashes run and 6 wait; the rest are told to
    //    come back (429 + Retry-After) without a hash; every 401 was hashed, no 429 was.
    let before = hashes(&hub).await;
    let strangers = (0..200).map(|i| {
        let body = json!({"username": format!("nobody{i}"), "password": PW});
        let from = format!("203.0.113.{}", i % 250);
        let hub = &hub;
        async move { post_from(hub, "/v1/auth/login", &from, body).await }
    });
    let (strangers, bob) = tokio::join!(join_all(strangers), real_sign_in(&hub));
    assert_eq!(bob, 200);
    let t = tally(&strangers);
    assert!(t.get(&429).copied().unwrap_or(0) > 0, "a full queue answers 429: {t:?}");
    assert!(strangers.iter().filter(|r| r.0 == 429).all(|r| r.1.as_deref() == Some("1")));
    assert_eq!(t.get(&401).copied().unwrap_or(0) + t.get(&429).copied().unwrap_or(0), 200, "{t:?}");
    assert_eq!(hashes(&hub).await - before, t[&401] as u64 + 1, "refused sign-ins were not hashed");

    // 4. The admin routes check the token before reading the body: malformed bodies without a token are
    //    401 (not a parse error), large ones are not read (401 or the connection closed unread).
    let bare = |path: &str, body: String| {
        hub.http.post(format!("{}{path}", hub.base)).header("content-type", "application/json").body(body).send()
    };
    let r = bare("/v1/admin/users", "{not json".into()).await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let big = join_all((0..20).map(|_| bare("/v1/admin/users", "x".repeat(1 << 20)))).await;
    assert!(big.iter().all(|r| r.as_ref().map(|r| r.status().as_u16() == 401).unwrap_or(true)));
    let r = hub
        .http
        .post(format!("{}/v1/admin/deposit", hub.base))
        .bearer_auth(&hub.admin)
        .header("content-type", "application/json")
        .body(format!("{{\"memo\":\"{}\"}}", "x".repeat(32 * 1024)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 413, "single-item admin routes take small bodies");
    let r = hub.http.post(format!("{}/v1/auth/login", hub.base)).json(&json!({"username": "x".repeat(9000)}));
    assert_eq!(r.send().await.unwrap().status().as_u16(), 413, "account routes take a few KiB");

    // 5. Sockets: a frame far over the limit before hello closes with 1009 unread; an address holding
    //    eight sockets that have not said hello is refused a ninth (429), others are not.
    assert_eq!(close_code_after(&hub.ws_url(), "x".repeat(1 << 20)).await, Some(1009));
    let open = |from: &'static str| {
        let mut req = hub.ws_url().into_client_request().unwrap();
        req.headers_mut().insert("x-forwarded-for", from.parse().unwrap());
        tokio_tungstenite::connect_async(req)
    };
    let mut idle = vec![];
    for _ in 0..8 {
        idle.push(open("198.51.100.200").await.expect("within the cap").0);
    }
    let refused = open("198.51.100.200").await.unwrap_err();
    assert!(refused.to_string().contains("429"), "{refused}");
    open("198.51.100.201").await.expect("another address is not affected");
    let mut first = idle.remove(0);
    first.send(WsMessage::text("{}")).await.unwrap();
    drop(first);
    tokio::time::sleep(Duration::from_millis(300)).await;
    open("198.51.100.200").await.expect("a place came back");
}
