//! Exposure: mean luma and the share of clipped cells of what is being
//! photographed, background (a white wall, a window: see `glare`) left out.

use super::grid::{Grid, BACKGROUND};
use super::thresholds as t;

/// Mean luma (0..=1) and fraction of clipped cells, both over the cells that
/// are not background, and the share of background cells. With nothing but
/// background, the mean and clipped share are those of the whole frame.
/// Last, the clipped share of the central box (middle 60% of each side),
/// background or not: an overexposed frame is one clipped blob that touches
/// every edge, and it is the centre that tells it from a white wall.
#[must_use]
pub(crate) fn exposure(g: &Grid) -> (f32, f32, f32, f32) {
    if g.luma.is_empty() {
        return (0.0, 0.0, 0.0, 0.0);
    }
    let clip = (t::CLIPPED_LUMA * t::LUMA_SCALE) as u16;
    let (mut sum, mut clipped, mut n) = (0u64, 0u64, 0u64);
    let (mut all_sum, mut all_clipped) = (0u64, 0u64);
    for (&v, &f) in g.luma.iter().zip(&g.flags) {
        let keep = u64::from(f & BACKGROUND == 0);
        let c = u64::from(v >= clip);
        sum += u64::from(v) * keep;
        clipped += c * keep;
        n += keep;
        all_sum += u64::from(v);
        all_clipped += c;
    }
    let total = g.luma.len() as u64;
    let background = (total - n) as f64 / total as f64;
    if n == 0 {
        (sum, clipped, n) = (all_sum, all_clipped, total);
    }
    let mean = sum as f64 / n as f64 / f64::from(255 * t::LUMA_SCALE);
    let (x0, x1, y0, y1) = (g.w / 5, g.w - g.w / 5, g.h / 5, g.h - g.h / 5);
    let (mut cc, mut cn) = (0u64, 0u64);
    for y in y0..y1 {
        for &v in &g.luma[y * g.w + x0..y * g.w + x1] {
            cc += u64::from(v >= clip);
            cn += 1;
        }
    }
    let centre = if cn == 0 { 0.0 } else { cc as f64 / cn as f64 };
    (
        mean as f32,
        (clipped as f64 / n as f64) as f32,
        background as f32,
        centre as f32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_clipped_share() {
        let g = Grid {
            w: 4,
            h: 1,
            luma: vec![0, 2040, 2040, 1020],
            flags: vec![0; 4],
            ..Grid::default()
        };
        let (m, c, b, _) = exposure(&g);
        assert!((m - 0.625).abs() < 1e-3, "{m}");
        assert!((c - 0.5).abs() < 1e-6, "{c}");
        assert_eq!(b, 0.0);
    }

    #[test]
    fn background_is_left_out() {
        let g = Grid {
            w: 4,
            h: 1,
            luma: vec![2040, 2040, 1020, 1020],
            flags: vec![BACKGROUND, BACKGROUND, 0, 0],
            ..Grid::default()
        };
        let (m, c, b, _) = exposure(&g);
        assert!((m - 0.5).abs() < 1e-3, "{m}");
        assert_eq!(c, 0.0);
        assert!((b - 0.5).abs() < 1e-6);
    }
}
