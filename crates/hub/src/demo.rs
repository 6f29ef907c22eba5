//! `--demo`: a tenant with alice, bob and carol, a month of history, rooms, and a bot that keeps money
//! and messages moving.
use crate::chat;
use crate::error::{HubError, HubResult};
use crate::hub::Hub;
use crate::ledger;
use crate::store::now_ms;
use rand::seq::SliceRandom;
use rand::Rng;
use std::sync::Arc;
use std::time::Duration;
use tally_protocol::*;

pub const PASSWORD: &str = "tally-demo";
pub const USERS: [(&str, &str); 3] = [("alice", "Alice Adams"), ("bob", "Bob Brown"), ("carol", "Carol Chen")];

const MEMOS: [&str; 12] = [
    "Coffee ☕",
    "Lunch",
    "Groceries",
    "Concert tickets",
    "Taxi home",
    "Rent share",
    "Birthday gift 🎁",
    "Dinner at Luigi's",
    "Book club",
    "Electricity bill",
    "Movie night 🍿",
    "Gym pass",
];
const LINES: [&str; 10] = [
    "Sent you the money for yesterday 👍",
    "Thanks! Got it.",
    "Are we still on for Friday?",
    "I'll cover the tickets this time",
    "Can you check the electricity bill?",
    "Running 5 minutes late",
    "That was fun, let's do it again",
    "Who's bringing snacks?",
    "Paid, check your balance",
    "🎉🎉",
];

/// Seeds the demo tenant once (idempotent: does nothing when alice exists).
pub async fn seed(hub: &Arc<Hub>) -> HubResult<()> {
    let exists = hub
        .store
        .read(|c| {
            Ok(crate::auth::tenants::tenant_id(c, "default")?
                .map(|t| crate::directory::user_by_name(c, t, "alice"))
                .transpose()?
                .flatten()
                .is_some())
        })
        .await?;
    if exists {
        return Ok(());
    }
    let hash = tokio::task::spawn_blocking(|| crate::auth::passwords::hash_password(PASSWORD))
        .await
        .map_err(crate::error::HubError::internal)??;
    let limits = (hub.cfg.limit_single, hub.cfg.limit_daily);
    hub.store
        .write(move |c, e| {
            let t = crate::auth::tenants::ensure_tenant(c, "default")?;
            let mut users = Vec::new();
            for (u, d) in USERS {
                users.push(crate::directory::create_user(c, t, u, d, &hash, limits)?);
            }
            let mut rng = rand::thread_rng();
            let now = now_ms();
            let day = 86_400_000;
            for u in &users {
                ledger::deposit(c, e, t, u.id, Money::new(250_000, Currency::USD), "Salary", Some(now - 30 * day))?;
                ledger::deposit(
                    c,
                    e,
                    t,
                    u.id,
                    Money::new(40_000, Currency::EUR),
                    "Travel money",
                    Some(now - 29 * day),
                )?;
            }
            // A month of small payments between them, completed, backdated.
            for i in 0..60 {
                let a = rng.gen_range(0..3);
                let b = (a + rng.gen_range(1..3)) % 3;
                let amount = Money::new(rng.gen_range(3..80) * 100 + rng.gen_range(0..100), Currency::USD);
                let memo = MEMOS.choose(&mut rng).copied().unwrap_or("Payment");
                let key = format!("seed-{i}");
                let req = ledger::NewTransfer { key: &key, to: &users[b].username, amount, memo, expires_at: None };
                if let Ok(ledger::Created::New(tr)) = ledger::create_transfer(c, e, t, &users[a], req) {
                    ledger::advance_transfer(c, e, t, tr.id)?;
                    ledger::advance_transfer(c, e, t, tr.id)?;
                    let when = now - (60 - i) * day / 2;
                    ledger::backdate_transfer(c, t, tr.id, when)?;
                }
            }
            let (alice, bob, carol) = (users[0].clone(), users[1].clone(), users[2].clone());
            let dm = chat::create_room(c, e, t, &alice, RoomKind::Direct, "", &["bob".into()])?;
            let flat =
                chat::create_room(c, e, t, &alice, RoomKind::Group, "Flatmates", &["bob".into(), "carol".into()])?;
            chat::send(c, e, t, &bob, dm.id, &chat::Outgoing::text("seed-1", "Hey Alice! Pizza tonight?"))?;
            chat::send(c, e, t, &alice, dm.id, &chat::Outgoing::text("seed-2", "Sure 🍕 I'll send you my half"))?;
            chat::send(c, e, t, &carol, flat.id, &chat::Outgoing::text("seed-3", "Rent is due on Friday, everyone"))?;
            chat::send(
                c,
                e,
                t,
                &bob,
                flat.id,
                &chat::Outgoing::text("seed-4", "On it. @alice can you pay the internet this month?"),
            )?;
            // bob asks alice for her half of the pizza, in their conversation: a request and its card.
            let memo = "Pizza, your half 🍕";
            let amount = Money::new(1_250, Currency::USD);
            let req = ledger::NewRequest { key: "seed-pizza", to: "alice", amount, memo, expires_at: None };
            let (r, _) = ledger::create_request(c, e, t, &bob, req)?;
            let card = MessageCard::Request { id: r.id, payer: r.payer.clone(), amount };
            chat::post_card(c, e, t, &bob, dm.id, card, memo)?;
            Ok(())
        })
        .await?;
    tracing::info!("demo tenant seeded: users alice, bob, carol (password {PASSWORD})");
    Ok(())
}

/// Every `interval` a random demo user pays or messages another one (mostly alice, who the app signs in as).
pub fn spawn_bot(hub: Arc<Hub>, interval: Duration) {
    tokio::spawn(async move {
        let mut n: u64 = 0;
        loop {
            let jitter = rand::thread_rng().gen_range(0..=interval.as_millis() as u64 / 2);
            tokio::time::sleep(interval + Duration::from_millis(jitter)).await;
            n += 1;
            if let Err(e) = bot_step(&hub, n).await {
                tracing::debug!(error = %e, "demo bot step skipped");
            }
        }
    });
}

async fn bot_step(hub: &Arc<Hub>, n: u64) -> HubResult<()> {
    let (from_i, action, memo, line, minor) = {
        let mut rng = rand::thread_rng();
        (
            rng.gen_range(1..3usize),
            rng.gen_range(0..3u8),
            MEMOS.choose(&mut rng).copied().unwrap_or("Payment"),
            LINES.choose(&mut rng).copied().unwrap_or("Hi"),
            rng.gen_range(2..40i64) * 100 + rng.gen_range(0..100),
        )
    };
    let from_name = USERS[from_i].0;
    let found = hub
        .store
        .read(move |c| {
            let t = crate::auth::tenants::tenant_id(c, "default")?
                .ok_or_else(|| HubError::internal("the default tenant is missing"))?;
            Ok(crate::directory::user_by_name(c, t, from_name)?.map(|u| (t, u.0)))
        })
        .await?;
    let Some((t, from)) = found else { return Ok(()) };
    if action == 0 {
        let rooms = hub.store.read(move |c| chat::rooms_of(c, t, from.id)).await?;
        if let Some(room) = rooms.first() {
            let rid = room.id;
            hub.store
                .write(move |c, e| {
                    chat::send(c, e, t, &from, rid, &chat::Outgoing::text(format!("bot-{n}-{}", now_ms()), line))
                })
                .await?;
        }
    } else {
        let key = format!("bot-{n}-{}", now_ms());
        let created = hub
            .store
            .write(move |c, e| {
                ledger::create_transfer(
                    c,
                    e,
                    t,
                    &from,
                    ledger::NewTransfer {
                        key: &key,
                        to: "alice",
                        amount: Money::new(minor, Currency::USD),
                        memo,
                        expires_at: None,
                    },
                )
            })
            .await?;
        if let ledger::Created::New(tr) = created {
            hub.drive_transfer(t, tr.id);
        }
    }
    Ok(())
}
