//! The SQLite side of the storage seam: the transaction handle over one rusqlite connection (the
//! writer's savepoint or a pooled read-only connection), its parameters and rows, and what its errors
//! mean to the hub.
use crate::error::{HubError, HubResult};
use crate::ids::TenantId;
use crate::position::Head;
use crate::store::sql::{Arg, Db, Dialect, Heads, Row, Value};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::Connection;
use tally_protocol::ErrorCode;

/// The SQLite backend's transaction handle.
pub struct SqliteTx<'c> {
    c: &'c Connection,
    /// Inside a write job: the writer's heads as earlier jobs left them, and the ones this job moved
    /// (kept apart so that a job rolled back leaves the writer's heads as they were).
    heads: Option<(&'c Heads, Heads)>,
}

impl<'c> SqliteTx<'c> {
    /// A write job's handle (inside the writer's savepoint), seeing the heads `known` to the writer.
    pub fn writer(c: &'c Connection, known: &'c Heads) -> Self {
        SqliteTx { c, heads: Some((known, Heads::new())) }
    }
    /// A read's handle (a read-only pooled connection).
    pub fn reader(c: &'c Connection) -> Self {
        SqliteTx { c, heads: None }
    }
    /// The heads this job read or moved, for the writer to keep once the job is kept.
    pub fn into_heads(self) -> Heads {
        self.heads.map(|(_, moved)| moved).unwrap_or_default()
    }

    /// The prepared statement (from the connection's cache) with `args` bound by their numbers.
    fn bound(&self, sql: &str, args: &[Arg<'_>]) -> HubResult<rusqlite::CachedStatement<'c>> {
        let mut st = self.c.prepare_cached(sql).map_err(fail)?;
        for i in 1..=st.parameter_count() {
            let arg = st.parameter_name(i).and_then(|name| placeholder(name, args)).ok_or_else(|| {
                HubError::internal(format!("parameter {i} of a statement has no argument ({} given)", args.len()))
            })?;
            st.raw_bind_parameter(i, arg).map_err(fail)?;
        }
        Ok(st)
    }
}

impl Db for SqliteTx<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn writing(&self) -> bool {
        self.heads.is_some()
    }

    fn exec(&mut self, sql: &str, args: &[Arg<'_>]) -> HubResult<u64> {
        let n = self.bound(sql, args)?.raw_execute().map_err(fail)?;
        Ok(n as u64)
    }

    fn rows(&mut self, sql: &str, args: &[Arg<'_>]) -> HubResult<Vec<Row>> {
        let mut st = self.bound(sql, args)?;
        let n = st.column_count();
        let mut rows = st.raw_query();
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(fail)? {
            out.push(row(r, n)?);
        }
        Ok(out)
    }

    /// Steps once: a point lookup reads its row and stops.
    fn opt(&mut self, sql: &str, args: &[Arg<'_>]) -> HubResult<Option<Row>> {
        let mut st = self.bound(sql, args)?;
        let n = st.column_count();
        let mut rows = st.raw_query();
        rows.next().map_err(fail)?.map(|r| row(r, n)).transpose()
    }

    /// One writer runs one job at a time: nothing to lock, and the heads it moved are its own.
    fn locked_heads(&mut self) -> Option<&mut Heads> {
        self.heads.as_mut().map(|(_, moved)| moved)
    }

    fn known_head(&self, key: &(TenantId, String)) -> Option<Head> {
        self.heads.as_ref().and_then(|(known, _)| known.get(key).cloned())
    }

    fn insert_id(&mut self, sql: &str, args: &[Arg<'_>]) -> HubResult<i64> {
        match sql.strip_suffix(" RETURNING id") {
            Some(insert) => {
                self.exec(insert, args)?;
                Ok(self.c.last_insert_rowid())
            }
            None => self.value(sql, args),
        }
    }
}

/// The argument a parameter names. SQLite reads PostgreSQL's `$1` as a parameter named "$1" and numbers
/// parameters by first appearance (so `$3` may be parameter 1): binding by name keeps the statements as
/// written, with no rewriting per call.
fn placeholder<'a, 'b>(name: &str, args: &'b [Arg<'a>]) -> Option<&'b Arg<'a>> {
    let n: usize = name.strip_prefix('$')?.parse().ok()?;
    args.get(n.checked_sub(1)?)
}

fn row(r: &rusqlite::Row<'_>, n: usize) -> HubResult<Row> {
    let mut values = Vec::with_capacity(n);
    for i in 0..n {
        values.push(value(r.get_ref(i).map_err(fail)?)?);
    }
    Ok(Row(values))
}

fn value(v: ValueRef<'_>) -> HubResult<Value> {
    match v {
        ValueRef::Null => Ok(Value::Null),
        ValueRef::Integer(i) => Ok(Value::Int(i)),
        ValueRef::Text(t) => std::str::from_utf8(t)
            .map(|s| Value::Text(s.to_string()))
            .map_err(|_| HubError::internal("a stored text is not UTF-8")),
        ValueRef::Real(_) | ValueRef::Blob(_) => {
            Err(HubError::internal("a stored value of a type the hub never writes"))
        }
    }
}

impl rusqlite::ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match *self {
            Arg::Int(i) => ToSqlOutput::from(i),
            Arg::Text(s) => ToSqlOutput::from(s),
            Arg::Bool(b) => ToSqlOutput::from(b as i64),
            Arg::Null => ToSqlOutput::from(rusqlite::types::Null),
            Arg::Ints(_) => {
                return Err(rusqlite::Error::ToSqlConversionFailure("a list parameter is PostgreSQL's".into()))
            }
        })
    }
}

/// A failed statement as the hub's error. A CHECK constraint (`available >= 0`) is the ledger refusing
/// to overdraw, as on PostgreSQL.
fn fail(e: rusqlite::Error) -> HubError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_CHECK => {
            HubError::new(ErrorCode::InsufficientFunds, "insufficient funds")
        }
        _ => e.into(),
    }
}

impl From<rusqlite::Error> for HubError {
    /// A full disk, a lock held too long or an I/O failure is the retryable `unavailable`; anything else
    /// `internal`.
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode as C;
        match e.sqlite_error_code() {
            Some(C::DiskFull | C::DatabaseBusy | C::DatabaseLocked | C::SystemIoFailure | C::CannotOpen) => {
                HubError::storage_unavailable(e)
            }
            _ => HubError::internal(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sql::args;

    #[test]
    fn parameters_bind_by_their_numbers_in_any_order() {
        let c = Connection::open_in_memory().unwrap();
        let mut db = SqliteTx::reader(&c);
        let r = db.one("SELECT $3, $1, $2, $1", args![1i64, 2i64, 3i64]).unwrap();
        assert_eq!((0..4).map(|i| r.get::<i64>(i).unwrap()).collect::<Vec<_>>(), [3, 1, 2, 1]);
        assert!(db.one("SELECT $2", args![1i64]).is_err(), "a parameter past the arguments");
        assert!(db.one("SELECT ?", args![1i64]).is_err(), "an unnumbered parameter");
    }

    #[test]
    fn a_statement_round_trips_every_kind_of_value() {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch("CREATE TABLE t (i INTEGER, s TEXT, b INTEGER, n TEXT)").unwrap();
        let known = Heads::new();
        let mut db = SqliteTx::writer(&c, &known);
        let none: Option<&str> = None;
        assert_eq!(db.exec("INSERT INTO t VALUES ($1, $2, $3, $4)", args![-5i64, "é", true, none]).unwrap(), 1);
        let r = db.one("SELECT i, s, b, n FROM t WHERE i = $1 AND NOT $2", args![-5i64, false]).unwrap();
        assert_eq!((r.get::<i64>(0).unwrap(), r.get::<String>(1).unwrap()), (-5, "é".to_string()));
        assert!(r.get::<bool>(2).unwrap());
        assert_eq!(r.get::<Option<String>>(3).unwrap(), None);
        let ids: &[i64] = &[1];
        let e = db.rows("SELECT $1", args![ids]).unwrap_err();
        assert!(e.cause.unwrap_or_default().contains("PostgreSQL's"), "lists are PostgreSQL's");
    }

    #[test]
    fn a_plain_insert_gives_its_row_s_id_without_running_returning() {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT NOT NULL)").unwrap();
        let known = Heads::new();
        let mut db = SqliteTx::writer(&c, &known);
        let sql = "INSERT INTO t (s) VALUES ($1)
             RETURNING id";
        let (a, b) = (db.insert_id(sql, args!["a"]).unwrap(), db.insert_id(sql, args!["b"]).unwrap());
        assert_ne!(a, b);
        let stored = |id: i64| c.query_row("SELECT s FROM t WHERE id = ?1", [id], |r| r.get::<_, String>(0)).unwrap();
        assert_eq!((stored(a), stored(b)), ("a".to_string(), "b".to_string()));
        // Anything else is run as written.
        assert_eq!(db.insert_id("INSERT INTO t (s) VALUES ($1) RETURNING length(s)", args!["abc"]).unwrap(), 3);
    }
}
