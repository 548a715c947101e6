//! `kyc-kiosk-relay`: the back office's command line.
//!
//! Exit codes follow the kiosk CLI's: 0 done, 6 the database (or the network)
//! is unreachable, 10 bad arguments, invalid configuration or any other error.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use kyc_kiosk::config::Secret;
use kyc_kiosk_relay::{db, kiosks, purge, server, PublicUrl, Settings, UpstreamConfig};

/// Exit statuses, as in the kiosk CLI.
#[derive(Debug, Clone, Copy)]
enum Exit {
    Success = 0,
    Network = 6,
    Error = 10,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e as u8)
    }
}

/// The back office for a fleet of kyc-kiosk kiosks.
#[derive(Debug, Parser)]
#[command(
    name = "kyc-kiosk-relay",
    version,
    after_help = "Exit codes:\n   0  done\n   6  the database is unreachable\n  10  bad arguments, invalid configuration, or any other error"
)]
struct Cli {
    /// PostgreSQL URL, e.g. postgres:///kyc?host=/run/postgresql.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply the embedded database migrations.
    Migrate,
    /// Serve the kiosk API, /webhooks/idenfy, health, metrics and the fleet page.
    ///
    /// Reads KYC_KIOSK_BACKEND (live|sandbox, live when unset), IDENFY_API_KEY,
    /// IDENFY_API_SECRET, IDENFY_SIGNING_KEY, IDENFY_BASE_URL and
    /// KYC_KIOSK_RELAY_ADMIN_KEY (the fleet page) from the environment.
    Serve {
        /// Address to listen on, e.g. 0.0.0.0:8443 (TLS is terminated in front).
        #[arg(long)]
        listen: String,
        /// Where iDenfy reaches this relay, e.g. https://kyc.bank.example.
        #[arg(long)]
        public_url: String,
        /// Tokens one kiosk may create per hour.
        #[arg(long, default_value_t = 120)]
        token_limit: u32,
        /// `/status` questions one kiosk may pass on to iDenfy per hour.
        #[arg(long, default_value_t = 120)]
        status_limit: u32,
        /// Seconds between purges.
        #[arg(long, default_value_t = 60)]
        purge_every: u64,
        /// Database connections of this instance.
        #[arg(long, default_value_t = 20)]
        max_connections: u32,
    },
    /// Enrol, list and revoke kiosks.
    Kiosk {
        #[command(subcommand)]
        command: KioskCommand,
    },
    /// Set or clear a branch's client-ID prefix rule.
    Branch {
        /// The branch, as given to `kiosk add --branch`.
        branch: String,
        /// Client IDs created at this branch must start with this; omit to clear.
        #[arg(long)]
        client_id_prefix: Option<String>,
    },
    /// Delete acknowledged and stale results now (serve also does it on a timer).
    Purge,
}

#[derive(Debug, Subcommand)]
enum KioskCommand {
    /// Enrol a kiosk; prints its id and its one-time credential.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        branch: Option<String>,
        /// Print {"id": …, "credential": …}.
        #[arg(long)]
        json: bool,
    },
    /// List the kiosks.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Revoke a kiosk: every instance refuses it from now on.
    Revoke { id: uuid::Uuid },
}

/// An error with the exit code it ends the process with.
struct Failure(Exit, anyhow::Error);

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(Exit::Error, e.into())
    }
}

async fn pool(url: Option<&str>, max: u32) -> Result<sqlx::PgPool, Failure> {
    let url = url.ok_or_else(|| {
        Failure(
            Exit::Error,
            anyhow::anyhow!("DATABASE_URL (--database-url): is not set"),
        )
    })?;
    db::connect(url, max).await.map_err(|e| {
        Failure(
            Exit::Network,
            anyhow::Error::new(e).context("cannot connect to the database"),
        )
    })
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let url = cli.database_url.as_deref();
    match cli.command {
        Command::Migrate => {
            let pool = pool(url, 2).await?;
            db::migrate(&pool).await.context("migrations")?;
            println!("migrations applied");
        }
        Command::Serve {
            listen,
            public_url,
            token_limit,
            status_limit,
            purge_every,
            max_connections,
        } => {
            let upstream = UpstreamConfig::from_env(std::env::vars())?;
            let public_url = PublicUrl::parse(&public_url)?;
            let admin_key = std::env::var("KYC_KIOSK_RELAY_ADMIN_KEY")
                .ok()
                .map(Secret::new)
                .filter(|k| !k.is_empty());
            let pool = pool(url, max_connections).await?;
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .with_context(|| format!("--listen {listen}"))?;
            let mut settings = Settings::new(public_url);
            settings.token_limit_per_hour = token_limit;
            settings.status_limit_per_hour = status_limit;
            settings.purge_every = Duration::from_secs(purge_every.max(1));
            settings.admin_key = admin_key;
            let running = server::start(pool, listener, &upstream, settings).await?;
            eprintln!("kyc-kiosk-relay listening on {}", running.url());
            running.until_signal().await;
        }
        Command::Kiosk { command } => {
            let pool = pool(url, 2).await?;
            db::migrate(&pool).await.context("migrations")?;
            match command {
                KioskCommand::Add { name, branch, json } => {
                    let k = kiosks::add(&pool, &name, branch.as_deref()).await?;
                    if json {
                        println!("{}", serde_json::to_string(&k)?);
                    } else {
                        println!("kiosk id:   {}", k.id);
                        println!("credential: {}", k.credential);
                        println!("(shown once: set it on the kiosk as KYC_KIOSK_RELAY_KEY or on the staff screen)");
                    }
                }
                KioskCommand::List { json } => {
                    let list = kiosks::list(&pool).await?;
                    if json {
                        println!("{}", serde_json::to_string_pretty(&list)?);
                    } else {
                        for k in list {
                            let state = if k.revoked_at.is_some() {
                                "revoked"
                            } else if k.connected {
                                "connected"
                            } else {
                                "-"
                            };
                            println!(
                                "{}  {:<24} {:<16} {:<10} last seen {}",
                                k.id,
                                k.name,
                                k.branch.as_deref().unwrap_or("-"),
                                state,
                                k.last_seen_at.as_deref().unwrap_or("never"),
                            );
                        }
                    }
                }
                KioskCommand::Revoke { id } => {
                    if !kiosks::revoke(&pool, id).await? {
                        return Err(anyhow::anyhow!("no active kiosk with id {id}").into());
                    }
                    println!("kiosk {id} revoked");
                }
            }
        }
        Command::Branch {
            branch,
            client_id_prefix,
        } => {
            let pool = pool(url, 2).await?;
            db::migrate(&pool).await.context("migrations")?;
            kiosks::set_branch_rule(&pool, &branch, client_id_prefix.as_deref()).await?;
            match client_id_prefix {
                Some(p) => println!("branch {branch}: client IDs must start with `{p}`"),
                None => println!("branch {branch}: no client-ID rule"),
            }
        }
        Command::Purge => {
            let pool = pool(url, 2).await?;
            db::migrate(&pool).await.context("migrations")?;
            let p = purge::run(&pool, &purge::Policy::default()).await?;
            println!(
                "purged: {} acknowledged, {} undelivered, {} scans",
                p.acknowledged, p.undelivered, p.scans
            );
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let filter = std::env::var("KYC_KIOSK_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info,sqlx=warn".to_owned());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Error.into()
            } else {
                Exit::Success.into()
            };
        }
    };
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return Exit::Error.into();
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => Exit::Success.into(),
        Err(Failure(code, e)) => {
            eprintln!("error: {e:#}");
            code.into()
        }
    }
}
