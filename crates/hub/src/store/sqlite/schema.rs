//! The SQLite schema, as numbered migrations (rusqlite_migration keeps the count in `user_version`).
/// The schema this hub writes: the number of migrations below.
pub const SCHEMA_VERSION: i64 = 20;

/// Migration 1: the schema of the first release (kept verbatim so its databases migrate; public so a test
/// can build a database exactly as that release left it).
pub const SCHEMA_V1: &str = r#"
CREATE TABLE IF NOT EXISTS tenants (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS users (
  id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL REFERENCES tenants(id), username TEXT NOT NULL,
  display_name TEXT NOT NULL, password_hash TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1,
  limit_single INTEGER NOT NULL, limit_daily INTEGER NOT NULL, created_at INTEGER NOT NULL,
  UNIQUE (tenant_id, username));
CREATE TABLE IF NOT EXISTS refresh_tokens (
  hash TEXT PRIMARY KEY, family TEXT NOT NULL, user_id INTEGER NOT NULL, tenant_id INTEGER NOT NULL,
  expires_at INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS refresh_family ON refresh_tokens(family);
CREATE TABLE IF NOT EXISTS revoked_sessions (family TEXT PRIMARY KEY, revoked_at INTEGER NOT NULL);

CREATE TABLE IF NOT EXISTS channels (
  tenant_id INTEGER NOT NULL, channel TEXT NOT NULL, epoch TEXT NOT NULL, head INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, channel)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
  tenant_id INTEGER NOT NULL, channel TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL,
  json TEXT NOT NULL, PRIMARY KEY (tenant_id, channel, seq)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_ts ON events(ts);

CREATE TABLE IF NOT EXISTS accounts (
  user_id INTEGER NOT NULL, currency TEXT NOT NULL, tenant_id INTEGER NOT NULL,
  available INTEGER NOT NULL DEFAULT 0 CHECK (available >= 0), pending INTEGER NOT NULL DEFAULT 0 CHECK (pending >= 0),
  updated_at INTEGER NOT NULL, PRIMARY KEY (user_id, currency));
-- Double entry: every movement is a set of postings summing to zero per currency.
-- account_user 0 is the tenant's external (outside world) account: deposits and withdrawals.
CREATE TABLE IF NOT EXISTS postings (
  id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL, entry TEXT NOT NULL, account_user INTEGER NOT NULL,
  currency TEXT NOT NULL, amount INTEGER NOT NULL, created_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS postings_entry ON postings(entry);
CREATE TABLE IF NOT EXISTS transfers (
  id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL, from_user INTEGER NOT NULL, to_user INTEGER NOT NULL,
  amount INTEGER NOT NULL CHECK (amount > 0), currency TEXT NOT NULL, memo TEXT NOT NULL, status TEXT NOT NULL,
  progress INTEGER NOT NULL, failure TEXT, idem_key TEXT NOT NULL, body_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, UNIQUE (from_user, idem_key));
CREATE INDEX IF NOT EXISTS transfers_open ON transfers(status) WHERE status IN ('pending','processing');
CREATE INDEX IF NOT EXISTS transfers_daily ON transfers(from_user, created_at);
CREATE TABLE IF NOT EXISTS transactions (
  id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL, user_id INTEGER NOT NULL, kind TEXT NOT NULL,
  direction TEXT NOT NULL, amount INTEGER NOT NULL, currency TEXT NOT NULL, balance_after INTEGER NOT NULL,
  counterparty INTEGER, memo TEXT NOT NULL, transfer_id INTEGER, status TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS transactions_user ON transactions(user_id, id);
CREATE INDEX IF NOT EXISTS transactions_transfer ON transactions(transfer_id);

CREATE TABLE IF NOT EXISTS rooms (
  id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
  direct_key TEXT UNIQUE, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS room_members (
  room_id INTEGER NOT NULL, user_id INTEGER NOT NULL, read_up_to INTEGER NOT NULL DEFAULT 0,
  joined_at INTEGER NOT NULL, PRIMARY KEY (room_id, user_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS room_members_user ON room_members(user_id);
CREATE TABLE IF NOT EXISTS messages (
  id INTEGER PRIMARY KEY, room_id INTEGER NOT NULL, seq INTEGER NOT NULL, client_msg_id TEXT NOT NULL,
  sender INTEGER NOT NULL, text TEXT NOT NULL, mentions TEXT NOT NULL, sent_at INTEGER NOT NULL,
  edited_at INTEGER, deleted INTEGER NOT NULL DEFAULT 0, UNIQUE (room_id, sender, client_msg_id));
CREATE INDEX IF NOT EXISTS messages_room_seq ON messages(room_id, seq);
CREATE TABLE IF NOT EXISTS reactions (
  message_id INTEGER NOT NULL, user_id INTEGER NOT NULL, emoji TEXT NOT NULL, created_at INTEGER NOT NULL,
  PRIMARY KEY (message_id, emoji, user_id)) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS notifications (
  id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL, user_id INTEGER NOT NULL, kind TEXT NOT NULL,
  priority TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, target TEXT, read INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS notifications_user ON notifications(user_id, id);
"#;

/// Migration 2: `updated_at` on the rows a client caches, so a client that was away longer than the logs'
/// retention can ask for "everything changed since" (keyset on `(updated_at, id)` per user or room).
const SCHEMA_V2: &str = r#"
ALTER TABLE transactions ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
UPDATE transactions SET updated_at = created_at;
CREATE INDEX transactions_changes ON transactions(user_id, updated_at, id);
ALTER TABLE notifications ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
UPDATE notifications SET updated_at = created_at;
CREATE INDEX notifications_changes ON notifications(user_id, updated_at, id);
ALTER TABLE messages ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
UPDATE messages SET updated_at = COALESCE(edited_at, sent_at);
CREATE INDEX messages_changes ON messages(room_id, updated_at, id);
"#;

/// Migration 3: refresh-token rotation with a grace window. A token remembers when it was used and which
/// token it replaced, so a refresh whose answer was lost can be repeated once within the window (the
/// unused successor is dropped) instead of looking like theft.
const SCHEMA_V3: &str = r#"
ALTER TABLE refresh_tokens ADD COLUMN used_at INTEGER;
ALTER TABLE refresh_tokens ADD COLUMN parent TEXT;
CREATE INDEX refresh_parent ON refresh_tokens(parent);
"#;

/// Migration 4: presence that outlives the 30 s grace and restarts: the status a user chose (busy,
/// invisible, ...) and when they were last seen.
const SCHEMA_V4: &str = r#"
ALTER TABLE users ADD COLUMN presence TEXT NOT NULL DEFAULT 'online';
ALTER TABLE users ADD COLUMN last_seen INTEGER;
"#;

/// Migration 5: account security. Who may sign up per tenant (closed unless an operator opens it) and
/// whether it requires two-factor; single-use invites; a row per signed-in device; TOTP secrets with the
/// last time step used (the replay guard) and hashed one-time recovery codes.
const SCHEMA_V5: &str = r#"
ALTER TABLE tenants ADD COLUMN registration TEXT NOT NULL DEFAULT 'closed';
ALTER TABLE tenants ADD COLUMN require_2fa INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_pending TEXT;
ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;
CREATE TABLE invites (
  hash TEXT PRIMARY KEY, tenant_id INTEGER NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
  used_by INTEGER, used_at INTEGER);
CREATE TABLE sessions (
  family TEXT PRIMARY KEY, tenant_id INTEGER NOT NULL, user_id INTEGER NOT NULL, device TEXT NOT NULL,
  platform TEXT NOT NULL, ip TEXT NOT NULL, created_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX refresh_user ON refresh_tokens(user_id);
CREATE TABLE recovery_codes (
  user_id INTEGER NOT NULL, hash TEXT NOT NULL, used_at INTEGER, PRIMARY KEY (user_id, hash)) WITHOUT ROWID;
"#;

/// Migration 6: a spent refresh token may be presented once more (its answer was lost) and gets the same
/// successor; this marks that it had its one re-presentation.
const SCHEMA_V6: &str = r#"
ALTER TABLE refresh_tokens ADD COLUMN regranted INTEGER NOT NULL DEFAULT 0;
"#;

/// Migration 7: group roles. An admin may rename the group and remove members. A group made before roles
/// gets as admins the members who were in it from its start (its creator and those added with it).
const SCHEMA_V7: &str = r#"
ALTER TABLE room_members ADD COLUMN role TEXT NOT NULL DEFAULT 'member';
UPDATE room_members SET role = 'admin'
 WHERE room_id IN (SELECT id FROM rooms WHERE kind = 'group')
   AND joined_at = (SELECT MIN(f.joined_at) FROM room_members f WHERE f.room_id = room_members.room_id);
"#;

/// Migration 8: each member's own choices for a room (muted, pinned), on every device of theirs.
const SCHEMA_V8: &str = r#"
ALTER TABLE room_members ADD COLUMN muted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE room_members ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
"#;

/// Migration 9: payment requests. One row per request; `transfer_id` is the latest transfer paying it,
/// `attempts` how many were made (each attempt's transfer has its own idempotency key).
const SCHEMA_V9: &str = r#"
CREATE TABLE payment_requests (
  id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL, requester INTEGER NOT NULL, payer INTEGER NOT NULL,
  amount INTEGER NOT NULL CHECK (amount > 0), currency TEXT NOT NULL, memo TEXT NOT NULL, status TEXT NOT NULL,
  expires_at INTEGER, transfer_id INTEGER, attempts INTEGER NOT NULL DEFAULT 0, idem_key TEXT NOT NULL,
  body_hash TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, UNIQUE (requester, idem_key));
CREATE INDEX requests_payer ON payment_requests(payer, id);
CREATE INDEX requests_requester ON payment_requests(requester, id);
CREATE INDEX requests_transfer ON payment_requests(transfer_id);
CREATE INDEX requests_expiring ON payment_requests(expires_at) WHERE status = 'open';
"#;

/// Migration 10: a message may show a payment or a payment request as a card (its JSON).
const SCHEMA_V10: &str = r#"
ALTER TABLE messages ADD COLUMN card TEXT;
"#;

/// Migration 11: attachments. `blobs` is what a tenant stores (content-addressed, counted against its
/// quota); `attachments` is a file uploaded to a room (what its members may download); a message names
/// one (its JSON). A tenant's own limits, when its operator set them, override the hub's defaults.
const SCHEMA_V11: &str = r#"
ALTER TABLE messages ADD COLUMN attachment TEXT;
CREATE TABLE blobs (
  tenant_id INTEGER NOT NULL, id TEXT NOT NULL, size INTEGER NOT NULL, created_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)) WITHOUT ROWID;
CREATE TABLE attachments (
  room_id INTEGER NOT NULL, id TEXT NOT NULL, tenant_id INTEGER NOT NULL, json TEXT NOT NULL, thumb_id TEXT,
  uploader INTEGER NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (room_id, id)) WITHOUT ROWID;
CREATE TABLE tenant_attachment_limits (
  tenant_id INTEGER PRIMARY KEY, max_file_bytes INTEGER NOT NULL, quota_bytes INTEGER NOT NULL);
"#;

/// Migration 12: the audit trail. Append-only; each entry carries the hash of the one before it
/// (`audit_head` holds the last seq and hash, one row), so an edit or a removal breaks the chain.
const SCHEMA_V12: &str = r#"
CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, tenant_id INTEGER, actor TEXT NOT NULL, action TEXT NOT NULL,
  subject TEXT NOT NULL, detail TEXT NOT NULL, ip TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE INDEX audit_tenant ON audit_log(tenant_id, seq);
CREATE TABLE audit_head (one INTEGER PRIMARY KEY CHECK (one = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL);
INSERT INTO audit_head (one, seq, hash) VALUES (1, 0, '');
"#;

/// Migration 13: operator accounts (apart from wallet users), with a role, an optional tenant they are
/// limited to, a password hash and a mandatory TOTP secret (the last step used: the replay guard); and
/// their sessions, kept as hashes of opaque tokens.
const SCHEMA_V13: &str = r#"
CREATE TABLE operators (
  id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, tenant_id INTEGER, role TEXT NOT NULL,
  password_hash TEXT NOT NULL, totp_secret TEXT NOT NULL, totp_step INTEGER NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE operator_sessions (
  token_hash TEXT PRIMARY KEY, operator_id INTEGER NOT NULL, created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL);
"#;

/// Migration 14: a user's KYC level, and a tenant's own transfer limits per level (else the hub's).
const SCHEMA_V14: &str = r#"
ALTER TABLE users ADD COLUMN kyc_level TEXT NOT NULL DEFAULT 'none';
CREATE TABLE tenant_kyc_limits (
  tenant_id INTEGER NOT NULL, level TEXT NOT NULL, limit_single INTEGER NOT NULL, limit_daily INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, level));
"#;

/// Migration 15: withdrawals. The user's request holds the amount (pending on their account, a pending
/// history line `tx_id`) until finance pays it out or rejects it; `idem_key` makes a retry return it.
const SCHEMA_V15: &str = r#"
CREATE TABLE withdrawals (
  id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL, user_id INTEGER NOT NULL,
  amount INTEGER NOT NULL CHECK (amount > 0), currency TEXT NOT NULL, destination TEXT NOT NULL,
  status TEXT NOT NULL, reason TEXT, tx_id INTEGER NOT NULL, idem_key TEXT NOT NULL, body_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, UNIQUE (user_id, idem_key));
CREATE INDEX withdrawals_queue ON withdrawals(tenant_id, status, id);
"#;

/// Migration 16: adding money. Each user's deposit reference (made when first asked for, unique in the
/// tenant) and the tenant's deposit instructions.
const SCHEMA_V16: &str = r#"
ALTER TABLE users ADD COLUMN deposit_ref TEXT;
CREATE UNIQUE INDEX users_deposit_ref ON users(tenant_id, deposit_ref);
ALTER TABLE tenants ADD COLUMN deposit_instructions TEXT NOT NULL DEFAULT '';
"#;

/// Migration 17: compliance holds. A tenant's review rules (amounts in hundredths of a major unit, each
/// off when NULL) and the transfers they held (`outcome` NULL while waiting).
const SCHEMA_V17: &str = r#"
CREATE TABLE compliance_rules (
  tenant_id INTEGER PRIMARY KEY, single_over INTEGER, hourly_count_over INTEGER, hourly_amount_over INTEGER,
  new_payee_over INTEGER);
CREATE TABLE transfer_reviews (
  transfer_id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL, reason TEXT NOT NULL, created_at INTEGER NOT NULL,
  outcome TEXT, decided_at INTEGER);
CREATE INDEX reviews_open ON transfer_reviews(tenant_id, transfer_id) WHERE outcome IS NULL;
CREATE INDEX transfers_pair ON transfers(from_user, to_user);
"#;

/// Migration 18: the operators' live feed reads every tenant's lines by when they last changed.
const SCHEMA_V18: &str = r#"
CREATE INDEX transactions_feed ON transactions(updated_at, id);
"#;

/// Migration 19: each sender's running daily total. The same text as PostgreSQL's V17 (one file for both).
const SCHEMA_V19: &str = include_str!("../../../migrations/postgres/V17__sent_daily.sql");

/// Migration 20: a notification's text as data. The same text as PostgreSQL's V18.
const SCHEMA_V20: &str = include_str!("../../../migrations/postgres/V18__notification_text.sql");

pub fn migrations() -> rusqlite_migration::Migrations<'static> {
    use rusqlite_migration::M;
    rusqlite_migration::Migrations::new(vec![
        M::up(SCHEMA_V1),
        M::up(SCHEMA_V2),
        M::up(SCHEMA_V3),
        M::up(SCHEMA_V4),
        M::up(SCHEMA_V5),
        M::up(SCHEMA_V6),
        M::up(SCHEMA_V7),
        M::up(SCHEMA_V8),
        M::up(SCHEMA_V9),
        M::up(SCHEMA_V10),
        M::up(SCHEMA_V11),
        M::up(SCHEMA_V12),
        M::up(SCHEMA_V13),
        M::up(SCHEMA_V14),
        M::up(SCHEMA_V15),
        M::up(SCHEMA_V16),
        M::up(SCHEMA_V17),
        M::up(SCHEMA_V18),
        M::up(SCHEMA_V19),
        M::up(SCHEMA_V20),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Migration 19 fills each sender's running daily total from the transfers already on disk: their
    /// latest day only, failed ones left out.
    #[test]
    fn the_daily_totals_start_from_each_sender_s_latest_day() {
        let mut c = rusqlite::Connection::open_in_memory().unwrap();
        migrations().to_version(&mut c, 18).unwrap();
        let day = 86_400_000i64;
        let rows = [
            (1, 10, "USD", "completed", 3 * day + 5),
            (2, 10, "USD", "completed", 4 * day + 1),
            (3, 10, "USD", "review", 4 * day + 2),
            (4, 10, "USD", "failed", 4 * day + 3),
            (5, 10, "EUR", "completed", 2 * day),
            (6, 11, "USD", "failed", 4 * day),
        ];
        for (id, from, currency, status, at) in rows {
            c.execute(
                "INSERT INTO transfers (id, tenant_id, from_user, to_user, amount, currency, memo, status, progress,
                   idem_key, body_hash, created_at, updated_at)
                 VALUES (?1, 1, ?2, 99, ?1 * 100, ?3, '', ?4, 0, ?1, '', ?5, ?5)",
                rusqlite::params![id, from, currency, status, at],
            )
            .unwrap();
        }
        migrations().to_latest(&mut c).unwrap();
        let mut st =
            c.prepare("SELECT user_id, currency, day, amount FROM sent_daily ORDER BY user_id, currency").unwrap();
        let got: Vec<(i64, String, i64, i64)> = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        // User 11 sent nothing that counts: no row, which reads as 0.
        assert_eq!(got, [(10, "EUR".into(), 2, 500), (10, "USD".into(), 4, 200 + 300)]);
    }
}
