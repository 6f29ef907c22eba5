//! A local echo's state as stored, encoded and decoded in this one place. An echo row (`messages` and
//! `transfers`, column `local_state`) holds `sent`, `pending`, or the failed state as JSON; an outbox row
//! holds its `state` (`OutboxState`) with `error_code` and `error` beside it. SQL that compares the column
//! spells the same two words (`local_state != 'sent'`); a test holds them to these.
use crate::outbox::OutboxState;
use crate::view::{CommandErrorCode, LocalErrorCode, LocalState};

pub(crate) const SENT: &str = "sent";
pub(crate) const PENDING: &str = "pending";

/// The stored text of an echo's state.
pub(crate) fn encode(state: &LocalState) -> String {
    match state {
        LocalState::Sent => SENT.into(),
        LocalState::Pending => PENDING.into(),
        failed @ LocalState::Failed { .. } => super::to_json(failed),
    }
}

/// An echo's state from its stored text.
pub(crate) fn decode(s: &str) -> LocalState {
    match s {
        SENT => LocalState::Sent,
        PENDING => LocalState::Pending,
        other => match serde_json::from_str(other) {
            Ok(failed @ LocalState::Failed { .. }) => failed,
            _ => unreadable(),
        },
    }
}

/// An outbox row's state from its columns: pending, or failed with its code and reason.
pub(crate) fn of_outbox(state: &str, code: Option<&str>, reason: Option<String>) -> LocalState {
    match (OutboxState::parse(state), code.map(error_code)) {
        (Some(OutboxState::Pending), _) => LocalState::Pending,
        (Some(OutboxState::Failed), Some(Some(code))) => {
            LocalState::Failed { code, reason: reason.unwrap_or_default() }
        }
        _ => unreadable(),
    }
}

/// A stored error code (the strings of the wire and of `LocalErrorCode`).
fn error_code(s: &str) -> Option<CommandErrorCode> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
}

/// A state this version cannot read (a newer app's, or damage) is shown as failed, never as pending or
/// sent: the user decides whether to retry or discard.
fn unreadable() -> LocalState {
    LocalState::Failed {
        code: LocalErrorCode::Storage.into(),
        reason: "Tally could not read the state of this item; retry or discard it.".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally_protocol::ErrorCode;

    #[test]
    fn every_state_round_trips_and_the_sql_words_are_these() {
        let failed = LocalState::Failed { reason: "no".into(), code: ErrorCode::InsufficientFunds.into() };
        for s in [LocalState::Sent, LocalState::Pending, failed.clone()] {
            assert_eq!(decode(&encode(&s)), s);
        }
        assert_eq!((encode(&LocalState::Sent).as_str(), encode(&LocalState::Pending).as_str()), ("sent", "pending"));
        assert_eq!(of_outbox(OutboxState::Pending.as_str(), None, None), LocalState::Pending);
        assert_eq!(of_outbox("failed", Some("insufficient_funds"), Some("no".into())), failed);
    }

    #[test]
    fn what_cannot_be_read_is_failed_never_pending_or_sent() {
        for bad in ["", "Sent", "{\"state\":\"sent\"}", "{\"state\":\"teleported\"}"] {
            assert!(matches!(decode(bad), LocalState::Failed { .. }), "{bad}");
        }
        assert!(matches!(of_outbox("failed", None, None), LocalState::Failed { .. }));
        assert!(matches!(of_outbox("failed", Some("bogus"), None), LocalState::Failed { .. }));
        assert!(matches!(of_outbox("paused", None, None), LocalState::Failed { .. }));
    }
}
