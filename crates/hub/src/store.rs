//! SQLite store: one writer thread fed by a channel (group commit), readers on a pool.
//!
//! Every state change runs as a job on the writer thread inside a savepoint of a shared transaction; the
//! events it appends to channel logs are published (fan-out) only after that transaction commits, in
//! commit order. A job that fails is rolled back alone; the others in its group still commit.
use crate::error::{HubError, HubResult};
use crate::fanout::Published;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

/// The schema this hub writes: the number of migrations below.
pub const SCHEMA_VERSION: i64 = 4;

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

fn migrations() -> rusqlite_migration::Migrations<'static> {
    use rusqlite_migration::M;
    rusqlite_migration::Migrations::new(vec![M::up(SCHEMA_V1), M::up(SCHEMA_V2), M::up(SCHEMA_V3), M::up(SCHEMA_V4)])
}

/// Opens (creating or migrating) the hub database and returns the writer connection.
pub fn open_writer(path: &Path) -> HubResult<Connection> {
    let mut conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // A 64 MiB page cache: the hot pages (channel heads, accounts, recent events) stay in memory.
    conn.pragma_update(None, "cache_size", -65_536)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // Every statement of the write path stays prepared (rusqlite keeps 16 by default).
    conn.set_prepared_statement_cache_capacity(256);
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(HubError::internal(format!(
            "database schema {version} is newer than this hub understands ({SCHEMA_VERSION}); upgrade tally-hub"
        )));
    }
    migrations().to_latest(&mut conn).map_err(|e| HubError::internal(format!("database migration failed: {e}")))?;
    Ok(conn)
}

/// Events appended by one job, published after its transaction commits.
#[derive(Default)]
pub struct Emits {
    pub items: Vec<Published>,
    /// Work to do after commit (wake the transfer processor, end subscriptions, ...).
    pub after: Vec<Box<dyn FnOnce() + Send>>,
}

type JobFn = Box<dyn FnOnce(&Connection, &mut Emits) -> Completion + Send>;
/// Returned by a job: whether to keep its changes, and what to do once the group commit is known.
pub struct Completion {
    keep: bool,
    done: Box<dyn FnOnce(bool) + Send>,
}

type Done = Box<dyn FnOnce(bool) + Send>;

pub type ReadPool = r2d2::Pool<SqliteConnectionManager>;

/// Handle to the store: submit write jobs, borrow read connections.
#[derive(Clone)]
pub struct Store {
    jobs: mpsc::Sender<JobFn>,
    pub readers: ReadPool,
}

impl Store {
    /// Starts the writer thread. `publish` is called with every committed job's events, in commit order.
    pub fn start(path: &Path, publish: Arc<dyn Fn(Vec<Published>) + Send + Sync>) -> HubResult<Store> {
        let mut writer = open_writer(path)?;
        let manager = SqliteConnectionManager::file(path)
            .with_flags(OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI)
            .with_init(|c| {
                c.busy_timeout(std::time::Duration::from_secs(5))?;
                c.set_prepared_statement_cache_capacity(128);
                c.pragma_update(None, "query_only", "ON")
            });
        let readers = r2d2::Pool::builder().max_size(8).build(manager)?;
        let (tx, mut rx) = mpsc::channel::<JobFn>(4096);
        std::thread::Builder::new()
            .name("tally-store-writer".into())
            .spawn(move || {
                while let Some(first) = rx.blocking_recv() {
                    let mut jobs = vec![first];
                    while jobs.len() < 512 {
                        match rx.try_recv() {
                            Ok(j) => jobs.push(j),
                            Err(_) => break,
                        }
                    }
                    run_group(&mut writer, jobs, &*publish);
                }
            })
            .map_err(HubError::internal)?;
        Ok(Store { jobs: tx, readers })
    }

    /// Runs `f` on the writer thread in its own savepoint. `Ok` keeps the changes (and publishes their
    /// events once committed); `Err` rolls them back.
    pub async fn write<T, F>(&self, f: F) -> HubResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &mut Emits) -> HubResult<T> + Send + 'static,
    {
        let (reply_tx, reply_rx) = oneshot::channel::<HubResult<T>>();
        let job: JobFn = Box::new(move |conn, emits| match f(conn, emits) {
            Ok(v) => Completion {
                keep: true,
                done: Box::new(move |committed| {
                    let _ = reply_tx.send(if committed { Ok(v) } else { Err(HubError::internal("commit failed")) });
                }),
            },
            Err(e) => Completion {
                keep: false,
                done: Box::new(move |_| {
                    let _ = reply_tx.send(Err(e));
                }),
            },
        });
        self.jobs.send(job).await.map_err(|_| HubError::new(tally_protocol::ErrorCode::Unavailable, "store closed"))?;
        reply_rx.await.map_err(|_| HubError::new(tally_protocol::ErrorCode::Unavailable, "store closed"))?
    }

    /// Runs a read-only query on a pooled connection, off the async runtime's threads.
    pub async fn read<T, F>(&self, f: F) -> HubResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> HubResult<T> + Send + 'static,
    {
        let pool = self.readers.clone();
        tokio::task::spawn_blocking(move || {
            let conn = pool.get()?;
            f(&conn)
        })
        .await
        .map_err(HubError::internal)?
    }
}

fn run_group(writer: &mut Connection, jobs: Vec<JobFn>, publish: &(dyn Fn(Vec<Published>) + Send + Sync)) {
    let started = Instant::now();
    let n = jobs.len();
    let mut dones: Vec<(bool, Done)> = Vec::with_capacity(n);
    let mut published = Vec::new();
    let mut afters = Vec::new();
    let committed = (|| -> rusqlite::Result<()> {
        let mut tx = writer.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for job in jobs {
            let sp = tx.savepoint()?;
            let mut emits = Emits::default();
            let c = job(&sp, &mut emits);
            if c.keep {
                sp.commit()?;
                published.extend(emits.items);
                afters.extend(emits.after);
            } else {
                drop(sp); // rolls back this job only
            }
            dones.push((c.keep, c.done));
        }
        tx.commit()
    })();
    let ok = match committed {
        Ok(()) => true,
        Err(e) => {
            tracing::error!(error = %e, jobs = n, "group commit failed");
            false
        }
    };
    if ok {
        if !published.is_empty() {
            publish(published);
        }
        for a in afters {
            a();
        }
    }
    for (keep, done) in dones {
        done(ok || !keep);
    }
    metrics::histogram!("tally_commit_seconds").record(started.elapsed().as_secs_f64());
    metrics::histogram!("tally_commit_group_size").record(n as f64);
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}
