//! WebSocket conformance at the byte level (RFC 6455): fragmentation with control frames in between,
//! invalid UTF-8, unmasked client frames, stray continuations, and the close handshake.
mod common;
use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Raw {
    s: TcpStream,
}

const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

fn frame(fin: bool, opcode: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    let mut out = vec![(if fin { 0x80 } else { 0 }) | opcode];
    let mask_bit = if masked { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(mask_bit | n as u8),
        n if n < 65536 => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    if masked {
        out.extend_from_slice(&MASK);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
    } else {
        out.extend_from_slice(payload);
    }
    out
}

impl Raw {
    async fn open(hub: &TestHub) -> Raw {
        let addr = hub.base.trim_start_matches("http://").to_string();
        let mut s = TcpStream::connect(&addr).await.unwrap();
        let req = format!(
            "GET /v1/ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let mut head = Vec::new();
        let mut b = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            s.read_exact(&mut b).await.unwrap();
            head.push(b[0]);
        }
        let head = String::from_utf8_lossy(&head);
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        assert!(head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "Sec-WebSocket-Accept per RFC 6455: {head}");
        Raw { s }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.s.write_all(bytes).await.unwrap();
    }

    /// The next frame from the hub: (opcode, payload). Hub frames must never be masked.
    async fn next(&mut self) -> Option<(u8, Vec<u8>)> {
        let read = async {
            let mut h = [0u8; 2];
            self.s.read_exact(&mut h).await.ok()?;
            assert_eq!(h[1] & 0x80, 0, "server frames are unmasked");
            let len = match h[1] & 0x7f {
                126 => {
                    let mut l = [0u8; 2];
                    self.s.read_exact(&mut l).await.ok()?;
                    u16::from_be_bytes(l) as usize
                }
                127 => {
                    let mut l = [0u8; 8];
                    self.s.read_exact(&mut l).await.ok()?;
                    u64::from_be_bytes(l) as usize
                }
                n => n as usize,
            };
            let mut p = vec![0u8; len];
            self.s.read_exact(&mut p).await.ok()?;
            Some((h[0] & 0x0f, p))
        };
        tokio::time::timeout(WAIT, read).await.ok().flatten()
    }

    /// Reads until a close frame and returns its code.
    async fn close_code(&mut self) -> Option<u16> {
        while let Some((op, p)) = self.next().await {
            if op == 8 {
                return (p.len() >= 2).then(|| u16::from_be_bytes([p[0], p[1]]));
            }
        }
        None
    }

    async fn hello(&mut self, token: &str) {
        let h = format!(r#"{{"type":"hello","v":1,"token":"{token}"}}"#);
        self.send(&frame(true, 1, h.as_bytes(), true)).await;
        let (op, p) = self.next().await.expect("welcome");
        assert_eq!(op, 1);
        assert!(String::from_utf8_lossy(&p).contains("\"welcome\""));
    }
}

#[tokio::test]
async fn fragmented_frames_with_a_ping_in_between_are_reassembled() {
    let hub = TestHub::start().await;
    let s = hub.register("frag").await;
    let mut ws = Raw::open(&hub).await;
    let h = format!(r#"{{"type":"hello","v":1,"token":"{}"}}"#, s.access);
    let (a, rest) = h.as_bytes().split_at(10);
    let (b, c) = rest.split_at(rest.len() / 2);
    ws.send(&frame(false, 1, a, true)).await;
    ws.send(&frame(true, 9, b"are you there", true)).await; // control frame between fragments
    ws.send(&frame(false, 0, b, true)).await;
    ws.send(&frame(true, 0, c, true)).await;
    let mut saw_pong = false;
    let mut saw_welcome = false;
    while !(saw_pong && saw_welcome) {
        let (op, p) = ws.next().await.expect("a frame");
        match op {
            10 => {
                assert_eq!(p, b"are you there");
                saw_pong = true;
            }
            1 => saw_welcome |= String::from_utf8_lossy(&p).contains("\"welcome\""),
            _ => {}
        }
    }
}

#[tokio::test]
async fn invalid_utf8_closes_with_1007() {
    let hub = TestHub::start().await;
    let s = hub.register("utf").await;
    let mut ws = Raw::open(&hub).await;
    ws.hello(&s.access).await;
    ws.send(&frame(true, 1, &[0x7b, 0xff, 0xfe, 0x7d], true)).await;
    assert_eq!(ws.close_code().await, Some(1007));
}

#[tokio::test]
async fn unmasked_client_frames_close_with_1002() {
    let hub = TestHub::start().await;
    let s = hub.register("unmasked").await;
    let mut ws = Raw::open(&hub).await;
    ws.hello(&s.access).await;
    ws.send(&frame(true, 1, br#"{"type":"ping","id":1,"ts":0}"#, false)).await;
    assert_eq!(ws.close_code().await, Some(1002));
}

#[tokio::test]
async fn an_unmasked_first_frame_closes_with_1002_like_later_ones() {
    let hub = TestHub::start().await;
    let s = hub.register("unmasked-hello").await;
    let mut ws = Raw::open(&hub).await;
    let hello = serde_json::json!({"type": "hello", "v": 1, "token": s.access}).to_string();
    ws.send(&frame(true, 1, hello.as_bytes(), false)).await;
    assert_eq!(ws.close_code().await, Some(1002));
}

#[tokio::test]
async fn a_continuation_without_a_start_closes_with_1002() {
    let hub = TestHub::start().await;
    let s = hub.register("cont").await;
    let mut ws = Raw::open(&hub).await;
    ws.hello(&s.access).await;
    ws.send(&frame(true, 0, b"orphan", true)).await;
    assert_eq!(ws.close_code().await, Some(1002));
}

#[tokio::test]
async fn the_close_handshake_is_answered() {
    let hub = TestHub::start().await;
    let s = hub.register("closer").await;
    let mut ws = Raw::open(&hub).await;
    ws.hello(&s.access).await;
    ws.send(&frame(true, 8, &1000u16.to_be_bytes(), true)).await;
    assert_eq!(ws.close_code().await, Some(1000));
}
