//! A client process: holds many connections of one protocol, records what arrives, answers the
//! orchestrator's commands (JSON lines on stdin/stdout). Several run at once for large counts (each
//! process may hold at most 20,000 file descriptors here).
use crate::stats::Stats;
use crate::wire::{self, Proto, SioPacket};
use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

type Ws = tokio_tungstenite::WebSocketStream<TcpStream>;

/// One connection to open: who, and which channels (the first is the measured one).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConnSpec {
    /// Socket.IO / raw: the user name; Tally: unused (the token says who).
    pub user: String,
    #[serde(default)]
    pub token: String,
    pub channels: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Command {
    Connect {
        proto: Proto,
        addr: SocketAddr,
        sources: Vec<IpAddr>,
        conns: Vec<ConnSpec>,
        /// Connections in flight at once while connecting.
        parallel: usize,
        /// The first `small_rcvbuf` connections get a 4 KiB receive buffer (slow-consumer runs).
        #[serde(default)]
        small_rcvbuf: usize,
    },
    /// Clears counters and histograms (start of a measured step).
    Reset,
    Report,
    /// The first `count` connections stop reading (they keep their sockets open).
    Pause {
        count: usize,
    },
    /// Arms the reconnect-storm measurement: after a drop, reconnect with backoff and measure until each
    /// connection has seen `expect` more events on its measured channel.
    Storm {
        expect: u64,
    },
    Quit,
}

#[derive(Default)]
struct Shared {
    stats: Mutex<Stats>,
    ready: AtomicUsize,
    failed: AtomicUsize,
    closed: AtomicUsize,
    storm: AtomicBool,
    expect: AtomicU64,
    sent_pongs: AtomicU64,
}

pub async fn run() -> anyhow::Result<()> {
    let shared = Arc::new(Shared::default());
    let (pause_tx, pause_rx) = watch::channel(0usize);
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut out = tokio::io::stdout();
    while let Some(line) = lines.next_line().await? {
        let cmd: Command = serde_json::from_str(&line).context("bad command")?;
        let reply = match cmd {
            Command::Connect { proto, addr, sources, conns, parallel, small_rcvbuf } => {
                let n = conns.len();
                let before = shared.ready.load(Ordering::Acquire);
                let started = std::time::Instant::now();
                let gate = Arc::new(tokio::sync::Semaphore::new(parallel.max(1)));
                for (i, spec) in conns.into_iter().enumerate() {
                    let src = sources[i % sources.len()];
                    let cx = Conn {
                        idx: i,
                        proto,
                        addr,
                        src,
                        small_rcvbuf: i < small_rcvbuf,
                        spec,
                        shared: shared.clone(),
                        pause: pause_rx.clone(),
                    };
                    let permit = gate.clone().acquire_owned().await?;
                    tokio::spawn(cx.run(permit));
                }
                // Wait (bounded) for every connection to be subscribed or to have failed.
                let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
                while shared.ready.load(Ordering::Acquire) + shared.failed.load(Ordering::Acquire) < before + n
                    && tokio::time::Instant::now() < deadline
                {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                json!({"ready": shared.ready.load(Ordering::Acquire) - before,
                       "failed": shared.failed.load(Ordering::Acquire),
                       "ms": started.elapsed().as_millis() as u64})
            }
            Command::Reset => {
                shared.stats.lock().unwrap().reset();
                json!({"ok": true})
            }
            Command::Report => {
                let s = shared.stats.lock().unwrap();
                let mut v = s.to_json();
                v["closed"] = json!(shared.closed.load(Ordering::Acquire));
                v["ready"] = json!(shared.ready.load(Ordering::Acquire));
                v["pongs"] = json!(shared.sent_pongs.load(Ordering::Relaxed));
                v
            }
            Command::Pause { count } => {
                pause_tx.send_replace(count);
                json!({"ok": true})
            }
            Command::Storm { expect } => {
                shared.expect.store(expect, Ordering::Release);
                shared.storm.store(true, Ordering::Release);
                json!({"ok": true})
            }
            Command::Quit => {
                out.write_all(b"{\"ok\":true}\n").await?;
                out.flush().await?;
                return Ok(());
            }
        };
        out.write_all(format!("{reply}\n").as_bytes()).await?;
        out.flush().await?;
    }
    Ok(())
}

struct Conn {
    idx: usize,
    proto: Proto,
    addr: SocketAddr,
    src: IpAddr,
    small_rcvbuf: bool,
    spec: ConnSpec,
    shared: Arc<Shared>,
    pause: watch::Receiver<usize>,
}

/// Per-connection memory of the measured channel.
#[derive(Default)]
struct Track {
    epoch: Option<String>,
    last: Option<u64>,
    /// Set when the connection dropped during a storm: (drop time, seq to reach).
    storm: Option<(u64, u64)>,
    /// During a storm: resubscribed since the drop.
    resubscribed: bool,
    counted_ready: bool,
}

enum End {
    /// The server went away (or the socket broke).
    Dropped,
    /// Could not connect or authenticate.
    Failed,
}

async fn tcp(addr: SocketAddr, src: IpAddr, small: bool) -> std::io::Result<TcpStream> {
    let s = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    if small {
        s.set_recv_buffer_size(4096)?;
    }
    s.bind(SocketAddr::new(src, 0))?;
    let stream = s.connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(0)
}

impl Conn {
    async fn run(mut self, permit: tokio::sync::OwnedSemaphorePermit) {
        let mut permit = Some(permit);
        let mut track = Track::default();
        let mut attempt: u32 = 0;
        let mut retry = tally_client::backoff::Backoff::new();
        loop {
            let end = match self.proto {
                Proto::Tally => self.tally(&mut track, &mut permit).await,
                Proto::SocketIo => self.socketio(&mut track, &mut permit).await,
                Proto::Raw => self.raw(&mut track, &mut permit).await,
            };
            permit = None;
            if !track.counted_ready {
                self.shared.failed.fetch_add(1, Ordering::AcqRel);
                track.counted_ready = true;
            }
            if !self.shared.storm.load(Ordering::Acquire) {
                self.shared.closed.fetch_add(1, Ordering::AcqRel);
                return;
            }
            // Reconnect like the app does: the first retry within 0-1 s, then capped exponential with jitter.
            if matches!(end, End::Dropped) && track.storm.is_none() {
                let expect = self.shared.expect.load(Ordering::Acquire);
                track.storm = Some((wire::now_ns(), track.last.unwrap_or(0) + expect));
                track.resubscribed = false;
                self.shared.stats.lock().unwrap().dropped += 1;
                attempt = 0;
            }
            // The app's own backoff (tally-client): 0-1 s first, then full jitter under the 10 s foreground cap.
            let delay = if attempt == 0 {
                retry = tally_client::backoff::Backoff::new();
                tally_client::backoff::Backoff::first_retry(&mut rand::thread_rng())
            } else {
                retry.next_delay(&mut rand::thread_rng())
            };
            attempt += 1;
            if attempt > 12 {
                self.shared.closed.fetch_add(1, Ordering::AcqRel);
                return;
            }
            tokio::time::sleep(delay).await;
        }
    }

    fn mark_ready(&self, track: &mut Track, permit: &mut Option<tokio::sync::OwnedSemaphorePermit>) {
        *permit = None;
        if !track.counted_ready {
            track.counted_ready = true;
            self.shared.ready.fetch_add(1, Ordering::AcqRel);
        } else if track.storm.is_some() && !track.resubscribed {
            track.resubscribed = true;
            let mut s = self.shared.stats.lock().unwrap();
            s.resubscribed(wire::now_ns());
            Self::storm_done(track, &mut s);
        }
    }

    /// A storm measurement ends when the connection is resubscribed and has the expected events.
    fn storm_done(track: &mut Track, s: &mut Stats) {
        if let Some((t0, target)) = track.storm {
            if track.resubscribed && track.last.unwrap_or(0) >= target {
                s.caught_up(wire::now_ns().saturating_sub(t0));
                track.storm = None;
            }
        }
    }

    /// Records bench events; finishes the storm measurement when the expected seq arrives.
    fn seen(&self, track: &mut Track, seen: &[wire::Seen], measured: bool) {
        if seen.is_empty() {
            return;
        }
        let now = wire::now_ns();
        let mut s = self.shared.stats.lock().unwrap();
        // Socket.IO and the raw baseline keep no log: their numbering restarts with the server, so across a
        // storm the check is only whether an event arrives after the rejoin.
        let renumbered = self.proto != Proto::Tally && track.storm.is_some();
        for e in seen {
            s.latency(now.saturating_sub(e.stamp));
            if renumbered {
                if let (true, Some((t0, _))) = (track.resubscribed, track.storm) {
                    s.caught_up(now.saturating_sub(t0));
                    track.storm = None;
                    track.last = Some(e.seq);
                }
                continue;
            }
            if measured {
                match track.last {
                    Some(l) if e.seq <= l => s.dups += 1,
                    Some(l) if e.seq > l + 1 => s.gaps += e.seq - l - 1,
                    _ => {}
                }
                track.last = Some(track.last.map_or(e.seq, |l| l.max(e.seq)));
            }
        }
        Self::storm_done(track, &mut s);
    }

    async fn paused(&mut self) {
        while self.idx < *self.pause.borrow() {
            if self.pause.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    /// The next text frame. A paused connection waits here without reading its socket.
    async fn next_text(&mut self, ws: &mut Ws, live: bool) -> Result<Utf8Bytes, End> {
        loop {
            let msg = tokio::select! {
                m = ws.next() => m,
                _ = self.pause.changed() => { self.paused().await; continue; }
            };
            match msg {
                Some(Ok(Message::Text(t))) => return Ok(t),
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_) | Message::Binary(_))) => continue,
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                    return Err(if live { End::Dropped } else { End::Failed });
                }
            }
        }
    }

    async fn tally(&mut self, track: &mut Track, permit: &mut Option<tokio::sync::OwnedSemaphorePermit>) -> End {
        let Ok(stream) = tcp(self.addr, self.src, self.small_rcvbuf).await else { return End::Failed };
        let url = format!("ws://{}/v1/ws", self.addr);
        let Ok((mut ws, _)) = tokio_tungstenite::client_async_with_config(url, stream, Some(ws_config())).await else {
            return End::Failed;
        };
        let subs: Vec<serde_json::Value> = self
            .spec
            .channels
            .iter()
            .enumerate()
            .map(|(i, c)| match (&track.epoch, track.last) {
                (Some(e), Some(s)) if i == 0 => json!({"channel": c, "since": {"epoch": e, "seq": s}}),
                _ => json!({"channel": c}),
            })
            .collect();
        let hello = json!({"type": "hello", "v": tally_protocol::PROTOCOL_VERSION, "token": self.spec.token,
                           "subscriptions": subs, "client": "tally-bench"});
        if ws.send(Message::text(hello.to_string())).await.is_err() {
            return End::Failed;
        }
        let mut subscribed = 0usize;
        let mut live = false;
        loop {
            let text = match self.next_text(&mut ws, live).await {
                Ok(t) => t,
                Err(end) => return end,
            };
            if let Some(ch) = wire::tally_event_channel(&text) {
                let measured = Some(ch) == self.spec.channels.first().map(String::as_str);
                let mut seen = Vec::new();
                wire::scan(&text, &mut seen);
                self.seen(track, &seen, measured);
                continue;
            }
            let Some(f) = wire::parse_tally(&text) else { continue };
            match f.kind.as_str() {
                "ping" => {
                    let pong = json!({"type": "pong", "ts": f.ts.unwrap_or(0)}).to_string();
                    if ws.send(Message::text(pong)).await.is_err() {
                        return End::Dropped;
                    }
                    self.shared.sent_pongs.fetch_add(1, Ordering::Relaxed);
                }
                "subscribed" => {
                    if f.channel.as_deref() == self.spec.channels.first().map(String::as_str) {
                        if track.epoch.as_deref() != f.epoch.as_deref() {
                            track.last = None;
                        }
                        track.epoch = f.epoch.clone();
                        if track.last.is_none() {
                            track.last = f.seq;
                        }
                    }
                    subscribed += 1;
                    if subscribed == self.spec.channels.len() {
                        live = true;
                        self.mark_ready(track, permit);
                    }
                }
                "event" | "batch" => {
                    let measured = f.channel.as_deref() == self.spec.channels.first().map(String::as_str);
                    self.seen(track, &f.seen, measured);
                }
                "unsubscribed" => {
                    self.shared.stats.lock().unwrap().errors += 1;
                }
                _ => {}
            }
        }
    }

    async fn socketio(&mut self, track: &mut Track, permit: &mut Option<tokio::sync::OwnedSemaphorePermit>) -> End {
        let Ok(stream) = tcp(self.addr, self.src, self.small_rcvbuf).await else { return End::Failed };
        let url = format!("ws://{}/socket.io/?EIO=4&transport=websocket", self.addr);
        let Ok((mut ws, _)) = tokio_tungstenite::client_async_with_config(url, stream, Some(ws_config())).await else {
            return End::Failed;
        };
        let mut live = false;
        loop {
            let text = match self.next_text(&mut ws, live).await {
                Ok(t) => t,
                Err(end) => return end,
            };
            let reply = match wire::parse_sio(&text) {
                SioPacket::Open => Some(format!("40{}", json!({"user": self.spec.user}))),
                SioPacket::Connected => Some(format!("420{}", json!(["subscribe", self.spec.channels]))),
                SioPacket::Ack(0) => {
                    live = true;
                    self.mark_ready(track, permit);
                    None
                }
                SioPacket::Ping => {
                    self.shared.sent_pongs.fetch_add(1, Ordering::Relaxed);
                    Some("3".to_string())
                }
                SioPacket::Event(seen) => {
                    self.seen(track, &seen, true);
                    None
                }
                SioPacket::ConnectError => return End::Failed,
                _ => None,
            };
            if let Some(r) = reply {
                if ws.send(Message::text(r)).await.is_err() {
                    return if live { End::Dropped } else { End::Failed };
                }
            }
        }
    }

    async fn raw(&mut self, track: &mut Track, permit: &mut Option<tokio::sync::OwnedSemaphorePermit>) -> End {
        let Ok(stream) = tcp(self.addr, self.src, self.small_rcvbuf).await else { return End::Failed };
        let (rd, mut wr) = stream.into_split();
        if wr.write_all(format!("sub {}\n", self.spec.channels.join(" ")).as_bytes()).await.is_err() {
            return End::Failed;
        }
        let mut lines = BufReader::with_capacity(4096, rd).lines();
        let mut live = false;
        loop {
            let line = tokio::select! {
                l = lines.next_line() => l,
                _ = self.pause.changed() => { self.paused().await; continue; }
            };
            match line {
                Ok(Some(l)) if l == "ok" => {
                    live = true;
                    self.mark_ready(track, permit);
                }
                Ok(Some(l)) => {
                    let mut seen = Vec::new();
                    wire::scan(&l, &mut seen);
                    self.seen(track, &seen, true);
                }
                _ => return if live { End::Dropped } else { End::Failed },
            }
        }
    }
}
