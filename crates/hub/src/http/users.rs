//! Looking users up, for support and finance: search by name (`GET /v1/admin/users/search`) and one
//! user's page (`GET /v1/admin/users/detail`): profile, identity check and limits, balances, the newest
//! history and notifications, and signed-in devices. A search and a page are personal data read by an
//! operator: each is written to the audit trail in the same transaction that reads it.
use super::operator_auth::Operator;
use super::*;
use axum::extract::Query;
use tally_protocol::http::{UserDetail, UserSearch};

const SEARCH_MAX: u32 = 20;
const RECENT: u32 = 20;

#[derive(Debug, Deserialize)]
pub(super) struct SearchQuery {
    q: String,
    tenant: Option<String>,
}

pub(super) async fn search(
    State(s): State<AppState>,
    op: Operator,
    Query(q): Query<SearchQuery>,
) -> ApiResult<Json<UserSearch>> {
    let text = q.q.trim().to_string();
    if text.is_empty() || text.len() > 64 {
        return Err(HubError::invalid("search for 1-64 characters of a name").into());
    }
    let tenant = op.tenant(&s, q.tenant).await?;
    let users = s
        .hub
        .store
        .write(move |c, _| {
            let users = c.search_users(tenant, &text, SEARCH_MAX)?;
            let detail = format!("{:?}: {} found", text, users.len());
            audit::by_operator(c, &op.label(), Some(tenant), Action::UsersSearched, "users", &detail, &op.ip)?;
            Ok(users)
        })
        .await?;
    Ok(Json(UserSearch { users }))
}

#[derive(Debug, Deserialize)]
pub(super) struct DetailQuery {
    username: String,
    tenant: Option<String>,
}

pub(super) async fn detail(
    State(s): State<AppState>,
    op: Operator,
    Query(q): Query<DetailQuery>,
) -> ApiResult<Json<UserDetail>> {
    let tenant = op.tenant(&s, q.tenant).await?;
    let d = s
        .hub
        .store
        .write(move |c, _| {
            let (user, _, active) =
                crate::directory::user_by_name(c, tenant, &q.username)?.ok_or_else(|| HubError::not_found("user"))?;
            let ((single, daily), kyc_level) =
                c.limits_and_level(tenant, user.id)?.ok_or_else(|| HubError::not_found("user"))?;
            let balances = ledger::balances(c, user.id)?;
            let (transactions, _) = ledger::transactions_page(c, tenant, user.id, None, RECENT)?;
            let (notifications, _, _) = crate::notify::page(c, tenant, user.id, None, RECENT)?;
            let devices = crate::account::sessions::list(c, tenant, user.id)?
                .into_iter()
                .map(|r| super::account::device_session(r, false))
                .collect();
            let subject = format!("user:{}", user.id);
            audit::by_operator(
                c,
                &op.label(),
                Some(tenant),
                Action::UserViewed,
                &subject,
                "opened the user's page",
                &op.ip,
            )?;
            Ok(UserDetail {
                user,
                active,
                kyc_level,
                transfer_single_max: single,
                transfer_daily_max: daily,
                balances,
                transactions,
                devices,
                notifications,
            })
        })
        .await?;
    Ok(Json(d))
}
