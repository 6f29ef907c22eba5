//! Passwords: argon2 hashes (made and checked through `account::hashing`'s gate) and the stored hash.
use crate::error::{HubError, HubResult};
use crate::ids::TenantId;
use crate::store::Tx;
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use tally_protocol::UserId;

pub fn hash_password(password: &str) -> HubResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(HubError::internal)
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok()).unwrap_or(false)
}

pub fn password_hash(tx: &mut dyn Tx, tenant: TenantId, user: UserId) -> HubResult<Option<String>> {
    tx.password_hash(tenant, user)
}

pub fn set_password_hash(tx: &mut dyn Tx, tenant: TenantId, user: UserId, hash: &str) -> HubResult<()> {
    tx.set_password_hash(tenant, user, hash)
}
