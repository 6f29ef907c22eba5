//! The audit trail: `audit_log` (append-only entries) and `audit_head` (the last seq and hash, one row).
use crate::error::HubResult;
use crate::ids::TenantId;
use crate::store::repo::{AuditRepo, AuditRow};
use crate::store::sql::{args, pos, Db, Dialect, Row};

fn row(r: &Row) -> HubResult<AuditRow> {
    let seq: i64 = r.get(0)?;
    let tenant: Option<i64> = r.get(2)?;
    Ok(AuditRow {
        seq: seq as u64,
        at: r.get(1)?,
        tenant: tenant.map(TenantId),
        actor: r.get(3)?,
        action: r.get(4)?,
        subject: r.get(5)?,
        detail: r.get(6)?,
        ip: r.get(7)?,
        prev_hash: r.get(8)?,
        hash: r.get(9)?,
    })
}

impl<D: Db> AuditRepo for D {
    fn audit_head(&mut self) -> HubResult<(u64, String)> {
        let sql = match (self.dialect(), self.writing()) {
            (Dialect::Postgres, true) => "SELECT seq, hash FROM audit_head WHERE one = 1 FOR UPDATE",
            _ => "SELECT seq, hash FROM audit_head WHERE one = 1",
        };
        let r = self.one(sql, &[])?;
        let seq: i64 = r.get(0)?;
        Ok((seq as u64, r.get(1)?))
    }

    fn append_audit(&mut self, e: &AuditRow) -> HubResult<()> {
        let tenant = e.tenant.map(|t| t.0);
        self.exec(
            "INSERT INTO audit_log (seq, at, tenant_id, actor, action, subject, detail, ip, prev_hash, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            args![pos(e.seq), e.at, tenant, &e.actor, &e.action, &e.subject, &e.detail, &e.ip, &e.prev_hash, &e.hash],
        )?;
        self.exec("UPDATE audit_head SET seq = $1, hash = $2 WHERE one = 1", args![pos(e.seq), &e.hash])?;
        Ok(())
    }

    fn audit_page(&mut self, tenant: Option<TenantId>, after: u64, limit: u32) -> HubResult<Vec<AuditRow>> {
        const COLS: &str = "seq, at, tenant_id, actor, action, subject, detail, ip, prev_hash, hash";
        let rows = match tenant {
            Some(t) => self.rows(
                &format!("SELECT {COLS} FROM audit_log WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"),
                args![t, pos(after), i64::from(limit)],
            )?,
            None => self.rows(
                &format!("SELECT {COLS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2"),
                args![pos(after), i64::from(limit)],
            )?,
        };
        rows.iter().map(row).collect()
    }
}
