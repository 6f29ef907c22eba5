use crate::{RoomId, TransferId, UserId};
use serde::{Deserialize, Serialize};
use std::fmt;
use ts_rs::TS;

/// A channel name. On the wire it is a string such as `balance:42` or `presence:room:7`.
/// The tenant is never part of it: the hub takes the tenant from the access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, TS)]
#[ts(type = "string")]
pub enum Channel {
    /// Personal events: rooms joined or left, profile and security changes.
    User(UserId),
    /// Balance updates for every currency of the user.
    Balance(UserId),
    /// The user's transaction history as it grows.
    Transactions(UserId),
    /// The user's notifications (new ones, read marks).
    Notifications(UserId),
    /// The life of one transfer (status and progress). Both parties may subscribe.
    Transfer(TransferId),
    /// One chat room: messages, edits, deletions, reactions, receipts, membership. Typing is ephemeral here.
    Room(RoomId),
    /// Presence (ephemeral) of one user.
    PresenceUser(UserId),
    /// Presence (ephemeral) of every member of a room.
    PresenceRoom(RoomId),
    /// Tenant-wide system announcements.
    Broadcast,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a channel name: {0:?}")]
pub struct ChannelParseError(pub String);

impl Channel {
    /// Whether events on this channel are durable (logged with epoch and seq).
    pub fn is_durable(&self) -> bool {
        !matches!(self, Channel::PresenceUser(_) | Channel::PresenceRoom(_))
    }

    pub fn parse(s: &str) -> Result<Self, ChannelParseError> {
        let err = || ChannelParseError(s.chars().take(64).collect());
        if s == "broadcast" {
            return Ok(Channel::Broadcast);
        }
        let (kind, rest) = s.split_once(':').ok_or_else(err)?;
        let id = |r: &str| -> Result<i64, ChannelParseError> {
            // Only canonical positive decimal ids: no sign, no leading zeros, no whitespace.
            if r.is_empty() || r.len() > 18 || r.starts_with('0') || !r.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err());
            }
            r.parse().map_err(|_| err())
        };
        Ok(match kind {
            "user" => Channel::User(id(rest)?),
            "balance" => Channel::Balance(id(rest)?),
            "transactions" => Channel::Transactions(id(rest)?),
            "notifications" => Channel::Notifications(id(rest)?),
            "transfer" => Channel::Transfer(id(rest)?),
            "room" => Channel::Room(id(rest)?),
            "presence" => match rest.strip_prefix("room:") {
                Some(r) => Channel::PresenceRoom(id(r)?),
                None => Channel::PresenceUser(id(rest)?),
            },
            _ => return Err(err()),
        })
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Channel::User(id) => write!(f, "user:{id}"),
            Channel::Balance(id) => write!(f, "balance:{id}"),
            Channel::Transactions(id) => write!(f, "transactions:{id}"),
            Channel::Notifications(id) => write!(f, "notifications:{id}"),
            Channel::Transfer(id) => write!(f, "transfer:{id}"),
            Channel::Room(id) => write!(f, "room:{id}"),
            Channel::PresenceUser(id) => write!(f, "presence:{id}"),
            Channel::PresenceRoom(id) => write!(f, "presence:room:{id}"),
            Channel::Broadcast => f.write_str("broadcast"),
        }
    }
}

impl std::str::FromStr for Channel {
    type Err = ChannelParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Channel::parse(s)
    }
}
impl Serialize for Channel {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
impl<'de> Deserialize<'de> for Channel {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Channel::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_names_round_trip() {
        for c in [
            Channel::User(1),
            Channel::Balance(2),
            Channel::Transactions(3),
            Channel::Notifications(4),
            Channel::Transfer(5),
            Channel::Room(6),
            Channel::PresenceUser(7),
            Channel::PresenceRoom(8),
            Channel::Broadcast,
        ] {
            assert_eq!(Channel::parse(&c.to_string()), Ok(c));
        }
    }

    #[test]
    fn channel_rejects_non_canonical_names() {
        for bad in [
            "",
            "balance",
            "balance:",
            "balance:-1",
            "balance:01",
            "balance: 1",
            "wallet:1",
            "room:1:2",
            "presence:room:",
            "broadcast:1",
            "balance:99999999999999999999",
        ] {
            assert!(Channel::parse(bad).is_err(), "{bad}");
        }
    }
}
