//! The document cut out of a still: its quadrilateral with a small margin,
//! perspective-corrected to the aspect of the document it is (an ID-1 card
//! or a passport data page; for a utility bill, an A4 or US-letter page), at the document's own pixel size (never
//! upscaled), sampled bilinearly. Pure; the output buffer is wiped on drop
//! (it is the customer's document).

use zeroize::Zeroizing;

use crate::detect::Kind;
use crate::quality::{ImageView, PixelFormat};

/// The margin kept around the document, as a share of its width and height
/// on each side: the vendor wants to see the whole outline, corners included.
pub const MARGIN: f32 = 0.05;
/// ID-1 cards: 85.60 × 53.98 mm.
pub const ID1_ASPECT: f32 = 85.60 / 53.98;
/// Passport data pages (ID-3): 125 × 88 mm.
pub const PASSPORT_ASPECT: f32 = 125.0 / 88.0;
/// A4 pages: 210 × 297 mm.
pub const A4_ASPECT: f32 = 297.0 / 210.0;
/// US letter pages: 216 × 279 mm (8.5 × 11 in).
pub const LETTER_ASPECT: f32 = 279.0 / 216.0;

/// The shapes a document of `kind` may have (long side over short side).
#[must_use]
pub fn aspects(kind: Kind) -> &'static [f32] {
    match kind {
        Kind::Id => &[ID1_ASPECT, PASSPORT_ASPECT],
        Kind::Page => &[A4_ASPECT, LETTER_ASPECT],
    }
}

/// A cut-out document, RGB8, rows of `width * 3` bytes.
pub struct Crop {
    pub pixels: Zeroizing<Vec<u8>>,
    pub width: u32,
    pub height: u32,
}

impl std::fmt::Debug for Crop {
    // The pixels are the customer's document: only the size shows.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Crop({}x{})", self.width, self.height)
    }
}

/// The aspect (long side over short side) of the identity-document shape
/// nearest to `measured`.
#[must_use]
pub fn snap_aspect(measured: f32) -> f32 {
    snap_aspect_for(Kind::Id, measured)
}

/// The aspect of the `kind` shape nearest to `measured` (by ratio, so
/// 10 % too long and 10 % too short count the same); a tie goes to the
/// first of [`aspects`].
#[must_use]
pub fn snap_aspect_for(kind: Kind, measured: f32) -> f32 {
    let off = |a: f32| (measured / a).ln().abs();
    let shapes = aspects(kind);
    shapes.iter().copied().fold(
        shapes[0],
        |best, a| if off(a) < off(best) { a } else { best },
    )
}

/// The projective map from the unit square (u right, v down) onto a
/// quadrilateral: (0,0)→`q[0]`, (1,0)→`q[1]`, (1,1)→`q[2]`, (0,1)→`q[3]`
/// (Heckbert's closed form).
#[derive(Debug, Clone, Copy)]
struct SquareToQuad([f64; 8]);

impl SquareToQuad {
    fn new(q: &[[f32; 2]; 4]) -> Option<Self> {
        let p = q.map(|[x, y]| [f64::from(x), f64::from(y)]);
        let (dx1, dy1) = (p[1][0] - p[2][0], p[1][1] - p[2][1]);
        let (dx2, dy2) = (p[3][0] - p[2][0], p[3][1] - p[2][1]);
        let (dx3, dy3) = (
            p[0][0] - p[1][0] + p[2][0] - p[3][0],
            p[0][1] - p[1][1] + p[2][1] - p[3][1],
        );
        let det = dx1 * dy2 - dx2 * dy1;
        if det.abs() < 1e-9 {
            return None;
        }
        let g = (dx3 * dy2 - dx2 * dy3) / det;
        let h = (dx1 * dy3 - dx3 * dy1) / det;
        Some(Self([
            p[1][0] - p[0][0] + g * p[1][0],
            p[3][0] - p[0][0] + h * p[3][0],
            p[0][0],
            p[1][1] - p[0][1] + g * p[1][1],
            p[3][1] - p[0][1] + h * p[3][1],
            p[0][1],
            g,
            h,
        ]))
    }

    fn map(&self, u: f64, v: f64) -> [f64; 2] {
        let [a, b, c, d, e, f, g, h] = self.0;
        let z = g * u + h * v + 1.0;
        [(a * u + b * v + c) / z, (d * u + e * v + f) / z]
    }
}

/// Cut the document with corners `corners` (top-left, top-right,
/// bottom-right, bottom-left as seen, in pixels of `view`; a pixel's centre
/// at its index) out of an RGB8 `view`, with [`MARGIN`] around it. The
/// result keeps the orientation as seen (the top-left→top-right side on
/// top) and the snapped aspect ([`snap_aspect`]); its long side is the mean
/// length of the document's two long sides in the view. Parts of the margin
/// outside the frame repeat the frame's edge. `None` for a grey view, an
/// inconsistent one, or a degenerate quadrilateral.
#[must_use]
pub fn rectify(view: &ImageView<'_>, corners: &[[f32; 2]; 4]) -> Option<Crop> {
    rectify_as(view, corners, Kind::Id)
}

/// [`rectify`] for a document of `kind`: a page ([`Kind::Page`]) is squared
/// to A4 or US letter, whichever its measured aspect is nearer.
#[must_use]
pub fn rectify_as(view: &ImageView<'_>, corners: &[[f32; 2]; 4], kind: Kind) -> Option<Crop> {
    if view.format != PixelFormat::Rgb8 || !view.is_consistent() {
        return None;
    }
    let dist = |a: [f32; 2], b: [f32; 2]| (a[0] - b[0]).hypot(a[1] - b[1]);
    let across = (dist(corners[0], corners[1]) + dist(corners[3], corners[2])) / 2.0;
    let down = (dist(corners[0], corners[3]) + dist(corners[1], corners[2])) / 2.0;
    if !(across >= 2.0 && down >= 2.0) {
        return None;
    }
    let long = across.max(down);
    let aspect = snap_aspect_for(kind, long / across.min(down));
    let short = long / aspect;
    let (doc_w, doc_h) = if across >= down {
        (long, short)
    } else {
        (short, long)
    };
    let (mx, my) = (doc_w * MARGIN, doc_h * MARGIN);
    let width = (doc_w + 2.0 * mx).round() as u32;
    let height = (doc_h + 2.0 * my).round() as u32;
    let map = SquareToQuad::new(corners)?;
    let mut out = Zeroizing::new(vec![0u8; width as usize * height as usize * 3]);
    // The square's (0,0) is the document's corner itself: the edge of the
    // corner pixel in the output, half a pixel before its centre.
    let (ox, oy) = (f64::from(mx) - 0.5, f64::from(my) - 0.5);
    let (dw, dh) = (f64::from(doc_w), f64::from(doc_h));
    for (y, row) in out.chunks_exact_mut(width as usize * 3).enumerate() {
        let v = (y as f64 - oy) / dh;
        for (x, px) in row.chunks_exact_mut(3).enumerate() {
            let u = (x as f64 - ox) / dw;
            let [sx, sy] = map.map(u, v);
            px.copy_from_slice(&bilinear(view, sx as f32, sy as f32));
        }
    }
    Some(Crop {
        pixels: out,
        width,
        height,
    })
}

/// The colour at (`x`, `y`) (pixel centres at integers), the frame's edge
/// repeated outside it.
fn bilinear(view: &ImageView<'_>, x: f32, y: f32) -> [u8; 3] {
    let (w, h) = (view.width as usize, view.height as usize);
    let x = x.clamp(0.0, (w - 1) as f32);
    let y = y.clamp(0.0, (h - 1) as f32);
    let (x0, y0) = (x.floor() as usize, y.floor() as usize);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let at = |xx: usize, yy: usize, c: usize| f32::from(view.pixels[yy * view.stride + xx * 3 + c]);
    let mut out = [0u8; 3];
    for (c, o) in out.iter_mut().enumerate() {
        let top = at(x0, y0, c) * (1.0 - fx) + at(x1, y0, c) * fx;
        let bottom = at(x0, y1, c) * (1.0 - fx) + at(x1, y1, c) * fx;
        *o = (top * (1.0 - fy) + bottom * fy).round() as u8;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inverse of a 3×3 matrix given as the map's eight numbers (the ninth is 1).
    fn quad_to_square(m: &SquareToQuad) -> impl Fn(f64, f64) -> [f64; 2] {
        let [a, b, c, d, e, f, g, h] = m.0;
        let k = [[a, b, c], [d, e, f], [g, h, 1.0]];
        let det = k[0][0] * (k[1][1] * k[2][2] - k[1][2] * k[2][1])
            - k[0][1] * (k[1][0] * k[2][2] - k[1][2] * k[2][0])
            + k[0][2] * (k[1][0] * k[2][1] - k[1][1] * k[2][0]);
        let cof = |r: usize, c: usize| {
            let (r0, r1) = ((r + 1) % 3, (r + 2) % 3);
            let (c0, c1) = ((c + 1) % 3, (c + 2) % 3);
            k[r0][c0] * k[r1][c1] - k[r0][c1] * k[r1][c0]
        };
        // inv[i][j] = cof(j, i) / det
        let inv: Vec<Vec<f64>> = (0..3)
            .map(|i| (0..3).map(|j| cof(j, i) / det).collect())
            .collect();
        move |x, y| {
            let z = inv[2][0] * x + inv[2][1] * y + inv[2][2];
            [
                (inv[0][0] * x + inv[0][1] * y + inv[0][2]) / z,
                (inv[1][0] * x + inv[1][1] * y + inv[1][2]) / z,
            ]
        }
    }

    /// An 800 × 600 dark frame with a light document seen in perspective at
    /// `q`, a dark mark in its top-left corner area (u < 0.2, v < 0.25).
    fn scene(q: &[[f32; 2]; 4]) -> Vec<u8> {
        let inv = quad_to_square(&SquareToQuad::new(q).unwrap());
        let mut px = vec![30u8; 800 * 600 * 3];
        for y in 0..600 {
            for x in 0..800 {
                let [u, v] = inv(x as f64, y as f64);
                if (0.0..1.0).contains(&u) && (0.0..1.0).contains(&v) {
                    let val = if u < 0.2 && v < 0.25 { 60 } else { 220 };
                    px[(y * 800 + x) * 3..][..3].fill(val);
                }
            }
        }
        px
    }

    fn luma(c: &Crop, x: u32, y: u32) -> u8 {
        c.pixels[(y * c.width + x) as usize * 3]
    }

    /// The first and last index where a run of samples is bright.
    fn bright_span(samples: impl Iterator<Item = u8>) -> (usize, usize) {
        let s: Vec<u8> = samples.collect();
        let first = s.iter().position(|&v| v > 125).unwrap();
        let last = s.iter().rposition(|&v| v > 125).unwrap();
        (first, last)
    }

    #[test]
    fn a_card_in_perspective_comes_back_square_with_its_aspect() {
        let q = [
            [140.0, 100.0],
            [650.0, 125.0],
            [630.0, 420.0],
            [160.0, 410.0],
        ];
        let px = scene(&q);
        let c = rectify(&ImageView::rgb(&px, 800, 600), &q).unwrap();
        // Long side: the mean of the two long sides (510.6 and 470.1).
        let doc_w = (510.61 + 470.11) / 2.0;
        let doc_h = doc_w / ID1_ASPECT;
        assert_eq!(c.width, (doc_w * 1.1f32).round() as u32, "{c:?}");
        assert_eq!(c.height, (doc_h * 1.1f32).round() as u32, "{c:?}");
        let (mx, my) = (doc_w * MARGIN, doc_h * MARGIN);
        // Edges where the margin says, within two pixels, on a row and a
        // column away from the mark.
        let row = c.height * 3 / 4;
        let (l, r) = bright_span((0..c.width).map(|x| luma(&c, x, row)));
        assert!((l as f32 - mx).abs() <= 2.0, "left {l} vs {mx}");
        assert!((r as f32 - (mx + doc_w - 1.0)).abs() <= 2.0, "right {r}");
        let col = c.width * 3 / 4;
        let (t, b) = bright_span((0..c.height).map(|y| luma(&c, col, y)));
        assert!((t as f32 - my).abs() <= 2.0, "top {t} vs {my}");
        assert!((b as f32 - (my + doc_h - 1.0)).abs() <= 2.0, "bottom {b}");
        // The mark stays top-left: not mirrored, not turned.
        let at = |u: f32, v: f32| luma(&c, (mx + u * doc_w) as u32, (my + v * doc_h) as u32);
        assert!(at(0.1, 0.12) < 100 && at(0.9, 0.12) > 180 && at(0.1, 0.88) > 180);
    }

    #[test]
    fn an_upright_card_keeps_its_pixels() {
        // Axis-aligned, exactly ID-1: the crop is the same pixels plus margin.
        let q = [
            [100.0, 100.0],
            [600.0, 100.0],
            [600.0, 415.3],
            [100.0, 415.3],
        ];
        let px = scene(&q);
        let c = rectify(&ImageView::rgb(&px, 800, 600), &q).unwrap();
        assert_eq!((c.width, c.height), (550, 347));
        let mx = 25;
        let my = (315.3f32 * MARGIN).round() as u32;
        assert_eq!(luma(&c, mx + 300, my + 200), 220);
        assert_eq!(luma(&c, 5, 5), 30);
    }

    #[test]
    fn passport_pages_snap_to_their_own_aspect() {
        assert_eq!(snap_aspect(1.58), ID1_ASPECT);
        assert_eq!(snap_aspect(1.43), PASSPORT_ASPECT);
        assert_eq!(snap_aspect(1.2), PASSPORT_ASPECT);
        assert_eq!(snap_aspect(2.0), ID1_ASPECT);
        // A page held upright keeps its orientation.
        let q = [[200.0, 50.0], [500.0, 50.0], [500.0, 476.0], [200.0, 476.0]];
        let px = scene(&q);
        let c = rectify(&ImageView::rgb(&px, 800, 600), &q).unwrap();
        assert!(c.height > c.width, "{c:?}");
        assert_eq!(c.height, (426.0f32 * 1.1).round() as u32);
    }

    #[test]
    fn pages_snap_to_a4_or_letter_whichever_is_nearer() {
        assert_eq!(snap_aspect_for(Kind::Page, 1.414), A4_ASPECT);
        assert_eq!(snap_aspect_for(Kind::Page, 1.29), LETTER_ASPECT);
        // The boundary is the geometric mean of the two shapes.
        let mid = (A4_ASPECT * LETTER_ASPECT).sqrt();
        assert_eq!(snap_aspect_for(Kind::Page, mid * 1.001), A4_ASPECT);
        assert_eq!(snap_aspect_for(Kind::Page, mid * 0.999), LETTER_ASPECT);
        assert_eq!(snap_aspect_for(Kind::Page, 1.0), LETTER_ASPECT);
        assert_eq!(snap_aspect_for(Kind::Page, 2.0), A4_ASPECT);
        // Identity documents are unchanged by the page shapes.
        assert_eq!(snap_aspect_for(Kind::Id, 1.58), ID1_ASPECT);
        assert_eq!(snap_aspect_for(Kind::Id, 1.43), PASSPORT_ASPECT);

        // An A4 page seen a little squashed (1.37) comes back A4, upright.
        let q = [[250.0, 40.0], [550.0, 40.0], [550.0, 451.0], [250.0, 451.0]];
        let px = scene(&q);
        let c = rectify_as(&ImageView::rgb(&px, 800, 600), &q, Kind::Page).unwrap();
        assert!(c.height > c.width, "{c:?}");
        let aspect = c.height as f32 / c.width as f32;
        assert!((aspect - A4_ASPECT).abs() < 0.01, "{aspect}");
        // A letter page (1.30) comes back letter.
        let q = [[250.0, 40.0], [600.0, 40.0], [600.0, 495.0], [250.0, 495.0]];
        let px = scene(&q);
        let c = rectify_as(&ImageView::rgb(&px, 800, 600), &q, Kind::Page).unwrap();
        let aspect = c.height as f32 / c.width as f32;
        assert!((aspect - LETTER_ASPECT).abs() < 0.01, "{aspect}");
    }

    #[test]
    fn degenerate_input_gives_none() {
        let px = vec![0u8; 64 * 64 * 3];
        let v = ImageView::rgb(&px, 64, 64);
        assert!(rectify(&v, &[[1.0, 1.0]; 4]).is_none());
        let grey = ImageView::luma(&px, 64, 64);
        let q = [[1.0, 1.0], [40.0, 1.0], [40.0, 30.0], [1.0, 30.0]];
        assert!(rectify(&grey, &q).is_none());
    }
}
