//! The real engine over TLS: a hub serving a certificate from a throwaway CA, an app that trusts that
//! CA (as `TALLY_CA_FILE` makes the desktop do), money sent over wss://; an app that does not trust it
//! is refused with a clear reason; and plain http:// to another machine is refused before anything is
//! sent.
mod support;
use serde_json::json;
use std::sync::Arc;
use support::*;
use tally_client::view::*;
use tally_client::EngineConfig;
use tally_hub::testkit::TestCa;
use tally_protocol::*;

struct TlsHub {
    running: tally_hub::Running,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
    http: reqwest::Client,
    admin: String,
}

impl TlsHub {
    async fn start(ca: &TestCa) -> TlsHub {
        let (data, certs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (cert, key) = ca.hub_cert("tally-test-hub").write_to(certs.path());
        let mut cfg = hub_config(data.path(), "127.0.0.1:0".parse().unwrap());
        cfg.tls_cert = Some(cert);
        cfg.tls_key = Some(key);
        let running = tally_hub::start(cfg).await.expect("TLS hub");
        let admin = std::fs::read_to_string(data.path().join("admin.token")).unwrap();
        let root = reqwest::Certificate::from_pem(ca.pem().as_bytes()).unwrap();
        let http = reqwest::Client::builder().add_root_certificate(root).https_only(true).build().unwrap();
        TlsHub { running, _dirs: (data, certs), http, admin }
    }
    /// By name, as a user would type it: the certificate is for `localhost`.
    fn url(&self) -> String {
        format!("https://localhost:{}", self.running.addr.port())
    }
    async fn register(&self, name: &str, deposit: i64) {
        let r = self
            .http
            .post(format!("{}/v1/auth/register", self.url()))
            .json(&json!({"username": name, "password": "pass-word-123", "display_name": name}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        if deposit == 0 {
            return;
        }
        let r = self
            .http
            .post(format!("{}/v1/admin/deposit", self.url()))
            .bearer_auth(&self.admin)
            .json(&json!({"username": name, "amount": {"minor": deposit, "currency": "USD"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
    }
}

fn app_trusting(dir: &std::path::Path, ca: Option<&TestCa>) -> App {
    let mut cfg = EngineConfig::new(dir, "test");
    cfg.extra_ca_pem = ca.map(|c| c.pem().into_bytes());
    App::with_config(cfg, Arc::new(Default::default()), Arc::new(Default::default()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_signs_in_syncs_and_pays_over_wss_with_the_hubs_ca() {
    let ca = TestCa::new("Tally test CA");
    let hub = TlsHub::start(&ca).await;
    hub.register("tia", 10_000).await;
    hub.register("uma", 0).await;
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let tia = app_trusting(d1.path(), Some(&ca));
    let uma = app_trusting(d2.path(), Some(&ca));
    for (app, name) in [(&tia, "tia"), (&uma, "uma")] {
        let s = app.engine.sign_in(&hub.url(), name, "pass-word-123", None).await.expect("sign in over https");
        assert!(s.server.starts_with("https://"), "{}", s.server);
        app.wait_live().await;
    }
    tia.until("the deposit, over wss://", |_| tia.usd() == (10_000, 0)).await;
    tia.until("contacts", |e| e.contacts().map(|c| c.iter().any(|u| u.username == "uma")).unwrap_or(false)).await;
    tia.engine
        .send_money(&SendMoney {
            to: "uma".into(),
            amount: Money::new(2_500, Currency::USD),
            memo: "tls".into(),
            room: None,
        })
        .unwrap();
    uma.until("the payment arrives", |_| uma.usd() == (2_500, 0)).await;
    tia.until("and completes", |_| tia.usd() == (7_500, 0)).await;
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused_and_says_so() {
    let ca = TestCa::new("Tally test CA");
    let hub = TlsHub::start(&ca).await;
    hub.register("val", 0).await;
    let dir = tempfile::tempdir().unwrap();
    let app = app_trusting(dir.path(), None);
    let err = app.engine.sign_in(&hub.url(), "val", "pass-word-123", None).await.unwrap_err();
    assert_eq!(err.code(), CommandErrorCode::Local(LocalErrorCode::Network), "{err}");
    assert!(err.to_string().contains("certificate is not trusted"), "{err}");
    assert!(app.engine.session().is_none());
}

#[tokio::test]
async fn plain_http_to_another_machine_is_refused_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_trusting(dir.path(), None);
    for server in ["http://192.0.2.10:8787", "http://hub.example.com", "ws://hub.example.com"] {
        let err = app.engine.sign_in(server, "val", "pass-word-123", None).await.unwrap_err();
        assert_eq!(err.code(), CommandErrorCode::Local(LocalErrorCode::InsecureServer), "{server}: {err}");
        assert!(err.to_string().contains("https://"), "{err}");
    }
    // Typed without a scheme, another machine means https://; this computer may stay plain.
    assert_eq!(tally_client::api::normalize_server("hub.example.com").unwrap(), "https://hub.example.com");
    assert_eq!(tally_client::api::normalize_server("localhost:8787").unwrap(), "http://localhost:8787");
    assert_eq!(tally_client::api::normalize_server("127.0.0.1:8787").unwrap(), "http://127.0.0.1:8787");
}
