//! tally-hub: the server every Tally client connects to.
//!
//! Modules by domain: `auth`, `ledger`, `chat`, `presence`, `notify`; the event `log`; the `store`
//! (SQLite writer + readers); `fanout` (who receives what); `ws` and `http` for the wire; `hub` ties them.
pub mod account;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod broker;
pub mod chat;
pub mod compliance;
pub mod config;
pub mod conn;
pub mod conn_caps;
pub mod data_dir;
pub mod demo;
pub mod deposits;
pub mod devices;
pub mod directory;
pub mod error;
pub mod fanout;
pub mod http;
pub mod hub;
pub mod ids;
pub mod kyc;
pub mod ledger;
pub mod listener;
pub mod log;
pub mod notify;
pub mod operator_live;
pub mod operators;
pub mod position;
pub mod presence;
pub mod proxy;
pub mod published;
pub mod ratelimit;
pub mod secrets;
pub mod series;
pub mod store;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod throttle;
pub mod tls;
pub mod ws;

pub use config::Config;
use error::{HubError, HubResult};
use hub::Hub;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// A running hub.
pub struct Running {
    pub addr: SocketAddr,
    /// Where /metrics is served (`--metrics-bind`).
    pub metrics_addr: SocketAddr,
    pub hub: Arc<Hub>,
    tls: Option<tls::Tls>,
    /// Stops the HTTP listeners; sent after the sockets have drained, so /readyz answers 503 meanwhile.
    stop_http: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    metrics_task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Graceful shutdown (the drain): not ready (/readyz 503, no new sockets), every socket told to
    /// reconnect and closed with 1012, then stop once every socket has written its close, or at
    /// `--drain-secs` at the latest. Upgraded sockets are not the HTTP server's to wait for: the hub
    /// counts them itself, so none is cut off with 1006 by the process ending.
    pub async fn shutdown(self) {
        self.hub.ready.store(false, Ordering::Release);
        self.hub.shutdown.send_replace(true);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(self.hub.cfg.drain_secs);
        while self.hub.open_sockets() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let left = self.hub.open_sockets();
        if left > 0 {
            tracing::warn!(left, "drain time is up; closing the sockets that are left");
        }
        self.stop_http.send_replace(true);
        let _ = tokio::time::timeout_at(deadline + Duration::from_secs(1), self.task).await;
        self.metrics_task.abort();
    }

    /// Reads the TLS certificate and key files again (what SIGHUP does); connections stay up.
    pub fn reload_tls(&self) -> HubResult<()> {
        match &self.tls {
            Some(t) => t.reload(),
            None => Err(HubError::invalid("this hub serves no TLS (no --tls-cert)")),
        }
    }

    pub fn base_url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }
    pub fn ws_url(&self) -> String {
        let scheme = if self.tls.is_some() { "wss" } else { "ws" };
        format!("{scheme}://{}/v1/ws", self.addr)
    }
    pub fn metrics_url(&self) -> String {
        let scheme = if self.tls.is_some() && !self.metrics_addr.ip().is_loopback() { "https" } else { "http" };
        format!("{scheme}://{}/metrics", self.metrics_addr)
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
                        Matcher::Full(series::COMMIT_GROUP_SIZE.into()),
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

/// Starts a hub: opens the store, seeds demo data if asked, and serves HTTP + WebSocket.
pub async fn start(cfg: Config) -> HubResult<Running> {
    // First, so that what starting does (migrations, seeding, adopting transfers) is counted too.
    let metrics = metrics_handle();
    series::register();
    data_dir::prepare(&cfg.data_dir)?;
    let secret = match (&cfg.jwt_secret, &cfg.jwt_secret_file) {
        (Some(s), _) => s.clone(),
        (None, Some(f)) => {
            data_dir::check_private(f, "the JWT secret file")?;
            std::fs::read_to_string(f)
                .map_err(|e| HubError::internal(format!("cannot read {}: {e}", f.display())))?
                .trim()
                .to_string()
        }
        (None, None) => data_dir::secret_file(&cfg.data_dir.join("jwt.secret"), 48)?,
    };
    if secret.len() < 32 {
        return Err(HubError::invalid("the JWT secret must be at least 32 characters"));
    }
    let admin = data_dir::secret_file(&cfg.data_dir.join("admin.token"), 40)?;
    if cfg.store.is_none() {
        data_dir::touch_private(&cfg.data_dir.join("hub.db"))?;
    }
    let tls = match (&cfg.tls_cert, &cfg.tls_key) {
        (Some(c), Some(k)) => Some(tls::Tls::load(c, k)?),
        _ => None,
    };
    // Refuse before anything is opened or seeded.
    check_transport(&cfg, tls.is_some(), cfg.bind)?;
    check_transport(&cfg, tls.is_some(), cfg.metrics_bind)?;
    let hub = Hub::new(cfg.clone(), secret.into_bytes(), admin).await?;
    // The default tenant's sign-up policy: what the operator passed, open for the demo, else as stored
    // (closed for a new tenant).
    let registration = cfg.registration.or(cfg.demo.then_some(store::repo::Registration::Open));
    hub.store
        .write(move |c, _| {
            let t = crate::auth::tenants::ensure_tenant(c, "default")?;
            if let Some(r) = registration {
                let (_, require_2fa) = account::policy::of(c, t)?;
                account::policy::set(c, t, r, require_2fa)?;
            }
            Ok(())
        })
        .await?;
    if cfg.demo {
        demo::seed(&hub).await?;
        if cfg.demo_bot_ms > 0 {
            demo::spawn_bot(hub.clone(), Duration::from_millis(cfg.demo_bot_ms));
        }
    }
    hub.resume_transfers().await?;
    hub.spawn_housekeeping();
    let state = http::AppState { hub: hub.clone(), metrics };
    let (main, addr) = listen(&cfg, cfg.bind, tls.clone())?;
    // Prometheus on loopback scrapes plain HTTP; anywhere else it gets the same certificate.
    let metrics_tls = tls.clone().filter(|_| !cfg.metrics_bind.ip().is_loopback());
    let (metrics, metrics_addr) = listen(&cfg, cfg.metrics_bind, metrics_tls)?;
    let (stop_http, _) = tokio::sync::watch::channel(false);
    let task = serve(main, http::router(state.clone()), stop_http.subscribe());
    let metrics_task = serve(metrics, http::metrics_router(state), stop_http.subscribe());
    hub.ready.store(true, Ordering::Release);
    tracing::info!(%addr, %metrics_addr, tls = tls.is_some(), data_dir = %cfg.data_dir.display(), demo = cfg.demo, "tally-hub listening");
    Ok(Running { addr, metrics_addr, hub, tls, stop_http, task, metrics_task })
}

/// The TLS rule: plain HTTP only on loopback, unless the operator says a proxy in front encrypts.
fn check_transport(cfg: &Config, tls: bool, addr: SocketAddr) -> HubResult<()> {
    if tls || addr.ip().is_loopback() || cfg.insecure_plaintext {
        return Ok(());
    }
    Err(HubError::invalid(format!(
        "refusing to serve unencrypted HTTP on {addr}: passwords and tokens would cross the network in clear \
         text. Pass --tls-cert and --tls-key, or --insecure-plaintext if a proxy in front terminates TLS"
    )))
}

fn listen(cfg: &Config, at: SocketAddr, tls: Option<tls::Tls>) -> HubResult<(listener::HubListener, SocketAddr)> {
    check_transport(cfg, tls.is_some(), at)?;
    let tcp = listener::bind(at).map_err(|e| HubError::internal(format!("cannot listen on {at}: {e}")))?;
    let addr = tcp.local_addr().map_err(HubError::internal)?;
    let l = listener::HubListener::new(tcp, tls).map_err(HubError::internal)?;
    Ok((l, addr))
}

fn serve(
    l: listener::HubListener,
    app: axum::Router,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let serve = axum::serve(l, app.into_make_service_with_connect_info::<listener::Peer>()).with_graceful_shutdown(
            async move {
                let _ = shutdown.changed().await;
            },
        );
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "server stopped");
        }
    })
}
