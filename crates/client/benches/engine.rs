//! Client engine benchmarks (criterion): applying events to the SQLite cache, the first history page and
//! full-text search over a million cached rows, and a cold open of that cache — each on a plain cache and
//! on the SQLCipher-encrypted one the app uses, side by side.
//! Run: `cargo bench -p tally-client --bench engine` (or `make bench-client`).
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tally_client::store::encryption::CacheKey;
use tally_client::store::Store;
use tally_client::view::TxFilter;
use tally_protocol::*;

const ROWS: i64 = 1_000_000;

fn tx_event(seq: u64) -> Event {
    let id = seq as i64;
    Event {
        channel: Channel::Transactions(1),
        epoch: "bench".into(),
        seq,
        ts: id,
        data: EventData::Transaction {
            transaction: Transaction {
                id,
                kind: TxKind::TransferIn,
                direction: Direction::In,
                amount: Money::new(100 + id % 5_000, Currency::USD),
                balance_after: id,
                counterparty: Some(UserSummary { id: 2, username: "bob".into(), display_name: "Bob Brown".into() }),
                memo: format!("lunch {id}"),
                transfer_id: Some(id),
                status: TransferStatus::Completed,
                created_at: 1_700_000_000_000 + id * 1000,
            },
        },
    }
}

/// A cache with a million transactions and a million messages, built once with bulk SQL. The directory's
/// version changes with the schema (v3: schema 3, trigger-kept counts and prefix indexes) so an old cache is not reused.
fn big_cache() -> PathBuf {
    let dir = std::env::temp_dir().join("tally-bench-cache-v3");
    let path = dir.join("cache.db");
    if path.exists() {
        return path;
    }
    std::fs::create_dir_all(&dir).unwrap();
    drop(Store::open(&path, 1).unwrap());
    let c = rusqlite::Connection::open(&path).unwrap();
    let words = ["coffee", "rent", "groceries", "concert", "taxi", "pizza", "books", "gym", "dinner", "gift"];
    c.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; BEGIN;").unwrap();
    c.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         INSERT INTO transactions (id, kind, direction, amount, currency, balance_after, cp_id, cp_username, cp_name, memo, transfer_id, status, created_at)
         SELECT i, 'transfer_in', CASE i % 2 WHEN 0 THEN 'in' ELSE 'out' END, 100 + i % 5000, 'USD', i, 2 + i % 50, 'user' || (i % 50), 'User ' || (i % 50),
                ?2 || ' ' || i, i, 'completed', 1700000000000 + i * 1000 FROM n",
        rusqlite::params![ROWS, words[0]],
    )
    .unwrap();
    c.execute("INSERT INTO tx_fts (rowid, memo, counterparty) SELECT id, memo, cp_username || ' ' || cp_name FROM transactions", []).unwrap();
    c.execute("INSERT INTO rooms (id, json, left_room, last_activity) VALUES (1, '{}', 0, 0)", []).unwrap();
    let mut words_sql = String::from("CASE i % 10");
    for (k, w) in words.iter().enumerate() {
        words_sql.push_str(&format!(" WHEN {k} THEN '{w}'"));
    }
    words_sql.push_str(" END");
    c.execute(
        &format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
             INSERT INTO messages (local_id, id, room, seq, client_msg_id, sender_id, json, text, local_state, sort_key)
             SELECT i, i, 1, i, 'c' || i, 2,
               json_object('id', i, 'room', 1, 'seq', i, 'client_msg_id', 'c' || i,
                 'sender', json_object('id', 2, 'username', 'bob', 'display_name', 'Bob Brown'),
                 'text', 'message ' || i || ' about ' || {words_sql} || ' and ' || (i % 997),
                 'mentions', json('[]'), 'sent_at', i, 'deleted', json('false'), 'reactions', json('[]')),
               'message ' || i || ' about ' || {words_sql} || ' and ' || (i % 997), 'sent', i FROM n"
        ),
        [ROWS],
    )
    .unwrap();
    c.execute("INSERT INTO msg_fts (rowid, text) SELECT local_id, text FROM messages", []).unwrap();
    c.execute_batch("COMMIT; PRAGMA optimize;").unwrap();
    path
}

/// A fixed key, so the encrypted copy of the big cache can be reused between runs.
fn bench_key() -> CacheKey {
    CacheKey::from_hex(&"5a".repeat(32)).unwrap()
}

/// The big cache encrypted as the app's is (SQLCipher, raw 256-bit key), made once from the plain one
/// through the same migration an upgrading app runs.
fn big_cache_encrypted(plain: &Path) -> PathBuf {
    let dir = std::env::temp_dir().join("tally-bench-cache-v3-sqlcipher");
    let path = dir.join("cache.db");
    if path.exists() {
        return path;
    }
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(plain, &path).unwrap();
    drop(Store::open_encrypted(&path, 1, &bench_key()).unwrap());
    path
}

/// Per-call latency percentiles, printed after criterion's figures: criterion times batches of calls and
/// reports their mean per call, while the targets are per-call p99.
fn percentiles(name: &str, calls: usize, mut f: impl FnMut()) {
    f(); // warm
    let mut t: Vec<Duration> = (0..calls)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    t.sort();
    let at = |q: f64| t[((calls as f64 * q).ceil() as usize).clamp(1, calls) - 1];
    println!("per call: {name}: p50 {:.2?}, p99 {:.2?}, max {:.2?} ({calls} calls)", at(0.5), at(0.99), t[calls - 1]);
}

fn open(path: &Path, encrypted: bool) -> Store {
    if encrypted {
        Store::open_encrypted(path, 1, &bench_key()).unwrap()
    } else {
        Store::open(path, 1).unwrap()
    }
}

const KINDS: [(&str, bool); 2] = [("plain", false), ("encrypted", true)];

fn apply(c: &mut Criterion) {
    let mut g = c.benchmark_group("apply");
    g.throughput(Throughput::Elements(500));
    for (label, encrypted) in KINDS {
        apply_one(&mut g, label, encrypted);
    }
    g.finish();
}

fn apply_one(g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>, label: &str, encrypted: bool) {
    g.bench_function(format!("500 transaction events, one batch, {label}"), |b| {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir.path().join("c.db"), encrypted);
        let mut next = 1u64;
        b.iter_batched(
            || {
                let evs: Vec<Event> = (next..next + 500).map(tx_event).collect();
                next += 500;
                evs
            },
            |evs| {
                let a = store.apply_events(&Channel::Transactions(1), &evs).unwrap();
                assert_eq!(a.count, 500);
            },
            BatchSize::SmallInput,
        )
    });
}

fn big(c: &mut Criterion) {
    let plain = big_cache();
    let encrypted = big_cache_encrypted(&plain);
    for (label, enc) in KINDS {
        big_one(c, label, if enc { &encrypted } else { &plain }, enc);
    }
}

fn big_one(c: &mut Criterion, label: &str, path: &Path, encrypted: bool) {
    let store = open(path, encrypted);
    let mut g = c.benchmark_group(format!("1M rows, {label}"));
    g.sample_size(50);
    g.bench_function("first history page (50 rows, no filter, with total count)", |b| {
        b.iter(|| assert_eq!(store.transactions(&TxFilter::default(), None, 50).unwrap().rows.len(), 50))
    });
    let first = store.transactions(&TxFilter::default(), None, 50).unwrap();
    let cursor = first.next.clone().unwrap();
    g.bench_function("next history page (50 rows, keyset cursor)", |b| {
        b.iter(|| assert_eq!(store.transactions(&TxFilter::default(), Some(&cursor), 50).unwrap().rows.len(), 50))
    });
    g.bench_function("history page, filtered (direction + amount range + counterparty)", |b| {
        let f = TxFilter {
            direction: Some(Direction::In),
            min_minor: Some(1_000),
            max_minor: Some(3_000),
            counterparty: Some("user7".into()),
            ..Default::default()
        };
        b.iter(|| store.transactions(&f, None, 50).unwrap())
    });
    g.bench_function("full-text search over 1M messages and 1M memos", |b| {
        b.iter(|| {
            let r = store.search("pizza 42").unwrap();
            assert!(!r.messages.is_empty());
        })
    });
    g.bench_function("full-text search, 2-letter prefix (\"co\": every memo, 20% of messages)", |b| {
        b.iter(|| {
            let r = store.search("co").unwrap();
            assert_eq!((r.transactions.len(), r.messages.len()), (20, 20));
        })
    });
    g.finish();
    percentiles(&format!("{}, {label}", "first history page with total count"), 2_000, || {
        store.transactions(&TxFilter::default(), None, 50).unwrap();
    });
    percentiles(&format!("{}, {label}", "full-text search \"pizza 42\""), 300, || {
        store.search("pizza 42").unwrap();
    });
    percentiles(&format!("{}, {label}", "full-text search \"co\""), 100, || {
        store.search("co").unwrap();
    });
    let mut g = c.benchmark_group(format!("cold open, {label}"));
    g.sample_size(20).measurement_time(Duration::from_secs(10));
    g.bench_function("open a 1M-row cache and read the first page", |b| {
        b.iter(|| {
            let s = open(path, encrypted);
            s.transactions(&TxFilter::default(), None, 50).unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, apply, big);
criterion_main!(benches);
