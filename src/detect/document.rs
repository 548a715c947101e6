//! The document detector: straight sides on a small working copy.
//!
//! 1. Downscale by a whole factor to 256…511 px on the long side (box
//!    average of 2×2 taps per block), colour kept.
//! 2. Colour gradient: Sobel on a lightly blurred copy of each channel, the
//!    strongest channel wins; orientation from the 3×3 structure tensor (a
//!    straight edge next to texture keeps its own orientation); thinned by
//!    non-maximum suppression.
//! 3. Straight lines: a Hough transform in which each thin edge pixel votes
//!    only near its own orientation (texture votes spread thin, a long
//!    straight side piles up); local maxima, a few per 10° of orientation so
//!    that a brick wall or a page of text cannot crowd out the other sides.
//! 4. Each line gets a support profile: which points along it lie on an edge
//!    of the line's own orientation (prefix sums, so any stretch is O(1)),
//!    and how far each run of edges reaches.
//! 5. Quadrilaterals from two pairs of near-parallel lines, kept when every
//!    side is backed by edges between its corners, the corners are near
//!    right angles and the aspect fits the kind; scored by the support (the
//!    mean and the weakest side), the aspect and how far the lines run on
//!    past the corners (a grid of background lines does, a document's outline
//!    does not). A side lost to glare or a low-contrast desk is placed where
//!    the edges of the two sides next to it end (at a lower score).
//! 6. Each side is refitted to the thin edge pixels along it; the corners are
//!    the intersections, so rounded card corners do not pull them inward.
//! 7. The best quad or one around it (the portrait and the text block inside
//!    a card are rectangles too). In `Id` mode the first of the quads around
//!    the best one, then the best one itself, then a few high-scoring quads
//!    elsewhere, whose inside looks like an identity document by a small
//!    logistic model (a portrait at one end, not blank paper, not one flat
//!    colour, not a photo) is taken: an A4 sheet, a book, a phone or a parcel
//!    is not an identity document.

use super::geometry::{box_iou, order_corners, signed_area, Line};
use super::{Document, Kind};
use crate::quality::{ImageView, PixelFormat};

/// Least long side of the working copy, in pixels (the frame is shrunk by
/// the largest whole factor that keeps it).
const WORK_SIDE: usize = 256;
/// Gradient (grey levels per pixel) that counts as an edge along a side,
/// and that votes for a line.
const EDGE_MIN: f32 = 5.0;
const VOTE_MIN: f32 = 5.0;
/// Orientation tolerance (degrees) of an edge pixel backing a line.
const ANGLE_TOL: i32 = 14;
/// Hough: orientation spread of one vote (degrees), fewest votes of a line,
/// most lines kept.
const VOTE_SPREAD: i32 = 3;
const MIN_VOTES: u16 = 10;
const MAX_LINES: usize = 96;
/// Most lines kept per 10° of orientation.
const LINES_PER_BUCKET: usize = 18;
/// Half-size of the window in which a Hough peak must be the maximum.
const PEAK_WINDOW: isize = 2;
/// Smallest document, as a fraction of the frame.
const MIN_FILL: f32 = 0.03;
/// Most a pair of opposite sides may diverge (perspective), degrees.
const MAX_SKEW: i32 = 22;
/// Smallest fraction of each side, and of the whole outline, on edges.
const MIN_SIDE_SUPPORT: f32 = 0.6;
const MIN_SUPPORT: f32 = 0.72;
/// Longest gap (working pixels) in the edge along a side before it ends.
const MAX_GAP: f32 = 6.0;
/// A side placed where the others end counts as this well backed, and its
/// quad's score is multiplied by the factor.
const INFERRED_SUPPORT: f32 = 0.6;
const INFERRED_FACTOR: f32 = 0.85;
/// At most this many quads around the best one are weighed by the content
/// model.
const POOL_SIZE: usize = 6;
/// Then at most this many other quads scoring at least this fraction of it.
const EXTRA_POOL: usize = 4;
const EXTRA_SCORE: f32 = 0.6;
/// A quad around the best one wins when it scores at least this fraction.
const ENCLOSING: f32 = 0.55;

struct Shape {
    /// Long side over short side of the flat document.
    aspects: &'static [f32],
    /// Accepted range of the measured (perspective-distorted) ratio.
    range: (f32, f32),
}

const ID_SHAPE: Shape = Shape {
    // ID-1 (85.60 × 53.98 mm) and passport data page (125 × 88 mm).
    aspects: &[1.586, 1.420],
    range: (1.25, 1.86),
};
const PAGE_SHAPE: Shape = Shape {
    // A4 and US letter.
    aspects: &[1.414, 1.294],
    range: (1.12, 1.65),
};

/// Find the document of the given kind in a frame; `None` when there is none
/// (or the view is inconsistent or empty).
#[must_use]
pub fn find_document(view: &ImageView<'_>, kind: Kind) -> Option<Document> {
    let (work, grad, candidates) = candidates(view, kind)?;
    let (w, h) = (work.w as f32, work.h as f32);
    let best = candidates.first()?;
    let (corners, score) = match kind {
        Kind::Page => {
            let pick = enclosing(&candidates, best).unwrap_or(best);
            (refine(&grad, pick.corners), pick.score)
        }
        // The card around the portrait, unless what lies around the best
        // quad does not look like a document (a background shape around it).
        Kind::Id => id_pool(&candidates)
            .into_iter()
            .map(|c| (refine(&grad, c.corners), c.score))
            .find(|(corners, score)| id_likeness(&work, &grad, corners, *score) > 0.0)?,
    };
    let area = signed_area(&corners).abs();
    let fill = area / (w * h);
    if fill < MIN_FILL {
        return None;
    }
    let margin = 1.5;
    let outside = corners.iter().any(|c| {
        c[0] < margin || c[1] < margin || c[0] > w - 1.0 - margin || c[1] > h - 1.0 - margin
    });
    let corners = order_corners(work.to_input(view, corners));
    Some(Document {
        corners,
        fill,
        cut: outside,
        score: score.clamp(0.0, 1.0),
    })
}

/// The working copy, its gradient and every quad that passes, best first;
/// `None` for an inconsistent or tiny view.
fn candidates(view: &ImageView<'_>, kind: Kind) -> Option<(Work, Grad, Vec<Candidate>)> {
    if !view.is_consistent() || view.width < 16 || view.height < 16 {
        return None;
    }
    let work = Work::downscale(view);
    if work.w < 16 || work.h < 16 {
        return None;
    }
    let grad = Grad::compute(&work);
    let shape = match kind {
        Kind::Id => &ID_SHAPE,
        Kind::Page => &PAGE_SHAPE,
    };
    let lines = hough(&grad);
    let candidates = quads(&grad, &lines, shape);
    Some((work, grad, candidates))
}

/// The quads the `Id` content model weighs, in order: the first
/// [`POOL_SIZE`] around the best one, then the best one, then up to
/// [`EXTRA_POOL`] others scoring at least [`EXTRA_SCORE`] of it, each
/// overlapping none before it (bounding boxes' IoU below 0.5).
fn id_pool(candidates: &[Candidate]) -> Vec<&Candidate> {
    let Some(best) = candidates.first() else {
        return Vec::new();
    };
    let mut pool: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| is_around(c, best))
        .take(POOL_SIZE)
        .collect();
    pool.push(best);
    // Then the next best quads elsewhere in the frame (the best one may be
    // a background shape, or the portrait closed by one of the card's
    // sides, which the card is then not around).
    let mut extra = 0;
    for c in &candidates[1..] {
        if extra == EXTRA_POOL || c.score < EXTRA_SCORE * best.score {
            break;
        }
        let b = bounding_box(&c.corners);
        if pool
            .iter()
            .all(|p| box_iou(&bounding_box(&p.corners), &b) < 0.5)
        {
            pool.push(c);
            extra += 1;
        }
    }
    pool
}

/// `[x, y, w, h]` of a quad's bounding box.
fn bounding_box(q: &[[f32; 2]; 4]) -> [f32; 4] {
    let (mut lo, mut hi) = ([f32::MAX; 2], [f32::MIN; 2]);
    for p in q {
        for k in 0..2 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    [lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1]]
}

/// A quad the content model weighs, as [`id_pool_features`] lists it.
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct Weighed {
    /// Refined corners, in input pixels, in the detector's order.
    pub corners: [[f32; 2]; 4],
    pub features: [f32; FEATURES],
    /// The model's log-odds (the detector keeps the first positive one).
    pub log_odds: f32,
}

/// For `scripts/detect/fit_content_model.py`, which fits [`ID_WEIGHTS`]: the
/// quads the content model weighs in a frame, in the order it weighs them.
/// Not part of the kiosk's API.
#[doc(hidden)]
#[must_use]
pub fn id_pool_features(view: &ImageView<'_>) -> Vec<Weighed> {
    let Some((work, grad, candidates)) = candidates(view, Kind::Id) else {
        return Vec::new();
    };
    id_pool(&candidates)
        .into_iter()
        .map(|c| {
            let corners = refine(&grad, c.corners);
            Weighed {
                corners: work.to_input(view, corners),
                features: features(&work, &grad, &corners, c.score),
                log_odds: id_likeness(&work, &grad, &corners, c.score),
            }
        })
        .collect()
}

/// The frame at working size: one to three planes of f32 (0…255).
struct Work {
    w: usize,
    h: usize,
    planes: Vec<Vec<f32>>,
}

impl Work {
    /// Working-copy corners in the input frame's pixels (pixel centres map
    /// to pixel centres).
    fn to_input(&self, view: &ImageView<'_>, q: [[f32; 2]; 4]) -> [[f32; 2]; 4] {
        let (sx, sy) = (
            view.width as f32 / self.w as f32,
            view.height as f32 / self.h as f32,
        );
        q.map(|p| [(p[0] + 0.5) * sx - 0.5, (p[1] + 0.5) * sy - 0.5])
    }

    fn downscale(view: &ImageView<'_>) -> Work {
        let (iw, ih) = (view.width as usize, view.height as usize);
        let k = (iw.max(ih) / WORK_SIDE).max(1);
        let (w, h) = (iw / k, ih / k);
        let channels = match view.format {
            PixelFormat::Rgb8 => 3,
            PixelFormat::Luma8 => 1,
        };
        // At most 2×2 taps per block: enough to average noise, bounded cost.
        let step = k.div_ceil(2);
        let taps: Vec<usize> = (0..k).step_by(step).collect();
        let norm = 1.0 / (taps.len() * taps.len()) as f32;
        let mut planes = vec![vec![0f32; w * h]; channels];
        for y in 0..h {
            for x in 0..w {
                let mut acc = [0u32; 3];
                for &dy in &taps {
                    let row = (y * k + dy) * view.stride;
                    for &dx in &taps {
                        let i = row + (x * k + dx) * channels;
                        for (c, a) in acc.iter_mut().enumerate().take(channels) {
                            *a += u32::from(view.pixels[i + c]);
                        }
                    }
                }
                for (c, plane) in planes.iter_mut().enumerate() {
                    plane[y * w + x] = acc[c] as f32 * norm;
                }
            }
        }
        Work { w, h, planes }
    }
}

/// Gradient of the working copy: magnitude (grey levels per pixel), the
/// orientation of the normal in whole degrees 0…179, and the thin edges.
struct Grad {
    w: usize,
    h: usize,
    mag: Vec<f32>,
    ang: Vec<u8>,
    thin: Vec<bool>,
}

impl Grad {
    fn compute(work: &Work) -> Grad {
        let (w, h) = (work.w, work.h);
        // Sobel on a [1 2 1]²-blurred copy (texture next to a straight edge
        // bends its gradient less), as separable 5-tap passes:
        // derivative [-1 -2 0 2 1], smoothing [1 4 6 4 1], over 64.
        let n = w * h;
        let mut m2 = vec![0f32; n];
        let mut gxy = vec![(0f32, 0f32); n];
        let mut deriv = vec![0f32; n];
        let mut blur = vec![0f32; n];
        let (mut gx, mut gy) = (vec![0f32; n], vec![0f32; n]);
        for plane in &work.planes {
            for ((src, d), b) in plane
                .chunks_exact(w)
                .zip(deriv.chunks_exact_mut(w))
                .zip(blur.chunks_exact_mut(w))
            {
                for x in 2..w - 2 {
                    d[x] = 2.0 * (src[x + 1] - src[x - 1]) + src[x + 2] - src[x - 2];
                    b[x] = 6.0 * src[x] + 4.0 * (src[x - 1] + src[x + 1]) + src[x - 2] + src[x + 2];
                }
            }
            for y in 2..h - 2 {
                fn row(v: &[f32], w: usize, y: usize) -> &[f32] {
                    &v[y * w..(y + 1) * w]
                }
                let (d0, d1, d2, d3, d4) = (
                    row(&deriv, w, y - 2),
                    row(&deriv, w, y - 1),
                    row(&deriv, w, y),
                    row(&deriv, w, y + 1),
                    row(&deriv, w, y + 2),
                );
                let (b0, b1, b3, b4) = (
                    row(&blur, w, y - 2),
                    row(&blur, w, y - 1),
                    row(&blur, w, y + 1),
                    row(&blur, w, y + 2),
                );
                let ox = &mut gx[y * w..(y + 1) * w];
                let oy = &mut gy[y * w..(y + 1) * w];
                for x in 0..w {
                    ox[x] = (6.0 * d2[x] + 4.0 * (d1[x] + d3[x]) + d0[x] + d4[x]) * (1.0 / 64.0);
                    oy[x] = (2.0 * (b3[x] - b1[x]) + b4[x] - b0[x]) * (1.0 / 64.0);
                }
            }
            for (((m, g), &x), &y) in m2.iter_mut().zip(gxy.iter_mut()).zip(&gx).zip(&gy) {
                let v = x * x + y * y;
                if v > *m {
                    *m = v;
                    *g = (x, y);
                }
            }
        }
        // Nothing at the frame border, where the filters do not fit.
        for y in 0..h {
            for x in 0..w {
                if y < 2 || y >= h - 2 || x < 2 || x >= w - 2 {
                    m2[y * w + x] = 0.0;
                }
            }
        }
        let mag: Vec<f32> = m2.iter().map(|v| v.sqrt()).collect();
        // Orientation from the structure tensor over 3×3: next to texture a
        // straight edge's own gradient still dominates.
        let (mut jxx, mut jxy, mut jyy) = (vec![0f32; n], vec![0f32; n], vec![0f32; n]);
        for (i, &(x, y)) in gxy.iter().enumerate() {
            jxx[i] = x * x;
            jxy[i] = x * y;
            jyy[i] = y * y;
        }
        let (jxx, jxy, jyy) = (box3(&jxx, w, h), box3(&jxy, w, h), box3(&jyy, w, h));
        let mut ang = vec![0u8; w * h];
        let mut thin = vec![false; w * h];
        for y in 1..h - 1 {
            for x in 1..w - 1 {
                let i = y * w + x;
                let m = mag[i];
                if m < EDGE_MIN {
                    continue;
                }
                let deg =
                    ((tensor_orientation(jxx[i] - jyy[i], 2.0 * jxy[i]) + 0.5) as u32 % 180) as u8;
                ang[i] = deg;
                // Non-maximum suppression across the edge.
                let (a, b) = match deg {
                    0..=22 | 158..=179 => (i - 1, i + 1),
                    23..=67 => (i - w - 1, i + w + 1),
                    68..=112 => (i - w, i + w),
                    _ => (i - w + 1, i + w - 1),
                };
                thin[i] = m >= mag[a] && m > mag[b];
            }
        }
        Grad {
            w,
            h,
            mag,
            ang,
            thin,
        }
    }

    /// Whether an edge of orientation `deg` passes within a pixel of `p`.
    fn backs(&self, p: [f32; 2], n: [f32; 2], deg: i32) -> bool {
        for off in [0.0, -1.0, 1.0] {
            // Rounding by truncation after +0.5 (no libm call): negative
            // coordinates stay out of the frame.
            let x = p[0] + n[0] * off + 0.5;
            let y = p[1] + n[1] * off + 0.5;
            if x < 0.0 || y < 0.0 || x as usize >= self.w || y as usize >= self.h {
                continue;
            }
            let i = y as usize * self.w + x as usize;
            if self.mag[i] >= EDGE_MIN && angle_diff(i32::from(self.ang[i]), deg) <= ANGLE_TOL {
                return true;
            }
        }
        false
    }
}

/// Sum over 3×3 (borders left as they are).
fn box3(v: &[f32], w: usize, h: usize) -> Vec<f32> {
    let mut rows = v.to_vec();
    for (src, dst) in v.chunks_exact(w).zip(rows.chunks_exact_mut(w)) {
        for x in 1..w - 1 {
            dst[x] = src[x - 1] + src[x] + src[x + 1];
        }
    }
    let mut out = rows.clone();
    for y in 1..h - 1 {
        let (a, b, c) = (
            &rows[(y - 1) * w..y * w],
            &rows[y * w..(y + 1) * w],
            &rows[(y + 1) * w..(y + 2) * w],
        );
        let o = &mut out[y * w..(y + 1) * w];
        for x in 0..w {
            o[x] = a[x] + b[x] + c[x];
        }
    }
    out
}

/// The dominant gradient orientation (degrees, 0…180) of a structure tensor
/// given as `(jxx - jyy, 2 jxy)`: half the angle of that vector.
fn tensor_orientation(c: f32, s: f32) -> f32 {
    // Angle of (c, s) in 0…360, from the half-turn orientation.
    let half = orientation(c, s);
    let full = if s < 0.0 {
        half + 180.0
    } else if c < 0.0 && half < 90.0 {
        // Just short of 180°, which the half-turn orientation wraps to 0.
        180.0
    } else {
        half
    };
    full / 2.0
}

/// Orientation of a gradient in degrees, 0…180 (a fast arctangent, within
/// 0.3°).
fn orientation(gx: f32, gy: f32) -> f32 {
    let (ax, ay) = (gx.abs(), gy.abs());
    let (lo, hi) = if ax >= ay { (ay, ax) } else { (ax, ay) };
    if hi == 0.0 {
        return 0.0;
    }
    let t = lo / hi;
    // atan on [0, 1] in degrees.
    let mut a = t * (45.0 + 15.66 * (1.0 - t));
    if ay > ax {
        a = 90.0 - a;
    }
    if (gx < 0.0) != (gy < 0.0) {
        a = 180.0 - a;
    }
    if a >= 180.0 {
        a - 180.0
    } else {
        a
    }
}

/// Difference of two orientations in degrees, modulo 180 (0…90).
fn angle_diff(a: i32, b: i32) -> i32 {
    let d = (a - b).rem_euclid(180);
    d.min(180 - d)
}

/// A straight line found by the Hough transform, with the support profile
/// along it: `prefix[k]` counts the backed points among the first `k`
/// samples, sample `k` at parameter `s0 + k` along `dir`.
struct Ray {
    line: Line,
    deg: i32,
    dir: [f32; 2],
    s0: f32,
    prefix: Vec<u16>,
    /// Per sample: the last sample a run of edges reaches going forward and
    /// going backward.
    reach: Vec<(u16, u16)>,
}

impl Ray {
    fn new(grad: &Grad, deg: i32, rho: f32) -> Option<Ray> {
        let t = (deg as f32).to_radians();
        Ray::along(
            grad,
            Line {
                n: [t.cos(), t.sin()],
                d: rho,
            },
        )
    }

    fn along(grad: &Grad, line: Line) -> Option<Ray> {
        let (n, rho) = (line.n, line.d);
        let deg = (n[1].atan2(n[0]).to_degrees().rem_euclid(180.0).round() as i32) % 180;
        let dir = [-n[1], n[0]];
        let foot = [n[0] * rho, n[1] * rho];
        // The stretch of the line inside the frame.
        let (mut lo, mut hi) = (f32::MIN, f32::MAX);
        for (k, size) in [(0, grad.w as f32 - 1.0), (1, grad.h as f32 - 1.0)] {
            if dir[k].abs() < 1e-6 {
                if foot[k] < 0.0 || foot[k] > size {
                    return None;
                }
            } else {
                let (a, b) = ((0.0 - foot[k]) / dir[k], (size - foot[k]) / dir[k]);
                lo = lo.max(a.min(b));
                hi = hi.min(a.max(b));
            }
        }
        if hi - lo < 8.0 {
            return None;
        }
        let count = (hi - lo) as usize + 1;
        let mut prefix = Vec::with_capacity(count + 1);
        prefix.push(0u16);
        let mut acc = 0u16;
        for k in 0..count {
            let s = lo + k as f32;
            if grad.backs([foot[0] + dir[0] * s, foot[1] + dir[1] * s], n, deg) {
                acc += 1;
            }
            prefix.push(acc);
        }
        // How far a run of backed points reaches from each sample, forward
        // and backward, across gaps of at most MAX_GAP.
        let backed = |k: usize| prefix[k + 1] > prefix[k];
        let gap = MAX_GAP as usize + 1;
        let reach_along = |order: &mut dyn Iterator<Item = usize>| -> Vec<(usize, u16)> {
            let (mut last, mut end) = (None::<usize>, 0u16);
            order
                .map(|k| {
                    let v = match last {
                        Some(j) if j.abs_diff(k) <= gap => end,
                        _ => k as u16,
                    };
                    if backed(k) {
                        last = Some(k);
                        end = v;
                    }
                    (k, v)
                })
                .collect()
        };
        let mut reach = vec![(0u16, 0u16); count];
        for (k, v) in reach_along(&mut (0..count).rev()) {
            reach[k].0 = v;
        }
        for (k, v) in reach_along(&mut (0..count)) {
            reach[k].1 = v;
        }
        Some(Ray {
            reach,
            line,
            deg,
            dir,
            s0: lo,
            prefix,
        })
    }

    /// Point at a parameter along the line.
    fn point(&self, s: f32) -> [f32; 2] {
        let n = self.line.n;
        [
            n[0] * self.line.d + self.dir[0] * s,
            n[1] * self.line.d + self.dir[1] * s,
        ]
    }

    /// Walking from parameter `s` in direction `sign` (±1), the parameter of
    /// the last backed point before a gap longer than [`MAX_GAP`].
    fn run_end(&self, s: f32, sign: f32) -> f32 {
        let last = self.reach.len() as f32 - 1.0;
        let k = (s - self.s0 + 0.5).clamp(0.0, last.max(0.0)) as usize;
        let (fwd, bwd) = self.reach[k];
        self.s0 + f32::from(if sign > 0.0 { fwd } else { bwd })
    }

    /// Parameter of a point along the line.
    fn param(&self, p: [f32; 2]) -> f32 {
        p[0] * self.dir[0] + p[1] * self.dir[1]
    }

    /// Fraction of the stretch between two parameters backed by edges
    /// (outside the frame counts as not backed).
    fn support(&self, a: f32, b: f32) -> f32 {
        let (a, b) = (a.min(b), a.max(b));
        let len = b - a;
        if len < 1.0 {
            return 0.0;
        }
        let last = self.prefix.len() - 1;
        let ka = ((a - self.s0 + 0.5).max(0.0) as usize).min(last);
        let kb = ((b - self.s0 + 0.5).max(0.0) as usize).min(last);
        f32::from(self.prefix[kb] - self.prefix[ka]) / len
    }
}

/// The strongest distinct straight lines, each voted for by thin edge pixels
/// whose gradient orientation is within [`VOTE_SPREAD`] degrees.
fn hough(grad: &Grad) -> Vec<Ray> {
    let (w, h) = (grad.w, grad.h);
    let diag = (w as f32).hypot(h as f32).ceil() as usize;
    let nrho = 2 * diag + 1;
    let table: Vec<(f32, f32)> = (0..180)
        .map(|d| {
            let t = (d as f32).to_radians();
            (t.cos(), t.sin())
        })
        .collect();
    let mut acc = vec![0u16; 180 * nrho];
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let i = y * w + x;
            if !grad.thin[i] || grad.mag[i] < VOTE_MIN {
                continue;
            }
            let a = i32::from(grad.ang[i]);
            for dt in -VOTE_SPREAD..=VOTE_SPREAD {
                let t = (a + dt).rem_euclid(180) as usize;
                let (c, s) = table[t];
                let rho = (x as f32 * c + y as f32 * s + diag as f32 + 0.5) as isize;
                let cell = &mut acc[t * nrho + rho as usize];
                *cell = cell.saturating_add(1);
            }
        }
    }
    // Local maxima of the accumulator (a straight edge leaves a ridge of
    // lesser cells around its peak); across 0°/180° a line's normal and
    // distance flip.
    let value = |deg: isize, rho: isize| -> u16 {
        let (deg, rho) = if deg < 0 {
            (deg + 180, 2 * diag as isize - rho)
        } else if deg >= 180 {
            (deg - 180, 2 * diag as isize - rho)
        } else {
            (deg, rho)
        };
        if rho < 0 || rho >= nrho as isize {
            return 0;
        }
        acc[deg as usize * nrho + rho as usize]
    };
    let mut peaks: Vec<(u16, usize)> = Vec::new();
    for (cell, &v) in acc.iter().enumerate() {
        if v < MIN_VOTES {
            continue;
        }
        let (deg, rho) = ((cell / nrho) as isize, (cell % nrho) as isize);
        let mut top = true;
        'window: for dd in -PEAK_WINDOW..=PEAK_WINDOW {
            for dr in -PEAK_WINDOW..=PEAK_WINDOW {
                let o = value(deg + dd, rho + dr);
                // Ties go to the first cell in scan order.
                if o > v || (o == v && (dd, dr) < (0, 0)) {
                    top = false;
                    break 'window;
                }
            }
        }
        if top {
            peaks.push((v, cell));
        }
    }
    peaks.sort_unstable_by_key(|p| std::cmp::Reverse(p.0));
    // At most a few lines per orientation: a brick wall or a page of text
    // must not crowd out the document's other pair of sides.
    let mut per_bucket = [0usize; 18];
    peaks
        .into_iter()
        .filter(|&(_, cell)| {
            let bucket = &mut per_bucket[cell / nrho / 10];
            *bucket += 1;
            *bucket <= LINES_PER_BUCKET
        })
        .filter_map(|(_, cell)| {
            let deg = (cell / nrho) as i32;
            let rho = (cell % nrho) as f32 - diag as f32;
            Ray::new(grad, deg, rho)
        })
        .take(MAX_LINES)
        .collect()
}

struct Candidate {
    corners: [[f32; 2]; 4],
    score: f32,
    area: f32,
}

/// Signed distance between two near-parallel lines, measured at a point.
fn separation(a: &Line, b: &Line, at: [f32; 2]) -> f32 {
    let da = a.n[0] * at[0] + a.n[1] * at[1] - a.d;
    let db = b.n[0] * at[0] + b.n[1] * at[1] - b.d;
    let same = a.n[0] * b.n[0] + a.n[1] * b.n[1] >= 0.0;
    if same {
        da - db
    } else {
        da + db
    }
}

/// Every quad that passes, best score first.
fn quads(grad: &Grad, rays: &[Ray], shape: &Shape) -> Vec<Candidate> {
    let (w, h) = (grad.w as f32, grad.h as f32);
    let centre = [w / 2.0, h / 2.0];
    let frame_area = w * h;
    let min_sep = (MIN_FILL * frame_area).sqrt() * 0.6;
    let n = rays.len();
    // Pairs of near-parallel lines far enough apart.
    let mut pairs = Vec::new();
    for (a, ra) in rays.iter().enumerate() {
        for (b, rb) in rays.iter().enumerate().skip(a + 1) {
            if angle_diff(ra.deg, rb.deg) <= MAX_SKEW
                && separation(&ra.line, &rb.line, centre).abs() >= min_sep
            {
                pairs.push((a, b));
            }
        }
    }
    // Where each line meets each crossing one (within 35° of square), and
    // the parameter of that point along the first.
    let mut meet: Vec<Option<([f32; 2], f32)>> = vec![None; n * n];
    for c in 0..n {
        for a in 0..n {
            if angle_diff(rays[c].deg, rays[a].deg) >= 90 - 35 {
                meet[c * n + a] = rays[c]
                    .line
                    .intersect(&rays[a].line)
                    .map(|p| (p, rays[c].param(p)));
            }
        }
    }
    let mut candidates = Vec::new();
    for &(a, b) in &pairs {
        // Crossing lines backed between the pair.
        let mut cross = Vec::new();
        for (c, ray) in rays.iter().enumerate() {
            let (Some((p, sp)), Some((q, sq))) = (meet[c * n + a], meet[c * n + b]) else {
                continue;
            };
            let inset = (sq - sp) * 0.08;
            if ray.support(sp + inset, sq - inset) >= MIN_SIDE_SUPPORT {
                cross.push((c, p, q));
            }
        }
        // A side lost to glare or a low-contrast background: from one
        // crossing line, the pair's edges run on to where the document ends.
        for &(c, p, q) in &cross {
            let (ra, rb) = (&rays[a], &rays[b]);
            let along = ra.dir[0] * rb.dir[0] + ra.dir[1] * rb.dir[1] >= 0.0;
            for sign in [-1.0f32, 1.0] {
                let sb = if along { sign } else { -sign };
                let ea = ra.point(ra.run_end(ra.param(p), sign));
                let eb = rb.point(rb.run_end(rb.param(q), sb));
                let (la, lb) = (dist(p, ea), dist(q, eb));
                if la.min(lb) < min_sep || la.max(lb) > 1.4 * la.min(lb) {
                    continue;
                }
                let quad = [p, ea, eb, q];
                if !fits(&quad, shape, frame_area) {
                    continue;
                }
                let far = segment_support(grad, ea, eb);
                if let Some(cand) = judge(
                    quad,
                    [&rays[a], &rays[c], &rays[b], &rays[c]],
                    Some((1, far)),
                    shape,
                    frame_area,
                ) {
                    candidates.push(cand);
                }
            }
        }
        for (i, &(c, p1, q1)) in cross.iter().enumerate() {
            for &(d, p2, q2) in &cross[i + 1..] {
                // Each quad once: its first pair holds the lowest line.
                if c < a || d < a || angle_diff(rays[c].deg, rays[d].deg) > MAX_SKEW {
                    continue;
                }
                // Corners in order around the quad: a∩c, a∩d, b∩d, b∩c.
                let q = [p1, p2, q2, q1];
                if let Some(cand) =
                    judge(q, [a, d, b, c].map(|k| &rays[k]), None, shape, frame_area)
                {
                    candidates.push(cand);
                }
            }
        }
    }
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    candidates
}

/// The best-scoring well-backed quad around `best`: the document the best
/// one is printed on (the portrait, a text block), if any.
fn enclosing<'a>(candidates: &'a [Candidate], best: &Candidate) -> Option<&'a Candidate> {
    candidates.iter().find(|c| is_around(c, best))
}

/// Whether `c` is a well-backed quad around `inner`.
fn is_around(c: &Candidate, inner: &Candidate) -> bool {
    c.score >= inner.score * ENCLOSING
        && c.area > inner.area * 1.5
        && encloses(&c.corners, &inner.corners, 1.5)
}

/// Whether a quad has the size, convexity, corner angles and aspect of a
/// held document of the shape.
fn fits(q: &[[f32; 2]; 4], shape: &Shape, frame_area: f32) -> bool {
    if signed_area(q).abs() < MIN_FILL * frame_area || !convex(q) {
        return false;
    }
    // Corners of a held document stay between 60° and 120°.
    for i in 0..4 {
        let (p, c, n) = (q[(i + 3) % 4], q[i], q[(i + 1) % 4]);
        let (u, w) = ([p[0] - c[0], p[1] - c[1]], [n[0] - c[0], n[1] - c[1]]);
        let cos = (u[0] * w[0] + u[1] * w[1]) / ((u[0].hypot(u[1])) * (w[0].hypot(w[1]))).max(1e-6);
        if cos.abs() > 0.5 {
            return false;
        }
    }
    let r = ratio(q);
    r >= shape.range.0 && r <= shape.range.1
}

/// Fraction of the segment's middle 84 % backed by edges of its orientation.
fn segment_support(grad: &Grad, a: [f32; 2], b: [f32; 2]) -> f32 {
    let Some(line) = Line::through(a, b) else {
        return 0.0;
    };
    let deg = (line.n[1]
        .atan2(line.n[0])
        .to_degrees()
        .rem_euclid(180.0)
        .round() as i32)
        % 180;
    let len = dist(a, b);
    let steps = (len * 0.84).max(1.0) as usize;
    let backed = (0..steps)
        .filter(|&k| {
            let t = 0.08 + 0.84 * k as f32 / steps as f32;
            grad.backs(
                [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t],
                line.n,
                deg,
            )
        })
        .count();
    backed as f32 / steps as f32
}

fn dist(a: [f32; 2], b: [f32; 2]) -> f32 {
    (a[0] - b[0]).hypot(a[1] - b[1])
}

/// Judge a quad whose side `i` runs from corner `i` to corner `i + 1` along
/// `sides[i]`; side `inferred`, if any, was placed where the others end and
/// need not be backed by edges (its score is lower).
fn judge(
    q: [[f32; 2]; 4],
    sides: [&Ray; 4],
    inferred: Option<(usize, f32)>,
    shape: &Shape,
    frame_area: f32,
) -> Option<Candidate> {
    if !fits(&q, shape, frame_area) {
        return None;
    }
    let area = signed_area(&q);
    let r = ratio(&q);
    let mut total = 0.0;
    let mut weakest = 1.0f32;
    let mut run_on = 0.0;
    for i in 0..4 {
        let ray = sides[i];
        let (sa, sb) = (ray.param(q[i]), ray.param(q[(i + 1) % 4]));
        let (lo, hi) = (sa.min(sb), sa.max(sb));
        let len = hi - lo;
        // Leave out the ends: rounded corners bend away from the side.
        if let Some((k, s)) = inferred {
            if k == i {
                let s = s.max(INFERRED_SUPPORT);
                total += s;
                weakest = weakest.min(s);
                continue;
            }
        }
        let s = ray.support(lo + 0.08 * len, hi - 0.08 * len);
        if s < MIN_SIDE_SUPPORT {
            return None;
        }
        total += s;
        weakest = weakest.min(s);
        // Past the corners the outline of a document ends.
        let ext = (0.25 * len).max(6.0);
        run_on += ray.support(lo - ext, lo - 0.06 * len) + ray.support(hi + 0.06 * len, hi + ext);
    }
    let support = total / 4.0;
    if support < MIN_SUPPORT {
        return None;
    }
    let run_on = run_on / 8.0;
    let off = shape
        .aspects
        .iter()
        .map(|t| (r - t).abs() / t)
        .fold(f32::MAX, f32::min);
    let aspect = (1.0 - (off - 0.05).max(0.0) * 2.0).max(0.0);
    Some(Candidate {
        corners: q,
        score: (support + weakest) / 2.0
            * aspect
            * (1.0 - 0.6 * run_on)
            * if inferred.is_some() {
                INFERRED_FACTOR
            } else {
                1.0
            },
        area: area.abs(),
    })
}

/// Whether `inner` lies inside `outer`, at least `margin` from its sides.
fn encloses(outer: &[[f32; 2]; 4], inner: &[[f32; 2]; 4], margin: f32) -> bool {
    let sign = signed_area(outer).signum();
    inner.iter().all(|&p| {
        (0..4).all(|i| {
            let (a, b) = (outer[i], outer[(i + 1) % 4]);
            let len = (b[0] - a[0]).hypot(b[1] - a[1]).max(1e-6);
            sign * super::geometry::cross(a, b, p) / len >= margin
        })
    })
}

fn convex(q: &[[f32; 2]; 4]) -> bool {
    let s: Vec<f32> = (0..4)
        .map(|i| super::geometry::cross(q[i], q[(i + 1) % 4], q[(i + 2) % 4]))
        .collect();
    s.iter().all(|&v| v > 0.0) || s.iter().all(|&v| v < 0.0)
}

/// Long side over short side, averaging opposite sides.
fn ratio(q: &[[f32; 2]; 4]) -> f32 {
    let d = |a: [f32; 2], b: [f32; 2]| (a[0] - b[0]).hypot(a[1] - b[1]);
    let s1 = (d(q[0], q[1]) + d(q[2], q[3])) / 2.0;
    let s2 = (d(q[1], q[2]) + d(q[3], q[0])) / 2.0;
    s1.max(s2) / s1.min(s2).max(1e-6)
}

/// Refit each side to the thin edge pixels of its orientation along it; the
/// corners are where the fitted lines meet. A side with too few pixels keeps
/// its chord.
fn refine(grad: &Grad, q: [[f32; 2]; 4]) -> [[f32; 2]; 4] {
    let mut lines = Vec::with_capacity(4);
    for i in 0..4 {
        let (a, b) = (q[i], q[(i + 1) % 4]);
        let Some(chord) = Line::through(a, b) else {
            return q;
        };
        let deg = (chord.n[1].atan2(chord.n[0]).to_degrees().rem_euclid(180.0)).round() as i32;
        let len = (b[0] - a[0]).hypot(b[1] - a[1]);
        let mut points = Vec::new();
        let steps = len.ceil() as usize;
        for s in 0..=steps {
            let t = s as f32 / steps.max(1) as f32;
            // Leave out the ends: rounded corners bend away from the side.
            if !(0.1..=0.9).contains(&t) {
                continue;
            }
            let p = [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t];
            for off in -2i32..=2 {
                let x = (p[0] + chord.n[0] * off as f32).round();
                let y = (p[1] + chord.n[1] * off as f32).round();
                if x < 0.0 || y < 0.0 || x as usize >= grad.w || y as usize >= grad.h {
                    continue;
                }
                let k = y as usize * grad.w + x as usize;
                if grad.thin[k] && angle_diff(i32::from(grad.ang[k]), deg) <= ANGLE_TOL {
                    points.push([x, y]);
                }
            }
        }
        points.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
        points.dedup();
        let fitted = if points.len() as f32 >= len * 0.3 {
            // One pass of outlier rejection around the first fit.
            Line::fit(&points).and_then(|l| {
                let inliers: Vec<[f32; 2]> = points
                    .iter()
                    .copied()
                    .filter(|&p| l.distance(p) <= 1.0)
                    .collect();
                Line::fit(&inliers)
            })
        } else {
            None
        };
        lines.push(fitted.unwrap_or(chord));
    }
    let mut out = q;
    let diag = (grad.w as f32).hypot(grad.h as f32);
    for i in 0..4 {
        if let Some(p) = lines[(i + 3) % 4].intersect(&lines[i]) {
            if (p[0] - q[i][0]).hypot(p[1] - q[i][1]) < 0.03 * diag {
                out[i] = p;
            }
        }
    }
    out
}

/// How much the inside of the quad looks like an identity document rather
/// than blank paper, one flat surface (a book cover, a phone, a parcel) or
/// a photo: the log-odds of a logistic model over [`features`], fitted on the
/// tuning part of the evaluation set (BENCHMARKS.md, "Detection"); positive
/// for a document.
fn id_likeness(work: &Work, grad: &Grad, q: &[[f32; 2]; 4], score: f32) -> f32 {
    let f = features(work, grad, q, score);
    f.iter().zip(ID_WEIGHTS).map(|(x, w)| x * w).sum()
}

/// Weights of the content model, in the order of [`features`] (the last is
/// the bias): `scripts/detect/fit_content_model.py --l2 0.1` on the tuning
/// parts of six sets (`build_eval_set.py --seed 13` to `18`).
const ID_WEIGHTS: [f32; FEATURES] = [
    -2.631, 17.830, 12.604, -0.345, 6.699, -3.253, -15.603, -2.630, 0.577, 1.942, 13.670, 0.012,
    -30.005,
];

/// Number of content features.
pub const FEATURES: usize = 13;

/// Content features of the inside of a quad, sampled on a grid with the long
/// side across: how much differs from the dominant colour overall and at
/// either end (the portrait), brightness, colourfulness, edge density,
/// the uniformity of the rim just inside the outline and its contrast with
/// the outside, aspect and outline score.
fn features(work: &Work, grad: &Grad, q: &[[f32; 2]; 4], score: f32) -> [f32; FEATURES] {
    const NU: usize = 40;
    const NV: usize = 26;
    // Corners rotated so that q[0]→q[1] is a long side.
    let d = |a: [f32; 2], b: [f32; 2]| (a[0] - b[0]).hypot(a[1] - b[1]);
    let q = if d(q[0], q[1]) + d(q[2], q[3]) >= d(q[1], q[2]) + d(q[3], q[0]) {
        *q
    } else {
        [q[1], q[2], q[3], q[0]]
    };
    let at = |u: f32, v: f32| -> [f32; 2] {
        let top = [
            q[0][0] + (q[1][0] - q[0][0]) * u,
            q[0][1] + (q[1][1] - q[0][1]) * u,
        ];
        let bottom = [
            q[3][0] + (q[2][0] - q[3][0]) * u,
            q[3][1] + (q[2][1] - q[3][1]) * u,
        ];
        [
            top[0] + (bottom[0] - top[0]) * v,
            top[1] + (bottom[1] - top[1]) * v,
        ]
    };
    let colour = |p: [f32; 2]| -> Option<([f32; 3], f32)> {
        let (x, y) = (p[0].round(), p[1].round());
        if x < 0.0 || y < 0.0 || x as usize >= work.w || y as usize >= work.h {
            return None;
        }
        let k = y as usize * work.w + x as usize;
        let c = if work.planes.len() == 3 {
            [work.planes[0][k], work.planes[1][k], work.planes[2][k]]
        } else {
            [work.planes[0][k]; 3]
        };
        Some((c, grad.mag[k]))
    };
    let mut samples = Vec::with_capacity(NU * NV);
    for j in 0..NV {
        for i in 0..NU {
            let (u, v) = (
                0.06 + 0.88 * (i as f32 + 0.5) / NU as f32,
                0.06 + 0.88 * (j as f32 + 0.5) / NV as f32,
            );
            if let Some((c, m)) = colour(at(u, v)) {
                samples.push((u, v, c, m));
            }
        }
    }
    if samples.len() < NU * NV / 2 {
        return [0.0; FEATURES];
    }
    let median = |mut v: Vec<f32>| -> f32 {
        v.sort_by(f32::total_cmp);
        v[v.len() / 2]
    };
    let base = [0, 1, 2].map(|c| median(samples.iter().map(|s| s.2[c]).collect()));
    let dist = |c: [f32; 3]| (0..3).map(|k| (c[k] - base[k]).abs()).fold(0.0, f32::max);
    let n = samples.len() as f32;
    // Thresholds relative to the dominant brightness (a shadowed or dark
    // document has weaker detail).
    let level = base.iter().copied().fold(0.0, f32::max).max(40.0);
    let (far, sharp) = (0.18 * level, 0.055 * level);
    let deviating = samples.iter().filter(|s| dist(s.2) > far).count() as f32 / n;
    let end = |lo: f32, hi: f32| {
        let inside: Vec<_> = samples
            .iter()
            .filter(|s| s.0 >= lo && s.0 <= hi && (0.15..=0.85).contains(&s.1))
            .collect();
        let k = inside.len().max(1) as f32;
        let dev = inside.iter().filter(|s| dist(s.2) > far).count() as f32 / k;
        let busy = inside.iter().filter(|s| s.3 > sharp).count() as f32 / k;
        (dev, busy)
    };
    let (l_dev, l_busy) = end(0.0, 0.38);
    let (r_dev, r_busy) = end(0.62, 1.0);
    // The busier end holds the portrait.
    let (end_busy, end_dev, other_busy) = if l_busy >= r_busy {
        (l_busy, l_dev, r_busy)
    } else {
        (r_busy, r_dev, l_busy)
    };
    let bright = base.iter().copied().fold(0.0, f32::max) / 255.0;
    let chroma = (base.iter().copied().fold(0.0, f32::max)
        - base.iter().copied().fold(255.0, f32::min))
        / 255.0;
    let busy = samples.iter().filter(|s| s.3 > sharp).count() as f32 / n;
    // The rim just inside the outline and the band just outside it.
    let mut rim = Vec::new();
    let mut contrast = 0.0;
    let mut count = 0.0f32;
    for k in 0..64 {
        let t = 0.1 + 0.8 * (k % 16) as f32 / 16.0;
        let (inner, outer) = match k / 16 {
            0 => (at(t, 0.05), at(t, -0.06)),
            1 => (at(t, 0.95), at(t, 1.06)),
            2 => (at(0.04, t), at(-0.04, t)),
            _ => (at(0.96, t), at(1.04, t)),
        };
        if let (Some((a, _)), Some((b, _))) = (colour(inner), colour(outer)) {
            rim.push(a);
            contrast += (0..3).map(|c| (a[c] - b[c]).abs()).fold(0.0, f32::max);
            count += 1.0;
        }
    }
    let (rim_dev, rim_spread) = if rim.is_empty() {
        (1.0, 1.0)
    } else {
        let own = [0, 1, 2].map(|c| median(rim.iter().map(|s| s[c]).collect()));
        let k = rim.len() as f32;
        let off =
            |c: &[f32; 3], b: [f32; 3]| (0..3).map(|i| (c[i] - b[i]).abs()).fold(0.0, f32::max);
        (
            rim.iter().filter(|c| off(c, base) > 30.0).count() as f32 / k,
            rim.iter().filter(|c| off(c, own) > 30.0).count() as f32 / k,
        )
    };
    let contrast = contrast / count.max(1.0) / 255.0;
    [
        deviating,
        end_busy,
        end_dev,
        other_busy,
        bright,
        chroma,
        busy,
        rim_dev,
        contrast,
        ratio(&q),
        score,
        rim_spread,
        1.0,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quad(x: f32, y: f32, w: f32, h: f32, score: f32) -> Candidate {
        Candidate {
            corners: [[x, y], [x + w, y], [x + w, y + h], [x, y + h]],
            score,
            area: w * h,
        }
    }

    #[test]
    fn the_pool_holds_quads_around_the_best_then_the_best_then_others_elsewhere() {
        let candidates = [
            // The best: a phone-sized shape on the right.
            quad(400.0, 50.0, 100.0, 160.0, 1.0),
            // Near copies of it: not weighed twice.
            quad(402.0, 52.0, 98.0, 158.0, 0.98),
            // A quad around it.
            quad(380.0, 30.0, 150.0, 210.0, 0.9),
            // Elsewhere: a card on the left, then others, the last too weak.
            quad(40.0, 60.0, 160.0, 100.0, 0.8),
            quad(45.0, 62.0, 150.0, 95.0, 0.79),
            quad(40.0, 250.0, 80.0, 50.0, 0.7),
            quad(200.0, 250.0, 80.0, 50.0, 0.68),
            quad(300.0, 250.0, 60.0, 40.0, 0.66),
            quad(10.0, 10.0, 20.0, 15.0, 0.65),
            quad(600.0, 300.0, 30.0, 20.0, 0.5),
        ];
        let pool: Vec<f32> = id_pool(&candidates).iter().map(|c| c.score).collect();
        // Around first, then the best, then at most EXTRA_POOL others that
        // overlap nothing before them and score >= EXTRA_SCORE of the best.
        assert_eq!(pool, [0.9, 1.0, 0.8, 0.7, 0.68, 0.66]);
        assert_eq!(pool.len(), 2 + EXTRA_POOL);
        assert!(id_pool(&[]).is_empty());
    }
}
