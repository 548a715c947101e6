//! Typed client for the iDenfy REST API (`/api/v2/...`), its models, request
//! validation, and the webhook receiver with signature verification.
//! No UI, no camera; the sandbox reuses these models.

pub mod country;

use crate::error::ErrorCode;

/// What can go wrong talking to iDenfy.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request field failed a documented constraint before sending.
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
}

impl Error {
    /// The stable code a UI or script branches on.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Invalid { .. } => ErrorCode::InvalidInput,
        }
    }
}
