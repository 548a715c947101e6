//! Exposure: mean luma and the share of clipped cells of what is being
//! photographed, background (a white wall, a window: see `glare`) left out.

use super::grid::Stats;
use super::thresholds as t;

/// From the sums of the grid pass: mean luma (0..=1) and fraction of clipped
/// cells, both over the cells that are not background, and the share of
/// background cells. With nothing but background, the mean and clipped share
/// are those of the whole frame. Last, the clipped share of the central box
/// (middle 60% of each side), background or not: an overexposed frame is one
/// clipped blob that touches every edge, and it is the centre that tells it
/// from a white wall.
#[must_use]
pub(crate) fn exposure(s: &Stats, cells: usize) -> (f32, f32, f32, f32) {
    let total = cells as u64;
    if total == 0 {
        return (0.0, 0.0, 0.0, 0.0);
    }
    let bg = s.bg_cells.min(total);
    let (mut sum, mut clipped, mut n) = (
        s.luma_sum.saturating_sub(s.bg_luma_sum),
        s.clipped.saturating_sub(s.bg_clipped),
        total - bg,
    );
    if n == 0 {
        (sum, clipped, n) = (s.luma_sum, s.clipped, total);
    }
    let mean = sum as f64 / n as f64 / f64::from(255 * t::LUMA_SCALE);
    let centre = if s.centre_cells == 0 {
        0.0
    } else {
        s.centre_clipped as f64 / s.centre_cells as f64
    };
    (
        mean as f32,
        (clipped as f64 / n as f64) as f32,
        (bg as f64 / total as f64) as f32,
        centre as f32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_clipped_share() {
        // Cells 0, 2040, 2040, 1020 (scaled luma); the centre is cell 2.
        let s = Stats {
            luma_sum: 5100,
            clipped: 2,
            centre_clipped: 1,
            centre_cells: 1,
            washed: 2,
            ..Stats::default()
        };
        let (m, c, b, centre) = exposure(&s, 4);
        assert!((m - 0.625).abs() < 1e-3, "{m}");
        assert!((c - 0.5).abs() < 1e-6, "{c}");
        assert_eq!((b, centre), (0.0, 1.0));
    }

    #[test]
    fn background_is_left_out() {
        // Cells 2040, 2040 (background), 1020, 1020.
        let s = Stats {
            luma_sum: 6120,
            clipped: 2,
            bg_cells: 2,
            bg_luma_sum: 4080,
            bg_clipped: 2,
            ..Stats::default()
        };
        let (m, c, b, _) = exposure(&s, 4);
        assert!((m - 0.5).abs() < 1e-3, "{m}");
        assert_eq!(c, 0.0);
        assert!((b - 0.5).abs() < 1e-6);
    }

    #[test]
    fn all_background_falls_back_to_the_whole_frame() {
        let s = Stats {
            luma_sum: 4080,
            clipped: 2,
            bg_cells: 2,
            bg_luma_sum: 4080,
            bg_clipped: 2,
            ..Stats::default()
        };
        let (m, c, b, _) = exposure(&s, 2);
        assert!((m - 1.0).abs() < 1e-3 && c == 1.0 && b == 1.0);
    }
}
