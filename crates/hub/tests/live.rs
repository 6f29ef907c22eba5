//! The operators' live socket through the front door: an operator signed in with a code opens it with
//! their session as a subprotocol, reads the newest lines of their tenant, sees alice's payment to bob
//! arrive and complete as bob's and alice's apps do, sees the hub's numbers move once a second, narrows
//! the feed with a filter; refusals happen before any socket exists.
mod common;
use common::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::time::Duration;
use tally_protocol::live::{LiveFrame, LIVE_SUBPROTOCOL};
use tally_protocol::*;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as WsMessage;

type Live = WsStream;

/// The live URL of `hub` for `tenant`, opened with `token` beside our subprotocol.
async fn open(hub: &TestHub, token: &str, tenant: Option<&str>) -> Result<Live, u16> {
    let url = hub.ws_url().replace("/v1/ws", "/v1/operators/live");
    let url = match tenant {
        Some(t) => format!("{url}?tenant={t}"),
        None => url,
    };
    let mut req = url.into_client_request().unwrap();
    let offered = format!("{LIVE_SUBPROTOCOL}, bearer.{token}");
    req.headers_mut().insert("sec-websocket-protocol", offered.parse().unwrap());
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, resp)) => {
            let chosen = resp.headers().get("sec-websocket-protocol").and_then(|v| v.to_str().ok());
            assert_eq!(chosen, Some(LIVE_SUBPROTOCOL), "the hub answers with our subprotocol, never the token");
            Ok(ws)
        }
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => Err(r.status().as_u16()),
        Err(e) => panic!("{e}"),
    }
}

async fn next(ws: &mut Live) -> LiveFrame {
    loop {
        match tokio::time::timeout(WAIT, ws.next()).await.expect("a frame in time") {
            Some(Ok(WsMessage::Text(t))) => return serde_json::from_str(&t).expect("a LiveFrame"),
            Some(Ok(_)) => continue,
            other => panic!("socket ended: {other:?}"),
        }
    }
}

/// Frames until `pred` holds of one (bounded by `WAIT` per frame and 30 frames).
async fn until(ws: &mut Live, what: &str, mut pred: impl FnMut(&LiveFrame) -> bool) -> LiveFrame {
    for _ in 0..30 {
        let f = next(ws).await;
        if pred(&f) {
            return f;
        }
    }
    panic!("no frame: {what}");
}

fn lines(f: &LiveFrame) -> Vec<(String, TxKind, TransferStatus, i64)> {
    match f {
        LiveFrame::Feed { lines, .. } => lines
            .iter()
            .map(|l| (l.user.username.clone(), l.transaction.kind, l.transaction.status, l.transaction.amount.minor))
            .collect(),
        _ => vec![],
    }
}

#[tokio::test]
async fn an_operator_watches_a_payment_arrive_and_complete_and_the_hub_move() {
    let hub = TestHub::start().await;
    let alice = hub.register("alice").await;
    let bob_session = hub.register("bob").await;
    hub.deposit("alice", 10_000).await;
    let root = hub.operator(&hub.admin, "root", "admin").await;
    let audrey = hub.operator(&root, "audrey", "auditor").await;

    let mut live = open(&hub, &audrey, None).await.expect("an auditor may watch");
    let (_, trail) = hub.get_as(&root, "/v1/admin/audit").await;
    let watched = trail["entries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "live_watched" && e["actor"] == "operator:audrey");
    assert!(watched, "watching is in the audit trail: {trail}");
    let first = next(&mut live).await;
    assert!(matches!(first, LiveFrame::Feed { replace: true, .. }), "{first:?}");
    assert_eq!(lines(&first), vec![("alice".into(), TxKind::Deposit, TransferStatus::Completed, 10_000)]);

    let mut c = hub.connect(&alice).await;
    c.transfer("k1", "bob", 2_500).await.expect("paid");
    // Its two lines arrive as they are written, and again as their status changes, until completed.
    let mut seen: Vec<tally_protocol::live::FeedLine> = vec![];
    until(&mut live, "alice's line, completed", |f| {
        if let LiveFrame::Feed { lines, .. } = f {
            seen.extend(lines.iter().cloned());
        }
        seen.iter()
            .any(|l| l.transaction.kind == TxKind::TransferOut && l.transaction.status == TransferStatus::Completed)
    })
    .await;
    let out = seen.iter().find(|l| l.transaction.kind == TxKind::TransferOut).unwrap();
    assert_eq!((out.user.username.as_str(), out.transaction.amount.minor), ("alice", 2_500));
    assert_eq!(out.transaction.counterparty.as_ref().map(|u| u.username.as_str()), Some("bob"));
    assert!(seen.iter().any(|l| l.user.username == "bob" && l.transaction.kind == TxKind::TransferIn), "{seen:?}");
    let stats = until(&mut live, "a second with transfers", |f| match f {
        LiveFrame::Stats { stats } => stats.transfers_per_s.values().sum::<f64>() > 0.0 || stats.commits_per_s > 0.0,
        _ => false,
    })
    .await;
    let LiveFrame::Stats { stats } = stats else { unreachable!() };
    assert!(stats.connections >= 1, "alice's socket is open: {stats:?}");

    // Filters: by user and kind; an unknown user and a frame that is not a request are refused, and
    // the socket stays.
    let send = |f: serde_json::Value| WsMessage::Text(f.to_string().into());
    live.send(send(json!({"type": "filter", "filter": {"username": "bob"}}))).await.unwrap();
    let bob = until(&mut live, "bob's page", |f| matches!(f, LiveFrame::Feed { replace: true, .. })).await;
    assert_eq!(lines(&bob), vec![("bob".into(), TxKind::TransferIn, TransferStatus::Completed, 2_500)]);
    live.send(send(json!({"type": "filter", "filter": {"kind": "withdrawal"}}))).await.unwrap();
    let none = until(&mut live, "no withdrawals", |f| matches!(f, LiveFrame::Feed { replace: true, .. })).await;
    assert!(lines(&none).is_empty());
    live.send(send(json!({"type": "filter", "filter": {"username": "nobody"}}))).await.unwrap();
    let refused = until(&mut live, "an unknown user refused", |f| matches!(f, LiveFrame::Error { .. })).await;
    assert!(matches!(refused, LiveFrame::Error { code: ErrorCode::NotFound, .. }), "{refused:?}");
    live.send(send(json!({"type": "nonsense"}))).await.unwrap();
    let refused = until(&mut live, "nonsense refused", |f| matches!(f, LiveFrame::Error { .. })).await;
    assert!(matches!(refused, LiveFrame::Error { code: ErrorCode::Invalid, .. }), "{refused:?}");
    // The withdrawal filter still holds: bob's next payment is not shown, a withdrawal would be.
    let mut b = hub.connect(&bob_session).await;
    b.transfer("k2", "alice", 100).await.expect("paid back");
    let quiet = tokio::time::timeout(Duration::from_millis(2_500), async {
        loop {
            let f = next(&mut live).await;
            if !lines(&f).is_empty() {
                return f;
            }
        }
    })
    .await;
    assert!(quiet.is_err(), "a payment is not a withdrawal: {quiet:?}");
}

#[tokio::test]
async fn refused_before_any_socket_exists() {
    let hub = TestHub::start().await;
    let root = hub.operator(&hub.admin, "root", "admin").await;
    let (s, v) = hub.post_as(&root, "/v1/admin/tenants", json!({"name": "acme", "registration": "open"})).await;
    assert_eq!(s, 200, "{v}");
    let body =
        json!({"username": "acmeops", "password": "operator pass phrase 42", "role": "support", "tenant": "acme"});
    let (s, v) = hub.post_as(&root, "/v1/admin/operators", body).await;
    assert_eq!(s, 200, "{v}");
    let secret = v["totp_secret"].as_str().unwrap();
    let body = json!({"username": "acmeops", "password": "operator pass phrase 42", "totp": code_now(secret)});
    let acme_ops = hub.post("/v1/operators/sign-in", body).await.1["token"].as_str().unwrap().to_string();

    assert_eq!(open(&hub, "op_not_a_session", None).await.err(), Some(401));
    assert_eq!(open(&hub, &hub.admin.clone(), None).await.err(), Some(401), "the admin token is not a session");
    assert_eq!(open(&hub, &acme_ops, None).await.err(), Some(403), "another tenant's operator");
    assert_eq!(open(&hub, &root, Some("nowhere")).await.err(), Some(404));
    assert!(open(&hub, &acme_ops, Some("acme")).await.is_ok(), "their own tenant");
    // Without our subprotocol beside it, a token is not read.
    let url = hub.ws_url().replace("/v1/ws", "/v1/operators/live");
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status().as_u16(), 401),
        other => panic!("{other:?}"),
    }
}
