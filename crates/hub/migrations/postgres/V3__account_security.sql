-- Account security (the SQLite store's migration 5): who may sign up per tenant (closed unless an operator
-- opens it) and whether it requires two-factor; single-use invites; a row per signed-in device; TOTP
-- secrets with the last time step used (the replay guard) and hashed one-time recovery codes.
ALTER TABLE tenants ADD COLUMN registration TEXT NOT NULL DEFAULT 'closed';
ALTER TABLE tenants ADD COLUMN require_2fa BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_pending TEXT;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
CREATE TABLE invites (
  hash TEXT PRIMARY KEY, tenant_id BIGINT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL,
  used_by BIGINT, used_at BIGINT);
CREATE TABLE sessions (
  family TEXT PRIMARY KEY, tenant_id BIGINT NOT NULL, user_id BIGINT NOT NULL, device TEXT NOT NULL,
  platform TEXT NOT NULL, ip TEXT NOT NULL, created_at BIGINT NOT NULL, last_seen_at BIGINT NOT NULL);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX refresh_user ON refresh_tokens(user_id);
CREATE TABLE recovery_codes (
  user_id BIGINT NOT NULL, hash TEXT NOT NULL, used_at BIGINT, PRIMARY KEY (user_id, hash));
