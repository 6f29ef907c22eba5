//! Subscriptions: who may subscribe to what, and exact replay from a position.
use super::Hub;
use crate::chat;
use crate::conn::Conn;
use crate::error::{HubError, HubResult};
use crate::ledger;
use crate::log::{self, Recovery};
use axum::extract::ws::Utf8Bytes;
use std::sync::Arc;
use tally_protocol::*;

/// Where a subscription's replay starts.
pub(crate) enum Start {
    /// The position the client gave, if any.
    Client(Option<Position>),
    /// The channel's head when the welcome's state was read (none: the channel had no log yet, so all of
    /// it was written since): for a client without a position, what changed between that snapshot and the
    /// subscription still reaches it (an operator's new limits, say).
    Welcome(Option<crate::position::Head>),
}

impl Hub {
    /// Whether `conn`'s user may subscribe to `channel`.
    pub async fn authorize(&self, conn: &Conn, channel: Channel) -> HubResult<()> {
        let (tenant, me) = (conn.tenant, conn.user.id);
        let forbidden = || HubError::new(ErrorCode::ForbiddenChannel, format!("you may not subscribe to {channel}"));
        match channel {
            Channel::User(u) | Channel::Balance(u) | Channel::Transactions(u) | Channel::Notifications(u) => {
                if u == me {
                    Ok(())
                } else {
                    Err(forbidden())
                }
            }
            Channel::Broadcast => Ok(()),
            Channel::PresenceUser(u) => {
                let same_tenant =
                    self.store.read(move |c| Ok(crate::directory::user_summary(c, tenant, u)?.is_some())).await?;
                if same_tenant {
                    Ok(())
                } else {
                    Err(HubError::not_found("user"))
                }
            }
            Channel::Room(r) | Channel::PresenceRoom(r) => {
                match self.store.read(move |c| chat::require_member(c, tenant, r, me)).await {
                    Err(e) if e.code == ErrorCode::Forbidden => Err(forbidden()),
                    other => other,
                }
            }
            Channel::Transfer(t) => match self.store.read(move |c| ledger::transfer_for(c, tenant, t, me)).await? {
                Some(_) => Ok(()),
                None => Err(forbidden()),
            },
        }
    }

    /// Subscribes with replay. Sends `batch` frames, then `subscribed`, then live events; or an error.
    pub async fn subscribe(
        &self,
        conn: &Arc<Conn>,
        id: Option<ReqId>,
        channel: Channel,
        since: Option<Position>,
    ) -> HubResult<()> {
        self.subscribe_from(conn, id, channel, Start::Client(since)).await
    }

    /// Subscribes with replay from `start`. A `Start::Welcome` subscription replays what was written after
    /// the welcome's snapshot yet answers `recovered: false`, as for a client that gave no position.
    pub(crate) async fn subscribe_from(
        &self,
        conn: &Arc<Conn>,
        id: Option<ReqId>,
        channel: Channel,
        start: Start,
    ) -> HubResult<()> {
        let from_welcome = matches!(start, Start::Welcome(_));
        let resubscribe = conn.is_subscribed(&channel);
        if !resubscribe && conn.subscription_count() >= self.cfg.max_subscriptions as usize {
            return Err(HubError::new(
                ErrorCode::TooManySubscriptions,
                format!("at most {} subscriptions", self.cfg.max_subscriptions),
            ));
        }
        self.authorize(conn, channel).await?;
        if resubscribe {
            self.fanout.unsubscribe(conn.tenant, channel, conn.id);
            conn.remove_subscription(&channel);
        }
        let tenant = conn.tenant;
        if !channel.is_durable() {
            conn.begin_subscription(channel);
            self.fanout.subscribe(tenant, channel, conn);
            conn.finish_subscription(
                channel,
                0,
                &ServerFrame::Subscribed { id, channel, epoch: String::new(), seq: 0, recovered: false, replayed: 0 },
            );
            self.send_presence_snapshot(conn, channel).await;
            return Ok(());
        }
        conn.begin_subscription(channel);
        self.fanout.subscribe(tenant, channel, conn);
        // With a broker: once events from every hub reach this subscription, the replay reads the log.
        self.fanout.ready(tenant, channel).await;
        let result = self.replay(conn, channel, start).await;
        match result {
            Ok((head, last, recovered, replayed)) => {
                let recovered = recovered && !from_welcome;
                conn.finish_subscription(
                    channel,
                    last,
                    &ServerFrame::Subscribed { id, channel, epoch: head.epoch, seq: last, recovered, replayed },
                );
                Ok(())
            }
            Err(e) => {
                self.fanout.unsubscribe(tenant, channel, conn.id);
                conn.remove_subscription(&channel);
                Err(e)
            }
        }
    }

    /// The channel's head and the replay from `since`. One read answers most resumes: the head, the
    /// recovery plan and the first page of what was missed come from one snapshot of the log (a client
    /// that missed nothing costs that one read); longer gaps read further pages.
    async fn replay(
        &self,
        conn: &Arc<Conn>,
        channel: Channel,
        start: Start,
    ) -> HubResult<(crate::position::Head, u64, bool, u32)> {
        let tenant = conn.tenant;
        let welcome_empty = matches!(start, Start::Welcome(None));
        let first = self
            .store
            .read(move |c| {
                let Some(head) = log::head(c, tenant, &channel)? else { return Ok(None) };
                let from = match &start {
                    Start::Client(None) => None,
                    Start::Client(Some(s)) => Some((s.epoch.as_str(), s.seq)),
                    Start::Welcome(Some(h)) => Some((h.epoch.as_str(), h.seq)),
                    Start::Welcome(None) => Some((head.epoch.as_str(), 0)),
                };
                let plan = match from {
                    Some((epoch, seq)) => Some(log::plan_recovery(c, tenant, &channel, &head, epoch, seq)?),
                    None => None,
                };
                let page = match plan {
                    Some(Recovery::Replay { from, to }) if from <= to => {
                        log::read_range(c, tenant, &channel, from, to, MAX_REPLAY_BATCH)?
                    }
                    _ => Vec::new(),
                };
                Ok(Some((head, plan, page)))
            })
            .await?;
        let Some((head, plan, page)) = first else {
            // A channel nobody wrote to yet: a new epoch, so any position given is from elsewhere (lost).
            let head = self.store.write(move |c, _| log::head_or_create(c, tenant, &channel)).await?;
            if welcome_empty && head.seq > 0 {
                // Written between this read and the writer's answer, after a welcome that saw no log: all
                // of it is news to the client.
                let (last, _, replayed) = self.send_replay(conn, channel, (1, head.seq), Vec::new()).await?;
                return Ok((head, last, false, replayed));
            }
            return Ok((head.clone(), head.seq, false, 0));
        };
        let Some(Recovery::Replay { from, to }) = plan else { return Ok((head.clone(), head.seq, false, 0)) };
        let (last, recovered, replayed) = self.send_replay(conn, channel, (from, to), page).await?;
        Ok((head, last, recovered, replayed))
    }

    /// Sends `from..=to` as `batch` frames, starting with the page already read. Returns the position the
    /// subscription continues from, whether the log held every seq in range (not trimmed meanwhile: else
    /// not recovered, from the head), and how many events went out.
    async fn send_replay(
        &self,
        conn: &Arc<Conn>,
        channel: Channel,
        (from, to): (u64, u64),
        mut page: Vec<(u64, String)>,
    ) -> HubResult<(u64, bool, u32)> {
        let tenant = conn.tenant;
        let mut next = from;
        let mut replayed: u32 = 0;
        while next <= to {
            if page.is_empty() {
                page =
                    self.store.read(move |c| log::read_range(c, tenant, &channel, next, to, MAX_REPLAY_BATCH)).await?;
            }
            let contiguous = page.first().map(|p| p.0) == Some(next) && page.windows(2).all(|w| w[1].0 == w[0].0 + 1);
            if !contiguous {
                return Ok((to, false, replayed));
            }
            let last = page.last().map(|p| p.0).unwrap_or(next);
            let texts: Vec<String> = std::mem::take(&mut page).into_iter().map(|p| p.1).collect();
            replayed += texts.len() as u32;
            conn.send_raw(Utf8Bytes::from(log::batch_frame(&channel, &texts))).await;
            next = last + 1;
        }
        Ok((to, true, replayed))
    }

    async fn send_presence_snapshot(&self, conn: &Arc<Conn>, channel: Channel) {
        let tenant = conn.tenant;
        let users: Vec<UserSummary> = match channel {
            Channel::PresenceUser(u) => self
                .store
                .read(move |c| crate::directory::user_summary(c, tenant, u))
                .await
                .ok()
                .flatten()
                .into_iter()
                .collect(),
            Channel::PresenceRoom(r) => self
                .store
                .read(move |c| chat::room(c, tenant, r, 0))
                .await
                .ok()
                .flatten()
                .map(|r| r.members)
                .unwrap_or_default(),
            _ => vec![],
        };
        for user in users {
            if !self.presence.knows(tenant, user.id) {
                let uid = user.id;
                if let Ok(stored) = self.store.read(move |c| crate::directory::presence_of(c, tenant, uid)).await {
                    self.presence.remember(tenant, uid, stored);
                }
            }
            let (mut status, mut last_seen) = self.presence.shown(tenant, user.id);
            if status == PresenceStatus::Offline && self.devices.elsewhere(tenant, user.id).await {
                (status, last_seen) = (self.presence.shown_elsewhere(tenant, user.id), None);
            }
            let frame = ServerFrame::Ephemeral { channel, data: Ephemeral::Presence { user, status, last_seen } };
            conn.send(&frame).await;
        }
    }
}
