//! Receiving a file: written to a staging file as it arrives, hashed on the way, stopped at the tenant's
//! limit, and refused as soon as its first bytes show a type that is not allowed. A picture is then
//! stripped of its metadata and given a thumbnail (`media`) before anything is stored.
use super::media;
use super::{too_large, Attachments};
use crate::error::{HubError, HubResult};
use crate::store::repo::AttachmentRow;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use std::path::Path;
use tally_protocol::attachment::{sniff, FileType, SNIFF_BYTES};
use tally_protocol::{Attachment, AttachmentKind, ErrorCode, UserId};
use tempfile::TempPath;
use tokio::io::AsyncWriteExt;

/// One staged blob: its file (removed unless stored), SHA-256 and size.
pub struct Staged {
    pub file: TempPath,
    pub id: String,
    pub size: u64,
}

/// A file received and ready to be recorded and stored.
pub struct Received {
    pub row: AttachmentRow,
    pub main: Staged,
    pub thumb: Option<Staged>,
}

impl Received {
    /// `(id, size)` of every blob it stores.
    pub fn blobs(&self) -> Vec<(String, u64)> {
        std::iter::once(&self.main).chain(&self.thumb).map(|s| (s.id.clone(), s.size)).collect()
    }
}

fn unsupported(e: impl std::fmt::Display) -> HubError {
    HubError::new(ErrorCode::UnsupportedType, e.to_string())
}

fn io(e: std::io::Error) -> HubError {
    HubError::internal(format!("staging an upload: {e}"))
}

/// Reads the upload `body` of at most `max` bytes named `name` by `uploader`, and prepares it.
pub async fn receive<S, E>(svc: &Attachments, body: S, max: u64, name: &str, uploader: UserId) -> HubResult<Received>
where
    S: Stream<Item = Result<bytes::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let (main, kind) = stage(svc.blobs.staging_dir(), body, max).await?;
    let mut attachment = Attachment::of(main.id.clone(), name, main.size, kind);
    if kind.kind != AttachmentKind::Image {
        return Ok(Received { row: AttachmentRow { attachment, thumb: None, uploader }, main, thumb: None });
    }
    let _permit = svc.pictures.acquire().await.map_err(HubError::internal)?;
    let staging = svc.blobs.staging_dir().to_path_buf();
    let (mime, path) = (kind.mime, main.file.to_path_buf());
    let (pic, main, thumb) = tokio::task::spawn_blocking(move || -> HubResult<_> {
        let original = std::fs::read(&path).map_err(io)?;
        let pic = media::picture(original, mime).map_err(unsupported)?;
        Ok((staged_bytes(&staging, &pic.bytes)?, staged_bytes(&staging, &pic.thumbnail)?, pic))
    })
    .await
    .map_err(HubError::internal)?
    .map(|(m, t, p)| (p, m, t))?;
    attachment.id = main.id.clone();
    attachment.size = main.size;
    (attachment.width, attachment.height) = (Some(pic.width), Some(pic.height));
    attachment.preview = Some(pic.preview);
    attachment.thumbnail = true;
    let row = AttachmentRow { attachment, thumb: Some(thumb.id.clone()), uploader };
    Ok(Received { row, main, thumb: Some(thumb) })
}

/// Writes the body to a staging file: stops past `max`, refuses a type off the allow-list from its first
/// bytes (without reading the rest).
async fn stage<S, E>(dir: &Path, mut body: S, max: u64) -> HubResult<(Staged, FileType)>
where
    S: Stream<Item = Result<bytes::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let (file, path) = tempfile::NamedTempFile::new_in(dir).map_err(io)?.into_parts();
    let mut out = tokio::fs::File::from_std(file);
    let (mut hash, mut size, mut head, mut kind) = (Sha256::new(), 0u64, Vec::new(), None);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| HubError::invalid(format!("the upload broke off: {e}")))?;
        size = size.saturating_add(chunk.len() as u64);
        if size > max {
            return Err(too_large(max));
        }
        if kind.is_none() {
            head.extend_from_slice(&chunk[..chunk.len().min(SNIFF_BYTES - head.len())]);
            if head.len() >= SNIFF_BYTES {
                kind = Some(sniff(&head).map_err(unsupported)?);
            }
        }
        hash.update(&chunk);
        out.write_all(&chunk).await.map_err(io)?;
    }
    let kind = match kind {
        Some(k) => k,
        None => sniff(&head).map_err(unsupported)?,
    };
    out.flush().await.map_err(io)?;
    Ok((Staged { file: path, id: hex::encode(hash.finalize()), size }, kind))
}

/// Bytes made on the hub (a stripped picture, a thumbnail), staged like an upload.
fn staged_bytes(dir: &Path, bytes: &[u8]) -> HubResult<Staged> {
    let mut f = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    std::io::Write::write_all(&mut f, bytes).map_err(io)?;
    Ok(Staged { file: f.into_temp_path(), id: hex::encode(Sha256::digest(bytes)), size: bytes.len() as u64 })
}
