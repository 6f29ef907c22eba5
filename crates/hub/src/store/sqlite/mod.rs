//! SQLite store: one writer thread fed by a channel (group commit), readers on a pool.
//!
//! Every state change runs as a job on the writer thread inside a savepoint of a shared transaction; the
//! events it appends to channel logs are published (fan-out) only after that transaction commits, in
//! commit order. A job that fails is rolled back alone; the others in its group still commit.
mod checkpoint;
mod driver;
pub mod schema;

pub use driver::SqliteTx;

use super::repo::LogRepo;
use super::sql::Heads;
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
    // SQLite's automatic checkpoint stays on, as a backstop every 10,000 WAL frames (40 MiB): it is what
    // lets the WAL start over under a steady load. The checkpointer thread (checkpoint.rs) copies most
    // frames long before it comes due.
    conn.pragma_update(None, "wal_autocheckpoint", checkpoint::WRITER_EVERY_FRAMES)?;
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

    fn connections(&self) -> usize {
        self.0.max_size() as usize
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
    let mut heads = WriterHeads::default();
    let (checkpoints, stop_checkpoints) = std::sync::mpsc::channel::<()>();
    checkpoint::spawn(path, stop_checkpoints)?;
    let jobs = super::writer::spawn("tally-store-writer", move |group| {
        let _checkpoints = &checkpoints; // dropped with the writer: the checkpointer stops too
        run_group(&mut writer, &mut heads, group, &*publish)
    })?;
    Ok(Store::new(jobs, Arc::new(Readers(readers))))
}

/// The writer's channel heads, kept across group commits (this writer is the file's only writer; another
/// connection's commit is noticed by `data_version` and empties them).
#[derive(Default)]
struct WriterHeads {
    known: Heads,
    data_version: i64,
}

/// Heads kept at most; past this they are dropped after a commit and read again as needed.
const HEADS_MAX: usize = 200_000;

impl WriterHeads {
    /// Forgets every head when another connection committed since the last group.
    fn check(&mut self, tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
        let v: i64 = tx.pragma_query_value(None, "data_version", |r| r.get(0))?;
        if v != self.data_version {
            self.known.clear();
            self.data_version = v;
        }
        Ok(())
    }
}

fn run_group(
    writer: &mut Connection,
    heads: &mut WriterHeads,
    jobs: Vec<Job>,
    publish: &(dyn Fn(Vec<Published>) + Send + Sync),
) {
    let started = Instant::now();
    let n = jobs.len();
    let mut done: Vec<(bool, Job)> = Vec::with_capacity(n);
    let mut published = Vec::new();
    let mut afters = Vec::new();
    let mut moved = Heads::new();
    let committed = (|| -> HubResult<()> {
        let mut tx = writer.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        heads.check(&tx)?;
        for mut job in jobs {
            let sp = tx.savepoint()?;
            let mut emits = Emits::default();
            let mut db = SqliteTx::writer(&sp, &heads.known);
            let keep = job.run(&mut db, &mut emits);
            let seen = db.into_heads();
            if keep {
                sp.commit()?;
                published.extend(emits.items);
                afters.extend(emits.after);
                keep_heads(&mut heads.known, &mut moved, seen);
            } else {
                drop(sp); // rolls back this job only
            }
            done.push((keep, job));
        }
        SqliteTx::writer(&tx, &Heads::new()).write_heads(&moved)?;
        tx.commit()?;
        Ok(())
    })();
    if committed.is_err() || heads.known.len() > HEADS_MAX {
        heads.known.clear(); // read again from what did commit
    }
    let outcome = committed.inspect_err(|e| tracing::error!(error = %e, jobs = n, "group commit failed"));
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

/// Takes a kept job's heads into the writer's: the ones it moved are written before the group commits.
fn keep_heads(known: &mut Heads, moved: &mut Heads, seen: Heads) {
    for (key, head) in seen {
        if known.get(&key) != Some(&head) {
            moved.insert(key.clone(), head.clone());
            known.insert(key, head);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::HubError;
    use crate::ids::TenantId;
    use crate::store::{Backend, Tx};
    use tally_protocol::{Channel, EventData};

    const T: TenantId = TenantId(1);
    const C: Channel = Channel::User(7);

    fn store(dir: &Path) -> Store {
        Store::start(&Backend::Sqlite(dir.join("hub.db")), Arc::new(|_| {})).unwrap()
    }

    fn event() -> EventData {
        EventData::RoomLeft { room: 1 }
    }

    /// Appends `n` events in one job; `fail` rolls the job back after appending.
    async fn append(s: &Store, n: usize, fail: bool) -> HubResult<Vec<u64>> {
        s.write(move |tx, emits| {
            let seqs = (0..n).map(|_| crate::log::append(tx, emits, T, C, event())).collect::<HubResult<Vec<_>>>()?;
            if fail {
                return Err(HubError::invalid("rolled back on purpose"));
            }
            Ok(seqs)
        })
        .await
    }

    /// The head and every stored seq, as a read connection sees them (what a subscriber replays).
    async fn stored(s: &Store) -> (u64, Vec<u64>) {
        s.read(|tx: &mut dyn Tx| {
            let head = tx.channel_head(T, &C)?.map(|h| h.seq).unwrap_or(0);
            let seqs = tx.events_between(T, &C, 1, u64::MAX >> 2, 1_000)?.into_iter().map(|(s, _)| s).collect();
            Ok((head, seqs))
        })
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn heads_kept_in_memory_number_every_event_once_across_jobs_rollbacks_and_groups() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        assert_eq!(append(&s, 2, false).await.unwrap(), [1, 2]);
        assert!(append(&s, 3, true).await.is_err());
        assert_eq!(append(&s, 1, false).await.unwrap(), [3], "a rolled-back job's seqs are used again");
        // Many jobs at once share groups: kept and rolled-back jobs interleaved.
        let jobs: Vec<_> = (0..40).map(|i| append(&s, 2, i % 3 == 0)).collect();
        let kept: usize = futures_util::future::join_all(jobs).await.iter().filter_map(|r| r.as_ref().ok()).count();
        let (head, seqs) = stored(&s).await;
        assert_eq!(head, 3 + 2 * kept as u64, "the head row committed with the group");
        assert_eq!(seqs, (1..=head).collect::<Vec<_>>(), "no gap, no duplicate");
    }

    #[tokio::test]
    async fn another_connection_s_commit_is_read_again_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        assert_eq!(append(&s, 2, false).await.unwrap(), [1, 2]);
        // Someone else appends seq 3 to the same file (an admin's tool, another process).
        let other = Connection::open(dir.path().join("hub.db")).unwrap();
        other
            .execute_batch(
                "INSERT INTO events (tenant_id, channel, seq, ts, json) VALUES (1, 'user:7', 3, 0, '{}');
                 UPDATE channels SET head = 3 WHERE tenant_id = 1 AND channel = 'user:7';",
            )
            .unwrap();
        assert_eq!(append(&s, 1, false).await.unwrap(), [4], "the writer saw the other commit");
        assert_eq!(stored(&s).await, (4, vec![1, 2, 3, 4]));
    }

    #[tokio::test]
    async fn the_checkpointer_copies_the_wal_into_the_database_file() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        append(&s, 5, false).await.unwrap();
        // `immutable=1` reads the database file alone, never the WAL: the events are there only once a
        // checkpoint copied them (SQLite's own comes due after 1,000 frames; this is a handful).
        let file = format!("file:{}?immutable=1", dir.path().join("hub.db").display());
        let in_file = || -> i64 {
            let c = Connection::open_with_flags(&file, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI)
                .unwrap();
            c.query_row("SELECT COUNT(*) FROM events WHERE channel = 'user:7'", [], |r| r.get(0)).unwrap_or(0)
        };
        let deadline = Instant::now() + std::time::Duration::from_secs(10);
        while in_file() < 5 && Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(in_file(), 5);
    }

    /// 400 reads at once (a reconnect storm's worth) all answer, and they run on about as many blocking
    /// threads as there are read connections: the rest wait their turn without a thread each (before,
    /// each took its own thread to block on the pool: hundreds, switching in and out).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_of_reads_waits_for_a_connection_without_a_thread_each() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let threads = Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
        let reads = (0..400).map(|_| {
            let (s, threads) = (s.clone(), threads.clone());
            tokio::spawn(async move {
                s.read(move |tx: &mut dyn Tx| {
                    threads.lock().unwrap().insert(std::thread::current().id());
                    std::thread::sleep(std::time::Duration::from_millis(2));
                    tx.channel_head(T, &C)
                })
                .await
            })
        });
        for r in futures_util::future::join_all(reads).await {
            assert!(r.unwrap().is_ok());
        }
        let used = threads.lock().unwrap().len();
        assert!(used <= 16, "{used} blocking threads for 8 read connections");
    }
}
