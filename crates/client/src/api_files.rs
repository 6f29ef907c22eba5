//! The hub's attachment endpoints: an upload that reports how much has gone out, and downloads that
//! report how much has come in. Both stop when the task running them is aborted (the user cancelled).
use crate::api::{describe, Api};
use crate::api_account::answer;
use crate::Error;
use futures_util::StreamExt;
use tally_protocol::http::Uploaded;
use tally_protocol::{Attachment, RoomId};

/// How much goes out per chunk (and between two progress reports at most).
const CHUNK: usize = 64 * 1024;

/// Which bytes of an attachment to fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetch {
    File,
    Thumbnail,
}

impl Api {
    /// Uploads `bytes` named `name` to `room`; `progress(sent, total)` follows the body out.
    pub async fn upload(
        &self,
        token: &str,
        room: RoomId,
        name: &str,
        bytes: Vec<u8>,
        progress: impl Fn(u64, u64) + Send + Sync + 'static,
    ) -> Result<Attachment, Error> {
        let total = bytes.len() as u64;
        let chunks: Vec<Vec<u8>> = bytes.chunks(CHUNK).map(<[u8]>::to_vec).collect();
        let mut sent = 0u64;
        let body = futures_util::stream::iter(chunks).map(move |c| {
            sent += c.len() as u64;
            progress(sent, total);
            Ok::<_, std::io::Error>(c)
        });
        let mut url = reqwest::Url::parse(&format!("{}/v1/rooms/{room}/attachments", self.base))
            .map_err(|e| Error::InvalidInput(e.to_string()))?;
        url.query_pairs_mut().append_pair("name", name);
        let req = self
            .http
            .post(url)
            .bearer_auth(token)
            .header(reqwest::header::CONTENT_LENGTH, total)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(reqwest::Body::wrap_stream(body));
        let r = req.send().await.map_err(|e| Error::Network(describe(&e)))?;
        Ok(answer::<Uploaded>(r).await?.attachment)
    }

    /// Downloads a file of `room` (or its thumbnail); `progress(received, total)` as it arrives.
    pub async fn download(
        &self,
        token: &str,
        room: RoomId,
        id: &str,
        what: Fetch,
        progress: impl Fn(u64, u64),
    ) -> Result<Vec<u8>, Error> {
        let tail = if what == Fetch::Thumbnail { "/thumbnail" } else { "" };
        let url = format!("{}/v1/rooms/{room}/attachments/{id}{tail}", self.base);
        let r = self.http.get(url).bearer_auth(token).send().await.map_err(|e| Error::Network(describe(&e)))?;
        if !r.status().is_success() {
            return Err(answer::<serde_json::Value>(r).await.err().unwrap_or(Error::Network("no file".into())));
        }
        let total = r.content_length().unwrap_or(0);
        let mut out = Vec::with_capacity(total.min(64 * 1024 * 1024) as usize);
        let mut stream = r.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| Error::Network(describe(&e)))?;
            out.extend_from_slice(&chunk);
            progress(out.len() as u64, total);
        }
        if total > 0 && out.len() as u64 != total {
            return Err(Error::Network("the download broke off".into()));
        }
        Ok(out)
    }
}
