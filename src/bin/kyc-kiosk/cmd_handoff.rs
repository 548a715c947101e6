//! `kyc-kiosk handoff`: create a token for iDenfy's mobile app, print the
//! 8-digit code and its QR (and write it to a file), then wait for the result.
//! Runs on the same state machine as the kiosk.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use kyc_kiosk::session::{qr, Input, Kiosk, KioskOptions, Screen, Settings, StartRequest};

use crate::exit::Exit;
use crate::flow_cli;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The bank's identifier for the customer.
    #[arg(long)]
    client_id: String,
    /// Document country (default: the configured default country; with
    /// neither, the customer picks it in the app).
    #[arg(long)]
    country: Option<String>,
    /// Write the QR code to this file (.svg or .png).
    #[arg(long, value_name = "FILE")]
    qr_out: Option<PathBuf>,
    /// Seconds to wait for the result.
    #[arg(long, default_value_t = 600)]
    wait: u64,
    /// Print the result as one JSON object on stdout.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args, config_path: Option<PathBuf>) -> anyhow::Result<Exit> {
    let config = super::load_config(config_path)?;
    if let Some(p) = &args.qr_out {
        let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
        anyhow::ensure!(
            matches!(ext, "svg" | "png"),
            "--qr-out {}: the file must end in .svg or .png",
            p.display()
        );
    }
    flow_cli::runtime()?.block_on(run_async(args, config))
}

async fn run_async(args: &Args, config: kyc_kiosk::config::Config) -> anyhow::Result<Exit> {
    let wait = Duration::from_secs(args.wait);
    // The customer is away with their phone: the idle reset must not wipe
    // the session while we wait for them.
    let mut settings = Settings::from_kiosk(&config.kiosk);
    let wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
    settings.idle_timeout_ms = settings.idle_timeout_ms.max(wait_ms + 60_000);
    settings.result_wait_ms = settings.result_wait_ms.max(wait_ms);
    let kiosk = Kiosk::start(
        &config,
        KioskOptions {
            settings: Some(settings),
            ..KioskOptions::default()
        },
    )
    .await?;
    if kiosk.is_sandbox() {
        eprintln!("SANDBOX: no API credentials are configured; the embedded emulator answers.");
    } else if let Some(link) = kiosk.back_office_checked().await {
        eprintln!("{}", link.describe());
    }
    let h = kiosk.handle().clone();
    // A token needs no country: without one, the customer picks it in the
    // app (only `/process` needs one). `StartRequest::new` takes a blank
    // country as none.
    let country = args
        .country
        .clone()
        .or_else(|| config.kiosk.default_country.clone())
        .unwrap_or_default();
    let mut req = StartRequest::new(args.client_id.clone(), country);
    req.generate_digit_string = true;
    req.locale = Some(config.kiosk.language.clone());
    if let Err(e) = kiosk.start_session(req).await {
        eprintln!("error: {e}");
        return Ok(Exit::Error);
    }
    let ready = flow_cli::follow(
        &h,
        Duration::from_secs(60),
        true,
        |_| {},
        |v| matches!(v.screen, Screen::Choice | Screen::Error),
    )
    .await;
    let Some(v) = ready.filter(|v| v.screen == Screen::Choice) else {
        let end = h.view();
        flow_cli::print_result(&end, args.json);
        return Ok(flow_cli::exit_code(Some(&end)));
    };
    let _ = v;
    h.send(Input::ContinueOnPhone).await?;
    let v = h.wait_for(|v| v.screen == Screen::Handoff).await?;
    let code = v
        .digit_string
        .clone()
        .context("the API returned no digit string")?;
    let q = qr::Qr::new(&code)?;
    println!("{}", q.terminal(true));
    println!("Code for the iDenfy app: {}", qr::grouped(&code));
    if let Some(scan) = &v.scan_ref {
        eprintln!("scanRef: {scan}");
    }
    if let Some(p) = &args.qr_out {
        let bytes = if p.extension().and_then(|e| e.to_str()) == Some("png") {
            q.png(400)?
        } else {
            q.svg(400).into_bytes()
        };
        std::fs::write(p, bytes).with_context(|| format!("cannot write {}", p.display()))?;
        eprintln!("QR code written to {}", p.display());
    }
    eprintln!("Waiting up to {} s for the result…", args.wait);
    let end = flow_cli::follow(
        &h,
        wait,
        false,
        |_| {},
        |v| {
            v.screen == Screen::Result && v.result.as_ref().is_some_and(|r| r.final_)
                || v.screen == Screen::Error
        },
    )
    .await;
    let code = flow_cli::report(end.as_ref(), &args.client_id, args.json, args.wait);
    let _ = h.send(Input::Finish).await;
    kiosk.shutdown().await;
    Ok(code)
}
