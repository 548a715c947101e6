//! Glare: washed-out blobs (near-white, low chroma, clipped) judged by their
//! area and by where they fall.
//!
//! A bright page is not glare (its cells are not clipped, and where they are,
//! the text breaks them up into specks); a white wall or a window behind the
//! subject is not glare (it is large and touches the edge of the frame); a lamp
//! at the edge of a selfie is not glare (it is off the face). What is left is
//! a blob inside the document or on the face: that hides content.

use super::grid::{Grid, SEEN, WASHED};
use super::thresholds as t;
use super::Role;

/// Area (fraction of the judged cells) of the largest blob that counts as glare.
#[must_use]
pub(crate) fn glare(g: &mut Grid, role: Role) -> f32 {
    let (w, h) = (g.w, g.h);
    let n = w * h;
    if n == 0 {
        return 0.0;
    }
    let mut worst = 0usize;
    for start in 0..n {
        if g.flags[start] & (WASHED | SEEN) != WASHED {
            continue;
        }
        // Flood fill (4-connected) with an explicit stack kept in the grid.
        g.flags[start] |= SEEN;
        g.stack.clear();
        g.stack.push(start as u32);
        let (mut area, mut sx, mut sy) = (0usize, 0u64, 0u64);
        let mut touches = false;
        while let Some(i) = g.stack.pop() {
            let i = i as usize;
            let (x, y) = (i % w, i / w);
            area += 1;
            sx += x as u64;
            sy += y as u64;
            if x == 0 || y == 0 || x + 1 == w || y + 1 == h {
                touches = true;
            }
            let visit = |j: usize, flags: &mut [u8], stack: &mut Vec<u32>| {
                if flags[j] & (WASHED | SEEN) == WASHED {
                    flags[j] |= SEEN;
                    stack.push(j as u32);
                }
            };
            if x > 0 {
                visit(i - 1, &mut g.flags, &mut g.stack);
            }
            if x + 1 < w {
                visit(i + 1, &mut g.flags, &mut g.stack);
            }
            if y > 0 {
                visit(i - w, &mut g.flags, &mut g.stack);
            }
            if y + 1 < h {
                visit(i + w, &mut g.flags, &mut g.stack);
            }
        }
        let frac = area as f32 / n as f32;
        if frac < t::GLARE_MIN_AREA / 4.0 || area <= worst {
            continue;
        }
        let cx = (sx as f32 / area as f32 + 0.5) / w as f32;
        let cy = (sy as f32 / area as f32 + 0.5) / h as f32;
        if counts(frac, cx, cy, touches, role) {
            worst = area;
        }
    }
    // Leave the flags as built (SEEN cleared) for any later reader.
    g.flags.iter_mut().for_each(|f| *f &= !SEEN);
    worst as f32 / n as f32
}

/// Whether a blob of area `frac` centred at (`cx`, `cy`) (fractions of the
/// judged area) hides content, or is background.
fn counts(frac: f32, cx: f32, cy: f32, touches: bool, role: Role) -> bool {
    if touches {
        let edge = cx.min(1.0 - cx).min(cy).min(1.0 - cy);
        if frac > t::BACKGROUND_MIN_AREA || edge < t::BORDER_BAND {
            return false;
        }
    }
    if role == Role::Selfie
        && ((cx - 0.5).abs() > t::SELFIE_FACE_HALF_WIDTH
            || (cy - 0.5).abs() > t::SELFIE_FACE_HALF_HEIGHT)
    {
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid_with(w: usize, h: usize, washed: impl Fn(usize, usize) -> bool) -> Grid {
        let mut g = Grid {
            w,
            h,
            ..Grid::default()
        };
        g.luma = vec![1000; w * h];
        g.flags = (0..w * h)
            .map(|i| if washed(i % w, i / w) { WASHED } else { 0 })
            .collect();
        g
    }

    #[test]
    fn central_blob_is_glare() {
        let mut g = grid_with(100, 100, |x, y| {
            (40..50).contains(&x) && (40..50).contains(&y)
        });
        let a = glare(&mut g, Role::Document);
        assert!((a - 0.01).abs() < 1e-6, "{a}");
    }

    #[test]
    fn white_background_touching_the_edge_is_not_glare() {
        // The left third of the frame is a clipped white wall.
        let mut g = grid_with(100, 100, |x, _| x < 33);
        assert_eq!(glare(&mut g, Role::Document), 0.0);
    }

    #[test]
    fn lamp_at_the_edge_of_a_selfie_is_not_glare() {
        // Not touching the edge, but well off the face.
        let mut g = grid_with(100, 100, |x, y| {
            (3..12).contains(&x) && (5..15).contains(&y)
        });
        assert_eq!(glare(&mut g, Role::Selfie), 0.0);
        // On a document the same blob hides content.
        let mut g = grid_with(100, 100, |x, y| {
            (3..12).contains(&x) && (5..15).contains(&y)
        });
        assert!(glare(&mut g, Role::Document) > 0.005);
    }

    #[test]
    fn specks_between_text_lines_are_not_glare() {
        let mut g = grid_with(100, 100, |x, y| x % 4 != 0 && y % 4 != 0);
        assert!(glare(&mut g, Role::Document) < t::GLARE_MIN_AREA);
    }
}
