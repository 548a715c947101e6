//! Plane geometry for quadrilaterals and boxes: areas, overlap, line fits.

/// Signed area (shoelace), positive for clockwise order on screen (y down).
pub(crate) fn signed_area(poly: &[[f32; 2]]) -> f32 {
    let n = poly.len();
    let mut a = 0.0;
    for i in 0..n {
        let (p, q) = (poly[i], poly[(i + 1) % n]);
        a += p[0] * q[1] - q[0] * p[1];
    }
    a / 2.0
}

/// Intersection over union of two axis-aligned boxes `[x, y, w, h]`.
#[must_use]
pub fn box_iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let x0 = a[0].max(b[0]);
    let y0 = a[1].max(b[1]);
    let x1 = (a[0] + a[2]).min(b[0] + b[2]);
    let y1 = (a[1] + a[3]).min(b[1] + b[3]);
    let inter = (x1 - x0).max(0.0) * (y1 - y0).max(0.0);
    let union = a[2] * a[3] + b[2] * b[3] - inter;
    if union > 0.0 {
        inter / union
    } else {
        0.0
    }
}

/// Intersection over union of two convex quadrilaterals (either orientation).
#[must_use]
pub fn quad_iou(a: &[[f32; 2]; 4], b: &[[f32; 2]; 4]) -> f32 {
    let a = clockwise(a);
    let b = clockwise(b);
    let inter = signed_area(&clip(&a, &b)).abs();
    let union = signed_area(&a).abs() + signed_area(&b).abs() - inter;
    if union > 0.0 {
        inter / union
    } else {
        0.0
    }
}

fn clockwise(q: &[[f32; 2]; 4]) -> Vec<[f32; 2]> {
    let mut v = q.to_vec();
    if signed_area(&v) < 0.0 {
        v.reverse();
    }
    v
}

/// Sutherland–Hodgman: `subject` clipped by the convex clockwise `clipper`.
fn clip(subject: &[[f32; 2]], clipper: &[[f32; 2]]) -> Vec<[f32; 2]> {
    let mut out = subject.to_vec();
    for i in 0..clipper.len() {
        let (a, b) = (clipper[i], clipper[(i + 1) % clipper.len()]);
        let inside = |p: [f32; 2]| cross(a, b, p) >= 0.0;
        let input = std::mem::take(&mut out);
        for j in 0..input.len() {
            let (p, q) = (input[j], input[(j + 1) % input.len()]);
            match (inside(p), inside(q)) {
                (true, true) => out.push(q),
                (true, false) => out.push(intersect_segment(a, b, p, q)),
                (false, true) => {
                    out.push(intersect_segment(a, b, p, q));
                    out.push(q);
                }
                (false, false) => {}
            }
        }
        if out.is_empty() {
            break;
        }
    }
    out
}

/// z of (b − a) × (p − a): positive when p is right of a→b on screen.
pub(crate) fn cross(a: [f32; 2], b: [f32; 2], p: [f32; 2]) -> f32 {
    (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])
}

fn intersect_segment(a: [f32; 2], b: [f32; 2], p: [f32; 2], q: [f32; 2]) -> [f32; 2] {
    let d1 = cross(a, b, p);
    let d2 = cross(a, b, q);
    let t = if (d1 - d2).abs() > f32::EPSILON {
        d1 / (d1 - d2)
    } else {
        0.5
    };
    [p[0] + (q[0] - p[0]) * t, p[1] + (q[1] - p[1]) * t]
}

/// Whether `p` is inside the convex quadrilateral `q` (either orientation).
pub(crate) fn quad_contains(q: &[[f32; 2]; 4], p: [f32; 2]) -> bool {
    let signs: Vec<f32> = (0..4).map(|i| cross(q[i], q[(i + 1) % 4], p)).collect();
    signs.iter().all(|&s| s >= 0.0) || signs.iter().all(|&s| s <= 0.0)
}

/// A line `n · p = d` with unit normal `n`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Line {
    pub n: [f32; 2],
    pub d: f32,
}

impl Line {
    pub fn through(a: [f32; 2], b: [f32; 2]) -> Option<Line> {
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let len = (dx * dx + dy * dy).sqrt();
        if len < 1e-6 {
            return None;
        }
        let n = [-dy / len, dx / len];
        Some(Line {
            n,
            d: n[0] * a[0] + n[1] * a[1],
        })
    }

    /// Total least squares fit (the principal direction of the points).
    pub fn fit(points: &[[f32; 2]]) -> Option<Line> {
        if points.len() < 2 {
            return None;
        }
        let k = points.len() as f32;
        let mx = points.iter().map(|p| p[0]).sum::<f32>() / k;
        let my = points.iter().map(|p| p[1]).sum::<f32>() / k;
        let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
        for p in points {
            let (x, y) = (p[0] - mx, p[1] - my);
            sxx += x * x;
            sxy += x * y;
            syy += y * y;
        }
        // Direction of the largest eigenvalue of the scatter matrix.
        let theta = 0.5 * (2.0 * sxy).atan2(sxx - syy);
        let dir = [theta.cos(), theta.sin()];
        let n = [-dir[1], dir[0]];
        Some(Line {
            n,
            d: n[0] * mx + n[1] * my,
        })
    }

    pub fn distance(&self, p: [f32; 2]) -> f32 {
        (self.n[0] * p[0] + self.n[1] * p[1] - self.d).abs()
    }

    pub fn intersect(&self, o: &Line) -> Option<[f32; 2]> {
        let det = self.n[0] * o.n[1] - self.n[1] * o.n[0];
        if det.abs() < 1e-3 {
            return None;
        }
        Some([
            (self.d * o.n[1] - self.n[1] * o.d) / det,
            (self.n[0] * o.d - self.d * o.n[0]) / det,
        ])
    }
}

/// The corners reordered clockwise on screen, starting from the one nearest
/// the top-left (smallest x + y).
pub(crate) fn order_corners(q: [[f32; 2]; 4]) -> [[f32; 2]; 4] {
    let mut v = q;
    if signed_area(&v) < 0.0 {
        v.reverse();
    }
    let start = (0..4)
        .min_by(|&a, &b| (v[a][0] + v[a][1]).total_cmp(&(v[b][0] + v[b][1])))
        .unwrap_or(0);
    [
        v[start],
        v[(start + 1) % 4],
        v[(start + 2) % 4],
        v[(start + 3) % 4],
    ]
}
