//! The ledger: accounts, double-entry postings, idempotent transfers and their state machine.
//!
//! Every function here runs on the store's writer thread inside one transaction (savepoint), so a
//! transfer's hold, postings, history lines and events commit together or not at all. Invariants:
//! per currency the postings sum to zero; per account `available + pending` equals the sum of its postings.
use crate::error::{HubError, HubResult};
use crate::fanout::TenantId;
use crate::log;
use crate::notify;
use crate::store::{now_ms, Emits};
use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};
use tally_protocol::*;

/// The tenant's external account (the outside world) in postings.
const EXTERNAL: i64 = 0;

fn status_str(s: TransferStatus) -> &'static str {
    match s {
        TransferStatus::Pending => "pending",
        TransferStatus::Processing => "processing",
        TransferStatus::Completed => "completed",
        TransferStatus::Failed => "failed",
    }
}
/// A stored value this hub cannot read: a typed storage error, never a silent default.
fn unreadable(what: &str, value: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("unreadable {what} {value:?}").into(),
    )
}
fn parse_status(s: &str) -> rusqlite::Result<TransferStatus> {
    Ok(match s {
        "pending" => TransferStatus::Pending,
        "processing" => TransferStatus::Processing,
        "completed" => TransferStatus::Completed,
        "failed" => TransferStatus::Failed,
        _ => return Err(unreadable("transfer status", s)),
    })
}
fn parse_currency(s: &str) -> rusqlite::Result<Currency> {
    Currency::parse(s).map_err(|_| unreadable("currency", s))
}
fn kind_str(k: TxKind) -> &'static str {
    match k {
        TxKind::TransferIn => "transfer_in",
        TxKind::TransferOut => "transfer_out",
        TxKind::Deposit => "deposit",
        TxKind::Withdrawal => "withdrawal",
    }
}
fn parse_kind(s: &str) -> rusqlite::Result<TxKind> {
    Ok(match s {
        "transfer_in" => TxKind::TransferIn,
        "transfer_out" => TxKind::TransferOut,
        "withdrawal" => TxKind::Withdrawal,
        "deposit" => TxKind::Deposit,
        _ => return Err(unreadable("transaction kind", s)),
    })
}

/// "12.50 USD" — for notification texts (the UI formats amounts itself from minor units).
pub fn fmt_money(m: Money) -> String {
    let digits = m.currency.exponent();
    let neg = m.minor < 0;
    let abs = m.minor.unsigned_abs();
    let s = if digits == 0 {
        abs.to_string()
    } else {
        let p = 10u64.pow(digits);
        format!("{}.{:0width$}", abs / p, abs % p, width = digits as usize)
    };
    format!("{}{} {}", if neg { "-" } else { "" }, s, m.currency)
}

fn ensure_account(conn: &Connection, tenant: TenantId, user: i64, currency: Currency) -> HubResult<()> {
    conn.prepare_cached("INSERT OR IGNORE INTO accounts (user_id, currency, tenant_id, available, pending, updated_at) VALUES (?1, ?2, ?3, 0, 0, ?4)")?.execute(params![user, currency.as_str(), tenant, now_ms()],
    )?;
    Ok(())
}

pub fn balance(conn: &Connection, user: i64, currency: Currency) -> HubResult<Balance> {
    Ok(conn
        .query_row(
            "SELECT available, pending, updated_at FROM accounts WHERE user_id = ?1 AND currency = ?2",
            params![user, currency.as_str()],
            |r| Ok(Balance { currency, available: r.get(0)?, pending: r.get(1)?, as_of: r.get(2)? }),
        )
        .optional()?
        .unwrap_or(Balance { currency, available: 0, pending: 0, as_of: now_ms() }))
}

pub fn balances(conn: &Connection, user: i64) -> HubResult<Vec<Balance>> {
    let mut stmt = conn.prepare_cached(
        "SELECT currency, available, pending, updated_at FROM accounts WHERE user_id = ?1 ORDER BY currency",
    )?;
    let rows = stmt.query_map([user], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (c, available, pending, as_of) = row?;
        if let Ok(currency) = Currency::parse(&c) {
            out.push(Balance { currency, available, pending, as_of });
        }
    }
    Ok(out)
}

fn add_balance(conn: &Connection, user: i64, currency: Currency, d_available: i64, d_pending: i64) -> HubResult<()> {
    let n = conn.prepare_cached("UPDATE accounts SET available = available + ?3, pending = pending + ?4, updated_at = ?5 WHERE user_id = ?1 AND currency = ?2")?.execute(params![user, currency.as_str(), d_available, d_pending, now_ms()],
    );
    match n {
        Ok(1) => Ok(()),
        Ok(_) => Err(HubError::internal("account missing")),
        // CHECK (available >= 0) failed: never overdraw.
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
            Err(HubError::new(ErrorCode::InsufficientFunds, "insufficient funds"))
        }
        Err(e) => Err(e.into()),
    }
}

fn post(conn: &Connection, tenant: TenantId, entry: &str, legs: &[(i64, i64)], currency: Currency) -> HubResult<()> {
    debug_assert_eq!(legs.iter().map(|l| l.1).sum::<i64>(), 0);
    let now = now_ms();
    for (account, amount) in legs {
        conn.prepare_cached("INSERT INTO postings (tenant_id, entry, account_user, currency, amount, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?.execute(params![tenant, entry, account, currency.as_str(), amount, now],
        )?;
    }
    Ok(())
}

fn emit_balance(
    conn: &Connection,
    emits: &mut Emits,
    tenant: TenantId,
    user: i64,
    currency: Currency,
) -> HubResult<()> {
    let b = balance(conn, user, currency)?;
    log::append(conn, emits, tenant, Channel::Balance(user), EventData::Balance { balance: b })?;
    Ok(())
}

pub fn transaction(conn: &Connection, tenant: TenantId, id: TxId) -> HubResult<Option<Transaction>> {
    let row = conn
        .query_row(
            "SELECT id, kind, direction, amount, currency, balance_after, counterparty, memo, transfer_id, status, created_at
             FROM transactions WHERE id = ?1 AND tenant_id = ?2",
            params![id, tenant],
            tx_from_row,
        )
        .optional()?;
    match row {
        Some((mut tx, cp)) => {
            if let Some(cp) = cp {
                tx.counterparty = crate::auth::user_summary(conn, tenant, cp)?;
            }
            Ok(Some(tx))
        }
        None => Ok(None),
    }
}

type TxRow = (Transaction, Option<i64>);
fn tx_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TxRow> {
    let currency: String = r.get(4)?;
    Ok((
        Transaction {
            id: r.get(0)?,
            kind: parse_kind(&r.get::<_, String>(1)?)?,
            direction: if r.get::<_, String>(2)? == "in" { Direction::In } else { Direction::Out },
            amount: Money::new(r.get(3)?, parse_currency(&currency)?),
            balance_after: r.get(5)?,
            counterparty: None,
            memo: r.get(7)?,
            transfer_id: r.get(8)?,
            status: parse_status(&r.get::<_, String>(9)?)?,
            created_at: r.get(10)?,
        },
        r.get(6)?,
    ))
}

/// Resolves counterparties of a page of rows, looking each user up once.
fn with_counterparties(conn: &Connection, tenant: TenantId, rows: Vec<TxRow>) -> HubResult<Vec<Transaction>> {
    let mut seen: std::collections::HashMap<i64, Option<UserSummary>> = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for (mut tx, cp) in rows {
        if let Some(cp) = cp {
            let user = match seen.get(&cp) {
                Some(u) => u.clone(),
                None => {
                    let u = crate::auth::user_summary(conn, tenant, cp)?;
                    seen.insert(cp, u.clone());
                    u
                }
            };
            tx.counterparty = user;
        }
        out.push(tx);
    }
    Ok(out)
}

/// A page of a user's transactions, newest first, with ids below `before` (at most `MAX_SNAPSHOT_PAGE`).
pub fn transactions_page(
    conn: &Connection,
    tenant: TenantId,
    user: i64,
    before: Option<TxId>,
    limit: u32,
) -> HubResult<(Vec<Transaction>, Option<TxId>)> {
    let limit = limit.clamp(1, MAX_SNAPSHOT_PAGE);
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, direction, amount, currency, balance_after, counterparty, memo, transfer_id, status, created_at
         FROM transactions WHERE user_id = ?1 AND tenant_id = ?2 AND id < ?3 ORDER BY id DESC LIMIT ?4",
    )?;
    let rows = stmt.query_map(params![user, tenant, before.unwrap_or(i64::MAX), limit as i64 + 1], tx_from_row)?;
    let mut out = with_counterparties(conn, tenant, rows.collect::<Result<_, _>>()?)?;
    let next = if out.len() > limit as usize {
        out.truncate(limit as usize);
        out.last().map(|t| t.id)
    } else {
        None
    };
    Ok((out, next))
}

/// How many transactions a user has.
pub fn transactions_count(conn: &Connection, tenant: TenantId, user: i64) -> HubResult<u64> {
    let n: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM transactions WHERE user_id = ?1 AND tenant_id = ?2")?
        .query_row(params![user, tenant], |r| r.get(0))?;
    Ok(n as u64)
}

/// Transactions created or changed after `since`, oldest change first, and the cursor of the next page.
pub fn transaction_changes(
    conn: &Connection,
    tenant: TenantId,
    user: i64,
    since: ChangeCursor,
    limit: u32,
) -> HubResult<(Vec<Transaction>, Option<ChangeCursor>)> {
    let limit = limit.clamp(1, MAX_SNAPSHOT_PAGE);
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, direction, amount, currency, balance_after, counterparty, memo, transfer_id, status, created_at, updated_at
         FROM transactions WHERE user_id = ?1 AND tenant_id = ?2 AND (updated_at, id) > (?3, ?4)
         ORDER BY updated_at, id LIMIT ?5",
    )?;
    let rows = stmt.query_map(params![user, tenant, since.updated_at, since.id, limit as i64 + 1], |r| {
        Ok((tx_from_row(r)?, r.get::<_, i64>(11)?))
    })?;
    let mut rows: Vec<(TxRow, i64)> = rows.collect::<Result<_, _>>()?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next = if more { rows.last().map(|((t, _), at)| ChangeCursor { updated_at: *at, id: t.id }) } else { None };
    let out = with_counterparties(conn, tenant, rows.into_iter().map(|(r, _)| r).collect())?;
    Ok((out, next))
}

/// The sender's own transfer with this idempotency key, key included.
pub fn transfer_by_key(conn: &Connection, tenant: TenantId, user: i64, key: &str) -> HubResult<Option<Transfer>> {
    let id: Option<i64> = conn
        .prepare_cached("SELECT id FROM transfers WHERE from_user = ?1 AND idem_key = ?2 AND tenant_id = ?3")?
        .query_row(params![user, key, tenant], |r| r.get(0))
        .optional()?;
    match id {
        Some(id) => transfer_for(conn, tenant, id, user),
        None => Ok(None),
    }
}

#[allow(clippy::too_many_arguments)]
fn insert_tx(
    conn: &Connection,
    tenant: TenantId,
    user: i64,
    kind: TxKind,
    amount: Money,
    balance_after: i64,
    counterparty: Option<i64>,
    memo: &str,
    transfer_id: Option<TransferId>,
    status: TransferStatus,
    created_at: i64,
) -> HubResult<TxId> {
    let direction = match kind {
        TxKind::TransferIn | TxKind::Deposit => "in",
        _ => "out",
    };
    // updated_at is the time of writing even when created_at is backdated: the changes feed follows it.
    conn.prepare_cached("INSERT INTO transactions (tenant_id, user_id, kind, direction, amount, currency, balance_after, counterparty, memo, transfer_id, status, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)")?.execute(params![tenant, user, kind_str(kind), direction, amount.minor, amount.currency.as_str(), balance_after, counterparty, memo, transfer_id, status_str(status), created_at, now_ms()],
    )?;
    Ok(conn.last_insert_rowid())
}

fn emit_tx(conn: &Connection, emits: &mut Emits, tenant: TenantId, user: i64, id: TxId) -> HubResult<()> {
    if let Some(t) = transaction(conn, tenant, id)? {
        log::append(conn, emits, tenant, Channel::Transactions(user), EventData::Transaction { transaction: t })?;
    }
    Ok(())
}

fn validate_memo(memo: &str) -> HubResult<()> {
    if memo.len() > MAX_MEMO_BYTES {
        return Err(HubError::invalid(format!("memo is longer than {MAX_MEMO_BYTES} bytes")));
    }
    Ok(())
}

/// Money entering the tenant (a card top-up, a bank transfer in). `at` backdates demo history (and then
/// raises no notification).
pub fn deposit(
    conn: &Connection,
    emits: &mut Emits,
    tenant: TenantId,
    user: i64,
    amount: Money,
    memo: &str,
    at: Option<i64>,
) -> HubResult<TxId> {
    external(conn, emits, tenant, user, amount, memo, at, true)
}

/// Money leaving the tenant. `insufficient_funds` when the available balance is too small.
pub fn withdraw(
    conn: &Connection,
    emits: &mut Emits,
    tenant: TenantId,
    user: i64,
    amount: Money,
    memo: &str,
) -> HubResult<TxId> {
    external(conn, emits, tenant, user, amount, memo, None, false)
}

/// A movement between a user and the tenant's external account: one balance change, two postings, one
/// history line, and their events.
#[allow(clippy::too_many_arguments)]
fn external(
    conn: &Connection,
    emits: &mut Emits,
    tenant: TenantId,
    user: i64,
    amount: Money,
    memo: &str,
    at: Option<i64>,
    incoming: bool,
) -> HubResult<TxId> {
    if !amount.is_positive() {
        return Err(HubError::invalid("amount must be positive"));
    }
    validate_memo(memo)?;
    ensure_account(conn, tenant, user, amount.currency)?;
    let signed = if incoming { amount.minor } else { -amount.minor };
    add_balance(conn, user, amount.currency, signed, 0)?;
    let (prefix, kind, nkind, label) = if incoming {
        ("dep", TxKind::Deposit, NotificationKind::Deposit, "Deposit")
    } else {
        ("wdr", TxKind::Withdrawal, NotificationKind::Withdrawal, "Withdrawal")
    };
    let entry = format!("{prefix}:{}", crate::auth::random_token("", 12));
    post(conn, tenant, &entry, &[(EXTERNAL, -signed), (user, signed)], amount.currency)?;
    let b = balance(conn, user, amount.currency)?;
    let when = at.unwrap_or_else(now_ms);
    let id =
        insert_tx(conn, tenant, user, kind, amount, b.available, None, memo, None, TransferStatus::Completed, when)?;
    emit_balance(conn, emits, tenant, user, amount.currency)?;
    emit_tx(conn, emits, tenant, user, id)?;
    if at.is_none() {
        let title = format!("{label} of {}", fmt_money(amount));
        notify::create(
            conn,
            emits,
            tenant,
            user,
            nkind,
            Priority::Normal,
            &title,
            memo,
            Some(NotificationTarget::Transaction { id }),
        )?;
    }
    Ok(id)
}

fn body_hash(to: &str, amount: Money, memo: &str) -> String {
    let mut h = Sha256::new();
    h.update(to.as_bytes());
    h.update([0]);
    h.update(amount.minor.to_le_bytes());
    h.update(amount.currency.as_str().as_bytes());
    h.update([0]);
    h.update(memo.as_bytes());
    hex::encode(h.finalize())
}

pub fn transfer(conn: &Connection, tenant: TenantId, id: TransferId) -> HubResult<Option<Transfer>> {
    let row = conn
        .query_row(
            "SELECT id, from_user, to_user, amount, currency, memo, status, progress, failure, idem_key, created_at, updated_at
             FROM transfers WHERE id = ?1 AND tenant_id = ?2",
            params![id, tenant],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, i64>(7)?,
                    r.get::<_, Option<String>>(8)?,
                    r.get::<_, String>(9)?,
                    r.get::<_, i64>(10)?,
                    r.get::<_, i64>(11)?,
                ))
            },
        )
        .optional()?;
    let Some((id, from, to, amount, currency, memo, status, progress, failure, key, created_at, updated_at)) = row
    else {
        return Ok(None);
    };
    let from = crate::auth::user_summary(conn, tenant, from)?.ok_or_else(|| HubError::internal("sender missing"))?;
    let to = crate::auth::user_summary(conn, tenant, to)?.ok_or_else(|| HubError::internal("recipient missing"))?;
    Ok(Some(Transfer {
        id,
        from,
        to,
        amount: Money::new(amount, parse_currency(&currency)?),
        memo,
        status: parse_status(&status)?,
        progress: progress.clamp(0, 100) as u8,
        failure,
        idempotency_key: Some(key),
        created_at,
        updated_at,
    }))
}

/// The transfer as a given user may see it (the idempotency key only for its sender).
pub fn transfer_for(conn: &Connection, tenant: TenantId, id: TransferId, viewer: i64) -> HubResult<Option<Transfer>> {
    Ok(transfer(conn, tenant, id)?.filter(|t| t.from.id == viewer || t.to.id == viewer).map(|mut t| {
        if t.from.id != viewer {
            t.idempotency_key = None;
        }
        t
    }))
}

pub fn open_transfers(conn: &Connection, tenant: TenantId, user: i64) -> HubResult<Vec<Transfer>> {
    let ids: Vec<i64> = {
        let mut stmt = conn.prepare_cached(
            "SELECT id FROM transfers WHERE tenant_id = ?1 AND (from_user = ?2 OR to_user = ?2) AND status IN ('pending','processing') ORDER BY id",
        )?;
        let rows = stmt.query_map(params![tenant, user], |r| r.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    let mut out = Vec::new();
    for id in ids {
        if let Some(t) = transfer_for(conn, tenant, id, user)? {
            out.push(t);
        }
    }
    Ok(out)
}

fn emit_transfer(conn: &Connection, emits: &mut Emits, tenant: TenantId, id: TransferId) -> HubResult<Transfer> {
    let mut t = transfer(conn, tenant, id)?.ok_or_else(|| HubError::internal("transfer vanished"))?;
    let key = t.idempotency_key.take(); // the channel is shared by both parties: no key on it
    log::append(conn, emits, tenant, Channel::Transfer(id), EventData::Transfer { transfer: t.clone() })?;
    t.idempotency_key = key;
    Ok(t)
}

/// Whether this request created a new transfer or returned an earlier one with the same key.
pub enum Created {
    New(Transfer),
    Existing(Transfer),
}

/// Accepts a transfer: idempotency, validation, limits, then a hold of the amount (available → pending).
#[allow(clippy::too_many_arguments)]
/// What a sender asks for in a `transfer_create`.
pub struct NewTransfer<'a> {
    pub key: &'a str,
    pub to: &'a str,
    pub amount: Money,
    pub memo: &'a str,
    /// The sender's deadline; a new transfer past it is refused with `expired`.
    pub expires_at: Option<Millis>,
}

pub fn create_transfer(
    conn: &Connection,
    emits: &mut Emits,
    tenant: TenantId,
    from: &UserSummary,
    req: NewTransfer<'_>,
) -> HubResult<Created> {
    let NewTransfer { key, to: to_username, amount, memo, expires_at } = req;
    if key.is_empty() || key.len() > 128 {
        return Err(HubError::invalid("idempotency_key must be 1-128 characters"));
    }
    let hash = body_hash(to_username, amount, memo);
    let existing: Option<(i64, String)> = conn
        .query_row(
            "SELECT id, body_hash FROM transfers WHERE from_user = ?1 AND idem_key = ?2",
            params![from.id, key],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((id, h)) = existing {
        if h != hash {
            return Err(HubError::new(ErrorCode::Conflict, "idempotency key already used for a different transfer"));
        }
        let t = transfer(conn, tenant, id)?.ok_or_else(|| HubError::internal("transfer vanished"))?;
        return Ok(Created::Existing(t));
    }
    if expires_at.is_some_and(|deadline| now_ms() > deadline) {
        return Err(HubError::new(ErrorCode::Expired, "this payment's deadline passed before it reached the hub"));
    }
    if !amount.is_positive() {
        return Err(HubError::invalid("amount must be positive"));
    }
    validate_memo(memo)?;
    let (to, _, active) =
        crate::auth::user_by_name(conn, tenant, to_username)?.ok_or_else(|| HubError::not_found("recipient"))?;
    if !active {
        return Err(HubError::not_found("recipient"));
    }
    if to.id == from.id {
        return Err(HubError::invalid("you cannot send money to yourself"));
    }
    let (limit_single, limit_daily): (i64, i64) = conn
        .prepare_cached("SELECT limit_single, limit_daily FROM users WHERE id = ?1")?
        .query_row([from.id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let day_start = now_ms() - now_ms().rem_euclid(86_400_000);
    let sent_today: i64 = conn.prepare_cached("SELECT COALESCE(SUM(amount), 0) FROM transfers WHERE from_user = ?1 AND currency = ?2 AND created_at >= ?3 AND status != 'failed'")?.query_row(params![from.id, amount.currency.as_str(), day_start],
        |r| r.get(0),
    )?;
    let over = if amount.minor > limit_single {
        Some(format!("single transfer limit is {}", fmt_money(Money::new(limit_single, amount.currency))))
    } else if sent_today.saturating_add(amount.minor) > limit_daily {
        Some(format!(
            "daily limit is {}; {} already sent today",
            fmt_money(Money::new(limit_daily, amount.currency)),
            fmt_money(Money::new(sent_today, amount.currency))
        ))
    } else {
        None
    };
    if let Some(why) = over {
        // The caller raises the `limits` notification in its own job (this one is rolled back).
        return Err(HubError::new(ErrorCode::LimitExceeded, why));
    }
    ensure_account(conn, tenant, from.id, amount.currency)?;
    ensure_account(conn, tenant, to.id, amount.currency)?;
    let available = balance(conn, from.id, amount.currency)?.available;
    if available < amount.minor {
        return Err(HubError::new(
            ErrorCode::InsufficientFunds,
            format!("available balance is {}", fmt_money(Money::new(available, amount.currency))),
        ));
    }
    add_balance(conn, from.id, amount.currency, -amount.minor, amount.minor)?;
    let now = now_ms();
    conn.prepare_cached("INSERT INTO transfers (tenant_id, from_user, to_user, amount, currency, memo, status, progress, idem_key, body_hash, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?7, ?8, ?9, ?9)")?.execute(params![tenant, from.id, to.id, amount.minor, amount.currency.as_str(), memo, key, hash, now],
    )?;
    let id = conn.last_insert_rowid();
    let from_after = balance(conn, from.id, amount.currency)?.available;
    let to_now = balance(conn, to.id, amount.currency)?.available;
    let out_tx = insert_tx(
        conn,
        tenant,
        from.id,
        TxKind::TransferOut,
        amount,
        from_after,
        Some(to.id),
        memo,
        Some(id),
        TransferStatus::Pending,
        now,
    )?;
    let in_tx = insert_tx(
        conn,
        tenant,
        to.id,
        TxKind::TransferIn,
        amount,
        to_now,
        Some(from.id),
        memo,
        Some(id),
        TransferStatus::Pending,
        now,
    )?;
    let t = emit_transfer(conn, emits, tenant, id)?;
    emit_balance(conn, emits, tenant, from.id, amount.currency)?;
    emit_balance(conn, emits, tenant, to.id, amount.currency)?;
    emit_tx(conn, emits, tenant, from.id, out_tx)?;
    emit_tx(conn, emits, tenant, to.id, in_tx)?;
    metrics::counter!("tally_transfers_total", "status" => "pending").increment(1);
    Ok(Created::New(t))
}

/// Moves a transfer one step: pending → processing, processing → completed (or failed when the recipient
/// was deactivated meanwhile). Returns the new status, or None when it was already final.
pub fn advance_transfer(
    conn: &Connection,
    emits: &mut Emits,
    tenant: TenantId,
    id: TransferId,
) -> HubResult<Option<TransferStatus>> {
    let Some(t) = transfer(conn, tenant, id)? else { return Ok(None) };
    let now = now_ms();
    let next = match t.status {
        TransferStatus::Pending => {
            conn.prepare_cached(
                "UPDATE transfers SET status = 'processing', progress = 50, updated_at = ?2 WHERE id = ?1",
            )?
            .execute(params![id, now])?;
            conn.prepare_cached(
                "UPDATE transactions SET status = 'processing', updated_at = ?2 WHERE transfer_id = ?1",
            )?
            .execute(params![id, now])?;
            TransferStatus::Processing
        }
        TransferStatus::Processing => {
            let recipient_active: bool =
                conn.prepare_cached("SELECT active FROM users WHERE id = ?1")?.query_row([t.to.id], |r| r.get(0))?;
            if recipient_active {
                add_balance(conn, t.from.id, t.amount.currency, 0, -t.amount.minor)?;
                add_balance(conn, t.to.id, t.amount.currency, t.amount.minor, 0)?;
                post(
                    conn,
                    tenant,
                    &format!("tr:{id}"),
                    &[(t.from.id, -t.amount.minor), (t.to.id, t.amount.minor)],
                    t.amount.currency,
                )?;
                conn.prepare_cached(
                    "UPDATE transfers SET status = 'completed', progress = 100, updated_at = ?2 WHERE id = ?1",
                )?
                .execute(params![id, now])?;
                let to_after = balance(conn, t.to.id, t.amount.currency)?.available;
                conn.prepare_cached(
                    "UPDATE transactions SET status = 'completed', updated_at = ?2 WHERE transfer_id = ?1",
                )?
                .execute(params![id, now])?;
                conn.prepare_cached(
                    "UPDATE transactions SET balance_after = ?2, updated_at = ?4 WHERE transfer_id = ?1 AND user_id = ?3",
                )?
                .execute(params![id, to_after, t.to.id, now])?;
                TransferStatus::Completed
            } else {
                add_balance(conn, t.from.id, t.amount.currency, t.amount.minor, -t.amount.minor)?;
                conn.prepare_cached("UPDATE transfers SET status = 'failed', progress = 100, failure = 'recipient account is closed', updated_at = ?2 WHERE id = ?1")?.execute(params![id, now],
                )?;
                let from_after = balance(conn, t.from.id, t.amount.currency)?.available;
                conn.prepare_cached(
                    "UPDATE transactions SET status = 'failed', updated_at = ?2 WHERE transfer_id = ?1",
                )?
                .execute(params![id, now])?;
                conn.prepare_cached(
                    "UPDATE transactions SET balance_after = ?2, updated_at = ?4 WHERE transfer_id = ?1 AND user_id = ?3",
                )?
                .execute(params![id, from_after, t.from.id, now])?;
                TransferStatus::Failed
            }
        }
        _ => return Ok(None),
    };
    emit_transfer(conn, emits, tenant, id)?;
    if next.is_final() {
        emit_balance(conn, emits, tenant, t.from.id, t.amount.currency)?;
        emit_balance(conn, emits, tenant, t.to.id, t.amount.currency)?;
    }
    let tx_ids: Vec<(i64, i64)> = {
        let mut stmt = conn.prepare_cached("SELECT id, user_id FROM transactions WHERE transfer_id = ?1")?;
        let rows = stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    for (tx, user) in tx_ids {
        emit_tx(conn, emits, tenant, user, tx)?;
    }
    let target = Some(NotificationTarget::Transfer { id });
    match next {
        TransferStatus::Completed => {
            notify::create(
                conn,
                emits,
                tenant,
                t.to.id,
                NotificationKind::Payment,
                Priority::Normal,
                &format!("{} paid you {}", t.from.display_name, fmt_money(t.amount)),
                &t.memo,
                target.clone(),
            )?;
            notify::create(
                conn,
                emits,
                tenant,
                t.from.id,
                NotificationKind::Transfer,
                Priority::Low,
                &format!("{} sent to {}", fmt_money(t.amount), t.to.display_name),
                &t.memo,
                target,
            )?;
            metrics::counter!("tally_transfers_total", "status" => "completed").increment(1);
        }
        TransferStatus::Failed => {
            notify::create(
                conn,
                emits,
                tenant,
                t.from.id,
                NotificationKind::Transfer,
                Priority::High,
                &format!("Transfer of {} to {} failed", fmt_money(t.amount), t.to.display_name),
                "The money is back in your balance.",
                target,
            )?;
            metrics::counter!("tally_transfers_total", "status" => "failed").increment(1);
        }
        _ => {
            metrics::counter!("tally_transfers_total", "status" => "processing").increment(1);
        }
    }
    Ok(Some(next))
}

pub fn unfinished_transfers(conn: &Connection) -> HubResult<Vec<(TenantId, TransferId)>> {
    let mut stmt =
        conn.prepare("SELECT tenant_id, id FROM transfers WHERE status IN ('pending','processing') ORDER BY id")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Checks the ledger's invariants. Returns a description of every violation (empty when sound).
pub fn check_invariants(conn: &Connection) -> HubResult<Vec<String>> {
    let mut problems = Vec::new();
    let mut stmt = conn.prepare(
        "SELECT tenant_id, currency, SUM(amount) FROM postings GROUP BY tenant_id, currency HAVING SUM(amount) != 0",
    )?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))? {
        let (t, c, s) = row?;
        problems.push(format!("tenant {t} {c}: postings sum to {s}, not 0"));
    }
    let mut stmt = conn.prepare(
        "SELECT a.user_id, a.currency, a.available + a.pending, COALESCE((SELECT SUM(p.amount) FROM postings p
           WHERE p.account_user = a.user_id AND p.currency = a.currency), 0) FROM accounts a",
    )?;
    for row in stmt.query_map([], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?))
    })? {
        let (u, c, bal, posted) = row?;
        if bal != posted {
            problems.push(format!("user {u} {c}: balance {bal} but postings {posted}"));
        }
    }
    let mut stmt = conn
        .prepare("SELECT tenant_id, currency, SUM(available + pending) FROM accounts GROUP BY tenant_id, currency")?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))? {
        let (t, c, total) = row?;
        let external: i64 = conn.prepare_cached("SELECT COALESCE(SUM(amount), 0) FROM postings WHERE tenant_id = ?1 AND currency = ?2 AND account_user = 0")?.query_row(params![t, c],
            |r| r.get(0),
        )?;
        if total != -external {
            problems.push(format!("tenant {t} {c}: balances {total} != deposits - withdrawals {}", -external));
        }
    }
    Ok(problems)
}
