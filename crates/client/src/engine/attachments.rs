//! Files and pictures in conversations: sending one (checked on this device first, queued like a
//! message, uploaded by the file worker), showing thumbnails and pictures, saving files, and the
//! offline cache of them.
use super::*;
use crate::api_files::Fetch;
use crate::store::Variant;
use base64::Engine as _;
use tally_protocol::attachment::{sniff, SniffError, DEFAULT_MAX_ATTACHMENT_BYTES};

fn refused(code: ErrorCode, message: String) -> Error {
    Error::Hub { code, message }
}

/// "25 MiB", "1.5 MiB": a file limit as the hub's messages say it.
fn mib(bytes: u64) -> String {
    let tenths = bytes.saturating_mul(10) / (1024 * 1024);
    if tenths.is_multiple_of(10) {
        format!("{} MiB", tenths / 10)
    } else {
        format!("{}.{} MiB", tenths / 10, tenths % 10)
    }
}

fn data_url(mime: &str, bytes: &[u8]) -> String {
    format!("data:{mime};base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

impl Engine {
    /// Queues `bytes` (a file named `name`) to be sent in `room` with an optional caption. The type is
    /// read from the content and checked against the allow-list, and the size against the limit, before
    /// anything is queued: a refused file never leaves this device.
    pub fn send_file(&self, room: RoomId, name: &str, bytes: Vec<u8>, caption: &str) -> Result<MessageView, Error> {
        if caption.len() > MAX_MESSAGE_BYTES {
            return Err(Error::InvalidInput("the caption must be at most 8 KiB".into()));
        }
        let kind = sniff(&bytes).map_err(|e| match e {
            SniffError::Empty => Error::InvalidInput("the file is empty".into()),
            other => refused(ErrorCode::UnsupportedType, other.to_string()),
        })?;
        let store = self.store()?;
        // The tenant's limit as the hub last announced it; before any connection (never, once signed in),
        // the hub's default. The upload's `too_large` stays the hub's last word.
        let max = store.limits()?.map_or(DEFAULT_MAX_ATTACHMENT_BYTES, |l| l.attachment_max_bytes);
        if bytes.len() as u64 > max {
            return Err(refused(ErrorCode::TooLarge, format!("files can be at most {} here", mib(max))));
        }
        let me = self.with(|a| Ok(a.shared.user.clone()))?;
        let cmid = random_id("f-");
        let attachment = Attachment::of(String::new(), name, bytes.len() as u64, kind);
        let name = attachment.name.clone();
        let echo = Message { attachment: Some(attachment), ..local_echo(room, &cmid, me, caption) };
        let action = OutboxAction::Attachment {
            room,
            client_msg_id: cmid,
            caption: caption.to_string(),
            name: name.clone(),
            mime: kind.mime.to_string(),
            size: bytes.len() as u64,
            uploaded: None,
        };
        let id = self.enqueue(&store, &action, None, &name, Echo::File(&echo, &bytes))?;
        self.changed(vec![Change::Messages { room }, Change::Rooms]);
        self.with(|a| {
            a.shared.files.wake.notify_one();
            Ok(())
        })?;
        Ok(MessageView { message: echo, local: LocalState::Pending, outbox_id: Some(id), read_by: vec![], card: None })
    }

    /// A picture's thumbnail as a `data:` URL: from the cache, else fetched (and kept).
    pub async fn attachment_thumbnail(&self, room: RoomId, id: &str) -> Result<String, Error> {
        let store = self.store()?;
        if let Some(b) = store.kept_file(id, Variant::Thumb)? {
            return Ok(data_url("image/jpeg", &b));
        }
        let shared = self.with(|a| Ok(a.shared.clone()))?;
        let token = shared.access_token(false).await?;
        let bytes = shared.api.download(&token, room, id, Fetch::Thumbnail, |_, _| {}).await?;
        store.keep_file(room, id, Variant::Thumb, &bytes, sync::files::cache_cap(&shared))?;
        Ok(data_url("image/jpeg", &bytes))
    }

    /// A picture, whole, as a `data:` URL (for the viewer). Files that are not pictures are saved instead.
    pub async fn open_picture(&self, room: RoomId, id: &str) -> Result<String, Error> {
        let bytes = self.attachment_bytes(room, id).await?;
        match sniff(&bytes) {
            Ok(t) if t.kind == AttachmentKind::Image => Ok(data_url(t.mime, &bytes)),
            _ => Err(Error::InvalidInput("this file is not a picture: save it instead".into())),
        }
    }

    /// Writes a file of `room` to `path` (chosen by the user in the system's save dialog).
    pub async fn save_attachment(&self, room: RoomId, id: &str, path: &std::path::Path) -> Result<(), Error> {
        let bytes = self.attachment_bytes(room, id).await?;
        let path = path.to_path_buf();
        tokio::task::spawn_blocking(move || std::fs::write(&path, bytes))
            .await
            .map_err(|e| Error::Storage(e.to_string()))?
            .map_err(|e| Error::Storage(format!("could not write the file: {e}")))
    }

    /// The file's bytes: kept ones at once (offline too), else downloaded with `download` events and
    /// kept. `cancel_download` stops it.
    pub async fn attachment_bytes(&self, room: RoomId, id: &str) -> Result<Vec<u8>, Error> {
        let store = self.store()?;
        if let Some(b) = store.kept_file(id, Variant::File)? {
            return Ok(b);
        }
        let shared = self.with(|a| Ok(a.shared.clone()))?;
        let token = shared.access_token(false).await?;
        let (events, api, key) = (self.events.clone(), shared.api.clone(), id.to_string());
        let task = tokio::spawn(async move {
            let step = sync::files::Progress::default();
            api.download(&token, room, &key, Fetch::File, |received, total| {
                if step.due(received, total) {
                    let _ = events.send(AppEvent::Download { id: key.clone(), received, total });
                }
            })
            .await
        });
        shared.files.downloading(id, task.abort_handle());
        let result = task.await;
        shared.files.downloaded(id);
        let bytes = result.map_err(|_| Error::Cancelled)??;
        store.keep_file(room, id, Variant::File, &bytes, sync::files::cache_cap(&shared))?;
        Ok(bytes)
    }

    /// Stops a download in progress (its command answers `cancelled`).
    pub fn cancel_download(&self, id: &str) -> Result<(), Error> {
        self.with(|a| {
            a.shared.files.cancel_download(id);
            Ok(())
        })
    }

    pub fn file_cache(&self) -> Result<FileCache, Error> {
        let store = self.store()?;
        Ok(FileCache { used_bytes: store.files_size()?, cap_mb: store.prefs()?.file_cache_mb })
    }

    /// Forgets every file and thumbnail kept for offline use (they are fetched again when shown).
    pub fn clear_file_cache(&self) -> Result<(), Error> {
        self.store()?.trim_files(0)?;
        self.changed(vec![Change::Rooms]);
        Ok(())
    }
}
