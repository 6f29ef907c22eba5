//! Every password hash and check (argon2, 19 MiB and tens of milliseconds each) goes through one small
//! gate: as many at once as the machine has cores, a short queue behind them, and `rate_limited` with a
//! retry hint once the queue is full. A flood of sign-ins costs queueing, never memory.
use crate::error::{HubError, HubResult};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tally_protocol::ErrorCode;
use tokio::sync::Semaphore;

pub struct PasswordWork {
    permits: Arc<Semaphore>,
    /// Running and waiting, together.
    inside: Arc<AtomicUsize>,
    most_inside: usize,
}

/// Seconds a refused caller is told to wait.
pub const BUSY_RETRY_SECS: u64 = 1;

struct Inside(Arc<AtomicUsize>);
impl Drop for Inside {
    fn drop(&mut self) {
        let now = self.0.fetch_sub(1, Ordering::AcqRel) - 1;
        metrics::gauge!("tally_password_work_inside").set(now as f64);
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
        }
    }

    /// A new hash of `password`.
    pub async fn hash(&self, password: String) -> HubResult<String> {
        self.run("hash", move || crate::auth::hash_password(&password)).await?
    }

    /// Whether `password` matches `hash`.
    pub async fn verify(&self, password: String, hash: String) -> HubResult<bool> {
        self.run("verify", move || crate::auth::verify_password(&password, &hash)).await
    }

    async fn run<T: Send + 'static>(
        &self,
        op: &'static str,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> HubResult<T> {
        let entered = self.inside.fetch_add(1, Ordering::AcqRel) + 1;
        let inside = Inside(self.inside.clone());
        if entered > self.most_inside {
            metrics::counter!("tally_password_work_refused_total").increment(1);
            return Err(busy());
        }
        metrics::gauge!("tally_password_work_inside").set(entered as f64);
        let permit = self.permits.clone().acquire_owned().await.map_err(HubError::internal)?;
        metrics::counter!("tally_password_hashes_total", "op" => op).increment(1);
        let done = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(HubError::internal);
        drop(inside);
        done
    }
}

fn busy() -> HubError {
    HubError::new(ErrorCode::RateLimited, "the server is busy checking passwords; try again in a moment")
}

/// Every series this gate reports, present at zero from the start.
pub fn describe() {
    metrics::describe_counter!("tally_password_hashes_total", "Password hashes (op=hash) and checks (op=verify) run");
    metrics::describe_counter!(
        "tally_password_work_refused_total",
        "Password hashes and checks refused because the queue was full (answered 429)"
    );
    metrics::describe_gauge!("tally_password_work_inside", "Password hashes and checks running or waiting");
    for op in ["hash", "verify"] {
        metrics::counter!("tally_password_hashes_total", "op" => op).absolute(0);
    }
    metrics::counter!("tally_password_work_refused_total").absolute(0);
    metrics::gauge!("tally_password_work_inside").set(0.0);
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
            running.push(tokio::spawn(async move { w.run("verify", move || rx.lock().unwrap().recv().is_ok()).await }));
        }
        while work.inside.load(Ordering::Acquire) < 3 {
            tokio::task::yield_now().await;
        }
        let refused = work.run("verify", || true).await.unwrap_err();
        assert_eq!(refused.code, ErrorCode::RateLimited);
        for _ in 0..3 {
            tx.send(()).unwrap();
        }
        for r in running {
            assert!(r.await.unwrap().unwrap());
        }
        assert!(work.run("verify", || true).await.unwrap(), "room again once they are done");
    }
}
