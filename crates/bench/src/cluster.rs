//! `tally-bench cluster`: one hub on its embedded SQLite store beside the distributed deployment (three
//! hubs on one PostgreSQL and one Redis behind HAProxy, as scripts/cluster.sh runs it), under the same
//! load from the same generator in one run. On two cores the cluster cannot be faster: its six servers
//! share the cores the one hub has to itself. What this measures is the cost of the hop (publish →
//! PostgreSQL commit → Redis → the hub that holds the socket) and that every guarantee holds across it.
use crate::pool::Pool;
use crate::report::{f0, f2, ms, Plot, Report, Row, Section};
use crate::scenarios::{
    best_sustained, describe_steps, ledger_steps, load, names, p50_99, pick, ratio, shape, verdict, LedgerStep, Step,
};
use crate::servers::Server;
use crate::stats::{curve, pcts, Pcts};
use crate::wire::Proto;
use crate::worker::ConnSpec;
use anyhow::Context;
use serde_json::{json, Value};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub const BEGIN: &str =
    "<!-- tally-bench-cluster:begin (written by `make bench-cluster`; edits here are overwritten) -->";
pub const END: &str = "<!-- tally-bench-cluster:end -->";

pub struct Opts {
    pub quick: bool,
    pub out: PathBuf,
}

/// The sizes of one run: (full, quick) through `pick`.
struct Sizes {
    quick: bool,
    room_n: usize,
    room_rates: Vec<f64>,
    room_reference: f64,
    users: usize,
    personal_rates: Vec<f64>,
    personal_reference: f64,
    ledger_n: usize,
    ledger_rates: Vec<f64>,
    ledger_reference: f64,
    secs: f64,
}

impl Sizes {
    fn new(quick: bool) -> Sizes {
        Sizes {
            quick,
            room_n: pick(quick, 1_000, 200),
            room_rates: pick(quick, vec![10e3, 20e3, 50e3, 100e3, 150e3], vec![5e3]),
            room_reference: pick(quick, 10e3, 5e3),
            users: pick(quick, 5_000, 500),
            personal_rates: pick(quick, vec![1e3, 2e3, 5e3, 10e3, 20e3], vec![500.0]),
            personal_reference: pick(quick, 2e3, 500.0),
            ledger_n: pick(quick, 200, 40),
            ledger_rates: pick(quick, vec![100.0, 250.0, 500.0, 1_000.0, 2_500.0, 5_000.0], vec![200.0]),
            ledger_reference: pick(quick, 250.0, 200.0),
            secs: pick(quick, 4.0, 1.5),
        }
    }
}

/// One side of the comparison: a server, its users and room, and for the cluster the hub the storm kills.
struct Side {
    label: &'static str,
    srv: Server,
    ids: Vec<i64>,
    room: i64,
    /// One hub of three, SIGKILLed in the storm; none for the one hub, which is killed and restarted.
    victim: Option<u32>,
}

/// What one side measured.
struct Results {
    room: Vec<(f64, Step)>,
    personal: Vec<(f64, Step)>,
    ledger: Vec<LedgerStep>,
    storm: Storm,
    invariants: Value,
}

struct Storm {
    /// Connections whose socket dropped, and those of them that came back and got what they missed.
    dropped: u64,
    caught_up: u64,
    p: Pcts,
    gaps: u64,
    dups: u64,
    peak_resub_per_s: u64,
    /// Kill → ready again, for the one hub (the cluster's survivors never stopped).
    restart_ms: Option<u64>,
}

/// The deployment scripts/cluster.sh started, from what it exports to the command it runs.
fn attach_cluster() -> anyhow::Result<(Server, u32)> {
    let var = |k: &str| {
        std::env::var(k).with_context(|| {
            format!(
                "{k} is not set: run this through `make bench-cluster` (scripts/cluster.sh ... -- tally-bench cluster)"
            )
        })
    };
    let front: SocketAddr = var("TALLY_CLUSTER_URL")?.trim_start_matches("http://").parse()?;
    let hubs: Vec<String> = var("TALLY_CLUSTER_HUBS")?.split_whitespace().map(String::from).collect();
    let hub_pids: Vec<u32> =
        var("TALLY_CLUSTER_HUB_PIDS")?.split_whitespace().map(str::parse).collect::<Result<_, _>>()?;
    let others: Vec<u32> = var("TALLY_CLUSTER_PIDS")?.split_whitespace().map(str::parse).collect::<Result<_, _>>()?;
    anyhow::ensure!(hubs.len() == 3 && hub_pids.len() == 3, "expected three hubs, got {hubs:?}");
    let data = PathBuf::from(var("TALLY_CLUSTER_DATA")?);
    let token = std::fs::read_to_string(data.join("hub-1/admin.token"))?.trim().to_string();
    let victim = hub_pids[2];
    anyhow::ensure!(others.len() == 3, "expected the pids of Redis, HAProxy and PostgreSQL, got {others:?}");
    let groups = vec![
        ("hubs".to_string(), hub_pids),
        ("PostgreSQL".to_string(), vec![others[2]]),
        ("Redis".to_string(), vec![others[0]]),
        ("HAProxy".to_string(), vec![others[1]]),
    ];
    // Admin calls and publishes go to hub 1; the storm kills hub 3.
    let srv = Server::attach(front, hubs[0].clone(), token, groups)?;
    Ok((srv, victim))
}

async fn side(label: &'static str, srv: Server, victim: Option<u32>, z: &Sizes) -> anyhow::Result<Side> {
    let t = Instant::now();
    let ids = srv.provision("u", z.users.max(z.room_n)).await?;
    let room = srv.admin("/v1/admin/rooms", json!({"name": "bench room", "members": names(0..z.room_n)})).await?["id"]
        .as_i64()
        .context("room id")?;
    eprintln!("{label}: {} users and a room of {} in {:.1} s", ids.len(), z.room_n, t.elapsed().as_secs_f64());
    Ok(Side { label, srv, ids, room, victim })
}

/// Connection specs for users `range` of `side`, each on `channels(id)`, with fresh tokens.
async fn specs(
    side: &Side,
    range: std::ops::Range<usize>,
    channels: impl Fn(i64) -> Vec<String>,
) -> anyhow::Result<Vec<ConnSpec>> {
    let users = names(range.clone());
    let mut tokens = Vec::new();
    for chunk in users.chunks(10_000) {
        tokens.extend(side.srv.tokens(chunk).await?);
    }
    Ok(range
        .zip(users)
        .zip(tokens)
        .map(|((i, user), token)| ConnSpec { user, token, channels: channels(side.ids[i]) })
        .collect())
}

/// A second of light load before the measured steps, not recorded: the first events on fresh sockets and
/// channels (and, on PostgreSQL, the first use of each statement) would otherwise land in the first step.
async fn warm_up(
    side: &mut Side,
    pool: &mut Pool,
    fanout: u64,
    channel: impl FnMut(u64) -> String,
) -> anyhow::Result<()> {
    load(&mut side.srv, pool, 10.0, 1, 1.0, fanout, channel).await.map(|_| ())
}

fn log_step(label: &str, what: &str, target: f64, st: &Step) {
    eprintln!(
        "  {label} {what} target {target:.0}/s: {:.0}/s p50 {:.2} p99 {:.2} ms, received {}/{}, gaps {} dups {}, CPU {:.2} s/M",
        st.rate(),
        st.p.p50,
        st.p.p99,
        st.received,
        st.expected,
        st.gaps,
        st.dups,
        st.cpu_per_m()
    );
}

/// Fan-out to one room whose members' sockets HAProxy spread over the hubs: steps up the rate until p99
/// passes 50 ms past the reference step.
async fn room(side: &mut Side, sources: &[IpAddr], z: &Sizes) -> anyhow::Result<Vec<(f64, Step)>> {
    let room = format!("room:{}", side.room);
    let r2 = room.clone();
    let specs = specs(side, 0..z.room_n, move |_| vec![r2.clone()]).await?;
    let mut pool = Pool::connect(Proto::Tally, side.srv.addr, sources, specs, 0.0).await?;
    let fan = pool.ready as u64;
    side.srv.set_payload(100);
    warm_up(side, &mut pool, fan, |_| room.clone()).await?;
    let mut out = Vec::new();
    for &r in &z.room_rates {
        let (posts, per) = shape(r, fan);
        let st = load(&mut side.srv, &mut pool, posts, per, z.secs, fan, |_| room.clone()).await?;
        log_step(side.label, "room", r, &st);
        let ok = st.ok(50.0);
        out.push((r, st));
        if !ok && r >= z.room_reference {
            break;
        }
    }
    pool.quit().await;
    Ok(out)
}

/// Publishes to users' personal channels at rising rates, then the reconnect storm on the same sockets.
async fn personal_and_storm(
    side: &mut Side,
    sources: &[IpAddr],
    z: &Sizes,
) -> anyhow::Result<(Vec<(f64, Step)>, Storm)> {
    let specs = specs(side, 0..z.users, |id| {
        vec![format!("notifications:{id}"), format!("balance:{id}"), format!("transactions:{id}")]
    })
    .await?;
    let mut pool = Pool::connect(Proto::Tally, side.srv.addr, sources, specs, 0.0).await?;
    let ids: Vec<i64> = side.ids[..z.users].to_vec();
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut next_user = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        ids[(rng % ids.len() as u64) as usize]
    };
    warm_up(side, &mut pool, 1, |_| format!("notifications:{}", next_user())).await?;
    let mut out = Vec::new();
    for &r in &z.personal_rates {
        let per = (r / 100.0).max(1.0) as usize;
        let st =
            load(&mut side.srv, &mut pool, 100.0, per, z.secs, 1, |_| format!("notifications:{}", next_user())).await?;
        log_step(side.label, "personal", r, &st);
        let ok = st.ok(50.0) && st.received == st.expected;
        out.push((r, st));
        if !ok && r >= z.personal_reference {
            break;
        }
    }
    let users: Vec<i64> = side.ids[..z.users].to_vec();
    let storm = storm(side, &mut pool, &users, z.quick).await?;
    pool.quit().await;
    Ok((out, storm))
}

/// Every client stops reading; the one hub is killed and restarted, or one hub of the cluster is killed
/// for good; one event per user is published while the dropped clients are away; then every client reads
/// again, and the dropped ones reconnect like the app (through HAProxy, to a hub still alive) and must
/// get exactly the event they missed.
async fn storm(side: &mut Side, pool: &mut Pool, ids: &[i64], quick: bool) -> anyhow::Result<Storm> {
    pool.reset().await?;
    pool.pause(1.0).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    pool.storm(1).await?;
    let t_kill = Instant::now();
    let restart_ms = match side.victim {
        None => {
            side.srv.crash_and_restart(Path::new(".")).await?;
            Some(t_kill.elapsed().as_millis() as u64)
        }
        Some(pid) => {
            let killed = std::process::Command::new("kill").args(["-KILL", &pid.to_string()]).status()?;
            anyhow::ensure!(killed.success(), "could not kill hub {pid}");
            None
        }
    };
    let chans: Vec<String> = ids.iter().map(|id| format!("notifications:{id}")).collect();
    for chunk in chans.chunks(5_000) {
        // A hub just back may drop a request: retry (what clients receive is checked, so a repeat cannot
        // hide a loss).
        let mut tries = 0;
        while let Err(e) = side.srv.publish(chunk).await {
            tries += 1;
            anyhow::ensure!(tries < 5, "publishing after the kill: {e:#}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    pool.pause(0.0).await?;
    let resumed = Instant::now();
    let deadline = resumed + Duration::from_secs(pick(quick, 15, 40));
    let mut all_back: Option<Instant> = None;
    let s = loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (s, _) = pool.report().await?;
        let settled = s.dropped > 0 && resumed.elapsed() > Duration::from_secs(1);
        if settled && s.resub_count >= s.dropped && all_back.is_none() {
            all_back = Some(Instant::now());
        }
        if (settled && s.storm.len() >= s.dropped)
            || all_back.is_some_and(|t| t.elapsed() > Duration::from_secs(3))
            || Instant::now() > deadline
        {
            break s;
        }
    };
    let st = Storm {
        dropped: s.dropped,
        caught_up: s.storm.len(),
        p: pcts(&s.storm),
        gaps: s.gaps,
        dups: s.dups,
        peak_resub_per_s: s.peak_resub_per_s(),
        restart_ms,
    };
    eprintln!(
        "  {} storm: dropped {}, caught up {}, p99 {:.0} ms, gaps {} dups {}",
        side.label, st.dropped, st.caught_up, st.p.p99, st.gaps, st.dups
    );
    Ok(st)
}

async fn invariants(srv: &Server) -> anyhow::Result<Value> {
    Ok(reqwest::Client::new()
        .get(format!("{}/v1/admin/invariants", srv.http))
        .bearer_auth(&srv.admin_token)
        .send()
        .await?
        .json::<Value>()
        .await?)
}

async fn measure(side: &mut Side, sources: &[IpAddr], z: &Sizes) -> anyhow::Result<Results> {
    eprintln!("{}:", side.label);
    let room = room(side, sources, z).await?;
    let ledger = ledger_steps(&side.srv, "l", z.ledger_n, &z.ledger_rates, z.secs).await?;
    let invariants = invariants(&side.srv).await?;
    // Last: the storm kills a hub of the cluster.
    let (personal, storm) = personal_and_storm(side, sources, z).await?;
    Ok(Results { room, personal, ledger, storm, invariants })
}

/// Starts the one hub, attaches to the cluster, measures both and writes the report section.
pub async fn run(o: Opts) -> anyhow::Result<()> {
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let started = Instant::now();
    let z = Sizes::new(o.quick);
    let (cluster_srv, victim) = attach_cluster()?;
    let scratch = tempfile::tempdir()?;
    let single_srv = Server::start_tally(&scratch.path().join("hub"), None).await?;
    let sources: Vec<IpAddr> = (2..10).map(|i| IpAddr::from([127, 0, 0, i])).collect();
    let mut single = side("one hub", single_srv, None, &z).await?;
    let mut cluster = side("cluster", cluster_srv, Some(victim), &z).await?;
    let one = measure(&mut single, &sources, &z).await;
    single.srv.stop().await;
    let one = one?;
    let three = measure(&mut cluster, &sources, &z).await?;
    let mut report = Report { columns: ["Cluster".into(), "One hub".into()], ..Report::default() };
    sections(&mut report, &z, &three, &one);
    let cmd = if o.quick { "make bench-cluster QUICK=1" } else { "make bench-cluster" };
    let header = format!(
        "\n## One hub vs the cluster (tally-bench cluster)\n\n\
         Machine: {}. Measured {} by `{cmd}` in {:.0} s{}.\n\n\
         **Cluster**: three `tally-hub` processes (release) on one PostgreSQL 15 and one Redis 7, behind HAProxy \
         (`balance leastconn`), as `scripts/cluster.sh` runs them; clients connect to HAProxy, admin calls and \
         publishes go to hub 1, so most deliveries cross PostgreSQL and Redis to another hub. **One hub**: the \
         same binary on its embedded SQLite store. Same load generator, same client code, one run, one after the \
         other (the idle cluster stays up while the one hub is measured). CPU is the sum over every server process \
         (hubs, PostgreSQL with its backends, Redis, HAProxy). Both sides share this machine's two cores with the \
         load generator: the cluster cannot be faster here, so the ratios show the cost of the hop, and the loss, \
         gap, duplicate and invariant rows show that the guarantees hold across it.\n",
        crate::machine(),
        crate::chrono_like_now(),
        started.elapsed().as_secs_f64(),
        if o.quick { " — a smoke run with small sizes, not a measurement" } else { "" }
    );
    if let Some(dir) = o.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    report.write_between(&o.out, &header, BEGIN, END)?;
    eprintln!("wrote {}", o.out.display());
    Ok(())
}

/// The highest delivery rate whose step kept p99 ≤ 50 ms with nothing lost.
fn best(steps: &[(f64, Step)]) -> f64 {
    steps.iter().filter(|(_, s)| s.ok(50.0)).map(|(_, s)| s.rate()).fold(0.0, f64::max)
}

fn at(steps: &[(f64, Step)], rate: f64) -> Option<&Step> {
    steps.iter().find(|(t, _)| (*t - rate).abs() < 1.0).map(|(_, s)| s)
}

fn p3(s: Option<&Step>) -> String {
    s.map(|s| format!("{} / {} / {}", ms(s.p.p50), ms(s.p.p99), ms(s.p.p999))).unwrap_or("—".into())
}

fn steps_note(label: &str, steps: &[(f64, Step)]) -> String {
    let list: Vec<String> =
        steps.iter().map(|(t, s)| format!("{} → {} ({})", f0(*t), f0(s.rate()), ms(s.p.p99))).collect();
    format!("{label} steps (target → achieved/s, p99): {}", list.join(", "))
}

fn sections(report: &mut Report, z: &Sizes, c: &Results, o: &Results) {
    report.sections.push(fanout_section(z, c, o));
    report.sections.push(personal_section(z, c, o));
    report.sections.push(ledger_section(z, c, o));
    report.sections.push(storm_section(z, c, o));
}

fn fanout_section(z: &Sizes, c: &Results, o: &Results) -> Section {
    let (bc, bo) = (best(&c.room), best(&o.room));
    let refr = z.room_reference;
    let (sc, so) = (at(&c.room, refr), at(&o.room, refr));
    let p99 = |s: Option<&Step>| s.map(|s| s.p.p99).unwrap_or(f64::NAN);
    let cpu = |s: Option<&Step>| s.map(|s| s.cpu_per_m()).unwrap_or(f64::NAN);
    let lost = |s: Option<&Step>| s.map(|s| format!("{}/{}", s.received, s.expected)).unwrap_or("—".into());
    let rows = vec![
        Row::new(
            "Highest deliveries/s with p99 ≤ 50 ms (of the steps tried)",
            f0(bc),
            f0(bo),
            None,
            ratio(bc, bo),
            "holds (some step passes)",
            verdict(bc > 0.0),
        ),
        Row::new(
            &format!("p50 / p99 / p99.9 at {}/s", f0(refr)),
            p3(sc),
            p3(so),
            None,
            ratio(p99(sc), p99(so)),
            "p99 ≤ 50 ms",
            verdict(p99(sc) <= 50.0),
        ),
        Row::new(
            &format!("Delivered / expected at {}/s", f0(refr)),
            lost(sc),
            lost(so),
            None,
            "—".into(),
            "zero loss",
            verdict(sc.is_some_and(|s| s.received == s.expected)),
        ),
        Row::new(
            &format!("Server CPU-seconds per million deliveries at {}/s", f0(refr)),
            f2(cpu(sc)),
            f2(cpu(so)),
            None,
            ratio(cpu(sc), cpu(so)),
            "—",
            String::new(),
        ),
    ];
    let series = [("Cluster", sc), ("One hub", so)]
        .into_iter()
        .filter_map(|(l, s)| s.map(|s| (l.to_string(), curve(&s.lat))))
        .collect();
    Section {
        title: format!("C1. Fan-out to a room ({} members, their sockets spread over the hubs)", z.room_n),
        rows,
        notes: vec![steps_note("Cluster", &c.room), steps_note("One hub", &o.room)],
        plot: Some(Plot {
            file: "bench-cluster-room.svg".into(),
            title: format!("C1. Room fan-out: latency at {}/s", f0(refr)),
            series,
        }),
    }
}

fn personal_section(z: &Sizes, c: &Results, o: &Results) -> Section {
    let ok = |v: &[(f64, Step)]| {
        v.iter().filter(|(_, s)| s.ok(50.0) && s.received == s.expected).map(|(_, s)| s.rate()).fold(0.0, f64::max)
    };
    let (bc, bo) = (ok(&c.personal), ok(&o.personal));
    let refr = z.personal_reference;
    let (sc, so) = (at(&c.personal, refr), at(&o.personal, refr));
    let p99 = |s: Option<&Step>| s.map(|s| s.p.p99).unwrap_or(f64::NAN);
    let gd = |v: &[(f64, Step)]| {
        let (g, d) = v.iter().fold((0, 0), |(g, d), (_, s)| (g + s.gaps, d + s.dups));
        (g, d)
    };
    let ((gc, dc), (go, d_o)) = (gd(&c.personal), gd(&o.personal));
    let rows = vec![
        Row::new(
            "Highest publishes/s with p99 ≤ 50 ms and nothing lost (each one a logged event)",
            f0(bc),
            f0(bo),
            None,
            ratio(bc, bo),
            "holds (some step passes)",
            verdict(bc > 0.0),
        ),
        Row::new(
            &format!("p50 / p99 / p99.9 at {}/s", f0(refr)),
            p3(sc),
            p3(so),
            None,
            ratio(p99(sc), p99(so)),
            "p99 ≤ 50 ms",
            verdict(p99(sc) <= 50.0),
        ),
        Row::new(
            "Seq gaps / duplicates over every step",
            format!("{gc} / {dc}"),
            format!("{go} / {d_o}"),
            None,
            "—".into(),
            "0 / 0",
            verdict(gc == 0 && dc == 0),
        ),
    ];
    Section {
        title: format!("C2. Personal channels ({} users, publishes to random users' notification channels)", z.users),
        rows,
        notes: vec![steps_note("Cluster", &c.personal), steps_note("One hub", &o.personal)],
        plot: None,
    }
}

fn ledger_section(z: &Sizes, c: &Results, o: &Results) -> Section {
    let (bc, bo) = (best_sustained(&c.ledger), best_sustained(&o.ledger));
    let refr = z.ledger_reference;
    let at = |v: &[LedgerStep]| v.iter().find(|s| s.offered == refr).map(|s| (s.ack.p99, s.deliver.p99));
    let (ac, ao) = (at(&c.ledger), at(&o.ledger));
    let f = |x: Option<(f64, f64)>, i: usize| x.map(|v| if i == 0 { v.0 } else { v.1 }).unwrap_or(f64::NAN);
    let inv = |v: &Value| if v["ok"] == json!(true) { "hold".to_string() } else { format!("{}", v["problems"]) };
    let rows = vec![
        Row::new(
            "Durable transfers/s sustained (acked ≥ 95 % of the offered rate)",
            f0(bc),
            f0(bo),
            None,
            ratio(bc, bo),
            "—",
            String::new(),
        ),
        Row::new(
            &format!("Commit (request → ack) p99 at {}/s", f0(refr)),
            ms(f(ac, 0)),
            ms(f(ao, 0)),
            None,
            ratio(f(ac, 0), f(ao, 0)),
            "p99 ≤ 50 ms",
            verdict(f(ac, 0) <= 50.0),
        ),
        Row::new(
            &format!("Request → recipient sees it completed, p99 at {}/s", f0(refr)),
            ms(f(ac, 1)),
            ms(f(ao, 1)),
            None,
            ratio(f(ac, 1), f(ao, 1)),
            "p99 ≤ 100 ms",
            verdict(f(ac, 1) <= 100.0),
        ),
        Row::new(
            "Ledger invariants after the run",
            inv(&c.invariants),
            inv(&o.invariants),
            None,
            "—".into(),
            "hold",
            verdict(c.invariants["ok"] == json!(true)),
        ),
    ];
    Section {
        title: format!(
            "C3. Ledger ({} users paying each other over WebSocket, through HAProxy for the cluster)",
            z.ledger_n
        ),
        rows,
        notes: vec![
            format!(
                "Cluster steps (offered → acked/s, commit p99, to-recipient p99, errors): {}.",
                describe_steps(&c.ledger)
            ),
            cpu_note(&c.ledger),
            format!("One hub steps: {}.", describe_steps(&o.ledger)),
        ],
        plot: None,
    }
}

/// Where the cluster's CPU went in each ledger step, per transfer acked: what limits it, measured.
fn cpu_note(steps: &[LedgerStep]) -> String {
    let per = |s: &LedgerStep| {
        let acked = (s.achieved * s.secs).max(1.0);
        let parts: Vec<String> =
            s.cpu_by.iter().map(|(name, cpu)| format!("{name} {:.1}", cpu * 1e3 / acked)).collect();
        format!("{}/s: {}", f0(s.offered), parts.join(", "))
    };
    format!(
        "Cluster CPU-milliseconds per acked transfer, by process (measured over each step and its settling): {}.",
        steps.iter().map(per).collect::<Vec<_>>().join("; ")
    )
}

fn storm_section(z: &Sizes, c: &Results, o: &Results) -> Section {
    let (sc, so) = (&c.storm, &o.storm);
    let caught = |s: &Storm| format!("{}/{}", s.caught_up, s.dropped);
    let restart = |s: &Storm| s.restart_ms.map(|m| format!("{m} ms")).unwrap_or("none (the other hubs stay up)".into());
    let rows = vec![
        Row::new(
            "Dropped connections that came back and got the event published while away",
            caught(sc),
            caught(so),
            None,
            "—".into(),
            "all",
            verdict(sc.dropped > 0 && sc.caught_up == sc.dropped),
        ),
        Row::new(
            "Drop noticed → reconnected, resubscribed and replayed, p50 / p99",
            p50_99(&sc.p),
            p50_99(&so.p),
            None,
            ratio(sc.p.p99, so.p.p99),
            "p99 ≤ 2 s",
            verdict(sc.p.n > 0 && sc.p.p99 <= 2_000.0),
        ),
        Row::new(
            "Duplicates / gaps after recovery",
            format!("{} / {}", sc.dups, sc.gaps),
            format!("{} / {}", so.dups, so.gaps),
            None,
            "—".into(),
            "0 / 0",
            verdict(sc.dups == 0 && sc.gaps == 0),
        ),
        Row::new(
            "Reconnect + auth + resubscribe completed per second (busiest 1 s)",
            f0(sc.peak_resub_per_s as f64),
            f0(so.peak_resub_per_s as f64),
            None,
            ratio(sc.peak_resub_per_s as f64, so.peak_resub_per_s as f64),
            "—",
            String::new(),
        ),
        Row::new("Restart (kill → ready)", restart(sc), restart(so), None, "—".into(), "—", String::new()),
    ];
    Section {
        title: format!("C4. Reconnect storm ({} connections; SIGKILL of the one hub, or of one hub of the cluster's three)", z.users),
        rows,
        notes: vec![
            "Every client stops reading; the one hub is killed and restarted on its data, or hub 3 of the cluster is killed for good; one event per user is published (to hub 1) while the dropped clients are away; then all clients read at once. The dropped ones reconnect like the app (first retry within 1 s, then capped exponential backoff with jitter): the one hub's clients to the restarted hub, the cluster's through HAProxy to the two hubs left (HAProxy needs up to two failed 1 s health checks to stop offering the dead one, so some first retries are refused). Each resumes from its last (epoch, seq) and must get exactly the one event it missed.".into(),
        ],
        plot: None,
    }
}
