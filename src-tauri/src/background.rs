//! The app in the background: closing the window hides it (the engine keeps its socket and raises
//! notifications) unless the user turned "Keep running when the window is closed" off; where no tray
//! host shows Tally's icon, a notification says Tally is still running and offers Open and Quit.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tally_client::notify::NoteAction;
use tally_client::Engine;
use tauri::{Emitter, Manager, Runtime};

/// Set once the user asked to quit: nothing holds the app back any more.
static QUITTING: AtomicBool = AtomicBool::new(false);

/// What a click on a notification (or one of its buttons) does, on every platform that reports clicks.
pub fn act<R: Runtime>(app: &tauri::AppHandle<R>, action: NoteAction) {
    match action {
        NoteAction::Open(target) => {
            crate::focus_main(app);
            let _ = app.emit(crate::EVENT, tally_client::view::AppEvent::Open { target });
        }
        NoteAction::ShowApp => crate::focus_main(app),
        NoteAction::Quit => quit(app),
    }
}

/// Ends the app for real (the tray's and the notice's Quit).
pub fn quit<R: Runtime>(app: &tauri::AppHandle<R>) {
    QUITTING.store(true, Ordering::SeqCst);
    app.exit(0);
}

/// Whether closing the window should only hide it: the user's setting (on by default, and on while no
/// account's preferences can be read), and not while quitting.
fn keeps_running<R: Runtime>(app: &tauri::AppHandle<R>) -> bool {
    if QUITTING.load(Ordering::SeqCst) {
        return false;
    }
    match app.try_state::<Arc<Engine>>() {
        Some(engine) => engine.prefs().map(|p| p.keep_running).unwrap_or(true),
        None => true,
    }
}

/// The window's close button: hide instead of quitting when the app keeps running.
pub fn on_close_requested<R: Runtime>(window: &tauri::Window<R>, api: &tauri::CloseRequestApi) {
    let app = window.app_handle().clone();
    if !keeps_running(&app) {
        return;
    }
    api.prevent_close();
    let _ = window.hide();
    if let Some(engine) = app.try_state::<Arc<Engine>>() {
        engine.set_background(true);
    }
    tauri::async_runtime::spawn(async move {
        if !tray_host_present().await {
            still_running_notice(&app);
        }
    });
}

/// "Tally is still running", with Open (a click, too) and Quit: the way back where no tray icon shows.
fn still_running_notice<R: Runtime>(app: &tauri::AppHandle<R>) {
    #[cfg(target_os = "linux")]
    if let Some(n) = app.try_state::<Arc<tally_client::notify_dbus::DbusNotifier>>() {
        use tally_client::notify::NoteButton;
        let w = crate::shell_text::words();
        let buttons = vec![
            NoteButton::new("default", w.open, NoteAction::ShowApp),
            NoteButton::new("quit", w.quit, NoteAction::Quit),
        ];
        if let Err(e) = n.notice(w.still_running, w.still_running_body, tally_protocol::Priority::Low, buttons) {
            tracing::warn!(error = %e, "could not say that Tally keeps running");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = app;
}

/// Whether something shows tray icons. Linux: a StatusNotifierWatcher with a host registered on the
/// session bus (what Tauri's tray uses); macOS and Windows always have one.
pub async fn tray_host_present() -> bool {
    #[cfg(target_os = "linux")]
    {
        async fn ask() -> zbus::Result<bool> {
            let bus = zbus::Connection::session().await?;
            let watcher = zbus::Proxy::new(
                &bus,
                "org.kde.StatusNotifierWatcher",
                "/StatusNotifierWatcher",
                "org.kde.StatusNotifierWatcher",
            )
            .await?;
            watcher.get_property::<bool>("IsStatusNotifierHostRegistered").await
        }
        ask().await.unwrap_or(false)
    }
    #[cfg(not(target_os = "linux"))]
    true
}
