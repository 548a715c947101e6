//! Logging to stderr through `tracing`, with the level taken from `KYC_KIOSK_LOG`
//! (or `RUST_LOG`) by the caller at the edge.
//!
//! Policy: no secret and no personal data is ever logged. Secrets are
//! [`crate::config::Secret`] values that print `***`; customer data (names,
//! document fields, images) is logged only as sizes or counts. Identifiers that
//! are not personal (scanRef, error codes) may be logged.

use tracing_subscriber::EnvFilter;

/// Install the global subscriber. `filter` is a directive such as `info` or
/// `kyc_kiosk=debug`; an invalid directive falls back to `info` with a warning.
/// Calling it twice is harmless (the second call does nothing).
pub fn init(filter: Option<&str>) {
    let directive = filter.unwrap_or("info");
    let (env_filter, bad) = match EnvFilter::try_new(directive) {
        Ok(f) => (f, false),
        Err(_) => (EnvFilter::new("info"), true),
    };
    let installed = tracing_subscriber::fmt()
        .with_env_filter(env_filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init()
        .is_ok();
    if installed && bad {
        tracing::warn!("invalid log filter, using `info`");
    }
}
