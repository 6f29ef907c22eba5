//! The WebSocket loop: authenticate with `hello`, then read requests and write queued frames.
use crate::conn::Conn;
use crate::hub::{Hub, Start};
use crate::ratelimit::{Bucket, Flood};
use crate::store::now_ms;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::{SinkExt, StreamExt};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tally_protocol::*;
use tokio::sync::mpsc;
use tracing::Instrument;

async fn close_now(mut socket: WebSocket, code: CloseCode, reason: &str) {
    metrics::counter!(crate::series::CLOSES, "code" => code.code().to_string()).increment(1);
    let _ = socket.send(Message::Close(Some(CloseFrame { code: code.code(), reason: Utf8Bytes::from(reason) }))).await;
}

/// Serves one upgraded socket until it closes.
///
/// Memory matters here: an idle connection's task holds the state of whatever it awaits, so every phase
/// that is not the steady read loop (handshake, welcome and resubscription, cleanup) and every request
/// handler is boxed: it takes memory only while it runs.
/// `_counted` keeps the socket in the drain's count from its upgrade to its close.
/// `place` is its place under the per-address caps, unauthenticated until the hello is accepted.
pub async fn serve_socket(
    hub: Arc<Hub>,
    socket: Box<WebSocket>,
    (_counted, mut place): (crate::hub::SocketGuard, crate::conn_caps::Place),
) {
    let Some((socket, hello, user, claims)) = Box::pin(handshake(&hub, *socket)).await else { return };
    place.authenticated();
    let (tenant, uid, sid) = (claims.tid, claims.sub, claims.sid.clone());
    let (out_tx, out_rx) = mpsc::channel::<Utf8Bytes>(hub.cfg.out_queue);
    let conn = Arc::new(Conn::new(hub.next_conn_id(), tenant, user.clone(), sid, out_tx));
    conn.apply_claims(&claims);
    let span = tracing::info_span!("conn", id = conn.id, user = uid, tenant = tenant.0);
    span.in_scope(|| tracing::debug!("authenticated"));
    hub.register(&conn);
    let (sink, stream) = socket.split();
    let last_rx = Arc::new(AtomicI64::new(now_ms()));
    let writer =
        tokio::spawn(write_loop(hub.clone(), conn.clone(), sink, out_rx, last_rx.clone()).instrument(span.clone()));
    Box::pin(start(&hub, &conn, hello, user).instrument(span.clone())).await;
    read_loop(&hub, &conn, stream, &last_rx).instrument(span.clone()).await;
    conn.close(CloseCode::Normal, "bye");
    let _ = writer.await;
    Box::pin(
        async {
            hub.unregister(&conn);
            let change = hub.presence.disconnected(tenant, uid);
            hub.devices.here(tenant, uid, hub.presence.devices(tenant, uid)).await;
            if hub.cfg.broker.is_some() {
                hub.share_rate_budget(tenant, uid, true).await;
            }
            if let Some(ch) = change {
                hub.publish_presence(ch).await;
            }
            tracing::debug!("closed");
        }
        .instrument(span),
    )
    .await;
}

/// Welcome, presence, and the subscriptions asked for in `hello`.
async fn start(hub: &Arc<Hub>, conn: &Arc<Conn>, hello: Hello, user: UserSummary) {
    let (tenant, uid) = (conn.tenant, conn.user.id);
    let files = hub.attachments.defaults;
    // The user channel's head first, then the limits: whatever changes them after that head is replayed to a
    // client that subscribes without a position (below), so the welcome's limits are never left stale.
    let me = Channel::User(uid);
    let (own, welcome_head) = match hub
        .store
        .read(move |c| Ok((crate::log::head(c, tenant, &me)?, crate::directory::own_limits(c, tenant, uid, files)?)))
        .await
    {
        Ok((head, own)) => (Some(own), Some(head)),
        Err(_) => (None, None),
    };
    conn.send(&ServerFrame::Welcome(Welcome {
        v: hello.v,
        session_id: format!("s_{}", conn.id),
        user,
        server_time: now_ms(),
        heartbeat_ms: hub.cfg.heartbeat_ms,
        limits: hub.limits(own),
    }))
    .await;
    let (tenant, uid) = (conn.tenant, conn.user.id);
    let stored = hub
        .store
        .read(move |c| crate::directory::presence_of(c, tenant, uid))
        .await
        .unwrap_or((PresenceStatus::Online, None));
    let change = hub.presence.connected(tenant, uid, stored);
    hub.devices.here(tenant, uid, hub.presence.devices(tenant, uid)).await;
    if hub.cfg.broker.is_some() {
        hub.share_rate_budget(tenant, uid, true).await;
    }
    if let Some(ch) = change {
        hub.publish_presence(ch).await;
    }
    // Every channel gets an answer: those past the cap an `unsubscribed` with too_many_subscriptions (a
    // hello is bounded by the frame size, so this is a few thousand frames at most).
    for spec in hello.subscriptions {
        let start = match (&welcome_head, spec.since) {
            (Some(head), None) if spec.channel == me => Start::Welcome(head.clone()),
            // Any other channel, a position the client gave, or a welcome read that failed (the welcome
            // then had the defaults): as the client asked.
            (_, since) => Start::Client(since),
        };
        if let Err(e) = hub.subscribe_from(conn, None, spec.channel, start).await {
            conn.send(&ServerFrame::Unsubscribed { channel: spec.channel, code: e.code }).await;
        }
    }
}

/// `hello` within the auth timeout, the token, the session and the user; `None` when the socket was
/// closed (with the documented code).
async fn handshake(
    hub: &Arc<Hub>,
    mut socket: WebSocket,
) -> Option<(WebSocket, Hello, UserSummary, crate::auth::tokens::Claims)> {
    // 1. hello, within the auth timeout.
    // Control frames (ping/pong) may come first; tungstenite answers pings itself.
    let deadline = tokio::time::Instant::now() + Duration::from_millis(hub.cfg.auth_timeout_ms);
    let mut shutdown = hub.shutdown.subscribe();
    let text = loop {
        let next = tokio::select! {
            n = tokio::time::timeout_at(deadline, socket.recv()) => n,
            _ = until_true(&mut shutdown) => {
                close_now(socket, CloseCode::ServiceRestart, "hub restarting").await;
                return None;
            }
        };
        match next {
            Err(_) => {
                close_now(socket, CloseCode::AuthTimeout, "no hello in time").await;
                return None;
            }
            Ok(None) => return None,
            // Like later frames: an unmasked or malformed first frame gets its close code (1002, 1007…).
            Ok(Some(Err(e))) => {
                close_now(socket, close_code_for(&e), "protocol error").await;
                return None;
            }
            Ok(Some(Ok(Message::Text(t)))) => break t,
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            Ok(Some(Ok(Message::Close(_)))) => return None,
            Ok(Some(Ok(_))) => {
                close_now(socket, CloseCode::BadHello, "first frame must be a text hello").await;
                return None;
            }
        }
    };
    if text.len() > hub.cfg.max_frame_bytes as usize {
        {
            close_now(socket, CloseCode::BadHello, "hello too large").await;
            return None;
        };
    }
    let hello = match decode_client(&text) {
        Ok(ClientFrame::Hello(h)) => h,
        _ => {
            close_now(socket, CloseCode::BadHello, "first frame must be hello").await;
            return None;
        }
    };
    if hello.v < MIN_PROTOCOL_VERSION || hello.v > PROTOCOL_VERSION {
        {
            close_now(socket, CloseCode::UnsupportedVersion, "unsupported protocol version").await;
            return None;
        };
    }
    let claims = match hub.keys.verify(&hello.token) {
        Ok(c) => c,
        Err(ErrorCode::TokenExpired) => {
            close_now(socket, CloseCode::TokenExpired, "token expired").await;
            return None;
        }
        Err(_) => {
            close_now(socket, CloseCode::Unauthorized, "invalid token").await;
            return None;
        }
    };
    let (tenant, uid, sid2) = (claims.tid, claims.sub, claims.sid.clone());
    let known = hub
        .store
        .read(move |c| {
            let revoked = crate::auth::sessions::is_revoked(c, &sid2)? || !crate::directory::is_active(c, tenant, uid)?;
            Ok((revoked, crate::directory::user_summary(c, tenant, uid)?))
        })
        .await;
    let user = match known {
        Ok((false, Some(u))) => u,
        // A revoked session, or a disabled account.
        Ok((true, _)) => {
            close_now(socket, CloseCode::SessionRevoked, "session revoked").await;
            return None;
        }
        Ok((false, None)) => {
            close_now(socket, CloseCode::Unauthorized, "unknown user").await;
            return None;
        }
        Err(_) => {
            close_now(socket, CloseCode::InternalError, "store unavailable").await;
            return None;
        }
    };

    Some((socket, hello, user, claims))
}

fn close_code_for(err: &axum::Error) -> CloseCode {
    let s = err.to_string();
    if s.contains("UTF-8") || s.contains("utf-8") || s.contains("Utf8") {
        CloseCode::InvalidData
    } else if s.contains("Space limit")
        || s.contains("too long")
        || s.contains("Message too big")
        || s.contains("capacity")
    {
        CloseCode::MessageTooBig
    } else {
        CloseCode::ProtocolError
    }
}

async fn read_loop(
    hub: &Arc<Hub>,
    conn: &Arc<Conn>,
    mut stream: futures_util::stream::SplitStream<WebSocket>,
    last_rx: &AtomicI64,
) {
    let mut bucket = Bucket::new(hub.cfg.rate_per_sec as f64, hub.cfg.rate_burst as f64);
    let mut flood = Flood::new(hub.cfg.rate_per_sec);
    let mut dead = conn.dead();
    let mut shutdown = hub.shutdown.subscribe();
    loop {
        let msg = tokio::select! {
            m = stream.next() => m,
            _ = until_true(&mut dead) => return,
            _ = until_true(&mut shutdown) => {
                let jitter = rand::Rng::gen_range(&mut rand::thread_rng(), 500..5_000);
                conn.send(&ServerFrame::Reconnect { delay_ms: jitter, reason: "hub restarting".into() }).await;
                conn.close(CloseCode::ServiceRestart, "hub restarting");
                return;
            }
        };
        let text = match msg {
            None => return,
            Some(Err(e)) => {
                conn.close(close_code_for(&e), "protocol error");
                return;
            }
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Binary(_))) => {
                conn.close(CloseCode::PolicyViolation, "binary frames are not accepted");
                return;
            }
            Some(Ok(Message::Close(_))) => return,
            Some(Ok(_)) => {
                last_rx.store(now_ms(), Ordering::Relaxed);
                continue;
            }
        };
        last_rx.store(now_ms(), Ordering::Relaxed);
        metrics::counter!(crate::series::FRAMES_IN).increment(1);
        if flood.frame() {
            conn.close(CloseCode::RateLimited, "rate limit abused");
            return;
        }
        if text.len() > hub.cfg.max_frame_bytes as usize {
            metrics::counter!(crate::series::REJECTED_FRAMES, "code" => "frame_too_large").increment(1);
            conn.send(&ServerFrame::error(
                None,
                ErrorCode::FrameTooLarge,
                format!("frames are limited to {} bytes", hub.cfg.max_frame_bytes),
            ))
            .await;
            continue;
        }
        if !bucket.take() || !hub.user_rate_ok(conn.tenant, conn.user.id) {
            metrics::counter!(crate::series::REJECTED_FRAMES, "code" => "rate_limited").increment(1);
            if flood.refused() {
                let id = decode_client(&text).ok().and_then(|f| f.req_id());
                let message = "too many frames; slow down (the rest refused this second get no answer)";
                conn.send(&ServerFrame::error(id, ErrorCode::RateLimited, message)).await;
            }
            continue;
        }
        let frame = match decode_client(&text) {
            Ok(f) => f,
            Err(e) => {
                metrics::counter!(crate::series::REJECTED_FRAMES, "code" => e.code.as_str()).increment(1);
                conn.send(&ServerFrame::error(e.id, e.code, e.message)).await;
                continue;
            }
        };
        if let ClientFrame::Subscribe { id, channel, since } = frame {
            if let Err(e) = Box::pin(hub.subscribe(conn, Some(id), channel, since)).await {
                metrics::counter!(crate::series::REJECTED_FRAMES, "code" => e.code.as_str()).increment(1);
                conn.send(&ServerFrame::error(Some(id), e.code, e.message)).await;
            }
            continue;
        }
        if let Some(reply) = Box::pin(hub.handle(conn, frame)).await {
            Box::pin(conn.send(&reply)).await;
        }
    }
}

async fn write_loop(
    hub: Arc<Hub>,
    conn: Arc<Conn>,
    mut sink: futures_util::stream::SplitSink<WebSocket, Message>,
    mut rx: mpsc::Receiver<Utf8Bytes>,
    last_rx: Arc<AtomicI64>,
) {
    let mut dead = conn.dead();
    let hb = Duration::from_millis(hub.cfg.heartbeat_ms.max(50));
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + hb, hb);
    // Its authority never outlives its token: renewed in band with `auth`, or closed when it expires. One
    // timer, moved only when a renewal moves the expiry (not a new timer for every write).
    let expiry = tokio::time::sleep(Duration::ZERO);
    tokio::pin!(expiry);
    let mut armed_for = None;
    loop {
        let expires = conn.token_expires_ms();
        if armed_for != Some(expires) {
            armed_for = Some(expires);
            let left_ms = (expires.saturating_sub(now_ms())).clamp(0, 86_400_000) as u64;
            expiry.as_mut().reset(tokio::time::Instant::now() + Duration::from_millis(left_ms));
        }
        tokio::select! {
            biased;
            _ = until_true(&mut dead) => break,
            _ = &mut expiry => {
                if now_ms() >= conn.token_expires_ms() {
                    conn.close(CloseCode::TokenExpired, "access token expired");
                    break;
                }
                // Not yet (a day-long clamp ran out): measure again.
                armed_for = None;
            }
            item = rx.recv() => {
                let Some(first) = item else { break };
                // Coalesce what is already queued into one flush.
                let mut ok = sink.feed(Message::Text(first)).await.is_ok();
                let mut n: u64 = 1;
                while ok && n < 256 {
                    match rx.try_recv() {
                        Ok(f) => { ok = sink.feed(Message::Text(f)).await.is_ok(); n += 1; }
                        Err(_) => break,
                    }
                }
                metrics::counter!(crate::series::FRAMES_OUT).increment(n);
                if !ok || sink.flush().await.is_err() {
                    conn.close(CloseCode::GoingAway, "write failed");
                    break;
                }
            }
            _ = ping.tick() => {
                // A client silent for three heartbeats is gone (half-open TCP): free its resources.
                if now_ms() - last_rx.load(Ordering::Relaxed) > 3 * hub.cfg.heartbeat_ms as i64 {
                    conn.close(CloseCode::GoingAway, "heartbeat timeout");
                    break;
                }
                let f = encode(&ServerFrame::Ping { ts: now_ms() });
                if sink.send(Message::Text(Utf8Bytes::from(f))).await.is_err() {
                    conn.close(CloseCode::GoingAway, "write failed");
                    break;
                }
            }
        }
    }
    let (code, reason) = conn.take_close_reason().unwrap_or((CloseCode::Normal, String::new()));
    // Deliver what was queued before the close was asked for (e.g. `reconnect`) unless the queue is the
    // problem.
    if code != CloseCode::SlowConsumer {
        while let Ok(f) = rx.try_recv() {
            if sink.feed(Message::Text(f)).await.is_err() {
                break;
            }
        }
    }
    metrics::counter!(crate::series::CLOSES, "code" => code.code().to_string()).increment(1);
    let _ = sink.send(Message::Close(Some(CloseFrame { code: code.code(), reason: Utf8Bytes::from(reason) }))).await;
    let _ = sink.close().await;
}

/// Resolves once the flag is true (at once if it already is: no missed signal).
async fn until_true(rx: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = rx.wait_for(|v| *v).await.map(|_| ());
}
