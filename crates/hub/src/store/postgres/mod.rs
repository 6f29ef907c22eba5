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
mod auth;
mod chat;
mod ledger;
mod log;
mod notify;
mod security;

use super::{Emits, Job, Publish, ReadFn, Reader, Store, Tx};
use crate::error::{HubError, HubResult};
use ::postgres::{Client, GenericClient, NoTls, Row, Statement};
use r2d2_postgres::PostgresConnectionManager;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

mod embedded {
    refinery::embed_migrations!("migrations/postgres");
}

/// How often a job that lost a conflict to another hub is run again before its caller gets `unavailable`.
const CONFLICT_RETRIES: u32 = 3;

/// A connection's prepared statements by their SQL: a statement is parsed and planned once per
/// connection, and each use is one round trip instead of two (prepare, then execute). Prepared statements
/// belong to the session, so they outlive the transaction that prepared them (a rollback included).
#[derive(Default)]
struct Statements(HashMap<String, Statement>);

/// More distinct statements than the hub's SQL has means they are being built per call: start over.
const STATEMENTS_MAX: usize = 1_024;

/// The PostgreSQL backend's transaction handle over a client, a transaction or a savepoint.
pub struct PgTx<'a, C: GenericClient> {
    c: &'a mut C,
    /// Inside a write: read channel heads `FOR UPDATE`.
    writing: bool,
    /// The last error was a conflict with another writer (deadlock, serialization, unique race).
    conflict: bool,
    /// The connection's statement cache (the writer's, or a pooled read connection's).
    statements: &'a mut Statements,
    /// Channel heads this transaction has locked (`FOR UPDATE`) and moved since: (tenant, channel).
    heads: HashMap<(i64, String), crate::log::Head>,
}

impl<'a, C: GenericClient> PgTx<'a, C> {
    fn new(c: &'a mut C, statements: &'a mut Statements, writing: bool) -> Self {
        PgTx { c, writing, conflict: false, statements, heads: HashMap::new() }
    }

    /// The prepared statement for `sql` from the cache, preparing it on first use.
    fn statement(&mut self, sql: &str) -> HubResult<Statement> {
        if let Some(st) = self.statements.0.get(sql) {
            return Ok(st.clone());
        }
        if self.statements.0.len() >= STATEMENTS_MAX {
            self.statements.0.clear();
        }
        let st = self.c.prepare(sql).map_err(|e| self.fail(e))?;
        self.statements.0.insert(sql.to_string(), st.clone());
        Ok(st)
    }

    fn fail(&mut self, e: ::postgres::Error) -> HubError {
        let code = e.code().map(|c| c.code().to_string());
        match code.as_deref() {
            Some("40001" | "40P01" | "23505") => {
                self.conflict = true;
                HubError::storage_unavailable(from_pg(e).cause.unwrap_or_default())
            }
            Some("23514") => HubError::new(tally_protocol::ErrorCode::InsufficientFunds, "insufficient funds"),
            _ => from_pg(e),
        }
    }

    fn rows(&mut self, sql: &str, params: &[&(dyn ::postgres::types::ToSql + Sync)]) -> HubResult<Vec<Row>> {
        let st = self.statement(sql)?;
        self.c.query(&st, params).map_err(|e| self.fail(e))
    }

    fn opt(&mut self, sql: &str, params: &[&(dyn ::postgres::types::ToSql + Sync)]) -> HubResult<Option<Row>> {
        let st = self.statement(sql)?;
        self.c.query_opt(&st, params).map_err(|e| self.fail(e))
    }

    fn one(&mut self, sql: &str, params: &[&(dyn ::postgres::types::ToSql + Sync)]) -> HubResult<Row> {
        let st = self.statement(sql)?;
        self.c.query_one(&st, params).map_err(|e| self.fail(e))
    }

    fn exec(&mut self, sql: &str, params: &[&(dyn ::postgres::types::ToSql + Sync)]) -> HubResult<u64> {
        let st = self.statement(sql)?;
        self.c.execute(&st, params).map_err(|e| self.fail(e))
    }
}

impl<C: GenericClient> Tx for PgTx<'_, C> {
    fn ping(&mut self) -> HubResult<()> {
        self.one("SELECT 1", &[]).map(|_| ())
    }
    fn take_lease(&mut self, name: &str, holder: &str, until: i64, now: i64) -> HubResult<bool> {
        let r = self.opt(
            "INSERT INTO leases (name, holder, until) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET holder = $2, until = $3 WHERE leases.until < $4 OR leases.holder = $2
             RETURNING holder",
            &[&name, &holder, &until, &now],
        )?;
        Ok(r.is_some())
    }
}

/// A PostgreSQL error as the hub's: the server gone, out of space or overloaded is the retryable
/// `unavailable`; anything else `internal`. The cause is kept either way.
pub(crate) fn from_pg(e: ::postgres::Error) -> HubError {
    let class = e.code().map(|c| c.code()[..2].to_string());
    // The server's own words (SQLSTATE and message; not the detail, which can quote row values).
    let cause = match e.as_db_error() {
        Some(d) => format!("postgres {}: {}", d.code().code(), d.message()),
        None => format!("postgres: {e}"),
    };
    if e.is_closed() || matches!(class.as_deref(), Some("08" | "53" | "57" | "40")) || e.code().is_none() {
        HubError::storage_unavailable(cause)
    } else {
        HubError::internal(cause)
    }
}

/// A column of a row, typed; a stored value of the wrong type is a storage error.
pub(crate) fn col<'r, T: ::postgres::types::FromSql<'r>>(r: &'r Row, i: usize) -> HubResult<T> {
    r.try_get(i).map_err(HubError::internal)
}

/// A stored enum written as its serde name (the protocol's snake_case strings).
pub(crate) fn enum_from<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> HubResult<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .map_err(|_| HubError::internal(format!("unreadable {what} {s:?}")))
}

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
    let (tx, mut rx) = mpsc::channel::<Job>(4096);
    std::thread::Builder::new()
        .name("tally-pg-writer".into())
        .spawn(move || {
            while let Some(first) = rx.blocking_recv() {
                let mut jobs = vec![first];
                while jobs.len() < 512 {
                    match rx.try_recv() {
                        Ok(j) => jobs.push(j),
                        Err(_) => break,
                    }
                }
                writer.run_group(jobs, &*publish);
            }
        })
        .map_err(HubError::internal)?;
    Ok(Store::new(tx, Arc::new(Readers(Some(readers)))))
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
            self.statements.0.clear();
            self.client = Some(connect(&self.url)?);
        }
        let client = self.client.as_mut().ok_or_else(|| HubError::internal("no connection"))?;
        Ok((client, &mut self.statements))
    }

    /// Runs the queued jobs one transaction each (locks are held for one job only, so hubs writing the
    /// same rows wait for each other briefly and never hold a group's locks while waiting), publishing
    /// each job's events after its commit, in commit order.
    fn run_group(&mut self, jobs: Vec<Job>, publish: &(dyn Fn(Vec<crate::fanout::Published>) + Send + Sync)) {
        let started = Instant::now();
        let n = jobs.len();
        for job in jobs {
            match self.client() {
                Ok((client, statements)) => run_job(client, statements, job, publish),
                Err(e) => job.finish(Err(e)),
            }
        }
        metrics::histogram!("tally_commit_seconds").record(started.elapsed().as_secs_f64());
        metrics::histogram!("tally_commit_group_size").record(n as f64);
    }
}

/// One job in its own transaction; one that lost a conflict to another hub is rolled back and run again.
fn run_job(
    client: &mut Client,
    statements: &mut Statements,
    mut job: Job,
    publish: &(dyn Fn(Vec<crate::fanout::Published>) + Send + Sync),
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
            metrics::counter!("tally_store_conflict_retries_total").increment(1);
            continue;
        }
        // The job's own error answers the caller, or the commit it lost.
        return job.finish(lost.map_or(Ok(()), Err));
    }
}
