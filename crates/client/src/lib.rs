//! Tally's sync engine: everything the app shows comes from here. No Tauri types.
pub mod view;
