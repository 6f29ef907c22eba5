-- The SQLite store's migration 12: the audit trail. Append-only; each entry carries the hash of the one
-- before it (`audit_head` holds the last seq and hash, one row, locked by each append), so an edit or a
-- removal breaks the chain.
CREATE TABLE audit_log (
  seq BIGINT PRIMARY KEY, at BIGINT NOT NULL, tenant_id BIGINT, actor TEXT NOT NULL, action TEXT NOT NULL,
  subject TEXT NOT NULL, detail TEXT NOT NULL, ip TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE INDEX audit_tenant ON audit_log(tenant_id, seq);
CREATE TABLE audit_head (one INTEGER PRIMARY KEY CHECK (one = 1), seq BIGINT NOT NULL, hash TEXT NOT NULL);
INSERT INTO audit_head (one, seq, hash) VALUES (1, 0, '');
