//! A quick throughput figure (ignored by default; not the full load
//! test): signed webhooks posted to instance A while kiosks long-poll
//! instance B and acknowledge. Prints webhooks/s and the webhook→kiosk
//! latency. Run with:
//! `cargo test -p kyc-kiosk-relay --test relay load -- --ignored --nocapture`
//! (`LOAD_KIOSKS`, `LOAD_WEBHOOKS` change the size).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::{self, enrol, relay, shared, webhook_body};

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "a measurement, not a check: run it by name"]
async fn load_webhooks_through_two_instances() {
    let kiosks = env_or("LOAD_KIOSKS", 100);
    let webhooks = env_or("LOAD_WEBHOOKS", 5000);
    let db = shared().fresh_database();
    let a = relay(&db, None, |_| {}).await;
    let b = relay(&db, None, |_| {}).await;
    let key = a.signing_key().clone();
    // B has its own sandbox and so its own key: sign for A only.
    let mut ks = Vec::new();
    for i in 0..kiosks {
        ks.push(Arc::new(enrol(&db, &format!("load-{i}"), None).await));
    }
    // Scans made directly in the table: this measures the relay, not the sandbox.
    let pool = kyc_kiosk_relay::db::connect(&db, 4).await.unwrap();
    let mut scans = Vec::with_capacity(webhooks);
    for i in 0..webhooks {
        let k = &ks[i % kiosks];
        let scan_ref = format!("load-scan-{i}");
        sqlx::query(
            "INSERT INTO scan (scan_ref, kiosk_id, token_type) VALUES ($1, $2::uuid, 'DOCUMENT')",
        )
        .bind(&scan_ref)
        .bind(&k.id)
        .execute(&pool)
        .await
        .unwrap();
        scans.push(scan_ref);
    }
    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let latencies: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut pollers = Vec::new();
    for k in &ks {
        let (k, base, sent, lat, stop) = (
            k.clone(),
            b.url(),
            sent.clone(),
            latencies.clone(),
            stop.clone(),
        );
        pollers.push(tokio::spawn(async move {
            let mut seen = 0usize;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let (s, v) = k.call(&base, "GET", "/kiosk/v1/results?wait=2", None).await;
                if s != 200 {
                    continue;
                }
                let rs = v["results"].as_array().cloned().unwrap_or_default();
                let now = Instant::now();
                let mut ids = Vec::new();
                for r in &rs {
                    if let Some(t) = sent.lock().unwrap().get(r["scanRef"].as_str().unwrap()) {
                        lat.lock().unwrap().push(now - *t);
                    }
                    ids.push(r["id"].as_i64().unwrap());
                }
                seen += ids.len();
                if !ids.is_empty() {
                    k.ack(&base, &ids).await;
                }
            }
            seen
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let http = reqwest::Client::new();
    let started = Instant::now();
    let concurrency = 32;
    let chunks: Vec<Vec<String>> = scans
        .chunks(webhooks.div_ceil(concurrency))
        .map(<[String]>::to_vec)
        .collect();
    let mut senders = Vec::new();
    for chunk in chunks {
        let (http, base, key, sent) = (http.clone(), a.url(), key.clone(), sent.clone());
        senders.push(tokio::spawn(async move {
            for scan_ref in chunk {
                let body = webhook_body(&scan_ref, true, "APPROVED");
                let sig = kyc_kiosk::idenfy::webhook::sign(&key, &body);
                sent.lock().unwrap().insert(scan_ref, Instant::now());
                let s = http
                    .post(format!("{base}/webhooks/idenfy"))
                    .header("Idenfy-Signature", sig)
                    .header("Idenfy-Event-Type", "AUTO_FINISHED")
                    .body(body)
                    .send()
                    .await
                    .unwrap()
                    .status();
                assert_eq!(s.as_u16(), 200);
            }
        }));
    }
    for s in senders {
        s.await.unwrap();
    }
    let ingest = started.elapsed();
    // Wait for every result to be delivered.
    let deadline = Instant::now() + Duration::from_secs(60);
    while latencies.lock().unwrap().len() < webhooks && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let all = started.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut seen = 0;
    for p in pollers {
        seen += p.await.unwrap();
    }
    let mut lat = latencies.lock().unwrap().clone();
    lat.sort();
    let pct = |p: f64| {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let i = ((lat.len() as f64 - 1.0) * p).round() as usize;
        lat[i]
    };
    #[allow(clippy::cast_precision_loss)]
    let rate = webhooks as f64 / ingest.as_secs_f64();
    println!(
        "load: {kiosks} kiosks, {webhooks} webhooks into instance A, kiosks polling instance B\n\
         load: ingest {:.2} s = {rate:.0} webhooks/s (32 senders); all delivered after {:.2} s\n\
         load: webhook->kiosk latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; delivered {}, seen {seen}",
        ingest.as_secs_f64(),
        all.as_secs_f64(),
        pct(0.5).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        lat.last().unwrap().as_secs_f64() * 1e3,
        lat.len(),
    );
    assert_eq!(lat.len(), webhooks, "every result delivered");
    assert_eq!(seen, webhooks, "none delivered twice after its ack");
    let undelivered =
        support::scalar_i64(&db, "SELECT count(*) FROM result WHERE acked_at IS NULL").await;
    assert_eq!(undelivered, 0);
}

/// The load tool (`kyc-kiosk-relay-load`, its figures in BENCHMARKS.md), run
/// small so it cannot rot: two `serve` processes over one PostgreSQL, the
/// sandbox as upstream, and every fault (an instance killed, PostgreSQL
/// restarted, a kiosk offline, a webhook answered 500 once). The tool exits
/// 0 only when no result was lost or shown twice.
#[test]
fn load_tool_with_faults_loses_nothing_and_shows_nothing_twice() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kyc-kiosk-relay-load"))
        .args(["--kiosks", "8", "--verifications", "80", "--faults"])
        .args([
            "--offline-secs",
            "3",
            "--timeout-secs",
            "50",
            "--max-connections",
            "5",
        ])
        .arg("--relay-bin")
        .arg(env!("CARGO_BIN_EXE_kyc-kiosk-relay"))
        .output()
        .expect("run kyc-kiosk-relay-load");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for line in [
        "fault: instance b killed",
        "fault: PostgreSQL restarted",
        "fault: kiosk load-0 back",
        "answered 500 once",
        "result: lost 0, shown twice 0",
        " 0 unacknowledged, 0 scans with two final results",
    ] {
        assert!(stdout.contains(line), "`{line}` missing:\n{stdout}");
    }
    assert!(!stdout.contains("was never shown"), "{stdout}");
}

/// One instance, open loop (`--rate`): every verification is started on
/// schedule and shown once; and the tool refuses what it cannot run.
#[test]
fn load_tool_runs_one_instance_at_a_set_rate_and_refuses_faults_without_a_second() {
    let tool = || {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_kyc-kiosk-relay-load"));
        c.arg("--relay-bin")
            .arg(env!("CARGO_BIN_EXE_kyc-kiosk-relay"))
            .args(["--max-connections", "5", "--timeout-secs", "50"]);
        c
    };
    let out = tool()
        .args(["--instances", "1", "--kiosks", "4", "--verifications", "40"])
        .args(["--rate", "40", "--pg-stats"])
        .output()
        .expect("run kyc-kiosk-relay-load");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("instance a: 40 webhooks stored"),
        "{stdout}"
    );
    assert!(!stdout.contains("instance b"), "{stdout}");
    assert!(stdout.contains("result: lost 0, shown twice 0"), "{stdout}");
    // The database's statements were counted: each verification's token
    // (one `INSERT INTO scan` each) is among them.
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("40 calls") && l.contains("INSERT INTO scan")),
        "{stdout}"
    );
    // At 40 a second, 40 verifications take about a second, not less.
    let secs: f64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("load: ")?.split(' ').next()?.parse().ok())
        .expect("the run's length");
    assert!(secs >= 0.9, "{secs} s\n{stdout}");

    let out = tool()
        .args(["--instances", "1", "--faults"])
        .output()
        .expect("run kyc-kiosk-relay-load");
    assert_eq!(out.status.code(), Some(10));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--instances 2 or more"), "{stderr}");
}
