//! Property-based fuzzing of the hub's frame handler over a real socket: arbitrary and malformed frames
//! never crash the hub, each gets at most one typed answer, the connection keeps working, and other
//! connections are unaffected.
mod common;
use common::*;
use proptest::prelude::*;
use std::sync::OnceLock;
use tally_protocol::*;

struct World {
    rt: tokio::runtime::Runtime,
    hub: TestHub,
    session: Session,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let (hub, session) = rt.block_on(async {
            let hub = TestHub::start_with(|c| {
                c.rate_per_sec = 100_000;
                c.rate_burst = 100_000;
                c.user_rate_per_sec = 100_000;
            })
            .await;
            let s = hub.register("fuzz").await;
            hub.register("other").await;
            hub.deposit("fuzz", 1_000_000).await;
            (hub, s)
        });
        World { rt, hub, session }
    })
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(serde_json::Value::from),
        ".{0,20}".prop_map(serde_json::Value::from),
        prop::sample::select(vec!["balance:1", "room:1", "presence:room:1", "broadcast", "transfer:1", "user:2"])
            .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "id",
                    "type",
                    "channel",
                    "since",
                    "room",
                    "text",
                    "amount",
                    "minor",
                    "currency",
                    "to",
                    "memo",
                    "idempotency_key",
                    "message",
                    "what",
                    "kind",
                    "limit",
                    "before",
                    "emoji",
                    "on",
                    "up_to",
                    "status",
                    "ids",
                    "epoch",
                    "seq"
                ])
                .prop_map(str::to_string),
                inner,
                0..6
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn frame() -> impl Strategy<Value = String> {
    prop_oneof![
        // Structurally plausible frames of every type with arbitrary fields.
        (
            prop::sample::select(CLIENT_FRAME_TYPES.to_vec()),
            1u64..1_000_000,
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "channel",
                    "since",
                    "room",
                    "text",
                    "amount",
                    "to",
                    "memo",
                    "idempotency_key",
                    "message",
                    "what",
                    "limit",
                    "before",
                    "emoji",
                    "on",
                    "up_to",
                    "status",
                    "ids",
                    "kind",
                    "members",
                    "name",
                    "client_msg_id",
                    "ts",
                    "username"
                ])
                .prop_map(str::to_string),
                json_value(),
                0..6
            )
        )
            .prop_map(|(t, id, fields)| {
                let mut m: serde_json::Map<String, serde_json::Value> = fields.into_iter().collect();
                m.insert("type".into(), t.into());
                m.insert("id".into(), id.into());
                serde_json::Value::Object(m).to_string()
            }),
        json_value().prop_map(|v| v.to_string()),
        ".{0,200}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_frames_get_typed_answers_and_never_break_the_hub(frames in prop::collection::vec(frame(), 1..8)) {
        let w = world();
        w.rt.block_on(async {
            let mut c = w.hub.connect(&w.session).await;
            for f in &frames {
                // Hello after authentication is refused but harmless.
                c.send_raw(f).await;
            }
            // The connection still answers, in order, after the garbage.
            let pong = c.request(|id| ClientFrame::Ping { id, ts: 1 }).await;
            prop_assert!(matches!(pong, Ok(Some(AckData::Pong { .. }))), "{pong:?}");
            for f in c.inbox.drain(..) {
                if let ServerFrame::Error { code, .. } = f {
                    prop_assert!(ErrorCode::ALL.contains(&code));
                }
            }
            Ok(())
        })?;
    }
}

#[test]
fn other_connections_and_the_ledger_survive_the_fuzzing() {
    let w = world();
    w.rt.block_on(async {
        let mut c = w.hub.connect(&w.session).await;
        let t = c.transfer("after-fuzz", "other", 100).await.expect("transfers still work");
        assert_eq!(t.amount.minor, 100);
        assert_eq!(w.hub.invariants_ok().await["ok"], true);
    });
}
