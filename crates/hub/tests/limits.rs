mod common;
use common::*;
use futures_util::{SinkExt, StreamExt};
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
async fn a_flood_is_closed_at_ten_times_its_rate_and_gets_one_error_per_second_not_one_per_frame() {
    let hub = TestHub::start().await; // 50 frames/s, burst 100: closed past 500 in a second
    let a = hub.register("flo").await;
    let mut c = hub.connect(&a).await;
    let mut sent = 0u64;
    for i in 0..2_000u64 {
        let frame = tokio_tungstenite::tungstenite::Message::text(encode(&ClientFrame::Ping { id: 10 + i, ts: 0 }));
        if c.ws.feed(frame).await.is_err() {
            break;
        }
        sent += 1;
    }
    let _ = c.ws.flush().await;
    let (mut pongs, mut errors) = (0, 0);
    let code = loop {
        match tokio::time::timeout(WAIT, c.ws.next()).await {
            Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t)))) => match decode_server(&t) {
                Ok(ServerFrame::Ack { .. }) => pongs += 1,
                Ok(ServerFrame::Error { code: ErrorCode::RateLimited, .. }) => errors += 1,
                _ => {}
            },
            Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Close(Some(cf))))) => break Some(u16::from(cf.code)),
            Ok(Some(Ok(_))) => {}
            _ => break None,
        }
    };
    assert_eq!(code, Some(CloseCode::RateLimited.code()), "sent {sent}, {pongs} pongs, {errors} errors");
    // The burst and what the rate refilled were answered; the flood got a single error, not ~1,900.
    assert!((100..=160).contains(&pongs), "{pongs} pongs");
    assert_eq!(errors, 1, "one coalesced error in the window");
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
async fn a_hello_past_the_subscription_cap_answers_every_channel_it_refused() {
    let hub = TestHub::start_with(|c| c.max_subscriptions = 3).await;
    let a = hub.register("cap").await;
    let u = a.user.id;
    let asked = [
        Channel::Balance(u),
        Channel::User(u),
        Channel::Transactions(u),
        Channel::Broadcast,
        Channel::Notifications(u),
    ];
    let specs = asked.iter().map(|&channel| SubscribeSpec { channel, since: None }).collect();
    let mut c = Client::connect(&hub.ws_url(), &a.access, specs).await;
    let mut subscribed = Vec::new();
    let mut refused = Vec::new();
    while subscribed.len() + refused.len() < asked.len() {
        match c.next_frame().await {
            ServerFrame::Subscribed { channel, .. } => subscribed.push(channel),
            ServerFrame::Unsubscribed { channel, code } => {
                assert_eq!(code, ErrorCode::TooManySubscriptions);
                refused.push(channel);
            }
            _ => {}
        }
    }
    assert_eq!(subscribed, asked[..3].to_vec());
    assert_eq!(refused, asked[3..].to_vec(), "each channel past the cap is answered");
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
