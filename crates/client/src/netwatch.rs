//! What the operating system says about the network, behind a small trait so each platform plugs its own
//! source: NetworkManager's D-Bus `StateChanged` signal on Linux, the platform's reachability API on
//! mobile (the shell feeds a [`ManualMonitor`]). "Down" stops reconnect attempts at once (the UI says
//! Offline); "up" again retries within a second when the app is in front.
use std::sync::Arc;
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reachability {
    /// No source, or it has not said: behave as if the network were up.
    Unknown,
    Down,
    Up,
}

pub trait NetworkMonitor: Send + Sync {
    fn watch(&self) -> watch::Receiver<Reachability>;
}

/// A monitor fed by its owner (mobile shells, tests driving the engine through a fault proxy).
pub struct ManualMonitor {
    tx: watch::Sender<Reachability>,
}

impl ManualMonitor {
    pub fn new() -> Arc<ManualMonitor> {
        Arc::new(ManualMonitor { tx: watch::channel(Reachability::Unknown).0 })
    }
    pub fn set(&self, r: Reachability) {
        self.tx.send_replace(r);
    }
}

impl NetworkMonitor for ManualMonitor {
    fn watch(&self) -> watch::Receiver<Reachability> {
        self.tx.subscribe()
    }
}

/// The platform's monitor: NetworkManager on Linux (Unknown when it is not running), none elsewhere yet.
pub fn platform() -> Arc<dyn NetworkMonitor> {
    #[cfg(target_os = "linux")]
    {
        nm::NetworkManagerMonitor::start()
    }
    #[cfg(not(target_os = "linux"))]
    {
        ManualMonitor::new()
    }
}

/// NetworkManager's global state (`NM_STATE_*`) as reachability.
pub fn from_nm_state(state: u32) -> Reachability {
    match state {
        0 => Reachability::Unknown,
        10 | 20 => Reachability::Down, // asleep, disconnected
        _ => Reachability::Up,         // connecting (40) counts as up: try
    }
}

#[cfg(target_os = "linux")]
mod nm {
    use super::*;

    const DEST: &str = "org.freedesktop.NetworkManager";
    const PATH: &str = "/org/freedesktop/NetworkManager";

    /// Follows NetworkManager on the system bus from a thread of its own (zbus brings its own I/O runtime,
    /// so this does not depend on the app's). Without a system bus or NetworkManager it stays Unknown.
    pub struct NetworkManagerMonitor {
        tx: watch::Sender<Reachability>,
    }

    impl NetworkManagerMonitor {
        pub fn start() -> Arc<dyn NetworkMonitor> {
            let tx = watch::channel(Reachability::Unknown).0;
            let feed = tx.clone();
            let spawned = std::thread::Builder::new().name("tally-netwatch".into()).spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(rt) => rt,
                    Err(e) => return tracing::warn!(error = %e, "network monitor runtime"),
                };
                if let Err(e) = rt.block_on(follow(&feed)) {
                    tracing::debug!(error = %e, "NetworkManager not available; network state unknown");
                }
            });
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "could not start the network monitor");
            }
            Arc::new(NetworkManagerMonitor { tx })
        }
    }

    impl NetworkMonitor for NetworkManagerMonitor {
        fn watch(&self) -> watch::Receiver<Reachability> {
            self.tx.subscribe()
        }
    }

    async fn follow(feed: &watch::Sender<Reachability>) -> zbus::Result<()> {
        use futures_util::StreamExt;
        let bus = zbus::Connection::system().await?;
        let proxy = zbus::Proxy::new(&bus, DEST, PATH, DEST).await?;
        let mut signals = proxy.receive_signal("StateChanged").await?;
        let state: u32 = proxy.get_property("State").await?;
        feed.send_replace(from_nm_state(state));
        while let Some(msg) = signals.next().await {
            if let Ok(state) = msg.body().deserialize::<u32>() {
                feed.send_replace(from_nm_state(state));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_manager_states_map_to_reachability() {
        assert_eq!(from_nm_state(20), Reachability::Down);
        assert_eq!(from_nm_state(10), Reachability::Down);
        assert_eq!(from_nm_state(70), Reachability::Up);
        assert_eq!(from_nm_state(40), Reachability::Up);
        assert_eq!(from_nm_state(0), Reachability::Unknown);
    }
}
