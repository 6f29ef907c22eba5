-- Leases: background duties (retention, adopting stalled transfers) that one hub of the cluster does at a
-- time. A hub holds a lease until `until` and renews it while alive; when it dies the lease runs out and
-- another hub takes it.
CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, until BIGINT NOT NULL);
