//! Failed sign-in throttling, per username and per client address: in this hub's memory alone, or (with
//! `--broker`) counted in Redis so that guesses spread over several hubs share one budget.
//!
//! With Redis unreachable the local counters still apply (a hub never stops throttling); the outage is
//! logged and counted (`tally_throttle_redis_errors_total`).
use crate::auth::LoginThrottle;
use redis::aio::ConnectionManager;
use redis::AsyncCommands;

/// The window failures are counted in.
const WINDOW_MS: u64 = 5 * 60 * 1000;

pub struct Throttle {
    local: LoginThrottle,
    max_failures: u32,
    shared: Option<ConnectionManager>,
}

impl Throttle {
    pub fn local(max_failures: u32) -> Self {
        Throttle { local: LoginThrottle::new(max_failures), max_failures, shared: None }
    }

    /// Counts in Redis as well, on the hub's Redis connection (it reconnects by itself).
    pub fn shared(max_failures: u32, conn: ConnectionManager) -> Self {
        Throttle { local: LoginThrottle::new(max_failures), max_failures, shared: Some(conn) }
    }

    fn shared_key(key: &str) -> String {
        format!("tally:throttle:{key}")
    }

    fn redis_failed(e: redis::RedisError) {
        tracing::warn!(error = %e, "login throttle: redis unreachable, counting on this hub only");
        metrics::counter!("tally_throttle_redis_errors_total").increment(1);
    }

    pub async fn is_blocked(&self, keys: &[&str]) -> bool {
        if self.local.is_blocked(keys) {
            return true;
        }
        let Some(mut c) = self.shared.clone() else { return false };
        let names: Vec<String> = keys.iter().map(|k| Self::shared_key(k)).collect();
        match c.mget::<_, Vec<Option<u32>>>(&names).await {
            Ok(counts) => counts.into_iter().flatten().any(|n| n >= self.max_failures),
            Err(e) => {
                Self::redis_failed(e);
                false
            }
        }
    }

    /// Counts a failure under each key; returns the highest count in the window among them.
    pub async fn fail(&self, keys: &[&str]) -> u32 {
        let mut most = self.local.fail(keys);
        let Some(mut c) = self.shared.clone() else { return most };
        for k in keys {
            let name = Self::shared_key(k);
            // The window starts at the first failure; INCR and PEXPIRE NX in one round trip.
            let r: Result<(u32, i32), _> = redis::pipe()
                .incr(&name, 1)
                .cmd("PEXPIRE")
                .arg(&name)
                .arg(WINDOW_MS)
                .arg("NX")
                .query_async(&mut c)
                .await;
            match r {
                Ok((n, _)) => most = most.max(n),
                Err(e) => {
                    Self::redis_failed(e);
                    return most;
                }
            }
        }
        most
    }

    pub async fn succeed(&self, key: &str) {
        self.local.succeed(key);
        let Some(mut c) = self.shared.clone() else { return };
        if let Err(e) = c.del::<_, ()>(Self::shared_key(key)).await {
            Self::redis_failed(e);
        }
    }
}
