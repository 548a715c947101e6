//! The verification flow: a pure transition function (state + event -> state +
//! effects) and a thin async driver that performs the effects. The UI and the
//! CLI both drive it; neither re-implements the flow.

use crate::error::ErrorCode;

/// Session errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("`{event}` does not apply in state `{state}`")]
    InvalidState { state: String, event: String },
}

impl Error {
    /// The stable code a UI or script branches on.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidState { .. } => ErrorCode::InvalidState,
        }
    }
}
