//! The tray icon: the balance, unread counts, "Open Tally", "Pause notifications for 1 hour" (or
//! "Resume notifications") and "Quit" in its menu; connection state and unread count in its tooltip.
use std::sync::Arc;
use tally_client::view::{AppEvent, Change, ConnState};
use tally_client::Engine;
use tauri::{Manager, Runtime};

const TRAY_ID: &str = "tally-tray";
/// How long "Pause notifications" holds them back.
const PAUSE_MINUTES: u32 = 60;

#[cfg(desktop)]
pub fn create<R: Runtime>(app: &tauri::AppHandle<R>) -> tauri::Result<()> {
    use tauri::tray::TrayIconBuilder;
    let mut builder = TrayIconBuilder::with_id(TRAY_ID)
        .tooltip(format!("Tally — {}", crate::shell_text::words().offline))
        .menu(&menu(app, &Facts::default())?)
        .on_menu_event(|app, event| on_menu(app, event.id.as_ref()));
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder.build(app)?;
    Ok(())
}

#[cfg(desktop)]
fn on_menu<R: Runtime>(app: &tauri::AppHandle<R>, id: &str) {
    match id {
        "open" => crate::focus_main(app),
        "pause" | "resume" => {
            let Some(engine) = app.try_state::<Arc<Engine>>() else { return };
            let minutes = if id == "pause" { PAUSE_MINUTES } else { 0 };
            if let Err(e) = engine.pause_notifications(minutes) {
                tracing::warn!(error = %e, "could not pause notifications");
            }
            refresh(app);
        }
        "quit" => crate::background::quit(app),
        _ => {}
    }
}

/// What the tray says, read from the engine.
#[derive(Default)]
struct Facts {
    /// "12.50 USD" per currency held.
    balances: Vec<String>,
    unread: u32,
    paused: bool,
    state: String,
}

fn facts(engine: &Engine) -> Facts {
    let balances = engine.balances().unwrap_or_default().into_iter();
    let balances =
        balances.map(|b| tally_protocol::Money::new(b.balance.available, b.balance.currency).to_string()).collect();
    let unread = engine.unread_counts().map(|u| u.notifications + u.chat).unwrap_or(0);
    let now = tally_client::store::now_ms();
    let paused = engine.prefs().ok().and_then(|p| p.notifications_paused_until).is_some_and(|until| now < until);
    Facts { balances, unread, paused, state: describe(&engine.conn_state()) }
}

#[cfg(desktop)]
fn menu<R: Runtime>(app: &tauri::AppHandle<R>, f: &Facts) -> tauri::Result<tauri::menu::Menu<R>> {
    use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
    let w = crate::shell_text::words();
    let menu = Menu::new(app)?;
    for (i, b) in f.balances.iter().enumerate() {
        let label = format!("{}: {b}", w.balance);
        menu.append(&MenuItem::with_id(app, format!("balance-{i}"), label, false, None::<&str>)?)?;
    }
    if f.unread > 0 {
        menu.append(&MenuItem::with_id(app, "unread", format!("{} {}", f.unread, w.unread), false, None::<&str>)?)?;
    }
    if !f.balances.is_empty() || f.unread > 0 {
        menu.append(&PredefinedMenuItem::separator(app)?)?;
    }
    menu.append(&MenuItem::with_id(app, "open", w.open, true, None::<&str>)?)?;
    let (id, label) = if f.paused { ("resume", w.resume) } else { ("pause", w.pause_hour) };
    menu.append(&MenuItem::with_id(app, id, label, true, None::<&str>)?)?;
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&MenuItem::with_id(app, "quit", w.quit, true, None::<&str>)?)?;
    Ok(menu)
}

fn describe(c: &ConnState) -> String {
    let w = crate::shell_text::words();
    match c {
        ConnState::Live { latency_ms: Some(ms) } => format!("{} · {ms} ms", w.live),
        ConnState::Live { latency_ms: None } => w.live.into(),
        ConnState::Connecting | ConnState::Authenticating => w.connecting.into(),
        ConnState::BackingOff { .. } => w.reconnecting.into(),
        ConnState::Offline { .. } => w.offline.into(),
        ConnState::AuthFailed { .. } => w.signed_out.into(),
        ConnState::Closed { .. } => w.update_needed.into(),
    }
}

/// Whether an event changes what the tray shows.
fn relevant(ev: &AppEvent) -> bool {
    match ev {
        AppEvent::Conn { .. } => true,
        AppEvent::Changed { changes } => changes.iter().any(|c| {
            matches!(
                c,
                Change::Balances
                    | Change::Notifications
                    | Change::Rooms
                    | Change::Messages { .. }
                    | Change::Prefs
                    | Change::Session
                    | Change::Lock
            )
        }),
        _ => false,
    }
}

/// Keeps the tray current.
pub fn on_event<R: Runtime>(app: &tauri::AppHandle<R>, ev: &AppEvent) {
    if relevant(ev) {
        refresh(app);
    }
}

pub fn refresh<R: Runtime>(app: &tauri::AppHandle<R>) {
    #[cfg(desktop)]
    {
        let Some(tray) = app.tray_by_id(TRAY_ID) else { return };
        let Some(engine) = app.try_state::<Arc<Engine>>() else { return };
        // Nothing of the account shows while the app lock hides it.
        let f = if engine.app_lock_state().locked {
            Facts { state: crate::shell_text::words().locked.into(), ..Facts::default() }
        } else {
            facts(&engine)
        };
        let tip = if f.unread > 0 {
            format!("Tally — {} — {} {}", f.state, f.unread, crate::shell_text::words().unread)
        } else {
            format!("Tally — {}", f.state)
        };
        let _ = tray.set_tooltip(Some(tip));
        match menu(app, &f) {
            Ok(m) => {
                let _ = tray.set_menu(Some(m));
            }
            Err(e) => tracing::debug!(error = %e, "tray menu"),
        }
    }
    #[cfg(mobile)]
    let _ = app;
}
