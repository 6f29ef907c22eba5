mod common;
use common::*;
use serde_json::json;
use tally_protocol::*;

#[tokio::test]
async fn login_refresh_rotation_and_logout() {
    // No grace window: any reuse of a spent token is theft.
    let hub = TestHub::start_with(|c| c.refresh_grace_secs = 0).await;
    let s = hub.register("dora").await;
    let (st, v) = hub.post("/v1/auth/login", json!({"username": "dora", "password": "correct horse battery"})).await;
    assert_eq!(st, 200, "{v}");
    let (st, _) = hub.post("/v1/auth/login", json!({"username": "dora", "password": "wrong"})).await;
    assert_eq!(st, 401);

    // Rotation: the new refresh token works, the old one is spent.
    let (st, v) = hub.post("/v1/auth/refresh", json!({"refresh_token": s.refresh})).await;
    assert_eq!(st, 200, "{v}");
    let rotated = Session::from_json(&v);
    assert_ne!(rotated.refresh, s.refresh);
    // Reusing the spent token revokes the whole family, including the rotated one, and its sockets.
    let mut live = hub.connect(&rotated).await;
    let (st, _) = hub.post("/v1/auth/refresh", json!({"refresh_token": s.refresh})).await;
    assert_eq!(st, 401);
    assert_eq!(live.closed_with().await, Some(CloseCode::SessionRevoked.code()));
    let (st, _) = hub.post("/v1/auth/refresh", json!({"refresh_token": rotated.refresh})).await;
    assert_eq!(st, 401);
    assert_eq!(
        Client::close_code_for(
            &hub.ws_url(),
            Some(&encode(&ClientFrame::Hello(Hello {
                v: 1,
                token: rotated.access,
                subscriptions: vec![],
                client: None
            })))
        )
        .await,
        Some(4010)
    );

    // Logout revokes.
    let (_, v) = hub.post("/v1/auth/login", json!({"username": "dora", "password": "correct horse battery"})).await;
    let s2 = Session::from_json(&v);
    let r = hub
        .http
        .post(format!("{}/v1/auth/logout", hub.base))
        .json(&json!({"refresh_token": s2.refresh}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    let (st, _) = hub.post("/v1/auth/refresh", json!({"refresh_token": s2.refresh})).await;
    assert_eq!(st, 401);
}

#[tokio::test]
async fn a_refresh_whose_answer_was_lost_can_be_repeated_once_and_gets_the_same_successor() {
    let hub = TestHub::start_with(|c| c.refresh_grace_secs = 2).await;
    let s = hub.register("gwen").await;
    let mut live = hub.connect(&s).await;
    // The first answer never reached the client: it asks again with the same token and gets the same
    // successor (nothing the client may hold is dropped).
    let (st, lost) = hub.post("/v1/auth/refresh", json!({"refresh_token": s.refresh})).await;
    assert_eq!(st, 200);
    let lost = Session::from_json(&lost);
    let (st, v) = hub.post("/v1/auth/refresh", json!({"refresh_token": s.refresh})).await;
    assert_eq!(st, 200, "within the window the repeat is answered: {v}");
    let again = Session::from_json(&v);
    assert_eq!(again.refresh, lost.refresh, "the same successor, not a new one");
    let (st, v) = hub.post("/v1/auth/refresh", json!({"refresh_token": again.refresh})).await;
    assert_eq!(st, 200, "{v}");
    let current = Session::from_json(&v);
    live.request(|id| ClientFrame::Ping { id, ts: 1 }).await.expect("the socket stays open");
    // A third presentation is replay, and revokes everything.
    assert_eq!(hub.post("/v1/auth/refresh", json!({"refresh_token": s.refresh})).await.0, 401);
    assert_eq!(live.closed_with().await, Some(CloseCode::SessionRevoked.code()));
    assert_eq!(hub.post("/v1/auth/refresh", json!({"refresh_token": current.refresh})).await.0, 401);

    // After the window, a repeat is replay too.
    let (_, v) = hub.post("/v1/auth/login", json!({"username": "gwen", "password": "correct horse battery"})).await;
    let s2 = Session::from_json(&v);
    let (st, v) = hub.post("/v1/auth/refresh", json!({"refresh_token": s2.refresh})).await;
    assert_eq!(st, 200);
    let next = Session::from_json(&v);
    tokio::time::sleep(std::time::Duration::from_millis(2_200)).await;
    assert_eq!(hub.post("/v1/auth/refresh", json!({"refresh_token": s2.refresh})).await.0, 401);
    assert_eq!(hub.post("/v1/auth/refresh", json!({"refresh_token": next.refresh})).await.0, 401, "family revoked");
}

/// The review's scenario: the victim rotates, a thief replays the spent token twice. The thief's first
/// replay gets only the victim's own successor back; the second is theft and ends the session for both,
/// instead of leaving the thief signed in and the victim out.
#[tokio::test]
async fn a_thief_replaying_a_spent_token_never_takes_the_session_over() {
    let hub = TestHub::start_with(|c| c.refresh_grace_secs = 30).await;
    let s = hub.register("vic").await;
    let (st, v) = hub.post("/v1/auth/refresh", json!({"refresh_token": s.refresh})).await;
    assert_eq!(st, 200);
    let victim = Session::from_json(&v);
    let (st, v) = hub.post("/v1/auth/refresh", json!({"refresh_token": s.refresh})).await;
    assert_eq!(st, 200, "one re-presentation in the window: {v}");
    assert_eq!(Session::from_json(&v).refresh, victim.refresh, "it learns nothing new");
    let (st, _) = hub.post("/v1/auth/refresh", json!({"refresh_token": s.refresh})).await;
    assert_eq!(st, 401, "a second replay is theft");
    assert_eq!(hub.post("/v1/auth/refresh", json!({"refresh_token": victim.refresh})).await.0, 401, "family revoked");
}

/// Two refreshes of one token at the same moment (two hubs on PostgreSQL when the suite runs there, else
/// one hub): both get the same successor, which then works once.
#[tokio::test]
async fn two_refreshes_of_one_token_at_once_agree_on_one_successor() {
    let first = TestHub::start().await;
    let second = match &first.store {
        Some(db) => Some(TestHub::start_on(Some(db.clone()), |_| {}).await),
        None => None,
    };
    let other = second.as_ref().unwrap_or(&first);
    for round in 0..5 {
        let s = first.register(&format!("race{round}")).await;
        let body = json!({"refresh_token": s.refresh});
        let (a, b) = tokio::join!(first.post("/v1/auth/refresh", body.clone()), other.post("/v1/auth/refresh", body));
        assert_eq!((a.0, b.0), (200, 200), "{a:?} {b:?}");
        let (a, b) = (Session::from_json(&a.1), Session::from_json(&b.1));
        assert_eq!(a.refresh, b.refresh, "one successor");
        let (st, v) = first.post("/v1/auth/refresh", json!({"refresh_token": a.refresh})).await;
        assert_eq!(st, 200, "{v}");
    }
}

/// Sessions end: an idle limit (a refresh token unused that long expires) and an absolute one (no session
/// outlives it, however often it refreshes).
#[tokio::test]
async fn sessions_have_an_idle_and_an_absolute_limit() {
    let hub = TestHub::start_with(|c| {
        c.refresh_ttl_secs = 2;
        c.session_max_age_secs = 4;
    })
    .await;
    let s = hub.register("ida").await;
    tokio::time::sleep(std::time::Duration::from_millis(2_300)).await;
    assert_eq!(hub.post("/v1/auth/refresh", json!({"refresh_token": s.refresh})).await.0, 401, "idle too long");

    let (_, v) = hub.post("/v1/auth/login", json!({"username": "ida", "password": "correct horse battery"})).await;
    let mut token = Session::from_json(&v).refresh;
    let (mut refreshed, started) = (0, std::time::Instant::now());
    for _ in 0..20 {
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        let (st, v) = hub.post("/v1/auth/refresh", json!({"refresh_token": token})).await;
        if st != 200 {
            break;
        }
        refreshed += 1;
        token = Session::from_json(&v).refresh;
    }
    let lasted = started.elapsed().as_secs_f64();
    assert!(refreshed >= 3 && (3.9..6.0).contains(&lasted), "alive until 4 s, not after: {refreshed} in {lasted:.1} s");
}

/// A disabled account: its sockets close at once, and it can neither refresh, sign in, say hello nor call
/// the account endpoints. Enabled again, it signs in.
#[tokio::test]
async fn a_disabled_account_is_shut_out_everywhere_at_once() {
    let hub = TestHub::start().await;
    let d = hub.register("dan").await;
    hub.register("eve").await;
    hub.deposit("dan", 1_000).await;
    let mut live = hub.connect(&d).await;
    let (st, v) = hub.admin_post("/v1/admin/users/active", json!({"username": "dan", "active": false})).await;
    assert_eq!((st, v["active"].as_bool()), (200, Some(false)), "{v}");
    assert_eq!(live.closed_with().await, Some(CloseCode::SessionRevoked.code()), "the socket closes at once");
    assert_eq!(hub.post("/v1/auth/refresh", json!({"refresh_token": d.refresh})).await.0, 401);
    let login = json!({"username": "dan", "password": "correct horse battery"});
    assert_eq!(hub.post("/v1/auth/login", login.clone()).await.0, 401);
    assert!(Client::try_connect(&hub.ws_url(), &d.access).await.is_none(), "hello refused");
    let r = hub.http.get(format!("{}/v1/account/sessions", hub.base)).bearer_auth(&d.access).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let (st, _) = hub.admin_post("/v1/admin/users/active", json!({"username": "dan", "active": true})).await;
    assert_eq!(st, 200);
    let (st, v) = hub.post("/v1/auth/login", login).await;
    assert_eq!(st, 200, "{v}");
    let mut c = hub.connect(&Session::from_json(&v)).await;
    c.transfer("k-back", "eve", 100).await.expect("pays again");
}

#[tokio::test]
async fn repeated_failed_logins_are_throttled() {
    let hub = TestHub::start().await;
    hub.register("erin").await;
    for _ in 0..5 {
        let (st, _) = hub.post("/v1/auth/login", json!({"username": "erin", "password": "nope"})).await;
        assert_eq!(st, 401);
    }
    let (st, v) = hub.post("/v1/auth/login", json!({"username": "erin", "password": "correct horse battery"})).await;
    assert_eq!(st, 429, "{v}");
    assert_eq!(v["code"], "rate_limited");
}

fn hello(token: &str, v: u16) -> String {
    encode(&ClientFrame::Hello(Hello { v, token: token.into(), subscriptions: vec![], client: None }))
}

#[tokio::test]
async fn bad_hellos_get_documented_close_codes() {
    let hub = TestHub::start_with(|c| c.auth_timeout_ms = 300).await;
    let s = hub.register("fay").await;
    let url = hub.ws_url();
    assert_eq!(Client::close_code_for(&url, Some("garbage")).await, Some(4000));
    assert_eq!(Client::close_code_for(&url, Some(r#"{"type":"ping","id":1,"ts":0}"#)).await, Some(4000));
    assert_eq!(Client::close_code_for(&url, Some(&hello("not.a.jwt", 1))).await, Some(4001));
    assert_eq!(Client::close_code_for(&url, Some(&hello(&s.access, 99))).await, Some(4003));
    assert_eq!(Client::close_code_for(&url, None).await, Some(4004));

    // alg: none, and a token signed with another key, are refused.
    use base64_engine::encode_b64;
    let claims = format!(r#"{{"sub":{},"tid":1,"sid":"x","iat":0,"exp":9999999999}}"#, s.user.id);
    let none = format!("{}.{}.", encode_b64(r#"{"alg":"none","typ":"JWT"}"#), encode_b64(&claims));
    assert_eq!(Client::close_code_for(&url, Some(&hello(&none, 1))).await, Some(4001));
    let parts: Vec<&str> = s.access.split('.').collect();
    let forged = format!("{}.{}.{}", parts[0], encode_b64(&claims.replace("\"tid\":1", "\"tid\":2")), parts[2]);
    assert_eq!(Client::close_code_for(&url, Some(&hello(&forged, 1))).await, Some(4001));
    // Well-formed HS256 with the right claims, signed with a key that is not the hub's.
    let claims: serde_json::Value = serde_json::from_str(&claims).unwrap();
    let other_key = jsonwebtoken::EncodingKey::from_secret(b"not-the-hubs-secret-not-the-hubs-secret!");
    let wrong_key = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &other_key).unwrap();
    assert_eq!(Client::close_code_for(&url, Some(&hello(&wrong_key, 1))).await, Some(4001));
}

#[tokio::test]
async fn expired_tokens_close_with_4002() {
    let hub = TestHub::start_with(|c| c.access_ttl_secs = 0).await;
    let s = hub.register("gus").await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(Client::close_code_for(&hub.ws_url(), Some(&hello(&s.access, 1))).await, Some(4002));
}

#[tokio::test]
async fn origin_allow_list_is_enforced() {
    let hub = TestHub::start().await;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = hub.ws_url().into_client_request().unwrap();
    req.headers_mut().insert("origin", "https://evil.example".parse().unwrap());
    assert!(tokio_tungstenite::connect_async(req).await.is_err());
    let mut req = hub.ws_url().into_client_request().unwrap();
    req.headers_mut().insert("origin", "tauri://localhost".parse().unwrap());
    assert!(tokio_tungstenite::connect_async(req).await.is_ok());
}

mod base64_engine {
    /// URL-safe base64 without padding (JWT segments), enough for the probes above.
    pub fn encode_b64(s: &str) -> String {
        const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let b = s.as_bytes();
        let mut out = String::new();
        for chunk in b.chunks(3) {
            let n = (chunk[0] as u32) << 16
                | (*chunk.get(1).unwrap_or(&0) as u32) << 8
                | *chunk.get(2).unwrap_or(&0) as u32;
            for i in 0..=chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            }
        }
        out
    }
}

#[tokio::test]
async fn a_connection_lasts_as_long_as_its_token_and_auth_renews_it_in_band() {
    let hub = TestHub::start_with(|c| c.access_ttl_secs = 3).await;
    let s = hub.register("hugo").await;
    let other = hub.register("iris").await;
    let mut renewed = hub.connect(&s).await;
    let mut lapsed = hub.connect(&s).await;
    // A token of another user's session cannot renew this one.
    let err = renewed.request(|id| ClientFrame::Auth { id, token: other.access.clone() }).await.unwrap_err();
    assert_eq!(err.0, ErrorCode::Unauthorized);
    // Just before expiry, a fresh token of the same session (from the refresh endpoint) extends it.
    tokio::time::sleep(std::time::Duration::from_millis(1_000)).await;
    let (st, v) = hub.post("/v1/auth/refresh", json!({"refresh_token": s.refresh})).await;
    assert_eq!(st, 200, "{v}");
    let fresh = Session::from_json(&v);
    renewed.request(|id| ClientFrame::Auth { id, token: fresh.access.clone() }).await.expect("renewed");
    // The connection that was not renewed is closed when its token expires; the renewed one lives on.
    assert_eq!(lapsed.closed_with().await, Some(CloseCode::TokenExpired.code()));
    // Both started with the same token: the renewed one is still open after the other's was closed.
    renewed.request(|id| ClientFrame::Ping { id, ts: 1 }).await.expect("still open after the first token expired");
}

#[tokio::test]
async fn one_username_rule_everywhere_spaces_dropped_and_case_folded() {
    let hub = TestHub::start().await;
    let (st, v) =
        hub.post("/v1/auth/register", json!({"username": "  Zed.Two ", "password": "correct horse battery"})).await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["user"]["username"], "zed.two", "stored in its canonical form");
    // Taken whatever the case.
    let (st, _) =
        hub.post("/v1/auth/register", json!({"username": "ZED.TWO", "password": "correct horse battery"})).await;
    assert_eq!(st, 409);
    let (st, v) = hub.post("/v1/auth/login", json!({"username": "ZeD.tWo", "password": "correct horse battery"})).await;
    assert_eq!(st, 200, "{v}");
    // A transfer's `to` follows the same rule.
    let amy = hub.register("amy").await;
    hub.deposit("amy", 1_000).await;
    let mut c = hub.connect(&amy).await;
    let t = c.transfer("k-case", " ZED.TWO ", 100).await.expect("found by any case");
    assert_eq!(t.to.username, "zed.two");
    // Characters outside the rule are refused, not folded into something else.
    let (st, v) =
        hub.post("/v1/auth/register", json!({"username": "zed two", "password": "correct horse battery"})).await;
    assert_eq!((st, v["code"].as_str()), (400, Some("invalid")));
}
