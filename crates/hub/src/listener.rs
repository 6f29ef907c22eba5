//! The hub's listening sockets: a deep accept queue, TCP_NODELAY on every connection, and (with TLS) the
//! handshake done off the accept loop, so one slow or hostile client cannot hold up the others.
use crate::tls::Tls;
use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Semaphore};
use tokio_rustls::server::TlsStream;

/// A handshake not finished in this time is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshakes in flight at once; more connections wait in the kernel's accept queue.
const MAX_HANDSHAKES: usize = 1024;

/// Binds with a deep accept queue: after a restart thousands of clients reconnect within a second, and a
/// full queue drops SYNs that the clients' kernels only retry a second later. The kernel caps the backlog
/// at `net.core.somaxconn`.
pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(8192)
}

pub enum HubListener {
    Plain(TcpListener),
    Tls { local: SocketAddr, ready: mpsc::Receiver<(HubStream, SocketAddr)>, _accepting: AbortOnDrop },
}

impl HubListener {
    pub fn new(tcp: TcpListener, tls: Option<Tls>) -> io::Result<HubListener> {
        let Some(tls) = tls else { return Ok(HubListener::Plain(tcp)) };
        let local = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(256);
        let task = tokio::spawn(accept_tls(tcp, tls, tx));
        Ok(HubListener::Tls { local, ready, _accepting: AbortOnDrop(task) })
    }
}

/// Accepts TCP connections and hands each to its own handshake task; finished ones queue for axum.
async fn accept_tls(tcp: TcpListener, tls: Tls, ready: mpsc::Sender<(HubStream, SocketAddr)>) {
    let permits = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    loop {
        let Ok(permit) = permits.clone().acquire_owned().await else { return };
        let (stream, peer) = match tcp.accept().await {
            Ok(c) => c,
            Err(e) => {
                accept_error(e).await;
                continue;
            }
        };
        nodelay(&stream);
        let (acceptor, ready) = (tls.acceptor(), ready.clone());
        tokio::spawn(async move {
            let _permit = permit;
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(s)) => {
                    let _ = ready.send((HubStream::Tls(Box::new(s)), peer)).await;
                }
                Ok(Err(e)) => {
                    metrics::counter!(crate::series::TLS_HANDSHAKE_FAILURES).increment(1);
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                }
                Err(_) => metrics::counter!(crate::series::TLS_HANDSHAKE_FAILURES).increment(1),
            }
        });
    }
}

fn nodelay(s: &TcpStream) {
    // Small frames (acks, events) must leave at once: without TCP_NODELAY, Nagle's algorithm and the
    // peer's delayed ACK hold a reply for up to ~40 ms.
    if let Err(e) = s.set_nodelay(true) {
        tracing::debug!(error = %e, "TCP_NODELAY not set");
    }
}

/// As axum does: out of file descriptors and the like are retried after a pause, not fatal.
async fn accept_error(e: io::Error) {
    tracing::warn!(error = %e, "accept failed");
    tokio::time::sleep(Duration::from_millis(50)).await;
}

impl Listener for HubListener {
    type Io = HubStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (HubStream, SocketAddr) {
        match self {
            HubListener::Plain(tcp) => loop {
                match TcpListener::accept(tcp).await {
                    Ok((s, peer)) => {
                        nodelay(&s);
                        return (HubStream::Plain(s), peer);
                    }
                    Err(e) => accept_error(e).await,
                }
            },
            HubListener::Tls { ready, .. } => match ready.recv().await {
                Some(c) => c,
                // The accept task ended (it only does when aborted): nothing more will come.
                None => std::future::pending().await,
            },
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        match self {
            HubListener::Plain(tcp) => tcp.local_addr(),
            HubListener::Tls { local, .. } => Ok(*local),
        }
    }
}

/// The socket's peer, for handlers (`ConnectInfo<Peer>`); see `proxy` for the client behind a proxy.
#[derive(Clone, Copy, Debug)]
pub struct Peer(pub SocketAddr);

impl Connected<IncomingStream<'_, HubListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, HubListener>) -> Peer {
        Peer(*stream.remote_addr())
    }
}

pub struct AbortOnDrop(tokio::task::JoinHandle<()>);
impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub enum HubStream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for HubStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            HubStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            HubStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for HubStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            HubStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            HubStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            HubStream::Plain(s) => Pin::new(s).poll_flush(cx),
            HubStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            HubStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            HubStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            HubStream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            HubStream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }
    fn is_write_vectored(&self) -> bool {
        match self {
            HubStream::Plain(s) => s.is_write_vectored(),
            HubStream::Tls(s) => s.is_write_vectored(),
        }
    }
}
