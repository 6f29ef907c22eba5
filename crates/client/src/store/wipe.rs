//! Forgetting an account on this device while its database is open (a session the hub revoked): every
//! row goes, with `secure_delete` so freed pages are zeroed, then VACUUM and a truncating checkpoint so
//! neither the file nor its WAL keeps a byte of what was there.
use super::Store;
use crate::Error;

/// FTS5 keeps its index in shadow tables named after the virtual table; they are emptied through it.
const FTS_SHADOWS: [&str; 5] = ["_data", "_idx", "_content", "_docsize", "_config"];

impl Store {
    pub fn wipe(&self) -> Result<(), Error> {
        let c = self.writer();
        c.pragma_update(None, "secure_delete", "ON")?;
        let tables: Vec<(String, String)> = {
            let mut stmt = c.prepare("SELECT name, COALESCE(sql, '') FROM sqlite_master WHERE type = 'table'")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        let virtual_tables: Vec<&str> =
            tables.iter().filter(|(_, sql)| sql.starts_with("CREATE VIRTUAL")).map(|(n, _)| n.as_str()).collect();
        let shadow = |name: &str| virtual_tables.iter().any(|v| FTS_SHADOWS.iter().any(|s| name == format!("{v}{s}")));
        for (name, _) in tables.iter().filter(|(n, _)| !n.starts_with("sqlite_") && !shadow(n)) {
            c.execute(&format!("DELETE FROM \"{}\"", quoted(name)), [])?;
        }
        // FTS5 deletes by tombstones: the old segments keep the tokens until rebuilt from the (now empty)
        // content.
        for v in &virtual_tables {
            let v = quoted(v);
            c.execute(&format!("INSERT INTO \"{v}\"(\"{v}\") VALUES ('rebuild')"), [])?;
        }
        c.execute_batch("VACUUM")?;
        c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }
}

fn quoted(name: &str) -> String {
    name.replace('"', "\"\"")
}
