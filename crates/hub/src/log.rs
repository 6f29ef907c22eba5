//! Per-channel event logs: append (inside the writer's transaction) and read back for replay and history.
use crate::error::{HubError, HubResult};
use crate::ids::TenantId;
use crate::position::Head;
use crate::published::{Frame, Published};
use crate::store::{now_ms, Emits, Tx};
use rand::distributions::Alphanumeric;
use rand::Rng;
use std::time::Instant;
use tally_protocol::{encode, Channel, Ephemeral, Event, EventData, ServerFrame};

fn new_epoch() -> String {
    rand::thread_rng().sample_iter(&Alphanumeric).take(8).map(char::from).collect()
}

/// Reads the head, creating the channel (new epoch, seq 0) when it has never been written.
pub fn head_or_create(tx: &mut dyn Tx, tenant: TenantId, channel: &Channel) -> HubResult<Head> {
    if let Some(h) = tx.channel_head(tenant, channel)? {
        return Ok(h);
    }
    let epoch = new_epoch();
    tx.create_channel(tenant, channel, &epoch)?;
    Ok(tx.channel_head(tenant, channel)?.unwrap_or(Head { epoch, seq: 0 }))
}

pub fn head(tx: &mut dyn Tx, tenant: TenantId, channel: &Channel) -> HubResult<Option<Head>> {
    tx.channel_head(tenant, channel)
}

/// The seq the next event on `channel` will get (for objects that embed their own seq, like messages).
pub fn next_seq(tx: &mut dyn Tx, tenant: TenantId, channel: &Channel) -> HubResult<u64> {
    Ok(head_or_create(tx, tenant, channel)?.seq + 1)
}

/// Appends an event and queues it for fan-out after commit. Returns its seq.
pub fn append(
    tx: &mut dyn Tx,
    emits: &mut Emits,
    tenant: TenantId,
    channel: Channel,
    data: EventData,
) -> HubResult<u64> {
    let h = head_or_create(tx, tenant, &channel)?;
    let seq = h.seq + 1;
    let ts = now_ms();
    let event = Event { channel, epoch: h.epoch, seq, ts, data };
    let json = encode(&event);
    tx.insert_event(tenant, &channel, seq, ts, &json)?;
    emits.items.push(Published { tenant, channel, seq, frame: Frame::new(event_frame(&json)), at: Instant::now() });
    metrics::counter!(crate::series::EVENTS_APPENDED).increment(1);
    Ok(seq)
}

/// Queues an ephemeral event (no log, no seq) for fan-out.
pub fn ephemeral(tenant: TenantId, channel: Channel, data: Ephemeral) -> Published {
    Published {
        tenant,
        channel,
        seq: 0,
        frame: Frame::new(encode(&ServerFrame::Ephemeral { channel, data })),
        at: Instant::now(),
    }
}

/// `{"type":"event", ...event fields}` from the stored event JSON, without re-encoding.
pub fn event_frame(event_json: &str) -> String {
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
    tx: &mut dyn Tx,
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
    match tx.oldest_seq(tenant, channel)? {
        Some(o) if o <= since_seq + 1 => Ok(Recovery::Replay { from: since_seq + 1, to: head.seq }),
        _ => Ok(Recovery::Lost),
    }
}

/// Stored event JSON texts with `from <= seq <= to`, oldest first, at most `limit`.
pub fn read_range(
    tx: &mut dyn Tx,
    tenant: TenantId,
    channel: &Channel,
    from: u64,
    to: u64,
    limit: usize,
) -> HubResult<Vec<(u64, String)>> {
    tx.events_between(tenant, channel, from, to, limit)
}

/// Events strictly before `before`, newest first (history pages of non-room channels). A stored event
/// this hub cannot read is an error, not a gap.
pub fn read_before(
    tx: &mut dyn Tx,
    tenant: TenantId,
    channel: &Channel,
    before: u64,
    limit: u32,
) -> HubResult<Vec<Event>> {
    tx.events_before(tenant, channel, before, limit)?
        .iter()
        .map(|j| {
            serde_json::from_str::<Event>(j)
                .map_err(|e| HubError::internal(format!("unreadable event on {channel}: {e}")))
        })
        .collect()
}

/// Drops events beyond retention (count per channel and age). Returns how many were deleted.
pub fn trim(tx: &mut dyn Tx, keep_per_channel: u64, max_age_ms: i64) -> HubResult<usize> {
    trim_batch(tx, keep_per_channel, max_age_ms, TRIM_BATCH)
}

/// Rows deleted per retention pass at most: a pass runs inside the writer's group commit, so it must stay
/// short however large the log is (the rest waits for the next pass).
pub const TRIM_BATCH: usize = 5_000;

/// One bounded retention pass: events older than the age limit, then events beyond the per-channel count.
pub fn trim_batch(tx: &mut dyn Tx, keep_per_channel: u64, max_age_ms: i64, limit: usize) -> HubResult<usize> {
    tx.trim_events(keep_per_channel, now_ms().saturating_sub(max_age_ms), limit)
}
