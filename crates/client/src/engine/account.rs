//! The account side of the engine: sign-up (as the hub's policy allows), sign-in with a second factor,
//! and the signed-in user's security settings — devices, password, two-factor.
use super::Engine;
use crate::api::normalize_server;
use crate::api_account::{DeviceInfo, SignUp};
use crate::view::*;
use crate::Error;

/// What this computer is called in the user's device list: its host name, else the app's name.
pub fn device_info(client_name: &str) -> DeviceInfo {
    let host = std::env::var("TALLY_DEVICE_NAME")
        .ok()
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty());
    DeviceInfo { name: host.unwrap_or_else(|| client_name.to_string()), platform: std::env::consts::OS.to_string() }
}

/// The fields of the sign-up form.
pub struct NewAccount<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password: &'a str,
    pub invite: Option<&'a str>,
}

impl Engine {
    fn device(&self) -> DeviceInfo {
        device_info(&self.cfg.client_name)
    }

    /// Signs in; when two-factor is on and `code` is None the hub answers `two_factor_required` and the
    /// UI asks for the code, then calls again with it.
    pub async fn sign_in(
        &self,
        server: &str,
        username: &str,
        password: &str,
        code: Option<&str>,
    ) -> Result<SessionInfo, Error> {
        let server = normalize_server(server)?;
        if username.trim().is_empty() || password.is_empty() {
            return Err(Error::InvalidInput("enter your username and password".into()));
        }
        let code = code.map(str::trim).filter(|c| !c.is_empty());
        let tokens = self.api(&server)?.login(username, password, code, &self.device()).await?;
        let info = self.start(&server, tokens.user.clone(), tokens.refresh_token.clone(), Some(&tokens))?;
        self.unlocked_by_sign_in();
        Ok(info)
    }

    /// Who may sign up on `server`.
    pub async fn registration_info(&self, server: &str) -> Result<RegistrationInfo, Error> {
        self.api(&normalize_server(server)?)?.registration().await
    }

    /// Creates an account and signs this device in with it.
    pub async fn sign_up(&self, server: &str, a: NewAccount<'_>) -> Result<SessionInfo, Error> {
        let server = normalize_server(server)?;
        if a.username.trim().is_empty() || a.password.is_empty() {
            return Err(Error::InvalidInput("choose a username and a password".into()));
        }
        let invite = a.invite.map(str::trim).filter(|c| !c.is_empty());
        let s = SignUp { username: a.username, display_name: a.display_name, password: a.password, invite };
        let tokens = self.api(&server)?.register(&s, &self.device()).await?;
        let info = self.start(&server, tokens.user.clone(), tokens.refresh_token.clone(), Some(&tokens))?;
        self.unlocked_by_sign_in();
        Ok(info)
    }

    /// The signed-in session's API and a fresh access token (online only).
    pub(super) async fn authed(&self) -> Result<(crate::api::Api, String), Error> {
        let shared = self.with(|a| Ok(a.shared.clone()))?;
        let token = shared.access_token(false).await?;
        Ok((shared.api.clone(), token))
    }

    pub async fn devices(&self) -> Result<Vec<DeviceSession>, Error> {
        let (api, t) = self.authed().await?;
        api.sessions(&t).await
    }

    /// Signs one of the user's other devices out (its socket closes at once; its cache is wiped when it
    /// next reaches the hub).
    pub async fn sign_out_device(&self, id: &str) -> Result<(), Error> {
        let (api, t) = self.authed().await?;
        api.revoke_session(&t, id).await
    }

    pub async fn sign_out_other_devices(&self) -> Result<u32, Error> {
        let (api, t) = self.authed().await?;
        api.revoke_other_sessions(&t).await
    }

    /// Returns how many other devices were signed out.
    /// `code`: a current two-factor code, where two-factor is on (the hub answers `two_factor_required`).
    pub async fn change_password(&self, current: &str, new: &str, code: Option<&str>) -> Result<u32, Error> {
        if new.is_empty() {
            return Err(Error::InvalidInput("enter the new password".into()));
        }
        let (api, t) = self.authed().await?;
        api.change_password(&t, current, new, code.map(str::trim).filter(|c| !c.is_empty())).await
    }

    pub async fn two_factor_status(&self) -> Result<TwoFactorStatus, Error> {
        let (api, t) = self.authed().await?;
        api.two_factor_status(&t).await
    }

    /// Starts enrolment after the current password is given again.
    pub async fn two_factor_setup(&self, password: &str) -> Result<TwoFactorSetup, Error> {
        if password.is_empty() {
            return Err(Error::InvalidInput("enter your current password".into()));
        }
        let (api, t) = self.authed().await?;
        api.two_factor_setup(&t, password).await
    }

    /// Finishes enrolment with a code from the app; returns the recovery codes (shown once).
    /// Where the tenant requires two-factor, the session's token said "enrol first": a new one, and the
    /// socket renewed with it in band (answered before this returns), lets the next payment through at
    /// once. Offline, the next connection uses the new token.
    pub async fn two_factor_enable(&self, code: &str) -> Result<Vec<String>, Error> {
        let (api, t) = self.authed().await?;
        let codes = api.two_factor_enable(&t, code.trim()).await?;
        let shared = self.with(|a| Ok(a.shared.clone()))?;
        match shared.access_token(true).await {
            Ok(token) => {
                if let Err(e) = self.request(move |id| tally_protocol::ClientFrame::Auth { id, token }).await {
                    tracing::debug!(error = %e, "socket not renewed after enrolment; the next connection will be");
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "token refresh after enrolment failed; the next scheduled one will do")
            }
        }
        Ok(codes)
    }

    pub async fn two_factor_disable(&self, password: &str, code: &str) -> Result<(), Error> {
        if password.is_empty() {
            return Err(Error::InvalidInput("enter your current password".into()));
        }
        let (api, t) = self.authed().await?;
        api.two_factor_disable(&t, password, code.trim()).await
    }

    /// Ten new recovery codes (shown once), with the current password and a code.
    pub async fn two_factor_recovery_codes(&self, password: &str, code: &str) -> Result<Vec<String>, Error> {
        if password.is_empty() {
            return Err(Error::InvalidInput("enter your current password".into()));
        }
        let (api, t) = self.authed().await?;
        api.two_factor_recovery_codes(&t, password, code.trim()).await
    }
}
