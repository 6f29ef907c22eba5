//! The hub's storage write and read paths on SQLite (criterion): a transfer accepted through
//! `Store::write` (idempotency, limits, hold, postings, history lines and five logged events in one
//! group-committed job), one event appended to a channel log, and a page of history read on a read
//! connection. Written against the domain functions and `Store` only, so the same file measures any
//! storage body behind them.
//! Run: `cargo bench -p tally-hub --bench store` (`-- --save-baseline NAME` / `--baseline NAME` to compare).
use criterion::{criterion_group, criterion_main, Criterion};
use std::sync::Arc;
use tally_hub::ids::TenantId;
use tally_hub::ledger::{create_transfer, NewTransfer};
use tally_hub::store::{Backend, Store};
use tally_hub::{ledger, log};
use tally_protocol::*;

const USERS: usize = 50;
/// Transfers each user has sent before the measurements start (so every history page is a full one).
const HISTORY: usize = 60;

struct Fixture {
    rt: tokio::runtime::Runtime,
    store: Store,
    tenant: TenantId,
    users: Vec<UserSummary>,
    _dir: tempfile::TempDir,
}

/// A hub database with users who each hold money, made through the domain functions.
fn fixture() -> Fixture {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::start(&Backend::Sqlite(dir.path().join("hub.db")), Arc::new(|_| {})).unwrap();
    let (tenant, users) = rt
        .block_on(store.write(|tx, emits| {
            let tenant = tally_hub::auth::tenants::ensure_tenant(tx, "bench")?;
            let mut users = Vec::new();
            for i in 0..USERS {
                let u = tally_hub::directory::create_user(
                    tx,
                    tenant,
                    &format!("user{i}"),
                    "",
                    "x",
                    (i64::MAX / 4, i64::MAX / 4),
                )?;
                ledger::deposit(tx, emits, tenant, u.id, Money::new(1_000_000_000, Currency::USD), "", None)?;
                users.push(u);
            }
            Ok((tenant, users))
        }))
        .unwrap();
    let f = Fixture { rt, store, tenant, users, _dir: dir };
    for n in 0..USERS * HISTORY {
        transfer(&f, n);
    }
    f
}

/// User `n % USERS` pays one cent to another, under a key of its own.
fn transfer(f: &Fixture, n: usize) {
    let (from, to) = (f.users[n % USERS].clone(), f.users[(n * 7 + 1) % USERS].username.clone());
    let (tenant, key) = (f.tenant, format!("k{n}"));
    f.rt.block_on(f.store.write(move |tx, emits| {
        let req = NewTransfer { key: &key, to: &to, amount: Money::new(1, Currency::USD), memo: "", expires_at: None };
        create_transfer(tx, emits, tenant, &from, req).map(|_| ())
    }))
    .unwrap()
}

fn bench(c: &mut Criterion) {
    let f = fixture();
    let mut g = c.benchmark_group("hub_store_sqlite");
    let mut n = USERS * HISTORY;
    g.bench_function("transfer_create", |b| {
        b.iter(|| {
            n += 1;
            transfer(&f, n)
        })
    });
    g.bench_function("event_append", |b| {
        b.iter(|| {
            n += 1;
            let (tenant, user) = (f.tenant, f.users[n % USERS].id);
            f.rt.block_on(f.store.write(move |tx, emits| {
                let data = EventData::Balance {
                    balance: Balance { currency: Currency::USD, available: 1, pending: 0, as_of: 0 },
                };
                log::append(tx, emits, tenant, Channel::Balance(user), data).map(|_| ())
            }))
            .unwrap()
        })
    });
    g.bench_function("history_page_50", |b| {
        b.iter(|| {
            n += 1;
            let (tenant, user) = (f.tenant, f.users[n % USERS].id);
            f.rt.block_on(f.store.read(move |tx| ledger::transactions_page(tx, tenant, user, None, 50))).unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
