//! The capture pipeline: per open camera, a capture thread writes each new
//! frame into a latest-frame slot (never a queue: a slow reader skips frames,
//! it never makes them pile up), a preview thread turns the latest frame
//! into a screen-sized JPEG, and an analysis thread judges the latest frame,
//! shrunk to the analyser's size. Stills are the full-resolution frames
//! behind the previews.
//!
//! The analysis is off the preview path: whenever it is free (and, if asked,
//! no sooner than [`PipelineConfig::analysis_every`] after its last start),
//! the analysis thread takes the newest frame; frames that came while it was
//! busy are skipped, never queued. Each preview carries the most recent
//! [`Verdict`] with the sequence number and capture time of the frame it was
//! computed on, so previews keep the camera's rate however slow the analyser
//! is, and a verdict is at most one analysis (plus `analysis_every`) behind
//! the picture. Verdicts never go backwards (a preview's verdict is never
//! older than the previous preview's) and never come from a frame newer than
//! the preview's own. The consumer decides how old a verdict may be: the
//! kiosk's auto-capture does not count a verdict whose frame was captured
//! more than `session::autocapture::MAX_VERDICT_AGE` (200 ms) before the
//! preview's, and a still is checked again at full resolution whatever the
//! live verdict said.
//!
//! When the source fails (unplugged, busy, ...) the capture thread reports it
//! in [`CameraStatus`] and keeps reopening it; when it returns, frames resume.

use std::mem::take;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::encode::JpegEncoder;
use super::frame::downscale_to_fit;
use super::{Error, Frame, FrameSource};
use crate::error::ErrorCode;

/// Opens (and, after a failure, reopens) a source on the capture thread.
pub type Opener = Box<dyn FnMut() -> Result<Box<dyn FrameSource>, Error> + Send>;

/// Judges a preview-sized frame (live quality feedback); runs on the
/// pipeline's analysis thread, on the newest frame each time it is free.
pub type Analyser<T> = Box<dyn FnMut(&Frame) -> T + Send>;

/// Pipeline settings.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// The frames the analyser judges fit in this size (aspect kept).
    pub analysis_max: (u32, u32),
    /// Previews fit in this size (aspect kept).
    pub preview_max: (u32, u32),
    /// The least time between the starts of two analyses (zero: analyse
    /// whenever the analyser is free). A verdict is then at most this plus
    /// one analysis behind the preview.
    pub analysis_every: Duration,
    /// JPEG quality of previews (1..=100).
    pub preview_quality: u8,
    /// Wait between attempts to (re)open a failed source.
    pub retry_every: Duration,
    /// A live source with no frame for this long is reported as lost.
    pub stall_after: Duration,
    /// Consecutive corrupt frames after which the source is reopened.
    pub bad_frames_before_reopen: u32,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            analysis_max: (1280, 720),
            preview_max: (1280, 720),
            analysis_every: Duration::ZERO,
            preview_quality: 70,
            retry_every: Duration::from_millis(500),
            stall_after: Duration::from_secs(2),
            bad_frames_before_reopen: 30,
        }
    }
}

/// What the camera is doing, for the screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CameraStatus {
    /// Opening for the first time.
    Starting,
    /// Delivering frames.
    Live {
        name: String,
        width: u32,
        height: u32,
        fps: u32,
    },
    /// Not delivering; the pipeline keeps retrying. `code` says why
    /// (`CAMERA_LOST` once it had worked, then went away).
    Unavailable {
        code: ErrorCode,
        message: String,
        attempts: u32,
    },
    /// The pipeline was stopped.
    Stopped,
}

/// Counters since start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PipelineStats {
    /// Frames delivered by the source.
    pub captured: u64,
    /// Previews produced.
    pub previews: u64,
    /// Preview-sized frames analysed (fewer than previews when the analyser
    /// is slower than the camera).
    pub analysed: u64,
    /// Frames never previewed because a newer one was there first.
    pub skipped: u64,
    /// Corrupt frames dropped.
    pub bad_frames: u64,
    /// Successful (re)opens.
    pub opens: u64,
}

/// The analyser's result on one preview-sized frame.
#[derive(Debug)]
pub struct Verdict<T> {
    /// Sequence number of the frame that was analysed.
    pub seq: u64,
    /// When that frame was captured.
    pub captured: Instant,
    /// The analyser's result.
    pub analysis: T,
}

/// A preview: a screen-sized JPEG of one frame, with the newest verdict of
/// the analyser (on this frame or an earlier one: see its `seq`) and a
/// handle on the frame's full-resolution original.
#[derive(Debug)]
pub struct Preview<T> {
    /// Baseline JPEG, no metadata.
    pub jpeg: Vec<u8>,
    /// Preview width.
    pub width: u32,
    /// Preview height.
    pub height: u32,
    /// Sequence number of the frame.
    pub seq: u64,
    /// When the frame was captured.
    pub captured: Instant,
    /// When this preview was ready.
    pub ready: Instant,
    /// The newest analysis when this preview was ready; `None` until the
    /// first one is done.
    pub verdict: Option<Arc<Verdict<T>>>,
    full: Arc<Frame>,
}

impl<T> Preview<T> {
    /// The full-resolution frame this preview shows: the still to submit
    /// when the analysis approves it.
    #[must_use]
    pub fn full_frame(&self) -> &Arc<Frame> {
        &self.full
    }
}

struct State<T> {
    frame: Option<Arc<Frame>>,
    last_frame_at: Option<Instant>,
    status: CameraStatus,
    preview: Option<Arc<Preview<T>>>,
    /// The newest verdict.
    verdict: Option<Arc<Verdict<T>>>,
    stats: PipelineStats,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    frame_cv: Condvar,
    preview_cv: Condvar,
    stop: AtomicBool,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    /// Wait on `cv` until `ready` finds something in the state, the pipeline
    /// stops, or `timeout` passes.
    fn wait_for<R>(
        &self,
        cv: &Condvar,
        timeout: Duration,
        mut ready: impl FnMut(&State<T>) -> Option<R>,
    ) -> Result<R, Error> {
        let deadline = Instant::now() + timeout;
        let mut st = self.lock();
        loop {
            if let Some(r) = ready(&st) {
                return Ok(r);
            }
            if self.stopped() {
                return Err(Error::Stopped);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(no_frame(&st.status, timeout));
            }
            st = cv
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

/// A running camera: capture, preview and analysis threads around one source.
pub struct Pipeline<T> {
    shared: Arc<Shared<T>>,
    config: PipelineConfig,
    threads: Vec<JoinHandle<()>>,
}

impl<T> std::fmt::Debug for Pipeline<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

impl<T: Send + Sync + 'static> Pipeline<T> {
    /// Start capturing from the source `open` returns, analysing previews
    /// with `analyse`. Returns at once; watch [`Pipeline::status`].
    ///
    /// # Errors
    /// [`Error::Lost`] only if the OS refuses to start a thread.
    pub fn start(
        open: Opener,
        analyse: Analyser<T>,
        config: PipelineConfig,
    ) -> Result<Self, Error> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                frame: None,
                last_frame_at: None,
                status: CameraStatus::Starting,
                preview: None,
                verdict: None,
                stats: PipelineStats::default(),
            }),
            frame_cv: Condvar::new(),
            preview_cv: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let spawn_err = |e: std::io::Error| Error::Lost {
            device: "pipeline".to_owned(),
            reason: format!("cannot start a thread: {e}"),
        };
        let s = shared.clone();
        let c = config.clone();
        let capture = std::thread::Builder::new()
            .name("camera-capture".into())
            .spawn(move || capture_loop(&s, open, &c))
            .map_err(spawn_err)?;
        let mut threads = vec![capture];
        let s = shared.clone();
        let c = config.clone();
        let preview = std::thread::Builder::new()
            .name("camera-preview".into())
            .spawn(move || preview_loop(&s, &c));
        let s = shared.clone();
        let c = config.clone();
        let analysis = preview.and_then(|p| {
            threads.push(p);
            std::thread::Builder::new()
                .name("camera-analysis".into())
                .spawn(move || analysis_loop(&s, analyse, &c))
        });
        match analysis {
            Ok(a) => threads.push(a),
            Err(e) => {
                // Dropping a pipeline stops the threads already started.
                drop(Self {
                    shared,
                    config,
                    threads,
                });
                return Err(spawn_err(e));
            }
        }
        Ok(Self {
            shared,
            config,
            threads,
        })
    }
}

impl<T> Pipeline<T> {
    /// The camera's state; a live source silent for longer than
    /// `stall_after` is reported as lost.
    #[must_use]
    pub fn status(&self) -> CameraStatus {
        let st = self.shared.lock();
        match (&st.status, st.last_frame_at) {
            (CameraStatus::Live { name, .. }, Some(t)) if t.elapsed() > self.config.stall_after => {
                CameraStatus::Unavailable {
                    code: ErrorCode::CameraLost,
                    message: format!(
                        "camera {name} delivered no frame for {} ms",
                        t.elapsed().as_millis()
                    ),
                    attempts: 0,
                }
            }
            (s, _) => s.clone(),
        }
    }

    /// Counters since start.
    #[must_use]
    pub fn stats(&self) -> PipelineStats {
        self.shared.lock().stats
    }

    /// The newest full-resolution frame, if any.
    #[must_use]
    pub fn latest_frame(&self) -> Option<Arc<Frame>> {
        self.shared.lock().frame.clone()
    }

    /// The newest preview, if any (never blocks).
    #[must_use]
    pub fn latest_preview(&self) -> Option<Arc<Preview<T>>> {
        self.shared.lock().preview.clone()
    }

    /// Wait for a preview newer than `after_seq` (pass the last one shown;
    /// 0 for the first). Latest wins: previews made while nobody asked are
    /// simply replaced.
    ///
    /// # Errors
    /// [`Error::NoFrame`] after `timeout` (see [`Pipeline::status`] for
    /// why), [`Error::Stopped`] if the pipeline stopped.
    pub fn wait_preview(
        &self,
        after_seq: u64,
        timeout: Duration,
    ) -> Result<Arc<Preview<T>>, Error> {
        self.shared
            .wait_for(&self.shared.preview_cv, timeout, |st| {
                st.preview.as_ref().filter(|p| p.seq > after_seq).cloned()
            })
    }

    /// A full-resolution still: the first frame captured after this call.
    ///
    /// # Errors
    /// As [`Pipeline::wait_preview`].
    pub fn capture_still(&self, timeout: Duration) -> Result<Arc<Frame>, Error> {
        let after = self.shared.lock().frame.as_ref().map_or(0, |f| f.seq());
        self.shared.wait_for(&self.shared.frame_cv, timeout, |st| {
            st.frame.as_ref().filter(|f| f.seq() > after).cloned()
        })
    }

    /// Stop the threads and wait for them (the capture thread finishes its
    /// current read first, at most one frame time on a working camera).
    pub fn stop(mut self) {
        self.signal_stop();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }

    fn signal_stop(&self) {
        self.shared.stop.store(true, Ordering::Release);
        self.shared.lock().status = CameraStatus::Stopped;
        self.shared.frame_cv.notify_all();
        self.shared.preview_cv.notify_all();
    }
}

impl<T> Drop for Pipeline<T> {
    /// Signals the threads and lets them end on their own: a source stuck in
    /// a driver call must not hang the caller.
    fn drop(&mut self) {
        if !self.threads.is_empty() {
            self.signal_stop();
        }
    }
}

fn no_frame(status: &CameraStatus, waited: Duration) -> Error {
    let device = match status {
        CameraStatus::Live { name, .. } => name.clone(),
        _ => "camera".to_owned(),
    };
    Error::NoFrame {
        device,
        waited_ms: u64::try_from(waited.as_millis()).unwrap_or(u64::MAX),
    }
}

fn set_status<T>(shared: &Shared<T>, status: CameraStatus) {
    let mut st = shared.lock();
    if !shared.stopped() {
        st.status = status;
    }
}

/// Frame numbers for the whole process. A consumer holds on to the last
/// number it saw across pipelines (the page's preview loop, the kiosk's
/// auto-capture): were each pipeline to count from 1 again, the next
/// customer's preview would wait until the new camera had caught up with the
/// previous customer's frame count.
static FRAME_SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn next_seq() -> u64 {
    FRAME_SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1
}

fn capture_loop<T>(shared: &Shared<T>, mut open: Opener, config: &PipelineConfig) {
    let mut source: Option<Box<dyn FrameSource>> = None;
    let mut attempts = 0u32;
    let mut was_live = false;
    let mut spare = Vec::new();
    let mut bad_run = 0u32;
    while !shared.stopped() {
        let Some(src) = source.as_mut() else {
            match open() {
                Ok(s) => {
                    let i = s.info().clone();
                    tracing::info!(camera = %i.name, width = i.width, height = i.height, "camera open");
                    attempts = 0;
                    bad_run = 0;
                    shared.lock().stats.opens += 1;
                    source = Some(s);
                }
                Err(e) => {
                    attempts = attempts.saturating_add(1);
                    let mut code = e.code();
                    if was_live && code == ErrorCode::CameraUnavailable {
                        // It worked and is gone: unplugged, not absent.
                        code = ErrorCode::CameraLost;
                    }
                    if attempts == 1 {
                        tracing::warn!(error = %e, "camera unavailable; retrying");
                    }
                    set_status(
                        shared,
                        CameraStatus::Unavailable {
                            code,
                            message: e.to_string(),
                            attempts,
                        },
                    );
                    let st = shared.lock();
                    if !shared.stopped() {
                        let _ = shared.frame_cv.wait_timeout(st, config.retry_every);
                    }
                }
            }
            continue;
        };
        match src.next_frame(take(&mut spare)) {
            Ok(mut f) => {
                f.set_seq(next_seq());
                bad_run = 0;
                was_live = true;
                let i = src.info();
                let live = CameraStatus::Live {
                    name: i.name.clone(),
                    width: f.width(),
                    height: f.height(),
                    fps: i.fps,
                };
                let old = {
                    let mut st = shared.lock();
                    if !shared.stopped() && st.status != live {
                        st.status = live;
                    }
                    st.stats.captured += 1;
                    st.last_frame_at = Some(Instant::now());
                    st.frame.replace(Arc::new(f))
                };
                shared.frame_cv.notify_all();
                // Recycle the previous buffer when nobody holds it any more.
                if let Some(fr) = old.and_then(|o| Arc::try_unwrap(o).ok()) {
                    spare = fr.into_pixels();
                }
            }
            Err(e @ Error::BadFrame { .. }) => {
                bad_run += 1;
                shared.lock().stats.bad_frames += 1;
                tracing::debug!(error = %e, "corrupt frame skipped");
                if bad_run >= config.bad_frames_before_reopen {
                    tracing::warn!(error = %e, "too many corrupt frames; reopening camera");
                    source = None;
                    set_status(
                        shared,
                        CameraStatus::Unavailable {
                            code: e.code(),
                            message: e.to_string(),
                            attempts: 0,
                        },
                    );
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "camera lost; reopening");
                // Dropping the source releases the device before reopening.
                source = None;
                let code = if e.code() == ErrorCode::CameraUnavailable {
                    ErrorCode::CameraLost
                } else {
                    e.code()
                };
                set_status(
                    shared,
                    CameraStatus::Unavailable {
                        code,
                        message: e.to_string(),
                        attempts: 0,
                    },
                );
            }
        }
    }
}

/// A frame and the newest verdict when it was taken.
type Taken<T> = (Arc<Frame>, Option<Arc<Verdict<T>>>);

/// Waits for a frame newer than `last`: `None` once the pipeline stops. The
/// verdict returned with it was read in the same moment, so it was computed
/// on that frame or an earlier one: the analysis thread only takes frames
/// the capture thread has published, and this is the newest.
fn newest_frame<T>(shared: &Shared<T>, last: u64) -> Option<Taken<T>> {
    let mut st = shared.lock();
    loop {
        if shared.stopped() {
            return None;
        }
        match st.frame.as_ref() {
            Some(f) if f.seq() > last => return Some((f.clone(), st.verdict.clone())),
            _ => {
                st = shared
                    .frame_cv
                    .wait_timeout(st, Duration::from_millis(200))
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
        }
    }
}

fn preview_loop<T>(shared: &Shared<T>, config: &PipelineConfig) {
    let mut encoder = JpegEncoder::new();
    let mut last = 0u64;
    let mut scratch = Vec::new();
    while let Some((frame, verdict)) = newest_frame(shared, last) {
        // After a reopen sequence numbers keep growing, so `last` stays valid.
        let skipped = frame.seq().saturating_sub(last + 1);
        last = frame.seq();
        let small = match downscale_to_fit(
            &frame,
            config.preview_max.0,
            config.preview_max.1,
            take(&mut scratch),
        ) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "preview downscale failed");
                continue;
            }
        };
        let encoded = encoder.encode(&small, config.preview_quality);
        let (width, height) = (small.width(), small.height());
        scratch = small.into_pixels();
        let jpeg = match encoded {
            Ok(j) => j,
            Err(e) => {
                tracing::warn!(error = %e, "preview encoding failed");
                continue;
            }
        };
        {
            let mut st = shared.lock();
            // The verdict read with the frame: never on a newer frame (one
            // the analysis thread took while this preview was encoded).
            let preview = Arc::new(Preview {
                jpeg,
                width,
                height,
                seq: frame.seq(),
                captured: frame.captured(),
                ready: Instant::now(),
                verdict,
                full: frame,
            });
            st.preview = Some(preview);
            st.stats.previews += 1;
            st.stats.skipped += skipped;
        }
        shared.preview_cv.notify_all();
    }
}

/// Judges the newest frame, shrunk to `analysis_max`, each time the
/// analyser is free (and `analysis_every` has passed since the last start):
/// frames that came meanwhile are skipped, never queued.
fn analysis_loop<T>(shared: &Shared<T>, mut analyse: Analyser<T>, config: &PipelineConfig) {
    let mut last = 0u64;
    let mut scratch = Vec::new();
    let mut next_start = Instant::now();
    loop {
        let wait = next_start.saturating_duration_since(Instant::now());
        if !wait.is_zero() {
            let st = shared.lock();
            if shared.stopped() {
                return;
            }
            // Woken early only by a stop (the frame condvar is not ours to
            // wait on here: the wait is for time, not for a frame).
            drop(
                shared
                    .preview_cv
                    .wait_timeout_while(st, wait, |_| !shared.stopped()),
            );
        }
        let Some((frame, _)) = newest_frame(shared, last) else {
            return;
        };
        next_start = Instant::now() + config.analysis_every;
        last = frame.seq();
        let small = downscale_to_fit(
            &frame,
            config.analysis_max.0,
            config.analysis_max.1,
            take(&mut scratch),
        );
        // The full frame goes back to the capture thread's recycling.
        drop(frame);
        let small = match small {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "analysis downscale failed");
                continue;
            }
        };
        let verdict = Arc::new(Verdict {
            seq: small.seq(),
            captured: small.captured(),
            analysis: analyse(&small),
        });
        scratch = small.into_pixels();
        let mut st = shared.lock();
        // Frames are taken in capture order, so this always holds; kept as
        // the rule "a verdict never goes backwards" rather than as an accident.
        if st.verdict.as_ref().is_none_or(|v| v.seq < verdict.seq) {
            st.verdict = Some(verdict);
        }
        st.stats.analysed += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::super::{RawFormat, SourceInfo};
    use super::*;

    /// A small camera that paces itself at `fps`, as a real one does.
    struct Paced {
        info: SourceInfo,
        next_at: Instant,
    }

    impl FrameSource for Paced {
        fn info(&self) -> &SourceInfo {
            &self.info
        }
        fn next_frame(&mut self, mut reuse: Vec<u8>) -> Result<Frame, Error> {
            let now = Instant::now();
            if self.next_at > now {
                std::thread::sleep(self.next_at - now);
            }
            self.next_at += Duration::from_secs(1) / self.info.fps;
            reuse.clear();
            reuse.resize(64 * 48 * 3, 128);
            Frame::new(reuse, 64, 48, 0, Instant::now())
        }
    }

    fn paced(fps: u32) -> Opener {
        Box::new(move || {
            Ok(Box::new(Paced {
                info: SourceInfo {
                    name: "paced".into(),
                    width: 64,
                    height: 48,
                    fps,
                    format: RawFormat::Rgb,
                },
                next_at: Instant::now(),
            }) as Box<dyn FrameSource>)
        })
    }

    /// An analyser taking 100 ms (the face model on a busy machine, and
    /// then some) that answers with the sequence number it was given.
    fn slow_analyser() -> Analyser<u64> {
        Box::new(|f: &Frame| {
            std::thread::sleep(Duration::from_millis(100));
            f.seq()
        })
    }

    /// Pull previews as the UI does for `run`; returns them all.
    fn pull(p: &Pipeline<u64>, run: Duration) -> Vec<Arc<Preview<u64>>> {
        let mut last = p.wait_preview(0, Duration::from_secs(5)).unwrap().seq;
        let t0 = Instant::now();
        let mut seen = Vec::new();
        while t0.elapsed() < run {
            let pv = p.wait_preview(last, Duration::from_secs(2)).unwrap();
            last = pv.seq;
            seen.push(pv);
        }
        seen
    }

    #[test]
    fn previews_keep_the_camera_rate_while_a_slow_analyser_runs() {
        let p = Pipeline::start(paced(30), slow_analyser(), PipelineConfig::default()).unwrap();
        let s0 = p.stats();
        let seen = pull(&p, Duration::from_millis(1500));
        let s1 = p.stats();
        p.stop();
        // 45 frames in 1.5 s at 30 fps; with the analyser on the preview
        // path there would be at most 15. Leeway for a loaded machine.
        assert!(seen.len() >= 30, "{} previews: {s1:?}", seen.len());
        let analysed = s1.analysed - s0.analysed;
        assert!(
            (5..=17).contains(&analysed),
            "{analysed} analyses in 1.5 s of a 100 ms analyser"
        );
        assert!(s1.previews - s0.previews > 2 * analysed, "{s1:?}");
    }

    #[test]
    fn verdicts_carry_their_frame_seq_and_never_go_backwards() {
        let p = Pipeline::start(paced(30), slow_analyser(), PipelineConfig::default()).unwrap();
        let seen = pull(&p, Duration::from_millis(1200));
        p.stop();
        let mut newest = 0;
        let mut distinct = 0;
        for pv in &seen {
            let Some(v) = &pv.verdict else {
                assert_eq!(newest, 0, "a verdict disappeared at preview {}", pv.seq);
                continue;
            };
            // The analyser answered with the seq it saw: the verdict is
            // labelled with the frame it was computed on.
            assert_eq!(v.analysis, v.seq);
            assert!(v.seq <= pv.seq, "verdict {} on preview {}", v.seq, pv.seq);
            assert!(v.captured <= pv.captured);
            assert!(
                v.seq >= newest,
                "verdict went back: {} after {newest}",
                v.seq
            );
            if v.seq > newest {
                distinct += 1;
                newest = v.seq;
            }
            // One analysis behind at most: 100 ms, plus a frame or two.
            assert!(
                pv.captured.duration_since(v.captured) < Duration::from_millis(500),
                "verdict {:?} behind",
                pv.captured.duration_since(v.captured)
            );
        }
        assert!(distinct >= 5, "{distinct} verdicts");
    }

    #[test]
    fn previews_and_analysed_frames_have_their_own_sizes() {
        let config = PipelineConfig {
            analysis_max: (64, 48),
            preview_max: (32, 24),
            ..PipelineConfig::default()
        };
        let sizes: Analyser<u64> = Box::new(|f: &Frame| u64::from(f.width() * 1000 + f.height()));
        let p = Pipeline::start(paced(30), sizes, config).unwrap();
        let mut last = 0;
        let pv = loop {
            let pv = p.wait_preview(last, Duration::from_secs(5)).unwrap();
            last = pv.seq;
            if pv.verdict.is_some() {
                break pv;
            }
        };
        p.stop();
        assert_eq!((pv.width, pv.height), (32, 24));
        assert_eq!(pv.verdict.as_ref().unwrap().analysis, 64_048);
        assert_eq!(pv.full_frame().width(), 64);
    }
}
