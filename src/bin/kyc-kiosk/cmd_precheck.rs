//! `kyc-kiosk precheck [--json] FILE...`: the still check on image files, and
//! [`images`], the same check on the photos `verify` is about to send.
//!
//! One line per file, in the order given. Exit [`Exit::Success`] when every
//! file is ok, [`Exit::Retake`] when any needs a retake, [`Exit::Unreadable`]
//! when any could not be read (it wins over a retake).

use std::io::Read;
use std::path::PathBuf;
use std::time::Instant;

use kyc_kiosk::idenfy::ImageSide;
use kyc_kiosk::quality::{
    self, thresholds, Assessment, DecodeError, ImageView, Issue, Options, Scores, Verdict,
};
use serde::Serialize;

use crate::exit::Exit;

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

pub fn run(args: &Args) -> anyhow::Result<Exit> {
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
                        retake_text(&a.issues)
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
    Ok(if unreadable {
        Exit::Unreadable
    } else if retake {
        Exit::Retake
    } else {
        Exit::Success
    })
}

/// `retake blurry,glare (Hold still; Tilt the card away from the light)`.
fn retake_text(issues: &[Issue]) -> String {
    let names: Vec<_> = issues.iter().map(Issue::as_str).collect();
    let hints: Vec<_> = issues.iter().map(Issue::hint).collect();
    format!("retake {} ({})", names.join(","), hints.join("; "))
}

/// What is wrong with one photo `verify` was given.
#[derive(Debug)]
pub enum Problem {
    /// A quality check failed; `--force` sends it anyway.
    Retake(Vec<Issue>),
    /// Not an image the kiosk can read; never sent.
    Unreadable(DecodeError),
}

/// One photo that failed the precheck.
#[derive(Debug)]
pub struct Failure {
    pub side: ImageSide,
    pub problem: Problem,
}

impl Failure {
    /// The photo cannot be sent even with `--force`.
    pub fn unreadable(&self) -> bool {
        matches!(self.problem, Problem::Unreadable(_))
    }

    /// The problem in words, as the `precheck` command says it.
    pub fn text(&self) -> String {
        match &self.problem {
            Problem::Retake(issues) => retake_text(issues),
            Problem::Unreadable(e) => format!("error: {e}"),
        }
    }
}

/// In `verify --json`: `{"side": "FRONT", "unreadable": false, "reasons": [..]}`,
/// a reason per issue (`blurry (Hold still)`) or the decode error.
impl Serialize for Failure {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Shown<'a> {
            side: &'a ImageSide,
            unreadable: bool,
            reasons: Vec<String>,
        }
        let reasons = match &self.problem {
            Problem::Retake(issues) => issues
                .iter()
                .map(|i| format!("{} ({})", i.as_str(), i.hint()))
                .collect(),
            Problem::Unreadable(e) => vec![e.to_string()],
        };
        Shown {
            side: &self.side,
            unreadable: self.unreadable(),
            reasons,
        }
        .serialize(s)
    }
}

/// The still check of every photo; an empty list means all pass.
pub fn images(images: &[(ImageSide, Vec<u8>)]) -> Vec<Failure> {
    images
        .iter()
        .filter_map(|(side, bytes)| {
            let problem = match quality::assess_encoded(bytes) {
                Ok(a) if a.issues.is_empty() => return None,
                Ok(a) => Problem::Retake(a.issues),
                Err(e) => Problem::Unreadable(e),
            };
            Some(Failure {
                side: side.clone(),
                problem,
            })
        })
        .collect()
}
