//! One authenticated connection as the rest of the hub sees it: identity, subscription states and a
//! bounded outgoing queue. The socket tasks live in `ws`.
use crate::ids::TenantId;
use crate::published::Published;
use axum::extract::ws::Utf8Bytes;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Mutex;
use tally_protocol::{encode, Channel, CloseCode, ErrorCode, ServerFrame, UserSummary};
use tokio::sync::{mpsc, watch};

/// Live events buffered for one channel while its replay is being sent, before the connection is
/// considered too slow.
const MAX_RECOVERY_BUFFER: usize = 10_000;

enum SubState {
    /// Replay in progress: live events wait here so none is lost or duplicated.
    Recovering { buffer: Vec<Published> },
    /// Live: deliver events with seq > last.
    Live { last: u64 },
}

pub struct Conn {
    pub id: u64,
    pub tenant: TenantId,
    pub user: UserSummary,
    /// Session (refresh-token family) id: revoking it closes this connection.
    pub sid: String,
    out: mpsc::Sender<Utf8Bytes>,
    subs: Mutex<HashMap<Channel, SubState>>,
    closed: AtomicBool,
    close_reason: Mutex<Option<(CloseCode, String)>>,
    dead: watch::Sender<bool>,
    /// When the connection's access token expires (ms): renewed in band with `auth`.
    token_expires_ms: AtomicI64,
    /// The session must enrol two-factor before it moves money or writes to anyone (the token's `enrol`).
    must_enrol: AtomicBool,
}

impl Conn {
    pub fn new(id: u64, tenant: TenantId, user: UserSummary, sid: String, out: mpsc::Sender<Utf8Bytes>) -> Self {
        Conn {
            id,
            tenant,
            user,
            sid,
            out,
            subs: Mutex::new(HashMap::new()),
            closed: AtomicBool::new(false),
            close_reason: Mutex::new(None),
            dead: watch::channel(false).0,
            token_expires_ms: AtomicI64::new(i64::MAX),
            must_enrol: AtomicBool::new(false),
        }
    }

    pub fn must_enrol(&self) -> bool {
        self.must_enrol.load(Ordering::Relaxed)
    }

    /// Takes the token's claims for the connection: its expiry and whether it is held to enrolment.
    pub fn apply_claims(&self, claims: &crate::auth::tokens::Claims) {
        self.token_expires_ms.store(claims.exp.saturating_mul(1000), Ordering::Relaxed);
        self.must_enrol.store(claims.enrol, Ordering::Relaxed);
    }

    pub fn token_expires_ms(&self) -> i64 {
        self.token_expires_ms.load(Ordering::Relaxed)
    }

    fn subs(&self) -> std::sync::MutexGuard<'_, HashMap<Channel, SubState>> {
        self.subs.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Asks the socket writer to close the connection with `code` (first reason wins).
    pub fn close(&self, code: CloseCode, reason: &str) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        *self.close_reason.lock().unwrap_or_else(|e| e.into_inner()) = Some((code, reason.to_string()));
        self.dead.send_replace(true);
    }

    /// Resolves when the connection has been asked to close.
    pub fn dead(&self) -> watch::Receiver<bool> {
        self.dead.subscribe()
    }

    pub fn take_close_reason(&self) -> Option<(CloseCode, String)> {
        self.close_reason.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    /// Queues a frame without waiting; a full queue closes the connection as a slow consumer.
    pub fn enqueue(&self, frame: Utf8Bytes) {
        if self.is_closed() {
            return;
        }
        match self.out.try_send(frame) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                metrics::counter!(crate::series::SLOW_CONSUMERS).increment(1);
                self.close(CloseCode::SlowConsumer, "outgoing queue overflowed");
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    /// Queues a frame, waiting for room (for replies to this connection's own requests).
    pub async fn send(&self, frame: &ServerFrame) {
        if self.is_closed() {
            return;
        }
        let _ = self.out.send(Utf8Bytes::from(encode(frame))).await;
    }

    pub async fn send_raw(&self, frame: Utf8Bytes) {
        if !self.is_closed() {
            let _ = self.out.send(frame).await;
        }
    }

    pub fn subscription_count(&self) -> usize {
        self.subs().len()
    }

    pub fn is_subscribed(&self, channel: &Channel) -> bool {
        self.subs().contains_key(channel)
    }

    pub fn channels(&self) -> Vec<Channel> {
        self.subs().keys().copied().collect()
    }

    /// Marks `channel` as recovering (before it is registered with the fan-out). Returns false when the
    /// channel was already subscribed.
    pub fn begin_subscription(&self, channel: Channel) -> bool {
        let mut subs = self.subs();
        if subs.contains_key(&channel) {
            return false;
        }
        subs.insert(channel, SubState::Recovering { buffer: Vec::new() });
        true
    }

    /// Ends recovery: queues `subscribed`, then the live events that arrived during replay and were not
    /// covered by it, all under the lock so no live event can slip in between.
    pub fn finish_subscription(&self, channel: Channel, last: u64, subscribed: &ServerFrame) {
        let mut subs = self.subs();
        let buffer = match subs.insert(channel, SubState::Live { last }) {
            Some(SubState::Recovering { buffer }) => buffer,
            _ => Vec::new(),
        };
        self.enqueue(Utf8Bytes::from(encode(subscribed)));
        let mut last = last;
        for ev in buffer {
            if ev.seq == 0 || ev.seq > last {
                if ev.seq > 0 {
                    last = ev.seq;
                }
                self.enqueue(ev.frame.to_ws());
            }
        }
        subs.insert(channel, SubState::Live { last });
    }

    pub fn remove_subscription(&self, channel: &Channel) -> bool {
        self.subs().remove(channel).is_some()
    }

    /// Removes a subscription the hub ended and tells the client why.
    pub fn end_subscription(&self, channel: Channel, code: ErrorCode) {
        if self.remove_subscription(&channel) {
            self.enqueue(Utf8Bytes::from(encode(&ServerFrame::Unsubscribed { channel, code })));
        }
    }

    /// Delivers published events of one channel, in order, according to the channel's state: one look-up
    /// for the run, and its frames queued together so the socket writer sends them in one flush. Never
    /// blocks.
    pub fn deliver(&self, run: &[Published]) {
        let Some(channel) = run.first().map(|e| e.channel) else { return };
        debug_assert!(run.iter().all(|e| e.channel == channel), "one channel per run");
        if self.is_closed() {
            return;
        }
        let mut subs = self.subs();
        match subs.get_mut(&channel) {
            None => {}
            Some(SubState::Recovering { buffer }) => {
                if buffer.len() + run.len() > MAX_RECOVERY_BUFFER {
                    drop(subs);
                    self.close(CloseCode::SlowConsumer, "too many events during recovery");
                } else {
                    buffer.extend(run.iter().cloned());
                }
            }
            Some(SubState::Live { last }) => {
                for ev in run {
                    if ev.seq == 0 {
                        self.enqueue(ev.frame.to_ws());
                    } else if ev.seq > *last {
                        *last = ev.seq;
                        self.enqueue(ev.frame.to_ws());
                    }
                }
            }
        }
    }
}
