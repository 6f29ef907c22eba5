//! Operator accounts through the front door: the admin token makes the first admin and is retired; an
//! operator signs in with password and TOTP code (a used code is refused); each role does what it may and
//! is refused (403) the rest; an operator limited to a tenant stays in it; the audit trail names who.
mod common;
use common::*;
use serde_json::{json, Value};
use tally_protocol::*;

const PW: &str = "operator pass phrase 42";

async fn call(hub: &TestHub, token: &str, path: &str, body: Value) -> (u16, Value) {
    let r = hub.http.post(format!("{}{path}", hub.base)).bearer_auth(token).json(&body).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// Makes an operator (as `by`) and signs them in; their session token.
async fn operator(hub: &TestHub, by: &str, name: &str, role: &str, tenant: Option<&str>) -> String {
    let mut body = json!({"username": name, "password": PW, "role": role});
    if let Some(t) = tenant {
        body["tenant"] = json!(t);
    }
    let (s, v) = call(hub, by, "/v1/admin/operators", body).await;
    assert_eq!(s, 200, "{v}");
    assert!(v["otpauth_url"].as_str().unwrap().starts_with("otpauth://totp/"), "{v}");
    let secret = v["totp_secret"].as_str().unwrap();
    let (s, v) =
        hub.post("/v1/operators/sign-in", json!({"username": name, "password": PW, "totp": code_now(secret)})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["role"], role);
    v["token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn roles_decide_and_the_admin_token_only_makes_the_first_admin() {
    let hub = TestHub::start().await;
    let alice = hub.register("alice").await;
    hub.register("bob").await;
    let token = hub.admin.clone();

    // The token: an admin first, nothing else.
    let (s, v) =
        call(&hub, &token, "/v1/admin/operators", json!({"username": "sue", "password": PW, "role": "support"})).await;
    assert_eq!((s, v["code"].as_str()), (403, Some("forbidden")), "{v}");
    let (s, v) =
        call(&hub, &token, "/v1/admin/operators", json!({"username": "root", "password": PW, "role": "admin"})).await;
    assert_eq!(s, 200, "{v}");
    let secret = v["totp_secret"].as_str().unwrap().to_string();
    let (s, v) = call(
        &hub,
        &token,
        "/v1/admin/deposit",
        json!({"username": "alice", "amount": {"minor": 1, "currency": "USD"}}),
    )
    .await;
    assert_eq!(s, 401, "retired once an admin exists: {v}");
    assert!(v["message"].as_str().unwrap().contains("first admin"), "{v}");

    // Signing in: the password and a current code, always; a code once.
    let sign_in = |pw: &str, code: &str| json!({"username": "root", "password": pw, "totp": code});
    let code = code_now(&secret);
    let (s, _) = hub.post("/v1/operators/sign-in", sign_in("wrong password here", &code)).await;
    assert_eq!(s, 401);
    let (s, _) = hub.post("/v1/operators/sign-in", sign_in(PW, "000000")).await;
    assert_eq!(s, 401);
    let (s, v) = hub.post("/v1/operators/sign-in", sign_in(PW, &code)).await;
    assert_eq!(s, 200, "{v}");
    let root = v["token"].as_str().unwrap().to_string();
    assert!(root.starts_with("op_"));
    let (s, _) = hub.post("/v1/operators/sign-in", sign_in(PW, &code)).await;
    assert_eq!(s, 401, "a code already used is refused");

    let sue = operator(&hub, &root, "sue", "support", None).await;
    let fin = operator(&hub, &root, "fin", "finance", None).await;
    let aud = operator(&hub, &root, "aud", "auditor", None).await;

    // Finance credits a deposit and alice's connected app sees it arrive; support may not.
    let mut c = hub.connect(&alice).await;
    c.subscribe(Channel::Balance(alice.user.id), None).await.unwrap();
    let deposit = json!({"username": "alice", "amount": {"minor": 2_500, "currency": "USD"}, "memo": "wire 7781"});
    let (s, v) = call(&hub, &sue, "/v1/admin/deposit", deposit.clone()).await;
    assert_eq!((s, v["code"].as_str()), (403, Some("forbidden")), "{v}");
    assert!(v["message"].as_str().unwrap().contains("support"), "{v}");
    let (s, v) = call(&hub, &fin, "/v1/admin/deposit", deposit).await;
    assert_eq!(s, 200, "{v}");
    let e = c.event_on(Channel::Balance(alice.user.id)).await;
    assert!(matches!(e.data, EventData::Balance { balance: Balance { available: 2_500, .. } }), "live: {e:?}");

    // Support disables an account; finance may not; nobody but an admin makes operators.
    let (s, v) = call(&hub, &fin, "/v1/admin/users/active", json!({"username": "bob", "active": false})).await;
    assert_eq!(s, 403, "{v}");
    let (s, v) = call(&hub, &sue, "/v1/admin/users/active", json!({"username": "bob", "active": false})).await;
    assert_eq!(s, 200, "{v}");
    let (s, _) =
        call(&hub, &sue, "/v1/admin/operators", json!({"username": "eve", "password": PW, "role": "admin"})).await;
    assert_eq!(s, 403);

    // The auditor reads the trail (who did what), and may change nothing.
    let (s, _) = call(&hub, &aud, "/v1/admin/broadcast", json!({"title": "hi", "body": "there"})).await;
    assert_eq!(s, 403);
    let r = hub.http.get(format!("{}/v1/admin/audit?limit=1000", hub.base)).bearer_auth(&aud).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let seen: Vec<(String, String)> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["actor"].as_str().unwrap().to_string(), e["action"].as_str().unwrap().to_string()))
        .collect();
    for want in [
        ("operator", "operator_created"),
        ("operator:root", "operator_signed_in"),
        ("operator:root", "operator_created"),
        ("operator:fin", "deposit"),
        ("operator:sue", "account_disabled"),
    ] {
        assert!(seen.contains(&(want.0.into(), want.1.into())), "{want:?} missing from {seen:?}");
    }
    // A session that is not one is refused before anything is read.
    let r =
        hub.http.get(format!("{}/v1/admin/invariants", hub.base)).bearer_auth("op_not-a-session").send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = hub.http.get(format!("{}/v1/admin/invariants", hub.base)).bearer_auth(&aud).send().await.unwrap();
    assert_eq!(r.status(), 200, "an auditor reads the ledger's invariants");
}

#[tokio::test]
async fn an_operator_limited_to_a_tenant_stays_in_it() {
    let hub = TestHub::start().await;
    hub.register("alice").await;
    hub.register_in("zed", Some("acme")).await;
    let (s, v) =
        call(&hub, &hub.admin, "/v1/admin/operators", json!({"username": "root", "password": PW, "role": "admin"}))
            .await;
    assert_eq!(s, 200, "{v}");
    let secret = v["totp_secret"].as_str().unwrap();
    let (_, v) =
        hub.post("/v1/operators/sign-in", json!({"username": "root", "password": PW, "totp": code_now(secret)})).await;
    let root = v["token"].as_str().unwrap().to_string();
    let acme = operator(&hub, &root, "acme-fin", "finance", Some("acme")).await;
    let money = |user: &str, tenant: &str| json!({"username": user, "tenant": tenant, "amount": {"minor": 100, "currency": "USD"}});
    let (s, v) = call(&hub, &acme, "/v1/admin/deposit", money("zed", "acme")).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = call(&hub, &acme, "/v1/admin/deposit", money("alice", "default")).await;
    assert_eq!((s, v["code"].as_str()), (403, Some("forbidden")), "{v}");
}
