// Registers the app's commands as an inlined plugin named `tally`: its permissions are generated into
// OUT_DIR (not the repository root) and the UI calls `plugin:tally|<command>`.
const COMMANDS: &[&str] = &[
    "demo_info",
    "sign_in",
    "registration_info",
    "sign_up",
    "devices",
    "sign_out_device",
    "sign_out_other_devices",
    "change_password",
    "two_factor_status",
    "two_factor_setup",
    "two_factor_enable",
    "two_factor_disable",
    "session",
    "sign_out",
    "conn_state",
    "reconnect_now",
    "balances",
    "transactions",
    "balance_history",
    "spending_by_counterparty",
    "export_csv",
    "transfers_open",
    "contacts",
    "send_money",
    "rooms",
    "create_room",
    "messages",
    "send_message",
    "edit_message",
    "delete_message",
    "react",
    "mark_read",
    "set_typing",
    "outbox",
    "retry_outbox",
    "discard_outbox",
    "notifications",
    "mark_notifications_read",
    "mark_all_read",
    "unread_counts",
    "search",
    "set_presence",
    "prefs",
    "set_prefs",
    "set_focused_view",
    "sync_progress",
    "limits",
    "transfer_status",
    "save_history_csv",
    "show_in_folder",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new().plugin(
            "tally",
            tauri_build::InlinedPlugin::new()
                .commands(COMMANDS)
                .default_permission(tauri_build::DefaultPermissionRule::AllowAllCommands),
        ),
    )
    .expect("tauri build configuration");
}
