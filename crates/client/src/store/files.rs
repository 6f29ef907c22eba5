//! Attachments in the cache: downloaded files and thumbnails kept for offline use (inside the encrypted
//! database, least recently used evicted past the user's cap), the bytes of files queued to be sent, and
//! the thumbnails still to fetch.
use super::Store;
use crate::Error;
use rusqlite::{params, OptionalExtension};
use tally_protocol::RoomId;

/// Which bytes of an attachment: the file itself or its thumbnail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    File,
    Thumb,
}

impl Variant {
    fn as_str(self) -> &'static str {
        match self {
            Variant::File => "file",
            Variant::Thumb => "thumb",
        }
    }
}

fn now() -> i64 {
    super::now_ms()
}

impl Store {
    /// Keeps bytes for offline use, then evicts the least recently used others until the cache holds at
    /// most `cap` bytes (what was just kept stays, even alone over the cap: it is in use).
    pub fn keep_file(&self, room: RoomId, id: &str, v: Variant, bytes: &[u8], cap: u64) -> Result<(), Error> {
        let mut c = self.writer();
        let tx = c.transaction()?;
        tx.execute(
            "INSERT INTO files (id, variant, room, bytes, size, last_used) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (id, variant) DO UPDATE SET last_used = excluded.last_used",
            params![id, v.as_str(), room, bytes, bytes.len() as i64, now()],
        )?;
        if v == Variant::Thumb {
            tx.execute("DELETE FROM wanted_thumbs WHERE room = ?1 AND id = ?2", params![room, id])?;
        }
        evict(&tx, cap, Some((id, v)))?;
        tx.commit()?;
        Ok(())
    }

    /// Kept bytes, marked as just used.
    pub fn kept_file(&self, id: &str, v: Variant) -> Result<Option<Vec<u8>>, Error> {
        let c = self.writer();
        let bytes: Option<Vec<u8>> = c
            .query_row("SELECT bytes FROM files WHERE id = ?1 AND variant = ?2", params![id, v.as_str()], |r| r.get(0))
            .optional()?;
        if bytes.is_some() {
            c.execute(
                "UPDATE files SET last_used = ?3 WHERE id = ?1 AND variant = ?2",
                params![id, v.as_str(), now()],
            )?;
        }
        Ok(bytes)
    }

    /// Bytes kept for offline use.
    pub fn files_size(&self) -> Result<u64, Error> {
        let n: i64 = self.reader().query_row("SELECT COALESCE(SUM(size), 0) FROM files", [], |r| r.get(0))?;
        Ok(n.max(0) as u64)
    }

    /// Evicts until at most `cap` bytes are kept.
    pub fn trim_files(&self, cap: u64) -> Result<(), Error> {
        let mut c = self.writer();
        let tx = c.transaction()?;
        evict(&tx, cap, None)?;
        tx.commit()?;
        Ok(())
    }

    /// The bytes of a file queued to be sent.
    pub fn upload_bytes(&self, outbox_id: i64) -> Result<Option<Vec<u8>>, Error> {
        Ok(self
            .reader()
            .query_row("SELECT bytes FROM uploads WHERE outbox_id = ?1", [outbox_id], |r| r.get(0))
            .optional()?)
    }

    /// Pictures whose thumbnails are still to be fetched, oldest first.
    pub fn wanted_thumbs(&self, limit: u32) -> Result<Vec<(RoomId, String)>, Error> {
        let c = self.reader();
        let mut stmt = c.prepare_cached("SELECT room, id FROM wanted_thumbs LIMIT ?1")?;
        let rows = stmt.query_map([limit], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A thumbnail that cannot be fetched (the file is gone, or not this user's to see): not asked again.
    pub fn unwant_thumb(&self, room: RoomId, id: &str) -> Result<(), Error> {
        self.writer().execute("DELETE FROM wanted_thumbs WHERE room = ?1 AND id = ?2", params![room, id])?;
        Ok(())
    }
}

/// Deletes the least recently used rows (never `keep`) until the total is at most `cap`.
fn evict(tx: &rusqlite::Transaction<'_>, cap: u64, keep: Option<(&str, Variant)>) -> Result<(), Error> {
    let total: i64 = tx.query_row("SELECT COALESCE(SUM(size), 0) FROM files", [], |r| r.get(0))?;
    let mut over = total - i64::try_from(cap).unwrap_or(i64::MAX);
    if over <= 0 {
        return Ok(());
    }
    let (kid, kv) = keep.map_or(("", ""), |(id, v)| (id, v.as_str()));
    let victims: Vec<(String, String, i64)> = {
        let mut stmt = tx.prepare(
            "SELECT id, variant, size FROM files WHERE NOT (id = ?1 AND variant = ?2) ORDER BY last_used, id",
        )?;
        let rows = stmt.query_map(params![kid, kv], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    for (id, variant, size) in victims {
        if over <= 0 {
            break;
        }
        tx.execute("DELETE FROM files WHERE id = ?1 AND variant = ?2", params![id, variant])?;
        over -= size;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_recently_used_go_first_and_what_is_in_use_stays() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("c.db"), 1).unwrap();
        s.keep_file(1, "a", Variant::File, &[1; 400], 1_000).unwrap();
        s.keep_file(1, "b", Variant::File, &[2; 400], 1_000).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(s.kept_file("a", Variant::File).unwrap().is_some()); // a is now newer than b
        s.keep_file(1, "c", Variant::Thumb, &[3; 400], 1_000).unwrap();
        assert!(s.kept_file("b", Variant::File).unwrap().is_none(), "b was the least recently used");
        assert_eq!(s.files_size().unwrap(), 800);
        s.keep_file(1, "huge", Variant::File, &[4; 5_000], 1_000).unwrap();
        assert_eq!(s.kept_file("huge", Variant::File).unwrap().map(|b| b.len()), Some(5_000));
        assert_eq!(s.files_size().unwrap(), 5_000);
        s.trim_files(0).unwrap();
        assert_eq!(s.files_size().unwrap(), 0);
    }
}
