//! The working grid: one fused pass over the frame that box-averages it by an
//! integer factor into scaled luma plus per-cell flags (washed out, skin).
//!
//! Every later check reads only this grid (at most ~640 x 640 cells), so the
//! cost of a 4K frame is one sequential read of its bytes with integer adds.

use super::thresholds as t;
use super::{ImageView, PixelFormat, Roi};

/// Cell flag: near-white and low-chroma (a glare candidate).
pub(crate) const WASHED: u8 = 1;
/// Cell flag: skin-coloured (role detection).
pub(crate) const SKIN: u8 = 2;
/// Cell flag: visited by the blob search.
pub(crate) const SEEN: u8 = 4;
/// Cell flag: part of a washed-out background blob (set by `glare`).
pub(crate) const BACKGROUND: u8 = 8;

/// The working grid and the buffers the checks reuse frame after frame.
#[derive(Debug, Default)]
pub(crate) struct Grid {
    pub w: usize,
    pub h: usize,
    /// Mean luma x [`t::LUMA_SCALE`], row-major `w * h`.
    pub luma: Vec<u16>,
    pub flags: Vec<u8>,
    /// Per-cell channel sums for the row of cells being built.
    pub acc: Vec<u32>,
    /// Per-byte sums of the pixel rows of that row of cells.
    pub rows: Vec<u16>,
    /// Blob search stack.
    pub stack: Vec<u32>,
    /// Exposure sums, gathered in the same pass.
    pub stats: Stats,
}

/// Sums over the cells, fused into the grid pass (and the background fill),
/// so that the exposure check costs nothing more.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Stats {
    pub luma_sum: u64,
    pub clipped: u64,
    pub centre_clipped: u64,
    pub centre_cells: u64,
    pub washed: u64,
    pub bg_cells: u64,
    pub bg_luma_sum: u64,
    pub bg_clipped: u64,
}

impl Grid {
    /// Build the grid for `roi` (already clamped to the view). `sparse`
    /// reads one pixel row per cell when cells are at most 3 rows high, two
    /// rows otherwise (live preview: a third to a half of the memory traffic).
    /// Otherwise every row is read.
    /// samples every n-th pixel row inside each cell (live preview).
    pub fn build(&mut self, view: &ImageView<'_>, roi: Roi, sparse: bool) {
        let long = roi.width.max(roi.height);
        let f = long.div_ceil(t::WORK_LONG_SIDE).max(1);
        let (w, h) = ((roi.width / f) as usize, (roi.height / f) as usize);
        self.w = w;
        self.stats = Stats::default();
        self.h = h;
        let n = w * h;
        self.luma.clear();
        self.luma.resize(n, 0);
        self.flags.clear();
        self.flags.resize(n, 0);
        self.acc.clear();
        self.acc.resize(w * 3, 0);
        if n == 0 {
            return;
        }
        let f = f as usize;
        // Row sums are u16: at most 256 sampled rows of 255 per cell.
        let row_step = match (sparse, f) {
            (false, _) => 1,
            (true, 0..=3) => f,
            (true, _) => f.div_ceil(2),
        };
        let step = row_step.max(f.div_ceil(256)).min(f);
        const _: () = assert!(t::LUMA_SCALE == 8, "the luma shift below assumes 8");
        let rows_used = f.div_ceil(step);
        let count = (rows_used * f) as u32;
        // Divisions per cell cost more than the whole pixel pass: multiply
        // by a 32.32 fixed-point reciprocal instead (exact to well under 1/8
        // grey level for these sums).
        let recip = (1u64 << 32) / u64::from(count) + 1;
        let mean = |s: u32| ((u64::from(s) * recip) >> 32) as u32;
        let bpp = view.format.bytes_per_pixel();
        let x0 = roi.x as usize * bpp;
        let span = w * f * bpp;
        self.rows.clear();
        self.rows.resize(span, 0);
        for cy in 0..h {
            // Vertical pass: add whole rows byte-wise (vectorises well)...
            self.rows.iter_mut().for_each(|a| *a = 0);
            let mut r = 0;
            while r < f {
                let y = roi.y as usize + cy * f + r;
                let start = y * view.stride + x0;
                let row = &view.pixels[start..start + span];
                for (a, &p) in self.rows.iter_mut().zip(row) {
                    *a += u16::from(p);
                }
                r += step;
            }
            // ...then the horizontal pass, once per row of cells.
            match (view.format, f) {
                // Fixed cell widths unroll into straight-line adds.
                (PixelFormat::Rgb8, 2) => horizontal_rgb::<2>(&self.rows, &mut self.acc),
                (PixelFormat::Rgb8, 3) => horizontal_rgb::<3>(&self.rows, &mut self.acc),
                (PixelFormat::Rgb8, 4) => horizontal_rgb::<4>(&self.rows, &mut self.acc),
                (PixelFormat::Rgb8, 5) => horizontal_rgb::<5>(&self.rows, &mut self.acc),
                (PixelFormat::Rgb8, 6) => horizontal_rgb::<6>(&self.rows, &mut self.acc),
                (PixelFormat::Rgb8, _) => {
                    for (px, a) in self
                        .rows
                        .chunks_exact(3 * f)
                        .zip(self.acc.chunks_exact_mut(3))
                    {
                        let (mut sr, mut sg, mut sb) = (0u32, 0u32, 0u32);
                        for p in px.chunks_exact(3) {
                            sr += u32::from(p[0]);
                            sg += u32::from(p[1]);
                            sb += u32::from(p[2]);
                        }
                        a.copy_from_slice(&[sr, sg, sb]);
                    }
                }
                (PixelFormat::Luma8, _) => {
                    for (px, a) in self.rows.chunks_exact(f).zip(self.acc.chunks_exact_mut(3)) {
                        let s: u32 = px.iter().map(|&v| u32::from(v)).sum();
                        a.copy_from_slice(&[s, s, s]);
                    }
                }
            }
            let base = cy * w;
            // Role detection only looks at the centre: skip skin elsewhere.
            let skin_row = (h * 15 / 100..h * 75 / 100).contains(&cy);
            let centre_row = (h / 5..h - h / 5).contains(&cy);
            let clip = t::CLIPPED_LUMA * t::LUMA_SCALE;
            let mut st = self.stats;
            for (cx, s) in self.acc.chunks_exact(3).enumerate() {
                let (sr, sg, sb) = (s[0], s[1], s[2]);
                // Luma (BT.601 weights /256) of the cell mean, scaled.
                let wsum = 77 * u64::from(sr) + 150 * u64::from(sg) + 29 * u64::from(sb);
                // wsum < 2^16 * count and recip ~ 2^32 / count: no overflow.
                // x LUMA_SCALE (8) / 256 is the shift by 5.
                let y8 = (wsum * recip) >> 37;
                let y8 = y8.min(255 * u64::from(t::LUMA_SCALE)) as u32;
                self.luma[base + cx] = y8 as u16;
                let clipped = u64::from(y8 >= clip);
                st.luma_sum += u64::from(y8);
                st.clipped += clipped;
                if centre_row && (w / 5..w - w / 5).contains(&cx) {
                    st.centre_clipped += clipped;
                    st.centre_cells += 1;
                }
                let mx = sr.max(sg).max(sb);
                let mn = sr.min(sg).min(sb);
                let chroma = mean(mx - mn);
                let mut fl = 0;
                if y8 >= t::GLARE_MIN_LUMA * t::LUMA_SCALE && chroma <= t::GLARE_MAX_CHROMA {
                    fl |= WASHED;
                }
                if skin_row
                    && (w / 4..w * 3 / 4).contains(&cx)
                    && is_skin(mean(sr), mean(sg), mean(sb))
                {
                    fl |= SKIN;
                }
                st.washed += u64::from(fl & WASHED);
                self.flags[base + cx] = fl;
            }
            self.stats = st;
        }
    }
}

/// Sum each run of `F` RGB row sums into one cell's three channel sums.
#[inline]
fn horizontal_rgb<const F: usize>(rows: &[u16], acc: &mut [u32]) {
    for (px, a) in rows.chunks_exact(3 * F).zip(acc.chunks_exact_mut(3)) {
        let (mut sr, mut sg, mut sb) = (0u32, 0u32, 0u32);
        for k in 0..F {
            sr += u32::from(px[3 * k]);
            sg += u32::from(px[3 * k + 1]);
            sb += u32::from(px[3 * k + 2]);
        }
        a[0] = sr;
        a[1] = sg;
        a[2] = sb;
    }
}

/// Skin tone in YCbCr (the classic Chai & Ngan box), integer arithmetic.
#[inline]
fn is_skin(r: u32, g: u32, b: u32) -> bool {
    let (r, g, b) = (r as i32, g as i32, b as i32);
    let y = (77 * r + 150 * g + 29 * b) >> 8;
    let cb = 128 + ((-43 * r - 85 * g + 128 * b) >> 8);
    let cr = 128 + ((128 * r - 107 * g - 21 * b) >> 8);
    y > 40 && (77..=127).contains(&cb) && (133..=173).contains(&cr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_averages_cells_and_flags_white() {
        // 1280 x 2 grey frame, left half white: factor 2 -> 640 x 1 cells.
        let (w, h) = (1280u32, 2u32);
        let mut px = vec![100u8; (w * h * 3) as usize];
        for y in 0..h as usize {
            for x in 0..640 {
                let i = (y * w as usize + x) * 3;
                px[i..i + 3].copy_from_slice(&[255, 255, 255]);
            }
        }
        let view = ImageView::rgb(&px, w, h);
        let mut g = Grid::default();
        g.build(&view, Roi::full(w, h), false);
        assert_eq!((g.w, g.h), (640, 1));
        assert_eq!(g.luma[0], 255 * 8);
        assert_eq!(g.luma[639], 100 * 8);
        assert_eq!(g.flags[0] & WASHED, WASHED);
        assert_eq!(g.flags[639] & WASHED, 0);
    }

    #[test]
    fn skin_box_accepts_skin_and_rejects_grey_and_blue() {
        assert!(is_skin(220, 170, 140));
        assert!(!is_skin(128, 128, 128));
        assert!(!is_skin(40, 60, 200));
    }
}
