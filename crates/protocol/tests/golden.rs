//! Every ```json client / ```json server example in docs/PROTOCOL.md must parse as the frame it claims to
//! be and re-encode to the same JSON; and every frame type and payload kind must have an example.
use serde_json::Value;
use std::collections::BTreeSet;
use tally_protocol::*;

fn examples(tag: &str) -> Vec<String> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/PROTOCOL.md")).unwrap();
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in doc.lines() {
        match &mut cur {
            None if line.trim() == format!("```json {tag}") => cur = Some(String::new()),
            Some(buf) if line.trim() == "```" => {
                out.push(std::mem::take(buf));
                cur = None;
            }
            Some(buf) => {
                buf.push_str(line);
                buf.push('\n');
            }
            None => {}
        }
    }
    assert!(!out.is_empty(), "no `json {tag}` examples found");
    out
}

fn kinds(v: &Value, path: &[&str], into: &mut BTreeSet<String>) {
    let mut cur = v;
    for p in path {
        match cur.get(p) {
            Some(n) => cur = n,
            None => return,
        }
    }
    if let Some(k) = cur.get("kind").and_then(Value::as_str) {
        into.insert(k.to_string());
    }
}

#[test]
fn client_examples_round_trip_and_cover_every_type() {
    let mut types = BTreeSet::new();
    let mut snapshot_kinds = BTreeSet::new();
    for ex in examples("client") {
        let frame = decode_client(&ex).unwrap_or_else(|e| panic!("{e}\n{ex}"));
        let original: Value = serde_json::from_str(&ex).unwrap();
        let reencoded: Value = serde_json::from_str(&encode(&frame)).unwrap();
        assert_eq!(original, reencoded, "example does not round-trip:\n{ex}");
        types.insert(frame.type_name().to_string());
        kinds(&original, &["what"], &mut snapshot_kinds);
    }
    let all: BTreeSet<String> = CLIENT_FRAME_TYPES.iter().map(|s| s.to_string()).collect();
    assert_eq!(types, all, "every client frame type needs an example in PROTOCOL.md");
    let all_snap: BTreeSet<String> = [
        "balances",
        "transactions",
        "transaction_changes",
        "rooms",
        "contacts",
        "notifications",
        "notification_changes",
        "message_changes",
        "transfer",
        "transfer_by_key",
        "open_transfers",
        "requests",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(snapshot_kinds, all_snap);
}

#[test]
fn server_examples_round_trip_and_cover_every_type() {
    let mut types = BTreeSet::new();
    let mut event_kinds = BTreeSet::new();
    let mut ack_kinds = BTreeSet::new();
    let mut eph_kinds = BTreeSet::new();
    for ex in examples("server") {
        let frame = decode_server(&ex).unwrap_or_else(|e| panic!("{e}\n{ex}"));
        let original: Value = serde_json::from_str(&ex).unwrap();
        let reencoded: Value = serde_json::from_str(&encode(&frame)).unwrap();
        assert_eq!(original, reencoded, "example does not round-trip:\n{ex}");
        types.insert(original["type"].as_str().unwrap().to_string());
        kinds(&original, &["data"], &mut event_kinds);
        if original["type"] == "ack" {
            kinds(&original, &["data"], &mut ack_kinds);
        }
        if original["type"] == "ephemeral" {
            kinds(&original, &["data"], &mut eph_kinds);
        }
    }
    let all: BTreeSet<String> = SERVER_FRAME_TYPES.iter().map(|s| s.to_string()).collect();
    assert_eq!(types, all, "every server frame type needs an example");
    for k in [
        "balance",
        "transaction",
        "transfer",
        "room_joined",
        "room_left",
        "message",
        "message_edited",
        "message_deleted",
        "reaction",
        "receipt",
        "member",
        "notification",
        "notifications_read",
        "system",
        "request",
    ] {
        assert!(event_kinds.contains(k), "event kind {k} needs an example");
    }
    for k in [
        "pong",
        "transfer",
        "message",
        "room",
        "balances",
        "transactions",
        "rooms",
        "contacts",
        "notifications",
        "transfers",
        "history",
        "request",
        "requests",
        "withdrawal",
    ] {
        assert!(ack_kinds.contains(k), "ack kind {k} needs an example");
    }
    assert_eq!(eph_kinds, ["presence", "typing"].iter().map(|s| s.to_string()).collect());
}

#[test]
fn every_error_code_is_in_the_table() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/PROTOCOL.md")).unwrap();
    for code in ErrorCode::ALL {
        assert!(doc.contains(&format!("| `{}` |", code.as_str())), "{} missing from the error table", code.as_str());
        assert_eq!(serde_json::to_value(code).unwrap(), Value::String(code.as_str().into()));
    }
    for c in 1000u16..5000 {
        if let Some(cc) = CloseCode::from_code(c) {
            assert_eq!(cc.code(), c);
            assert!(doc.contains(&format!("| {c} |")), "close code {c} missing from the table");
        }
    }
}
