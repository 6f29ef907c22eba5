//! The local store: everything the UI shows, in SQLite (WAL), so the app works with no network.
//!
//! Events are applied one transaction per batch, idempotently by `(channel, seq)`, and each channel's
//! position is written in the same transaction as the events it covers.
use crate::view::*;
use crate::Error;
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use std::sync::Mutex;
use tally_protocol::*;

mod apply;
mod backfill;
pub mod encryption;
mod files;
pub(crate) mod local_state;
mod outbox;
pub mod queries;
mod schema;
mod wipe;
pub use apply::Applied;
use apply::*;
pub use backfill::*;
pub use files::Variant;
pub use outbox::*;
use schema::migrations;
pub use schema::schema_version;

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

fn open_conn(path: &Path, key: Option<&encryption::CacheKey>) -> Result<Connection, Error> {
    let conn = Connection::open(path)?;
    if let Some(k) = key {
        encryption::apply_key(&conn, k)?;
    }
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // 32 MiB of decrypted pages per connection (the default is 2 MiB): with SQLCipher every page read from
    // the OS cache is decrypted and its HMAC checked again, so a search over a big cache re-pays that per
    // query unless its pages stay here (docs/BENCHMARKS.md, "Client engine").
    conn.pragma_update(None, "cache_size", -32_768)?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // Rows removed by a REPLACE conflict fire delete triggers only with this on (keeps `counts` right).
    conn.pragma_update(None, "recursive_triggers", "ON")?;
    Ok(conn)
}

/// The cache is encrypted with a key this device no longer has (a keychain that was reset).
pub const UNREADABLE: &str = "the offline cache cannot be read with this device's key";

/// A user's local database: a writer (sync engine) and a reader (UI queries).
pub struct Store {
    write: Mutex<Connection>,
    read: Mutex<Connection>,
    pub me: i64,
}

impl Store {
    /// Opens (creating or migrating) an unencrypted database (tests and benchmarks; the app uses
    /// [`Store::open_encrypted`]).
    pub fn open(path: &Path, me: i64) -> Result<Store, Error> {
        Self::open_with(path, me, None)
    }

    /// Opens the cache encrypted with `key`, encrypting a plain one of an earlier version first. A file
    /// this key cannot read is `Error::Storage` (the caller decides whether to start afresh).
    pub fn open_encrypted(path: &Path, me: i64, key: &encryption::CacheKey) -> Result<Store, Error> {
        if let encryption::Found::Unreadable = encryption::ensure_encrypted(path, key)? {
            return Err(Error::Storage(UNREADABLE.into()));
        }
        Self::open_with(path, me, Some(key))
    }

    /// A database from a newer app version is refused.
    fn open_with(path: &Path, me: i64, key: Option<&encryption::CacheKey>) -> Result<Store, Error> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::Storage(format!("cannot create {}: {e}", dir.display())))?;
        }
        let mut w = open_conn(path, key)?;
        let version: usize = w.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))? as usize;
        if version > schema_version() {
            return Err(Error::Storage(format!(
                "this cache was written by a newer Tally (schema {version}, this app knows {}); update the app or sign out to reset it",
                schema_version()
            )));
        }
        migrations().to_latest(&mut w).map_err(|e| Error::Storage(format!("migrating the cache failed: {e}")))?;
        let r = open_conn(path, key)?;
        Ok(Store { write: Mutex::new(w), read: Mutex::new(r), me })
    }

    pub fn writer(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.write.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub fn reader(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.read.lock().unwrap_or_else(|e| e.into_inner())
    }

    // ---- positions ------------------------------------------------------------------------------------

    pub fn positions(&self) -> Result<Vec<(Channel, Position)>, Error> {
        let c = self.reader();
        let mut stmt = c.prepare("SELECT channel, epoch, seq FROM positions")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (ch, epoch, seq) = row?;
            if let Ok(ch) = Channel::parse(&ch) {
                out.push((ch, Position { epoch, seq: seq as u64 }));
            }
        }
        Ok(out)
    }

    pub fn position(&self, channel: &Channel) -> Result<Option<Position>, Error> {
        Ok(self
            .reader()
            .query_row("SELECT epoch, seq FROM positions WHERE channel = ?1", [channel.to_string()], |r| {
                Ok(Position { epoch: r.get(0)?, seq: r.get::<_, i64>(1)? as u64 })
            })
            .optional()?)
    }

    pub fn set_position(&self, channel: &Channel, pos: &Position) -> Result<(), Error> {
        set_position(&self.writer(), channel, pos)
    }

    pub fn forget_position(&self, channel: &Channel) -> Result<(), Error> {
        self.writer().execute("DELETE FROM positions WHERE channel = ?1", [channel.to_string()])?;
        Ok(())
    }

    /// Applies a run of events of one channel in one transaction. Events at or before the stored position
    /// are skipped (idempotent); a gap or a new epoch stops application and is reported so the caller can
    /// resubscribe. Returns what changed.
    pub fn apply_events(&self, channel: &Channel, events: &[Event]) -> Result<Applied, Error> {
        let mut c = self.writer();
        let tx = c.transaction()?;
        let mut pos: Option<Position> = tx
            .query_row("SELECT epoch, seq FROM positions WHERE channel = ?1", [channel.to_string()], |r| {
                Ok(Position { epoch: r.get(0)?, seq: r.get::<_, i64>(1)? as u64 })
            })
            .optional()?;
        let mut applied = Applied::default();
        let mut text = TxText::default();
        let mut last_ts = None;
        for e in events {
            if let Some(p) = &pos {
                if e.epoch == p.epoch && e.seq <= p.seq {
                    applied.duplicates += 1;
                    continue;
                }
                if e.epoch != p.epoch || e.seq != p.seq + 1 {
                    applied.gap = true;
                    break;
                }
            }
            apply_one(&tx, self.me, e, &mut applied, &mut text)?;
            pos = Some(Position { epoch: e.epoch.clone(), seq: e.seq });
            last_ts = Some(e.ts);
            applied.count += 1;
        }
        text.index(&tx)?;
        // The position covers exactly the events applied, in the same transaction.
        if let (Some(p), true) = (&pos, applied.count > 0) {
            set_position_ts(&tx, channel, p, last_ts)?;
        }
        tx.commit()?;
        Ok(applied)
    }

    // ---- snapshots (after `recovered: false` or first sign-in) -----------------------------------------

    pub fn replace_balances(&self, balances: &[Balance]) -> Result<(), Error> {
        let mut c = self.writer();
        let tx = c.transaction()?;
        tx.execute("DELETE FROM balances", [])?;
        for b in balances {
            upsert_balance(&tx, b)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Stores the newest page of history and marks older cached rows as possibly stale (kept, not deleted).
    pub fn refresh_transactions(&self, page: &[Transaction]) -> Result<(), Error> {
        let mut c = self.writer();
        let tx = c.transaction()?;
        let mut text = TxText::default();
        for t in page {
            upsert_tx(&tx, t, &mut text)?;
        }
        text.index(&tx)?;
        if let Some(oldest) = page.iter().map(|t| t.id).min() {
            tx.execute("UPDATE transactions SET stale = 1 WHERE id < ?1", [oldest])?;
            tx.execute("UPDATE transactions SET stale = 0 WHERE id >= ?1", [oldest])?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn upsert_transactions(&self, page: &[Transaction]) -> Result<(), Error> {
        let mut c = self.writer();
        let tx = c.transaction()?;
        let mut text = TxText::default();
        for t in page {
            upsert_tx(&tx, t, &mut text)?;
        }
        text.index(&tx)?;
        tx.commit()?;
        Ok(())
    }

    pub fn replace_rooms(&self, rooms: &[Room]) -> Result<(), Error> {
        let mut c = self.writer();
        let tx = c.transaction()?;
        tx.execute("UPDATE rooms SET left_room = 1", [])?;
        for r in rooms {
            upsert_room(&tx, r)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The hub ended this room's subscription (the user left or was removed): keep its history, mark it.
    pub fn mark_room_left(&self, room: RoomId) -> Result<(), Error> {
        self.writer().execute("UPDATE rooms SET left_room = 1 WHERE id = ?1", [room])?;
        Ok(())
    }

    pub fn upsert_room(&self, room: &Room) -> Result<(), Error> {
        upsert_room(&self.writer(), room)
    }

    pub fn upsert_messages(&self, events: &[Event]) -> Result<(), Error> {
        let mut c = self.writer();
        let tx = c.transaction()?;
        let mut applied = Applied::default();
        for e in events {
            if let EventData::Message { message } = &e.data {
                upsert_message(&tx, self.me, message, &mut applied)?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Keeps requests as the hub described them (a snapshot; an answer to the user's own request).
    pub fn upsert_requests(&self, requests: &[PaymentRequest]) -> Result<(), Error> {
        let mut c = self.writer();
        let tx = c.transaction()?;
        for r in requests {
            upsert_request(&tx, r)?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn upsert_transfer(&self, t: &Transfer, local: &crate::view::LocalState) -> Result<(), Error> {
        upsert_transfer(&self.writer(), t, local)
    }

    pub fn replace_contacts(&self, users: &[UserSummary]) -> Result<(), Error> {
        let mut c = self.writer();
        let tx = c.transaction()?;
        tx.execute("DELETE FROM contacts", [])?;
        for u in users {
            tx.execute("INSERT INTO contacts (id, json) VALUES (?1, ?2)", params![u.id, to_json(u)])?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn set_presence(&self, user: i64, status: PresenceStatus, last_seen: Option<i64>) -> Result<(), Error> {
        self.writer().execute(
            "INSERT INTO presence (user_id, status, last_seen) VALUES (?1, ?2, ?3)
             ON CONFLICT(user_id) DO UPDATE SET status = excluded.status, last_seen = excluded.last_seen",
            params![user, enum_str(&status), last_seen],
        )?;
        Ok(())
    }

    /// Records that a native notification for `key` was shown; false when it already had been.
    pub fn mark_notified(&self, key: &str) -> Result<bool, Error> {
        let n = self
            .writer()
            .execute("INSERT OR IGNORE INTO notified_keys (key, at) VALUES (?1, ?2)", params![key, now_ms()])?;
        Ok(n == 1)
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>, Error> {
        Ok(self.reader().query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }
    /// The limits the hub last announced in `welcome` (`None` before the first connection).
    pub fn limits(&self) -> Result<Option<tally_protocol::Limits>, Error> {
        Ok(self.meta("limits")?.and_then(|j| serde_json::from_str(&j).ok()))
    }
    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), Error> {
        put_meta(&self.writer(), key, value)
    }

    pub fn prefs(&self) -> Result<Prefs, Error> {
        let json: Option<String> =
            self.reader().query_row("SELECT json FROM prefs WHERE key = 'prefs'", [], |r| r.get(0)).optional()?;
        Ok(json.and_then(|j| serde_json::from_str(&j).ok()).unwrap_or_default())
    }
    pub fn set_prefs(&self, p: &Prefs) -> Result<(), Error> {
        self.writer().execute(
            "INSERT INTO prefs (key, json) VALUES ('prefs', ?1) ON CONFLICT(key) DO UPDATE SET json = excluded.json",
            [to_json(p)],
        )?;
        Ok(())
    }

    /// Remembers that `channel` owes a snapshot (after `recovered: false`) until one is applied, so a
    /// connection lost in between does not leave the cache silently behind.
    pub fn snapshot_needed(&self, channel: &Channel) -> Result<(), Error> {
        self.set_meta(&format!("snap:{channel}"), "1")
    }
    pub fn snapshot_done(&self, channel: &Channel) -> Result<(), Error> {
        self.writer().execute("DELETE FROM meta WHERE key = ?1", [format!("snap:{channel}")])?;
        Ok(())
    }
    pub fn snapshots_owed(&self) -> Result<Vec<Channel>, Error> {
        let c = self.reader();
        let mut stmt = c.prepare("SELECT key FROM meta WHERE key LIKE 'snap:%'")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.filter_map(|k| k.ok().and_then(|k| Channel::parse(&k[5..]).ok())).collect())
    }

    /// Marks that every balance was confirmed by the hub now (we are live).
    pub fn confirm_balances(&self) -> Result<(), Error> {
        self.writer().execute("UPDATE balances SET confirmed_at = ?1", [now_ms()])?;
        Ok(())
    }
}

fn set_position(c: &Connection, channel: &Channel, p: &Position) -> Result<(), Error> {
    set_position_ts(c, channel, p, None)
}

/// Stores a channel's position; `ts` (hub time of the last event it covers) is kept when None.
fn set_position_ts(c: &Connection, channel: &Channel, p: &Position, ts: Option<Millis>) -> Result<(), Error> {
    c.prepare_cached(
        "INSERT INTO positions (channel, epoch, seq, ts) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(channel) DO UPDATE
         SET epoch = excluded.epoch, seq = excluded.seq, ts = COALESCE(excluded.ts, positions.ts)",
    )?
    .execute(params![channel.to_string(), p.epoch, p.seq as i64, ts])?;
    Ok(())
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}
pub(crate) fn enum_str<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}
/// A column's stable string this version cannot read: the row is refused as a conversion failure, by name
/// (never shown as something else).
pub(crate) fn unreadable(column: usize, what: impl Into<String>) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, what.into().into())
}

pub(crate) fn enum_from<T: serde::de::DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
}

/// Writes a `meta` value on `c` (the writer, or a transaction on it).
pub(crate) fn put_meta(c: &rusqlite::Connection, key: &str, value: &str) -> Result<(), Error> {
    c.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(seq: u64, epoch: &str, available: i64) -> Event {
        Event {
            channel: Channel::Balance(1),
            epoch: epoch.into(),
            seq,
            ts: seq as i64,
            data: EventData::Balance {
                balance: Balance { currency: Currency::USD, available, pending: 0, as_of: seq as i64 },
            },
        }
    }

    #[test]
    fn events_apply_once_in_order_and_gaps_stop_application() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("c.db"), 1).unwrap();
        let ch = Channel::Balance(1);
        let a = s.apply_events(&ch, &[ev(1, "e", 10), ev(2, "e", 20)]).unwrap();
        assert_eq!((a.count, a.gap), (2, false));
        // A replay of what we have is skipped, not applied twice.
        let a = s.apply_events(&ch, &[ev(2, "e", 999)]).unwrap();
        assert_eq!((a.count, a.duplicates), (0, 1));
        assert_eq!(s.balances().unwrap()[0].balance.available, 20);
        // seq 4 after 2: a gap. Nothing is applied and the position stays, so a resubscribe heals it.
        let a = s.apply_events(&ch, &[ev(4, "e", 40)]).unwrap();
        assert!(a.gap);
        assert_eq!(s.position(&ch).unwrap(), Some(Position { epoch: "e".into(), seq: 2 }));
        // A new epoch is also a gap.
        assert!(s.apply_events(&ch, &[ev(3, "other", 30)]).unwrap().gap);
        let a = s.apply_events(&ch, &[ev(3, "e", 30), ev(4, "e", 40)]).unwrap();
        assert_eq!((a.count, a.gap), (2, false));
        assert_eq!(s.balances().unwrap()[0].balance.available, 40);
    }

    #[test]
    fn the_most_used_currency_comes_first() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("c.db"), 1).unwrap();
        let bal = |c: Currency| Balance { currency: c, available: 1, pending: 0, as_of: 1 };
        s.replace_balances(&[bal(Currency::EUR), bal(Currency::USD)]).unwrap();
        let tx = |id: i64, c: Currency| Transaction {
            id,
            kind: TxKind::Deposit,
            direction: Direction::In,
            amount: Money::new(1, c),
            balance_after: 1,
            counterparty: None,
            memo: String::new(),
            transfer_id: None,
            status: TransferStatus::Completed,
            created_at: id,
        };
        s.upsert_transactions(&[tx(1, Currency::EUR), tx(2, Currency::USD), tx(3, Currency::USD)]).unwrap();
        let order: Vec<String> = s.balances().unwrap().iter().map(|b| b.balance.currency.to_string()).collect();
        assert_eq!(order, vec!["USD", "EUR"]);
    }

    fn txn(id: i64, memo: &str) -> Transaction {
        Transaction {
            id,
            kind: TxKind::TransferIn,
            direction: Direction::In,
            amount: Money::new(100, Currency::USD),
            balance_after: id,
            counterparty: None,
            memo: memo.into(),
            transfer_id: None,
            status: TransferStatus::Completed,
            created_at: 1_000 + id,
        }
    }

    fn tx_ev(seq: u64) -> Event {
        Event {
            channel: Channel::Transactions(1),
            epoch: "e".into(),
            seq,
            ts: seq as i64,
            data: EventData::Transaction { transaction: txn(seq as i64, "lunch") },
        }
    }

    /// The trigger-kept count, what `COUNT(*)` says, and the total the unfiltered first page reports.
    fn counts(s: &Store) -> (i64, i64, u32) {
        let c = s.reader();
        let kept: i64 = c.query_row("SELECT n FROM counts WHERE name = 'transactions'", [], |r| r.get(0)).unwrap();
        let exact: i64 = c.query_row("SELECT COUNT(*) FROM transactions", [], |r| r.get(0)).unwrap();
        drop(c);
        (kept, exact, s.transactions(&Default::default(), None, 10).unwrap().total)
    }

    #[test]
    fn the_transaction_count_follows_inserts_replays_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("c.db"), 1).unwrap();
        assert_eq!(counts(&s), (0, 0, 0));
        let ch = Channel::Transactions(1);
        // Events, then a replay of them (skipped by position) and an overlapping batch.
        s.apply_events(&ch, &(1..=5).map(tx_ev).collect::<Vec<_>>()).unwrap();
        assert_eq!(s.apply_events(&ch, &(1..=5).map(tx_ev).collect::<Vec<_>>()).unwrap().duplicates, 5);
        s.apply_events(&ch, &(4..=8).map(tx_ev).collect::<Vec<_>>()).unwrap();
        assert_eq!(counts(&s), (8, 8, 8));
        // Snapshot pages that upsert rows already cached (ON CONFLICT DO UPDATE) do not count them twice.
        s.upsert_transactions(&(1..=10).map(|i| txn(i, "snapshot")).collect::<Vec<_>>()).unwrap();
        s.refresh_transactions(&(6..=12).map(|i| txn(i, "refreshed")).collect::<Vec<_>>()).unwrap();
        s.refresh_transactions(&(6..=12).map(|i| txn(i, "refreshed")).collect::<Vec<_>>()).unwrap();
        assert_eq!(counts(&s), (12, 12, 12));
        // ... but do update them, text index included.
        let ids = |q: &str| s.search(q).unwrap().transactions.iter().map(|t| t.tx.id).collect::<Vec<_>>();
        assert_eq!(ids("snapshot"), vec![5, 4, 3, 2, 1]);
        assert_eq!(ids("refreshed"), (6..=12).rev().collect::<Vec<_>>());
        let page = s.transactions(&Default::default(), None, 20).unwrap();
        let stale: Vec<i64> = page.rows.iter().filter(|r| r.stale).map(|r| r.tx.id).collect();
        assert_eq!(stale, vec![5, 4, 3, 2, 1]);
        assert_eq!(page.rows[0].tx.memo, "refreshed");
        // The same event applied again on a fresh channel position (a resubscribe from scratch).
        s.forget_position(&ch).unwrap();
        s.apply_events(&ch, &(1..=12).map(tx_ev).collect::<Vec<_>>()).unwrap();
        assert_eq!(counts(&s), (12, 12, 12));
        {
            let c = s.writer();
            // A REPLACE deletes the old row first: with recursive triggers on, that delete is counted too.
            c.execute("INSERT OR REPLACE INTO transactions SELECT * FROM transactions WHERE id = 3", []).unwrap();
            c.execute("DELETE FROM transactions WHERE id IN (1, 2)", []).unwrap();
            // A rolled-back insert leaves the count as it was (same transaction as the rows).
            c.execute_batch(
                "BEGIN; INSERT INTO transactions SELECT id + 100, kind, direction, amount, currency, balance_after, cp_id,
                   cp_username, cp_name, memo, transfer_id, status, created_at, stale FROM transactions; ROLLBACK;",
            )
            .unwrap();
        }
        assert_eq!(counts(&s), (10, 10, 10));
        // A filtered first page still counts exactly.
        let f = TxFilter { from: Some(1_005), ..Default::default() };
        assert_eq!(s.transactions(&f, None, 10).unwrap().total, 8);
        s.writer().execute("DELETE FROM transactions", []).unwrap();
        assert_eq!(counts(&s), (0, 0, 0));
    }

    #[test]
    fn migrations_keep_rows_cached_before_them_counted_and_searchable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        {
            let mut c = rusqlite::Connection::open(&path).unwrap();
            migrations().to_version(&mut c, 1).unwrap();
            let tx = c.transaction().unwrap();
            let mut text = TxText::default();
            for i in 1..=7 {
                upsert_tx(&tx, &txn(i, "old"), &mut text).unwrap();
            }
            text.index(&tx).unwrap();
            let bob = UserSummary { id: 2, username: "bob".into(), display_name: "Bob".into() };
            let m = Message {
                id: 1,
                room: 1,
                seq: 1,
                client_msg_id: "c1".into(),
                sender: bob,
                text: "old news".into(),
                mentions: vec![],
                sent_at: 1,
                edited_at: None,
                deleted: false,
                reactions: vec![],
                card: None,
                attachment: None,
            };
            upsert_message(&tx, 1, &m, &mut Applied::default()).unwrap();
            tx.commit().unwrap();
        }
        let s = Store::open(&path, 1).unwrap();
        assert_eq!(counts(&s), (7, 7, 7));
        s.upsert_transactions(&[txn(8, "new")]).unwrap();
        assert_eq!(counts(&s), (8, 8, 8));
        // Rows and messages cached before the migrations stay searchable (migration 3 rebuilt the index).
        let found: Vec<i64> = s.search("ol").unwrap().transactions.iter().map(|t| t.tx.id).collect();
        assert_eq!(found, vec![7, 6, 5, 4, 3, 2, 1]);
        assert_eq!(s.search("new").unwrap().transactions.len(), 1);
        assert_eq!(s.search("ol").unwrap().messages.len(), 1);
    }

    #[test]
    fn an_older_schema_is_migrated_and_reopening_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        drop(rusqlite::Connection::open(&path).unwrap()); // version 0: an empty, older database
        drop(Store::open(&path, 1).unwrap());
        let s = Store::open(&path, 1).unwrap();
        let v: i64 = s.reader().pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(v as usize, schema_version());
    }
}
