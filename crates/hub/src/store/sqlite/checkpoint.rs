//! WAL checkpoints beside the writer, so that its commits copy little.
//!
//! SQLite's automatic checkpoint runs in the committing connection: by default every 1,000 WAL frames one
//! of the writer's commits also copies the WAL back into the database file and syncs it (measured: 11.6 %
//! of the writer's time under a payment load, docs/BENCHMARKS.md). This thread, on its own connection,
//! runs a PASSIVE checkpoint every `EVERY`: it copies what no reader still needs and never waits for the
//! writer or a reader. The writer's own checkpoint comes due only every `WRITER_EVERY_FRAMES`, and then
//! finds little left to copy.
//!
//! The writer's stays on because a checkpoint beside a steady writer never quite catches up: the WAL
//! starts over from its beginning only once every frame is in the database file, and without that it grows
//! without bound (measured: the writer then spent 10 % of its time in the kernel zeroing new file pages).
use crate::error::{HubError, HubResult};
use rusqlite::Connection;
use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

/// How often the checkpointer copies the WAL into the database.
const EVERY: Duration = Duration::from_millis(50);
/// The writer's own checkpoint comes due after this many WAL frames (SQLite's default is 1,000).
pub const WRITER_EVERY_FRAMES: i64 = 10_000;

/// Starts the checkpointer on `path`; it stops (after a last checkpoint) when `stop`'s sender is dropped,
/// which the writer thread does when the store closes.
pub fn spawn(path: &Path, stop: Receiver<()>) -> HubResult<()> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_millis(100))?;
    std::thread::Builder::new()
        .name("tally-store-checkpoint".into())
        .spawn(move || loop {
            let last = matches!(stop.recv_timeout(EVERY), Err(RecvTimeoutError::Disconnected) | Ok(()));
            if let Err(e) = passive(&conn) {
                tracing::warn!(error = %e, "WAL checkpoint failed; the next one retries");
            }
            if last {
                break;
            }
        })
        .map_err(HubError::internal)?;
    Ok(())
}

/// One PASSIVE checkpoint; records the WAL's length in frames and how many are in the database file.
fn passive(conn: &Connection) -> rusqlite::Result<()> {
    let (busy, log, done): (i64, i64, i64) =
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    metrics::gauge!(crate::series::WAL_FRAMES).set(log.max(0) as f64);
    metrics::gauge!(crate::series::WAL_BEHIND).set((log - done).max(0) as f64);
    if busy != 0 {
        tracing::debug!(log, done, "WAL checkpoint could not finish (a reader or the writer holds it)");
    }
    Ok(())
}
