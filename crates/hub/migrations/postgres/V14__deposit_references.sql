-- The SQLite store's migration 16: each user's deposit reference and the tenant's deposit instructions.
ALTER TABLE users ADD COLUMN deposit_ref TEXT;
CREATE UNIQUE INDEX users_deposit_ref ON users(tenant_id, deposit_ref);
ALTER TABLE tenants ADD COLUMN deposit_instructions TEXT NOT NULL DEFAULT '';
