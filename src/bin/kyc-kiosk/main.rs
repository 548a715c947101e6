//! The `kyc-kiosk` command line: parses arguments, reads configuration once,
//! calls the library and prints. Each subcommand lives in its own file; the
//! exit codes of all of them are [`exit::Exit`].

use std::path::PathBuf;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::exit::Exit;

mod cameras_probe;
mod cmd_cameras;
mod cmd_config;
mod cmd_demo;
mod cmd_detect;
mod cmd_handoff;
mod cmd_pin;
mod cmd_precheck;
mod cmd_sandbox;
mod cmd_verify;
mod exit;
mod flow_cli;

/// In-person identity verification with iDenfy: CLI of the kyc-kiosk.
#[derive(Debug, Parser)]
#[command(name = "kyc-kiosk", version, about)]
struct Cli {
    /// Config file (default: the OS config dir's kyc-kiosk/config.toml).
    #[arg(long, global = true, env = "KYC_KIOSK_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List camera devices (formats, sizes, frame rates) and their roles.
    Cameras(cmd_cameras::Args),
    /// Show the validated configuration (secrets masked) and where it came from.
    Config(cmd_config::Args),
    /// Run the whole kiosk flow headless with the demo camera (embedded sandbox, or the relay when configured).
    Demo(cmd_demo::Args),
    /// Find the document's corners and the faces in image files.
    Detect(cmd_detect::Args),
    /// Create a token for iDenfy's mobile app, show its code and QR, wait for the result.
    Handoff(cmd_handoff::Args),
    /// Verify one customer from image files (token, submit, wait for the signed result).
    Verify(cmd_verify::Args),
    /// Run the local iDenfy emulator until Ctrl-C.
    Sandbox(cmd_sandbox::Args),
    /// Check image files for blur, glare, exposure and size.
    Precheck(cmd_precheck::Args),
    /// Hash a staff PIN read from standard input, for `[kiosk] staff_pin_hash`.
    PinHash(cmd_pin::Args),
}

/// Read the config file, the staff settings file beside it (as the app
/// does: the staff PIN hash that kiosk mode needs may be there) and the
/// environment once, here at the edge. A configuration that needs the live
/// API without its credentials is an error ([`Exit::ApiRefused`] through
/// [`Exit::of_failure`]), never the sandbox.
fn load_config(path: Option<PathBuf>) -> anyhow::Result<kyc_kiosk::config::Config> {
    use kyc_kiosk::config::{default_path, RawConfig};
    use kyc_kiosk::staff::{settings, StaffFile};
    let raw = match path.or_else(default_path) {
        Some(p) => StaffFile::load(&settings::path_for(&p))?.overlay(RawConfig::load(&p)?),
        None => RawConfig::default(),
    };
    Ok(raw.with_env(std::env::vars()).validate()?)
}

fn main() -> Exit {
    // Images, document data and secrets live in this process's memory:
    // never in a core file.
    if let Err(e) = kyc_kiosk::hardening::disable_core_dumps() {
        eprintln!("kyc-kiosk: {e}");
    }
    // Freed frames and stills leave the process (memory stays flat from
    // customer to customer).
    kyc_kiosk::hardening::unmap_large_buffers();
    let log = std::env::var("KYC_KIOSK_LOG")
        .ok()
        .or_else(|| std::env::var("RUST_LOG").ok());
    kyc_kiosk::logging::init(Some(log.as_deref().unwrap_or("warn")));
    let cli = match parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout and are a success; a refused
            // command line is `Exit::Error`, not clap's own code 2.
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Error
            } else {
                Exit::Success
            };
        }
    };
    let result = match cli.command {
        Command::Cameras(args) => cmd_cameras::run(&args, cli.config),
        Command::Config(args) => cmd_config::run(&args, cli.config),
        Command::Demo(args) => cmd_demo::run(&args, cli.config),
        Command::Detect(args) => cmd_detect::run(&args),
        Command::Handoff(args) => cmd_handoff::run(&args, cli.config),
        Command::Verify(args) => cmd_verify::run(&args, cli.config),
        Command::Sandbox(args) => cmd_sandbox::run(&args),
        Command::Precheck(args) => cmd_precheck::run(&args),
        Command::PinHash(args) => cmd_pin::run(&args),
    };
    result.unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        Exit::of_failure(&e)
    })
}

/// The command line, with the exit codes at the end of `--help`.
fn parse() -> Result<Cli, clap::Error> {
    let matches = Cli::command().after_help(Exit::help()).try_get_matches()?;
    Cli::from_arg_matches(&matches)
}
