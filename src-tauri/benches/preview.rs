//! Preview transport benchmark in the real window: the binary IPC command
//! against the custom URI scheme, with the demo camera at 1920x1080 (previews
//! 960x540), on the document camera (document detector live) and, through
//! the IPC command, on the selfie camera (face model live). Reports frames
//! per second shown, capture-to-display latency and the CPU used by the app
//! and by the web view.
//!
//! Run under a display: `xvfb-run -a cargo bench -p kyc-kiosk-app --bench preview`
//! (`PREVIEW_BENCH_SECS`, default 10). Needs tauri-driver, as the e2e tests.

#[path = "../tests/e2e/harness.rs"]
#[allow(dead_code)]
mod harness;

use std::time::{Duration, Instant};

use harness::App;

fn cpu_ticks(name: &str) -> u64 {
    let out = std::process::Command::new("pgrep")
        .args(["-f", name])
        .output();
    let Ok(out) = out else { return 0 };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok())
        .map(|stat| {
            // Fields after the command name: utime is the 14th, stime the 15th.
            let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
            let f: Vec<&str> = rest.split_whitespace().collect();
            f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
                + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
        })
        .sum()
}

/// CPU ticks of each thread of the processes matching `name`, by thread name.
fn thread_ticks(name: &str) -> std::collections::BTreeMap<String, u64> {
    let mut by_name = std::collections::BTreeMap::new();
    let Ok(out) = std::process::Command::new("pgrep")
        .args(["-f", name])
        .output()
    else {
        return by_name;
    };
    for pid in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            continue;
        };
        for t in tasks.flatten() {
            let Ok(stat) = std::fs::read_to_string(t.path().join("stat")) else {
                continue;
            };
            let Some((head, rest)) = stat.rsplit_once(')') else {
                continue;
            };
            let comm = head.split_once('(').map_or("", |(_, c)| c).to_owned();
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ticks = f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
                + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            *by_name.entry(comm).or_insert(0) += ticks;
        }
    }
    by_name
}

fn clk_tck() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

async fn dataset(app: &App, key: &str) -> String {
    app.client
        .execute(&format!("return document.body.dataset.{key} || ''"), vec![])
        .await
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn main() {
    let secs: u64 = std::env::var("PREVIEW_BENCH_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        println!("| camera | transport | fps shown | latency p50 (ms) | latency p95 (ms) | app CPU (% of a core) | web view CPU (% of a core) |");
        println!("|---|---|---|---|---|---|---|");
        for (role, transport) in [("document", "ipc"), ("document", "scheme"), ("selfie", "ipc")] {
            let mut app = App::launch(
                &format!("bench-{role}-{transport}"),
                &[
                    ("KYC_KIOSK_PREVIEW_TRANSPORT", transport),
                    ("KYC_KIOSK_AUTO_CAPTURE", "0"),
                    ("KYC_KIOSK_CAMERA", "demo"),
                ],
            )
            .await;
            app.screen("start").await;
            app.fill("#f-clientId", "BENCH").await;
            app.fill("#f-country", "LT").await;
            app.click("#start-form button[type=submit]").await;
            app.screen("choice").await;
            app.click("#choice-docs button[data-doc='ID_CARD']").await;
            app.screen("capture").await;
            if role == "selfie" {
                // Front and back by hand (auto-capture is off), then the
                // selfie camera.
                for _ in 0..20 {
                    let face = app
                        .exec("return document.getElementById('guide').classList.contains('face');", vec![])
                        .await;
                    if face == serde_json::json!(true) {
                        break;
                    }
                    app.wait_for("body[data-preview-seq]").await;
                    let _ = app
                        .exec("const b = document.getElementById('capture-btn'); if (!b.disabled) b.click(); return true;", vec![])
                        .await;
                    tokio::time::sleep(Duration::from_millis(1500)).await;
                }
                app.until(
                    "the selfie step",
                    "return document.getElementById('guide').classList.contains('face');",
                )
                .await;
            }
            app.wait_for("body[data-preview-fps]").await;
            tokio::time::sleep(Duration::from_secs(2)).await;
            let threads0 = thread_ticks("kyc-kiosk-app");
            let web0 = thread_ticks("WebKitWebProcess");
            let (a0, w0, t0) = (cpu_ticks("kyc-kiosk-app"), cpu_ticks("WebKitWebProcess"), Instant::now());
            tokio::time::sleep(Duration::from_secs(secs)).await;
            let (a1, w1) = (cpu_ticks("kyc-kiosk-app"), cpu_ticks("WebKitWebProcess"));
            let threads1 = thread_ticks("kyc-kiosk-app");
            let web1 = thread_ticks("WebKitWebProcess");
            let wall = t0.elapsed().as_secs_f64() * clk_tck();
            let pct = |a: u64, b: u64| 100.0 * b.saturating_sub(a) as f64 / wall;
            println!(
                "| {role} | {transport} | {} | {} | {} | {:.0} | {:.0} |",
                dataset(&app, "previewFps").await,
                dataset(&app, "previewLatencyP50").await,
                dataset(&app, "previewLatencyP95").await,
                pct(a0, a1),
                pct(w0, w1),
            );
            // Where the CPU goes, by thread (for the notes, on stderr).
            for (who, t0s, t1s) in [("app", &threads0, &threads1), ("web view", &web0, &web1)] {
                let mut by_thread: Vec<(u64, &String)> = t1s
                    .iter()
                    .map(|(n, t)| (t.saturating_sub(t0s.get(n).copied().unwrap_or(0)), n))
                    .filter(|(t, _)| *t > 0)
                    .collect();
                by_thread.sort_unstable_by(|a, b| b.cmp(a));
                let by_thread: Vec<String> = by_thread
                    .iter()
                    .map(|(t, n)| format!("{n} {:.0} %", pct(0, *t)))
                    .collect();
                eprintln!("{role} {transport} {who} threads: {}", by_thread.join(", "));
            }
            app.shot(&format!("capture-{role}")).await;
            app.close().await;
        }
    });
}
