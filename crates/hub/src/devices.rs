//! Which hubs hold a user's connections, so presence is right across hubs: a user connected to hub A and
//! hub B is not shown offline when the A device goes away, and hub C (with no device of theirs) shows
//! them online. Alone, a hub knows this from its own connections; with `--broker`, each hub keeps a
//! Redis sorted set per user (`tally:devices:{tenant}:{user}`: member = hub, score = until when the
//! entry holds), refreshed every 20 s while it has connections of that user, so a hub that dies drops
//! out within a minute.
//!
//! With Redis unreachable a hub answers from its own connections only (logged and counted).
use crate::ids::TenantId;
use crate::store::now_ms;
use redis::aio::ConnectionManager;
use tally_protocol::UserId;

/// How long a hub's entry holds without a refresh.
const TTL_MS: i64 = 60_000;
/// How often a hub refreshes its entries.
pub const REFRESH_SECS: u64 = 20;

pub struct Devices {
    shared: Option<(ConnectionManager, String)>,
}

fn key(tenant: TenantId, user: UserId) -> String {
    format!("tally:devices:{}:{user}", tenant.0)
}

fn failed(e: redis::RedisError) {
    tracing::warn!(error = %e, "presence directory: redis unreachable, answering from this hub only");
    metrics::counter!(crate::series::DEVICES_REDIS_ERRORS).increment(1);
}

impl Devices {
    pub fn local() -> Self {
        Devices { shared: None }
    }

    /// Kept in Redis, on the hub's Redis connection (it reconnects by itself).
    pub fn shared(conn: ConnectionManager) -> Self {
        Devices { shared: Some((conn, crate::secrets::random_token("h", 12))) }
    }

    /// This hub now holds `n` connections of the user.
    pub async fn here(&self, tenant: TenantId, user: UserId, n: u32) {
        let Some((c, me)) = &self.shared else { return };
        let mut c = c.clone();
        let r: Result<(), _> = if n > 0 {
            redis::pipe()
                .zadd(key(tenant, user), me, now_ms() + TTL_MS)
                .ignore()
                .pexpire(key(tenant, user), TTL_MS)
                .ignore()
                .query_async(&mut c)
                .await
        } else {
            redis::cmd("ZREM").arg(key(tenant, user)).arg(me).query_async(&mut c).await
        };
        if let Err(e) = r {
            failed(e);
        }
    }

    /// Whether another hub holds a connection of the user.
    pub async fn elsewhere(&self, tenant: TenantId, user: UserId) -> bool {
        let Some((c, me)) = &self.shared else { return false };
        let mut c = c.clone();
        let r: Result<Vec<String>, _> =
            redis::cmd("ZRANGEBYSCORE").arg(key(tenant, user)).arg(now_ms()).arg("+inf").query_async(&mut c).await;
        match r {
            Ok(hubs) => hubs.iter().any(|h| h != me),
            Err(e) => {
                failed(e);
                false
            }
        }
    }

    /// How many hubs (this one included) hold connections of the user: 1 alone or without Redis.
    pub async fn hubs_holding(&self, tenant: TenantId, user: UserId) -> u32 {
        let Some((c, _)) = &self.shared else { return 1 };
        let mut c = c.clone();
        let r: Result<u32, _> =
            redis::cmd("ZCOUNT").arg(key(tenant, user)).arg(now_ms()).arg("+inf").query_async(&mut c).await;
        match r {
            Ok(n) => n.max(1),
            Err(e) => {
                failed(e);
                1
            }
        }
    }

    /// Renews this hub's entries for the users it holds connections of.
    pub async fn refresh(&self, users: &[(TenantId, UserId)]) {
        let Some((c, me)) = &self.shared else { return };
        let mut c = c.clone();
        for chunk in users.chunks(500) {
            let mut p = redis::pipe();
            for (t, u) in chunk {
                p.zadd(key(*t, *u), me, now_ms() + TTL_MS).ignore().pexpire(key(*t, *u), TTL_MS).ignore();
            }
            if let Err(e) = p.query_async::<()>(&mut c).await {
                return failed(e);
            }
        }
    }
}
