//! SIGTERM drains: /readyz turns 503 at once, every socket hears `reconnect` and a 1012 close before the
//! process exits, and the exit comes within --drain-secs.
mod common;

use common::*;
use futures_util::StreamExt;
use serde_json::json;
use std::time::{Duration, Instant};
use tally_protocol::*;
use tokio_tungstenite::tungstenite::Message as WsMessage;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_tells_every_socket_to_reconnect_and_closes_it_with_1012_before_the_process_exits() {
    let data = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tally-hub"))
        .args([
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--metrics-bind",
            "127.0.0.1:0",
            "--drain-secs",
            "8",
            "--registration",
            "open",
        ])
        .args(["--jwt-secret", "drain-test-secret-drain-test-secret-0123"])
        .arg("--data-dir")
        .arg(data.path())
        .env("TALLY_LOG", "warn")
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    for _ in 0..200 {
        if http.get(format!("{base}/readyz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let r = http
        .post(format!("{base}/v1/auth/register"))
        .json(&json!({"username": "dre", "password": "correct horse battery staple"}))
        .send()
        .await
        .unwrap();
    let s = Session::from_json(&r.json().await.unwrap());
    let ws_url = format!("ws://127.0.0.1:{port}/v1/ws");
    let mut clients = Vec::new();
    for _ in 0..200 {
        clients.push(
            Client::connect(&ws_url, &s.access, vec![SubscribeSpec { channel: Channel::User(s.user.id), since: None }])
                .await,
        );
    }
    let sent = Instant::now();
    assert!(std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let mut outcomes = Vec::new();
    for c in clients.iter_mut() {
        outcomes.push(until_closed(c).await);
    }
    let exited = tokio::task::spawn_blocking(move || child.wait().unwrap()).await.unwrap();
    assert!(exited.success(), "{exited:?}");
    assert!(sent.elapsed() < Duration::from_secs(8), "the drain took {:?}", sent.elapsed());
    let bad: Vec<_> = outcomes.iter().filter(|o| **o != (true, Some(1012))).collect();
    assert!(
        bad.is_empty(),
        "{} of 200 sockets did not get reconnect + 1012: {:?}",
        bad.len(),
        &bad[..bad.len().min(5)]
    );
}

/// Reads to the end: whether `reconnect` came, and the close code (None: the socket just ended, 1006).
async fn until_closed(c: &mut Client) -> (bool, Option<u16>) {
    let mut reconnect = c.inbox.iter().any(|f| matches!(f, ServerFrame::Reconnect { .. }));
    loop {
        match tokio::time::timeout(WAIT, c.ws.next()).await {
            Ok(Some(Ok(WsMessage::Text(t)))) => {
                reconnect |= matches!(decode_server(&t), Ok(ServerFrame::Reconnect { .. }));
            }
            Ok(Some(Ok(WsMessage::Close(cf)))) => return (reconnect, cf.map(|f| u16::from(f.code))),
            Ok(Some(Ok(_))) => {}
            _ => return (reconnect, None),
        }
    }
}

#[tokio::test]
async fn while_draining_the_hub_is_not_ready_and_takes_no_new_sockets() {
    let mut hub = TestHub::start().await;
    let s = hub.register("rea").await;
    let running = hub.running.take().unwrap();
    // A socket still open (as one mid-handshake is) keeps the drain going.
    let held = running.hub.socket_opened();
    let draining = tokio::spawn(running.shutdown());
    tokio::time::sleep(Duration::from_millis(50)).await;
    let r = hub.http.get(format!("{}/readyz", hub.base)).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert!(tokio_tungstenite::connect_async(hub.ws_url()).await.is_err(), "no new sockets while draining");
    let _ = s;
    drop(held);
    tokio::time::timeout(Duration::from_secs(5), draining)
        .await
        .expect("the drain ends once the socket closes")
        .unwrap();
}
