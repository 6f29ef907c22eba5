//! Where attachment bytes live. The hub asks a [`BlobStore`] for whole blobs by content address (the
//! SHA-256 of the bytes) within a tenant; what a tenant may read, and how much it stores, is the
//! database's business (`attachments`, `blobs`), not the store's.
//!
//! [`DirBlobStore`] keeps them as files under one directory: the single hub's data directory, or a
//! directory every hub of a cluster mounts (docs/SCALING.md). Another backend (S3-compatible storage,
//! PostgreSQL large objects) implements the same three methods.
use crate::ids::TenantId;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// A blob's address: its tenant and the hex SHA-256 of its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobKey {
    pub tenant: TenantId,
    id: String,
}

impl BlobKey {
    /// `None` unless `id` is 64 lower-case hex digits (anything else could name a path).
    pub fn new(tenant: TenantId, id: &str) -> Option<BlobKey> {
        let hex = id.len() == 64 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        hex.then(|| BlobKey { tenant, id: id.to_string() })
    }
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// A blob's bytes, in chunks.
pub type BlobStream = BoxStream<'static, io::Result<Bytes>>;

pub trait BlobStore: Send + Sync {
    /// Stores the file at `staged` (made in [`BlobStore::staging_dir`]) as `key`, consuming it. Storing a
    /// key again is harmless: the bytes are the same.
    fn put<'a>(&'a self, key: &'a BlobKey, staged: &'a Path) -> BoxFuture<'a, io::Result<()>>;
    /// `range` of the blob's bytes (the caller knows its size), or `None` when there is no such blob.
    fn read<'a>(&'a self, key: &'a BlobKey, range: Range<u64>) -> BoxFuture<'a, io::Result<Option<BlobStream>>>;
    /// Where an upload is written while it arrives.
    fn staging_dir(&self) -> &Path;
}

/// Blobs as files: `ROOT/<tenant>/<first two hex digits>/<sha256>`, private to the hub's user.
pub struct DirBlobStore {
    root: PathBuf,
    staging: PathBuf,
}

/// How much of a blob is read at a time when it is served.
const CHUNK: usize = 64 * 1024;

impl DirBlobStore {
    pub fn open(root: &Path) -> io::Result<DirBlobStore> {
        let staging = root.join("staging");
        private_dirs(&staging)?;
        Ok(DirBlobStore { root: root.to_path_buf(), staging })
    }

    fn path(&self, key: &BlobKey) -> PathBuf {
        self.root.join(key.tenant.0.to_string()).join(&key.id[..2]).join(&key.id)
    }
}

#[cfg(unix)]
fn private_dirs(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

#[cfg(not(unix))]
fn private_dirs(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)
}

impl BlobStore for DirBlobStore {
    fn put<'a>(&'a self, key: &'a BlobKey, staged: &'a Path) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async move {
            let path = self.path(key);
            let parent = path.parent().ok_or_else(|| io::Error::other("blob path has no parent"))?.to_path_buf();
            tokio::task::spawn_blocking(move || private_dirs(&parent)).await.map_err(io::Error::other)??;
            // Same file system (the staging directory is inside the root): a rename, atomic for readers.
            tokio::fs::rename(staged, &path).await
        })
    }

    fn read<'a>(&'a self, key: &'a BlobKey, range: Range<u64>) -> BoxFuture<'a, io::Result<Option<BlobStream>>> {
        Box::pin(async move {
            let mut file = match tokio::fs::File::open(self.path(key)).await {
                Ok(f) => f,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(e),
            };
            file.seek(io::SeekFrom::Start(range.start)).await?;
            let left = range.end.saturating_sub(range.start);
            let stream =
                futures_util::stream::try_unfold((file.take(left), vec![0u8; CHUNK]), |(mut f, mut buf)| async {
                    let n = f.read(&mut buf).await?;
                    Ok::<_, io::Error>((n > 0).then(|| (Bytes::copy_from_slice(&buf[..n]), (f, buf))))
                });
            Ok(Some(Box::pin(stream) as BlobStream))
        })
    }

    fn staging_dir(&self) -> &Path {
        &self.staging
    }
}
