//! Every password hash and check (argon2, 19 MiB and tens of milliseconds each) goes through one small
//! gate: as many at once as the machine has cores, a short queue behind them, and `rate_limited` with a
//! retry hint once the queue is full. A flood of sign-ins costs queueing, never memory.
//!
//! The work runs on threads of its own, one per place, not on tokio's blocking pool: glibc keeps a freed
//! 19 MiB block in the arena of the thread that used it, so hashes spread over the hundreds of blocking
//! threads a flood wakes kept ~700 MiB resident (measured with `tally-bench flood`); on its own threads
//! argon2's memory stays at (places × 19 MiB).
use crate::error::{HubError, HubResult};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tally_protocol::ErrorCode;
use tokio::sync::Semaphore;

type Job = Box<dyn FnOnce() + Send>;

pub struct PasswordWork {
    permits: Arc<Semaphore>,
    /// Running and waiting, together.
    inside: Arc<AtomicUsize>,
    most_inside: usize,
    /// The workers' queue; they end when it is dropped (with the hub).
    jobs: std::sync::Mutex<std::sync::mpsc::Sender<Job>>,
}

/// `n` threads that run jobs from one queue until its sender is dropped.
fn workers(n: usize) -> std::sync::mpsc::Sender<Job> {
    let (tx, rx) = std::sync::mpsc::channel::<Job>();
    let rx = Arc::new(std::sync::Mutex::new(rx));
    for i in 0..n {
        let rx = rx.clone();
        let spawned = std::thread::Builder::new().name(format!("tally-password-{i}")).spawn(move || loop {
            let job = match rx.lock().unwrap_or_else(|e| e.into_inner()).recv() {
                Ok(job) => job,
                Err(_) => return,
            };
            job();
        });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start a password worker thread");
        }
    }
    tx
}

/// Seconds a refused caller is told to wait.
pub const BUSY_RETRY_SECS: u64 = 1;

struct Inside(Arc<AtomicUsize>);
impl Drop for Inside {
    fn drop(&mut self) {
        let now = self.0.fetch_sub(1, Ordering::AcqRel) - 1;
        metrics::gauge!(crate::series::PASSWORD_WORK_INSIDE).set(now as f64);
    }
}

impl PasswordWork {
    /// `parallel` hashes at once (0: one per core), `queue` more waiting for their turn.
    pub fn new(parallel: usize, queue: usize) -> Self {
        let parallel =
            if parallel == 0 { std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) } else { parallel };
        PasswordWork {
            permits: Arc::new(Semaphore::new(parallel)),
            inside: Arc::default(),
            most_inside: parallel + queue,
            jobs: std::sync::Mutex::new(workers(parallel)),
        }
    }

    /// A place in the gate, taken before anything else of a request that will need password work (its
    /// database reads included): a full queue refuses at once, having cost nothing.
    pub fn ticket(&self) -> HubResult<Ticket<'_>> {
        let entered = self.inside.fetch_add(1, Ordering::AcqRel) + 1;
        let inside = Inside(self.inside.clone());
        if entered > self.most_inside {
            metrics::counter!(crate::series::PASSWORD_WORK_REFUSED).increment(1);
            return Err(busy());
        }
        metrics::gauge!(crate::series::PASSWORD_WORK_INSIDE).set(entered as f64);
        Ok(Ticket { work: self, _inside: inside })
    }

    /// A new hash of `password`.
    pub async fn hash(&self, password: String) -> HubResult<String> {
        self.ticket()?.hash(password).await
    }

    /// Whether `password` matches `hash`.
    pub async fn verify(&self, password: String, hash: String) -> HubResult<bool> {
        self.ticket()?.verify(password, hash).await
    }
}

/// A place in the password gate (running or waiting); given back when dropped.
pub struct Ticket<'a> {
    work: &'a PasswordWork,
    _inside: Inside,
}

impl Ticket<'_> {
    pub async fn hash(self, password: String) -> HubResult<String> {
        self.run("hash", move || crate::auth::passwords::hash_password(&password)).await?
    }

    pub async fn verify(self, password: String, hash: String) -> HubResult<bool> {
        self.run("verify", move || crate::auth::passwords::verify_password(&password, &hash)).await
    }

    async fn run<T: Send + 'static>(self, op: &'static str, work: impl FnOnce() -> T + Send + 'static) -> HubResult<T> {
        let permit = self.work.permits.clone().acquire_owned().await.map_err(HubError::internal)?;
        metrics::counter!(crate::series::PASSWORD_HASHES, "op" => op).increment(1);
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _permit = permit;
            let _ = tx.send(work());
        });
        let sent = self.work.jobs.lock().unwrap_or_else(|e| e.into_inner()).send(job);
        sent.map_err(|_| HubError::internal("the password workers are gone"))?;
        rx.await.map_err(|_| HubError::internal("a password worker stopped"))
    }
}

fn busy() -> HubError {
    HubError::new(ErrorCode::RateLimited, "the server is busy checking passwords; try again in a moment")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_and_the_rest_all_run() {
        let work = Arc::new(PasswordWork::new(1, 2));
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let rx = Arc::new(std::sync::Mutex::new(rx));
        let mut running = vec![];
        for _ in 0..3 {
            let (w, rx) = (work.clone(), rx.clone());
            running.push(tokio::spawn(async move {
                w.ticket().unwrap().run("verify", move || rx.lock().unwrap().recv().is_ok()).await
            }));
        }
        while work.inside.load(Ordering::Acquire) < 3 {
            tokio::task::yield_now().await;
        }
        let refused = work.ticket().err().unwrap();
        assert_eq!(refused.code, ErrorCode::RateLimited);
        for _ in 0..3 {
            tx.send(()).unwrap();
        }
        for r in running {
            assert!(r.await.unwrap().unwrap());
        }
        assert!(work.ticket().unwrap().run("verify", || true).await.unwrap(), "room again once they are done");
    }
}
