use crate::{ClientFrame, ErrorCode, ReqId, ServerFrame, CLIENT_FRAME_TYPES};
use serde::Serialize;

/// Why a frame could not be decoded, with what is needed to answer it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct DecodeError {
    /// `bad_frame` or `unknown_type`.
    pub code: ErrorCode,
    /// The request id, when the frame had a readable numeric `id`.
    pub id: Option<ReqId>,
    pub message: String,
}

/// Decodes a client frame. Unknown fields are ignored; an unknown `type` is `unknown_type`; anything
/// else malformed is `bad_frame`. The message never echoes field values (they may hold secrets).
pub fn decode_client(text: &str) -> Result<ClientFrame, DecodeError> {
    match serde_json::from_str::<ClientFrame>(text) {
        Ok(f) => Ok(f),
        Err(e) => {
            let value: Option<serde_json::Value> = serde_json::from_str(text).ok();
            let id = value.as_ref().and_then(|v| v.get("id")).and_then(|v| v.as_u64());
            let ty = value.as_ref().and_then(|v| v.get("type")).and_then(|v| v.as_str());
            let (code, message) = match (value.as_ref(), ty) {
                (None, _) => {
                    (ErrorCode::BadFrame, format!("not valid JSON (line {}, column {})", e.line(), e.column()))
                }
                (Some(v), _) if !v.is_object() => (ErrorCode::BadFrame, "a frame must be a JSON object".to_string()),
                (Some(_), None) => (ErrorCode::BadFrame, "missing string field `type`".to_string()),
                (Some(_), Some(t)) if !CLIENT_FRAME_TYPES.contains(&t) => {
                    (ErrorCode::UnknownType, format!("unknown frame type {:?}", t.chars().take(40).collect::<String>()))
                }
                // A well-formed frame naming a currency ISO 4217 does not list: the value is wrong, not the shape.
                (Some(_), Some(t)) if e.to_string().contains("ISO 4217") => {
                    (ErrorCode::Invalid, format!("invalid `{t}` frame: {}", redact(&e)))
                }
                (Some(_), Some(t)) => (ErrorCode::BadFrame, format!("invalid `{t}` frame: {}", redact(&e))),
            };
            Err(DecodeError { code, id, message })
        }
    }
}

/// Decodes a hub frame (used by clients).
pub fn decode_server(text: &str) -> Result<ServerFrame, DecodeError> {
    serde_json::from_str::<ServerFrame>(text).map_err(|e| {
        let value: Option<serde_json::Value> = serde_json::from_str(text).ok();
        let ty = value.as_ref().and_then(|v| v.get("type")).and_then(|v| v.as_str()).map(str::to_owned);
        let code = match ty {
            Some(t) if !SERVER_FRAME_TYPES.contains(&t.as_str()) => ErrorCode::UnknownType,
            _ => ErrorCode::BadFrame,
        };
        DecodeError { code, id: None, message: redact(&e) }
    })
}

/// Hub frame `type`s of this protocol version.
pub const SERVER_FRAME_TYPES: &[&str] =
    &["welcome", "subscribed", "unsubscribed", "event", "batch", "ephemeral", "ack", "error", "ping", "reconnect"];

/// Encodes any frame as compact JSON.
pub fn encode<T: Serialize>(frame: &T) -> String {
    // Serialising these types cannot fail: no maps with non-string keys, no custom fallible impls.
    serde_json::to_string(frame).unwrap_or_else(|_| String::from("{}"))
}

/// serde_json messages quote offending values for some errors ("invalid value: string \"...\"");
/// keep only the structural part so a token or message body never reaches a log or reply.
fn redact(e: &serde_json::Error) -> String {
    let s = e.to_string();
    let cut = s.find(": string \"").or_else(|| s.find("invalid value")).unwrap_or(s.len());
    let mut out: String = s[..cut].chars().take(200).collect();
    if cut < s.len() {
        out.push_str(" (invalid value)");
    }
    out
}
