//! `kyc-kiosk precheck [--json] FILE...`: the still check on image files.
//!
//! One line per file, in the order given. Exit 0 when every file is ok, 1 when
//! any needs a retake, 2 when any could not be read (2 wins over 1).

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use kyc_kiosk::quality::{self, thresholds, Assessment, ImageView, Options, Scores, Verdict};
use serde::Serialize;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// One JSON object per line instead of text.
    #[arg(long)]
    json: bool,
    /// JPEG or PNG files (document photos or selfies, detected).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

#[derive(Serialize)]
struct Line<'a> {
    file: &'a str,
    width: u32,
    height: u32,
    verdict: Verdict,
    issues: &'a [quality::Issue],
    scores: Scores,
    analysis_ms: f64,
}

#[derive(Serialize)]
struct ErrorLine<'a> {
    file: &'a str,
    error: String,
}

/// Read at most the decoder's limit (plus one byte, to tell "too large").
fn read_limited(path: &PathBuf) -> anyhow::Result<Vec<u8>> {
    let f = std::fs::File::open(path)?;
    let mut buf = Vec::new();
    f.take(thresholds::MAX_ENCODED_BYTES as u64 + 1)
        .read_to_end(&mut buf)?;
    Ok(buf)
}

fn check(path: &PathBuf) -> anyhow::Result<(Assessment, f64)> {
    let bytes = read_limited(path)?;
    let d = quality::decode_bounded(&bytes)?;
    let view = ImageView::rgb(&d.rgb, d.width, d.height);
    // Time the checks alone, on the decoded frame.
    let t0 = Instant::now();
    let a = quality::assess(&view, &Options::default());
    let ms = t0.elapsed().as_secs_f64() * 1000.0;
    Ok((a, ms))
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let (mut retake, mut unreadable) = (false, false);
    for path in &args.files {
        let name = path.to_string_lossy();
        match check(path) {
            Ok((a, ms)) => {
                retake |= a.verdict == Verdict::Retake;
                if args.json {
                    let line = Line {
                        file: &name,
                        width: a.width,
                        height: a.height,
                        verdict: a.verdict,
                        issues: &a.issues,
                        scores: a.scores,
                        analysis_ms: (ms * 1000.0).round() / 1000.0,
                    };
                    println!("{}", serde_json::to_string(&line)?);
                } else {
                    let s = a.scores;
                    let what = if a.issues.is_empty() {
                        "ok".to_string()
                    } else {
                        let names: Vec<_> = a.issues.iter().map(|i| i.as_str()).collect();
                        let hints: Vec<_> = a.issues.iter().map(|i| i.hint()).collect();
                        format!("retake {} ({})", names.join(","), hints.join("; "))
                    };
                    println!(
                        "{name}: {what} {}x{} sharpness={:.3} glare={:.4} brightness={:.3} {ms:.2}ms",
                        a.width, a.height, s.sharpness, s.glare, s.brightness
                    );
                }
            }
            Err(e) => {
                unreadable = true;
                if args.json {
                    let line = ErrorLine {
                        file: &name,
                        error: format!("{e:#}"),
                    };
                    println!("{}", serde_json::to_string(&line)?);
                } else {
                    println!("{name}: error: {e:#}");
                }
            }
        }
    }
    Ok(ExitCode::from(if unreadable {
        2
    } else if retake {
        1
    } else {
        0
    }))
}
