//! Random tokens (ids, codes, secrets) and the SHA-256 under which the hub stores the ones it must not
//! keep in the clear.
use rand::distributions::Alphanumeric;
use rand::Rng;
use sha2::{Digest, Sha256};

pub fn random_token(prefix: &str, len: usize) -> String {
    let s: String = rand::thread_rng().sample_iter(&Alphanumeric).take(len).map(char::from).collect();
    format!("{prefix}{s}")
}

pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}
