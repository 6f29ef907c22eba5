//! Attachments: files and pictures sent in a room. The bytes live in a [`BlobStore`] under their SHA-256
//! (the same file sent twice is stored once per tenant); the database says which room may read which
//! file (`attachments`) and how much each tenant stores (`blobs`, against its quota). Only a member of
//! the room reads a file, and only after the caller is known to be one is an upload read at all.
//!
//! `blob_store` (where bytes live), `media` (pictures: metadata out, thumbnail, preview), `upload`
//! (receiving a file: limits, type by content, hashing), this module (the rules, in a transaction).
mod blob_store;
pub mod media;
mod upload;

pub use blob_store::{BlobKey, BlobStore, BlobStream, DirBlobStore};
pub use upload::{receive, Received};

use crate::chat::require_member;
use crate::error::{HubError, HubResult};
use crate::ids::TenantId;
use crate::store::repo::AttachmentRow;
use crate::store::{now_ms, Tx};
use tally_protocol::{ErrorCode, RoomId, UserId};

/// What a tenant may send and keep, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_file: u64,
    pub quota: u64,
}

/// The largest per-file limit an operator may set for a tenant.
pub const MAX_FILE_LIMIT: u64 = 1024 * 1024 * 1024;

/// The hub's attachment service: where blobs live, and a gate on picture processing (decoding a large
/// picture takes memory and a core; at most this many at once).
pub struct Attachments {
    pub blobs: Box<dyn BlobStore>,
    pub pictures: tokio::sync::Semaphore,
    pub defaults: Limits,
}

impl Attachments {
    pub fn new(blobs: Box<dyn BlobStore>, defaults: Limits) -> Attachments {
        Attachments { blobs, pictures: tokio::sync::Semaphore::new(2), defaults }
    }
}

/// The tenant's limits: its own, or the hub's defaults.
pub fn limits(tx: &mut dyn Tx, tenant: TenantId, defaults: Limits) -> HubResult<Limits> {
    Ok(tx.attachment_limits(tenant)?.map_or(defaults, |(max_file, quota)| Limits { max_file, quota }))
}

/// Before an upload is read: the caller is a member of the room, and what they say they send fits.
pub fn may_upload(
    tx: &mut dyn Tx,
    tenant: TenantId,
    room: RoomId,
    user: UserId,
    declared: Option<u64>,
    defaults: Limits,
) -> HubResult<Limits> {
    require_member(tx, tenant, room, user)?;
    let l = limits(tx, tenant, defaults)?;
    if declared.is_some_and(|n| n > l.max_file) {
        return Err(too_large(l.max_file));
    }
    // Whether the file fits is known only once it is hashed (the same file again stores nothing); a
    // tenant already at its quota is refused at once.
    if tx.blob_usage(tenant)? >= l.quota {
        return Err(quota_exceeded());
    }
    Ok(l)
}

pub fn too_large(max: u64) -> HubError {
    HubError::new(ErrorCode::TooLarge, format!("files can be at most {} MiB here", max / (1024 * 1024)))
}

fn quota_exceeded() -> HubError {
    HubError::new(ErrorCode::QuotaExceeded, "this workspace has no room for more files; ask its operator")
}

/// Records a file uploaded to a room and the blobs it stores (`(id, size)`: the file, its thumbnail),
/// refusing what would take the tenant over its quota. The same file again is accepted and stores nothing.
pub fn record(
    tx: &mut dyn Tx,
    tenant: TenantId,
    room: RoomId,
    row: &AttachmentRow,
    blobs: &[(String, u64)],
    defaults: Limits,
) -> HubResult<()> {
    require_member(tx, tenant, room, row.uploader)?;
    let l = limits(tx, tenant, defaults)?;
    let mut new_bytes = 0u64;
    for (id, size) in blobs {
        if tx.blob_size(tenant, id)?.is_none() {
            new_bytes = new_bytes.saturating_add(*size);
        }
    }
    if new_bytes > 0 && tx.blob_usage(tenant)?.saturating_add(new_bytes) > l.quota {
        return Err(quota_exceeded());
    }
    let at = now_ms();
    for (id, size) in blobs {
        tx.insert_blob(tenant, id, *size, at)?;
    }
    tx.insert_attachment(tenant, room, row, at)
}

/// A file of the room, for one of its members (403 for anyone else, before anything is read).
pub fn readable(tx: &mut dyn Tx, tenant: TenantId, room: RoomId, user: UserId, id: &str) -> HubResult<AttachmentRow> {
    require_member(tx, tenant, room, user)?;
    tx.attachment(room, id)?.ok_or_else(|| HubError::not_found("attachment"))
}

/// The size of a blob the tenant stores.
pub fn blob_size(tx: &mut dyn Tx, tenant: TenantId, id: &str) -> HubResult<u64> {
    tx.blob_size(tenant, id)?.ok_or_else(|| HubError::not_found("attachment"))
}
