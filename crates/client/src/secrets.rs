//! Tokens live only in the OS keychain (Secret Service on Linux, Keychain on macOS/iOS, Credential Manager
//! on Windows), never in SQLite or a file. Where no keychain service exists the session is kept in memory
//! only and the UI says so: `SecretStore::kind()` is `"memory"`.
use crate::Error;

// keyring 3 has no Android store: it would silently keep tokens in an in-memory mock. Refuse to build for
// Android until a keystore-backed store exists, unless the builder accepts memory-only sessions knowingly.
#[cfg(all(target_os = "android", not(feature = "android-memory-session")))]
compile_error!(
    "Tally has no Android-keystore secret store yet; keyring would keep tokens in memory only. \
     Implement one (see docs/MOBILE.md) or build with the `android-memory-session` feature of tally-client."
);
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;

/// What is kept per signed-in account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSession {
    pub server: String,
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub refresh_token: String,
}

pub trait SecretStore: Send + Sync {
    /// `"keychain"` or `"memory"`.
    fn kind(&self) -> &'static str;
    fn save(&self, s: &StoredSession) -> Result<(), Error>;
    fn load(&self) -> Result<Option<StoredSession>, Error>;
    fn clear(&self) -> Result<(), Error>;
    /// Another secret of the app by name (a cache key, the app lock's PIN hash).
    fn secret(&self, name: &str) -> Result<Option<String>, Error>;
    fn save_secret(&self, name: &str, value: &str) -> Result<(), Error>;
    fn delete_secret(&self, name: &str) -> Result<(), Error>;

    /// The key of one account's encrypted cache (`account` names the cache), as 64 hex digits.
    fn cache_key(&self, account: &str) -> Result<Option<String>, Error> {
        self.secret(&key_entry(account))
    }
    fn save_cache_key(&self, account: &str, hex: &str) -> Result<(), Error> {
        self.save_secret(&key_entry(account), hex)
    }
    fn delete_cache_key(&self, account: &str) -> Result<(), Error> {
        self.delete_secret(&key_entry(account))
    }
}

fn key_entry(account: &str) -> String {
    format!("cache-key:{account}")
}

/// The OS keychain through the `keyring` crate. `service` separates apps (and test identities).
pub struct KeyringStore {
    service: String,
}

const ACCOUNT: &str = "current-session";

impl KeyringStore {
    /// Returns the keychain store if a keychain service answers, or why not.
    pub fn probe(service: &str) -> Result<KeyringStore, Error> {
        // keyring 3 silently falls back to an in-memory mock when built without a platform store (for
        // example on Android): refuse that, so a memory-only store can never ship unnoticed.
        let store = KeyringStore { service: service.to_string() };
        let entry = store.entry("probe")?;
        match entry.get_password() {
            Ok(_) | Err(keyring::Error::NoEntry) => {}
            Err(e) => return Err(explain(e)),
        }
        if entry.get_credential().is::<keyring::mock::MockCredential>() {
            return Err(Error::Keychain(
                "this build has no platform keychain (keyring fell back to its mock store)".into(),
            ));
        }
        Ok(store)
    }

    fn entry(&self, account: &str) -> Result<keyring::Entry, Error> {
        keyring::Entry::new(&self.service, account).map_err(explain)
    }
}

fn explain(e: keyring::Error) -> Error {
    let s = e.to_string();
    if s.contains("org.freedesktop.secrets")
        || s.contains("ServiceUnknown")
        || s.contains("not provided by any .service")
    {
        Error::Keychain("no Secret Service is running (install and unlock gnome-keyring or KWallet); the session will not be remembered".into())
    } else if s.contains("DBUS_SESSION_BUS_ADDRESS") || s.contains("D-Bus") {
        Error::Keychain("no D-Bus session bus: the keychain is unreachable; the session will not be remembered".into())
    } else {
        Error::Keychain(format!("keychain error: {s}"))
    }
}

impl SecretStore for KeyringStore {
    fn kind(&self) -> &'static str {
        "keychain"
    }
    fn save(&self, s: &StoredSession) -> Result<(), Error> {
        let json = serde_json::to_string(s).map_err(|e| Error::Keychain(e.to_string()))?;
        self.entry(ACCOUNT)?.set_password(&json).map_err(explain)
    }
    fn load(&self) -> Result<Option<StoredSession>, Error> {
        match self.entry(ACCOUNT)?.get_password() {
            Ok(j) => Ok(serde_json::from_str(&j).ok()),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(explain(e)),
        }
    }
    fn clear(&self) -> Result<(), Error> {
        match self.entry(ACCOUNT)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(explain(e)),
        }
    }
    fn secret(&self, name: &str) -> Result<Option<String>, Error> {
        match self.entry(name)?.get_password() {
            Ok(k) => Ok(Some(k)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(explain(e)),
        }
    }
    fn save_secret(&self, name: &str, value: &str) -> Result<(), Error> {
        self.entry(name)?.set_password(value).map_err(explain)
    }
    fn delete_secret(&self, name: &str) -> Result<(), Error> {
        match self.entry(name)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(explain(e)),
        }
    }
}

/// Keeps the session for this run only. Used when no keychain exists (and in tests that say so).
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<HashMap<&'static str, StoredSession>>,
    keys: Mutex<HashMap<String, String>>,
}

impl SecretStore for MemoryStore {
    fn kind(&self) -> &'static str {
        "memory"
    }
    fn save(&self, s: &StoredSession) -> Result<(), Error> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).insert(ACCOUNT, s.clone());
        Ok(())
    }
    fn load(&self) -> Result<Option<StoredSession>, Error> {
        Ok(self.inner.lock().unwrap_or_else(|e| e.into_inner()).get(ACCOUNT).cloned())
    }
    fn clear(&self) -> Result<(), Error> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).remove(ACCOUNT);
        Ok(())
    }
    fn secret(&self, name: &str) -> Result<Option<String>, Error> {
        Ok(self.keys.lock().unwrap_or_else(|e| e.into_inner()).get(name).cloned())
    }
    fn save_secret(&self, name: &str, value: &str) -> Result<(), Error> {
        self.keys.lock().unwrap_or_else(|e| e.into_inner()).insert(name.to_string(), value.to_string());
        Ok(())
    }
    fn delete_secret(&self, name: &str) -> Result<(), Error> {
        self.keys.lock().unwrap_or_else(|e| e.into_inner()).remove(name);
        Ok(())
    }
}

/// The keychain when there is one, else memory with the reason (for the UI to show).
pub fn best_available(service: &str) -> (std::sync::Arc<dyn SecretStore>, Option<String>) {
    match KeyringStore::probe(service) {
        Ok(k) => (std::sync::Arc::new(k), None),
        Err(e) => {
            tracing::warn!(reason = %e, "no keychain: the session is kept in memory only");
            (std::sync::Arc::new(MemoryStore::default()), Some(e.to_string()))
        }
    }
}
