//! The demo camera: plays the pictures in `assets/demo/` (a SPECIMEN identity
//! card, front and back, and a selfie) at a steady frame rate, so the kiosk
//! runs without hardware. Like a person presenting a card, each new scene
//! starts with a few shifted, motion-blurred frames before it steadies, which
//! exercises auto-capture and live feedback.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::{Converter, Error, Frame, FrameSource, RawFormat, SourceInfo};

/// Frames of movement and blur after a scene change before the picture steadies.
pub const SETTLE_FRAMES: u32 = 8;

/// [`DemoControl`]'s forced scene when none is.
const NOT_FORCED: u8 = u8::MAX;

/// What the demo camera is looking at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DemoScene {
    /// The front of the specimen card on a desk.
    Front,
    /// The back of the card (machine-readable zone).
    Back,
    /// The customer's face.
    Face,
    /// The front of the card, too far away ("move the document closer").
    FrontFar,
    /// The front of the card, cut by the frame's edge.
    FrontCut,
    /// A selfie with a second person behind the customer.
    FaceTwo,
    /// A utility bill (an A4 page) addressed to the specimen, on the desk:
    /// the proof-of-address step.
    Bill,
}

impl DemoScene {
    /// Every scene, in the order of their discriminants.
    pub const ALL: [Self; 7] = [
        Self::Front,
        Self::Back,
        Self::Face,
        Self::FrontFar,
        Self::FrontCut,
        Self::FaceTwo,
        Self::Bill,
    ];

    /// The file in the demo directory.
    #[must_use]
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Front => "front.jpg",
            Self::Back => "back.jpg",
            Self::Face => "face.jpg",
            Self::FrontFar => "front_far.jpg",
            Self::FrontCut => "front_cut.jpg",
            Self::FaceTwo => "face_two.jpg",
            Self::Bill => "bill.jpg",
        }
    }

    /// The good scene a badly framed one is a variant of.
    #[must_use]
    pub fn base(self) -> Self {
        match self {
            Self::FrontFar | Self::FrontCut => Self::Front,
            Self::FaceTwo => Self::Face,
            s => s,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Where the demo pictures are: the source checkout's `assets/demo`, or
/// where the package installs them ([`INSTALLED_DIR`]).
#[must_use]
pub fn default_dir() -> PathBuf {
    let built = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets")
        .join("demo");
    if built.is_dir() {
        return built;
    }
    // Installed from the package (`make release`), away from the source tree.
    PathBuf::from(INSTALLED_DIR)
}

/// Where the package (`make release`) installs the demo pictures.
pub const INSTALLED_DIR: &str = "/usr/share/kyc-kiosk/demo";

/// The decoded demo pictures, loaded once and shared by every demo source.
#[derive(Debug)]
pub struct DemoFrames {
    scenes: Vec<Frame>,
}

impl DemoFrames {
    /// Decode every scene's picture ([`DemoScene::file_name`]) from `dir`.
    ///
    /// # Errors
    /// [`Error::Demo`] naming the file that is missing or does not decode.
    pub fn load(dir: &Path) -> Result<Arc<Self>, Error> {
        let mut conv = Converter::new();
        let mut scenes = Vec::with_capacity(DemoScene::ALL.len());
        for scene in DemoScene::ALL {
            let path = dir.join(scene.file_name());
            let bytes = std::fs::read(&path).map_err(|e| Error::Demo {
                path: path.clone(),
                detail: e.to_string(),
            })?;
            let mut rgb = Vec::new();
            let (w, h) = conv
                .to_rgb(RawFormat::Mjpeg, &bytes, 0, 0, &mut rgb)
                .map_err(|e| Error::Demo {
                    path: path.clone(),
                    detail: e.to_string(),
                })?;
            if w % 2 != 0 || w < 64 || h < 64 {
                return Err(Error::Demo {
                    path,
                    detail: format!("{w}x{h} is not a usable frame size"),
                });
            }
            scenes.push(Frame::new(rgb, w, h, 0, Instant::now())?);
        }
        Ok(Arc::new(Self { scenes }))
    }

    /// Build from frames in memory (tests, benchmarks): front, back, face.
    /// The badly framed scenes show their [`DemoScene::base`] picture, the
    /// bill the front's.
    ///
    /// # Errors
    /// [`Error::Demo`] unless exactly three frames are given.
    pub fn from_frames(mut scenes: Vec<Frame>) -> Result<Arc<Self>, Error> {
        if scenes.len() != 3 {
            return Err(Error::Demo {
                path: PathBuf::new(),
                detail: format!(
                    "{} frames given, expected front, back and face",
                    scenes.len()
                ),
            });
        }
        for extra in &DemoScene::ALL[3..] {
            let shown = match extra {
                DemoScene::Bill => DemoScene::Front,
                other => other.base(),
            };
            scenes.push(scenes[shown.index()].clone());
        }
        Ok(Arc::new(Self { scenes }))
    }

    /// The steady picture of a scene.
    #[must_use]
    pub fn scene(&self, scene: DemoScene) -> &Frame {
        &self.scenes[scene.index()]
    }
}

/// Switches what the demo camera shows, from any thread (the session does it
/// when it moves from FRONT to BACK to FACE). Each switch restarts the
/// unsteady period.
#[derive(Debug, Clone)]
pub struct DemoControl {
    scene: Arc<AtomicU8>,
    /// A scene forced by a test over the one the kiosk asks for
    /// ([`NOT_FORCED`] when none).
    forced: Arc<AtomicU8>,
    changes: Arc<AtomicU64>,
    settle: Arc<AtomicU32>,
    unplugged: Arc<AtomicBool>,
}

impl Default for DemoControl {
    fn default() -> Self {
        Self::new(DemoScene::Front)
    }
}

impl DemoControl {
    /// A control starting on `scene`.
    #[must_use]
    pub fn new(scene: DemoScene) -> Self {
        Self {
            scene: Arc::new(AtomicU8::new(scene as u8)),
            forced: Arc::new(AtomicU8::new(NOT_FORCED)),
            changes: Arc::new(AtomicU64::new(0)),
            settle: Arc::new(AtomicU32::new(SETTLE_FRAMES)),
            unplugged: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Pulls the demo camera's cable (`false`) or plugs it back (`true`):
    /// unplugged, a running source fails with [`Error::Lost`] and opening
    /// fails with [`Error::NoCamera`], as a real camera does.
    pub fn set_connected(&self, connected: bool) {
        self.unplugged.store(!connected, Ordering::Release);
    }

    /// Whether the demo camera is plugged in.
    #[must_use]
    pub fn connected(&self) -> bool {
        !self.unplugged.load(Ordering::Acquire)
    }

    /// How many moving, blurred frames follow each scene change (default
    /// [`SETTLE_FRAMES`]); a long period lets a test photograph a blurry card.
    pub fn set_settle_frames(&self, frames: u32) {
        self.settle.store(frames, Ordering::Relaxed);
    }

    fn settle_frames(&self) -> u32 {
        self.settle.load(Ordering::Relaxed)
    }

    /// Show `scene` from the next frame on, with a new unsteady period.
    pub fn set_scene(&self, scene: DemoScene) {
        self.scene.store(scene as u8, Ordering::Relaxed);
        self.changes.fetch_add(1, Ordering::Release);
    }

    /// Show `scene` whatever the kiosk asks for, until called with `None`
    /// (tests walk through badly framed scenes with it). Like a scene
    /// change, it starts a new unsteady period.
    #[cfg(any(test, feature = "testing"))]
    pub fn force_scene(&self, scene: Option<DemoScene>) {
        self.forced
            .store(scene.map_or(NOT_FORCED, |s| s as u8), Ordering::Relaxed);
        self.changes.fetch_add(1, Ordering::Release);
    }

    /// The scene being shown.
    #[must_use]
    pub fn scene(&self) -> DemoScene {
        let at = |v: u8| DemoScene::ALL.get(usize::from(v)).copied();
        at(self.forced.load(Ordering::Relaxed))
            .or_else(|| at(self.scene.load(Ordering::Relaxed)))
            .unwrap_or(DemoScene::Front)
    }
}

/// A [`FrameSource`] playing the demo pictures at a steady rate.
#[derive(Debug)]
pub struct DemoSource {
    frames: Arc<DemoFrames>,
    control: DemoControl,
    info: SourceInfo,
    period: Duration,
    next_due: Option<Instant>,
    seen_changes: u64,
    settle_left: u32,
}

impl DemoSource {
    /// A demo camera at `fps` frames per second (1..=120).
    #[must_use]
    pub fn new(frames: Arc<DemoFrames>, control: DemoControl, fps: u32) -> Self {
        let fps = fps.clamp(1, 120);
        let scene = frames.scene(control.scene());
        let info = SourceInfo {
            name: "Demo camera".to_owned(),
            width: scene.width(),
            height: scene.height(),
            fps,
            format: RawFormat::Mjpeg,
        };
        let seen_changes = control.changes.load(Ordering::Acquire);
        let settle_left = control.settle_frames();
        Self {
            frames,
            control,
            info,
            period: Duration::from_secs(1) / fps,
            next_due: None,
            seen_changes,
            settle_left,
        }
    }

    /// Wait for the next frame time, keeping a steady rate; a late caller
    /// does not get a burst of catch-up frames.
    fn pace(&mut self) -> Instant {
        let now = Instant::now();
        let due = self.next_due.unwrap_or(now);
        if due > now {
            std::thread::sleep(due - now);
        }
        let now = Instant::now();
        let next = due + self.period;
        self.next_due = Some(if next < now { now + self.period } else { next });
        now
    }
}

impl FrameSource for DemoSource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn next_frame(&mut self, reuse: Vec<u8>) -> Result<Frame, Error> {
        if !self.control.connected() {
            return Err(Error::Lost {
                device: self.info.name.clone(),
                reason: "unplugged".to_owned(),
            });
        }
        let changes = self.control.changes.load(Ordering::Acquire);
        if changes != self.seen_changes {
            self.seen_changes = changes;
            self.settle_left = self.control.settle_frames();
        }
        let captured = self.pace();
        let steady = self.frames.scene(self.control.scene());
        self.info.width = steady.width();
        self.info.height = steady.height();
        let mut out = reuse;
        if self.settle_left > 0 {
            // Still moving: shifted and smeared along the motion.
            // A long unsteady period (tests) keeps the strongest shake rather
            // than moving the card out of the picture.
            let k = self.settle_left.min(SETTLE_FRAMES);
            self.settle_left -= 1;
            shake(
                steady,
                (k * 7) as usize,
                (k * 3) as usize,
                k as usize * 2,
                &mut out,
            );
        } else {
            out.clear();
            out.extend_from_slice(steady.pixels());
        }
        Frame::new(out, steady.width(), steady.height(), 0, captured)
    }
}

/// An [`super::Opener`] for a pipeline: each (re)open starts a demo camera
/// on the shared pictures.
#[must_use]
pub fn opener(frames: Arc<DemoFrames>, control: DemoControl, fps: u32) -> super::Opener {
    Box::new(move || {
        if !control.connected() {
            return Err(Error::NoCamera);
        }
        Ok(Box::new(DemoSource::new(frames.clone(), control.clone(), fps)) as Box<dyn FrameSource>)
    })
}

/// `src` shifted right by `dx` and down by `dy` (edges repeated) with a
/// horizontal motion blur of `radius` pixels, into `out`.
fn shake(src: &Frame, dx: usize, dy: usize, radius: usize, out: &mut Vec<u8>) {
    let (w, h) = (src.width() as usize, src.height() as usize);
    let stride = w * 3;
    out.clear();
    out.resize(stride * h, 0);
    let win = (2 * radius + 1) as u32;
    for y in 0..h {
        let sy = y.saturating_sub(dy);
        let line = &src.pixels()[sy * stride..(sy + 1) * stride];
        let px = |x: isize, c: usize| -> u32 {
            let x = (x - dx as isize).clamp(0, w as isize - 1) as usize;
            u32::from(line[x * 3 + c])
        };
        let row = &mut out[y * stride..(y + 1) * stride];
        for c in 0..3 {
            let mut acc: u32 = (-(radius as isize)..=radius as isize)
                .map(|x| px(x, c))
                .sum();
            for x in 0..w {
                row[x * 3 + c] = ((acc + win / 2) / win) as u8;
                let xi = x as isize;
                acc = acc + px(xi + radius as isize + 1, c) - px(xi - radius as isize, c);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_frames() -> Arc<DemoFrames> {
        let make = |seed: u8| {
            let (w, h) = (64u32, 48u32);
            let mut v = Vec::new();
            for y in 0..h {
                for x in 0..w {
                    // Sharp vertical stripes so blur is measurable.
                    let on = (x / 4 + y / 16) % 2 == 0;
                    v.extend_from_slice(&if on { [250, 250, seed] } else { [5, 5, seed] });
                }
            }
            Frame::new(v, w, h, 0, Instant::now()).unwrap()
        };
        DemoFrames::from_frames(vec![make(1), make(2), make(3)]).unwrap()
    }

    /// Mean absolute horizontal gradient: high when sharp.
    fn sharpness(f: &Frame) -> f64 {
        let p = f.pixels();
        let s: u64 = p
            .windows(4)
            .step_by(3)
            .map(|w| u64::from(w[0].abs_diff(w[3])))
            .sum();
        s as f64 / (p.len() / 3) as f64
    }

    #[test]
    fn starts_unsteady_then_steadies_on_the_exact_picture() {
        let frames = test_frames();
        let control = DemoControl::new(DemoScene::Back);
        let mut src = DemoSource::new(frames.clone(), control.clone(), 120);
        let mut sharp = Vec::new();
        for _ in 0..SETTLE_FRAMES {
            let f = src.next_frame(Vec::new()).unwrap();
            assert_ne!(f.pixels(), frames.scene(DemoScene::Back).pixels());
            sharp.push(sharpness(&f));
        }
        let steady = src.next_frame(Vec::new()).unwrap();
        assert_eq!(steady.pixels(), frames.scene(DemoScene::Back).pixels());
        assert!(sharp[0] < sharpness(&steady) * 0.7, "{sharp:?}");
        // Blur decreases as it settles.
        assert!(sharp.first() < sharp.last(), "{sharp:?}");
        // A scene change restarts the unsteady period and shows the new scene.
        control.set_scene(DemoScene::Face);
        let f = src.next_frame(Vec::new()).unwrap();
        assert_eq!(f.pixels()[2], 3);
        assert_ne!(f.pixels(), frames.scene(DemoScene::Face).pixels());
    }

    #[test]
    fn keeps_a_steady_rate() {
        let mut src = DemoSource::new(test_frames(), DemoControl::default(), 50);
        let t0 = Instant::now();
        for _ in 0..11 {
            src.next_frame(Vec::new()).unwrap();
        }
        // 10 periods of 20 ms; generous upper bound for a loaded machine.
        let took = t0.elapsed();
        assert!(took >= Duration::from_millis(195), "{took:?}");
    }

    #[test]
    fn missing_files_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let err = DemoFrames::load(dir.path()).unwrap_err();
        assert!(err.to_string().contains("front.jpg"), "{err}");
        std::fs::write(dir.path().join("front.jpg"), b"garbage").unwrap();
        let err = DemoFrames::load(dir.path()).unwrap_err();
        assert!(matches!(err, Error::Demo { .. }), "{err}");
        assert_eq!(err.code(), crate::ErrorCode::CameraUnavailable);
    }

    #[test]
    fn the_committed_demo_pictures_load() {
        let frames = DemoFrames::load(&default_dir()).unwrap();
        for s in DemoScene::ALL {
            let f = frames.scene(s);
            let want = if s.base() == DemoScene::Face {
                (1440, 1080)
            } else {
                (1920, 1080)
            };
            assert_eq!((f.width(), f.height()), want, "{s:?}");
        }
    }

    #[test]
    fn a_forced_scene_wins_until_released() {
        let frames = test_frames();
        let control = DemoControl::new(DemoScene::Front);
        control.set_settle_frames(0);
        let mut src = DemoSource::new(frames.clone(), control.clone(), 120);
        control.force_scene(Some(DemoScene::FaceTwo));
        control.set_scene(DemoScene::Back);
        assert_eq!(control.scene(), DemoScene::FaceTwo);
        // In-memory frames: the extra scenes show their base picture.
        let f = src.next_frame(Vec::new()).unwrap();
        assert_eq!(f.pixels(), frames.scene(DemoScene::Face).pixels());
        control.force_scene(None);
        assert_eq!(control.scene(), DemoScene::Back);
    }
}
