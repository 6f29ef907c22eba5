//! What the UI asks of the local store. Keyset pagination everywhere (no OFFSET), FTS5 for search.
use crate::store::{enum_from, enum_str, now_ms, Store};
use crate::view::*;
use crate::Error;
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};
use tally_protocol::*;

fn tx_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TxRow> {
    let cp_id: Option<i64> = r.get(6)?;
    let currency: String = r.get(4)?;
    Ok(TxRow {
        tx: Transaction {
            id: r.get(0)?,
            kind: enum_from(&r.get::<_, String>(1)?).unwrap_or(TxKind::Deposit),
            direction: enum_from(&r.get::<_, String>(2)?).unwrap_or(Direction::In),
            amount: Money::new(r.get(3)?, Currency::parse(&currency).unwrap_or(Currency::USD)),
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
            status: enum_from(&r.get::<_, String>(11)?).unwrap_or(TransferStatus::Completed),
            created_at: r.get(12)?,
        },
        stale: r.get(13)?,
    })
}

const TX_COLS: &str = "t.id, t.kind, t.direction, t.amount, t.currency, t.balance_after, t.cp_id, t.cp_username, t.cp_name, t.memo, t.transfer_id, t.status, t.created_at, t.stale";

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

/// The WHERE clause `filter_sql` extends; left as is when no filter is set.
const NO_FILTER: &str = " WHERE 1=1";

fn filter_sql(f: &TxFilter, sql: &mut String, args: &mut Vec<SqlValue>) {
    if let Some(from) = f.from {
        sql.push_str(" AND t.created_at >= ?");
        args.push(from.into());
    }
    if let Some(to) = f.to {
        sql.push_str(" AND t.created_at < ?");
        args.push(to.into());
    }
    if let Some(d) = f.direction {
        sql.push_str(" AND t.direction = ?");
        args.push(enum_str(&d).into());
    }
    if !f.kinds.is_empty() {
        sql.push_str(" AND t.kind IN (");
        sql.push_str(&vec!["?"; f.kinds.len()].join(","));
        sql.push(')');
        args.extend(f.kinds.iter().map(|k| SqlValue::from(enum_str(k))));
    }
    if let Some(q) = f.counterparty.as_deref().and_then(fts_query) {
        // Through the full-text index (username and display name), not a LIKE scan of every row.
        sql.push_str(" AND t.id IN (SELECT rowid FROM tx_fts WHERE tx_fts MATCH ?)");
        args.push(format!("counterparty : ({q})").into());
    }
    if let Some(min) = f.min_minor {
        sql.push_str(" AND t.amount >= ?");
        args.push(min.into());
    }
    if let Some(max) = f.max_minor {
        sql.push_str(" AND t.amount <= ?");
        args.push(max.into());
    }
    if let Some(c) = f.currency.as_ref().filter(|s| !s.is_empty()) {
        sql.push_str(" AND t.currency = ?");
        args.push(c.clone().into());
    }
    if let Some(q) = f.search.as_deref().and_then(fts_query) {
        sql.push_str(" AND t.id IN (SELECT rowid FROM tx_fts WHERE tx_fts MATCH ?)");
        args.push(q.into());
    }
}

impl Store {
    pub fn balances(&self) -> Result<Vec<BalanceView>, Error> {
        let c = self.reader();
        // The currency used most comes first: the UI shows it as the main balance.
        let mut stmt = c.prepare_cached(
            "SELECT currency, available, pending, as_of, confirmed_at FROM balances b
             ORDER BY (SELECT COUNT(*) FROM transactions t WHERE t.currency = b.currency) DESC, currency",
        )?;
        let rows = stmt.query_map([], |r| {
            let cur: String = r.get(0)?;
            Ok(BalanceView {
                balance: Balance {
                    currency: Currency::parse(&cur).unwrap_or(Currency::USD),
                    available: r.get(1)?,
                    pending: r.get(2)?,
                    as_of: r.get(3)?,
                },
                as_of: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A page of history, newest first, after `cursor`.
    pub fn transactions(&self, f: &TxFilter, cursor: Option<&TxCursor>, limit: u32) -> Result<TxPage, Error> {
        let limit = limit.clamp(1, 500);
        let c = self.reader();
        let mut where_sql = String::from(NO_FILTER);
        let mut args: Vec<SqlValue> = Vec::new();
        filter_sql(f, &mut where_sql, &mut args);
        let total: u32 = match cursor {
            Some(_) => 0,
            // Unfiltered: the count the insert/delete triggers keep (migration 2), not a scan of every row.
            None if where_sql == NO_FILTER => c
                .prepare_cached("SELECT n FROM counts WHERE name = 'transactions'")?
                .query_row([], |r| r.get(0))
                .optional()?
                .unwrap_or(0),
            // Filtered: an exact COUNT(*) of the matching rows.
            None => c.query_row(
                &format!("SELECT COUNT(*) FROM transactions t{where_sql}"),
                params_from_iter(args.iter()),
                |r| r.get(0),
            )?,
        };
        let mut sql = format!("SELECT {TX_COLS} FROM transactions t{where_sql}");
        let mut page_args = args.clone();
        if let Some(cur) = cursor {
            sql.push_str(" AND (t.created_at, t.id) < (?, ?)");
            page_args.push(cur.created_at.into());
            page_args.push(cur.id.into());
        }
        sql.push_str(" ORDER BY t.created_at DESC, t.id DESC LIMIT ?");
        page_args.push((limit as i64 + 1).into());
        let mut stmt = c.prepare_cached(&sql)?;
        let mut rows: Vec<TxRow> =
            stmt.query_map(params_from_iter(page_args.iter()), tx_row)?.collect::<Result<_, _>>()?;
        let next = if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            rows.last().map(|r| TxCursor { created_at: r.tx.created_at, id: r.tx.id })
        } else {
            None
        };
        Ok(TxPage { rows, next, total })
    }

    /// Balance after each transaction of `currency` in the filtered range, oldest first, thinned to ≤ 500 points.
    pub fn balance_history(&self, currency: &str, f: &TxFilter) -> Result<Vec<BalancePoint>, Error> {
        let c = self.reader();
        let mut f = f.clone();
        f.currency = Some(currency.to_string());
        let mut sql =
            String::from("SELECT t.created_at, t.balance_after FROM transactions t WHERE t.status != 'failed'");
        let mut args = Vec::new();
        filter_sql(
            &TxFilter {
                direction: None,
                kinds: vec![],
                counterparty: None,
                min_minor: None,
                max_minor: None,
                search: None,
                ..f
            },
            &mut sql,
            &mut args,
        );
        sql.push_str(" ORDER BY t.created_at, t.id");
        let mut stmt = c.prepare_cached(&sql)?;
        let pts: Vec<BalancePoint> = stmt
            .query_map(params_from_iter(args.iter()), |r| Ok(BalancePoint { ts: r.get(0)?, balance_minor: r.get(1)? }))?
            .collect::<Result<_, _>>()?;
        if pts.len() <= 500 {
            return Ok(pts);
        }
        let step = pts.len().div_ceil(500);
        let last = pts.last().cloned();
        let mut out: Vec<BalancePoint> = pts.into_iter().step_by(step).collect();
        if let Some(l) = last {
            if out.last() != Some(&l) {
                out.push(l);
            }
        }
        Ok(out)
    }

    pub fn spending_by_counterparty(&self, f: &TxFilter) -> Result<Vec<CounterpartySpend>, Error> {
        let c = self.reader();
        let mut sql = String::from(
            "SELECT t.cp_id, MAX(t.cp_username), MAX(t.cp_name), SUM(CASE WHEN t.direction = 'out' THEN t.amount ELSE 0 END),
             SUM(CASE WHEN t.direction = 'in' THEN t.amount ELSE 0 END), COUNT(*) FROM transactions t WHERE t.cp_id IS NOT NULL AND t.status != 'failed'",
        );
        let mut args = Vec::new();
        filter_sql(f, &mut sql, &mut args);
        sql.push_str(" GROUP BY t.cp_id ORDER BY 4 DESC, 5 DESC LIMIT 20");
        let mut stmt = c.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(args.iter()), |r| {
            Ok(CounterpartySpend {
                counterparty: UserSummary {
                    id: r.get(0)?,
                    username: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                    display_name: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                },
                out_minor: r.get(3)?,
                in_minor: r.get(4)?,
                count: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// CSV of the filtered history (RFC 4180 quoting; amounts in minor units and as decimals).
    /// The filtered history as CSV, newest first: amounts and the balance after each line as decimals in
    /// their currency's own digits (ISO 4217: JPY 0, USD 2, BHD 3), with the currency beside them.
    pub fn export_csv(&self, f: &TxFilter) -> Result<String, Error> {
        let mut out =
            String::from("id,date_utc,type,direction,counterparty,memo,amount,currency,status,balance_after\n");
        let mut cursor = None;
        loop {
            let page = self.transactions(f, cursor.as_ref(), 500)?;
            for r in &page.rows {
                out.push_str(&csv_line(&r.tx));
            }
            match page.next {
                Some(n) => cursor = Some(n),
                None => break,
            }
        }
        Ok(out)
    }

    pub fn transfers_open(&self) -> Result<Vec<TransferView>, Error> {
        let c = self.reader();
        let mut stmt = c.prepare_cached(
            "SELECT json, local_state, outbox_id, expires_at FROM transfers
             WHERE status IN ('pending','processing') OR local_state != 'sent' OR updated_at > ?1 ORDER BY updated_at DESC LIMIT 50",
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
            out.extend(transfer_view(&json, &local, outbox_id, expires_at));
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
        Ok(row.and_then(|(json, local, outbox_id, expires_at)| transfer_view(&json, &local, outbox_id, expires_at)))
    }

    pub fn contacts(&self) -> Result<Vec<UserSummary>, Error> {
        let c = self.reader();
        let mut stmt = c.prepare_cached("SELECT json FROM contacts ORDER BY id")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.filter_map(|r| r.ok().and_then(|j| serde_json::from_str(&j).ok())).collect())
    }

    pub fn room(&self, id: RoomId) -> Result<Option<Room>, Error> {
        let json: Option<String> = self
            .reader()
            .query_row("SELECT json FROM rooms WHERE id = ?1 AND left_room = 0", [id], |r| r.get(0))
            .optional()?;
        Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
    }

    pub fn room_ids(&self) -> Result<Vec<RoomId>, Error> {
        let c = self.reader();
        let mut stmt = c.prepare_cached("SELECT id FROM rooms WHERE left_room = 0")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn rooms(&self, typing: &dyn Fn(RoomId) -> Vec<UserSummary>) -> Result<Vec<RoomView>, Error> {
        let ids: Vec<(RoomId, String, i64)> = {
            let c = self.reader();
            let mut stmt = c.prepare_cached(
                "SELECT id, json, my_read FROM rooms WHERE left_room = 0 ORDER BY last_activity DESC",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut out = Vec::new();
        for (id, json, my_read) in ids {
            let Ok(room) = serde_json::from_str::<Room>(&json) else { continue };
            let c = self.reader();
            let unread: u32 = c.query_row(
                "SELECT COUNT(*) FROM messages WHERE room = ?1 AND seq > ?2 AND sender_id != ?3 AND json NOT LIKE '%\"deleted\":true%'",
                params![id, my_read, self.me],
                |r| r.get(0),
            )?;
            let last = last_message(&c, self.me, id)?;
            let (presence, last_seen) = if room.kind == RoomKind::Direct {
                match room.members.iter().find(|m| m.id != self.me) {
                    Some(o) => presence_row(&c, o.id)?,
                    None => (None, None),
                }
            } else {
                (None, None)
            };
            drop(c);
            out.push(RoomView { room, unread, last_message: last, presence, last_seen, typing: typing(id) });
        }
        Ok(out)
    }

    /// What the user sent today (since UTC midnight, as the hub counts for the daily limit), per currency:
    /// outgoing transfers that did not fail.
    pub fn sent_today(&self) -> Result<Vec<Money>, Error> {
        let day_start = now_ms() - now_ms().rem_euclid(86_400_000);
        let c = self.reader();
        let mut stmt = c.prepare_cached(
            "SELECT currency, SUM(amount) FROM transactions WHERE kind = 'transfer_out' AND status != 'failed'
             AND created_at >= ?1 GROUP BY currency ORDER BY currency",
        )?;
        let rows = stmt.query_map([day_start], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (cur, sum) = row?;
            let currency = Currency::parse(&cur).map_err(|e| Error::Storage(e.to_string()))?;
            out.push(Money::new(sum, currency));
        }
        Ok(out)
    }

    /// Messages of a room, oldest first: the `limit` newest before `before_seq` (pending local echoes last).
    pub fn messages(&self, room: RoomId, before_sort: Option<i64>, limit: u32) -> Result<Vec<MessageView>, Error> {
        let limit = limit.clamp(1, 200);
        let c = self.reader();
        let receipts = receipts(&c, room)?;
        let mut stmt = c.prepare_cached(
            "SELECT json, local_state, outbox_id, seq FROM messages WHERE room = ?1 AND sort_key < ?2 ORDER BY sort_key DESC, local_id DESC LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![room, before_sort.unwrap_or(i64::MAX), limit], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, Option<i64>>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (json, local, outbox_id, seq) = row?;
            if let Some(mut view) = message_view(&json, &local, outbox_id) {
                if let Some(s) = seq {
                    let sender = view.message.sender.id;
                    view.read_by = receipts
                        .iter()
                        .filter(|(u, up)| u.id != sender && *up as i64 >= s)
                        .map(|(u, _)| u.clone())
                        .collect();
                }
                out.push(view);
            }
        }
        out.reverse();
        Ok(out)
    }

    /// The lowest seq cached for a room (to page older history from the hub).
    pub fn oldest_seq(&self, room: RoomId) -> Result<Option<u64>, Error> {
        Ok(self
            .reader()
            .query_row("SELECT MIN(seq) FROM messages WHERE room = ?1 AND seq IS NOT NULL", [room], |r| {
                r.get::<_, Option<i64>>(0)
            })?
            .map(|s| s as u64))
    }

    pub fn room_head_seq(&self, room: RoomId) -> Result<u64, Error> {
        Ok(self
            .reader()
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM messages WHERE room = ?1", [room], |r| r.get::<_, i64>(0))?
            as u64)
    }

    pub fn outbox_items(&self) -> Result<Vec<OutboxItem>, Error> {
        let c = self.reader();
        let mut stmt = c.prepare_cached("SELECT id, kind, queue, state, error_code, error, created_at, expires_at, attempts, summary FROM outbox ORDER BY id")?;
        let rows = stmt.query_map([], |r| {
            let state: String = r.get(3)?;
            let local = if state == "failed" {
                let reason = r.get::<_, Option<String>>(5)?.unwrap_or_default();
                match r.get::<_, Option<String>>(4)?.as_deref().map(error_code) {
                    Some(Some(code)) => LocalState::Failed { code, reason },
                    _ => unreadable_state(),
                }
            } else {
                LocalState::Pending
            };
            Ok(OutboxItem {
                id: r.get(0)?,
                kind: r.get(1)?,
                queue: r.get(2)?,
                local,
                created_at: r.get(6)?,
                expires_at: r.get(7)?,
                attempts: r.get(8)?,
                summary: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Newest first, within a day critical first.
    pub fn notifications(&self, before: Option<NotificationId>, limit: u32) -> Result<Vec<Notification>, Error> {
        let c = self.reader();
        let mut stmt = c.prepare_cached(
            "SELECT json, read FROM notifications WHERE id < ?1 ORDER BY created_at / 86400000 DESC, priority = 3 DESC, created_at DESC, id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![before.unwrap_or(i64::MAX), limit.clamp(1, 200)], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (json, read) = row?;
            if let Ok(mut n) = serde_json::from_str::<Notification>(&json) {
                n.read = read;
                out.push(n);
            }
        }
        Ok(out)
    }

    pub fn mark_notifications_read_locally(&self, ids: Option<&[NotificationId]>) -> Result<(), Error> {
        let c = self.writer();
        match ids {
            Some(ids) => {
                for id in ids {
                    c.execute("UPDATE notifications SET read = 1 WHERE id = ?1", [id])?;
                }
            }
            None => {
                c.execute("UPDATE notifications SET read = 1", [])?;
            }
        }
        Ok(())
    }

    pub fn unread_counts(&self) -> Result<UnreadCounts, Error> {
        let c = self.reader();
        let notifications: u32 = c.query_row("SELECT COUNT(*) FROM notifications WHERE read = 0", [], |r| r.get(0))?;
        let chat: u32 = c.query_row(
            "SELECT COUNT(*) FROM messages m JOIN rooms r ON r.id = m.room WHERE r.left_room = 0 AND m.seq > r.my_read AND m.sender_id != ?1 AND m.json NOT LIKE '%\"deleted\":true%'",
            [self.me],
            |r| r.get(0),
        )?;
        Ok(UnreadCounts { notifications, chat })
    }

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
            messages.extend(message_view(&json, &local, outbox_id));
        }
        Ok(SearchResults { transactions, messages })
    }
}

fn receipts(c: &Connection, room: RoomId) -> Result<Vec<(UserSummary, u64)>, Error> {
    let mut stmt = c.prepare_cached("SELECT json, up_to FROM receipts WHERE room = ?1")?;
    let rows = stmt.query_map([room], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (json, up) = row?;
        if let Ok(u) = serde_json::from_str::<UserSummary>(&json) {
            out.push((u, up as u64));
        }
    }
    Ok(out)
}

fn last_message(c: &Connection, _me: i64, room: RoomId) -> Result<Option<MessageView>, Error> {
    let row: Option<(String, String, Option<i64>)> = c
        .query_row("SELECT json, local_state, outbox_id FROM messages WHERE room = ?1 ORDER BY sort_key DESC, local_id DESC LIMIT 1", [room], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    Ok(row.and_then(|(json, local, outbox_id)| message_view(&json, &local, outbox_id)))
}

/// A person's last known presence and, while offline, when they were last seen.
fn presence_row(c: &Connection, user: UserId) -> Result<(Option<PresenceStatus>, Option<Millis>), Error> {
    let row: Option<(String, Option<i64>)> = c
        .prepare_cached("SELECT status, last_seen FROM presence WHERE user_id = ?1")?
        .query_row([user], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(match row {
        Some((s, seen)) => {
            let status: Option<PresenceStatus> = enum_from(&s);
            let seen = if status == Some(PresenceStatus::Offline) { seen } else { None };
            (status, seen)
        }
        None => (None, None),
    })
}

/// Minor units as a decimal in `exponent` digits: (-1234, 2) → "-12.34", (500, 0) → "500".
pub fn decimal(minor: i64, exponent: u32) -> String {
    let (neg, abs) = (minor < 0, minor.unsigned_abs());
    let s = if exponent == 0 {
        abs.to_string()
    } else {
        let p = 10u64.pow(exponent);
        format!("{}.{:0width$}", abs / p, abs % p, width = exponent as usize)
    };
    if neg {
        format!("-{s}")
    } else {
        s
    }
}

fn csv_line(t: &Transaction) -> String {
    let cp = t.counterparty.as_ref().map(|u| u.username.clone()).unwrap_or_default();
    let signed = if t.direction == Direction::Out { -t.amount.minor } else { t.amount.minor };
    let exp = t.amount.currency.exponent();
    format!(
        "{},{},{},{},{},{},{},{},{},{}\n",
        t.id,
        iso8601(t.created_at),
        enum_str(&t.kind),
        enum_str(&t.direction),
        csv_field(&cp),
        csv_field(&t.memo),
        decimal(signed, exp),
        t.amount.currency,
        enum_str(&t.status),
        decimal(t.balance_after, exp)
    )
}

/// A cached transfer row as the UI sees it (None when the stored JSON is unreadable).
fn transfer_view(json: &str, local: &str, outbox_id: Option<i64>, expires_at: Option<i64>) -> Option<TransferView> {
    let transfer = serde_json::from_str::<Transfer>(json).ok()?;
    Some(TransferView { transfer, local: local_state(local), outbox_id, expires_at })
}

/// A cached message row as the UI sees it, without read receipts.
fn message_view(json: &str, local: &str, outbox_id: Option<i64>) -> Option<MessageView> {
    let message = serde_json::from_str::<Message>(json).ok()?;
    Some(MessageView { message, local: local_state(local), outbox_id, read_by: vec![] })
}

pub(crate) fn local_state(s: &str) -> LocalState {
    match s {
        "sent" => LocalState::Sent,
        "pending" => LocalState::Pending,
        other => serde_json::from_str(other).unwrap_or_else(|_| unreadable_state()),
    }
}

/// A stored error code (the strings of the wire and of `LocalErrorCode`).
fn error_code(s: &str) -> Option<CommandErrorCode> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
}

/// A state this version cannot read (a newer app's, or damage) is shown as failed, never as pending or sent:
/// the user decides whether to retry or discard.
fn unreadable_state() -> LocalState {
    LocalState::Failed {
        code: LocalErrorCode::Storage.into(),
        reason: "Tally could not read the state of this item; retry or discard it.".into(),
    }
}

fn csv_field(s: &str) -> String {
    // Quote always; neutralise spreadsheet formulas (CSV injection, OWASP's list: = + - @ and a leading TAB
    // or CR, which spreadsheets skip before reading a formula) by prefixing a quote mark.
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_string() };
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// `YYYY-MM-DDTHH:MM:SSZ` from Unix milliseconds (civil-from-days, no time crate needed).
pub fn iso8601(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_763_860_000_000), "2025-11-23T01:06:40Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn csv_amounts_are_decimals_in_each_currencys_digits_with_the_balance_after() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("c.db"), 1).unwrap();
        let bob = UserSummary { id: 2, username: "bob".into(), display_name: "Bob, \"the\" Builder".into() };
        let tx = |id, kind, direction, minor, cur: &str, after, memo: &str| Transaction {
            id,
            kind,
            direction,
            amount: Money::new(minor, Currency::parse(cur).unwrap()),
            balance_after: after,
            counterparty: Some(bob.clone()),
            memo: memo.into(),
            transfer_id: None,
            status: TransferStatus::Completed,
            created_at: 1_763_860_000_000 + id,
        };
        s.upsert_transactions(&[
            tx(1, TxKind::Deposit, Direction::In, 250_000, "USD", 250_000, "Salary"),
            tx(2, TxKind::TransferOut, Direction::Out, 1_234, "USD", 248_766, "Pizza, \"large\""),
            tx(3, TxKind::TransferIn, Direction::In, 5_000, "JPY", 5_000, "ramen"),
            tx(4, TxKind::TransferOut, Direction::Out, 1_250, "BHD", 8_750, "tea"),
        ])
        .unwrap();
        let csv = s.export_csv(&TxFilter::default()).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "id,date_utc,type,direction,counterparty,memo,amount,currency,status,balance_after");
        assert_eq!(lines[1], "4,2025-11-23T01:06:40Z,transfer_out,out,\"bob\",\"tea\",-1.250,BHD,completed,8.750");
        assert_eq!(lines[2], "3,2025-11-23T01:06:40Z,transfer_in,in,\"bob\",\"ramen\",5000,JPY,completed,5000");
        assert_eq!(
            lines[3],
            "2,2025-11-23T01:06:40Z,transfer_out,out,\"bob\",\"Pizza, \"\"large\"\"\",-12.34,USD,completed,2487.66"
        );
        assert_eq!(lines[4], "1,2025-11-23T01:06:40Z,deposit,in,\"bob\",\"Salary\",2500.00,USD,completed,2500.00");
        // The filtered range only.
        let usd = s.export_csv(&TxFilter { currency: Some("JPY".into()), ..Default::default() }).unwrap();
        assert_eq!(usd.lines().count(), 2);
    }

    #[test]
    fn search_text_never_becomes_fts_syntax() {
        assert_eq!(fts_query("pizza NEAR\"x"), Some("\"pizza\"* \"NEAR\"* \"x\"*".into()));
        assert_eq!(fts_query("  ** ( "), None);
    }

    #[test]
    fn search_returns_the_newest_matches_of_each_kind() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("c.db"), 1).unwrap();
        let bob = UserSummary { id: 2, username: "bob".into(), display_name: "Bob Brown".into() };
        let txs: Vec<Transaction> = (1..=50)
            .map(|id| Transaction {
                id,
                kind: TxKind::TransferIn,
                direction: Direction::In,
                amount: Money::new(100, Currency::USD),
                balance_after: id,
                counterparty: (id % 2 == 0).then(|| bob.clone()),
                memo: if id % 5 == 0 { format!("coffee {id}") } else { format!("pizza night {id}") },
                transfer_id: None,
                status: TransferStatus::Completed,
                created_at: 1_000 + id,
            })
            .collect();
        s.upsert_transactions(&txs).unwrap();
        let events: Vec<Event> = (1..=40u64)
            .map(|i| Event {
                channel: Channel::Room(1),
                epoch: "e".into(),
                seq: i,
                ts: i as i64,
                data: EventData::Message {
                    message: Message {
                        id: i as i64,
                        room: 1,
                        seq: i,
                        client_msg_id: format!("c{i}"),
                        sender: bob.clone(),
                        text: if i % 4 == 0 { format!("rent {i}") } else { format!("pizzas for {i}") },
                        mentions: vec![],
                        sent_at: i as i64,
                        edited_at: None,
                        deleted: false,
                        reactions: vec![],
                    },
                },
            })
            .collect();
        s.upsert_messages(&events).unwrap();

        let r = s.search("piz").unwrap();
        let ids: Vec<i64> = r.transactions.iter().map(|t| t.tx.id).collect();
        let want: Vec<i64> = (1..=50).rev().filter(|i| i % 5 != 0).take(20).collect();
        assert_eq!(ids, want);
        let ids: Vec<i64> = r.messages.iter().map(|m| m.message.id).collect();
        let want: Vec<i64> = (1..=40).rev().filter(|i| i % 4 != 0).take(20).collect();
        assert_eq!(ids, want);
        // All terms must match (memo or counterparty); fewer matches than the limit come back whole.
        let r = s.search("coffee bob").unwrap();
        assert_eq!(r.transactions.iter().map(|t| t.tx.id).collect::<Vec<_>>(), vec![50, 40, 30, 20, 10]);
        assert!(r.messages.is_empty());
        let r = s.search("rent 3").unwrap();
        assert_eq!(r.messages.iter().map(|m| m.message.id).collect::<Vec<_>>(), vec![36, 32]);
        assert!(s.search("nothing").unwrap().transactions.is_empty());
    }

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("a\"b"), "\"a\"\"b\"");
        assert_eq!(csv_field("=SUM(A1)"), "\"'=SUM(A1)\"");
        assert_eq!(csv_field("\t=1+1"), "\"'\t=1+1\"", "a leading TAB");
        assert_eq!(csv_field("\r=1+1"), "\"'\r=1+1\"", "a leading CR");
        assert_eq!(csv_field("lunch"), "\"lunch\"");
    }
}
