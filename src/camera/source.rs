//! The [`FrameSource`] trait: anything that delivers RGB frames one by one.

use serde::Serialize;

use super::{Error, Frame, RawFormat};

/// What a source is, for the UI and logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceInfo {
    /// Device or demo name.
    pub name: String,
    /// Frame width delivered by [`FrameSource::next_frame`].
    pub width: u32,
    /// Frame height.
    pub height: u32,
    /// Nominal frames per second.
    pub fps: u32,
    /// The raw format before conversion to RGB.
    pub format: RawFormat,
}

/// A camera or something that behaves like one. Sources are created on the
/// capture thread (by an [`super::Opener`]) and never leave it, so they need
/// not be `Send` (nokhwa's cameras are not).
pub trait FrameSource {
    /// What the source delivers.
    fn info(&self) -> &SourceInfo;

    /// Block until the next frame and return it as RGB8. `reuse` is a spent
    /// frame buffer whose allocation the source may fill (pass `Vec::new()`
    /// when there is none). The sequence number is set by the pipeline.
    ///
    /// # Errors
    /// [`Error::Lost`] when the device went away (the pipeline reopens it),
    /// [`Error::BadFrame`] for one corrupt frame (the pipeline skips it).
    fn next_frame(&mut self, reuse: Vec<u8>) -> Result<Frame, Error>;
}
