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

use super::grid::Grid;
use super::thresholds as t;

/// Histogram bins of span-4 gradients (scaled luma goes up to 2040).
const BINS: usize = 2048;

/// Reusable histogram, so the live path does not allocate.
#[derive(Debug)]
pub(crate) struct SharpScratch {
    hist: Box<[u32; BINS]>,
}

impl Default for SharpScratch {
    fn default() -> Self {
        Self {
            hist: Box::new([0; BINS]),
        }
    }
}

/// Sharpness score in 0..=1 (1 = sharp), and whether any edge was found.
#[must_use]
pub(crate) fn sharpness(g: &Grid, s: &mut SharpScratch) -> f32 {
    let (w, h) = (g.w, g.h);
    if w < 5 || h < 5 {
        return 1.0;
    }
    let l = &g.luma;
    let hist = &mut s.hist;
    hist.iter_mut().for_each(|v| *v = 0);
    // Pass 1: distribution of span-4 gradients in both directions, on every
    // fourth row (a percentile needs no more).
    for y in (2..h - 2).step_by(4) {
        let row = &l[y * w..(y + 1) * w];
        let up = &l[(y - 2) * w..(y - 1) * w];
        let down = &l[(y + 2) * w..(y + 3) * w];
        for x in 2..w - 2 {
            let gx = (i32::from(row[x + 2]) - i32::from(row[x - 2])).unsigned_abs() as usize;
            let gy = (i32::from(down[x]) - i32::from(up[x])).unsigned_abs() as usize;
            hist[gx.min(BINS - 1)] += 1;
            hist[gy.min(BINS - 1)] += 1;
        }
    }
    let total: u64 = hist.iter().map(|&v| u64::from(v)).sum();
    let p98 = percentile(hist.as_slice(), total, 0.98);
    let thr = ((p98 as f32 * t::EDGE_RELATIVE) as u32).max(t::EDGE_NOISE_FLOOR) as i32;

    // Pass 2: 1-cell vs 4-cell energy over the edge cells, per direction:
    // horizontal, vertical and both diagonals (diagonal motion blur smears
    // both axes only partly, but its own diagonal fully).
    // Every row: sampling rows here aliases with periodic print (a pattern
    // whose edges all fall on odd rows would read as smeared).
    let mut acc = [[0u64; 3]; 4];
    for y in 2..h - 2 {
        let row = &l[y * w..(y + 1) * w];
        let up2 = &l[(y - 2) * w..(y - 1) * w];
        let down1 = &l[(y + 1) * w..(y + 2) * w];
        let down2 = &l[(y + 2) * w..(y + 3) * w];
        for x in 2..w - 2 {
            let c = i32::from(row[x]);
            // (4-cell difference, 1-cell difference) per direction.
            let dirs = [
                (
                    i32::from(row[x + 2]) - i32::from(row[x - 2]),
                    i32::from(row[x + 1]) - c,
                ),
                (
                    i32::from(down2[x]) - i32::from(up2[x]),
                    i32::from(down1[x]) - c,
                ),
                (
                    i32::from(down2[x + 2]) - i32::from(up2[x - 2]),
                    i32::from(down1[x + 1]) - c,
                ),
                (
                    i32::from(down2[x - 2]) - i32::from(up2[x + 2]),
                    i32::from(down1[x - 1]) - c,
                ),
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

    fn grid_from(w: usize, h: usize, f: impl Fn(usize, usize) -> u16) -> Grid {
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

    #[test]
    fn flat_frame_has_nothing_to_judge() {
        let mut s = SharpScratch::default();
        let flat = grid_from(64, 64, |_, _| 1000);
        assert_eq!(sharpness(&flat, &mut s), 1.0);
    }
}
