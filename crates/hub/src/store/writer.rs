//! The one writer loop both backends run: a thread that takes every job waiting (up to a group's worth)
//! and hands the group to the backend, which decides the transaction shape (SQLite: one transaction
//! with a savepoint per job, committed together; PostgreSQL: one transaction per job, retried on a
//! lost conflict).
use super::Job;
use crate::error::{HubError, HubResult};
use tokio::sync::mpsc;

/// Jobs waiting before `Store::write` callers wait for room.
const QUEUE: usize = 4096;
/// The most jobs one group holds.
const GROUP_MAX: usize = 512;

/// Starts the writer thread `name`, running `run_group` on each group of queued jobs in arrival order;
/// the sender is the store's job queue. The thread ends when every sender is gone.
pub fn spawn(name: &str, mut run_group: impl FnMut(Vec<Job>) + Send + 'static) -> HubResult<mpsc::Sender<Job>> {
    let (tx, mut rx) = mpsc::channel::<Job>(QUEUE);
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            while let Some(first) = rx.blocking_recv() {
                let mut jobs = vec![first];
                while jobs.len() < GROUP_MAX {
                    match rx.try_recv() {
                        Ok(j) => jobs.push(j),
                        Err(_) => break,
                    }
                }
                run_group(jobs);
            }
        })
        .map_err(HubError::internal)?;
    Ok(tx)
}
