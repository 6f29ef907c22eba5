//! Several hubs on one PostgreSQL database, written to at once (run by `make test-postgres`, which
//! starts the server; without TALLY_TEST_PG this says it was skipped).
mod common;
use common::*;
use rand::{Rng, SeedableRng};
use std::collections::HashSet;
use tally_protocol::*;

const USERS: [&str; 6] = ["ada", "bo", "cy", "di", "ed", "flo"];
const START: i64 = 10_000;

async fn three_hubs() -> Option<Vec<TestHub>> {
    let server = match std::env::var("TALLY_TEST_PG") {
        Ok(s) if !s.is_empty() => s,
        _ => {
            eprintln!("SKIPPED: needs TALLY_TEST_PG (make test-postgres)");
            return None;
        }
    };
    let db = fresh_database(server).await;
    let mut hubs = Vec::new();
    for _ in 0..3 {
        // A transfer advances only every 30 ms, so hubs keep processing while others write.
        hubs.push(TestHub::start_on(Some(db.clone()), |c| c.transfer_step_ms = 30).await);
    }
    Some(hubs)
}

/// Every user's USD balance (available, pending) as the database has it.
async fn balances(hub: &TestHub, ids: &[UserId]) -> Vec<(i64, i64)> {
    let store = hub.running.as_ref().unwrap().hub.store.clone();
    let mut out = Vec::new();
    for &id in ids {
        let b = store.read(move |c| tally_hub::ledger::balance(c, id, Currency::USD)).await.unwrap();
        out.push((b.available, b.pending));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_of_transfers_through_three_hubs_keeps_the_ledger_exact() {
    let Some(hubs) = three_hubs().await else { return };
    let mut sessions = Vec::new();
    for u in USERS {
        sessions.push(hubs[0].register(u).await);
        hubs[0].deposit(u, START).await;
    }
    let ids: Vec<UserId> = sessions.iter().map(|s| s.user.id).collect();
    // Every user on every hub, each sending 15 random payments (some larger than what is left).
    let seed: u64 = rand::thread_rng().gen();
    eprintln!("storm seed {seed}");
    let mut tasks = Vec::new();
    for (h, hub) in hubs.iter().enumerate() {
        for (u, s) in sessions.iter().enumerate() {
            let mut c = hub.connect(s).await;
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ ((h * 16 + u) as u64));
            tasks.push(tokio::spawn(async move {
                let mut results = Vec::new();
                for i in 0..15 {
                    let to = USERS[(u + rng.gen_range(1..USERS.len())) % USERS.len()];
                    let amount = rng.gen_range(1..4_000);
                    results.push(c.transfer(&format!("h{h}-u{u}-{i}"), to, amount).await);
                }
                results
            }));
        }
    }
    let mut accepted = 0;
    for t in tasks {
        for r in t.await.unwrap() {
            match r {
                Ok(_) => accepted += 1,
                Err((code, msg)) => assert!(
                    matches!(code, ErrorCode::InsufficientFunds | ErrorCode::LimitExceeded),
                    "only a typed refusal is acceptable: {code:?} {msg}"
                ),
            }
        }
    }
    assert!(accepted > 50, "{accepted} of 270 accepted");
    // All of them settle, whichever hub processes them.
    let store = hubs[1].running.as_ref().unwrap().hub.store.clone();
    for _ in 0..300 {
        if store.read(tally_hub::ledger::unfinished_transfers).await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(store.read(tally_hub::ledger::unfinished_transfers).await.unwrap().is_empty(), "transfers left open");
    let b = balances(&hubs[2], &ids).await;
    assert!(b.iter().all(|&(available, pending)| available >= 0 && pending == 0), "{b:?}");
    assert_eq!(b.iter().map(|x| x.0).sum::<i64>(), START * USERS.len() as i64, "money was made or lost: {b:?}");
    for hub in &hubs {
        assert_eq!(hub.invariants_ok().await["ok"], true);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_idempotency_key_sent_to_two_hubs_at_once_makes_one_transfer() {
    let Some(hubs) = three_hubs().await else { return };
    let ann = hubs[0].register("ann").await;
    hubs[0].register("bob").await;
    hubs[0].deposit("ann", 100_000).await;
    let mut ids = HashSet::new();
    for i in 0..20 {
        let mut a = hubs[i % 3].connect(&ann).await;
        let mut b = hubs[(i + 1) % 3].connect(&ann).await;
        let key = format!("same-{i}");
        let (ra, rb) = tokio::join!(a.transfer(&key, "bob", 100), b.transfer(&key, "bob", 100));
        let (ta, tb) = (ra.expect("first hub"), rb.expect("second hub"));
        assert_eq!(ta.id, tb.id, "both hubs answer with the one transfer");
        ids.insert(ta.id);
    }
    assert_eq!(ids.len(), 20);
    let store = hubs[0].running.as_ref().unwrap().hub.store.clone();
    for _ in 0..300 {
        if store.read(tally_hub::ledger::unfinished_transfers).await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let b = balances(&hubs[0], &[ann.user.id]).await;
    assert_eq!(b, vec![(100_000 - 20 * 100, 0)], "each key charged once");
    assert_eq!(hubs[1].invariants_ok().await["ok"], true);
}
