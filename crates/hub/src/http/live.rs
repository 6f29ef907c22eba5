//! `GET /v1/operators/live?tenant=NAME`: the operators' live socket (`operator_live`). A browser cannot
//! set `Authorization` on a WebSocket, so the console offers two subprotocols, `tally.operator.v1` and
//! `bearer.<session token>`; the hub answers with the first. The caller is known, and allowed to read
//! the ledger of that tenant, before the upgrade: a refused request never gets a socket. Watching is
//! written to the audit trail (`live_watched`) before the socket opens.
use super::operator_auth::{allowed, check_tenant, of_session, refused, Who};
use super::ops::{rendered, upgrade_refused};
use super::*;
use crate::operator_live::socket::{self, Watcher};
use crate::operators::Permission;
use tally_protocol::live::LIVE_SUBPROTOCOL;

/// Largest frame a console sends (a filter).
const MAX_REQUEST_BYTES: usize = 4 * 1024;

#[derive(Deserialize)]
pub(super) struct LiveQuery {
    tenant: Option<String>,
}

/// The session token among the offered subprotocols, if `tally.operator.v1` is offered too.
fn offered_token(headers: &HeaderMap) -> Option<String> {
    let offered = headers.get("sec-websocket-protocol")?.to_str().ok()?;
    let mut items = offered.split(',').map(str::trim);
    let ours = items.clone().any(|p| p == LIVE_SUBPROTOCOL);
    let token = items.find_map(|p| p.strip_prefix("bearer."))?;
    ours.then(|| token.to_string())
}

pub(super) async fn upgrade(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    axum::extract::Query(q): axum::extract::Query<LiveQuery>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if let Some(refused) = upgrade_refused(&s, &headers) {
        return refused;
    }
    let ip = client_addr(&s, &peer, &headers).to_string();
    let watcher = match watcher(&s, &headers, q.tenant, ip).await {
        Ok(w) => w,
        Err(e) => {
            metrics::counter!(crate::series::ADMIN_REFUSED).increment(1);
            return e.into_response();
        }
    };
    let (hub, counted) = (s.hub.clone(), s.hub.socket_opened());
    let render: socket::Render = Arc::new(move || rendered(&s));
    ws.protocols([LIVE_SUBPROTOCOL])
        .max_message_size(MAX_REQUEST_BYTES)
        .max_frame_size(MAX_REQUEST_BYTES)
        .on_upgrade(move |sock| socket::serve(hub, sock, watcher, render, counted))
}

/// The operator behind the offered token, if they may watch `tenant` (default `default`).
async fn watcher(s: &AppState, headers: &HeaderMap, tenant: Option<String>, ip: String) -> ApiResult<Watcher> {
    let token = offered_token(headers)
        .ok_or_else(|| refused("offer the subprotocols tally.operator.v1 and bearer.<operator session token>"))?;
    if !token.starts_with("op_") {
        return Err(refused("an operator session is required"));
    }
    let who = of_session(s, token.clone()).await?;
    allowed(&who, Permission::ReadLedger)?;
    let tenant = tenant_or_404(s, tenant).await?;
    check_tenant(&who, tenant)?;
    let actor = match &who {
        Who::Account { username, .. } => format!("operator:{username}"),
        Who::Token => "operator".into(),
    };
    s.hub
        .store
        .write(move |c, _| {
            audit::by_operator(c, &actor, Some(tenant), Action::LiveWatched, "live", "opened the live socket", &ip)
        })
        .await?;
    Ok(Watcher { tenant, session: token })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_taken_only_beside_our_subprotocol() {
        let mut h = HeaderMap::new();
        h.insert("sec-websocket-protocol", "tally.operator.v1, bearer.op_abc".parse().unwrap());
        assert_eq!(offered_token(&h).as_deref(), Some("op_abc"));
        h.insert("sec-websocket-protocol", "bearer.op_abc, tally.operator.v1".parse().unwrap());
        assert_eq!(offered_token(&h).as_deref(), Some("op_abc"), "in either order");
        h.insert("sec-websocket-protocol", "bearer.op_abc".parse().unwrap());
        assert_eq!(offered_token(&h), None);
        h.insert("sec-websocket-protocol", "tally.operator.v1".parse().unwrap());
        assert_eq!(offered_token(&h), None);
    }
}
