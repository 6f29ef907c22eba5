//! PostgreSQL store (`--store postgres://…`): the source of truth for several hubs at once.
//!
//! Each hub has one writer thread with its own connection, running each job in a transaction of its own
//! (a group's locks held across jobs would let two hubs' groups deadlock) and publishing its events after
//! commit, in commit order. Other hubs write concurrently: ledger jobs first lock their parties' user
//! rows in id order, so jobs on the same users queue; channel heads are read `FOR UPDATE` inside a
//! write, so two hubs appending to one channel take turns and never reuse a seq; balances change by
//! conditional updates under a CHECK; idempotency keys are unique in the table. A job that still loses a
//! deadlock, a serialization or a unique race to another hub is rolled back and run again (up to three
//! times) — it then sees the winner's row.
//! Reads run on a pool. The sync `postgres` client keeps the domain code the same for both backends; it
//! runs only on the writer thread and on blocking threads, never on the async runtime.
mod driver;
pub use driver::PgTx;

use super::{Emits, Job, Publish, ReadFn, Reader, Store};
use crate::error::{HubError, HubResult};
use ::postgres::{Client, NoTls};
use driver::{from_pg, Statements};
use r2d2_postgres::PostgresConnectionManager;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod embedded {
    refinery::embed_migrations!("migrations/postgres");
}

/// How often a job that lost a conflict to another hub is run again before its caller gets `unavailable`.
const CONFLICT_RETRIES: u32 = 3;

/// A read connection with its own prepared statements (a statement belongs to one session).
struct ReadConn {
    client: Client,
    statements: Statements,
}

/// r2d2_postgres's manager, handing out connections that keep their prepared statements.
struct ReadConns(PostgresConnectionManager<NoTls>);

impl r2d2::ManageConnection for ReadConns {
    type Connection = ReadConn;
    type Error = ::postgres::Error;

    fn connect(&self) -> Result<ReadConn, ::postgres::Error> {
        Ok(ReadConn { client: self.0.connect()?, statements: Statements::default() })
    }

    fn is_valid(&self, c: &mut ReadConn) -> Result<(), ::postgres::Error> {
        self.0.is_valid(&mut c.client)
    }

    fn has_broken(&self, c: &mut ReadConn) -> bool {
        self.0.has_broken(&mut c.client)
    }
}

struct Readers(Option<r2d2::Pool<ReadConns>>);

impl Reader for Readers {
    fn run(&self, f: ReadFn<'_>) -> HubResult<()> {
        let pool = self.0.as_ref().ok_or_else(|| HubError::internal("read pool closed"))?;
        let mut c = pool.get()?;
        let ReadConn { client, statements } = &mut *c;
        f(&mut PgTx::new(client, statements, false));
        Ok(())
    }

    fn connections(&self) -> usize {
        self.0.as_ref().map_or(1, |p| p.max_size() as usize)
    }
}

impl Drop for Readers {
    /// Closing a sync client blocks on its own runtime: never on an async runtime's thread.
    fn drop(&mut self) {
        if let Some(pool) = self.0.take() {
            let _ = std::thread::spawn(move || drop(pool));
        }
    }
}

fn connect(url: &str) -> HubResult<Client> {
    Client::connect(url, NoTls).map_err(from_pg)
}

/// Brings the schema up to date (one hub at a time: an advisory lock) and refuses a newer one.
fn migrate(url: &str) -> HubResult<()> {
    let mut c = connect(url)?;
    c.execute("SELECT pg_advisory_lock(7317001)", &[]).map_err(from_pg)?;
    let r = embedded::migrations::runner().set_abort_divergent(true).set_abort_missing(true).run(&mut c);
    let _ = c.execute("SELECT pg_advisory_unlock(7317001)", &[]);
    r.map(|_| ()).map_err(|e| HubError::internal(format!("database migration failed: {e}")))
}

/// Connects (migrating the schema), starts the writer thread and the read pool.
pub fn start(url: &str, publish: Publish) -> HubResult<Store> {
    // The sync client runs its own small runtime: connect on a plain thread, never on the async runtime
    // that may be calling this.
    let (u, v) = (url.to_string(), url.to_string());
    let client = std::thread::spawn(move || migrate(&u).and_then(|()| connect(&u)))
        .join()
        .map_err(|_| HubError::internal("connecting to PostgreSQL panicked"))??;
    let config: ::postgres::Config = url.parse().map_err(|e| HubError::internal(format!("bad --store URL: {e}")))?;
    let readers = std::thread::spawn(move || {
        r2d2::Pool::builder()
            .max_size(8)
            .min_idle(Some(1))
            // Checked on check-out (one empty query): an idle sync client does not notice that the server
            // went away, and without the check the first read after PostgreSQL comes back would fail.
            .connection_timeout(Duration::from_secs(5))
            .build(ReadConns(PostgresConnectionManager::new(config, NoTls)))
    })
    .join()
    .map_err(|_| HubError::internal("connecting to PostgreSQL panicked"))??;
    let mut writer = Writer { url: v, client: Some(client), statements: Statements::default() };
    let jobs = super::writer::spawn("tally-pg-writer", move |group| writer.run_group(group, &*publish))?;
    Ok(Store::new(jobs, Arc::new(Readers(Some(readers)))))
}

/// The writer's connection, made again when the server went away, and its prepared statements.
struct Writer {
    url: String,
    client: Option<Client>,
    statements: Statements,
}

impl Writer {
    fn client(&mut self) -> HubResult<(&mut Client, &mut Statements)> {
        if self.client.as_ref().is_none_or(|c| c.is_closed()) {
            // A new session has none of the old one's statements.
            self.statements.clear();
            self.client = Some(connect(&self.url)?);
        }
        let client = self.client.as_mut().ok_or_else(|| HubError::internal("no connection"))?;
        Ok((client, &mut self.statements))
    }

    /// Runs the queued jobs one transaction each (locks are held for one job only, so hubs writing the
    /// same rows wait for each other briefly and never hold a group's locks while waiting), publishing
    /// each job's events after its commit, in commit order.
    fn run_group(&mut self, jobs: Vec<Job>, publish: &(dyn Fn(Vec<crate::published::Published>) + Send + Sync)) {
        let started = Instant::now();
        let n = jobs.len();
        for job in jobs {
            match self.client() {
                Ok((client, statements)) => run_job(client, statements, job, publish),
                Err(e) => job.finish(Err(e)),
            }
        }
        metrics::histogram!(crate::series::COMMIT_SECONDS).record(started.elapsed().as_secs_f64());
        metrics::histogram!(crate::series::COMMIT_GROUP_SIZE).record(n as f64);
    }
}

/// One job in its own transaction; one that lost a conflict to another hub is rolled back and run again.
fn run_job(
    client: &mut Client,
    statements: &mut Statements,
    mut job: Job,
    publish: &(dyn Fn(Vec<crate::published::Published>) + Send + Sync),
) {
    let mut attempt = 0;
    loop {
        let mut lost: Option<HubError> = None;
        let mut emits = Emits::default();
        let (keep, conflict) = match client.transaction() {
            Ok(mut tx) => {
                let mut ptx = PgTx::new(&mut tx, statements, true);
                let keep = job.run(&mut ptx, &mut emits);
                let conflict = ptx.conflict;
                if keep {
                    match tx.commit() {
                        Ok(()) => (true, false),
                        Err(e) if matches!(e.code().map(|c| c.code()), Some("40001" | "40P01")) => {
                            lost = Some(from_pg(e));
                            (false, true)
                        }
                        Err(e) => return job.finish(Err(from_pg(e))),
                    }
                } else {
                    let _ = tx.rollback();
                    (false, conflict)
                }
            }
            Err(e) => return job.finish(Err(from_pg(e))),
        };
        if keep {
            if !emits.items.is_empty() {
                publish(emits.items);
            }
            for a in emits.after {
                a();
            }
            return job.finish(Ok(()));
        }
        if conflict && attempt < CONFLICT_RETRIES {
            attempt += 1;
            metrics::counter!(crate::series::STORE_CONFLICT_RETRIES).increment(1);
            continue;
        }
        // The job's own error answers the caller, or the commit it lost.
        return job.finish(lost.map_or(Ok(()), Err));
    }
}
