//! `tally://` links from the OS: at start (the link Tally was launched with), from a second launch (handed
//! over by the single-instance plugin) and while running (macOS, mobile). Each is read
//! (`tally_client::links`) and kept until the UI takes it (`take_link`), so a link opened before the UI
//! listens, or while the app lock is on, waits instead of being lost; the window comes forward.
use std::sync::Mutex;
use tally_client::links::OpenedLink;
use tally_client::view::AppEvent;
use tauri::{Emitter, Manager, Runtime};
use tauri_plugin_deep_link::DeepLinkExt;

/// The link opened last, until the UI takes it.
#[derive(Default)]
pub struct PendingLink(Mutex<Option<OpenedLink>>);

impl PendingLink {
    pub fn take(&self) -> Option<OpenedLink> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

pub fn listen<R: Runtime>(app: &tauri::AppHandle<R>) {
    app.manage(PendingLink::default());
    // Development builds register the scheme for this binary; installed bundles declare it.
    #[cfg(all(debug_assertions, any(target_os = "linux", windows)))]
    if let Err(e) = app.deep_link().register_all() {
        tracing::debug!(error = %e, "could not register tally:// for this build");
    }
    if let Ok(Some(urls)) = app.deep_link().get_current() {
        for u in urls {
            opened(app, u.as_str());
        }
    }
    let handle = app.clone();
    app.deep_link().on_open_url(move |event| {
        for u in event.urls() {
            opened(&handle, u.as_str());
        }
    });
}

/// Keeps what the link asks for (never acting on it here) and tells the UI.
fn opened<R: Runtime>(app: &tauri::AppHandle<R>, link: &str) {
    let read = OpenedLink::read(link);
    if let Some(p) = app.try_state::<PendingLink>() {
        *p.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(read);
    }
    crate::focus_main(app);
    let _ = app.emit(crate::EVENT, AppEvent::LinkWaiting);
}
