//! The raw baseline: plain TCP, newline-delimited JSON, the same fan-out (encode once, share the bytes,
//! coalesce per socket) with no WebSocket framing and no protocol. What the machine can physically do.
use axum::routing::{get, post};
use axum::Json;
use bytes::Bytes;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

type Subs = Arc<RwLock<HashMap<String, Vec<mpsc::Sender<Bytes>>>>>;

#[derive(Deserialize)]
struct Item {
    room: String,
    data: serde_json::Value,
}
#[derive(Deserialize)]
struct Body {
    events: Vec<Item>,
}

pub async fn serve(port: u16, http_port: u16) -> anyhow::Result<()> {
    let subs: Subs = Arc::default();
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let s2 = subs.clone();
    let seqs: Arc<std::sync::Mutex<HashMap<String, u64>>> = Arc::default();
    let app = axum::Router::new().route("/healthz", get(|| async { "ok" })).route(
        "/publish",
        post(move |Json(b): Json<Body>| {
            let subs = s2.clone();
            let seqs = seqs.clone();
            async move {
                let map = subs.read().unwrap_or_else(|e| e.into_inner());
                let mut seqs = seqs.lock().unwrap_or_else(|e| e.into_inner());
                for mut e in b.events {
                    // Numbered at fan-out time, like the hub does (the publisher's number seeds it).
                    let given = e.data["seq"].as_u64().unwrap_or(1);
                    let seq = seqs.get(&e.room).map_or(given, |s| s + 1);
                    seqs.insert(e.room.clone(), seq);
                    e.data["seq"] = seq.into();
                    let mut line = serde_json::to_vec(&e.data).unwrap_or_default();
                    line.push(b'\n');
                    let bytes = Bytes::from(line);
                    if let Some(list) = map.get(&e.room) {
                        for tx in list {
                            let _ = tx.try_send(bytes.clone());
                        }
                    }
                }
                "ok"
            }
        }),
    );
    let http = tokio::net::TcpListener::bind(("127.0.0.1", http_port)).await?;
    tokio::spawn(async move { axum::serve(http, app).await });
    loop {
        let (sock, _) = listener.accept().await?;
        let _ = sock.set_nodelay(true);
        let subs = subs.clone();
        tokio::spawn(async move {
            let (rd, mut wr) = sock.into_split();
            let mut lines = BufReader::new(rd).lines();
            let Ok(Some(first)) = lines.next_line().await else { return };
            let (tx, mut rx) = mpsc::channel::<Bytes>(4096);
            {
                let mut map = subs.write().unwrap_or_else(|e| e.into_inner());
                for room in first.trim_start_matches("sub ").split_whitespace() {
                    map.entry(room.to_string()).or_default().push(tx.clone());
                }
            }
            if wr.write_all(b"ok\n").await.is_err() {
                return;
            }
            let writer = tokio::spawn(async move {
                let mut buf = Vec::with_capacity(4096);
                while let Some(first) = rx.recv().await {
                    buf.clear();
                    buf.extend_from_slice(&first);
                    while let Ok(more) = rx.try_recv() {
                        buf.extend_from_slice(&more);
                        if buf.len() > 64 * 1024 {
                            break;
                        }
                    }
                    if wr.write_all(&buf).await.is_err() {
                        return;
                    }
                }
            });
            while let Ok(Some(_)) = lines.next_line().await {}
            writer.abort();
        });
    }
}
