//! `kyc-kiosk config`: print the validated configuration, secrets masked and
//! the staff PIN hash left out (only whether one is set).

use std::path::PathBuf;

use crate::exit::Exit;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: &Args, path: Option<PathBuf>) -> anyhow::Result<Exit> {
    let shown = path.clone().or_else(kyc_kiosk::config::default_path);
    let mut cfg = super::load_config(path)?;
    // The hash is not a secret's mask: it can be attacked offline. Say only
    // whether it is there.
    let pin_set = cfg.kiosk.staff_pin_hash.take().is_some();
    if let Some(p) = shown {
        println!("config file: {}", p.display());
    }
    println!(
        "backend: {}",
        match &cfg.backend {
            kyc_kiosk::config::Backend::Sandbox =>
                "SANDBOX (embedded; no API credentials set)".to_string(),
            kyc_kiosk::config::Backend::Live { base_url, .. } => match cfg.backend.test_api() {
                Some(_) =>
                    format!("TEST API: {base_url} (not iDenfy's production host; credentials set)"),
                None => format!("{base_url} (credentials set)"),
            },
        }
    );
    println!(
        "staff PIN: {}",
        if pin_set {
            "set (hash not shown)"
        } else {
            "not set"
        }
    );
    println!("{cfg:#?}");
    Ok(Exit::Success)
}
