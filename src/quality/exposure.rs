//! Exposure: mean luma and the share of clipped cells of the judged area.

use super::grid::Grid;
use super::thresholds as t;

/// Mean luma (0..=1) and fraction of clipped cells.
#[must_use]
pub(crate) fn exposure(g: &Grid) -> (f32, f32) {
    if g.luma.is_empty() {
        return (0.0, 0.0);
    }
    let clip = (t::CLIPPED_LUMA * t::LUMA_SCALE) as u16;
    let (mut sum, mut clipped) = (0u64, 0u64);
    for &v in &g.luma {
        sum += u64::from(v);
        clipped += u64::from(v >= clip);
    }
    let n = g.luma.len() as f64;
    let mean = sum as f64 / n / f64::from(255 * t::LUMA_SCALE);
    (mean as f32, (clipped as f64 / n) as f32)
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
            ..Grid::default()
        };
        let (m, c) = exposure(&g);
        assert!((m - 0.625).abs() < 1e-3, "{m}");
        assert!((c - 0.5).abs() < 1e-6, "{c}");
    }
}
