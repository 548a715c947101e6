//! Cameras: the only module that imports nokhwa. A [`FrameSource`] trait with
//! the native source and a demo source, the latest-frame [`Pipeline`], preview
//! frames, JPEG encoding of stills sized for submission ([`encode_still`]), a
//! [`watchdog`] on real cameras' frame reads and a [`probe`] of each
//! connected camera. `faulty`, a camera that fails on purpose, exists for
//! tests only (the `testing` feature).
//!
//! It owns devices, frames and their encoding; it knows nothing of sessions
//! or the screen, and of the API only its request size limit (the budget of
//! [`SubmissionLimits`]). Image-quality judgement is passed in as an analyser.

pub mod convert;
pub mod demo;
pub mod devices;
pub mod encode;
#[cfg(any(test, feature = "testing"))]
pub mod faulty;
pub mod frame;
#[cfg(feature = "native-camera")]
pub mod native;
pub mod pipeline;
pub mod probe;
pub mod source;
pub mod watchdog;

pub use convert::{Converter, RawFormat};
pub use demo::{DemoControl, DemoScene, DemoSource};
pub use devices::{
    list_devices, opener_for_role, DeviceInfo, DeviceList, FormatInfo, OpenRequest, Role,
};
pub use encode::{encode_jpeg, encode_still, Rotation, SubmissionImage, SubmissionLimits};
pub use frame::Frame;
pub use pipeline::{
    CameraStatus, Opener, Pipeline, PipelineConfig, PipelineStats, Preview, Verdict,
};
pub use source::{FrameSource, SourceInfo};

use crate::error::ErrorCode;

/// Camera errors, each mapped to a stable code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No camera is connected (or the OS lists none).
    #[error("no camera found")]
    NoCamera,
    /// The configured camera is not among those connected.
    #[error("camera `{wanted}` not found (connected: {available})")]
    NotFound { wanted: String, available: String },
    /// Another program holds the device.
    #[error("camera {device} is in use by another program")]
    Busy { device: String },
    /// The OS refused access (video group, privacy settings).
    #[error("access to camera {device} was denied by the operating system")]
    PermissionDenied { device: String },
    /// The device stopped delivering frames (unplugged, driver reset).
    #[error("camera {device} stopped delivering frames: {reason}")]
    Lost { device: String, reason: String },
    /// The device offers no format or resolution we can use.
    #[error("camera {device} offers no usable format (offers: {offered})")]
    FormatUnsupported { device: String, offered: String },
    /// Opening or querying the device failed for another reason.
    #[cfg(feature = "native-camera")]
    #[error("camera {device}: {source}")]
    Open {
        device: String,
        #[source]
        source: nokhwa::NokhwaError,
    },
    /// A frame's data did not match its format (corrupt or truncated).
    #[error("bad {format} frame: {detail}")]
    BadFrame { format: RawFormat, detail: String },
    /// The demo camera's files are missing or unreadable.
    #[error("demo camera file {path}: {detail}")]
    Demo {
        path: std::path::PathBuf,
        detail: String,
    },
    /// JPEG encoding failed.
    #[error("JPEG encoding failed: {detail}")]
    Encode { detail: String },
    /// A still cannot fit its share of the request even at the lowest
    /// quality and the smallest size.
    #[error("images need {needed} bytes but a request allows {limit}")]
    TooLarge { needed: usize, limit: usize },
    /// No frame arrived in time.
    #[error("no frame from camera {device} within {waited_ms} ms")]
    NoFrame { device: String, waited_ms: u64 },
    /// The pipeline was stopped.
    #[error("the camera pipeline is stopped")]
    Stopped,
}

impl Error {
    /// The stable code a UI or script branches on.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::NoCamera | Self::NotFound { .. } | Self::Demo { .. } => {
                ErrorCode::CameraUnavailable
            }
            #[cfg(feature = "native-camera")]
            Self::Open { .. } => ErrorCode::CameraUnavailable,
            Self::Busy { .. } => ErrorCode::CameraBusy,
            Self::PermissionDenied { .. } => ErrorCode::CameraPermissionDenied,
            Self::Lost { .. } | Self::NoFrame { .. } => ErrorCode::CameraLost,
            Self::FormatUnsupported { .. } | Self::BadFrame { .. } => {
                ErrorCode::CameraFormatUnsupported
            }
            Self::Encode { .. } => ErrorCode::Internal,
            Self::TooLarge { .. } => ErrorCode::InvalidInput,
            Self::Stopped => ErrorCode::InvalidState,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_device_failure_has_its_own_code() {
        let d = || "cam0".to_owned();
        assert_eq!(Error::NoCamera.code(), ErrorCode::CameraUnavailable);
        assert_eq!(Error::Busy { device: d() }.code(), ErrorCode::CameraBusy);
        assert_eq!(
            Error::PermissionDenied { device: d() }.code(),
            ErrorCode::CameraPermissionDenied
        );
        assert_eq!(
            Error::Lost {
                device: d(),
                reason: "x".into()
            }
            .code(),
            ErrorCode::CameraLost
        );
        assert_eq!(
            Error::FormatUnsupported {
                device: d(),
                offered: "GRAY".into()
            }
            .code(),
            ErrorCode::CameraFormatUnsupported
        );
    }
}
