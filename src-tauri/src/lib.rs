//! The Tally app shell: glue between the web UI and the sync engine (crates/client).
//!
//! Commands are an inlined plugin named `tally` (see build.rs); live data reaches the UI as the
//! `tally://event` event; native notifications, the tray icon and window state are wired here.
mod background;
mod commands;
mod links;
mod shell_text;
mod tray;
mod updates;

use std::path::PathBuf;
use std::sync::Arc;
use tally_client::notify::Notifier;
use tally_client::view::AppEvent;
use tally_client::{Engine, EngineConfig};
use tauri::plugin::TauriPlugin;
use tauri::{Emitter, Manager, Runtime};

pub const EVENT: &str = "tally://event";
/// The argument the login item starts Tally with: in the background, window hidden.
pub const BACKGROUND_ARG: &str = "--background";

include!("command_names.rs");

/// The `tally` plugin: every command the UI may call, each through one gate first: while the app lock is
/// locked only the lock screen's own commands (`tally_client::engine::OPEN_WHILE_LOCKED`) run; every other
/// one is refused with `locked` before it reads or does anything.
pub fn commands_plugin<R: Runtime>() -> TauriPlugin<R> {
    use commands::*;
    let handler: Box<dyn Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync> = Box::new(tauri::generate_handler![
        demo_info,
        sign_in,
        registration_info,
        sign_up,
        devices,
        sign_out_device,
        sign_out_other_devices,
        change_password,
        two_factor_status,
        two_factor_setup,
        two_factor_enable,
        two_factor_disable,
        two_factor_recovery_codes,
        app_lock_state,
        set_app_lock,
        unlock,
        lock_now,
        session,
        sign_out,
        conn_state,
        reconnect_now,
        balances,
        transactions,
        balance_history,
        spending_by_counterparty,
        export_csv,
        transfers_open,
        contacts,
        send_money,
        payment_requests,
        request_money,
        withdraw,
        deposit_info,
        split_bill,
        pay_request,
        decline_request,
        cancel_request,
        rooms,
        create_room,
        invite_member,
        leave_room,
        rename_room,
        remove_member,
        set_room_prefs,
        messages,
        send_message,
        send_file,
        attachment_thumbnail,
        open_picture,
        save_attachment,
        cancel_download,
        file_cache,
        clear_file_cache,
        edit_message,
        delete_message,
        react,
        mark_read,
        set_typing,
        outbox,
        retry_outbox,
        discard_outbox,
        notifications,
        mark_notifications_read,
        mark_all_read,
        unread_counts,
        search,
        search_room,
        set_presence,
        prefs,
        set_prefs,
        set_focused_view,
        sync_progress,
        limits,
        transfer_status,
        save_history_csv,
        show_in_folder,
        start_at_login,
        set_start_at_login,
        pause_notifications,
        take_link,
        set_locale,
        check_update,
        install_update
    ]);
    tauri::plugin::Builder::new("tally")
        .invoke_handler(move |invoke| {
            let engine = invoke.message.webview().try_state::<Arc<Engine>>().map(|e| e.inner().clone());
            if let Some(engine) = engine {
                if let Err(e) = engine.gate(invoke.message.command()) {
                    invoke.resolver.reject(tally_client::view::CommandError::from(e));
                    return true;
                }
            }
            handler(invoke)
        })
        .build()
}

/// Where the app keeps its caches: TALLY_DATA_DIR (tests) or the platform's app data dir.
fn data_dir<R: Runtime>(app: &tauri::AppHandle<R>) -> PathBuf {
    std::env::var_os("TALLY_DATA_DIR")
        .map(PathBuf::from)
        .or_else(|| app.path().app_data_dir().ok())
        .unwrap_or_else(|| PathBuf::from(".tally"))
}

/// Brings the main window to the front.
pub fn focus_main<R: Runtime>(app: &tauri::AppHandle<R>) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
        if let Some(engine) = app.try_state::<Arc<Engine>>() {
            engine.set_background(false);
        }
    }
}

/// The native notifier; every click on a notification goes to `background::act`.
fn notifier<R: Runtime>(app: &tauri::AppHandle<R>) -> Arc<dyn Notifier> {
    #[cfg(target_os = "linux")]
    {
        let handle = app.clone();
        let on_action: tally_client::notify::OnAction = Arc::new(move |a| background::act(&handle, a));
        let n = tally_client::notify_dbus::DbusNotifier::start("Tally", on_action);
        app.manage(n.clone());
        n
    }
    #[cfg(any(target_os = "macos", target_os = "windows"))]
    {
        let _ = app;
        Arc::new(tally_client::notify::DesktopNotifier { app_name: "Tally".into() })
    }
    #[cfg(mobile)]
    {
        Arc::new(mobile::PluginNotifier { app: app.clone() })
    }
}

#[cfg(mobile)]
mod mobile {
    use tally_client::notify::{Native, Notifier};
    use tauri_plugin_notification::NotificationExt;
    pub struct PluginNotifier<R: tauri::Runtime> {
        pub app: tauri::AppHandle<R>,
    }
    impl<R: tauri::Runtime> Notifier for PluginNotifier<R> {
        fn show(&self, n: &Native) -> Result<(), tally_client::Error> {
            self.app
                .notification()
                .builder()
                .title(&n.title)
                .body(&n.body)
                .show()
                .map_err(|e| tally_client::Error::Notify(e.to_string()))
        }
    }
}

/// A self-hosted hub's own CA (PEM), trusted beside the public roots: `TALLY_CA_FILE`. An unreadable
/// file is reported at sign-in as the engine's error, never silently ignored.
fn extra_ca() -> Option<Vec<u8>> {
    let path = std::env::var_os("TALLY_CA_FILE")?;
    match std::fs::read(&path) {
        Ok(pem) => Some(pem),
        Err(e) => {
            tracing::error!(file = ?path, error = %e, "TALLY_CA_FILE is unreadable");
            Some(Vec::new())
        }
    }
}

/// Creates the engine, restores the session from the keychain and bridges engine events to the UI.
pub fn setup<R: Runtime>(app: &tauri::AppHandle<R>) -> Arc<Engine> {
    let service = std::env::var("TALLY_KEYRING_SERVICE").unwrap_or_else(|_| app.config().identifier.clone());
    let (secrets, why) = tally_client::secrets::best_available(&service);
    if let Some(why) = why {
        tracing::warn!("{why}");
    }
    let mut cfg = EngineConfig::new(data_dir(app), format!("tally-desktop/{}", env!("CARGO_PKG_VERSION")));
    cfg.extra_ca_pem = extra_ca();
    let engine = Arc::new(Engine::new(cfg, secrets, notifier(app)));
    app.manage(engine.clone());
    let mut rx = engine.events();
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(ev) => {
                    tray::on_event(&handle, &ev);
                    let _ = handle.emit(EVENT, ev);
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    // The UI missed some: tell it to re-read everything.
                    let _ = handle.emit(EVENT, AppEvent::Changed { changes: tally_client::view::all_changes() });
                }
                Err(_) => break,
            }
        }
    });
    let e2 = engine.clone();
    tauri::async_runtime::spawn(async move {
        match e2.restore() {
            Ok(Some(_)) => {}
            Ok(None) => autologin(&e2).await,
            Err(e) => tracing::warn!(error = %e, "could not restore the session"),
        }
    });
    engine
}

/// `make run` signs in as a demo user: TALLY_AUTOLOGIN_SERVER + TALLY_AUTOLOGIN_USER, password from the
/// hub's /v1/demo (only a hub in demo mode publishes one).
async fn autologin(engine: &Engine) {
    let (Ok(server), Ok(user)) = (std::env::var("TALLY_AUTOLOGIN_SERVER"), std::env::var("TALLY_AUTOLOGIN_USER"))
    else {
        return;
    };
    match engine.demo_info(&server).await {
        Ok(info) if info.demo => {
            if let Some(pw) = info.password {
                if let Err(e) = engine.sign_in(&server, &user, &pw, None).await {
                    tracing::warn!(error = %e, "demo sign-in failed");
                }
            }
        }
        Ok(_) => tracing::warn!("TALLY_AUTOLOGIN_SERVER is not a demo hub; not signing in"),
        Err(e) => tracing::warn!(error = %e, "demo hub unreachable"),
    }
}

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("TALLY_LOG").unwrap_or_else(|_| "info".into()))
        .try_init();
    let builder = tauri::Builder::default();
    // First, so a second launch ends before anything else starts: it brings the running window forward
    // (with its deep-link feature, the second launch's tally:// link reaches this one's deep-link handler).
    #[cfg(desktop)]
    let builder = builder.plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| focus_main(app)));
    let builder = builder
        .plugin(tauri_plugin_deep_link::init())
        .plugin(commands_plugin())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_opener::init());
    #[cfg(desktop)]
    let builder = builder
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_updater::Builder::new().build())
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec![BACKGROUND_ARG]),
        ));
    #[cfg(mobile)]
    let builder = builder.plugin(tauri_plugin_notification::init());
    let result = builder
        .setup(|app| {
            let engine = setup(app.handle());
            #[cfg(desktop)]
            tray::create(app.handle())?;
            links::listen(app.handle());
            updates::check_quietly(app.handle());
            // Started at login: stay out of sight until the user opens Tally.
            if std::env::args().any(|a| a == BACKGROUND_ARG) {
                if let Some(w) = app.get_webview_window("main") {
                    let _ = w.hide();
                    engine.set_background(true);
                }
            }
            Ok(())
        })
        .on_window_event(|window, event| {
            if let tauri::WindowEvent::CloseRequested { api, .. } = event {
                background::on_close_requested(window, api);
                return;
            }
            // Background means out of sight (hidden or minimised), not merely another window in front.
            if let tauri::WindowEvent::Focused(_) | tauri::WindowEvent::Resized(_) = event {
                if let Some(engine) = window.app_handle().try_state::<Arc<Engine>>() {
                    let hidden = !window.is_visible().unwrap_or(true) || window.is_minimized().unwrap_or(false);
                    engine.set_background(hidden);
                }
            }
        })
        .build(tauri::generate_context!());
    match result {
        Ok(app) => app.run(|handle, event| match event {
            tauri::RunEvent::Exit => {
                if let Some(engine) = handle.try_state::<Arc<Engine>>() {
                    engine.shutdown();
                }
            }
            // macOS: a click on the Dock icon brings the hidden window back.
            #[cfg(target_os = "macos")]
            tauri::RunEvent::Reopen { .. } => focus_main(handle),
            _ => {}
        }),
        Err(e) => {
            eprintln!("Tally could not start: {e}");
            if std::env::var_os("DISPLAY").is_none()
                && std::env::var_os("WAYLAND_DISPLAY").is_none()
                && cfg!(target_os = "linux")
            {
                eprintln!("No display found. On a headless machine run it under Xvfb: xvfb-run -a make run");
            }
            std::process::exit(1);
        }
    }
}
