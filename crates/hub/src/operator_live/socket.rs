//! One console's live socket, after the HTTP side found the operator allowed: a `stats` frame and the
//! feed's news each second, a `filter` answered by the newest page that matches. The operator's session
//! is looked at again every `RECHECK_SECS`; once it has ended (signed out, expired, the operator
//! removed) the socket closes. A hub shutting down closes it with 1012.
use super::feed::{self, Feed};
use super::stats::Sampler;
use crate::error::HubError;
use crate::hub::{Hub, SocketGuard};
use crate::ids::TenantId;
use crate::ratelimit::Bucket;
use crate::store::now_ms;
use crate::store::repo::FeedQuery;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use std::sync::Arc;
use std::time::Duration;
use tally_protocol::live::{FeedFilter, FeedLine, LiveFrame, LiveRequest};
use tally_protocol::{CloseCode, ErrorCode};

/// How often the operator's session is checked again, seconds.
pub const RECHECK_SECS: u64 = 30;
/// Filters a console may set per second (a burst of 5): each one is a read of the store.
const FILTERS_PER_SEC: f64 = 2.0;

/// Who is watching: their tenant and their session token (to check it again).
pub struct Watcher {
    pub tenant: TenantId,
    pub session: String,
}

/// Renders the hub's metrics text (the same as `/metrics`).
pub type Render = Arc<dyn Fn() -> String + Send + Sync>;

/// What the socket's state is between frames.
struct State {
    hub: Arc<Hub>,
    tenant: TenantId,
    query: FeedQuery,
    /// None after a failed read: started again (a fresh page) at the next tick.
    feed: Option<Feed>,
}

pub async fn serve(hub: Arc<Hub>, mut socket: WebSocket, w: Watcher, render: Render, _counted: SocketGuard) {
    let mut st = State { hub: hub.clone(), tenant: w.tenant, query: FeedQuery::default(), feed: None };
    let Ok(lines) = st.set_filter(FeedFilter::default()).await else {
        return close(socket, CloseCode::InternalError, "the feed could not be read").await;
    };
    if !send(&mut socket, &LiveFrame::Feed { lines, replace: true, skipped: false }).await {
        return;
    }
    let mut sampler = Sampler::default();
    let mut filters = Bucket::new(FILTERS_PER_SEC, 5.0);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut shutdown = hub.shutdown.subscribe();
    let mut since_check = 0;
    loop {
        tokio::select! {
            _ = tick.tick() => {
                since_check += 1;
                if since_check >= RECHECK_SECS {
                    since_check = 0;
                    if !session_alive(&hub, &w.session).await {
                        return close(socket, CloseCode::PolicyViolation, "operator session ended").await;
                    }
                }
                let stats = LiveFrame::Stats { stats: sampler.sample(&render(), now_ms()) };
                if !send(&mut socket, &stats).await {
                    return;
                }
                if let Some(news) = st.news().await {
                    if !send(&mut socket, &news).await {
                        return;
                    }
                }
            }
            m = socket.recv() => {
                let frame = match m {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                    Some(Ok(Message::Text(t))) => st.request(&t, filters.take()).await,
                    Some(Ok(Message::Binary(_))) => {
                        return close(socket, CloseCode::PolicyViolation, "binary frames are not accepted").await;
                    }
                    Some(Ok(_)) => continue,
                };
                if !send(&mut socket, &frame).await {
                    return;
                }
            }
            _ = until_true(&mut shutdown) => return close(socket, CloseCode::ServiceRestart, "hub restarting").await,
        }
    }
}

impl State {
    /// Starts the feed over with `filter`: its first page.
    async fn set_filter(&mut self, filter: FeedFilter) -> Result<Vec<FeedLine>, HubError> {
        let tenant = self.tenant;
        let (query, feed, lines) = self
            .hub
            .store
            .read(move |c| {
                let q = feed::query(c, tenant, &filter)?;
                let (feed, lines) = Feed::start(c, q.clone(), now_ms())?;
                Ok((q, feed, lines))
            })
            .await?;
        (self.query, self.feed) = (query, Some(feed));
        Ok(lines)
    }

    /// The feed's frame for this second: what changed (none: nothing), or a fresh page after a failed read.
    async fn news(&mut self) -> Option<LiveFrame> {
        let (query, feed) = (self.query.clone(), self.feed.take());
        let read = self
            .hub
            .store
            .read(move |c| match feed {
                Some(mut f) => f.next(c).map(|(lines, skipped)| (f, lines, false, skipped)),
                None => Feed::start(c, query, now_ms()).map(|(f, lines)| (f, lines, true, false)),
            })
            .await;
        match read {
            Ok((f, lines, replace, skipped)) => {
                self.feed = Some(f);
                (replace || !lines.is_empty()).then_some(LiveFrame::Feed { lines, replace, skipped })
            }
            Err(e) => Some(refusal(e)),
        }
    }

    /// A frame from the console, answered.
    async fn request(&mut self, text: &str, allowed: bool) -> LiveFrame {
        if !allowed {
            return LiveFrame::Error {
                code: ErrorCode::RateLimited,
                message: "too many filters: wait a second".into(),
            };
        }
        match serde_json::from_str::<LiveRequest>(text) {
            Ok(LiveRequest::Filter { filter }) => match self.set_filter(filter).await {
                Ok(lines) => LiveFrame::Feed { lines, replace: true, skipped: false },
                Err(e) => refusal(e),
            },
            Err(e) => LiveFrame::Error { code: ErrorCode::Invalid, message: format!("not a live request: {e}") },
        }
    }
}

/// An error as the console reads it; the store's own words stay in the hub's log.
fn refusal(e: HubError) -> LiveFrame {
    if e.code == ErrorCode::Internal {
        tracing::warn!(error = %e.message, "operator feed read failed");
        return LiveFrame::Error { code: e.code, message: "the feed could not be read; it is tried again".into() };
    }
    LiveFrame::Error { code: e.code, message: e.message }
}

async fn session_alive(hub: &Hub, token: &str) -> bool {
    let token = token.to_string();
    matches!(hub.store.read(move |c| crate::operators::of_session(c, &token)).await, Ok(Some(_)))
}

async fn until_true(rx: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = rx.wait_for(|v| *v).await.map(|_| ());
}

async fn send(socket: &mut WebSocket, frame: &LiveFrame) -> bool {
    match serde_json::to_string(frame) {
        Ok(text) => socket.send(Message::Text(Utf8Bytes::from(text))).await.is_ok(),
        Err(_) => false,
    }
}

async fn close(mut socket: WebSocket, code: CloseCode, reason: &str) {
    metrics::counter!(crate::series::CLOSES, "code" => code.code().to_string()).increment(1);
    let _ = socket.send(Message::Close(Some(CloseFrame { code: code.code(), reason: Utf8Bytes::from(reason) }))).await;
}
