//! The tray icon: connection state and unread count in its tooltip; Show and Quit in its menu.
use std::sync::Arc;
use tally_client::view::{AppEvent, ConnState};
use tally_client::Engine;
use tauri::{Manager, Runtime};

const TRAY_ID: &str = "tally-tray";

#[cfg(desktop)]
pub fn create<R: Runtime>(app: &tauri::AppHandle<R>) -> tauri::Result<()> {
    use tauri::menu::{Menu, MenuItem};
    use tauri::tray::TrayIconBuilder;
    let show = MenuItem::with_id(app, "show", "Show Tally", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&show, &quit])?;
    let mut builder = TrayIconBuilder::with_id(TRAY_ID).tooltip("Tally — offline").menu(&menu).on_menu_event(
        |app, event| match event.id.as_ref() {
            "show" => crate::focus_main(app),
            "quit" => app.exit(0),
            _ => {}
        },
    );
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder.build(app)?;
    Ok(())
}

fn describe(c: &ConnState) -> String {
    match c {
        ConnState::Live { latency_ms: Some(ms) } => format!("live · {ms} ms"),
        ConnState::Live { latency_ms: None } => "live".into(),
        ConnState::Connecting | ConnState::Authenticating => "connecting…".into(),
        ConnState::BackingOff { .. } => "reconnecting…".into(),
        ConnState::Offline { .. } => "offline".into(),
        ConnState::AuthFailed { .. } => "signed out".into(),
        ConnState::Closed { .. } => "update needed".into(),
    }
}

/// Keeps the tooltip current (connection state and unread count).
pub fn on_event<R: Runtime>(app: &tauri::AppHandle<R>, ev: &AppEvent) {
    #[cfg(desktop)]
    {
        let Some(tray) = app.tray_by_id(TRAY_ID) else { return };
        let Some(engine) = app.try_state::<Arc<Engine>>() else { return };
        let relevant = matches!(ev, AppEvent::Conn { .. } | AppEvent::Changed { .. });
        if !relevant {
            return;
        }
        let unread = engine.unread_counts().map(|u| u.notifications + u.chat).unwrap_or(0);
        let state = describe(&engine.conn_state());
        let tip =
            if unread > 0 { format!("Tally — {state} — {unread} unread") } else { format!("Tally — {state}") };
        let _ = tray.set_tooltip(Some(tip));
    }
    #[cfg(mobile)]
    let _ = (app, ev);
}
