//! Image-quality prechecks. Pure functions over pixel buffers; no camera, no
//! async, no file I/O (decoding of untrusted bytes is bounded here too).

/// An image could not be decoded, or was refused before decoding.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("not a supported image: {0}")]
    Unsupported(String),
}
