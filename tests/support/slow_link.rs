//! A loopback link between the app and the hub whose hub-to-app direction can be slowed to a trickle,
//! like a hotel Wi-Fi: a download that takes 0.1 s over loopback then takes long enough to be seen
//! on screen. The app-to-hub direction always passes at full speed.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Bytes forwarded per tick while slow, and the tick: 8 KiB every 40 ms is about 200 KB/s, slow
/// enough to watch a 5,000-row history arrive and fast enough that no single frame takes longer
/// than the client's two missed heartbeats to arrive (it would take the link for dead).
const SLOW_CHUNK: usize = 8 * 1024;
const SLOW_TICK: Duration = Duration::from_millis(40);

pub struct SlowLink {
    pub port: u16,
    target_port: u16,
    slow: Arc<AtomicBool>,
    accepting: Option<tokio::task::JoinHandle<()>>,
}

impl SlowLink {
    /// Listens on a free loopback port and forwards every connection to `target_port`; starts slow.
    pub async fn start(target_port: u16) -> SlowLink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("slow link binds");
        let port = listener.local_addr().unwrap().port();
        let slow = Arc::new(AtomicBool::new(true));
        let accepting = Some(tokio::spawn(accept(listener, target_port, slow.clone())));
        SlowLink { port, target_port, slow, accepting }
    }

    /// Stops listening, so the app's connections are refused as they would be by the hub's host when the
    /// hub is down (instead of accepted and closed at once by a link with nowhere to forward them).
    pub fn go_down(&mut self) {
        if let Some(task) = self.accepting.take() {
            task.abort();
        }
    }

    /// Listens again on the same port.
    pub async fn come_back(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.expect("slow link binds its port again");
        self.accepting = Some(tokio::spawn(accept(listener, self.target_port, self.slow.clone())));
    }

    /// Full speed from now on, for connections open and new.
    pub fn fast(&self) {
        self.slow.store(false, Ordering::SeqCst);
    }
}

async fn accept(listener: TcpListener, target_port: u16, slow: Arc<AtomicBool>) {
    while let Ok((inbound, _)) = listener.accept().await {
        tokio::spawn(forward(inbound, target_port, slow.clone()));
    }
}

async fn forward(inbound: TcpStream, target_port: u16, slow: Arc<AtomicBool>) {
    // The hub may be down (the test stops it on purpose): the app sees a refused connection.
    let Ok(outbound) = TcpStream::connect(("127.0.0.1", target_port)).await else { return };
    let (mut app_rx, mut app_tx) = inbound.into_split();
    let (mut hub_rx, mut hub_tx) = outbound.into_split();
    let up = async move {
        let _ = tokio::io::copy(&mut app_rx, &mut hub_tx).await;
    };
    let down = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let slow_now = slow.load(Ordering::SeqCst);
            let room = if slow_now { SLOW_CHUNK } else { buf.len() };
            let n = match hub_rx.read(&mut buf[..room]).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if app_tx.write_all(&buf[..n]).await.is_err() {
                return;
            }
            if slow_now {
                tokio::time::sleep(SLOW_TICK).await;
            }
        }
    };
    tokio::select! { _ = up => {}, _ = down => {} }
}
