-- The SQLite store's migration 14: a user's KYC level, and a tenant's own transfer limits per level.
ALTER TABLE users ADD COLUMN kyc_level TEXT NOT NULL DEFAULT 'none';
CREATE TABLE tenant_kyc_limits (
  tenant_id BIGINT NOT NULL, level TEXT NOT NULL, limit_single BIGINT NOT NULL, limit_daily BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, level));
