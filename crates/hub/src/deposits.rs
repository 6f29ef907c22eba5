//! Adding money from outside: each user's deposit reference (made when first asked for: 40 random bits
//! and check digits, `tally_protocol::deposit_ref`) and the tenant's instructions. Finance credits a bank
//! transfer to the user whose reference it carries (`ledger::deposit`).
use crate::error::{HubError, HubResult};
use crate::ids::TenantId;
use crate::store::Tx;
use rand::RngCore;
use tally_protocol::http::DepositInfo;
use tally_protocol::{deposit_ref, UserId};

/// Longest deposit instructions, in bytes.
pub const MAX_INSTRUCTIONS_BYTES: usize = 2_000;

/// The user's reference (made now if they had none) and the tenant's instructions.
pub fn info(tx: &mut dyn Tx, tenant: TenantId, user: UserId) -> HubResult<DepositInfo> {
    let reference = match tx.deposit_ref(tenant, user)? {
        Some(r) => r,
        None => {
            let mut random = [0u8; 5];
            rand::thread_rng().fill_bytes(&mut random);
            let made = deposit_ref::make(random);
            if !tx.set_deposit_ref(tenant, user, &made)? {
                return Err(HubError::not_found("user"));
            }
            made
        }
    };
    Ok(DepositInfo { reference, instructions: tx.deposit_instructions(tenant)? })
}

/// The user a reference belongs to: `invalid` for a mistyped one, `not_found` for nobody's.
pub fn user_for(tx: &mut dyn Tx, tenant: TenantId, reference: &str) -> HubResult<UserId> {
    let reference = deposit_ref::parse(reference).map_err(|e| HubError::invalid(e.to_string()))?;
    tx.user_by_deposit_ref(tenant, &reference)?.ok_or_else(|| HubError::not_found("deposit reference"))
}

pub fn set_instructions(tx: &mut dyn Tx, tenant: TenantId, text: &str) -> HubResult<()> {
    let text = text.trim();
    if text.len() > MAX_INSTRUCTIONS_BYTES {
        return Err(HubError::invalid(format!("instructions are longer than {MAX_INSTRUCTIONS_BYTES} bytes")));
    }
    if tally_protocol::text::hidden_chars(text).iter().any(|c| *c != '\n') {
        return Err(HubError::invalid("instructions hold an invisible or direction-changing character"));
    }
    tx.set_deposit_instructions(tenant, text)
}
