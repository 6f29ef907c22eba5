//! Looking users up as an operator: search by part of a name (any case; `%` and `_` are plain text) and
//! one user's page — level and limits, balances, the newest history and notifications, devices.
mod common;
use common::*;
use serde_json::{json, Value};

async fn get(hub: &TestHub, path: &str) -> (u16, Value) {
    let r = hub.http.get(format!("{}{path}", hub.base)).bearer_auth(&hub.admin).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn support_finds_a_user_by_name_and_reads_their_page() {
    let hub = TestHub::start().await;
    for name in ["alice", "alina", "bob", "a_b"] {
        hub.register(name).await;
    }
    hub.deposit("alice", 12_345).await;
    let names = |v: &Value| -> Vec<String> {
        v["users"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap().to_string()).collect()
    };
    let (s, v) = get(&hub, "/v1/admin/users/search?q=ALI").await;
    assert_eq!((s, names(&v)), (200, vec!["alice".to_string(), "alina".into()]), "{v}");
    let (_, v) = get(&hub, "/v1/admin/users/search?q=_").await;
    assert_eq!(names(&v), ["a_b"], "an underscore is a character, not a wildcard");
    let (_, v) = get(&hub, "/v1/admin/users/search?q=%25").await;
    assert_eq!(names(&v), Vec::<String>::new(), "a percent sign too");
    let (_, v) = get(&hub, "/v1/admin/users/search?q=BOB").await;
    assert_eq!(names(&v), ["bob"], "display names (BOB) match in any case");
    assert_eq!(get(&hub, "/v1/admin/users/search?q=%20").await.0, 400);

    let (s, v) = get(&hub, "/v1/admin/users/detail?username=alice").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!((v["active"].as_bool(), v["kyc_level"].as_str()), (Some(true), Some("none")));
    assert_eq!(v["balances"][0]["available"], 12_345);
    assert_eq!(v["transactions"][0]["kind"], "deposit");
    assert_eq!(v["notifications"][0]["kind"], "deposit");
    assert_eq!(v["devices"].as_array().map(Vec::len), Some(1), "the sign-up's device");
    assert_eq!(get(&hub, "/v1/admin/users/detail?username=nobody").await.0, 404);
    let (s, _) = hub.admin_post("/v1/admin/users/kyc", json!({"username": "alice", "level": "basic"})).await;
    assert_eq!(s, 200);
    assert_eq!(get(&hub, "/v1/admin/users/detail?username=alice").await.1["kyc_level"], "basic");
    let (_, v) = get(&hub, "/v1/admin/audit").await;
    let viewed = v["entries"].as_array().unwrap().iter().filter(|e| e["action"] == "user_viewed").count();
    assert_eq!(viewed, 2, "each page opened is in the audit trail: {v}");
    let searched: Vec<_> =
        v["entries"].as_array().unwrap().iter().filter(|e| e["action"] == "users_searched").collect();
    assert!(!searched.is_empty(), "each search is in the audit trail too: {v}");
    assert!(searched.iter().all(|e| e["detail"].as_str().unwrap().contains("found")), "{searched:?}");
}
