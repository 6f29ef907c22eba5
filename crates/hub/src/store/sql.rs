//! The seam between the repositories and the two database drivers: the repositories (`store/repos/…`)
//! are written once against [`Db`], in SQL both databases agree on; each backend's transaction handle
//! implements `Db` over its driver (`sqlite/driver.rs`, `postgres/driver.rs`).
//!
//! The dialect layer is thin on purpose. Statements use PostgreSQL's numbered placeholders (`$1`), which
//! the SQLite driver binds by name; everything else is text both accept (`ON CONFLICT`, `RETURNING`,
//! `TRUE`/`NOT x`, `CAST(… AS BIGINT)`, row values). Where the backends behave differently (row locks,
//! leases, a one-statement append) a repository asks [`Db::dialect`] and says why at that spot.
use crate::error::{HubError, HubResult};
use crate::ids::TenantId;
use crate::position::Head;
use std::collections::HashMap;

/// Which database a handle speaks to, for the few statements whose behaviour differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// One process owns the file and one writer runs one job at a time: nothing to lock.
    Sqlite,
    /// Several hubs write at once: reads that decide a write lock their rows.
    Postgres,
}

/// A statement's parameter, bound by each driver in its own types (a bool is 0/1 in SQLite, a BOOLEAN in
/// PostgreSQL).
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    Int(i64),
    Text(&'a str),
    Bool(bool),
    Null,
    /// A list of ids (PostgreSQL's `= ANY($n)`; only in statements that run on PostgreSQL).
    Ints(&'a [i64]),
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}
impl From<bool> for Arg<'_> {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}
impl From<TenantId> for Arg<'_> {
    fn from(v: TenantId) -> Self {
        Arg::Int(v.0)
    }
}
impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(v)
    }
}
impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Arg::Text(v)
    }
}
impl<'a> From<&'a [i64]> for Arg<'a> {
    fn from(v: &'a [i64]) -> Self {
        Arg::Ints(v)
    }
}
impl<'a, T: Into<Arg<'a>>> From<Option<T>> for Arg<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Arg::Null, Into::into)
    }
}

/// A statement's parameters: `args![user, tenant, &name]`.
macro_rules! args {
    ($($e:expr),* $(,)?) => { &[$($crate::store::sql::Arg::from($e)),*] };
}
pub(crate) use args;

/// A column's value as read back: the types the schema uses (every integer is 64-bit).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Bool(bool),
}

/// One result row.
#[derive(Debug)]
pub struct Row(pub Vec<Value>);

impl Row {
    /// Column `i` as `T`; a stored value of another type (or a null where none may be) is a storage
    /// error naming the column, never a default.
    pub fn get<T: Col>(&self, i: usize) -> HubResult<T> {
        let v = self.0.get(i).unwrap_or(&Value::Null);
        T::from_value(v).ok_or_else(|| HubError::internal(format!("column {i}: {v:?} is not {}", T::WHAT)))
    }
}

impl Row {
    /// Column `i` as text, borrowed (for values parsed further: enums, currencies, JSON).
    pub fn text(&self, i: usize) -> HubResult<&str> {
        match self.0.get(i) {
            Some(Value::Text(s)) => Ok(s),
            v => Err(HubError::internal(format!("column {i}: {v:?} is not text"))),
        }
    }
}

/// A Rust type a column is read as.
pub trait Col: Sized {
    const WHAT: &'static str;
    fn from_value(v: &Value) -> Option<Self>;
}

impl Col for i64 {
    const WHAT: &'static str = "an integer";
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
}
impl Col for u64 {
    const WHAT: &'static str = "a count or position";
    fn from_value(v: &Value) -> Option<Self> {
        i64::from_value(v).and_then(|i| u64::try_from(i).ok())
    }
}
impl Col for u32 {
    const WHAT: &'static str = "a small count";
    fn from_value(v: &Value) -> Option<Self> {
        i64::from_value(v).and_then(|i| u32::try_from(i).ok())
    }
}
impl Col for TenantId {
    const WHAT: &'static str = "a tenant id";
    fn from_value(v: &Value) -> Option<Self> {
        i64::from_value(v).map(TenantId)
    }
}
impl Col for String {
    const WHAT: &'static str = "text";
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
}
impl Col for bool {
    const WHAT: &'static str = "a boolean";
    /// SQLite stores booleans as 0 and 1.
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Bool(b) => Some(*b),
            Value::Int(0) => Some(false),
            Value::Int(1) => Some(true),
            _ => None,
        }
    }
}
impl<T: Col> Col for Option<T> {
    const WHAT: &'static str = T::WHAT;
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Null => Some(None),
            v => T::from_value(v).map(Some),
        }
    }
}

/// Channel heads a write has read and moved since, by (tenant, channel name).
pub type Heads = HashMap<(TenantId, String), Head>;

/// A backend's transaction handle as the repositories use it: run a statement, read its rows.
pub trait Db {
    fn dialect(&self) -> Dialect;
    /// True inside a write job (false on a read connection).
    fn writing(&self) -> bool;
    /// Runs a statement; the number of rows it changed.
    fn exec(&mut self, sql: &str, args: &[Arg<'_>]) -> HubResult<u64>;
    /// Runs a query; its rows.
    fn rows(&mut self, sql: &str, args: &[Arg<'_>]) -> HubResult<Vec<Row>>;
    /// The channel heads this write job has read and moved: PostgreSQL's are locked `FOR UPDATE`;
    /// SQLite's single writer owns them all. None on a read connection.
    fn locked_heads(&mut self) -> Option<&mut Heads>;
    /// A head the backend already knows without reading its row: SQLite's writer keeps the heads of
    /// earlier jobs in memory (nobody else writes the file). PostgreSQL must lock the row: none.
    fn known_head(&self, _key: &(TenantId, String)) -> Option<Head> {
        None
    }

    /// The first row, if any.
    fn opt(&mut self, sql: &str, args: &[Arg<'_>]) -> HubResult<Option<Row>> {
        Ok(self.rows(sql, args)?.into_iter().next())
    }
    /// The first row; none is a storage error (for statements that always return one: counts, sums,
    /// `RETURNING` of a plain insert).
    fn one(&mut self, sql: &str, args: &[Arg<'_>]) -> HubResult<Row> {
        self.opt(sql, args)?.ok_or_else(|| HubError::internal("a statement returned no row"))
    }
    /// The id a plain `INSERT … RETURNING id` gave its row. SQLite reads `last_insert_rowid()` instead of
    /// running the `RETURNING` (which costs it a temporary table per statement); PostgreSQL returns it.
    fn insert_id(&mut self, sql: &str, args: &[Arg<'_>]) -> HubResult<i64>
    where
        Self: Sized,
    {
        self.value(sql, args)
    }
    /// Column 0 of the first row.
    fn value<T: Col>(&mut self, sql: &str, args: &[Arg<'_>]) -> HubResult<T>
    where
        Self: Sized,
    {
        self.one(sql, args)?.get(0)
    }
    /// Column 0 of every row.
    fn column<T: Col>(&mut self, sql: &str, args: &[Arg<'_>]) -> HubResult<Vec<T>>
    where
        Self: Sized,
    {
        self.rows(sql, args)?.iter().map(|r| r.get(0)).collect()
    }
}

/// A channel or room position as stored: u64 in the protocol, BIGINT in storage; one past `i64::MAX` is
/// never stored, so a bound beyond it reads as `i64::MAX`.
pub fn pos(seq: u64) -> i64 {
    seq.min(i64::MAX as u64) as i64
}

/// A stored enum written as its serde name (the protocol's snake_case strings).
pub fn enum_from<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> HubResult<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).map_err(|_| unreadable(what, s))
}

/// A stored value this hub cannot read: a typed storage error, never a silent default.
pub fn unreadable(what: &str, value: &str) -> HubError {
    HubError::internal(format!("unreadable {what} {value:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_read_as_their_types_or_fail_by_name() {
        let r = Row(vec![Value::Int(7), Value::Null, Value::Text("x".into()), Value::Int(1), Value::Int(-1)]);
        assert_eq!(r.get::<i64>(0).unwrap(), 7);
        assert_eq!(r.get::<Option<i64>>(1).unwrap(), None);
        assert_eq!(r.get::<String>(2).unwrap(), "x");
        assert!(r.get::<bool>(3).unwrap());
        assert!(r.get::<i64>(1).is_err(), "a null is not an integer");
        assert!(r.get::<u64>(4).is_err(), "a negative count is unreadable");
        assert!(r.get::<String>(0).is_err());
        assert!(r.get::<i64>(9).is_err(), "a missing column is an error");
    }

    #[test]
    fn args_convert_from_the_types_repositories_hold() {
        let name = String::from("n");
        let none: Option<&str> = None;
        let a: &[Arg<'_>] = args![1i64, TenantId(2), &name, "s", true, none, Some(3i64)];
        assert!(matches!(
            a,
            [Arg::Int(1), Arg::Int(2), Arg::Text("n"), Arg::Text("s"), Arg::Bool(true), Arg::Null, Arg::Int(3)]
        ));
    }
}
