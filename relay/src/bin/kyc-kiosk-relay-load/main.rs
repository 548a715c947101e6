//! `kyc-kiosk-relay-load`: the relay under load, measured. It starts a
//! throwaway PostgreSQL, the sandbox (in this process) as the upstream, a
//! webhook front, and two `kyc-kiosk-relay serve` processes (so the CPU and
//! memory of each can be read from `/proc`); enrols the kiosks, simulates
//! them with the kiosk's own relay client, and counts exactly which results
//! were lost or shown twice.
//!
//! Modes: `sandbox` drives whole verifications (token, `/process`, the
//! sandbox's signed webhook, the kiosk's long poll and acknowledgement);
//! `ingress` posts signed webhooks for scans made in the table, at full rate,
//! to measure the relay alone. `--faults` kills one instance mid-run,
//! restarts PostgreSQL, takes one kiosk offline and answers one webhook 500
//! once.
//!
//! Exit codes: 0 no result lost or shown twice, 1 some were, 10 the run
//! could not be set up.

mod front;
mod kiosks;
mod pg;
mod procstat;
mod track;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::{Parser, ValueEnum};
use kyc_kiosk::config::Secret;
use kyc_kiosk::sandbox::{Sandbox, SandboxConfig};
use rand::distributions::Alphanumeric;
use rand::Rng as _;
use tokio::sync::watch;

use crate::track::{quantile, Tracker};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// Whole verifications with the sandbox as the upstream.
    Sandbox,
    /// Signed webhooks for scans made in the table, at full rate.
    Ingress,
}

/// Load and fault test of kyc-kiosk-relay: two instances, one PostgreSQL.
#[derive(Debug, Parser)]
#[command(name = "kyc-kiosk-relay-load", version)]
struct Args {
    #[arg(long, value_enum, default_value_t = Mode::Sandbox)]
    mode: Mode,
    /// Relay instances (`serve` processes); `--faults` needs two or more.
    #[arg(long, default_value_t = 2)]
    instances: usize,
    /// Open loop: start this many verifications (sandbox mode) or send this
    /// many webhooks (ingress mode) per second in all, instead of each kiosk
    /// starting its next verification as soon as its last result is shown
    /// (or the senders posting as fast as answered).
    #[arg(long)]
    rate: Option<f64>,
    /// Simulated kiosks (split over the instances).
    #[arg(long, default_value_t = 500)]
    kiosks: usize,
    /// Verifications (sandbox mode) or webhooks (ingress mode) in all.
    #[arg(long, default_value_t = 20_000)]
    verifications: usize,
    /// Kill one instance, restart PostgreSQL, take a kiosk offline, answer a webhook 500 once.
    #[arg(long)]
    faults: bool,
    /// How long the kiosk stays offline (with --faults).
    #[arg(long, default_value_t = 60)]
    offline_secs: u64,
    /// Concurrent webhook senders (ingress mode).
    #[arg(long, default_value_t = 64)]
    senders: usize,
    /// The sandbox's delay before its webhook, in ms.
    #[arg(long, default_value_t = 50)]
    sandbox_delay_ms: u64,
    /// Database connections of each instance (`serve --max-connections`).
    #[arg(long, default_value_t = 20)]
    max_connections: u32,
    /// The relay binary; by default the `kyc-kiosk-relay` next to this one.
    #[arg(long)]
    relay_bin: Option<PathBuf>,
    /// Count the database's statements (pg_stat_statements) and print the
    /// ones that took the most time at the end.
    #[arg(long)]
    pg_stats: bool,
    /// Give up waiting for results after this long.
    #[arg(long, default_value_t = 600)]
    timeout_secs: u64,
}

fn random_secret(n: usize) -> Secret {
    Secret::new(
        rand::thread_rng()
            .sample_iter(&Alphanumeric)
            .take(n)
            .map(char::from)
            .collect::<String>(),
    )
}

fn free_port() -> anyhow::Result<SocketAddr> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("bind a free port")?;
    Ok(l.local_addr()?)
}

/// The instances' names, in order.
const NAMES: [&str; 8] = ["a", "b", "c", "d", "e", "f", "g", "h"];

/// A `serve` process, killed on drop.
struct Instance {
    name: &'static str,
    url: String,
    child: Option<Child>,
    pid: u32,
}

impl Instance {
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

struct Upstream {
    base_url: String,
    key: Secret,
    secret: Secret,
    signing: Secret,
}

fn spawn_relay(
    name: &'static str,
    bin: &PathBuf,
    db: &str,
    up: &Upstream,
    args: &Args,
    log_dir: &std::path::Path,
) -> anyhow::Result<Instance> {
    let addr = free_port()?;
    let url = format!("http://{addr}");
    let log = std::fs::File::create(log_dir.join(format!("relay-{name}.log")))?;
    let child = Command::new(bin)
        .args(["serve", "--listen", &addr.to_string(), "--public-url", &url])
        .args(["--token-limit", "1000000", "--purge-every", "3600"])
        .args(["--max-connections", &args.max_connections.to_string()])
        .env("DATABASE_URL", db)
        .env("KYC_KIOSK_BACKEND", "live")
        .env("IDENFY_BASE_URL", &up.base_url)
        .env("IDENFY_API_KEY", up.key.expose())
        .env("IDENFY_API_SECRET", up.secret.expose())
        .env("IDENFY_SIGNING_KEY", up.signing.expose())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .with_context(|| format!("start {}", bin.display()))?;
    let pid = child.id();
    Ok(Instance {
        name,
        url,
        child: Some(child),
        pid,
    })
}

async fn wait_ready(http: &reqwest::Client, url: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(r) = http.get(format!("{url}/readyz")).send().await {
            if r.status().is_success() {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("{url} not ready within 60 s")
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[allow(clippy::cast_precision_loss)]
fn mib(kb: Option<u64>) -> String {
    kb.map_or_else(|| "-".into(), |k| format!("{:.0} MiB", k as f64 / 1024.0))
}

/// A signed webhook as the upstream sends it.
fn webhook_body(scan_ref: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "final": true,
        "platform": "API",
        "status": {"overall": "APPROVED", "autoDocument": "DOC_VALIDATED", "autoFace": "FACE_MATCH",
                   "fraudTags": [], "mismatchTags": []},
        "scanRef": scan_ref,
        "clientId": "load",
    }))
    .unwrap_or_default()
}

#[allow(clippy::too_many_lines, clippy::cast_precision_loss)]
async fn run(args: Args) -> anyhow::Result<bool> {
    let bin = match &args.relay_bin {
        Some(b) => b.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("this binary's folder")?
            .join("kyc-kiosk-relay"),
    };
    if !bin.exists() {
        bail!(
            "--relay-bin: {} does not exist (build kyc-kiosk-relay first)",
            bin.display()
        );
    }
    if args.kiosks == 0 || args.verifications == 0 || args.instances == 0 {
        bail!("--kiosks, --verifications and --instances must be at least 1");
    }
    if args.faults && args.instances < 2 {
        bail!("--faults kills an instance: it needs --instances 2 or more");
    }
    if args.rate.is_some_and(|r| !(r.is_finite() && r > 0.0)) {
        bail!("--rate must be a positive number");
    }
    let load_before = procstat::loadavg();
    let cluster = pg::Cluster::start(
        300,
        if args.pg_stats {
            "shared_preload_libraries = 'pg_stat_statements'\npg_stat_statements.track = all\n"
        } else {
            ""
        },
    )?;
    let db = cluster.url();
    let pool = kyc_kiosk_relay::db::connect(&db, 4)
        .await
        .context("database")?;
    kyc_kiosk_relay::db::migrate(&pool)
        .await
        .context("migrations")?;

    if args.pg_stats {
        sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            .execute(&pool)
            .await
            .context("pg_stat_statements")?;
    }

    // The upstream (in this process) posts to the front, which forwards.
    let tracker = Arc::new(Tracker::default());
    // Bound now, not after the instances start: a port only looked up could
    // be taken by then.
    let front_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("bind the webhook front")?;
    let front_addr = front_listener.local_addr()?;
    let (key, secret, signing) = (random_secret(24), random_secret(32), random_secret(40));
    let sandbox = Sandbox::start(SandboxConfig {
        api_key: Some(key.clone()),
        api_secret: Some(secret.clone()),
        signing_key: Some(signing.clone()),
        webhook_url: Some(format!(
            "http://{front_addr}{}",
            kyc_kiosk::idenfy::webhook::PATH
        )),
        auto_delay: Duration::from_millis(args.sandbox_delay_ms),
        webhook_attempts: 12,
        webhook_backoff: Duration::from_millis(200),
        ..SandboxConfig::default()
    })
    .await
    .context("sandbox")?;
    let up = Upstream {
        base_url: sandbox.base_url(),
        key,
        secret,
        signing: signing.clone(),
    };
    let mut insts = Vec::with_capacity(args.instances);
    for i in 0..args.instances {
        insts.push(spawn_relay(
            NAMES.get(i).copied().unwrap_or("n"),
            &bin,
            &db,
            &up,
            &args,
            cluster.dir(),
        )?);
    }
    let http = reqwest::Client::new();
    for inst in &insts {
        wait_ready(&http, &inst.url).await?;
    }
    let urls: Vec<String> = insts.iter().map(|i| i.url.clone()).collect();

    let total = args.verifications;
    let fail_nth = if args.faults {
        (total as u64 / 5).max(1)
    } else {
        0
    };
    let front = Arc::new(front::Front::new(&urls, tracker.clone(), fail_nth));
    let listener = front_listener;
    let app = front::router(front.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    // Enrol, then connect every kiosk (half to each instance).
    let mut fleet = Vec::with_capacity(args.kiosks);
    for i in 0..args.kiosks {
        let e = kyc_kiosk_relay::kiosks::add(&pool, &format!("load-{i}"), None).await?;
        let cred = Secret::new(e.credential);
        let clients = urls
            .iter()
            .map(|u| kyc_kiosk::backoffice::Client::new(u, cred.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        fleet.push((
            e.id,
            Arc::new(kiosks::Kiosk::new(i, clients, i % urls.len())),
        ));
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    let (offline_tx, offline_rx) = watch::channel(false);
    let ctx = Arc::new(kiosks::Ctx {
        tracker: tracker.clone(),
        stop: stop_rx,
        offline_kiosk: args.faults.then_some(0),
        offline: offline_rx,
        poll_wait: Duration::from_secs(25),
        result_wait: Duration::from_secs(args.offline_secs + 120),
        errors: std::sync::Mutex::default(),
        redelivered: 0.into(),
        moves: 0.into(),
    });
    let pollers: Vec<_> = fleet
        .iter()
        .map(|(_, k)| tokio::spawn(kiosks::poll(k.clone(), ctx.clone())))
        .collect();
    let wait_polls = Instant::now() + Duration::from_secs(30);
    while !fleet.iter().all(|(_, k)| k.is_polling()) && Instant::now() < wait_polls {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Process groups measured: each instance, then PostgreSQL, then this tool.
    let groups = |insts: &[Instance]| {
        let mut g: Vec<Vec<u32>> = insts.iter().map(|i| vec![i.pid]).collect();
        g.push(
            cluster
                .postmaster_pid()
                .map(procstat::with_children)
                .unwrap_or_default(),
        );
        g.push(vec![std::process::id()]);
        g
    };
    let (pg_group, tool_group) = (insts.len(), insts.len() + 1);
    let mark0 = procstat::Mark::now(&groups(&insts));
    let started = Instant::now();
    println!(
        "load: mode {:?}, {} kiosks, {} {}, faults {}; relay {}",
        args.mode,
        args.kiosks,
        total,
        if args.mode == Mode::Sandbox {
            "verifications"
        } else {
            "webhooks"
        },
        if args.faults { "on" } else { "off" },
        bin.display()
    );

    if args.pg_stats {
        sqlx::query("SELECT pg_stat_statements_reset()")
            .execute(&pool)
            .await?;
    }

    // The work.
    let mut workers = Vec::new();
    match args.mode {
        Mode::Sandbox => {
            let n = fleet.len();
            for (i, (_, k)) in fleet.iter().enumerate() {
                let share = total / n + usize::from(i < total % n);
                // Open loop: kiosk i starts its verifications every n / rate
                // seconds, the fleet's starts spread evenly over that period.
                let pace = args.rate.map(|r| {
                    let every = Duration::from_secs_f64(n as f64 / r);
                    (every.mul_f64(i as f64 / n as f64), every)
                });
                workers.push(tokio::spawn(kiosks::drive(
                    k.clone(),
                    ctx.clone(),
                    share,
                    pace,
                )));
            }
        }
        Mode::Ingress => {
            let ids: Vec<uuid::Uuid> = fleet.iter().map(|(id, _)| *id).collect();
            sqlx::query(
                "INSERT INTO scan (scan_ref, kiosk_id, token_type, process_state) \
                 SELECT 'ingress-' || g, ($1::uuid[])[1 + g % cardinality($1::uuid[])], 'DOCUMENT', 'accepted' \
                 FROM generate_series(0, $2::int - 1) g",
            )
            .bind(&ids)
            .bind(i32::try_from(total)?)
            .execute(&pool)
            .await?;
            for g in 0..total {
                let s = format!("ingress-{g}");
                tracker.started(&s);
                tracker.accepted(&s);
            }
            let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let front_url = format!("http://{front_addr}{}", kyc_kiosk::idenfy::webhook::PATH);
            for _ in 0..args.senders.max(1) {
                let (next, http, url, key, rate) = (
                    next.clone(),
                    http.clone(),
                    front_url.clone(),
                    signing.clone(),
                    args.rate,
                );
                let t0 = tokio::time::Instant::now();
                workers.push(tokio::spawn(async move {
                    loop {
                        let g = next.fetch_add(1, Ordering::Relaxed);
                        if g >= total {
                            return;
                        }
                        if let Some(r) = rate {
                            tokio::time::sleep_until(t0 + Duration::from_secs_f64(g as f64 / r))
                                .await;
                        }
                        let body = webhook_body(&format!("ingress-{g}"));
                        let sig = kyc_kiosk::idenfy::webhook::sign(&key, &body);
                        // As the upstream does: again until a 2xx.
                        for attempt in 0..50u64 {
                            let r = http
                                .post(&url)
                                .header(kyc_kiosk::idenfy::webhook::SIGNATURE_HEADER, &sig)
                                .header(
                                    kyc_kiosk::idenfy::webhook::EVENT_TYPE_HEADER,
                                    "AUTO_FINISHED",
                                )
                                .header("content-type", "application/json")
                                .body(body.clone())
                                .send()
                                .await;
                            if r.is_ok_and(|r| r.status().is_success()) {
                                break;
                            }
                            tokio::time::sleep(Duration::from_millis(100 * (attempt + 1).min(10)))
                                .await;
                        }
                    }
                }));
            }
        }
    }

    // The faults, at points of the run's progress.
    let mut killed = None;
    let (mut pg_restart, mut offline_window) = (None, None);
    let deadline = started + Duration::from_secs(args.timeout_secs);
    let mut offline_from = None;
    loop {
        let done = workers.iter().all(tokio::task::JoinHandle::is_finished);
        let shown = tracker.shown_count();
        if args.faults {
            if offline_from.is_none() && shown * 20 >= total {
                let _ = offline_tx.send(true);
                offline_from = Some(Instant::now());
                println!(
                    "fault: kiosk load-0 offline for {} s (at {shown} results shown)",
                    args.offline_secs
                );
            }
            if let Some(t) = offline_from {
                if offline_window.is_none() && t.elapsed() >= Duration::from_secs(args.offline_secs)
                {
                    let _ = offline_tx.send(false);
                    offline_window = Some(t.elapsed());
                    println!(
                        "fault: kiosk load-0 back after {:.1} s",
                        t.elapsed().as_secs_f64()
                    );
                }
            }
            if killed.is_none() && shown * 4 >= total {
                let b = &mut insts[1];
                let cpu = procstat::cpu_secs(b.pid);
                let rss = procstat::status_kb(b.pid, "VmHWM");
                b.kill();
                killed = Some((started.elapsed(), cpu, rss));
                println!(
                    "fault: instance {} killed (SIGKILL) at {shown} results shown",
                    b.name
                );
            }
            if pg_restart.is_none() && shown * 2 >= total {
                let t = Instant::now();
                // pg_ctl blocks for a while: not on a worker the kiosks need.
                tokio::task::block_in_place(|| cluster.restart())?;
                pg_restart = Some(t.elapsed());
                println!(
                    "fault: PostgreSQL restarted (pg_ctl restart -m fast, {:.1} s) at {shown} results shown",
                    t.elapsed().as_secs_f64()
                );
            }
        }
        let offline_done = !args.faults || offline_window.is_some();
        if (done && offline_done && tracker.outstanding() == 0) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    let mark1 = procstat::Mark::now(&groups(&insts));
    let (cpu, machine) = mark0.usage(&mark1);
    let load_after = procstat::loadavg();
    let rss: Vec<_> = insts
        .iter()
        .map(|i| {
            (
                procstat::status_kb(i.pid, "VmHWM"),
                procstat::status_kb(i.pid, "VmRSS"),
            )
        })
        .collect();
    let _ = stop_tx.send(true);
    for p in pollers {
        let _ = p.await;
    }
    for w in workers {
        w.abort();
    }

    // The table's view: every final result acknowledged, one per scan.
    let unacked: i64 = sqlx::query_scalar("SELECT count(*) FROM result WHERE acked_at IS NULL")
        .fetch_one(&pool)
        .await?;
    let twice_in_table: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT scan_ref FROM result WHERE is_final GROUP BY scan_ref HAVING count(*) > 1) d",
    )
    .fetch_one(&pool)
    .await?;

    if args.pg_stats {
        print_pg_stats(&pool, tracker.shown_count()).await?;
    }
    let t = tracker.tally();
    let errors = ctx.errors.lock().map(|e| e.clone()).unwrap_or_default();
    let window = {
        let f = front.first.lock().map(|x| *x).ok().flatten();
        let l = front.last.lock().map(|x| *x).ok().flatten();
        match (f, l) {
            (Some(f), Some(l)) if l > f => l - f,
            _ => elapsed,
        }
    };
    println!(
        "load: {:.2} s; webhooks arrived over {:.2} s; {} started, {} accepted, {} not submitted (token unspent), {} shown",
        elapsed.as_secs_f64(),
        window.as_secs_f64(),
        t.started,
        t.accepted,
        t.not_submitted,
        t.shown
    );
    for (i, (inst, be)) in insts.iter().zip(&front.backends).enumerate() {
        let stored = be.stored.load(Ordering::Relaxed);
        let (cores, hwm, now) = if killed.is_some() && i == 1 {
            let (at, c, r) = killed.unwrap_or_default();
            let used = c.unwrap_or(0.0) - mark0_cpu(&mark0, 1);
            (used / at.as_secs_f64().max(1e-6), r, None)
        } else {
            (cpu[i], rss[i].0, rss[i].1)
        };
        println!(
            "instance {}: {stored} webhooks stored = {:.0} webhooks/s over the window ({} duplicates, {} failed); CPU {:.0}% of one core; RSS peak {}, end {}",
            inst.name,
            stored as f64 / window.as_secs_f64(),
            be.duplicate.load(Ordering::Relaxed),
            be.failed.load(Ordering::Relaxed),
            cores * 100.0,
            mib(hwm),
            mib(now),
        );
    }
    let stored: u64 = front
        .backends
        .iter()
        .map(|b| b.stored.load(Ordering::Relaxed))
        .sum();
    println!(
        "all instances: {:.0} webhooks/s; {:.0} verifications/s end to end",
        stored as f64 / window.as_secs_f64(),
        t.shown as f64 / elapsed.as_secs_f64()
    );
    println!(
        "latency webhook->kiosk ({} results): p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        t.latencies.len(),
        ms(quantile(&t.latencies, 0.5)),
        ms(quantile(&t.latencies, 0.9)),
        ms(quantile(&t.latencies, 0.99)),
        ms(t.latencies.last().copied().unwrap_or_default()),
    );
    if !t.offline_latencies.is_empty() {
        println!(
            "latency of the offline kiosk ({} results): max {:.1} s",
            t.offline_latencies.len(),
            t.offline_latencies
                .last()
                .copied()
                .unwrap_or_default()
                .as_secs_f64()
        );
    }
    println!(
        "machine: CPU busy {} of 2 cores; load average {load_before} before, {load_after} after; PostgreSQL {:.0}% of one core, this tool (sandbox, front, kiosks) {:.0}%",
        machine.map_or_else(|| "-".into(), |m| format!("{:.0}%", m * 100.0)),
        cpu[pg_group] * 100.0,
        cpu[tool_group] * 100.0
    );
    if args.faults {
        let failed = front.failed_once.lock().map(|f| f.clone()).ok().flatten();
        println!(
            "faults: webhook of {} answered 500 once; kiosks moved to the other instance {} times; results delivered again and dropped by id {}; webhooks no instance took {}",
            failed.as_deref().unwrap_or("-"),
            ctx.moves.load(Ordering::Relaxed),
            ctx.redelivered.load(Ordering::Relaxed),
            front.unrouted.load(Ordering::Relaxed),
        );
        if let Some(s) = &failed {
            if !tracker.is_shown(s) {
                println!("faults: the webhook answered 500 was never shown");
            }
        }
    }
    if !errors.is_empty() {
        println!(
            "errors: {} calls failed for good; first: {}",
            errors.len(),
            errors[0]
        );
    }
    println!(
        "result: lost {}, shown twice {}, shown without a known submission {}; in the table: {} unacknowledged, {} scans with two final results",
        t.lost, t.shown_twice, t.shown_unconfirmed, unacked, twice_in_table
    );
    drop(insts);
    sandbox.shutdown().await;
    pool.close().await;
    Ok(t.lost == 0 && t.shown_twice == 0 && twice_in_table == 0 && unacked == 0 && t.shown > 0)
}

/// The statements that took the database the most time during the run.
async fn print_pg_stats(pool: &sqlx::PgPool, results: usize) -> anyhow::Result<()> {
    let rows: Vec<(i64, f64, String)> = sqlx::query_as(
        "SELECT calls, total_exec_time + total_plan_time, \
                regexp_replace(query, '\\s+', ' ', 'g') \
         FROM pg_stat_statements ORDER BY 2 DESC LIMIT 15",
    )
    .fetch_all(pool)
    .await?;
    println!("database statements (executor + planner time; per result = calls / results shown):");
    for (calls, ms, q) in rows {
        println!(
            "  {calls:>8} calls {:>5.2}/result {ms:>9.1} ms {:>7.1} us each  {}",
            calls as f64 / results.max(1) as f64,
            ms * 1000.0 / calls.max(1) as f64,
            q.chars().take(110).collect::<String>()
        );
    }
    Ok(())
}

fn mark0_cpu(m: &procstat::Mark, i: usize) -> f64 {
    m.cpu(i)
}

fn main() -> ExitCode {
    let args = Args::parse();
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(10);
        }
    };
    match rt.block_on(run(args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(10)
        }
    }
}
