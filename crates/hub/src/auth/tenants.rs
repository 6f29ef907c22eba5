//! Tenants by name.
use crate::error::{HubError, HubResult};
use crate::ids::TenantId;
use crate::store::{now_ms, Tx};

pub fn tenant_id(tx: &mut dyn Tx, name: &str) -> HubResult<Option<TenantId>> {
    tx.tenant_id(name)
}

pub fn ensure_tenant(tx: &mut dyn Tx, name: &str) -> HubResult<TenantId> {
    tx.insert_tenant(name, now_ms())?;
    tx.tenant_id(name)?.ok_or_else(|| HubError::internal("tenant vanished"))
}
