//! Raw camera formats to RGB8: YUYV (4:2:2), NV12 (4:2:0), MJPEG and RGB.
//! Each conversion writes straight into a caller-owned buffer that the
//! pipeline recycles, so a frame costs no allocation once warmed up.
//! YUV uses BT.601 limited range, as UVC webcams do.

use serde::Serialize;

use super::Error;

/// Pixel formats a camera may deliver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RawFormat {
    /// Packed RGB8.
    Rgb,
    /// Packed 4:2:2, `Y0 U Y1 V` per two pixels.
    Yuyv,
    /// Y plane, then interleaved UV at half resolution.
    Nv12,
    /// Motion JPEG: each frame a JPEG image.
    Mjpeg,
}

impl std::fmt::Display for RawFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Rgb => "RGB",
            Self::Yuyv => "YUYV",
            Self::Nv12 => "NV12",
            Self::Mjpeg => "MJPEG",
        })
    }
}

/// Converts raw frames to RGB8, keeping a JPEG decoder between frames.
pub struct Converter {
    jpeg: Option<turbojpeg::Decompressor>,
}

impl std::fmt::Debug for Converter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Converter").finish_non_exhaustive()
    }
}

impl Default for Converter {
    fn default() -> Self {
        Self::new()
    }
}

impl Converter {
    /// A converter; the JPEG decoder is created on first MJPEG frame.
    #[must_use]
    pub fn new() -> Self {
        Self { jpeg: None }
    }

    /// Convert one raw frame of `width x height` into `dst` (resized to fit).
    /// For MJPEG the size comes from the JPEG header and is returned.
    ///
    /// # Errors
    /// [`Error::BadFrame`] when the data is too short for the size, or the
    /// JPEG does not decode.
    pub fn to_rgb(
        &mut self,
        format: RawFormat,
        src: &[u8],
        width: u32,
        height: u32,
        dst: &mut Vec<u8>,
    ) -> Result<(u32, u32), Error> {
        match format {
            RawFormat::Rgb => {
                let n = need(format, width, height, 3, 1)?;
                let s = src.get(..n).ok_or_else(|| short(format, src.len(), n))?;
                dst.clear();
                dst.extend_from_slice(s);
                Ok((width, height))
            }
            RawFormat::Yuyv => yuyv_to_rgb(src, width, height, dst).map(|()| (width, height)),
            RawFormat::Nv12 => nv12_to_rgb(src, width, height, dst).map(|()| (width, height)),
            RawFormat::Mjpeg => self.mjpeg_to_rgb(src, dst),
        }
    }

    fn mjpeg_to_rgb(&mut self, src: &[u8], dst: &mut Vec<u8>) -> Result<(u32, u32), Error> {
        if self.jpeg.is_none() {
            let d = turbojpeg::Decompressor::new().map_err(|e| Error::BadFrame {
                format: RawFormat::Mjpeg,
                detail: e.to_string(),
            })?;
            self.jpeg = Some(d);
        }
        let Some(dec) = self.jpeg.as_mut() else {
            unreachable!("set above")
        };
        let decoded = decode_jpeg(dec, src, dst);
        if decoded.is_err() {
            // TurboJPEG leaves a decompressor that failed inside the headers
            // half-way through them: every later frame then fails with the
            // same error (an unsupported marker, say). One corrupt frame must
            // cost one frame, so the next one gets a fresh decompressor.
            self.jpeg = None;
        }
        decoded
    }
}

fn decode_jpeg(
    dec: &mut turbojpeg::Decompressor,
    src: &[u8],
    dst: &mut Vec<u8>,
) -> Result<(u32, u32), Error> {
    let bad = |e: turbojpeg::Error| Error::BadFrame {
        format: RawFormat::Mjpeg,
        detail: e.to_string(),
    };
    let header = dec.read_header(src).map_err(bad)?;
    let (w, h) = (header.width, header.height);
    let n = w.checked_mul(h).and_then(|n| n.checked_mul(3));
    let n = match n {
        Some(n) if w > 0 && h > 0 && n <= MAX_PIXELS * 3 => n,
        _ => {
            return Err(Error::BadFrame {
                format: RawFormat::Mjpeg,
                detail: format!("implausible JPEG size {w}x{h}"),
            })
        }
    };
    dst.resize(n, 0);
    let image = turbojpeg::Image {
        pixels: dst.as_mut_slice(),
        width: w,
        pitch: w * 3,
        height: h,
        format: turbojpeg::PixelFormat::RGB,
    };
    dec.decompress(src, image).map_err(bad)?;
    Ok((w as u32, h as u32))
}

/// No camera frame is larger than this (16k x 8k); bigger headers are corrupt.
const MAX_PIXELS: usize = 16384 * 8192;

fn need(format: RawFormat, w: u32, h: u32, num: usize, den: usize) -> Result<usize, Error> {
    (w as usize)
        .checked_mul(h as usize)
        .and_then(|p| p.checked_mul(num))
        .map(|p| p / den)
        .filter(|_| w > 0 && h > 0 && (w as usize) * (h as usize) <= MAX_PIXELS)
        .ok_or_else(|| Error::BadFrame {
            format,
            detail: format!("implausible size {w}x{h}"),
        })
}

fn short(format: RawFormat, got: usize, want: usize) -> Error {
    Error::BadFrame {
        format,
        detail: format!("{got} bytes, expected at least {want}"),
    }
}

#[inline]
fn clamp(v: i32) -> u8 {
    v.clamp(0, 255) as u8
}

/// BT.601 limited range YUV -> RGB in fixed point (8 fractional bits).
#[inline]
fn yuv_px(y: u8, u: u8, v: u8, out: &mut [u8]) {
    let c = 298 * (i32::from(y) - 16);
    let d = i32::from(u) - 128;
    let e = i32::from(v) - 128;
    out[0] = clamp((c + 409 * e + 128) >> 8);
    out[1] = clamp((c - 100 * d - 208 * e + 128) >> 8);
    out[2] = clamp((c + 516 * d + 128) >> 8);
}

/// YUYV 4:2:2 to RGB8. `width` must be even.
///
/// # Errors
/// [`Error::BadFrame`] for an odd width or data shorter than `width*height*2`.
pub fn yuyv_to_rgb(src: &[u8], width: u32, height: u32, dst: &mut Vec<u8>) -> Result<(), Error> {
    let f = RawFormat::Yuyv;
    let n = need(f, width, height, 2, 1)?;
    if !width.is_multiple_of(2) {
        return Err(Error::BadFrame {
            format: f,
            detail: format!("odd width {width}"),
        });
    }
    let src = src.get(..n).ok_or_else(|| short(f, src.len(), n))?;
    dst.resize(n / 2 * 3, 0);
    for (s, d) in src.chunks_exact(4).zip(dst.chunks_exact_mut(6)) {
        yuv_px(s[0], s[1], s[3], &mut d[..3]);
        yuv_px(s[2], s[1], s[3], &mut d[3..]);
    }
    Ok(())
}

/// NV12 4:2:0 to RGB8. Width and height must be even.
///
/// # Errors
/// [`Error::BadFrame`] for odd sides or data shorter than `width*height*3/2`.
pub fn nv12_to_rgb(src: &[u8], width: u32, height: u32, dst: &mut Vec<u8>) -> Result<(), Error> {
    let f = RawFormat::Nv12;
    let n = need(f, width, height, 3, 2)?;
    if !width.is_multiple_of(2) || !height.is_multiple_of(2) {
        return Err(Error::BadFrame {
            format: f,
            detail: format!("odd size {width}x{height}"),
        });
    }
    let src = src.get(..n).ok_or_else(|| short(f, src.len(), n))?;
    let (w, h) = (width as usize, height as usize);
    let (luma, chroma) = src.split_at(w * h);
    dst.resize(w * h * 3, 0);
    for (y, row) in dst.chunks_exact_mut(w * 3).enumerate() {
        let yrow = &luma[y * w..(y + 1) * w];
        let uv = &chroma[(y / 2) * w..(y / 2 + 1) * w];
        for (x2, (ys, d)) in yrow
            .chunks_exact(2)
            .zip(row.chunks_exact_mut(6))
            .enumerate()
        {
            let (u, v) = (uv[x2 * 2], uv[x2 * 2 + 1]);
            yuv_px(ys[0], u, v, &mut d[..3]);
            yuv_px(ys[1], u, v, &mut d[3..]);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Known BT.601 limited-range values: (Y, U, V) -> RGB.
    const BLACK: ([u8; 3], [u8; 3]) = ([16, 128, 128], [0, 0, 0]);
    const WHITE: ([u8; 3], [u8; 3]) = ([235, 128, 128], [255, 255, 255]);
    const RED: ([u8; 3], [u8; 3]) = ([81, 90, 240], [255, 0, 0]);
    const GREEN: ([u8; 3], [u8; 3]) = ([145, 54, 34], [0, 255, 0]);
    const BLUE: ([u8; 3], [u8; 3]) = ([41, 240, 110], [0, 0, 255]);

    fn close(a: &[u8], b: &[u8]) -> bool {
        a.iter().zip(b).all(|(x, y)| x.abs_diff(*y) <= 2)
    }

    #[test]
    fn yuyv_converts_known_colours() {
        for (yuv, rgb) in [BLACK, WHITE, RED, GREEN, BLUE] {
            let src = [yuv[0], yuv[1], yuv[0], yuv[2]];
            let mut out = Vec::new();
            yuyv_to_rgb(&src, 2, 1, &mut out).unwrap();
            assert!(close(&out[..3], &rgb), "{yuv:?} -> {out:?}, want {rgb:?}");
            assert!(close(&out[3..], &rgb));
        }
    }

    #[test]
    fn yuyv_keeps_each_luma_sample() {
        // Two pixels sharing neutral chroma: black then white.
        let src = [16, 128, 235, 128];
        let mut out = vec![9; 100]; // a recycled buffer of another size
        yuyv_to_rgb(&src, 2, 1, &mut out).unwrap();
        assert_eq!(out, [0, 0, 0, 255, 255, 255]);
    }

    #[test]
    fn nv12_converts_known_colours_per_2x2_block() {
        // 4x2 image: left block red, right block blue.
        let y = [RED.0[0], RED.0[0], BLUE.0[0], BLUE.0[0]];
        let mut src = Vec::new();
        src.extend_from_slice(&y);
        src.extend_from_slice(&y);
        src.extend_from_slice(&[RED.0[1], RED.0[2], BLUE.0[1], BLUE.0[2]]);
        let mut out = Vec::new();
        nv12_to_rgb(&src, 4, 2, &mut out).unwrap();
        assert_eq!(out.len(), 4 * 2 * 3);
        for row in 0..2 {
            for x in 0..4 {
                let i = (row * 4 + x) * 3;
                let want = if x < 2 { RED.1 } else { BLUE.1 };
                assert!(
                    close(&out[i..i + 3], &want),
                    "({x},{row}) {:?}",
                    &out[i..i + 3]
                );
            }
        }
    }

    #[test]
    fn short_or_odd_input_is_an_error_not_a_panic() {
        let mut out = Vec::new();
        assert!(matches!(
            yuyv_to_rgb(&[0; 7], 2, 2, &mut out),
            Err(Error::BadFrame {
                format: RawFormat::Yuyv,
                ..
            })
        ));
        assert!(yuyv_to_rgb(&[0; 12], 3, 2, &mut out).is_err());
        assert!(nv12_to_rgb(&[0; 5], 2, 2, &mut out).is_err());
        assert!(nv12_to_rgb(&[0; 100], 3, 3, &mut out).is_err());
        assert!(yuyv_to_rgb(&[], 0, 0, &mut out).is_err());
        assert!(yuyv_to_rgb(&[], u32::MAX, u32::MAX, &mut out).is_err());
        let mut c = Converter::new();
        assert!(c
            .to_rgb(RawFormat::Mjpeg, b"not a jpeg", 0, 0, &mut out)
            .is_err());
        assert!(c.to_rgb(RawFormat::Rgb, &[1, 2], 1, 1, &mut out).is_err());
    }

    #[test]
    fn mjpeg_decodes_into_the_reused_buffer() {
        // A 16x8 JPEG, left half red and right half blue.
        let mut rgb = Vec::new();
        for _ in 0..8 {
            for x in 0..16 {
                rgb.extend_from_slice(if x < 8 { &[255, 0, 0] } else { &[0, 0, 255] });
            }
        }
        let jpeg = turbojpeg::compress(
            turbojpeg::Image {
                pixels: rgb.as_slice(),
                width: 16,
                pitch: 48,
                height: 8,
                format: turbojpeg::PixelFormat::RGB,
            },
            95,
            turbojpeg::Subsamp::None,
        )
        .unwrap();
        let mut c = Converter::new();
        let mut out = Vec::with_capacity(10);
        let (w, h) = c.to_rgb(RawFormat::Mjpeg, &jpeg, 0, 0, &mut out).unwrap();
        assert_eq!((w, h), (16, 8));
        assert!(
            out[..3]
                .iter()
                .zip([255u8, 0, 0])
                .all(|(a, b)| a.abs_diff(b) < 12),
            "{:?}",
            &out[..3]
        );
        let last = &out[out.len() - 3..];
        assert!(
            last.iter()
                .zip([0u8, 0, 255])
                .all(|(a, b)| a.abs_diff(b) < 12),
            "{last:?}"
        );
    }

    // Regression: after one frame of noise with a marker TurboJPEG does not
    // support, its decompressor failed every later frame with the same
    // error, so one corrupt camera frame blanked the preview for a second
    // (until the pipeline reopened the camera).
    #[test]
    fn a_good_frame_decodes_after_a_garbage_one() {
        let rgb = vec![128u8; 16 * 8 * 3];
        let jpeg = turbojpeg::compress(
            turbojpeg::Image {
                pixels: rgb.as_slice(),
                width: 16,
                pitch: 48,
                height: 8,
                format: turbojpeg::PixelFormat::RGB,
            },
            90,
            turbojpeg::Subsamp::Sub2x1,
        )
        .unwrap();
        let mut garbage = vec![0xFF, 0xD8, 0xFF, 0x91];
        garbage.extend((0..4000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
        let mut c = Converter::new();
        let mut out = Vec::new();
        assert!(matches!(
            c.to_rgb(RawFormat::Mjpeg, &garbage, 0, 0, &mut out),
            Err(Error::BadFrame { .. })
        ));
        for _ in 0..3 {
            assert_eq!(
                c.to_rgb(RawFormat::Mjpeg, &jpeg, 0, 0, &mut out).unwrap(),
                (16, 8)
            );
        }
    }
}
