//! Framing: whether the document or the face is where a photo needs it. The
//! one place these rules live: the live preview analyser, the still check
//! and the sandbox's verdict all judge with [`judge_document`] and
//! [`judge_selfie`] (or [`Detectors`], which runs the detectors first).
//! Pure functions over detections ([`crate::detect`]) and pixel buffers; no
//! camera, no async, no file I/O.
//!
//! - Document: found, not cut by the frame edge, filling
//!   [`DOCUMENT_MIN_FILL`] to [`DOCUMENT_MAX_FILL`] of the frame.
//! - Selfie: exactly one person ([`detect::selfie_faces`], so the portrait
//!   on a card in view does not count), the face box at least
//!   [`FACE_MIN_HEIGHT`] of the frame's height, its centre inside the middle
//!   band ([`FACE_CENTRE_BAND`]) both ways, and not cut by the frame edge.
//!
//! Each failed rule is a typed [`Issue`], reported like the image checks'.
//! [`crop`] cuts the document out of a still and squares it up.

pub mod crop;

use std::sync::Arc;

use serde::Serialize;

use crate::capture::Role;
use crate::detect::{self, Document, Face, FaceDetector, Kind};
use crate::quality::{ImageView, Issue, Roi};

/// Below this share of the frame the document is too far away: its print
/// gets too few pixels for the vendor's reading.
pub const DOCUMENT_MIN_FILL: f32 = 0.45;
/// Above this share the document is so close that its edges leave the
/// frame at the slightest movement.
pub const DOCUMENT_MAX_FILL: f32 = 0.9;
/// Below this share of the frame a page (a utility bill) is too far away.
/// Lower than a card's: an upright A4 page fills at most 0.40 of a 16:9
/// frame, and a bill's print is larger than a card's.
pub const PAGE_MIN_FILL: f32 = 0.25;
/// The face box must be at least this share of the frame's height.
pub const FACE_MIN_HEIGHT: f32 = 0.20;
/// Faces at least this share of the frame's height count as people in the
/// picture (a second person a step or two behind the customer); smaller
/// ones are too far away to matter.
pub const FACE_COUNTS_FROM: f32 = 0.06;
/// The face's centre must lie in the middle band of this share of the
/// frame, horizontally and vertically (0.25 to 0.75 of each side): loose
/// enough for people of any height in front of a fixed camera, tight enough
/// that the face is not at the edge where lenses distort.
pub const FACE_CENTRE_BAND: f32 = 0.5;

/// A quadrilateral over the preview in 0…1 frame coordinates (x right, y
/// down): the document's corners (top-left, top-right, bottom-right,
/// bottom-left) or the face box's. Serialised as `[[x, y], …]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Outline(pub [[f32; 2]; 4]);

impl Outline {
    /// Corners in pixels of a `width` × `height` frame, normalised and
    /// clamped to the frame (a cut document's corners may lie outside).
    #[must_use]
    pub fn of_corners(corners: &[[f32; 2]; 4], width: u32, height: u32) -> Self {
        let (w, h) = (width.max(1) as f32, height.max(1) as f32);
        Self(corners.map(|[x, y]| [(x / w).clamp(0.0, 1.0), (y / h).clamp(0.0, 1.0)]))
    }

    /// A face box `[x, y, w, h]` in pixels, as four corners.
    #[must_use]
    pub fn of_box(b: &[f32; 4], width: u32, height: u32) -> Self {
        let [x, y, w, h] = *b;
        Self::of_corners(
            &[[x, y], [x + w, y], [x + w, y + h], [x, y + h]],
            width,
            height,
        )
    }

    /// Intersection over union with another outline (1 for the same place).
    #[must_use]
    pub fn iou(&self, other: &Outline) -> f32 {
        detect::quad_iou(&self.0, &other.0)
    }

    /// The bounding rectangle in pixels of a `width` × `height` frame.
    #[must_use]
    pub fn bounds(&self, width: u32, height: u32) -> Roi {
        let (mut x0, mut y0, mut x1, mut y1) = (1f32, 1f32, 0f32, 0f32);
        for [x, y] in self.0 {
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x);
            y1 = y1.max(y);
        }
        let px = |v: f32, side: u32| (v * side as f32).round() as u32;
        let (left, top) = (px(x0, width), px(y0, height));
        Roi {
            x: left,
            y: top,
            width: px(x1, width).saturating_sub(left),
            height: px(y1, height).saturating_sub(top),
        }
        .clamp(width, height)
    }
}

/// What the framing rules say about one frame.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Framing {
    /// The rule that failed first, if any.
    pub issue: Option<Issue>,
    /// Where the document or the face is, when one was found.
    pub outline: Option<Outline>,
}

/// Judge an identity-document detection in a `width` × `height` frame.
#[must_use]
pub fn judge_document(doc: Option<&Document>, width: u32, height: u32) -> Framing {
    judge_document_for(Kind::Id, doc, width, height)
}

/// Judge a detection of a `kind` document: the card rules, but a page
/// ([`Kind::Page`]) may fill from [`PAGE_MIN_FILL`] of the frame.
#[must_use]
pub fn judge_document_for(kind: Kind, doc: Option<&Document>, width: u32, height: u32) -> Framing {
    let min_fill = match kind {
        Kind::Id => DOCUMENT_MIN_FILL,
        Kind::Page => PAGE_MIN_FILL,
    };
    let Some(d) = doc else {
        return Framing {
            issue: Some(Issue::NoDocument),
            outline: None,
        };
    };
    let issue = if d.cut {
        Some(Issue::DocumentCut)
    } else if d.fill < min_fill {
        Some(Issue::DocumentTooFar)
    } else if d.fill > DOCUMENT_MAX_FILL {
        Some(Issue::DocumentTooClose)
    } else {
        None
    };
    Framing {
        issue,
        outline: Some(Outline::of_corners(&d.corners, width, height)),
    }
}

/// The faces that are people in the picture: not the portrait on the
/// document in view, and at least [`FACE_COUNTS_FROM`] of the frame's height.
#[must_use]
pub fn people(faces: &[Face], doc: Option<&Document>, height: u32) -> Vec<Face> {
    detect::selfie_faces(faces, doc, height, FACE_COUNTS_FROM)
}

/// Judge the faces found in a `width` × `height` selfie frame, with the
/// document in view if any (its printed portrait is not a person).
#[must_use]
pub fn judge_selfie(faces: &[Face], doc: Option<&Document>, width: u32, height: u32) -> Framing {
    let not_printed = detect::selfie_faces(faces, doc, height, 0.0);
    let counted = people(faces, doc, height);
    let people: Vec<&Face> = counted.iter().collect();
    let largest = |fs: &[&Face]| {
        fs.iter()
            .max_by(|a, b| a.bbox[3].total_cmp(&b.bbox[3]))
            .map(|f| Outline::of_box(&f.bbox, width, height))
    };
    let (issue, outline) = match people.as_slice() {
        [] => {
            // A face too far away to count is still a face: "come closer".
            let tiny: Vec<&Face> = not_printed.iter().collect();
            let issue = if tiny.is_empty() {
                Issue::NoFace
            } else {
                Issue::FaceTooSmall
            };
            (Some(issue), largest(&tiny))
        }
        [one] => (face_issue(one, width, height), largest(&people)),
        _ => (Some(Issue::SeveralFaces), largest(&people)),
    };
    Framing { issue, outline }
}

/// The rules for the one face in a selfie.
fn face_issue(f: &Face, width: u32, height: u32) -> Option<Issue> {
    let (w, h) = (width as f32, height as f32);
    let [x, y, bw, bh] = f.bbox;
    if bh < FACE_MIN_HEIGHT * h {
        return Some(Issue::FaceTooSmall);
    }
    let band = |centre: f32, side: f32| {
        let lo = side * (1.0 - FACE_CENTRE_BAND) / 2.0;
        (lo..=side - lo).contains(&centre)
    };
    let [cx, cy] = f.centre();
    // A box reaching past the frame: part of the face is out of view.
    let cut = x < 0.0 || y < 0.0 || x + bw > w || y + bh > h;
    if cut || !band(cx, w) || !band(cy, h) {
        return Some(Issue::FaceOffCentre);
    }
    None
}

/// What the detectors saw in a frame and what the rules say of it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Seen {
    pub framing: Framing,
    /// The document, when one was found (for the document role, the one
    /// judged; for a selfie, the card whose portrait was set aside).
    pub document: Option<Document>,
}

/// The detectors the framing rules need, loaded once and shared (the face
/// model is parsed when built).
#[derive(Debug, Clone)]
pub struct Detectors {
    faces: Arc<FaceDetector>,
}

impl Detectors {
    /// Over a loaded face detector.
    #[must_use]
    pub fn new(faces: Arc<FaceDetector>) -> Self {
        Self { faces }
    }

    /// With the shipped face model.
    ///
    /// # Errors
    /// [`detect::ModelError`] if the embedded model does not load (the
    /// detector's unit tests rule that out).
    pub fn builtin() -> Result<Self, detect::ModelError> {
        Ok(Self::new(Arc::new(FaceDetector::builtin()?)))
    }

    /// Run the detectors `role` needs on `view` and judge the result (an
    /// identity document for the document camera).
    #[must_use]
    pub fn look(&self, role: Role, view: &ImageView<'_>) -> Seen {
        self.look_for(role, Kind::Id, view)
    }

    /// [`Self::look`], with the document camera looking for a document of
    /// `kind` (a page for a utility bill). A page is judged by the card's
    /// rules (found, not cut, at most 90 % of the frame) but may fill as
    /// little as [`PAGE_MIN_FILL`].
    #[must_use]
    pub fn look_for(&self, role: Role, kind: Kind, view: &ImageView<'_>) -> Seen {
        match role {
            Role::Document => {
                let document = detect::find_document(view, kind);
                Seen {
                    framing: judge_document_for(kind, document.as_ref(), view.width, view.height),
                    document,
                }
            }
            Role::Selfie => {
                let faces = self.faces.detect(view);
                // The document detector only matters when there is a face
                // that could be a card's portrait.
                let document = if faces.is_empty() {
                    None
                } else {
                    detect::find_document(view, Kind::Id)
                };
                Seen {
                    framing: judge_selfie(&faces, document.as_ref(), view.width, view.height),
                    document,
                }
            }
        }
    }

    /// The faces in `view` (the sandbox counts them itself).
    #[must_use]
    pub fn faces(&self, view: &ImageView<'_>) -> Vec<Face> {
        self.faces.detect(view)
    }
}

#[cfg(test)]
mod tests;
