//! Balances, money entering and leaving the tenant, and the ledger's invariants.
use super::{fmt_money, history, validate_memo, EXTERNAL};
use crate::error::{HubError, HubResult};
use crate::ids::TenantId;
use crate::log;
use crate::notify;
use crate::store::repo::{NewTxLine, Violation};
use crate::store::{now_ms, Emits, Tx};
use tally_protocol::*;

/// A user's balance in `currency` (zero when they never held it).
pub fn balance(tx: &mut dyn Tx, user: UserId, currency: Currency) -> HubResult<Balance> {
    Ok(tx.account(user, currency)?.unwrap_or(Balance { currency, available: 0, pending: 0, as_of: now_ms() }))
}

pub fn balances(tx: &mut dyn Tx, user: UserId) -> HubResult<Vec<Balance>> {
    tx.accounts(user)
}

/// Both legs of a double entry that moves `minor` from `from` to `to`.
pub(super) fn post(
    tx: &mut dyn Tx,
    tenant: TenantId,
    entry: &str,
    (from, to): (UserId, UserId),
    amount: Money,
) -> HubResult<()> {
    tx.insert_posting(tenant, entry, from, Money::new(-amount.minor, amount.currency))?;
    tx.insert_posting(tenant, entry, to, amount)
}

pub(super) fn emit_balance(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    user: UserId,
    currency: Currency,
) -> HubResult<()> {
    let b = balance(tx, user, currency)?;
    log::append(tx, emits, tenant, Channel::Balance(user), EventData::Balance { balance: b })?;
    Ok(())
}

/// Money entering the tenant (a card top-up, a bank transfer in). `at` backdates demo history (and then
/// raises no notification).
pub fn deposit(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    user: UserId,
    amount: Money,
    memo: &str,
    at: Option<i64>,
) -> HubResult<TxId> {
    external(tx, emits, tenant, External { user, amount, memo, at, way: Way::Deposit })
}

/// Money leaving the tenant. `insufficient_funds` when the available balance is too small.
pub fn withdraw(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    user: UserId,
    amount: Money,
    memo: &str,
) -> HubResult<TxId> {
    external(tx, emits, tenant, External { user, amount, memo, at: None, way: Way::Withdrawal })
}

/// A correcting entry by the operator: `amount` into (`incoming`) or out of the user's account, against
/// the tenant's external account, with the reason as its memo. History is never edited; a mistake is
/// put right by a new line that says why. Out of the account: `insufficient_funds` past the balance.
pub fn adjust(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    user: UserId,
    (amount, incoming): (Money, bool),
    reason: &str,
) -> HubResult<TxId> {
    if reason.trim().is_empty() {
        return Err(HubError::invalid("a correction needs a reason (the user reads it)"));
    }
    external(
        tx,
        emits,
        tenant,
        External { user, amount, memo: reason.trim(), at: None, way: Way::Adjustment { incoming } },
    )
}

#[derive(Clone, Copy)]
enum Way {
    Deposit,
    Withdrawal,
    Adjustment { incoming: bool },
}

struct External<'a> {
    user: UserId,
    amount: Money,
    memo: &'a str,
    at: Option<i64>,
    way: Way,
}

impl Way {
    fn incoming(self) -> bool {
        matches!(self, Way::Deposit | Way::Adjustment { incoming: true })
    }

    /// The ledger entry's prefix and the history line's kind.
    fn describe(self) -> (&'static str, TxKind) {
        match self {
            Way::Deposit => ("dep", TxKind::Deposit),
            Way::Withdrawal => ("wdr", TxKind::Withdrawal),
            Way::Adjustment { .. } => ("adj", TxKind::Adjustment),
        }
    }

    /// The notification's kind, its English title and its text as data.
    fn told(self, amount: Money) -> (NotificationKind, String, NotificationText) {
        let m = fmt_money(amount);
        match self {
            Way::Deposit => {
                (NotificationKind::Deposit, format!("Deposit of {m}"), NotificationText::Deposit { amount })
            }
            Way::Withdrawal => {
                (NotificationKind::Withdrawal, format!("Withdrawal of {m}"), NotificationText::Withdrawal { amount })
            }
            Way::Adjustment { incoming: true } => (
                NotificationKind::Balance,
                format!("Your balance was corrected: +{m}"),
                NotificationText::BalanceCredited { amount },
            ),
            Way::Adjustment { incoming: false } => (
                NotificationKind::Balance,
                format!("Your balance was corrected: -{m}"),
                NotificationText::BalanceDebited { amount },
            ),
        }
    }
}

/// A movement between a user and the tenant's external account: one balance change, two postings, one
/// history line, and their events.
fn external(tx: &mut dyn Tx, emits: &mut Emits, tenant: TenantId, m: External<'_>) -> HubResult<TxId> {
    let External { user, amount, memo, at, way } = m;
    if !amount.is_positive() {
        return Err(HubError::invalid("amount must be positive"));
    }
    validate_memo(memo)?;
    tx.lock_parties(&[user])?;
    tx.ensure_account(tenant, user, amount.currency)?;
    let incoming = way.incoming();
    let signed = if incoming { amount.minor } else { -amount.minor };
    tx.add_balance(user, amount.currency, signed, 0)?;
    let (prefix, kind) = way.describe();
    let entry = format!("{prefix}:{}", crate::secrets::random_token("", 12));
    let legs = if incoming { (EXTERNAL, user) } else { (user, EXTERNAL) };
    post(tx, tenant, &entry, legs, amount)?;
    let b = balance(tx, user, amount.currency)?;
    let line = NewTxLine {
        tenant,
        user,
        kind,
        direction: if incoming { Direction::In } else { Direction::Out },
        amount,
        balance_after: b.available,
        counterparty: None,
        memo,
        transfer: None,
        status: TransferStatus::Completed,
        created_at: at.unwrap_or_else(now_ms),
    };
    let id = tx.insert_tx_line(&line)?;
    emit_balance(tx, emits, tenant, user, amount.currency)?;
    history::emit_tx(tx, emits, tenant, user, id)?;
    if at.is_none() {
        let target = Some(NotificationTarget::Transaction { id });
        let (kind, title, text) = way.told(amount);
        let (priority, text) = (Priority::Normal, Some(text));
        let n = notify::New { tenant, user, kind, priority, title: &title, body: memo, target, text };
        notify::create(tx, emits, n)?;
    }
    Ok(id)
}

/// Checks the ledger's invariants. Returns a description of every violation (empty when sound).
pub fn check_invariants(tx: &mut dyn Tx) -> HubResult<Vec<String>> {
    Ok(tx
        .ledger_violations()?
        .into_iter()
        .map(|v| match v {
            Violation::PostingsUnbalanced { tenant, currency, sum } => {
                format!("tenant {tenant} {currency}: postings sum to {sum}, not 0")
            }
            Violation::AccountDrift { user, currency, balance, posted } => {
                format!("user {user} {currency}: balance {balance} but postings {posted}")
            }
            Violation::TenantDrift { tenant, currency, balances, external } => {
                format!("tenant {tenant} {currency}: balances {balances} != deposits - withdrawals {external}")
            }
            Violation::DailyTotalDrift { user, currency, day, kept, transfers } => {
                format!("user {user} {currency}: day {day}'s running total {kept} but its transfers {transfers}")
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Backend, Store};
    use std::sync::Arc;

    /// A running total that no transfer backs (written through the store's own call, as a bug would) is
    /// reported with the user, the currency and both figures; a sound ledger reports nothing.
    #[tokio::test]
    async fn a_day_s_running_total_that_its_transfers_do_not_back_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::start(&Backend::Sqlite(dir.path().join("hub.db")), Arc::new(|_| {})).unwrap();
        assert_eq!(s.read(check_invariants).await.unwrap(), Vec::<String>::new());
        let day = now_ms() / 86_400_000;
        s.write(move |tx, _| tx.add_sent(42, Currency::USD, day, 500)).await.unwrap();
        let problems = s.read(check_invariants).await.unwrap();
        assert_eq!(problems, vec![format!("user 42 USD: day {day}'s running total 500 but its transfers 0")]);
    }
}
