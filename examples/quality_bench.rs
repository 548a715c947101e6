//! Single-threaded time per frame of the quality checks, on raw RGB8 frames
//! written by `scripts/quality/bench.py` (which times OpenCV on the same
//! frames and prints both side by side).
//!
//! `cargo run --release --example quality_bench -- FRAME.rgb:WIDTHxHEIGHT...`
//! prints one JSON line per frame: median milliseconds of `assess` (still) and
//! `assess_live` (preview, warm scratch).

use std::time::Instant;

use kyc_kiosk::quality::{assess, assess_live, ImageView, Options, Scratch};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> anyhow::Result<()> {
    let reps: usize = std::env::var("BENCH_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    for arg in std::env::args().skip(1) {
        let (path, dims) = arg
            .rsplit_once(':')
            .ok_or_else(|| anyhow::anyhow!("expected FILE:WxH, got {arg}"))?;
        let (w, h) = dims
            .split_once('x')
            .ok_or_else(|| anyhow::anyhow!("expected WxH, got {dims}"))?;
        let (w, h): (u32, u32) = (w.parse()?, h.parse()?);
        let px = std::fs::read(path)?;
        anyhow::ensure!(px.len() == (w * h * 3) as usize, "{path}: size mismatch");
        let view = ImageView::rgb(&px, w, h);
        let opts = Options::default();
        let mut still = Vec::with_capacity(reps);
        let mut live = Vec::with_capacity(reps);
        let mut scratch = Scratch::default();
        let _ = assess_live(&view, None, &mut scratch);
        let _ = assess(&view, &opts);
        let mut verdict = String::new();
        for _ in 0..reps {
            let t = Instant::now();
            let a = std::hint::black_box(assess(&view, &opts));
            still.push(t.elapsed().as_secs_f64() * 1e3);
            let t = Instant::now();
            let l = std::hint::black_box(assess_live(&view, None, &mut scratch));
            live.push(t.elapsed().as_secs_f64() * 1e3);
            verdict = format!("{:?}/{:?}", a.issues, l.issues.iter().collect::<Vec<_>>());
        }
        println!(
            "{}",
            serde_json::json!({
                "file": path, "width": w, "height": h,
                "assess_ms": median(still), "assess_live_ms": median(live),
                "issues": verdict,
            })
        );
    }
    Ok(())
}
