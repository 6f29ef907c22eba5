//! The hub's account endpoints: sign-up and its policy, sign-in with a second factor, and the signed-in
//! user's own security settings (devices, password, two-factor), each answered or refused with the hub's
//! typed error code.
use crate::api::{Api, Tokens};
use crate::view::{DeviceSession, RegistrationInfo, TwoFactorSetup, TwoFactorStatus};
use crate::Error;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use tally_protocol::ErrorCode;

/// What this device says about itself at sign-in (shown in the user's device list).
#[derive(Debug, Clone)]
pub struct DeviceInfo {
    pub name: String,
    pub platform: String,
}

/// A new account.
pub struct SignUp<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password: &'a str,
    pub invite: Option<&'a str>,
}

/// Turns the hub's answer into the body or a typed error (its `{code, message}`).
async fn answer<T: DeserializeOwned>(r: reqwest::Response) -> Result<T, Error> {
    let status = r.status().as_u16();
    if (200..300).contains(&status) {
        let text = r.text().await.map_err(|e| Error::Network(e.to_string()))?;
        let text = if text.is_empty() { "null" } else { &text };
        return serde_json::from_str(text).map_err(|e| Error::Network(format!("unexpected answer: {e}")));
    }
    let body: Value = r.json().await.unwrap_or(Value::Null);
    let message = body["message"].as_str().unwrap_or("").to_string();
    let code = serde_json::from_value::<ErrorCode>(body["code"].clone()).ok();
    Err(match (status, code) {
        (429, _) => Error::Auth(too_many(&message)),
        (_, Some(code)) => Error::Hub { code, message },
        (401, None) => Error::Auth("your session has ended; sign in again".into()),
        (s, None) => Error::Network(format!("the server answered {s}")),
    })
}

/// What a 429 says: the hub's own words when it gave them (too many guesses, or a server too busy to check
/// passwords right now), else the usual advice.
fn too_many(message: &str) -> String {
    if message.is_empty() {
        "too many failed attempts; wait a few minutes and try again".into()
    } else {
        message.to_string()
    }
}

impl Api {
    async fn send_json(&self, req: reqwest::RequestBuilder) -> Result<reqwest::Response, Error> {
        req.send().await.map_err(|e| Error::Network(crate::api::describe(&e)))
    }

    async fn authed<T: DeserializeOwned>(&self, token: &str, path: &str, body: Option<Value>) -> Result<T, Error> {
        let url = format!("{}{path}", self.base);
        let req = match body {
            Some(b) => self.http.post(url).json(&b),
            None => self.http.get(url),
        };
        answer(self.send_json(req.bearer_auth(token)).await?).await
    }

    /// Sign-in; `Error::Hub { code: TwoFactorRequired }` asks for the second factor.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        code: Option<&str>,
        dev: &DeviceInfo,
    ) -> Result<Tokens, Error> {
        let body = json!({"username": username.trim().to_lowercase(), "password": password, "totp": code,
                          "device": {"name": dev.name, "platform": dev.platform}});
        let r = self.send_json(self.http.post(format!("{}/v1/auth/login", self.base)).json(&body)).await?;
        match answer(r).await {
            // Without a code it was the password; with one, the hub says what was wrong with the code.
            Err(Error::Hub { code: ErrorCode::Unauthorized, .. }) if code.is_none() => {
                Err(Error::Auth("wrong username or password".into()))
            }
            other => other,
        }
    }

    pub async fn register(&self, s: &SignUp<'_>, dev: &DeviceInfo) -> Result<Tokens, Error> {
        let body = json!({"username": s.username.trim(), "display_name": s.display_name.trim(), "password": s.password,
                          "invite": s.invite, "device": {"name": dev.name, "platform": dev.platform}});
        answer(self.send_json(self.http.post(format!("{}/v1/auth/register", self.base)).json(&body)).await?).await
    }

    pub async fn registration(&self) -> Result<RegistrationInfo, Error> {
        answer(self.send_json(self.http.get(format!("{}/v1/auth/registration", self.base))).await?).await
    }

    pub async fn sessions(&self, token: &str) -> Result<Vec<DeviceSession>, Error> {
        let v: Value = self.authed(token, "/v1/account/sessions", None).await?;
        serde_json::from_value(v["sessions"].clone()).map_err(|e| Error::Network(format!("unexpected answer: {e}")))
    }

    pub async fn revoke_session(&self, token: &str, id: &str) -> Result<(), Error> {
        self.authed::<Value>(token, "/v1/account/sessions/revoke", Some(json!({ "id": id }))).await.map(|_| ())
    }

    pub async fn revoke_other_sessions(&self, token: &str) -> Result<u32, Error> {
        let v: Value = self.authed(token, "/v1/account/sessions/revoke-others", Some(json!({}))).await?;
        Ok(v["revoked"].as_u64().unwrap_or(0) as u32)
    }

    /// `code`: a current two-factor code, where two-factor is on.
    pub async fn change_password(
        &self,
        token: &str,
        current: &str,
        new: &str,
        code: Option<&str>,
    ) -> Result<u32, Error> {
        let body = json!({"current": current, "new": new, "code": code});
        let v: Value = self.authed(token, "/v1/account/password", Some(body)).await?;
        Ok(v["signed_out_devices"].as_u64().unwrap_or(0) as u32)
    }

    pub async fn two_factor_status(&self, token: &str) -> Result<TwoFactorStatus, Error> {
        self.authed(token, "/v1/account/two-factor", None).await
    }

    /// Starts enrolment; the hub asks for the current password.
    pub async fn two_factor_setup(&self, token: &str, password: &str) -> Result<TwoFactorSetup, Error> {
        self.authed(token, "/v1/account/two-factor/setup", Some(json!({ "password": password }))).await
    }

    /// Returns the ten recovery codes (shown once).
    pub async fn two_factor_enable(&self, token: &str, code: &str) -> Result<Vec<String>, Error> {
        let v: Value = self.authed(token, "/v1/account/two-factor/enable", Some(json!({ "code": code }))).await?;
        serde_json::from_value(v["recovery_codes"].clone())
            .map_err(|e| Error::Network(format!("unexpected answer: {e}")))
    }

    /// Turns two-factor off with the current password and a code.
    pub async fn two_factor_disable(&self, token: &str, password: &str, code: &str) -> Result<(), Error> {
        let body = json!({ "password": password, "code": code });
        self.authed::<Value>(token, "/v1/account/two-factor/disable", Some(body)).await.map(|_| ())
    }

    /// Ten new recovery codes (shown once) with the current password and a code; the old ones stop working.
    pub async fn two_factor_recovery_codes(
        &self,
        token: &str,
        password: &str,
        code: &str,
    ) -> Result<Vec<String>, Error> {
        let body = json!({ "password": password, "code": code });
        let v: Value = self.authed(token, "/v1/account/two-factor/recovery-codes", Some(body)).await?;
        serde_json::from_value(v["recovery_codes"].clone())
            .map_err(|e| Error::Network(format!("unexpected answer: {e}")))
    }
}
