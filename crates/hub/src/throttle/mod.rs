//! Throttles for guesses (passwords, two-factor codes, invite codes, taken usernames), per key (a
//! username, a client address): in this hub's memory alone, or (with `--broker`) counted in Redis as
//! well, so that guesses spread over several hubs share one budget.
//!
//! An attempt is counted *before* the guess is checked (`attempt`), so requests that arrive together
//! cannot all pass a check that each sees under the limit; an attempt that turns out not to be a guess
//! (the right password, a weak new password) is given back (`release`).
//!
//! With Redis unreachable the local counters still apply (a hub never stops throttling); the outage is
//! logged and counted (`tally_throttle_redis_errors_total`).
mod address;
mod table;

pub use address::address_key;
pub use table::Blocked;

use redis::aio::ConnectionManager;
use table::Table;

/// The window failures are counted in.
const WINDOW_MS: i64 = 5 * 60 * 1000;
/// Keys the hub's own table holds at most (a few MiB).
const LOCAL_KEYS: usize = 100_000;

pub struct Throttle {
    local: Table,
    max_failures: u32,
    shared: Option<ConnectionManager>,
}

fn now_ms() -> i64 {
    crate::store::now_ms()
}

impl Throttle {
    pub fn local(max_failures: u32) -> Self {
        Throttle { local: Table::new(max_failures, WINDOW_MS, LOCAL_KEYS), max_failures, shared: None }
    }

    /// Counts in Redis as well, on the hub's Redis connection (it reconnects by itself).
    pub fn shared(max_failures: u32, conn: ConnectionManager) -> Self {
        Throttle { shared: Some(conn), ..Throttle::local(max_failures) }
    }

    fn shared_key(key: &str) -> String {
        format!("tally:throttle:{key}")
    }

    fn redis_failed(e: redis::RedisError) {
        tracing::warn!(error = %e, "throttle: redis unreachable, counting on this hub only");
        metrics::counter!(crate::series::THROTTLE_REDIS_ERRORS).increment(1);
    }

    /// Takes one attempt under every key before the guess is checked; `Blocked` (nothing checked, nothing
    /// more counted here) when any key has used its budget, on this hub or (with Redis) on any.
    pub async fn attempt(&self, keys: &[&str]) -> Result<u32, Blocked> {
        let most = self.local.attempt(keys, now_ms())?;
        let Some(mut c) = self.shared.clone() else { return Ok(most) };
        match Self::incr(&mut c, keys).await {
            Ok(counts) => {
                if let Some((k, _)) = keys.iter().zip(&counts).find(|(_, n)| **n > self.max_failures) {
                    self.local.release(keys);
                    let ttl: i64 = redis::cmd("PTTL").arg(Self::shared_key(k)).query_async(&mut c).await.unwrap_or(0);
                    return Err(Blocked { retry_after_ms: ttl.max(1000) });
                }
                Ok(counts.into_iter().max().unwrap_or(most).max(most))
            }
            Err(e) => {
                Self::redis_failed(e);
                Ok(most)
            }
        }
    }

    /// INCR and PEXPIRE NX for every key in one round trip (the window starts at the first attempt).
    async fn incr(c: &mut ConnectionManager, keys: &[&str]) -> redis::RedisResult<Vec<u32>> {
        let mut pipe = redis::pipe();
        for k in keys {
            let name = Self::shared_key(k);
            pipe.incr(&name, 1).cmd("PEXPIRE").arg(&name).arg(WINDOW_MS).arg("NX").ignore();
        }
        pipe.query_async(c).await
    }

    /// Counts a failure under every key whatever their counts (a burst detector, not a gate); the
    /// highest count in the window among them.
    pub async fn fail(&self, keys: &[&str]) -> u32 {
        let most = self.local.fail(keys, now_ms());
        let Some(mut c) = self.shared.clone() else { return most };
        match Self::incr(&mut c, keys).await {
            Ok(counts) => counts.into_iter().max().unwrap_or(most).max(most),
            Err(e) => {
                Self::redis_failed(e);
                most
            }
        }
    }

    /// Gives back the attempt taken under every key: it was not a guess (or it was right).
    pub async fn release(&self, keys: &[&str]) {
        self.local.release(keys);
        let Some(mut c) = self.shared.clone() else { return };
        let mut pipe = redis::pipe();
        for k in keys {
            pipe.decr(Self::shared_key(k), 1).ignore();
        }
        if let Err(e) = pipe.query_async::<()>(&mut c).await {
            Self::redis_failed(e);
        }
    }

    /// Forgets every failure under `key` (the user proved who they are).
    pub async fn clear(&self, key: &str) {
        self.local.clear(key);
        let Some(mut c) = self.shared.clone() else { return };
        if let Err(e) = redis::cmd("DEL").arg(Self::shared_key(key)).query_async::<()>(&mut c).await {
            Self::redis_failed(e);
        }
    }
}
