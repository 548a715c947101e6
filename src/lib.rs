//! kyc-kiosk: the core of an in-person identity-verification kiosk for iDenfy.
//!
//! The core never mentions Tauri: the desktop shell (`src-tauri/`) and the CLI
//! (`src/bin/kyc-kiosk/`) both drive these modules and only translate their
//! types for a screen or a terminal.

/// The kiosk's client for the back-office relay (`kyc-kiosk-relay`): outbound HTTPS only.
pub mod backoffice;
/// Camera devices (nokhwa), the demo source, the frame pipeline and JPEG encoding.
pub mod camera;
/// What the kiosk photographs: the camera role and the accepted document types (a leaf).
pub mod capture;
/// Typed, validated configuration: file + environment, read once at the edge.
pub mod config;
/// ISO 3166-1 alpha-2 country codes as iDenfy accepts them (a leaf module).
pub mod country;
/// Where the document and the faces are in a frame: pure detectors, no I/O.
pub mod detect;
/// The iDenfy production API root, shared by `config` and `idenfy` (a leaf module).
pub mod endpoint;
/// The crate error and its stable, serializable [`error::ErrorCode`].
pub mod error;
/// Framing rules (where the document or the face must be) and the document
/// crop of a still: pure, over the detectors' results.
pub mod framing;
/// Fuzz entry points: every parser of untrusted bytes, made total (tests and `fuzz/` only).
#[cfg(feature = "testing")]
pub mod fuzzing;
/// Process-level protection: core dumps off.
pub mod hardening;
/// Typed client for the iDenfy REST API, its models and the webhook receiver.
pub mod idenfy;
/// Logging set-up shared by the CLI and the desktop shell.
pub mod logging;
/// Image-quality prechecks: pure functions over pixels, no I/O, no async.
pub mod quality;
/// Local emulator of the iDenfy API (axum), the embedded default backend.
pub mod sandbox;
/// [`secret::Secret`]: a value that never prints and is zeroed on drop (a leaf module).
pub mod secret;
/// The verification flow: a pure transition function plus a thin async driver.
pub mod session;
/// Staff functions: the PIN gate, the settings file, API secrets in the OS keyring,
/// and the console that holds them with the staff screen's rules.
pub mod staff;
/// HTTP request bodies with customer data that wipe themselves once sent (a leaf).
pub mod wipe;

pub use error::{Error, ErrorCode};
