//! Glare: washed-out blobs (near-white, low chroma, clipped) judged by their
//! area and by where they fall.
//!
//! A bright page is not glare (its cells are not clipped, and where they are,
//! the text breaks them up into specks); a white wall or a window behind the
//! subject is not glare (it is large and touches the edge of the frame); a lamp
//! at the edge of a selfie is not glare (it is off the face). What is left is
//! a blob inside the document or on the face: that hides content. Its size is
//! that of its clipped core only ([`t::GLARE_CORE_LUMA`]): plain white paper
//! and white walls under bright, diffuse light are washed out but not clipped.

use super::grid::{Grid, BACKGROUND, SEEN, WASHED};
use super::thresholds as t;
use super::Role;

/// Area and shape of one blob.
struct Blob {
    area: usize,
    /// Cells of the blob at or above [`t::GLARE_CORE_LUMA`]: the clipped core.
    core: usize,
    cx: f32,
    cy: f32,
    touches: bool,
}

/// Flood fill (4-connected, explicit stack kept in the grid) from `start`
/// over washed cells without `bit`, setting `bit` on each.
fn fill(g: &mut Grid, start: usize, bit: u8) -> Blob {
    let (w, h) = (g.w, g.h);
    let want = |f: u8| f & (WASHED | bit) == WASHED;
    g.flags[start] |= bit;
    g.stack.clear();
    g.stack.push(start as u32);
    let (mut area, mut sx, mut sy) = (0usize, 0u64, 0u64);
    let mut core = 0usize;
    let core_luma = (t::GLARE_CORE_LUMA * t::LUMA_SCALE) as u16;
    let mut touches = false;
    while let Some(i) = g.stack.pop() {
        let i = i as usize;
        let (x, y) = (i % w, i / w);
        area += 1;
        core += usize::from(g.luma[i] >= core_luma);
        if bit == BACKGROUND {
            let v = u32::from(g.luma[i]);
            g.stats.bg_luma_sum += u64::from(v);
            g.stats.bg_clipped += u64::from(v >= t::CLIPPED_LUMA * t::LUMA_SCALE);
        }
        sx += x as u64;
        sy += y as u64;
        if x == 0 || y == 0 || x + 1 == w || y + 1 == h {
            touches = true;
        }
        let mut visit = |j: usize| {
            if want(g.flags[j]) {
                g.flags[j] |= bit;
                g.stack.push(j as u32);
            }
        };
        if x > 0 {
            visit(i - 1);
        }
        if x + 1 < w {
            visit(i + 1);
        }
        if y > 0 {
            visit(i - w);
        }
        if y + 1 < h {
            visit(i + w);
        }
    }
    Blob {
        area,
        core,
        cx: (sx as f32 / area as f32 + 0.5) / w as f32,
        cy: (sy as f32 / area as f32 + 0.5) / h as f32,
        touches,
    }
}

/// Area (fraction of the judged cells) of the largest blob that counts as
/// glare. Background blobs get the `BACKGROUND` flag, for the exposure check.
#[must_use]
pub(crate) fn glare(g: &mut Grid, role: Role) -> f32 {
    let n = g.w * g.h;
    if n == 0 || g.stats.washed == 0 {
        return 0.0;
    }
    let mut worst = 0usize;
    let mut i = 0;
    while i < n {
        // Skip 32 cells at a time while none is an unvisited washed cell
        // (most of a frame): one branch per block, the test vectorises.
        let unvisited = |f: u8| f & (WASHED | SEEN) == WASHED;
        if let Some(block) = g.flags.get(i..i + 32) {
            if block.iter().fold(false, |a, &f| a | unvisited(f)) {
                // A candidate in this block: go cell by cell.
            } else {
                i += 32;
                continue;
            }
        }
        let start = i;
        i += 1;
        if !unvisited(g.flags[start]) {
            continue;
        }
        let b = fill(g, start, SEEN);
        let frac = b.area as f32 / n as f32;
        if frac < t::GLARE_MIN_AREA / 4.0 {
            continue;
        }
        if is_background(frac, &b) {
            g.stats.bg_cells += fill(g, start, BACKGROUND).area as u64;
        } else if b.core > worst && on_subject(&b, role) {
            // Judged by its clipped core: bright paper or a pale wall is
            // washed out (near-white, low chroma) over a wide area but
            // nowhere clipped; a specular highlight always has a clipped core.
            worst = b.core;
        }
    }
    g.flags.iter_mut().for_each(|f| *f &= !SEEN);
    worst as f32 / n as f32
}

/// A blob that touches the edge and is either large or lies in the border
/// band: a white wall, a window, the desk, a lamp at the edge.
fn is_background(frac: f32, b: &Blob) -> bool {
    let edge = b.cx.min(1.0 - b.cx).min(b.cy).min(1.0 - b.cy);
    b.touches && (frac > t::BACKGROUND_MIN_AREA || edge < t::BORDER_BAND)
}

/// Whether the blob falls where content matters: anywhere on a document, on
/// the face of a selfie.
fn on_subject(b: &Blob, role: Role) -> bool {
    role != Role::Selfie
        || ((b.cx - 0.5).abs() <= t::SELFIE_FACE_HALF_WIDTH
            && (b.cy - 0.5).abs() <= t::SELFIE_FACE_HALF_HEIGHT)
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
        g.flags = (0..w * h)
            .map(|i| if washed(i % w, i / w) { WASHED } else { 0 })
            .collect();
        // Washed cells are clipped (a specular core), the rest mid grey.
        g.luma = g
            .flags
            .iter()
            .map(|&f| if f & WASHED != 0 { 2040 } else { 1000 })
            .collect();
        g.stats.washed = g.flags.iter().map(|&f| u64::from(f & WASHED)).sum();
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
        // ...and it is marked as background for the exposure check.
        assert_ne!(g.flags[0] & BACKGROUND, 0);
        assert_eq!(g.flags[50] & BACKGROUND, 0);
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
    fn bright_paper_washed_out_but_not_clipped_is_not_glare() {
        let mut g = grid_with(100, 100, |x, y| {
            (20..80).contains(&x) && (20..80).contains(&y)
        });
        // Near-white (about 250 of 255) everywhere on the sheet, no clipped core.
        for (l, &f) in g.luma.iter_mut().zip(&g.flags) {
            if f & WASHED != 0 {
                *l = 250 * t::LUMA_SCALE as u16;
            }
        }
        assert_eq!(glare(&mut g, Role::Document), 0.0);
        // A specular core in the middle of the same sheet is glare.
        for y in 45..55 {
            for x in 45..55 {
                g.luma[y * 100 + x] = 2040;
            }
        }
        let a = glare(&mut g, Role::Document);
        assert!((a - 0.01).abs() < 1e-6, "{a}");
    }

    #[test]
    fn specks_between_text_lines_are_not_glare() {
        let mut g = grid_with(100, 100, |x, y| x % 4 != 0 && y % 4 != 0);
        assert!(glare(&mut g, Role::Document) < t::GLARE_MIN_AREA);
    }
}
