//! The hub's own typed ids (the wire's ids live in tally-protocol).
use serde::{Deserialize, Serialize};

/// A tenant: an organisation with its own users, ledger and channels on a hub. A type of its own, so a
/// tenant and a user id (both integers in storage) cannot be swapped in a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TenantId(pub i64);

impl std::fmt::Display for TenantId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
