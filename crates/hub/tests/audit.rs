//! The audit trail through the front door: users' security changes and operators' actions are each
//! written once, with who, what, to whom, when and from where, chained by hashes; the operator pages it as
//! JSON and downloads it as CSV; a user cannot read it; `tally-hub audit verify` finds an entry changed or
//! removed afterwards.
mod common;
use common::*;
use serde_json::{json, Value};

const PW: &str = "correct horse battery";

async fn post_as(hub: &TestHub, token: &str, path: &str, body: Value) -> (u16, Value) {
    let r = hub.http.post(format!("{}{path}", hub.base)).bearer_auth(token).json(&body).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn trail(hub: &TestHub, token: &str, query: &str) -> (u16, Value) {
    let r = hub.http.get(format!("{}/v1/admin/audit{query}", hub.base)).bearer_auth(token).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// What a user and the operator do, each through its endpoint.
async fn act(hub: &TestHub) -> (Session, Session) {
    let alice = hub.register("alice").await;
    let (s, v) = post_as(hub, &alice.access, "/v1/account/two-factor/setup", json!({"password": PW})).await;
    assert_eq!(s, 200, "{v}");
    let secret = v["secret"].as_str().unwrap().to_string();
    let (s, v) = post_as(hub, &alice.access, "/v1/account/two-factor/enable", json!({"code": code_now(&secret)})).await;
    assert_eq!(s, 200, "{v}");
    for _ in 0..3 {
        let (s, _) = hub.post("/v1/auth/login", json!({"username": "alice", "password": PW, "totp": "000000"})).await;
        assert_eq!(s, 401);
    }
    hub.deposit("alice", 500).await;
    let (s, v) = hub.admin_post("/v1/admin/users/active", json!({"username": "alice", "active": false})).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = hub.admin_post("/v1/admin/users/active", json!({"username": "alice", "active": true})).await;
    assert_eq!(s, 200, "{v}");
    // Someone guesses bob's password: the fifth wrong one in a row is a burst (written once).
    let bob = hub.register("bob").await;
    for _ in 0..6 {
        let (s, _) = hub.post("/v1/auth/login", json!({"username": "bob", "password": "guess guess guess"})).await;
        assert_eq!(s, 401);
    }
    (alice, bob)
}

/// The hubs of these tests let more guesses through than the default five, so the bursts are seen
/// without the address being locked out.
async fn hub_on(sqlite: bool) -> TestHub {
    let more = |c: &mut tally_hub::Config| c.login_max_failures = 20;
    if sqlite {
        TestHub::start_sqlite_with(more).await
    } else {
        TestHub::start_with(more).await
    }
}

#[tokio::test]
async fn security_changes_and_operator_actions_are_each_written_once_and_chained() {
    let hub = hub_on(false).await;
    let (alice, bob) = act(&hub).await;
    let (s, v) = trail(&hub, &hub.admin, "?limit=1000").await;
    assert_eq!(s, 200, "{v}");
    let entries = v["entries"].as_array().unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "sign_in",
            "two_factor_enabled",
            "sign_in_failures",
            "deposit",
            "account_disabled",
            "account_enabled",
            "sign_in",
            "sign_in_failures"
        ],
        "{v}"
    );
    let (me, him) = (format!("user:{}", alice.user.id), format!("user:{}", bob.user.id));
    assert_eq!(entries[7]["subject"], him.as_str());
    assert_eq!(entries[7]["detail"], "5 wrong passwords in a row", "once, at the fifth: {}", entries[7]);
    for e in &entries[..6] {
        assert_eq!(e["subject"], me.as_str(), "{e}");
    }
    for e in entries {
        assert_eq!(e["ip"], "127.0.0.1", "from where: {e}");
        assert!(e["at"].as_i64().unwrap() > 0);
    }
    assert_eq!(entries[0]["actor"], me.as_str(), "a user's own change");
    assert_eq!(entries[3]["actor"], "operator");
    assert!(entries[3]["detail"].as_str().unwrap().contains("USD 500"), "{}", entries[3]);
    assert_eq!(entries[0]["prev_hash"], "");
    for w in entries.windows(2) {
        assert_eq!(w[1]["prev_hash"], w[0]["hash"], "each entry names the one before");
        assert_eq!(w[1]["seq"].as_u64(), w[0]["seq"].as_u64().map(|s| s + 1));
    }
    assert_eq!(v["next_after"], Value::Null);

    // Pages: two at a time, then from where the page ended.
    let (_, p) = trail(&hub, &hub.admin, "?limit=2").await;
    assert_eq!(p["entries"].as_array().unwrap().len(), 2);
    let (_, q) = trail(&hub, &hub.admin, &format!("?limit=2&after={}", p["next_after"])).await;
    assert_eq!(q["entries"][0]["action"], "sign_in_failures");

    // A user's token is not the operator's; a bad format is a clear error.
    let (s, _) = trail(&hub, &alice.access, "").await;
    assert_eq!(s, 401);
    let (s, v) = trail(&hub, &hub.admin, "?format=xml").await;
    assert_eq!((s, v["code"].as_str()), (400, Some("invalid")));

    // The CSV download: a header and a line an entry, every field quoted.
    let r =
        hub.http.get(format!("{}/v1/admin/audit?format=csv", hub.base)).bearer_auth(&hub.admin).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let csv = r.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 1 + entries.len(), "{csv}");
    assert!(lines[0].starts_with("\"seq\",\"at\",\"tenant\",\"actor\",\"action\""), "{csv}");
    assert!(lines[4].contains("\"operator\",\"deposit\""), "{csv}");

    // The whole chain checks out, on this database.
    let backend = match &hub.store {
        Some(url) => tally_hub::store::Backend::Postgres(url.clone()),
        None => tally_hub::store::Backend::Sqlite(hub.dir.path().join("hub.db")),
    };
    assert_eq!(tally_hub::audit::verify_store(&backend).await.unwrap(), Ok(8));
}

/// `tally-hub audit verify` on the data directory: whole, then an entry edited, then the newest removed.
#[tokio::test]
async fn verify_finds_an_entry_changed_or_removed_afterwards() {
    let mut hub = hub_on(true).await;
    act(&hub).await;
    hub.running.take().unwrap().shutdown().await;
    let dir = hub.dir.path().to_path_buf();
    let verify = || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tally-hub"))
            .args(["audit", "verify", "--data-dir"])
            .arg(&dir)
            .env_remove("TALLY_STORE")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
        (out.status.code(), text)
    };
    let (code, text) = verify();
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("8 entries"), "{text}");

    let db = rusqlite::Connection::open(dir.join("hub.db")).unwrap();
    db.execute("UPDATE audit_log SET detail = 'nothing happened' WHERE seq = 4", []).unwrap();
    let (code, text) = verify();
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("broken at entry 4: it was changed after it was written"), "{text}");

    // Removing the edited entry and those after it leaves a whole-looking chain, but the head remembers.
    db.execute("DELETE FROM audit_log WHERE seq >= 4", []).unwrap();
    let (code, text) = verify();
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("the newest entries were removed"), "{text}");
}
