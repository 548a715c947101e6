//! Camera benchmarks (harness = false): JPEG encoding beside libjpeg-turbo's
//! `cjpeg` on the same 4K frames, stills -> request body, preview encoding
//! at 1280x720, and the live pipeline on the demo camera (fps, capture-to-
//! preview latency, CPU).
//!
//! Run: `cargo bench --bench camera` (needs `cjpeg`, Debian
//! `libjpeg-turbo-progs`; without it that comparison is skipped).
//! `CAMERA_BENCH_SECS=N` sets the pipeline run length (default 8).

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use kyc_kiosk::camera::demo::{self, DemoFrames};
use kyc_kiosk::camera::encode::JpegEncoder;
use kyc_kiosk::camera::frame::downscale_to_fit;
use kyc_kiosk::camera::{
    encode_still, DemoControl, DemoScene, Frame, Pipeline, PipelineConfig, SubmissionLimits,
};

const QUALITY: u8 = 92;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Bilinear upscale to `w x h` (makes 4K frames from the demo pictures).
fn upscale(src: &Frame, w: u32, h: u32) -> Frame {
    let (sw, sh) = (src.width() as f32, src.height() as f32);
    let mut out = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        let fy = ((y as f32 + 0.5) * sh / h as f32 - 0.5).clamp(0.0, sh - 1.0);
        let (y0, ty) = (fy as u32, fy.fract());
        let y1 = (y0 + 1).min(src.height() - 1);
        for x in 0..w {
            let fx = ((x as f32 + 0.5) * sw / w as f32 - 0.5).clamp(0.0, sw - 1.0);
            let (x0, tx) = (fx as u32, fx.fract());
            let x1 = (x0 + 1).min(src.width() - 1);
            let p = |x, y| src.pixel(x, y).unwrap_or([0; 3]);
            let (a, b, c, d) = (p(x0, y0), p(x1, y0), p(x0, y1), p(x1, y1));
            for i in 0..3 {
                let top = f32::from(a[i]) * (1.0 - tx) + f32::from(b[i]) * tx;
                let bot = f32::from(c[i]) * (1.0 - tx) + f32::from(d[i]) * tx;
                out.push((top * (1.0 - ty) + bot * ty).round() as u8);
            }
        }
    }
    Frame::new(out, w, h, 1, Instant::now()).unwrap()
}

fn cpu_ticks() -> Option<u64> {
    // utime + stime of this process, in clock ticks (Linux).
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

fn clk_tck() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

fn bench_encoder(frames4k: &[Frame]) {
    println!("\n## JPEG encoding, 3840x2160, quality {QUALITY}, 4:2:0\n");
    let dir = tempfile::tempdir().unwrap();
    let have_cjpeg = Command::new("cjpeg").arg("-version").output().is_ok();
    println!("| frame | ours (median ms) | cjpeg (median ms) | ratio | ours bytes | cjpeg bytes |");
    println!("|---|---|---|---|---|---|");
    let mut enc = JpegEncoder::new();
    for (n, f) in frames4k.iter().enumerate() {
        let mut t = Vec::new();
        let mut size = 0;
        for _ in 0..9 {
            let t0 = Instant::now();
            size = enc.encode(f, QUALITY).unwrap().len();
            t.push(t0.elapsed());
        }
        let ours = median(t);
        let (theirs, their_size) = if have_cjpeg {
            let ppm = dir.path().join(format!("f{n}.ppm"));
            let mut data = format!("P6\n{} {}\n255\n", f.width(), f.height()).into_bytes();
            data.extend_from_slice(f.pixels());
            std::fs::write(&ppm, data).unwrap();
            let out = dir.path().join(format!("f{n}.jpg"));
            let mut t = Vec::new();
            for _ in 0..9 {
                let t0 = Instant::now();
                let st = Command::new("cjpeg")
                    .args([
                        "-quality",
                        &QUALITY.to_string(),
                        "-sample",
                        "2x2",
                        "-outfile",
                    ])
                    .arg(&out)
                    .arg(&ppm)
                    .status()
                    .unwrap();
                t.push(t0.elapsed());
                assert!(st.success());
            }
            (
                Some(median(t)),
                std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0),
            )
        } else {
            (None, 0)
        };
        match theirs {
            Some(c) => println!(
                "| {n} | {:.1} | {:.1} | {:.2}x | {size} | {their_size} |",
                ms(ours),
                ms(c),
                ours.as_secs_f64() / c.as_secs_f64()
            ),
            None => println!(
                "| {n} | {:.1} | (cjpeg not installed) | - | {size} | - |",
                ms(ours)
            ),
        }
    }
}

fn bench_submission(frames4k: &[Frame]) {
    println!(
        "\n## Stills -> request body (3 x 3840x2160, each sized as at capture, base64 JSON)\n"
    );
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut t = Vec::new();
    let mut body_len = 0;
    let mut quality = 0;
    for _ in 0..7 {
        let t0 = Instant::now();
        let imgs: Vec<String> = frames4k
            .iter()
            .map(|f| {
                let still = encode_still(f, SubmissionLimits::default()).unwrap();
                quality = still.quality;
                b64.encode(&still.jpeg)
            })
            .collect();
        let body = serde_json::json!({
            "authToken": "x".repeat(40),
            "country": "LT",
            "documentType": "ID_CARD",
            "images": {"FRONT": imgs[0], "BACK": imgs[1], "FACE": imgs[2]},
        });
        let bytes = serde_json::to_vec(&body).unwrap();
        t.push(t0.elapsed());
        body_len = bytes.len();
    }
    println!(
        "median {:.1} ms, body {:.2} MB at quality {quality} (limit 20 MB)",
        ms(median(t)),
        body_len as f64 / 1e6
    );
}

fn bench_preview_encode(src: &Frame) {
    println!("\n## Preview encoding on one core, 1280x720\n");
    let small = downscale_to_fit(src, 1280, 720, Vec::new()).unwrap();
    let mut enc = JpegEncoder::new();
    for q in [70u8, 80] {
        let n = 200;
        let t0 = Instant::now();
        let mut size = 0;
        for _ in 0..n {
            size = enc.encode(&small, q).unwrap().len();
        }
        let per = t0.elapsed() / n;
        println!(
            "quality {q}: {:.2} ms/frame = {:.0} fps, {size} bytes",
            ms(per),
            1.0 / per.as_secs_f64()
        );
    }
    let n = 50;
    let t0 = Instant::now();
    let mut buf = Vec::new();
    for _ in 0..n {
        buf = downscale_to_fit(src, 1280, 720, buf).unwrap().into_pixels();
    }
    println!(
        "downscale {}x{} -> 1280x720: {:.2} ms/frame",
        src.width(),
        src.height(),
        ms(t0.elapsed() / n)
    );
}

fn bench_pipeline(label: &str, frames: Arc<DemoFrames>, fps: u32, secs: u64) {
    let p = Pipeline::start(
        demo::opener(frames, DemoControl::new(DemoScene::Front), fps),
        // Stand-in analyser: mean luma of a sparse grid, as cheap as a real
        // live check should be.
        Box::new(|f: &Frame| {
            f.pixels()
                .iter()
                .step_by(97)
                .map(|b| u64::from(*b))
                .sum::<u64>()
        }),
        PipelineConfig::default(),
    )
    .unwrap();
    p.wait_preview(0, Duration::from_secs(5)).unwrap();
    let tck = clk_tck();
    let c0 = cpu_ticks();
    let t0 = Instant::now();
    let s0 = p.stats();
    let mut last = 0;
    let mut pulled = 0u64;
    let mut lat_pull = Vec::new();
    let mut lat_ready = Vec::new();
    while t0.elapsed() < Duration::from_secs(secs) {
        // The UI's loop: pull the latest preview, newer than the one shown.
        let pv = p.wait_preview(last, Duration::from_secs(2)).unwrap();
        lat_pull.push(pv.captured.elapsed());
        lat_ready.push(pv.ready - pv.captured);
        last = pv.seq;
        pulled += 1;
    }
    let wall = t0.elapsed().as_secs_f64();
    let c1 = cpu_ticks();
    let s1 = p.stats();
    p.stop();
    let cpu = match (c0, c1) {
        (Some(a), Some(b)) => format!("{:.0}%", (b - a) as f64 / tck / wall * 100.0),
        _ => "n/a".into(),
    };
    let p95 = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() * 95 / 100]
    };
    println!(
        "| {label} | {:.1} | {:.1} | {:.1} / {:.1} | {:.1} / {:.1} | {cpu} | {} |",
        (s1.captured - s0.captured) as f64 / wall,
        pulled as f64 / wall,
        ms(median(lat_ready.clone())),
        ms(p95(lat_ready)),
        ms(median(lat_pull.clone())),
        ms(p95(lat_pull)),
        s1.skipped - s0.skipped
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let secs: u64 = std::env::var("CAMERA_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);
    let frames = DemoFrames::load(&demo::default_dir()).expect("assets/demo");
    println!(
        "# camera bench ({} cores)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let scenes = [DemoScene::Front, DemoScene::Back, DemoScene::Face];
    let frames4k: Vec<Frame> = scenes
        .iter()
        .map(|s| upscale(frames.scene(*s), 3840, 2160))
        .collect();
    bench_encoder(&frames4k);
    bench_submission(&frames4k);
    bench_preview_encode(frames.scene(DemoScene::Front));

    println!("\n## Live pipeline on the demo camera ({secs} s each; preview 1280x720 q70)\n");
    println!("| source | captured fps | previews pulled fps | capture->preview ready ms (median / p95) | capture->pulled by UI ms (median / p95) | CPU (process, % of one core) | skipped |");
    println!("|---|---|---|---|---|---|---|");
    bench_pipeline("demo 1920x1080 @30", frames.clone(), 30, secs);
    let four_k = DemoFrames::from_frames(frames4k).unwrap();
    bench_pipeline("demo 3840x2160 @30", four_k, 30, secs);
}
