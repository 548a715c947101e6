//! `kyc-kiosk detect [--json] [--kind id|page] FILE...`: where the document
//! and the faces are in image files.
//!
//! One line per file, in the order given. Exit [`Exit::Success`] when every
//! file was read, [`Exit::Unreadable`] when any could not be (the others are
//! still reported).

use std::io::Read;
use std::path::PathBuf;
use std::time::Instant;

use kyc_kiosk::detect::{self, Document, Face, FaceDetector, Kind};
use kyc_kiosk::quality::{self, thresholds, ImageView};
use serde::Serialize;

use crate::exit::Exit;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// One JSON object per line instead of text.
    #[arg(long)]
    json: bool,
    /// What to look for: identity documents, or a page (a utility bill).
    #[arg(long, value_enum, default_value_t = KindArg::Id)]
    kind: KindArg,
    /// Run only one of the detectors (for timing them apart).
    #[arg(long, value_enum, default_value_t = Only::Both)]
    only: Only,
    /// JPEG or PNG files.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum KindArg {
    Id,
    Page,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Only {
    Both,
    Document,
    Faces,
}

#[derive(Serialize)]
struct DocumentOut {
    corners: [[f32; 2]; 4],
    fill: f32,
    score: f32,
}

#[derive(Serialize)]
struct Line<'a> {
    file: &'a str,
    width: u32,
    height: u32,
    document: Option<DocumentOut>,
    faces: &'a [Face],
    analysis_ms: f64,
}

#[derive(Serialize)]
struct ErrorLine<'a> {
    file: &'a str,
    error: String,
}

struct Found {
    width: u32,
    height: u32,
    document: Option<Document>,
    faces: Vec<Face>,
    ms: f64,
}

fn read_limited(path: &PathBuf) -> anyhow::Result<Vec<u8>> {
    let f = std::fs::File::open(path)?;
    let mut buf = Vec::new();
    f.take(thresholds::MAX_ENCODED_BYTES as u64 + 1)
        .read_to_end(&mut buf)?;
    Ok(buf)
}

fn analyse(path: &PathBuf, kind: Kind, only: Only, faces: &FaceDetector) -> anyhow::Result<Found> {
    let bytes = read_limited(path)?;
    let d = quality::decode_bounded(&bytes)?;
    let view = ImageView::rgb(&d.rgb, d.width, d.height);
    // Time the detectors alone, on the decoded frame.
    let t0 = Instant::now();
    let document = (only != Only::Faces)
        .then(|| detect::find_document(&view, kind))
        .flatten();
    let faces = if only == Only::Document {
        Vec::new()
    } else {
        faces.detect(&view)
    };
    let ms = t0.elapsed().as_secs_f64() * 1000.0;
    Ok(Found {
        width: d.width,
        height: d.height,
        document,
        faces,
        ms,
    })
}

fn round(v: f32, places: i32) -> f32 {
    let k = 10f32.powi(places);
    (v * k).round() / k
}

pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let kind = match args.kind {
        KindArg::Id => Kind::Id,
        KindArg::Page => Kind::Page,
    };
    let detector = FaceDetector::builtin()?;
    let mut unreadable = false;
    for path in &args.files {
        let name = path.to_string_lossy();
        match analyse(path, kind, args.only, &detector) {
            Ok(f) => {
                if args.json {
                    let faces: Vec<Face> = f
                        .faces
                        .iter()
                        .map(|x| Face {
                            bbox: x.bbox.map(|v| round(v, 1)),
                            score: round(x.score, 3),
                        })
                        .collect();
                    let line = Line {
                        file: &name,
                        width: f.width,
                        height: f.height,
                        document: f.document.map(|d| DocumentOut {
                            corners: d.corners.map(|c| c.map(|v| round(v, 1))),
                            fill: round(d.fill, 4),
                            score: round(d.score, 3),
                        }),
                        faces: &faces,
                        analysis_ms: (f.ms * 1000.0).round() / 1000.0,
                    };
                    println!("{}", serde_json::to_string(&line)?);
                } else {
                    let doc = match f.document {
                        None => "no document".to_string(),
                        Some(d) => format!(
                            "document fill={:.2}{} score={:.2}",
                            d.fill,
                            if d.cut { " cut" } else { "" },
                            d.score
                        ),
                    };
                    println!(
                        "{name}: {}x{} {doc}, {} face(s) {:.2}ms",
                        f.width,
                        f.height,
                        f.faces.len(),
                        f.ms
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
    } else {
        Exit::Success
    })
}
