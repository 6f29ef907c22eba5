//! The hub's HTTP endpoints: sign-in, token refresh, sign-out, demo info.
use crate::tls::{host_of, is_loopback_host};
use crate::view::DemoInfo;
use crate::Error;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tally_protocol::UserSummary;

#[derive(Debug, Clone, Deserialize)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
    pub user: UserSummary,
    /// The tenant requires two-factor and this account has not turned it on yet.
    #[serde(default)]
    pub must_enrol_two_factor: bool,
}

#[derive(Clone)]
pub struct Api {
    pub(crate) http: reqwest::Client,
    pub base: String,
    /// The TLS trust for the socket too (wss://).
    pub tls: Arc<rustls::ClientConfig>,
}

/// Normalises what a user typed as the server address: `https://` unless it is this computer, and
/// never plain `http://` to anything but loopback (`Error::InsecureServer`).
pub fn normalize_server(s: &str) -> Result<String, Error> {
    let s = s.trim().trim_end_matches('/');
    if s.is_empty() {
        return Err(Error::InvalidInput("enter the server address".into()));
    }
    let s = if s.contains("://") {
        s.to_string()
    } else if is_loopback_host(host_of(s)) {
        format!("http://{s}")
    } else {
        format!("https://{s}")
    };
    let lower = s.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("ws://") {
        if !is_loopback_host(host_of(&s)) {
            return Err(Error::InsecureServer(format!(
                "{} is not encrypted: Tally signs in only over https:// (plain http:// is for this computer alone)",
                host_of(&s)
            )));
        }
    } else if !lower.starts_with("https://") {
        return Err(Error::InvalidInput("the server address must start with https://".into()));
    }
    Ok(s)
}

pub fn ws_url(base: &str) -> String {
    let rest = base
        .strip_prefix("https://")
        .map(|r| format!("wss://{r}"))
        .or_else(|| base.strip_prefix("http://").map(|r| format!("ws://{r}")));
    format!("{}/v1/ws", rest.unwrap_or_else(|| base.to_string()))
}

impl Api {
    pub fn new(base: &str, tls: &Arc<rustls::ClientConfig>) -> Result<Api, Error> {
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(rustls::ClientConfig::clone(tls))
            .https_only(!is_loopback_host(host_of(base)))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| Error::Network(e.to_string()))?;
        Ok(Api { http, base: normalize_server(base)?, tls: tls.clone() })
    }

    async fn post(&self, path: &str, body: serde_json::Value) -> Result<reqwest::Response, Error> {
        self.http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .map_err(|e| Error::Network(describe(&e)))
    }

    /// Rotates the refresh token. `Error::Auth` means it is no longer valid (sign in again).
    pub async fn refresh(&self, refresh_token: &str) -> Result<Tokens, Error> {
        let r = self.post("/v1/auth/refresh", json!({"refresh_token": refresh_token})).await?;
        match r.status().as_u16() {
            200 => r.json().await.map_err(|e| Error::Network(e.to_string())),
            401 => Err(Error::Auth("your session has ended; sign in again".into())),
            s => Err(Error::Network(format!("the server answered {s}"))),
        }
    }

    pub async fn logout(&self, refresh_token: &str) -> Result<(), Error> {
        self.post("/v1/auth/logout", json!({"refresh_token": refresh_token})).await.map(|_| ())
    }

    pub async fn demo_info(&self) -> Result<DemoInfo, Error> {
        let r =
            self.http.get(format!("{}/v1/demo", self.base)).send().await.map_err(|e| Error::Network(describe(&e)))?;
        if !r.status().is_success() {
            return Ok(DemoInfo { demo: false, users: vec![], password: None });
        }
        r.json().await.map_err(|e| Error::Network(e.to_string()))
    }
}

/// The rustls error somewhere in the chain (io::Error hides what it wraps from `source()`).
fn tls_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut at = Some(e);
    while let Some(e) = at {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        at = match e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    None
}

pub(crate) fn describe(e: &reqwest::Error) -> String {
    // A certificate the app does not trust is not "cannot reach": say so.
    if let Some(tls) = tls_error(e) {
        return format!("the server's certificate is not trusted ({tls})");
    }
    if e.is_connect() {
        "cannot reach the server".into()
    } else if e.is_timeout() {
        "the server did not answer in time".into()
    } else {
        e.to_string()
    }
}
