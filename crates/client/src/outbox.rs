//! The outbox's types: what a user asked for while the hub may be out of reach ([`OutboxAction`]), and
//! where an item stands ([`OutboxState`]). The store keeps them (`store/outbox.rs`); the socket task turns
//! each action into exactly one request frame. Items of one queue go out in order, one at a time.
use serde::{Deserialize, Serialize};
use tally_protocol::*;
use ts_rs::TS;

/// One queued action. Stored as JSON in `outbox.payload` (the `kind` column repeats the tag for queries).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OutboxAction {
    Transfer {
        idempotency_key: String,
        to: String,
        amount: Money,
        #[serde(default)]
        memo: String,
        /// The conversation it was made from: the hub posts it there as a card.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room: Option<RoomId>,
    },
    Message {
        room: RoomId,
        client_msg_id: String,
        text: String,
    },
    /// A file or picture to send in `room`: uploaded first (its bytes wait in the cache's `uploads`),
    /// then sent as a message naming what the hub stored.
    Attachment {
        room: RoomId,
        client_msg_id: String,
        #[serde(default)]
        caption: String,
        name: String,
        mime: String,
        size: u64,
        /// What the hub stored, once the upload went through.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        uploaded: Option<Attachment>,
    },
    Edit {
        room: RoomId,
        message: MessageId,
        text: String,
    },
    Delete {
        room: RoomId,
        message: MessageId,
    },
    React {
        room: RoomId,
        message: MessageId,
        emoji: String,
        on: bool,
    },
    Read {
        room: RoomId,
        up_to: u64,
    },
    /// Mark these notifications read; an empty list marks every one read.
    NotificationsRead {
        ids: Vec<NotificationId>,
    },
}

/// What an outbox item does: the action's tag, stored as the `kind` column's stable string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum OutboxKind {
    Transfer,
    Message,
    Attachment,
    Edit,
    Delete,
    React,
    Read,
    NotificationsRead,
}

impl OutboxKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxKind::Transfer => "transfer",
            OutboxKind::Message => "message",
            OutboxKind::Attachment => "attachment",
            OutboxKind::Edit => "edit",
            OutboxKind::Delete => "delete",
            OutboxKind::React => "react",
            OutboxKind::Read => "read",
            OutboxKind::NotificationsRead => "notifications_read",
        }
    }
    pub fn parse(s: &str) -> Option<OutboxKind> {
        [
            Self::Transfer,
            Self::Message,
            Self::Attachment,
            Self::Edit,
            Self::Delete,
            Self::React,
            Self::Read,
            Self::NotificationsRead,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// The ordered queue an item waits in: one per conversation, so a stuck room never holds up payments.
/// Stored (and shown to the UI) as a stable string: `transfers`, `notifications`, `room:7`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum OutboxQueue {
    Transfers,
    Notifications,
    Room(RoomId),
}

impl From<OutboxQueue> for String {
    fn from(q: OutboxQueue) -> String {
        match q {
            OutboxQueue::Transfers => "transfers".into(),
            OutboxQueue::Notifications => "notifications".into(),
            OutboxQueue::Room(room) => format!("room:{room}"),
        }
    }
}

impl TryFrom<String> for OutboxQueue {
    type Error = String;
    fn try_from(s: String) -> Result<OutboxQueue, String> {
        match s.as_str() {
            "transfers" => Ok(OutboxQueue::Transfers),
            "notifications" => Ok(OutboxQueue::Notifications),
            other => other
                .strip_prefix("room:")
                .and_then(|r| r.parse().ok())
                .map(OutboxQueue::Room)
                .ok_or_else(|| format!("outbox queue {other:?}")),
        }
    }
}

impl OutboxAction {
    /// Its kind (the stored tag).
    pub fn kind(&self) -> OutboxKind {
        match self {
            OutboxAction::Transfer { .. } => OutboxKind::Transfer,
            OutboxAction::Message { .. } => OutboxKind::Message,
            OutboxAction::Attachment { .. } => OutboxKind::Attachment,
            OutboxAction::Edit { .. } => OutboxKind::Edit,
            OutboxAction::Delete { .. } => OutboxKind::Delete,
            OutboxAction::React { .. } => OutboxKind::React,
            OutboxAction::Read { .. } => OutboxKind::Read,
            OutboxAction::NotificationsRead { .. } => OutboxKind::NotificationsRead,
        }
    }

    /// The queue it waits in.
    pub fn queue(&self) -> OutboxQueue {
        match self {
            OutboxAction::Transfer { .. } => OutboxQueue::Transfers,
            OutboxAction::NotificationsRead { .. } => OutboxQueue::Notifications,
            OutboxAction::Message { room, .. }
            | OutboxAction::Attachment { room, .. }
            | OutboxAction::Edit { room, .. }
            | OutboxAction::Delete { room, .. }
            | OutboxAction::React { room, .. }
            | OutboxAction::Read { room, .. } => OutboxQueue::Room(*room),
        }
    }

    /// The request that carries it out. `expires_at` is the item's deadline (transfers carry it to the hub).
    pub fn frame(&self, id: ReqId, expires_at: Option<Millis>) -> ClientFrame {
        match self.clone() {
            OutboxAction::Transfer { idempotency_key, to, amount, memo, room } => {
                ClientFrame::TransferCreate { id, idempotency_key, to, amount, memo, expires_at, room }
            }
            OutboxAction::Message { room, client_msg_id, text } => {
                ClientFrame::MessageSend { id, room, client_msg_id, text, attachment: None }
            }
            OutboxAction::Attachment { room, client_msg_id, caption, uploaded, .. } => {
                ClientFrame::MessageSend { id, room, client_msg_id, text: caption, attachment: uploaded.map(|a| a.id) }
            }
            OutboxAction::Edit { room, message, text } => ClientFrame::MessageEdit { id, room, message, text },
            OutboxAction::Delete { room, message } => ClientFrame::MessageDelete { id, room, message },
            OutboxAction::React { room, message, emoji, on } => ClientFrame::React { id, room, message, emoji, on },
            OutboxAction::Read { room, up_to } => ClientFrame::Read { id, room, up_to },
            OutboxAction::NotificationsRead { ids } if ids.is_empty() => ClientFrame::NotificationsReadAll { id },
            OutboxAction::NotificationsRead { ids } => ClientFrame::NotificationsRead { id, ids },
        }
    }

    /// Whether it can go out on the socket now (a file first has to be uploaded).
    pub fn ready(&self) -> bool {
        !matches!(self, OutboxAction::Attachment { uploaded: None, .. })
    }

    /// Reads a stored payload; rows written before the payload carried its tag get it from the column.
    pub fn decode(kind: &str, payload: &str) -> Result<OutboxAction, String> {
        let mut v: serde_json::Value = serde_json::from_str(payload).map_err(|e| e.to_string())?;
        if let Some(o) = v.as_object_mut() {
            o.entry("kind").or_insert_with(|| serde_json::Value::String(kind.to_string()));
        }
        serde_json::from_value(v).map_err(|e| e.to_string())
    }

    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Where an outbox item stands. One encoding for the `state` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxState {
    /// Waiting to be sent (or re-sent: the hub applies it once).
    Pending,
    /// Stopped: a permanent error or the deadline passed. Waits for the user's retry or discard.
    Failed,
}

impl OutboxState {
    pub fn as_str(&self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Option<OutboxState> {
        match s {
            "pending" => Some(OutboxState::Pending),
            "failed" => Some(OutboxState::Failed),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_queues_round_trip_their_stored_strings() {
        for k in [OutboxKind::Transfer, OutboxKind::Message, OutboxKind::NotificationsRead] {
            assert_eq!(OutboxKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), serde_json::json!(k.as_str()));
        }
        assert_eq!(OutboxKind::parse("teleport"), None);
        for q in [OutboxQueue::Transfers, OutboxQueue::Notifications, OutboxQueue::Room(7)] {
            let s = String::from(q);
            assert_eq!(OutboxQueue::try_from(s.clone()), Ok(q));
            assert_eq!(serde_json::to_value(q).unwrap(), serde_json::json!(s));
        }
        assert_eq!(String::from(OutboxQueue::Room(7)), "room:7");
        for bad in ["room:", "room:x", "rooms", ""] {
            assert!(OutboxQueue::try_from(bad.to_string()).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_payload_stored_before_it_carried_its_tag_still_reads() {
        let old = r#"{"idempotency_key":"k1","to":"bob","amount":{"minor":1234,"currency":"USD"},"memo":"tea"}"#;
        let a = OutboxAction::decode("transfer", old).unwrap();
        assert_eq!(a.kind(), OutboxKind::Transfer);
        assert_eq!(a.queue(), OutboxQueue::Transfers);
        let ClientFrame::TransferCreate { amount, expires_at, .. } = a.frame(7, Some(99)) else { panic!("{a:?}") };
        assert_eq!((amount.minor, expires_at), (1234, Some(99)));
        assert_eq!(OutboxAction::decode("transfer", &a.encode()).unwrap(), a);
    }

    #[test]
    fn an_empty_read_list_marks_everything_and_garbage_is_an_error() {
        let all = OutboxAction::NotificationsRead { ids: vec![] };
        assert!(matches!(all.frame(1, None), ClientFrame::NotificationsReadAll { id: 1 }));
        assert!(OutboxAction::decode("react", r#"{"room":1}"#).is_err());
        assert!(OutboxAction::decode("transfer", "not json").is_err());
        assert_eq!(OutboxState::parse(OutboxState::Failed.as_str()), Some(OutboxState::Failed));
    }
}
