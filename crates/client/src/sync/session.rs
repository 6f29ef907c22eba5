//! Opening a session: a valid access token, the socket, `hello` with every channel and its stored
//! position, and the hub's `welcome` (or the close code that says why not).
use super::{close_outcome, short_ws_error, wanted_channels, Conn, Outcome, Shared, CONNECT_TIMEOUT};
use crate::api::ws_url;
use crate::view::ConnState;
use crate::Error;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tally_protocol::*;
use tokio_tungstenite::tungstenite::Message as WsMessage;

fn dropped(error: impl Into<String>) -> Outcome {
    Outcome::Dropped { live_for: None, hint: None, error: error.into() }
}

/// Connects and authenticates: the open connection and its `welcome`, or how the attempt ended.
pub(super) async fn open(sh: &Arc<Shared>) -> Result<(Conn, Welcome), Outcome> {
    let token = match sh.access_token(false).await {
        Ok(t) => t,
        Err(Error::Auth(reason)) => return Err(Outcome::Permanent(ConnState::AuthFailed { reason })),
        Err(e) => return Err(dropped(e.to_string())),
    };
    let url = ws_url(&sh.api.base);
    // TCP_NODELAY: requests are small frames; Nagle would hold them behind unacknowledged data.
    let tls = tokio_tungstenite::Connector::Rustls(sh.api.tls.clone());
    let connect = tokio_tungstenite::connect_async_tls_with_config(&url, None, true, Some(tls));
    let ws = match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
        Ok(Ok((ws, _))) => ws,
        Ok(Err(e)) => return Err(dropped(short_ws_error(&e))),
        Err(_) => return Err(dropped("connect timed out")),
    };
    sh.set_state(ConnState::Authenticating);
    let mut conn = Conn::new(ws);
    let positions: HashMap<Channel, Position> = sh.store.positions().unwrap_or_default().into_iter().collect();
    let subscriptions: Vec<SubscribeSpec> = wanted_channels(sh)
        .into_iter()
        .map(|c| SubscribeSpec { since: positions.get(&c).cloned(), channel: c })
        .collect();
    let hello =
        ClientFrame::Hello(Hello { v: PROTOCOL_VERSION, token, subscriptions, client: Some(sh.client_name.clone()) });
    conn.send(&hello).await.map_err(|e| dropped(e.to_string()))?;
    let welcome = welcome(sh, &mut conn).await?;
    Ok((conn, welcome))
}

/// Waits for `welcome`; a close before it is classified (an expired token is refreshed once).
async fn welcome(sh: &Arc<Shared>, conn: &mut Conn) -> Result<Welcome, Outcome> {
    loop {
        match tokio::time::timeout(CONNECT_TIMEOUT, conn.ws.next()).await {
            Err(_) => return Err(dropped("no welcome in time")),
            Ok(None) => return Err(dropped("connection closed")),
            Ok(Some(Err(e))) => return Err(dropped(short_ws_error(&e))),
            Ok(Some(Ok(WsMessage::Text(t)))) => {
                if let Ok(ServerFrame::Welcome(w)) = decode_server(&t) {
                    return Ok(w);
                }
            }
            Ok(Some(Ok(WsMessage::Close(cf)))) => {
                let (code, reason) =
                    cf.map(|c| (u16::from(c.code), c.reason.to_string())).unwrap_or((1005, String::new()));
                return Err(refused(sh, code, &reason).await);
            }
            Ok(Some(Ok(_))) => {}
        }
    }
}

/// The hub closed before `welcome`: a bad or expired token is refreshed once and retried at once; a
/// failed refresh means signing in again.
async fn refused(sh: &Arc<Shared>, code: u16, reason: &str) -> Outcome {
    match CloseCode::from_code(code) {
        Some(CloseCode::TokenExpired) | Some(CloseCode::Unauthorized) => match sh.access_token(true).await {
            Ok(_) => Outcome::Dropped { live_for: None, hint: Some(Duration::ZERO), error: "token refreshed".into() },
            Err(Error::Auth(reason)) => Outcome::Permanent(ConnState::AuthFailed { reason }),
            Err(e) => dropped(e.to_string()),
        },
        _ => close_outcome(code, reason, None, None),
    }
}
