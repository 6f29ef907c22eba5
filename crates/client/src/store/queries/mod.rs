//! What the UI reads from the local store, one concern per file: history (transactions, balances, the
//! charts, what was sent today), search (FTS5), the CSV export, transfers and the outbox, chat,
//! notifications and payment requests. Keyset pagination everywhere (no OFFSET). The row decoders they share are here.
mod chat;
mod export;
mod history;
mod notifications;
mod requests;
mod search;
#[cfg(test)]
mod tests;
mod transfers;

pub use export::{decimal, iso8601};
pub use search::fts_query;

use crate::store::enum_from;
use crate::view::*;
use tally_protocol::*;

/// A stored value this build cannot read: an error naming the column, never a guess.
fn unreadable(i: usize, what: &str, value: &str) -> rusqlite::Error {
    let why = format!("a cached {what} cannot be read: {:?}", value.chars().take(40).collect::<String>());
    rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, why.into())
}

/// A text column holding one of an enum's protocol names.
fn enum_col<T: serde::de::DeserializeOwned>(r: &rusqlite::Row<'_>, i: usize, what: &str) -> rusqlite::Result<T> {
    let s: String = r.get(i)?;
    enum_from(&s).ok_or_else(|| unreadable(i, what, &s))
}

/// A text column holding an ISO 4217 code.
pub(crate) fn currency_col(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Currency> {
    let s: String = r.get(i)?;
    Currency::parse(&s).map_err(|_| unreadable(i, "currency", &s))
}

fn tx_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TxRow> {
    let cp_id: Option<i64> = r.get(6)?;
    Ok(TxRow {
        tx: Transaction {
            id: r.get(0)?,
            kind: enum_col(r, 1, "transaction kind")?,
            direction: enum_col(r, 2, "direction")?,
            amount: Money::new(r.get(3)?, currency_col(r, 4)?),
            balance_after: r.get(5)?,
            counterparty: match cp_id {
                Some(id) => Some(UserSummary {
                    id,
                    username: r.get::<_, Option<String>>(7)?.unwrap_or_default(),
                    display_name: r.get::<_, Option<String>>(8)?.unwrap_or_default(),
                }),
                None => None,
            },
            memo: r.get(9)?,
            transfer_id: r.get(10)?,
            status: enum_col(r, 11, "transfer status")?,
            created_at: r.get(12)?,
        },
        stale: r.get(13)?,
    })
}

const TX_COLS: &str = "t.id, t.kind, t.direction, t.amount, t.currency, t.balance_after, t.cp_id, t.cp_username, t.cp_name, t.memo, t.transfer_id, t.status, t.created_at, t.stale";

/// A cached transfer row as the UI sees it (stored JSON this build cannot read is an error, never skipped).
fn transfer_view(
    json: &str,
    local: &str,
    outbox_id: Option<i64>,
    expires_at: Option<i64>,
) -> Result<TransferView, crate::Error> {
    let transfer = serde_json::from_str::<Transfer>(json)
        .map_err(|e| crate::Error::Storage(format!("a cached transfer cannot be read: {e}")))?;
    Ok(TransferView { transfer, local: local_state(local), outbox_id, expires_at })
}

/// A cached message row as the UI sees it, without read receipts (unreadable JSON is an error).
fn message_view(json: &str, local: &str, outbox_id: Option<i64>) -> Result<MessageView, crate::Error> {
    let message = serde_json::from_str::<Message>(json)
        .map_err(|e| crate::Error::Storage(format!("a cached message cannot be read: {e}")))?;
    Ok(MessageView { message, local: local_state(local), outbox_id, read_by: vec![], card: None })
}

pub(crate) use super::local_state::decode as local_state;
