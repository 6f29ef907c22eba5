//! Operator accounts: `operators` and `operator_sessions` (hashes of opaque session tokens).
use crate::error::{HubError, HubResult};
use crate::ids::TenantId;
use crate::store::repo::{OperatorRepo, OperatorRow};
use crate::store::sql::{args, Db, Row};
use tally_protocol::{ErrorCode, Millis};

const COLS: &str = "o.id, o.username, o.tenant_id, o.role, o.password_hash, o.totp_secret, o.totp_step";

fn row(r: &Row) -> HubResult<OperatorRow> {
    let tenant: Option<i64> = r.get(2)?;
    Ok(OperatorRow {
        id: r.get(0)?,
        username: r.get(1)?,
        tenant: tenant.map(TenantId),
        role: r.get(3)?,
        password_hash: r.get(4)?,
        totp_secret: r.get(5)?,
        totp_step: r.get(6)?,
    })
}

impl<D: Db> OperatorRepo for D {
    fn insert_operator(&mut self, o: &OperatorRow, at: Millis) -> HubResult<i64> {
        let tenant = o.tenant.map(|t| t.0);
        let id = self.opt(
            "INSERT INTO operators (username, tenant_id, role, password_hash, totp_secret, totp_step, created_at)
             VALUES ($1, $2, $3, $4, $5, 0, $6) ON CONFLICT (username) DO NOTHING RETURNING id",
            args![&o.username, tenant, &o.role, &o.password_hash, &o.totp_secret, at],
        )?;
        let id = id.ok_or_else(|| HubError::new(ErrorCode::Conflict, "an operator has that name already"))?;
        id.get(0)
    }

    fn operator_by_name(&mut self, username: &str) -> HubResult<Option<OperatorRow>> {
        let r = self.opt(&format!("SELECT {COLS} FROM operators o WHERE o.username = $1"), args![username])?;
        r.as_ref().map(row).transpose()
    }

    fn operators_with_role(&mut self, role: &str) -> HubResult<u64> {
        let n: i64 = self.value("SELECT CAST(COUNT(*) AS BIGINT) FROM operators WHERE role = $1", args![role])?;
        Ok(n as u64)
    }

    fn advance_operator_step(&mut self, id: i64, step: i64) -> HubResult<bool> {
        let n = self.exec("UPDATE operators SET totp_step = $2 WHERE id = $1 AND totp_step < $2", args![id, step])?;
        Ok(n == 1)
    }

    fn insert_operator_session(
        &mut self,
        token_hash: &str,
        operator: i64,
        at: Millis,
        expires: Millis,
    ) -> HubResult<()> {
        self.exec(
            "INSERT INTO operator_sessions (token_hash, operator_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
            args![token_hash, operator, at, expires],
        )?;
        Ok(())
    }

    fn operator_of_session(&mut self, token_hash: &str, now: Millis) -> HubResult<Option<OperatorRow>> {
        let r = self.opt(
            &format!(
                "SELECT {COLS} FROM operator_sessions s JOIN operators o ON o.id = s.operator_id
                 WHERE s.token_hash = $1 AND s.expires_at > $2"
            ),
            args![token_hash, now],
        )?;
        r.as_ref().map(row).transpose()
    }
}
