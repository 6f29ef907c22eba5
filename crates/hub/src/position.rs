//! A channel log's position, a value type of its own: the store returns it, the log moves it, and
//! subscriptions replay from it.

/// The head of a channel's log: its epoch (a new one means the history before it is gone) and the seq of
/// its newest event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub epoch: String,
    pub seq: u64,
}
