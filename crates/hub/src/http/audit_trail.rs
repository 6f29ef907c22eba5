//! `GET /v1/admin/audit`: the audit trail, a page at a time as JSON or whole as CSV (an admin or auditor operator; the admin token while no admin exists).
use super::operator_auth::Operator;
use super::*;
use crate::store::repo::AuditRow;
use axum::extract::Query;
use tally_protocol::http::{AuditEntry, AuditPage};

/// Most entries in one JSON page; a CSV export reads every entry (a page at a time) up to `CSV_MAX`.
const PAGE_MAX: u32 = 1_000;
const CSV_MAX: usize = 1_000_000;

#[derive(Debug, Deserialize)]
pub(super) struct AuditQuery {
    /// Entries after this seq (0: from the start).
    #[serde(default)]
    after: u64,
    limit: Option<u32>,
    /// Only this tenant's entries (by name).
    tenant: Option<String>,
    /// `csv` for a CSV download of every entry after `after`.
    format: Option<String>,
}

fn entry(r: AuditRow) -> AuditEntry {
    AuditEntry {
        seq: r.seq,
        at: r.at,
        tenant: r.tenant.map(|t| t.0),
        actor: r.actor,
        action: r.action,
        subject: r.subject,
        detail: r.detail,
        ip: r.ip,
        prev_hash: r.prev_hash,
        hash: r.hash,
    }
}

pub(super) async fn audit(State(s): State<AppState>, op: Operator, Query(q): Query<AuditQuery>) -> ApiResult<Response> {
    // An operator limited to a tenant reads that tenant's entries only.
    let tenant = match q.tenant {
        Some(name) => Some(op.tenant(&s, Some(name)).await?),
        None => op.own_tenant(),
    };
    match q.format.as_deref() {
        None | Some("json") => {
            let limit = page_limit(q.limit, PAGE_MAX)?;
            let rows = s.hub.store.read(move |c| c.audit_page(tenant, q.after, limit)).await?;
            let next_after = next_after(&rows, limit, |r| r.seq);
            Ok(Json(AuditPage { entries: rows.into_iter().map(entry).collect(), next_after }).into_response())
        }
        Some("csv") => {
            let rows = s.hub.store.read(move |c| every(c, tenant, q.after)).await?;
            let body = audit::to_csv(&rows)?;
            let headers = [
                ("content-type", "text/csv; charset=utf-8"),
                ("content-disposition", "attachment; filename=\"tally-audit.csv\""),
            ];
            Ok((headers, body).into_response())
        }
        Some(_) => Err(HubError::invalid("format must be json or csv").into()),
    }
}

/// Every entry after `after` (at most `CSV_MAX`: past it, export in parts with `after`).
fn every(
    c: &mut dyn crate::store::Tx,
    tenant: Option<TenantId>,
    mut after: u64,
) -> crate::error::HubResult<Vec<AuditRow>> {
    let mut out = Vec::new();
    loop {
        let page = c.audit_page(tenant, after, PAGE_MAX)?;
        let Some(last) = page.last().map(|r| r.seq) else { return Ok(out) };
        out.extend(page);
        if out.len() >= CSV_MAX {
            return Err(HubError::invalid(format!("more than {CSV_MAX} entries: export in parts, with after")));
        }
        after = last;
    }
}
