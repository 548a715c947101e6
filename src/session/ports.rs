//! The real [`Ports`]: the iDenfy client (or the embedded sandbox) and the
//! webhook results, or a back-office relay ([`super::relayed`]) instead of
//! both; the cameras and the quality prechecks. The conversions
//! between the module types and the flow's plain types are in
//! [`super::convert`]; no flow decision is taken here.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Serialize;

use super::convert::{self, failure};
use super::driver::Ports;
use super::relayed::Relayed;
use super::types::{
    Failure, NotTaken, Outcome, Side, StartRequest, Still, Submission, TokenInfo, TokenStatus,
};
use crate::camera::{self, demo, pipeline::Pipeline, Frame};
use crate::capture::Role;
use crate::detect::Kind;
use crate::error::ErrorCode;
use crate::framing::{self, Detectors};
use crate::idenfy::models as m;
use crate::idenfy::webhook::ResultStore;
use crate::idenfy::{self, Client};
use crate::quality;

/// How long a camera may take to deliver its first frame.
const CAMERA_START_LIMIT: Duration = Duration::from_secs(5);

/// How often an open camera's status is looked at for an unplug.
const CAMERA_WATCH_PERIOD: Duration = Duration::from_millis(200);

/// What the live analyser attaches to each preview frame (sent to the UI as
/// is: `{"ok": false, "issues": ["document_too_far"], "outline": [[x, y], …]}`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveQuality {
    /// True when the frame would pass (no issue).
    pub ok: bool,
    /// What the frame would be refused for, in [`quality::Issue::ALL`] order
    /// (framing issues first).
    pub issues: quality::IssueSet,
    /// Where the document (or the face) is, in 0…1 frame coordinates; `null`
    /// when none was found. The overlay draws it; auto-capture waits for it
    /// to hold still.
    pub outline: Option<framing::Outline>,
}

/// Where frames come from.
#[derive(Clone)]
pub enum CameraMode {
    /// The demo camera: built-in pictures of a specimen card and a face. The
    /// scene follows the side being asked for.
    Demo {
        frames: Arc<demo::DemoFrames>,
        control: demo::DemoControl,
    },
    /// Real cameras, per role, as configured.
    Native { roles: crate::config::CameraRoles },
    /// Photos given as files (`kyc-kiosk verify`): "capturing" a side hands
    /// over its file, already prechecked by the caller.
    Stills(Arc<HashMap<Side, Vec<u8>>>),
}

struct Open {
    role: Role,
    /// Shared so blocking waits run off the async threads without holding the lock.
    pipeline: Arc<Pipeline<LiveQuality>>,
}

/// Where tokens, submissions and results go.
pub enum Upstream {
    /// iDenfy (or the embedded sandbox) directly; results arrive as webhooks
    /// in the store.
    Idenfy {
        client: Client,
        results: ResultStore,
        callback_url: Option<String>,
    },
    /// A back-office relay, which holds the iDenfy credentials.
    Relay(Relayed),
}

/// The real ports. Cheap to share behind an `Arc`.
pub struct LivePorts {
    upstream: Upstream,
    mode: CameraMode,
    camera: Mutex<Option<Open>>,
    /// The scanRefs created here and not yet wiped, with how many of their
    /// webhook results the flow has been given.
    delivered: Mutex<HashMap<String, usize>>,
    /// JPEG quality tried first for stills (lowered at capture if one would not fit).
    still_quality: u8,
    /// The detectors behind the framing rules, loaded at the first camera
    /// start and shared by every pipeline and still after it.
    detectors: std::sync::OnceLock<Detectors>,
    /// The side on screen is the utility bill: the document camera's live
    /// check looks for a page instead of an identity document.
    page_wanted: Arc<AtomicBool>,
}

/// What the document camera looks for when taking `side`.
fn document_kind(side: Side) -> Kind {
    match side {
        Side::UtilityBill => Kind::Page,
        Side::Front | Side::Back | Side::Face => Kind::Id,
    }
}

impl LivePorts {
    /// Ports over `client`, receiving results in `results`.
    #[must_use]
    pub fn new(
        client: Client,
        results: ResultStore,
        callback_url: Option<String>,
        mode: CameraMode,
    ) -> Self {
        Self::with_upstream(
            Upstream::Idenfy {
                client,
                results,
                callback_url,
            },
            mode,
        )
    }

    /// Ports over any [`Upstream`].
    #[must_use]
    pub fn with_upstream(upstream: Upstream, mode: CameraMode) -> Self {
        Self {
            upstream,
            mode,
            camera: Mutex::new(None),
            delivered: Mutex::new(HashMap::new()),
            still_quality: 92,
            detectors: std::sync::OnceLock::new(),
            page_wanted: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The side the capture screen shows: the live check of the document
    /// camera then looks for what that side is (a page for the utility bill).
    pub fn show_side(&self, side: Side) {
        self.page_wanted
            .store(document_kind(side) == Kind::Page, Ordering::Relaxed);
    }

    /// The framing detectors, loaded on first use.
    fn detectors(&self) -> Result<Detectors, Failure> {
        if let Some(d) = self.detectors.get() {
            return Ok(d.clone());
        }
        let d = Detectors::builtin().map_err(|e| Failure::Internal {
            message: e.to_string(),
        })?;
        Ok(self.detectors.get_or_init(|| d).clone())
    }

    /// One `/status` question, outside the flow (the CLI's last word on a
    /// verification whose result did not come in time).
    ///
    /// # Errors
    /// The client's error.
    pub async fn status_now(&self, scan_ref: &str) -> Result<String, String> {
        match &self.upstream {
            Upstream::Idenfy { client, .. } => client
                .status(&m::ScanRef::from(scan_ref))
                .await
                .map(|s| s.status.as_str().to_owned())
                .map_err(|e: idenfy::Error| e.to_string()),
            Upstream::Relay(r) => r.status_now(scan_ref).await.map_err(|e| e.to_string()),
        }
    }

    /// Where tokens, submissions and results go.
    #[must_use]
    pub fn upstream(&self) -> &Upstream {
        &self.upstream
    }

    /// The camera mode (the kiosk uses it to steer the demo scene).
    #[must_use]
    pub fn mode(&self) -> &CameraMode {
        &self.mode
    }

    /// The newest preview after `after` (blocks up to `timeout`), or `None`
    /// when no camera is open or none came in time.
    #[must_use]
    pub fn wait_preview(
        &self,
        after: u64,
        timeout: Duration,
    ) -> Option<Arc<camera::pipeline::Preview<LiveQuality>>> {
        let pipeline = self.pipeline()?;
        pipeline.wait_preview(after, timeout).ok()
    }

    fn pipeline(&self) -> Option<Arc<Pipeline<LiveQuality>>> {
        let guard = self.camera.lock().unwrap_or_else(PoisonError::into_inner);
        guard.as_ref().map(|o| o.pipeline.clone())
    }

    /// The opener of `role`'s camera. Finding a native device lists and
    /// probes every camera, which a hung device can block: that runs on a
    /// blocking thread, given [`CAMERA_START_LIMIT`], so neither the async
    /// workers nor the screen ("Starting the camera…") wait for ever.
    async fn opener(&self, role: Role) -> Result<camera::Opener, Failure> {
        match &self.mode {
            CameraMode::Demo { frames, control } => {
                if role == Role::Selfie {
                    control.set_scene(demo::DemoScene::Face);
                }
                Ok(demo::opener(frames.clone(), control.clone(), 30))
            }
            CameraMode::Native { roles } => {
                let roles = roles.clone();
                let found = tokio::task::spawn_blocking(move || native_opener(&roles, role));
                match tokio::time::timeout(CAMERA_START_LIMIT, found).await {
                    Ok(Ok(r)) => r.map_err(|e| camera_failure(&e)),
                    Ok(Err(e)) => Err(Failure::Internal {
                        message: e.to_string(),
                    }),
                    Err(_) => Err(Failure::Camera {
                        code: ErrorCode::CameraUnavailable,
                        message: format!(
                            "the cameras did not answer within {} s",
                            CAMERA_START_LIMIT.as_secs()
                        ),
                    }),
                }
            }
            CameraMode::Stills(_) => Err(camera_failure(&camera::Error::NoCamera)),
        }
    }

    fn open_pipeline(
        &self,
        role: Role,
        opener: camera::Opener,
        detectors: Detectors,
    ) -> Result<Pipeline<LiveQuality>, camera::Error> {
        let analyse = analyser(role, detectors, self.page_wanted.clone());
        Pipeline::start(opener, analyse, kiosk_pipeline(role))
    }
}

/// The kiosk's pipeline: the analyser judges 1280x720 frames (the size the
/// detectors and the live checks were tuned on), about 15 times a second;
/// the screen gets 960x540 previews at the camera's rate. The capture screen
/// never shows the preview wider than 960 CSS pixels, so a larger JPEG only
/// cost the web view decoding and scaling, and 960x540 is an exact half of a
/// 1080p camera (the cheapest shrink). Shown at its own size, it gets a
/// slightly higher quality than the old 1280x720 one. Fifteen verdicts a
/// second are plenty for the overlay and the auto-capture (500 ms held still,
/// then a countdown) and halve the analyser's share of a core; a verdict is
/// then at most about 100 ms behind its preview, inside the auto-capture's
/// 200 ms (BENCHMARKS.md, "Preview transport into the web view"). The
/// selfie camera's analysis (the face model, about three times the document
/// detector's time) runs ten times a second: five verdicts in the 500 ms a
/// face must hold still, each at most about 130 ms behind its preview.
fn kiosk_pipeline(role: Role) -> camera::pipeline::PipelineConfig {
    camera::pipeline::PipelineConfig {
        analysis_max: (1280, 720),
        preview_max: (960, 540),
        preview_quality: 75,
        analysis_every: analysis_every(role),
        ..camera::pipeline::PipelineConfig::default()
    }
}

/// How often the live analysis of a `role` camera runs at most.
fn analysis_every(role: Role) -> Duration {
    match role {
        Role::Document => Duration::from_millis(66),
        Role::Selfie => Duration::from_millis(100),
    }
}

/// The per-preview analysis of a `role` camera: the framing rules on what
/// the detectors see, then the image checks over the document (its bounding
/// box, when found) or the guide frame.
fn analyser(
    role: Role,
    detectors: Detectors,
    page_wanted: Arc<AtomicBool>,
) -> camera::pipeline::Analyser<LiveQuality> {
    let mut scratch = quality::Scratch::default();
    Box::new(move |f: &Frame| {
        let started = std::time::Instant::now();
        let view =
            quality::ImageView::rgb(f.pixels(), f.width(), f.height()).with_stride(f.stride());
        let kind = if page_wanted.load(Ordering::Relaxed) {
            Kind::Page
        } else {
            Kind::Id
        };
        let seen = detectors.look_for(role, kind, &view);
        let live = judge_live(role, &view, &seen.framing, &mut scratch);
        tracing::trace!(
            seq = f.seq(),
            ?role,
            issues = ?live.issues,
            us = started.elapsed().as_micros(),
            "live check"
        );
        live
    })
}

/// The image checks of one preview frame, over the document's region when
/// one was found, joined with the framing rules' verdict.
fn judge_live(
    role: Role,
    view: &quality::ImageView<'_>,
    framing: &framing::Framing,
    scratch: &mut quality::Scratch,
) -> LiveQuality {
    let roi = match (role, framing.outline) {
        (Role::Document, Some(o)) => o.bounds(view.width, view.height),
        _ => guide_roi(view.width, view.height),
    };
    let a = quality::assess_live_as(view, Some(roi), role, scratch);
    let mut issues = a.issues;
    if let Some(i) = framing.issue {
        issues.insert(i);
    }
    LiveQuality {
        ok: issues.is_empty(),
        issues,
        outline: framing.outline,
    }
}

/// Opens the configured device for `role` through nokhwa.
fn native_opener(
    roles: &crate::config::CameraRoles,
    role: Role,
) -> Result<camera::Opener, camera::Error> {
    let list = camera::list_devices()?;
    let assigned = camera::devices::assign_roles(roles, &list.devices)?;
    let device = match role {
        Role::Document => assigned.document,
        Role::Selfie => assigned.selfie,
    };
    #[cfg(feature = "native-camera")]
    {
        Ok(camera::native::opener(
            device.index,
            camera::OpenRequest::for_role(role),
        ))
    }
    #[cfg(not(feature = "native-camera"))]
    {
        let _ = device;
        Err(camera::Error::NoCamera)
    }
}

/// The guide frame of the preview (the UI draws the same rectangle): the
/// middle 70 % of the frame.
#[must_use]
pub fn guide_roi(width: u32, height: u32) -> quality::Roi {
    let w = width * 7 / 10;
    let h = height * 7 / 10;
    quality::Roi {
        x: (width - w) / 2,
        y: (height - h) / 2,
        width: w,
        height: h,
    }
}

/// Take a full-resolution still, check it as a still (not a preview), and
/// encode it. Blocking: runs on a blocking thread.
fn still(
    pipeline: &Pipeline<LiveQuality>,
    side: Side,
    jpeg_quality: u8,
    detectors: &Detectors,
) -> Result<Still, NotTaken> {
    let frame = pipeline
        .capture_still(Duration::from_secs(3))
        .map_err(|e| camera_failure(&e))?;
    let still = check_and_encode(&frame, side, jpeg_quality, detectors);
    // The full-resolution frame is the customer's document or face: wipe it
    // unless the pipeline still shows it (it then recycles the buffer).
    if let Ok(f) = std::sync::Arc::try_unwrap(frame) {
        drop(zeroize::Zeroizing::new(f.into_pixels()));
    }
    still
}

/// The still check: the detectors run again on the full-resolution frame
/// (the preview's verdict is a frame or two old). A document side that
/// breaks a framing rule is refused with that rule's issue, nothing is sent;
/// otherwise the document is cut out and squared up ([`framing::crop`]) and
/// the crop is what is checked and sent. A selfie must pass the face rules
/// and is sent whole. A framing refusal carries the photo staff may accept
/// instead ([`as_taken`]), when there is one.
fn check_and_encode(
    frame: &camera::Frame,
    side: Side,
    jpeg_quality: u8,
    detectors: &Detectors,
) -> Result<Still, NotTaken> {
    let view = quality::ImageView::rgb(frame.pixels(), frame.width(), frame.height())
        .with_stride(frame.stride());
    let role = side.camera();
    let kind = document_kind(side);
    let seen = detectors.look_for(role, kind, &view);
    if let Some(issue) = seen.framing.issue {
        let overridable = match as_taken(frame, &view, side, &seen, jpeg_quality) {
            Ok(still) => Some(still),
            Err(f) => {
                tracing::debug!(code = %f.code(), "the refused still is not overridable");
                None
            }
        };
        return Err(NotTaken {
            failure: Failure::ImageRejected {
                side,
                reason: issue.into(),
            },
            overridable,
        });
    }
    match (role, seen.document) {
        (Role::Document, Some(doc)) => {
            let crop = framing::crop::rectify_as(&view, &doc.corners, kind).ok_or_else(|| {
                Failure::ImageRejected {
                    side,
                    reason: quality::Issue::NoDocument.into(),
                }
            })?;
            tracing::debug!(?crop, fill = doc.fill, "document cut out of the still");
            Ok(encode_crop(crop, frame, side, jpeg_quality)?)
        }
        _ => {
            let roi = guide_roi(frame.width(), frame.height());
            precheck(&view, side, Some(roi))?;
            Ok(encode(frame, side, jpeg_quality)?)
        }
    }
}

/// The photo a framing refusal leaves for staff to accept, as taken: for a
/// document found whole (too far or too close), its cut-out, as a good
/// still is sent; when the cut-out has too few pixels for the image checks
/// (a card far away), or the document was not found or is cut by the frame
/// edge, the whole frame; a selfie whole. What is sent must still pass the
/// image checks (judged over the guide frame for a whole frame): a photo
/// that is blurred, glared, too dark or too bright, or too small is never
/// overridable.
fn as_taken(
    frame: &camera::Frame,
    view: &quality::ImageView<'_>,
    side: Side,
    seen: &framing::Seen,
    jpeg_quality: u8,
) -> Result<Still, Failure> {
    if let (Role::Document, Some(doc)) = (side.camera(), seen.document) {
        let crop = (!doc.cut)
            .then(|| framing::crop::rectify_as(view, &doc.corners, document_kind(side)))
            .flatten();
        if let Some(crop) = crop {
            match encode_crop(crop, frame, side, jpeg_quality) {
                Err(Failure::ImageRejected {
                    reason: super::RetakeReason::Quality(quality::Issue::TooSmall),
                    ..
                }) => {}
                other => return other,
            }
        }
    }
    let roi = guide_roi(frame.width(), frame.height());
    precheck(view, side, Some(roi))?;
    encode(frame, side, jpeg_quality)
}

/// The image checks of a still (or its crop): the first issue refuses it.
fn precheck(
    view: &quality::ImageView<'_>,
    side: Side,
    roi: Option<quality::Roi>,
) -> Result<(), Failure> {
    let opts = quality::Options {
        role: Some(side.camera()),
        roi,
    };
    let a = quality::assess(view, &opts);
    // A retake verdict always names its issues: the first is shown.
    if let (quality::Verdict::Retake, Some(&issue)) = (a.verdict, a.issues.first()) {
        return Err(Failure::ImageRejected {
            side,
            reason: issue.into(),
        });
    }
    Ok(())
}

/// Check and encode the cut-out document. The crop's pixels are wiped
/// whatever happens (they move into a frame for the encoder, then out again).
fn encode_crop(
    mut crop: framing::crop::Crop,
    from: &camera::Frame,
    side: Side,
    jpeg_quality: u8,
) -> Result<Still, Failure> {
    let view = quality::ImageView::rgb(&crop.pixels, crop.width, crop.height);
    precheck(&view, side, None)?;
    let pixels = std::mem::take(&mut *crop.pixels);
    let frame = camera::Frame::new(pixels, crop.width, crop.height, from.seq(), from.captured())
        .map_err(|e| camera_failure(&e))?;
    let still = encode(&frame, side, jpeg_quality);
    drop(zeroize::Zeroizing::new(frame.into_pixels()));
    still
}

fn encode(frame: &camera::Frame, side: Side, jpeg_quality: u8) -> Result<Still, Failure> {
    let limits = camera::SubmissionLimits::default().starting_at(jpeg_quality);
    let s = camera::encode_still(frame, limits).map_err(|e| camera_failure(&e))?;
    // The wiping buffer moves into the still: no copy of the JPEG.
    Ok(Still {
        side,
        jpeg: s.jpeg,
        width: s.width,
        height: s.height,
    })
}

/// A still from a given file (its size read from the header).
fn given_still(files: &HashMap<Side, Vec<u8>>, side: Side) -> Result<Still, Failure> {
    let bytes = files.get(&side).ok_or_else(|| Failure::Camera {
        code: ErrorCode::InvalidInput,
        message: format!("no image was given for the {side:?} side"),
    })?;
    let (w, h) = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .ok()
        .and_then(|r| r.into_dimensions().ok())
        .unwrap_or((0, 0));
    Ok(Still::new(side, bytes.clone(), w, h))
}

/// Waits for a new pipeline's first frame. A camera that cannot be opened
/// (none, busy, denied) is reported as soon as the pipeline says so, with
/// its reason, rather than after the whole wait.
fn first_frame(p: &Pipeline<LiveQuality>, limit: Duration) -> Result<(), Failure> {
    let deadline = std::time::Instant::now() + limit;
    loop {
        let step = Duration::from_millis(100).min(limit);
        match p.wait_preview(0, step) {
            Ok(_) => return Ok(()),
            Err(e) => {
                if let camera::pipeline::CameraStatus::Unavailable { code, message, .. } =
                    p.status()
                {
                    return Err(Failure::Camera { code, message });
                }
                if !matches!(e, camera::Error::NoFrame { .. })
                    || std::time::Instant::now() >= deadline
                {
                    return Err(camera_failure(&e));
                }
            }
        }
    }
}

fn camera_failure(e: &camera::Error) -> Failure {
    Failure::Camera {
        code: e.code(),
        message: e.to_string(),
    }
}

impl Ports for LivePorts {
    async fn create_token(&self, request: StartRequest) -> Result<TokenInfo, Failure> {
        let (client, results, callback_url) = match &self.upstream {
            Upstream::Idenfy {
                client,
                results,
                callback_url,
            } => (client, results, callback_url),
            Upstream::Relay(r) => return r.create_token(&request).await,
        };
        let req = convert::token_request(&request, callback_url.as_deref());
        let resp = client.create_token(&req).await.map_err(|e| {
            tracing::warn!(code = %e.code(), "token creation failed");
            failure(&e)
        })?;
        // Results are accepted only for the scanRefs created here; the wipe
        // step ends each one again.
        results.register(&resp.scan_ref);
        self.delivered
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(resp.scan_ref.as_str().to_owned())
            .or_insert(0);
        Ok(convert::token_info(&resp, &request))
    }

    async fn start_camera(&self, role: Role) -> Result<(), Failure> {
        if matches!(self.mode, CameraMode::Stills(_)) {
            return Ok(());
        }
        {
            let guard = self.camera.lock().unwrap_or_else(PoisonError::into_inner);
            if guard.as_ref().is_some_and(|o| o.role == role) {
                return Ok(());
            }
        }
        self.stop_camera().await;
        let detectors = self.detectors()?;
        let opener = self.opener(role).await?;
        let pipeline = Arc::new(
            self.open_pipeline(role, opener, detectors)
                .map_err(|e| camera_failure(&e))?,
        );
        // The pipeline opens the device on its own thread: wait for the first
        // frame so "no camera" is reported here, not as a silent preview.
        let p = pipeline.clone();
        let first = tokio::task::spawn_blocking(move || first_frame(&p, CAMERA_START_LIMIT))
            .await
            .unwrap_or_else(|e| {
                Err(Failure::Internal {
                    message: e.to_string(),
                })
            });
        if let Err(f) = first {
            tracing::warn!(code = %f.code(), "camera did not start");
            let _ = tokio::task::spawn_blocking(move || drop(pipeline)).await;
            return Err(f);
        }
        *self.camera.lock().unwrap_or_else(PoisonError::into_inner) = Some(Open { role, pipeline });
        Ok(())
    }

    async fn stop_camera(&self) {
        let open = self
            .camera
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(o) = open {
            // Dropping the last reference stops the threads (it joins them).
            let _ = tokio::task::spawn_blocking(move || drop(o)).await;
        }
    }

    async fn watch_camera(&self) -> Option<Failure> {
        let watched = Arc::downgrade(&self.pipeline()?);
        loop {
            tokio::time::sleep(CAMERA_WATCH_PERIOD).await;
            // Read the status through the slot (never upgrading the weak
            // reference), so the last reference is never dropped here.
            let status = {
                let guard = self.camera.lock().unwrap_or_else(PoisonError::into_inner);
                match guard.as_ref() {
                    Some(o) if std::ptr::eq(Arc::as_ptr(&o.pipeline), watched.as_ptr()) => {
                        o.pipeline.status()
                    }
                    // Closed, or replaced by another camera.
                    _ => return None,
                }
            };
            match status {
                camera::pipeline::CameraStatus::Unavailable { code, message, .. } => {
                    tracing::warn!(%code, "camera stopped delivering");
                    return Some(Failure::Camera { code, message });
                }
                camera::pipeline::CameraStatus::Stopped => return None,
                _ => {}
            }
        }
    }

    async fn capture_still(&self, side: Side) -> Result<Still, NotTaken> {
        if let CameraMode::Stills(files) = &self.mode {
            return Ok(given_still(files, side)?);
        }
        let pipeline = self.pipeline().ok_or(Failure::Camera {
            code: ErrorCode::CameraUnavailable,
            message: "no camera is open".into(),
        })?;
        self.show_side(side);
        let jpeg_quality = self.still_quality;
        let detectors = self.detectors()?;
        tokio::task::spawn_blocking(move || still(&pipeline, side, jpeg_quality, &detectors))
            .await
            .map_err(|e| {
                NotTaken::from(Failure::Internal {
                    message: e.to_string(),
                })
            })?
    }

    async fn process(&self, submission: Submission) -> Result<(), Failure> {
        let client = match &self.upstream {
            Upstream::Idenfy { client, .. } => client,
            Upstream::Relay(r) => return r.process(&submission).await,
        };
        // The request holds copies of the images: they are wiped when it drops.
        let req = convert::process_request(&submission);
        let result = client.process(&req).await;
        drop(req);
        match result {
            Ok(_) => Ok(()),
            Err(e) => {
                tracing::warn!(code = %e.code(), "submission failed");
                Err(failure(&e))
            }
        }
    }

    async fn status(&self, scan_ref: String) -> Result<TokenStatus, Failure> {
        let s = match &self.upstream {
            Upstream::Idenfy { client, .. } => client
                .status(&m::ScanRef::from(scan_ref))
                .await
                .map_err(|e| failure(&e))?,
            Upstream::Relay(r) => r.status(&scan_ref).await?,
        };
        Ok(convert::token_status(&s))
    }

    async fn next_result(&self, scan_ref: String) -> Result<Outcome, Failure> {
        let results = match &self.upstream {
            Upstream::Idenfy { results, .. } => results,
            Upstream::Relay(r) => return r.next_result(&scan_ref).await,
        };
        let key = m::ScanRef::from(scan_ref.clone());
        // Subscribe first so a result recorded between the check and the
        // wait is not missed.
        let mut rx = results.subscribe();
        loop {
            let all = results.results(&key);
            {
                let mut d = self
                    .delivered
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                let n = d.entry(scan_ref.clone()).or_insert(0);
                if all.len() > *n {
                    let p = &all[*n];
                    *n += 1;
                    return Ok(convert::outcome_of_webhook(p));
                }
            }
            match rx.recv().await {
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                    return Err(Failure::Internal {
                        message: "the webhook receiver stopped".into(),
                    })
                }
            }
        }
    }

    async fn wipe(&self) {
        self.stop_camera().await;
        let refs: Vec<String> = self
            .delivered
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain()
            .map(|(k, _)| k)
            .collect();
        match &self.upstream {
            Upstream::Idenfy { results, .. } => {
                for r in refs {
                    results.forget(&m::ScanRef::from(r));
                }
            }
            Upstream::Relay(relay) => relay.forget_all(),
        }
        if let CameraMode::Demo { control, .. } = &self.mode {
            control.set_scene(demo::DemoScene::Front);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Each camera's analysis rate leaves the auto-capture at least five
    // verdicts in the time a document or a face must hold still, and a
    // verdict (with up to 60 ms of analysis) inside the age it accepts.
    #[test]
    fn each_camera_is_analysed_often_enough_for_the_auto_capture() {
        let steady =
            Duration::from_millis(crate::session::autocapture::AutoConfig::default().steady_ms);
        for role in [Role::Document, Role::Selfie] {
            let every = kiosk_pipeline(role).analysis_every;
            assert!(every * 5 <= steady, "{role:?}: {every:?}");
            assert!(
                every + Duration::from_millis(60) <= crate::session::autocapture::MAX_VERDICT_AGE,
                "{role:?}: {every:?}"
            );
        }
    }

    #[test]
    fn guide_roi_is_centred_and_inside() {
        let r = guide_roi(1920, 1080);
        assert_eq!((r.x, r.y, r.width, r.height), (288, 162, 1344, 756));
        let r = guide_roi(1, 1);
        assert!(r.x + r.width <= 1 && r.y + r.height <= 1);
    }

    #[test]
    fn live_quality_reaches_the_ui_as_issue_names() {
        let mut issues = quality::IssueSet::default();
        issues.insert(quality::Issue::Glare);
        issues.insert(quality::Issue::Blurry);
        let q = LiveQuality {
            ok: false,
            issues,
            outline: None,
        };
        assert_eq!(
            serde_json::to_value(q).unwrap(),
            serde_json::json!({"ok": false, "issues": ["blurry", "glare"], "outline": null})
        );
        issues.insert(quality::Issue::DocumentTooFar);
        let outline = framing::Outline([[0.25, 0.25], [0.75, 0.25], [0.75, 0.75], [0.25, 0.75]]);
        let q = LiveQuality {
            ok: false,
            issues,
            outline: Some(outline),
        };
        assert_eq!(
            serde_json::to_value(q).unwrap(),
            serde_json::json!({
                "ok": false,
                "issues": ["document_too_far", "blurry", "glare"],
                "outline": [[0.25, 0.25], [0.75, 0.25], [0.75, 0.75], [0.25, 0.75]]
            })
        );
    }

    fn demo_frame(file: &str) -> camera::Frame {
        let bytes = std::fs::read(demo::default_dir().join(file)).unwrap();
        let d = quality::decode_bounded(&bytes).unwrap();
        camera::Frame::new(
            d.rgb.to_vec(),
            d.width,
            d.height,
            1,
            std::time::Instant::now(),
        )
        .unwrap()
    }

    fn rejected_for(r: Result<Still, NotTaken>) -> Option<quality::Issue> {
        match r {
            Err(NotTaken {
                failure: Failure::ImageRejected { reason, .. },
                ..
            }) => reason.issue(),
            other => panic!("not a refusal: {other:?}"),
        }
    }

    #[test]
    fn a_document_still_is_sent_cut_out_and_squared_up() {
        let det = Detectors::builtin().unwrap();
        for (file, side) in [("front.jpg", Side::Front), ("back.jpg", Side::Back)] {
            let s = check_and_encode(&demo_frame(file), side, 90, &det).unwrap();
            // The card fills about 0.6 of the 1920 x 1080 frame: about 1400
            // pixels wide, plus the margin, at the ID-1 aspect.
            let aspect = s.width as f32 / s.height as f32;
            assert!(
                (aspect - framing::crop::ID1_ASPECT).abs() < 0.01,
                "{aspect}"
            );
            assert!((1450..1600).contains(&s.width), "{file}: {}", s.width);
            let d = quality::decode_bounded(&s.jpeg).unwrap();
            assert_eq!((d.width, d.height), (s.width, s.height));
            // What is sent is still seen as a document (the sandbox, like
            // the vendor, looks for one), filling most of the crop.
            let view = quality::ImageView::rgb(&d.rgb, d.width, d.height);
            let doc = crate::detect::find_document(&view, crate::detect::Kind::Id).unwrap();
            assert!(doc.fill > 0.75, "{file}: {doc:?}");
        }
    }

    #[test]
    fn a_badly_framed_still_is_refused_with_the_rule() {
        let det = Detectors::builtin().unwrap();
        let far = check_and_encode(&demo_frame("front_far.jpg"), Side::Front, 90, &det);
        assert_eq!(rejected_for(far), Some(quality::Issue::DocumentTooFar));
        let cut = check_and_encode(&demo_frame("front_cut.jpg"), Side::Front, 90, &det);
        assert!(matches!(
            rejected_for(cut),
            Some(quality::Issue::NoDocument | quality::Issue::DocumentCut)
        ));
        // The selfie as a document: no document in it.
        let face = check_and_encode(&demo_frame("face.jpg"), Side::Front, 90, &det);
        assert_eq!(rejected_for(face), Some(quality::Issue::NoDocument));
        let two = check_and_encode(&demo_frame("face_two.jpg"), Side::Face, 90, &det);
        assert_eq!(rejected_for(two), Some(quality::Issue::SeveralFaces));
        // A card held up for the selfie: no face of a person.
        let card = check_and_encode(&demo_frame("back.jpg"), Side::Face, 90, &det);
        assert_eq!(rejected_for(card), Some(quality::Issue::NoFace));
    }

    /// What a framing refusal leaves for staff to accept.
    fn held(r: Result<Still, NotTaken>) -> (Option<quality::Issue>, Option<Still>) {
        match r {
            Err(NotTaken {
                failure: Failure::ImageRejected { reason, .. },
                overridable,
            }) => (reason.issue(), overridable),
            other => panic!("not a refusal: {other:?}"),
        }
    }

    fn frame_from(img: &image::RgbImage) -> camera::Frame {
        camera::Frame::new(
            img.as_raw().clone(),
            img.width(),
            img.height(),
            1,
            std::time::Instant::now(),
        )
        .unwrap()
    }

    fn rgb(f: &camera::Frame) -> image::RgbImage {
        image::RgbImage::from_raw(f.width(), f.height(), f.pixels().to_vec()).unwrap()
    }

    // A framing refusal holds the photo as taken for staff: a card found
    // whole but too far as its cut-out (as a good still is sent), a cut
    // card as the whole frame, a selfie (two people, or none) whole. Each
    // passed the image checks.
    #[test]
    fn a_framing_refusal_holds_the_photo_as_taken_for_staff() {
        let det = Detectors::builtin().unwrap();
        for (file, side, want, whole) in [
            (
                "front_far.jpg",
                Side::Front,
                vec![quality::Issue::DocumentTooFar],
                false,
            ),
            (
                "front_cut.jpg",
                Side::Front,
                vec![quality::Issue::NoDocument, quality::Issue::DocumentCut],
                true,
            ),
            (
                "face_two.jpg",
                Side::Face,
                vec![quality::Issue::SeveralFaces],
                true,
            ),
            ("back.jpg", Side::Face, vec![quality::Issue::NoFace], true),
        ] {
            let f = demo_frame(file);
            let (issue, still) = held(check_and_encode(&f, side, 90, &det));
            assert!(
                issue.is_some_and(|i| want.contains(&i)),
                "{file}: {issue:?}"
            );
            let still = still.unwrap_or_else(|| panic!("{file}: nothing held"));
            assert_eq!(still.side, side);
            let d = quality::decode_bounded(&still.jpeg).unwrap();
            assert_eq!((d.width, d.height), (still.width, still.height));
            if whole {
                assert_eq!((d.width, d.height), (f.width(), f.height()), "{file}");
                // The photo held is the one taken: the same picture, re-encoded.
                let mean =
                    |px: &[u8]| px.iter().map(|&v| u64::from(v)).sum::<u64>() / px.len() as u64;
                assert!(mean(&d.rgb).abs_diff(mean(f.pixels())) <= 2, "{file}");
            } else {
                // The card, squared up, with every pixel it had in the frame.
                let aspect = d.width as f32 / d.height as f32;
                assert!(
                    (aspect - framing::crop::ID1_ASPECT).abs() < 0.01,
                    "{file}: {aspect}"
                );
                assert!(d.width < f.width() * 6 / 10, "{file}: {}", d.width);
                let view = quality::ImageView::rgb(&d.rgb, d.width, d.height);
                let doc = crate::detect::find_document(&view, Kind::Id).unwrap();
                assert!(doc.fill > 0.75, "{file}: {doc:?}");
            }
        }
    }

    // Blur, glare, exposure and resolution are not the detectors' to judge:
    // a refused still that fails one of them holds nothing for staff.
    #[test]
    fn a_refused_still_that_fails_an_image_check_holds_nothing() {
        let det = Detectors::builtin().unwrap();
        let far = rgb(&demo_frame("front_far.jpg"));
        let dark = image::RgbImage::from_fn(far.width(), far.height(), |x, y| {
            image::Rgb(far.get_pixel(x, y).0.map(|v| v / 12))
        });
        let (w, h) = (far.width(), far.height());
        let small =
            image::imageops::resize(&far, w / 10, h / 10, image::imageops::FilterType::Triangle);
        let blurred = image::imageops::resize(&small, w, h, image::imageops::FilterType::Triangle);
        let tiny = image::imageops::resize(&far, 320, 180, image::imageops::FilterType::Triangle);
        for (name, img) in [("dark", dark), ("blurred", blurred), ("tiny", tiny)] {
            let (issue, still) = held(check_and_encode(&frame_from(&img), Side::Front, 90, &det));
            assert!(issue.is_some_and(|i| i.is_framing()), "{name}: {issue:?}");
            assert!(still.is_none(), "{name}: {still:?}");
        }
    }

    #[test]
    fn a_good_selfie_is_sent_whole() {
        let det = Detectors::builtin().unwrap();
        let s = check_and_encode(&demo_frame("face.jpg"), Side::Face, 90, &det).unwrap();
        assert_eq!((s.width, s.height), (1440, 1080));
    }

    #[test]
    fn the_live_check_judges_the_document_region_and_carries_the_outline() {
        let det = Detectors::builtin().unwrap();
        let mut scratch = quality::Scratch::default();
        let mut live = |file: &str, role: Role| {
            let f = demo_frame(file);
            let view = quality::ImageView::rgb(f.pixels(), f.width(), f.height());
            let seen = det.look(role, &view);
            judge_live(role, &view, &seen.framing, &mut scratch)
        };
        let good = live("front.jpg", Role::Document);
        assert!(good.ok, "{good:?}");
        let o = good.outline.unwrap();
        assert!(o.0.iter().flatten().all(|v| (0.0..=1.0).contains(v)));
        let far = live("front_far.jpg", Role::Document);
        assert_eq!(far.issues.first(), Some(quality::Issue::DocumentTooFar));
        assert!(far.outline.is_some() && !far.ok);
        let face = live("face.jpg", Role::Selfie);
        assert!(face.ok, "{face:?}");
        let two = live("face_two.jpg", Role::Selfie);
        assert_eq!(two.issues.first(), Some(quality::Issue::SeveralFaces));
    }
}
