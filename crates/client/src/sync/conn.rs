//! One WebSocket connection: connecting with a timeout, requests and what each waits for, and what a close
//! means for the next attempt.
use super::*;

pub(crate) enum Outcome {
    Shutdown,
    /// Do not retry on our own: the user must act (sign in again, update the app).
    Permanent(ConnState),
    /// Reconnect: `live_for` is how long the session was live (None if it never was).
    Dropped {
        live_for: Option<Duration>,
        hint: Option<Duration>,
        error: String,
    },
}

#[derive(Debug)]
pub(super) enum Pending {
    External(ReplyBox),
    Outbox {
        item: i64,
        queue: OutboxQueue,
    },
    Ping(Instant),
    Snapshot(Channel, SnapshotKind),
    Backfill(PartKey, Work),
    /// Looking an expired outbox transfer up on the hub by its key.
    Reconcile {
        item: i64,
        queue: OutboxQueue,
    },
    Subscribe(Channel),
    /// The in-band token renewal.
    Renew,
    Quiet,
}

#[derive(Debug)]
pub(super) struct ReplyBox(pub(super) Option<Reply>);

pub(super) type WsStream = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(super) struct Conn {
    pub(super) ws: WsStream,
    pub(super) next_id: ReqId,
    pub(super) pending: HashMap<ReqId, (Pending, Instant)>,
    pub(super) in_flight_queues: HashSet<OutboxQueue>,
    pub(super) snapshot_queue: VecDeque<(Channel, Instant)>,
    pub(super) snapshots_running: usize,
    pub(super) retry_outbox_at: Option<Instant>,
    pub(super) backfill_in_flight: bool,
    /// The hub's clock minus ours, from `welcome`.
    pub(super) hub_skew_ms: i64,
}

impl Conn {
    pub(super) fn new(ws: WsStream) -> Conn {
        Conn {
            ws,
            next_id: 0,
            pending: HashMap::new(),
            in_flight_queues: HashSet::new(),
            snapshot_queue: VecDeque::new(),
            snapshots_running: 0,
            retry_outbox_at: None,
            backfill_in_flight: false,
            hub_skew_ms: 0,
        }
    }
    pub(super) async fn send(&mut self, f: &ClientFrame) -> Result<(), Error> {
        self.ws.send(WsMessage::text(encode(f))).await.map_err(|e| Error::Network(e.to_string()))
    }
    pub(super) async fn request(&mut self, make: impl FnOnce(ReqId) -> ClientFrame, p: Pending) -> Result<(), Error> {
        self.next_id += 1;
        let id = self.next_id;
        self.pending.insert(id, (p, Instant::now()));
        self.send(&make(id)).await
    }
}

pub(super) fn close_outcome(code: u16, reason: &str, live_for: Option<Duration>, hint: Option<Duration>) -> Outcome {
    match CloseCode::from_code(code) {
        Some(CloseCode::UnsupportedVersion) => Outcome::Permanent(ConnState::Closed {
            reason: "This version of Tally is too old for the server. Please update the app.".into(),
        }),
        Some(CloseCode::SessionRevoked) => Outcome::Permanent(ConnState::AuthFailed {
            reason: "You were signed out (from another device or for security). Sign in again.".into(),
        }),
        Some(CloseCode::ServiceRestart) => Outcome::Dropped {
            live_for,
            hint: hint.or(Some(Duration::from_millis(500))),
            error: "server restarting".into(),
        },
        _ => Outcome::Dropped { live_for, hint, error: format!("connection closed ({code} {reason})") },
    }
}

/// One connection attempt and, if it goes live, the whole session.
pub(super) async fn connect_once(
    sh: &Arc<Shared>,
    cmds: &mut mpsc::UnboundedReceiver<Cmd>,
    backoff: &mut Backoff,
    net: &mut watch::Receiver<Reachability>,
) -> Outcome {
    match session::open(sh).await {
        Ok((conn, welcome)) => live::run(sh, conn, welcome, cmds, backoff, net).await,
        Err(outcome) => outcome,
    }
}

pub(super) fn short_ws_error(e: &tokio_tungstenite::tungstenite::Error) -> String {
    use tokio_tungstenite::tungstenite::Error as E;
    match e {
        E::Io(io) => format!("network: {}", io.kind()),
        E::Http(r) => format!("server refused the connection ({})", r.status()),
        E::ConnectionClosed | E::AlreadyClosed => "connection closed".into(),
        other => other.to_string(),
    }
}
