//! The document detector: a classical pipeline on a small working copy.
//!
//! 1. Downscale to about 320 px on the long side (box average), colour kept.
//! 2. Colour edges: Sobel on each channel, the strongest channel wins, thin
//!    by non-maximum suppression, hysteresis; a one-pixel dilation closes gaps.
//! 3. Outer contours of the edge map; each large one gives candidate corners
//!    (its polygon approximation and its hull).
//! 4. Every convex four-corner choice is scored by how much of its outline
//!    lies on edges (or on the frame border: a cut document), and by its
//!    aspect against the kind's shapes; the best survives.
//! 5. Each side is refitted to the edge pixels along it and the corners are
//!    the intersections, so rounded card corners do not pull them inward.
//! 6. In `Id` mode a page-shaped quad (aspect ≈ 1.41, like a passport page)
//!    whose inside is mostly blank paper is an A4 sheet, not a document.

use image::{GrayImage, Luma};
use imageproc::contours::{find_contours, BorderType};
use imageproc::geometry::{approximate_polygon_dp, convex_hull};
use imageproc::point::Point;

use super::geometry::{order_corners, signed_area, Line};
use super::{Document, Kind};
use crate::quality::{ImageView, PixelFormat};

/// Long side of the working copy, in pixels.
const WORK_SIDE: usize = 320;
/// Sobel magnitude (0…255 input) that starts an edge, and that continues one.
const EDGE_HIGH: f32 = 24.0;
const EDGE_LOW: f32 = 10.0;
/// Smallest document, as a fraction of the frame.
const MIN_FILL: f32 = 0.03;
/// Most candidate corners taken from one contour.
const MAX_VERTICES: usize = 12;
/// Smallest fraction of each side, and of the whole outline, on edges.
const MIN_SIDE_SUPPORT: f32 = 0.55;
const MIN_SUPPORT: f32 = 0.75;
/// Candidates scoring within this factor of the best: the largest wins (the
/// portrait or a text block inside a card is a rectangle too).
const NEAR_BEST: f32 = 0.9;

struct Shape {
    /// Long side over short side of the flat document.
    aspects: &'static [f32],
    /// Accepted range of the measured (perspective-distorted) ratio.
    range: (f32, f32),
}

const ID_SHAPE: Shape = Shape {
    // ID-1 (85.60 × 53.98 mm) and passport data page (125 × 88 mm).
    aspects: &[1.586, 1.420],
    range: (1.22, 1.90),
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
    if !view.is_consistent() || view.width < 16 || view.height < 16 {
        return None;
    }
    let work = Work::downscale(view);
    let edges = Edges::detect(&work);
    let shape = match kind {
        Kind::Id => &ID_SHAPE,
        Kind::Page => &PAGE_SHAPE,
    };
    let best = best_quad(&work, &edges, shape)?;
    let corners = refine(&edges, best.corners);
    let (w, h) = (work.w as f32, work.h as f32);
    let area = signed_area(&corners).abs();
    let fill = area / (w * h);
    if fill < MIN_FILL {
        return None;
    }
    if kind == Kind::Id
        && !best.cut
        && (ratio(&corners) - 1.414).abs() < 0.09
        && blank_paper(&work, &corners)
    {
        return None;
    }
    let margin = 1.5;
    let outside = corners.iter().any(|c| {
        c[0] < margin || c[1] < margin || c[0] > w - 1.0 - margin || c[1] > h - 1.0 - margin
    });
    let (sx, sy) = (view.width as f32 / w, view.height as f32 / h);
    let corners =
        order_corners(corners.map(|c| [(c[0] + 0.5) * sx - 0.5, (c[1] + 0.5) * sy - 0.5]));
    Some(Document {
        corners,
        fill,
        cut: best.cut || outside,
        score: best.score,
    })
}

/// The frame at working size: one to three planes of f32 (0…255).
struct Work {
    w: usize,
    h: usize,
    planes: Vec<Vec<f32>>,
}

impl Work {
    fn downscale(view: &ImageView<'_>) -> Work {
        let (iw, ih) = (view.width as usize, view.height as usize);
        let k = iw.max(ih).div_ceil(WORK_SIDE).max(1);
        let (w, h) = (iw / k, ih / k);
        let channels = match view.format {
            PixelFormat::Rgb8 => 3,
            PixelFormat::Luma8 => 1,
        };
        // At most 4×4 taps per block: enough to average noise, bounded cost.
        let step = k.div_ceil(4);
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

/// Edge maps at working size: thin edges (after hysteresis) and the same
/// dilated by one pixel (what an outline must lie on).
struct Edges {
    w: usize,
    h: usize,
    thin: Vec<bool>,
    near: Vec<bool>,
}

impl Edges {
    fn detect(work: &Work) -> Edges {
        let (w, h) = (work.w, work.h);
        let mut mag = vec![0f32; w * h];
        let mut dir = vec![0u8; w * h];
        for plane in &work.planes {
            for y in 1..h - 1 {
                for x in 1..w - 1 {
                    let p = |dx: isize, dy: isize| {
                        plane[(y as isize + dy) as usize * w + (x as isize + dx) as usize]
                    };
                    let gx =
                        p(1, -1) + 2.0 * p(1, 0) + p(1, 1) - p(-1, -1) - 2.0 * p(-1, 0) - p(-1, 1);
                    let gy =
                        p(-1, 1) + 2.0 * p(0, 1) + p(1, 1) - p(-1, -1) - 2.0 * p(0, -1) - p(1, -1);
                    // Sobel weighs a step of D grey levels as 4·D: back to grey levels.
                    let m = (gx * gx + gy * gy).sqrt() / 4.0;
                    let i = y * w + x;
                    if m > mag[i] {
                        mag[i] = m;
                        dir[i] = quantise(gx, gy);
                    }
                }
            }
        }
        // Non-maximum suppression along the gradient.
        let mut strength = vec![0f32; w * h];
        for y in 1..h - 1 {
            for x in 1..w - 1 {
                let i = y * w + x;
                let m = mag[i];
                if m < EDGE_LOW {
                    continue;
                }
                let (a, b) = match dir[i] {
                    0 => (i - 1, i + 1),
                    1 => (i - w - 1, i + w + 1),
                    2 => (i - w, i + w),
                    _ => (i - w + 1, i + w - 1),
                };
                if m >= mag[a] && m > mag[b] {
                    strength[i] = m;
                }
            }
        }
        // Hysteresis from strong pixels through weak ones.
        let mut thin = vec![false; w * h];
        let mut stack: Vec<usize> = (0..w * h).filter(|&i| strength[i] >= EDGE_HIGH).collect();
        for &i in &stack {
            thin[i] = true;
        }
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            for ny in y.saturating_sub(1)..=(y + 1).min(h - 1) {
                for nx in x.saturating_sub(1)..=(x + 1).min(w - 1) {
                    let j = ny * w + nx;
                    if !thin[j] && strength[j] >= EDGE_LOW {
                        thin[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        let mut near = vec![false; w * h];
        for y in 0..h {
            for x in 0..w {
                if thin[y * w + x] {
                    for ny in y.saturating_sub(1)..=(y + 1).min(h - 1) {
                        for nx in x.saturating_sub(1)..=(x + 1).min(w - 1) {
                            near[ny * w + nx] = true;
                        }
                    }
                }
            }
        }
        Edges { w, h, thin, near }
    }

    fn near_at(&self, p: [f32; 2]) -> bool {
        let (x, y) = (p[0].round(), p[1].round());
        x >= 0.0
            && y >= 0.0
            && (x as usize) < self.w
            && (y as usize) < self.h
            && self.near[y as usize * self.w + x as usize]
    }

    fn on_border(&self, p: [f32; 2]) -> bool {
        let m = 2.0;
        p[0] < m || p[1] < m || p[0] > self.w as f32 - 1.0 - m || p[1] > self.h as f32 - 1.0 - m
    }
}

/// Gradient direction in four bins: 0 horizontal gradient, 1 diagonal ↘,
/// 2 vertical, 3 diagonal ↙.
fn quantise(gx: f32, gy: f32) -> u8 {
    let a = gy.atan2(gx).to_degrees();
    let a = if a < 0.0 { a + 180.0 } else { a };
    match a {
        a if !(22.5..157.5).contains(&a) => 0,
        a if a < 67.5 => 1,
        a if a < 112.5 => 2,
        _ => 3,
    }
}

struct Candidate {
    corners: [[f32; 2]; 4],
    score: f32,
    area: f32,
    cut: bool,
}

fn best_quad(work: &Work, edges: &Edges, shape: &Shape) -> Option<Candidate> {
    let mut img = GrayImage::new(edges.w as u32, edges.h as u32);
    for (i, &on) in edges.near.iter().enumerate() {
        if on {
            img.put_pixel((i % edges.w) as u32, (i / edges.w) as u32, Luma([255]));
        }
    }
    let frame_area = (work.w * work.h) as f32;
    let min_side = (MIN_FILL * frame_area).sqrt() * 0.6;
    let mut candidates: Vec<Candidate> = Vec::new();
    for contour in find_contours::<i32>(&img) {
        if contour.border_type != BorderType::Outer || contour.points.len() < 20 {
            continue;
        }
        let (mut x0, mut y0, mut x1, mut y1) = (i32::MAX, i32::MAX, i32::MIN, i32::MIN);
        for p in &contour.points {
            x0 = x0.min(p.x);
            y0 = y0.min(p.y);
            x1 = x1.max(p.x);
            y1 = y1.max(p.y);
        }
        if ((x1 - x0) as f32) < min_side
            || ((y1 - y0) as f32) < min_side
            || (((x1 - x0) * (y1 - y0)) as f32) < MIN_FILL * frame_area
        {
            continue;
        }
        let hull = convex_hull(contour.points.clone());
        for source in [&hull, &contour.points] {
            let vertices = simplify(source);
            if vertices.len() < 4 {
                continue;
            }
            quads_from(&vertices, edges, shape, frame_area, &mut candidates);
        }
    }
    let best = candidates.iter().map(|c| c.score).fold(0.0f32, f32::max);
    candidates
        .into_iter()
        .filter(|c| c.score >= best * NEAR_BEST)
        .max_by(|a, b| a.area.total_cmp(&b.area))
}

/// The polygon approximation of a closed curve with at most [`MAX_VERTICES`].
fn simplify(points: &[Point<i32>]) -> Vec<[f32; 2]> {
    let perimeter: f64 = points
        .iter()
        .zip(points.iter().cycle().skip(1))
        .map(|(a, b)| f64::from((a.x - b.x).pow(2) + (a.y - b.y).pow(2)).sqrt())
        .sum();
    let mut eps = perimeter * 0.01;
    loop {
        let poly = approximate_polygon_dp(points, eps.max(1.0), true);
        let mut poly: Vec<[f32; 2]> = poly.iter().map(|p| [p.x as f32, p.y as f32]).collect();
        if poly.len() > 1 && poly.first() == poly.last() {
            poly.pop();
        }
        if poly.len() <= MAX_VERTICES {
            return poly;
        }
        eps *= 1.5;
    }
}

fn quads_from(
    v: &[[f32; 2]],
    edges: &Edges,
    shape: &Shape,
    frame_area: f32,
    out: &mut Vec<Candidate>,
) {
    let n = v.len();
    for a in 0..n {
        for b in a + 1..n {
            for c in b + 1..n {
                for d in c + 1..n {
                    let q = [v[a], v[b], v[c], v[d]];
                    if let Some(cand) = judge(q, edges, shape, frame_area) {
                        out.push(cand);
                    }
                }
            }
        }
    }
}

fn judge(q: [[f32; 2]; 4], edges: &Edges, shape: &Shape, frame_area: f32) -> Option<Candidate> {
    let area = signed_area(&q);
    if area.abs() < MIN_FILL * frame_area || !convex(&q) {
        return None;
    }
    // Corners of a held document stay between 45° and 135°.
    for i in 0..4 {
        let (p, c, n) = (q[(i + 3) % 4], q[i], q[(i + 1) % 4]);
        let (u, w) = ([p[0] - c[0], p[1] - c[1]], [n[0] - c[0], n[1] - c[1]]);
        let cos = (u[0] * w[0] + u[1] * w[1]) / ((u[0].hypot(u[1])) * (w[0].hypot(w[1]))).max(1e-6);
        if cos.abs() > 0.72 {
            return None;
        }
    }
    let mut total = 0.0;
    let mut on_border = 0.0;
    let mut min_side = 1.0f32;
    for i in 0..4 {
        let (s, border) = side_support(edges, q[i], q[(i + 1) % 4]);
        total += s;
        on_border += border;
        min_side = min_side.min(s);
    }
    let support = total / 4.0;
    if min_side < MIN_SIDE_SUPPORT || support < MIN_SUPPORT {
        return None;
    }
    // A cut document: at most one side may run along the frame border.
    let cut = on_border > 0.25;
    if on_border > 1.2 {
        return None;
    }
    let r = ratio(&q);
    let aspect = if cut {
        // The visible part of a cut document has any shape; its score is lower.
        if r > 3.0 {
            return None;
        }
        0.8
    } else {
        if r < shape.range.0 || r > shape.range.1 {
            return None;
        }
        let off = shape
            .aspects
            .iter()
            .map(|t| (r - t).abs())
            .fold(f32::MAX, f32::min);
        (1.0 - (off - 0.1).max(0.0) * 2.0).max(0.0)
    };
    Some(Candidate {
        corners: q,
        score: support * aspect,
        area: area.abs(),
        cut,
    })
}

fn convex(q: &[[f32; 2]; 4]) -> bool {
    let s: Vec<f32> = (0..4)
        .map(|i| super::geometry::cross(q[i], q[(i + 1) % 4], q[(i + 2) % 4]))
        .collect();
    s.iter().all(|&v| v > 0.0) || s.iter().all(|&v| v < 0.0)
}

/// Fraction of a side on edges or on the frame border, and the part of it
/// on the frame border alone.
fn side_support(edges: &Edges, a: [f32; 2], b: [f32; 2]) -> (f32, f32) {
    let len = (b[0] - a[0]).hypot(b[1] - a[1]);
    let steps = (len / 2.0).ceil().max(2.0) as usize;
    let (mut hit, mut border) = (0usize, 0usize);
    for s in 0..=steps {
        let t = s as f32 / steps as f32;
        let p = [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t];
        if edges.on_border(p) {
            border += 1;
            hit += 1;
        } else if edges.near_at(p) {
            hit += 1;
        }
    }
    let k = (steps + 1) as f32;
    (hit as f32 / k, border as f32 / k)
}

/// Long side over short side, averaging opposite sides.
fn ratio(q: &[[f32; 2]; 4]) -> f32 {
    let d = |a: [f32; 2], b: [f32; 2]| (a[0] - b[0]).hypot(a[1] - b[1]);
    let s1 = (d(q[0], q[1]) + d(q[2], q[3])) / 2.0;
    let s2 = (d(q[1], q[2]) + d(q[3], q[0])) / 2.0;
    s1.max(s2) / s1.min(s2).max(1e-6)
}

/// Refit each side to the thin edge pixels along it; the corners are where
/// the fitted lines meet. A side with too few pixels keeps its chord.
fn refine(edges: &Edges, q: [[f32; 2]; 4]) -> [[f32; 2]; 4] {
    let mut lines = Vec::with_capacity(4);
    for i in 0..4 {
        let (a, b) = (q[i], q[(i + 1) % 4]);
        let Some(chord) = Line::through(a, b) else {
            return q;
        };
        let len = (b[0] - a[0]).hypot(b[1] - a[1]);
        let mut points = Vec::new();
        let steps = len.ceil() as usize;
        for s in 0..=steps {
            let t = s as f32 / steps.max(1) as f32;
            // Leave out the ends: rounded corners bend away from the side.
            if !(0.12..=0.88).contains(&t) {
                continue;
            }
            let p = [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t];
            for off in -3i32..=3 {
                let x = (p[0] + chord.n[0] * off as f32).round();
                let y = (p[1] + chord.n[1] * off as f32).round();
                if x < 0.0 || y < 0.0 || x as usize >= edges.w || y as usize >= edges.h {
                    continue;
                }
                if edges.thin[y as usize * edges.w + x as usize] {
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
                    .filter(|&p| l.distance(p) <= 1.5)
                    .collect();
                Line::fit(&inliers)
            })
        } else {
            None
        };
        lines.push(fitted.unwrap_or(chord));
    }
    let mut out = q;
    let diag = (edges.w as f32).hypot(edges.h as f32);
    for i in 0..4 {
        if let Some(p) = lines[(i + 3) % 4].intersect(&lines[i]) {
            if (p[0] - q[i][0]).hypot(p[1] - q[i][1]) < 0.05 * diag {
                out[i] = p;
            }
        }
    }
    out
}

/// Whether the inside of the quad is mostly blank paper: bright, colourless
/// pixels near the brightest level inside.
fn blank_paper(work: &Work, q: &[[f32; 2]; 4]) -> bool {
    if work.planes.len() < 3 {
        return false;
    }
    let mut values = Vec::new();
    let n = 16;
    for i in 1..n {
        for j in 1..n {
            // Bilinear interpolation inside the quad, away from its border.
            let (u, v) = (
                0.1 + 0.8 * i as f32 / n as f32,
                0.1 + 0.8 * j as f32 / n as f32,
            );
            let top = [
                q[0][0] + (q[1][0] - q[0][0]) * u,
                q[0][1] + (q[1][1] - q[0][1]) * u,
            ];
            let bottom = [
                q[3][0] + (q[2][0] - q[3][0]) * u,
                q[3][1] + (q[2][1] - q[3][1]) * u,
            ];
            let p = [
                top[0] + (bottom[0] - top[0]) * v,
                top[1] + (bottom[1] - top[1]) * v,
            ];
            let (x, y) = (p[0].round() as usize, p[1].round() as usize);
            if x >= work.w || y >= work.h {
                continue;
            }
            let k = y * work.w + x;
            let (r, g, b) = (work.planes[0][k], work.planes[1][k], work.planes[2][k]);
            values.push((r.max(g).max(b), r.max(g).max(b) - r.min(g).min(b)));
        }
    }
    if values.is_empty() {
        return false;
    }
    let mut bright: Vec<f32> = values.iter().map(|v| v.0).collect();
    bright.sort_by(f32::total_cmp);
    let white = bright[bright.len() * 9 / 10];
    let paper = values
        .iter()
        .filter(|(v, c)| *v >= 0.85 * white && *c <= 0.1 * white)
        .count();
    paper as f32 >= 0.6 * values.len() as f32
}
