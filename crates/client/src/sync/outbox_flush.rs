//! Flushing the outbox: one item in flight per queue, an expired payment looked up by its key before it is
//! called not sent, and each answer turned into the item's next state (told to the UI as an update).
use super::*;

/// Sends the first pending item of every queue that has nothing in flight.
pub(super) async fn flush_outbox(sh: &Arc<Shared>, conn: &mut Conn) {
    let rows = match sh.store.outbox_rows() {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "outbox unreadable");
            return;
        }
    };
    let mut seen_queues = HashSet::new();
    for row in rows {
        if !seen_queues.insert(row.queue)
            || conn.in_flight_queues.contains(&row.queue)
            || row.state != OutboxState::Pending
        {
            // One ordered queue per conversation: only its head may be in flight; a failed head blocks
            // its own queue (the user decides), never the others.
            continue;
        }
        let action = match &row.action {
            Ok(a) => a.clone(),
            Err(e) => {
                tracing::warn!(item = row.id, error = %e, "unreadable outbox item");
                let _ =
                    sh.fail_item(row.id, LocalErrorCode::InvalidInput.into(), "this queued action could not be read");
                continue;
            }
        };
        if !action.ready() {
            // A file still uploading (`sync/files.rs`) holds its conversation's queue.
            continue;
        }
        conn.in_flight_queues.insert(row.queue);
        if conn.request_outbox(sh, &row, action).await.is_err() {
            return;
        }
    }
}

/// "Not sent: you were offline for more than 5 minutes."
pub(super) fn expiry_reason(row: &OutboxRow) -> String {
    let mins = (row.expires_at.unwrap_or(row.created_at) - row.created_at) / 60_000;
    format!("Not sent: you were offline for more than {} minute{}.", mins.max(1), if mins == 1 { "" } else { "s" })
}

impl Conn {
    /// Sends one outbox item; an expired one is failed, or, when it was sent before and its answer never
    /// came, first looked up on the hub by its idempotency key (it may have been carried out).
    pub(super) async fn request_outbox(
        &mut self,
        sh: &Arc<Shared>,
        row: &OutboxRow,
        action: OutboxAction,
    ) -> Result<(), Error> {
        let pending = Pending::Outbox { item: row.id, queue: row.queue };
        if row.expires_at.is_some_and(|exp| now_ms() > exp) {
            if let (OutboxAction::Transfer { idempotency_key, .. }, true) = (&action, row.attempts > 0) {
                let what = SnapshotKind::TransferByKey { idempotency_key: idempotency_key.clone() };
                let reconcile = Pending::Reconcile { item: row.id, queue: row.queue };
                return self.request(move |id| ClientFrame::Snapshot { id, what }, reconcile).await;
            }
            // It never left this device: certainly not carried out.
            self.in_flight_queues.remove(&row.queue);
            let _ = sh.fail_item(row.id, ErrorCode::Expired.into(), &expiry_reason(row));
            sh.changed(vec![Change::Transfers]);
            return Ok(());
        }
        if sh.store.outbox_attempt(row.id).is_ok() {
            sh.outbox_update(OutboxUpdate::Sending { id: row.id });
        }
        let expires_at = row.expires_at;
        self.request(move |id| action.frame(id, expires_at), pending).await
    }
}

/// The hub's answer to "did you carry out this transfer?" for an expired item that was sent before.
pub(super) async fn on_reconcile_reply(
    sh: &Arc<Shared>,
    conn: &mut Conn,
    item: i64,
    reply: HubReply,
) -> Result<(), Error> {
    match reply {
        Ok(Some(AckData::Transfer { transfer })) => {
            // It was: the payment went through (or is going through). Link the row and follow it.
            follow_transfer(sh, conn, &transfer).await?;
            sh.store.outbox_done(item)?;
            sh.outbox_update(OutboxUpdate::Sent { id: item });
        }
        Err((ErrorCode::NotFound, ..)) => {
            // It was not, and the hub refuses it past its deadline: it is truly not sent.
            let row = sh.store.outbox_rows()?.into_iter().find(|r| r.id == item);
            let reason = row.as_ref().map(expiry_reason).unwrap_or_else(|| "Not sent: it expired.".into());
            sh.fail_item(item, ErrorCode::Expired.into(), &reason)?;
        }
        Err((code, message, _)) => {
            tracing::info!(?code, %message, "could not look up an expired transfer; asking again shortly");
            conn.retry_outbox_at = Some(Instant::now() + Duration::from_secs(2));
        }
        Ok(_) => return Err(Error::Network("unexpected reply to a transfer lookup".into())),
    }
    sh.changed(vec![Change::Transfers]);
    Ok(())
}

pub(super) async fn on_outbox_reply(
    sh: &Arc<Shared>,
    conn: &mut Conn,
    item: i64,
    reply: HubReply,
) -> Result<(), Error> {
    let mut changes = vec![];
    match reply {
        Ok(data) => {
            match data {
                Some(AckData::Transfer { transfer }) => follow_transfer(sh, conn, &transfer).await?,
                Some(AckData::Message { message }) => {
                    let room = message.room;
                    let e = Event {
                        channel: Channel::Room(room),
                        epoch: String::new(),
                        seq: message.seq,
                        ts: message.sent_at,
                        data: EventData::Message { message },
                    };
                    sh.store.upsert_messages(&[e])?;
                    changes.push(Change::Messages { room });
                    changes.push(Change::Rooms);
                }
                _ => {}
            }
            sh.store.outbox_done(item)?;
            sh.outbox_update(OutboxUpdate::Sent { id: item });
        }
        Err((code, message, retryable)) => {
            if retryable {
                // Try again shortly with the same key: the hub applies it once.
                conn.retry_outbox_at = Some(Instant::now() + Duration::from_secs(2));
            } else {
                sh.fail_item(item, code.into(), &message)?;
                changes.push(Change::Transfers);
                changes.push(Change::Rooms);
                for r in sh.store.room_ids()? {
                    changes.push(Change::Messages { room: r });
                }
            }
        }
    }
    sh.changed(changes);
    Ok(())
}
