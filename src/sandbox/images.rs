//! The one place where the sandbox verdict and `kyc-kiosk verify`'s precheck
//! judge an image.
//!
//! [`inspect`] is `quality::assess_encoded` (bounded decode, then the full
//! still check) in the shape the sandbox verdict and the CLI use.

use std::io::Cursor;

use image::{DynamicImage, ImageReader, Limits};

/// Largest accepted side, in pixels, of an image we decode.
pub const MAX_SIDE: u32 = 10_000;
/// Largest allocation a decode may make.
pub const MAX_ALLOC: u64 = 512 * 1024 * 1024;
/// Smallest usable image: below this, nothing can be read from a document.
pub const MIN_WIDTH: u32 = 320;
/// See [`MIN_WIDTH`].
pub const MIN_HEIGHT: u32 = 200;

/// A problem an image has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Issue {
    Blurry,
    Glare,
    TooDark,
    TooBright,
    TooSmall,
}

impl Issue {
    /// A sentence staff can act on.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::Blurry => "the image is blurry (no sharp edges)",
            Self::Glare => "part of the image is washed out by glare",
            Self::TooDark => "the image is too dark",
            Self::TooBright => "the image is too bright",
            Self::TooSmall => "the image is too small (at least 320x200 pixels)",
        }
    }
}

/// What [`inspect`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageReport {
    pub width: u32,
    pub height: u32,
    pub issues: Vec<Issue>,
}

impl ImageReport {
    /// True when the image has no issue.
    #[must_use]
    pub fn is_ok(&self) -> bool {
        self.issues.is_empty()
    }
}

/// Decode `bytes` (PNG or JPEG) within bounds and judge its quality.
///
/// # Errors
/// A sentence when the bytes are not a supported image, or when the image is
/// larger than [`MAX_SIDE`] per side or would need more than [`MAX_ALLOC`].
pub fn inspect(bytes: &[u8]) -> Result<ImageReport, String> {
    let a = crate::quality::assess_encoded(bytes).map_err(|e| e.to_string())?;
    let issues = a
        .issues
        .iter()
        .map(|i| match i {
            crate::quality::Issue::Blurry => Issue::Blurry,
            crate::quality::Issue::Glare => Issue::Glare,
            crate::quality::Issue::TooDark => Issue::TooDark,
            crate::quality::Issue::TooBright => Issue::TooBright,
            crate::quality::Issue::TooSmall => Issue::TooSmall,
        })
        .collect();
    Ok(ImageReport {
        width: a.width,
        height: a.height,
        issues,
    })
}

/// Decode within the bounds above (used by [`inspect`] and by the client
/// when it must re-encode images smaller).
///
/// # Errors
/// As for [`inspect`].
pub fn decode(bytes: &[u8]) -> Result<DynamicImage, String> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| format!("cannot read the image: {e}"))?;
    if reader.format().is_none() {
        return Err("not a PNG or JPEG image".to_owned());
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => {
            format!("the image is larger than {MAX_SIDE}x{MAX_SIDE} pixels or too large to decode")
        }
        other => format!("cannot decode the image: {other}"),
    })
}

/// Synthetic images with known truth, for tests here and in the integration
/// tests (a sharp "document", a blurred one, a dark one...).
pub mod synth {
    use image::{ImageFormat, Rgb, RgbImage};

    /// A sharp card-like image: mid-grey background with dark "text" bars.
    #[must_use]
    pub fn sharp(width: u32, height: u32) -> RgbImage {
        RgbImage::from_fn(width, height, |x, y| {
            let text = (y / 6) % 3 == 0 && (x / 9) % 4 != 3;
            if text {
                Rgb([30, 30, 40])
            } else {
                Rgb([170, 175, 165])
            }
        })
    }

    /// The sharp card, out of focus (a strong Gaussian blur).
    #[must_use]
    pub fn blurry(width: u32, height: u32) -> RgbImage {
        image::imageops::blur(&sharp(width, height), 8.0)
    }

    /// A sharp image at a tenth of the brightness.
    #[must_use]
    pub fn dark(width: u32, height: u32) -> RgbImage {
        let mut img = sharp(width, height);
        for p in img.pixels_mut() {
            for c in &mut p.0 {
                *c /= 10;
            }
        }
        img
    }

    /// Pseudo-random noise (incompressible): for size tests.
    #[must_use]
    pub fn noise(width: u32, height: u32, seed: u32) -> RgbImage {
        let mut s = seed.wrapping_mul(2_654_435_761).max(1);
        RgbImage::from_fn(width, height, |_, _| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            let b = s.to_le_bytes();
            Rgb([b[0], b[1], b[2]])
        })
    }

    /// Encode as PNG.
    #[must_use]
    pub fn png(img: &RgbImage) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png)
            .expect("PNG encoding into memory cannot fail");
        out.into_inner()
    }

    /// Encode as JPEG (quality 90).
    #[must_use]
    pub fn jpeg(img: &RgbImage) -> Vec<u8> {
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
            .encode_image(img)
            .expect("JPEG encoding into memory cannot fail");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::synth::*;
    use super::*;

    #[test]
    fn sharp_document_passes() {
        let r = inspect(&jpeg(&sharp(1200, 760))).unwrap();
        assert_eq!((r.width, r.height), (1200, 760));
        assert!(r.is_ok(), "{r:?}");
    }

    #[test]
    fn known_defects_are_found() {
        assert_eq!(
            inspect(&png(&blurry(1200, 760))).unwrap().issues,
            vec![Issue::Blurry]
        );
        assert!(inspect(&png(&dark(1200, 760)))
            .unwrap()
            .issues
            .contains(&Issue::TooDark));
        assert_eq!(
            inspect(&png(&sharp(200, 120))).unwrap().issues,
            vec![Issue::TooSmall]
        );
        let white = image::RgbImage::from_pixel(800, 600, image::Rgb([255, 255, 255]));
        assert!(inspect(&png(&white))
            .unwrap()
            .issues
            .contains(&Issue::TooBright));
        // A washed-out spot in the middle of the card (not the background).
        let mut glare = sharp(800, 600);
        for y in 0..600i32 {
            for x in 0..800i32 {
                if (x - 400).pow(2) + (y - 300).pow(2) < 120i32.pow(2) {
                    glare.put_pixel(x as u32, y as u32, image::Rgb([255, 255, 255]));
                }
            }
        }
        assert_eq!(inspect(&png(&glare)).unwrap().issues, vec![Issue::Glare]);
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut c = 0xFFFF_FFFFu32;
        for &b in bytes {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 == 1 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }

    #[test]
    fn garbage_and_oversized_images_are_refused_not_panicking() {
        assert!(inspect(b"").is_err());
        assert!(inspect(b"not an image at all").is_err());
        let mut truncated = png(&sharp(400, 300));
        truncated.truncate(truncated.len() / 2);
        assert!(inspect(&truncated).is_err());
        // A PNG header claiming 20000x20000 pixels must be refused before decoding.
        let mut huge = png(&sharp(1, 1));
        huge[16..20].copy_from_slice(&20_000u32.to_be_bytes());
        huge[20..24].copy_from_slice(&20_000u32.to_be_bytes());
        // Keep the header chunk valid (its CRC covers type and data).
        let crc = crc32(&huge[12..29]);
        huge[29..33].copy_from_slice(&crc.to_be_bytes());
        let err = inspect(&huge).unwrap_err();
        assert!(err.contains("20000"), "refused for its size: {err}");
    }
}
