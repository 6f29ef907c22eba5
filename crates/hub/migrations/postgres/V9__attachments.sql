-- The SQLite store's migration 11: attachments (content-addressed blobs per tenant, files uploaded to a
-- room, a message's attachment) and a tenant's own attachment limits.
ALTER TABLE messages ADD COLUMN attachment TEXT;
CREATE TABLE blobs (
  tenant_id BIGINT NOT NULL, id TEXT NOT NULL, size BIGINT NOT NULL, created_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id));
CREATE TABLE attachments (
  room_id BIGINT NOT NULL, id TEXT NOT NULL, tenant_id BIGINT NOT NULL, json TEXT NOT NULL, thumb_id TEXT,
  uploader BIGINT NOT NULL, created_at BIGINT NOT NULL, PRIMARY KEY (room_id, id));
CREATE TABLE tenant_attachment_limits (
  tenant_id BIGINT PRIMARY KEY, max_file_bytes BIGINT NOT NULL, quota_bytes BIGINT NOT NULL);
