//! IPC tests on Tauri's mock runtime with the app's real config and capabilities, so permission checks
//! run exactly as in the app; the engine behind the commands talks to a real hub on loopback.
use serde_json::{json, Value};
use std::time::Duration;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::WebviewWindowBuilder;

fn request(cmd: &str, args: Value) -> InvokeRequest {
    InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().unwrap(),
        body: InvokeBody::Json(args),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    }
}

fn call(w: &tauri::WebviewWindow<tauri::test::MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    get_ipc_response(w, request(&format!("plugin:tally|{cmd}"), args)).map(|b| b.deserialize::<Value>().unwrap())
}

fn start_hub() -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = tally_hub::Config::for_dir(dir.path());
    cfg.demo = true;
    cfg.demo_bot_ms = 0;
    cfg.transfer_step_ms = 10;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        rt.block_on(async move {
            let running = tally_hub::start(cfg).await.unwrap();
            tx.send(running.base_url()).unwrap();
            std::future::pending::<()>().await;
        });
    });
    (rx.recv().unwrap(), dir)
}

#[test]
fn commands_work_through_the_real_capabilities_and_errors_are_typed() {
    let (hub, _hub_dir) = start_hub();
    let data = tempfile::tempdir().unwrap();
    std::env::set_var("TALLY_DATA_DIR", data.path());
    std::env::set_var("TALLY_KEYRING_SERVICE", format!("app.tally.ipc-test-{}", std::process::id()));
    let app = mock_builder()
        .plugin(tally_app::commands_plugin())
        .build(tauri::generate_context!())
        .expect("app builds with the real config");
    tally_app::setup(app.handle());
    let main = WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();

    // Not signed in: a typed error the UI can switch on.
    let e = call(&main, "balances", json!({})).unwrap_err();
    assert_eq!(e["code"], "not_signed_in", "{e}");
    // Bad input is refused with a clear code before anything happens.
    let e = call(&main, "sign_in", json!({"server": "", "username": "alice", "password": "x"})).unwrap_err();
    assert_eq!(e["code"], "invalid_input");
    let e = call(&main, "sign_in", json!({"server": hub, "username": "alice", "password": "wrong"})).unwrap_err();
    assert_eq!(e["code"], "auth");
    // Arguments of the wrong type are rejected by the command layer.
    assert!(call(&main, "transactions", json!({"filter": {}, "cursor": null, "limit": "lots"})).is_err());

    let demo = call(&main, "demo_info", json!({"server": hub})).unwrap();
    assert_eq!(demo["demo"], true);
    let s = call(&main, "sign_in", json!({"server": hub, "username": "alice", "password": demo["password"]})).unwrap();
    assert_eq!(s["user"]["username"], "alice");
    // Live data arrives from the hub into the cache.
    let mut balances = Value::Null;
    for _ in 0..200 {
        balances = call(&main, "balances", json!({})).unwrap();
        if balances.as_array().map(|a| !a.is_empty()).unwrap_or(false) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(balances[0]["balance"]["available"].as_i64().unwrap() > 0, "{balances}");
    let page = call(&main, "transactions", json!({"filter": {}, "cursor": null, "limit": 20})).unwrap();
    assert!(page["rows"].as_array().unwrap().len() <= 20);
    let e = call(&main, "transactions", json!({"filter": {}, "cursor": null, "limit": 0})).unwrap_err();
    assert_eq!(e["code"], "invalid_input");
    let e = call(
        &main,
        "send_money",
        json!({"req": {"to": "bob", "amount": {"minor": -5, "currency": "USD"}, "memo": ""}}),
    )
    .unwrap_err();
    assert_eq!(e["code"], "invalid_input");
    let e = call(
        &main,
        "send_money",
        json!({"req": {"to": "bob", "amount": {"minor": 5.5, "currency": "USD"}, "memo": ""}}),
    );
    assert!(e.is_err(), "floats are not money");

    // A command outside the plugin's permissions, and any command from a window the capability does not
    // cover, are refused.
    assert!(get_ipc_response(&main, request("plugin:window|close", json!({}))).is_err());
    let other = WebviewWindowBuilder::new(&app, "other", Default::default()).build().unwrap();
    assert!(call(&other, "conn_state", json!({})).is_err(), "window not in the capability");

    // The app lock: one gate in front of every command. Locked, each command but the lock screen's own
    // is refused with `locked` before it reads or does anything (whatever its arguments).
    call(&main, "set_app_lock", json!({"pin": "4821", "after_minutes": 5, "current": null})).unwrap();
    call(&main, "lock_now", json!({})).unwrap();
    let open = tally_client::engine::OPEN_WHILE_LOCKED;
    let mut refused = 0;
    for cmd in tally_app::COMMANDS {
        if open.contains(cmd) {
            continue;
        }
        let e = call(&main, cmd, json!({})).expect_err(cmd);
        assert_eq!(e["code"], "locked", "{cmd} while locked: {e}");
        refused += 1;
    }
    assert!(refused >= 45, "every command but the lock screen's: {refused}");
    assert_eq!(call(&main, "app_lock_state", json!({})).unwrap()["locked"], true);
    assert!(call(&main, "session", json!({})).unwrap()["user"]["username"] == "alice", "who is signed in");
    call(&main, "unlock", json!({"pin": "4821"})).unwrap();
    assert!(call(&main, "balances", json!({})).is_ok(), "open again");
    call(&main, "set_app_lock", json!({"pin": null, "after_minutes": 5, "current": "4821"})).unwrap();

    let _ = call(&main, "sign_out", json!({"wipe": true}));
}
