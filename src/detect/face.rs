//! Face detection with BlazeFace (MediaPipe, Apache-2.0), run by the
//! crate's own small inference engine ([`super::nn`]). The model sees the
//! whole frame letterboxed into an input of the frame's orientation
//! (320×192 or 192×320); anchors are decoded and overlapping boxes
//! suppressed here. Each remaining candidate gets a second look: the model
//! again, on a 128×128 crop around it, where a real face keeps its score
//! and most look-alikes (textures, round blobs, a cat's face) lose it.

use std::sync::Mutex;

use super::nn::{Model, Scratch};
use super::{Face, ModelError};
use crate::quality::{ImageView, PixelFormat};

/// The model the kiosk ships: BlazeFace's full-range ("back camera") variant,
/// declared for a 256×256 input (the detector plans it for 320×192, 192×320
/// and 128×128), converted to ONNX by PINTO0309 and keijiro (see
/// `assets/models/README.md`). It finds faces down to about 5 % of the
/// frame's long side, which a selfie needs for a second person in the back.
pub const BUILTIN_MODEL: &[u8] =
    include_bytes!("../../assets/models/face_detection_back_256x256_barracuda.onnx");

/// Scores below this are not face candidates (chosen on the tuning part of
/// the evaluation set, see BENCHMARKS.md).
pub const MIN_SCORE: f32 = 0.55;
/// A candidate is kept only if the model, run again on a square crop around
/// it ([`CHECK_SIDE`] pixels, [`CHECK_CROP`] times the box's longer side),
/// scores a box overlapping it at least this much (tuning part, as above).
pub const CHECK_SCORE: f32 = 0.62;
/// Side of the square crop of the second look, in box sides.
const CHECK_CROP: f32 = 1.5;
/// Side of the model's input for the second look.
const CHECK_SIDE: usize = 128;
/// Model input for landscape frames (16:10, multiples of the model's
/// 32-pixel stride): a 16:9 frame fills 320×180 of it, where a square input
/// of 256 (6 % more pixels) would have used 256×144.
const WIDE_INPUT: (usize, usize) = (192, 320);
/// Boxes overlapping a better one by more than this are the same face.
const NMS_IOU: f32 = 0.3;
/// A box of the second look is the candidate's if it overlaps it this much.
const CHECK_IOU: f32 = 0.3;

/// A loaded face model, ready to run on frames. Cheap to share between
/// threads behind an `Arc`: one caller at a time reuses the detector's
/// working buffers, others running at the same moment allocate their own.
///
/// The model is planned three times from the same file: for landscape
/// frames (320×192 input), portrait frames (192×320) and the second look at
/// each candidate (128×128).
pub struct FaceDetector {
    wide: Model,
    tall: Model,
    check: Model,
    scratch: Mutex<Scratch>,
    min_score: f32,
}

impl std::fmt::Debug for FaceDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceDetector")
            .field("wide", &self.wide.input_shape())
            .field("tall", &self.tall.input_shape())
            .field("check", &self.check.input_shape())
            .field("min_score", &self.min_score)
            .finish_non_exhaustive()
    }
}

impl FaceDetector {
    /// The shipped model ([`BUILTIN_MODEL`]).
    ///
    /// # Errors
    /// [`ModelError`] only if the embedded model fails to load, which the
    /// unit tests rule out.
    pub fn builtin() -> Result<Self, ModelError> {
        Self::from_onnx(BUILTIN_MODEL)
    }

    /// Load a BlazeFace ONNX model (NHWC float input `1×S×S×3` in −1…1, the
    /// four outputs of the MediaPipe layout: scores and boxes for the grid of
    /// stride 16 with 2 anchors per cell, then the grid of stride 32 with 6;
    /// fully convolutional, so it is planned for the input sizes above).
    ///
    /// # Errors
    /// [`ModelError::Load`] if the bytes are not such a model.
    pub fn from_onnx(bytes: &[u8]) -> Result<Self, ModelError> {
        let load = |detail: String| ModelError::Load { detail };
        let declared = Model::load(bytes).map_err(load)?;
        match *declared.input_shape() {
            [1, h, w, 3] if h == w => {}
            ref s => return Err(load(format!("input {s:?} is not 1×S×S×3"))),
        }
        let plan = |h: usize, w: usize| -> Result<Model, ModelError> {
            let model = Model::load_with_input(bytes, &[1, h, w, 3]).map_err(load)?;
            let expected = grids(h, w).map(|g| g.cells_x * g.cells_y * g.per_cell);
            let sizes: Vec<usize> = model
                .output_shapes()
                .iter()
                .map(|s| s.iter().product())
                .collect();
            if sizes != [expected[0], expected[1], expected[0] * 16, expected[1] * 16] {
                return Err(load(format!(
                    "outputs {:?} are not BlazeFace's anchors for a {h}×{w} input",
                    model.output_shapes()
                )));
            }
            Ok(model)
        };
        let (h, w) = WIDE_INPUT;
        Ok(Self {
            wide: plan(h, w)?,
            tall: plan(w, h)?,
            check: plan(CHECK_SIDE, CHECK_SIDE)?,
            scratch: Mutex::new(Scratch::default()),
            min_score: MIN_SCORE,
        })
    }

    /// The same detector with another score threshold for candidates (the
    /// second look keeps [`CHECK_SCORE`]).
    #[must_use]
    pub fn with_min_score(self, min_score: f32) -> Self {
        Self { min_score, ..self }
    }

    /// Faces in the frame, best first, boxes in input pixels. An inconsistent
    /// or empty view has no faces.
    #[must_use]
    pub fn detect(&self, view: &ImageView<'_>) -> Vec<Face> {
        self.run(view).unwrap_or_default()
    }

    fn run(&self, view: &ImageView<'_>) -> Result<Vec<Face>, ModelError> {
        if !view.is_consistent() || view.width == 0 || view.height == 0 {
            return Ok(Vec::new());
        }
        let model = if view.height > view.width {
            &self.tall
        } else {
            &self.wide
        };
        let (h, w) = (model.input_shape()[1], model.input_shape()[2]);
        let scale = (w as f32 / view.width as f32).min(h as f32 / view.height as f32);
        let input = letterbox(view, h, w, scale);
        let found = self.infer(model, &input, scale, [0.0, 0.0], self.min_score)?;
        let mut kept = Vec::new();
        for face in suppress(found, NMS_IOU) {
            if self.second_look(view, &face)? >= CHECK_SCORE {
                kept.push(face);
            }
        }
        Ok(kept)
    }

    /// The model's best score for a box overlapping `face` when it looks at
    /// a square crop around it, [`CHECK_CROP`] times its longer side, at
    /// [`CHECK_SIDE`] pixels. A face keeps a high score; a texture or an
    /// object that only resembled one at the first, coarser look does not.
    fn second_look(&self, view: &ImageView<'_>, face: &Face) -> Result<f32, ModelError> {
        let [x, y, w, h] = face.bbox;
        let side = CHECK_CROP * w.max(h);
        let origin = [x + w / 2.0 - side / 2.0, y + h / 2.0 - side / 2.0];
        let input = crop(view, origin, side, CHECK_SIDE);
        let scale = CHECK_SIDE as f32 / side;
        let boxes = self.infer(&self.check, &input, scale, origin, 0.0)?;
        Ok(boxes
            .iter()
            .filter(|b| super::box_iou(&b.bbox, &face.bbox) > CHECK_IOU)
            .map(|b| b.score)
            .fold(0.0, f32::max))
    }

    /// Every anchor scoring at least `min_score`, its box in frame pixels:
    /// model pixels divided by `scale`, plus `origin`.
    fn infer(
        &self,
        model: &Model,
        input: &[f32],
        scale: f32,
        origin: [f32; 2],
        min_score: f32,
    ) -> Result<Vec<Face>, ModelError> {
        let outputs = match self.scratch.try_lock() {
            Ok(mut scratch) => model.run(input, &mut scratch),
            // Busy (or poisoned by a panic elsewhere): buffers of our own.
            Err(_) => model.run(input, &mut Scratch::default()),
        }
        .map_err(|detail| ModelError::Load { detail })?;
        let [scores16, scores32, boxes16, boxes32] = &outputs[..] else {
            return Err(ModelError::Load {
                detail: format!("{} outputs, expected 4", outputs.len()),
            });
        };
        let (h, w) = (model.input_shape()[1], model.input_shape()[2]);
        let mut found = Vec::new();
        for (grid, scores, boxes) in grids(h, w)
            .into_iter()
            .zip([(scores16, boxes16), (scores32, boxes32)])
            .map(|(g, (s, b))| (g, s, b))
        {
            for (i, &raw) in scores.iter().enumerate() {
                let score = sigmoid(raw);
                if score < min_score {
                    continue;
                }
                let cell = i / grid.per_cell;
                let (cy, cx) = (cell / grid.cells_x, cell % grid.cells_x);
                let stride = grid.stride as f32;
                let b = &boxes[i * 16..i * 16 + 4];
                // Model input pixels, then frame pixels.
                let mx = (cx as f32 + 0.5) * stride + b[0];
                let my = (cy as f32 + 0.5) * stride + b[1];
                let (bw, bh) = (b[2] / scale, b[3] / scale);
                if bw > 0.0 && bh > 0.0 {
                    found.push(Face {
                        bbox: [
                            mx / scale - bw / 2.0 + origin[0],
                            my / scale - bh / 2.0 + origin[1],
                            bw,
                            bh,
                        ],
                        score,
                    });
                }
            }
        }
        Ok(found)
    }
}

/// One of BlazeFace's two anchor grids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Grid {
    stride: usize,
    cells_x: usize,
    cells_y: usize,
    per_cell: usize,
}

/// The anchor grids for an `h`×`w` input: stride 16 with 2 anchors per
/// cell, stride 32 with 6 (MediaPipe's layout; 16×16 and 8×8 at 256×256).
fn grids(h: usize, w: usize) -> [Grid; 2] {
    [(16, 2), (32, 6)].map(|(stride, per_cell)| Grid {
        stride,
        cells_x: w.div_ceil(stride),
        cells_y: h.div_ceil(stride),
        per_cell,
    })
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x.clamp(-80.0, 80.0)).exp())
}

/// The frame scaled by `scale` (bilinear) into the top-left of an `h`×`w`
/// input, NHWC, values −1…1; the rest is mid grey (0).
fn letterbox(view: &ImageView<'_>, h: usize, w: usize, scale: f32) -> Vec<f32> {
    let mut out = vec![0f32; h * w * 3];
    let (fw, fh) = (view.width as usize, view.height as usize);
    let ow = ((fw as f32 * scale).round() as usize).clamp(1, w);
    let oh = ((fh as f32 * scale).round() as usize).clamp(1, h);
    let step = 1.0 / scale;
    for oy in 0..oh {
        let fy = (oy as f32 + 0.5) * step - 0.5;
        for ox in 0..ow {
            let fx = (ox as f32 + 0.5) * step - 0.5;
            let o = (oy * w + ox) * 3;
            for (c, v) in bilinear(view, fx, fy).into_iter().enumerate() {
                out[o + c] = v / 127.5 - 1.0;
            }
        }
    }
    out
}

/// The square of frame pixels from `origin` with side `side`, scaled to
/// `s`×`s`, NHWC, values −1…1; what lies outside the frame is mid grey
/// (0). When shrinking, each output pixel is the mean of the frame pixels
/// in its footprint (a box filter, so that fine texture does not alias into
/// patterns); when enlarging, bilinear.
fn crop(view: &ImageView<'_>, origin: [f32; 2], side: f32, s: usize) -> Vec<f32> {
    let mut out = vec![0f32; s * s * 3];
    let step = side / s as f32;
    if step <= 1.0 {
        let (fw, fh) = (view.width as f32, view.height as f32);
        for oy in 0..s {
            let fy = origin[1] + (oy as f32 + 0.5) * step;
            for ox in 0..s {
                let fx = origin[0] + (ox as f32 + 0.5) * step;
                if (0.0..fw).contains(&fx) && (0.0..fh).contains(&fy) {
                    let o = (oy * s + ox) * 3;
                    for (c, v) in bilinear(view, fx - 0.5, fy - 0.5).into_iter().enumerate() {
                        out[o + c] = v / 127.5 - 1.0;
                    }
                }
            }
        }
        return out;
    }
    // Each output pixel's span of frame pixels along one axis, [a, b),
    // and how many of them lie inside the frame (0..len).
    let spans = |o: f32, len: usize| -> Vec<(usize, usize, usize)> {
        (0..s)
            .map(|k| {
                let a = (o + k as f32 * step).floor() as i64;
                let b = ((o + (k + 1) as f32 * step).floor() as i64).max(a + 1);
                let len = len as i64;
                let (ia, ib) = (a.clamp(0, len), b.clamp(0, len));
                ((b - a) as usize, ia as usize, ib as usize)
            })
            .collect()
    };
    let xs = spans(origin[0], view.width as usize);
    let ys = spans(origin[1], view.height as usize);
    let bpp = view.format.bytes_per_pixel();
    let rgb = view.format == PixelFormat::Rgb8;
    let mut acc = vec![0f32; s * 3];
    for (oy, &(ny, y0, y1)) in ys.iter().enumerate() {
        acc.fill(0.0);
        for y in y0..y1 {
            let row = &view.pixels[y * view.stride..];
            for (ox, &(_, x0, x1)) in xs.iter().enumerate() {
                let mut sum = [0u32; 3];
                for x in x0..x1 {
                    let p = &row[x * bpp..];
                    if rgb {
                        for c in 0..3 {
                            sum[c] += u32::from(p[c]);
                        }
                    } else {
                        sum = sum.map(|v| v + u32::from(p[0]));
                    }
                }
                for c in 0..3 {
                    acc[ox * 3 + c] += sum[c] as f32;
                }
            }
        }
        for (ox, &(nx, x0, x1)) in xs.iter().enumerate() {
            // Inside pixels count v/127.5 − 1, outside ones 0 (grey).
            let inside = ((y1 - y0) * (x1 - x0)) as f32;
            let n = (ny * nx) as f32;
            for c in 0..3 {
                out[(oy * s + ox) * 3 + c] = (acc[ox * 3 + c] / 127.5 - inside) / n;
            }
        }
    }
    out
}

/// The frame's colour at a point in pixel-centre coordinates (pixel `i`'s
/// centre is `i`), clamped to the frame; grey frames give three equal values.
fn bilinear(view: &ImageView<'_>, fx: f32, fy: f32) -> [f32; 3] {
    let (w, h) = (view.width as usize, view.height as usize);
    let fx = fx.clamp(0.0, (w - 1) as f32);
    let fy = fy.clamp(0.0, (h - 1) as f32);
    let (x0, y0) = (fx as usize, fy as usize);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (wx, wy) = (fx - x0 as f32, fy - y0 as f32);
    let bpp = view.format.bytes_per_pixel();
    let px = |x: usize, y: usize, c: usize| -> f32 {
        let i = y * view.stride
            + x * bpp
            + if view.format == PixelFormat::Rgb8 {
                c
            } else {
                0
            };
        f32::from(view.pixels[i])
    };
    [0, 1, 2].map(|c| {
        let top = px(x0, y0, c) * (1.0 - wx) + px(x1, y0, c) * wx;
        let bottom = px(x0, y1, c) * (1.0 - wx) + px(x1, y1, c) * wx;
        top * (1.0 - wy) + bottom * wy
    })
}

/// Non-maximum suppression: the best box of each overlapping group, its
/// geometry averaged with the boxes it absorbs (weighted by score, as
/// MediaPipe does), best first.
fn suppress(mut faces: Vec<Face>, max_iou: f32) -> Vec<Face> {
    faces.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Face> = Vec::new();
    let mut used = vec![false; faces.len()];
    for i in 0..faces.len() {
        if used[i] {
            continue;
        }
        let mut sum = [0f32; 4];
        let mut weight = 0.0;
        for j in i..faces.len() {
            if !used[j] && super::box_iou(&faces[i].bbox, &faces[j].bbox) > max_iou {
                used[j] = true;
                for (s, v) in sum.iter_mut().zip(faces[j].bbox) {
                    *s += v * faces[j].score;
                }
                weight += faces[j].score;
            }
        }
        let bbox = if weight > 0.0 {
            sum.map(|v| v / weight)
        } else {
            faces[i].bbox
        };
        kept.push(Face {
            bbox,
            score: faces[i].score,
        });
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::tests::fixture;

    // scikit-image's "chelsea" (CC0; rows 23–275 of the 451×300 photo, to
    // 640×360): the first look finds face candidates on the cat (as on the
    // evaluation set's frames with this background), the second look turns
    // them all away.
    #[test]
    fn a_cats_face_is_a_candidate_at_the_first_look_but_not_a_face() {
        let det = FaceDetector::builtin().unwrap();
        let d = fixture("cat_face.jpg");
        let view = ImageView::rgb(&d.rgb, d.width, d.height);
        let scale = 320.0 / d.width as f32;
        let input = letterbox(&view, 192, 320, scale);
        let first = suppress(
            det.infer(&det.wide, &input, scale, [0.0, 0.0], MIN_SCORE)
                .unwrap(),
            NMS_IOU,
        );
        assert!(!first.is_empty());
        for c in &first {
            assert!(det.second_look(&view, c).unwrap() < CHECK_SCORE, "{c:?}");
        }
        assert!(det.detect(&view).is_empty());
    }

    #[test]
    fn people_keep_a_high_score_at_the_second_look() {
        let det = FaceDetector::builtin().unwrap();
        let d = fixture("two_faces.jpg");
        let view = ImageView::rgb(&d.rgb, d.width, d.height);
        let found = det.detect(&view);
        assert_eq!(found.len(), 2);
        for f in &found {
            assert!(det.second_look(&view, f).unwrap() >= 0.8, "{f:?}");
        }
    }

    #[test]
    fn the_anchor_grids_follow_the_input_size() {
        let g = grids(192, 320);
        assert_eq!((g[0].cells_x, g[0].cells_y, g[0].per_cell), (20, 12, 2));
        assert_eq!((g[1].cells_x, g[1].cells_y, g[1].per_cell), (10, 6, 6));
        let g = grids(256, 256);
        assert_eq!((g[0].cells_x, g[0].cells_y), (16, 16));
        assert_eq!((g[1].cells_x, g[1].cells_y), (8, 8));
        let det = FaceDetector::builtin().unwrap();
        assert_eq!(det.wide.input_shape(), [1, 192, 320, 3]);
        assert_eq!(det.tall.input_shape(), [1, 320, 192, 3]);
        assert_eq!(det.check.input_shape(), [1, 128, 128, 3]);
    }

    // A one-pixel checkerboard shrunk 3×: the mean of each 3×3 footprint
    // (4 or 5 of 9 white), not single pixels' black or white.
    #[test]
    fn the_crop_averages_each_footprint_when_shrinking() {
        let (w, h) = (60u32, 60u32);
        let px: Vec<u8> = (0..w * h)
            .flat_map(|i| {
                let v = if (i % w + i / w) % 2 == 0 { 255 } else { 0 };
                [v; 3]
            })
            .collect();
        let view = ImageView::rgb(&px, w, h);
        let out = crop(&view, [0.0, 0.0], 48.0, 16);
        for v in out {
            assert!(v.abs() <= 1.0 / 9.0 + 1e-5, "{v}");
        }
    }

    // A white frame seen through a crop that reaches past its top-left
    // corner: grey (0) outside, white (1) inside, the edge in between.
    #[test]
    fn the_crop_is_grey_outside_the_frame() {
        let px = vec![255u8; 32 * 32 * 3];
        let view = ImageView::rgb(&px, 32, 32);
        let out = crop(&view, [-16.0, -16.0], 64.0, 16);
        let at = |x: usize, y: usize| out[(y * 16 + x) * 3];
        assert!(at(0, 0).abs() < 1e-6);
        assert!(at(3, 10).abs() < 1e-6);
        assert!((at(4, 4) - 1.0).abs() < 1e-6);
        assert!((at(11, 11) - 1.0).abs() < 1e-6);
        assert!(at(12, 12).abs() < 1e-6);
        // Enlarging (a small box) samples bilinearly, grey outside too.
        let out = crop(&view, [-8.0, 0.0], 16.0, 32);
        assert!(out[0].abs() < 1e-6);
        assert!((out[(5 * 32 + 31) * 3] - 1.0).abs() < 1e-6);
    }
}
