//! The transport: TLS with a certificate made here (a throwaway CA), the refusal to serve plain HTTP
//! off loopback, a certificate reload on SIGHUP that keeps connections up, and whom X-Forwarded-For is
//! believed from.
mod common;

use common::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tally_hub::testkit::TestCa;
use tally_hub::Config;
use tokio_tungstenite::tungstenite::Message as WsMessage;

fn https_client(ca: &TestCa) -> reqwest::Client {
    let root = reqwest::Certificate::from_pem(ca.pem().as_bytes()).unwrap();
    reqwest::Client::builder().add_root_certificate(root).https_only(true).build().unwrap()
}

async fn start_refusal(f: impl FnOnce(&mut Config)) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = test_config(dir.path());
    f(&mut cfg);
    match tally_hub::start(cfg).await {
        Ok(r) => {
            r.shutdown().await;
            Ok(())
        }
        Err(e) => Err(e.message),
    }
}

#[tokio::test]
async fn plain_http_off_loopback_is_refused_unless_the_operator_says_a_proxy_encrypts() {
    let err = start_refusal(|c| c.bind = "0.0.0.0:0".parse().unwrap()).await.unwrap_err();
    assert!(err.contains("refusing to serve unencrypted HTTP on 0.0.0.0:0"), "{err}");
    assert!(err.contains("--tls-cert") && err.contains("--insecure-plaintext"), "{err}");
    let err = start_refusal(|c| c.metrics_bind = "0.0.0.0:0".parse().unwrap()).await.unwrap_err();
    assert!(err.contains("0.0.0.0:0"), "{err}");
    start_refusal(|c| {
        c.bind = "0.0.0.0:0".parse().unwrap();
        c.insecure_plaintext = true;
    })
    .await
    .expect("--insecure-plaintext is the operator's explicit choice");
    // And nothing was written before the refusal: the flag check comes first.
}

#[tokio::test]
async fn tls_serves_https_and_wss_to_a_client_that_trusts_the_ca_and_no_one_else() {
    let ca = TestCa::new("Tally test CA");
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) = ca.hub_cert("hub-1").write_to(certs.path());
    let hub = TestHub::start_with(|c| {
        c.tls_cert = Some(cert);
        c.tls_key = Some(key);
    })
    .await;
    assert!(hub.base.starts_with("https://127.0.0.1:"), "{}", hub.base);
    let http = https_client(&ca);
    assert_eq!(http.get(format!("{}/readyz", hub.base)).send().await.unwrap().status(), 200);
    // Register and sign in over TLS, then open the socket over wss:// with the same trust.
    let r = http
        .post(format!("{}/v1/auth/register", hub.base))
        .json(&json!({"username": "tess", "password": "correct horse battery staple"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let session = Session::from_json(&r.json().await.unwrap());
    let c = Client::over(wss_connect(&hub.base, &ca).await, &session.access, vec![]).await;
    assert_eq!(c.welcome.user.username, "tess");

    // A client that does not trust this CA is refused at the handshake.
    let stranger = reqwest::Client::builder().https_only(true).build().unwrap();
    let e = stranger.get(format!("{}/readyz", hub.base)).send().await.unwrap_err();
    assert!(format!("{e:?}").to_lowercase().contains("certificate"), "{e:?}");
    // Plain HTTP to the TLS port gets no answer a client could mistake for the hub's.
    let plain = hub.base.replacen("https", "http", 1);
    assert!(reqwest::get(format!("{plain}/readyz")).await.is_err());
}

async fn wss_connect(base: &str, ca: &TestCa) -> WsStream {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls::pki_types::CertificateDer::from(pem_der(&ca.pem()))).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_tungstenite::Connector::Rustls(Arc::new(config));
    let url = format!("{}/v1/ws", base.replacen("https", "wss", 1));
    let (ws, _) = tokio_tungstenite::connect_async_tls_with_config(url, None, true, Some(connector)).await.unwrap();
    ws
}

fn pem_der(pem: &str) -> Vec<u8> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::from_pem_slice(pem.as_bytes()).unwrap().to_vec()
}

/// The common name of the certificate a fresh TLS handshake with `addr` is shown.
async fn served_cn(addr: &str, ca: &TestCa) -> String {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls::pki_types::CertificateDer::from(pem_der(&ca.pem()))).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await.unwrap();
    let der = tls.get_ref().1.peer_certificates().unwrap()[0].to_vec();
    // The CN is in the DER as a UTF8String/PrintableString; the names are distinct enough to find.
    ["hub-old", "hub-new"].iter().find(|cn| der.windows(cn.len()).any(|w| w == cn.as_bytes())).unwrap().to_string()
}

#[tokio::test]
async fn sighup_swaps_the_certificate_for_new_handshakes_and_keeps_open_sockets() {
    let ca = TestCa::new("Tally test CA");
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) = ca.hub_cert("hub-old").write_to(certs.path());
    let data = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tally-hub"))
        .args(["--bind", &addr, "--metrics-bind", "127.0.0.1:0", "--registration", "open"])
        .args(["--jwt-secret", "tls-test-secret-tls-test-secret-tls-0123"])
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .arg("--data-dir")
        .arg(data.path())
        .env("TALLY_LOG", "warn")
        .spawn()
        .unwrap();
    let base = format!("https://{addr}");
    let http = https_client(&ca);
    let mut up = false;
    for _ in 0..200 {
        if http.get(format!("{base}/readyz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(up, "the hub did not come up");
    assert_eq!(served_cn(&addr, &ca).await, "hub-old");
    let r = http
        .post(format!("{base}/v1/auth/register"))
        .json(&json!({"username": "hal", "password": "correct horse battery staple"}))
        .send()
        .await
        .unwrap();
    let session = Session::from_json(&r.json().await.unwrap());
    let mut c = Client::over(wss_connect(&base, &ca).await, &session.access, vec![]).await;

    ca.hub_cert("hub-new").write_to(certs.path());
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-HUP", &pid]).status().unwrap().success());
    let mut swapped = false;
    for _ in 0..100 {
        if served_cn(&addr, &ca).await == "hub-new" {
            swapped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(swapped, "new handshakes still see the old certificate");
    // The socket opened before the reload still answers.
    c.ws.send(WsMessage::Ping(vec![7u8].into())).await.unwrap();
    let pong = tokio::time::timeout(WAIT, async {
        while let Some(Ok(m)) = c.ws.next().await {
            if let WsMessage::Pong(p) = m {
                return p.to_vec();
            }
        }
        vec![]
    })
    .await
    .unwrap();
    assert_eq!(pong, vec![7u8]);
    // A broken file on the next SIGHUP keeps the good certificate.
    std::fs::write(&cert, "garbage").unwrap();
    assert!(std::process::Command::new("kill").args(["-HUP", &pid]).status().unwrap().success());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(served_cn(&addr, &ca).await, "hub-new");
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test]
async fn x_forwarded_for_counts_only_from_a_trusted_proxy() {
    // Untrusted: five failures "from" five different forwarded addresses are all this socket's.
    let hub = TestHub::start_with(|c| c.login_max_failures = 5).await;
    hub.register("ivy").await;
    for i in 0..5 {
        assert_eq!(login_from(&hub, "ivy", "wrong password!", &format!("198.51.100.{i}")).await, 401);
    }
    assert_eq!(login_from(&hub, "ivy-other", "whatever password", "198.51.100.99").await, 429);

    // Trusted (the test talks from 127.0.0.1): each forwarded address has its own budget.
    let hub = TestHub::start_with(|c| {
        c.login_max_failures = 5;
        c.trusted_proxy = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    hub.register("ivy").await;
    for _ in 0..5 {
        assert_eq!(login_from(&hub, "nobody-here", "wrong password!", "198.51.100.7").await, 401);
    }
    assert_eq!(login_from(&hub, "someone-else", "wrong password!", "198.51.100.7").await, 429);
    assert_eq!(login_from(&hub, "someone-else", "wrong password!", "198.51.100.8").await, 401);
}

async fn login_from(hub: &TestHub, user: &str, password: &str, forwarded: &str) -> u16 {
    hub.http
        .post(format!("{}/v1/auth/login", hub.base))
        .header("x-forwarded-for", forwarded)
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}
