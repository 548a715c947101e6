//! `kyc-kiosk config`: print the validated configuration, secrets masked.

use std::path::PathBuf;

use crate::exit::Exit;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: &Args, path: Option<PathBuf>) -> anyhow::Result<Exit> {
    let shown = path.clone().or_else(kyc_kiosk::config::default_path);
    let cfg = super::load_config(path)?;
    if let Some(p) = shown {
        println!("config file: {}", p.display());
    }
    println!(
        "backend: {}",
        match &cfg.backend {
            kyc_kiosk::config::Backend::Sandbox =>
                "SANDBOX (embedded; no API credentials set)".to_string(),
            kyc_kiosk::config::Backend::Live { base_url, .. } =>
                format!("{base_url} (credentials set)"),
        }
    );
    println!("{cfg:#?}");
    Ok(Exit::Success)
}
