//! Per-channel event logs: append (inside the writer's transaction) and read back for replay and history.
use crate::error::HubResult;
use crate::fanout::{Published, TenantId};
use crate::store::{now_ms, Emits};
use axum::extract::ws::Utf8Bytes;
use rand::distributions::Alphanumeric;
use rand::Rng;
use rusqlite::{params, Connection, OptionalExtension};
use std::time::Instant;
use tally_protocol::{encode, Channel, Ephemeral, Event, EventData, ServerFrame};

/// The head of a channel's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub epoch: String,
    pub seq: u64,
}

fn new_epoch() -> String {
    rand::thread_rng().sample_iter(&Alphanumeric).take(8).map(char::from).collect()
}

/// Reads the head, creating the channel (new epoch, seq 0) when it has never been written.
pub fn head_or_create(conn: &Connection, tenant: TenantId, channel: &Channel) -> HubResult<Head> {
    let name = channel.to_string();
    if let Some(h) = head(conn, tenant, channel)? {
        return Ok(h);
    }
    let epoch = new_epoch();
    conn.prepare_cached("INSERT OR IGNORE INTO channels (tenant_id, channel, epoch, head) VALUES (?1, ?2, ?3, 0)")?
        .execute(params![tenant, name, epoch])?;
    Ok(head(conn, tenant, channel)?.unwrap_or(Head { epoch, seq: 0 }))
}

pub fn head(conn: &Connection, tenant: TenantId, channel: &Channel) -> HubResult<Option<Head>> {
    Ok(conn
        .query_row(
            "SELECT epoch, head FROM channels WHERE tenant_id = ?1 AND channel = ?2",
            params![tenant, channel.to_string()],
            |r| Ok(Head { epoch: r.get(0)?, seq: r.get::<_, i64>(1)? as u64 }),
        )
        .optional()?)
}

/// The seq the next event on `channel` will get (for objects that embed their own seq, like messages).
pub fn next_seq(conn: &Connection, tenant: TenantId, channel: &Channel) -> HubResult<u64> {
    Ok(head_or_create(conn, tenant, channel)?.seq + 1)
}

/// Appends an event and queues it for fan-out after commit. Returns its seq.
pub fn append(
    conn: &Connection,
    emits: &mut Emits,
    tenant: TenantId,
    channel: Channel,
    data: EventData,
) -> HubResult<u64> {
    let h = head_or_create(conn, tenant, &channel)?;
    let seq = h.seq + 1;
    let ts = now_ms();
    let event = Event { channel, epoch: h.epoch, seq, ts, data };
    let json = encode(&event);
    let name = channel.to_string();
    conn.prepare_cached("INSERT INTO events (tenant_id, channel, seq, ts, json) VALUES (?1, ?2, ?3, ?4, ?5)")?
        .execute(params![tenant, name, seq as i64, ts, json])?;
    conn.prepare_cached("UPDATE channels SET head = ?3 WHERE tenant_id = ?1 AND channel = ?2")?
        .execute(params![tenant, name, seq as i64])?;
    emits.items.push(Published {
        tenant,
        channel,
        seq,
        frame: Utf8Bytes::from(event_frame(&json)),
        at: Instant::now(),
    });
    metrics::counter!("tally_events_appended_total").increment(1);
    Ok(seq)
}

/// Queues an ephemeral event (no log, no seq) for fan-out.
pub fn ephemeral(tenant: TenantId, channel: Channel, data: Ephemeral) -> Published {
    Published {
        tenant,
        channel,
        seq: 0,
        frame: Utf8Bytes::from(encode(&ServerFrame::Ephemeral { channel, data })),
        at: Instant::now(),
    }
}

/// `{"type":"event", ...event fields}` from the stored event JSON, without re-encoding.
fn event_frame(event_json: &str) -> String {
    let mut s = String::with_capacity(event_json.len() + 16);
    s.push_str("{\"type\":\"event\",");
    s.push_str(event_json.strip_prefix('{').unwrap_or(event_json));
    s
}

/// `{"type":"batch","channel":..,"events":[...]}` from stored event JSON texts.
pub fn batch_frame(channel: &Channel, events: &[String]) -> String {
    let mut s = String::with_capacity(events.iter().map(|e| e.len() + 1).sum::<usize>() + 64);
    s.push_str("{\"type\":\"batch\",\"channel\":\"");
    s.push_str(&channel.to_string());
    s.push_str("\",\"events\":[");
    for (i, e) in events.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(e);
    }
    s.push_str("]}");
    s
}

/// What a subscription with `since` can recover.
pub enum Recovery {
    /// Every event after `since` is still in the log: replay seqs `from..=to` (possibly none).
    Replay { from: u64, to: u64 },
    /// Some are gone (retention), or the epoch changed, or `since` is ahead of the log.
    Lost,
}

pub fn plan_recovery(
    conn: &Connection,
    tenant: TenantId,
    channel: &Channel,
    head: &Head,
    since_epoch: &str,
    since_seq: u64,
) -> HubResult<Recovery> {
    if since_epoch != head.epoch || since_seq > head.seq {
        return Ok(Recovery::Lost);
    }
    if since_seq == head.seq {
        return Ok(Recovery::Replay { from: since_seq + 1, to: head.seq });
    }
    let oldest: Option<i64> = conn
        .prepare_cached("SELECT MIN(seq) FROM events WHERE tenant_id = ?1 AND channel = ?2")?
        .query_row(params![tenant, channel.to_string()], |r| r.get(0))?;
    match oldest {
        Some(o) if (o as u64) <= since_seq + 1 => Ok(Recovery::Replay { from: since_seq + 1, to: head.seq }),
        _ => Ok(Recovery::Lost),
    }
}

/// Stored event JSON texts with `from <= seq <= to`, oldest first, at most `limit`.
pub fn read_range(
    conn: &Connection,
    tenant: TenantId,
    channel: &Channel,
    from: u64,
    to: u64,
    limit: usize,
) -> HubResult<Vec<(u64, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, json FROM events WHERE tenant_id = ?1 AND channel = ?2 AND seq >= ?3 AND seq <= ?4 ORDER BY seq LIMIT ?5",
    )?;
    let rows = stmt.query_map(params![tenant, channel.to_string(), from as i64, to as i64, limit as i64], |r| {
        Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?))
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Events strictly before `before`, newest first (history pages of non-room channels).
pub fn read_before(
    conn: &Connection,
    tenant: TenantId,
    channel: &Channel,
    before: u64,
    limit: u32,
) -> HubResult<Vec<Event>> {
    let mut stmt = conn.prepare_cached(
        "SELECT json FROM events WHERE tenant_id = ?1 AND channel = ?2 AND seq < ?3 ORDER BY seq DESC LIMIT ?4",
    )?;
    let rows =
        stmt.query_map(params![tenant, channel.to_string(), before as i64, limit as i64], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for j in rows {
        if let Ok(e) = serde_json::from_str::<Event>(&j?) {
            out.push(e);
        }
    }
    Ok(out)
}

/// Drops events beyond retention (count per channel and age). Returns how many were deleted.
pub fn trim(conn: &Connection, keep_per_channel: u64, max_age_ms: i64) -> HubResult<usize> {
    trim_batch(conn, keep_per_channel, max_age_ms, TRIM_BATCH)
}

/// Rows deleted per retention pass at most: a pass runs inside the writer's group commit, so it must stay
/// short however large the log is (the rest waits for the next pass).
pub const TRIM_BATCH: usize = 5_000;

/// One bounded retention pass: events older than the age limit (oldest first, through the `ts` index),
/// then, channel by channel, events beyond the per-channel count (index range deletes). Never a scan of
/// the whole log.
pub fn trim_batch(conn: &Connection, keep_per_channel: u64, max_age_ms: i64, limit: usize) -> HubResult<usize> {
    let cutoff = now_ms().saturating_sub(max_age_ms);
    let mut n = conn
        .prepare_cached(
            "DELETE FROM events WHERE (tenant_id, channel, seq) IN
               (SELECT tenant_id, channel, seq FROM events WHERE ts < ?1 ORDER BY ts LIMIT ?2)",
        )?
        .execute(params![cutoff, limit as i64])?;
    let over: Vec<(i64, String, i64)> = {
        let mut stmt = conn.prepare_cached("SELECT tenant_id, channel, head FROM channels WHERE head > ?1")?;
        let rows = stmt.query_map([keep_per_channel as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    let mut del = conn.prepare_cached(
        "DELETE FROM events WHERE (tenant_id, channel, seq) IN
           (SELECT tenant_id, channel, seq FROM events WHERE tenant_id = ?1 AND channel = ?2 AND seq <= ?3
            ORDER BY seq LIMIT ?4)",
    )?;
    for (tenant, channel, head) in over {
        if n >= limit {
            break;
        }
        n += del.execute(params![tenant, channel, head - keep_per_channel as i64, (limit - n) as i64])?;
    }
    Ok(n)
}
