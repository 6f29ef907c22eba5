//! TLS termination (rustls): the certificate chain and key PEM files named by `--tls-cert`/`--tls-key`,
//! loaded at start and again by `reload` (the binary calls it on SIGHUP). A reload swaps the acceptor
//! used for the next handshakes; established connections keep theirs, so nothing is dropped. A reload
//! that fails (unreadable file, key not matching the chain) keeps the old certificate and says why.
use crate::error::{HubError, HubResult};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use tokio_rustls::TlsAcceptor;

#[derive(Clone)]
pub struct Tls {
    cert: PathBuf,
    key: PathBuf,
    current: Arc<RwLock<TlsAcceptor>>,
}

impl Tls {
    pub fn load(cert: &Path, key: &Path) -> HubResult<Tls> {
        let acceptor = acceptor(cert, key)?;
        Ok(Tls { cert: cert.to_path_buf(), key: key.to_path_buf(), current: Arc::new(RwLock::new(acceptor)) })
    }

    /// Reads the files again; the next handshakes use what they hold now.
    pub fn reload(&self) -> HubResult<()> {
        let next = acceptor(&self.cert, &self.key)?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = next;
        tracing::info!(cert = %self.cert.display(), "TLS certificate reloaded");
        Ok(())
    }

    pub fn acceptor(&self) -> TlsAcceptor {
        self.current.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

fn acceptor(cert: &Path, key: &Path) -> HubResult<TlsAcceptor> {
    let bad = |what: &Path, e: &dyn std::fmt::Display| HubError::invalid(format!("{}: {e}", what.display()));
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| bad(cert, &e))?
        .collect::<Result<_, _>>()
        .map_err(|e| bad(cert, &e))?;
    if chain.is_empty() {
        return Err(bad(cert, &"no certificate in the file"));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| bad(key, &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| HubError::internal(format!("TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| HubError::invalid(format!("TLS certificate and key: {e}")))?;
    // HTTP/1.1 only: the WebSocket upgrade needs it, and the JSON endpoints gain nothing from h2.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
