//! Presence and typing, with the 30 s offline grace and 5 s typing expiry. Who is connected and typing
//! lives in memory; the status a user chose and when they were last seen are also kept in `users` (the hub
//! seeds an entry from there after a restart), so neither is lost to the grace period or a restart.
use crate::ids::TenantId;
use crate::store::now_ms;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tally_protocol::{PresenceStatus, RoomId, UserId};

struct Entry {
    conns: u32,
    /// What the user chose (online, away, busy, invisible).
    chosen: PresenceStatus,
    /// When the last connection closed, for `offline` after the grace period.
    gone_since: Option<Instant>,
    last_seen: i64,
    /// What others currently see.
    shown: PresenceStatus,
}

pub struct Presence {
    grace: Duration,
    users: Mutex<HashMap<(TenantId, UserId), Entry>>,
    typing: Mutex<HashMap<(TenantId, RoomId, UserId), Instant>>,
}

/// A change others must be told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub tenant: TenantId,
    pub user: UserId,
    pub shown: PresenceStatus,
    pub last_seen: Option<i64>,
}

pub const TYPING_TTL: Duration = Duration::from_secs(5);

fn visible(s: PresenceStatus) -> PresenceStatus {
    if s == PresenceStatus::Invisible {
        PresenceStatus::Offline
    } else {
        s
    }
}

impl Presence {
    pub fn new(grace: Duration) -> Self {
        Presence { grace, users: Mutex::new(HashMap::new()), typing: Mutex::new(HashMap::new()) }
    }

    fn update(&self, tenant: TenantId, user: UserId, f: impl FnOnce(&mut Entry)) -> Option<Change> {
        let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        let e = users.entry((tenant, user)).or_insert(Entry {
            conns: 0,
            chosen: PresenceStatus::Online,
            gone_since: None,
            last_seen: now_ms(),
            shown: PresenceStatus::Offline,
        });
        f(e);
        let want = if e.conns > 0 || e.gone_since.is_some() { visible(e.chosen) } else { PresenceStatus::Offline };
        if want != e.shown {
            e.shown = want;
            Some(Change {
                tenant,
                user,
                shown: want,
                last_seen: (want == PresenceStatus::Offline).then_some(e.last_seen),
            })
        } else {
            None
        }
    }

    /// A connection of `user` opened; `stored` is the status they chose and their last seen, as kept in the
    /// database (used when this hub has no entry for them: after the grace, or a restart).
    pub fn connected(&self, tenant: TenantId, user: UserId, stored: (PresenceStatus, Option<i64>)) -> Option<Change> {
        self.remember(tenant, user, stored);
        self.update(tenant, user, |e| {
            e.conns += 1;
            e.gone_since = None;
            e.last_seen = now_ms();
        })
    }

    /// The last connection closing starts the grace period; `tick` reports the offline change later.
    pub fn disconnected(&self, tenant: TenantId, user: UserId) -> Option<Change> {
        self.update(tenant, user, |e| {
            e.conns = e.conns.saturating_sub(1);
            e.last_seen = now_ms();
            if e.conns == 0 {
                e.gone_since = Some(Instant::now());
            }
        })
    }

    pub fn set(&self, tenant: TenantId, user: UserId, status: PresenceStatus) -> Option<Change> {
        self.update(tenant, user, |e| {
            e.chosen = if status == PresenceStatus::Offline { PresenceStatus::Invisible } else { status }
        })
    }

    /// What others see of `user` now.
    /// Seeds an entry from the database if this hub has none (chosen status, last seen).
    pub fn remember(&self, tenant: TenantId, user: UserId, stored: (PresenceStatus, Option<i64>)) {
        let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        users.entry((tenant, user)).or_insert(Entry {
            conns: 0,
            chosen: stored.0,
            gone_since: None,
            last_seen: stored.1.unwrap_or(0),
            shown: PresenceStatus::Offline,
        });
    }

    /// How many connections of the user this hub holds.
    pub fn devices(&self, tenant: TenantId, user: UserId) -> u32 {
        self.users.lock().unwrap_or_else(|e| e.into_inner()).get(&(tenant, user)).map_or(0, |e| e.conns)
    }

    /// Every user this hub holds a connection of.
    pub fn connected_users(&self) -> Vec<(TenantId, UserId)> {
        let users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        users.iter().filter(|(_, e)| e.conns > 0).map(|(k, _)| *k).collect()
    }

    /// What others see of a user connected to another hub: the status they chose (invisible: offline).
    pub fn shown_elsewhere(&self, tenant: TenantId, user: UserId) -> PresenceStatus {
        let users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        visible(users.get(&(tenant, user)).map_or(PresenceStatus::Online, |e| e.chosen))
    }

    /// Whether this hub knows the user (else the caller looks up the database).
    pub fn knows(&self, tenant: TenantId, user: UserId) -> bool {
        self.users.lock().unwrap_or_else(|e| e.into_inner()).contains_key(&(tenant, user))
    }

    pub fn shown(&self, tenant: TenantId, user: UserId) -> (PresenceStatus, Option<i64>) {
        let users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        match users.get(&(tenant, user)) {
            Some(e) => (e.shown, (e.shown == PresenceStatus::Offline && e.last_seen > 0).then_some(e.last_seen)),
            None => (PresenceStatus::Offline, None),
        }
    }

    /// Users whose grace period ended (now offline) and typing indicators that expired.
    pub fn tick(&self) -> (Vec<Change>, Vec<(TenantId, RoomId, UserId)>) {
        let now = Instant::now();
        let mut offline = Vec::new();
        {
            let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
            // Entries stay (the chosen status and last seen are needed again); the database keeps them too.
            for ((tenant, user), e) in users.iter_mut() {
                if let Some(t) = e.gone_since {
                    if e.conns == 0 && now.duration_since(t) >= self.grace {
                        e.gone_since = None;
                        if e.shown != PresenceStatus::Offline {
                            e.shown = PresenceStatus::Offline;
                            offline.push(Change {
                                tenant: *tenant,
                                user: *user,
                                shown: PresenceStatus::Offline,
                                last_seen: Some(e.last_seen),
                            });
                        }
                    }
                }
            }
        }
        let mut expired = Vec::new();
        {
            let mut typing = self.typing.lock().unwrap_or_else(|e| e.into_inner());
            typing.retain(|k, deadline| {
                if *deadline <= now {
                    expired.push(*k);
                    false
                } else {
                    true
                }
            });
        }
        (offline, expired)
    }

    /// Records typing; returns true when others should be told (a start, not a renewal).
    pub fn typing(&self, tenant: TenantId, room: RoomId, user: UserId, active: bool) -> bool {
        let mut typing = self.typing.lock().unwrap_or_else(|e| e.into_inner());
        if active {
            typing.insert((tenant, room, user), Instant::now() + TYPING_TTL).is_none()
        } else {
            typing.remove(&(tenant, room, user)).is_some()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    const T1: TenantId = TenantId(1);

    #[test]
    fn invisible_users_look_offline_and_grace_delays_offline() {
        let p = Presence::new(Duration::from_millis(0));
        let fresh = (PresenceStatus::Online, None);
        assert_eq!(p.connected(T1, 7, fresh).map(|c| c.shown), Some(PresenceStatus::Online));
        assert_eq!(p.connected(T1, 7, fresh), None); // second device: no change
        assert_eq!(p.set(T1, 7, PresenceStatus::Invisible).map(|c| c.shown), Some(PresenceStatus::Offline));
        assert_eq!(p.set(T1, 7, PresenceStatus::Busy).map(|c| c.shown), Some(PresenceStatus::Busy));
        assert_eq!(p.disconnected(T1, 7), None);
        assert_eq!(p.disconnected(T1, 7), None); // still shown during grace
        let (off, _) = p.tick();
        assert_eq!(off.len(), 1);
        assert_eq!(p.shown(T1, 7).0, PresenceStatus::Offline);
        assert!(p.shown(T1, 7).1.is_some(), "last seen is kept after the grace");
        // Back after the grace: still busy, as chosen.
        assert_eq!(p.connected(T1, 7, fresh).map(|c| c.shown), Some(PresenceStatus::Busy));
    }

    #[test]
    fn a_hub_that_never_saw_a_user_starts_from_what_the_database_kept() {
        let p = Presence::new(Duration::from_secs(30));
        let stored = (PresenceStatus::Busy, Some(1_700_000_000_000));
        p.remember(T1, 9, stored);
        assert_eq!(p.shown(T1, 9), (PresenceStatus::Offline, Some(1_700_000_000_000)));
        assert_eq!(p.connected(T1, 9, stored).map(|c| c.shown), Some(PresenceStatus::Busy));
    }

    #[test]
    fn typing_renewals_are_not_repeated() {
        let p = Presence::new(Duration::from_secs(30));
        assert!(p.typing(T1, 2, 3, true));
        assert!(!p.typing(T1, 2, 3, true));
        assert!(p.typing(T1, 2, 3, false));
        assert!(!p.typing(T1, 2, 3, false));
    }
}
