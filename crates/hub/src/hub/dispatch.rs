//! Request frames: each turned into a store job (or a read) and answered with an `ack` or an `error`.
use super::Hub;
use super::Reply;
use crate::chat;
use crate::conn::Conn;
use crate::error::{HubError, HubResult};
use crate::ids::TenantId;
use crate::ledger::{self, Created};
use crate::log;
use crate::notify;
use crate::store::{now_ms, Emits, Tx};
use std::sync::Arc;
use tally_protocol::*;

impl Hub {
    /// Handles one request frame; returns the `ack`/`error` to send (subscribe sends its own answer).
    pub async fn handle(self: &Arc<Self>, conn: &Arc<Conn>, frame: ClientFrame) -> Option<ServerFrame> {
        let id = frame.req_id();
        let result = self.dispatch(conn, frame).await;
        match (id, result) {
            (_, Ok(Reply::None)) => None,
            (Some(id), Ok(Reply::Ack(data))) => Some(ServerFrame::ack(id, data.map(|d| *d))),
            (None, Ok(Reply::Ack(_))) => None,
            (id, Err(e)) => {
                metrics::counter!(crate::series::REJECTED_FRAMES, "code" => e.code.as_str()).increment(1);
                Some(ServerFrame::error(id, e.code, e.message))
            }
        }
    }

    async fn dispatch(self: &Arc<Self>, conn: &Arc<Conn>, frame: ClientFrame) -> HubResult<Reply> {
        if conn.must_enrol() && reaches_others(&frame) {
            return Err(HubError::new(
                ErrorCode::TwoFactorRequired,
                "your organisation requires two-factor authentication: turn it on in Settings → Security first",
            ));
        }
        let tenant = conn.tenant;
        let me = conn.user.clone();
        let uid = me.id;
        use ClientFrame as F;
        Ok(match frame {
            F::Hello(_) => return Err(HubError::new(ErrorCode::BadFrame, "already authenticated")),
            F::Pong { .. } => Reply::None,
            F::Ping { .. } => Reply::ack(AckData::Pong { server_time: now_ms() }),
            F::Auth { token, .. } => {
                self.renew(conn, &token).await?;
                Reply::Ack(None)
            }
            F::Subscribe { id, channel, since } => {
                self.subscribe(conn, Some(id), channel, since).await?;
                Reply::None
            }
            F::Unsubscribe { channel, .. } => {
                self.fanout.unsubscribe(tenant, channel, conn.id);
                conn.remove_subscription(&channel);
                Reply::Ack(None)
            }
            F::History { channel, before, limit, .. } => Reply::ack(self.history(conn, channel, before, limit).await?),
            F::Snapshot { what, .. } => Reply::ack(self.snapshot(tenant, uid, what).await?),
            F::TransferCreate { idempotency_key, to, amount, memo, expires_at, room, .. } => {
                let transfer = self
                    .move_money(tenant, uid, move |c, e| {
                        let req =
                            ledger::NewTransfer { key: &idempotency_key, to: &to, amount, memo: &memo, expires_at };
                        transfer_in_room(c, e, tenant, &me, req, room)
                    })
                    .await?;
                Reply::ack(AckData::Transfer { transfer })
            }
            F::RequestCreate { .. }
            | F::RequestSplit { .. }
            | F::RequestPay { .. }
            | F::RequestDecline { .. }
            | F::RequestCancel { .. } => self.request_frame(conn, frame).await?,
            F::WithdrawalCreate { idempotency_key, amount, destination, .. } => {
                let withdrawal = self
                    .store
                    .write(move |c, e| {
                        let req = ledger::NewWithdrawal { key: &idempotency_key, amount, destination: &destination };
                        ledger::request_withdrawal(c, e, tenant, uid, req)
                    })
                    .await?;
                Reply::ack(AckData::Withdrawal { withdrawal })
            }
            F::RoomCreate { .. }
            | F::RoomInvite { .. }
            | F::RoomLeave { .. }
            | F::RoomRename { .. }
            | F::RoomRemove { .. }
            | F::RoomPrefs { .. }
            | F::MessageSend { .. }
            | F::MessageEdit { .. }
            | F::MessageDelete { .. }
            | F::React { .. }
            | F::Read { .. }
            | F::Typing { .. } => self.chat_frame(conn, frame).await?,
            F::PresenceSet { status, .. } => {
                // Kept in the database too: the choice outlives the grace period and restarts.
                self.store.write(move |c, _| crate::directory::set_presence(c, tenant, uid, status)).await?;
                if let Some(ch) = self.presence.set(tenant, uid, status) {
                    self.publish_presence(ch).await;
                }
                Reply::Ack(None)
            }
            F::NotificationsRead { ids, .. } => {
                self.store.write(move |c, e| notify::mark_read(c, e, tenant, uid, Some(&ids))).await?;
                Reply::Ack(None)
            }
            F::NotificationsReadAll { .. } => {
                self.store.write(move |c, e| notify::mark_read(c, e, tenant, uid, None)).await?;
                Reply::Ack(None)
            }
        })
    }

    /// A page of a channel's history, newest first.
    async fn history(&self, conn: &Conn, channel: Channel, before: Option<u64>, limit: u32) -> HubResult<AckData> {
        if limit == 0 || limit > MAX_HISTORY_PAGE {
            return Err(HubError::invalid(format!("limit must be 1-{MAX_HISTORY_PAGE}")));
        }
        if !channel.is_durable() {
            return Err(HubError::invalid("ephemeral channels have no history"));
        }
        self.authorize(conn, channel).await?;
        let tenant = conn.tenant;
        let (events, has_more, total) = match channel {
            Channel::Room(r) => {
                self.store
                    .read(move |c| {
                        let (events, more) = chat::history(c, tenant, r, before, limit)?;
                        let total = if before.is_none() { Some(chat::message_count(c, r)?) } else { None };
                        Ok((events, more, total))
                    })
                    .await?
            }
            _ => {
                let before = before.unwrap_or(u64::MAX >> 1);
                let ev = self.store.read(move |c| log::read_before(c, tenant, &channel, before, limit + 1)).await?;
                let more = ev.len() > limit as usize;
                (ev.into_iter().take(limit as usize).collect(), more, None)
            }
        };
        Ok(AckData::History { events, has_more, next_since: None, total })
    }

    /// Payment requests: ask, pay (a transfer, as `transfer_create`), decline, cancel.
    async fn request_frame(self: &Arc<Self>, conn: &Arc<Conn>, frame: ClientFrame) -> HubResult<Reply> {
        let (tenant, me, uid) = (conn.tenant, conn.user.clone(), conn.user.id);
        use ClientFrame as F;
        let request = match frame {
            F::RequestCreate { idempotency_key, to, amount, memo, expires_at, room, .. } => {
                self.store
                    .write(move |c, e| {
                        let req =
                            ledger::NewRequest { key: &idempotency_key, to: &to, amount, memo: &memo, expires_at };
                        request_in_room(c, e, tenant, &me, req, room)
                    })
                    .await?
            }
            F::RequestSplit { idempotency_key, room, total, with, memo, expires_at, .. } => {
                let requests = self
                    .store
                    .write(move |c, e| {
                        let split =
                            ledger::NewSplit { key: &idempotency_key, total, with: &with, memo: &memo, expires_at };
                        split_in_room(c, e, tenant, &me, split, room)
                    })
                    .await?;
                return Ok(Reply::ack(AckData::Requests { requests }));
            }
            F::RequestPay { request, .. } => {
                let transfer =
                    self.move_money(tenant, uid, move |c, e| ledger::pay_request(c, e, tenant, &me, request)).await?;
                return Ok(Reply::ack(AckData::Transfer { transfer }));
            }
            F::RequestDecline { request, .. } => {
                self.store.write(move |c, e| ledger::decline_request(c, e, tenant, &me, request)).await?
            }
            F::RequestCancel { request, .. } => {
                self.store.write(move |c, e| ledger::cancel_request(c, e, tenant, &me, request)).await?
            }
            _ => return Err(HubError::new(ErrorCode::BadFrame, "not a request frame")),
        };
        Ok(Reply::ack(AckData::Request { request }))
    }

    /// A job that creates a transfer (or finds the earlier one with the same key); a new one left open (not
    /// posted in its job, nor held for review) is driven on. One refused by a limit raises a `limits` notification in a job of its own (the
    /// refused one rolled back).
    async fn move_money<F>(self: &Arc<Self>, tenant: TenantId, uid: UserId, job: F) -> HubResult<Transfer>
    where
        F: FnMut(&mut dyn Tx, &mut Emits) -> HubResult<Created> + Send + 'static,
    {
        let res = self.store.write(job).await;
        match res {
            Ok(Created::New(t)) => {
                if matches!(t.status, TransferStatus::Pending | TransferStatus::Processing) {
                    self.drive_transfer(tenant, t.id);
                }
                Ok(t)
            }
            Ok(Created::Existing(t)) => Ok(t),
            Err(e) if e.code == ErrorCode::LimitExceeded => {
                let body = e.message.clone();
                let _ = self
                    .store
                    .write(move |c, em| {
                        let (kind, priority, title) =
                            (NotificationKind::Limits, Priority::High, "Transfer blocked by a limit");
                        let text = Some(NotificationText::TransferBlocked);
                        notify::create(
                            c,
                            em,
                            notify::New { tenant, user: uid, kind, priority, title, body: &body, target: None, text },
                        )
                    })
                    .await;
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    /// Ends `user`'s subscriptions to a room they are no longer in (left or removed).
    fn kick_from_room(&self, tenant: TenantId, room: RoomId, user: UserId) {
        self.fanout.kick(tenant, Channel::Room(room), user, ErrorCode::ForbiddenChannel);
        self.fanout.kick(tenant, Channel::PresenceRoom(room), user, ErrorCode::ForbiddenChannel);
    }

    /// Rooms, messages, reactions, receipts and typing.
    async fn chat_frame(&self, conn: &Arc<Conn>, frame: ClientFrame) -> HubResult<Reply> {
        let tenant = conn.tenant;
        let me = conn.user.clone();
        let uid = me.id;
        use ClientFrame as F;
        Ok(match frame {
            F::RoomCreate { kind, name, members, .. } => {
                let room =
                    self.store.write(move |c, e| chat::create_room(c, e, tenant, &me, kind, &name, &members)).await?;
                Reply::ack(AckData::Room { room })
            }
            F::RoomInvite { room, username, .. } => {
                let room = self.store.write(move |c, e| chat::invite(c, e, tenant, &me, room, &username)).await?;
                Reply::ack(AckData::Room { room })
            }
            F::RoomLeave { room, .. } => {
                self.store.write(move |c, e| chat::leave(c, e, tenant, &me, room)).await?;
                self.kick_from_room(tenant, room, uid);
                Reply::Ack(None)
            }
            F::RoomRename { room, name, .. } => {
                let room = self.store.write(move |c, e| chat::rename(c, e, tenant, &me, room, &name)).await?;
                Reply::ack(AckData::Room { room })
            }
            F::RoomPrefs { room, muted, pinned, .. } => {
                let room =
                    self.store.write(move |c, e| chat::set_prefs(c, e, tenant, &me, room, muted, pinned)).await?;
                Reply::ack(AckData::Room { room })
            }
            F::RoomRemove { room, username, .. } => {
                let (r, gone) = self.store.write(move |c, e| chat::remove(c, e, tenant, &me, room, &username)).await?;
                self.kick_from_room(tenant, room, gone);
                Reply::ack(AckData::Room { room: r })
            }
            F::MessageSend { room, client_msg_id, text, attachment, .. } => {
                let out = chat::Outgoing { client_msg_id, text, attachment };
                let message = self.store.write(move |c, e| chat::send(c, e, tenant, &me, room, &out)).await?;
                if self.presence.typing(tenant, room, uid, false) {
                    let ev = log::ephemeral(
                        tenant,
                        Channel::Room(room),
                        Ephemeral::Typing { room, user: conn.user.clone(), active: false },
                    );
                    self.fanout.publish(&[ev]);
                }
                Reply::ack(AckData::Message { message })
            }
            F::MessageEdit { room, message, text, .. } => {
                self.store.write(move |c, e| chat::edit(c, e, tenant, uid, room, message, &text)).await?;
                Reply::Ack(None)
            }
            F::MessageDelete { room, message, .. } => {
                self.store.write(move |c, e| chat::delete(c, e, tenant, uid, room, message)).await?;
                Reply::Ack(None)
            }
            F::React { room, message, emoji, on, .. } => {
                self.store.write(move |c, e| chat::react(c, e, tenant, &me, room, message, &emoji, on)).await?;
                Reply::Ack(None)
            }
            F::Read { room, up_to, .. } => {
                self.store.write(move |c, e| chat::read(c, e, tenant, &me, room, up_to)).await?;
                Reply::Ack(None)
            }
            F::Typing { room, active, .. } => {
                let member = self.store.read(move |c| chat::is_member(c, room, uid)).await?;
                if !member {
                    return Err(HubError::forbidden("you are not a member of this room"));
                }
                if self.presence.typing(tenant, room, uid, active) {
                    let ev = log::ephemeral(tenant, Channel::Room(room), Ephemeral::Typing { room, user: me, active });
                    self.fanout.publish(&[ev]);
                }
                Reply::Ack(None)
            }
            _ => return Err(HubError::new(ErrorCode::BadFrame, "not a chat frame")),
        })
    }

    /// In-band renewal: a new access token of the same user and session extends the connection's authority.
    /// A revoked session or a disabled user closes the connection instead.
    async fn renew(&self, conn: &Arc<Conn>, token: &str) -> HubResult<()> {
        let claims =
            self.keys.verify(token).map_err(|code| HubError::new(code, "that token cannot renew this connection"))?;
        if claims.sub != conn.user.id || claims.tid != conn.tenant || claims.sid != conn.sid {
            return Err(HubError::new(ErrorCode::Unauthorized, "the token belongs to another session"));
        }
        let (tenant, uid, sid) = (conn.tenant, conn.user.id, conn.sid.clone());
        let (revoked, active) = self
            .store
            .read(move |c| {
                Ok((crate::auth::sessions::is_revoked(c, &sid)?, crate::directory::is_active(c, tenant, uid)?))
            })
            .await?;
        if revoked || !active {
            conn.close(CloseCode::SessionRevoked, "session revoked");
            return Err(HubError::new(ErrorCode::Unauthorized, "session revoked"));
        }
        conn.apply_claims(&claims);
        Ok(())
    }
}

/// A new transfer, shown in the conversation it was made from (`room`) in the same commit, or not at all.
fn transfer_in_room(
    c: &mut dyn Tx,
    e: &mut Emits,
    tenant: TenantId,
    me: &UserSummary,
    req: ledger::NewTransfer<'_>,
    room: Option<RoomId>,
) -> HubResult<Created> {
    let created = ledger::create_transfer(c, e, tenant, me, req)?;
    if let (Some(room), Created::New(t)) = (room, &created) {
        let card = MessageCard::Transfer { id: t.id, to: t.to.clone(), amount: t.amount };
        chat::post_card(c, e, tenant, me, room, card, &t.memo)?;
    }
    Ok(created)
}

/// A new payment request, shown in the conversation it was made from (`room`) in the same commit.
fn request_in_room(
    c: &mut dyn Tx,
    e: &mut Emits,
    tenant: TenantId,
    me: &UserSummary,
    req: ledger::NewRequest<'_>,
    room: Option<RoomId>,
) -> HubResult<PaymentRequest> {
    let (r, new) = ledger::create_request(c, e, tenant, me, req)?;
    if let (Some(room), true) = (room, new) {
        let card = MessageCard::Request { id: r.id, payer: r.payer.clone(), amount: r.amount };
        chat::post_card(c, e, tenant, me, room, card, &r.memo)?;
    }
    Ok(r)
}

/// A bill split in a group: its requests, and one card tracking them all, in the same commit.
fn split_in_room(
    c: &mut dyn Tx,
    e: &mut Emits,
    tenant: TenantId,
    me: &UserSummary,
    split: ledger::NewSplit<'_>,
    room: RoomId,
) -> HubResult<Vec<PaymentRequest>> {
    chat::require_member(c, tenant, room, me.id)?;
    let (total, memo) = (split.total, split.memo);
    let requests = ledger::split_request(c, e, tenant, me, split)?;
    let shares =
        requests.iter().map(|r| SplitShare { request: r.id, payer: r.payer.clone(), amount: r.amount }).collect();
    chat::post_card(c, e, tenant, me, room, MessageCard::Split { total, shares }, memo)?;
    Ok(requests)
}

/// Frames that move money or put something in front of other people: refused to a session that must
/// enrol two-factor first. Reading, receipts, typing, presence and the user's own notifications are not.
fn reaches_others(frame: &ClientFrame) -> bool {
    use ClientFrame as F;
    matches!(
        frame,
        F::TransferCreate { .. }
            | F::RequestCreate { .. }
            | F::RequestSplit { .. }
            | F::RequestPay { .. }
            | F::WithdrawalCreate { .. }
            | F::RoomCreate { .. }
            | F::RoomInvite { .. }
            | F::RoomRename { .. }
            | F::RoomRemove { .. }
            | F::MessageSend { .. }
            | F::MessageEdit { .. }
            | F::React { .. }
    )
}
