-- The SQLite store's migration 17: a tenant's review rules and the transfers they held.
CREATE TABLE compliance_rules (
  tenant_id BIGINT PRIMARY KEY, single_over BIGINT, hourly_count_over BIGINT, hourly_amount_over BIGINT,
  new_payee_over BIGINT);
CREATE TABLE transfer_reviews (
  transfer_id BIGINT PRIMARY KEY, tenant_id BIGINT NOT NULL, reason TEXT NOT NULL, created_at BIGINT NOT NULL,
  outcome TEXT, decided_at BIGINT);
CREATE INDEX reviews_open ON transfer_reviews(tenant_id, transfer_id) WHERE outcome IS NULL;
CREATE INDEX transfers_pair ON transfers(from_user, to_user);
