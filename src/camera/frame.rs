//! Frames: RGB8 pixels with their size, sequence number and capture time.

use std::time::Instant;

use super::Error;

/// A picture from a camera: tightly packed RGB8 rows (`width * 3` bytes each),
/// numbered in capture order, with the moment it was captured.
#[derive(Debug, Clone)]
pub struct Frame {
    pixels: Vec<u8>,
    width: u32,
    height: u32,
    seq: u64,
    captured: Instant,
}

impl Frame {
    /// Wrap RGB8 pixels.
    ///
    /// # Errors
    /// [`Error::BadFrame`] when the buffer length is not `width * height * 3`
    /// or a side is zero.
    pub fn new(
        pixels: Vec<u8>,
        width: u32,
        height: u32,
        seq: u64,
        captured: Instant,
    ) -> Result<Self, Error> {
        let want = rgb_len(width, height);
        if width == 0 || height == 0 || want != Some(pixels.len()) {
            return Err(Error::BadFrame {
                format: super::RawFormat::Rgb,
                detail: format!(
                    "{} bytes for {width}x{height} RGB (expected {})",
                    pixels.len(),
                    want.map_or_else(|| "too many".to_owned(), |n| n.to_string())
                ),
            });
        }
        Ok(Self {
            pixels,
            width,
            height,
            seq,
            captured,
        })
    }

    /// RGB8 pixels, row by row, no padding.
    #[must_use]
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// Width in pixels.
    #[must_use]
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    #[must_use]
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Bytes per row (`width * 3`).
    #[must_use]
    pub fn stride(&self) -> usize {
        self.width as usize * 3
    }

    /// Capture order, starting at 1 for each pipeline.
    #[must_use]
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// When the source delivered the frame.
    #[must_use]
    pub fn captured(&self) -> Instant {
        self.captured
    }

    /// The pixel at `(x, y)`, or `None` outside the frame.
    #[must_use]
    pub fn pixel(&self, x: u32, y: u32) -> Option<[u8; 3]> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let i = (y as usize * self.width as usize + x as usize) * 3;
        Some([self.pixels[i], self.pixels[i + 1], self.pixels[i + 2]])
    }

    /// Give the pixel buffer back (to reuse its allocation).
    #[must_use]
    pub fn into_pixels(self) -> Vec<u8> {
        self.pixels
    }

    pub(crate) fn set_seq(&mut self, seq: u64) {
        self.seq = seq;
    }
}

/// `width * height * 3` without overflow.
#[must_use]
pub fn rgb_len(width: u32, height: u32) -> Option<usize> {
    (width as usize)
        .checked_mul(height as usize)
        .and_then(|n| n.checked_mul(3))
}

/// Downscale `src` so it fits in `max_w x max_h` (aspect kept, never
/// upscaled), averaging the source pixels each output pixel covers. Reuses
/// `reuse`'s allocation. A frame that already fits is copied unchanged.
///
/// # Errors
/// [`Error::BadFrame`] only if the computed size is degenerate (a zero bound).
pub fn downscale_to_fit(
    src: &Frame,
    max_w: u32,
    max_h: u32,
    reuse: Vec<u8>,
) -> Result<Frame, Error> {
    let (w, h) = fit(src.width, src.height, max_w, max_h);
    let mut out = reuse;
    out.clear();
    if (w, h) == (src.width, src.height) {
        out.extend_from_slice(&src.pixels);
        return Frame::new(out, w, h, src.seq, src.captured);
    }
    let n = rgb_len(w, h).unwrap_or(0);
    out.resize(n, 0);
    if (w * 2, h * 2) == (src.width, src.height) {
        halve(src, w as usize, h as usize, &mut out);
        return Frame::new(out, w, h, src.seq, src.captured);
    }
    // Source column span of each output column, computed once.
    let xs: Vec<(usize, usize)> = (0..w as usize)
        .map(|x| span(x, w as usize, src.width as usize))
        .collect();
    let sstride = src.stride();
    // Separable: sum the covered source rows into `acc` (a contiguous,
    // vectorisable pass), then sum the covered columns of `acc`.
    let mut acc = vec![0u32; sstride];
    for y in 0..h as usize {
        let (y0, y1) = span(y, h as usize, src.height as usize);
        acc.fill(0);
        for sy in y0..y1 {
            let line = &src.pixels[sy * sstride..(sy + 1) * sstride];
            for (a, &p) in acc.iter_mut().zip(line) {
                *a += u32::from(p);
            }
        }
        let rows = (y1 - y0) as u32;
        let row = &mut out[y * w as usize * 3..(y + 1) * w as usize * 3];
        for (px, &(x0, x1)) in row.chunks_exact_mut(3).zip(&xs) {
            let mut sum = [0u32; 3];
            for c in acc[x0 * 3..x1 * 3].chunks_exact(3) {
                sum[0] += c[0];
                sum[1] += c[1];
                sum[2] += c[2];
            }
            let count = rows * (x1 - x0) as u32;
            for (o, s) in px.iter_mut().zip(sum) {
                *o = ((s + count / 2) / count) as u8;
            }
        }
    }
    Frame::new(out, w, h, src.seq, src.captured)
}

/// The largest size with the aspect of `w x h` fitting `max_w x max_h`.
#[must_use]
pub fn fit(w: u32, h: u32, max_w: u32, max_h: u32) -> (u32, u32) {
    let (max_w, max_h) = (max_w.max(1), max_h.max(1));
    if w <= max_w && h <= max_h {
        return (w, h);
    }
    let by_w = (
        u64::from(max_w),
        u64::from(h) * u64::from(max_w) / u64::from(w),
    );
    let by_h = (
        u64::from(w) * u64::from(max_h) / u64::from(h),
        u64::from(max_h),
    );
    let (a, b) = if by_w.1 <= u64::from(max_h) {
        by_w
    } else {
        by_h
    };
    (a.max(1) as u32, b.max(1) as u32)
}

/// The exact half size (1920x1080 to 960x540, the kiosk's preview): each
/// output pixel the rounded mean of a 2x2 block, as the general path gives,
/// in straight loops the compiler vectorises.
fn halve(src: &Frame, w: usize, h: usize, out: &mut [u8]) {
    let sstride = src.stride();
    let mut pair = vec![0u16; sstride];
    for (y, row) in out.chunks_exact_mut(w * 3).take(h).enumerate() {
        let a = &src.pixels[2 * y * sstride..(2 * y + 1) * sstride];
        let b = &src.pixels[(2 * y + 1) * sstride..(2 * y + 2) * sstride];
        for ((p, &a), &b) in pair.iter_mut().zip(a).zip(b) {
            *p = u16::from(a) + u16::from(b);
        }
        for (px, two) in row.chunks_exact_mut(3).zip(pair.chunks_exact(6)) {
            for c in 0..3 {
                // At most 4 * 255 + 2: fits, and the quotient fits a byte.
                px[c] = ((two[c] + two[c + 3] + 2) / 4) as u8;
            }
        }
    }
}

/// Source range `[start, end)` covered by output index `i` of `out` when
/// mapping `src` samples onto `out` (`out <= src`); never empty.
fn span(i: usize, out: usize, src: usize) -> (usize, usize) {
    let a = i * src / out;
    let b = ((i + 1) * src / out).max(a + 1).min(src);
    (a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halving_gives_what_the_general_path_gives() {
        let src = solid(40, 22, |x, y| {
            [
                (x * 7 + y) as u8,
                (x * y % 256) as u8,
                (255 - x * 3 - y) as u8,
            ]
        });
        let fast = downscale_to_fit(&src, 20, 11, Vec::new()).unwrap();
        // The general path, by hand: the rounded mean of each 2x2 block.
        for y in 0..11 {
            for x in 0..20 {
                let mut want = [0u32; 3];
                for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    let p = src.pixel(2 * x + dx, 2 * y + dy).unwrap();
                    for c in 0..3 {
                        want[c] += u32::from(p[c]);
                    }
                }
                let want = want.map(|s| ((s + 2) / 4) as u8);
                assert_eq!(fast.pixel(x, y).unwrap(), want, "at {x},{y}");
            }
        }
    }

    fn solid(w: u32, h: u32, f: impl Fn(u32, u32) -> [u8; 3]) -> Frame {
        let mut v = Vec::with_capacity(rgb_len(w, h).unwrap());
        for y in 0..h {
            for x in 0..w {
                v.extend_from_slice(&f(x, y));
            }
        }
        Frame::new(v, w, h, 7, Instant::now()).unwrap()
    }

    #[test]
    fn new_refuses_a_buffer_of_the_wrong_size() {
        let err = Frame::new(vec![0; 11], 2, 2, 1, Instant::now()).unwrap_err();
        assert!(matches!(err, Error::BadFrame { .. }), "{err}");
        assert!(Frame::new(vec![], 0, 0, 1, Instant::now()).is_err());
        assert!(Frame::new(vec![0; 12], 2, 2, 1, Instant::now()).is_ok());
    }

    #[test]
    fn fit_keeps_aspect_and_never_upscales() {
        assert_eq!(fit(3840, 2160, 1280, 720), (1280, 720));
        assert_eq!(fit(1440, 1080, 1280, 720), (960, 720));
        assert_eq!(fit(640, 480, 1280, 720), (640, 480));
        assert_eq!(fit(4000, 10, 100, 100), (100, 1));
    }

    #[test]
    fn downscale_averages_the_covered_pixels() {
        // Left half black, right half white, 4x2 -> 2x1.
        let f = solid(4, 2, |x, _| if x < 2 { [0, 0, 0] } else { [255, 255, 255] });
        let d = downscale_to_fit(&f, 2, 2, Vec::new()).unwrap();
        assert_eq!((d.width(), d.height()), (2, 1));
        assert_eq!(d.pixel(0, 0), Some([0, 0, 0]));
        assert_eq!(d.pixel(1, 0), Some([255, 255, 255]));
        assert_eq!(d.seq(), 7);
        // A checkerboard averages to grey.
        let c = solid(6, 6, |x, y| {
            if (x + y) % 2 == 0 {
                [200, 0, 0]
            } else {
                [0, 0, 100]
            }
        });
        let d = downscale_to_fit(&c, 3, 3, Vec::new()).unwrap();
        assert_eq!(d.pixel(1, 1), Some([100, 0, 50]));
    }

    #[test]
    fn downscale_of_a_fitting_frame_is_identical() {
        let f = solid(5, 3, |x, y| [x as u8, y as u8, 9]);
        let d = downscale_to_fit(&f, 100, 100, vec![1, 2, 3]).unwrap();
        assert_eq!(d.pixels(), f.pixels());
    }
}
