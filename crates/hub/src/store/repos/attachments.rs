//! Attachments: `blobs` (what a tenant stores, content-addressed), `attachments` (a file uploaded to a
//! room, its metadata as JSON) and `tenant_attachment_limits`.
use crate::error::{HubError, HubResult};
use crate::ids::TenantId;
use crate::store::repo::{AttachmentRepo, AttachmentRow};
use crate::store::sql::{args, unreadable, Db};
use tally_protocol::*;

/// Sizes are stored as SQL integers (a blob is at most the tenant's file limit, far below 2^63).
fn int(v: u64) -> HubResult<i64> {
    i64::try_from(v).map_err(|_| HubError::invalid("size out of range"))
}

fn size(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl<D: Db> AttachmentRepo for D {
    fn attachment_limits(&mut self, tenant: TenantId) -> HubResult<Option<(u64, u64)>> {
        let r = self.opt(
            "SELECT max_file_bytes, quota_bytes FROM tenant_attachment_limits WHERE tenant_id = $1",
            args![tenant],
        )?;
        r.map(|r| Ok((size(r.get(0)?), size(r.get(1)?)))).transpose()
    }

    fn set_attachment_limits(&mut self, tenant: TenantId, max_file: u64, quota: u64) -> HubResult<()> {
        self.exec(
            "INSERT INTO tenant_attachment_limits (tenant_id, max_file_bytes, quota_bytes) VALUES ($1, $2, $3)
             ON CONFLICT (tenant_id) DO UPDATE SET max_file_bytes = $2, quota_bytes = $3",
            args![tenant, int(max_file)?, int(quota)?],
        )?;
        Ok(())
    }

    fn blob_usage(&mut self, tenant: TenantId) -> HubResult<u64> {
        let used: i64 =
            self.value("SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM blobs WHERE tenant_id = $1", args![tenant])?;
        Ok(size(used))
    }

    fn blob_size(&mut self, tenant: TenantId, id: &str) -> HubResult<Option<u64>> {
        let r = self.opt("SELECT size FROM blobs WHERE tenant_id = $1 AND id = $2", args![tenant, id])?;
        r.map(|r| Ok(size(r.get(0)?))).transpose()
    }

    fn insert_blob(&mut self, tenant: TenantId, id: &str, bytes: u64, at: Millis) -> HubResult<()> {
        self.exec(
            "INSERT INTO blobs (tenant_id, id, size, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            args![tenant, id, int(bytes)?, at],
        )?;
        Ok(())
    }

    fn insert_attachment(&mut self, tenant: TenantId, room: RoomId, row: &AttachmentRow, at: Millis) -> HubResult<()> {
        let json = serde_json::to_string(&row.attachment).map_err(HubError::internal)?;
        self.exec(
            "INSERT INTO attachments (room_id, id, tenant_id, json, thumb_id, uploader, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            args![room, &row.attachment.id, tenant, &json, row.thumb.as_deref(), row.uploader, at],
        )?;
        Ok(())
    }

    fn attachment(&mut self, room: RoomId, id: &str) -> HubResult<Option<AttachmentRow>> {
        let Some(r) = self
            .opt("SELECT json, thumb_id, uploader FROM attachments WHERE room_id = $1 AND id = $2", args![room, id])?
        else {
            return Ok(None);
        };
        let json = r.text(0)?;
        let attachment = serde_json::from_str(json).map_err(|_| unreadable("attachment", json))?;
        Ok(Some(AttachmentRow { attachment, thumb: r.get(1)?, uploader: r.get(2)? }))
    }
}
