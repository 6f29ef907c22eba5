//! Whom the app trusts, and where it refuses to talk at all.
//!
//! One rustls configuration serves both the HTTP calls (reqwest) and the socket (tokio-tungstenite): the
//! Mozilla roots (webpki-roots) plus, for a self-hosted hub with its own CA, the PEM certificates named by
//! `EngineConfig::extra_ca_pem` (the desktop reads `TALLY_CA_FILE`). Plain `http://`/`ws://` is allowed
//! to this computer only: anywhere else passwords and tokens would cross the network readable.
use crate::Error;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};
use std::sync::Arc;

pub fn client_config(extra_ca_pem: Option<&[u8]>) -> Result<Arc<ClientConfig>, Error> {
    let mut roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    if let Some(pem) = extra_ca_pem {
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| Error::InvalidInput(format!("the extra CA file is not PEM: {e}")))?;
            roots.add(cert).map_err(|e| Error::InvalidInput(format!("the extra CA certificate is unusable: {e}")))?;
            added += 1;
        }
        if added == 0 {
            return Err(Error::InvalidInput("the extra CA file holds no certificate".into()));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Network(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Whether a parsed URL's host is this computer (the only place unencrypted HTTP may go). The host is the
/// one the HTTP client connects to: `url` parses as browsers and reqwest do (`\\` is a path separator,
/// userinfo ends at the last `@`, IPv4 in any spelling is normalised).
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => {
            let d = d.to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_recognised_in_every_spelling_and_nothing_else_is() {
        let parse = |u: &str| url::Url::parse(u).unwrap();
        for url in [
            "http://localhost:8787",
            "http://127.0.0.1",
            "http://127.1.2.3:1/x",
            "http://[::1]:8787",
            "http://app.localhost",
            "http://0x7f.1",
        ] {
            assert!(is_loopback(&parse(url)), "{url}");
        }
        for url in [
            "http://10.0.0.1",
            "http://example.com",
            "http://localhost.evil.com",
            "http://127.0.0.1.nip.io",
            "http://user@192.168.1.2:80",
            "http://[fe80::1]",
            "http://evil.example\\@127.0.0.1",
            "http://127.0.0.1:80@evil.example",
        ] {
            assert!(!is_loopback(&parse(url)), "{url}");
        }
    }

    #[test]
    fn a_bad_extra_ca_is_a_clear_error() {
        assert!(matches!(client_config(Some(b"not a certificate")), Err(Error::InvalidInput(_))));
        assert!(client_config(None).is_ok());
    }
}
