//! Compliance rules: which new transfers of a tenant wait for an operator's review before they move.
//! Four rules, each off until finance sets it (amounts in hundredths of a major unit, as limits, so they
//! mean the same in every currency): one transfer over an amount; more than N transfers, or more than an
//! amount, by the sender in the last hour (this one included, in its currency); a first transfer to
//! someone the sender never paid, over an amount. A rule fires when the figure is over its value, not at
//! it. The reason is for the operators only (`ledger::reviews`).
use crate::error::{HubError, HubResult};
use crate::ids::TenantId;
use crate::ledger::fmt_money;
use crate::store::repo::RulesRow;
use crate::store::{now_ms, Tx};
use tally_protocol::http::ComplianceRules;
use tally_protocol::{limit_in, Money, TransferId, UserId};

const HOUR_MS: i64 = 3_600_000;

/// Why this just-held transfer must wait for a review, if a rule says so.
pub fn flag(
    tx: &mut dyn Tx,
    tenant: TenantId,
    (from, to): (UserId, UserId),
    id: TransferId,
    amount: Money,
) -> HubResult<Option<String>> {
    let Some(r) = tx.compliance_rules(tenant)? else { return Ok(None) };
    let cur = amount.currency;
    let money = |hundredths: i64| fmt_money(Money::new(limit_in(hundredths, cur), cur));
    if let Some(x) = r.single_over.filter(|x| amount.minor > limit_in(*x, cur)) {
        return Ok(Some(format!("one transfer over {}", money(x))));
    }
    let hour_ago = now_ms() - HOUR_MS;
    if let Some(n) = r.hourly_count_over {
        let count = tx.sent_count_since(from, cur, hour_ago)?;
        if count > n {
            return Ok(Some(format!("{count} transfers in an hour (more than {n})")));
        }
    }
    if let Some(x) = r.hourly_amount_over {
        let sum = tx.sent_since(from, cur, hour_ago)?;
        if sum > limit_in(x, cur) {
            return Ok(Some(format!("{} sent in an hour (over {})", fmt_money(Money::new(sum, cur)), money(x))));
        }
    }
    if let Some(x) = r.new_payee_over.filter(|x| amount.minor > limit_in(*x, cur)) {
        if !tx.paid_before(from, to, id)? {
            return Ok(Some(format!("a first transfer to this payee over {}", money(x))));
        }
    }
    Ok(None)
}

/// Replaces the tenant's rules (an absent rule is off); every value given must be positive.
pub fn set_rules(tx: &mut dyn Tx, tenant: TenantId, r: &ComplianceRules) -> HubResult<()> {
    let row = RulesRow {
        single_over: r.single_over,
        hourly_count_over: r.hourly_count_over,
        hourly_amount_over: r.hourly_amount_over,
        new_payee_over: r.new_payee_over,
    };
    let values = [row.single_over, row.hourly_count_over, row.hourly_amount_over, row.new_payee_over];
    if values.into_iter().flatten().any(|v| v <= 0) {
        return Err(HubError::invalid("every rule's value must be above zero (leave a rule out to turn it off)"));
    }
    tx.set_compliance_rules(tenant, &row)
}
