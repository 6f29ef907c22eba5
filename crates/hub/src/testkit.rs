//! For tests only (feature `testkit`): a throwaway certificate authority and hub certificates it signs,
//! written as the PEM files `--tls-cert`/`--tls-key` read and the CA file a client trusts.
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use std::path::{Path, PathBuf};

pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// One certificate for `localhost` and 127.0.0.1, with its key.
pub struct HubCert {
    pub cert_pem: String,
    pub key_pem: String,
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().expect("CA key");
        TestCa { issuer: CertifiedIssuer::self_signed(params, key).expect("CA certificate") }
    }

    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A hub certificate whose subject's common name is `cn` (so a test can tell two apart).
    pub fn hub_cert(&self, cn: &str) -> HubCert {
        let mut params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).expect("parameters");
        params.distinguished_name.push(DnType::CommonName, cn);
        let key = KeyPair::generate().expect("key");
        let cert = params.signed_by(&key, &self.issuer).expect("certificate");
        HubCert { cert_pem: cert.pem(), key_pem: key.serialize_pem() }
    }
}

impl HubCert {
    /// Writes `hub.crt` and `hub.key` into `dir` (replacing what is there) and returns their paths.
    pub fn write_to(&self, dir: &Path) -> (PathBuf, PathBuf) {
        let (cert, key) = (dir.join("hub.crt"), dir.join("hub.key"));
        std::fs::write(&cert, &self.cert_pem).expect("write the certificate");
        std::fs::write(&key, &self.key_pem).expect("write the key");
        (cert, key)
    }
}
