//! The words the shell itself shows, outside the web UI: the tray's menu and tooltip and the "Tally is
//! still running" notice. Same languages as the UI (ui/src/locales); the UI tells the shell its language
//! (`set_locale`) at start and on every change, and until it does the system's language is used.
//! A handful of strings, so a table here rather than a second i18n library in Rust.
use std::sync::atomic::{AtomicU8, Ordering};

pub use tally_client::display::Lang;

/// What the shell says, in one language.
pub struct Words {
    pub open: &'static str,
    pub pause_hour: &'static str,
    pub resume: &'static str,
    pub quit: &'static str,
    pub balance: &'static str,
    pub unread: &'static str,
    pub still_running: &'static str,
    pub still_running_body: &'static str,
    pub live: &'static str,
    pub connecting: &'static str,
    pub reconnecting: &'static str,
    pub offline: &'static str,
    pub signed_out: &'static str,
    pub update_needed: &'static str,
    pub locked: &'static str,
}

const EN: Words = Words {
    open: "Open Tally",
    pause_hour: "Pause notifications for 1 hour",
    resume: "Resume notifications",
    quit: "Quit",
    balance: "Balance",
    unread: "unread",
    still_running: "Tally is still running",
    still_running_body: "Payments and messages will still be announced. Click to open Tally, or quit it.",
    live: "live",
    connecting: "connecting…",
    reconnecting: "reconnecting…",
    offline: "offline",
    signed_out: "signed out",
    update_needed: "update needed",
    locked: "locked",
};

const DE: Words = Words {
    open: "Tally öffnen",
    pause_hour: "Mitteilungen 1 Stunde pausieren",
    resume: "Mitteilungen fortsetzen",
    quit: "Beenden",
    balance: "Guthaben",
    unread: "ungelesen",
    still_running: "Tally läuft weiter",
    still_running_body: "Zahlungen und Nachrichten werden weiter gemeldet. Klicke, um Tally zu öffnen, oder beende es.",
    live: "live",
    connecting: "verbindet …",
    reconnecting: "verbindet neu …",
    offline: "offline",
    signed_out: "abgemeldet",
    update_needed: "Update nötig",
    locked: "gesperrt",
};

/// 255: not told yet (the system's language then).
static CHOSEN: AtomicU8 = AtomicU8::new(u8::MAX);

/// The system's first language the shell knows, English otherwise.
fn system() -> Lang {
    sys_locale::get_locales().find_map(|l| Lang::parse(&l)).unwrap_or(Lang::En)
}

fn words_of(lang: Lang) -> &'static Words {
    match lang {
        Lang::En => &EN,
        Lang::De => &DE,
    }
}

/// Sets the shell's language (the UI's choice).
pub fn set(lang: Lang) {
    CHOSEN.store(if lang == Lang::De { 1 } else { 0 }, Ordering::Relaxed);
}

/// The language in use: the UI's choice, or the system's before the UI said.
pub fn current() -> Lang {
    match CHOSEN.load(Ordering::Relaxed) {
        0 => Lang::En,
        1 => Lang::De,
        _ => system(),
    }
}

/// The words in the language in use.
pub fn words() -> &'static Words {
    words_of(current())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_choice_picks_the_words() {
        set(Lang::De);
        assert_eq!(words().quit, "Beenden");
        set(Lang::En);
        assert_eq!(words().quit, "Quit");
    }
}
