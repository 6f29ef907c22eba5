//! The cache's schema: migrations by `user_version` (rusqlite_migration).
use rusqlite_migration::{Migrations, M};

/// Schema migrations, in order. Never edit a released one: add a new one.
pub(super) fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(
            r#"
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE positions (channel TEXT PRIMARY KEY, epoch TEXT NOT NULL, seq INTEGER NOT NULL);
CREATE TABLE balances (currency TEXT PRIMARY KEY, available INTEGER NOT NULL, pending INTEGER NOT NULL,
  as_of INTEGER NOT NULL, confirmed_at INTEGER NOT NULL);
CREATE TABLE transactions (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, direction TEXT NOT NULL, amount INTEGER NOT NULL,
  currency TEXT NOT NULL, balance_after INTEGER NOT NULL, cp_id INTEGER, cp_username TEXT, cp_name TEXT,
  memo TEXT NOT NULL, transfer_id INTEGER, status TEXT NOT NULL, created_at INTEGER NOT NULL, stale INTEGER NOT NULL DEFAULT 0);
CREATE INDEX tx_time ON transactions(created_at DESC, id DESC);
CREATE INDEX tx_cp ON transactions(cp_id, created_at);
CREATE VIRTUAL TABLE tx_fts USING fts5(memo, counterparty, tokenize = 'unicode61 remove_diacritics 2');
CREATE TABLE transfers (key TEXT PRIMARY KEY, id INTEGER UNIQUE, json TEXT NOT NULL, status TEXT NOT NULL,
  local_state TEXT NOT NULL, outbox_id INTEGER, expires_at INTEGER, updated_at INTEGER NOT NULL);
CREATE TABLE transfer_history (transfer_id INTEGER NOT NULL, status TEXT NOT NULL, progress INTEGER NOT NULL,
  at INTEGER NOT NULL, PRIMARY KEY (transfer_id, status));
CREATE TABLE rooms (id INTEGER PRIMARY KEY, json TEXT NOT NULL, left_room INTEGER NOT NULL DEFAULT 0,
  last_activity INTEGER NOT NULL, my_read INTEGER NOT NULL DEFAULT 0);
CREATE TABLE messages (local_id INTEGER PRIMARY KEY, id INTEGER UNIQUE, room INTEGER NOT NULL, seq INTEGER,
  client_msg_id TEXT NOT NULL, sender_id INTEGER NOT NULL, json TEXT NOT NULL, text TEXT NOT NULL,
  local_state TEXT NOT NULL, outbox_id INTEGER, sort_key INTEGER NOT NULL,
  UNIQUE (room, sender_id, client_msg_id));
CREATE INDEX messages_room ON messages(room, sort_key);
CREATE VIRTUAL TABLE msg_fts USING fts5(text, tokenize = 'unicode61 remove_diacritics 2');
CREATE TABLE receipts (room INTEGER NOT NULL, user_id INTEGER NOT NULL, json TEXT NOT NULL, up_to INTEGER NOT NULL,
  PRIMARY KEY (room, user_id));
CREATE TABLE presence (user_id INTEGER PRIMARY KEY, status TEXT NOT NULL, last_seen INTEGER);
CREATE TABLE notifications (id INTEGER PRIMARY KEY, json TEXT NOT NULL, priority INTEGER NOT NULL, read INTEGER NOT NULL,
  created_at INTEGER NOT NULL, notified INTEGER NOT NULL DEFAULT 0);
CREATE INDEX notifications_time ON notifications(created_at DESC);
CREATE TABLE notified_keys (key TEXT PRIMARY KEY, at INTEGER NOT NULL);
CREATE TABLE contacts (id INTEGER PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE outbox (id INTEGER PRIMARY KEY, queue TEXT NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL,
  state TEXT NOT NULL, error_code TEXT, error TEXT, attempts INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,
  expires_at INTEGER, summary TEXT NOT NULL);
CREATE INDEX outbox_queue ON outbox(queue, id);
CREATE TABLE prefs (key TEXT PRIMARY KEY, json TEXT NOT NULL);
"#,
        ),
        // 2: row counts kept by triggers in the same transaction as each insert or delete, so the history
        // list is sized without a COUNT(*) over every cached row. Initialised from the rows already cached.
        M::up(
            r#"
CREATE TABLE counts (name TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO counts (name, n) SELECT 'transactions', COUNT(*) FROM transactions;
CREATE TRIGGER transactions_count_insert AFTER INSERT ON transactions
  BEGIN UPDATE counts SET n = n + 1 WHERE name = 'transactions'; END;
CREATE TRIGGER transactions_count_delete AFTER DELETE ON transactions
  BEGIN UPDATE counts SET n = n - 1 WHERE name = 'transactions'; END;
"#,
        ),
        // 3: a 2-character prefix index on both full-text tables. The search box asks from the second character
        // typed, and without it a 2-character prefix merges the doclists of every term it starts. (A 3-character
        // one too cost ~20 % more on applying events; not taken.) FTS5 cannot add one in place, so the tables
        // are rebuilt from the text they store.
        M::up(
            r#"
CREATE VIRTUAL TABLE tx_fts_3 USING fts5(memo, counterparty, tokenize = 'unicode61 remove_diacritics 2', prefix = '2');
INSERT INTO tx_fts_3 (rowid, memo, counterparty) SELECT rowid, memo, counterparty FROM tx_fts;
DROP TABLE tx_fts;
ALTER TABLE tx_fts_3 RENAME TO tx_fts;
CREATE VIRTUAL TABLE msg_fts_3 USING fts5(text, tokenize = 'unicode61 remove_diacritics 2', prefix = '2');
INSERT INTO msg_fts_3 (rowid, text) SELECT rowid, text FROM msg_fts;
DROP TABLE msg_fts;
ALTER TABLE msg_fts_3 RENAME TO msg_fts;
"#,
        ),
        // 4: the history download. `positions.ts` is the hub time of the last event applied on a channel (a
        // client away longer than the log's retention asks for changes since then); `sync_parts` holds each
        // part's backfill cursor ("complete down to id X"), committed with the rows it covers, and the
        // changes still owed after a `recovered: false`.
        M::up(
            r#"
ALTER TABLE positions ADD COLUMN ts INTEGER;
CREATE TABLE sync_parts (part TEXT PRIMARY KEY, next_before INTEGER, complete INTEGER NOT NULL DEFAULT 0,
  fetched INTEGER NOT NULL DEFAULT 0, total INTEGER, pages INTEGER NOT NULL DEFAULT 0,
  changes_ts INTEGER, changes_id INTEGER);
"#,
        ),
        // 5: payment requests, asked and asked of the user, as the hub last described each.
        M::up(
            r#"
CREATE TABLE payment_requests (id INTEGER PRIMARY KEY, json TEXT NOT NULL, status TEXT NOT NULL,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE INDEX payment_requests_time ON payment_requests(created_at DESC);
"#,
        ),
        // 6: a payment's card in a conversation finds its status in the recipient's transaction lines.
        M::up("CREATE INDEX tx_transfer ON transactions(transfer_id) WHERE transfer_id IS NOT NULL;"),
        // 7: attachments. `files` holds downloaded files and thumbnails for offline use (inside the
        // encrypted cache, evicted least recently used first); `uploads` the bytes of a file queued to be
        // sent; `wanted_thumbs` the pictures whose thumbnails are still to be fetched.
        M::up(
            r#"
CREATE TABLE files (id TEXT NOT NULL, variant TEXT NOT NULL, room INTEGER NOT NULL, bytes BLOB NOT NULL,
  size INTEGER NOT NULL, last_used INTEGER NOT NULL, PRIMARY KEY (id, variant)) WITHOUT ROWID;
CREATE INDEX files_lru ON files(last_used);
CREATE TABLE uploads (outbox_id INTEGER PRIMARY KEY, bytes BLOB NOT NULL);
CREATE TABLE wanted_thumbs (room INTEGER NOT NULL, id TEXT NOT NULL, PRIMARY KEY (room, id)) WITHOUT ROWID;
"#,
        ),
    ])
}

/// The newest schema version this build knows.
pub fn schema_version() -> usize {
    7
}
