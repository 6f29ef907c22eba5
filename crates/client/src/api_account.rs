//! The hub's account endpoints: sign-up and its policy, sign-in with a second factor, and the signed-in
//! user's own security settings (devices, password, two-factor), each answered or refused with the hub's
//! typed error code.
use crate::api::{Api, Tokens};
use crate::Error;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tally_protocol::http::{
    CodeRequest, DeviceInfo as WireDevice, DeviceSession, ErrorBody, PasswordChange, Proof, RecoveryCodes,
    RegistrationInfo, Revoked, SessionList, SessionRef, SignInRequest, SignUpRequest, SignedOut, TwoFactorSetup,
    TwoFactorStatus,
};
use tally_protocol::ErrorCode;

/// What this device says about itself at sign-in (shown in the user's device list).
#[derive(Debug, Clone)]
pub struct DeviceInfo {
    pub name: String,
    pub platform: String,
}

impl DeviceInfo {
    fn wire(&self) -> WireDevice {
        WireDevice { name: self.name.clone(), platform: self.platform.clone() }
    }
}

/// A new account.
pub struct SignUp<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password: &'a str,
    pub invite: Option<&'a str>,
}

/// Turns the hub's answer into the body or a typed error (its `{code, message}`).
pub(crate) async fn answer<T: DeserializeOwned>(r: reqwest::Response) -> Result<T, Error> {
    let status = r.status().as_u16();
    if (200..300).contains(&status) {
        let text = r.text().await.map_err(|e| Error::Network(e.to_string()))?;
        let text = if text.is_empty() { "null" } else { &text };
        return serde_json::from_str(text).map_err(|e| Error::Network(format!("unexpected answer: {e}")));
    }
    // A body that is not the hub's `{code, message}` (a proxy's page) is answered by its status alone.
    let (code, message) = match r.json::<ErrorBody>().await {
        Ok(b) => (Some(b.code), b.message),
        Err(_) => (None, String::new()),
    };
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

    async fn authed_get<T: DeserializeOwned>(&self, token: &str, path: &str) -> Result<T, Error> {
        let req = self.http.get(format!("{}{path}", self.base));
        answer(self.send_json(req.bearer_auth(token)).await?).await
    }

    async fn authed<T: DeserializeOwned, B: Serialize>(&self, token: &str, path: &str, body: &B) -> Result<T, Error> {
        let req = self.http.post(format!("{}{path}", self.base)).json(body);
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
        let body = SignInRequest {
            username: username.trim().to_lowercase(),
            password: password.into(),
            tenant: None,
            totp: code.map(Into::into),
            device: dev.wire(),
        };
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
        let body = SignUpRequest {
            username: s.username.trim().into(),
            password: s.password.into(),
            display_name: s.display_name.trim().into(),
            tenant: None,
            invite: s.invite.map(Into::into),
            device: dev.wire(),
        };
        answer(self.send_json(self.http.post(format!("{}/v1/auth/register", self.base)).json(&body)).await?).await
    }

    pub async fn registration(&self) -> Result<RegistrationInfo, Error> {
        answer(self.send_json(self.http.get(format!("{}/v1/auth/registration", self.base))).await?).await
    }

    pub async fn sessions(&self, token: &str) -> Result<Vec<DeviceSession>, Error> {
        let list: SessionList = self.authed_get(token, "/v1/account/sessions").await?;
        Ok(list.sessions)
    }

    pub async fn revoke_session(&self, token: &str, id: &str) -> Result<(), Error> {
        let body = SessionRef { id: id.into() };
        self.authed::<(), _>(token, "/v1/account/sessions/revoke", &body).await
    }

    pub async fn revoke_other_sessions(&self, token: &str) -> Result<u32, Error> {
        let r: Revoked = self.authed(token, "/v1/account/sessions/revoke-others", &serde_json::json!({})).await?;
        Ok(r.revoked)
    }

    /// `code`: a current two-factor code, where two-factor is on.
    pub async fn change_password(
        &self,
        token: &str,
        current: &str,
        new: &str,
        code: Option<&str>,
    ) -> Result<u32, Error> {
        let body = PasswordChange { current: current.into(), new: new.into(), code: code.map(Into::into) };
        let r: SignedOut = self.authed(token, "/v1/account/password", &body).await?;
        Ok(r.signed_out_devices)
    }

    pub async fn deposit_info(&self, token: &str) -> Result<tally_protocol::http::DepositInfo, Error> {
        self.authed_get(token, "/v1/account/deposit-info").await
    }

    pub async fn two_factor_status(&self, token: &str) -> Result<TwoFactorStatus, Error> {
        self.authed_get(token, "/v1/account/two-factor").await
    }

    /// Starts enrolment; the hub asks for the current password.
    pub async fn two_factor_setup(&self, token: &str, password: &str) -> Result<TwoFactorSetup, Error> {
        let body = Proof { password: password.into(), code: None };
        self.authed(token, "/v1/account/two-factor/setup", &body).await
    }

    /// Returns the ten recovery codes (shown once).
    pub async fn two_factor_enable(&self, token: &str, code: &str) -> Result<Vec<String>, Error> {
        let r: RecoveryCodes =
            self.authed(token, "/v1/account/two-factor/enable", &CodeRequest { code: code.into() }).await?;
        Ok(r.recovery_codes)
    }

    /// Turns two-factor off with the current password and a code.
    pub async fn two_factor_disable(&self, token: &str, password: &str, code: &str) -> Result<(), Error> {
        let body = Proof { password: password.into(), code: Some(code.into()) };
        self.authed::<(), _>(token, "/v1/account/two-factor/disable", &body).await
    }

    /// Ten new recovery codes (shown once) with the current password and a code; the old ones stop working.
    pub async fn two_factor_recovery_codes(
        &self,
        token: &str,
        password: &str,
        code: &str,
    ) -> Result<Vec<String>, Error> {
        let body = Proof { password: password.into(), code: Some(code.into()) };
        let r: RecoveryCodes = self.authed(token, "/v1/account/two-factor/recovery-codes", &body).await?;
        Ok(r.recovery_codes)
    }
}
