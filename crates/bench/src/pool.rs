//! The orchestrator's side of the client processes.
use crate::stats::Stats;
use crate::wire::Proto;
use crate::worker::{Command, ConnSpec};
use anyhow::Context;
use serde_json::Value;
use std::net::{IpAddr, SocketAddr};
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};

/// Connections per client process (each process may hold 20,000 descriptors here).
pub const PER_WORKER: usize = 9_800;

struct Proc {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
    conns: usize,
}

impl Proc {
    async fn call(&mut self, cmd: &Command) -> anyhow::Result<Value> {
        self.stdin.write_all(format!("{}\n", serde_json::to_string(cmd)?).as_bytes()).await?;
        self.stdin.flush().await?;
        let line = self.lines.next_line().await?.context("worker exited")?;
        Ok(serde_json::from_str(&line)?)
    }
}

pub struct Pool {
    procs: Vec<Proc>,
    pub ready: usize,
    pub connect_ms: u64,
}

impl Pool {
    /// Opens every connection (spread over worker processes and source addresses) and waits until each is
    /// subscribed.
    pub async fn connect(
        proto: Proto,
        addr: SocketAddr,
        sources: &[IpAddr],
        specs: Vec<ConnSpec>,
        small_rcvbuf_frac: f64,
    ) -> anyhow::Result<Pool> {
        let n = specs.len();
        let workers = n.div_ceil(PER_WORKER).max(1);
        let per = n.div_ceil(workers);
        let mut procs = Vec::new();
        let mut chunks = Vec::new();
        let mut it = specs.into_iter();
        for _ in 0..workers {
            let chunk: Vec<ConnSpec> = it.by_ref().take(per).collect();
            let mut child = tokio::process::Command::new(std::env::current_exe()?)
                .arg("worker")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .kill_on_drop(true)
                .spawn()?;
            let stdin = child.stdin.take().context("stdin")?;
            let lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
            procs.push(Proc { child, stdin, lines, conns: chunk.len() });
            chunks.push(chunk);
        }
        // Connect from all workers at once.
        let started = std::time::Instant::now();
        let mut futs = Vec::new();
        for (p, chunk) in procs.iter_mut().zip(chunks) {
            let small = (chunk.len() as f64 * small_rcvbuf_frac).ceil() as usize;
            let cmd = Command::Connect {
                proto,
                addr,
                sources: sources.to_vec(),
                conns: chunk,
                parallel: 256,
                small_rcvbuf: small,
            };
            futs.push(async move { p.call(&cmd).await });
        }
        let mut ready = 0;
        for r in futures_util::future::join_all(futs).await {
            ready += r?["ready"].as_u64().unwrap_or(0) as usize;
        }
        Ok(Pool { procs, ready, connect_ms: started.elapsed().as_millis() as u64 })
    }

    async fn all(&mut self, cmd: &Command) -> anyhow::Result<Vec<Value>> {
        let futs = self.procs.iter_mut().map(|p| p.call(cmd));
        futures_util::future::join_all(futs).await.into_iter().collect()
    }

    pub async fn reset(&mut self) -> anyhow::Result<()> {
        self.all(&Command::Reset).await.map(|_| ())
    }

    pub async fn report(&mut self) -> anyhow::Result<(Stats, u64)> {
        let mut s = Stats::default();
        let mut closed = 0;
        for v in self.all(&Command::Report).await? {
            s.merge_json(&v);
            closed += v["closed"].as_u64().unwrap_or(0);
        }
        Ok((s, closed))
    }

    /// The first `frac` of each worker's connections stop reading.
    pub async fn pause(&mut self, frac: f64) -> anyhow::Result<usize> {
        let mut total = 0;
        for p in &mut self.procs {
            let count = (p.conns as f64 * frac).ceil() as usize;
            total += count;
            p.call(&Command::Pause { count }).await?;
        }
        Ok(total)
    }

    pub async fn storm(&mut self, expect: u64) -> anyhow::Result<()> {
        self.all(&Command::Storm { expect }).await.map(|_| ())
    }

    pub async fn quit(mut self) {
        let _ = self.all(&Command::Quit).await;
        for p in &mut self.procs {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), p.child.wait()).await;
            let _ = p.child.start_kill();
        }
    }
}
