//! Who is calling the `/v1/admin/*` endpoints, and what they may do: the admin token (the bootstrap, an
//! admin until the first admin operator exists) or an operator's session, and the `Permission` each
//! endpoint needs (`permission_for`, one table), all checked by the gate before a byte of the body is
//! read. Handlers then check that an operator limited to a tenant acts on that tenant only.
use super::ops::{bearer, constant_time_eq};
use super::*;
use crate::operators::{self, Permission, Role};

/// The caller, as the gate found it.
#[derive(Debug, Clone)]
pub(super) enum Who {
    /// The admin token, while no admin operator exists.
    Token,
    Account {
        username: String,
        role: Role,
        tenant: Option<TenantId>,
    },
}

/// The operator calling, and the address it calls from (for the audit trail).
pub(super) struct Operator {
    pub(super) ip: String,
    pub(super) who: Who,
}

pub(super) fn refused(message: &'static str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, message)
}

/// The admin token or an operator's session; anything else is refused.
async fn identify(s: &AppState, headers: &HeaderMap) -> ApiResult<Who> {
    let token = bearer(headers).to_string();
    if !token.is_empty() && constant_time_eq(token.as_bytes(), s.hub.admin_token.as_bytes()) {
        if s.hub.store.read(operators::admins_exist).await? {
            return Err(refused(
                "the admin token only makes the first admin operator, and there is one: sign in as an operator",
            ));
        }
        return Ok(Who::Token);
    }
    if token.starts_with("op_") {
        return of_session(s, token).await;
    }
    Err(refused("admin token or operator session required"))
}

/// The operator whose session `token` is; refused once it has ended.
pub(super) async fn of_session(s: &AppState, token: String) -> ApiResult<Who> {
    match s.hub.store.read(move |c| operators::of_session(c, &token)).await? {
        Some(o) => Ok(Who::Account { role: Role::parse(&o.role)?, username: o.username, tenant: o.tenant }),
        None => Err(refused("this operator session has ended: sign in again")),
    }
}

/// What each operator endpoint needs. A path not listed needs an admin (and then finds no endpoint).
fn permission_for(path: &str) -> Permission {
    use Permission::*;
    match path.strip_prefix("/v1/admin/").unwrap_or("") {
        "tenants" | "attachment-limits" | "invites" | "kyc-limits" => ManageTenants,
        "password" | "two-factor/reset" | "users/active" | "users/kyc" => ManageUsers,
        "deposit"
        | "withdraw"
        | "deposits"
        | "withdrawals/decide"
        | "deposit-instructions"
        | "adjustments"
        | "compliance-rules"
        | "reviews/decide"
        | "users/limits" => MoveMoney,
        "broadcast" => Broadcast,
        "users" | "tokens" | "rooms" | "publish" => Provision,
        "audit" => ReadAudit,
        "invariants" | "withdrawals" | "reviews" | "users/search" | "users/detail" => ReadLedger,
        _ => ManageOperators,
    }
}

/// Refused (403) unless the caller's role allows `p` (the admin token acts as an admin).
pub(super) fn allowed(who: &Who, p: Permission) -> ApiResult<()> {
    match who {
        Who::Token => Ok(()),
        Who::Account { role, .. } if role.may(p) => Ok(()),
        Who::Account { role, .. } => {
            Err(HubError::forbidden(format!("a {} operator may not do this", role.as_str())).into())
        }
    }
}

/// Refused (403) when `who` is limited to a tenant other than `tenant`.
pub(super) fn check_tenant(who: &Who, tenant: TenantId) -> crate::error::HubResult<()> {
    match who {
        Who::Account { tenant: Some(own), .. } if *own != tenant => {
            Err(HubError::forbidden("this operator works for another tenant"))
        }
        _ => Ok(()),
    }
}

/// Every admin route: the caller first, before the body is read or parsed. A refused request's body is
/// never read; the connection is closed after the answer.
pub(super) async fn gate(
    State(s): State<AppState>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let checked = match identify(&s, req.headers()).await {
        Ok(who) => allowed(&who, permission_for(req.uri().path())).map(|()| who),
        Err(e) => Err(e),
    };
    match checked {
        Ok(who) => {
            req.extensions_mut().insert(who);
            next.run(req).await
        }
        Err(e) => {
            metrics::counter!(crate::series::ADMIN_REFUSED).increment(1);
            let mut r = e.into_response();
            r.headers_mut().insert("connection", axum::http::HeaderValue::from_static("close"));
            r
        }
    }
}

impl axum::extract::FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, s: &AppState) -> Result<Self, ApiError> {
        let who = parts.extensions.get::<Who>().cloned().ok_or_else(|| HubError::internal("no operator gate"))?;
        let peer = parts
            .extensions
            .get::<ConnectInfo<Peer>>()
            .map(|c| c.0)
            .ok_or_else(|| HubError::internal("no peer address on the request"))?;
        Ok(Operator { ip: client_addr(s, &peer, &parts.headers).to_string(), who })
    }
}

impl Operator {
    /// Refused (403) when the caller is limited to another tenant.
    pub(super) fn check_tenant(&self, tenant: TenantId) -> crate::error::HubResult<()> {
        check_tenant(&self.who, tenant)
    }

    /// The named tenant (default `default`), if the caller may act on it.
    pub(super) async fn tenant(&self, s: &AppState, name: Option<String>) -> ApiResult<TenantId> {
        let t = tenant_or_404(s, name).await?;
        self.check_tenant(t)?;
        Ok(t)
    }

    /// The tenant the caller is limited to, if any.
    pub(super) fn own_tenant(&self) -> Option<TenantId> {
        match &self.who {
            Who::Account { tenant, .. } => *tenant,
            Who::Token => None,
        }
    }

    /// How the audit trail names the caller.
    pub(super) fn label(&self) -> String {
        match &self.who {
            Who::Token => "operator".into(),
            Who::Account { username, .. } => format!("operator:{username}"),
        }
    }
}
