// Registers the app's commands as an inlined plugin named `tally`: its permissions are generated into
// OUT_DIR (not the repository root) and the UI calls `plugin:tally|<command>`.
include!("src/command_names.rs");

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
