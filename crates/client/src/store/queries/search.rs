//! Search over memos, counterparties and messages (FTS5; user input is never FTS syntax).
use super::{message_view, tx_row, TX_COLS};
use crate::store::Store;
use crate::view::*;
use crate::Error;
use tally_protocol::RoomId;

/// Turns free text into an FTS5 query of quoted prefix terms (user input is never FTS syntax).
pub fn fts_query(q: &str) -> Option<String> {
    let terms: Vec<String> = q
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .take(8)
        .map(|t| format!("\"{}\"*", t.replace('"', "")))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

impl Store {
    /// The 20 newest matching transactions and the 20 newest matching messages.
    ///
    /// Newest by rowid, so FTS5 walks its doclists backwards and stops after 20 matches instead of ranking
    /// every match: a transaction's rowid is its hub id (ids grow with time, as in history order), a
    /// message's is its local id (the order it reached this cache; a page of older history fetched later
    /// sorts above newer messages). No total is counted: the search box does not show one.
    pub fn search(&self, query: &str) -> Result<SearchResults, Error> {
        let Some(q) = fts_query(query) else { return Ok(SearchResults { transactions: vec![], messages: vec![] }) };
        let c = self.reader();
        let mut stmt = c.prepare_cached(&format!(
            "SELECT {TX_COLS} FROM tx_fts f JOIN transactions t ON t.id = f.rowid WHERE tx_fts MATCH ?1 ORDER BY f.rowid DESC LIMIT 20"
        ))?;
        let mut transactions: Vec<TxRow> = stmt.query_map([&q], tx_row)?.collect::<Result<_, _>>()?;
        // History order, should a transaction's time and id disagree.
        transactions.sort_by_key(|r| std::cmp::Reverse((r.tx.created_at, r.tx.id)));
        let mut stmt = c.prepare_cached(
            "SELECT m.json, m.local_state, m.outbox_id FROM msg_fts f JOIN messages m ON m.local_id = f.rowid WHERE msg_fts MATCH ?1 ORDER BY f.rowid DESC LIMIT 20",
        )?;
        let rows =
            stmt.query_map([q], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<i64>>(2)?)))?;
        let mut messages = Vec::new();
        for row in rows {
            let (json, local, outbox_id) = row?;
            messages.push(message_view(&json, &local, outbox_id)?);
        }
        Ok(SearchResults { transactions, messages })
    }

    /// The 50 newest messages of one room matching `query` (newest first), for the room's own search.
    pub fn search_room(&self, room: RoomId, query: &str) -> Result<Vec<MessageView>, Error> {
        let Some(q) = fts_query(query) else { return Ok(vec![]) };
        let c = self.reader();
        let mut stmt = c.prepare_cached(
            "SELECT m.json, m.local_state, m.outbox_id FROM msg_fts f JOIN messages m ON m.local_id = f.rowid
             WHERE msg_fts MATCH ?1 AND m.room = ?2 ORDER BY m.sort_key DESC LIMIT 50",
        )?;
        let rows = stmt.query_map(rusqlite::params![q, room], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<i64>>(2)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (json, local, outbox_id) = row?;
            out.extend(Some(message_view(&json, &local, outbox_id)?).filter(|m| !m.message.deleted));
        }
        Ok(out)
    }
}
