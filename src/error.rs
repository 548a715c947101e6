//! The crate error and the stable [`ErrorCode`] that the UI and the CLI branch on.
//!
//! Messages are for people; codes are for programs. A caller never parses a
//! message: it matches the code, and shows the message.

use serde::{Deserialize, Serialize};

/// A small, stable set of error kinds. Serialized in `SCREAMING_SNAKE_CASE`;
/// renaming a variant is a breaking change for the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// The configuration is invalid (the message names the field).
    Config,
    /// The live API is required (chosen, or kiosk mode) and its credentials
    /// are missing: the kiosk does not start (never the sandbox instead).
    CredentialsMissing,
    /// Input given by staff or the caller failed validation (the message names the field).
    InvalidInput,
    /// No camera is present or the chosen one cannot be found.
    CameraUnavailable,
    /// The camera is in use by another program.
    CameraBusy,
    /// The operating system refused access to the camera.
    CameraPermissionDenied,
    /// The camera stopped delivering frames (for example it was unplugged).
    CameraLost,
    /// The camera offers no format or resolution we can use.
    CameraFormatUnsupported,
    /// An image file or frame could not be decoded, or is too large to decode safely.
    ImageUnreadable,
    /// An image failed the local quality checks and should be retaken.
    ImageRetake,
    /// iDenfy (or the sandbox) refused the request; see the message.
    ApiRejected,
    /// The API key or secret was refused.
    Unauthorized,
    /// The account has no verification credits left (HTTP 402).
    OutOfCredits,
    /// Too many requests (HTTP 429); try again later.
    RateLimited,
    /// The network failed; the request may or may not have reached iDenfy.
    Network,
    /// A response from the API could not be decoded.
    Decode,
    /// The verification token has expired.
    TokenExpired,
    /// The webhook signature did not verify.
    BadSignature,
    /// No result arrived in time.
    Timeout,
    /// The session was cancelled.
    Cancelled,
    /// A step was asked for in a state where it does not apply.
    InvalidState,
    /// The staff PIN did not match.
    PinWrong,
    /// Too many wrong PINs: staff functions pause for a while.
    PinLocked,
    /// A staff-only action without the staff PIN (or after it timed out).
    StaffOnly,
    /// This kiosk starts a session only with the staff PIN (or staff
    /// functions open): `[kiosk] start_requires_staff`.
    StartNeedsStaff,
    /// The OS keyring cannot store or read secrets.
    KeyringUnavailable,
    /// A bug or an unexpected condition; details are in the log.
    Internal,
}

impl ErrorCode {
    /// Every code (the UI's catalogs must word each one).
    pub const ALL: [Self; 27] = [
        Self::Config,
        Self::CredentialsMissing,
        Self::InvalidInput,
        Self::CameraUnavailable,
        Self::CameraBusy,
        Self::CameraPermissionDenied,
        Self::CameraLost,
        Self::CameraFormatUnsupported,
        Self::ImageUnreadable,
        Self::ImageRetake,
        Self::ApiRejected,
        Self::Unauthorized,
        Self::OutOfCredits,
        Self::RateLimited,
        Self::Network,
        Self::Decode,
        Self::TokenExpired,
        Self::BadSignature,
        Self::Timeout,
        Self::Cancelled,
        Self::InvalidState,
        Self::PinWrong,
        Self::PinLocked,
        Self::StaffOnly,
        Self::StartNeedsStaff,
        Self::KeyringUnavailable,
        Self::Internal,
    ];

    /// The code as it is serialized, for logs and the CLI's `--json` output.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Config => "CONFIG",
            Self::CredentialsMissing => "CREDENTIALS_MISSING",
            Self::InvalidInput => "INVALID_INPUT",
            Self::CameraUnavailable => "CAMERA_UNAVAILABLE",
            Self::CameraBusy => "CAMERA_BUSY",
            Self::CameraPermissionDenied => "CAMERA_PERMISSION_DENIED",
            Self::CameraLost => "CAMERA_LOST",
            Self::CameraFormatUnsupported => "CAMERA_FORMAT_UNSUPPORTED",
            Self::ImageUnreadable => "IMAGE_UNREADABLE",
            Self::ImageRetake => "IMAGE_RETAKE",
            Self::ApiRejected => "API_REJECTED",
            Self::Unauthorized => "UNAUTHORIZED",
            Self::OutOfCredits => "OUT_OF_CREDITS",
            Self::RateLimited => "RATE_LIMITED",
            Self::Network => "NETWORK",
            Self::Decode => "DECODE",
            Self::TokenExpired => "TOKEN_EXPIRED",
            Self::BadSignature => "BAD_SIGNATURE",
            Self::Timeout => "TIMEOUT",
            Self::Cancelled => "CANCELLED",
            Self::InvalidState => "INVALID_STATE",
            Self::PinWrong => "PIN_WRONG",
            Self::PinLocked => "PIN_LOCKED",
            Self::StaffOnly => "STAFF_ONLY",
            Self::StartNeedsStaff => "START_NEEDS_STAFF",
            Self::KeyringUnavailable => "KEYRING_UNAVAILABLE",
            Self::Internal => "INTERNAL",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The crate error: one variant per module that can fail, each keeping its
/// module's own typed error as the source.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Idenfy(#[from] crate::idenfy::Error),
    #[error(transparent)]
    Camera(#[from] crate::camera::Error),
    #[error(transparent)]
    Image(#[from] crate::quality::DecodeError),
    #[error(transparent)]
    Session(#[from] crate::session::Error),
    #[error(transparent)]
    Staff(#[from] crate::staff::Error),
}

impl Error {
    /// The stable code a UI or script branches on.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Config(e) => e.code(),
            Self::Idenfy(e) => e.code(),
            Self::Camera(e) => e.code(),
            Self::Image(_) => ErrorCode::ImageUnreadable,
            Self::Session(e) => e.code(),
            Self::Staff(e) => e.code(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialized_code_matches_as_str() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "{code} twice");
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }
}
