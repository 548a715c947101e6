//! Bounded decoding of untrusted image bytes (JPEG, PNG).
//!
//! The header is read first and the dimensions checked before any pixel
//! buffer exists, so a decompression bomb (a tiny file announcing a huge
//! image) is refused without allocating for it. The decoder itself also runs
//! under an allocation limit.

use std::io::Cursor;

use image::{ImageFormat, ImageReader, Limits};

use super::thresholds as t;
use super::DecodeError;

/// A decoded RGB8 frame, tightly packed.
#[derive(Debug)]
pub struct Decoded {
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<u8>,
}

fn limits() -> Limits {
    let mut l = Limits::default();
    l.max_image_width = Some(t::MAX_DECODE_SIDE);
    l.max_image_height = Some(t::MAX_DECODE_SIDE);
    l.max_alloc = Some(t::MAX_DECODE_ALLOC);
    l
}

/// A reader over the bytes, with its sniffed format.
type Reader<'a> = (ImageReader<Cursor<&'a [u8]>>, ImageFormat);

fn reader(bytes: &[u8]) -> Result<Reader<'_>, DecodeError> {
    let r = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| DecodeError::Malformed {
            detail: e.to_string(),
        })?;
    match r.format() {
        Some(f @ (ImageFormat::Jpeg | ImageFormat::Png)) => Ok((r, f)),
        Some(other) => Err(DecodeError::Unsupported {
            format: format!("{other:?}"),
        }),
        None => Err(DecodeError::UnknownFormat),
    }
}

/// Decode JPEG or PNG bytes into RGB8, within the limits of
/// [`super::thresholds`].
///
/// # Errors
/// [`DecodeError::Empty`], [`DecodeError::TooLarge`] (file or announced
/// dimensions over the limits: decompression bombs end here),
/// [`DecodeError::UnknownFormat`] / [`DecodeError::Unsupported`] (not a JPEG or
/// PNG), [`DecodeError::Malformed`] (truncated or corrupt data).
pub fn decode_bounded(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    if bytes.len() > t::MAX_ENCODED_BYTES {
        return Err(DecodeError::FileTooLarge {
            bytes: bytes.len(),
            limit: t::MAX_ENCODED_BYTES,
        });
    }
    let (r, format) = reader(bytes)?;
    let (width, height) = r.into_dimensions().map_err(|e| malformed(&e))?;
    let pixels = u64::from(width) * u64::from(height);
    if width == 0 || height == 0 {
        return Err(DecodeError::Malformed {
            detail: format!("{format:?} announces a {width}x{height} image"),
        });
    }
    if width > t::MAX_DECODE_SIDE || height > t::MAX_DECODE_SIDE || pixels > t::MAX_DECODE_PIXELS {
        return Err(DecodeError::TooLarge {
            width,
            height,
            max_pixels: t::MAX_DECODE_PIXELS,
            max_side: t::MAX_DECODE_SIDE,
        });
    }
    let (mut r, _) = reader(bytes)?;
    r.limits(limits());
    let img = r.decode().map_err(|e| malformed(&e))?;
    let rgb = img.into_rgb8();
    let (width, height) = rgb.dimensions();
    Ok(Decoded {
        width,
        height,
        rgb: rgb.into_raw(),
    })
}

fn malformed(e: &image::ImageError) -> DecodeError {
    match e {
        image::ImageError::Limits(_) => DecodeError::LimitExceeded {
            detail: e.to_string(),
        },
        _ => DecodeError::Malformed {
            detail: e.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::quality::synth;

    fn png(w: u32, h: u32) -> Vec<u8> {
        synth::png(&image::RgbImage::from_pixel(w, h, image::Rgb([10, 20, 30])))
    }

    #[test]
    fn decodes_a_png() {
        let d = decode_bounded(&png(5, 3)).unwrap();
        assert_eq!((d.width, d.height, d.rgb.len()), (5, 3, 45));
        assert_eq!(&d.rgb[..3], &[10, 20, 30]);
    }

    #[test]
    fn empty_and_garbage_are_refused() {
        assert!(matches!(decode_bounded(&[]), Err(DecodeError::Empty)));
        assert!(matches!(
            decode_bounded(b"hello, not an image"),
            Err(DecodeError::UnknownFormat)
        ));
    }

    #[test]
    fn truncated_png_is_malformed() {
        let p = png(64, 64);
        let cut = &p[..p.len() / 2];
        assert!(matches!(
            decode_bounded(cut),
            Err(DecodeError::Malformed { .. })
        ));
    }

    #[test]
    fn bomb_header_is_refused_before_decoding() {
        let p = synth::png_announcing(60_000, 60_000);
        match decode_bounded(&p) {
            Err(DecodeError::TooLarge { width, height, .. }) => {
                assert_eq!((width, height), (60_000, 60_000));
            }
            other => panic!("{other:?}"),
        }
    }
}
