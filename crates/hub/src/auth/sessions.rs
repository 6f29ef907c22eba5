//! Revoked sessions (refresh-token families): a revoked family's tokens are gone and its sockets close.
//! Rotation and theft detection live in `account::refresh`.
use crate::error::HubResult;
use crate::store::{now_ms, Tx};

pub fn revoke_family(tx: &mut dyn Tx, family: &str) -> HubResult<()> {
    tx.revoke_family(family, now_ms())
}

pub fn is_revoked(tx: &mut dyn Tx, family: &str) -> HubResult<bool> {
    tx.is_revoked(family)
}
