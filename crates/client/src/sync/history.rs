//! The history download driven from the socket task: the next page request when nothing of the user's own
//! is in flight, and each page's answer into the cache (the planning is `backfill.rs`).
use super::*;

/// Sends the next history page request when nothing of the user's own is in flight.
pub(super) async fn run_backfill(sh: &Arc<Shared>, conn: &mut Conn) -> Result<(), Error> {
    if conn.backfill_in_flight || conn.snapshots_running > 0 || !conn.in_flight_queues.is_empty() {
        return Ok(());
    }
    let Some((key, work)) = backfill::next_work(&sh.store.parts()?) else { return Ok(()) };
    conn.backfill_in_flight = true;
    conn.request(|id| backfill::frame(key, work, id), Pending::Backfill(key, work)).await
}

pub(super) fn on_backfill_reply(sh: &Arc<Shared>, key: PartKey, work: Work, reply: HubReply) -> Result<(), Error> {
    let data = match reply {
        Ok(data) => data,
        Err((ErrorCode::Forbidden | ErrorCode::NotFound | ErrorCode::ForbiddenChannel, msg, _)) => {
            // Not ours any more (left the room): stop downloading it; the room's own events say the rest.
            tracing::info!(part = %key.encode(), %msg, "history part refused; dropping it");
            return sh.store.ensure_parts(&wanted_parts(sh).into_iter().filter(|k| *k != key).collect::<Vec<_>>());
        }
        Err((code, msg, _)) => return Err(Error::Hub { code, message: msg }),
    };
    let (rows, end) = backfill::page(key, work, data)?;
    let cap = backfill::cap(key, &sh.store.prefs()?);
    let applied = sh.store.apply_part_page(key, &rows, &end, cap)?;
    sh.pages_fetched.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if let PageEnd::Backfill { next_before: None, .. } = end {
        tracing::info!(part = %key.encode(), "history part complete");
    }
    sh.changed(applied.changes);
    Ok(())
}
