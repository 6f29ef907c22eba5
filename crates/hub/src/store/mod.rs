//! Storage: the write-job API the hub uses (`Store::write` / `Store::read`), the repositories the domain
//! asks of a database (`repo`), written once for both databases (`repos`) against the seam to their
//! drivers (`sql`), the one writer loop (`writer`), and the backends: SQLite (`sqlite`, the embedded
//! default) and PostgreSQL (`postgres`, for several hubs on one database).
pub mod postgres;
pub mod repo;
mod repos;
pub mod sql;
pub mod sqlite;
mod writer;

use crate::error::{HubError, HubResult};
use crate::published::Published;
pub use repo::Tx;
pub use sqlite::schema::{SCHEMA_V1, SCHEMA_VERSION};
use std::sync::{Arc, Mutex};
use tally_protocol::ErrorCode;
use tokio::sync::{mpsc, oneshot};

/// Events appended by one job, published after its transaction commits.
#[derive(Default)]
pub struct Emits {
    pub items: Vec<Published>,
    /// Work to do after commit (wake the transfer processor, end subscriptions, ...).
    pub after: Vec<Box<dyn FnOnce() + Send>>,
}

/// Called by a backend's writer with every committed group's events, in commit order.
pub type Publish = Arc<dyn Fn(Vec<Published>) + Send + Sync>;

/// A write job as a backend's writer runs it: `run` in a transaction (again, after a rollback, when the
/// backend hit a retryable conflict such as a deadlock with another hub), then `finish` once with
/// whether the transaction that kept it committed.
/// A job's body, as the writer calls it: true keeps its changes.
type RunFn = Box<dyn FnMut(&mut dyn Tx, &mut Emits) -> bool + Send>;
/// A read's body, as a backend's reader calls it.
pub type ReadFn<'a> = Box<dyn FnOnce(&mut dyn Tx) + Send + 'a>;

pub struct Job {
    run: RunFn,
    done: Box<dyn FnOnce(Result<(), HubError>) + Send>,
}

impl Job {
    /// Runs the job; true keeps its changes, false rolls them back (its error is kept for `finish`).
    pub fn run(&mut self, tx: &mut dyn Tx, emits: &mut Emits) -> bool {
        (self.run)(tx, emits)
    }
    /// Answers the caller: the job's own result if it failed, else whether its changes committed.
    pub fn finish(self, committed: Result<(), HubError>) {
        (self.done)(committed)
    }
}

/// Where a backend runs reads (blocking; the store calls it off the async runtime's threads).
pub trait Reader: Send + Sync {
    fn run(&self, f: ReadFn<'_>) -> HubResult<()>;
    /// How many reads can run at once (its connections).
    fn connections(&self) -> usize;
}

/// Handle to the store: submit write jobs to the backend's writer, run reads on its read connections.
#[derive(Clone)]
pub struct Store {
    jobs: mpsc::Sender<Job>,
    reader: Arc<dyn Reader>,
    /// One permit per read connection: a read waits here (a cheap async wait) before it takes a blocking
    /// thread, so a burst of reads (a reconnect storm) never parks hundreds of threads on the pool's lock.
    reads: Arc<tokio::sync::Semaphore>,
}

/// Which database: a SQLite file (the default) or a PostgreSQL URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

/// A balance change that would take an account past the largest amount a balance can hold (i64 minor
/// units): refused, nothing applied.
pub(crate) fn balance_overflow() -> HubError {
    HubError::invalid("that would take the balance past the largest amount Tally can hold")
}

impl From<r2d2::Error> for HubError {
    /// No connection from a read pool in time (either backend's): retryable.
    fn from(e: r2d2::Error) -> Self {
        HubError::storage_unavailable(e)
    }
}

fn closed() -> HubError {
    HubError::new(ErrorCode::Unavailable, "store closed")
}

impl Store {
    pub fn new(jobs: mpsc::Sender<Job>, reader: Arc<dyn Reader>) -> Store {
        let reads = Arc::new(tokio::sync::Semaphore::new(reader.connections().max(1)));
        Store { jobs, reader, reads }
    }

    /// Write jobs waiting for the writer now.
    pub fn queued(&self) -> usize {
        self.jobs.max_capacity() - self.jobs.capacity()
    }

    /// Opens the backend (creating or migrating its schema) and starts its writer.
    pub fn start(backend: &Backend, publish: Publish) -> HubResult<Store> {
        match backend {
            Backend::Sqlite(path) => sqlite::start(path, publish),
            Backend::Postgres(url) => postgres::start(url, publish),
        }
    }

    /// Runs `f` on the writer in its own savepoint. `Ok` keeps the changes (and publishes their events
    /// once committed); `Err` rolls them back. `f` may run more than once when the backend retries a
    /// conflict; only the last run's changes and events count.
    pub async fn write<T, F>(&self, mut f: F) -> HubResult<T>
    where
        T: Send + 'static,
        F: FnMut(&mut dyn Tx, &mut Emits) -> HubResult<T> + Send + 'static,
    {
        let (reply_tx, reply_rx) = oneshot::channel::<HubResult<T>>();
        let slot: Arc<Mutex<Option<HubResult<T>>>> = Arc::new(Mutex::new(None));
        let written = slot.clone();
        let run = Box::new(move |tx: &mut dyn Tx, emits: &mut Emits| {
            let r = f(tx, emits);
            let keep = r.is_ok();
            *written.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
            keep
        });
        let done = Box::new(move |committed: Result<(), HubError>| {
            let r = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
            let answer = match (r, committed) {
                (Some(Ok(v)), Ok(())) => Ok(v),
                (Some(Ok(_)), Err(e)) => Err(e),
                (Some(Err(e)), _) => Err(e),
                // Never ran: the backend could not even start a transaction (the database is gone).
                (None, Err(e)) => Err(e),
                (None, Ok(())) => Err(HubError::internal("a write job never ran")),
            };
            let _ = reply_tx.send(answer);
        });
        self.jobs.send(Job { run, done }).await.map_err(|_| closed())?;
        reply_rx.await.map_err(|_| closed())?
    }

    /// Runs a read-only query on a read connection, off the async runtime's threads.
    pub async fn read<T, F>(&self, f: F) -> HubResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Tx) -> HubResult<T> + Send + 'static,
    {
        let reader = self.reader.clone();
        let permit = self.reads.clone().acquire_owned().await.map_err(HubError::internal)?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit; // held until the read is done, even if the caller stops waiting
            let mut out: Option<HubResult<T>> = None;
            reader.run(Box::new(|tx| out = Some(f(tx))))?;
            out.unwrap_or_else(|| Err(HubError::internal("a read never ran")))
        })
        .await
        .map_err(HubError::internal)?
    }
}

/// A unit enum by its serde name (the protocol's snake_case strings): how both backends store enums.
pub fn enum_str<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => unreachable!("a unit enum serializes to a string"),
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}
