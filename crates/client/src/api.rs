//! The hub's HTTP endpoints: sign-in, token refresh, sign-out, demo info.
use crate::tls::is_loopback;
use crate::view::DemoInfo;
use crate::Error;
use std::sync::Arc;
use std::time::Duration;
use tally_protocol::http::RefreshRequest;

/// The hub's token answer (sign-up, sign-in, refresh).
pub use tally_protocol::http::TokenResponse as Tokens;

#[derive(Clone)]
pub struct Api {
    pub(crate) http: reqwest::Client,
    pub base: String,
    /// The TLS trust for the socket too (wss://).
    pub tls: Arc<rustls::ClientConfig>,
}

/// Normalises what a user typed as the server address: `https://` unless it is this computer, and never
/// plain `http://` to anything but loopback (`Error::InsecureServer`). The address is parsed as the HTTP
/// client will parse it and the answer is that parse written out, so what was judged is what is used.
pub fn normalize_server(s: &str) -> Result<String, Error> {
    let s = s.trim();
    if s.is_empty() {
        return Err(Error::InvalidInput("enter the server address".into()));
    }
    let typed = if s.contains("://") {
        s.to_string()
    } else {
        let probe = parse_server(&format!("http://{s}"))?;
        format!("{}://{s}", if is_loopback(&probe) { "http" } else { "https" })
    };
    let mut url = parse_server(&typed)?;
    // A socket address typed for the server: the same host over HTTP(S), judged as such.
    let scheme = match url.scheme() {
        "ws" => Some("http"),
        "wss" => Some("https"),
        _ => None,
    };
    if let Some(scheme) = scheme {
        url = parse_server(&url.as_str().replacen(url.scheme(), scheme, 1))?;
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::InvalidInput("a server address holds no user name or password".into()));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::InvalidInput("a server address has no ? or # part".into()));
    }
    let host = url.host_str().unwrap_or("").to_string();
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(Error::InsecureServer(format!(
                "{host} is not encrypted: Tally signs in only over https:// (plain http:// is for this computer alone)"
            )))
        }
        _ => return Err(Error::InvalidInput("the server address must start with https://".into())),
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

fn parse_server(s: &str) -> Result<url::Url, Error> {
    let url = url::Url::parse(s).map_err(|e| Error::InvalidInput(format!("that is not a server address ({e})")))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::InvalidInput("the server address has no host".into()));
    }
    Ok(url)
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
        let base = normalize_server(base)?;
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(rustls::ClientConfig::clone(tls))
            .https_only(!url::Url::parse(&base).is_ok_and(|u| is_loopback(&u)))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| Error::Network(e.to_string()))?;
        Ok(Api { http, base, tls: tls.clone() })
    }

    async fn post<B: serde::Serialize>(&self, path: &str, body: &B) -> Result<reqwest::Response, Error> {
        self.http.post(format!("{}{path}", self.base)).json(body).send().await.map_err(|e| Error::Network(describe(&e)))
    }

    /// Rotates the refresh token. `Error::Auth` means it is no longer valid (sign in again).
    pub async fn refresh(&self, refresh_token: &str) -> Result<Tokens, Error> {
        let r = self.post("/v1/auth/refresh", &RefreshRequest { refresh_token: refresh_token.into() }).await?;
        match r.status().as_u16() {
            200 => r.json().await.map_err(|e| Error::Network(e.to_string())),
            401 => Err(Error::Auth("your session has ended; sign in again".into())),
            s => Err(Error::Network(format!("the server answered {s}"))),
        }
    }

    pub async fn logout(&self, refresh_token: &str) -> Result<(), Error> {
        self.post("/v1/auth/logout", &RefreshRequest { refresh_token: refresh_token.into() }).await.map(|_| ())
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

#[cfg(test)]
mod server_address_tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plain_http_goes_to_this_computer_only_however_it_is_spelled() {
        for ok in [
            "localhost:8787",
            "http://127.0.0.1:8787/",
            "http://[::1]:1",
            "hub.example.com",
            "https://hub.example.com:8443",
        ] {
            assert!(normalize_server(ok).is_ok(), "{ok}");
        }
        assert_eq!(normalize_server("hub.example.com/").unwrap(), "https://hub.example.com");
        assert_eq!(normalize_server("localhost:8787").unwrap(), "http://localhost:8787");
        for insecure in [
            "http://evil.example\\@127.0.0.1",
            "http://evil.example\\@localhost:8787",
            "http://10.0.0.1:8787",
            "http://localhost.evil.com",
            "ws://example.com",
        ] {
            assert!(
                matches!(normalize_server(insecure), Err(Error::InsecureServer(_)) | Err(Error::InvalidInput(_))),
                "{insecure}"
            );
        }
        assert!(matches!(normalize_server("http://evil.example\\@127.0.0.1"), Err(Error::InsecureServer(_))));
        for bad in ["", "http://user:pw@localhost", "https://", "ftp://hub.example.com", "https://hub.example.com/?x=1"]
        {
            assert!(matches!(normalize_server(bad), Err(Error::InvalidInput(_))), "{bad}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]
        /// Whatever is typed, the guard answers cleanly; and whatever it lets through over plain http is, by
        /// the parser the HTTP client uses, this computer.
        #[test]
        fn any_text_is_a_clean_answer_and_plain_http_only_reaches_loopback(
            s in prop_oneof![
                ".{0,40}",
                "(http://|https://|ws://|)[a-z0-9.@:/\\\\\\[\\]%-]{0,30}(127\\.0\\.0\\.1|localhost|\\[::1\\])?[a-z0-9.@:/\\\\-]{0,20}",
            ]
        ) {
            if let Ok(out) = normalize_server(&s) {
                let url = url::Url::parse(&out).expect("the answer parses");
                prop_assert!(url.scheme() == "https" || is_loopback(&url), "{s:?} -> {out}");
                prop_assert_eq!(normalize_server(&out).ok(), Some(out.clone()), "stable");
            }
        }
    }
}
