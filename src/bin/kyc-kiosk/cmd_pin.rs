//! `kyc-kiosk pin-hash`: the Argon2id hash of a staff PIN read from standard
//! input, for provisioning kiosks (`[kiosk] staff_pin_hash` in config.toml)
//! without visiting each one's staff screen. The PIN is never an argument
//! (it would show in the process list and the shell history).

use std::io::BufRead;

use zeroize::Zeroizing;

use crate::exit::Exit;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: &Args) -> anyhow::Result<Exit> {
    let mut line = Zeroizing::new(String::new());
    std::io::stdin().lock().read_line(&mut line)?;
    let pin = line.trim_end_matches(['\r', '\n']);
    kyc_kiosk::staff::pin::validate_new(pin)?;
    let hash = kyc_kiosk::staff::pin::hash(pin)?;
    println!("staff_pin_hash = \"{}\"", hash.as_str());
    Ok(Exit::Success)
}
