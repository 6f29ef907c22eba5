use proptest::prelude::*;
use tally_protocol::*;

#[test]
fn unknown_type_is_a_typed_error_with_the_request_id() {
    let e = decode_client(r#"{"type":"teleport","id":9}"#).unwrap_err();
    assert_eq!(e.code, ErrorCode::UnknownType);
    assert_eq!(e.id, Some(9));
}

#[test]
fn malformed_frames_are_bad_frame() {
    for bad in ["", "{", "[]", "42", "null", r#"{"id":1}"#, r#"{"type":7}"#, r#"{"type":"subscribe","id":1}"#] {
        let e = decode_client(bad).unwrap_err();
        assert_eq!(e.code, ErrorCode::BadFrame, "{bad}");
    }
}

#[test]
fn unknown_fields_are_ignored() {
    let f = decode_client(r#"{"type":"ping","id":3,"ts":5,"shiny_new_field":{"x":1}}"#).unwrap();
    assert_eq!(f, ClientFrame::Ping { id: 3, ts: 5 });
}

#[test]
fn float_money_and_bad_currency_are_rejected() {
    let base = |amount: &str| {
        format!(r#"{{"type":"transfer_create","id":1,"idempotency_key":"k","to":"bob","amount":{amount}}}"#)
    };
    assert!(decode_client(&base(r#"{"minor":100,"currency":"USD"}"#)).is_ok());
    for bad in [r#"{"minor":1.5,"currency":"USD"}"#, r#"{"minor":"100","currency":"USD"}"#] {
        assert_eq!(decode_client(&base(bad)).unwrap_err().code, ErrorCode::BadFrame, "{bad}");
    }
    // Not three upper-case letters: the frame is malformed (docs/PROTOCOL.md).
    for malformed in [r#"{"minor":100,"currency":"usd"}"#, r#"{"minor":100,"currency":"US$"}"#] {
        assert_eq!(decode_client(&base(malformed)).unwrap_err().code, ErrorCode::BadFrame, "{malformed}");
    }
    // The shape is right but ISO 4217 does not list it with a minor unit: a wrong value.
    for unknown in [r#"{"minor":100,"currency":"XYZ"}"#, r#"{"minor":100,"currency":"XAU"}"#] {
        assert_eq!(decode_client(&base(unknown)).unwrap_err().code, ErrorCode::Invalid, "{unknown}");
    }
}

#[test]
fn error_messages_never_echo_field_values() {
    let e = decode_client(
        r#"{"type":"hello","v":1,"token":12345678901,"subscriptions":[{"channel":"secret-thing-here"}]}"#,
    )
    .unwrap_err();
    assert!(!e.message.contains("secret-thing-here"), "{}", e.message);
}

#[test]
fn server_frames_round_trip() {
    let f = ServerFrame::error(Some(4), ErrorCode::RateLimited, "slow down");
    assert_eq!(decode_server(&encode(&f)).unwrap(), f);
    assert!(matches!(f, ServerFrame::Error { retryable: true, .. }));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn decoding_arbitrary_text_never_panics(s in ".{0,300}") {
        let _ = decode_client(&s);
        let _ = decode_server(&s);
    }

    #[test]
    fn decoding_mutated_frames_never_panics(
        ty in prop::sample::select(CLIENT_FRAME_TYPES.to_vec()),
        id in any::<i64>(),
        junk in prop::collection::vec((".{0,12}", prop_oneof![Just("1".to_string()), Just("-1".to_string()), Just("1e400".to_string()), Just("\"x\"".to_string()), Just("null".to_string()), Just("[]".to_string()), Just("{}".to_string())]), 0..6),
    ) {
        let mut s = format!(r#"{{"type":"{ty}","id":{id}"#);
        for (k, v) in junk { s.push_str(&format!(",{}:{}", serde_json::to_string(&k).unwrap(), v)); }
        s.push('}');
        match decode_client(&s) {
            Ok(f) => { let _ = encode(&f); }
            Err(e) => prop_assert!(matches!(e.code, ErrorCode::BadFrame | ErrorCode::UnknownType)),
        }
    }

    #[test]
    fn channel_parse_round_trips(id in 1i64..=999_999_999_999_999_999) {
        for c in [Channel::User(id), Channel::Room(id), Channel::PresenceRoom(id), Channel::Transfer(id)] {
            prop_assert_eq!(Channel::parse(&c.to_string()).unwrap(), c);
        }
    }
}

#[test]
fn a_notification_s_text_is_data_and_an_unknown_key_is_shown_as_written() {
    let base = r#"{"id":7,"kind":"payment","priority":"normal","title":"Bob paid you 9.14 USD","body":"Lunch","read":false,"created_at":1"#;
    let known: Notification = serde_json::from_str(&format!(
        r#"{base},"text":{{"key":"payment_received","from":"Bob","amount":{{"minor":914,"currency":"USD"}}}}}}"#
    ))
    .unwrap();
    let amount = Money { minor: 914, currency: Currency::USD };
    assert_eq!(known.text, Some(NotificationText::PaymentReceived { from: "Bob".into(), amount }));
    // A newer hub's key, with fields this app does not know: the notification still reads.
    let newer: Notification =
        serde_json::from_str(&format!(r#"{base},"text":{{"key":"teleported","to":"Mars","amount":3}}}}"#)).unwrap();
    assert_eq!(newer.text, Some(NotificationText::Other));
    assert_eq!(newer.title, "Bob paid you 9.14 USD");
    // An older hub: no text at all.
    let older: Notification = serde_json::from_str(&format!("{base}}}")).unwrap();
    assert_eq!(older.text, None);
    let back = serde_json::to_value(&known).unwrap();
    assert_eq!(back["text"]["key"], "payment_received");
    assert_eq!(back["text"]["amount"]["minor"], 914);
}
