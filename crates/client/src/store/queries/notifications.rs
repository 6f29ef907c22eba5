//! Notifications as the UI lists them, marking them read on this device, and the unread counts.
use crate::store::Store;
use crate::view::*;
use crate::Error;
use rusqlite::params;
use tally_protocol::*;

impl Store {
    /// Newest first, within a day critical first.
    pub fn notifications(&self, before: Option<NotificationId>, limit: u32) -> Result<Vec<Notification>, Error> {
        let c = self.reader();
        let mut stmt = c.prepare_cached(
            "SELECT json, read FROM notifications WHERE id < ?1 ORDER BY created_at / 86400000 DESC, priority = 3 DESC, created_at DESC, id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![before.unwrap_or(i64::MAX), limit.clamp(1, crate::view::MAX_PAGE)], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (json, read) = row?;
            if let Ok(mut n) = serde_json::from_str::<Notification>(&json) {
                n.read = read;
                out.push(n);
            }
        }
        Ok(out)
    }

    pub fn mark_notifications_read_locally(&self, ids: Option<&[NotificationId]>) -> Result<(), Error> {
        let c = self.writer();
        match ids {
            Some(ids) => {
                for id in ids {
                    c.execute("UPDATE notifications SET read = 1 WHERE id = ?1", [id])?;
                }
            }
            None => {
                c.execute("UPDATE notifications SET read = 1", [])?;
            }
        }
        Ok(())
    }

    pub fn unread_counts(&self) -> Result<UnreadCounts, Error> {
        let c = self.reader();
        let notifications: u32 = c.query_row("SELECT COUNT(*) FROM notifications WHERE read = 0", [], |r| r.get(0))?;
        let chat: u32 = c.query_row(
            // A muted room's unread messages are not counted in the badge (its own count still shows in the list).
            "SELECT COUNT(*) FROM messages m JOIN rooms r ON r.id = m.room WHERE r.left_room = 0 AND m.seq > r.my_read AND m.sender_id != ?1 AND m.json NOT LIKE '%\"deleted\":true%'
             AND COALESCE(json_extract(r.json, '$.muted'), 0) = 0",
            [self.me],
            |r| r.get(0),
        )?;
        Ok(UnreadCounts { notifications, chat })
    }
}
