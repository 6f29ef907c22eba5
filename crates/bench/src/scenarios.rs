//! The scenarios of issue #6, each run against Tally and Socket.IO (and the raw baseline where it has a
//! meaning) in one invocation, on the same machine, with the same client code.
use crate::pool::Pool;
use crate::report::{f0, f1, f2, ms, Plot, Report, Row, Section};
use crate::servers::Server;
use crate::stats::{curve, pcts, Pcts};
use crate::wire::{self, Proto};
use crate::worker::ConnSpec;
use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::json;
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;

pub struct Opts {
    pub quick: bool,
    pub root: PathBuf,
    pub only: Vec<u8>,
}

pub struct Bench {
    o: Opts,
    _scratch: tempfile::TempDir,
    sources: Vec<IpAddr>,
    tally: Server,
    /// Tally user ids of u0, u1, ...
    ids: Vec<i64>,
    room: i64,
    pub report: Report,
}

/// Sizes: (full, quick).
pub(crate) fn pick<T>(quick: bool, full: T, q: T) -> T {
    if quick {
        q
    } else {
        full
    }
}

pub(crate) fn names(r: std::ops::Range<usize>) -> Vec<String> {
    r.map(|i| format!("u{i}")).collect()
}

/// One measured load step.
pub(crate) struct Step {
    pub published: u64,
    pub expected: u64,
    pub received: u64,
    pub secs: f64,
    pub lat: Histogram<u64>,
    pub p: Pcts,
    pub cpu_s: f64,
    pub gaps: u64,
    pub dups: u64,
    pub publish_errors: u64,
}

impl Step {
    pub fn rate(&self) -> f64 {
        self.received as f64 / self.secs
    }
    pub fn cpu_per_m(&self) -> f64 {
        if self.received == 0 {
            f64::NAN
        } else {
            self.cpu_s / (self.received as f64 / 1e6)
        }
    }
    pub fn ok(&self, p99_ms: f64) -> bool {
        self.p.p99 <= p99_ms && self.received as f64 >= 0.99 * self.expected as f64 && self.publish_errors == 0
    }
}

/// Publishes `posts_per_s` requests of `per_post` events for `secs`, then waits for deliveries to settle.
pub(crate) async fn load(
    server: &mut Server,
    pool: &mut Pool,
    posts_per_s: f64,
    per_post: usize,
    secs: f64,
    fanout: u64,
    mut channel: impl FnMut(u64) -> String,
) -> anyhow::Result<Step> {
    pool.reset().await?;
    let u0 = server.usage();
    let t0 = Instant::now();
    let mut iv = tokio::time::interval(Duration::from_secs_f64(1.0 / posts_per_s));
    let mut inflight = JoinSet::new();
    let (mut published, mut k, mut errors) = (0u64, 0u64, 0u64);
    while t0.elapsed().as_secs_f64() < secs {
        iv.tick().await;
        let chans: Vec<String> = (0..per_post)
            .map(|_| {
                k += 1;
                channel(k)
            })
            .collect();
        while inflight.len() >= 16 {
            if let Some(Ok(Err(_))) = inflight.join_next().await {
                errors += 1;
            }
        }
        inflight.spawn(server.publish(&chans));
        published += chans.len() as u64;
    }
    while let Some(r) = inflight.join_next().await {
        if !matches!(r, Ok(Ok(()))) {
            errors += 1;
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let expected = published * fanout;
    // Let deliveries settle (bounded): stop when all arrived or nothing moved for a second.
    let mut last = (0, Instant::now());
    let settle = Instant::now();
    let stats = loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let (s, _) = pool.report().await?;
        if s.received >= expected
            || settle.elapsed() > Duration::from_secs(6)
            || last.1.elapsed() > Duration::from_secs(1)
        {
            break s;
        }
        if s.received != last.0 {
            last = (s.received, Instant::now());
        }
    };
    let cpu_s = server.usage().cpu_s - u0.cpu_s;
    Ok(Step {
        published,
        expected,
        received: stats.received,
        secs,
        p: pcts(&stats.lat),
        lat: stats.lat,
        cpu_s,
        gaps: stats.gaps,
        dups: stats.dups,
        publish_errors: errors,
    })
}

/// Publish shape for a target delivery rate on a channel with `fanout` subscribers.
pub(crate) fn shape(deliveries: f64, fanout: u64) -> (f64, usize) {
    let publishes = deliveries / fanout as f64;
    if publishes <= 200.0 {
        (publishes, 1)
    } else {
        let per = (publishes / 200.0).ceil();
        (publishes / per, per as usize)
    }
}

pub(crate) fn ratio(t: f64, s: f64) -> String {
    if t.is_finite() && s.is_finite() && s > 0.0 && t > 0.0 {
        format!("{:.2}×", t / s)
    } else {
        "—".into()
    }
}

pub(crate) fn p50_99(p: &Pcts) -> String {
    if p.n == 0 {
        "none caught up".into()
    } else {
        format!("{} / {}", ms(p.p50), ms(p.p99))
    }
}

pub(crate) fn verdict(ok: bool) -> String {
    if ok { "met" } else { "**missed**" }.into()
}

impl Bench {
    pub async fn setup(o: Opts) -> anyhow::Result<Bench> {
        // Children inherit the raised descriptor limit (servers and client processes).
        let _ = rlimit::increase_nofile_limit(u64::MAX);
        let scratch = tempfile::tempdir()?;
        let tally = Server::start_tally(&scratch.path().join("hub"), None).await?;
        let n_users = pick(o.quick, 19_500, 2_000);
        let t = Instant::now();
        let ids = tally.provision("u", n_users).await?;
        let room_size = pick(o.quick, 1_000, 200);
        let room =
            tally.admin("/v1/admin/rooms", json!({"name": "bench room", "members": names(0..room_size)})).await?["id"]
                .as_i64()
                .context("room id")?;
        eprintln!("setup: {n_users} users and a room of {room_size} in {:.1} s", t.elapsed().as_secs_f64());
        let sources = (2..10).map(|i| IpAddr::from([127, 0, 0, i])).collect();
        Ok(Bench { o, _scratch: scratch, sources, tally, ids, room, report: Report::default() })
    }

    fn wants(&self, n: u8) -> bool {
        self.o.only.is_empty() || self.o.only.contains(&n)
    }

    /// Connection specs for users `range`, each on `channels(id)`; Tally tokens are minted now.
    async fn specs(
        &self,
        proto: Proto,
        range: std::ops::Range<usize>,
        channels: impl Fn(i64) -> Vec<String>,
    ) -> anyhow::Result<Vec<ConnSpec>> {
        let users = names(range.clone());
        let tokens = match proto {
            Proto::Tally => {
                let mut all = Vec::new();
                for chunk in users.chunks(10_000) {
                    all.extend(self.tally.tokens(chunk).await?);
                }
                all
            }
            _ => vec![String::new(); users.len()],
        };
        Ok(range
            .zip(users)
            .zip(tokens)
            .map(|((i, user), token)| ConnSpec { user, token, channels: channels(self.ids[i]) })
            .collect())
    }

    async fn server(&mut self, proto: Proto) -> anyhow::Result<Option<Server>> {
        Ok(match proto {
            Proto::Tally => None,
            p => Some(Server::start(p, &self.o.root).await?),
        })
    }

    /// Runs the chosen scenarios. A scenario that fails is reported (in the output and in the report) and
    /// the others still run; the result is an error if any failed.
    pub async fn run(&mut self) -> anyhow::Result<()> {
        let mut failed = Vec::new();
        if self.wants(1) {
            let r = self.idle().await;
            self.note_failure("1. Idle density", r, &mut failed);
        }
        if self.wants(2) || self.wants(3) {
            let r = self.fanout().await;
            self.note_failure("2-3. Fan-out and bursts", r, &mut failed);
        }
        if self.wants(6) {
            let r = self.slow().await;
            self.note_failure("6. Slow consumers", r, &mut failed);
        }
        if self.wants(4) || self.wants(5) {
            let r = self.wallet_and_storm().await;
            self.note_failure("4-5. Wallet mix and reconnect storm", r, &mut failed);
        }
        if self.wants(7) {
            let r = self.ledger().await;
            self.note_failure("7. Ledger", r, &mut failed);
        }
        if failed.is_empty() {
            Ok(())
        } else {
            anyhow::bail!("scenarios that did not complete: {}", failed.join(", "))
        }
    }

    fn note_failure(&mut self, name: &str, r: anyhow::Result<()>, failed: &mut Vec<String>) {
        if let Err(e) = r {
            eprintln!("{name} did not complete: {e:#}");
            self.report.sections.push(Section {
                title: format!("{name}: did not complete"),
                rows: vec![],
                notes: vec![format!("The run stopped with: `{e:#}`")],
                plot: None,
            });
            failed.push(name.to_string());
        }
    }

    // 1. Idle density.
    async fn idle(&mut self) -> anyhow::Result<()> {
        let n = pick(self.o.quick, 19_500, 1_000);
        let hold = pick(self.o.quick, 60.0, 3.0);
        let mut per_conn = HashMap::new();
        let mut notes = Vec::new();
        for proto in [Proto::Tally, Proto::SocketIo] {
            let extra = self.server(proto).await?;
            let specs = self
                .specs(proto, 0..n, |id| {
                    vec![format!("balance:{id}"), format!("transactions:{id}"), format!("notifications:{id}")]
                })
                .await?;
            let srv = extra.as_ref().unwrap_or(&self.tally);
            tokio::time::sleep(Duration::from_millis(500)).await;
            let base = srv.usage();
            let mut pool = Pool::connect(proto, srv.addr, &self.sources, specs, 0.0).await?;
            tokio::time::sleep(Duration::from_secs(2)).await;
            let a = srv.usage();
            tokio::time::sleep(Duration::from_secs_f64(hold)).await;
            let b = srv.usage();
            let (_, closed) = pool.report().await?;
            let kib = (b.rss_kib.saturating_sub(base.rss_kib)) as f64 / pool.ready.max(1) as f64;
            let cpu = (b.cpu_s - a.cpu_s) / hold * 100.0;
            eprintln!(
                "1 {}: {} connections in {} ms, {kib:.1} KiB each, idle CPU {cpu:.2} %",
                proto.label(),
                pool.ready,
                pool.connect_ms
            );
            notes.push(format!(
                "{}: {} of {n} connections subscribed (3 channels each) in {:.1} s; RSS {} → {} MiB; {closed} closed during the hold.",
                proto.label(),
                pool.ready,
                pool.connect_ms as f64 / 1000.0,
                base.rss_kib / 1024,
                b.rss_kib / 1024
            ));
            per_conn.insert(proto, (kib, cpu, pool.ready, pool.connect_ms));
            pool.quit().await;
            if let Some(s) = extra {
                s.stop().await;
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        let (t, s) = (per_conn[&Proto::Tally], per_conn[&Proto::SocketIo]);
        self.report.sections.push(Section {
            title: format!("1. Idle density ({n} connections, heartbeats on, {hold:.0} s hold)"),
            rows: vec![
                Row::new(
                    "Server memory per connection (RSS growth ÷ connections)",
                    format!("{:.1} KiB", t.0),
                    format!("{:.1} KiB", s.0),
                    None,
                    ratio(t.0, s.0),
                    "≤ 8 KiB",
                    verdict(t.0 <= 8.0),
                ),
                Row::new("Idle CPU (% of one core)", f2(t.1), f2(s.1), None, ratio(t.1, s.1), "—", String::new()),
                Row::new(
                    "Connect + authenticate + subscribe, per second",
                    f0(t.2 as f64 / (t.3 as f64 / 1000.0)),
                    f0(s.2 as f64 / (s.3 as f64 / 1000.0)),
                    None,
                    ratio(t.2 as f64 / t.3 as f64, s.2 as f64 / s.3 as f64),
                    "—",
                    String::new(),
                ),
            ],
            notes,
            plot: None,
        });
        Ok(())
    }

    /// Steps up the delivery rate until p99 passes 50 ms (or deliveries fall short), but always runs the
    /// steps up to `reference` so every server has a figure at the rate the table compares.
    #[allow(clippy::too_many_arguments)]
    async fn steps(
        &mut self,
        srv: Option<&mut Server>,
        pool: &mut Pool,
        channel: &str,
        fanout: u64,
        rates: &[f64],
        burst: bool,
        reference: f64,
    ) -> anyhow::Result<Vec<(f64, Step)>> {
        let secs = pick(self.o.quick, 5.0, 1.5);
        let srv = match srv {
            Some(s) => s,
            None => &mut self.tally,
        };
        let mut out = Vec::new();
        for &r in rates {
            let (posts, per) = if burst { (r / (fanout as f64 * 20.0), 20) } else { shape(r, fanout) };
            let ch = channel.to_string();
            let st = load(srv, pool, posts, per, secs, fanout, |_| ch.clone()).await?;
            eprintln!(
                "  {} {channel} target {r:.0}/s: {:.0}/s p50 {:.2} p99 {:.2} p99.9 {:.2} ms, CPU {:.2} s/M, received {}/{}",
                srv.proto.label(),
                st.rate(),
                st.p.p50,
                st.p.p99,
                st.p.p999,
                st.cpu_per_m(),
                st.received,
                st.expected
            );
            let ok = st.ok(50.0);
            out.push((r, st));
            if !ok && r >= reference {
                break;
            }
        }
        Ok(out)
    }

    // 2 and 3. Fan-out to a room and to a broadcast channel; bursts on the broadcast channel.
    async fn fanout(&mut self) -> anyhow::Result<()> {
        let room_n = pick(self.o.quick, 1_000, 200);
        let bc_n = pick(self.o.quick, 2_000, 400);
        let rates: Vec<f64> = pick(self.o.quick, vec![20e3, 50e3, 100e3, 140e3, 200e3, 300e3, 400e3], vec![10e3, 30e3]);
        let bursts: Vec<f64> = pick(self.o.quick, vec![200e3, 400e3, 500e3, 600e3, 800e3, 1.2e6], vec![40e3]);
        let room = format!("room:{}", self.room);
        let reference = pick(self.o.quick, 100e3, 30e3);
        let mut res: HashMap<(Proto, &str), Vec<(f64, Step)>> = HashMap::new();
        for proto in [Proto::Tally, Proto::SocketIo, Proto::Raw] {
            let mut extra = self.server(proto).await?;
            let addr = extra.as_ref().map(|s| s.addr).unwrap_or(self.tally.addr);
            if let Some(s) = extra.as_mut() {
                s.set_payload(100);
            } else {
                self.tally.set_payload(100);
            }
            if self.wants(2) {
                let r2 = room.clone();
                let specs = self.specs(proto, 0..room_n, move |_| vec![r2.clone()]).await?;
                let mut pool = Pool::connect(proto, addr, &self.sources, specs, 0.0).await?;
                eprintln!("2 {} room: {} subscribers", proto.label(), pool.ready);
                let fan = pool.ready as u64;
                let st = self.steps(extra.as_mut(), &mut pool, &room, fan, &rates, false, reference).await?;
                res.insert((proto, "room"), st);
                pool.quit().await;
            }
            let specs = self.specs(proto, 0..bc_n, |_| vec!["broadcast".to_string()]).await?;
            let mut pool = Pool::connect(proto, addr, &self.sources, specs, 0.0).await?;
            eprintln!("2 {} broadcast: {} subscribers", proto.label(), pool.ready);
            let fan = pool.ready as u64;
            if self.wants(2) {
                let st = self.steps(extra.as_mut(), &mut pool, "broadcast", fan, &rates, false, reference).await?;
                res.insert((proto, "broadcast"), st);
            }
            if self.wants(3) {
                let st = self.steps(extra.as_mut(), &mut pool, "broadcast", fan, &bursts, true, bursts[0]).await?;
                res.insert((proto, "bursts"), st);
            }
            pool.quit().await;
            if let Some(s) = extra {
                s.stop().await;
            }
        }
        let best = |v: &Option<&Vec<(f64, Step)>>| -> f64 {
            v.map(|v| v.iter().filter(|(_, s)| s.ok(50.0)).map(|(_, s)| s.rate()).fold(0.0, f64::max))
                .unwrap_or(f64::NAN)
        };
        fn at(v: Option<&Vec<(f64, Step)>>, r: f64) -> Option<&Step> {
            v.and_then(|v| v.iter().find(|(t, _)| (*t - r).abs() < 1.0).map(|(_, s)| s))
        }
        for (part, title, n) in [
            ("room", "2a. Fan-out to a room", room_n),
            ("broadcast", "2b. Broadcast", bc_n),
            ("bursts", "3. Bursts of 20 events", bc_n),
        ] {
            let t = res.get(&(Proto::Tally, part));
            let s = res.get(&(Proto::SocketIo, part));
            let r = res.get(&(Proto::Raw, part));
            if t.is_none() {
                continue;
            }
            let mut rows = Vec::new();
            let (bt, bs, br) = (best(&t), best(&s), best(&r));
            let target = if part == "bursts" { 500e3 } else { 140e3 };
            rows.push(Row::new(
                "Highest deliveries/s with p99 ≤ 50 ms (of the steps tried)",
                f0(bt),
                f0(bs),
                Some(f0(br)),
                ratio(bt, bs),
                if part == "bursts" { "≥ 500k/s" } else { "≥ 140k/s" },
                verdict(bt >= target),
            ));
            // The common reference step: 100k/s (fan-out) or the first burst step.
            let refr = if part == "bursts" { bursts[0] } else { reference };
            let (ts, ss, rs) = (at(t, refr), at(s, refr), at(r, refr));
            let p99 = |x: Option<&Step>| x.map(|s| s.p.p99).unwrap_or(f64::NAN);
            let cpu = |x: Option<&Step>| x.map(|s| s.cpu_per_m()).unwrap_or(f64::NAN);
            rows.push(Row::new(
                &format!("p50 / p99 / p99.9 at {}/s", f0(refr)),
                ts.map(|s| format!("{} / {} / {}", ms(s.p.p50), ms(s.p.p99), ms(s.p.p999))).unwrap_or("—".into()),
                ss.map(|s| format!("{} / {} / {}", ms(s.p.p50), ms(s.p.p99), ms(s.p.p999))).unwrap_or("—".into()),
                Some(rs.map(|s| format!("{} / {} / {}", ms(s.p.p50), ms(s.p.p99), ms(s.p.p999))).unwrap_or("—".into())),
                ratio(p99(ts), p99(ss)),
                if part == "bursts" { "p99 ≤ 50 ms" } else { "p99 ≤ 20 ms at 100k/s" },
                if part == "bursts" { verdict(p99(ts) <= 50.0) } else { verdict(p99(ts) <= 20.0) },
            ));
            rows.push(Row::new(
                &format!("Server CPU-seconds per million deliveries at {}/s", f0(refr)),
                f2(cpu(ts)),
                f2(cpu(ss)),
                Some(f2(cpu(rs))),
                ratio(cpu(ts), cpu(ss)),
                "≤ 0.5× Socket.IO",
                verdict(cpu(ts) <= 0.5 * cpu(ss)),
            ));
            let mut notes = Vec::new();
            for (proto, v) in [(Proto::Tally, t), (Proto::SocketIo, s), (Proto::Raw, r)] {
                if let Some(v) = v {
                    notes.push(format!(
                        "{} steps (target → achieved/s, p99 ms): {}",
                        proto.label(),
                        v.iter()
                            .map(|(t, s)| format!("{} → {} ({})", f0(*t), f0(s.rate()), f1(s.p.p99)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
            let series = [(Proto::Tally, ts), (Proto::SocketIo, ss), (Proto::Raw, rs)]
                .into_iter()
                .filter_map(|(p, s)| s.map(|s| (p.label().to_string(), curve(&s.lat))))
                .collect();
            self.report.sections.push(Section {
                title: format!("{title} ({n} subscribers, ~100-byte payloads)"),
                rows,
                notes,
                plot: Some(Plot {
                    file: format!("bench-{part}.svg"),
                    title: format!("{title}: latency at {}/s", f0(refr)),
                    series,
                }),
            });
        }
        Ok(())
    }

    // 6. Slow consumers.
    async fn slow(&mut self) -> anyhow::Result<()> {
        let n = pick(self.o.quick, 2_000, 400);
        let rate = pick(self.o.quick, 50e3, 20e3);
        let (a_secs, b_secs) = pick(self.o.quick, (10.0, 20.0), (2.0, 2.0));
        let mut out = HashMap::new();
        for proto in [Proto::Tally, Proto::SocketIo] {
            let mut extra = self.server(proto).await?;
            let specs = self.specs(proto, 0..n, |_| vec!["broadcast".to_string()]).await?;
            let srv = match extra.as_mut() {
                Some(s) => s,
                None => &mut self.tally,
            };
            srv.set_payload(512);
            let mut pool = Pool::connect(proto, srv.addr, &self.sources, specs, 0.1).await?;
            let fan = pool.ready as u64;
            let (posts, per) = shape(rate, fan);
            // Warm up (connections settle, caches fill), then measure.
            load(srv, &mut pool, posts, per, pick(self.o.quick, 3.0, 1.0), fan, |_| "broadcast".into()).await?;
            let a = load(srv, &mut pool, posts, per, a_secs, fan, |_| "broadcast".into()).await?;
            let rss_a = srv.usage().rss_kib;
            let paused = pool.pause(0.1).await?;
            // Sample RSS while the slow tenth stops reading.
            let pid = srv.pid;
            let sampler = tokio::spawn(async move {
                let mut max = 0;
                for _ in 0..((b_secs + 8.0) as u64 * 4) {
                    max = max.max(crate::servers::usage(pid).rss_kib);
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                max
            });
            let b = load(srv, &mut pool, posts, per, b_secs, fan - paused as u64, |_| "broadcast".into()).await?;
            sampler.abort();
            let rss_b = srv.usage().rss_kib.max(rss_a);
            let (_, closed) = pool.report().await?;
            eprintln!(
                "6 {}: healthy p99 {:.2} → {:.2} ms, RSS {} → {} MiB, {closed} slow closed",
                srv.proto.label(),
                a.p.p99,
                b.p.p99,
                rss_a / 1024,
                rss_b / 1024
            );
            out.insert(proto, (a.p.p99, b.p.p99, rss_a, rss_b, closed, paused, b.received, b.expected));
            pool.quit().await;
            if let Some(s) = extra {
                s.stop().await;
            } else {
                self.tally.set_payload(100);
            }
        }
        let (t, s) = (out[&Proto::Tally], out[&Proto::SocketIo]);
        let grow = |x: (f64, f64, u64, u64, u64, usize, u64, u64)| (x.3 as f64 / x.2.max(1) as f64 - 1.0) * 100.0;
        self.report.sections.push(Section {
            title: format!("6. Slow consumers ({n} subscribers, {}/s deliveries of ~512 bytes, 10 % stop reading for {b_secs:.0} s)", f0(rate)),
            rows: vec![
                Row::new("Healthy clients' p99 before → while 10 % stall", format!("{} → {}", ms(t.0), ms(t.1)), format!("{} → {}", ms(s.0), ms(s.1)), None, ratio(t.1 - t.0, s.1 - s.0), "rise ≤ 5 ms", verdict(t.1 - t.0 <= 5.0)),
                Row::new("Server RSS growth while they stall", format!("{:.1} % ({} → {} MiB)", grow(t), t.2 / 1024, t.3 / 1024), format!("{:.1} % ({} → {} MiB)", grow(s), s.2 / 1024, s.3 / 1024), None, ratio(grow(t), grow(s)), "≤ 10 %", verdict(grow(t) <= 10.0)),
                Row::new("Healthy deliveries received / expected", format!("{}/{}", t.6, t.7), format!("{}/{}", s.6, s.7), None, "—".into(), "all", verdict(t.6 >= t.7)),
            ],
            notes: vec![format!(
                "The stalled clients have a 4 KiB receive buffer and stop reading. Tally queues at most {} frames per connection (shared bytes, not copies) and closes a connection that overflows it with 4008; {} of {} stalled connections were closed within the window (Socket.IO: {}).",
                4096, t.4, t.5, s.4
            )],
            plot: None,
        });
        Ok(())
    }

    // 4. Wallet mix, then 5. the reconnect storm on the same connections.
    async fn wallet_and_storm(&mut self) -> anyhow::Result<()> {
        let n = pick(self.o.quick, 10_000, 1_000);
        let rate = pick(self.o.quick, 20e3, 2e3);
        let secs = pick(self.o.quick, 15.0, 2.0);
        let mut w = HashMap::new();
        let mut storm = HashMap::new();
        let mut plot = Vec::new();
        for proto in [Proto::Tally, Proto::SocketIo] {
            let mut extra = self.server(proto).await?;
            let specs = self
                .specs(proto, 0..n, |id| {
                    vec![format!("notifications:{id}"), format!("balance:{id}"), format!("transactions:{id}")]
                })
                .await?;
            let root = self.o.root.clone();
            let ids: Vec<i64> = self.ids[..n].to_vec();
            let srv = match extra.as_mut() {
                Some(s) => s,
                None => &mut self.tally,
            };
            srv.set_payload(100);
            let mut pool = Pool::connect(proto, srv.addr, &self.sources, specs, 0.0).await?;
            let ready = pool.ready;
            let mut rng_state = 0x9E37_79B9_7F4A_7C15u64;
            let st = load(srv, &mut pool, 100.0, (rate / 100.0) as usize, secs, 1, |_| {
                // xorshift: a cheap, reproducible spread over users.
                rng_state ^= rng_state << 13;
                rng_state ^= rng_state >> 7;
                rng_state ^= rng_state << 17;
                format!("notifications:{}", ids[(rng_state % ids.len() as u64) as usize])
            })
            .await?;
            eprintln!(
                "4 {}: {:.0}/s p50 {:.2} p99 {:.2} ms, received {}/{}, gaps {} dups {}",
                srv.proto.label(),
                st.rate(),
                st.p.p50,
                st.p.p99,
                st.received,
                st.expected,
                st.gaps,
                st.dups
            );
            plot.push((proto.label().to_string(), curve(&st.lat)));
            // 5. Crash the server under every connection, bring it back and publish one event per user
            // while the clients have not yet noticed (they are paused: not reading), then let them all
            // notice at once. What is timed is drop → reconnect → auth → resubscribe → replay of the
            // missed event; the restart itself is reported on its own.
            if self.o.only.is_empty() || self.o.only.contains(&5) {
                pool.reset().await?;
                pool.pause(1.0).await?;
                tokio::time::sleep(Duration::from_millis(300)).await;
                pool.storm(1).await?;
                let t_kill = Instant::now();
                srv.crash_and_restart(&root).await?;
                let restart_ms = t_kill.elapsed().as_millis() as u64;
                let chans: Vec<String> = ids.iter().map(|id| format!("notifications:{id}")).collect();
                for chunk in chans.chunks(5_000) {
                    // The server has just come back: retry a request it dropped (the check is on what the
                    // clients receive, so a repeat cannot hide a loss).
                    let mut tries = 0;
                    while let Err(e) = srv.publish(chunk).await {
                        tries += 1;
                        if tries >= 5 {
                            return Err(e);
                        }
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
                pool.pause(0.0).await?;
                let deadline = Instant::now() + Duration::from_secs(pick(self.o.quick, 40, 15));
                let mut all_back: Option<Instant> = None;
                let s = loop {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    let (s, _) = pool.report().await?;
                    if s.resub_count as usize >= ready && all_back.is_none() {
                        all_back = Some(Instant::now());
                    }
                    // Done when everyone caught up, or 3 s after everyone is back (what has not been
                    // replayed by then was lost), or at the deadline.
                    if s.storm.len() as usize >= ready
                        || all_back.is_some_and(|t| t.elapsed() > Duration::from_secs(3))
                        || Instant::now() > deadline
                    {
                        break s;
                    }
                };
                let resub_rate = s.peak_resub_per_s() as f64;
                eprintln!(
                    "5 {}: restart {restart_ms} ms, caught up {}/{ready}, p99 {:.0} ms, resubscribed {} at {resub_rate:.0}/s, gaps {} dups {}",
                    srv.proto.label(),
                    s.storm.len(),
                    pcts(&s.storm).p99,
                    s.resub_count,
                    s.gaps,
                    s.dups
                );
                storm.insert(proto, (s, restart_ms, resub_rate, ready));
            }
            w.insert(proto, (st, ready));
            pool.quit().await;
            if let Some(s) = extra {
                s.stop().await;
            }
        }
        let (t, s) = (&w[&Proto::Tally], &w[&Proto::SocketIo]);
        self.report.sections.push(Section {
            title: format!("4. Wallet mix ({n} users, {}/s publishes to personal channels for {secs:.0} s)", f0(rate)),
            rows: vec![
                Row::new("p50 / p99 / p99.9", format!("{} / {} / {}", ms(t.0.p.p50), ms(t.0.p.p99), ms(t.0.p.p999)), format!("{} / {} / {}", ms(s.0.p.p50), ms(s.0.p.p99), ms(s.0.p.p999)), None, ratio(t.0.p.p99, s.0.p.p99), "p99 ≤ 25 ms", verdict(t.0.p.p99 <= 25.0)),
                Row::new("Delivered / published", format!("{}/{}", t.0.received, t.0.expected), format!("{}/{}", s.0.received, s.0.expected), None, "—".into(), "zero loss", verdict(t.0.received == t.0.expected)),
                Row::new("Seq gaps / duplicates", format!("{} / {}", t.0.gaps, t.0.dups), format!("{} / {}", s.0.gaps, s.0.dups), None, "—".into(), "0 / 0", verdict(t.0.gaps == 0 && t.0.dups == 0)),
                Row::new("Achieved publishes/s (durable on Tally: each one a logged event)", f0(t.0.published as f64 / t.0.secs), f0(s.0.published as f64 / s.0.secs), None, ratio(t.0.published as f64 / t.0.secs, s.0.published as f64 / s.0.secs), "20,000/s", verdict(t.0.published as f64 / t.0.secs >= 0.95 * rate)),
                Row::new("Server CPU-seconds per million deliveries", f2(t.0.cpu_per_m()), f2(s.0.cpu_per_m()), None, ratio(t.0.cpu_per_m(), s.0.cpu_per_m()), "—", String::new()),
            ],
            notes: vec!["Socket.IO has no sequence numbers: the Socket.IO server numbers each room's events when it emits them (as the hub does when it commits them) and the clients check both the same way.".into()],
            plot: Some(Plot { file: "bench-wallet.svg".into(), title: "4. Wallet mix: latency".into(), series: plot }),
        });
        if let (Some(t), Some(s)) = (storm.get(&Proto::Tally), storm.get(&Proto::SocketIo)) {
            let (tp, sp) = (pcts(&t.0.storm), pcts(&s.0.storm));
            self.report.sections.push(Section {
                title: format!("5. Reconnect storm ({n} connections dropped at once by killing the server with SIGKILL)"),
                rows: vec![
                    Row::new("Connections caught up (resubscribed and the event published while they were away received)", format!("{}/{}", t.0.storm.len(), t.3), format!("{}/{}", s.0.storm.len(), s.3), None, "—".into(), "all", verdict(t.0.storm.len() as usize == t.3)),
                    Row::new("Drop noticed → reconnected, resubscribed and missed event replayed, p50 / p99", p50_99(&tp), p50_99(&sp), None, if sp.n > 0 { ratio(tp.p99, sp.p99) } else { "—".into() }, "p99 ≤ 2 s", verdict(tp.p99 <= 2_000.0 && tp.n > 0)),
                    Row::new("Duplicates / gaps after recovery", format!("{} / {}", t.0.dups, t.0.gaps), format!("{} / {}", s.0.dups, s.0.gaps), None, "—".into(), "0 / 0", verdict(t.0.dups == 0 && t.0.gaps == 0)),
                    Row::new("Reconnect + auth + resubscribe completed per second (busiest 1 s)", f0(t.2), f0(s.2), None, ratio(t.2, s.2), "≥ 5,000/s", verdict(t.2 >= 5_000.0)),
                    Row::new("Server restart (kill → ready)", format!("{} ms", t.1), format!("{} ms", s.1), None, "—".into(), "—", String::new()),
                ],
                notes: vec![
                    "Sequence: every client stops reading; the server is killed (SIGKILL) and restarted; one event per user is published while no client is connected; then all clients read at once, see the dropped socket and reconnect like the app (first retry uniformly within 1 s, then capped exponential backoff with jitter). Tally clients resubscribe with their last (epoch, seq) and the hub replays what they missed; Socket.IO has no durable replay, so the event published while a client was away is lost for it.".into(),
                ],
                plot: None,
            });
        }
        Ok(())
    }

    // 7. Ledger: durable P2P transfers over WebSocket (Tally only: the Socket.IO peer has no ledger).
    async fn ledger(&mut self) -> anyhow::Result<()> {
        let n = pick(self.o.quick, 400, 40);
        let rates: Vec<f64> = pick(self.o.quick, vec![1_000.0, 2_500.0, 5_000.0, 10_000.0, 15_000.0], vec![500.0]);
        let secs = pick(self.o.quick, 5.0, 2.0);
        let steps = ledger_steps(&self.tally, "l", n, &rates, secs).await?;
        let names: Vec<String> = (0..n).map(|i| format!("l{i}")).collect();
        // 100 concurrent retries of one idempotency key (same body) from 10 connections of one user.
        let token = self.tally.tokens(&[names[0].clone()]).await?;
        let mut set = JoinSet::new();
        let key = format!("retry-{}", wire::now_ns());
        for c in 0..10 {
            let url = format!("ws://{}/v1/ws", self.tally.addr);
            let hello = json!({"type": "hello", "v": tally_protocol::PROTOCOL_VERSION, "token": token[0]});
            let to = names[1].clone();
            let key = key.clone();
            set.spawn(async move {
                let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, None, true).await?;
                ws.send(Message::text(hello.to_string())).await?;
                for k in 0..10 {
                    let f = json!({"type": "transfer_create", "id": c * 100 + k + 1, "idempotency_key": key, "to": to,
                        "amount": {"minor": 1, "currency": "USD"}, "memo": "retry"});
                    ws.send(Message::text(f.to_string())).await?;
                }
                let mut ids = Vec::new();
                let mut answered = 0;
                while answered < 10 {
                    let Some(Ok(Message::Text(t))) = ws.next().await else { break };
                    if let Some(f) = wire::parse_tally(&t) {
                        if f.kind == "ack" || f.kind == "error" {
                            answered += 1;
                            ids.extend(f.transfer_id);
                        }
                    }
                }
                anyhow::Ok(ids)
            });
        }
        let mut transfer_ids = Vec::new();
        while let Some(r) = set.join_next().await {
            transfer_ids.extend(r??);
        }
        let acked = transfer_ids.len();
        transfer_ids.sort_unstable();
        transfer_ids.dedup();
        let inv = reqwest::Client::new()
            .get(format!("{}/v1/admin/invariants", self.tally.http))
            .bearer_auth(&self.tally.admin_token)
            .send()
            .await?
            .json::<serde_json::Value>()
            .await?;
        let best = best_sustained(&steps);
        let at5k = steps.iter().find(|s| s.offered == 5_000.0);
        let mut rows = vec![Row::new(
            "Durable transfers/s sustained (acked ≥ 95 % of the offered rate)",
            f0(best),
            "n/a".into(),
            None,
            "—".into(),
            "≥ 10,000/s",
            verdict(best >= 10_000.0),
        )];
        if let Some(s) = at5k {
            rows.push(Row::new(
                "Commit (request → ack) p50 / p99 at 5,000/s",
                format!("{} / {}", ms(s.ack.p50), ms(s.ack.p99)),
                "n/a".into(),
                None,
                "—".into(),
                "p99 ≤ 10 ms",
                verdict(s.ack.p99 <= 10.0),
            ));
            rows.push(Row::new(
                "Request → recipient sees it completed, p99 at 5,000/s",
                ms(s.deliver.p99),
                "n/a".into(),
                None,
                "—".into(),
                "p99 ≤ 50 ms",
                verdict(s.deliver.p99 <= 50.0),
            ));
        }
        rows.push(Row::new(
            "100 concurrent retries of one idempotency key",
            format!("{acked} acks, {} distinct transfer(s)", transfer_ids.len()),
            "n/a".into(),
            None,
            "—".into(),
            "exactly one",
            verdict(transfer_ids.len() == 1),
        ));
        rows.push(Row::new(
            "Ledger invariants after the run",
            if inv["ok"] == json!(true) { "hold".into() } else { format!("{}", inv["problems"]) },
            "n/a".into(),
            None,
            "—".into(),
            "hold",
            verdict(inv["ok"] == json!(true)),
        ));
        let notes = vec![format!(
            "Steps (offered → acked/s, commit p99, request → recipient sees it completed p99, errors): {}. Each transfer is posted in the one group-committed SQLite transaction that accepts it: double-entry postings and seven logged events (the transfer, two balances, two transactions, two notifications). {n} users, one connection each, within the default per-connection rate limit.",
            describe_steps(&steps)
        )];
        let series = steps
            .iter()
            .filter(|s| s.offered <= 5_000.0)
            .map(|s| (format!("{}/s", f0(s.offered)), curve(&s.hist)))
            .collect();
        self.report.sections.push(Section {
            title: "7. Ledger (durable P2P transfers over WebSocket; Tally only)".into(),
            rows,
            notes,
            plot: Some(Plot {
                file: "bench-ledger.svg".into(),
                title: "7. Transfer commit latency (request → ack)".into(),
                series,
            }),
        });
        Ok(())
    }

    pub async fn finish(self) {
        self.tally.stop().await;
    }
}

/// One offered rate of the ledger load: what was acked, and how fast.
pub(crate) struct LedgerStep {
    pub offered: f64,
    pub achieved: f64,
    /// Request → ack (the transfer committed).
    pub ack: Pcts,
    /// Request → the recipient's line, completed.
    pub deliver: Pcts,
    pub errors: HashMap<String, u64>,
    pub hist: Histogram<u64>,
    /// How long the rate was offered.
    pub secs: f64,
    /// CPU-seconds of each group of the server's processes over the step (empty for a single process).
    pub cpu_by: Vec<(String, f64)>,
}

/// The highest acked rate that kept up with what was offered (≥ 95 %).
pub(crate) fn best_sustained(steps: &[LedgerStep]) -> f64 {
    steps.iter().filter(|s| s.achieved >= 0.95 * s.offered).map(|s| s.achieved).fold(0.0, f64::max)
}

/// "offered → acked/s (commit p99, to-recipient p99, errors)" for each step.
pub(crate) fn describe_steps(steps: &[LedgerStep]) -> String {
    steps
        .iter()
        .map(|s| {
            format!("{} → {} ({}, {}, {:?})", f0(s.offered), f0(s.achieved), ms(s.ack.p99), ms(s.deliver.p99), s.errors)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// `n` funded users `{prefix}0…`, each paying the next over its own connection to `srv`, stepped through
/// `rates` for `secs` each until the hub stops keeping up.
pub(crate) async fn ledger_steps(
    srv: &Server,
    prefix: &str,
    n: usize,
    rates: &[f64],
    secs: f64,
) -> anyhow::Result<Vec<LedgerStep>> {
    let ids = srv.provision(prefix, n).await?;
    for i in 0..n {
        srv.admin("/v1/admin/deposit", json!({"username": format!("{prefix}{i}"), "amount": {"minor": 10_000_000, "currency": "USD"}, "memo": "bench"}))
            .await?;
    }
    let names: Vec<String> = (0..n).map(|i| format!("{prefix}{i}")).collect();
    let tokens = srv.tokens(&names).await?;
    let shared = Arc::new(Mutex::new(LedgerStats::default()));
    let (rate_tx, rate_rx) = tokio::sync::watch::channel(0.0f64);
    let mut tasks = JoinSet::new();
    for i in 0..n {
        let url = format!("ws://{}/v1/ws", srv.addr);
        let hello = json!({"type": "hello", "v": tally_protocol::PROTOCOL_VERSION, "token": tokens[i],
            "subscriptions": [{"channel": format!("transactions:{}", ids[i])}]});
        let to = names[(i + 1) % n].clone();
        tasks.spawn(ledger_conn(url, hello, to, n, rate_rx.clone(), shared.clone(), i));
    }
    // Wait until all are subscribed.
    let t = Instant::now();
    while shared.lock().unwrap().ready < n && t.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut steps = Vec::new();
    for &r in rates {
        *shared.lock().unwrap() = LedgerStats { ready: n, ..Default::default() };
        let cpu0 = srv.usage().cpu_s;
        let by0 = srv.cpu_by_group();
        rate_tx.send_replace(r);
        tokio::time::sleep(Duration::from_secs_f64(secs)).await;
        rate_tx.send_replace(0.0);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let cpu = srv.usage().cpu_s - cpu0;
        let cpu_by: Vec<(String, f64)> =
            srv.cpu_by_group().into_iter().zip(by0).map(|((name, b), (_, a))| (name, b - a)).collect();
        if !cpu_by.is_empty() {
            eprintln!("  ledger target {r:.0}/s: CPU-s by process {cpu_by:?}");
        }
        let s = std::mem::take(&mut *shared.lock().unwrap());
        let (ack, deliver) = (pcts(&s.ack), pcts(&s.deliver));
        let achieved = s.acked as f64 / secs;
        eprintln!(
            "  ledger target {r:.0}/s: {} acked ({achieved:.0}/s), commit p50 {:.2} p99 {:.2} ms, to recipient (completed) p99 {:.2} ms, errors {:?}, CPU {cpu:.1} s",
            s.acked, ack.p50, ack.p99, deliver.p99, s.errors
        );
        steps.push(LedgerStep {
            offered: r,
            achieved,
            ack,
            deliver,
            errors: s.errors.clone(),
            hist: s.ack,
            secs,
            cpu_by,
        });
        shared.lock().unwrap().ready = n;
        if achieved < 0.8 * r {
            // Saturated: higher offered rates only lengthen the queue.
            tokio::time::sleep(Duration::from_secs(3)).await;
            break;
        }
    }
    rate_tx.send_replace(-1.0);
    tasks.abort_all();
    Ok(steps)
}

struct LedgerStats {
    ready: usize,
    acked: u64,
    ack: Histogram<u64>,
    deliver: Histogram<u64>,
    errors: HashMap<String, u64>,
}

impl Default for LedgerStats {
    fn default() -> Self {
        LedgerStats {
            ready: 0,
            acked: 0,
            ack: crate::stats::hist(),
            deliver: crate::stats::hist(),
            errors: HashMap::new(),
        }
    }
}

async fn ledger_conn(
    url: String,
    hello: serde_json::Value,
    to: String,
    n: usize,
    mut rate: tokio::sync::watch::Receiver<f64>,
    shared: Arc<Mutex<LedgerStats>>,
    idx: usize,
) -> anyhow::Result<()> {
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, None, true).await?;
    ws.send(Message::text(hello.to_string())).await?;
    let mut sent: HashMap<u64, u64> = HashMap::new();
    let mut next_id = 1u64;
    let mut ready = false;
    let mut ticker: Option<tokio::time::Interval> = None;
    loop {
        tokio::select! {
            changed = rate.changed() => {
                if changed.is_err() { return Ok(()); }
                let r = *rate.borrow();
                if r < 0.0 { return Ok(()); }
                ticker = (r > 0.0).then(|| {
                    let period = Duration::from_secs_f64(n as f64 / r);
                    // Spread the connections' sends over the period.
                    let offset = period.mul_f64(idx as f64 / n as f64);
                    tokio::time::interval_at(tokio::time::Instant::now() + offset, period)
                });
            }
            _ = async { match ticker.as_mut() { Some(t) => { t.tick().await; } None => std::future::pending().await } } => {
                let t = wire::now_ns();
                let f = json!({"type": "transfer_create", "id": next_id, "idempotency_key": format!("b{idx}-{next_id}-{t}"),
                    "to": to, "amount": {"minor": 1, "currency": "USD"}, "memo": format!("b:{t}")});
                sent.insert(next_id, t);
                next_id += 1;
                ws.send(Message::text(f.to_string())).await?;
            }
            m = ws.next() => {
                let Some(Ok(m)) = m else { return Ok(()) };
                let Message::Text(text) = m else { continue };
                let Some(f) = wire::parse_tally(&text) else { continue };
                let now = wire::now_ns();
                match f.kind.as_str() {
                    "ping" => { ws.send(Message::text(json!({"type": "pong", "ts": f.ts.unwrap_or(0)}).to_string())).await?; }
                    "subscribed" if !ready => { ready = true; shared.lock().unwrap().ready += 1; }
                    "ack" => {
                        if let Some(t) = f.id.and_then(|id| sent.remove(&id)) {
                            let mut s = shared.lock().unwrap();
                            s.acked += 1;
                            let _ = s.ack.record(((now - t) / 1_000).max(1));
                        }
                    }
                    "error" => {
                        if let Some(id) = f.id { sent.remove(&id); }
                        *shared.lock().unwrap().errors.entry(f.code.unwrap_or_default()).or_default() += 1;
                    }
                    "event" | "batch" if !f.incoming.is_empty() => {
                        let mut s = shared.lock().unwrap();
                        for st in f.incoming {
                            let _ = s.deliver.record((now.saturating_sub(st) / 1_000).max(1));
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}
