//! tally-bench: the Tally hub and a Socket.IO 4.8 server (and a raw TCP baseline) under the same load,
//! from the same load generator, on the same machine. See docs/BENCHMARKS.md.
mod backfill;
mod cluster;
mod flood;
mod pool;
mod raw;
mod report;
mod scenarios;
mod servers;
mod stats;
mod wire;
mod worker;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "tally-bench", version, about)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Runs the scenarios against Tally, Socket.IO and the raw baseline and writes the report.
    Run {
        /// Small sizes and short steps (about two minutes in all); a smoke test, not a measurement.
        #[arg(long)]
        quick: bool,
        /// Only these scenarios (1-7), e.g. `--only 2,3`.
        #[arg(long, value_delimiter = ',')]
        only: Vec<u8>,
        /// The markdown file whose tally-bench section is rewritten.
        #[arg(long)]
        out: Option<PathBuf>,
        /// The repository root (for bench/socketio).
        #[arg(long, default_value = ".")]
        root: PathBuf,
    },
    /// A new device downloading a long history: time to fully cached, the history page query while it
    /// runs, and the hub's CPU for one download (issue targets: 100k rows ≤ 20 s, 1M ≤ 3 min, p99 ≤ 16 ms).
    Backfill {
        /// History sizes to measure, e.g. `--rows 100000,1000000`.
        #[arg(long, value_delimiter = ',', default_values_t = [100_000u64])]
        rows: Vec<u64>,
        /// Runs of each size (the spread is printed).
        #[arg(long, default_value_t = 3)]
        runs: u32,
    },
    /// One hub on SQLite beside the cluster (three hubs, PostgreSQL, Redis, HAProxy) under the same load:
    /// room fan-out, personal channels, the ledger and a reconnect storm. Run it inside the cluster:
    /// `make bench-cluster` (scripts/cluster.sh ... -- tally-bench cluster).
    Cluster {
        /// Small sizes and short steps; a smoke test, not a measurement.
        #[arg(long)]
        quick: bool,
        /// The markdown file whose cluster section is rewritten.
        #[arg(long, default_value = "docs/BENCHMARKS.md")]
        out: PathBuf,
    },
    /// A flood of requests without credentials (sign-ups to a closed tenant, sign-ins as nobody, admin
    /// calls without a token) against one hub: its peak memory and the password work it did.
    Flood {
        /// Requests per phase (sign-up, sign-in; a tenth of it for the admin calls).
        #[arg(long, default_value_t = 4_000)]
        requests: usize,
        /// Requests in flight at once.
        #[arg(long, default_value_t = 800)]
        concurrency: usize,
        /// The markdown file whose flood section is rewritten (else printed only).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// A client process (started by `run`; speaks JSON lines on stdin/stdout).
    #[command(hide = true)]
    Worker,
    /// The raw TCP baseline server.
    #[command(hide = true)]
    RawServer {
        #[arg(long)]
        port: u16,
        #[arg(long)]
        http_port: u16,
    },
}

pub(crate) fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| s.lines().next().and_then(|l| l.split_whitespace().nth(1)).and_then(|k| k.parse::<u64>().ok()))
        .map(|k| format!("{:.0} GiB", k as f64 / 1024.0 / 1024.0))
        .unwrap_or_default();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    format!("{cores} cores ({cpu}), {mem} RAM, Linux {}, Node {node}", kernel.trim())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Worker => {
            // Two threads: the machine has two cores and the servers need theirs.
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
            rt.block_on(worker::run())
        }
        Cmd::Backfill { rows, runs } => {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
            rt.block_on(async move {
                for n in rows {
                    for _ in 0..runs {
                        backfill::print(&backfill::run(n).await?);
                    }
                }
                Ok(())
            })
        }
        Cmd::Cluster { quick, out } => {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
            rt.block_on(cluster::run(cluster::Opts { quick, out }))
        }
        Cmd::Flood { requests, concurrency, out } => {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
            rt.block_on(flood::run(flood::Opts { requests, concurrency, out }))
        }
        Cmd::RawServer { port, http_port } => {
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            rt.block_on(raw::serve(port, http_port))
        }
        Cmd::Run { quick, only, out, root } => {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
            rt.block_on(async move {
                let started = std::time::Instant::now();
                let out = out.unwrap_or_else(|| {
                    if quick {
                        root.join("target/bench-quick/BENCHMARKS.md")
                    } else {
                        root.join("docs/BENCHMARKS.md")
                    }
                });
                if let Some(dir) = out.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                let mut bench = scenarios::Bench::setup(scenarios::Opts { quick, root, only: only.clone() }).await?;
                let result = bench.run().await;
                let report = std::mem::take(&mut bench.report);
                bench.finish().await;
                let cmd = if quick { "make bench-quick" } else { "make bench" };
                let header = format!(
                    "\n## Hub vs Socket.IO, side by side (tally-bench)\n\n\
                     Machine: {}. Measured {} by `{cmd}`{} in {:.0} s{}.\n\n\
                     One load generator (`tally-bench`, Rust, tokio-tungstenite) drives both servers with the same client code; \
                     client connections live in separate processes, spread over source addresses 127.0.0.2-9. Each server is one \
                     process (the Tally hub in release mode with its defaults: SQLite store, durable per-channel logs; Socket.IO 4.8 \
                     on Node with the `ws` engine, WebSocket transport only, in-memory rooms). Latency is measured from the moment the \
                     publisher stamps an event (just before its HTTP publish request) to its receipt by a client, on the same wall \
                     clock. The load generator shares the machine's two cores with the server under test, so every figure is a \
                     lower bound of what the server alone could do; the raw TCP baseline (same fan-out, no WebSocket framing, no \
                     protocol, no persistence) shows what this machine does with that handicap.\n",
                    machine(),
                    chrono_like_now(),
                    if only.is_empty() { String::new() } else { format!(" (scenarios {only:?})") },
                    started.elapsed().as_secs_f64(),
                    if quick { " — a smoke run with small sizes, not a measurement" } else { "" }
                );
                report.write(&out, &header)?;
                eprintln!("wrote {}", out.display());
                result
            })
        }
    }
}

/// UTC date and time without pulling in a date crate.
pub(crate) fn chrono_like_now() -> String {
    let s = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) as i64;
    let (days, rem) = (s.div_euclid(86_400), s.rem_euclid(86_400));
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y}-{m:02}-{d:02} {:02}:{:02} UTC", rem / 3600, rem % 3600 / 60)
}
