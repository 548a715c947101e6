//! Scripted [`Ports`] for tests: they answer as the real ports would,
//! without a network or a camera, and log every call. Only with `cfg(test)`
//! or the `testing` feature.
//!
//! The log has one line per call: `token Identification`, `camera Document`,
//! `camera off`, `capture FRONT`, `process ID_CARD FRONT,BACK,FACE`,
//! `status scan-42`. Answers are scripted per call (process, status, capture
//! failures) and default to success; webhook results are pushed with
//! [`Scripted::send_result`].

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{mpsc, watch};

use super::driver::Ports;
use super::types::{
    Failure, NotTaken, Outcome, Side, StartRequest, Still, Submission, TokenInfo, TokenStatus,
};
use crate::capture::Role;
use crate::error::ErrorCode;

/// The scanRef of every token the scripted ports create.
pub const SCAN_REF: &str = "scan-42";
/// The digit string of every token that asked for one.
pub const DIGITS: &str = "48236571";
/// Bytes inside every still, to find the customer's images wherever they might leak.
pub const MARKER: &[u8] = b"KIOSK-PRIVACY-MARKER-7f3a";

/// Scripted ports. Create with [`Scripted::new`]; share as `Arc`.
pub struct Scripted {
    calls: Mutex<Vec<String>>,
    expiry_secs: Mutex<Option<u32>>,
    capture_failures: Mutex<HashMap<Side, VecDeque<NotTaken>>>,
    process: Mutex<VecDeque<Result<(), Failure>>>,
    status: Mutex<VecDeque<Result<TokenStatus, Failure>>>,
    results: tokio::sync::Mutex<mpsc::UnboundedReceiver<Outcome>>,
    webhook: mpsc::UnboundedSender<Outcome>,
    /// Whatever a real port would hold between calls (the stills).
    held: Mutex<Vec<Vec<u8>>>,
    wipes: Mutex<u32>,
    /// The camera is unplugged: opening fails, a watch reports it.
    unplugged: watch::Sender<bool>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Scripted {
    /// Ports whose every call succeeds, with a token valid for an hour.
    #[must_use]
    pub fn new() -> Arc<Self> {
        let (webhook, results) = mpsc::unbounded_channel();
        Arc::new(Self {
            calls: Mutex::default(),
            expiry_secs: Mutex::default(),
            capture_failures: Mutex::default(),
            process: Mutex::default(),
            status: Mutex::default(),
            results: tokio::sync::Mutex::new(results),
            webhook,
            held: Mutex::default(),
            wipes: Mutex::default(),
            unplugged: watch::Sender::new(false),
        })
    }

    /// Every call so far, in order.
    #[must_use]
    pub fn log(&self) -> Vec<String> {
        lock(&self.calls).clone()
    }

    /// The calls that start with `prefix`, in order.
    #[must_use]
    pub fn calls(&self, prefix: &str) -> Vec<String> {
        lock(&self.calls)
            .iter()
            .filter(|c| c.starts_with(prefix))
            .cloned()
            .collect()
    }

    /// How many times the ports were told to forget the customer.
    #[must_use]
    pub fn wipes(&self) -> u32 {
        *lock(&self.wipes)
    }

    /// Whether the ports still hold an image of the customer.
    #[must_use]
    pub fn holds_images(&self) -> bool {
        !lock(&self.held).is_empty()
    }

    /// The next tokens' `expiryTime`.
    pub fn set_expiry_secs(&self, secs: u32) {
        *lock(&self.expiry_secs) = Some(secs);
    }

    /// The next capture of `side` fails with `failure`.
    pub fn fail_capture(&self, side: Side, failure: Failure) {
        lock(&self.capture_failures)
            .entry(side)
            .or_default()
            .push_back(failure.into());
    }

    /// The next capture of `side` is refused by the framing rule `issue`,
    /// with the photo as taken (the image [`Self::still_of`] gives `side`)
    /// for staff to accept.
    pub fn refuse_capture(&self, side: Side, issue: crate::quality::Issue) {
        lock(&self.capture_failures)
            .entry(side)
            .or_default()
            .push_back(NotTaken {
                failure: Failure::ImageRejected {
                    side,
                    reason: issue.into(),
                },
                overridable: Some(Self::still_of(side)),
            });
    }

    /// The photo these ports take of `side`: a JPEG marker, [`MARKER`] and
    /// the side.
    #[must_use]
    pub fn still_of(side: Side) -> Still {
        let mut jpeg = vec![0xFF, 0xD8];
        jpeg.extend_from_slice(MARKER);
        jpeg.push(side as u8);
        Still::new(side, jpeg, 1280, 720)
    }

    /// The answer to the next `/process` call.
    pub fn answer_process(&self, answer: Result<(), Failure>) {
        lock(&self.process).push_back(answer);
    }

    /// The answer to the next `/status` call (`Pending` when none is scripted).
    pub fn answer_status(&self, answer: Result<TokenStatus, Failure>) {
        lock(&self.status).push_back(answer);
    }

    /// A webhook result arrives.
    ///
    /// # Panics
    /// Never: the receiving end lives as long as the ports.
    pub fn send_result(&self, outcome: Outcome) {
        self.webhook
            .send(outcome)
            .expect("the ports hold the receiver");
    }

    /// Unplugs (`true`) or plugs back (`false`) the camera.
    pub fn unplug(&self, unplugged: bool) {
        self.unplugged.send_replace(unplugged);
    }

    fn call(&self, s: String) {
        lock(&self.calls).push(s);
    }

    fn lost() -> Failure {
        Failure::Camera {
            code: ErrorCode::CameraLost,
            message: "unplugged".into(),
        }
    }
}

impl Ports for Scripted {
    async fn create_token(&self, request: StartRequest) -> Result<TokenInfo, Failure> {
        self.call(format!("token {:?}", request.token_type));
        Ok(TokenInfo {
            scan_ref: SCAN_REF.into(),
            auth_token: "auth-42".into(),
            digit_string: request.generate_digit_string.then(|| DIGITS.into()),
            token_type: request.token_type,
            expiry_secs: lock(&self.expiry_secs).unwrap_or(3600),
            session_length_secs: 1800,
        })
    }

    async fn start_camera(&self, role: Role) -> Result<(), Failure> {
        self.call(format!("camera {role:?}"));
        if *self.unplugged.borrow() {
            return Err(Self::lost());
        }
        Ok(())
    }

    async fn stop_camera(&self) {
        self.call("camera off".into());
    }

    async fn watch_camera(&self) -> Option<Failure> {
        let mut rx = self.unplugged.subscribe();
        rx.wait_for(|u| *u).await.ok()?;
        Some(Self::lost())
    }

    async fn capture_still(&self, side: Side) -> Result<Still, NotTaken> {
        self.call(format!("capture {}", side.as_str()));
        let failure = lock(&self.capture_failures)
            .get_mut(&side)
            .and_then(VecDeque::pop_front);
        if let Some(f) = failure {
            return Err(f);
        }
        let still = Self::still_of(side);
        lock(&self.held).push(still.jpeg.to_vec());
        Ok(still)
    }

    async fn process(&self, s: Submission) -> Result<(), Failure> {
        let sides: Vec<_> = s.images.iter().map(|i| i.side.as_str()).collect();
        self.call(format!(
            "process {} {}",
            s.document_type.as_str(),
            sides.join(",")
        ));
        lock(&self.process).pop_front().unwrap_or(Ok(()))
    }

    async fn status(&self, scan_ref: String) -> Result<TokenStatus, Failure> {
        self.call(format!("status {scan_ref}"));
        lock(&self.status)
            .pop_front()
            .unwrap_or(Ok(TokenStatus::Pending))
    }

    async fn next_result(&self, _scan_ref: String) -> Result<Outcome, Failure> {
        // The sender lives in `self`: this waits until a result is sent.
        let mut rx = self.results.lock().await;
        rx.recv().await.ok_or(Failure::Internal {
            message: "webhook receiver closed".into(),
        })
    }

    async fn wipe(&self) {
        lock(&self.held).clear();
        *lock(&self.wipes) += 1;
    }
}
