//! Which key opens an account's cache: the one in the keychain, or a new one for a new (or plain) cache.
//! A cache the keychain's key cannot open (the keychain was reset, or the session lived in memory only)
//! holds nothing this device can read: it is deleted and the account syncs afresh.
use crate::secrets::SecretStore;
use crate::store::encryption::CacheKey;
use crate::store::{Store, UNREADABLE};
use crate::Error;
use std::path::Path;

/// The keychain name of an account's cache key (the cache's directory name: server and user).
pub fn cache_account(db_dir: &Path) -> String {
    db_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn key_for(secrets: &dyn SecretStore, account: &str) -> Result<CacheKey, Error> {
    if let Some(hex) = secrets.cache_key(account)? {
        return CacheKey::from_hex(&hex);
    }
    let key = CacheKey::generate();
    secrets.save_cache_key(account, key.hex())?;
    Ok(key)
}

pub fn open_cache(secrets: &dyn SecretStore, db_dir: &Path, me: i64) -> Result<Store, Error> {
    let key = key_for(secrets, &cache_account(db_dir))?;
    let path = db_dir.join("cache.db");
    match Store::open_encrypted(&path, me, &key) {
        Err(Error::Storage(m)) if m == UNREADABLE => {
            tracing::warn!("the offline cache cannot be read with this device's key; starting it afresh");
            std::fs::remove_dir_all(db_dir).map_err(|e| Error::Storage(format!("could not reset the cache: {e}")))?;
            Store::open_encrypted(&path, me, &key)
        }
        other => other,
    }
}
