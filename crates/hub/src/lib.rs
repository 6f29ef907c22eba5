//! tally-hub: the server every Tally client connects to.
//!
//! Modules by domain: `auth`, `ledger`, `chat`, `presence`, `notify`; the event `log`; the `store`
//! (SQLite writer + readers); `fanout` (who receives what); `ws` and `http` for the wire; `hub` ties them.
pub mod auth;
pub mod chat;
pub mod config;
pub mod conn;
pub mod demo;
pub mod devices;
pub mod error;
pub mod fanout;
pub mod http;
pub mod hub;
pub mod ids;
pub mod ledger;
pub mod log;
pub mod notify;
pub mod presence;
pub mod published;
pub mod ratelimit;
pub mod store;
pub mod throttle;
pub mod ws;

pub use config::Config;
use error::{HubError, HubResult};
use hub::Hub;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// A running hub.
pub struct Running {
    pub addr: SocketAddr,
    pub hub: Arc<Hub>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Graceful shutdown: stop accepting, tell clients to reconnect (with a jittered delay), flush, stop.
    pub async fn shutdown(self) {
        self.hub.ready.store(false, Ordering::Release);
        self.hub.shutdown.send_replace(true);
        let grace = Duration::from_secs(self.hub.cfg.shutdown_grace_secs);
        let _ = tokio::time::timeout(grace, self.task).await;
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
    pub fn ws_url(&self) -> String {
        format!("ws://{}/v1/ws", self.addr)
    }
}

fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("_seconds".into()),
                    &[0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0],
                )
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full("tally_commit_group_size".into()),
                        &[1.0, 2.0, 4.0, 8.0, 16.0, 64.0, 256.0, 512.0],
                    )
                });
            match builder {
                Ok(b) => match b.install_recorder() {
                    Ok(h) => h,
                    // Another recorder is installed (several hubs in one test process): render an empty one.
                    Err(_) => PrometheusBuilder::new().build_recorder().handle(),
                },
                Err(_) => PrometheusBuilder::new().build_recorder().handle(),
            }
        })
        .clone()
}

/// Reads a secret file, or creates it with `len` random characters (mode 0600).
pub fn secret_file(path: &Path, len: usize) -> HubResult<String> {
    if let Ok(s) = std::fs::read_to_string(path) {
        let s = s.trim().to_string();
        if !s.is_empty() {
            return Ok(s);
        }
    }
    let s = auth::random_token("", len);
    std::fs::write(path, &s).map_err(HubError::internal)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    Ok(s)
}

/// Starts a hub: opens the store, seeds demo data if asked, and serves HTTP + WebSocket.
pub async fn start(cfg: Config) -> HubResult<Running> {
    std::fs::create_dir_all(&cfg.data_dir)
        .map_err(|e| HubError::internal(format!("cannot create {}: {e}", cfg.data_dir.display())))?;
    let secret = match (&cfg.jwt_secret, &cfg.jwt_secret_file) {
        (Some(s), _) => s.clone(),
        (None, Some(f)) => std::fs::read_to_string(f)
            .map_err(|e| HubError::internal(format!("cannot read {}: {e}", f.display())))?
            .trim()
            .to_string(),
        (None, None) => secret_file(&cfg.data_dir.join("jwt.secret"), 48)?,
    };
    if secret.len() < 32 {
        return Err(HubError::invalid("the JWT secret must be at least 32 characters"));
    }
    let admin = secret_file(&cfg.data_dir.join("admin.token"), 40)?;
    let hub = Hub::new(cfg.clone(), secret.into_bytes(), admin).await?;
    hub.store.write(|c, _| auth::ensure_tenant(c, "default")).await?;
    if cfg.demo {
        demo::seed(&hub).await?;
        if cfg.demo_bot_ms > 0 {
            demo::spawn_bot(hub.clone(), Duration::from_millis(cfg.demo_bot_ms));
        }
    }
    hub.resume_transfers().await?;
    hub.spawn_housekeeping();
    let listener = listen(cfg.bind).map_err(|e| HubError::internal(format!("cannot listen on {}: {e}", cfg.bind)))?;
    let addr = listener.local_addr().map_err(HubError::internal)?;
    // Small frames (acks, events) must leave at once: without TCP_NODELAY, Nagle's algorithm and the
    // peer's delayed ACK hold a reply for up to ~40 ms.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
    });
    let app = http::router(http::AppState { hub: hub.clone(), metrics: metrics_handle() });
    let mut shutdown = hub.shutdown.subscribe();
    let task = tokio::spawn(async move {
        let serve = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async move {
                let _ = shutdown.changed().await;
            });
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "server stopped");
        }
    });
    hub.ready.store(true, Ordering::Release);
    tracing::info!(%addr, data_dir = %cfg.data_dir.display(), demo = cfg.demo, "tally-hub listening");
    Ok(Running { addr, hub, task })
}

/// Binds with a deep accept queue: after a restart thousands of clients reconnect within a second, and a
/// full queue drops SYNs that the clients' kernels only retry a second later. The kernel caps the backlog
/// at `net.core.somaxconn`.
fn listen(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(8192)
}
