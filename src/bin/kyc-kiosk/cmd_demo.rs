//! `kyc-kiosk demo`: the whole kiosk flow, headless, against the embedded
//! sandbox with the demo camera, or through the back office when a relay is
//! configured (its upstream then decides the result). Prints each step, the live quality hints,
//! the mobile QR and the final result. This is what `make run` does when
//! there is no display.
//!
//! `--repeat N` runs N sessions back to back in one kiosk (a soak test) and
//! prints the process's resident memory, open files and threads along the
//! way; `--fast` shortens the waits meant for people (see [`Args::fast`]).

use std::sync::Arc;
use std::time::Duration;

use kyc_kiosk::config::Config;
use kyc_kiosk::quality::Issue;
use kyc_kiosk::session::autocapture::AutoConfig;
use kyc_kiosk::session::{
    qr, CameraChoice, DocumentType, Input, InputKind, Kiosk, KioskOptions, Screen, StartRequest,
    View,
};

use crate::exit::Exit;
use crate::flow_cli;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The result the sandbox should give.
    #[arg(long, value_parser = ["APPROVED", "DENIED", "SUSPECTED"])]
    status: Option<String>,
    /// Client ID sent to the API.
    #[arg(long, default_value = "DEMO-0001")]
    client_id: String,
    /// Expected first name (a name other than the specimen's gives SUSPECTED).
    #[arg(long)]
    first_name: Option<String>,
    /// Expected last name.
    #[arg(long)]
    last_name: Option<String>,
    /// Document country.
    #[arg(long, default_value = "LT")]
    country: String,
    /// Have the sandbox send an automatic, then a manual result.
    #[arg(long)]
    manual_review: bool,
    /// Ask for a proof of address: the demo camera then shows a utility
    /// bill after the card's sides.
    #[arg(long)]
    utility_bill: bool,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 120)]
    wait: u64,
    /// Print the final result as one JSON object on stdout.
    #[arg(long)]
    json: bool,
    /// Run this many sessions back to back in one process, printing resident
    /// memory, open files and threads after sessions 1, 10, 50, 100, 250,
    /// 500, every 1000th and the last (a soak test; each sample after 1.5 s
    /// idle, as between customers).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    repeat: u32,
    /// Short waits for soak runs: the demo camera's picture is steady at
    /// once and the auto-capture fires without its countdown. Everything
    /// else (camera, prechecks, encoding, token, /process, webhooks) is the
    /// normal path.
    #[arg(long)]
    fast: bool,
}

pub fn run(args: &Args, config_path: Option<std::path::PathBuf>) -> anyhow::Result<Exit> {
    // The demo runs against the embedded sandbox whatever API is configured
    // (the empty configuration has no credentials), unless a relay is
    // configured: then it goes through the back office.
    let relay = super::load_config(config_path)?.relay;
    flow_cli::runtime()?.block_on(run_async(args, relay))
}

async fn run_async(
    args: &Args,
    relay: Option<kyc_kiosk::config::RelayConfig>,
) -> anyhow::Result<Exit> {
    let config = Config {
        relay,
        ..Config::default()
    };
    if config.relay.is_some() {
        eprintln!("kyc-kiosk demo — through the back office, with the demo camera.");
    } else {
        eprintln!("kyc-kiosk demo — SANDBOX: the embedded emulator and the demo camera; results are simulated.");
    }
    let mut options = KioskOptions {
        camera: CameraChoice::Demo,
        sandbox_manual_review: args.manual_review,
        ..KioskOptions::default()
    };
    if args.fast {
        options.auto_capture = Some(AutoConfig {
            steady_ms: 0,
            countdown_ms: 0,
        });
        options.demo_settle_frames = Some(0);
    }
    let kiosk = Arc::new(Kiosk::start(&config, options).await?);
    if let Some(link) = kiosk.back_office_checked().await {
        eprintln!("{}", link.describe());
    }
    let soak = args.repeat > 1;
    let hints = (!soak).then(|| tokio::spawn(print_hints(kiosk.clone())));

    let mut code = Exit::Success;
    let mut first = None;
    for n in 1..=args.repeat {
        let end = one_session(args, &kiosk, soak).await?;
        code = flow_cli::exit_code(end.as_ref());
        if !soak || code != Exit::Success {
            if soak {
                eprintln!("session {n} of {}:", args.repeat);
            }
            code = flow_cli::report(end.as_ref(), &args.client_id, args.json, args.wait);
        } else if args.json && n == args.repeat {
            if let Some(v) = &end {
                println!("{}", flow_cli::result_json(v, &args.client_id));
            }
        }
        // Leave the result: the session is wiped, as the kiosk does for the next customer.
        let h = kiosk.handle();
        let _ = h.send(Input::Finish).await;
        let _ =
            tokio::time::timeout(args_wait(args), h.wait_for(|v| v.screen == Screen::Start)).await;
        if code != Exit::Success {
            break;
        }
        if soak && is_sample(n, args.repeat) {
            // Between customers: idle blocking threads leave after 1 s
            // (see `flow_cli::runtime`), so the sample counts what stays.
            tokio::time::sleep(Duration::from_millis(1500)).await;
            if let Some(u) = Usage::now() {
                let growth = first.map(|f: Usage| u.compared_to(&f)).unwrap_or_default();
                eprintln!(
                    "after {n} session{}: {u}{growth}",
                    if n == 1 { "" } else { "s" }
                );
                if first.is_none() {
                    first = Some(u);
                }
            }
        }
    }
    if let Some(task) = hints {
        task.abort();
        let _ = task.await;
    }
    if let Ok(k) = Arc::try_unwrap(kiosk) {
        k.shutdown().await;
    }
    Ok(code)
}

fn args_wait(args: &Args) -> Duration {
    Duration::from_secs(args.wait)
}

/// One customer, start to final result; the final view (`None`: no result
/// within `--wait`). `quiet` prints nothing on the way (soak runs).
async fn one_session(args: &Args, kiosk: &Kiosk, quiet: bool) -> anyhow::Result<Option<View>> {
    let h = kiosk.handle();
    let mut req = StartRequest::new(args.client_id.clone(), args.country.clone());
    req.documents = vec![DocumentType::IdCard];
    req.first_name = args.first_name.clone();
    req.last_name = args.last_name.clone();
    req.dummy_status = args.status.clone();
    req.generate_digit_string = true;
    req.proof_of_address = args
        .utility_bill
        .then(kyc_kiosk::session::ProofOfAddress::upload);
    kiosk.start_session(req).await?;

    let mut chose = false;
    let mut confirmed = false;
    let end = flow_cli::follow(
        h,
        args_wait(args),
        quiet,
        |_| {},
        |v| {
            v.screen == Screen::Result && v.result.as_ref().is_some_and(|r| r.final_)
                || v.screen == Screen::Error
        },
    );
    // Drive the customer's side of the flow next to the printer above.
    let driver = async {
        loop {
            let v = h.view();
            match v.screen {
                Screen::Choice if !chose => {
                    chose = true;
                    let code = show_handoff(h).await;
                    if let (Some(code), false) = (code, quiet) {
                        eprintln!(
                            "    The customer could continue on a phone with code {}:",
                            qr::grouped(&code)
                        );
                        if let Ok(q) = qr::Qr::new(&code) {
                            eprintln!("{}", q.terminal(true));
                        }
                    }
                    if !quiet {
                        eprintln!("    The customer chooses to verify here with an ID card.");
                    }
                    let _ = h.send(Input::VerifyHere(DocumentType::IdCard)).await;
                }
                Screen::Review if !confirmed => {
                    confirmed = true;
                    for s in v.sides.iter().filter(|_| !quiet) {
                        eprintln!(
                            "    photo of the {:?}: {}x{}",
                            s.side,
                            s.width.unwrap_or(0),
                            s.height.unwrap_or(0)
                        );
                    }
                    let _ = h.send(Input::Confirm).await;
                }
                Screen::Result | Screen::Error => return,
                _ => {}
            }
            let _ = h
                .wait_for(|n| n.screen != v.screen || n.side != v.side)
                .await;
        }
    };
    // The driver returns with the result or error screen; `follow` may give
    // up first (--wait), and then the session is left as it is.
    let end = tokio::select! {
        end = end => end,
        () = async { driver.await; std::future::pending::<()>().await } => None,
    };
    Ok(end)
}

/// Prints the live quality hints while a side is being photographed.
async fn print_hints(kiosk: Arc<Kiosk>) {
    let h = kiosk.handle().clone();
    let mut seq = 0;
    let mut last = String::new();
    loop {
        if h.view().screen != Screen::Capture {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        let Some(p) = kiosk.wait_preview(seq, Duration::from_millis(300)).await else {
            continue;
        };
        seq = p.seq;
        let hint = match (&p.quality, p.auto_capture_in) {
            (_, Some(n)) => format!("good — taking the photo in {n}…"),
            (Some(q), None) if q.ok => "good — hold still".to_owned(),
            (Some(q), None) => q
                .issues
                .iter()
                .map(issue_hint)
                .collect::<Vec<_>>()
                .join("; "),
            (None, None) => String::new(),
        };
        if hint != last && !hint.is_empty() {
            eprintln!("    live: {hint}");
            last = hint;
        }
    }
}

/// Whether the soak prints its figures after session `n` of `total`.
fn is_sample(n: u32, total: u32) -> bool {
    matches!(n, 1 | 10 | 50 | 100 | 250 | 500) || n.is_multiple_of(1000) || n == total
}

/// What the process holds, from `/proc/self` (Linux only).
#[derive(Debug, Clone, Copy, Default)]
struct Usage {
    rss_kib: u64,
    fds: usize,
    threads: u64,
}

impl Usage {
    fn now() -> Option<Self> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let field = |name: &str| -> Option<u64> {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        };
        Some(Self {
            rss_kib: field("VmRSS:")?,
            threads: field("Threads:")?,
            fds: std::fs::read_dir("/proc/self/fd").ok()?.count(),
        })
    }

    /// `, since the first sample: …` (empty for the first sample itself).
    fn compared_to(&self, first: &Self) -> String {
        #[allow(clippy::cast_precision_loss)]
        let pct = (self.rss_kib as f64 / first.rss_kib.max(1) as f64 - 1.0) * 100.0;
        format!(
            " (since the first sample: RSS {pct:+.1} %, fds {:+}, threads {:+})",
            i64::try_from(self.fds).unwrap_or(i64::MAX) - i64::try_from(first.fds).unwrap_or(0),
            i64::try_from(self.threads).unwrap_or(i64::MAX)
                - i64::try_from(first.threads).unwrap_or(0),
        )
    }
}

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "RSS {} KiB, {} open files, {} threads",
            self.rss_kib, self.fds, self.threads
        )
    }
}

/// Shows the handoff screen (the code is only shown there) and returns the
/// code; from there the customer may still verify here.
async fn show_handoff(h: &kyc_kiosk::session::Handle) -> Option<String> {
    if !h.view().allowed.contains(&InputKind::ContinueOnPhone) {
        return None;
    }
    h.send(Input::ContinueOnPhone).await.ok()?;
    let v = h.wait_for(|v| v.screen == Screen::Handoff).await.ok()?;
    v.digit_string.clone()
}

fn issue_hint(issue: Issue) -> &'static str {
    match issue {
        Issue::Blurry => "hold still — the picture is blurry",
        Issue::Glare => "tilt the card away from the light",
        Issue::TooDark => "too dark",
        Issue::TooBright => "too bright",
        Issue::TooSmall => "move closer",
        Issue::NoDocument => "place the document in the frame",
        Issue::DocumentCut => "show the whole document",
        Issue::DocumentTooFar => "move the document closer",
        Issue::DocumentTooClose => "move the document back",
        Issue::NoFace => "no face found",
        Issue::SeveralFaces => "only the customer in the picture",
        Issue::FaceTooSmall => "come closer",
        Issue::FaceOffCentre => "centre the face",
    }
}
