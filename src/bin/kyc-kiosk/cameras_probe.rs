//! `kyc-kiosk cameras --probe`: for IT at a branch. Streams from each
//! camera through the real path (`camera::probe`) and prints what it
//! delivered, with the quality verdict of its last frame. Exit 7
//! ([`Exit::CameraFailed`]) when a camera cannot deliver (or none is
//! connected).

use std::path::PathBuf;
use std::time::Duration;

use kyc_kiosk::camera::{self, probe::Report};
use kyc_kiosk::quality;

use crate::exit::Exit;

/// The quality verdict of a probe's last frame.
#[derive(Debug, serde::Serialize)]
struct Quality {
    verdict: quality::Verdict,
    issues: Vec<quality::Issue>,
}

pub fn run(seconds: f64, json: bool, config: Option<PathBuf>) -> anyhow::Result<Exit> {
    if !(0.1..=3600.0).contains(&seconds) {
        anyhow::bail!("--seconds must be between 0.1 and 3600 (got {seconds})");
    }
    // A broken config file still lets IT probe the cameras (roles unset).
    let roles = super::load_config(config)
        .map(|c| c.cameras)
        .unwrap_or_default();
    let reports = camera::probe::probe_all(&roles, Duration::from_secs_f64(seconds), judge)?;
    let all_delivered = !reports.is_empty() && reports.iter().all(Report::delivered);
    if json {
        let v = serde_json::json!({ "ok": all_delivered, "cameras": reports });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else if reports.is_empty() {
        println!("No camera found.");
    } else {
        for r in &reports {
            print_text(r);
        }
    }
    Ok(if all_delivered {
        Exit::Success
    } else {
        Exit::CameraFailed
    })
}

fn judge(frame: &camera::Frame, role: camera::Role) -> Quality {
    let view = quality::ImageView::rgb(frame.pixels(), frame.width(), frame.height())
        .with_stride(frame.stride());
    let a = quality::assess(
        &view,
        &quality::Options {
            role: Some(role),
            roi: None,
        },
    );
    Quality {
        verdict: a.verdict,
        issues: a.issues,
    }
}

fn print_text(r: &Report<Quality>) {
    let role = match r.role {
        camera::Role::Document => "document",
        camera::Role::Selfie => "selfie",
    };
    println!("#{} {} (probed as the {role} camera)", r.index, r.name);
    if let (Some(f), Some(w), Some(h), Some(fps)) = (r.format, r.width, r.height, r.nominal_fps) {
        println!("    format        {f} {w}x{h} at {fps} fps");
    }
    if let Some(ms) = r.open_ms {
        println!("    opened in     {ms} ms");
    }
    if let Some(ms) = r.first_frame_ms {
        println!("    first frame   {ms} ms after opening began");
    }
    let fps = r.fps.map_or_else(|| "-".to_owned(), |f| format!("{f:.1}"));
    println!(
        "    frames        {} ({fps} fps measured), {} corrupt, {} dropped",
        r.frames, r.corrupt, r.dropped
    );
    if let Some(q) = &r.verdict {
        let issues: Vec<&str> = q.issues.iter().map(|i| i.as_str()).collect();
        match q.verdict {
            quality::Verdict::Ok => println!("    last frame    ok"),
            quality::Verdict::Retake => {
                println!("    last frame    retake ({})", issues.join(", "));
            }
        }
    }
    match &r.error {
        Some(e) => println!("    FAILED        {}: {}", e.code, e.message),
        None => println!("    delivered"),
    }
}
