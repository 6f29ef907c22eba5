//! Storage: the write-job API the hub uses (`Store::write` / `Store::read`), the repositories a backend
//! implements (`repo`), and the backends. SQLite (`sqlite`) is the embedded default.
pub mod repo;
pub mod sqlite;

use crate::fanout::Published;
pub use repo::Tx;
pub use sqlite::schema::{SCHEMA_V1, SCHEMA_VERSION};
pub use sqlite::Store;

/// Events appended by one job, published after its transaction commits.
#[derive(Default)]
pub struct Emits {
    pub items: Vec<Published>,
    /// Work to do after commit (wake the transfer processor, end subscriptions, ...).
    pub after: Vec<Box<dyn FnOnce() + Send>>,
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}
