//! Authentication, one concern per file: access tokens (`tokens`), password hashes (`passwords`), tenants
//! by name (`tenants`) and revoked sessions (`sessions`). Elsewhere: the user directory
//! (`crate::directory`), refresh-token rotation and the rest of account security (`crate::account`), the
//! sign-in throttle (`crate::throttle`), random tokens and their hashes (`crate::secrets`).
pub mod passwords;
pub mod sessions;
pub mod tenants;
pub mod tokens;
