//! Image-quality prechecks. Pure functions over pixel buffers; no camera, no
//! async, no file I/O (decoding of untrusted bytes is bounded here too).
//!
//! Every check runs on a small working grid built in one fused pass over the
//! frame (see `grid`), so that scores do not depend on the camera resolution
//! and a 4K frame costs one read of its bytes. Thresholds live in
//! [`thresholds`].
//!
//! - [`assess_encoded`]: untrusted JPEG/PNG bytes -> [`Assessment`] (stills).
//! - [`assess`]: a frame already in memory ([`ImageView`]) -> [`Assessment`].
//! - [`assess_live`]: the same checks for every preview frame, without
//!   allocating once its [`Scratch`] is warm, and without the size check (a
//!   preview stream is smaller than the still it precedes).
//!
//! `synth` (tests, benches and examples only: the `testing` feature) makes
//! synthetic images with known truth.

mod decode;
mod exposure;
mod glare;
mod grid;
mod live;
mod sharpness;
#[cfg(any(test, feature = "testing"))]
pub mod synth;
pub mod thresholds;

use serde::Serialize;

pub use decode::{decode_bounded, Decoded};
pub use live::{assess_live, assess_live_as, IssueSet, LiveAssessment, Scratch};

use crate::ErrorCode;

/// An image could not be decoded, or was refused before decoding.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// No bytes at all.
    #[error("the file is empty")]
    Empty,
    /// The bytes are neither JPEG nor PNG.
    #[error("not a JPEG or PNG image")]
    UnknownFormat,
    /// A recognised format that the kiosk does not accept.
    #[error("unsupported image format {format} (JPEG or PNG only)")]
    Unsupported { format: String },
    /// The encoded file itself is too big.
    #[error("file of {bytes} bytes is over the limit of {limit} bytes")]
    FileTooLarge { bytes: usize, limit: usize },
    /// The header announces more pixels than may safely be decoded
    /// (a decompression bomb, or a camera far beyond what the kiosk uses).
    #[error(
        "image of {width}x{height} is too large to decode safely \
         (limit {max_side} px a side, {max_pixels} pixels)"
    )]
    TooLarge {
        width: u32,
        height: u32,
        max_side: u32,
        max_pixels: u64,
    },
    /// The decoder needed more memory than allowed.
    #[error("decoding would exceed the memory limit: {detail}")]
    LimitExceeded { detail: String },
    /// Truncated or corrupt data.
    #[error("corrupt or truncated image: {detail}")]
    Malformed { detail: String },
}

impl DecodeError {
    /// The stable code a UI or script branches on.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        ErrorCode::ImageUnreadable
    }
}

/// How the pixels of an [`ImageView`] are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelFormat {
    /// 3 bytes per pixel, R G B.
    Rgb8,
    /// 1 byte per pixel, grey.
    Luma8,
}

impl PixelFormat {
    /// Bytes per pixel.
    #[must_use]
    pub fn bytes_per_pixel(self) -> usize {
        match self {
            Self::Rgb8 => 3,
            Self::Luma8 => 1,
        }
    }
}

/// A borrowed frame: `height` rows of `stride` bytes, each starting with
/// `width` pixels of `format`. The last row may be shorter than `stride`.
#[derive(Debug, Clone, Copy)]
pub struct ImageView<'a> {
    pub pixels: &'a [u8],
    pub width: u32,
    pub height: u32,
    pub stride: usize,
    pub format: PixelFormat,
}

impl<'a> ImageView<'a> {
    /// A tightly packed RGB8 frame.
    #[must_use]
    pub fn rgb(pixels: &'a [u8], width: u32, height: u32) -> Self {
        Self {
            pixels,
            width,
            height,
            stride: width as usize * 3,
            format: PixelFormat::Rgb8,
        }
    }

    /// A tightly packed grey frame.
    #[must_use]
    pub fn luma(pixels: &'a [u8], width: u32, height: u32) -> Self {
        Self {
            pixels,
            width,
            height,
            stride: width as usize,
            format: PixelFormat::Luma8,
        }
    }

    /// The same view with another row stride, in bytes.
    #[must_use]
    pub fn with_stride(self, stride: usize) -> Self {
        Self { stride, ..self }
    }

    /// Whether the buffer really holds what the view claims. Views that do not
    /// are never read: they get a `Retake` verdict.
    #[must_use]
    pub fn is_consistent(&self) -> bool {
        let row = (self.width as usize).checked_mul(self.format.bytes_per_pixel());
        let Some(row) = row else { return false };
        if self.width == 0 || self.height == 0 || self.stride < row {
            return false;
        }
        (self.height as usize - 1)
            .checked_mul(self.stride)
            .and_then(|v| v.checked_add(row))
            .is_some_and(|need| need <= self.pixels.len())
    }
}

/// A rectangle of the frame, in pixels (the guide frame of the preview).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Roi {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl Roi {
    /// The whole of a `width` x `height` frame.
    #[must_use]
    pub fn full(width: u32, height: u32) -> Self {
        Self {
            x: 0,
            y: 0,
            width,
            height,
        }
    }

    /// This rectangle clipped to a `width` x `height` frame (maybe empty).
    #[must_use]
    pub fn clamp(self, width: u32, height: u32) -> Self {
        let x = self.x.min(width);
        let y = self.y.min(height);
        Self {
            x,
            y,
            width: self.width.min(width - x),
            height: self.height.min(height - y),
        }
    }
}

/// What the photo is of; decides the size limits and where glare matters.
pub use crate::capture::Role;

/// Options of [`assess`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// What the photo is of; `None` detects it from the picture (a
    /// skin-coloured centre means a selfie).
    pub role: Option<Role>,
    /// Judge only this part of the frame (clipped to it).
    pub roi: Option<Roi>,
}

/// Take the photo or take it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Ok,
    Retake,
}

/// Why a photo should be retaken: the framing rules ([`crate::framing`]:
/// where the document or the face is) and the image checks of this module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Issue {
    Blurry,
    Glare,
    TooDark,
    TooBright,
    TooSmall,
    /// No identity document was found in the frame.
    NoDocument,
    /// The frame edge cuts the document.
    DocumentCut,
    /// The document fills too little of the frame.
    DocumentTooFar,
    /// The document fills too much of the frame.
    DocumentTooClose,
    /// No face was found (selfie).
    NoFace,
    /// More than one person in the selfie.
    SeveralFaces,
    /// The face is too small in the frame.
    FaceTooSmall,
    /// The face is off the middle of the frame or cut by its edge.
    FaceOffCentre,
}

impl Issue {
    /// All issues, in the order they are reported: framing first (an image
    /// check of a frame without the document in place says little), then
    /// the image checks.
    pub const ALL: [Issue; 13] = [
        Issue::NoDocument,
        Issue::DocumentCut,
        Issue::DocumentTooFar,
        Issue::DocumentTooClose,
        Issue::NoFace,
        Issue::SeveralFaces,
        Issue::FaceTooSmall,
        Issue::FaceOffCentre,
        Issue::Blurry,
        Issue::Glare,
        Issue::TooDark,
        Issue::TooBright,
        Issue::TooSmall,
    ];

    /// A short instruction for the customer.
    #[must_use]
    pub fn hint(&self) -> &'static str {
        match self {
            Self::Blurry => "Hold still",
            Self::Glare => "Tilt the card away from the light",
            Self::TooDark => "Find more light",
            Self::TooBright => "Move out of direct light",
            Self::TooSmall => "Come closer",
            Self::NoDocument => "Place the document in the frame",
            Self::DocumentCut => "Show the whole document",
            Self::DocumentTooFar => "Move the document closer",
            Self::DocumentTooClose => "Move the document back",
            Self::NoFace => "No face found: look at the camera",
            Self::SeveralFaces => "Only you in the picture, please",
            Self::FaceTooSmall => "Come closer",
            Self::FaceOffCentre => "Centre your face in the frame",
        }
    }

    /// Whether this is a framing rule (where the document or the face is,
    /// judged by [`crate::framing`]) rather than an image check (blur,
    /// glare, exposure, resolution). Only a framing refusal of a still may
    /// be overridden by staff: the detectors can miss a document or a face
    /// that is there, while an image that fails an image check is unusable
    /// whatever is in it.
    #[must_use]
    pub fn is_framing(&self) -> bool {
        match self {
            Self::NoDocument
            | Self::DocumentCut
            | Self::DocumentTooFar
            | Self::DocumentTooClose
            | Self::NoFace
            | Self::SeveralFaces
            | Self::FaceTooSmall
            | Self::FaceOffCentre => true,
            Self::Blurry | Self::Glare | Self::TooDark | Self::TooBright | Self::TooSmall => false,
        }
    }

    /// The issue named by its snake_case name, if it is one.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.as_str() == name)
    }

    /// The snake_case name used in JSON.
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Blurry => "blurry",
            Self::Glare => "glare",
            Self::TooDark => "too_dark",
            Self::TooBright => "too_bright",
            Self::TooSmall => "too_small",
            Self::NoDocument => "no_document",
            Self::DocumentCut => "document_cut",
            Self::DocumentTooFar => "document_too_far",
            Self::DocumentTooClose => "document_too_close",
            Self::NoFace => "no_face",
            Self::SeveralFaces => "several_faces",
            Self::FaceTooSmall => "face_too_small",
            Self::FaceOffCentre => "face_off_centre",
        }
    }
}

/// The score of each check. Sharpness: 0 (smeared) ..= 1 (crisp). Glare: the
/// share of the judged area under the largest glare blob. Brightness: mean
/// luma, 0 ..= 1.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Scores {
    pub sharpness: f32,
    pub glare: f32,
    pub brightness: f32,
}

/// The result of the still check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    pub width: u32,
    pub height: u32,
    pub verdict: Verdict,
    /// Every failed check, in [`Issue::ALL`] order; empty when `Ok`.
    pub issues: Vec<Issue>,
    pub scores: Scores,
    /// The role the photo was judged as (detected when none was given;
    /// `Document` for a frame too small or inconsistent to look at).
    pub role: Role,
    /// Share of clipped cells in the judged area.
    pub clipped: f32,
}

/// Decode untrusted bytes within limits and run the full still check, the
/// role (document or selfie) detected from the picture.
///
/// # Errors
/// Any [`DecodeError`]: empty, not JPEG/PNG, corrupt, or too large to decode
/// safely (decompression bombs are refused from their header).
pub fn assess_encoded(bytes: &[u8]) -> Result<Assessment, DecodeError> {
    let d = decode_bounded(bytes)?;
    Ok(assess(
        &ImageView::rgb(&d.rgb, d.width, d.height),
        &Options::default(),
    ))
}

/// The full check of a still. Never panics: an inconsistent view (empty,
/// stride too small, buffer too short) or a region of interest outside the
/// frame gets `Retake` with [`Issue::TooSmall`] and zero scores.
#[must_use]
pub fn assess(view: &ImageView<'_>, opts: &Options) -> Assessment {
    let mut scratch = Scratch::default();
    let live = live::run(view, opts.roi, opts.role, false, &mut scratch);
    let mut issues = live.issues;
    if live.analyzed {
        let (w, h) = (live.judged.width, live.judged.height);
        let (short, long) = (w.min(h), w.max(h));
        let small = match live.role {
            Role::Selfie => short < thresholds::SELFIE_MIN_SHORT_SIDE,
            Role::Document => {
                short < thresholds::DOCUMENT_MIN_SHORT_SIDE
                    || long < thresholds::DOCUMENT_MIN_LONG_SIDE
            }
        };
        if small {
            issues.insert(Issue::TooSmall);
        }
    }
    let issues: Vec<Issue> = issues.iter().collect();
    Assessment {
        width: view.width,
        height: view.height,
        verdict: if issues.is_empty() {
            Verdict::Ok
        } else {
            Verdict::Retake
        },
        issues,
        scores: live.scores,
        role: live.role,
        clipped: live.clipped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The framing rules come first in [`Issue::ALL`], the image checks
    /// after them; only the first kind may be overridden by staff.
    #[test]
    fn framing_issues_are_the_first_eight_and_no_image_check() {
        let framing: Vec<Issue> = Issue::ALL.into_iter().filter(Issue::is_framing).collect();
        assert_eq!(framing, Issue::ALL[..8]);
        for i in [
            Issue::Blurry,
            Issue::Glare,
            Issue::TooDark,
            Issue::TooBright,
            Issue::TooSmall,
        ] {
            assert!(!i.is_framing(), "{i:?}");
        }
    }

    #[test]
    fn issue_names_are_the_contract() {
        let names: Vec<String> = Issue::ALL
            .iter()
            .map(|i| serde_json::to_string(i).unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "\"no_document\"",
                "\"document_cut\"",
                "\"document_too_far\"",
                "\"document_too_close\"",
                "\"no_face\"",
                "\"several_faces\"",
                "\"face_too_small\"",
                "\"face_off_centre\"",
                "\"blurry\"",
                "\"glare\"",
                "\"too_dark\"",
                "\"too_bright\"",
                "\"too_small\""
            ]
        );
        for i in Issue::ALL {
            assert_eq!(Issue::parse(i.as_str()), Some(i));
        }
        for i in Issue::ALL {
            assert_eq!(
                format!("\"{}\"", i.as_str()),
                serde_json::to_string(&i).unwrap()
            );
            assert!(!i.hint().is_empty());
        }
        assert_eq!(
            serde_json::to_string(&Verdict::Retake).unwrap(),
            "\"retake\""
        );
    }

    #[test]
    fn inconsistent_views_get_retake_not_panic() {
        let px = vec![128u8; 300];
        let bad = [
            ImageView::rgb(&[], 0, 0),
            ImageView::rgb(&px, 10, 11),
            ImageView::rgb(&px, 1, 1).with_stride(0),
            ImageView::rgb(&px, u32::MAX, u32::MAX),
            ImageView::luma(&px, 301, 1),
        ];
        for v in bad {
            let a = assess(&v, &Options::default());
            assert_eq!(a.verdict, Verdict::Retake, "{v:?}");
            assert_eq!(a.issues, vec![Issue::TooSmall]);
        }
    }

    #[test]
    fn tiny_frames_get_retake() {
        let px = vec![128u8; 3];
        let a = assess(&ImageView::rgb(&px, 1, 1), &Options::default());
        assert_eq!(a.verdict, Verdict::Retake);
        assert!(a.issues.contains(&Issue::TooSmall));
    }

    #[test]
    fn roi_outside_the_frame_gets_retake() {
        let px = vec![128u8; 64 * 64 * 3];
        let opts = Options {
            roi: Some(Roi {
                x: 100,
                y: 100,
                width: 10,
                height: 10,
            }),
            ..Options::default()
        };
        let a = assess(&ImageView::rgb(&px, 64, 64), &opts);
        assert_eq!(a.issues, vec![Issue::TooSmall]);
    }

    /// Lines of "print" on paper (luma), blurred by a Gaussian of `sigma`
    /// pixels: rows of box letters (an "o" of 0.55 x 1 x-height, strokes of
    /// 0.18 x-height, 0.8 x-height apart, five to a word), a line every 3.4
    /// x-heights. The ink is a union of rectangles, each a product of a
    /// column and a row indicator, so its blur is built from 1-D blurs.
    fn print(w: usize, h: usize, xh: f32, sigma: f32) -> Vec<u8> {
        let blur = |len: usize, inside: &dyn Fn(f32) -> bool| -> Vec<f32> {
            let ind: Vec<f32> = (0..len)
                .map(|i| f32::from(u8::from(inside(i as f32 + 0.5))))
                .collect();
            if sigma <= 0.0 {
                return ind;
            }
            let r = (4.0 * sigma).ceil() as isize;
            let k: Vec<f32> = (-r..=r)
                .map(|d| (-(d as f32).powi(2) / (2.0 * sigma * sigma)).exp())
                .collect();
            let norm: f32 = k.iter().sum();
            (0..len as isize)
                .map(|i| {
                    let mut acc = 0.0;
                    for (j, kv) in (-r..=r).zip(&k) {
                        let p = (i + j).clamp(0, len as isize - 1) as usize;
                        acc += kv * ind[p];
                    }
                    acc / norm
                })
                .collect()
        };
        let stroke = 0.18 * xh;
        let (pitch, word) = (0.8 * xh, 6.0 * 0.8 * xh);
        let in_page = |v: f32, len: usize| v > 0.05 * len as f32 && v < 0.95 * len as f32;
        let letter_x = |x: f32, inner: bool| {
            let (m, l) = (x.rem_euclid(word), x.rem_euclid(pitch));
            let (a, b) = if inner {
                (stroke, 0.55 * xh - stroke)
            } else {
                (0.0, 0.55 * xh)
            };
            in_page(x, w) && m < 5.0 * pitch && l >= a && l < b
        };
        let line_y = |y: f32, inner: bool| {
            let l = y.rem_euclid(3.4 * xh);
            let (a, b) = if inner {
                (stroke, xh - stroke)
            } else {
                (0.0, xh)
            };
            in_page(y, h) && l >= a && l < b
        };
        let (xo, xi) = (
            blur(w, &|x| letter_x(x, false)),
            blur(w, &|x| letter_x(x, true)),
        );
        let (yo, yi) = (
            blur(h, &|y| line_y(y, false)),
            blur(h, &|y| line_y(y, true)),
        );
        let mut px = vec![0u8; w * h];
        for y in 0..h {
            for x in 0..w {
                let ink = (xo[x] * yo[y] - xi[x] * yi[y]).clamp(0.0, 1.0);
                px[y * w + x] = (230.0 - 200.0 * ink).round() as u8;
            }
        }
        px
    }

    fn judge(w: usize, h: usize, xh: f32, sigma: f32) -> Assessment {
        let px = print(w, h, xh, sigma);
        assess(
            &ImageView::luma(&px, w as u32, h as u32),
            &Options::default(),
        )
    }

    const SIZES: [(usize, usize, f32); 2] = [(1280, 720, 2.0), (3840, 2160, 6.0)];

    /// Lettering 20 cells high, its edges spread over about a cell (an
    /// enlarged photograph of a sign): the grid-relative score is low, below
    /// the fixed document threshold, but by the text's own scale it is sharp.
    #[test]
    fn large_print_with_soft_edges_reads_sharp() {
        for (w, h, cell) in SIZES {
            let xh = 20.0 * cell;
            let a = judge(w, h, xh, 0.06 * xh);
            assert!(!a.issues.contains(&Issue::Blurry), "{w}x{h}: {a:?}");
            assert!(
                a.scores.sharpness < thresholds::BLURRY_BELOW_DOCUMENT,
                "{w}x{h}: {a:?}"
            );
        }
    }

    /// Print 8 cells high blurred to the legibility line (sigma = 0.12
    /// x-height): blurry at 720p and at 4K, though its score is above the fixed
    /// document threshold.
    #[test]
    fn print_blurred_to_the_line_reads_blurry_at_720p_and_4k() {
        for (w, h, cell) in SIZES {
            let xh = 8.0 * cell;
            let a = judge(w, h, xh, 0.12 * xh);
            assert!(a.issues.contains(&Issue::Blurry), "{w}x{h}: {a:?}");
            assert!(
                a.scores.sharpness >= thresholds::BLURRY_BELOW_DOCUMENT,
                "{w}x{h}: {a:?}"
            );
        }
    }

    #[test]
    fn sharp_small_print_reads_sharp() {
        for (w, h, cell) in SIZES {
            let xh = 3.0 * cell;
            for rel in [0.0, 0.06] {
                let a = judge(w, h, xh, rel * xh);
                assert_eq!(a.issues, vec![], "{w}x{h} sigma {rel} xh: {a:?}");
            }
        }
    }

    #[test]
    fn the_same_print_at_two_sizes_scores_alike() {
        for (xh_cells, rel) in [(3.0, 0.0), (8.0, 0.06), (20.0, 0.12)] {
            let [a, b] =
                SIZES.map(|(w, h, cell)| judge(w, h, xh_cells * cell, rel * xh_cells * cell));
            assert!(
                (a.scores.sharpness - b.scores.sharpness).abs() < 0.05 && a.issues == b.issues,
                "{xh_cells} cells, sigma {rel} xh: {a:?} vs {b:?}"
            );
        }
    }

    /// A 1280 x 720 textured frame (sharp 8-pixel checks, mid grey) with a
    /// clipped white square of 80 x 80 at (100, 100).
    fn textured_with_blob() -> Vec<u8> {
        let (w, h) = (1280usize, 720usize);
        let mut px = vec![0u8; w * h * 3];
        for y in 0..h {
            for x in 0..w {
                let v = if (x / 8 + y / 8) % 2 == 0 { 70 } else { 170 };
                let v = if (100..180).contains(&x) && (100..180).contains(&y) {
                    255
                } else {
                    v
                };
                px[(y * w + x) * 3..(y * w + x) * 3 + 3].fill(v);
            }
        }
        px
    }

    #[test]
    fn roi_judges_only_the_guide_frame() {
        let px = textured_with_blob();
        let view = ImageView::rgb(&px, 1280, 720);
        let doc = |roi| Options {
            role: Some(Role::Document),
            roi,
        };
        // The whole frame: the blob is glare.
        let all = assess(&view, &doc(None));
        assert!(all.issues.contains(&Issue::Glare), "{all:?}");
        // A guide frame around the blob: still glare, and a larger share.
        let around = assess(
            &view,
            &doc(Some(Roi {
                x: 0,
                y: 0,
                width: 640,
                height: 400,
            })),
        );
        assert!(around.issues.contains(&Issue::Glare), "{around:?}");
        assert!(around.scores.glare > all.scores.glare);
        // A guide frame elsewhere: no glare, sharp, not too small.
        let away = assess(
            &view,
            &doc(Some(Roi {
                x: 400,
                y: 0,
                width: 880,
                height: 720,
            })),
        );
        assert_eq!(away.verdict, Verdict::Ok, "{away:?}");
        assert_eq!(away.scores.glare, 0.0);
    }

    #[test]
    fn padded_stride_is_honoured() {
        // 800 x 600 mid-grey with 16 bytes of 255 padding after every row:
        // the padding must never be read as pixels.
        let (w, h, pad) = (800u32, 600u32, 16usize);
        let stride = w as usize * 3 + pad;
        let mut px = vec![255u8; stride * h as usize];
        for row in px.chunks_mut(stride) {
            row[..w as usize * 3].fill(120);
        }
        let v = ImageView::rgb(&px, w, h).with_stride(stride);
        let a = assess(&v, &Options::default());
        assert!((a.scores.brightness - 120.0 / 255.0).abs() < 0.01, "{a:?}");
        assert_eq!(a.scores.glare, 0.0);
    }
}
