//! What the hub does on its own: presence grace and typing expiry, log retention, driving transfers,
//! expiring payment requests.
use super::Hub;
use crate::error::HubResult;
use crate::ids::TenantId;
use crate::ledger;
use crate::log;
use std::sync::Arc;
use std::time::Duration;
use tally_protocol::*;

impl Hub {
    /// Background duties: presence grace and typing expiry (every second), log retention (every minute).
    pub fn spawn_housekeeping(self: &Arc<Self>) {
        let hub = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            let mut n: u64 = 0;
            let mut trim_backlog = false;
            loop {
                tick.tick().await;
                n += 1;
                let (offline, typing) = hub.presence.tick();
                for ch in offline {
                    // Still connected to another hub: not offline.
                    if hub.devices.elsewhere(ch.tenant, ch.user).await {
                        continue;
                    }
                    if let Some(at) = ch.last_seen {
                        let (t, u) = (ch.tenant, ch.user);
                        let _ = hub.store.write(move |c, _| crate::directory::set_last_seen(c, t, u, at)).await;
                    }
                    hub.publish_presence(ch).await;
                }
                for (tenant, room, user) in typing {
                    if let Ok(Some(u)) = hub.store.read(move |c| crate::directory::user_summary(c, tenant, user)).await
                    {
                        let ev = log::ephemeral(
                            tenant,
                            Channel::Room(room),
                            Ephemeral::Typing { room, user: u, active: false },
                        );
                        hub.fanout.publish(&[ev]);
                    }
                }
                // Transfers whose hub died mid-way (or whose steps kept failing) are taken over: any hub
                // may advance any transfer (each step re-reads it under its parties' locks).
                if n.is_multiple_of(5) && hub.holds_lease("adopt-transfers", Duration::from_secs(8)).await {
                    hub.adopt_stale_transfers().await;
                }
                // Payment requests past their deadline become `expired`, in bounded passes.
                if n.is_multiple_of(5) && hub.holds_lease("expire-requests", Duration::from_secs(8)).await {
                    if let Err(e) = hub.store.write(|c, e| ledger::expire_requests(c, e, 500)).await {
                        tracing::warn!(error = %e, "could not expire payment requests");
                    }
                }
                if n.is_multiple_of(crate::devices::REFRESH_SECS) {
                    hub.devices.refresh(&hub.presence.connected_users()).await;
                }
                // Retention in bounded passes: every 60 s, and every second while a pass still finds a
                // full batch (a backlog is worked off without ever stalling the writer for long).
                if (n.is_multiple_of(60) || trim_backlog) && hub.holds_lease("retention", Duration::from_secs(90)).await
                {
                    let (keep, age) = (hub.cfg.retention_events, hub.cfg.retention_secs as i64 * 1000);
                    match hub.store.write(move |c, _| log::trim(c, keep, age)).await {
                        Ok(deleted) => trim_backlog = deleted >= log::TRIM_BATCH,
                        Err(e) => {
                            trim_backlog = false;
                            tracing::warn!(error = %e, "log retention failed");
                        }
                    }
                }
            }
        });
    }

    /// Drives a transfer through its states, one step every `transfer_step_ms`.
    pub fn drive_transfer(self: &Arc<Self>, tenant: TenantId, id: TransferId) {
        let hub = self.clone();
        tokio::spawn(async move {
            // A step that fails (the store is unavailable) is tried again with a growing pause, for a
            // minute; after that the transfer waits for `adopt_stale_transfers`.
            let mut pause = Duration::from_millis(hub.cfg.transfer_step_ms);
            let give_up = std::time::Instant::now() + Duration::from_secs(60);
            while std::time::Instant::now() < give_up {
                tokio::time::sleep(pause).await;
                match hub.store.write(move |c, e| ledger::advance_transfer(c, e, tenant, id)).await {
                    Ok(Some(s)) if !s.is_final() => pause = Duration::from_millis(hub.cfg.transfer_step_ms),
                    Ok(_) => return,
                    Err(e) => {
                        tracing::warn!(transfer = id, error = %e, "transfer step failed; retrying");
                        pause = (pause * 2).clamp(Duration::from_millis(100), Duration::from_secs(2));
                    }
                }
            }
        });
    }

    /// Whether this hub does the duty `name` now: it takes (or renews) a lease on it for `ttl`. One hub of
    /// the cluster at a time holds it; when that hub dies the lease runs out and another takes it.
    async fn holds_lease(&self, name: &'static str, ttl: Duration) -> bool {
        let me = self.instance.clone();
        let now = crate::store::now_ms();
        let until = now + ttl.as_millis() as i64;
        match self.store.write(move |c, _| c.take_lease(name, &me, until, now)).await {
            Ok(held) => held,
            Err(e) => {
                tracing::warn!(lease = name, error = %e, "could not take a lease");
                false
            }
        }
    }

    /// Drives the transfers nobody moved for a while (their hub is gone).
    async fn adopt_stale_transfers(self: &Arc<Self>) {
        let idle = (self.cfg.transfer_step_ms as i64 * 10).max(5_000);
        match self.store.read(move |c| ledger::stale_transfers(c, idle)).await {
            Ok(stale) => {
                for (tenant, id) in stale {
                    metrics::counter!(crate::series::TRANSFERS_ADOPTED).increment(1);
                    self.drive_transfer(tenant, id);
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not look for stalled transfers"),
        }
    }

    /// Resumes transfers left in flight by a previous run.
    pub async fn resume_transfers(self: &Arc<Self>) -> HubResult<()> {
        let open = self.store.read(ledger::unfinished_transfers).await?;
        for (tenant, id) in open {
            self.drive_transfer(tenant, id);
        }
        Ok(())
    }
}
