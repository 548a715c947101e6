//! Shared application state handed to commands.

use kyc_kiosk::config::Config;

/// What the commands need: the validated configuration (secrets stay here,
/// in Rust; no command ever returns them).
pub struct AppState {
    pub config: Config,
}

impl AppState {
    pub fn new(config: Config) -> Self {
        Self { config }
    }
}
