//! The ledger: accounts, double-entry postings, idempotent transfers and their state machine.
//!
//! Every function here runs inside one store transaction (a write job's savepoint), so a transfer's hold,
//! postings, history lines and events commit together or not at all. Invariants: per currency the
//! postings sum to zero; per account `available + pending` equals the sum of its postings.
//!
//! `accounts` (balances, deposits and withdrawals, invariants), `history` (the per-user transaction
//! lines), `transfers` (create, advance, look up), `requests` (payment requests, paid by a transfer), `withdrawals` (money out, held until finance decides).
mod accounts;
mod history;
mod requests;
mod reviews;
mod transfers;
mod withdrawals;

pub use accounts::{adjust, balance, balances, check_invariants, deposit, withdraw};
pub use history::{transaction, transaction_changes, transactions_count, transactions_page};
pub use requests::{
    cancel_request, create_request, decline_request, expire_requests, pay_request, request_for, requests_of,
    split_request, NewRequest, NewSplit,
};
pub use reviews::{decide_review, reviews};
pub use transfers::{
    advance_transfer, backdate_transfer, create_transfer, open_transfers, stale_transfers, transfer, transfer_by_key,
    transfer_for, unfinished_transfers, Created, NewTransfer,
};
pub use withdrawals::{decide_withdrawal, request_withdrawal, withdrawal, withdrawals, Decision, NewWithdrawal};

use crate::error::{HubError, HubResult};
use tally_protocol::*;

/// The tenant's external account (the outside world) in postings.
const EXTERNAL: UserId = 0;

/// "12.50 USD" — for notification texts (`Money`'s one text form, shared with the app).
pub fn fmt_money(m: Money) -> String {
    m.to_string()
}

fn validate_memo(memo: &str) -> HubResult<()> {
    if memo.len() > MAX_MEMO_BYTES {
        return Err(HubError::invalid(format!("memo is longer than {MAX_MEMO_BYTES} bytes")));
    }
    Ok(())
}
