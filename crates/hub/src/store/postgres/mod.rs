//! placeholder
use super::{Publish, Store};
use crate::error::{HubError, HubResult};
pub fn start(_url: &str, _publish: Publish) -> HubResult<Store> {
    Err(HubError::internal("postgres: not yet"))
}
