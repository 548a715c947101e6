//! Typed client for the iDenfy REST API (`/api/v2/...`), its models, request
//! validation, and the webhook receiver with signature verification.
//! No UI, no camera; the sandbox reuses these models.

mod client;
pub mod models;
pub mod validate;
pub mod webhook;

pub use client::decode as decode_json;
pub use client::{
    base64_len, check_body_size, upload_timeout, Builder, Client, ProcessOutcome, ProcessRequest,
    DEFAULT_MAX_BODY_BYTES, DEFAULT_TIMEOUT, MAX_RESPONSE_BYTES, PROCESS_JSON_HEADROOM,
    UPLOAD_FLOOR_BYTES_PER_SEC, UPLOAD_INCLUDED_BYTES,
};
/// The pure halves of answer handling, for the fuzz entry points.
#[cfg(feature = "testing")]
pub(crate) use client::{error_from_parts, process_answer};
pub use models::*;

/// The country codes, here too for the callers that name them from the API's side.
pub use crate::country;
use crate::error::ErrorCode;

/// What can go wrong talking to iDenfy.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request field failed a documented constraint before sending.
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    /// The images would make a `/process` body over the limit (counted after
    /// base64, with room for the JSON). Nothing was sent: the token is not
    /// spent.
    #[error("the images need a request of {needed} bytes, over the limit of {limit} bytes (counted after base64): send smaller images")]
    TooLarge { needed: usize, limit: usize },
    /// The API refused the request.
    #[error("iDenfy refused the request (HTTP {status}{}): {message}", identifier.as_deref().map(|i| format!(", {i}")).unwrap_or_default())]
    Api {
        status: u16,
        identifier: Option<String>,
        message: String,
    },
    /// The API key or secret was refused (HTTP 401/403).
    #[error("the API key or secret was refused (HTTP {status})")]
    Unauthorized { status: u16 },
    /// The account has no verification credits left (HTTP 402).
    #[error("the iDenfy account has no verification credits left: {message}")]
    OutOfCredits { message: String },
    /// Too many requests (HTTP 429). Refused before any processing: for
    /// `/process` the token is not spent, and the same call may be made later.
    #[error("too many requests to iDenfy; retry after {}", retry_after_secs.map_or_else(|| "a while".to_owned(), |s| format!("{s} s")))]
    RateLimited { retry_after_secs: Option<u64> },
    /// The network failed before a response arrived. For `/process` this
    /// variant means the request never left (connection refused): the token
    /// is not spent.
    #[error("network error calling {endpoint}: {source}")]
    Transport {
        endpoint: &'static str,
        #[source]
        source: reqwest::Error,
    },
    /// The response body did not decode; `path` names the JSON path.
    #[error("cannot decode the answer of {endpoint} at `{path}`: {message}")]
    Decode {
        endpoint: &'static str,
        path: String,
        message: String,
    },
    /// `/process` answered 200 with an error body: usually the document was
    /// not detected in the photo. Retake, or resend with `skipAnalysis`.
    #[error("iDenfy could not process the images: {message}")]
    NotProcessed {
        identifier: Option<String>,
        message: String,
    },
    /// `/process` may or may not have been received (timeout, connection
    /// reset after sending, any 5xx, a 200 that is not the API's JSON, an
    /// answer too large to read), and the one `/status` check that followed
    /// did not show it was. `status` is what `/status` said, when it answered.
    /// The token may be spent: do not resend blindly.
    #[error("the outcome of the submission for {scan_ref} is unknown ({detail}); status: {}", status.as_ref().map_or("unavailable", OverallStatus::as_str))]
    OutcomeUnknown {
        scan_ref: ScanRef,
        status: Option<OverallStatus>,
        detail: String,
    },
}

impl Error {
    /// The stable code a UI or script branches on.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Invalid { .. } | Self::TooLarge { .. } => ErrorCode::InvalidInput,
            Self::Api { .. } | Self::NotProcessed { .. } => ErrorCode::ApiRejected,
            Self::Unauthorized { .. } => ErrorCode::Unauthorized,
            Self::OutOfCredits { .. } => ErrorCode::OutOfCredits,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::Transport { .. } | Self::OutcomeUnknown { .. } => ErrorCode::Network,
            Self::Decode { .. } => ErrorCode::Decode,
        }
    }

    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}
