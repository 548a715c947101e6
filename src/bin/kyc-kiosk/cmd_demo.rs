//! `kyc-kiosk demo`: the whole kiosk flow, headless, against the embedded
//! sandbox with the demo camera, or through the back office when a relay is
//! configured (its upstream then decides the result). Prints each step, the live quality hints,
//! the mobile QR and the final result. This is what `make run` does when
//! there is no display.

use std::time::Duration;

use kyc_kiosk::config::Config;
use kyc_kiosk::quality::Issue;
use kyc_kiosk::session::{
    qr, CameraChoice, DocumentType, Input, InputKind, Kiosk, KioskOptions, Screen, StartRequest,
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
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 120)]
    wait: u64,
    /// Print the final result as one JSON object on stdout.
    #[arg(long)]
    json: bool,
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
    let kiosk = Kiosk::start(
        &config,
        KioskOptions {
            camera: CameraChoice::Demo,
            sandbox_manual_review: args.manual_review,
            ..KioskOptions::default()
        },
    )
    .await?;
    if let Some(link) = kiosk.back_office_checked().await {
        eprintln!("{}", link.describe());
    }
    let h = kiosk.handle().clone();

    let mut req = StartRequest::new(args.client_id.clone(), args.country.clone());
    req.documents = vec![DocumentType::IdCard];
    req.first_name = args.first_name.clone();
    req.last_name = args.last_name.clone();
    req.dummy_status = args.status.clone();
    req.generate_digit_string = true;
    kiosk.start_session(req).await?;

    // Print live quality hints while a side is being photographed.
    let hints = {
        let kiosk_h = h.clone();
        let preview_src = std::sync::Arc::new(kiosk);
        let k2 = preview_src.clone();
        let task = tokio::spawn(async move {
            let mut seq = 0;
            let mut last = String::new();
            loop {
                if kiosk_h.view().screen != Screen::Capture {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
                let Some(p) = k2.wait_preview(seq, Duration::from_millis(300)).await else {
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
        });
        (task, preview_src)
    };

    let mut chose = false;
    let mut confirmed = false;
    let wait = Duration::from_secs(args.wait);
    let end = flow_cli::follow(
        &h,
        wait,
        false,
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
                    if let Some(code) = show_handoff(&h).await {
                        eprintln!(
                            "    The customer could continue on a phone with code {}:",
                            qr::grouped(&code)
                        );
                        if let Ok(q) = qr::Qr::new(&code) {
                            eprintln!("{}", q.terminal(true));
                        }
                    }
                    eprintln!("    The customer chooses to verify here with an ID card.");
                    let _ = h.send(Input::VerifyHere(DocumentType::IdCard)).await;
                }
                Screen::Review if !confirmed => {
                    confirmed = true;
                    for s in &v.sides {
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
    let (end, ()) = tokio::join!(end, driver);
    hints.0.abort();

    let code = flow_cli::report(end.as_ref(), &args.client_id, args.json, args.wait);
    // Leave the result: the session is wiped, as the kiosk does for the next customer.
    let _ = h.send(Input::Finish).await;
    if let Ok(k) = std::sync::Arc::try_unwrap(hints.1) {
        k.shutdown().await;
    }
    Ok(code)
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
    }
}
