mod common;
use common::*;
use futures_util::SinkExt;
use tally_protocol::*;

#[tokio::test]
async fn malformed_unknown_and_oversized_frames_get_typed_errors_and_the_connection_lives() {
    let hub = TestHub::start_with(|c| c.max_frame_bytes = 1024).await;
    let a = hub.register("kim").await;
    let mut c = hub.connect(&a).await;
    for (raw, code) in [
        ("{not json", ErrorCode::BadFrame),
        ("[1,2]", ErrorCode::BadFrame),
        (r#"{"type":"subscribe","id":5}"#, ErrorCode::BadFrame),
        (r#"{"type":"warp_drive","id":6}"#, ErrorCode::UnknownType),
        (r#"{"type":"subscribe","id":7,"channel":"vault:1"}"#, ErrorCode::BadFrame),
    ] {
        c.send_raw(raw).await;
        let f = c.wait_for("error", |f| matches!(f, ServerFrame::Error { .. })).await;
        assert!(matches!(f, ServerFrame::Error { code: c2, .. } if c2 == code), "{raw}: {f:?}");
    }
    c.send_raw(&format!(r#"{{"type":"ping","id":8,"ts":0,"pad":"{}"}}"#, "x".repeat(2000))).await;
    let f = c.wait_for("too large", |f| matches!(f, ServerFrame::Error { .. })).await;
    assert!(matches!(f, ServerFrame::Error { code: ErrorCode::FrameTooLarge, .. }));
    // Still alive.
    assert!(matches!(c.request(|id| ClientFrame::Ping { id, ts: 1 }).await.unwrap(), Some(AckData::Pong { .. })));
}

#[tokio::test]
async fn rate_limits_answer_rate_limited_then_close_abusers() {
    let hub = TestHub::start_with(|c| {
        c.rate_per_sec = 5;
        c.rate_burst = 10;
    })
    .await;
    let a = hub.register("lee").await;
    let mut c = hub.connect(&a).await;
    for i in 0..30u64 {
        c.send(&ClientFrame::Ping { id: 1000 + i, ts: 0 }).await;
    }
    let f = c.wait_for("rate_limited", |f| matches!(f, ServerFrame::Error { code: ErrorCode::RateLimited, .. })).await;
    assert!(matches!(f, ServerFrame::Error { retryable: true, .. }));
    for i in 0..500u64 {
        if c.ws
            .send(tokio_tungstenite::tungstenite::Message::text(encode(&ClientFrame::Ping { id: 5000 + i, ts: 0 })))
            .await
            .is_err()
        {
            break;
        }
    }
    assert_eq!(c.closed_with().await, Some(CloseCode::RateLimited.code()));
}

#[tokio::test]
async fn subscription_limit_and_unauthenticated_sockets() {
    let hub = TestHub::start_with(|c| {
        c.max_subscriptions = 2;
        c.auth_timeout_ms = 500;
    })
    .await;
    let a = hub.register("max").await;
    // Many sockets that never authenticate do not stop others being served.
    let mut idle = Vec::new();
    for _ in 0..50 {
        idle.push(tokio_tungstenite::connect_async(hub.ws_url()).await.unwrap());
    }
    let mut c = hub.connect(&a).await;
    c.subscribe(Channel::Balance(a.user.id), None).await.unwrap();
    c.subscribe(Channel::User(a.user.id), None).await.unwrap();
    assert_eq!(c.subscribe(Channel::Broadcast, None).await.unwrap_err().0, ErrorCode::TooManySubscriptions);
    // Re-subscribing an existing channel is allowed (healing a gap).
    c.subscribe(Channel::Balance(a.user.id), None).await.unwrap();
    drop(idle);
}

#[tokio::test]
async fn binary_frames_close_with_1008() {
    let hub = TestHub::start().await;
    let a = hub.register("ned").await;
    let mut c = hub.connect(&a).await;

    c.ws.send(tokio_tungstenite::tungstenite::Message::binary(vec![1u8, 2, 3])).await.unwrap();
    assert_eq!(c.closed_with().await, Some(1008));
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let hub = TestHub::start().await;
    let get = |p: &str| hub.http.get(format!("{}{p}", hub.base)).send();
    assert_eq!(get("/healthz").await.unwrap().status(), 200);
    assert_eq!(get("/readyz").await.unwrap().status(), 200);
    let a = hub.register("oli").await;
    let _c = hub.connect(&a).await;
    let metrics_url = hub.running.as_ref().unwrap().metrics_url();
    let m = hub.http.get(&metrics_url).send().await.unwrap().text().await.unwrap();
    for name in ["tally_connections", "tally_frames_out_total", "tally_commit_seconds"] {
        assert!(m.contains(name), "{name} missing from /metrics:\n{m}");
    }
    // Not on the public listener: the world does not get to read them.
    let r = get("/metrics").await.unwrap();
    assert_eq!(r.status(), 404);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "not_found", "{body}");
}

#[tokio::test]
async fn metrics_on_the_public_listener_answer_only_the_metrics_token() {
    let hub = TestHub::start_with(|c| c.metrics_token = Some("scrape-me-scrape-me".into())).await;
    let url = format!("{}/metrics", hub.base);
    assert_eq!(hub.http.get(&url).send().await.unwrap().status(), 401);
    assert_eq!(hub.http.get(&url).bearer_auth("wrong-token-wrong-tok").send().await.unwrap().status(), 401);
    let r = hub.http.get(&url).bearer_auth("scrape-me-scrape-me").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("tally_"));
}
