//! Attachments: what a message says about a file it carries, and which files may be sent. A file's type
//! is read from its first bytes (`infer`), never from its name, and checked against one allow-list that the
//! hub and the app share: an HTML page renamed `receipt.png` is HTML, and refused.
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The largest attachment a tenant accepts unless its operator set another limit: 25 MiB.
pub const DEFAULT_MAX_ATTACHMENT_BYTES: u64 = 25 * 1024 * 1024;
/// How much of a file [`sniff`] reads (an Office document names its parts within its first entries).
pub const SNIFF_BYTES: usize = 64 * 1024;
/// Longest file name kept, in characters.
pub const MAX_ATTACHMENT_NAME_CHARS: usize = 120;

/// A file in a message. Its bytes are served only to the room's members, at
/// `GET /v1/rooms/{room}/attachments/{id}` (and `…/{id}/thumbnail` for an image).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Attachment {
    /// The SHA-256 of the stored bytes, in hex: the blob's address.
    pub id: String,
    /// The sender's file name, cleaned (no path, no hidden characters).
    pub name: String,
    #[ts(type = "number")]
    pub size: u64,
    /// The type read from the content (one of the allow-list).
    pub mime: String,
    pub kind: AttachmentKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub height: Option<u32>,
    /// A tiny blurred stand-in (`data:image/png;base64,…`, at most 24 px a side) shown until the
    /// thumbnail is there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub preview: Option<String>,
    /// Whether the hub made a thumbnail (images only).
    #[serde(default)]
    pub thumbnail: bool,
}

impl Attachment {
    /// A file of type `kind` as received, before any picture work (no dimensions, preview or
    /// thumbnail yet); its name cleaned.
    pub fn of(id: String, name: &str, size: u64, kind: FileType) -> Attachment {
        Attachment {
            id,
            name: clean_name(name),
            size,
            mime: kind.mime.to_string(),
            kind: kind.kind,
            width: None,
            height: None,
            preview: None,
            thumbnail: false,
        }
    }
}

/// Shown in the conversation as a picture, or as a file to open or save.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentKind {
    Image,
    File,
}

/// A type on the allow-list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileType {
    pub mime: &'static str,
    pub kind: AttachmentKind,
}

/// Why a file cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SniffError {
    #[error("the file is empty")]
    Empty,
    #[error("this kind of file cannot be sent ({0}); send pictures, PDFs, office documents or plain text")]
    NotAllowed(String),
}

/// Images shown inline (never SVG: it can carry script).
const IMAGES: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];
/// Documents offered as downloads.
const DOCUMENTS: [&str; 10] = [
    "application/pdf",
    "application/rtf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
    "application/msword",
    "application/vnd.ms-excel",
];

/// The type of a file from its first bytes (at most [`SNIFF_BYTES`] are looked at), or why it is refused.
/// Text with no recognised signature is `text/plain` when it is UTF-8 without NULs and does not open with
/// markup (`<`): HTML, SVG and XML are refused however they are named.
pub fn sniff(head: &[u8]) -> Result<FileType, SniffError> {
    let head = &head[..head.len().min(SNIFF_BYTES)];
    if head.is_empty() {
        return Err(SniffError::Empty);
    }
    if let Some(t) = infer::get(head) {
        let mime = t.mime_type();
        if let Some(m) = IMAGES.iter().find(|m| **m == mime) {
            return Ok(FileType { mime: m, kind: AttachmentKind::Image });
        }
        if let Some(m) = DOCUMENTS.iter().find(|m| **m == mime) {
            return Ok(FileType { mime: m, kind: AttachmentKind::File });
        }
        return Err(SniffError::NotAllowed(mime.to_string()));
    }
    if is_plain_text(head) {
        return Ok(FileType { mime: "text/plain", kind: AttachmentKind::File });
    }
    Err(SniffError::NotAllowed("unknown type".into()))
}

fn is_plain_text(head: &[u8]) -> bool {
    let valid = match std::str::from_utf8(head) {
        Ok(s) => s,
        // A multi-byte character cut by the sniff window is still text.
        Err(e) if e.error_len().is_none() && head.len() == SNIFF_BYTES => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    let opening = valid.trim_start_matches(['\u{FEFF}', ' ', '\t', '\r', '\n']);
    !valid.contains('\0') && !opening.starts_with('<')
}

/// A file name as it is kept and shown: its last path segment, hidden characters removed, at most
/// [`MAX_ATTACHMENT_NAME_CHARS`]; `file` when nothing is left.
pub fn clean_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned = crate::text::one_line(last, MAX_ATTACHMENT_NAME_CHARS);
    let cleaned = cleaned.trim_start_matches('.').trim();
    if cleaned.is_empty() {
        "file".into()
    } else {
        cleaned.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn types_come_from_the_content_not_the_name() {
        assert_eq!(sniff(PNG).unwrap().mime, "image/png");
        assert_eq!(sniff(b"%PDF-1.7\n").unwrap().kind, AttachmentKind::File);
        assert_eq!(sniff(b"Total,12.50\nTip,2\n").unwrap().mime, "text/plain");
        for refused in [
            &b"<!doctype html><script>alert(1)</script>"[..],
            b"  <svg xmlns='http://www.w3.org/2000/svg'/>",
            b"\xEF\xBB\xBF<html>",
            b"MZ\x90\0\x03\0\0\0",
            b"PK\x03\x04\x14\0\0\0\0\0",
            b"hello\0world",
        ] {
            assert!(matches!(sniff(refused), Err(SniffError::NotAllowed(_))), "{refused:?}");
        }
        assert_eq!(sniff(b""), Err(SniffError::Empty));
    }

    #[test]
    fn names_lose_their_path_and_hidden_characters() {
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("C:\\Users\\eve\\bill.pdf"), "bill.pdf");
        assert_eq!(clean_name("inv\u{202E}fdp.exe"), "invfdp.exe");
        assert_eq!(clean_name(".."), "file");
        assert_eq!(clean_name(".bashrc"), "bashrc");
        assert!(clean_name(&"a".repeat(500)).chars().count() <= MAX_ATTACHMENT_NAME_CHARS);
    }
}
