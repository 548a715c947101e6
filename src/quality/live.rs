//! The per-frame check of the preview: same measures as the still check, no
//! allocation once the [`Scratch`] has seen a frame of the size, and only
//! one or two pixel rows read per grid cell (a third to a half of the memory
//! traffic; the cells still average whole pixel columns).

use serde::Serialize;

use super::grid::{Grid, SKIN, WASHED};
use super::sharpness::{blurry_below_document, line_pitch, sharpness, SharpScratch};
use super::thresholds as t;
use super::{exposure, glare, ImageView, Issue, Roi, Role, Scores, Verdict};

/// Buffers reused from frame to frame. Create one per preview stream.
#[derive(Debug, Default)]
pub struct Scratch {
    grid: Grid,
    sharp: SharpScratch,
}

/// A set of [`Issue`]s without allocation.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct IssueSet(u32);

impl std::fmt::Debug for IssueSet {
    // The issues by name (logs), not the bits.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

// One bit per issue.
const _: () = assert!(Issue::ALL.len() <= 32);

impl IssueSet {
    fn bit(i: Issue) -> u32 {
        1 << (i as u32)
    }
    /// Add an issue.
    pub fn insert(&mut self, i: Issue) {
        self.0 |= Self::bit(i);
    }
    /// Whether `i` is in the set.
    #[must_use]
    pub fn contains(&self, i: Issue) -> bool {
        self.0 & Self::bit(i) != 0
    }
    /// Whether no issue was found.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }
    /// The first issue in [`Issue::ALL`] order (the one shown).
    #[must_use]
    pub fn first(&self) -> Option<Issue> {
        self.iter().next()
    }
    /// The issues, in [`Issue::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = Issue> + '_ {
        Issue::ALL.into_iter().filter(|i| self.contains(*i))
    }
}

impl Serialize for IssueSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// The result of [`assess_live`]. Copy, so it can go through a channel as is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LiveAssessment {
    pub verdict: Verdict,
    /// Never contains [`Issue::TooSmall`] except for frames or regions of
    /// interest too small (or inconsistent) to analyse at all.
    pub issues: IssueSet,
    pub scores: Scores,
    /// The role the frame was judged as (detected when none was given;
    /// `Document` for a frame that could not be analysed).
    pub role: Role,
    /// Share of clipped cells in the judged area.
    pub clipped: f32,
    /// The judged area, in pixels (the region of interest clipped to the frame).
    pub judged: Roi,
    /// False when the frame could not be analysed (`issues` is then `TooSmall`).
    pub analyzed: bool,
}

/// Check one preview frame (typically RGB8 from the camera) for blur, glare
/// and exposure. Auto-detects document vs selfie. Cheap enough for every
/// frame; does not allocate once `scratch` is warm. Never panics.
#[must_use]
pub fn assess_live(
    view: &ImageView<'_>,
    roi: Option<Roi>,
    scratch: &mut Scratch,
) -> LiveAssessment {
    run(view, roi, None, true, scratch)
}

/// [`assess_live`] judging the frame as `role` (the camera's role is
/// known: no guess from the picture).
#[must_use]
pub fn assess_live_as(
    view: &ImageView<'_>,
    roi: Option<Roi>,
    role: Role,
    scratch: &mut Scratch,
) -> LiveAssessment {
    run(view, roi, Some(role), true, scratch)
}

pub(crate) fn run(
    view: &ImageView<'_>,
    roi: Option<Roi>,
    role: Option<Role>,
    sparse: bool,
    scratch: &mut Scratch,
) -> LiveAssessment {
    let unusable = |judged: Roi| {
        let mut issues = IssueSet::default();
        issues.insert(Issue::TooSmall);
        LiveAssessment {
            verdict: Verdict::Retake,
            issues,
            scores: Scores::default(),
            role: role.unwrap_or(Role::Document),
            clipped: 0.0,
            judged,
            analyzed: false,
        }
    };
    if !view.is_consistent() {
        return unusable(Roi::full(0, 0));
    }
    let judged = roi
        .unwrap_or(Roi::full(view.width, view.height))
        .clamp(view.width, view.height);
    let g = &mut scratch.grid;
    g.build(view, judged, sparse);
    if (g.w as u32) < t::MIN_WORK_SIDE.min(judged.width)
        || (g.h as u32) < t::MIN_WORK_SIDE.min(judged.height)
        || g.w < 5
        || g.h < 5
    {
        return unusable(judged);
    }
    let role = role.unwrap_or_else(|| detect_role(g));
    let sharp = sharpness(g, &mut scratch.sharp);
    let glare_area = glare::glare(g, role);
    let (brightness, clipped, background, centre_clipped) = exposure::exposure(&g.stats, g.w * g.h);

    let mut issues = IssueSet::default();
    let too_dark = brightness < t::TOO_DARK_BELOW;
    let too_bright = brightness > t::TOO_BRIGHT_ABOVE
        || clipped > t::TOO_BRIGHT_CLIPPED
        || background > t::TOO_BRIGHT_BACKGROUND
        || centre_clipped > t::TOO_BRIGHT_CENTRE_CLIPPED;
    let blurry_below = match role {
        Role::Selfie => t::BLURRY_BELOW_SELFIE,
        Role::Document => blurry_below_document(line_pitch(g, &mut scratch.sharp)),
    };
    // A frame too dark to show its edges says nothing about focus: report the
    // light, not the blur.
    if sharp < blurry_below && !too_dark {
        issues.insert(Issue::Blurry);
    }
    if glare_area >= t::GLARE_MIN_AREA {
        issues.insert(Issue::Glare);
    }
    if too_dark {
        issues.insert(Issue::TooDark);
    }
    if too_bright {
        issues.insert(Issue::TooBright);
    }
    LiveAssessment {
        verdict: if issues.is_empty() {
            Verdict::Ok
        } else {
            Verdict::Retake
        },
        issues,
        scores: Scores {
            sharpness: sharp,
            glare: glare_area,
            brightness,
        },
        role,
        clipped,
        judged,
        analyzed: true,
    }
}

/// A selfie has skin in the middle of the frame; a document has print.
fn detect_role(g: &Grid) -> Role {
    let (x0, x1) = (g.w / 4, g.w * 3 / 4);
    let (y0, y1) = (g.h * 15 / 100, g.h * 75 / 100);
    let (mut skin, mut n) = (0u32, 0u32);
    for y in y0..y1 {
        for &f in &g.flags[y * g.w + x0..y * g.w + x1] {
            // A glare blob on the face hides skin; judge the rest.
            let seen = u32::from(f & WASHED == 0);
            skin += u32::from(f & SKIN != 0) * seen;
            n += seen;
        }
    }
    if n > 0 && skin as f32 >= t::SELFIE_SKIN_FRACTION * n as f32 {
        Role::Selfie
    } else {
        Role::Document
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_set_keeps_order_and_membership() {
        let mut s = IssueSet::default();
        assert!(s.is_empty());
        s.insert(Issue::TooSmall);
        s.insert(Issue::Blurry);
        assert!(s.contains(Issue::Blurry) && !s.contains(Issue::Glare));
        assert_eq!(
            s.iter().collect::<Vec<_>>(),
            [Issue::Blurry, Issue::TooSmall]
        );
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"["blurry","too_small"]"#
        );
        // Past the first byte: every issue has its own bit.
        let mut all = IssueSet::default();
        for i in Issue::ALL {
            all.insert(i);
        }
        assert_eq!(all.iter().collect::<Vec<_>>(), Issue::ALL);
        s.insert(Issue::FaceOffCentre);
        assert_eq!(s.first(), Some(Issue::FaceOffCentre));
    }

    #[test]
    fn dark_frame_is_too_dark_not_blurry() {
        let px = vec![12u8; 640 * 480 * 3];
        let mut s = Scratch::default();
        let a = assess_live(&ImageView::rgb(&px, 640, 480), None, &mut s);
        assert!(a.issues.contains(Issue::TooDark));
        assert!(!a.issues.contains(Issue::Blurry));
    }

    #[test]
    fn scratch_buffers_do_not_grow_after_the_first_frame() {
        let (w, h) = (1280u32, 720u32);
        let px: Vec<u8> = (0..w * h * 3).map(|i| (i % 251) as u8).collect();
        let v = ImageView::rgb(&px, w, h);
        let mut s = Scratch::default();
        let _ = assess_live(&v, None, &mut s);
        let caps = (
            s.grid.luma.capacity(),
            s.grid.flags.capacity(),
            s.grid.stack.capacity(),
        );
        for _ in 0..3 {
            let _ = assess_live(&v, None, &mut s);
        }
        assert_eq!(
            caps,
            (
                s.grid.luma.capacity(),
                s.grid.flags.capacity(),
                s.grid.stack.capacity()
            )
        );
    }
}
