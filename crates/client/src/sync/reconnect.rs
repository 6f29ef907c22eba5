//! The reconnect loop: connect, and when a connection ends, wait (backoff, the hub's hint, the user, the
//! network) before the next attempt. Network down means Offline at once and no attempts until it is back;
//! back in the foreground, the next attempt comes within a second.
use super::{connect_once, Cmd, Outcome, Shared};
use crate::backoff::Backoff;
use crate::netwatch::Reachability;
use crate::store::now_ms;
use crate::view::ConnState;
use crate::Error;
use rand::Rng;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// Whether to go on after a wait.
enum Next {
    Go,
    Stop,
}

/// The socket task. Runs until `Cmd::Shutdown`.
pub async fn run(sh: Arc<Shared>, mut cmds: mpsc::UnboundedReceiver<Cmd>, mut net: watch::Receiver<Reachability>) {
    let mut backoff = Backoff::with_caps(sh.reconnect_caps);
    let mut offline_since: Option<i64> = None;
    loop {
        if *net.borrow_and_update() == Reachability::Down {
            if let Next::Stop = wait_for_network(&sh, &mut cmds, &mut net, &mut backoff).await {
                return;
            }
        }
        sh.set_state(ConnState::Connecting);
        let started = Instant::now();
        let (delay, error) = match connect_once(&sh, &mut cmds, &mut backoff, &mut net).await {
            Outcome::Shutdown => break,
            Outcome::Permanent(state) => {
                if matches!(state, ConnState::AuthFailed { .. }) {
                    sh.forget_account();
                }
                sh.set_state(state);
                if let Next::Stop = wait_for_user(&mut cmds).await {
                    return;
                }
                backoff = Backoff::with_caps(sh.reconnect_caps);
                continue;
            }
            Outcome::Dropped { live_for, hint, error } => {
                if live_for.is_some() {
                    offline_since = Some(now_ms()); // a live session just ended
                }
                (backoff.after_drop(live_for, hint, &mut rand::thread_rng()), error)
            }
        };
        let retry_at = now_ms() + delay.as_millis() as i64;
        tracing::info!(delay_ms = delay.as_millis() as u64, attempt = backoff.attempt, %error, "reconnecting later");
        sh.set_state(ConnState::BackingOff { attempt: backoff.attempt, retry_at, last_error: error, offline_since });
        if let Next::Stop = sleep_before_retry(&mut cmds, &mut net, &mut backoff, delay, started).await {
            return;
        }
    }
    sh.set_state(ConnState::Offline { since: Some(now_ms()) });
}

/// A permanent failure: wait for the user (sign in again) or shutdown.
async fn wait_for_user(cmds: &mut mpsc::UnboundedReceiver<Cmd>) -> Next {
    loop {
        match cmds.recv().await {
            None | Some(Cmd::Shutdown) => return Next::Stop,
            Some(Cmd::ReconnectNow) => return Next::Go,
            Some(Cmd::Request(_, reply)) => {
                let _ = reply.send(Err(Error::Offline));
            }
            Some(_) => {}
        }
    }
}

/// Within a second of the network coming back, so a fleet of devices does not arrive at once.
fn soon() -> Duration {
    Duration::from_millis(rand::thread_rng().gen_range(0..=1000))
}

/// The backoff delay, cut short by the user, the network coming back, or the app coming to the front (at
/// once when the last attempt is older than the foreground cap, else when it is that old). Network down
/// ends it (the loop then waits offline).
async fn sleep_before_retry(
    cmds: &mut mpsc::UnboundedReceiver<Cmd>,
    net: &mut watch::Receiver<Reachability>,
    backoff: &mut Backoff,
    delay: Duration,
    last_attempt: Instant,
) -> Next {
    let sleep = tokio::time::sleep(delay);
    tokio::pin!(sleep);
    let mut net_alive = true;
    loop {
        tokio::select! {
            _ = &mut sleep => return Next::Go,
            changed = net.changed(), if net_alive => {
                net_alive = changed.is_ok();
                match *net.borrow_and_update() {
                    Reachability::Down if net_alive => return Next::Go,
                    _ if net_alive && !backoff.background => sleep.as_mut().reset(tokio::time::Instant::now() + soon()),
                    _ => {}
                }
            }
            c = cmds.recv() => match c {
                None | Some(Cmd::Shutdown) => return Next::Stop,
                Some(Cmd::ReconnectNow) => return Next::Go,
                Some(Cmd::Background(b)) => {
                    backoff.background = b;
                    if !b {
                        // In front of the user the wait is never longer than the foreground cap, counted
                        // from the last attempt: at once when that is already past.
                        let due = tokio::time::Instant::from_std(last_attempt + backoff.caps.foreground);
                        if due <= tokio::time::Instant::now() {
                            return Next::Go;
                        }
                        if due < sleep.deadline() {
                            sleep.as_mut().reset(due);
                        }
                    }
                }
                Some(Cmd::Request(_, reply)) => { let _ = reply.send(Err(Error::Offline)); }
                Some(Cmd::Kick) => {}
            },
        }
    }
}

/// The OS says there is no network: Offline (since now), no attempts until it is back or the user asks.
async fn wait_for_network(
    sh: &Shared,
    cmds: &mut mpsc::UnboundedReceiver<Cmd>,
    net: &mut watch::Receiver<Reachability>,
    backoff: &mut Backoff,
) -> Next {
    sh.set_state(ConnState::Offline { since: Some(now_ms()) });
    loop {
        tokio::select! {
            changed = net.changed() => {
                if changed.is_err() {
                    return Next::Go; // the monitor is gone: fall back to plain backoff
                }
                if *net.borrow_and_update() != Reachability::Down {
                    if !backoff.background {
                        tokio::time::sleep(soon()).await;
                    }
                    return Next::Go;
                }
            }
            c = cmds.recv() => match c {
                None | Some(Cmd::Shutdown) => return Next::Stop,
                Some(Cmd::ReconnectNow) => return Next::Go,
                Some(Cmd::Background(b)) => backoff.background = b,
                Some(Cmd::Request(_, reply)) => { let _ = reply.send(Err(Error::Offline)); }
                Some(Cmd::Kick) => {}
            },
        }
    }
}
