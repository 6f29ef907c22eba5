//! What this client follows: the channels it subscribes to and the parts of the history it downloads.
use super::*;

/// Channels this client follows: its own, the broadcast, its rooms (and their presence), open transfers.
pub(super) fn wanted_channels(sh: &Shared) -> Vec<Channel> {
    let me = sh.user.id;
    let mut out = vec![
        Channel::User(me),
        Channel::Balance(me),
        Channel::Transactions(me),
        Channel::Notifications(me),
        Channel::Broadcast,
    ];
    for r in sh.store.room_ids().unwrap_or_default() {
        out.push(Channel::Room(r));
        out.push(Channel::PresenceRoom(r));
    }
    for t in sh.store.transfers_open().unwrap_or_default() {
        if !t.transfer.status.is_final() && t.transfer.id > 0 && t.local == LocalState::Sent {
            out.push(Channel::Transfer(t.transfer.id));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The parts of the history this device downloads: transactions, notifications and each room's messages.
pub(super) fn wanted_parts(sh: &Shared) -> Vec<PartKey> {
    let mut out = vec![PartKey::Transactions, PartKey::Notifications];
    out.extend(sh.store.room_ids().unwrap_or_default().into_iter().map(PartKey::Room));
    out
}
