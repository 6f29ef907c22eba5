//! The repositories, written once for both databases: each is implemented for every [`Db`] handle, in
//! SQL both accept. Backend-specific statements appear only where the backends behave differently, as a
//! `match` on [`Dialect`] that says why.
mod attachments;
mod audit;
mod auth;
mod chat;
mod compliance;
mod deposits;
mod feed;
mod kyc;
mod ledger;
mod log;
mod notify;
mod operators;
mod requests;
mod security;
mod withdrawals;

use crate::error::HubResult;
use crate::store::repo::Tx;
use crate::store::sql::{args, Db, Dialect};
use tally_protocol::Millis;

impl<D: Db> Tx for D {
    fn ping(&mut self) -> HubResult<()> {
        self.one("SELECT 1", &[]).map(|_| ())
    }

    /// Leases share work among hubs on one PostgreSQL database; one process owns a SQLite file, so it
    /// always holds them.
    fn take_lease(&mut self, name: &str, holder: &str, until: Millis, now: Millis) -> HubResult<bool> {
        match self.dialect() {
            Dialect::Sqlite => Ok(true),
            Dialect::Postgres => Ok(self
                .opt(
                    "INSERT INTO leases (name, holder, until) VALUES ($1, $2, $3)
                     ON CONFLICT (name) DO UPDATE SET holder = $2, until = $3
                     WHERE leases.until < $4 OR leases.holder = $2
                     RETURNING holder",
                    args![name, holder, until, now],
                )?
                .is_some()),
        }
    }
}
