//! Synthetic images with known truth, for tests, benches and examples only
//! (behind the `testing` feature, never in a shipped build): a sharp
//! "document", the same blurred or darkened, incompressible noise for size
//! tests, and a PNG header that announces a decompression bomb.

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

/// A valid little PNG whose header (IHDR, CRC fixed up) announces `width` x
/// `height`: decoding it for real would need gigabytes, so a bounded decoder
/// must refuse it from the header alone.
#[must_use]
pub fn png_announcing(width: u32, height: u32) -> Vec<u8> {
    let mut p = png(&RgbImage::from_pixel(4, 4, Rgb([10, 20, 30])));
    // Signature (8), chunk length (4), "IHDR" (4), then width and height.
    p[16..20].copy_from_slice(&width.to_be_bytes());
    p[20..24].copy_from_slice(&height.to_be_bytes());
    // The CRC covers the chunk type and its 13 data bytes.
    let crc = crc32(&p[12..29]);
    p[29..33].copy_from_slice(&crc.to_be_bytes());
    p
}

/// CRC-32 (ISO-HDLC), as PNG chunks carry it.
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

// The still check judges each synthetic image as its name says (these were
// the sandbox's own image tests; the sandbox now uses `assess_encoded`).
#[cfg(test)]
mod tests {
    use super::*;
    use crate::quality::{assess_encoded, Issue, Verdict};

    #[test]
    fn crc_matches_the_png_encoder() {
        // The encoder's own IHDR CRC is what `png_announcing` recomputes.
        let p = png(&RgbImage::from_pixel(4, 4, Rgb([10, 20, 30])));
        assert_eq!(crc32(&p[12..29]).to_be_bytes(), p[29..33]);
    }

    #[test]
    fn sharp_document_passes() {
        let a = assess_encoded(&jpeg(&sharp(1200, 760))).unwrap();
        assert_eq!((a.width, a.height), (1200, 760));
        assert_eq!(a.verdict, Verdict::Ok, "{a:?}");
    }

    #[test]
    fn known_defects_are_found() {
        let issues = |bytes: &[u8]| assess_encoded(bytes).unwrap().issues;
        assert_eq!(issues(&png(&blurry(1200, 760))), vec![Issue::Blurry]);
        assert!(issues(&png(&dark(1200, 760))).contains(&Issue::TooDark));
        assert_eq!(issues(&png(&sharp(200, 120))), vec![Issue::TooSmall]);
        let white = RgbImage::from_pixel(800, 600, Rgb([255, 255, 255]));
        assert!(issues(&png(&white)).contains(&Issue::TooBright));
        // A washed-out spot in the middle of the card (not the background).
        let mut glare = sharp(800, 600);
        for y in 0..600i32 {
            for x in 0..800i32 {
                if (x - 400).pow(2) + (y - 300).pow(2) < 120i32.pow(2) {
                    glare.put_pixel(x as u32, y as u32, Rgb([255, 255, 255]));
                }
            }
        }
        assert_eq!(issues(&png(&glare)), vec![Issue::Glare]);
    }

    #[test]
    fn garbage_and_oversized_images_are_refused_not_panicking() {
        assert!(assess_encoded(b"").is_err());
        assert!(assess_encoded(b"not an image at all").is_err());
        let mut truncated = png(&sharp(400, 300));
        truncated.truncate(truncated.len() / 2);
        assert!(assess_encoded(&truncated).is_err());
        // A PNG header claiming 20000x20000 pixels must be refused before decoding.
        let err = assess_encoded(&png_announcing(20_000, 20_000))
            .unwrap_err()
            .to_string();
        assert!(err.contains("20000"), "refused for its size: {err}");
    }
}
