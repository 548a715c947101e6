//! kyc-kiosk: the core of an in-person identity-verification kiosk for iDenfy.
//!
//! The core never mentions Tauri: the desktop shell (`src-tauri/`) and the CLI
//! (`src/bin/kyc-kiosk/`) both drive these modules and only translate their
//! types for a screen or a terminal.

/// The kiosk's client for the back-office relay (`kyc-kiosk-relay`): outbound HTTPS only.
pub mod backoffice;
/// Camera devices (nokhwa), the demo source, the frame pipeline and JPEG encoding.
pub mod camera;
/// Typed, validated configuration: file + environment, read once at the edge.
pub mod config;
/// The crate error and its stable, serializable [`error::ErrorCode`].
pub mod error;
/// Typed client for the iDenfy REST API, its models and the webhook receiver.
pub mod idenfy;
/// Logging set-up shared by the CLI and the desktop shell.
pub mod logging;
/// Image-quality prechecks: pure functions over pixels, no I/O, no async.
pub mod quality;
/// Local emulator of the iDenfy API (axum), the embedded default backend.
pub mod sandbox;
/// The verification flow: a pure transition function plus a thin async driver.
pub mod session;
/// Staff functions: the PIN gate, the settings file, API secrets in the OS keyring.
pub mod staff;

pub use error::{Error, ErrorCode};
