//! The capture pipeline on the demo camera and on a camera that fails on
//! purpose: previews, stills, every error status, and recovery.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use kyc_kiosk::camera::demo::{self, DemoFrames, SETTLE_FRAMES};
use kyc_kiosk::camera::faulty::{Fault, FaultyCamera};
use kyc_kiosk::camera::{
    encode_still, CameraStatus, DemoControl, DemoScene, Frame, Pipeline, PipelineConfig,
    SubmissionLimits,
};
use kyc_kiosk::ErrorCode;

/// Mean absolute horizontal gradient of the green channel: a stand-in for the
/// live quality check, high when sharp.
fn sharpness(f: &Frame) -> f64 {
    let p = f.pixels();
    let mut sum = 0u64;
    for row in p.chunks_exact(f.stride()) {
        for w in row.chunks_exact(3).collect::<Vec<_>>().windows(2) {
            sum += u64::from(w[0][1].abs_diff(w[1][1]));
        }
    }
    sum as f64 / f64::from(f.width() * f.height())
}

fn fast_config() -> PipelineConfig {
    PipelineConfig {
        retry_every: Duration::from_millis(20),
        ..PipelineConfig::default()
    }
}

fn wait_for<T>(p: &Pipeline<T>, what: &str, ok: impl Fn(&CameraStatus) -> bool) -> CameraStatus {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s = p.status();
        if ok(&s) {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; last status {s:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn demo_frames() -> Arc<DemoFrames> {
    DemoFrames::load(&demo::default_dir()).expect("assets/demo is committed")
}

#[test]
fn demo_pipeline_previews_steady_down_with_the_analysis_attached() {
    let control = DemoControl::new(DemoScene::Front);
    let p = Pipeline::start(
        demo::opener(demo_frames(), control.clone(), 60),
        Box::new(|f: &Frame| sharpness(f)),
        fast_config(),
    )
    .unwrap();
    let mut seen = Vec::new();
    let mut last = 0;
    while seen.len() < SETTLE_FRAMES as usize + 6 {
        let pv = p.wait_preview(last, Duration::from_secs(5)).unwrap();
        assert!(pv.seq > last, "previews only move forward");
        last = pv.seq;
        // Screen-sized JPEG of the right size, decodable.
        assert_eq!((pv.width, pv.height), (1280, 720));
        let h = turbojpeg_header(&pv.jpeg);
        assert_eq!(h, (1280, 720));
        assert!(pv.ready >= pv.captured);
        // The full-resolution frame behind it is the still.
        assert_eq!(pv.full_frame().width(), 1920);
        assert_eq!(pv.full_frame().seq(), pv.seq);
        // The verdict comes from the analysis thread: on this frame or an
        // earlier one, never a newer one; each analysed frame counted once.
        if let Some(v) = &pv.verdict {
            assert!(v.seq <= pv.seq, "verdict {} on preview {}", v.seq, pv.seq);
            if seen.last().is_none_or(|&(s, _)| s < v.seq) {
                seen.push((v.seq, v.analysis));
            }
        }
    }
    assert!(matches!(
        p.status(),
        CameraStatus::Live {
            width: 1920,
            height: 1080,
            ..
        }
    ));
    // Moving, blurred frames first; then the picture steadies and is sharp.
    let first = seen.iter().find(|(s, _)| *s <= 2).map(|x| x.1);
    let steady = seen.last().unwrap().1;
    if let Some(first) = first {
        assert!(
            first < steady * 0.8,
            "first {first} vs steady {steady}: {seen:?}"
        );
    }
    let tail: Vec<f64> = seen.iter().rev().take(3).map(|x| x.1).collect();
    assert!(
        tail.windows(2).all(|w| (w[0] - w[1]).abs() < 1e-9),
        "steady frames are identical: {tail:?}"
    );

    // A still is a fresh full-resolution frame.
    let before = p.latest_frame().unwrap().seq();
    let still = p.capture_still(Duration::from_secs(2)).unwrap();
    assert!(still.seq() > before);
    assert_eq!((still.width(), still.height()), (1920, 1080));

    // Switching to the selfie shows the 4:3 face picture, unsteady at first.
    control.set_scene(DemoScene::Face);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let pv = p.wait_preview(last, Duration::from_secs(5)).unwrap();
        last = pv.seq;
        if pv.width == 960 {
            assert_eq!(pv.height, 720);
            break;
        }
        assert!(Instant::now() < deadline, "face scene never shown");
    }
    let stats = p.stats();
    assert!(
        stats.captured >= stats.previews && stats.previews > 0,
        "{stats:?}"
    );
    p.stop();
}

fn turbojpeg_header(jpeg: &[u8]) -> (u32, u32) {
    let img = image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg).unwrap();
    (img.width(), img.height())
}

#[test]
fn unplugged_camera_is_reported_lost_and_resumes_when_it_returns() {
    let cam = FaultyCamera::new(64, 48, 200).unplug_after(5, 4);
    let p = Pipeline::start(cam.opener(), Box::new(|_: &Frame| ()), fast_config()).unwrap();
    wait_for(&p, "live", |s| matches!(s, CameraStatus::Live { .. }));
    let lost = wait_for(&p, "lost", |s| {
        matches!(s, CameraStatus::Unavailable { .. })
    });
    match lost {
        CameraStatus::Unavailable { code, message, .. } => {
            assert_eq!(code, ErrorCode::CameraLost, "{message}");
        }
        other => panic!("{other:?}"),
    }
    let before = p.latest_frame().unwrap().seq();
    assert_eq!(p.stats().captured, 5, "the camera went away after 5 frames");
    wait_for(&p, "live again", |s| matches!(s, CameraStatus::Live { .. }));
    let pv = p.wait_preview(before, Duration::from_secs(5)).unwrap();
    assert!(
        pv.seq > before,
        "frames resume with growing sequence numbers"
    );
    assert_eq!(cam.opens(), 2);
    p.stop();
}

#[test]
fn every_open_failure_is_shown_with_its_code_then_recovers() {
    for (fault, code) in [
        (Fault::NoCamera, ErrorCode::CameraUnavailable),
        (Fault::Busy, ErrorCode::CameraBusy),
        (Fault::PermissionDenied, ErrorCode::CameraPermissionDenied),
        (Fault::FormatUnsupported, ErrorCode::CameraFormatUnsupported),
    ] {
        let cam = FaultyCamera::new(32, 32, 200).fail_opens(&[fault; 5]);
        let p = Pipeline::start(cam.opener(), Box::new(|_: &Frame| ()), fast_config()).unwrap();
        let s = wait_for(&p, "unavailable", |s| {
            matches!(s, CameraStatus::Unavailable { .. })
        });
        match s {
            CameraStatus::Unavailable {
                code: c,
                message,
                attempts,
            } => {
                assert_eq!(c, code, "{fault:?}: {message}");
                assert!(attempts >= 1);
                assert!(!message.is_empty());
            }
            other => panic!("{other:?}"),
        }
        wait_for(&p, "live after retries", |s| {
            matches!(s, CameraStatus::Live { .. })
        });
        assert!(
            p.wait_preview(0, Duration::from_secs(5)).is_ok(),
            "{fault:?}"
        );
        p.stop();
    }
}

#[test]
fn a_corrupt_frame_is_skipped_without_losing_the_camera() {
    let cam = FaultyCamera::new(32, 32, 200).fail_frame(3, Fault::BadFrame);
    let p = Pipeline::start(cam.opener(), Box::new(|_: &Frame| ()), fast_config()).unwrap();
    // Frame numbers are the process's (other tests' cameras count too): wait
    // for this camera's bad frame, then for a preview after it.
    let deadline = Instant::now() + Duration::from_secs(5);
    while p.stats().bad_frames == 0 {
        assert!(Instant::now() < deadline, "the bad frame never came");
        std::thread::sleep(Duration::from_millis(5));
    }
    let before = p.latest_preview().map_or(0, |pv| pv.seq);
    let pv = p.wait_preview(before, Duration::from_secs(5)).unwrap();
    assert!(pv.seq > before);
    assert_eq!(p.stats().bad_frames, 1);
    assert_eq!(p.stats().opens, 1);
    assert!(matches!(p.status(), CameraStatus::Live { .. }));
    p.stop();
}

// Regression: a timed-out wait_preview re-locked the state mutex it held and
// deadlocked; the timeouts below must return.
#[test]
fn a_stopped_pipeline_says_so_and_a_silent_one_times_out() {
    // Never opens: waiting for a preview times out with a typed error.
    let cam = FaultyCamera::new(32, 32, 200).fail_opens(&[Fault::Busy; 1000]);
    let p = Pipeline::start(cam.opener(), Box::new(|_: &Frame| ()), fast_config()).unwrap();
    let err = p.wait_preview(0, Duration::from_millis(100)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::CameraLost, "{err}");
    let err = p.capture_still(Duration::from_millis(50)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::CameraLost, "{err}");
    p.stop();

    let cam = FaultyCamera::new(32, 32, 200);
    let p = Pipeline::start(cam.opener(), Box::new(|_: &Frame| ()), fast_config()).unwrap();
    p.wait_preview(0, Duration::from_secs(5)).unwrap();
    drop(p); // must not hang
}

#[test]
fn demo_stills_fit_one_request_and_decode() {
    let frames = demo_frames();
    let stills: Vec<&Frame> = [DemoScene::Front, DemoScene::Back, DemoScene::Face]
        .iter()
        .map(|s| frames.scene(*s))
        .collect();
    // Each still is sized on its own, as at capture.
    let images: Vec<_> = stills
        .iter()
        .map(|f| encode_still(f, SubmissionLimits::default()).unwrap())
        .collect();
    assert_eq!(images.len(), 3);
    let b64 = base64::engine::general_purpose::STANDARD;
    let encoded: Vec<String> = images.iter().map(|i| b64.encode(&i.jpeg)).collect();
    let total: usize = encoded.iter().map(String::len).sum();
    assert!(total < 20_000_000 - 256 * 1024);
    for ((img, f), text) in images.iter().zip(&stills).zip(&encoded) {
        let jpeg = b64.decode(text).unwrap();
        assert_eq!(jpeg, *img.jpeg);
        assert_eq!(turbojpeg_header(&jpeg), (f.width(), f.height()));
    }
}

/// A camera that sends MJPEG: the demo front as a JPEG, every third frame
/// cut short and every third but one with bytes flipped in its scan data,
/// decoded the way a real camera's frames are ([`Converter`]).
struct MjpegCamera {
    info: kyc_kiosk::camera::SourceInfo,
    frames: Vec<Vec<u8>>,
    next: usize,
    converter: kyc_kiosk::camera::Converter,
    sent: Arc<std::sync::atomic::AtomicU64>,
}

impl kyc_kiosk::camera::FrameSource for MjpegCamera {
    fn info(&self) -> &kyc_kiosk::camera::SourceInfo {
        &self.info
    }

    fn next_frame(&mut self, reuse: Vec<u8>) -> Result<Frame, kyc_kiosk::camera::Error> {
        std::thread::sleep(Duration::from_millis(4));
        let raw = &self.frames[self.next % self.frames.len()];
        self.next += 1;
        self.sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let mut px = reuse;
        let (w, h) =
            self.converter
                .to_rgb(kyc_kiosk::camera::RawFormat::Mjpeg, raw, 0, 0, &mut px)?;
        Frame::new(px, w, h, 0, Instant::now())
    }
}

/// Share of the lowest rows that is exactly mid-grey: what libjpeg-turbo
/// fills in where a frame's data ran out.
fn grey_bottom(f: &Frame) -> f64 {
    let rows = (f.height() / 10).max(1) as usize;
    let start = (f.height() as usize - rows) * f.stride();
    let px: Vec<&[u8]> = f.pixels()[start..]
        .chunks_exact(f.stride())
        .flat_map(|r| r[..f.width() as usize * 3].chunks_exact(3))
        .collect();
    let grey = px.iter().filter(|p| p.iter().all(|&c| c == 128)).count();
    grey as f64 / px.len() as f64
}

// Regression: libjpeg-turbo finishes a truncated or corrupt JPEG with a
// warning and grey where the data is missing; such camera frames must be
// dropped and counted, never previewed or taken as a still.
#[test]
fn corrupt_mjpeg_frames_are_dropped_counted_and_never_shown() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let good = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/demo/front.jpg"
    ))
    .unwrap();
    let cut = good[..good.len() / 2].to_vec();
    let sos = good.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
    let mut flipped = good.clone();
    // A flip that breaks the Huffman stream (many flips only change
    // coefficients, which no JPEG decoder can notice).
    let at = sos + 20_000;
    for b in &mut flipped[at..at + 4] {
        if *b != 0xFF && *b != 0x00 {
            *b ^= 0x5A;
            if *b == 0xFF {
                *b = 0x7F;
            }
        }
    }
    let h = kyc_kiosk::camera::Converter::new()
        .to_rgb(
            kyc_kiosk::camera::RawFormat::Mjpeg,
            &good,
            0,
            0,
            &mut Vec::new(),
        )
        .unwrap();
    let sent = Arc::new(AtomicU64::new(0));
    let s = sent.clone();
    let frames = vec![good.clone(), cut, good, flipped];
    let opener: kyc_kiosk::camera::Opener = Box::new(move || {
        Ok(Box::new(MjpegCamera {
            info: kyc_kiosk::camera::SourceInfo {
                name: "MJPEG test camera".into(),
                width: h.0,
                height: h.1,
                fps: 30,
                format: kyc_kiosk::camera::RawFormat::Mjpeg,
            },
            frames: frames.clone(),
            next: 0,
            converter: kyc_kiosk::camera::Converter::new(),
            sent: s.clone(),
        }) as Box<dyn kyc_kiosk::camera::FrameSource>)
    });
    let p = Pipeline::start(opener, Box::new(grey_bottom), fast_config()).unwrap();
    let mut last = 0;
    let mut analysed = 0;
    let mut judged = 0;
    while analysed < 8 {
        let pv = p.wait_preview(last, Duration::from_secs(10)).unwrap();
        last = pv.seq;
        // The analysis thread sees the frames the previews are made of.
        let Some(v) = pv.verdict.as_ref().filter(|v| v.seq > judged) else {
            continue;
        };
        judged = v.seq;
        analysed += 1;
        assert!(
            v.analysis < 0.5,
            "a grey-filled frame was shown: {}",
            v.analysis
        );
    }
    let still = p.capture_still(Duration::from_secs(5)).unwrap();
    assert!(
        grey_bottom(&still) < 0.5,
        "a grey-filled frame was captured"
    );
    assert!(
        matches!(p.status(), CameraStatus::Live { .. }),
        "{:?}",
        p.status()
    );
    let stats = p.stats();
    let sent = sent.load(Ordering::SeqCst);
    p.stop();
    assert!(stats.bad_frames >= 2, "{stats:?}");
    // Every frame sent is either captured or counted as corrupt (one may be
    // between the two counters).
    let counted = stats.captured + stats.bad_frames;
    assert!(
        sent >= counted && sent - counted <= 1,
        "{sent} sent, {stats:?}"
    );
    // Half the frames are corrupt, give or take the one in flight.
    assert!(stats.bad_frames.abs_diff(stats.captured) <= 2, "{stats:?}");
}

// Regression: each pipeline numbered its frames from 1, while the page and
// the kiosk's auto-capture keep the last number they saw from one customer
// to the next. The next customer's preview then waited until the new camera
// had delivered as many frames as the previous customer's had (a blank
// preview for as long as the previous capture took; the soak run slowed
// down with every session).
#[test]
fn the_next_cameras_previews_follow_the_last_one_seen_on_the_previous() {
    let first = Pipeline::start(
        FaultyCamera::new(32, 32, 1000).opener(),
        Box::new(|_: &Frame| ()),
        fast_config(),
    )
    .unwrap();
    let mut last = 0;
    while last < 300 {
        last = first
            .wait_preview(last, Duration::from_secs(5))
            .unwrap()
            .seq;
    }
    first.stop();
    // 20 fps: numbering from 1 again, it would take 15 s to pass `last`.
    let next = Pipeline::start(
        FaultyCamera::new(32, 32, 20).opener(),
        Box::new(|_: &Frame| ()),
        fast_config(),
    )
    .unwrap();
    let pv = next
        .wait_preview(last, Duration::from_secs(3))
        .expect("the new camera's first previews are newer than the last one seen");
    assert!(pv.seq > last);
    next.stop();
}
