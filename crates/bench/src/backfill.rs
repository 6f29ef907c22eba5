//! `tally-bench backfill`: how long a new device takes to download a long history, what the history
//! screen's query costs while it does, and what one download costs the hub. The release hub runs as its
//! own process with the history made through its admin API (bulk deposits, the ledger's own path); the
//! client is the real engine (tally-client) signing in on an empty data dir over loopback.
use crate::servers::{usage, Server};
use hdrhistogram::Histogram;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tally_client::notify::RecordingNotifier;
use tally_client::secrets::MemoryStore;
use tally_client::view::TxFilter;
use tally_client::{Engine, EngineConfig};

pub struct Figures {
    pub rows: u64,
    pub seeded_s: f64,
    pub download_s: f64,
    pub pages: u64,
    pub page_query: Histogram<u64>,
    pub hub_cpu_s: f64,
    pub hub_rss_kib: u64,
}

/// Fills a fresh hub with `rows` transactions for one user, then times a fresh engine's full download.
pub async fn run(rows: u64) -> anyhow::Result<Figures> {
    let dir = tempfile::tempdir()?;
    let hub = Server::start_tally(&dir.path().join("hub"), None).await?;
    hub.admin(
        "/v1/admin/users",
        json!({"users": [{"username": "longtime", "display_name": "Long Time"}], "password": "bench-password"}),
    )
    .await?;
    let seeded = Instant::now();
    let mut left = rows;
    while left > 0 {
        let n = left.min(10_000);
        let body = json!({"username": "longtime", "amount": {"minor": 199, "currency": "EUR"}, "count": n,
                          "memo": "history", "notify": false});
        hub.admin("/v1/admin/deposits", body).await?;
        left -= n;
    }
    let seeded_s = seeded.elapsed().as_secs_f64();
    let before = usage(hub.pid);
    let app_dir = tempfile::tempdir()?;
    let engine = Arc::new(Engine::new(
        EngineConfig::new(app_dir.path(), "tally-bench"),
        Arc::new(MemoryStore::default()),
        Arc::new(RecordingNotifier::default()),
    ));
    let started = Instant::now();
    engine.sign_in(&hub.http, "longtime", "bench-password", None).await?;
    // While the download runs, the history screen asks for its first page every 5 ms.
    let done = Arc::new(AtomicBool::new(false));
    let prober = {
        let (engine, done) = (engine.clone(), done.clone());
        tokio::task::spawn_blocking(move || {
            let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds");
            while !done.load(Ordering::Relaxed) {
                let t = Instant::now();
                if engine.transactions(&TxFilter::default(), None, 50).is_ok() {
                    let _ = h.record(t.elapsed().as_micros().max(1) as u64);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            h
        })
    };
    let deadline = Instant::now() + Duration::from_secs(900);
    loop {
        let p = engine.sync_progress()?;
        if p.complete && p.fetched >= rows {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "the download did not finish in 15 minutes: {p:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let download_s = started.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    let page_query = prober.await?;
    let after = usage(hub.pid);
    let pages = engine.history_pages_fetched()?;
    let cached = engine.transactions(&TxFilter::default(), None, 1)?.total;
    anyhow::ensure!(cached as u64 == rows, "cached {cached} of {rows} rows");
    engine.shutdown();
    hub.stop().await;
    Ok(Figures {
        rows,
        seeded_s,
        download_s,
        pages,
        page_query,
        hub_cpu_s: after.cpu_s - before.cpu_s,
        hub_rss_kib: after.rss_kib,
    })
}

pub fn print(f: &Figures) {
    let ms = |us: u64| us as f64 / 1000.0;
    println!(
        "backfill of {} rows: {:.1} s ({:.0} rows/s) in {} pages; history first page while downloading: \
         p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} samples); hub CPU {:.1} s, hub RSS {} MiB; seeding took {:.1} s",
        f.rows,
        f.download_s,
        f.rows as f64 / f.download_s,
        f.pages,
        ms(f.page_query.value_at_quantile(0.5)),
        ms(f.page_query.value_at_quantile(0.99)),
        ms(f.page_query.max()),
        f.page_query.len(),
        f.hub_cpu_s,
        f.hub_rss_kib / 1024,
        f.seeded_s
    );
}
