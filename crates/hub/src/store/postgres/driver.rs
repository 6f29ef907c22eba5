//! The PostgreSQL side of the storage seam: the transaction handle over a client, a transaction or a
//! savepoint, with the connection's prepared statements; its parameters and rows; what its errors mean
//! to the hub (a lost conflict with another hub is retried by the writer).
use crate::error::{HubError, HubResult};
use crate::store::sql::{Arg, Db, Dialect, Heads, Row, Value};
use bytes::BytesMut;
use postgres::types::{IsNull, ToSql, Type};
use postgres::{GenericClient, Statement};
use std::collections::HashMap;

/// A connection's prepared statements by their SQL: a statement is parsed and planned once per
/// connection, and each use is one round trip instead of two (prepare, then execute). Prepared statements
/// belong to the session, so they outlive the transaction that prepared them (a rollback included).
#[derive(Default)]
pub struct Statements(HashMap<String, Statement>);

impl Statements {
    /// A new session has none of the old one's statements.
    pub fn clear(&mut self) {
        self.0.clear()
    }
}

/// More distinct statements than the hub's SQL has means they are being built per call: start over.
const STATEMENTS_MAX: usize = 1_024;

/// The PostgreSQL backend's transaction handle.
pub struct PgTx<'a, C: GenericClient> {
    c: &'a mut C,
    /// Inside a write: read channel heads and parties `FOR UPDATE`.
    writing: bool,
    /// The last error was a conflict with another writer (deadlock, serialization, unique race).
    pub(super) conflict: bool,
    /// The connection's statement cache (the writer's, or a pooled read connection's).
    statements: &'a mut Statements,
    /// Channel heads this transaction has locked (`FOR UPDATE`) and moved since.
    heads: Heads,
}

impl<'a, C: GenericClient> PgTx<'a, C> {
    pub fn new(c: &'a mut C, statements: &'a mut Statements, writing: bool) -> Self {
        PgTx { c, writing, conflict: false, statements, heads: Heads::new() }
    }

    /// The prepared statement for `sql` from the cache, preparing it on first use.
    fn statement(&mut self, sql: &str) -> HubResult<Statement> {
        if let Some(st) = self.statements.0.get(sql) {
            return Ok(st.clone());
        }
        if self.statements.0.len() >= STATEMENTS_MAX {
            self.statements.0.clear();
        }
        let st = self.c.prepare(sql).map_err(|e| self.fail(e))?;
        self.statements.0.insert(sql.to_string(), st.clone());
        Ok(st)
    }

    fn fail(&mut self, e: postgres::Error) -> HubError {
        let code = e.code().map(|c| c.code().to_string());
        match code.as_deref() {
            Some("40001" | "40P01" | "23505") => {
                self.conflict = true;
                HubError::storage_unavailable(from_pg(e).cause.unwrap_or_default())
            }
            Some("23514") => HubError::new(tally_protocol::ErrorCode::InsufficientFunds, "insufficient funds"),
            _ => from_pg(e),
        }
    }
}

fn params<'b>(args: &'b [Arg<'_>]) -> Vec<&'b (dyn ToSql + Sync)> {
    args.iter().map(|a| a as &(dyn ToSql + Sync)).collect()
}

impl<C: GenericClient> Db for PgTx<'_, C> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn writing(&self) -> bool {
        self.writing
    }

    fn exec(&mut self, sql: &str, args: &[Arg<'_>]) -> HubResult<u64> {
        let st = self.statement(sql)?;
        self.c.execute(&st, &params(args)).map_err(|e| self.fail(e))
    }

    fn rows(&mut self, sql: &str, args: &[Arg<'_>]) -> HubResult<Vec<Row>> {
        let st = self.statement(sql)?;
        let rows = self.c.query(&st, &params(args)).map_err(|e| self.fail(e))?;
        rows.iter().map(row).collect()
    }

    fn locked_heads(&mut self) -> Option<&mut Heads> {
        self.writing.then_some(&mut self.heads)
    }
}

fn row(r: &postgres::Row) -> HubResult<Row> {
    let mut values = Vec::with_capacity(r.len());
    for (i, c) in r.columns().iter().enumerate() {
        let v = match *c.type_() {
            Type::INT8 => r.try_get::<_, Option<i64>>(i).map(|v| v.map_or(Value::Null, Value::Int)),
            Type::INT4 => r.try_get::<_, Option<i32>>(i).map(|v| v.map_or(Value::Null, |v| Value::Int(v.into()))),
            Type::INT2 => r.try_get::<_, Option<i16>>(i).map(|v| v.map_or(Value::Null, |v| Value::Int(v.into()))),
            Type::BOOL => r.try_get::<_, Option<bool>>(i).map(|v| v.map_or(Value::Null, Value::Bool)),
            Type::TEXT | Type::VARCHAR | Type::NAME | Type::BPCHAR => {
                r.try_get::<_, Option<String>>(i).map(|v| v.map_or(Value::Null, Value::Text))
            }
            ref t => return Err(HubError::internal(format!("column {i} of type {t} (cast it to BIGINT or TEXT)"))),
        };
        values.push(v.map_err(HubError::internal)?);
    }
    Ok(Row(values))
}

type BoxError = Box<dyn std::error::Error + Sync + Send>;

/// Checks `ty` against what `T` binds, with the parameter's type in the error.
fn bind<T: ToSql>(v: T, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
    if !T::accepts(ty) {
        return Err(format!("a {} parameter cannot bind {ty}", std::any::type_name::<T>()).into());
    }
    v.to_sql(ty, out)
}

impl ToSql for Arg<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match *self {
            Arg::Int(i) => match *ty {
                Type::INT4 => bind(i32::try_from(i)?, ty, out),
                Type::INT2 => bind(i16::try_from(i)?, ty, out),
                _ => bind(i, ty, out),
            },
            Arg::Text(s) => bind(s, ty, out),
            Arg::Bool(b) => bind(b, ty, out),
            Arg::Null => Ok(IsNull::Yes),
            Arg::Ints(v) => bind(v, ty, out),
        }
    }

    /// Every variant checks its own type in `to_sql`.
    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// A PostgreSQL error as the hub's: the server gone, out of space or overloaded is the retryable
/// `unavailable`; anything else `internal`. The cause is kept either way.
pub(crate) fn from_pg(e: postgres::Error) -> HubError {
    let class = e.code().map(|c| c.code()[..2].to_string());
    // The server's own words (SQLSTATE and message; not the detail, which can quote row values).
    let cause = match e.as_db_error() {
        Some(d) => format!("postgres {}: {}", d.code().code(), d.message()),
        None => format!("postgres: {e}"),
    };
    if e.is_closed() || matches!(class.as_deref(), Some("08" | "53" | "57" | "40")) || e.code().is_none() {
        HubError::storage_unavailable(cause)
    } else {
        HubError::internal(cause)
    }
}
