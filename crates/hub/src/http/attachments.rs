//! `POST /v1/rooms/{room}/attachments` (upload) and `GET /v1/rooms/{room}/attachments/{id}[/thumbnail]`
//! (download, with range requests). Both need a member of the room's access token; a non-member is
//! answered 403 before a byte of the body is read or of the file is sent. Pictures are shown inline,
//! everything else is a download (`Content-Disposition: attachment`); nothing is ever sniffed by the
//! browser or run (`nosniff`, a sandboxing CSP).
use super::account::Caller;
use super::*;
use crate::attachments::{self as files, BlobKey};
use axum::body::Body;
use axum::extract::{Path, Query};
use axum::http::{header, HeaderValue};
use tally_protocol::http::Uploaded;
use tally_protocol::{AttachmentKind, RoomId};

#[derive(Deserialize)]
pub(super) struct UploadQuery {
    #[serde(default)]
    name: String,
}

pub(super) async fn upload(
    State(s): State<AppState>,
    me: Caller,
    Path(room): Path<RoomId>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Uploaded>> {
    let (tenant, user) = (me.tenant, me.user);
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let defaults = s.hub.attachments.defaults;
    let checked = s.hub.store.read(move |c| files::may_upload(c, tenant, room, user, declared, defaults)).await;
    let limits = match checked {
        Ok(l) => l,
        Err(e) => {
            // Read a small refused body away so the client sees the answer, not a reset.
            super::errors::drain(body).await;
            return Err(e.into());
        }
    };
    let got = files::receive(&s.hub.attachments, body.into_data_stream(), limits.max_file, &q.name, user).await?;
    let (row, blobs) = (got.row.clone(), got.blobs());
    s.hub.store.write(move |c, _| files::record(c, tenant, room, &row, &blobs, defaults)).await?;
    for staged in std::iter::once(&got.main).chain(&got.thumb) {
        let key = BlobKey::new(tenant, &staged.id).ok_or_else(|| HubError::internal("blob id is not hex"))?;
        s.hub.attachments.blobs.put(&key, &staged.file).await.map_err(HubError::internal)?;
    }
    metrics::counter!(crate::series::ATTACHMENTS_UPLOADED).increment(1);
    metrics::counter!(crate::series::ATTACHMENT_BYTES_UPLOADED).increment(got.main.size);
    Ok(Json(Uploaded { attachment: got.row.attachment }))
}

pub(super) async fn download(
    State(s): State<AppState>,
    me: Caller,
    Path((room, id)): Path<(RoomId, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (tenant, user) = (me.tenant, me.user);
    let row = s.hub.store.read(move |c| files::readable(c, tenant, room, user, &id)).await?;
    let a = row.attachment;
    let disposition = if a.kind == AttachmentKind::Image { "inline" } else { "attachment" };
    serve(&s, tenant, &a.id, a.size, &a.mime, &format!("{disposition}; {}", file_name(&a.name)), &headers).await
}

pub(super) async fn thumbnail(
    State(s): State<AppState>,
    me: Caller,
    Path((room, id)): Path<(RoomId, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (tenant, user) = (me.tenant, me.user);
    let (thumb, size) = s
        .hub
        .store
        .read(move |c| {
            let row = files::readable(c, tenant, room, user, &id)?;
            let thumb = row.thumb.ok_or_else(|| HubError::not_found("thumbnail"))?;
            let size = files::blob_size(c, tenant, &thumb)?;
            Ok((thumb, size))
        })
        .await?;
    serve(&s, tenant, &thumb, size, "image/jpeg", "inline", &headers).await
}

/// `filename*=UTF-8''…` (RFC 6266): the cleaned name, percent-encoded, so no quote or byte can end the
/// header early.
fn file_name(name: &str) -> String {
    format!("filename*=UTF-8''{}", percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC))
}

/// The blob, whole or one range of it (`Range: bytes=…`; several ranges get the whole file).
async fn serve(
    s: &AppState,
    tenant: TenantId,
    id: &str,
    size: u64,
    mime: &str,
    disposition: &str,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let key = BlobKey::new(tenant, id).ok_or_else(|| HubError::not_found("attachment"))?;
    let range = match requested_range(headers, size) {
        Ok(r) => r,
        Err(()) => return Ok(unsatisfiable(size)),
    };
    let span = range.clone().unwrap_or(0..size);
    let stream = s.hub.attachments.blobs.read(&key, span.clone()).await.map_err(HubError::internal)?;
    let stream = stream.ok_or_else(|| HubError::internal("an attachment's bytes are missing from the blob store"))?;
    let mut r = Response::new(Body::from_stream(stream));
    let h = r.headers_mut();
    let value = |v: &str| HeaderValue::from_str(v).map_err(HubError::internal);
    h.insert(header::CONTENT_TYPE, value(mime)?);
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(span.end - span.start));
    h.insert(header::CONTENT_DISPOSITION, value(disposition)?);
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::ETAG, value(&format!("\"{id}\""))?);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=31536000, immutable"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    if range.is_some() {
        *r.status_mut() = StatusCode::PARTIAL_CONTENT;
        let cr = format!("bytes {}-{}/{size}", span.start, span.end - 1);
        r.headers_mut().insert(header::CONTENT_RANGE, value(&cr)?);
    }
    Ok(r)
}

/// The one range asked for (`None`: the whole file), or `Err` when it lies outside the file.
fn requested_range(headers: &HeaderMap, size: u64) -> Result<Option<std::ops::Range<u64>>, ()> {
    let Some(v) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else { return Ok(None) };
    let ranges = http_range_header::parse_range_header(v).map_err(|_| ())?.validate(size).map_err(|_| ())?;
    match ranges.as_slice() {
        [one] => Ok(Some(*one.start()..*one.end() + 1)),
        _ => Ok(None),
    }
}

fn unsatisfiable(size: u64) -> Response {
    let mut r = ApiError::new(StatusCode::RANGE_NOT_SATISFIABLE, ErrorCode::Invalid, "that range is not in the file")
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
        r.headers_mut().insert(header::CONTENT_RANGE, v);
    }
    r
}
