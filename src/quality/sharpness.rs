//! Sharpness: how steep the strongest edges are, independent of contrast,
//! exposure and resolution.
//!
//! The variance of the Laplacian grows with contrast and with sensor
//! resolution and shrinks in the dark, so a dim but sharp card reads "blurry"
//! and a blurred 4K frame reads "sharp". Here instead, on the working grid, we
//! compare for each direction the energy of 1-cell differences with the energy
//! of 4-cell differences over the edge cells only: a step edge gives 1/4, an
//! edge smeared over k cells about 1/(k+3)... down to 1/16. The ratio does not
//! depend on how bright or contrasted the edge is. Cells whose gradient is
//! below a fraction of the frame's strongest edges (or the noise floor) are
//! left out, so flat areas, sensor noise and JPEG ringing do not count. The
//! worse of the horizontal and vertical figures is kept: motion blur smears one
//! direction only.
//!
//! That score is relative to the grid cell, while legibility is relative to
//! the text: an edge smeared over two cells ruins print 2 cells high and is
//! nothing on lettering 25 cells high. So a document's threshold moves with
//! the scale of its text, read from the pitch of its lines
//! ([`line_pitch`]): rows of text make the per-row edge energy periodic, and
//! that period survives blur far beyond the legibility line (blur merges the
//! strokes of a line long before it merges two lines). Large text is allowed a
//! lower score ([`blurry_below_document`]); a frame without periodic rows (a
//! photograph, a tilted page) keeps the fixed threshold.

use super::grid::Grid;
use super::thresholds as t;

/// Histogram bins of span-4 gradients (scaled luma goes up to 2040).
const BINS: usize = 2048;

/// Reusable buffers, so the live path does not allocate. Horizontal and
/// vertical gradients of even and odd cells go to four separate quarters of
/// `hist`: consecutive increments of the same bin (flat areas) would
/// otherwise wait on each other through memory. `rows` holds the per-row
/// edge energy of [`line_pitch`] (the grid has at most
/// [`t::WORK_LONG_SIDE`] rows).
#[derive(Debug)]
pub(crate) struct SharpScratch {
    hist: Box<[u32; 4 * BINS]>,
    rows: Box<[f32; MAX_ROWS]>,
    ac: [f32; MAX_PITCH + 1],
}

const MAX_ROWS: usize = t::WORK_LONG_SIDE as usize;

impl Default for SharpScratch {
    fn default() -> Self {
        Self {
            hist: Box::new([0; 4 * BINS]),
            rows: Box::new([0.0; MAX_ROWS]),
            ac: [0.0; MAX_PITCH + 1],
        }
    }
}

/// The pitch of the frame's lines of text, in grid rows, and how periodic the
/// rows are at that pitch (the normalised autocorrelation, at most 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LinePitch {
    pub rows: u32,
    pub strength: f32,
}

/// Half-width, in rows, of the moving average removed from the per-row edge
/// energy before the autocorrelation (slow changes: the page edge, light).
const DETREND: usize = 20;
/// Longest pitch looked for, in rows.
const MAX_PITCH: usize = 89;

/// Period of the per-row edge energy (the sum of |1-cell horizontal
/// differences| along each grid row): the line pitch of horizontal text.
/// The first autocorrelation peak after the first negative lag that reaches
/// 0.8 of the highest one (so a multiple of the pitch is not taken for it).
/// `None` when the grid is too short or its rows are not periodic at all.
#[must_use]
pub(crate) fn line_pitch(g: &Grid, s: &mut SharpScratch) -> Option<LinePitch> {
    let (w, h) = (g.w, g.h);
    if w < 2 || !(2 * DETREND + 24..=MAX_ROWS).contains(&h) || g.luma.len() < w * h {
        return None;
    }
    let e = &mut s.rows[..h];
    for (y, out) in e.iter_mut().enumerate() {
        let row = &g.luma[y * w..(y + 1) * w];
        // At most 639 x 2040: fits u32 (and f32, exactly).
        let sum = row[1..]
            .iter()
            .zip(&row[..w - 1])
            .fold(0u32, |a, (&p, &q)| a + u32::from(p.abs_diff(q)));
        *out = sum as f32;
    }
    // Detrend in place: d[i] = e[i + R] - mean(e[i..=i + 2R]), i < n. The
    // window runs ahead of the write position, so keep its sum apart (exact:
    // integers below 2^24 x 41 in f64).
    let n = h - 2 * DETREND;
    let win = (2 * DETREND + 1) as f64;
    let mut sum: f64 = e[..=2 * DETREND].iter().map(|&v| f64::from(v)).sum();
    for i in 0..n {
        let centre = f64::from(e[i + DETREND]);
        let first = f64::from(e[i]);
        e[i] = (centre - sum / win) as f32;
        if i + 2 * DETREND + 1 < h {
            sum += f64::from(e[i + 2 * DETREND + 1]) - first;
        }
    }
    let d = &e[..n];
    let energy = dot(d, d) / n as f32;
    if energy <= 0.0 {
        return None;
    }
    let kmax = MAX_PITCH.min(n / 2);
    let ac = &mut s.ac[..=kmax];
    for (k, a) in ac.iter_mut().enumerate().skip(1) {
        *a = dot(&d[..n - k], &d[k..]) / (n - k) as f32 / energy;
    }
    let k0 = (1..=kmax).find(|&k| ac[k] < 0.0)?;
    let top = ac[k0..].iter().copied().fold(f32::MIN, f32::max);
    let k = (k0..=kmax).find(|&k| ac[k] >= 0.8 * top)?;
    Some(LinePitch {
        rows: k as u32,
        strength: ac[k],
    })
}

/// Dot product in eight independent lanes (it vectorises; the order of a
/// single running sum would not let it).
#[inline]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut lanes = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for ((l, p), q) in lanes.iter_mut().zip(x).zip(y) {
            *l += p * q;
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// The sharpness below which a document frame is blurry, given its line
/// pitch: [`t::BLURRY_BELOW_DOCUMENT`] without periodic rows; with them,
/// `DOC_BLUR_AT_PITCH_1 - DOC_BLUR_PER_LN_PITCH * ln(pitch)`, kept within
/// 0.3..=[`t::DOC_BLUR_MAX`]. Large text has wide edges in grid cells and
/// is still legible: its threshold is lower.
#[must_use]
pub(crate) fn blurry_below_document(pitch: Option<LinePitch>) -> f32 {
    match pitch {
        Some(p) if p.strength >= t::LINE_PITCH_MIN_STRENGTH && p.rows >= t::LINE_PITCH_MIN_ROWS => {
            let v = t::DOC_BLUR_AT_PITCH_1 - t::DOC_BLUR_PER_LN_PITCH * (p.rows as f32).ln();
            v.clamp(0.3, t::DOC_BLUR_MAX)
        }
        _ => t::BLURRY_BELOW_DOCUMENT,
    }
}

/// Sharpness score in 0..=1 (1 = sharp), and whether any edge was found.
#[must_use]
pub(crate) fn sharpness(g: &Grid, s: &mut SharpScratch) -> f32 {
    let (w, h) = (g.w, g.h);
    if w < 5 || h < 5 || g.luma.len() < w * h {
        return 1.0;
    }
    let l = &g.luma[..w * h];
    s.hist.fill(0);
    let (hx, rest) = s.hist.split_at_mut(BINS);
    let (hy, rest) = rest.split_at_mut(BINS);
    let (hx2, hy2) = rest.split_at_mut(BINS);
    // Pass 1: distribution of span-4 gradients in both directions, on every
    // fourth row (a percentile needs no more).
    let n = w - 4;
    let bin = |a: u16, b: u16| usize::from(a.abs_diff(b)).min(BINS - 1);
    for y in (2..h - 2).step_by(4) {
        let row = &l[y * w..(y + 1) * w];
        let up = &l[(y - 2) * w + 2..(y - 2) * w + 2 + n];
        let down = &l[(y + 2) * w + 2..(y + 2) * w + 2 + n];
        let (right, left) = (&row[4..4 + n], &row[..n]);
        let pairs = (right.chunks_exact(2).zip(left.chunks_exact(2)))
            .zip(down.chunks_exact(2).zip(up.chunks_exact(2)));
        for ((r, le), (d, u)) in pairs {
            hx[bin(r[0], le[0])] += 1;
            hy[bin(d[0], u[0])] += 1;
            hx2[bin(r[1], le[1])] += 1;
            hy2[bin(d[1], u[1])] += 1;
        }
        if n % 2 == 1 {
            hx[bin(right[n - 1], left[n - 1])] += 1;
            hy[bin(down[n - 1], up[n - 1])] += 1;
        }
    }
    for (((a, &b), &c), &d) in hx.iter_mut().zip(hy.iter()).zip(hx2.iter()).zip(hy2.iter()) {
        *a += b + c + d;
    }
    let total: u64 = hx.iter().map(|&v| u64::from(v)).sum();
    let p98 = percentile(hx, total, 0.98);
    let thr = ((p98 as f32 * t::EDGE_RELATIVE) as u32).max(t::EDGE_NOISE_FLOOR);
    let thr = thr.min(i16::MAX as u32) as i16;

    // Pass 2: 1-cell vs 4-cell energy over the edge cells, per direction:
    // horizontal, vertical and both diagonals (diagonal motion blur smears
    // both axes only partly, but its own diagonal fully).
    // Every row: sampling rows here aliases with periodic print (a pattern
    // whose edges all fall on odd rows would read as smeared).
    // Cell x of the row is compared with x+1 / x-2..x+2 (horizontal), the
    // cell below / 2 above..2 below (vertical), and the same along both
    // diagonals; every operand is a slice of `n` cells shifted accordingly.
    score(&edge_energies(l, w, h, thr))
}

/// The score from the per-direction sums `[1-cell energy, 4-cell energy,
/// edge cells]`: 4 x their ratio in the worst direction with enough edge
/// cells, 1 when none has.
fn score(acc: &[[u64; 3]; 4]) -> f32 {
    acc.iter()
        .map(|&[f, c, n]| {
            if n < t::MIN_EDGE_CELLS || c == 0 {
                1.0
            } else {
                (4.0 * f as f64 / c as f64).min(1.0) as f32
            }
        })
        .fold(1.0, f32::min)
}

/// Pass 2 of [`sharpness`] over the `w`×`h` luma grid `l` (at least 5×5):
/// per direction, [`edge_energy`] summed over every row. On x86-64 CPUs
/// with AVX2 it runs compiled for AVX2 (sixteen 16-bit lanes instead of
/// eight; integer sums, so the same result).
fn edge_energies(l: &[u16], w: usize, h: usize, thr: i16) -> [[u64; 3]; 4] {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { edge_energies_avx2(l, w, h, thr) };
    }
    edge_energies_any(l, w, h, thr, false)
}

/// [`edge_energies`] compiled for AVX2.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn edge_energies_avx2(l: &[u16], w: usize, h: usize, thr: i16) -> [[u64; 3]; 4] {
    edge_energies_any(l, w, h, thr, true)
}

/// `avx2`: the caller is the AVX2 build, which sums each row with
/// [`edge_energy_avx2`].
#[inline(always)]
fn edge_energies_any(l: &[u16], w: usize, h: usize, thr: i16, avx2: bool) -> [[u64; 3]; 4] {
    let n = w - 4;
    let mut acc = [[0u64; 3]; 4];
    // Cleared once: each block of `edge_energy` writes what it reads.
    let mut buf = ([0i16; BLOCK], [0i16; BLOCK]);
    for y in 2..h - 2 {
        let row = &l[y * w..(y + 1) * w];
        let up2 = &l[(y - 2) * w..(y - 1) * w];
        let down1 = &l[(y + 1) * w..(y + 2) * w];
        let down2 = &l[(y + 2) * w..(y + 3) * w];
        let c = &row[2..2 + n];
        let dirs: [(&[u16], &[u16], &[u16]); 4] = [
            (&row[4..], &row[..n], &row[3..]),
            (&down2[2..], &up2[2..], &down1[2..]),
            (&down2[4..], &up2[..n], &down1[3..]),
            (&down2[..n], &up2[4..], &down1[1..]),
        ];
        for (a, (far_a, far_b, near)) in acc.iter_mut().zip(dirs) {
            #[cfg(target_arch = "x86_64")]
            let e = if avx2 {
                // SAFETY: `avx2` is only true in the build for CPUs with AVX2.
                unsafe { edge_energy_avx2(far_a, far_b, near, c, thr, &mut buf) }
            } else {
                edge_energy(far_a, far_b, near, c, thr, &mut buf)
            };
            #[cfg(not(target_arch = "x86_64"))]
            let e = {
                let _ = avx2;
                edge_energy(far_a, far_b, near, c, thr, &mut buf)
            };
            for (a, e) in a.iter_mut().zip(e) {
                *a += e;
            }
        }
    }
    acc
}

/// Over the cells `i` where the 4-cell difference `far_a[i] - far_b[i]` is at
/// least `thr` in magnitude: the sum of squared 1-cell differences
/// `near[i] - c[i]`, the sum of squared 4-cell differences, and their count.
///
/// Luma is at most 2040, so differences fit i16 and squares fit u32; the
/// loops have no branch and no bounds check, and compile to SIMD.
#[inline(always)]
fn edge_energy(
    far_a: &[u16],
    far_b: &[u16],
    near: &[u16],
    c: &[u16],
    thr: i16,
    (d1, d4): &mut ([i16; BLOCK], [i16; BLOCK]),
) -> [u64; 3] {
    let mut out = [0u64; 3];
    let n = c.len().min(far_a.len()).min(far_b.len()).min(near.len());
    // Stage 1 keeps everything 16 bits wide (eight lanes a register): the
    // masked differences go to two small buffers; stage 2 sums their squares.
    let mut i = 0;
    while i < n {
        let end = (i + BLOCK).min(n);
        let len = end - i;
        let mut k = 0u16;
        let cells = far_a[i..end]
            .iter()
            .zip(&far_b[i..end])
            .zip(near[i..end].iter().zip(&c[i..end]));
        for ((((&a, &b), (&p, &q)), o1), o4) in cells.zip(d1.iter_mut()).zip(d4.iter_mut()) {
            let g4 = (a as i16).wrapping_sub(b as i16);
            let g1 = (p as i16).wrapping_sub(q as i16);
            let edge = g4.wrapping_abs() >= thr;
            (*o1, *o4) = if edge { (g1, g4) } else { (0, 0) };
            k += u16::from(edge);
        }
        let square_sum = |d: &[i16]| {
            d.iter().fold(0u32, |s, &v| {
                s.wrapping_add((i32::from(v) * i32::from(v)) as u32)
            })
        };
        out[0] += u64::from(square_sum(&d1[..len]));
        out[1] += u64::from(square_sum(&d4[..len]));
        out[2] += u64::from(k);
        i = end;
    }
    out
}

/// [`edge_energy`] in AVX2, sixteen cells at a time without the buffers:
/// the masked differences are squared and summed in pairs into 32-bit lanes
/// (`vpmaddwd`) as they are made. Same sums: at most 2 x 2040² per lane per
/// step, and lanes are added into the u64 totals every 256 steps. The last
/// cells (fewer than sixteen) go through [`edge_energy`] with `buf`.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn edge_energy_avx2(
    far_a: &[u16],
    far_b: &[u16],
    near: &[u16],
    c: &[u16],
    thr: i16,
    buf: &mut ([i16; BLOCK], [i16; BLOCK]),
) -> [u64; 3] {
    use std::arch::x86_64::{
        __m256i, _mm256_abs_epi16, _mm256_add_epi32, _mm256_and_si256, _mm256_cmpgt_epi16,
        _mm256_loadu_si256, _mm256_madd_epi16, _mm256_set1_epi16, _mm256_setzero_si256,
        _mm256_storeu_si256, _mm256_sub_epi16,
    };
    let n = c.len().min(far_a.len()).min(far_b.len()).min(near.len());
    let (far_a, far_b, near, c) = (&far_a[..n], &far_b[..n], &near[..n], &c[..n]);
    // |g4| >= thr as |g4| > thr - 1 (thr is at least the noise floor, > 0).
    let below = _mm256_set1_epi16(thr.saturating_sub(1));
    let lanes = |v: __m256i| {
        let mut a = [0u32; 8];
        // SAFETY: `a` is 32 bytes, one unaligned store.
        unsafe { _mm256_storeu_si256(a.as_mut_ptr().cast(), v) };
        a.iter().map(|&x| u64::from(x)).sum::<u64>()
    };
    let mut out = [0u64; 3];
    let steps = n / 16;
    let mut step = 0;
    while step < steps {
        let end = (step + 256).min(steps);
        let (mut s1, mut s4, mut k) = (
            _mm256_setzero_si256(),
            _mm256_setzero_si256(),
            _mm256_setzero_si256(),
        );
        for i in (16 * step..16 * end).step_by(16) {
            // SAFETY: i + 16 <= n, the length of all four slices.
            let load = |s: &[u16]| unsafe { _mm256_loadu_si256(s.as_ptr().add(i).cast()) };
            let g4 = _mm256_sub_epi16(load(far_a), load(far_b));
            let g1 = _mm256_sub_epi16(load(near), load(c));
            let edge = _mm256_cmpgt_epi16(_mm256_abs_epi16(g4), below);
            let (g4, g1) = (_mm256_and_si256(g4, edge), _mm256_and_si256(g1, edge));
            s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(g1, g1));
            s4 = _mm256_add_epi32(s4, _mm256_madd_epi16(g4, g4));
            // An edge lane is all ones (-1): subtracting counts it.
            k = _mm256_sub_epi16(k, edge);
        }
        out[0] += lanes(s1);
        out[1] += lanes(s4);
        let mut counts = [0u16; 16];
        // SAFETY: `counts` is 32 bytes, one unaligned store.
        unsafe { _mm256_storeu_si256(counts.as_mut_ptr().cast(), k) };
        out[2] += counts.iter().map(|&x| u64::from(x)).sum::<u64>();
        step = end;
    }
    let done = 16 * steps;
    let tail = edge_energy(
        &far_a[done..],
        &far_b[done..],
        &near[done..],
        &c[done..],
        thr,
        buf,
    );
    for (o, t) in out.iter_mut().zip(tail) {
        *o += t;
    }
    out
}

/// Cells per block of [`edge_energy`]: small buffers (in L1) holding a
/// whole row of a 640-cell grid, and u32 sums of at most 1024 squares of at
/// most 2040² (luma is at most 2040): under 2^32, exact.
const BLOCK: usize = 1024;
const _: () = assert!(BLOCK as u64 * 2040 * 2040 <= u32::MAX as u64);

/// Smallest value v such that at least `q` of the mass is <= v.
pub(crate) fn percentile(hist: &[u32], total: u64, q: f64) -> usize {
    if total == 0 {
        return 0;
    }
    let target = (total as f64 * q).ceil() as u64;
    let mut acc = 0u64;
    for (i, &v) in hist.iter().enumerate() {
        acc += u64::from(v);
        if acc >= target {
            return i;
        }
    }
    hist.len() - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid_from(w: usize, h: usize, mut f: impl FnMut(usize, usize) -> u16) -> Grid {
        let mut g = Grid {
            w,
            h,
            ..Grid::default()
        };
        g.luma = (0..w * h).map(|i| f(i % w, i / w)).collect();
        g.flags = vec![0; w * h];
        g
    }

    /// A disk of radius 40: edges in every direction. `ramp` = 0 is a step
    /// edge; otherwise the edge is a linear ramp that many cells wide.
    fn disk(ramp: f32) -> Grid {
        grid_from(128, 128, |x, y| {
            let r = ((x as f32 - 64.0).powi(2) + (y as f32 - 64.0).powi(2)).sqrt();
            let t = if ramp == 0.0 {
                f32::from(r < 40.0)
            } else {
                ((40.0 + ramp / 2.0 - r) / ramp).clamp(0.0, 1.0)
            };
            (400.0 + 1200.0 * t) as u16
        })
    }

    #[test]
    fn step_edges_are_sharp_and_ramps_are_not() {
        let mut s = SharpScratch::default();
        let a = sharpness(&disk(0.0), &mut s);
        let b = sharpness(&disk(6.0), &mut s);
        let c = sharpness(&disk(12.0), &mut s);
        assert!(a > 0.7, "{a}");
        assert!(b < 0.4 && c < b, "{b} {c}");
    }

    #[test]
    fn contrast_does_not_change_the_score() {
        let mut s = SharpScratch::default();
        let hi = grid_from(128, 128, |x, _| if (x / 8) % 2 == 0 { 200 } else { 1800 });
        let lo = grid_from(128, 128, |x, _| if (x / 8) % 2 == 0 { 100 } else { 260 });
        let (a, b) = (sharpness(&hi, &mut s), sharpness(&lo, &mut s));
        assert!((a - b).abs() < 0.01, "{a} vs {b}");
    }

    /// The definition of the two passes, cell by cell, without the
    /// SIMD-friendly layout (the final ratio is [`score`], shared).
    fn reference(g: &Grid) -> f32 {
        let (w, h, l) = (g.w, g.h, &g.luma);
        let mut hist = vec![0u32; BINS];
        for y in (2..h - 2).step_by(4) {
            for x in 2..w - 2 {
                let gx = l[y * w + x + 2].abs_diff(l[y * w + x - 2]);
                let gy = l[(y + 2) * w + x].abs_diff(l[(y - 2) * w + x]);
                hist[usize::from(gx).min(BINS - 1)] += 1;
                hist[usize::from(gy).min(BINS - 1)] += 1;
            }
        }
        let total = hist.iter().map(|&v| u64::from(v)).sum();
        let p98 = percentile(&hist, total, 0.98);
        let thr = ((p98 as f32 * t::EDGE_RELATIVE) as u32).max(t::EDGE_NOISE_FLOOR) as i32;
        let at = |x: usize, y: usize| i32::from(l[y * w + x]);
        let mut acc = [[0u64; 3]; 4];
        for y in 2..h - 2 {
            for x in 2..w - 2 {
                let c = at(x, y);
                let dirs = [
                    (at(x + 2, y) - at(x - 2, y), at(x + 1, y) - c),
                    (at(x, y + 2) - at(x, y - 2), at(x, y + 1) - c),
                    (at(x + 2, y + 2) - at(x - 2, y - 2), at(x + 1, y + 1) - c),
                    (at(x - 2, y + 2) - at(x + 2, y - 2), at(x - 1, y + 1) - c),
                ];
                for (a, (g4, g1)) in acc.iter_mut().zip(dirs) {
                    if g4.abs() >= thr {
                        a[0] += (g1 * g1) as u64;
                        a[1] += (g4 * g4) as u64;
                        a[2] += 1;
                    }
                }
            }
        }
        score(&acc)
    }

    #[test]
    fn fast_passes_match_the_definition() {
        let mut s = SharpScratch::default();
        // Pseudo-random textures of several contrasts and smoothness, the
        // full 0..=2040 range included, on grids of awkward widths.
        let mut seed = 0x9e37_79b9_u32;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        for (w, h, span) in [(640, 360, 2041), (37, 23, 400), (5, 5, 2041), (641, 9, 60)] {
            let g = grid_from(w, h, |_, _| (rnd() % span) as u16);
            assert_eq!(sharpness(&g, &mut s), reference(&g), "{w}x{h}");
            // The baseline build (a CPU without AVX2) sums the same.
            let thr = 300;
            assert_eq!(
                edge_energies_any(&g.luma, w, h, thr, false),
                edge_energies(&g.luma, w, h, thr),
                "{w}x{h}"
            );
            let smooth = grid_from(w, h, |x, y| ((x * 7 + y * 3) % 2041) as u16);
            assert_eq!(sharpness(&smooth, &mut s), reference(&smooth), "{w}x{h}");
        }
        for ramp in [0.0, 2.0, 6.0] {
            let g = disk(ramp);
            assert_eq!(sharpness(&g, &mut s), reference(&g));
        }
    }

    /// Bands of vertical bars (lines of "text") every `pitch` rows.
    fn lines(pitch: usize, band: usize) -> Grid {
        grid_from(400, 300, |x, y| {
            if y % pitch < band && (x / 2) % 3 != 0 {
                300
            } else {
                1800
            }
        })
    }

    #[test]
    fn line_pitch_reads_the_spacing_of_text_lines() {
        let mut s = SharpScratch::default();
        for (pitch, band) in [(7, 2), (12, 4), (27, 8), (60, 18)] {
            // Within a row: the first lag reaching 0.8 of the peak may sit
            // one row short of a broad peak.
            let p = line_pitch(&lines(pitch, band), &mut s).expect("periodic rows");
            assert!(
                p.rows as usize + 1 >= pitch && p.rows as usize <= pitch,
                "{pitch}: {p:?}"
            );
            assert!(p.strength > 0.5, "{p:?}");
        }
        // A larger pitch, a lower threshold; without lines, the fixed one.
        let t = |rows| {
            blurry_below_document(Some(LinePitch {
                rows,
                strength: 0.9,
            }))
        };
        assert!(
            t(7) > t(27) && t(27) > t(60),
            "{} {} {}",
            t(7),
            t(27),
            t(60)
        );
        assert_eq!(blurry_below_document(None), t::BLURRY_BELOW_DOCUMENT);
        let weak = Some(LinePitch {
            rows: 27,
            strength: 0.1,
        });
        assert_eq!(blurry_below_document(weak), t::BLURRY_BELOW_DOCUMENT);
    }

    #[test]
    fn rows_without_lines_have_no_pitch() {
        let mut s = SharpScratch::default();
        let mut seed = 0x1234_5678_u32;
        let noise = grid_from(400, 300, |_, _| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            (seed % 2041) as u16
        });
        let weak =
            line_pitch(&noise, &mut s).is_none_or(|p| p.strength < t::LINE_PITCH_MIN_STRENGTH);
        assert!(weak, "{:?}", line_pitch(&noise, &mut s));
        let flat = grid_from(400, 300, |_, _| 900);
        assert_eq!(line_pitch(&flat, &mut s), None);
        // Too few rows to tell.
        assert_eq!(
            line_pitch(&grid_from(400, 50, |_, y| (y % 9) as u16 * 200), &mut s),
            None
        );
    }

    #[test]
    fn lane_dot_product_matches_the_plain_sum() {
        for n in [0, 1, 7, 8, 9, 100, 613] {
            let a: Vec<f32> = (0..n).map(|i| (i % 13) as f32 - 6.0).collect();
            let b: Vec<f32> = (0..n).map(|i| (i % 7) as f32 * 0.5).collect();
            let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert_eq!(dot(&a, &b), plain, "{n}");
        }
    }

    #[test]
    fn flat_frame_has_nothing_to_judge() {
        let mut s = SharpScratch::default();
        let flat = grid_from(64, 64, |_, _| 1000);
        assert_eq!(sharpness(&flat, &mut s), 1.0);
    }
}
