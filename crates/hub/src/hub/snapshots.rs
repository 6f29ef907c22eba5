//! `snapshot` requests: balances, pages of history and the changes feeds, rooms, contacts, transfers.
use super::Hub;
use crate::chat;
use crate::error::{HubError, HubResult};
use crate::ids::TenantId;
use crate::ledger;
use crate::notify;
use tally_protocol::*;

impl Hub {
    pub async fn snapshot(&self, tenant: TenantId, uid: UserId, what: SnapshotKind) -> HubResult<AckData> {
        Ok(match what {
            SnapshotKind::Balances => {
                AckData::Balances { balances: self.store.read(move |c| ledger::balances(c, uid)).await? }
            }
            SnapshotKind::Rooms => {
                AckData::Rooms { rooms: self.store.read(move |c| chat::rooms_of(c, tenant, uid)).await? }
            }
            SnapshotKind::Contacts => {
                AckData::Contacts { users: self.store.read(move |c| crate::directory::contacts(c, tenant, uid)).await? }
            }
            page @ (SnapshotKind::Transactions { .. }
            | SnapshotKind::TransactionChanges { .. }
            | SnapshotKind::Notifications { .. }
            | SnapshotKind::NotificationChanges { .. }
            | SnapshotKind::MessageChanges { .. }) => self.history_page(tenant, uid, page).await?,
            SnapshotKind::Transfer { id } => {
                match self.store.read(move |c| ledger::transfer_for(c, tenant, id, uid)).await? {
                    Some(transfer) => AckData::Transfer { transfer },
                    None => return Err(HubError::not_found("transfer")),
                }
            }
            SnapshotKind::TransferByKey { idempotency_key } => {
                match self.store.read(move |c| ledger::transfer_by_key(c, tenant, uid, &idempotency_key)).await? {
                    Some(transfer) => AckData::Transfer { transfer },
                    None => return Err(HubError::not_found("transfer")),
                }
            }
            SnapshotKind::OpenTransfers => AckData::Transfers {
                transfers: self.store.read(move |c| ledger::open_transfers(c, tenant, uid)).await?,
            },
            SnapshotKind::Requests => {
                AckData::Requests { requests: self.store.read(move |c| ledger::requests_of(c, tenant, uid)).await? }
            }
        })
    }

    /// Pages of the whole history (newest first, with a total on the first page) and the changes feeds.
    async fn history_page(&self, tenant: TenantId, uid: UserId, what: SnapshotKind) -> HubResult<AckData> {
        Ok(match what {
            SnapshotKind::Transactions { before, limit } => {
                page_ok(limit)?;
                self.store
                    .read(move |c| {
                        let (transactions, next_before) = ledger::transactions_page(c, tenant, uid, before, limit)?;
                        let total =
                            if before.is_none() { Some(ledger::transactions_count(c, tenant, uid)?) } else { None };
                        Ok(AckData::Transactions { transactions, next_before, next_since: None, total })
                    })
                    .await?
            }
            SnapshotKind::TransactionChanges { since, limit } => {
                page_ok(limit)?;
                let (transactions, next_since) =
                    self.store.read(move |c| ledger::transaction_changes(c, tenant, uid, since, limit)).await?;
                AckData::Transactions { transactions, next_before: None, next_since, total: None }
            }
            SnapshotKind::Notifications { before, limit } => {
                page_ok(limit)?;
                self.store
                    .read(move |c| {
                        let (notifications, unread, next_before) = notify::page(c, tenant, uid, before, limit)?;
                        let total = if before.is_none() { Some(notify::count(c, tenant, uid)?) } else { None };
                        Ok(AckData::Notifications { notifications, unread, next_before, next_since: None, total })
                    })
                    .await?
            }
            SnapshotKind::NotificationChanges { since, limit } => {
                page_ok(limit)?;
                self.store
                    .read(move |c| {
                        let (notifications, next_since) = notify::changes(c, tenant, uid, since, limit)?;
                        let unread = notify::unread(c, tenant, uid)?;
                        Ok(AckData::Notifications { notifications, unread, next_before: None, next_since, total: None })
                    })
                    .await?
            }
            SnapshotKind::MessageChanges { room, since, limit } => {
                page_ok(limit)?;
                self.store
                    .read(move |c| {
                        chat::require_member(c, tenant, room, uid)?;
                        let (events, next_since) = chat::changes(c, tenant, room, since, limit)?;
                        Ok(AckData::History { has_more: next_since.is_some(), events, next_since, total: None })
                    })
                    .await?
            }
            _ => return Err(HubError::invalid("not a history page")),
        })
    }
}

fn page_ok(limit: u32) -> HubResult<()> {
    if limit == 0 || limit > MAX_SNAPSHOT_PAGE {
        return Err(HubError::invalid(format!("limit must be 1-{MAX_SNAPSHOT_PAGE}")));
    }
    Ok(())
}
