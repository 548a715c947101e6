//! `kyc-kiosk sandbox`: run the iDenfy emulator standalone until Ctrl-C.

use std::net::SocketAddr;
use std::time::Duration;

use kyc_kiosk::sandbox::{Sandbox, SandboxConfig};
use kyc_kiosk::secret::Secret;

use crate::exit::Exit;

/// Defaults that are printed, so a second terminal can use them.
const DEFAULT_KEY: &str = "sandbox-key";
const DEFAULT_SECRET: &str = "sandbox-secret";
/// At least [`kyc_kiosk::config::MIN_SIGNING_KEY_CHARS`] long, so a kiosk
/// configured with it starts.
const DEFAULT_SIGNING_KEY: &str = "sandbox-signing-key-for-local-tests";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to serve the API on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Where to post signed results (e.g. http://127.0.0.1:8787/webhooks/idenfy).
    #[arg(long)]
    webhook_url: Option<String>,
    /// Key to sign webhooks with [default: sandbox-signing-key-for-local-tests].
    #[arg(long, env = "IDENFY_SIGNING_KEY", hide_env_values = true)]
    signing_key: Option<String>,
    /// Send a manual-review result after the automatic one.
    #[arg(long)]
    manual_review: bool,
    /// API key the sandbox accepts [default: sandbox-key].
    #[arg(long, env = "IDENFY_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// API secret the sandbox accepts [default: sandbox-secret].
    #[arg(long, env = "IDENFY_API_SECRET", hide_env_values = true)]
    api_secret: Option<String>,
    /// Milliseconds before the automatic result.
    #[arg(long, default_value_t = 300)]
    auto_delay_ms: u64,
    /// Milliseconds between the automatic and the manual result.
    #[arg(long, default_value_t = 1000)]
    manual_delay_ms: u64,
}

/// The value, or the printed default; given values are shown masked.
fn pick(given: Option<&String>, default: &str) -> (Secret, String) {
    match given.filter(|v| !v.trim().is_empty()) {
        Some(v) => (Secret::new(v.as_str()), "*** (given)".to_owned()),
        None => (Secret::new(default), format!("{default} (default)")),
    }
}

pub fn run(args: &Args) -> anyhow::Result<Exit> {
    if let Some(u) = &args.webhook_url {
        anyhow::ensure!(
            u.starts_with("http://") || u.starts_with("https://"),
            "--webhook-url must be an http:// or https:// URL"
        );
    }
    let (api_key, key_shown) = pick(args.api_key.as_ref(), DEFAULT_KEY);
    let (api_secret, secret_shown) = pick(args.api_secret.as_ref(), DEFAULT_SECRET);
    let (signing_key, signing_shown) = pick(args.signing_key.as_ref(), DEFAULT_SIGNING_KEY);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let sb = Sandbox::start(SandboxConfig {
            listen: args.listen,
            api_key: Some(api_key),
            api_secret: Some(api_secret),
            signing_key: Some(signing_key),
            webhook_url: args.webhook_url.clone(),
            manual_review: args.manual_review,
            auto_delay: Duration::from_millis(args.auto_delay_ms),
            manual_delay: Duration::from_millis(args.manual_delay_ms),
            ..SandboxConfig::default()
        })
        .await?;
        // Whoever started us may stop reading stdout: a closed pipe must not
        // end the sandbox, so write errors are ignored (println! would panic).
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "sandbox listening on {}", sb.base_url());
        let _ = writeln!(out, "api key:     {key_shown}");
        let _ = writeln!(out, "api secret:  {secret_shown}");
        let _ = writeln!(out, "signing key: {signing_shown}");
        let _ = writeln!(
            out,
            "webhooks:    {}{}",
            args.webhook_url
                .as_deref()
                .unwrap_or("(none; results via /status)"),
            if args.manual_review {
                ", with manual review"
            } else {
                ""
            }
        );
        let _ = out.flush();
        drop(out);
        tokio::signal::ctrl_c().await?;
        sb.shutdown().await;
        Ok(Exit::Success)
    })
}
