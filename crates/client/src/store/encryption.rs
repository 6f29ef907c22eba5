//! The cache at rest: SQLCipher (AES-256, HMAC-SHA512 per page) keyed with a random 256-bit raw key that
//! lives in the OS keychain beside the session. A raw key (`x'…'`) skips SQLCipher's PBKDF2, so opening
//! costs nothing extra. A plain cache written by an earlier version is encrypted in place on first open.
use crate::Error;
use rand::RngCore;
use rusqlite::Connection;
use std::path::{Path, PathBuf};

/// A cache's key: 32 random bytes, kept as 64 hex digits in the keychain.
#[derive(Clone, PartialEq, Eq)]
pub struct CacheKey(String);

impl std::fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CacheKey(…)")
    }
}

impl CacheKey {
    pub fn generate() -> CacheKey {
        let mut raw = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut raw);
        CacheKey(raw.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// From the keychain's text; anything but 64 hex digits is refused.
    pub fn from_hex(hex: &str) -> Result<CacheKey, Error> {
        let hex = hex.trim();
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::Keychain("the cache key in the keychain is malformed".into()));
        }
        Ok(CacheKey(hex.to_ascii_lowercase()))
    }

    pub fn hex(&self) -> &str {
        &self.0
    }

    fn sql_literal(&self) -> String {
        format!("\"x'{}'\"", self.0)
    }
}

/// Keys a fresh connection; must come before anything else touches the file.
pub fn apply_key(conn: &Connection, key: &CacheKey) -> Result<(), Error> {
    conn.execute_batch(&format!("PRAGMA key = {};", key.sql_literal()))?;
    Ok(())
}

/// Whether the connection can read its file (right key, or plain and unkeyed).
pub fn readable(conn: &Connection) -> bool {
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)).is_ok()
}

/// What opening a keyed cache found.
pub enum Found {
    /// Encrypted with this key (or new).
    Encrypted,
    /// A plain cache of an earlier version: now encrypted in place.
    Migrated,
    /// Neither: encrypted with a key this device no longer has.
    Unreadable,
}

/// Makes sure the file at `path` is (or becomes) encrypted with `key`.
pub fn ensure_encrypted(path: &Path, key: &CacheKey) -> Result<Found, Error> {
    if !path.exists() {
        return Ok(Found::Encrypted);
    }
    let keyed = Connection::open(path)?;
    apply_key(&keyed, key)?;
    if readable(&keyed) {
        return Ok(Found::Encrypted);
    }
    drop(keyed);
    let plain = Connection::open(path)?;
    if !readable(&plain) {
        return Ok(Found::Unreadable);
    }
    encrypt_plain(plain, path, key)?;
    Ok(Found::Migrated)
}

/// `sqlcipher_export` into a keyed copy beside the file, then the copy replaces it.
fn encrypt_plain(plain: Connection, path: &Path, key: &CacheKey) -> Result<(), Error> {
    let tmp = sibling(path, "encrypting");
    let _ = std::fs::remove_file(&tmp);
    let version: i64 = plain.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let target = tmp.to_string_lossy().replace('\'', "''");
    plain.execute_batch(&format!("ATTACH DATABASE '{target}' AS encrypted KEY {};", key.sql_literal()))?;
    plain.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
    plain.execute_batch(&format!("PRAGMA encrypted.user_version = {version}; DETACH DATABASE encrypted;"))?;
    drop(plain);
    for side in ["wal", "shm"] {
        let _ = std::fs::remove_file(sibling(path, side));
    }
    std::fs::rename(&tmp, path).map_err(|e| Error::Storage(format!("could not replace the plain cache: {e}")))?;
    tracing::info!("the offline cache was encrypted");
    Ok(())
}

/// `cache.db` → `cache.db-<suffix>` (where SQLite keeps `-wal` and `-shm`).
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!("-{suffix}"));
    PathBuf::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn holds(path: &Path, needle: &[u8]) -> bool {
        [path.to_path_buf(), sibling(path, "wal")]
            .iter()
            .filter_map(|p| std::fs::read(p).ok())
            .any(|b| b.windows(needle.len()).any(|w| w == needle))
    }

    #[test]
    fn a_plain_cache_of_an_earlier_version_is_encrypted_in_place_and_other_keys_cannot_read_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.db");
        {
            let plain = Store::open(&path, 7).unwrap();
            plain.set_meta("memo", "zanzibar quartz 7731").unwrap();
        }
        assert!(holds(&path, b"zanzibar quartz"), "the old cache is readable by anyone");
        let key = CacheKey::generate();
        {
            let s = Store::open_encrypted(&path, 7, &key).unwrap();
            assert_eq!(s.meta("memo").unwrap().as_deref(), Some("zanzibar quartz 7731"), "nothing lost");
            s.set_meta("more", "kettle lantern 5512").unwrap();
        }
        assert!(!holds(&path, b"zanzibar"), "encrypted at rest");
        assert!(!holds(&path, b"kettle lantern"), "new writes too");
        let again = Store::open_encrypted(&path, 7, &key).unwrap();
        assert_eq!(again.meta("more").unwrap().as_deref(), Some("kettle lantern 5512"));
        drop(again);
        let e = Store::open_encrypted(&path, 7, &CacheKey::generate()).map(|_| ()).unwrap_err();
        assert_eq!(e.to_string(), format!("local storage: {}", crate::store::UNREADABLE));
        assert!(CacheKey::from_hex("not hex").is_err());
        assert!(CacheKey::from_hex(key.hex()).is_ok());
    }
}
