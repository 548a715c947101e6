//! Every threshold the prechecks use, in one place.
//!
//! The figures were calibrated on the labelled evaluation set built by
//! `scripts/quality/build_eval_set.py`; the blur thresholds and
//! [`GLARE_CORE_LUMA`] were then retuned on the TUNE part of the set built by
//! `scripts/quality/build_split_set.py` (split by source image; its TEST part
//! is what BENCHMARKS.md, "Quality prechecks", reports). Scores are resolution-independent because every check runs on
//! a working grid whose long side is close to [`WORK_LONG_SIDE`] cells,
//! whatever the camera resolution.

/// Target long side, in cells, of the working grid. A frame is box-averaged by
/// an integer factor so that its long side is at most this many cells. Blur is
/// therefore judged relative to the size of what is photographed, not to the
/// sensor's pixel pitch (a 3 px defocus is nothing at 4K and a lot at VGA).
pub const WORK_LONG_SIDE: u32 = 640;

/// Below this many cells on either side of the working grid nothing useful can
/// be judged: the frame is reported too small.
pub const MIN_WORK_SIDE: u32 = 16;

/// Luma on the working grid carries 3 extra bits of precision (0..=2040), so
/// that dark frames keep their edges after averaging.
pub const LUMA_SCALE: u32 = 8;

// ---- sharpness -----------------------------------------------------------

/// A working-grid gradient (span 4 cells, in scaled luma) below this is noise,
/// never an edge: about 3 grey levels.
pub const EDGE_NOISE_FLOOR: u32 = 3 * LUMA_SCALE;

/// Edges taken into account are those whose span-4 gradient reaches this
/// fraction of the 98th percentile gradient of the frame: the strongest edges
/// (text, card borders, eyes and hair) whatever the contrast or the exposure.
pub const EDGE_RELATIVE: f32 = 0.30;

/// Fewer edge cells than this (per direction) and there is nothing to judge:
/// the frame counts as sharp (a blank frame is caught by exposure or glare).
pub const MIN_EDGE_CELLS: u64 = 64;

/// Sharpness score (0 = smeared, 1 = a perfect step edge) below which a
/// document photo without lines of text (see [`DOC_BLUR_AT_PITCH_1`]) is
/// blurry. The score is 4 x the ratio of 1-cell to 4-cell
/// gradient energy over edge cells, taken in the worst of four directions
/// (two axes, two diagonals) so that motion blur counts as much as defocus.
/// Print has step edges: a sharp document scores 0.5 and more (small print,
/// x-height 2-3 cells, down to about 0.52). Best on the TUNE part was 0.55;
/// held below 0.48, where soft but sharp natural scenes of the regression
/// subset score.
pub const BLURRY_BELOW_DOCUMENT: f32 = 0.475;

/// A document whose rows of cells are periodic (lines of text, see
/// `sharpness::line_pitch`) is judged against a threshold that moves with the
/// line pitch `p` (in grid rows):
/// `DOC_BLUR_AT_PITCH_1 - DOC_BLUR_PER_LN_PITCH * ln(p)`, within
/// 0.3..=[`DOC_BLUR_MAX`]. About 0.66 at a pitch of 15 rows
/// (print 4-5 cells high), 0.53 at 30, 0.44 at 50, 0.33 at 89. The blur line
/// of legibility is a fraction of the x-height, and the score falls as edges
/// widen in cells, so large text may score lower and still be sharp. Chosen
/// on the TUNE part of the split set (with the page's x-height corrected).
pub const DOC_BLUR_AT_PITCH_1: f32 = 1.18;
/// See [`DOC_BLUR_AT_PITCH_1`].
pub const DOC_BLUR_PER_LN_PITCH: f32 = 0.19;
/// See [`DOC_BLUR_AT_PITCH_1`].
pub const DOC_BLUR_MAX: f32 = 0.8;
/// Rows count as periodic when their autocorrelation at the pitch reaches
/// this; below it (photographs, tilted pages) [`BLURRY_BELOW_DOCUMENT`] holds.
pub const LINE_PITCH_MIN_STRENGTH: f32 = 0.3;
/// A shorter period than this many rows is texture, not lines of text (the
/// smallest print the kiosk reads, x-height 2 cells, has a pitch of 5-7).
pub const LINE_PITCH_MIN_ROWS: u32 = 6;

/// The same for a selfie. A face has no step edges (skin, hair, the soft
/// outline of cheeks), so a sharp selfie scores lower than a sharp document.
pub const BLURRY_BELOW_SELFIE: f32 = 0.38;

/// A frame where background blobs (see [`BORDER_BAND`]) cover more than this
/// share is too bright: there is nothing else left to see.
pub const TOO_BRIGHT_BACKGROUND: f32 = 0.85;

// ---- glare ---------------------------------------------------------------

/// A cell is washed out when its mean luma is at least this (0..=255)...
pub const GLARE_MIN_LUMA: u32 = 247;
/// ...and its chroma (max - min of the mean R, G, B) at most this: a specular
/// highlight clips all three channels, a bright coloured surface does not.
pub const GLARE_MAX_CHROMA: u32 = 28;

/// A glare blob is measured by its clipped core: the cells of the blob whose
/// mean luma (0..=255) is at least this. A specular highlight saturates the
/// sensor (cell means of 253-255 after noise and JPEG); bright paper, a pale
/// wall or light skin under strong diffuse light stay below.
pub const GLARE_CORE_LUMA: u32 = 252;

/// A glare blob's core must cover at least this fraction of the judged area
/// (the region of interest, or the whole frame).
pub const GLARE_MIN_AREA: f32 = 0.004;

/// A blob touching the edge of the judged area is background (a white wall,
/// the desk, a window, a lamp at the edge of a selfie) when its centroid lies
/// within this fraction of the width/height from that edge, or when it covers
/// more than [`BACKGROUND_MIN_AREA`].
pub const BORDER_BAND: f32 = 0.2;
/// See [`BORDER_BAND`].
pub const BACKGROUND_MIN_AREA: f32 = 0.15;

/// For a selfie only glare on the face matters: blobs whose centroid is outside
/// this central box (fractions of width and height, from the centre) are
/// ignored.
pub const SELFIE_FACE_HALF_WIDTH: f32 = 0.30;
/// See [`SELFIE_FACE_HALF_WIDTH`].
pub const SELFIE_FACE_HALF_HEIGHT: f32 = 0.38;

// ---- exposure ------------------------------------------------------------

/// Mean luma (0..=1) below which the frame is too dark.
pub const TOO_DARK_BELOW: f32 = 0.22;
/// Mean luma (0..=1) above which the frame is too bright...
pub const TOO_BRIGHT_ABOVE: f32 = 0.93;
/// ...or fraction of clipped cells (luma >= [`CLIPPED_LUMA`]) above which it is.
pub const TOO_BRIGHT_CLIPPED: f32 = 0.45;
/// Share of clipped cells in the central box (middle 60% of each side) above
/// which the frame is too bright, whatever the background.
pub const TOO_BRIGHT_CENTRE_CLIPPED: f32 = 0.40;
/// Luma (0..=255) at which a cell counts as clipped for exposure.
pub const CLIPPED_LUMA: u32 = 250;

// ---- size ----------------------------------------------------------------

/// Minimum short side, in pixels, of a document photo (of the region of
/// interest when one is given): small print must survive.
pub const DOCUMENT_MIN_SHORT_SIDE: u32 = 600;
/// Minimum long side, in pixels, of a document photo.
pub const DOCUMENT_MIN_LONG_SIDE: u32 = 800;
/// Minimum short side, in pixels, of a selfie.
pub const SELFIE_MIN_SHORT_SIDE: u32 = 480;

// ---- role detection ------------------------------------------------------

/// A frame is a selfie when at least this fraction of the cells of its central
/// region are skin-coloured; otherwise it is a document.
pub const SELFIE_SKIN_FRACTION: f32 = 0.20;

// ---- decoding ------------------------------------------------------------

/// Largest width or height accepted from an encoded file.
pub const MAX_DECODE_SIDE: u32 = 12_000;
/// Largest pixel count accepted from an encoded file (a 48 MP sensor fits).
pub const MAX_DECODE_PIXELS: u64 = 50_000_000;
/// Largest allocation the decoder may make, in bytes.
pub const MAX_DECODE_ALLOC: u64 = 512 * 1024 * 1024;
/// Largest encoded file accepted, in bytes.
pub const MAX_ENCODED_BYTES: usize = 64 * 1024 * 1024;
