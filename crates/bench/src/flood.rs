//! `tally-bench flood`: what a flood of requests from people without an account costs the hub. Sign-ups to
//! a closed tenant and sign-ins as unknown users, each from its own address (through a trusted proxy, as a
//! botnet would look), and admin calls without a token carrying 1 MiB bodies, many at once; the hub's
//! memory is sampled all along. The security review measured the same sign-up flood taking a hub from
//! 1 GiB to 16 GiB in 31 s before password work was bounded; the target is a peak under 512 MiB.
use crate::servers::Server;
use futures_util::stream::{self, StreamExt};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Opts {
    pub requests: usize,
    pub concurrency: usize,
    pub out: Option<PathBuf>,
}

const METRICS_TOKEN: &str = "flood-bench-metrics-token";
const BEGIN: &str = "<!-- tally-bench flood: begin -->";
const END: &str = "<!-- tally-bench flood: end -->";

struct Phase {
    name: &'static str,
    statuses: BTreeMap<String, usize>,
    secs: f64,
    peak_kib: u64,
}

/// Keeps `peak` at the highest RSS (KiB) of `pid` seen since it was last reset, sampled every 10 ms.
fn sample_peak(pid: u32, peak: Arc<AtomicU64>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            peak.fetch_max(crate::servers::usage(pid).rss_kib, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
}

async fn flood(
    (name, peak): (&'static str, &AtomicU64),
    n: usize,
    conc: usize,
    send: impl Fn(usize) -> reqwest::RequestBuilder,
) -> Phase {
    peak.store(0, Ordering::Relaxed);
    let started = Instant::now();
    let answers: Vec<String> = stream::iter((0..n).map(send))
        .map(|r| async move {
            match r.send().await {
                Ok(r) => r.status().as_u16().to_string(),
                Err(_) => "closed unread".into(),
            }
        })
        .buffer_unordered(conc)
        .collect()
        .await;
    let mut statuses = BTreeMap::new();
    for a in answers {
        *statuses.entry(a).or_default() += 1;
    }
    tokio::time::sleep(Duration::from_millis(30)).await;
    Phase { name, statuses, secs: started.elapsed().as_secs_f64(), peak_kib: peak.load(Ordering::Relaxed) }
}

fn address(i: usize) -> String {
    format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255)
}

async fn hashes(http: &reqwest::Client, s: &Server) -> anyhow::Result<u64> {
    let text = http.get(format!("{}/metrics", s.http)).bearer_auth(METRICS_TOKEN).send().await?.text().await?;
    Ok(text
        .lines()
        .filter(|l| l.starts_with("tally_password_hashes_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64)
}

pub async fn run(o: Opts) -> anyhow::Result<()> {
    let dir = tempfile_dir()?;
    let env = [("TALLY_TRUSTED_PROXY", "127.0.0.1/32"), ("TALLY_METRICS_TOKEN", METRICS_TOKEN)];
    let hub = Server::start_tally_env(&dir, None, &env).await?;
    hub.admin("/v1/admin/tenants", json!({"name": "vault", "registration": "closed"})).await?;
    let pid = hub.pid;
    let base_rss = crate::servers::usage(pid).rss_kib;
    let peak = Arc::new(AtomicU64::new(0));
    let sampler = sample_peak(pid, peak.clone());
    let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;
    let hashes_before = hashes(&http, &hub).await?;
    let url = hub.http.clone();
    let body = |i: usize, tenant: Option<&str>| json!({"username": format!("mallory{i}"), "password": "correct horse battery staple", "tenant": tenant});
    let signups = flood(("sign-up to a closed tenant", &peak), o.requests, o.concurrency, |i| {
        http.post(format!("{url}/v1/auth/register")).header("x-forwarded-for", address(i)).json(&body(i, Some("vault")))
    })
    .await;
    let signins = flood(("sign-in as unknown users", &peak), o.requests, o.concurrency, |i| {
        http.post(format!("{url}/v1/auth/login"))
            .header("x-forwarded-for", address(i + o.requests))
            .json(&body(i, None))
    })
    .await;
    let big: Arc<str> = Arc::from("x".repeat(1 << 20));
    let admin = flood(("admin without a token, 1 MiB bodies", &peak), o.requests / 10, o.concurrency / 4, |_| {
        http.post(format!("{url}/v1/admin/users")).header("content-type", "application/json").body(big.to_string())
    })
    .await;
    sampler.abort();
    let peak_kib = signups.peak_kib.max(signins.peak_kib).max(admin.peak_kib);
    let hwm = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse::<u64>().ok())
        .unwrap_or(peak_kib);
    let hashed = hashes(&http, &hub).await? - hashes_before;
    hub.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    let md = render(&o, [&signups, &signins, &admin], (base_rss, peak_kib.max(hwm)), hashed);
    println!("{md}");
    if let Some(out) = &o.out {
        write_between(out, &md)?;
        eprintln!("wrote {}", out.display());
    }
    Ok(())
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("tally-flood-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn render(o: &Opts, phases: [&Phase; 3], (base, peak): (u64, u64), hashed: u64) -> String {
    let mib = |k: u64| k as f64 / 1024.0;
    let mut md = format!(
        "\n## A flood without credentials (tally-bench flood)\n\n\
         Machine: {}. Measured {} by `make bench-flood` (`tally-bench flood --requests {} --concurrency {}`): one \
         release hub on SQLite behind a trusted proxy address, every request from its own client address (as a \
         botnet would look), {} in flight at once. Target: the hub's peak memory under 512 MiB (the review measured \
         16 GiB for 800 parallel sign-ups before password work was bounded).\n\n\
         | Phase | Requests | Answers | Time | Hub's peak RSS |\n|---|---|---|---|---|\n",
        crate::machine(),
        crate::chrono_like_now(),
        o.requests,
        o.concurrency,
        o.concurrency
    );
    for p in phases {
        let n: usize = p.statuses.values().sum();
        let answers: Vec<String> = p.statuses.iter().map(|(s, c)| format!("{c} × {s}")).collect();
        md +=
            &format!("| {} | {n} | {} | {:.1} s | {:.0} MiB |\n", p.name, answers.join(", "), p.secs, mib(p.peak_kib));
    }
    md += &format!(
        "\nThe hub's resident memory: **{:.0} MiB before, {:.0} MiB at the peak** (the highest of the 10 ms samples \
         and the kernel's VmHWM; target < 512 MiB). \
         Password hashes run during the whole flood: {hashed} (`tally_password_hashes_total`): none for the sign-ups \
         (the closed tenant is settled first), at most one per sign-in that got a place in the password queue \
         (two at a time on this machine, 32 waiting; the rest were answered 429 at once), and none for the admin \
         calls (the token is checked before the body is read).\n",
        mib(base),
        mib(peak)
    );
    md
}

fn write_between(path: &std::path::Path, md: &str) -> anyhow::Result<()> {
    let doc = std::fs::read_to_string(path).unwrap_or_default();
    let block = format!("{BEGIN}\n{md}\n{END}");
    let new = match (doc.find(BEGIN), doc.find(END)) {
        (Some(a), Some(b)) if b > a => format!("{}{}{}", &doc[..a], block, &doc[b + END.len()..]),
        _ => format!("{doc}\n{block}\n"),
    };
    std::fs::write(path, new)?;
    Ok(())
}
