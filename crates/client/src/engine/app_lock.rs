//! The optional app lock: after the app has been out of sight for the chosen number of minutes (and at
//! every start), it asks for the user's PIN before it shows anything. The PIN is kept only as an argon2
//! hash in the OS keychain; while locked every read the UI makes is refused (`locked`). Ten wrong PINs in a
//! row sign the account out and delete its cache, as a phone's "erase after ten attempts" does.
use super::Engine;
use crate::view::{AppLockState, Change};
use crate::Error;
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use std::time::{Duration, Instant};

const ENTRY: &str = "app-lock";
pub const MAX_ATTEMPTS: u32 = 10;

/// The commands the lock screen (and the sign-in screen it can lead to) needs. Every other command the UI
/// can call is refused while the app is locked, by one gate in front of all of them (`Engine::gate`).
/// None of these reads the account's data: the lock's own state, the PIN, who is signed in (name only),
/// the connection's state, which view is in front, signing in again or out.
pub const OPEN_WHILE_LOCKED: &[&str] = &[
    "app_lock_state",
    "unlock",
    "lock_now",
    "session",
    "sign_in",
    "sign_out",
    "demo_info",
    "registration_info",
    "conn_state",
    "set_focused_view",
    "set_locale",
];

#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    hash: String,
    after_minutes: u32,
    /// Wrong PINs in a row, kept so that quitting the app does not reset the count.
    #[serde(default)]
    failures: u32,
}

/// What the engine remembers between calls.
#[derive(Default)]
pub struct LockRuntime {
    locked: bool,
    hidden_since: Option<Instant>,
    failures: u32,
    /// Read from the keychain once; None until then.
    settings: Option<Option<(String, u32)>>,
}

fn check_pin(pin: &str) -> Result<(), Error> {
    if !(4..=12).contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::InvalidInput("the PIN is 4 to 12 digits".into()));
    }
    Ok(())
}

fn hash(pin: &str) -> Result<String, Error> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Keychain(e.to_string()))
}

fn verify(pin: &str, hash: &str) -> bool {
    PasswordHash::new(hash).map(|h| Argon2::default().verify_password(pin.as_bytes(), &h).is_ok()).unwrap_or(false)
}

impl LockRuntime {
    /// The lock is on and the app is locked, or has been out of sight long enough to lock when it comes
    /// back: what the app would hide must not show in a notification either. (Not known until the lock
    /// was first read from the keychain, which every start does before the UI reads anything.)
    pub fn hides_content(&self) -> bool {
        let Some(Some((_, minutes))) = &self.settings else { return false };
        let away = self.hidden_since.map(|t| t.elapsed()).unwrap_or_default();
        self.locked || (self.hidden_since.is_some() && away >= Duration::from_secs(*minutes as u64 * 60))
    }
}

impl Engine {
    fn lock_rt(&self) -> std::sync::MutexGuard<'_, LockRuntime> {
        self.lock.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The PIN hash and the minutes, from the keychain (cached).
    fn lock_settings(&self) -> Option<(String, u32)> {
        self.load_lock();
        self.lock_rt().settings.clone().flatten()
    }

    /// Reads the lock from the keychain the first time it is asked about.
    fn load_lock(&self) {
        if self.lock_rt().settings.is_some() {
            return;
        }
        let read = self.secrets.secret(ENTRY).ok().flatten().and_then(|j| serde_json::from_str::<Stored>(&j).ok());
        let failures = read.as_ref().map_or(0, |st| st.failures);
        let s = read.map(|st| (st.hash, st.after_minutes));
        let mut rt = self.lock_rt();
        rt.failures = failures;
        // A lock that is on starts locked.
        rt.locked = s.is_some();
        rt.settings = Some(s);
    }

    pub fn app_lock_state(&self) -> AppLockState {
        let s = self.lock_settings();
        let rt = self.lock_rt();
        AppLockState {
            enabled: s.is_some(),
            locked: rt.locked,
            after_minutes: s.map(|x| x.1).unwrap_or(5),
            attempts_left: MAX_ATTEMPTS - rt.failures.min(MAX_ATTEMPTS),
        }
    }

    /// Turns the lock on (or changes its PIN or minutes) with `pin`, or off with None. When a lock is on,
    /// `current` must be its PIN.
    pub async fn set_app_lock(
        &self,
        pin: Option<String>,
        after_minutes: u32,
        current: Option<String>,
    ) -> Result<(), Error> {
        if let Some((h, _)) = self.lock_settings() {
            let cur = current.unwrap_or_default();
            if !tokio::task::spawn_blocking(move || verify(&cur, &h)).await.unwrap_or(false) {
                return Err(Error::InvalidInput("the current PIN is wrong".into()));
            }
        }
        let Some(pin) = pin else {
            self.secrets.delete_secret(ENTRY)?;
            *self.lock_rt() = LockRuntime { settings: Some(None), ..Default::default() };
            return Ok(());
        };
        check_pin(&pin)?;
        if !(1..=240).contains(&after_minutes) {
            return Err(Error::InvalidInput("lock after 1 to 240 minutes".into()));
        }
        let h = tokio::task::spawn_blocking(move || hash(&pin)).await.map_err(|e| Error::Keychain(e.to_string()))??;
        self.save_lock(&h, after_minutes, 0)?;
        let mut rt = self.lock_rt();
        rt.settings = Some(Some((h, after_minutes)));
        rt.failures = 0;
        Ok(())
    }

    fn save_lock(&self, hash: &str, after_minutes: u32, failures: u32) -> Result<(), Error> {
        let json =
            serde_json::to_string(&Stored { hash: hash.to_string(), after_minutes, failures }).unwrap_or_default();
        self.secrets.save_secret(ENTRY, &json)
    }

    /// Signing in with the password is at least as strong as the PIN: the app opens.
    pub(super) fn unlocked_by_sign_in(&self) {
        let Some((h, minutes)) = self.lock_settings() else { return };
        let mut rt = self.lock_rt();
        (rt.locked, rt.failures) = (false, 0);
        drop(rt);
        let _ = self.save_lock(&h, minutes, 0);
        self.changed(vec![Change::Lock]);
    }

    /// Unlocks with the PIN. Each attempt is counted (and kept in the keychain) before the PIN is checked,
    /// so PINs tried at once cannot get past the count; the tenth wrong PIN in a row signs out and deletes
    /// the cache.
    pub async fn unlock(&self, pin: String) -> Result<(), Error> {
        let Some((h, minutes)) = self.lock_settings() else { return Ok(()) };
        let failures = {
            let mut rt = self.lock_rt();
            if rt.failures >= MAX_ATTEMPTS {
                return Err(Error::Locked("too many wrong PINs".into()));
            }
            rt.failures += 1;
            rt.failures
        };
        self.save_lock(&h, minutes, failures)?;
        let h2 = h.clone();
        if tokio::task::spawn_blocking(move || verify(&pin, &h2)).await.unwrap_or(false) {
            let mut rt = self.lock_rt();
            (rt.locked, rt.failures) = (false, 0);
            drop(rt);
            self.save_lock(&h, minutes, 0)?;
            self.changed(vec![Change::Lock]);
            return Ok(());
        }
        if failures >= MAX_ATTEMPTS {
            self.sign_out(true).await?;
            let mut rt = self.lock_rt();
            (rt.locked, rt.failures) = (false, 0);
            drop(rt);
            self.save_lock(&h, minutes, 0)?;
            return Err(Error::Auth("ten wrong PINs: you were signed out and this device's data was deleted".into()));
        }
        Err(Error::Locked(format!(
            "wrong PIN; {} attempts left before this device's data is deleted",
            MAX_ATTEMPTS - failures
        )))
    }

    /// The one gate in front of every command the UI calls: refused (`locked`) while the app is locked,
    /// unless the lock screen needs it (`OPEN_WHILE_LOCKED`).
    pub fn gate(&self, command: &str) -> Result<(), Error> {
        if OPEN_WHILE_LOCKED.contains(&command) {
            return Ok(());
        }
        self.check_unlocked()
    }

    pub fn lock_now(&self) {
        if self.lock_settings().is_some() {
            self.lock_rt().locked = true;
            self.changed(vec![Change::Lock]);
        }
    }

    /// Called when the window goes out of sight or comes back.
    pub(super) fn lock_on_return(&self, background: bool) {
        let Some((_, minutes)) = self.lock_settings() else { return };
        let mut rt = self.lock_rt();
        if background {
            rt.hidden_since.get_or_insert_with(Instant::now);
            return;
        }
        let away = rt.hidden_since.take().map(|t| t.elapsed()).unwrap_or_default();
        if away >= Duration::from_secs(minutes as u64 * 60) && !rt.locked {
            rt.locked = true;
            drop(rt);
            self.changed(vec![Change::Lock]);
        }
    }

    /// Refuses the UI's reads while locked (only a lock that is on ever locks). On every read: no copy of
    /// the settings.
    pub(super) fn check_unlocked(&self) -> Result<(), Error> {
        self.load_lock();
        if self.lock_rt().locked {
            return Err(Error::Locked("Tally is locked: enter your PIN".into()));
        }
        Ok(())
    }
}
