//! Every HTTP error is the documented JSON `{"code", "message"}`: bodies that are not JSON, JSON of the
//! wrong shape, no content type, a body far over the limit (413, not a broken pipe), unknown paths and
//! wrong methods.
mod common;
use common::*;
use serde_json::Value;

async fn answer(r: reqwest::RequestBuilder) -> (u16, Value) {
    let r = r.send().await.expect("an answer, not a reset connection");
    let status = r.status().as_u16();
    let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let text = r.text().await.unwrap();
    assert!(ct.starts_with("application/json"), "{status} answered {ct:?}: {text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert!(v["code"].is_string() && v["message"].is_string(), "{v}");
    (status, v)
}

#[tokio::test]
async fn malformed_bodies_wrong_shapes_and_missing_content_types_are_json_errors() {
    let hub = TestHub::start().await;
    let url = format!("{}/v1/auth/login", hub.base);
    let json_body = |b: &'static str| hub.http.post(&url).header("content-type", "application/json").body(b);
    let (s, v) = answer(json_body("{not json")).await;
    assert_eq!((s, v["code"].as_str()), (400, Some("bad_frame")), "{v}");
    let (s, v) = answer(json_body(r#"{"username": "x"}"#)).await;
    assert_eq!((s, v["code"].as_str()), (422, Some("bad_frame")), "{v}");
    assert!(v["message"].as_str().unwrap().contains("password"), "says what is missing: {v}");
    let (s, v) = answer(hub.http.post(&url).body(r#"{"username":"x","password":"y"}"#)).await;
    assert_eq!((s, v["code"].as_str()), (415, Some("bad_frame")), "{v}");
}

#[tokio::test]
async fn a_ten_mib_login_body_gets_413_not_a_broken_pipe() {
    let hub = TestHub::start().await;
    let big = format!(r#"{{"username":"x","password":"{}"}}"#, "a".repeat(10 * 1024 * 1024));
    let r = hub.http.post(format!("{}/v1/auth/login", hub.base)).header("content-type", "application/json").body(big);
    let (s, v) = answer(r).await;
    assert_eq!((s, v["code"].as_str()), (413, Some("frame_too_large")), "{v}");
    // The hub is fine afterwards.
    assert_eq!(hub.http.get(format!("{}/readyz", hub.base)).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn unknown_paths_and_wrong_methods_are_json_errors() {
    let hub = TestHub::start().await;
    let (s, v) = answer(hub.http.get(format!("{}/v1/nope", hub.base))).await;
    assert_eq!((s, v["code"].as_str()), (404, Some("not_found")));
    let (s, v) = answer(hub.http.get(format!("{}/v1/auth/login", hub.base))).await;
    assert_eq!((s, v["code"].as_str()), (405, Some("invalid")));
}

/// What docs/PROTOCOL.md says, answered as it says: a channel that cannot exist in an admin publish is
/// `400 invalid`; in a transfer a lower-case currency is `bad_frame` and an unlisted one `invalid`.
#[tokio::test]
async fn documented_answers_for_bad_channels_and_currencies() {
    let hub = TestHub::start().await;
    let (s, v) = hub
        .admin_post("/v1/admin/publish", serde_json::json!({"events": [{"channel": "vault:1", "title": "x"}]}))
        .await;
    assert_eq!((s, v["code"].as_str()), (400, Some("invalid")), "{v}");
    let (s, v) = hub
        .admin_post("/v1/admin/publish", serde_json::json!({"events": [{"channel": "transfer:1", "title": "x"}]}))
        .await;
    assert_eq!((s, v["code"].as_str()), (400, Some("invalid")), "{v}");
    let a = hub.register("cur-a").await;
    hub.register("cur-b").await;
    let mut c = hub.connect(&a).await;
    for (currency, code) in [("usd", "bad_frame"), ("US$", "bad_frame"), ("XAU", "invalid"), ("ABC", "invalid")] {
        let id = c.id();
        c.send_raw(&format!(
            r#"{{"type":"transfer_create","id":{id},"idempotency_key":"k-{currency}","to":"cur-b","amount":{{"minor":100,"currency":"{currency}"}}}}"#
        ))
        .await;
        let f = c.wait_for("error", |f| matches!(f, tally_protocol::ServerFrame::Error { .. })).await;
        let tally_protocol::ServerFrame::Error { code: got, .. } = f else { unreachable!() };
        assert_eq!(got.as_str(), code, "{currency}");
    }
}
