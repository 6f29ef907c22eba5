//! The one socket task: connect, authenticate, resubscribe with stored positions, apply events exactly
//! once, heal gaps, refetch snapshots after `recovered: false`, flush the outbox, heartbeats and latency,
//! token refresh, and reconnect with backoff when anything breaks. One concern per file: `shared`
//! (what the engine and the task share), `reconnect` (the loop and its backoff), `session` (one signed-in
//! connection's start), `live` (its loop: heartbeats, commands, timeouts), `conn` (the socket and its
//! requests), `frames` (the hub's frames and answers), `wanted` (channels and history parts followed),
//! `snapshots`, `history` and `backfill` (the history download), `outbox_flush`.
use crate::api::Api;
use crate::backoff::Backoff;
use crate::notify::{Notifier, Raiser};
use crate::outbox::{OutboxAction, OutboxQueue, OutboxState};
use crate::secrets::{SecretStore, StoredSession};
use crate::store::{now_ms, OutboxRow, Store};
use crate::view::*;
use crate::Error;
use futures_util::SinkExt;
use rand::Rng;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tally_protocol::*;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::Message as WsMessage;

mod backfill;
mod conn;
pub mod files;
mod frames;
mod history;
mod live;
mod outbox_flush;
mod reconnect;
mod session;
mod shared;
#[cfg(test)]
mod single_flight_tests;
mod snapshots;
mod wanted;
use crate::netwatch::Reachability;
use crate::store::{PageEnd, PartKey};
use backfill::Work;
use conn::*;
use frames::*;
use history::*;
use outbox_flush::*;
pub use reconnect::run;
pub use shared::*;
use snapshots::*;
use wanted::*;

/// How many messages of a room this device keeps with these preferences.
pub fn room_cap(prefs: &Prefs) -> u64 {
    backfill::cap(PartKey::Room(0), prefs)
}

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const ACK_TIMEOUT: Duration = Duration::from_secs(10);
const SNAPSHOT_CONCURRENCY: usize = 2;
