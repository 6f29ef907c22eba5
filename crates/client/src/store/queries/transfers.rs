//! The user's transfers (open ones and one by its idempotency key) and the outbox as the UI lists it.
use super::transfer_view;
use crate::outbox::{OutboxKind, OutboxQueue};
use crate::store::local_state;
use crate::store::{unreadable, Store};
use crate::view::*;
use crate::Error;
use rusqlite::OptionalExtension;

impl Store {
    pub fn transfers_open(&self) -> Result<Vec<TransferView>, Error> {
        let c = self.reader();
        let mut stmt = c.prepare_cached(
            "SELECT json, local_state, outbox_id, expires_at FROM transfers
             WHERE status IN ('pending','processing','review') OR local_state != 'sent' OR updated_at > ?1 ORDER BY updated_at DESC LIMIT 50",
        )?;
        let recent = crate::store::now_ms() - 60_000;
        let rows = stmt.query_map([recent], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, Option<i64>>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (json, local, outbox_id, expires_at) = row?;
            out.push(transfer_view(&json, &local, outbox_id, expires_at)?);
        }
        Ok(out)
    }

    pub fn transfer_by_key(&self, key: &str) -> Result<Option<TransferView>, Error> {
        let c = self.reader();
        let row = c
            .query_row("SELECT json, local_state, outbox_id, expires_at FROM transfers WHERE key = ?1", [key], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                ))
            })
            .optional()?;
        row.map(|(json, local, outbox_id, expires_at)| transfer_view(&json, &local, outbox_id, expires_at)).transpose()
    }

    pub fn outbox_items(&self) -> Result<Vec<OutboxItem>, Error> {
        let c = self.reader();
        let mut stmt = c.prepare_cached(&format!("SELECT {OUTBOX_COLS} FROM outbox ORDER BY id"))?;
        let rows = stmt.query_map([], outbox_item)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One outbox item as the UI lists it (just queued: the `queued` update carries it).
    pub fn outbox_item(&self, id: i64) -> Result<Option<OutboxItem>, Error> {
        let c = self.reader();
        let mut stmt = c.prepare_cached(&format!("SELECT {OUTBOX_COLS} FROM outbox WHERE id = ?1"))?;
        Ok(stmt.query_row([id], outbox_item).optional()?)
    }
}

const OUTBOX_COLS: &str = "id, kind, queue, state, error_code, error, created_at, expires_at, attempts, summary";

fn outbox_item(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxItem> {
    let state: String = r.get(3)?;
    let local = local_state::of_outbox(&state, r.get::<_, Option<String>>(4)?.as_deref(), r.get(5)?);
    Ok(OutboxItem {
        id: r.get(0)?,
        kind: {
            let k: String = r.get(1)?;
            OutboxKind::parse(&k).ok_or_else(|| unreadable(1, format!("outbox kind {k:?}")))?
        },
        queue: r.get::<_, String>(2).map(OutboxQueue::try_from)?.map_err(|e| unreadable(2, e))?,
        local,
        created_at: r.get(6)?,
        expires_at: r.get(7)?,
        attempts: r.get(8)?,
        summary: r.get(9)?,
    })
}
