//! Staff-only functions of the kiosk: the PIN that guards them, the settings
//! screen's file, the API secrets kept in the OS keyring, and the
//! [`Console`] that puts them together with the rules of the staff screen.
//!
//! Nothing here knows about windows or commands: the desktop shell calls the
//! [`Console`] from each staff command and turns these errors into codes.
//! The wrong-PIN count and pause are kept across restarts in [`attempts`].

pub mod attempts;
pub mod console;
pub mod pin;
pub mod secrets;
pub mod settings;

pub use console::{Console, SecretFlags, SecretsForm, SettingsForm, Setup, Status};
pub use pin::{Gate, GateState, PinHash};
pub use secrets::{KeyringStore, MemoryStore, SecretName, SecretStore};
pub use settings::StaffFile;

use crate::ErrorCode;

/// What can go wrong in a staff action. Messages never contain a PIN or a
/// secret value.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The PIN has the wrong shape (a new one must be 6 to 12 digits).
    #[error("the PIN must be 6 to 12 digits")]
    PinFormat,
    /// The PIN did not match.
    #[error("wrong PIN ({attempts_left} attempts left before a pause)")]
    PinWrong { attempts_left: u32 },
    /// Too many wrong PINs: staff functions pause.
    #[error("too many wrong PINs: try again in {seconds} s")]
    PinLocked { seconds: u64 },
    /// The action needs the staff PIN first (or the unlock timed out).
    #[error("this needs the staff PIN")]
    StaffOnly,
    /// This kiosk starts a session only with the staff PIN or staff
    /// functions open (`[kiosk] start_requires_staff`).
    #[error("a staff member must enter the PIN to start a session")]
    StartNeedsStaff,
    /// No PIN has been set yet; the first staff visit sets one.
    #[error("no staff PIN is set yet")]
    NoPin,
    /// A settings value or a secret failed validation (names the field).
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// The OS keyring cannot be used (locked, absent, refused).
    #[error("the OS keyring is not available: {reason}")]
    Keyring { reason: String },
    /// The settings file could not be read or written.
    #[error("settings file {path}: {reason}")]
    File { path: String, reason: String },
    /// Hashing failed (should not happen; details are not secret).
    #[error("PIN hashing failed: {0}")]
    Hash(String),
    /// Staff functions wait until the customer's session is over.
    #[error("finish or cancel the customer's session first")]
    SessionOpen,
    /// There is nowhere to save the settings file.
    #[error("this system has no configuration directory; set KYC_KIOSK_CONFIG")]
    NoConfigDir,
    /// The secrets form was sent without a value.
    #[error("type at least one value to store")]
    NothingToStore,
    /// The UI has no string catalog for this language.
    #[error("no catalog for `{language}`")]
    NoCatalog { language: String },
}

impl Error {
    /// The stable code the UI branches on.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::PinFormat
            | Self::Invalid { .. }
            | Self::NothingToStore
            | Self::NoCatalog { .. } => ErrorCode::InvalidInput,
            Self::PinWrong { .. } => ErrorCode::PinWrong,
            Self::PinLocked { .. } => ErrorCode::PinLocked,
            Self::StaffOnly | Self::NoPin => ErrorCode::StaffOnly,
            Self::StartNeedsStaff => ErrorCode::StartNeedsStaff,
            Self::Keyring { .. } => ErrorCode::KeyringUnavailable,
            Self::File { .. } | Self::NoConfigDir => ErrorCode::Config,
            Self::SessionOpen => ErrorCode::InvalidState,
            Self::Hash(_) => ErrorCode::Internal,
        }
    }

    /// The form field the error is about, if any.
    #[must_use]
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::PinFormat | Self::PinWrong { .. } => Some("pin"),
            Self::StartNeedsStaff => Some("staffPin"),
            Self::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}
