//! Signed updates (tauri-plugin-updater, minisign). A build knows its update key and feed from the
//! environment it was built in (`TALLY_UPDATE_PUBKEY`, `TALLY_UPDATE_URL`; the feed may also be given at
//! run time in `TALLY_UPDATE_URL`): a build without a key has no updates and says so. The feed is
//! `latest.json` as the Tauri updater reads it (served by `tally-hub --updates-dir` or any static server);
//! it must be https, except on this machine (the plugin's own https rule is off, this one is stricter).
//! An update whose signature does not match the key is refused, and nothing is installed.
//!
//! Phones update through their app stores: there the commands say so.
#[cfg(desktop)]
pub use desktop::*;
#[cfg(mobile)]
pub use mobile::*;

#[cfg(mobile)]
mod mobile {
    use tally_client::view::{CommandError, LocalErrorCode, UpdateCheck};
    fn store() -> CommandError {
        CommandError::local(LocalErrorCode::Update, "On phones, Tally updates through the app store.")
    }
    pub async fn check<R: tauri::Runtime>(_: &tauri::AppHandle<R>) -> Result<UpdateCheck, CommandError> {
        Err(store())
    }
    pub async fn install<R: tauri::Runtime>(_: &tauri::AppHandle<R>) -> Result<(), CommandError> {
        Err(store())
    }
    pub fn check_quietly<R: tauri::Runtime>(_: &tauri::AppHandle<R>) {}
}

#[cfg(desktop)]
mod desktop {
    use tally_client::view::{AppEvent, CommandError, LocalErrorCode, UpdateCheck, UpdateOffer};
    use tauri::{Emitter, Runtime};
    use tauri_plugin_updater::UpdaterExt;

    /// How long after start the quiet check waits (the app first connects and shows what it has).
    const QUIET_CHECK_AFTER: std::time::Duration = std::time::Duration::from_secs(10);

    fn failed(message: impl Into<String>) -> CommandError {
        CommandError::local(LocalErrorCode::Update, message)
    }

    /// The key updates must be signed with (compiled in), and the feed (run time, else compiled in).
    fn source() -> Result<(String, url::Url), CommandError> {
        let key = option_env!("TALLY_UPDATE_PUBKEY").filter(|k| !k.trim().is_empty());
        let key = key.ok_or_else(|| failed("This build of Tally has no update key, so it cannot update itself."))?;
        let feed = std::env::var("TALLY_UPDATE_URL").ok().or_else(|| option_env!("TALLY_UPDATE_URL").map(String::from));
        let feed = feed.ok_or_else(|| failed("This build of Tally has no update feed."))?;
        let url =
            url::Url::parse(&feed).map_err(|_| failed(format!("The update feed {feed} is not a valid address.")))?;
        let local = matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
            || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
            || url.host_str() == Some("localhost");
        if url.scheme() != "https" && !(url.scheme() == "http" && local) {
            return Err(failed("The update feed must use https."));
        }
        Ok((key.to_string(), url))
    }

    fn updater<R: Runtime>(app: &tauri::AppHandle<R>) -> Result<tauri_plugin_updater::Updater, CommandError> {
        let (key, url) = source()?;
        let builder = app.updater_builder().pubkey(key).endpoints(vec![url]).map_err(|e| failed(e.to_string()))?;
        builder.build().map_err(|e| failed(e.to_string()))
    }

    /// A sentence for the user from the updater's error.
    fn explain(e: tauri_plugin_updater::Error) -> CommandError {
        use tauri_plugin_updater::Error as E;
        match e {
            E::Minisign(_) | E::SignatureUtf8(_) | E::Base64(_) => {
                failed("The update's signature does not match Tally's key. It was not installed.")
            }
            E::Reqwest(_) | E::Network(_) => failed("The update server could not be reached. Try again later."),
            E::ReleaseNotFound | E::Serialization(_) | E::TargetNotFound(_) | E::TargetsNotFound(_) => {
                failed("The update server did not offer an update for this computer.")
            }
            other => failed(format!("The update could not be installed: {other}")),
        }
    }

    pub async fn check<R: Runtime>(app: &tauri::AppHandle<R>) -> Result<UpdateCheck, CommandError> {
        let current = app.package_info().version.to_string();
        let found = updater(app)?.check().await.map_err(explain)?;
        let available = found.map(|u| UpdateOffer { version: u.version, notes: u.body });
        Ok(UpdateCheck { current, available })
    }

    /// Downloads the update, checks its signature, installs it and restarts into it.
    pub async fn install<R: Runtime>(app: &tauri::AppHandle<R>) -> Result<(), CommandError> {
        let update = updater(app)?.check().await.map_err(explain)?;
        let update = update.ok_or_else(|| failed("There is no newer version to install."))?;
        let mut downloaded = 0u64;
        let progress = app.clone();
        update
            .download_and_install(
                move |chunk, total| {
                    downloaded += chunk as u64;
                    let _ = progress.emit(crate::EVENT, AppEvent::UpdateProgress { downloaded, total });
                },
                || {},
            )
            .await
            .map_err(explain)?;
        tracing::info!(version = %update.version, "update installed; restarting");
        app.restart()
    }

    /// The quiet check at start: says so when a newer version is there; a build without updates is silent.
    pub fn check_quietly<R: Runtime>(app: &tauri::AppHandle<R>) {
        if source().is_err() {
            return;
        }
        let app = app.clone();
        tauri::async_runtime::spawn(async move {
            tokio::time::sleep(QUIET_CHECK_AFTER).await;
            match check(&app).await {
                Ok(UpdateCheck { available: Some(offer), .. }) => {
                    let _ = app.emit(crate::EVENT, AppEvent::UpdateAvailable { version: offer.version });
                }
                Ok(_) => {}
                Err(e) => tracing::info!(error = %e.message, "update check"),
            }
        });
    }
}
