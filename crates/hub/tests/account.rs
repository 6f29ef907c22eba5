//! Account security through the front door: who may sign up, password rules, two-factor with its replay
//! guard and recovery codes, signed-in devices (listing, signing out, 4010 on the spot), password change
//! and the operator's resets, and the `security` notifications they raise.
mod common;
use common::*;
use serde_json::{json, Value};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tally_protocol::*;

const PW: &str = "correct horse battery";

impl TestHub {
    async fn get_with(&self, path: &str, token: &str) -> (u16, Value) {
        let r = self.http.get(format!("{}{path}", self.base)).bearer_auth(token).send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }
    async fn post_with(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        let r = self.http.post(format!("{}{path}", self.base)).bearer_auth(token).json(&body).send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }
    async fn login(&self, body: Value) -> (u16, Value) {
        self.post("/v1/auth/login", body).await
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// Turns two-factor on for `s`; returns the secret and the recovery codes.
async fn enrol(hub: &TestHub, s: &Session) -> (String, Vec<String>) {
    let (st, v) = hub.post_with("/v1/account/two-factor/setup", &s.access, json!({})).await;
    assert_eq!((st, v["code"].as_str()), (400, Some("invalid")), "set-up asks for the password: {v}");
    let (st, v) = hub.post_with("/v1/account/two-factor/setup", &s.access, json!({"password": PW})).await;
    assert_eq!(st, 200, "{v}");
    let secret = v["secret"].as_str().unwrap().to_string();
    assert!(v["otpauth_url"].as_str().unwrap().starts_with("otpauth://totp/Tally:"), "{v}");
    let (st, v) = hub.post_with("/v1/account/two-factor/enable", &s.access, json!({"code": "000000"})).await;
    assert_eq!((st, v["code"].as_str()), (400, Some("invalid")), "a wrong code does not turn it on: {v}");
    let (st, v) =
        hub.post_with("/v1/account/two-factor/enable", &s.access, json!({"code": code_at(&secret, now())})).await;
    assert_eq!(st, 200, "{v}");
    let codes: Vec<String> = serde_json::from_value(v["recovery_codes"].clone()).unwrap();
    (secret, codes)
}

async fn security_titles(c: &mut Client, user: UserId, n: usize) -> Vec<String> {
    let mut titles = vec![];
    while titles.len() < n {
        let e = c.event_on(Channel::Notifications(user)).await;
        if let EventData::Notification { notification } = e.data {
            if notification.kind == NotificationKind::Security {
                assert_eq!(notification.priority, Priority::High);
                // Each says it as data too, for the app to word in its reader's language.
                assert!(notification.text.is_some(), "{notification:?}");
                titles.push(notification.title);
            }
        }
    }
    titles
}

#[tokio::test]
async fn registration_follows_the_tenant_policy_and_invites_work_once() {
    // Every refusal below counts against this address (they are what a guesser would see): allow more.
    let hub = TestHub::start_with(|c| c.login_max_failures = 10).await;
    let reg =
        |u: &str, invite: Option<&str>| json!({"username": u, "password": PW, "tenant": "shop", "invite": invite});
    let (s, v) = hub.post("/v1/auth/register", reg("ann", None)).await;
    assert_eq!((s, v["code"].as_str()), (404, Some("not_found")), "no tenant by that name is made on the fly: {v}");
    let (s, v) = hub.admin_post("/v1/admin/tenants", json!({"name": "shop"})).await;
    assert_eq!((s, v["registration"].as_str()), (200, Some("closed")), "new tenants are closed: {v}");
    let (s, v) = hub.post("/v1/auth/register", reg("ann", None)).await;
    assert_eq!((s, v["code"].as_str()), (403, Some("forbidden")), "{v}");

    hub.admin_post("/v1/admin/tenants", json!({"name": "shop", "registration": "invite"})).await;
    let r = hub.http.get(format!("{}/v1/auth/registration?tenant=shop", hub.base)).send().await.unwrap();
    let info: Value = r.json().await.unwrap();
    assert_eq!(info["registration"], "invite", "{info}");
    let (s, v) = hub.post("/v1/auth/register", reg("ann", None)).await;
    assert_eq!(s, 403, "an invite tenant wants a code: {v}");
    let (s, v) = hub.admin_post("/v1/admin/invites", json!({"tenant": "shop", "count": 2})).await;
    assert_eq!(s, 200, "{v}");
    let codes: Vec<String> = serde_json::from_value(v["codes"].clone()).unwrap();
    assert_eq!(codes.len(), 2);
    let (s, v) = hub.post("/v1/auth/register", reg("ann", Some("inv_madeup"))).await;
    assert_eq!(s, 403, "{v}");
    let (s, v) = hub.post("/v1/auth/register", reg("ann", Some(&codes[0]))).await;
    assert_eq!(s, 201, "{v}");
    let (s, v) = hub.post("/v1/auth/register", reg("ben", Some(&codes[0]))).await;
    assert_eq!(s, 403, "an invite works once: {v}");
    let (s, v) = hub.post("/v1/auth/register", reg("ben", Some(&codes[1]))).await;
    assert_eq!(s, 201, "{v}");

    hub.admin_post("/v1/admin/tenants", json!({"name": "shop", "registration": "open"})).await;
    let (s, v) = hub.post("/v1/auth/register", reg("cat", None)).await;
    assert_eq!(s, 201, "{v}");
    hub.admin_post("/v1/admin/tenants", json!({"name": "shop", "registration": "closed"})).await;
    let (s, v) = hub.post("/v1/auth/register", reg("ann", None)).await;
    assert_eq!(s, 403, "a closed tenant does not tell which names are taken: {v}");
}

#[tokio::test]
async fn weak_passwords_are_refused_and_failed_sign_ups_are_throttled() {
    let hub = TestHub::start().await;
    for weak in ["short", "password1234", "dora-dora-dora"] {
        let (s, v) = hub.post("/v1/auth/register", json!({"username": "dora", "password": weak})).await;
        assert_eq!((s, v["code"].as_str()), (400, Some("invalid")), "{weak}: {v}");
        assert!(v["message"].as_str().unwrap().starts_with("password"), "{v}");
    }
    hub.register("dora").await;
    let mut throttled = false;
    for _ in 0..40 {
        let (s, _) = hub.post("/v1/auth/register", json!({"username": "dora", "password": PW})).await;
        if s == 429 {
            throttled = true;
            break;
        }
    }
    assert!(throttled, "guessing at sign-up (taken names, invite codes) is throttled like failed sign-ins");
}

#[tokio::test]
async fn two_factor_asks_for_a_code_refuses_replays_and_spends_recovery_codes() {
    // The checks below name "this step" and "the next": start well inside a 30 s step, so the enrolment
    // and the replay fall in the same one.
    let into_step = now() % 30;
    if into_step > 24 {
        tokio::time::sleep(std::time::Duration::from_secs(31 - into_step)).await;
    }
    let hub = TestHub::start().await;
    let a = hub.register("alice").await;
    let (secret, recovery) = enrol(&hub, &a).await;
    assert_eq!(recovery.len(), 10);
    let (s, v) = hub.get_with("/v1/account/two-factor", &a.access).await;
    assert_eq!((s, &v["enabled"], &v["recovery_codes_left"]), (200, &json!(true), &json!(10)), "{v}");

    let (s, v) = hub.login(json!({"username": "alice", "password": PW})).await;
    assert_eq!((s, v["code"].as_str()), (401, Some("two_factor_required")), "{v}");
    // The enrolment used this step's code: it cannot sign in again.
    let (s, v) = hub.login(json!({"username": "alice", "password": PW, "totp": code_at(&secret, now())})).await;
    assert_eq!(s, 401, "a code already used is refused: {v}");
    // The next step's code (one step of skew) works once.
    let next = code_at(&secret, now() + 30);
    let (s, v) = hub.login(json!({"username": "alice", "password": PW, "totp": next})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["two_factor"], true);
    let (s, _) = hub.login(json!({"username": "alice", "password": PW, "totp": next})).await;
    assert_eq!(s, 401, "replayed");
    // A recovery code, typed in capitals without the dash, works once.
    let typed = recovery[0].to_uppercase().replace('-', "");
    let (s, v) = hub.login(json!({"username": "alice", "password": PW, "totp": typed})).await;
    assert_eq!(s, 200, "{v}");
    let (s, _) = hub.login(json!({"username": "alice", "password": PW, "totp": recovery[0]})).await;
    assert_eq!(s, 401, "a recovery code is one-time");
    let (_, v) = hub.get_with("/v1/account/two-factor", &a.access).await;
    assert_eq!(v["recovery_codes_left"], 9);
    // Turning it off needs the password and a code.
    let off = |password: &str, code: &str| json!({"password": password, "code": code});
    let (s, v) = hub.post_with("/v1/account/two-factor/disable", &a.access, json!({"code": recovery[1]})).await;
    assert_eq!((s, v["code"].as_str()), (400, Some("invalid")), "no password: {v}");
    let (s, _) = hub.post_with("/v1/account/two-factor/disable", &a.access, off("wrong password!", &recovery[1])).await;
    assert_eq!(s, 401);
    let (s, v) = hub.post_with("/v1/account/two-factor/disable", &a.access, json!({"password": PW})).await;
    assert_eq!((s, v["code"].as_str()), (401, Some("two_factor_required")), "{v}");
    let (s, _) = hub.post_with("/v1/account/two-factor/disable", &a.access, off(PW, "123456")).await;
    assert_eq!(s, 401);
    // New recovery codes: the old ones stop working.
    let (s, v) = hub.post_with("/v1/account/two-factor/recovery-codes", &a.access, off(PW, &recovery[1])).await;
    assert_eq!(s, 200, "{v}");
    let fresh: Vec<String> = serde_json::from_value(v["recovery_codes"].clone()).unwrap();
    assert_eq!(fresh.len(), 10);
    let (s, _) = hub.post_with("/v1/account/two-factor/disable", &a.access, off(PW, &recovery[2])).await;
    assert_eq!(s, 401, "an old recovery code is gone");
    let (s, v) = hub.post_with("/v1/account/two-factor/disable", &a.access, off(PW, &fresh[0])).await;
    assert_eq!(s, 204, "{v}");
    let (s, v) = hub.login(json!({"username": "alice", "password": PW})).await;
    assert_eq!((s, &v["two_factor"]), (200, &json!(false)), "{v}");
}

#[tokio::test]
async fn a_burst_of_wrong_codes_and_a_new_device_warn_the_other_devices() {
    let hub = TestHub::start().await;
    let a = hub.register("alice").await;
    let mut phone = hub.connect(&a).await;
    phone.subscribe(Channel::Notifications(a.user.id), None).await.unwrap();
    let dev = json!({"name": "Work laptop", "platform": "linux"});
    let (s, _) = hub.login(json!({"username": "alice", "password": PW, "device": dev})).await;
    assert_eq!(s, 200);
    let (secret, _) = enrol(&hub, &a).await;
    for _ in 0..3 {
        let (s, _) = hub.login(json!({"username": "alice", "password": PW, "totp": "000000"})).await;
        assert_eq!(s, 401);
    }
    let titles = security_titles(&mut phone, a.user.id, 3).await;
    let want = ["New sign-in to your account", "Two-factor sign-in turned on", "Failed sign-in attempts"];
    assert_eq!(titles, want, "{titles:?}");
    let _ = secret;
}

#[tokio::test]
async fn devices_are_listed_and_signing_one_out_closes_its_socket_and_kills_its_refresh_token() {
    let hub = TestHub::start().await;
    let a = hub.register("alice").await;
    let dev = json!({"name": "Lost laptop", "platform": "linux"});
    let (_, v) = hub.login(json!({"username": "alice", "password": PW, "device": dev})).await;
    let laptop = Session::from_json(&v);
    let mut laptop_ws = hub.connect(&laptop).await;

    let (s, v) = hub.get_with("/v1/account/sessions", &a.access).await;
    assert_eq!(s, 200, "{v}");
    let list = v["sessions"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{v}");
    let lost = list.iter().find(|d| d["device"] == "Lost laptop").expect("the laptop is listed");
    assert_eq!(
        (&lost["platform"], &lost["current"], &lost["ip"]),
        (&json!("linux"), &json!(false), &json!("127.0.0.1"))
    );
    assert!(lost["created_at"].as_i64().unwrap() > 0 && lost["last_seen_at"].as_i64().unwrap() > 0);
    assert_eq!(list.iter().filter(|d| d["current"] == true).count(), 1);
    let lost_id = lost["id"].as_str().unwrap().to_string();

    // Someone else cannot sign alice's device out (nor learn that it exists).
    let b = hub.register("bob").await;
    let (s, _) = hub.post_with("/v1/account/sessions/revoke", &b.access, json!({"id": lost_id})).await;
    assert_eq!(s, 404);
    let (s, _) = hub.post_with("/v1/account/sessions/revoke", "not-a-token", json!({"id": lost_id})).await;
    assert_eq!(s, 401);

    let (s, v) = hub.post_with("/v1/account/sessions/revoke", &a.access, json!({"id": lost_id})).await;
    assert_eq!(s, 204, "{v}");
    assert_eq!(laptop_ws.closed_with().await, Some(4010), "its socket closes at once with 4010");
    let (s, _) = hub.post("/v1/auth/refresh", json!({"refresh_token": laptop.refresh})).await;
    assert_eq!(s, 401, "its refresh token is dead");
    let (s, _) = hub.get_with("/v1/account/sessions", &laptop.access).await;
    assert_eq!(s, 401, "its access token no longer reaches the account");
    let (_, v) = hub.get_with("/v1/account/sessions", &a.access).await;
    assert_eq!(v["sessions"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn changing_the_password_signs_every_other_device_out() {
    let hub = TestHub::start().await;
    let a = hub.register("alice").await;
    let mut others = vec![];
    for _ in 0..2 {
        let (_, v) = hub.login(json!({"username": "alice", "password": PW})).await;
        let s = Session::from_json(&v);
        others.push(hub.connect(&s).await);
    }
    let (s, _) = hub
        .post_with("/v1/account/password", &a.access, json!({"current": "nope", "new": "plum otter kettle 93"}))
        .await;
    assert_eq!(s, 401, "the current password is asked again");
    let (s, v) = hub.post_with("/v1/account/password", &a.access, json!({"current": PW, "new": "alice12345678"})).await;
    assert_eq!(s, 400, "the new one follows the rules: {v}");
    let (s, v) =
        hub.post_with("/v1/account/password", &a.access, json!({"current": PW, "new": "plum otter kettle 93"})).await;
    assert_eq!((s, &v["signed_out_devices"]), (200, &json!(2)), "{v}");
    for c in &mut others {
        assert_eq!(c.closed_with().await, Some(4010));
    }
    let (s, _) = hub.login(json!({"username": "alice", "password": PW})).await;
    assert_eq!(s, 401);
    let (s, _) = hub.login(json!({"username": "alice", "password": "plum otter kettle 93"})).await;
    assert_eq!(s, 200);
    let (s, _) = hub.get_with("/v1/account/sessions", &a.access).await;
    assert_eq!(s, 200, "this device stays signed in");

    // "Sign out all other devices".
    let (s, v) = hub.post_with("/v1/account/sessions/revoke-others", &a.access, json!({})).await;
    assert_eq!((s, &v["revoked"]), (200, &json!(1)), "the sign-in just made: {v}");
}

#[tokio::test]
async fn the_operator_resets_a_password_or_two_factor_and_a_tenant_can_require_it() {
    let hub = TestHub::start().await;
    let a = hub.register("alice").await;
    let mut ws = hub.connect(&a).await;
    enrol(&hub, &a).await;
    let (s, v) = hub.admin_post("/v1/admin/two-factor/reset", json!({"username": "alice"})).await;
    assert_eq!(s, 204, "{v}");
    let (s, _) = hub.login(json!({"username": "alice", "password": PW})).await;
    assert_eq!(s, 200, "two-factor is off after the reset");
    let (s, v) = hub.admin_post("/v1/admin/password", json!({"username": "alice", "password": "short"})).await;
    assert_eq!(s, 400, "{v}");
    let (s, v) =
        hub.admin_post("/v1/admin/password", json!({"username": "Alice ", "password": "plum otter kettle 93"})).await;
    assert_eq!((s, &v["signed_out_devices"]), (200, &json!(2)), "{v}");
    assert_eq!(ws.closed_with().await, Some(4010), "every device is signed out");
    let (s, _) = hub.login(json!({"username": "alice", "password": "plum otter kettle 93"})).await;
    assert_eq!(s, 200);
    let (s, _) = hub.post("/v1/admin/password", json!({"username": "alice", "password": "plum otter kettle 93"})).await;
    assert_eq!(s, 401, "not without the admin token");

    hub.admin_post("/v1/admin/tenants", json!({"name": "default", "require_two_factor": true})).await;
    let (_, v) = hub.login(json!({"username": "alice", "password": "plum otter kettle 93"})).await;
    assert_eq!(v["must_enrol_two_factor"], true, "{v}");
    let (s, v) = hub.post("/v1/auth/register", json!({"username": "zed", "password": PW})).await;
    assert_eq!((s, &v["must_enrol_two_factor"]), (201, &json!(true)), "{v}");
    let b = Session::from_json(&v);
    let (_, secret_codes) = enrol(&hub, &b).await;
    let (s, v) = hub
        .post_with("/v1/account/two-factor/disable", &b.access, json!({"password": PW, "code": secret_codes[0]}))
        .await;
    assert_eq!((s, v["code"].as_str()), (403, Some("forbidden")), "required here: {v}");
    tokio::time::sleep(Duration::from_millis(1)).await;
}

/// Where the tenant requires two-factor, an account without it can sign in, read and enrol, but it pays
/// no one and writes to no one until it has; the socket it already holds is let go once it renews with
/// the token issued after enrolment. A reset puts the account back under the rule at its next refresh.
#[tokio::test]
async fn a_session_that_must_enrol_reads_but_neither_pays_nor_writes_until_it_has() {
    let hub = TestHub::start().await;
    hub.register("bob").await;
    hub.admin_post("/v1/admin/tenants", json!({"name": "default", "require_two_factor": true})).await;
    let (s, v) = hub.post("/v1/auth/register", json!({"username": "alice", "password": PW})).await;
    assert_eq!((s, &v["must_enrol_two_factor"]), (201, &json!(true)), "{v}");
    let a = Session::from_json(&v);
    hub.deposit("alice", 5_000).await;
    let mut ws = hub.connect(&a).await;

    let refused = ws.transfer("k1", "bob", 100).await.expect_err("no payment before enrolment");
    assert_eq!(refused.0, ErrorCode::TwoFactorRequired, "{refused:?}");
    let room = ws
        .request(|id| ClientFrame::RoomCreate {
            id,
            kind: RoomKind::Direct,
            name: String::new(),
            members: vec!["bob".into()],
        })
        .await;
    assert_eq!(room.expect_err("no new conversation either").0, ErrorCode::TwoFactorRequired);
    ws.subscribe(Channel::User(a.user.id), None).await.expect("its own channels are readable");
    let page = ws
        .request(|id| ClientFrame::History { id, channel: Channel::Transactions(a.user.id), before: None, limit: 10 })
        .await
        .expect("and its history");
    assert!(matches!(page, Some(AckData::History { ref events, .. }) if !events.is_empty()), "the deposit: {page:?}");
    let (s, v) = hub.get_with("/v1/account/sessions", &a.access).await;
    assert_eq!(s, 200, "the account pages still work: {v}");

    enrol(&hub, &a).await;
    let (s, v) = hub.post("/v1/auth/refresh", json!({"refresh_token": a.refresh})).await;
    assert_eq!((s, &v["must_enrol_two_factor"]), (200, &json!(false)), "{v}");
    let renewed = Session::from_json(&v);
    let token = renewed.access.clone();
    ws.request(|id| ClientFrame::Auth { id, token }).await.expect("renewed in band");
    let t = ws.transfer("k1", "bob", 100).await.expect("pays once enrolled, on the same socket");
    assert_eq!(t.amount.minor, 100);

    hub.admin_post("/v1/admin/two-factor/reset", json!({"username": "alice"})).await;
    let (s, v) = hub.post("/v1/auth/refresh", json!({"refresh_token": renewed.refresh})).await;
    assert_eq!((s, &v["must_enrol_two_factor"]), (200, &json!(true)), "the rule is back after a reset: {v}");
    let token = Session::from_json(&v).access;
    ws.request(|id| ClientFrame::Auth { id, token }).await.expect("renewed in band");
    let refused = ws.transfer("k2", "bob", 100).await.expect_err("held to enrolment again");
    assert_eq!(refused.0, ErrorCode::TwoFactorRequired);
}

async fn post_from(hub: &TestHub, path: &str, from: &str, token: Option<&str>, body: Value) -> u16 {
    let mut r = hub.http.post(format!("{}{path}", hub.base)).header("x-forwarded-for", from).json(&body);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    r.send().await.unwrap().status().as_u16()
}

fn count(statuses: &[u16]) -> std::collections::BTreeMap<u16, usize> {
    let mut m = std::collections::BTreeMap::new();
    for s in statuses {
        *m.entry(*s).or_default() += 1;
    }
    m
}

/// Guesses that arrive together get exactly the documented number (5), for sign-in, for the code of a
/// two-factor sign-in, and for turning two-factor off: each attempt is counted before it is checked.
#[tokio::test]
async fn guesses_sent_together_get_exactly_the_allowed_number() {
    let hub = TestHub::start_with(|c| c.trusted_proxy = vec!["127.0.0.1/32".parse().unwrap()]).await;
    hub.register("pat").await;
    let burst = (0..50).map(|i| {
        let body = json!({"username": "pat", "password": format!("not the password {i}")});
        let from = format!("198.51.100.{i}");
        let hub = &hub;
        async move { post_from(hub, "/v1/auth/login", &from, None, body).await }
    });
    let got = futures_util::future::join_all(burst).await;
    assert_eq!(count(&got), [(401, 5), (429, 45)].into(), "sign-in");

    let t = hub.register("tom").await;
    let (secret, _) = enrol(&hub, &t).await;
    let burst = (0..50).map(|i| {
        let body = json!({"username": "tom", "password": PW, "totp": format!("{:06}", 100_000 + i)});
        let from = format!("203.0.113.{i}");
        let hub = &hub;
        async move { post_from(hub, "/v1/auth/login", &from, None, body).await }
    });
    let got = futures_util::future::join_all(burst).await;
    assert_eq!(count(&got), [(401, 5), (429, 45)].into(), "two-factor codes at sign-in");

    let burst = (0..50).map(|i| {
        let body = json!({"password": PW, "code": format!("{:06}", 200_000 + i)});
        let from = format!("192.0.2.{i}");
        let (hub, token) = (&hub, t.access.clone());
        async move { post_from(hub, "/v1/account/two-factor/disable", &from, Some(&token), body).await }
    });
    let got = futures_util::future::join_all(burst).await;
    assert_eq!(count(&got), [(401, 5), (429, 45)].into(), "two-factor off");
    let (_, v) = hub.get_with("/v1/account/two-factor", &t.access).await;
    assert_eq!(v["enabled"], true, "still on");
    let code = code_at(&secret, now() + 30);
    let status = post_from(
        &hub,
        "/v1/account/two-factor/disable",
        "192.0.2.200",
        Some(&t.access),
        json!({"password": PW, "code": code}),
    )
    .await;
    assert_eq!(status, 429, "the user's budget is spent for the window, whoever asks");
}

/// Every change to how an account is protected is told to all of its devices.
#[tokio::test]
async fn security_changes_are_told_to_every_device() {
    let hub = TestHub::start().await;
    let a = hub.register("sue").await;
    let mut phone = {
        let (_, v) = hub.login(json!({"username": "sue", "password": PW})).await;
        hub.connect(&Session::from_json(&v)).await
    };
    phone.subscribe(Channel::Notifications(a.user.id), None).await.unwrap();
    let (_, codes) = enrol(&hub, &a).await;
    let (s, _) = hub
        .post_with("/v1/account/two-factor/recovery-codes", &a.access, json!({"password": PW, "code": codes[0]}))
        .await;
    assert_eq!(s, 200);
    let (s, _) =
        hub.post_with("/v1/account/two-factor/disable", &a.access, json!({"password": PW, "code": codes[1]})).await;
    assert_eq!(s, 401, "the old codes went with the new ones");
    let (s, _) =
        hub.post_with("/v1/account/password", &a.access, json!({"current": PW, "new": "plum otter kettle 93"})).await;
    assert_eq!(s, 401, "a password change needs the code too while two-factor is on");
    let titles = security_titles(&mut phone, a.user.id, 2).await;
    assert_eq!(titles, ["Two-factor sign-in turned on", "New recovery codes"]);
}

/// Names that hide characters (bidi overrides and marks, zero-width spaces, line breaks) are refused at the
/// hub, display names and group names alike; joiners inside emoji and scripts are not. Device names, free
/// text from the device, are kept as one clean line.
#[tokio::test]
async fn names_that_hide_characters_are_refused() {
    let hub = TestHub::start().await;
    for (i, bad) in
        ["Eve's phone\u{202E}enohp", "Bob\nBank", "Ali\u{200B}ce", "x\u{200F}", "a\u{2066}b"].iter().enumerate()
    {
        let body = json!({"username": format!("nina{i}"), "password": PW, "display_name": bad});
        let (s, v) = hub.post("/v1/auth/register", body).await;
        assert_eq!((s, v["code"].as_str()), (400, Some("invalid")), "{bad:?}: {v}");
        assert!(v["message"].as_str().unwrap().starts_with("display_name"), "{v}");
    }
    let dev = json!({"name": "Eve's phone\u{202E}enohp\nsecond line", "platform": "android"});
    let body = json!({"username": "nina", "password": PW, "display_name": "👩\u{200D}💻 Nina", "device": dev});
    let (s, v) = hub.post("/v1/auth/register", body).await;
    assert_eq!(s, 201, "an emoji sequence is fine: {v}");
    let nina = Session::from_json(&v);
    let (_, v) = hub.get_with("/v1/account/sessions", &nina.access).await;
    assert_eq!(v["sessions"][0]["device"], "Eve's phoneenohp second line", "{v}");
    hub.register("otto").await;
    let mut c = hub.connect(&nina).await;
    let r = c
        .try_request(
            |id| ClientFrame::RoomCreate {
                id,
                kind: RoomKind::Group,
                name: "Team\u{202E}maeT".into(),
                members: vec!["otto".into()],
            },
            WAIT,
        )
        .await;
    assert!(matches!(r, Some(ServerFrame::Error { code: ErrorCode::Invalid, .. })), "{r:?}");
}
