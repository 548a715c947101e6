//! The real camera path: nokhwa's V4L2 backend over emulated cameras
//! (`tools/fakecam`, an `LD_PRELOAD` shim): listing, format negotiation,
//! MJPEG and YUYV decoding, unplug, stall and corrupt frames.
//!
//! The shim must be loaded when a process starts, so each test that opens
//! cameras in-process runs its body in a child: the test re-runs this test
//! binary, filtered to itself, with the shim preloaded ([`under_fake_cameras`]).
//! The CLI tests run the binary under `scripts/with-fake-camera`. Building
//! the shim needs `cc` and `libturbojpeg0-dev`; where it cannot be built the
//! tests fail, loudly, rather than pass without having run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use kyc_kiosk::camera::{self, CameraStatus, Frame, OpenRequest, Pipeline, PipelineConfig};
use kyc_kiosk::config::{CameraRoles, Config};
use kyc_kiosk::session::{
    CameraChoice, DocumentType, Input, InputKind, Kiosk, KioskOptions, Screen, Side, StartRequest,
    View,
};
use kyc_kiosk::ErrorCode;

/// Set in the child to the name of the test whose body it runs.
const CHILD: &str = "KYC_KIOSK_FAKECAM_TEST";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn wrapper() -> PathBuf {
    repo().join("scripts/with-fake-camera")
}

/// The shim, built once per run (by the wrapper); a failure to build it
/// fails the test that needs it.
fn shim() -> PathBuf {
    static SHIM: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    SHIM.get_or_init(|| {
        let out = Command::new(wrapper())
            .arg("--lib")
            .output()
            .map_err(|e| format!("cannot run scripts/with-fake-camera: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "building the fake camera shim failed (it needs cc and libturbojpeg0-dev; \
                 scripts/setup.sh test installs them):\n{}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
    })
    .clone()
    .unwrap_or_else(|e| panic!("{e}"))
}

/// One test with cameras at a time: the timing assertions (rates, the
/// one-second loss) measure a process that has the machine's cores to
/// itself as far as these tests go.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The emulated cameras of one test and its control file.
struct Cameras {
    control: PathBuf,
}

impl Cameras {
    /// Append one control command (`unplug 0`, `stall 1`, ...).
    fn send(&self, command: &str) {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.control)
            .unwrap();
        writeln!(f, "{command}").unwrap();
    }
}

/// Runs `body` in a child process of this test binary with the shim
/// preloaded, the cameras set by `env` (`FAKECAM_*`) and a fresh control
/// file; `name` is the test's own name (the child runs only it).
/// Returns the child's standard output (empty in the child itself).
fn under_fake_cameras(name: &str, env: &[(&str, &str)], body: impl FnOnce(&Cameras)) -> String {
    let test = format!("camera_path::{name}");
    if std::env::var(CHILD).as_deref() == Ok(test.as_str()) {
        let control = PathBuf::from(std::env::var_os("FAKECAM_CONTROL").expect("control file"));
        body(&Cameras { control });
        return String::new();
    }
    let shim = shim();
    let _turn = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let control = dir.path().join("cameras.ctl");
    std::fs::write(&control, "").unwrap();
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        test.as_str(),
        "--exact",
        "--nocapture",
        "--include-ignored",
        "--test-threads=1",
    ])
    .env(CHILD, &test)
    .env("LD_PRELOAD", &shim)
    .env("FAKECAM_CONTROL", &control)
    .env("FAKECAM_DEVICES", "Document Camera;Face Camera")
    .env(
        "FAKECAM_IMAGES",
        format!(
            "{};{}",
            repo().join("assets/demo/front.jpg").display(),
            repo().join("assets/demo/face.jpg").display()
        ),
    );
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{test} failed under the fake cameras ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    // A filter that matched nothing would "pass" without running the body.
    assert!(
        stdout.contains("1 passed"),
        "{test} did not run in the child:\n{stdout}"
    );
    stdout.into_owned()
}

/// The CLI under the wrapper.
fn kiosk_cli(args: &[&str], wrapper_args: &[&str]) -> Output {
    shim();
    let _turn = one_at_a_time();
    Command::new(wrapper())
        .args(wrapper_args)
        .arg(env!("CARGO_BIN_EXE_kyc-kiosk"))
        .args(args)
        .env("KYC_KIOSK_CONFIG", "/nonexistent/kyc-kiosk-test.toml")
        .output()
        .unwrap()
}

/// The device number of the emulated camera called `name`.
fn index_of(name: &str) -> u32 {
    let list = camera::list_devices().unwrap();
    list.devices
        .iter()
        .find(|d| d.name == name)
        .unwrap_or_else(|| panic!("{name} is listed: {:?}", list.devices))
        .index
}

fn pipeline_on(name: &str, req: OpenRequest) -> Pipeline<()> {
    let open = camera::native::opener(index_of(name), req);
    Pipeline::start(open, Box::new(|_: &Frame| ()), PipelineConfig::default()).unwrap()
}

fn wait_status(
    p: &Pipeline<()>,
    what: &str,
    limit: Duration,
    ok: impl Fn(&CameraStatus) -> bool,
) -> Duration {
    let t = Instant::now();
    loop {
        let s = p.status();
        if ok(&s) {
            return t.elapsed();
        }
        assert!(
            t.elapsed() < limit,
            "no {what} within {limit:?}; status {s:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn live(s: &CameraStatus) -> bool {
    matches!(s, CameraStatus::Live { .. })
}

fn lost(s: &CameraStatus) -> bool {
    matches!(
        s,
        CameraStatus::Unavailable {
            code: ErrorCode::CameraLost,
            ..
        }
    )
}

/// Previews per second over `window`, the best of three windows (a
/// machine busy with other tests may steal one).
fn preview_rate(p: &Pipeline<()>, window: Duration) -> f64 {
    (0..3)
        .map(|_| {
            let (n0, t0) = (p.stats().previews, Instant::now());
            std::thread::sleep(window);
            (p.stats().previews - n0) as f64 / t0.elapsed().as_secs_f64()
        })
        .fold(0.0, f64::max)
}

fn full_hd_previews(format: &str) {
    let p = pipeline_on(
        "Document Camera",
        OpenRequest {
            preferred: Some((1920, 1080)),
            min_fps: 20,
        },
    );
    wait_status(&p, "live", Duration::from_secs(10), live);
    assert_eq!(
        p.status(),
        CameraStatus::Live {
            name: "Document Camera".into(),
            width: 1920,
            height: 1080,
            fps: 30
        }
    );
    let f = p.capture_still(Duration::from_secs(3)).unwrap();
    assert_eq!((f.width(), f.height()), (1920, 1080));
    let fps = preview_rate(&p, Duration::from_secs(3));
    println!("{format} 1080p previews: {fps:.1} fps");
    assert!(fps >= 29.0, "{format} 1080p previews at {fps:.1} fps");
    assert_eq!(p.stats().bad_frames, 0);
    p.stop();
}

#[test]
fn the_fake_camera_shim_passes_its_own_tests() {
    shim();
    let out = Command::new(repo().join("tools/fakecam/tests/run.sh"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary = stdout
        .lines()
        .rev()
        .find(|l| l.contains(" passed, "))
        .unwrap_or_default();
    assert!(
        out.status.success() && summary.ends_with(" passed, 0 failed"),
        "tools/fakecam/tests/run.sh: {summary}\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let passed: u32 = summary.split(' ').next().unwrap().parse().unwrap();
    assert!(passed >= 20, "{summary}");
}

#[test]
fn cameras_json_lists_the_emulated_devices_with_their_formats() {
    let out = kiosk_cli(&["cameras", "--json"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["native_support"], true);
    let devices = v["devices"].as_array().unwrap();
    let names: Vec<&str> = devices
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Document Camera", "Face Camera"]);
    for d in devices {
        let formats: Vec<(String, u64, u64, Vec<u64>)> = d["formats"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["format"].as_str().unwrap().to_owned(),
                    f["width"].as_u64().unwrap(),
                    f["height"].as_u64().unwrap(),
                    f["fps"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|r| r.as_u64().unwrap())
                        .collect(),
                )
            })
            .collect();
        for format in ["MJPEG", "YUYV"] {
            for (w, h) in [(640, 480), (1280, 720), (1920, 1080), (3840, 2160)] {
                let fps = if format == "YUYV" && w == 3840 {
                    vec![15]
                } else {
                    vec![30, 15]
                };
                assert!(
                    formats.contains(&(format.to_owned(), w, h, fps.clone())),
                    "{format} {w}x{h} at {fps:?} in {formats:?}"
                );
            }
        }
        assert_eq!(formats.len(), 8, "{formats:?}");
    }
}

#[test]
fn cameras_probe_reports_each_camera_and_fails_when_one_cannot_deliver() {
    let out = kiosk_cli(&["cameras", "--probe", "--seconds", "1.5", "--json"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], true);
    let cams = v["cameras"].as_array().unwrap();
    assert_eq!(cams.len(), 2);
    for c in cams {
        assert_eq!(c["format"], "MJPEG", "{c}");
        assert_eq!(c["error"], serde_json::Value::Null, "{c}");
        assert!(c["frames"].as_u64().unwrap() >= 20, "{c}");
        assert!(c["fps"].as_f64().unwrap() > 25.0, "{c}");
        assert!(c["first_frame_ms"].as_u64().is_some(), "{c}");
        assert_eq!(c["corrupt"], 0, "{c}");
        assert_eq!(c["verdict"]["verdict"], "ok", "{c}");
    }

    // The face camera stalls from the start: the probe says so and fails.
    let dir = tempfile::tempdir().unwrap();
    let ctl = dir.path().join("c.ctl");
    std::fs::write(&ctl, "stall 1\n").unwrap();
    let out = kiosk_cli(
        &["cameras", "--probe", "--seconds", "0.5"],
        &["--control", ctl.to_str().unwrap()],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(7), "{text}");
    assert!(
        text.contains("#0 Document Camera") && text.contains("delivered"),
        "{text}"
    );
    assert!(text.contains("FAILED        CAMERA_LOST"), "{text}");
}

#[test]
fn pipeline_over_nokhwa_previews_1080p_mjpeg_at_29_fps_or_more() {
    under_fake_cameras(
        "pipeline_over_nokhwa_previews_1080p_mjpeg_at_29_fps_or_more",
        &[("FAKECAM_FORMATS", "MJPG")],
        |_| full_hd_previews("MJPEG"),
    );
}

#[test]
fn pipeline_over_nokhwa_previews_1080p_yuyv_at_29_fps_or_more() {
    under_fake_cameras(
        "pipeline_over_nokhwa_previews_1080p_yuyv_at_29_fps_or_more",
        &[("FAKECAM_FORMATS", "YUYV")],
        |_| full_hd_previews("YUYV"),
    );
}

#[test]
fn a_stalled_camera_is_lost_within_a_second_and_resumes_when_it_answers() {
    under_fake_cameras(
        "a_stalled_camera_is_lost_within_a_second_and_resumes_when_it_answers",
        &[],
        |cams| {
            let p = pipeline_on("Face Camera", OpenRequest::for_role(camera::Role::Selfie));
            wait_status(&p, "live", Duration::from_secs(10), live);
            p.wait_preview(0, Duration::from_secs(5)).unwrap();
            cams.send("stall 1");
            let took = wait_status(&p, "CAMERA_LOST", Duration::from_secs(1), lost);
            println!("stall reported as lost after {took:?}");
            // Reopening while the stuck read holds the device stays "lost".
            std::thread::sleep(Duration::from_millis(1500));
            assert!(lost(&p.status()), "{:?}", p.status());
            cams.send("unstall 1");
            wait_status(&p, "live again", Duration::from_secs(5), live);
            let before = p.latest_preview().map_or(0, |x| x.seq);
            let next = p.wait_preview(before, Duration::from_secs(3)).unwrap();
            assert!(next.seq > before);
            assert!(p.stats().opens >= 2, "{:?}", p.stats());
            p.stop();
        },
    );
}

#[test]
fn corrupt_mjpeg_frames_are_dropped_never_a_panic() {
    under_fake_cameras(
        "corrupt_mjpeg_frames_are_dropped_never_a_panic",
        &[("FAKECAM_FORMATS", "MJPG")],
        |cams| {
            let p = pipeline_on(
                "Document Camera",
                OpenRequest {
                    preferred: Some((1280, 720)),
                    min_fps: 20,
                },
            );
            wait_status(&p, "live", Duration::from_secs(10), live);
            p.wait_preview(0, Duration::from_secs(5)).unwrap();
            for mode in ["truncate", "garbage", "huffman", "mixed"] {
                let bad = p.stats().bad_frames;
                cams.send(&format!("corrupt 0 6 {mode}"));
                let deadline = Instant::now() + Duration::from_secs(5);
                while p.stats().bad_frames < bad + 6 {
                    assert!(
                        Instant::now() < deadline,
                        "{mode}: {} of 6 corrupt frames dropped",
                        p.stats().bad_frames - bad
                    );
                    std::thread::sleep(Duration::from_millis(10));
                }
                // Exactly those: the frames after them decode again.
                std::thread::sleep(Duration::from_millis(300));
                assert_eq!(p.stats().bad_frames - bad, 6, "{mode}");
            }
            // The stream goes on: fresh previews, the camera still live.
            let last = p.latest_preview().unwrap().seq;
            assert!(p.wait_preview(last, Duration::from_secs(2)).is_ok());
            assert!(live(&p.status()), "{:?}", p.status());
            assert_eq!(p.stats().bad_frames, 24);
            p.stop();
        },
    );
}

async fn wait_view(k: &Kiosk, what: &str, limit: Duration, pred: impl Fn(&View) -> bool) -> View {
    tokio::time::timeout(limit, k.handle().wait_for(pred))
        .await
        .unwrap_or_else(|_| {
            panic!(
                "no {what} within {limit:?}; view: {:?}",
                k.handle().view().screen
            )
        })
        .unwrap()
}

/// The demo camera's cable test (tests/integration/kiosk.rs), over nokhwa:
/// unplug mid-capture, CAMERA_LOST, plug back, the capture resumes where it
/// was with the photo kept. Then a stall: the error screen within a second.
#[test]
fn unplugged_and_stalled_cameras_are_lost_and_the_capture_resumes_with_the_photos_kept() {
    under_fake_cameras(
        "unplugged_and_stalled_cameras_are_lost_and_the_capture_resumes_with_the_photos_kept",
        // The document camera at 1080p: the picture's own size, as sharp as
        // the demo camera's.
        &[("FAKECAM_SIZES", "640x480,1280x720,1920x1080")],
        |cams| block_on(unplug_and_stall(cams)),
    );
}

async fn unplug_and_stall(cams: &Cameras) {
    let k = native_kiosk(false).await;
    let long = Duration::from_secs(45);
    let mut req = StartRequest::new("it-native-unplug", "LT");
    req.documents = vec![DocumentType::IdCard];
    k.start_session(req).await.unwrap();
    wait_view(&k, "choice", long, |v| v.screen == Screen::Choice).await;
    k.handle()
        .send(Input::VerifyHere(DocumentType::IdCard))
        .await
        .unwrap();
    wait_view(&k, "camera", long, |v| {
        v.screen == Screen::Capture && v.camera_ready
    })
    .await;
    k.handle().send(Input::Capture).await.unwrap();
    wait_view(&k, "back", long, |v| {
        v.side == Some(Side::Back) && v.camera_ready && !v.capturing
    })
    .await;

    cams.send("unplug 0");
    let v = wait_view(&k, "camera lost", Duration::from_secs(2), |v| {
        v.screen == Screen::Error
    })
    .await;
    assert_eq!(v.error.expect("error shown").code, ErrorCode::CameraLost);
    assert!(v.allowed.contains(&InputKind::Retry), "{:?}", v.allowed);
    // Still away after a background retry or two.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(k.handle().view().screen, Screen::Error);

    cams.send("plug 0");
    let v = wait_view(&k, "resumed", long, |v| {
        v.screen == Screen::Capture && v.camera_ready
    })
    .await;
    assert_eq!(v.side, Some(Side::Back), "where it was");
    assert!(v.sides[0].taken, "the front photo was kept");
    assert!(k.wait_preview(0, Duration::from_secs(5)).await.is_some());

    // No frame and no error: the CAMERA_LOST screen within a second.
    cams.send("stall 0");
    let t = Instant::now();
    let v = wait_view(&k, "stall lost", Duration::from_secs(1), |v| {
        v.screen == Screen::Error
    })
    .await;
    println!("stall shown after {:?}", t.elapsed());
    assert_eq!(v.error.expect("error shown").code, ErrorCode::CameraLost);
    cams.send("unstall 0");
    let v = wait_view(&k, "resumed after the stall", long, |v| {
        v.screen == Screen::Capture && v.camera_ready
    })
    .await;
    assert_eq!(v.side, Some(Side::Back));
    assert!(v.sides[0].taken, "the front photo was kept");
    k.handle().send(Input::Capture).await.unwrap();
    wait_view(&k, "face", long, |v| {
        v.side == Some(Side::Face) && v.camera_ready
    })
    .await;
    k.handle().send(Input::Cancel).await.unwrap();
    wait_view(&k, "start", long, |v| v.screen == Screen::Start).await;
    k.shutdown().await;
}

async fn native_kiosk(auto_capture: bool) -> Kiosk {
    let config = Config {
        cameras: CameraRoles {
            document: Some("Document Camera".into()),
            selfie: Some("Face Camera".into()),
        },
        ..Config::default()
    };
    let mut opts = KioskOptions {
        camera: CameraChoice::Native,
        ..KioskOptions::default()
    };
    if !auto_capture {
        opts.auto_capture = None;
    }
    Kiosk::start(&config, opts).await.expect("kiosk starts")
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// The demo camera's whole flow (tests/integration/kiosk.rs) on the two
/// emulated cameras: auto-capture takes every side, the sandbox approves.
#[test]
fn the_flow_on_two_emulated_cameras_is_approved() {
    under_fake_cameras(
        "the_flow_on_two_emulated_cameras_is_approved",
        &[("FAKECAM_SIZES", "640x480,1280x720,1920x1080")],
        |_| {
            block_on(async {
                let k = native_kiosk(true).await;
                let long = Duration::from_secs(45);
                let mut req = StartRequest::new("it-native-approved", "LT");
                req.documents = vec![DocumentType::IdCard];
                k.start_session(req).await.unwrap();
                wait_view(&k, "choice", long, |v| v.screen == Screen::Choice).await;
                k.handle()
                    .send(Input::VerifyHere(DocumentType::IdCard))
                    .await
                    .unwrap();
                let review = wait_view(&k, "review", long, |v| v.screen == Screen::Review).await;
                assert_eq!(review.sides.iter().filter(|s| s.taken).count(), 3);
                k.handle().send(Input::Confirm).await.unwrap();
                let v = wait_view(&k, "result", long, |v| {
                    v.screen == Screen::Result && v.result.as_ref().is_some_and(|r| r.final_)
                })
                .await;
                assert_eq!(v.result.unwrap().status, "APPROVED");
                k.shutdown().await;
            });
        },
    );
}

/// User plus system CPU time of this process (Linux: `/proc/self/stat`,
/// in clock ticks of 1/100 s, the kernel's fixed `USER_HZ`).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<u64> = rest
        .split(' ')
        .skip(11)
        .take(2)
        .map(|x| x.parse().unwrap())
        .collect();
    Duration::from_millis((f[0] + f[1]) * 10)
}

/// One case of the benchmark, in the child: the kiosk's preview pipeline
/// (the live quality analyser included) on one camera for `KYC_BENCH_SECS`.
fn bench_case() {
    let (w, h): (u32, u32) = {
        let size = std::env::var("KYC_BENCH_SIZE").unwrap();
        let (w, h) = size.split_once('x').unwrap();
        (w.parse().unwrap(), h.parse().unwrap())
    };
    let secs: f64 = std::env::var("KYC_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5.0);
    let open = camera::native::opener(
        index_of("Bench Camera"),
        OpenRequest {
            preferred: Some((w, h)),
            min_fps: 1,
        },
    );
    let mut scratch = kyc_kiosk::quality::Scratch::default();
    let analyse = Box::new(move |f: &Frame| {
        let view = kyc_kiosk::quality::ImageView::rgb(f.pixels(), f.width(), f.height())
            .with_stride(f.stride());
        let (rw, rh) = (f.width() * 7 / 10, f.height() * 7 / 10);
        let roi = kyc_kiosk::quality::Roi {
            x: (f.width() - rw) / 2,
            y: (f.height() - rh) / 2,
            width: rw,
            height: rh,
        };
        let _ = kyc_kiosk::quality::assess_live(&view, Some(roi), &mut scratch);
    });
    let p = Pipeline::start(open, analyse, PipelineConfig::default()).unwrap();
    let mut last = p.wait_preview(0, Duration::from_secs(10)).unwrap().seq;
    // Warm up: buffers, decoder, caches.
    let warm = Instant::now() + Duration::from_secs(1);
    while Instant::now() < warm {
        last = p.wait_preview(last, Duration::from_secs(2)).unwrap().seq;
    }
    let CameraStatus::Live {
        width, height, fps, ..
    } = p.status()
    else {
        panic!("not live: {:?}", p.status());
    };
    assert_eq!((width, height), (w, h));
    let (t0, cpu0, s0) = (Instant::now(), cpu_time(), p.stats());
    let mut latencies = Vec::new();
    while t0.elapsed().as_secs_f64() < secs {
        let pv = p.wait_preview(last, Duration::from_secs(2)).unwrap();
        latencies.push(pv.captured.elapsed());
        last = pv.seq;
    }
    let (wall, cpu, s1) = (t0.elapsed(), cpu_time() - cpu0, p.stats());
    p.stop();
    latencies.sort();
    let pct = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
    println!(
        "BENCH|{w}x{h}|{fps}|{:.1}|{:.1}|{:.0}|{:.0}|{:.0}",
        (s1.captured - s0.captured) as f64 / wall.as_secs_f64(),
        (s1.previews - s0.previews) as f64 / wall.as_secs_f64(),
        pct(0.5).as_secs_f64() * 1000.0,
        pct(0.95).as_secs_f64() * 1000.0,
        cpu.as_secs_f64() / wall.as_secs_f64() * 100.0,
    );
}

/// The real path's figures for BENCHMARKS.md: preview rate, capture to
/// display latency and CPU at 720p, 1080p and 4K, MJPEG against YUYV.
/// `cargo test -p kyc-kiosk --test integration camera_path::bench -- --ignored --nocapture`
/// (`KYC_BENCH_SECS`, default 5, per case).
#[test]
#[ignore = "a benchmark: prints a table, asserts little"]
fn bench_real_path() {
    if std::env::var_os(CHILD).is_some() {
        bench_case();
        return;
    }
    println!(
        "| format | size | camera fps | frames/s decoded | previews/s | latency p50 | latency p95 | CPU (of one core) |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for format in ["MJPG", "YUYV"] {
        for size in ["1280x720", "1920x1080", "3840x2160"] {
            let out = under_fake_cameras(
                "bench_real_path",
                &[
                    ("FAKECAM_DEVICES", "Bench Camera"),
                    (
                        "FAKECAM_IMAGES",
                        repo().join("assets/demo/front.jpg").to_str().unwrap(),
                    ),
                    ("FAKECAM_FORMATS", format),
                    ("FAKECAM_SIZES", size),
                    ("KYC_BENCH_SIZE", size),
                ],
                |_| unreachable!("the child runs bench_case"),
            );
            let line = out
                .lines()
                .find_map(|l| l.split_once("BENCH|").map(|(_, r)| r.to_owned()))
                .unwrap_or_else(|| panic!("no figures from the child:\n{out}"));
            let f: Vec<&str> = line.split('|').collect();
            println!(
                "| {} | {} | {} | {} | {} | {} ms | {} ms | {} % |",
                if format == "MJPG" { "MJPEG" } else { "YUYV" },
                f[0],
                f[1],
                f[2],
                f[3],
                f[4],
                f[5],
                f[6]
            );
        }
    }
}
