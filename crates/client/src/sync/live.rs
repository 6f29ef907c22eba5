//! A live session: frames from the hub, commands from the engine, the network's state, token renewal and
//! the 100 ms housekeeping tick (heartbeats, wake from sleep, unanswered requests, outbox retries,
//! snapshots, the history download). Each source has its own handler; the loop only dispatches.
use super::{
    close_outcome, flush_outbox, on_frame, run_backfill, run_snapshots, short_ws_error, wanted_parts, Cmd, Conn,
    Outcome, Pending, ReplyBox, Shared, ACK_TIMEOUT,
};
use crate::backoff::Backoff;
use crate::netwatch::Reachability;
use crate::store::now_ms;
use crate::view::{Change, ConnState};
use crate::Error;
use futures_util::StreamExt;
use rand::Rng;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tally_protocol::*;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// The session's clocks and flags.
struct Live {
    since: Instant,
    heartbeat: Duration,
    last_rx: Instant,
    /// Wall and monotonic clocks at the last tick (a jump between them means the machine slept).
    wall: (SystemTime, Instant),
    next_ping: Instant,
    /// The hub's `reconnect` delay, when it sent one.
    hint: Option<Duration>,
    refresh_at: Instant,
    refreshing: bool,
    refreshed: mpsc::Sender<Result<String, Error>>,
}

impl Live {
    fn dropped(&self, error: impl Into<String>) -> Outcome {
        Outcome::Dropped { live_for: Some(self.since.elapsed()), hint: self.hint, error: error.into() }
    }
}

/// When to refresh the access token: at 75-85 % of its lifetime (jittered, so a fleet spreads out).
fn refresh_time(sh: &Shared) -> Instant {
    let t = sh.tokens.lock().unwrap_or_else(|e| e.into_inner());
    let jitter = rand::thread_rng().gen_range(0.75..0.85);
    t.access_expires.checked_sub(t.lifetime.mul_f64(1.0 - jitter)).unwrap_or_else(Instant::now)
}

/// Runs a session from `welcome` until it ends; returns how it ended.
pub(super) async fn run(
    sh: &Arc<Shared>,
    mut conn: Conn,
    welcome: Welcome,
    cmds: &mut mpsc::UnboundedReceiver<Cmd>,
    backoff: &mut Backoff,
    net: &mut watch::Receiver<Reachability>,
) -> Outcome {
    let (refreshed, mut refresh_rx) = mpsc::channel::<Result<String, Error>>(1);
    let now = Instant::now();
    let mut live = Live {
        since: now,
        heartbeat: Duration::from_millis(welcome.heartbeat_ms.max(100)),
        last_rx: now,
        wall: (SystemTime::now(), now),
        next_ping: now,
        hint: None,
        refresh_at: refresh_time(sh),
        refreshing: false,
        refreshed,
    };
    if let Err(e) = begin(sh, &mut conn, &welcome).await {
        return live.dropped(e.to_string());
    }
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut net_alive = true;
    let result = loop {
        let ended = tokio::select! {
            msg = conn.ws.next() => on_socket(sh, &mut conn, &mut live, msg).await,
            c = cmds.recv() => on_cmd(sh, &mut conn, &mut live, backoff, c).await,
            changed = net.changed(), if net_alive => {
                net_alive = changed.is_ok();
                // The OS says the network is gone: say Offline now instead of waiting for heartbeats.
                (net_alive && *net.borrow_and_update() == Reachability::Down).then(|| live.dropped("network down"))
            }
            r = refresh_rx.recv() => on_refreshed(sh, &mut conn, &mut live, r).await,
            _ = tick.tick() => {
                backoff.on_healthy(live.since.elapsed());
                on_tick(sh, &mut conn, &mut live).await
            }
        };
        if let Some(outcome) = ended {
            break outcome;
        }
    };
    // The connection is gone: fail waiting requests at once; queued outbox items stay queued.
    for (_, (p, _)) in conn.pending.drain() {
        if let Pending::External(ReplyBox(Some(reply))) = p {
            let _ = reply.send(Err(Error::Offline));
        }
    }
    backoff.on_healthy(live.since.elapsed());
    result
}

/// Right after `welcome`: what this session owes (history parts, limits, contacts, snapshots, outbox).
async fn begin(sh: &Arc<Shared>, conn: &mut Conn, welcome: &Welcome) -> Result<(), Error> {
    conn.hub_skew_ms = welcome.server_time - now_ms();
    sh.store.ensure_parts(&wanted_parts(sh))?;
    if let Ok(json) = serde_json::to_string(&welcome.limits) {
        if sh.store.meta("limits").ok().flatten().as_deref() != Some(json.as_str()) {
            sh.store.set_meta("limits", &json)?;
            sh.changed(vec![Change::Session]);
        }
    }
    sh.set_state(ConnState::Live { latency_ms: None });
    let _ = sh.store.confirm_balances();
    // Contacts are cheap and change rarely: refresh them on every connect.
    let me = Channel::User(sh.user.id);
    conn.request(
        |id| ClientFrame::Snapshot { id, what: SnapshotKind::Contacts },
        Pending::Snapshot(me, SnapshotKind::Contacts),
    )
    .await?;
    for channel in sh.store.snapshots_owed().unwrap_or_default() {
        conn.snapshot_queue.push_back((channel, Instant::now()));
    }
    flush_outbox(sh, conn).await;
    Ok(())
}

type WsItem = Option<Result<WsMessage, tokio_tungstenite::tungstenite::Error>>;

async fn on_socket(sh: &Arc<Shared>, conn: &mut Conn, live: &mut Live, msg: WsItem) -> Option<Outcome> {
    live.last_rx = Instant::now();
    match msg {
        None => Some(live.dropped("connection lost")),
        Some(Err(e)) => Some(live.dropped(short_ws_error(&e))),
        Some(Ok(WsMessage::Close(cf))) => {
            let (code, reason) = cf.map(|c| (u16::from(c.code), c.reason.to_string())).unwrap_or((1005, String::new()));
            Some(close_outcome(code, &reason, Some(live.since.elapsed()), live.hint))
        }
        Some(Ok(WsMessage::Text(t))) => match decode_server(&t) {
            Ok(frame) => on_frame(sh, conn, frame, &mut live.hint).await.err().map(|e| live.dropped(e.to_string())),
            Err(e) => {
                tracing::warn!(error = %e, "ignoring an unreadable frame");
                None
            }
        },
        Some(Ok(_)) => None,
    }
}

async fn on_cmd(
    sh: &Arc<Shared>,
    conn: &mut Conn,
    live: &mut Live,
    backoff: &mut Backoff,
    c: Option<Cmd>,
) -> Option<Outcome> {
    match c {
        None | Some(Cmd::Shutdown) => {
            let _ = conn.ws.close(None).await;
            return Some(Outcome::Shutdown);
        }
        // Already live: probe at once instead.
        Some(Cmd::ReconnectNow) => live.next_ping = Instant::now(),
        Some(Cmd::Background(b)) => backoff.background = b,
        Some(Cmd::Kick) => flush_outbox(sh, conn).await,
        Some(Cmd::Request(make, reply)) => {
            if conn.request(make, Pending::External(ReplyBox(Some(reply)))).await.is_err() {
                return Some(live.dropped("send failed"));
            }
        }
    }
    None
}

/// A token refresh finished: renew this connection in band (it is closed when its token expires).
async fn on_refreshed(
    sh: &Arc<Shared>,
    conn: &mut Conn,
    live: &mut Live,
    r: Option<Result<String, Error>>,
) -> Option<Outcome> {
    live.refreshing = false;
    match r {
        Some(Ok(token)) => {
            live.refresh_at = refresh_time(sh);
            if conn.request(|id| ClientFrame::Auth { id, token }, Pending::Renew).await.is_err() {
                return Some(live.dropped("send failed"));
            }
        }
        Some(Err(Error::Auth(reason))) => return Some(Outcome::Permanent(ConnState::AuthFailed { reason })),
        _ => live.refresh_at = Instant::now() + Duration::from_secs(30),
    }
    None
}

/// Fetches a new token and renews the connection with it when it comes.
fn start_refresh(sh: &Arc<Shared>, live: &mut Live) {
    live.refreshing = true;
    let (sh2, tx) = (sh.clone(), live.refreshed.clone());
    // The result is dropped with this connection's receiver if the connection ends first.
    tokio::spawn(async move {
        let _ = tx.send(sh2.access_token(true).await).await;
    });
}

async fn on_tick(sh: &Arc<Shared>, conn: &mut Conn, live: &mut Live) -> Option<Outcome> {
    let now = Instant::now();
    // Two missed heartbeats: the connection is dead even if TCP says nothing.
    if now.duration_since(live.last_rx) > live.heartbeat * 2 + Duration::from_millis(500) {
        return Some(live.dropped("no heartbeat from the server"));
    }
    // Woke from sleep (wall clock jumped ahead of the monotonic clock): probe at once.
    let (w0, i0) = live.wall;
    if SystemTime::now().duration_since(w0).unwrap_or_default() > i0.elapsed() + Duration::from_secs(5) {
        live.next_ping = now;
        live.last_rx = now; // give the probe its chance before declaring the link dead
    }
    live.wall = (SystemTime::now(), now);
    if now >= live.next_ping {
        live.next_ping = now + live.heartbeat;
        let ts = now_ms();
        if conn.request(|id| ClientFrame::Ping { id, ts }, Pending::Ping(Instant::now())).await.is_err() {
            return Some(live.dropped("send failed"));
        }
    }
    if !live.refreshing && now >= live.refresh_at {
        start_refresh(sh, live);
    }
    if conn.pending.values().any(|(_, at)| at.elapsed() > ACK_TIMEOUT) {
        return Some(live.dropped("the server stopped answering"));
    }
    if conn.retry_outbox_at.is_some_and(|t| now >= t) {
        conn.retry_outbox_at = None;
        flush_outbox(sh, conn).await;
    }
    if let Err(e) = run_snapshots(sh, conn).await {
        return Some(live.dropped(e.to_string()));
    }
    run_backfill(sh, conn).await.err().map(|e| live.dropped(e.to_string()))
}
