mod common;
use common::*;
use tally_protocol::*;

async fn setup() -> (TestHub, Session, Session) {
    let hub = TestHub::start().await;
    let a = hub.register("rita").await;
    let b = hub.register("sam").await;
    hub.deposit("rita", 1_000_000).await;
    (hub, a, b)
}

fn seqs(events: &[Event]) -> Vec<u64> {
    events.iter().map(|e| e.seq).collect()
}

#[tokio::test]
async fn replays_missed_events_after_reconnect_exactly() {
    let (hub, a, _b) = setup().await;
    let ch = Channel::Transactions(a.user.id);
    let mut c = hub.connect(&a).await;
    let (_, sub) = c.subscribe(ch, None).await.unwrap();
    let ServerFrame::Subscribed { epoch, seq: start, .. } = sub else { panic!() };
    c.transfer("t1", "sam", 100).await.unwrap();
    let first = c.event_on(ch).await;
    assert_eq!(first.seq, start + 1);
    drop(c); // offline

    // While offline: more events.
    let mut other = hub.connect(&a).await;
    for i in 0..5 {
        other.transfer(&format!("off-{i}"), "sam", 100).await.unwrap();
    }
    // Wait until all transfers are written (one transaction event each: posted in the job that made it).
    let want_head = first.seq + 5;
    let store = hub.running.as_ref().unwrap().hub.store.clone();
    let tenant_user = a.user.id;
    for _ in 0..200 {
        let h = store
            .read(move |c| tally_hub::log::head(c, tally_hub::ids::TenantId(1), &Channel::Transactions(tenant_user)))
            .await
            .unwrap()
            .unwrap();
        if h.seq >= want_head {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    let mut c = hub.connect(&a).await;
    let (replayed, sub) = c.subscribe(ch, Some(Position { epoch: epoch.clone(), seq: first.seq })).await.unwrap();
    let ServerFrame::Subscribed { recovered, seq, replayed: n, .. } = sub else { panic!() };
    assert!(recovered);
    assert_eq!(n as usize, replayed.len());
    assert_eq!(seqs(&replayed), ((first.seq + 1)..=seq).collect::<Vec<_>>(), "no gap, no duplicate");
    assert!(seq >= want_head);
}

#[tokio::test]
async fn replay_and_live_do_not_race() {
    // Events keep arriving while the client subscribes with `since`: the union of replayed and live
    // events must be exactly seq+1, seq+2, ... with nothing missing or repeated.
    let (hub, a, _b) = setup().await;
    let ch = Channel::Transactions(a.user.id);
    let mut writer = hub.connect(&a).await;
    writer.transfer("w0", "sam", 1).await.unwrap();
    let mut c = hub.connect(&a).await;
    let (_, sub) = c.subscribe(ch, None).await.unwrap();
    let ServerFrame::Subscribed { epoch, seq: since, .. } = sub else { panic!() };
    drop(c);

    let url = hub.ws_url();
    let tok = a.access.clone();
    let storm = tokio::spawn(async move {
        let mut w = Client::connect(&url, &tok, vec![]).await;
        for i in 0..60 {
            w.transfer(&format!("storm-{i}"), "sam", 1).await.unwrap();
        }
    });
    for round in 0..5 {
        let mut c = hub.connect(&a).await;
        let (replayed, sub) = c.subscribe(ch, Some(Position { epoch: epoch.clone(), seq: since })).await.unwrap();
        let ServerFrame::Subscribed { recovered, seq: head, .. } = sub else { panic!() };
        assert!(recovered, "round {round}");
        let mut got = seqs(&replayed);
        assert_eq!(got.last().copied().unwrap_or(since), head);
        // Collect live events for a moment.
        let end = tokio::time::Instant::now() + std::time::Duration::from_millis(150);
        while let Ok(f) = tokio::time::timeout_at(end, c.next_frame()).await {
            if let ServerFrame::Event(e) = f {
                if e.channel == ch {
                    got.push(e.seq);
                }
            }
        }
        let want: Vec<u64> = ((since + 1)..=(since + got.len() as u64)).collect();
        assert_eq!(got, want, "round {round}: gap or duplicate");
    }
    storm.await.unwrap();
}

#[tokio::test]
async fn beyond_retention_the_reply_is_not_recovered() {
    let hub = TestHub::start_with(|c| c.retention_events = 5).await;
    let a = hub.register("tom").await;
    hub.register("uma").await;
    hub.deposit("tom", 100_000).await;
    let ch = Channel::Transactions(a.user.id);
    let mut c = hub.connect(&a).await;
    let (_, sub) = c.subscribe(ch, None).await.unwrap();
    let ServerFrame::Subscribed { epoch, seq: since, .. } = sub else { panic!() };
    // 18 payments, one history event each.
    for i in 0..18 {
        c.transfer(&format!("r{i}"), "uma", 10).await.unwrap();
    }
    for _ in 0..18 {
        c.event_on(ch).await;
    }
    // Trim as the housekeeping task would.
    hub.running.as_ref().unwrap().hub.store.write(|conn, _| tally_hub::log::trim(conn, 5, i64::MAX / 2)).await.unwrap();
    let mut c2 = hub.connect(&a).await;
    let (replayed, sub) = c2.subscribe(ch, Some(Position { epoch: epoch.clone(), seq: since })).await.unwrap();
    let ServerFrame::Subscribed { recovered, seq, .. } = sub else { panic!() };
    assert!(!recovered);
    assert!(replayed.is_empty());
    assert_eq!(seq, since + 18);
    // A recent position is still recoverable.
    let (replayed, sub) = c2.subscribe(ch, Some(Position { epoch: epoch.clone(), seq: since + 15 })).await.unwrap();
    assert!(matches!(sub, ServerFrame::Subscribed { recovered: true, .. }));
    assert_eq!(seqs(&replayed), vec![since + 16, since + 17, since + 18]);
    // A wrong epoch or a position ahead of the log is not recovered either.
    let (_, sub) = c2.subscribe(ch, Some(Position { epoch: "other".into(), seq: since + 15 })).await.unwrap();
    assert!(matches!(sub, ServerFrame::Subscribed { recovered: false, .. }));
    let (_, sub) = c2.subscribe(ch, Some(Position { epoch, seq: since + 999 })).await.unwrap();
    assert!(matches!(sub, ServerFrame::Subscribed { recovered: false, .. }));
}

#[tokio::test]
async fn replay_is_paged_in_batches_of_at_most_500() {
    let (hub, a, _) = setup().await;
    let ch = Channel::Notifications(a.user.id);
    let store = hub.running.as_ref().unwrap().hub.store.clone();
    let uid = a.user.id;
    store
        .write(move |c, e| {
            for i in 0..1_200 {
                let title = format!("n{i}");
                let (kind, priority) = (NotificationKind::System, Priority::Low);
                let n = tally_hub::notify::New {
                    tenant: tally_hub::ids::TenantId(1),
                    user: uid,
                    kind,
                    priority,
                    title: &title,
                    body: "",
                    target: None,
                    text: None,
                };
                tally_hub::notify::create(c, e, n)?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let mut c = hub.connect(&a).await;
    let id = c.id();
    c.send(&ClientFrame::Subscribe {
        id,
        channel: ch,
        since: Some(Position {
            epoch: store
                .read(move |c| tally_hub::log::head(c, tally_hub::ids::TenantId(1), &ch))
                .await
                .unwrap()
                .unwrap()
                .epoch,
            seq: 0,
        }),
    })
    .await;
    let mut batches = Vec::new();
    loop {
        match c.next_frame().await {
            ServerFrame::Batch { events, .. } => batches.push(events.len()),
            ServerFrame::Subscribed { recovered, replayed, .. } => {
                assert!(recovered);
                assert_eq!(replayed as usize, batches.iter().sum::<usize>());
                break;
            }
            _ => {}
        }
    }
    assert!(batches.iter().all(|n| *n <= MAX_REPLAY_BATCH), "{batches:?}");
    assert!(batches.iter().sum::<usize>() >= 1_201);
}

#[tokio::test]
async fn hub_restart_keeps_data_and_positions() {
    let (mut hub, a, _b) = setup().await;
    let ch = Channel::Balance(a.user.id);
    let mut c = hub.connect(&a).await;
    let (_, sub) = c.subscribe(ch, None).await.unwrap();
    let ServerFrame::Subscribed { epoch, seq, .. } = sub else { panic!() };
    let before = c.transfer("before-restart", "sam", 500).await.unwrap();
    c.event_on(ch).await;
    hub.restart_with(|_| {}).await;
    // Graceful shutdown told the client to reconnect; the log continues in the same epoch.
    let mut c = hub.connect(&a).await;
    let (replayed, sub) = c.subscribe(ch, Some(Position { epoch: epoch.clone(), seq })).await.unwrap();
    let ServerFrame::Subscribed { recovered, epoch: e2, .. } = sub else { panic!() };
    assert!(recovered);
    assert_eq!(e2, epoch);
    assert!(!replayed.is_empty());
    // Idempotency survives the restart too, and a transfer caught in flight by the restart completes.
    let t = c.transfer("before-restart", "sam", 500).await.unwrap();
    assert_eq!(t.id, before.id);
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let t = c.transfer("before-restart", "sam", 500).await.unwrap();
        if t.status == TransferStatus::Completed {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the in-flight transfer never completed after the restart");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(hub.invariants_ok().await["ok"], true);
}

#[tokio::test]
async fn graceful_shutdown_sends_a_reconnect_hint_then_1012() {
    let (mut hub, a, _) = setup().await;
    let mut c = hub.connect(&a).await;
    let r = hub.running.take().unwrap();
    let stop = tokio::spawn(async move { r.shutdown().await });
    let f = c.wait_for("reconnect", |f| matches!(f, ServerFrame::Reconnect { .. })).await;
    let ServerFrame::Reconnect { delay_ms, .. } = f else { panic!() };
    assert!((500..5_000).contains(&delay_ms));
    assert_eq!(c.closed_with().await, Some(1012));
    stop.await.unwrap();
}

/// Retention works in bounded passes (it runs inside the writer's group commit): each pass deletes at
/// most its batch, oldest first, and repeated passes reach exactly the per-channel count.
#[tokio::test]
async fn retention_passes_are_bounded_and_converge() {
    // Reads the SQLite file itself to count what is left.
    let hub = TestHub::start_sqlite_with(|_| {}).await;
    let store = hub.running.as_ref().unwrap().hub.store.clone();
    store
        .write(|c, e| {
            for ch in [Channel::Broadcast, Channel::User(1), Channel::User(2)] {
                for i in 0..40 {
                    tally_hub::log::append(
                        c,
                        e,
                        tally_hub::ids::TenantId(1),
                        ch,
                        EventData::System { title: format!("t{i}"), body: String::new(), priority: Priority::Low },
                    )?;
                }
            }
            Ok(())
        })
        .await
        .unwrap();
    // What is on disk, read beside the running hub (WAL lets a second reader in).
    let db = hub.dir.path().join("hub.db");
    let count = |ch: &'static str| {
        let c = rusqlite::Connection::open(&db).unwrap();
        let n = c
            .query_row(
                "SELECT COUNT(*), MIN(seq), MAX(seq) FROM events WHERE tenant_id = 1 AND channel = ?1",
                [ch],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?, r.get::<_, Option<i64>>(2)?)),
            )
            .unwrap();
        async move { n }
    };
    let mut passes = 0;
    loop {
        let n = store.write(|c, _| tally_hub::log::trim_batch(c, 10, i64::MAX / 2, 25)).await.unwrap();
        assert!(n <= 25, "a pass deleted {n}");
        passes += 1;
        if n == 0 {
            break;
        }
        assert!(passes < 10);
    }
    assert!(passes >= 4, "90 deletions in batches of 25 take 4 passes, took {passes}");
    for ch in ["broadcast", "user:1", "user:2"] {
        assert_eq!(count(ch).await, (10, Some(31), Some(40)), "{ch}");
    }
    // Age: everything older than the limit goes, newest kept.
    store.write(|c, _| tally_hub::log::trim_batch(c, 1_000, -1_000, 1_000)).await.unwrap();
    assert_eq!(count("broadcast").await.0, 0);
}
