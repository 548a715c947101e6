//! The real [`Ports`]: the iDenfy client (or the embedded sandbox) and the
//! webhook results, or a back-office relay ([`super::relayed`]) instead of
//! both; the cameras and the quality prechecks. The conversions
//! between the module types and the flow's plain types are in
//! [`super::convert`]; no flow decision is taken here.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Serialize;

use super::convert::{self, failure};
use super::driver::Ports;
use super::relayed::Relayed;
use super::types::{
    Failure, Outcome, Side, StartRequest, Still, Submission, TokenInfo, TokenStatus,
};
use crate::camera::{self, demo, pipeline::Pipeline, Frame};
use crate::capture::Role;
use crate::error::ErrorCode;
use crate::idenfy::models as m;
use crate::idenfy::webhook::ResultStore;
use crate::idenfy::{self, Client};
use crate::quality;

/// How long a camera may take to deliver its first frame.
const CAMERA_START_LIMIT: Duration = Duration::from_secs(5);

/// How often an open camera's status is looked at for an unplug.
const CAMERA_WATCH_PERIOD: Duration = Duration::from_millis(200);

/// What the live analyser attaches to each preview frame (sent to the UI as
/// is: `{"ok": false, "issues": ["blurry", "glare"]}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LiveQuality {
    /// True when the frame would pass (no issue).
    pub ok: bool,
    /// What the frame would be refused for, in [`quality::Issue::ALL`] order.
    pub issues: quality::IssueSet,
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
        }
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

    fn open_pipeline(&self, role: Role) -> Result<Pipeline<LiveQuality>, camera::Error> {
        let opener = match &self.mode {
            CameraMode::Demo { frames, control } => {
                if role == Role::Selfie {
                    control.set_scene(demo::DemoScene::Face);
                }
                demo::opener(frames.clone(), control.clone(), 30)
            }
            CameraMode::Native { roles } => native_opener(roles, role)?,
            CameraMode::Stills(_) => return Err(camera::Error::NoCamera),
        };
        let mut scratch = quality::Scratch::default();
        let analyse: camera::pipeline::Analyser<LiveQuality> = Box::new(move |f: &Frame| {
            let view =
                quality::ImageView::rgb(f.pixels(), f.width(), f.height()).with_stride(f.stride());
            let roi = guide_roi(f.width(), f.height());
            let a = quality::assess_live(&view, Some(roi), &mut scratch);
            tracing::trace!(seq = f.seq(), verdict = ?a.verdict, scores = ?a.scores, "live check");
            LiveQuality {
                ok: a.verdict == quality::Verdict::Ok,
                issues: a.issues,
            }
        });
        Pipeline::start(opener, analyse, camera::pipeline::PipelineConfig::default())
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
fn still(pipeline: &Pipeline<LiveQuality>, side: Side, jpeg_quality: u8) -> Result<Still, Failure> {
    let frame = pipeline
        .capture_still(Duration::from_secs(3))
        .map_err(|e| camera_failure(&e))?;
    let still = check_and_encode(&frame, side, jpeg_quality);
    // The full-resolution frame is the customer's document or face: wipe it
    // unless the pipeline still shows it (it then recycles the buffer).
    if let Ok(f) = std::sync::Arc::try_unwrap(frame) {
        drop(zeroize::Zeroizing::new(f.into_pixels()));
    }
    still
}

fn check_and_encode(frame: &camera::Frame, side: Side, jpeg_quality: u8) -> Result<Still, Failure> {
    let view = quality::ImageView::rgb(frame.pixels(), frame.width(), frame.height())
        .with_stride(frame.stride());
    let opts = quality::Options {
        role: Some(side.camera()),
        roi: Some(guide_roi(frame.width(), frame.height())),
    };
    let a = quality::assess(&view, &opts);
    // A retake verdict always names its issues: the first is shown.
    if let (quality::Verdict::Retake, Some(&issue)) = (a.verdict, a.issues.first()) {
        return Err(Failure::ImageRejected {
            side,
            reason: issue.into(),
        });
    }
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
        let pipeline = Arc::new(self.open_pipeline(role).map_err(|e| camera_failure(&e))?);
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

    async fn capture_still(&self, side: Side) -> Result<Still, Failure> {
        if let CameraMode::Stills(files) = &self.mode {
            return given_still(files, side);
        }
        let pipeline = self.pipeline().ok_or(Failure::Camera {
            code: ErrorCode::CameraUnavailable,
            message: "no camera is open".into(),
        })?;
        let jpeg_quality = self.still_quality;
        tokio::task::spawn_blocking(move || still(&pipeline, side, jpeg_quality))
            .await
            .map_err(|e| Failure::Internal {
                message: e.to_string(),
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
        let q = LiveQuality { ok: false, issues };
        assert_eq!(
            serde_json::to_value(q).unwrap(),
            serde_json::json!({"ok": false, "issues": ["blurry", "glare"]})
        );
    }
}
