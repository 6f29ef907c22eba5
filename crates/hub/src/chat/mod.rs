//! Rooms (direct and group) and messages: send (idempotent by client_msg_id), edit, delete (tombstone),
//! reactions, read receipts and mentions. Text is stored exactly as given; it is never interpreted.
//!
//! `rooms` (creation, membership), `messages` (what is said and its history).
mod messages;
mod rooms;

pub use messages::{
    changes, delete, edit, history, message, message_count, post_card, react, read, read_positions, send, Outgoing,
};
pub use rooms::{
    create_group_bulk, create_room, invite, is_member, leave, member_ids, remove, rename, require_member, room,
    rooms_of, set_prefs,
};
