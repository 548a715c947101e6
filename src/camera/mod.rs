//! Cameras: the only module that imports nokhwa. A [`FrameSource`] trait with
//! the native source and a demo source, the latest-frame pipeline, preview
//! frames and JPEG encoding for submission.

use crate::error::ErrorCode;

/// Camera errors, each mapped to a stable code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no camera found")]
    NoCamera,
}

impl Error {
    /// The stable code a UI or script branches on.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::NoCamera => ErrorCode::CameraUnavailable,
        }
    }
}
