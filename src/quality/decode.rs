//! Bounded decoding of untrusted image bytes (JPEG, PNG).
//!
//! The header is read first and the dimensions checked before any pixel
//! buffer exists, so a decompression bomb (a tiny file announcing a huge
//! image) is refused without allocating for it. The decoder itself also runs
//! under an allocation limit.
//!
//! Decoding is strict: an image cut short or with corrupt data is
//! unreadable, never "mostly there". A JPEG goes through libjpeg-turbo, which
//! reports a premature end or corrupt entropy-coded data as a warning (and
//! fills the rest with grey); a warning fails the decode. (The `image`
//! crate's JPEG decoder accepts such files silently.) A PNG has every
//! chunk's CRC checked, ancillary chunks included, and must reach `IEND`.

use std::io::Cursor;

use image::{ImageFormat, ImageReader, Limits};
use zeroize::Zeroizing;

use super::thresholds as t;
use super::DecodeError;

/// A decoded RGB8 frame, tightly packed. The pixels are wiped on drop (a
/// still is the customer's document or face).
pub struct Decoded {
    pub width: u32,
    pub height: u32,
    pub rgb: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Decoded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Decoded({}x{})", self.width, self.height)
    }
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
    if format == ImageFormat::Jpeg {
        return decode_jpeg(bytes, width, height);
    }
    check_png_chunks(bytes)?;
    let (mut r, _) = reader(bytes)?;
    r.limits(limits());
    let img = r.decode().map_err(|e| malformed(&e))?;
    let (width, height) = (img.width(), img.height());
    Ok(Decoded {
        width,
        height,
        rgb: into_rgb_wiped(img),
    })
}

/// The RGB8 pixels of `img`; a buffer in another layout is converted, then
/// wiped (it holds the same picture).
fn into_rgb_wiped(img: image::DynamicImage) -> Zeroizing<Vec<u8>> {
    use image::DynamicImage as D;
    use zeroize::Zeroize as _;
    match img {
        D::ImageRgb8(rgb) => Zeroizing::new(rgb.into_raw()),
        mut other => {
            let rgb = Zeroizing::new(other.to_rgb8().into_raw());
            match &mut other {
                D::ImageLuma8(b) => (**b).zeroize(),
                D::ImageLumaA8(b) => (**b).zeroize(),
                D::ImageRgba8(b) => (**b).zeroize(),
                D::ImageLuma16(b) => (**b).zeroize(),
                D::ImageLumaA16(b) => (**b).zeroize(),
                D::ImageRgb16(b) => (**b).zeroize(),
                D::ImageRgba16(b) => (**b).zeroize(),
                D::ImageRgb32F(b) => (**b).zeroize(),
                D::ImageRgba32F(b) => (**b).zeroize(),
                _ => {}
            }
            rgb
        }
    }
}

/// Strict JPEG decoding with libjpeg-turbo: any warning (premature end of
/// data, corrupt Huffman data, extraneous bytes before a marker) fails it.
fn decode_jpeg(bytes: &[u8], width: u32, height: u32) -> Result<Decoded, DecodeError> {
    let corrupt = |e: turbojpeg::Error| DecodeError::Malformed {
        detail: format!("JPEG: {e}"),
    };
    let mut dec = turbojpeg::Decompressor::new().map_err(corrupt)?;
    let header = dec.read_header(bytes).map_err(corrupt)?;
    if (header.width, header.height) != (width as usize, height as usize) {
        return Err(DecodeError::Malformed {
            detail: format!(
                "JPEG headers disagree on the size ({width}x{height} and {}x{})",
                header.width, header.height
            ),
        });
    }
    let (w, h) = (header.width, header.height);
    let cmyk = matches!(
        header.colorspace,
        turbojpeg::Colorspace::CMYK | turbojpeg::Colorspace::YCCK
    );
    // TurboJPEG cannot convert CMYK to RGB: decode to CMYK, convert here.
    let (format, channels) = if cmyk {
        (turbojpeg::PixelFormat::CMYK, 4)
    } else {
        (turbojpeg::PixelFormat::RGB, 3)
    };
    // Within the limits checked from the header: at most 50 MP x 4 bytes.
    let mut pixels = Zeroizing::new(vec![0u8; w * h * channels]);
    let image = turbojpeg::Image {
        pixels: pixels.as_mut_slice(),
        width: w,
        pitch: w * channels,
        height: h,
        format,
    };
    // libjpeg-turbo finishes the image after a warning (grey where data was
    // missing) but TurboJPEG still returns an error for it, which is what we
    // want: such a photo must be retaken, not sent.
    dec.decompress(bytes, image).map_err(corrupt)?;
    let rgb = if cmyk {
        // Adobe CMYK JPEGs store inverted values: 255 is no ink.
        let mut rgb = Zeroizing::new(Vec::with_capacity(w * h * 3));
        for px in pixels.chunks_exact(4) {
            let k = u16::from(px[3]);
            for &c in &px[..3] {
                rgb.push(((u16::from(c) * k + 127) / 255) as u8);
            }
        }
        rgb
    } else {
        pixels
    };
    Ok(Decoded { width, height, rgb })
}

/// Walks a PNG's chunks: each must be whole, with a matching CRC, up to
/// `IEND`. The PNG decoder skips ancillary chunks whose CRC fails and
/// ignores the zlib checksum; a damaged file is refused here instead.
fn check_png_chunks(bytes: &[u8]) -> Result<(), DecodeError> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    let bad = |detail: String| DecodeError::Malformed {
        detail: format!("PNG: {detail}"),
    };
    let mut rest = bytes
        .strip_prefix(SIGNATURE)
        .ok_or_else(|| bad("no PNG signature".to_owned()))?;
    loop {
        let Some((head, after)) = rest.split_first_chunk::<8>() else {
            return Err(bad("ends before IEND (truncated)".to_owned()));
        };
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let kind = &head[4..8];
        let name = String::from_utf8_lossy(kind).into_owned();
        if after.len() < len.saturating_add(4) {
            return Err(bad(format!("chunk {name} is cut short (truncated)")));
        }
        let (data, after) = after.split_at(len);
        let (crc, after) = after.split_at(4);
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(kind);
        hasher.update(data);
        if hasher.finalize() != u32::from_be_bytes([crc[0], crc[1], crc[2], crc[3]]) {
            return Err(bad(format!("CRC error in chunk {name}")));
        }
        if kind == b"IEND" {
            return Ok(());
        }
        rest = after;
    }
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

    fn demo_front() -> Vec<u8> {
        std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/assets/demo/front.jpg"
        ))
        .unwrap()
    }

    /// Offset of the first byte of entropy-coded data (after the SOS segment).
    fn scan_start(jpeg: &[u8]) -> usize {
        let sos = jpeg.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
        sos + 2 + usize::from(u16::from_be_bytes([jpeg[sos + 2], jpeg[sos + 3]]))
    }

    fn is_malformed(r: Result<Decoded, DecodeError>) -> bool {
        matches!(r, Err(DecodeError::Malformed { .. }))
    }

    #[test]
    fn the_demo_jpeg_decodes_whole() {
        let d = decode_bounded(&demo_front()).unwrap();
        assert_eq!(d.rgb.len(), d.width as usize * d.height as usize * 3);
    }

    // Regression: the first 100 KB of the demo front decoded "fine" (the
    // lower half flat grey), so the precheck judged it ok and it would
    // have been sent.
    #[test]
    fn truncated_jpeg_is_malformed() {
        let full = demo_front();
        for cut in [100_000, full.len() / 2, full.len() - 2] {
            let r = decode_bounded(&full[..cut]);
            assert!(is_malformed(r), "cut at {cut} of {}", full.len());
        }
    }

    // Flipped bytes that break the Huffman stream: libjpeg-turbo warns
    // ("N extraneous bytes before marker", "premature end of data
    // segment"). A flip that still decodes to valid codes only changes
    // coefficients: JPEG carries no checksum, so no decoder can tell (of 47
    // flips every 5 KB over the demo front's scan, 21 were detected; the
    // offsets below are three of those, for the current demo picture).
    #[test]
    fn flipped_bytes_in_the_scan_data_are_malformed() {
        let full = demo_front();
        let sos = full.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
        assert!(scan_start(&full) < sos + 20_000);
        for at in [sos + 20_000, sos + 125_000, sos + 230_000] {
            let mut bad = full.clone();
            // Flip bits without making a marker (0xFF) out of them.
            for b in &mut bad[at..at + 4] {
                if *b != 0xFF && *b != 0x00 {
                    *b ^= 0x5A;
                    if *b == 0xFF {
                        *b = 0x7F;
                    }
                }
            }
            assert!(is_malformed(decode_bounded(&bad)), "bytes flipped at {at}");
        }
    }

    #[test]
    fn a_cmyk_jpeg_decodes_to_rgb() {
        // Adobe-style inverted CMYK: C=255-ish means no cyan ink.
        let cmyk: Vec<u8> = [255u8, 0, 0, 255].repeat(16 * 16);
        let jpeg = turbojpeg::compress(
            turbojpeg::Image {
                pixels: cmyk.as_slice(),
                width: 16,
                pitch: 64,
                height: 16,
                format: turbojpeg::PixelFormat::CMYK,
            },
            95,
            turbojpeg::Subsamp::None,
        )
        .unwrap();
        let d = decode_bounded(&jpeg).unwrap();
        assert_eq!((d.width, d.height), (16, 16));
        let px = &d.rgb[..3];
        assert!(px[0] > 240 && px[1] < 15 && px[2] < 15, "{px:?}");
    }

    /// Each chunk of a PNG as `(offset, type)`.
    fn chunks(p: &[u8]) -> Vec<(usize, [u8; 4])> {
        let mut out = Vec::new();
        let mut i = 8;
        while i + 8 <= p.len() {
            let len = u32::from_be_bytes(p[i..i + 4].try_into().unwrap()) as usize;
            out.push((i, p[i + 4..i + 8].try_into().unwrap()));
            i += 12 + len;
        }
        out
    }

    #[test]
    fn png_with_a_bad_crc_is_malformed() {
        let p = png(64, 64);
        for (at, kind) in chunks(&p) {
            if &kind == b"IEND" {
                continue;
            }
            let len = u32::from_be_bytes(p[at..at + 4].try_into().unwrap()) as usize;
            let mut bad = p.clone();
            // The CRC's last byte.
            bad[at + 8 + len + 3] ^= 0x01;
            assert!(
                is_malformed(decode_bounded(&bad)),
                "CRC of {}",
                String::from_utf8_lossy(&kind)
            );
        }
    }

    #[test]
    fn png_with_a_bad_ancillary_chunk_is_malformed() {
        // A tEXt chunk with a wrong CRC before IEND: the PNG decoder would
        // skip it and decode the pixels.
        let p = png(8, 8);
        let iend = chunks(&p).last().unwrap().0;
        let mut bad = p[..iend].to_vec();
        bad.extend_from_slice(&5u32.to_be_bytes());
        bad.extend_from_slice(b"tEXtA\0bcd");
        bad.extend_from_slice(&0u32.to_be_bytes());
        bad.extend_from_slice(&p[iend..]);
        assert!(is_malformed(decode_bounded(&bad)));
    }

    #[test]
    fn png_cut_anywhere_is_malformed() {
        let p = png(32, 32);
        for cut in [9, 20, p.len() / 2, p.len() - 12, p.len() - 1] {
            assert!(is_malformed(decode_bounded(&p[..cut])), "cut at {cut}");
        }
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
