//! The file worker, beside the socket task: uploads files queued to be sent (one at a time, in the order
//! they were queued, only while the hub is reachable) and fetches every picture's thumbnail for offline
//! use. An interrupted upload starts again from its first byte: the hub keeps files by content, so a
//! second upload of the same bytes stores nothing twice, and the message that names the file goes out
//! once (its `client_msg_id`). Cancelling aborts the upload in flight.
use super::*;
use crate::api_files::Fetch;
use crate::store::Variant;
use tokio::sync::Notify;
use tokio::task::AbortHandle;

/// How long the worker sleeps when nobody wakes it (it looks for work again then).
const IDLE: Duration = Duration::from_secs(5);
/// Thumbnails fetched per round.
const THUMBS_PER_ROUND: u32 = 20;

/// What the engine and the worker share.
#[derive(Default)]
pub struct FileWork {
    pub wake: Notify,
    /// The upload in flight: its outbox item, and how to stop it.
    pub uploading: Mutex<Option<(i64, AbortHandle)>>,
    /// Downloads in flight, by attachment id.
    pub downloads: Mutex<HashMap<String, AbortHandle>>,
}

impl FileWork {
    pub fn downloading(&self, id: &str, h: AbortHandle) {
        self.downloads.lock().unwrap_or_else(|e| e.into_inner()).insert(id.to_string(), h);
    }
    pub fn downloaded(&self, id: &str) {
        self.downloads.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
    }
    pub fn cancel_download(&self, id: &str) {
        if let Some(h) = self.downloads.lock().unwrap_or_else(|e| e.into_inner()).remove(id) {
            h.abort();
        }
    }

    /// Stops the upload of `item` if it is the one in flight.
    pub fn cancel(&self, item: i64) {
        let mut u = self.uploading.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((id, h)) = u.as_ref() {
            if *id == item {
                h.abort();
                *u = None;
            }
        }
    }
}

/// Runs until the socket task is gone (sign-out).
pub async fn run(sh: Arc<Shared>, cmds: mpsc::UnboundedSender<Cmd>) {
    loop {
        tokio::select! {
            _ = sh.files.wake.notified() => {}
            _ = tokio::time::sleep(IDLE) => {}
            _ = cmds.closed() => return,
        }
        if !matches!(*sh.state.borrow(), ConnState::Live { .. }) {
            continue;
        }
        while let Some(row) = next_upload(&sh) {
            if !upload(&sh, &row).await {
                break;
            }
            let _ = cmds.send(Cmd::Kick);
        }
        fetch_thumbs(&sh).await;
    }
}

/// The oldest file waiting to be uploaded.
fn next_upload(sh: &Shared) -> Option<OutboxRow> {
    let rows = sh.store.outbox_rows().ok()?;
    rows.into_iter().find(|r| {
        r.state == OutboxState::Pending && matches!(r.action, Ok(OutboxAction::Attachment { uploaded: None, .. }))
    })
}

/// Uploads one queued file; `false` when the worker should wait (offline, or it was cancelled).
async fn upload(sh: &Arc<Shared>, row: &OutboxRow) -> bool {
    let Ok(OutboxAction::Attachment { room, name, .. }) = row.action.clone() else { return false };
    let item = row.id;
    let bytes = match sh.store.upload_bytes(item) {
        Ok(Some(b)) => b,
        Ok(None) | Err(_) => {
            let _ = sh.fail_item(item, LocalErrorCode::Storage.into(), "the file to send is no longer on this device");
            return true;
        }
    };
    let token = match sh.access_token(false).await {
        Ok(t) => t,
        Err(_) => return false,
    };
    let events = sh.events.clone();
    let api = sh.api.clone();
    let task = tokio::spawn(async move {
        let step = Progress::default();
        api.upload(&token, room, &name, bytes, move |sent, total| {
            if step.due(sent, total) {
                let _ = events.send(AppEvent::Upload { item, sent, total });
            }
        })
        .await
    });
    *sh.files.uploading.lock().unwrap_or_else(|e| e.into_inner()) = Some((item, task.abort_handle()));
    let result = task.await;
    sh.files.uploading.lock().unwrap_or_else(|e| e.into_inner()).take();
    match result {
        Err(_) => false, // cancelled: the item was discarded
        Ok(Ok(att)) => {
            if let Err(e) = sh.store.outbox_uploaded(item, &att, cache_cap(sh)) {
                tracing::warn!(error = %e, "an uploaded file could not be recorded");
                return false;
            }
            true
        }
        Ok(Err(Error::Hub { code, message })) if !code.retryable() => {
            let _ = sh.fail_item(item, code.into(), &message);
            sh.changed(vec![Change::Messages { room }, Change::Rooms]);
            true
        }
        Ok(Err(e)) => {
            tracing::info!(error = %e, "upload interrupted; it starts again when the hub is reachable");
            false
        }
    }
}

/// Fetches the thumbnails still missing, a few per round.
async fn fetch_thumbs(sh: &Arc<Shared>) {
    let Ok(wanted) = sh.store.wanted_thumbs(THUMBS_PER_ROUND) else { return };
    if wanted.is_empty() {
        return;
    }
    let Ok(token) = sh.access_token(false).await else { return };
    let mut got = Vec::new();
    for (room, id) in wanted {
        match sh.api.download(&token, room, &id, Fetch::Thumbnail, |_, _| {}).await {
            Ok(bytes) => {
                if sh.store.keep_file(room, &id, Variant::Thumb, &bytes, cache_cap(sh)).is_ok() {
                    got.push(room);
                }
            }
            // Gone, or no longer this user's to see (they left the room): not asked again.
            Err(Error::Hub { code: ErrorCode::NotFound | ErrorCode::Forbidden, .. }) => {
                let _ = sh.store.unwant_thumb(room, &id);
            }
            Err(_) => return,
        }
    }
    got.dedup();
    sh.changed(got.into_iter().map(|room| Change::Messages { room }).collect());
}

/// The user's cap on files kept for offline use, in bytes.
pub fn cache_cap(sh: &Shared) -> u64 {
    sh.store.prefs().map(|p| p.file_cache_mb).unwrap_or(Prefs::default().file_cache_mb) as u64 * 1024 * 1024
}

/// Reports progress at most once per whole percent (and at the end).
#[derive(Default)]
pub struct Progress(std::sync::atomic::AtomicU64);

impl Progress {
    pub fn due(&self, done: u64, total: u64) -> bool {
        let pct = done.saturating_mul(100).checked_div(total).unwrap_or(100);
        self.0.fetch_max(pct + 1, std::sync::atomic::Ordering::Relaxed) < pct + 1
    }
}
