//! The three wire protocols as the load generator speaks them, and the cheap parsing of what arrives.
//! Both servers' frames are parsed as JSON (borrowed, unknown fields skipped): the generator does the
//! same work for each.
use serde::Deserialize;
use std::borrow::Cow;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    /// The Tally hub (docs/PROTOCOL.md over WebSocket).
    Tally,
    /// Socket.IO 4 (Engine.IO v4 over WebSocket, no polling).
    SocketIo,
    /// Plain TCP, newline-delimited JSON, no framing or protocol: what the machine can do.
    Raw,
}

impl Proto {
    pub fn label(self) -> &'static str {
        match self {
            Proto::Tally => "Tally",
            Proto::SocketIo => "Socket.IO",
            Proto::Raw => "raw TCP",
        }
    }
}

/// Wall clock in nanoseconds: every process on the machine reads the same clock.
pub fn now_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}

/// Bench payloads carry their publish time as `b:<nanos>` in a text field.
pub fn stamp(s: &str) -> Option<u64> {
    s.strip_prefix("b:")?.split(':').next()?.parse().ok()
}

/// One bench event seen in a frame: when it was published and its seq on its channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub stamp: u64,
    pub seq: u64,
}

#[derive(Debug, Default, PartialEq)]
pub struct TallyFrame {
    pub kind: String,
    pub channel: Option<String>,
    pub epoch: Option<String>,
    pub seq: Option<u64>,
    pub ts: Option<i64>,
    pub id: Option<u64>,
    pub code: Option<String>,
    /// Bench events (system titles or transaction memos with a stamp), with the channel's seq.
    pub seen: Vec<Seen>,
    /// Incoming transfer stamps (transaction memos, direction in).
    pub incoming: Vec<u64>,
    /// For acks of transfer requests: the transfer id.
    pub transfer_id: Option<i64>,
}

#[derive(Deserialize)]
struct TRaw<'a> {
    #[serde(rename = "type", borrow)]
    ty: Cow<'a, str>,
    #[serde(default, borrow)]
    channel: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    epoch: Option<Cow<'a, str>>,
    #[serde(default)]
    seq: Option<u64>,
    #[serde(default)]
    ts: Option<i64>,
    #[serde(default)]
    id: Option<u64>,
    #[serde(default, borrow)]
    code: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    data: Option<TData<'a>>,
    #[serde(default, borrow)]
    events: Vec<TEvent<'a>>,
}

#[derive(Deserialize)]
struct TEvent<'a> {
    seq: u64,
    #[serde(borrow)]
    data: TData<'a>,
}

#[derive(Deserialize)]
struct TData<'a> {
    #[serde(default, borrow)]
    title: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    transaction: Option<TTx<'a>>,
    #[serde(default)]
    transfer: Option<TTransfer>,
}

#[derive(Deserialize)]
struct TTx<'a> {
    #[serde(borrow)]
    memo: Cow<'a, str>,
    #[serde(borrow)]
    direction: Cow<'a, str>,
    #[serde(default, borrow)]
    status: Cow<'a, str>,
}

#[derive(Deserialize)]
struct TTransfer {
    id: i64,
}

impl TData<'_> {
    fn stamp(&self) -> Option<u64> {
        self.title.as_deref().and_then(stamp).or_else(|| self.transaction.as_ref().and_then(|t| stamp(&t.memo)))
    }
    fn incoming(&self) -> Option<u64> {
        // The recipient sees the payment completed (the money theirs), once per transfer.
        self.transaction
            .as_ref()
            .filter(|t| t.direction == "in" && t.status == "completed")
            .and_then(|t| stamp(&t.memo))
    }
}

/// The hot path for both protocols: bench events located by scanning, not parsed into a tree. Each
/// `"seq":N` is paired with the `"title":"b:<nanos>` that follows it before the next seq (Tally puts seq
/// before data; the Socket.IO and raw payloads are serialised with sorted keys: body, seq, title).
pub fn scan(text: &str, out: &mut Vec<Seen>) {
    const SEQ: &str = "\"seq\":";
    const TITLE: &str = "\"title\":\"b:";
    let mut rest = text;
    while let Some(i) = rest.find(SEQ) {
        rest = &rest[i + SEQ.len()..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let Ok(seq) = rest[..digits].parse::<u64>() else { continue };
        let next_seq = rest.find(SEQ).unwrap_or(rest.len());
        if let Some(j) = rest[..next_seq].find(TITLE) {
            let t = &rest[j + TITLE.len()..];
            let n = t.bytes().take_while(u8::is_ascii_digit).count();
            if let Ok(stamp) = t[..n].parse() {
                out.push(Seen { stamp, seq });
            }
        }
    }
}

/// For Tally `event`/`batch` frames: the channel, without parsing the rest.
pub fn tally_event_channel(text: &str) -> Option<&str> {
    let rest = text
        .strip_prefix("{\"type\":\"event\",\"channel\":\"")
        .or_else(|| text.strip_prefix("{\"type\":\"batch\",\"channel\":\""))?;
    rest.split('"').next()
}

pub fn parse_tally(text: &str) -> Option<TallyFrame> {
    let raw: TRaw = serde_json::from_str(text).ok()?;
    let mut f = TallyFrame {
        kind: raw.ty.into_owned(),
        channel: raw.channel.map(Cow::into_owned),
        epoch: raw.epoch.map(Cow::into_owned),
        seq: raw.seq,
        ts: raw.ts,
        id: raw.id,
        code: raw.code.map(Cow::into_owned),
        ..Default::default()
    };
    if let Some(d) = &raw.data {
        if let (Some(s), Some(seq)) = (d.stamp(), raw.seq) {
            f.seen.push(Seen { stamp: s, seq });
        }
        f.incoming.extend(d.incoming());
        f.transfer_id = d.transfer.as_ref().map(|t| t.id);
    }
    for e in &raw.events {
        if let Some(s) = e.data.stamp() {
            f.seen.push(Seen { stamp: s, seq: e.seq });
        }
        f.incoming.extend(e.data.incoming());
    }
    Some(f)
}

/// Engine.IO v4 / Socket.IO packets the bench cares about.
#[derive(Debug, PartialEq)]
pub enum SioPacket {
    /// Engine.IO open (`0{...}`).
    Open,
    /// Engine.IO ping (`2`): answer `3`.
    Ping,
    /// Socket.IO connect to the main namespace accepted (`40{...}`).
    Connected,
    /// Socket.IO connect refused (`44{...}`).
    ConnectError,
    /// An ack (`43<id>[...]`).
    Ack(u64),
    /// `42["event", {...}]`.
    Event(Vec<Seen>),
    Other,
}

pub fn parse_sio(text: &str) -> SioPacket {
    let b = text.as_bytes();
    match b.first() {
        Some(b'0') => SioPacket::Open,
        Some(b'2') => SioPacket::Ping,
        Some(b'4') => match b.get(1) {
            Some(b'0') => SioPacket::Connected,
            Some(b'4') => SioPacket::ConnectError,
            Some(b'2') => {
                let mut seen = Vec::new();
                scan(text, &mut seen);
                SioPacket::Event(seen)
            }
            Some(b'3') => {
                let digits: String = text[2..].chars().take_while(|c| c.is_ascii_digit()).collect();
                digits.parse().map(SioPacket::Ack).unwrap_or(SioPacket::Other)
            }
            _ => SioPacket::Other,
        },
        _ => SioPacket::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tally_event_and_batch() {
        let f = parse_tally(r#"{"type":"event","channel":"room:1","epoch":"e1","seq":7,"ts":1,"data":{"kind":"system","title":"b:123","body":"x","priority":"low"}}"#).unwrap();
        assert_eq!(f.kind, "event");
        assert_eq!(f.seen, vec![Seen { stamp: 123, seq: 7 }]);
        let f = parse_tally(r#"{"type":"batch","channel":"notifications:3","events":[{"channel":"notifications:3","epoch":"e","seq":1,"ts":1,"data":{"kind":"system","title":"b:5","body":"","priority":"low"}},{"channel":"notifications:3","epoch":"e","seq":2,"ts":1,"data":{"kind":"system","title":"hello","body":"","priority":"low"}}]}"#).unwrap();
        assert_eq!(f.seen, vec![Seen { stamp: 5, seq: 1 }]);
        let f = parse_tally(r#"{"type":"event","channel":"transactions:3","epoch":"e","seq":4,"ts":1,"data":{"kind":"transaction","transaction":{"memo":"b:99:1","direction":"in","status":"completed","id":1}}}"#).unwrap();
        assert_eq!(f.incoming, vec![99]);
        let f = parse_tally(r#"{"type":"event","channel":"transactions:3","epoch":"e","seq":4,"ts":1,"data":{"kind":"transaction","transaction":{"memo":"b:99:1","direction":"in","status":"pending","id":1}}}"#).unwrap();
        assert!(f.incoming.is_empty(), "not theirs yet");
        let f =
            parse_tally(r#"{"type":"ack","id":12,"data":{"kind":"transfer","transfer":{"id":77,"status":"pending"}}}"#)
                .unwrap();
        assert_eq!((f.id, f.transfer_id), (Some(12), Some(77)));
        assert!(parse_tally("not json").is_none());
    }

    #[test]
    fn scanning_finds_what_parsing_finds() {
        let ev = r#"{"type":"event","channel":"room:1","epoch":"e1","seq":7,"ts":1,"data":{"kind":"system","title":"b:123","body":"x","priority":"low"}}"#;
        let mut v = Vec::new();
        scan(ev, &mut v);
        assert_eq!(v, parse_tally(ev).unwrap().seen);
        assert_eq!(tally_event_channel(ev), Some("room:1"));
        let batch = r#"{"type":"batch","channel":"n:3","events":[{"channel":"n:3","epoch":"e","seq":1,"ts":1,"data":{"kind":"system","title":"b:5","body":"","priority":"low"}},{"channel":"n:3","epoch":"e","seq":2,"ts":1,"data":{"kind":"system","title":"hello","body":"","priority":"low"}},{"channel":"n:3","epoch":"e","seq":3,"ts":1,"data":{"kind":"system","title":"b:9","body":"","priority":"low"}}]}"#;
        v.clear();
        scan(batch, &mut v);
        assert_eq!(v, vec![Seen { stamp: 5, seq: 1 }, Seen { stamp: 9, seq: 3 }]);
        assert_eq!(tally_event_channel(batch), Some("n:3"));
        v.clear();
        scan(r#"42["event",{"body":"pad","seq":3,"title":"b:42"}]"#, &mut v);
        assert_eq!(v, vec![Seen { stamp: 42, seq: 3 }]);
        assert_eq!(tally_event_channel(r#"{"type":"ping","ts":1}"#), None);
    }

    #[test]
    fn socketio_packets() {
        assert_eq!(parse_sio(r#"0{"sid":"x","pingInterval":25000}"#), SioPacket::Open);
        assert_eq!(parse_sio("2"), SioPacket::Ping);
        assert_eq!(parse_sio(r#"40{"sid":"y"}"#), SioPacket::Connected);
        assert_eq!(parse_sio(r#"430[{"ok":true}]"#), SioPacket::Ack(0));
        assert_eq!(
            parse_sio(r#"42["event",{"body":"pad","seq":3,"title":"b:42"}]"#),
            SioPacket::Event(vec![Seen { stamp: 42, seq: 3 }])
        );
    }
}
