//! Starting, measuring and stopping the servers under test, and publishing to them.
use crate::wire::{self, Proto};
use anyhow::{bail, Context};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

pub struct Server {
    pub proto: Proto,
    /// The process this bench started; none for a deployment started by someone else (the cluster).
    pub child: Option<Child>,
    pub pid: u32,
    /// Every process whose CPU counts as the server's (the cluster's hubs, Redis, HAProxy and
    /// PostgreSQL with its backends); just `pid` for a server the bench started.
    pub pids: Vec<u32>,
    /// The same processes by role, for a CPU breakdown (the cluster: hubs, PostgreSQL, Redis, HAProxy).
    pub groups: Vec<(String, Vec<u32>)>,
    /// Where clients connect.
    pub addr: SocketAddr,
    /// Where the publisher and admin calls go.
    pub http: String,
    pub admin_token: String,
    pub data_dir: Option<PathBuf>,
    client: reqwest::Client,
    seqs: HashMap<String, u64>,
    pad: String,
}

/// CPU time (user + system) and resident memory of a process, from /proc.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    pub cpu_s: f64,
    pub rss_kib: u64,
}

pub fn usage(pid: u32) -> Usage {
    let ticks = 100.0; // CLK_TCK on Linux
    let cpu_s = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let rest = &s[s.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            // After the command: state is field 3 of stat, utime 14 and stime 15 (1-based).
            Some((f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?) / ticks)
        })
        .unwrap_or(0.0);
    let rss_kib = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0);
    Usage { cpu_s, rss_kib }
}

/// The summed usage of `pids` and their children.
fn usage_of(pids: &[u32]) -> Usage {
    let mut all = pids.to_vec();
    all.extend(pids.iter().flat_map(|&p| children(p)));
    all.sort_unstable();
    all.dedup();
    all.into_iter()
        .map(usage)
        .fold(Usage::default(), |a, b| Usage { cpu_s: a.cpu_s + b.cpu_s, rss_kib: a.rss_kib + b.rss_kib })
}

/// The processes whose parent is `pid` (from /proc).
fn children(pid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return vec![] };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&p| {
            std::fs::read_to_string(format!("/proc/{p}/stat"))
                .ok()
                .and_then(|s| s[s.rfind(')')? + 2..].split_whitespace().nth(1)?.parse::<u32>().ok())
                == Some(pid)
        })
        .collect()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(18_787)
}

async fn wait_http(client: &reqwest::Client, url: &str) -> anyhow::Result<()> {
    for _ in 0..300 {
        if let Ok(r) = client.get(url).send().await {
            if r.status().is_success() {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("{url} did not come up within 15 s")
}

impl Server {
    fn new(proto: Proto, child: Child, addr: SocketAddr, http: String) -> anyhow::Result<Server> {
        let pid = child.id().context("server exited at once")?;
        Ok(Server {
            proto,
            child: Some(child),
            pid,
            pids: vec![pid],
            groups: Vec::new(),
            addr,
            http,
            admin_token: String::new(),
            data_dir: None,
            client: reqwest::Client::builder().pool_max_idle_per_host(8).build()?,
            seqs: HashMap::new(),
            pad: "x".repeat(64),
        })
    }

    /// Payload padding so a delivered frame is about `bytes` long for Socket.IO (Tally's envelope is
    /// larger: it carries channel, epoch, seq and time on every event).
    pub fn set_payload(&mut self, bytes: usize) {
        self.pad = "x".repeat(bytes.saturating_sub(40).max(1));
    }

    /// Starts a peer server (the Tally hub is started once, with its data directory, by `start_tally`).
    pub async fn start(proto: Proto, root: &Path) -> anyhow::Result<Server> {
        match proto {
            Proto::Tally => bail!("the hub is started with start_tally"),
            Proto::SocketIo => Self::start_socketio(root, free_port()).await,
            Proto::Raw => {
                let port = free_port();
                let hport = free_port();
                let child = Command::new(std::env::current_exe()?)
                    .args(["raw-server", "--port", &port.to_string(), "--http-port", &hport.to_string()])
                    .stdout(Stdio::null())
                    .kill_on_drop(true)
                    .spawn()?;
                let s = Server::new(proto, child, ([127, 0, 0, 1], port).into(), format!("http://127.0.0.1:{hport}"))?;
                wait_http(&s.client, &format!("{}/healthz", s.http)).await?;
                Ok(s)
            }
        }
    }

    pub async fn start_socketio(root: &Path, port: u16) -> anyhow::Result<Server> {
        let child = Command::new("node")
            .arg(root.join("bench/socketio/server.js"))
            .env("PORT", port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("node (bench/socketio) did not start; run `make bench` to install it")?;
        let s = Server::new(Proto::SocketIo, child, ([127, 0, 0, 1], port).into(), format!("http://127.0.0.1:{port}"))?;
        wait_http(&s.client, &format!("{}/healthz", s.http)).await?;
        Ok(s)
    }

    /// Starts `tally-hub` (the release binary next to this one) on `dir`; `port` reuses an address.
    pub async fn start_tally(dir: &Path, port: Option<u16>) -> anyhow::Result<Server> {
        Self::start_tally_env(dir, port, &[]).await
    }

    /// As `start_tally`, with more of the hub's settings as `TALLY_*` variables.
    pub async fn start_tally_env(dir: &Path, port: Option<u16>, env: &[(&str, &str)]) -> anyhow::Result<Server> {
        let bin = std::env::current_exe()?.with_file_name("tally-hub");
        if !bin.exists() {
            bail!("{} is missing: build it with `cargo build --release -p tally-hub`", bin.display());
        }
        let port = port.unwrap_or_else(free_port);
        // The hub refuses a data directory that others can read (it holds secrets).
        std::fs::create_dir_all(dir)?;
        #[cfg(unix)]
        std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
        let child = Command::new(&bin)
            .args(["--bind", &format!("127.0.0.1:{port}"), "--metrics-bind", "127.0.0.1:0", "--data-dir"])
            .arg(dir)
            .env("TALLY_LOG", "warn")
            .env("TALLY_DEMO", "false")
            // Every bench client comes from 127.0.0.1: the per-address socket caps would refuse them.
            .env("TALLY_MAX_CONNS_PER_ADDRESS", "0")
            .env("TALLY_MAX_UNAUTHENTICATED_PER_ADDRESS", "0")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()?;
        let mut s =
            Server::new(Proto::Tally, child, ([127, 0, 0, 1], port).into(), format!("http://127.0.0.1:{port}"))?;
        wait_http(&s.client, &format!("{}/readyz", s.http)).await?;
        s.admin_token = std::fs::read_to_string(dir.join("admin.token"))?.trim().to_string();
        s.data_dir = Some(dir.to_path_buf());
        Ok(s)
    }

    /// A running Tally deployment the bench did not start: clients connect to `front`, admin calls and
    /// publishes go to `http` with `admin_token`, and the CPU of `pids` (and of their children) counts.
    pub fn attach(
        front: SocketAddr,
        http: String,
        admin_token: String,
        groups: Vec<(String, Vec<u32>)>,
    ) -> anyhow::Result<Server> {
        let pids: Vec<u32> = groups.iter().flat_map(|(_, p)| p.iter().copied()).collect();
        Ok(Server {
            proto: Proto::Tally,
            child: None,
            pid: *pids.first().context("no process to measure")?,
            pids,
            groups,
            addr: front,
            http,
            admin_token,
            data_dir: None,
            client: reqwest::Client::builder().pool_max_idle_per_host(8).build()?,
            seqs: HashMap::new(),
            pad: "x".repeat(64),
        })
    }

    /// CPU and memory of every process of the server, children included (PostgreSQL's backends).
    pub fn usage(&self) -> Usage {
        usage_of(&self.pids)
    }

    /// CPU-seconds so far of each group of processes (children included), by role.
    pub fn cpu_by_group(&self) -> Vec<(String, f64)> {
        self.groups.iter().map(|(name, pids)| (name.clone(), usage_of(pids).cpu_s)).collect()
    }

    /// SIGKILL, as a crash would.
    pub async fn kill(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }

    pub async fn stop(mut self) {
        let Some(child) = self.child.as_mut() else { return };
        let _ = Command::new("kill").args(["-TERM", &self.pid.to_string()]).status().await;
        if tokio::time::timeout(Duration::from_secs(10), child.wait()).await.is_err() {
            self.kill().await;
        }
    }

    pub async fn admin(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let r = self
            .client
            .post(format!("{}{path}", self.http))
            .bearer_auth(&self.admin_token)
            .json(&body)
            .timeout(Duration::from_secs(120))
            .send()
            .await?;
        let status = r.status();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("{path}: {status} {v}");
        }
        Ok(v)
    }

    /// A request publishing one bench event to each channel (a channel may repeat), stamped now. The
    /// returned future owns everything, so several can be in flight.
    pub fn publish(
        &mut self,
        channels: &[String],
    ) -> impl std::future::Future<Output = anyhow::Result<()>> + Send + 'static {
        let t = wire::now_ns();
        let (url, body) = match self.proto {
            Proto::Tally => {
                let events: Vec<Value> = channels
                    .iter()
                    .map(|c| json!({"channel": c, "title": format!("b:{t}"), "body": self.pad}))
                    .collect();
                (format!("{}/v1/admin/publish", self.http), json!({ "events": events }))
            }
            Proto::SocketIo | Proto::Raw => {
                let events: Vec<Value> = channels
                    .iter()
                    .map(|c| {
                        let seq = self.seqs.entry(c.clone()).or_insert(0);
                        *seq += 1;
                        json!({"room": c, "data": {"title": format!("b:{t}"), "body": self.pad, "seq": *seq}})
                    })
                    .collect();
                (format!("{}/publish", self.http), json!({ "events": events }))
            }
        };
        let req = self.client.post(url).bearer_auth(&self.admin_token).json(&body).timeout(Duration::from_secs(30));
        async move {
            let r = req.send().await?;
            if !r.status().is_success() {
                bail!("publish: {}", r.status());
            }
            Ok(())
        }
    }

    /// Kills the server (SIGKILL, as a crash would) and starts it again on the same address and data.
    pub async fn crash_and_restart(&mut self, root: &Path) -> anyhow::Result<()> {
        self.kill().await;
        let port = self.addr.port();
        let fresh = match self.proto {
            Proto::Tally => Self::start_tally(self.data_dir.as_deref().context("data dir")?, Some(port)).await?,
            Proto::SocketIo => Self::start_socketio(root, port).await?,
            Proto::Raw => bail!("the raw baseline has no restart"),
        };
        let seqs = std::mem::take(&mut self.seqs);
        let pad = std::mem::take(&mut self.pad);
        *self = fresh;
        self.seqs = seqs;
        self.pad = pad;
        Ok(())
    }

    /// Tally only: creates `n` users named `{prefix}{i}` (no password) in batches.
    pub async fn provision(&self, prefix: &str, n: usize) -> anyhow::Result<Vec<i64>> {
        let mut ids = Vec::with_capacity(n);
        for start in (0..n).step_by(5_000) {
            let users: Vec<Value> =
                (start..n.min(start + 5_000)).map(|i| json!({"username": format!("{prefix}{i}")})).collect();
            let v = self.admin("/v1/admin/users", json!({ "users": users })).await?;
            ids.extend(v["users"].as_array().context("users")?.iter().filter_map(|u| u["id"].as_i64()));
        }
        Ok(ids)
    }

    /// Tally only: access tokens for users, in order.
    pub async fn tokens(&self, names: &[String]) -> anyhow::Result<Vec<String>> {
        let v = self.admin("/v1/admin/tokens", json!({ "usernames": names })).await?;
        Ok(v["tokens"]
            .as_array()
            .context("tokens")?
            .iter()
            .filter_map(|t| t["access_token"].as_str().map(String::from))
            .collect())
    }
}
