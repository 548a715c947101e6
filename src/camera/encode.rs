//! JPEG encoding with libjpeg-turbo (SIMD): previews, and stills sized for
//! the direct-processing request ([`encode_still`], the one sizing policy). Output is a baseline JFIF with no EXIF or
//! comment: no camera model, no time, no GPS, and no orientation tag — the
//! pixels themselves are upright ([`rotate`] them first if a camera is
//! mounted turned), so every viewer shows them the same way.

use serde::Serialize;
use zeroize::Zeroizing;

use super::frame::{downscale_to_fit, Frame};
use super::Error;
use crate::idenfy;

/// A reusable JPEG encoder (keeps libjpeg-turbo's state between frames).
pub struct JpegEncoder {
    inner: Option<turbojpeg::Compressor>,
}

impl std::fmt::Debug for JpegEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JpegEncoder").finish_non_exhaustive()
    }
}

impl Default for JpegEncoder {
    fn default() -> Self {
        Self::new()
    }
}

fn enc_err(e: turbojpeg::Error) -> Error {
    Error::Encode {
        detail: e.to_string(),
    }
}

impl JpegEncoder {
    /// An encoder; libjpeg-turbo is initialised on first use.
    #[must_use]
    pub fn new() -> Self {
        Self { inner: None }
    }

    /// The compressor (made on first use), set for `quality` (clamped to
    /// 1..=100) and 4:2:0 chroma.
    fn compressor(&mut self, quality: u8) -> Result<&mut turbojpeg::Compressor, Error> {
        if self.inner.is_none() {
            self.inner = Some(turbojpeg::Compressor::new().map_err(enc_err)?);
        }
        let Some(c) = self.inner.as_mut() else {
            unreachable!("set above")
        };
        c.set_quality(i32::from(quality.clamp(1, 100)));
        c.set_subsamp(turbojpeg::Subsamp::Sub2x2);
        Ok(c)
    }

    /// Encode `frame` at `quality` (clamped to 1..=100), 4:2:0 chroma.
    ///
    /// # Errors
    /// [`Error::Encode`] if libjpeg-turbo fails (out of memory).
    pub fn encode(&mut self, frame: &Frame, quality: u8) -> Result<Vec<u8>, Error> {
        let c = self.compressor(quality)?;
        let image = turbojpeg::Image {
            pixels: frame.pixels(),
            width: frame.width() as usize,
            pitch: frame.stride(),
            height: frame.height() as usize,
            format: turbojpeg::PixelFormat::RGB,
        };
        c.compress_to_vec(image).map_err(enc_err)
    }

    /// Like [`JpegEncoder::encode`], for a still of the customer: the JPEG
    /// is written straight into a buffer that is wiped on drop (no copy in
    /// libjpeg-turbo's own output buffer, none left by a reallocation).
    ///
    /// # Errors
    /// [`Error::Encode`] if libjpeg-turbo fails (out of memory).
    pub fn encode_wiped(
        &mut self,
        frame: &Frame,
        quality: u8,
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        let c = self.compressor(quality)?;
        let (w, h) = (frame.width() as usize, frame.height() as usize);
        // The worst case for this size: the encoder never needs more.
        let cap =
            turbojpeg::compressed_buf_len(w, h, turbojpeg::Subsamp::Sub2x2).map_err(enc_err)?;
        let mut out = Zeroizing::new(vec![0u8; cap]);
        let image = turbojpeg::Image {
            pixels: frame.pixels(),
            width: w,
            pitch: frame.stride(),
            height: h,
            format: turbojpeg::PixelFormat::RGB,
        };
        let n = c.compress_to_slice(image, &mut out).map_err(enc_err)?;
        out.truncate(n);
        Ok(out)
    }
}

/// Encode one frame (convenience over [`JpegEncoder`]).
///
/// # Errors
/// [`Error::Encode`] if libjpeg-turbo fails.
pub fn encode_jpeg(frame: &Frame, quality: u8) -> Result<Vec<u8>, Error> {
    JpegEncoder::new().encode(frame, quality)
}

/// Clockwise rotation to make a turned camera's pictures upright.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum Rotation {
    #[default]
    None,
    Cw90,
    Cw180,
    Cw270,
}

/// `frame` rotated clockwise by `rotation`.
///
/// # Errors
/// None in practice (sizes come from a valid frame); typed for safety.
pub fn rotate(frame: &Frame, rotation: Rotation) -> Result<Frame, Error> {
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let src = frame.pixels();
    let mut out = vec![0u8; src.len()];
    let (ow, oh) = match rotation {
        Rotation::None => {
            out.copy_from_slice(src);
            (w, h)
        }
        Rotation::Cw180 => {
            for (i, px) in src.chunks_exact(3).enumerate() {
                let j = w * h - 1 - i;
                out[j * 3..j * 3 + 3].copy_from_slice(px);
            }
            (w, h)
        }
        Rotation::Cw90 | Rotation::Cw270 => {
            for y in 0..h {
                for x in 0..w {
                    // Output is h wide, w tall.
                    let (nx, ny) = if rotation == Rotation::Cw90 {
                        (h - 1 - y, x)
                    } else {
                        (y, w - 1 - x)
                    };
                    let s = (y * w + x) * 3;
                    let d = (ny * h + nx) * 3;
                    out[d..d + 3].copy_from_slice(&src[s..s + 3]);
                }
            }
            (h, w)
        }
    };
    Frame::new(out, ow as u32, oh as u32, frame.seq(), frame.captured())
}

/// The size budget of stills: one direct-processing request carries up to
/// [`SubmissionLimits::stills`] of them, and each is sized at capture to its
/// share, so any set of captured stills fits the request without another
/// encoding (the API client refuses what does not, and never re-encodes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubmissionLimits {
    /// The API's limit for the whole request, counted after base64.
    pub max_request_bytes: usize,
    /// Room kept for the JSON around the images (token, country, keys).
    pub json_headroom: usize,
    /// Quality tried first; lower ones follow only if a still does not fit.
    pub start_quality: u8,
    /// The most stills one request carries (FRONT, BACK, UTILITY_BILL, FACE).
    pub stills: usize,
}

impl Default for SubmissionLimits {
    /// The API client's own rule: [`idenfy::DEFAULT_MAX_BODY_BYTES`] less
    /// [`idenfy::PROCESS_JSON_HEADROOM`], shared by four stills (a proof of
    /// address adds the utility bill to the document's sides and the selfie).
    fn default() -> Self {
        Self {
            max_request_bytes: idenfy::DEFAULT_MAX_BODY_BYTES,
            json_headroom: idenfy::PROCESS_JSON_HEADROOM,
            start_quality: 92,
            stills: 4,
        }
    }
}

impl SubmissionLimits {
    /// The same limits, trying `quality` first.
    #[must_use]
    pub fn starting_at(self, quality: u8) -> Self {
        Self {
            start_quality: quality,
            ..self
        }
    }

    /// The most one still may take in the request, after base64.
    #[must_use]
    pub fn per_still(&self) -> usize {
        self.max_request_bytes.saturating_sub(self.json_headroom) / self.stills.max(1)
    }
}

/// The qualities tried in turn, best first.
const LADDER: [u8; 9] = [95, 92, 90, 87, 84, 80, 75, 70, 60];

/// One still ready for the request. The JPEG is wiped on drop.
#[derive(Clone)]
pub struct SubmissionImage {
    /// The JPEG (the API client base64-encodes it).
    pub jpeg: Zeroizing<Vec<u8>>,
    /// Quality used.
    pub quality: u8,
    /// Encoded width.
    pub width: u32,
    /// Encoded height.
    pub height: u32,
}

impl std::fmt::Debug for SubmissionImage {
    // The JPEG is the customer's document or face: only its size shows.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SubmissionImage({}x{}, q{}, {} bytes)",
            self.width,
            self.height,
            self.quality,
            self.jpeg.len()
        )
    }
}

/// Encode a still so that, after base64, it fits its share of the request
/// ([`SubmissionLimits::per_still`]): the best quality that fits, starting at
/// `limits.start_quality`; if even the lowest does not fit, the frame is
/// scaled down by 3/4 steps (never below 1280 pixels wide). The one sizing
/// policy of the kiosk: stills are sized here, once, at capture.
///
/// # Errors
/// [`Error::TooLarge`] when nothing fits, [`Error::Encode`] if encoding fails.
pub fn encode_still(frame: &Frame, limits: SubmissionLimits) -> Result<SubmissionImage, Error> {
    let budget = limits.per_still();
    let lowest = LADDER[LADDER.len() - 1];
    let ladder = LADDER
        .iter()
        .copied()
        .filter(|q| *q <= limits.start_quality.max(lowest));
    let mut enc = JpegEncoder::new();
    // A smaller copy of the customer's still, when needed: wiped on drop, as
    // is every JPEG tried and refused for its size.
    let mut scaled = Scaled(None);
    let mut needed = 0;
    for _ in 0..4 {
        let current = scaled.0.as_ref().unwrap_or(frame);
        for q in ladder.clone() {
            let jpeg = enc.encode_wiped(current, q)?;
            needed = idenfy::base64_len(jpeg.len());
            if needed <= budget {
                return Ok(SubmissionImage {
                    jpeg,
                    quality: q,
                    width: current.width(),
                    height: current.height(),
                });
            }
            tracing::debug!(
                quality = q,
                needed,
                budget,
                "still too large; lowering quality"
            );
        }
        if current.width() <= 1280 {
            break;
        }
        let smaller = shrink(current)?;
        scaled.set(smaller);
    }
    Err(Error::TooLarge {
        needed,
        limit: budget,
    })
}

/// A scaled copy of a still, its pixels wiped when replaced or dropped.
struct Scaled(Option<Frame>);

impl Scaled {
    fn set(&mut self, f: Frame) {
        self.wipe();
        self.0 = Some(f);
    }

    fn wipe(&mut self) {
        if let Some(f) = self.0.take() {
            drop(Zeroizing::new(f.into_pixels()));
        }
    }
}

impl Drop for Scaled {
    fn drop(&mut self) {
        self.wipe();
    }
}

/// `f` at 3/4 of its width (not below 1280 pixels), same aspect.
fn shrink(f: &Frame) -> Result<Frame, Error> {
    let w = (f.width() * 3 / 4).max(1280.min(f.width()));
    let h = (u64::from(f.height()) * u64::from(w) / u64::from(f.width())).max(1) as u32;
    downscale_to_fit(f, w, h, Vec::new())
}

/// The marker segments of a JPEG before its first scan, as `(marker, len)`.
/// Used to check that no metadata is written.
#[must_use]
pub fn header_segments(jpeg: &[u8]) -> Vec<(u8, usize)> {
    let mut out = Vec::new();
    if jpeg.len() < 4 || jpeg[0] != 0xFF || jpeg[1] != 0xD8 {
        return out;
    }
    let mut i = 2;
    while i + 4 <= jpeg.len() && jpeg[i] == 0xFF {
        let m = jpeg[i + 1];
        let len = usize::from(u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]));
        out.push((m, len));
        if m == 0xDA {
            break;
        }
        i += 2 + len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn pattern(w: u32, h: u32) -> Frame {
        let mut v = Vec::with_capacity((w * h * 3) as usize);
        let mut s: u32 = 12345;
        for y in 0..h {
            for x in 0..w {
                // Texture plus noise: hard to compress, like a photo.
                s = s.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let n = (s >> 24) as u8 / 3;
                v.extend_from_slice(&[
                    (x % 256) as u8 ^ n,
                    (y % 256) as u8,
                    ((x / 7 + y / 5) % 256) as u8 ^ n,
                ]);
            }
        }
        Frame::new(v, w, h, 1, Instant::now()).unwrap()
    }

    #[test]
    fn jpeg_has_no_metadata_and_decodes_to_the_same_size() {
        let f = pattern(320, 240);
        let j = encode_jpeg(&f, 90).unwrap();
        let segs = header_segments(&j);
        assert!(segs.iter().any(|(m, _)| *m == 0xDA), "{segs:?}");
        for (m, _) in &segs {
            // APP1..APP15 (EXIF, XMP, ICC...) and COM must be absent.
            assert!(
                !(0xE1..=0xEF).contains(m) && *m != 0xFE,
                "marker {m:#x} in {segs:?}"
            );
        }
        let h = turbojpeg::read_header(&j).unwrap();
        assert_eq!((h.width, h.height), (320, 240));
    }

    #[test]
    fn rotation_moves_known_pixels() {
        // 2x1: red, green.
        let f = Frame::new(vec![255, 0, 0, 0, 255, 0], 2, 1, 1, Instant::now()).unwrap();
        let r = rotate(&f, Rotation::Cw90).unwrap();
        assert_eq!((r.width(), r.height()), (1, 2));
        assert_eq!(r.pixel(0, 0), Some([255, 0, 0]));
        assert_eq!(r.pixel(0, 1), Some([0, 255, 0]));
        let r = rotate(&f, Rotation::Cw270).unwrap();
        assert_eq!(r.pixel(0, 0), Some([0, 255, 0]));
        let r = rotate(&f, Rotation::Cw180).unwrap();
        assert_eq!(r.pixel(0, 0), Some([0, 255, 0]));
        assert_eq!(rotate(&f, Rotation::None).unwrap().pixels(), f.pixels());
    }

    /// Each frame sized as at capture.
    fn encode_each(
        frames: &[Frame],
        limits: SubmissionLimits,
    ) -> Result<Vec<SubmissionImage>, Error> {
        frames.iter().map(|f| encode_still(f, limits)).collect()
    }

    fn base64(i: &SubmissionImage) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(&i.jpeg)
    }

    #[test]
    fn submission_fits_the_budget_lowering_quality_when_needed() {
        let frames = [pattern(640, 480), pattern(640, 480), pattern(640, 480)];
        let roomy = encode_each(&frames, SubmissionLimits::default()).unwrap();
        assert_eq!(roomy.len(), 3);
        assert!(roomy.iter().all(|i| i.quality == 92 && i.width == 640));
        let at_92: usize = roomy.iter().map(|i| base64(i).len()).sum();
        // A tight budget forces a lower quality, and the result fits it.
        let tight = SubmissionLimits {
            max_request_bytes: at_92 * 3 / 4 + 1000,
            json_headroom: 1000,
            start_quality: 92,
            stills: 3,
        };
        let small = encode_each(&frames, tight).unwrap();
        let total: usize = small.iter().map(|i| base64(i).len()).sum();
        assert!(total <= at_92 * 3 / 4, "{total} > {}", at_92 * 3 / 4);
        assert!(small[0].quality < 92);
        for i in &small {
            assert_eq!(base64(i).len(), idenfy::base64_len(i.jpeg.len()));
        }
        // An impossible budget is a typed error.
        let none = SubmissionLimits {
            max_request_bytes: 2000,
            json_headroom: 1000,
            start_quality: 92,
            stills: 3,
        };
        let err = encode_each(&frames, none).unwrap_err();
        assert!(matches!(err, Error::TooLarge { .. }), "{err}");
    }

    #[test]
    fn oversized_images_are_scaled_down_rather_than_refused() {
        let frame = pattern(2048, 1536);
        let at_60 = idenfy::base64_len(encode_jpeg(&frame, 60).unwrap().len());
        let limits = SubmissionLimits {
            max_request_bytes: at_60 * 7 / 10,
            json_headroom: 0,
            start_quality: 92,
            stills: 1,
        };
        let out = encode_still(&frame, limits).unwrap();
        assert!(out.width < 2048 && out.width >= 1280, "{}", out.width);
        assert!(base64(&out).len() <= at_60 * 7 / 10);
    }

    #[test]
    fn four_4k_stills_sized_at_capture_fit_the_api_limit() {
        // Pure noise at 3840x2160 is the worst a camera can deliver: far over
        // a quarter of 20 MB at quality 92. Four stills: the document's two
        // sides, the utility bill (proof of address) and the selfie. The sizing must step down, and the
        // set must then pass the API client's own size rule.
        let noise = |seed| {
            let px = crate::quality::synth::noise(3840, 2160, seed).into_raw();
            Frame::new(px, 3840, 2160, 1, Instant::now()).unwrap()
        };
        let frames = [noise(1), noise(2), noise(3), noise(4)];
        let q92 = idenfy::base64_len(encode_jpeg(&frames[0], 92).unwrap().len());
        assert!(q92 > SubmissionLimits::default().per_still(), "{q92}");
        let stills = encode_each(&frames, SubmissionLimits::default()).unwrap();
        assert!(
            stills.iter().all(|s| s.quality < 92 || s.width < 3840),
            "stepped down"
        );
        let sides = [
            idenfy::ImageSide::Front,
            idenfy::ImageSide::Back,
            idenfy::ImageSide::UtilityBill,
            idenfy::ImageSide::Face,
        ];
        let set: Vec<_> = sides
            .into_iter()
            .zip(stills.into_iter().map(|s| s.jpeg.to_vec()))
            .collect();
        idenfy::check_body_size(&set, idenfy::DEFAULT_MAX_BODY_BYTES).unwrap();
    }
}
