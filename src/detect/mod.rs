//! Where the document and the faces are in a frame. Pure functions over
//! pixel buffers ([`ImageView`]); no camera, no async, no file I/O (the face
//! model's bytes are embedded or handed in).
//!
//! - [`find_document`]: the four corners of an identity document (ID-1 card,
//!   passport data page) or, with [`Kind::Page`], of an A4/letter page; its
//!   fill of the frame and whether the frame edge cuts it. A classical
//!   pipeline on a 256–511 px working copy (colour gradient, straight lines
//!   by an orientation-voting Hough transform, quadrilaterals from pairs of
//!   near-parallel lines scored by edge support and aspect, corners refined
//!   by line fits; in `Id` mode a small content model tells an identity
//!   document from paper, books, phones and photos).
//! - [`FaceDetector`]: face boxes and scores from a small BlazeFace model
//!   (ONNX) run by the module's own inference engine (`nn`: the few
//!   operators the model uses, checked against onnxruntime in its tests),
//!   each candidate confirmed by a second look at a crop around it.
//! - [`selfie_faces`]: the faces that are a person in front of the camera,
//!   not the portrait printed on a document in view.
//!
//! Measured against an OpenCV baseline in BENCHMARKS.md ("Detection").

mod document;
mod face;
mod geometry;
mod nn;

use serde::Serialize;

pub use document::find_document;
#[doc(hidden)]
pub use document::{id_pool_features, Weighed, FEATURES};
pub use face::{FaceDetector, BUILTIN_MODEL, MIN_SCORE};
pub use geometry::{box_iou, quad_iou};

#[cfg(doc)]
use crate::quality::ImageView;

/// What kind of document to look for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Identity documents: ID-1 cards (85.60 × 53.98 mm) and passport data
    /// pages (125 × 88 mm).
    #[default]
    Id,
    /// A sheet of paper, A4 or US letter (a utility bill).
    Page,
}

/// A document found in a frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Document {
    /// Top-left, top-right, bottom-right, bottom-left as seen (clockwise on
    /// screen, starting from the corner nearest the frame's top-left), in
    /// input pixels. Corners of a cut document may lie outside the frame.
    pub corners: [[f32; 2]; 4],
    /// Area of the quadrilateral over the frame's area.
    pub fill: f32,
    /// The frame edge cuts the document (part of it is out of view).
    pub cut: bool,
    /// Confidence 0…1: how much of the outline is backed by image edges and
    /// how close its shape is to the expected aspect.
    pub score: f32,
}

impl Document {
    /// Intersection over union with another detection (for "held steady").
    #[must_use]
    pub fn iou(&self, other: &Document) -> f32 {
        quad_iou(&self.corners, &other.corners)
    }

    /// Whether a point (input pixels) lies inside the document.
    #[must_use]
    pub fn contains(&self, p: [f32; 2]) -> bool {
        geometry::quad_contains(&self.corners, p)
    }
}

/// A face found in a frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Face {
    /// `[x, y, width, height]` in input pixels.
    #[serde(rename = "box")]
    pub bbox: [f32; 4],
    /// Model confidence 0…1.
    pub score: f32,
}

impl Face {
    /// The box's centre.
    #[must_use]
    pub fn centre(&self) -> [f32; 2] {
        [
            self.bbox[0] + self.bbox[2] / 2.0,
            self.bbox[1] + self.bbox[3] / 2.0,
        ]
    }
}

/// The face model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The bytes are not a model of the expected shape.
    #[error("face model: {detail}")]
    Load { detail: String },
}

/// The faces that are people in front of the camera: those not inside the
/// document (a printed portrait) and at least `min_height` of the frame's
/// height tall (a portrait on a card far away is small).
#[must_use]
pub fn selfie_faces(
    faces: &[Face],
    document: Option<&Document>,
    frame_height: u32,
    min_height: f32,
) -> Vec<Face> {
    faces
        .iter()
        .filter(|f| f.bbox[3] >= min_height * frame_height as f32)
        .filter(|f| document.is_none_or(|d| !d.contains(f.centre())))
        .copied()
        .collect()
}

#[cfg(test)]
mod tests;
