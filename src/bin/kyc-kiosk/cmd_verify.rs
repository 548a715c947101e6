//! `kyc-kiosk verify`: one verification from image files, end to end.
//!
//! Exit: [`Exit::Success`] when a final result arrived,
//! [`Exit::PrecheckRefused`], [`Exit::NoResult`], [`Exit::ApiRefused`] (also
//! when iDenfy asks for a photo again: a file cannot be retaken),
//! [`Exit::Network`], or [`Exit::Error`] for bad arguments or configuration.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context as _;
use kyc_kiosk::idenfy::{DocumentType, ImageSide, TokenType, DEFAULT_MAX_BODY_BYTES};
use kyc_kiosk::session::{
    CameraChoice, DocumentType as SessionDoc, Input, InputKind, Kiosk, KioskOptions,
    ProofOfAddress, Screen, Settings, Side, StartRequest, TokenType as SessionTokenType, View,
};
use kyc_kiosk::ErrorCode;

use crate::exit::Exit;
use crate::{cmd_precheck, flow_cli};

/// Largest image file read.
const MAX_FILE_BYTES: u64 = 50 * 1024 * 1024;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Your identifier of the customer (ASCII, at most 100 characters).
    #[arg(long)]
    client_id: String,
    /// Country of the document, ISO 3166-1 alpha-2 (e.g. LT).
    #[arg(long)]
    country: String,
    /// Document front photo (JPEG or PNG).
    #[arg(long, value_name = "FILE")]
    front: PathBuf,
    /// Document back photo.
    #[arg(long, value_name = "FILE")]
    back: Option<PathBuf>,
    /// Selfie.
    #[arg(long, value_name = "FILE")]
    face: Option<PathBuf>,
    /// Utility bill photo (proof of address): the verification then asks
    /// for one, as the kiosk's "Proof of address" box does.
    #[arg(long, value_name = "FILE")]
    utility_bill: Option<PathBuf>,
    /// Address iDenfy compares with the utility bill's (needs --utility-bill).
    #[arg(long, value_name = "TEXT", requires = "utility_bill")]
    bill_address: Option<String>,
    /// Document type.
    #[arg(long, value_parser = ["ID_CARD", "PASSPORT", "DRIVER_LICENSE", "RESIDENCE_PERMIT"])]
    document: Option<String>,
    /// IDENTIFICATION (document and selfie) or DOCUMENT (document only).
    #[arg(long, default_value = "IDENTIFICATION", value_parser = ["IDENTIFICATION", "DOCUMENT"])]
    token_type: String,
    /// Expected first name, compared with the document.
    #[arg(long)]
    first_name: Option<String>,
    /// Expected last name, compared with the document.
    #[arg(long)]
    last_name: Option<String>,
    /// Where to receive the webhook result.
    #[arg(long, default_value = kyc_kiosk::config::DEFAULT_WEBHOOK_LISTEN)]
    webhook_listen: SocketAddr,
    /// Seconds to wait for the final result.
    #[arg(long, default_value_t = 120)]
    wait: u64,
    /// Send images even when the precheck finds quality issues.
    #[arg(long)]
    force: bool,
    /// Print the result as one JSON object.
    #[arg(long)]
    json: bool,
}

fn read_image(path: &Path) -> anyhow::Result<Vec<u8>> {
    let len = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    anyhow::ensure!(
        len <= MAX_FILE_BYTES,
        "{} is larger than {} MB",
        path.display(),
        MAX_FILE_BYTES / 1024 / 1024
    );
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

pub fn run(args: &Args, config: Option<PathBuf>) -> anyhow::Result<Exit> {
    let cfg = super::load_config(config)?;
    let mut images = vec![(ImageSide::Front, read_image(&args.front)?)];
    if let Some(p) = &args.back {
        images.push((ImageSide::Back, read_image(p)?));
    }
    if let Some(p) = &args.utility_bill {
        images.push((ImageSide::UtilityBill, read_image(p)?));
    }
    if let Some(p) = &args.face {
        images.push((ImageSide::Face, read_image(p)?));
    }

    // A set over the API's body limit could never be sent: say so before
    // a token is created.
    if let Err(e) = kyc_kiosk::idenfy::check_body_size(&images, DEFAULT_MAX_BODY_BYTES) {
        eprintln!("error: {e}");
        return Ok(Exit::Error);
    }

    // Precheck: a failing image stops here unless --force (never an unreadable one).
    let failures = cmd_precheck::images(&images);
    if !failures.is_empty() {
        let blocking = !args.force || failures.iter().any(cmd_precheck::Failure::unreadable);
        for f in &failures {
            eprintln!("{}: {}", f.side, f.text());
        }
        if blocking {
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({"error": {"code": ErrorCode::ImageRetake, "precheck": failures}})
                );
            }
            eprintln!("precheck refused the images (use --force to send them anyway)");
            return Ok(Exit::PrecheckRefused);
        }
        eprintln!("--force: sending despite the precheck");
    }

    let document = match args.document.as_deref() {
        Some(d) => SessionDoc::parse(d).context("unknown document type")?,
        // The kiosk flow needs a document type: a given back side means a
        // card, none means a passport.
        None if args.back.is_some() => SessionDoc::IdCard,
        None => SessionDoc::Passport,
    };
    let token_type = if args.token_type == "DOCUMENT" {
        SessionTokenType::Document
    } else {
        SessionTokenType::Identification
    };
    // Every side the flow will ask for must have been given.
    let sides: Vec<ImageSide> = images.iter().map(|(s, _)| s.clone()).collect();
    if let Err(e) = kyc_kiosk::idenfy::validate::process_sides(
        &args.country,
        Some(&DocumentType::parse(document.as_str())),
        &TokenType::parse(&args.token_type),
        &sides,
    ) {
        eprintln!("error: {e} (give it with --front/--back/--face/--utility-bill)");
        return Ok(Exit::Error);
    }
    let stills: HashMap<Side, Vec<u8>> = images
        .into_iter()
        .map(|(side, bytes)| {
            let s = match side {
                ImageSide::Back => Side::Back,
                ImageSide::UtilityBill => Side::UtilityBill,
                ImageSide::Face => Side::Face,
                _ => Side::Front,
            };
            (s, bytes)
        })
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(verify(args, &cfg, document, token_type, stills))
}

/// The kiosk's own flow, driven from the terminal: token, the given photos
/// as the captured sides, review, submit, then the signed result.
async fn verify(
    args: &Args,
    cfg: &kyc_kiosk::config::Config,
    document: SessionDoc,
    token_type: SessionTokenType,
    stills: HashMap<Side, Vec<u8>>,
) -> anyhow::Result<Exit> {
    let wait_ms = args.wait.saturating_mul(1000);
    let mut settings = Settings::from_kiosk(&cfg.kiosk);
    settings.result_wait_ms = wait_ms;
    settings.review_wait_ms = wait_ms;
    settings.idle_timeout_ms = settings.idle_timeout_ms.max(wait_ms + 60_000);
    let kiosk = match Kiosk::start(
        cfg,
        KioskOptions {
            camera: CameraChoice::Stills(Arc::new(stills)),
            webhook_listen: Some(args.webhook_listen),
            settings: Some(settings),
            auto_capture: None,
            ..KioskOptions::default()
        },
    )
    .await
    {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(if e.code() == ErrorCode::Config {
                Exit::Error
            } else {
                Exit::Network
            });
        }
    };
    eprintln!("backend: {}", flow_cli::backend(&kiosk).await);
    let h = kiosk.handle().clone();
    let mut req = StartRequest::new(args.client_id.clone(), args.country.clone());
    req.documents = vec![document];
    req.token_type = token_type;
    req.first_name = args.first_name.clone();
    req.last_name = args.last_name.clone();
    req.proof_of_address = args
        .utility_bill
        .is_some()
        .then(|| match &args.bill_address {
            Some(a) => ProofOfAddress::compare(a.clone()),
            None => ProofOfAddress::upload(),
        });
    if let Err(e) = kiosk.start_session(req).await {
        eprintln!("error: {e}");
        return Ok(Exit::Error);
    }

    // A photo iDenfy asked to be taken again: a file cannot be retaken, so
    // the verification ends there (the token is not spent).
    let refused = |v: &View| v.screen == Screen::Capture && v.hint.is_some();
    // The customer's side of the flow: choose "here", hand over each photo,
    // confirm the review. Everything else is the state machine's.
    let drive = async {
        let mut chose = false;
        let mut confirmed = false;
        loop {
            let v = h.view();
            if refused(&v) {
                return;
            }
            match v.screen {
                Screen::Choice if !chose => {
                    chose = true;
                    let _ = h.send(Input::VerifyHere(document)).await;
                }
                Screen::Capture
                    if v.camera_ready
                        && !v.capturing
                        && v.allowed.contains(&InputKind::Capture) =>
                {
                    let _ = h.send(Input::Capture).await;
                }
                Screen::Review if !confirmed => {
                    confirmed = true;
                    let _ = h.send(Input::Confirm).await;
                }
                Screen::Result | Screen::Error | Screen::NoResultYet | Screen::SubmitFailed => {
                    return
                }
                _ => {}
            }
            let before = v.clone();
            if h.wait_for(|n| n != &before).await.is_err() {
                return;
            }
        }
    };
    let finished = |v: &View| {
        v.screen == Screen::Result && v.result.as_ref().is_some_and(|r| r.final_)
            || refused(v)
            || matches!(
                v.screen,
                Screen::Error | Screen::NoResultYet | Screen::SubmitFailed
            )
    };
    let limit = Duration::from_secs(args.wait.saturating_add(60));
    let (end, ()) = tokio::join!(
        flow_cli::follow(&h, limit, args.json, |_| {}, finished),
        drive
    );
    let end = end.unwrap_or_else(|| h.view());
    let code = if let (true, Some(hint)) = (refused(&end), &end.hint) {
        let side = end.side.map(Side::as_str).unwrap_or_default();
        if args.json {
            println!(
                "{}",
                serde_json::json!({"error": {"code": hint.code, "side": side, "message": hint.message}})
            );
        }
        eprintln!("[{}] {}", hint.code, hint.message);
        Exit::ApiRefused
    } else if end.screen == Screen::NoResultYet
        || (end.screen != Screen::Result && end.error.is_none())
    {
        // One check, no polling: say what iDenfy knows, and report the timeout.
        let scan = end.scan_ref.clone().unwrap_or_default();
        let known = kiosk
            .status_now(&scan)
            .await
            .unwrap_or_else(|e| format!("unavailable ({e})"));
        if args.json {
            println!(
                "{}",
                serde_json::json!({"error": {"code": ErrorCode::Timeout, "scanRef": scan, "statusNow": known}})
            );
        }
        eprintln!(
            "no final result for {scan} within {} s (status now: {known})",
            args.wait
        );
        Exit::NoResult
    } else {
        flow_cli::report(Some(&end), &args.client_id, args.json, args.wait)
    };
    let _ = h.send(Input::Finish).await;
    kiosk.shutdown().await;
    Ok(code)
}
