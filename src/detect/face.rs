//! Face detection with BlazeFace (MediaPipe, Apache-2.0), run by the
//! crate's own small inference engine ([`super::nn`]). The model sees the
//! whole frame letterboxed into its square input; anchors are decoded and
//! overlapping boxes suppressed here.

use std::sync::Mutex;

use super::nn::{Model, Scratch};
use super::{Face, ModelError};
use crate::quality::{ImageView, PixelFormat};

/// The model the kiosk ships: BlazeFace's full-range ("back camera") variant,
/// 256×256 input, converted to ONNX by PINTO0309 and keijiro (see
/// `assets/models/README.md`). It finds faces down to about 5 % of the
/// frame's long side, which a selfie needs for a second person in the back.
pub const BUILTIN_MODEL: &[u8] =
    include_bytes!("../../assets/models/face_detection_back_256x256_barracuda.onnx");

/// Scores below this are not faces (chosen on the tuning part of the
/// evaluation set, see BENCHMARKS.md).
pub const MIN_SCORE: f32 = 0.6;
/// Boxes overlapping a better one by more than this are the same face.
const NMS_IOU: f32 = 0.3;

/// A loaded face model, ready to run on frames. Cheap to share between
/// threads behind an `Arc`: one caller at a time reuses the detector's
/// working buffers, others running at the same moment allocate their own.
pub struct FaceDetector {
    model: Model,
    scratch: Mutex<Scratch>,
    /// Side of the square model input, in pixels.
    side: usize,
    min_score: f32,
}

impl std::fmt::Debug for FaceDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceDetector")
            .field("side", &self.side)
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
    /// four outputs of the MediaPipe layout: scores and boxes for a 16×16 grid
    /// with 2 anchors per cell, then an 8×8 grid with 6).
    ///
    /// # Errors
    /// [`ModelError::Load`] if the bytes are not such a model.
    pub fn from_onnx(bytes: &[u8]) -> Result<Self, ModelError> {
        let load = |detail: String| ModelError::Load { detail };
        let model = Model::load(bytes).map_err(load)?;
        let side = match *model.input_shape() {
            [1, h, w, 3] if h == w => h,
            ref s => return Err(load(format!("input {s:?} is not 1×S×S×3"))),
        };
        let sizes: Vec<usize> = model
            .output_shapes()
            .iter()
            .map(|s| s.iter().product())
            .collect();
        if sizes != [512, 384, 512 * 16, 384 * 16] {
            return Err(load(format!(
                "outputs {:?} are not BlazeFace's 512 + 384 anchors",
                model.output_shapes()
            )));
        }
        Ok(Self {
            model,
            scratch: Mutex::new(Scratch::default()),
            side,
            min_score: MIN_SCORE,
        })
    }

    /// The same detector with another score threshold.
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
        let s = self.side;
        let scale = s as f32 / view.width.max(view.height) as f32;
        let input = letterbox(view, s, scale);
        let outputs = match self.scratch.try_lock() {
            Ok(mut scratch) => self.model.run(&input, &mut scratch),
            // Busy (or poisoned by a panic elsewhere): buffers of our own.
            Err(_) => self.model.run(&input, &mut Scratch::default()),
        }
        .map_err(|detail| ModelError::Load { detail })?;
        let [scores16, scores8, boxes16, boxes8] = &outputs[..] else {
            return Err(ModelError::Load {
                detail: format!("{} outputs, expected 4", outputs.len()),
            });
        };
        let mut found = Vec::new();
        let side = s as f32;
        for (scores, boxes, cells, per_cell) in
            [(scores16, boxes16, 16, 2), (scores8, boxes8, 8, 6)]
        {
            for (i, &raw) in scores.iter().enumerate() {
                let score = sigmoid(raw);
                if score < self.min_score {
                    continue;
                }
                let cell = i / per_cell;
                let (cy, cx) = (cell / cells, cell % cells);
                let ax = (cx as f32 + 0.5) / cells as f32;
                let ay = (cy as f32 + 0.5) / cells as f32;
                let b = &boxes[i * 16..i * 16 + 4];
                // Model input pixels, then frame pixels.
                let (mx, my) = (ax * side + b[0], ay * side + b[1]);
                let (w, h) = (b[2] / scale, b[3] / scale);
                let (x, y) = (mx / scale - w / 2.0, my / scale - h / 2.0);
                if w > 0.0 && h > 0.0 {
                    found.push(Face {
                        bbox: [x, y, w, h],
                        score,
                    });
                }
            }
        }
        Ok(suppress(found, NMS_IOU))
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x.clamp(-80.0, 80.0)).exp())
}

/// The frame scaled by `scale` (bilinear) into the top-left of an `s`×`s`
/// square, NHWC, values −1…1; the rest is mid grey (0).
fn letterbox(view: &ImageView<'_>, s: usize, scale: f32) -> Vec<f32> {
    let mut out = vec![0f32; s * s * 3];
    let (w, h) = (view.width as usize, view.height as usize);
    let ow = ((w as f32 * scale).round() as usize).clamp(1, s);
    let oh = ((h as f32 * scale).round() as usize).clamp(1, s);
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
    // When shrinking a lot, average a few taps so that edges do not alias.
    let step = 1.0 / scale;
    for oy in 0..oh {
        let fy = ((oy as f32 + 0.5) * step - 0.5).clamp(0.0, (h - 1) as f32);
        let y0 = fy as usize;
        let y1 = (y0 + 1).min(h - 1);
        let wy = fy - y0 as f32;
        for ox in 0..ow {
            let fx = ((ox as f32 + 0.5) * step - 0.5).clamp(0.0, (w - 1) as f32);
            let x0 = fx as usize;
            let x1 = (x0 + 1).min(w - 1);
            let wx = fx - x0 as f32;
            let o = (oy * s + ox) * 3;
            for c in 0..3 {
                let top = px(x0, y0, c) * (1.0 - wx) + px(x1, y0, c) * wx;
                let bottom = px(x0, y1, c) * (1.0 - wx) + px(x1, y1, c) * wx;
                let v = top * (1.0 - wy) + bottom * wy;
                out[o + c] = v / 127.5 - 1.0;
            }
        }
    }
    out
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
