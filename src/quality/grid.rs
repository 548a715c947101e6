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
    /// Per-cell channel sums for the row of cells being built: all the R
    /// sums, then all the G, then all the B.
    pub acc: Vec<u32>,
    /// Per-byte sums of the pixel rows of that row of cells.
    pub rows: Vec<u16>,
    /// Per-byte sums of `F` pixels along such a row (the horizontal pass).
    pub run: Vec<u16>,
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

/// Largest cell sample count for the fast cell pass: channel sums of up to
/// 255 x this still fit i32 after the luma weights (x 256).
const FAST_MAX_COUNT: u32 = 32_896;

/// Per-frame constants of the cell pass.
#[derive(Clone, Copy)]
struct CellConsts {
    /// 32.32 fixed-point reciprocal of the samples per cell.
    recip: u64,
    /// Largest max - min of the channel sums whose mean is still low-chroma
    /// enough for a washed-out cell.
    max_spread: u32,
}

impl CellConsts {
    fn new(count: u32) -> Self {
        let recip = (1u64 << 32) / u64::from(count) + 1;
        // mean(d) = (d * recip) >> 32 <= MAX  <=>  d * recip < (MAX + 1) << 32.
        let max_spread = ((u64::from(t::GLARE_MAX_CHROMA + 1) << 32) - 1) / recip;
        Self {
            recip,
            max_spread: max_spread.min(u64::from(u32::MAX)) as u32,
        }
    }

    /// Mean of a sum of `count` samples.
    #[inline]
    fn mean(self, s: u32) -> u32 {
        ((u64::from(s) * self.recip) >> 32) as u32
    }
}

/// Sums over one row of cells, added to [`Stats`] once per row.
#[derive(Default)]
struct RowSums {
    luma: u64,
    clipped: u64,
    washed: u64,
}

const CLIP: u32 = t::CLIPPED_LUMA * t::LUMA_SCALE;
const WASHED_LUMA: u32 = t::GLARE_MIN_LUMA * t::LUMA_SCALE;
const MAX_LUMA: u32 = 255 * t::LUMA_SCALE;

impl Grid {
    /// Build the grid for `roi` (already clamped to the view). `sparse`
    /// reads one pixel row per cell when cells are at most 3 rows high, two
    /// rows otherwise (live preview: a third to a half of the memory traffic).
    /// Otherwise every row is read.
    ///
    /// On x86-64 CPUs with AVX2 the same code runs compiled for AVX2 (the
    /// adds and the per-cell arithmetic vectorise twice as wide as with the
    /// SSE2 baseline); the results are identical.
    pub fn build(&mut self, view: &ImageView<'_>, roi: Roi, sparse: bool) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked just above.
            unsafe { self.build_avx2(view, roi, sparse) };
            return;
        }
        self.build_any(view, roi, sparse, false);
    }

    /// [`Grid::build`] compiled for AVX2.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn build_avx2(&mut self, view: &ImageView<'_>, roi: Roi, sparse: bool) {
        self.build_any(view, roi, sparse, true);
    }

    /// [`Grid::build`] for whatever CPU it is compiled for; inlined into each
    /// caller so that each gets its own instruction set. `avx2`: the caller
    /// is the AVX2 build (cells three pixels wide then take their sums with
    /// AVX2 shuffles, see [`cell_sums3_avx2`]).
    #[inline(always)]
    fn build_any(&mut self, view: &ImageView<'_>, roi: Roi, sparse: bool, avx2: bool) {
        let long = roi.width.max(roi.height);
        let f = long.div_ceil(t::WORK_LONG_SIDE).max(1);
        let (w, h) = ((roi.width / f) as usize, (roi.height / f) as usize);
        self.w = w;
        self.stats = Stats::default();
        self.h = h;
        let n = w * h;
        // Every cell of both is written below: no need to clear them.
        self.luma.resize(n, 0);
        self.flags.resize(n, 0);
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
        let k = CellConsts::new(count);
        let fast = (2..=FAST_MAX_COUNT).contains(&count);
        let bpp = view.format.bytes_per_pixel();
        let x0 = roi.x as usize * bpp;
        let span = w * f * bpp;
        self.rows.resize(span, 0);
        let (sr, rest) = self.acc.split_at_mut(w);
        let (sg, sb) = rest.split_at_mut(w);
        let direct = rows_used == 1 && view.format == PixelFormat::Rgb8 && (2..=6).contains(&f);
        let (x_centre, x_skin) = (w / 5..w - w / 5, w / 4..w * 3 / 4);
        for cy in 0..h {
            // Vertical pass: add whole rows byte-wise, up to three at a time
            // (vectorises well, and the row sums are stored once per group)...
            let y0 = roi.y as usize + cy * f;
            let row = |r: usize| {
                let start = (y0 + r) * view.stride + x0;
                &view.pixels[start..start + span]
            };
            if direct {
                // One pixel row per cell (preview): the horizontal pass reads
                // the pixels themselves, no row sums.
                let px = row(0);
                match f {
                    2 => horizontal_rgb::<2, u8>(px, &mut self.run, sr, sg, sb, avx2),
                    3 => horizontal_rgb::<3, u8>(px, &mut self.run, sr, sg, sb, avx2),
                    4 => horizontal_rgb::<4, u8>(px, &mut self.run, sr, sg, sb, avx2),
                    5 => horizontal_rgb::<5, u8>(px, &mut self.run, sr, sg, sb, avx2),
                    _ => horizontal_rgb::<6, u8>(px, &mut self.run, sr, sg, sb, avx2),
                }
            } else {
                let mut r = 0;
                while r < f {
                    let first = r == 0;
                    if r + 2 * step < f {
                        add_rows3(
                            &mut self.rows,
                            row(r),
                            row(r + step),
                            row(r + 2 * step),
                            first,
                        );
                        r += 3 * step;
                    } else if r + step < f {
                        add_rows2(&mut self.rows, row(r), row(r + step), first);
                        r += 2 * step;
                    } else {
                        add_rows1(&mut self.rows, row(r), first);
                        r += step;
                    }
                }
                // ...then the horizontal pass, once per row of cells, into one
                // array per channel...
                match (view.format, f) {
                    // Fixed cell widths unroll into straight-line adds.
                    (PixelFormat::Rgb8, 2) => {
                        horizontal_rgb::<2, u16>(&self.rows, &mut self.run, sr, sg, sb, avx2)
                    }
                    (PixelFormat::Rgb8, 3) => {
                        horizontal_rgb::<3, u16>(&self.rows, &mut self.run, sr, sg, sb, avx2)
                    }
                    (PixelFormat::Rgb8, 4) => {
                        horizontal_rgb::<4, u16>(&self.rows, &mut self.run, sr, sg, sb, avx2)
                    }
                    (PixelFormat::Rgb8, 5) => {
                        horizontal_rgb::<5, u16>(&self.rows, &mut self.run, sr, sg, sb, avx2)
                    }
                    (PixelFormat::Rgb8, 6) => {
                        horizontal_rgb::<6, u16>(&self.rows, &mut self.run, sr, sg, sb, avx2)
                    }
                    (PixelFormat::Rgb8, _) => {
                        let cells = self.rows.chunks_exact(3 * f);
                        for (px, ((r, g), b)) in
                            cells.zip(sr.iter_mut().zip(&mut *sg).zip(&mut *sb))
                        {
                            let (mut r_, mut g_, mut b_) = (0u32, 0u32, 0u32);
                            for p in px.chunks_exact(3) {
                                r_ = r_.wrapping_add(u32::from(p[0]));
                                g_ = g_.wrapping_add(u32::from(p[1]));
                                b_ = b_.wrapping_add(u32::from(p[2]));
                            }
                            (*r, *g, *b) = (r_, g_, b_);
                        }
                    }
                    (PixelFormat::Luma8, _) => {
                        let cells = self.rows.chunks_exact(f);
                        for (px, ((r, g), b)) in
                            cells.zip(sr.iter_mut().zip(&mut *sg).zip(&mut *sb))
                        {
                            let s = px.iter().fold(0u32, |a, &v| a.wrapping_add(u32::from(v)));
                            (*r, *g, *b) = (s, s, s);
                        }
                    }
                }
            }
            // ...then luma, flags and sums per cell, branch-free.
            let base = cy * w;
            let luma = &mut self.luma[base..base + w];
            let flags = &mut self.flags[base..base + w];
            let sums = if fast {
                cells_fast(sr, sg, sb, luma, flags, k)
            } else {
                cells_general(sr, sg, sb, luma, flags, k)
            };
            let st = &mut self.stats;
            st.luma_sum += sums.luma;
            st.clipped += sums.clipped;
            st.washed += sums.washed;
            if (h / 5..h - h / 5).contains(&cy) {
                let centre = &luma[x_centre.clone()];
                st.centre_clipped += centre
                    .iter()
                    .map(|&v| u64::from(u32::from(v) >= CLIP))
                    .sum::<u64>();
                st.centre_cells += centre.len() as u64;
            }
            // Role detection only looks at the centre: skip skin elsewhere.
            if (h * 15 / 100..h * 75 / 100).contains(&cy) {
                let x = x_skin.clone();
                let rgb = sr[x.clone()].iter().zip(&sg[x.clone()]).zip(&sb[x.clone()]);
                if fast {
                    // The reciprocal fits 32 bits: 32 x 32 -> 64 products.
                    let recip = u64::from(k.recip as u32);
                    let mean = |s: u32| ((u64::from(s) * recip) >> 32) as u32;
                    for (fl, ((&r, &g), &b)) in flags[x].iter_mut().zip(rgb) {
                        *fl |= SKIN * u8::from(is_skin(mean(r), mean(g), mean(b)));
                    }
                } else {
                    for (fl, ((&r, &g), &b)) in flags[x].iter_mut().zip(rgb) {
                        *fl |= SKIN * u8::from(is_skin(k.mean(r), k.mean(g), k.mean(b)));
                    }
                }
            }
        }
    }
}

/// `dst = a` (first row of a cell) or `dst += a`, byte-wise.
#[inline(always)]
fn add_rows1(dst: &mut [u16], a: &[u8], first: bool) {
    if first {
        for (d, &p) in dst.iter_mut().zip(a) {
            *d = u16::from(p);
        }
    } else {
        for (d, &p) in dst.iter_mut().zip(a) {
            *d += u16::from(p);
        }
    }
}

/// `dst = a + b` or `dst += a + b`, byte-wise.
#[inline(always)]
fn add_rows2(dst: &mut [u16], a: &[u8], b: &[u8], first: bool) {
    let n = dst.len().min(a.len()).min(b.len());
    let (dst, a, b) = (&mut dst[..n], &a[..n], &b[..n]);
    if first {
        for ((d, &p), &q) in dst.iter_mut().zip(a).zip(b) {
            *d = u16::from(p) + u16::from(q);
        }
    } else {
        for ((d, &p), &q) in dst.iter_mut().zip(a).zip(b) {
            *d += u16::from(p) + u16::from(q);
        }
    }
}

/// `dst = a + b + c` or `dst += a + b + c`, byte-wise.
#[inline(always)]
fn add_rows3(dst: &mut [u16], a: &[u8], b: &[u8], c: &[u8], first: bool) {
    let n = dst.len().min(a.len()).min(b.len()).min(c.len());
    let (dst, a, b, c) = (&mut dst[..n], &a[..n], &b[..n], &c[..n]);
    if first {
        for (((d, &p), &q), &r) in dst.iter_mut().zip(a).zip(b).zip(c) {
            *d = u16::from(p) + u16::from(q) + u16::from(r);
        }
    } else {
        for (((d, &p), &q), &r) in dst.iter_mut().zip(a).zip(b).zip(c) {
            *d += u16::from(p) + u16::from(q) + u16::from(r);
        }
    }
}

/// Sum each run of `F` RGB row sums (or pixels) into one cell's three
/// channel sums, in two steps that vectorise: for every byte, the sum of the
/// `F` same-channel bytes from it on (whole-row adds shifted by a pixel,
/// into `run`), then each cell's three sums taken from its first three
/// bytes. `run` stays below 2^16: `F` x at most 6 rows x 255.
#[inline(always)]
fn horizontal_rgb<const F: usize, T: Copy + Into<u16>>(
    rows: &[T],
    run: &mut Vec<u16>,
    sr: &mut [u32],
    sg: &mut [u32],
    sb: &mut [u32],
    avx2: bool,
) {
    let cells = sr.len().min(sg.len()).min(sb.len());
    if cells == 0 {
        return;
    }
    let len = 3 * F * cells;
    let rows = &rows[..len];
    // Only each cell's first three sums are read: the last cell's end
    // (`3 * (F - 1)` bytes whose runs would go past the row) is left out.
    let full = len - 3 * (F - 1);
    run.resize(len, 0);
    // One pass, a block at a time: the block's sums stay in registers
    // while the `F` shifted slices are added, and are stored once.
    const B: usize = 64;
    let mut blocks = run[..full].chunks_exact_mut(B);
    let mut i = 0;
    for out in &mut blocks {
        let mut acc = [0u16; B];
        for k in 0..F {
            for (a, &v) in acc.iter_mut().zip(&rows[i + 3 * k..i + 3 * k + B]) {
                *a += v.into();
            }
        }
        out.copy_from_slice(&acc);
        i += B;
    }
    for (j, d) in blocks.into_remainder().iter_mut().enumerate() {
        *d = (0..F).map(|k| rows[i + j + 3 * k].into()).sum();
    }
    #[cfg(target_arch = "x86_64")]
    if F == 3 && avx2 {
        // SAFETY: `avx2` is only true in the build for CPUs with AVX2.
        unsafe { cell_sums3_avx2(run, sr, sg, sb) };
        return;
    }
    let _ = avx2;
    cell_sums::<F>(run, sr, sg, sb);
}

/// Each cell's three channel sums: the first three of its `3 * F` runs.
#[inline(always)]
fn cell_sums<const F: usize>(run: &[u16], sr: &mut [u32], sg: &mut [u32], sb: &mut [u32]) {
    let cells = run.chunks_exact(3 * F);
    for (p, ((r, g), b)) in cells.zip(sr.iter_mut().zip(sg.iter_mut()).zip(sb.iter_mut())) {
        (*r, *g, *b) = (p[0].into(), p[1].into(), p[2].into());
    }
}

/// [`cell_sums`] for cells three pixels wide (nine runs each), eight cells
/// at a time: the compiler's own version inserts the 24 sums one word at a
/// time. Cell `c` of a group starts at word `9c` of its 72, which is word
/// `c` of the group's `c`-th vector of eight: each channel is a diagonal of
/// the nine vectors, taken by word blends and one byte shift.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn cell_sums3_avx2(run: &[u16], sr: &mut [u32], sg: &mut [u32], sb: &mut [u32]) {
    use std::arch::x86_64::{
        __m128i, __m256i, _mm256_cvtepu16_epi32, _mm256_storeu_si256, _mm_alignr_epi8,
        _mm_blend_epi16, _mm_loadu_si128,
    };
    let cells = sr.len().min(sg.len()).min(sb.len()).min(run.len() / 9);
    let groups = cells / 8;
    for k in 0..groups {
        let c = 8 * k;
        let words = &run[9 * c..9 * c + 72];
        // SAFETY: `words` holds 72 u16, nine unaligned 16-byte loads.
        let x: [__m128i; 9] =
            std::array::from_fn(|i| unsafe { _mm_loadu_si128(words.as_ptr().add(8 * i).cast()) });
        // Red of cell c: word c of x[c].
        let mut r = x[0];
        r = _mm_blend_epi16::<0x02>(r, x[1]);
        r = _mm_blend_epi16::<0x04>(r, x[2]);
        r = _mm_blend_epi16::<0x08>(r, x[3]);
        r = _mm_blend_epi16::<0x10>(r, x[4]);
        r = _mm_blend_epi16::<0x20>(r, x[5]);
        r = _mm_blend_epi16::<0x40>(r, x[6]);
        r = _mm_blend_epi16::<0x80>(r, x[7]);
        // Green: word c + 1 of x[c] (for c = 7, word 0 of x[8]), moved
        // down one word.
        let mut g = x[0];
        g = _mm_blend_epi16::<0x04>(g, x[1]);
        g = _mm_blend_epi16::<0x08>(g, x[2]);
        g = _mm_blend_epi16::<0x10>(g, x[3]);
        g = _mm_blend_epi16::<0x20>(g, x[4]);
        g = _mm_blend_epi16::<0x40>(g, x[5]);
        g = _mm_blend_epi16::<0x80>(g, x[6]);
        g = _mm_alignr_epi8::<2>(x[8], g);
        // Blue: word c + 2 of x[c] (c = 6, 7: words 0 and 1 of x[7], x[8]),
        // moved down two words.
        let mut b = x[0];
        b = _mm_blend_epi16::<0x08>(b, x[1]);
        b = _mm_blend_epi16::<0x10>(b, x[2]);
        b = _mm_blend_epi16::<0x20>(b, x[3]);
        b = _mm_blend_epi16::<0x40>(b, x[4]);
        b = _mm_blend_epi16::<0x80>(b, x[5]);
        b = _mm_alignr_epi8::<4>(_mm_blend_epi16::<0x02>(x[7], x[8]), b);
        for (dst, v) in [(&mut *sr, r), (&mut *sg, g), (&mut *sb, b)] {
            let out = &mut dst[c..c + 8];
            // SAFETY: `out` holds eight u32, one unaligned 32-byte store.
            unsafe {
                _mm256_storeu_si256(out.as_mut_ptr().cast::<__m256i>(), _mm256_cvtepu16_epi32(v))
            };
        }
    }
    let done = 8 * groups;
    cell_sums::<3>(
        &run[9 * done..],
        &mut sr[done..],
        &mut sg[done..],
        &mut sb[done..],
    );
}

/// Luma and the washed-out flag of one row of cells from their channel sums
/// (at most [`FAST_MAX_COUNT`] samples each, so every sum fits i32 and the
/// reciprocal 32 bits): no branch, signed compares only, vectorises.
#[inline(always)]
fn cells_fast(
    sr: &[u32],
    sg: &[u32],
    sb: &[u32],
    luma: &mut [u16],
    flags: &mut [u8],
    k: CellConsts,
) -> RowSums {
    let recip = u64::from(k.recip as u32);
    let max_spread = k.max_spread.min(i32::MAX as u32) as i32;
    let (mut sum, mut clipped, mut washed) = (0u32, 0u32, 0u32);
    let rgb = sr.iter().zip(sg).zip(sb);
    for ((l, fl), ((&r, &g), &b)) in luma.iter_mut().zip(flags.iter_mut()).zip(rgb) {
        let (r, g, b) = (r as i32, g as i32, b as i32);
        // Luma (BT.601 weights /256) of the cell mean, scaled.
        let wsum = 77 * r + 150 * g + 29 * b;
        // wsum < 2^31 and recip < 2^32: no overflow. x LUMA_SCALE (8) / 256
        // is the shift by 5. At most 2040 (255 x 8) without clamping: the
        // reciprocal's excess adds under 1/64 to a mean of at most 2040.
        let y8 = ((u64::from(wsum as u32) * recip) >> 37) as i32;
        *l = y8 as u16;
        sum += y8 as u32;
        clipped += u32::from(y8 >= CLIP as i32);
        // max - min <= limit, as three pairwise differences.
        let low_chroma = ((r - g).abs() <= max_spread)
            & ((g - b).abs() <= max_spread)
            & ((r - b).abs() <= max_spread);
        let wo = u8::from(y8 >= WASHED_LUMA as i32) & u8::from(low_chroma);
        *fl = wo * WASHED;
        washed += u32::from(wo);
    }
    RowSums {
        luma: sum.into(),
        clipped: clipped.into(),
        washed: washed.into(),
    }
}

/// [`cells_fast`] for any sample count (tiny frames with one sample per
/// cell, absurdly wide ones), in 64-bit arithmetic.
#[inline(never)]
fn cells_general(
    sr: &[u32],
    sg: &[u32],
    sb: &[u32],
    luma: &mut [u16],
    flags: &mut [u8],
    k: CellConsts,
) -> RowSums {
    let mut s = RowSums::default();
    let rgb = sr.iter().zip(sg).zip(sb);
    for ((l, fl), ((&r, &g), &b)) in luma.iter_mut().zip(flags.iter_mut()).zip(rgb) {
        let wsum = 77 * u64::from(r) + 150 * u64::from(g) + 29 * u64::from(b);
        let y8 = ((wsum.wrapping_mul(k.recip)) >> 37).min(u64::from(MAX_LUMA)) as u32;
        *l = y8 as u16;
        s.luma += u64::from(y8);
        s.clipped += u64::from(y8 >= CLIP);
        let spread = r.max(g).max(b) - r.min(g).min(b);
        let wo = u8::from(y8 >= WASHED_LUMA) & u8::from(spread <= k.max_spread);
        *fl = wo * WASHED;
        s.washed += u64::from(wo);
    }
    s
}

/// Skin tone in YCbCr (the classic Chai & Ngan box), integer arithmetic.
/// Branch-free (`&`, not `&&`), so that a row of cells vectorises. The
/// channels are means (at most 255).
#[inline(always)]
fn is_skin(r: u32, g: u32, b: u32) -> bool {
    let (r, g, b) = (r as i32, g as i32, b as i32);
    let y = (77 * r + 150 * g + 29 * b) >> 8;
    let cb = 128 + ((-43 * r - 85 * g + 128 * b) >> 8);
    let cr = 128 + ((128 * r - 107 * g - 21 * b) >> 8);
    (y > 40) & (77..=127).contains(&cb) & (133..=173).contains(&cr)
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
    fn fast_pass_matches_the_reference() {
        let mut seed = 0x2545_f491_u32;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        // Sizes giving cell factors 1..=7 (and 13), odd leftovers, bright
        // and washed-out areas, skin-coloured ones; RGB and grey; ROIs.
        let sizes = [
            (1920, 1080),
            (3840, 2160),
            (1280, 720),
            (640, 480),
            (2592, 1944),
            (4500, 700),
            (8000, 300),
            (77, 50),
        ];
        for (w, h) in sizes {
            let px: Vec<u8> = (0..w * h * 3)
                .map(|i| {
                    let (x, y) = ((i / 3) % w, (i / 3) / w);
                    match (x * 4 / w, y * 3 / h) {
                        (0, _) => 255 - (rnd() % 12) as u8,
                        (1, 1) => [225u8, 175, 145][i % 3] ^ (rnd() % 8) as u8,
                        _ => rnd() as u8,
                    }
                })
                .collect();
            let views = [
                ImageView::rgb(&px, w as u32, h as u32),
                ImageView::luma(&px, w as u32, h as u32).with_stride(w * 3),
            ];
            let rois = [
                Roi::full(w as u32, h as u32),
                Roi {
                    x: 3,
                    y: 1,
                    width: w as u32 / 2 + 7,
                    height: h as u32 - 2,
                },
            ];
            for view in views {
                for roi in rois {
                    for sparse in [false, true] {
                        let (mut a, mut b) = (Grid::default(), Grid::default());
                        a.build(&view, roi, sparse);
                        b.build_reference(&view, roi, sparse);
                        let what = format!("{w}x{h} {:?} {roi:?} sparse {sparse}", view.format);
                        assert_eq!((a.w, a.h), (b.w, b.h), "{what}");
                        assert!(a.luma == b.luma, "{what}");
                        assert!(a.flags == b.flags, "{what}");
                        assert_eq!(format!("{:?}", a.stats), format!("{:?}", b.stats), "{what}");
                        assert!(a.stats.washed > 0, "{what}");
                        // The baseline build (what a CPU without AVX2 runs)
                        // gives the same grid as the one `build` chose here.
                        let mut c = Grid::default();
                        c.build_any(&view, roi, sparse, false);
                        assert!(c.luma == a.luma && c.flags == a.flags, "{what}");
                        assert_eq!(format!("{:?}", c.stats), format!("{:?}", a.stats), "{what}");
                    }
                }
            }
        }
    }

    #[test]
    fn skin_box_accepts_skin_and_rejects_grey_and_blue() {
        assert!(is_skin(220, 170, 140));
        assert!(!is_skin(128, 128, 128));
        assert!(!is_skin(40, 60, 200));
    }

    /// The grid pass as first written: interleaved sums, one cell at a time.
    impl Grid {
        fn build_reference(&mut self, view: &ImageView<'_>, roi: Roi, sparse: bool) {
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
}
