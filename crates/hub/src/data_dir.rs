//! The hub's data directory holds its secrets: the database (password hashes, two-factor secrets), the
//! JWT secret and the admin token. It is created 0700 (an existing one is narrowed to 0700, with a
//! warning, or the hub refuses to start when it cannot be), every file in it is created 0600 (never
//! written first and restricted after), and the hub refuses to start when one of those files can be read
//! by the group or others, saying how to fix it.
use crate::error::{HubError, HubResult};
use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

/// The files of the data directory that hold secrets (SQLite's -wal and -shm follow the database's mode).
pub const SECRET_FILES: [&str; 5] = ["hub.db", "hub.db-wal", "hub.db-shm", "jwt.secret", "admin.token"];

/// Creates the directory (0700) or checks an existing one and its secret files.
pub fn prepare(dir: &Path) -> HubResult<()> {
    if !dir.exists() {
        create_private_dir(dir)?;
    }
    if check_private(dir, "the data directory").is_err() {
        narrow_dir(dir)?;
    }
    for f in SECRET_FILES {
        let p = dir.join(f);
        if p.exists() {
            check_private(&p, "a secret file")?;
        }
    }
    Ok(())
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> HubResult<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| HubError::internal(format!("cannot create {}: {e}", dir.display())))
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> HubResult<()> {
    std::fs::create_dir_all(dir).map_err(|e| HubError::internal(format!("cannot create {}: {e}", dir.display())))
}

#[cfg(unix)]
fn narrow_dir(dir: &Path) -> HubResult<()> {
    use std::os::unix::fs::PermissionsExt;
    tracing::warn!(dir = %dir.display(), "the data directory was open to other users; narrowed to 0700");
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| HubError::internal(format!("cannot narrow {} to 0700: {e}", dir.display())))?;
    check_private(dir, "the data directory")
}

#[cfg(not(unix))]
fn narrow_dir(_dir: &Path) -> HubResult<()> {
    Ok(())
}

/// Refuses a file or directory that the group or others may read, write or enter.
#[cfg(unix)]
pub fn check_private(path: &Path, what: &str) -> HubResult<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta =
        std::fs::metadata(path).map_err(|e| HubError::internal(format!("cannot read {}: {e}", path.display())))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 == 0 {
        return Ok(());
    }
    let fix = if meta.is_dir() { "chmod 700" } else { "chmod 600" };
    Err(HubError::invalid(format!(
        "refusing to start: {what} {} is open to other users (mode {mode:o}); it holds secrets. Fix it with: {fix} '{}'",
        path.display(),
        path.display()
    )))
}

#[cfg(not(unix))]
pub fn check_private(_path: &Path, _what: &str) -> HubResult<()> {
    Ok(())
}

/// Creates `path` empty with mode 0600 if it does not exist (the database, before SQLite opens it).
pub fn touch_private(path: &Path) -> HubResult<()> {
    match private_options().open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(HubError::internal(format!("cannot create {}: {e}", path.display()))),
    }
}

fn private_options() -> OpenOptions {
    let mut o = OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o
}

/// Reads a secret file, or creates it (mode 0600 from the start) with `len` random characters.
pub fn secret_file(path: &Path, len: usize) -> HubResult<String> {
    if let Ok(s) = std::fs::read_to_string(path) {
        let s = s.trim().to_string();
        if !s.is_empty() {
            return Ok(s);
        }
        std::fs::remove_file(path)
            .map_err(|e| HubError::internal(format!("cannot replace {}: {e}", path.display())))?;
    }
    let s = crate::secrets::random_token("", len);
    let mut f = private_options()
        .open(path)
        .map_err(|e| HubError::internal(format!("cannot create {}: {e}", path.display())))?;
    f.write_all(s.as_bytes()).and_then(|_| f.sync_all()).map_err(HubError::internal)?;
    Ok(s)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_directories_and_secrets_are_private_and_open_ones_are_refused() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data");
        prepare(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        let secret = secret_file(&dir.join("jwt.secret"), 48).unwrap();
        assert_eq!(mode(&dir.join("jwt.secret")), 0o600);
        assert_eq!(secret_file(&dir.join("jwt.secret"), 48).unwrap(), secret, "read back, not replaced");
        touch_private(&dir.join("hub.db")).unwrap();
        assert_eq!(mode(&dir.join("hub.db")), 0o600);
        prepare(&dir).unwrap();

        std::fs::set_permissions(dir.join("hub.db"), std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = prepare(&dir).unwrap_err();
        assert!(e.message.contains("chmod 600") && e.message.contains("hub.db"), "{}", e.message);
        std::fs::set_permissions(dir.join("hub.db"), std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        prepare(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700, "an open directory is narrowed");
    }
}
