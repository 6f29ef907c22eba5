//! Tally's sync engine: everything the app shows comes from here. No Tauri types.
//!
//! - `sync`: the one socket task (backoff, heartbeats, token refresh, recovery, applying events)
//! - `store`: the SQLite cache (offline truth); `store::queries`: what the UI reads from it
//! - `outbox`: actions taken offline, sent in order when live (lives in `store` + `sync`)
//! - `notify`: native notifications (raised once), `secrets`: the OS keychain
//! - `engine`: the API the app shell calls
pub mod api;
pub mod api_account;
pub mod api_files;
pub mod backoff;
pub mod display;
pub mod engine;
pub mod links;
pub mod netwatch;
pub mod notify;
#[cfg(target_os = "linux")]
pub mod notify_dbus;
pub mod outbox;
pub mod secrets;
pub mod store;
pub mod sync;
pub mod tls;
pub mod view;

pub use engine::{Engine, EngineConfig};

/// Selects rustls' ring provider for the process (TLS for wss:// and https://). Idempotent; needed when
/// several providers are compiled in, which rustls refuses to guess between.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The engine's error, at the crate boundary. `code()` is what the UI switches on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("you are offline")]
    Offline,
    #[error("not signed in")]
    NotSignedIn,
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    Keychain(String),
    #[error("{0}")]
    Notify(String),
    #[error("local storage: {0}")]
    Storage(String),
    #[error("network: {0}")]
    Network(String),
    #[error("{0}")]
    Auth(String),
    /// An unencrypted address off this computer: refused before anything is sent.
    #[error("{0}")]
    InsecureServer(String),
    /// The app lock is on and the PIN has not been given.
    #[error("{0}")]
    Locked(String),
    /// The user stopped it (an upload or a download).
    #[error("cancelled")]
    Cancelled,
    /// The hub refused a request: its protocol error code and message.
    #[error("{message}")]
    Hub { code: tally_protocol::ErrorCode, message: String },
}

impl Error {
    pub fn code(&self) -> view::CommandErrorCode {
        use view::{CommandErrorCode as C, LocalErrorCode as L};
        match self {
            Error::Offline => C::Local(L::Offline),
            Error::NotSignedIn => C::Local(L::NotSignedIn),
            Error::InvalidInput(_) => C::Local(L::InvalidInput),
            Error::Keychain(_) => C::Local(L::KeychainUnavailable),
            Error::Notify(_) => C::Local(L::NotificationsUnavailable),
            Error::Storage(_) => C::Local(L::Storage),
            Error::Network(_) => C::Local(L::Network),
            Error::Auth(_) => C::Local(L::Auth),
            Error::InsecureServer(_) => C::Local(L::InsecureServer),
            Error::Locked(_) => C::Local(L::Locked),
            Error::Cancelled => C::Local(L::Cancelled),
            Error::Hub { code, .. } => C::Hub(*code),
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Storage(e.to_string())
    }
}

impl From<Error> for view::CommandError {
    fn from(e: Error) -> Self {
        view::CommandError { code: e.code(), message: e.to_string() }
    }
}
