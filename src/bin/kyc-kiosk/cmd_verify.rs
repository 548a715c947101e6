//! `kyc-kiosk verify`: one verification from image files, end to end.
//!
//! Exit codes: 0 a final result arrived; 2 bad arguments or configuration;
//! 3 the precheck refused an image; 4 no result in time; 5 the API refused;
//! 6 network failure.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use kyc_kiosk::config::Backend;
use kyc_kiosk::idenfy::flow::{self, Summary};
use kyc_kiosk::idenfy::webhook::{self, ResultStore};
use kyc_kiosk::idenfy::{Client, DocumentType, Error, ImageSide, ProcessOutcome, TokenType};
use kyc_kiosk::sandbox::{Sandbox, SandboxConfig};
use kyc_kiosk::ErrorCode;

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

fn exit_for(e: &Error) -> u8 {
    match e.code() {
        ErrorCode::InvalidInput => 2,
        ErrorCode::Network => 6,
        _ => 5,
    }
}

fn fail(json: bool, code: u8, what: &str, e: &Error) -> ExitCode {
    if json {
        println!(
            "{}",
            serde_json::json!({"error": {"code": e.code().as_str(), "message": e.to_string(), "step": what}})
        );
    }
    eprintln!("{what} failed: {e}");
    ExitCode::from(code)
}

pub fn run(args: &Args, config: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let cfg = super::load_config(config)?;
    let mut images = vec![(ImageSide::Front, read_image(&args.front)?)];
    if let Some(p) = &args.back {
        images.push((ImageSide::Back, read_image(p)?));
    }
    if let Some(p) = &args.face {
        images.push((ImageSide::Face, read_image(p)?));
    }

    // Precheck: a failing image stops here unless --force (never an unreadable one).
    let failures = flow::precheck(&images);
    if !failures.is_empty() {
        let blocking = !args.force || failures.iter().any(|f| f.unreadable);
        for f in &failures {
            eprintln!("{}: {}", f.side, f.reasons.join("; "));
        }
        if blocking {
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({"error": {"code": "IMAGE_RETAKE", "precheck": failures}})
                );
            }
            eprintln!("precheck refused the images (use --force to send them anyway)");
            return Ok(ExitCode::from(3));
        }
        eprintln!("--force: sending despite the precheck");
    }

    let req = flow::Request {
        client_id: args.client_id.clone(),
        country: args.country.clone(),
        document_type: args.document.as_deref().map(DocumentType::parse),
        token_type: TokenType::parse(&args.token_type),
        first_name: args.first_name.clone(),
        last_name: args.last_name.clone(),
        callback_url: cfg.webhook.callback_url.clone(),
        images,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(verify(args, cfg.backend, cfg.signing_key, req))
}

async fn verify(
    args: &Args,
    backend: Backend,
    signing_key: Option<kyc_kiosk::config::Secret>,
    mut req: flow::Request,
) -> anyhow::Result<ExitCode> {
    // Listen first, so a fast result cannot arrive before we do.
    let listener = tokio::net::TcpListener::bind(args.webhook_listen)
        .await
        .with_context(|| format!("cannot listen on {} for webhooks", args.webhook_listen))?;
    let store = ResultStore::new();
    let (client, key, _sandbox) = match backend {
        Backend::Sandbox => {
            // The embedded sandbox posts to our listener, never to a public callback.
            req.callback_url = None;
            let url = format!("http://{}{}", listener.local_addr()?, webhook::PATH);
            let sb = Sandbox::start(SandboxConfig {
                webhook_url: Some(url),
                ..SandboxConfig::default()
            })
            .await?;
            eprintln!("backend: SANDBOX (embedded, {})", sb.base_url());
            (sb.client()?, sb.signing_key().clone(), Some(sb))
        }
        Backend::Live {
            base_url,
            api_key,
            api_secret,
        } => {
            let key = signing_key.context(
                "IDENFY_SIGNING_KEY (api.signing_key) is required: results are accepted only when signed",
            )?;
            eprintln!("backend: {base_url}");
            let client = Client::builder()
                .base_url(base_url)
                .credentials(api_key, api_secret)
                .build()?;
            (client, key, None)
        }
    };
    let server = webhook::serve(listener, Some(key), store.clone())?;

    let (token, outcome) = match flow::create_and_submit(&client, &req, false).await {
        Ok(v) => v,
        Err(e) => return Ok(fail(args.json, exit_for(&e), "verification", &e)),
    };
    let scan_ref = token.scan_ref;
    match outcome {
        ProcessOutcome::Accepted => eprintln!("submitted {scan_ref}; waiting for the result"),
        ProcessOutcome::ConfirmedByStatus(s) => {
            eprintln!(
                "submission of {scan_ref} confirmed by /status ({}); waiting",
                s.status
            );
        }
    }
    let result = flow::await_final(&store, &scan_ref, Duration::from_secs(args.wait)).await;
    server.shutdown().await;
    let Some(result) = result else {
        // One check, no polling: say what iDenfy knows, and still report the timeout.
        let known = client.status(&scan_ref).await.map(|s| s.status.to_string());
        let known = known.unwrap_or_else(|e| format!("unavailable ({e})"));
        if args.json {
            println!(
                "{}",
                serde_json::json!({"error": {"code": "TIMEOUT", "scanRef": scan_ref, "statusNow": known}})
            );
        }
        eprintln!(
            "no final result for {scan_ref} within {} s (status now: {known})",
            args.wait
        );
        return Ok(ExitCode::from(4));
    };
    let summary = Summary::from(&result);
    if args.json {
        println!("{}", serde_json::to_string(&summary)?);
    } else {
        println!("scanRef:  {}", summary.scan_ref);
        println!("status:   {}", summary.status);
        let opt = |o: Option<String>| o.unwrap_or_else(|| "-".to_owned());
        println!(
            "document: auto {} / manual {}",
            opt(summary.auto_document.map(|d| d.to_string())),
            opt(summary.manual_document.map(|d| d.to_string()))
        );
        println!(
            "face:     auto {} / manual {}",
            opt(summary.auto_face.map(|d| d.to_string())),
            opt(summary.manual_face.map(|d| d.to_string()))
        );
        let join = |v: Vec<String>| {
            if v.is_empty() {
                "-".to_owned()
            } else {
                v.join(", ")
            }
        };
        println!(
            "fraud:    {}",
            join(summary.fraud_tags.iter().map(ToString::to_string).collect())
        );
        println!(
            "mismatch: {}",
            join(
                summary
                    .mismatch_tags
                    .iter()
                    .map(ToString::to_string)
                    .collect()
            )
        );
    }
    Ok(ExitCode::SUCCESS)
}
