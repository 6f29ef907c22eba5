//! Account security: who may sign up (`policy`), what a password must be (`password`), the second
//! factor (`two_factor`) and the signed-in devices (`sessions`). Each takes a transaction handle; `hashing`
//! is the gate every password hash and check goes through.
pub mod hashing;
pub mod password;
pub mod policy;
pub mod refresh;
pub mod sessions;
pub mod two_factor;
