//! The hub's frames: routing each to its handler, applying events exactly once (healing gaps), and the
//! answers to requests.
use super::*;

pub(super) async fn on_frame(
    sh: &Arc<Shared>,
    conn: &mut Conn,
    frame: ServerFrame,
    hint: &mut Option<Duration>,
) -> Result<(), Error> {
    match frame {
        ServerFrame::Ping { ts } => conn.send(&ClientFrame::Pong { ts }).await?,
        ServerFrame::Event(e) => {
            let ch = e.channel;
            apply(sh, conn, ch, &[e]).await?;
        }
        ServerFrame::Batch { channel, events } => apply(sh, conn, channel, &events).await?,
        ServerFrame::Subscribed { id, channel, epoch, seq, recovered, .. } => {
            // `subscribed` is the answer to a `subscribe` request: it is no longer waiting (left pending, it
            // would count as unanswered and drop a healthy connection after ACK_TIMEOUT).
            if let Some(id) = id {
                conn.pending.remove(&id);
            }
            let stored = sh.store.position(&channel)?;
            if channel.is_durable() && (!recovered || stored.is_none()) {
                let head = Position { epoch, seq };
                if PartKey::of_channel(&channel, sh.user.id).is_some() {
                    // History rows: continue from the head and owe the part what changed meanwhile (or
                    // its whole download), fetched page by page by the backfill.
                    sh.store.recover_from_head(&channel, &head, now_ms() + conn.hub_skew_ms)?;
                    sh.changed(vec![Change::Sync]);
                } else {
                    // State: continue from the head; refetch it (jittered, limited) instead of the lost events.
                    sh.store.set_position(&channel, &head)?;
                    sh.store.snapshot_needed(&channel)?;
                    let not_before = Instant::now() + Duration::from_millis(rand::thread_rng().gen_range(0..250));
                    conn.snapshot_queue.push_back((channel, not_before));
                }
            }
        }
        ServerFrame::Unsubscribed { channel, code } => {
            tracing::info!(%channel, ?code, "the server ended a subscription");
            sh.store.forget_position(&channel)?;
            if let Channel::Room(r) = channel {
                sh.store.mark_room_left(r)?;
                sh.changed(vec![Change::Rooms]);
            }
        }
        ServerFrame::Ephemeral { data, .. } => match data {
            Ephemeral::Typing { room, user, active } => {
                if user.id != sh.user.id {
                    let mut t = sh.typing.lock().unwrap_or_else(|e| e.into_inner());
                    let m = t.entry(room).or_default();
                    if active {
                        m.insert(user.id, (user, Instant::now()));
                    } else {
                        m.remove(&user.id);
                    }
                    drop(t);
                    sh.changed(vec![Change::Typing { room }]);
                }
            }
            Ephemeral::Presence { user, status, last_seen } => {
                sh.store.set_presence(user.id, status, last_seen)?;
                sh.changed(vec![Change::Presence, Change::Rooms]);
            }
        },
        ServerFrame::Ack { id, data } => on_reply(sh, conn, id, Ok(data)).await?,
        ServerFrame::Error { id: Some(id), code, message, retryable } => {
            on_reply(sh, conn, id, Err((code, message, retryable))).await?
        }
        ServerFrame::Error { id: None, code, message, .. } => tracing::warn!(?code, %message, "server error"),
        ServerFrame::Reconnect { delay_ms, .. } => *hint = Some(Duration::from_millis(delay_ms)),
        ServerFrame::Welcome(_) => {}
    }
    Ok(())
}
pub(super) async fn apply(sh: &Arc<Shared>, conn: &mut Conn, channel: Channel, events: &[Event]) -> Result<(), Error> {
    let applied = sh.store.apply_events(&channel, events)?;
    if applied.gap {
        // A gap or a new epoch: heal by resubscribing from what we have.
        let since = sh.store.position(&channel)?;
        tracing::info!(%channel, "gap detected; resubscribing");
        conn.request(|id| ClientFrame::Subscribe { id, channel, since }, Pending::Subscribe(channel)).await?;
    }
    for r in &applied.rooms_joined {
        for ch in [Channel::Room(*r), Channel::PresenceRoom(*r)] {
            let since = sh.store.position(&ch)?;
            conn.request(|id| ClientFrame::Subscribe { id, channel: ch, since }, Pending::Subscribe(ch)).await?;
        }
    }
    for r in &applied.rooms_left {
        for ch in [Channel::Room(*r), Channel::PresenceRoom(*r)] {
            sh.store.forget_position(&ch)?;
            conn.request(|id| ClientFrame::Unsubscribe { id, channel: ch }, Pending::Quiet).await?;
        }
    }
    for t in &applied.transfers {
        if t.status.is_final() {
            sh.store.forget_position(&Channel::Transfer(t.id))?;
            conn.request(|id| ClientFrame::Unsubscribe { id, channel: Channel::Transfer(t.id) }, Pending::Quiet)
                .await?;
        }
    }
    if !applied.rooms_joined.is_empty() || !applied.rooms_left.is_empty() {
        sh.store.ensure_parts(&wanted_parts(sh))?;
    }
    // A broadcast also arrives as a `system` notification of its own, which is what raises the toast
    // (once, honouring the user's muted kinds): the broadcast event itself raises nothing.
    sh.raise(&applied.new_notifications, &applied.new_messages);
    // Events never change the outbox (its items end in `on_outbox_reply`): no Outbox topic here.
    sh.changed(applied.changes.clone());
    Ok(())
}

/// Keeps a transfer the hub answered with and, until it is final, subscribes to its channel.
pub(super) async fn follow_transfer(sh: &Arc<Shared>, conn: &mut Conn, transfer: &Transfer) -> Result<(), Error> {
    sh.store.upsert_transfer(transfer, &LocalState::Sent)?;
    sh.changed(vec![Change::Transfers]);
    if !transfer.status.is_final() {
        let ch = Channel::Transfer(transfer.id);
        conn.request(|id| ClientFrame::Subscribe { id, channel: ch, since: None }, Pending::Subscribe(ch)).await?;
    }
    Ok(())
}

pub(super) type HubReply = Result<Option<AckData>, (ErrorCode, String, bool)>;

pub(super) async fn on_reply(sh: &Arc<Shared>, conn: &mut Conn, id: ReqId, reply: HubReply) -> Result<(), Error> {
    let Some((pending, _)) = conn.pending.remove(&id) else { return Ok(()) };
    match pending {
        Pending::Quiet => {}
        Pending::Renew => {
            if let Err((code, message, _)) = reply {
                // The hub would not extend this connection (session revoked, user disabled): it closes it.
                tracing::warn!(?code, %message, "in-band token renewal refused");
            }
        }
        Pending::Subscribe(ch) => {
            if let Err((code, msg, _)) = reply {
                tracing::info!(%ch, ?code, %msg, "subscription refused");
                sh.store.forget_position(&ch)?;
            }
        }
        Pending::External(ReplyBox(r)) => {
            // A transfer a request made (paying a payment request) is kept and followed like one sent.
            if let Ok(Some(AckData::Transfer { transfer })) = &reply {
                follow_transfer(sh, conn, transfer).await?;
            }
            if let Some(r) = r {
                let _ = r.send(reply.map_err(|(code, message, _)| Error::Hub { code, message }));
            }
        }
        Pending::Ping(sent) => {
            let rtt = sent.elapsed().as_millis().min(u32::MAX as u128) as u32;
            sh.set_state(ConnState::Live { latency_ms: Some(rtt) });
        }
        Pending::Snapshot(channel, what) => {
            conn.snapshots_running = conn.snapshots_running.saturating_sub(1);
            match reply {
                Ok(Some(data)) => {
                    // The user channel owes three; the rooms snapshot marks it done.
                    let done =
                        !matches!(what, SnapshotKind::OpenTransfers | SnapshotKind::Contacts | SnapshotKind::Requests);
                    apply_snapshot(sh, conn, channel, what, data).await?;
                    if done {
                        sh.store.snapshot_done(&channel)?;
                    }
                }
                Ok(None) => {}
                Err((code, msg, _)) => tracing::warn!(%channel, ?code, %msg, "snapshot refused"),
            }
        }
        Pending::Backfill(key, work) => {
            conn.backfill_in_flight = false;
            on_backfill_reply(sh, key, work, reply)?;
            run_backfill(sh, conn).await?;
        }
        Pending::Reconcile { item, queue } => {
            conn.in_flight_queues.remove(&queue);
            on_reconcile_reply(sh, conn, item, reply).await?;
            flush_outbox(sh, conn).await;
        }
        Pending::Outbox { item, queue } => {
            conn.in_flight_queues.remove(&queue);
            on_outbox_reply(sh, conn, item, reply).await?;
            flush_outbox(sh, conn).await;
        }
    }
    Ok(())
}
