//! SQLite store: one writer thread fed by a channel (group commit), readers on a pool.
//!
//! Every state change runs as a job on the writer thread inside a savepoint of a shared transaction; the
//! events it appends to channel logs are published (fan-out) only after that transaction commits, in
//! commit order. A job that fails is rolled back alone; the others in its group still commit.
mod driver;
pub mod schema;

pub use driver::SqliteTx;

use super::{Emits, Job, Publish, ReadFn, Reader, Store};
use crate::error::{HubError, HubResult};
use crate::published::Published;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

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

/// Read connections: a pool of read-only connections on the same file (WAL lets them read while the
/// writer writes).
struct Readers(r2d2::Pool<SqliteConnectionManager>);

impl Reader for Readers {
    fn run(&self, f: ReadFn<'_>) -> HubResult<()> {
        let conn = self.0.get()?;
        f(&mut SqliteTx::reader(&conn));
        Ok(())
    }
}

/// Opens the database (creating or migrating it), starts the writer thread and the read pool.
pub fn start(path: &Path, publish: Publish) -> HubResult<Store> {
    let mut writer = open_writer(path)?;
    let manager = SqliteConnectionManager::file(path)
        .with_flags(OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI)
        .with_init(|c| {
            c.busy_timeout(std::time::Duration::from_secs(5))?;
            c.set_prepared_statement_cache_capacity(128);
            c.pragma_update(None, "query_only", "ON")
        });
    let readers = r2d2::Pool::builder().max_size(8).build(manager)?;
    let jobs = super::writer::spawn("tally-store-writer", move |group| run_group(&mut writer, group, &*publish))?;
    Ok(Store::new(jobs, Arc::new(Readers(readers))))
}

fn run_group(writer: &mut Connection, jobs: Vec<Job>, publish: &(dyn Fn(Vec<Published>) + Send + Sync)) {
    let started = Instant::now();
    let n = jobs.len();
    let mut done: Vec<(bool, Job)> = Vec::with_capacity(n);
    let mut published = Vec::new();
    let mut afters = Vec::new();
    let committed = (|| -> rusqlite::Result<()> {
        let mut tx = writer.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for mut job in jobs {
            let sp = tx.savepoint()?;
            let mut emits = Emits::default();
            let keep = job.run(&mut SqliteTx::writer(&sp), &mut emits);
            if keep {
                sp.commit()?;
                published.extend(emits.items);
                afters.extend(emits.after);
            } else {
                drop(sp); // rolls back this job only
            }
            done.push((keep, job));
        }
        tx.commit()
    })();
    let outcome = committed.map_err(|e| {
        tracing::error!(error = %e, jobs = n, "group commit failed");
        HubError::from(e)
    });
    if outcome.is_ok() {
        if !published.is_empty() {
            publish(published);
        }
        for a in afters {
            a();
        }
    }
    for (keep, job) in done {
        // A job that rolled itself back keeps its own error whatever the group did.
        job.finish(if keep { outcome.clone() } else { Ok(()) });
    }
    metrics::histogram!(crate::series::COMMIT_SECONDS).record(started.elapsed().as_secs_f64());
    metrics::histogram!(crate::series::COMMIT_GROUP_SIZE).record(n as f64);
}
