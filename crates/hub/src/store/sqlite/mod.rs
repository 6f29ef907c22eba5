//! SQLite store: one writer thread fed by a channel (group commit), readers on a pool.
//!
//! Every state change runs as a job on the writer thread inside a savepoint of a shared transaction; the
//! events it appends to channel logs are published (fan-out) only after that transaction commits, in
//! commit order. A job that fails is rolled back alone; the others in its group still commit.
mod auth;
mod chat;
mod ledger;
mod log;
mod notify;
pub mod schema;

use super::{Emits, Tx};
use crate::error::{HubError, HubResult};
use crate::fanout::Published;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

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
    if version > schema::SCHEMA_VERSION {
        return Err(HubError::internal(format!(
            "database schema {version} is newer than this hub understands ({}); upgrade tally-hub",
            schema::SCHEMA_VERSION
        )));
    }
    schema::migrations()
        .to_latest(&mut conn)
        .map_err(|e| HubError::internal(format!("database migration failed: {e}")))?;
    Ok(conn)
}

/// The SQLite backend's transaction handle: the repositories over one connection (the writer's savepoint
/// or a pooled read-only connection).
pub struct SqliteTx<'c> {
    c: &'c Connection,
}

impl<'c> SqliteTx<'c> {
    pub fn new(c: &'c Connection) -> Self {
        SqliteTx { c }
    }
}

impl Tx for SqliteTx<'_> {
    fn ping(&mut self) -> HubResult<()> {
        Ok(self.c.query_row("SELECT 1", [], |_| Ok(()))?)
    }
}

/// A stored value this hub cannot read: a typed storage error, never a silent default.
pub(crate) fn unreadable(what: &str, value: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("unreadable {what} {value:?}").into(),
    )
}

/// A stored enum written as its serde name (the protocol's snake_case strings).
pub(crate) fn enum_from<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> rusqlite::Result<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).map_err(|_| unreadable(what, s))
}

pub(crate) fn enum_str<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => unreachable!("a unit enum serializes to a string"),
    }
}

type JobFn = Box<dyn FnOnce(&mut dyn Tx, &mut Emits) -> Completion + Send>;
/// Returned by a job: whether to keep its changes, and what to do once the group commit is known.
pub struct Completion {
    keep: bool,
    done: Done,
}

/// Told whether the group that held a kept job committed (and why not).
type Done = Box<dyn FnOnce(Result<(), HubError>) + Send>;

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
        F: FnOnce(&mut dyn Tx, &mut Emits) -> HubResult<T> + Send + 'static,
    {
        let (reply_tx, reply_rx) = oneshot::channel::<HubResult<T>>();
        let job: JobFn = Box::new(move |tx, emits| match f(tx, emits) {
            Ok(v) => Completion {
                keep: true,
                done: Box::new(move |committed| {
                    let _ = reply_tx.send(committed.map(|()| v));
                }),
            },
            Err(e) => Completion {
                keep: false,
                done: Box::new(move |_: Result<(), HubError>| {
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
        F: FnOnce(&mut dyn Tx) -> HubResult<T> + Send + 'static,
    {
        let pool = self.readers.clone();
        tokio::task::spawn_blocking(move || {
            let conn = pool.get()?;
            f(&mut SqliteTx::new(&conn))
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
            let c = job(&mut SqliteTx::new(&sp), &mut emits);
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
    let outcome = committed.map_err(|e| {
        tracing::error!(error = %e, jobs = n, "group commit failed");
        HubError::from(e)
    });
    let ok = outcome.is_ok();
    if ok {
        if !published.is_empty() {
            publish(published);
        }
        for a in afters {
            a();
        }
    }
    for (keep, done) in dones {
        // A job that rolled itself back gets its own error whatever the group did.
        done(if keep { outcome.clone() } else { Ok(()) });
    }
    metrics::histogram!("tally_commit_seconds").record(started.elapsed().as_secs_f64());
    metrics::histogram!("tally_commit_group_size").record(n as f64);
}
