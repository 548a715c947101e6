//! The thin async driver: runs the [`Machine`], performs its effects through
//! [`Ports`], feeds the outcomes back as events and publishes a [`View`] on a
//! `watch` channel. The desktop shell and the CLI talk to it through a
//! [`Handle`]; neither knows the flow.
//!
//! Effects of a session that was wiped can never reach the next one: every
//! task is aborted on [`Effect::Wipe`], and events carry the generation they
//! were started in (late ones are dropped).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

#[cfg(test)]
use super::machine::CAMERA_RETRY_MS;
use super::machine::{Effect, Event, Input, Machine, Settings};
use super::types::{
    Failure, Millis, NotTaken, Outcome, Side, StartRequest, Still, Submission, TokenInfo,
    TokenStatus,
};
use super::view::View;
use super::Error;
use crate::capture::Role;

/// The outside world, as the flow needs it. The real implementation
/// ([`super::ports::LivePorts`]) wraps `idenfy::Client`, the webhook
/// receiver, `camera` and `quality`; tests use scripted ports
/// (`session::testing`). Every method maps its errors into a [`Failure`].
pub trait Ports: Send + Sync + 'static {
    /// `POST /token`.
    fn create_token(
        &self,
        request: StartRequest,
    ) -> impl Future<Output = Result<TokenInfo, Failure>> + Send;
    /// Open the camera for `role` (switching from another one if needed).
    fn start_camera(&self, role: Role) -> impl Future<Output = Result<(), Failure>> + Send;
    /// Close the camera and drop its frames. Must not fail.
    fn stop_camera(&self) -> impl Future<Output = ()> + Send;
    /// Resolves with the failure when the open camera stops delivering
    /// (unplugged, taken by another program), or with `None` once it is
    /// closed or replaced.
    fn watch_camera(&self) -> impl Future<Output = Option<Failure>> + Send;
    /// Take a still of `side`, precheck it, encode it as JPEG. A precheck
    /// refusal is `Failure::ImageRejected` with the quality issue as its
    /// reason; a framing refusal also carries the photo as taken when it
    /// passed the image checks ([`NotTaken::overridable`]), for staff.
    fn capture_still(&self, side: Side) -> impl Future<Output = Result<Still, NotTaken>> + Send;
    /// `POST /process`.
    fn process(&self, submission: Submission) -> impl Future<Output = Result<(), Failure>> + Send;
    /// `POST /status` (once; never polled).
    fn status(&self, scan_ref: String)
        -> impl Future<Output = Result<TokenStatus, Failure>> + Send;
    /// Resolves with the next webhook result for `scan_ref` (automatic, then
    /// manual). An error ends the watch; the wait limit then offers a status check.
    fn next_result(
        &self,
        scan_ref: String,
    ) -> impl Future<Output = Result<Outcome, Failure>> + Send;
    /// Forget everything about the customer the ports hold (frames, stills,
    /// results buffered for the session). Must not fail.
    fn wipe(&self) -> impl Future<Output = ()> + Send;
}

// A handful of requests per customer: size does not matter here.
#[allow(clippy::large_enum_variant)]
enum Request {
    Input(Input, oneshot::Sender<Result<(), Error>>),
    Still(Side, oneshot::Sender<Option<Still>>),
}

/// How the UI and the CLI drive the flow. Cheap to clone.
#[derive(Clone)]
pub struct Handle {
    tx: mpsc::Sender<Request>,
    view: watch::Receiver<View>,
}

impl Handle {
    /// Sends an input and returns once the machine has applied it.
    ///
    /// # Errors
    /// The machine's refusal ([`Error::InvalidState`], [`Error::InvalidInput`]),
    /// or [`Error::Stopped`] when the driver is gone.
    pub async fn send(&self, input: Input) -> Result<(), Error> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Request::Input(input, reply))
            .await
            .map_err(|_| Error::Stopped)?;
        rx.await.map_err(|_| Error::Stopped)?
    }

    /// The current view.
    #[must_use]
    pub fn view(&self) -> View {
        self.view.borrow().clone()
    }

    /// A receiver that is notified on every view change.
    #[must_use]
    pub fn subscribe(&self) -> watch::Receiver<View> {
        self.view.clone()
    }

    /// A copy of the still for `side` (for the review screen), if taken. The
    /// copy zeroizes itself when dropped.
    ///
    /// # Errors
    /// [`Error::Stopped`] when the driver is gone.
    pub async fn still(&self, side: Side) -> Result<Option<Still>, Error> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Request::Still(side, reply))
            .await
            .map_err(|_| Error::Stopped)?;
        rx.await.map_err(|_| Error::Stopped)
    }

    /// Waits until the view satisfies `pred` and returns it.
    ///
    /// # Errors
    /// [`Error::Stopped`] when the driver ends first.
    pub async fn wait_for(&self, pred: impl Fn(&View) -> bool) -> Result<View, Error> {
        let mut rx = self.view.clone();
        let v = rx.wait_for(|v| pred(v)).await.map_err(|_| Error::Stopped)?;
        Ok(v.clone())
    }
}

/// Runs the machine. Create with [`Driver::new`], then `tokio::spawn(driver.run())`.
pub struct Driver<P: Ports> {
    ports: Arc<P>,
    machine: Machine,
    epoch: Instant,
    tick: Duration,
    requests: mpsc::Receiver<Request>,
    view: watch::Sender<View>,
    events_tx: mpsc::UnboundedSender<(u64, Event)>,
    events_rx: mpsc::UnboundedReceiver<(u64, Event)>,
    generation: u64,
    tasks: JoinSet<()>,
    camera: Option<mpsc::UnboundedSender<CameraOp>>,
}

enum CameraOp {
    Start(Role),
    Stop,
    Capture(Side),
}

impl<P: Ports> Driver<P> {
    /// A driver at the start screen. Ticks once a second.
    #[must_use]
    pub fn new(ports: Arc<P>, settings: Settings) -> (Self, Handle) {
        Self::with_tick(ports, settings, Duration::from_secs(1))
    }

    /// Like [`Driver::new`] with another tick interval (the resolution of
    /// countdowns, idle and expiry checks).
    #[must_use]
    pub fn with_tick(ports: Arc<P>, settings: Settings, tick: Duration) -> (Self, Handle) {
        let machine = Machine::new(settings, 0);
        let (tx, requests) = mpsc::channel(16);
        let (view_tx, view_rx) = watch::channel(View::of(&machine, 0));
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let driver = Self {
            ports,
            machine,
            epoch: Instant::now(),
            tick,
            requests,
            view: view_tx,
            events_tx,
            events_rx,
            generation: 0,
            tasks: JoinSet::new(),
            camera: None,
        };
        (driver, Handle { tx, view: view_rx })
    }

    fn now(&self) -> Millis {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Runs until every [`Handle`] is dropped, then wipes.
    pub async fn run(mut self) {
        let mut ticker = tokio::time::interval(self.tick);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                req = self.requests.recv() => match req {
                    None => break,
                    Some(Request::Input(input, reply)) => {
                        let r = self.apply(Event::Input(input)).await;
                        let _ = reply.send(r);
                    }
                    Some(Request::Still(side, reply)) => {
                        let _ = reply.send(self.machine.still(side).cloned());
                    }
                },
                Some((generation, event)) = self.events_rx.recv() => {
                    if generation != self.generation {
                        tracing::debug!(event = event.name(), "dropped an event of a wiped session");
                        continue;
                    }
                    let name = event.name();
                    if let Err(e) = self.apply(event).await {
                        // A late outcome (for example a still after a cancel
                        // raced it): nothing to do but say so.
                        tracing::debug!(event = name, error = %e, "event ignored");
                    }
                }
                _ = ticker.tick() => {
                    let _ = self.apply(Event::Tick).await;
                }
            }
            while let Some(done) = self.tasks.try_join_next() {
                if let Err(e) = done {
                    if e.is_panic() {
                        tracing::error!("an effect task panicked");
                    }
                }
            }
        }
        self.wipe().await;
    }

    async fn apply(&mut self, event: Event) -> Result<(), Error> {
        let now = self.now();
        let effects = self.machine.step(event, now)?;
        for effect in effects {
            self.perform(effect).await;
        }
        let view = View::of(&self.machine, now);
        self.view.send_if_modified(|old| {
            if *old == view {
                false
            } else {
                *old = view;
                true
            }
        });
        Ok(())
    }

    fn spawn<F>(&mut self, fut: F)
    where
        F: Future<Output = Option<Event>> + Send + 'static,
    {
        let tx = self.events_tx.clone();
        let generation = self.generation;
        self.tasks.spawn(async move {
            if let Some(event) = fut.await {
                let _ = tx.send((generation, event));
            }
        });
    }

    async fn perform(&mut self, effect: Effect) {
        tracing::debug!(?effect, "effect");
        let ports = Arc::clone(&self.ports);
        match effect {
            Effect::CreateToken(req) => self.spawn(async move {
                Some(match ports.create_token(req).await {
                    Ok(t) => Event::TokenCreated(t),
                    Err(f) => Event::TokenFailed(f),
                })
            }),
            Effect::WatchResults { scan_ref } => {
                let tx = self.events_tx.clone();
                let generation = self.generation;
                self.tasks.spawn(async move {
                    loop {
                        match ports.next_result(scan_ref.clone()).await {
                            Ok(outcome) => {
                                let final_ = outcome.final_;
                                let ev = Event::ResultReceived {
                                    scan_ref: scan_ref.clone(),
                                    outcome,
                                };
                                if tx.send((generation, ev)).is_err() || final_ {
                                    break;
                                }
                            }
                            Err(f) => {
                                tracing::warn!(code = %f.code(), "result watch ended");
                                break;
                            }
                        }
                    }
                });
            }
            Effect::StartCamera(role) => self.camera_op(CameraOp::Start(role)),
            Effect::StopCamera => self.camera_op(CameraOp::Stop),
            Effect::WatchCamera => {
                self.spawn(async move { ports.watch_camera().await.map(Event::CameraFailed) });
            }
            Effect::CaptureStill(side) => self.camera_op(CameraOp::Capture(side)),
            Effect::Submit(sub) => self.spawn(async move {
                Some(match ports.process(sub).await {
                    Ok(()) => Event::Submitted,
                    Err(f) => Event::SubmitFailed(f),
                })
            }),
            Effect::CheckStatus { scan_ref } => self.spawn(async move {
                Some(match ports.status(scan_ref).await {
                    Ok(s) => Event::StatusChecked(s),
                    Err(f) => Event::StatusFailed(f),
                })
            }),
            Effect::Wipe => self.wipe().await,
            Effect::Audit(a) => a.record(),
        }
    }

    /// Camera operations run one after another on one task, so a stop can
    /// never overtake the start before it.
    fn camera_op(&mut self, op: CameraOp) {
        if self.camera.is_none() {
            let (tx, mut rx) = mpsc::unbounded_channel::<CameraOp>();
            let ports = Arc::clone(&self.ports);
            let events = self.events_tx.clone();
            let generation = self.generation;
            self.tasks.spawn(async move {
                while let Some(op) = rx.recv().await {
                    let ev = match op {
                        CameraOp::Start(role) => Some(match ports.start_camera(role).await {
                            Ok(()) => Event::CameraStarted,
                            Err(f) => Event::CameraFailed(f),
                        }),
                        CameraOp::Stop => {
                            ports.stop_camera().await;
                            None
                        }
                        CameraOp::Capture(side) => Some(match ports.capture_still(side).await {
                            Ok(s) => Event::StillCaptured(s),
                            Err(NotTaken {
                                failure,
                                overridable: Some(still),
                            }) => Event::StillRefused { failure, still },
                            Err(NotTaken { failure, .. }) => Event::CaptureFailed(failure),
                        }),
                    };
                    if let Some(ev) = ev {
                        if events.send((generation, ev)).is_err() {
                            break;
                        }
                    }
                }
            });
            self.camera = Some(tx);
        }
        if let Some(tx) = &self.camera {
            let _ = tx.send(op);
        }
    }

    /// Abandons everything under way, then has the ports forget the customer.
    async fn wipe(&mut self) {
        self.generation += 1;
        self.camera = None;
        // Dropping the set aborts its tasks; their late events are dropped by generation.
        self.tasks = JoinSet::new();
        self.ports.stop_camera().await;
        self.ports.wipe().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::testing::{Scripted, DIGITS, SCAN_REF};
    use crate::session::types::{DocumentType, OverallStatus, TokenType};
    use crate::session::view::Screen;
    use crate::ErrorCode;

    fn start(client: &str) -> Input {
        let mut r = StartRequest::new(client, "lt");
        r.generate_digit_string = true;
        r.token_type = TokenType::Identification;
        Input::Start(r)
    }

    async fn until(h: &Handle, screen: Screen) -> View {
        tokio::time::timeout(Duration::from_secs(10), h.wait_for(|v| v.screen == screen))
            .await
            .unwrap_or_else(|_| panic!("never reached {screen:?}; at {:?}", h.view()))
            .unwrap()
    }

    /// Start a session for `client`, verify here with `doc`, and wait until
    /// the front can be taken.
    async fn to_front(h: &Handle, client: &str, doc: DocumentType) {
        h.send(start(client)).await.unwrap();
        until(h, Screen::Choice).await;
        h.send(Input::VerifyHere(doc)).await.unwrap();
        capture_ready(h, Side::Front).await;
    }

    async fn capture_ready(h: &Handle, side: Side) {
        tokio::time::timeout(
            Duration::from_secs(10),
            h.wait_for(|v| v.side == Some(side) && v.camera_ready && !v.capturing),
        )
        .await
        .unwrap()
        .unwrap();
    }

    fn driver(fake: Arc<Scripted>) -> Handle {
        let (d, h) = Driver::with_tick(fake, Settings::default(), Duration::from_millis(20));
        tokio::spawn(d.run());
        h
    }

    #[tokio::test]
    async fn full_flow_with_an_id_card_ends_approved_and_wipes_on_finish() {
        let fake = Scripted::new();
        let h = driver(fake.clone());

        h.send(start("c-1")).await.unwrap();
        let v = until(&h, Screen::Choice).await;
        assert!(v.can_hand_off);
        assert_eq!(
            v.digit_string, None,
            "the code is shown on the handoff screen only"
        );
        h.send(Input::VerifyHere(DocumentType::IdCard))
            .await
            .unwrap();
        for side in [Side::Front, Side::Back, Side::Face] {
            capture_ready(&h, side).await;
            h.send(Input::Capture).await.unwrap();
        }
        let v = until(&h, Screen::Review).await;
        assert!(v.sides.iter().all(|s| s.taken), "{v:?}");
        let front = h.still(Side::Front).await.unwrap().unwrap();
        assert_eq!(&front.jpeg[..2], &[0xFF, 0xD8]);
        h.send(Input::Confirm).await.unwrap();
        until(&h, Screen::Waiting).await;
        fake.send_result(Outcome::new(OverallStatus::Approved, true));
        let v = until(&h, Screen::Result).await;
        assert_eq!(v.result.unwrap().status, "APPROVED");
        h.send(Input::Finish).await.unwrap();
        until(&h, Screen::Start).await;
        assert_eq!(h.still(Side::Front).await.unwrap(), None);
        assert!(fake.wipes() >= 1);
        let calls = fake.log();
        assert!(
            calls.contains(&"process ID_CARD FRONT,BACK,FACE".to_string()),
            "{calls:?}"
        );
        // The selfie camera was started after the document camera, and the
        // camera was stopped before the review.
        let doc = calls.iter().position(|c| c == "camera Document").unwrap();
        let selfie = calls.iter().position(|c| c == "camera Selfie").unwrap();
        let process = calls.iter().position(|c| c.starts_with("process")).unwrap();
        assert!(doc < selfie && selfie < process);
        assert!(calls[selfie..process].contains(&"camera off".to_string()));
    }

    #[tokio::test(start_paused = true)]
    async fn an_unplugged_camera_shows_the_error_then_resumes_by_itself() {
        let fake = Scripted::new();
        let h = driver(fake.clone());
        to_front(&h, "c-1", DocumentType::IdCard).await;
        h.send(Input::Capture).await.unwrap();
        capture_ready(&h, Side::Back).await;

        fake.unplug(true);
        let v = until(&h, Screen::Error).await;
        assert_eq!(v.error.unwrap().code, ErrorCode::CameraLost);
        // Tried again in the background, and still away.
        tokio::time::sleep(Duration::from_millis(3 * CAMERA_RETRY_MS)).await;
        assert_eq!(h.view().screen, Screen::Error);
        let starts = fake.calls("camera Document").len();
        assert!(starts >= 3, "{:?}", fake.log());

        fake.unplug(false);
        tokio::time::timeout(
            Duration::from_millis(2 * CAMERA_RETRY_MS),
            capture_ready(&h, Side::Back),
        )
        .await
        .expect("resumes on BACK once the camera is back");
        assert!(h
            .view()
            .sides
            .iter()
            .any(|s| s.side == Side::Front && s.taken));
        assert!(h.still(Side::Front).await.unwrap().is_some(), "FRONT kept");
        // An idle kiosk is still reset while it waits for a camera.
        fake.unplug(true);
        until(&h, Screen::Error).await;
        let idle = Settings::default().idle_timeout_ms;
        tokio::time::timeout(
            Duration::from_millis(idle + 5_000),
            h.wait_for(|v| v.screen == Screen::Start),
        )
        .await
        .expect("idle reset while the camera is away")
        .unwrap();
        assert_eq!(h.still(Side::Front).await.unwrap(), None);
    }

    #[tokio::test]
    async fn network_failure_at_submit_asks_status_then_retries_with_the_same_stills() {
        let fake = Scripted::new();
        fake.answer_process(Err(Failure::Network {
            message: "connection reset".into(),
        }));
        fake.answer_status(Ok(TokenStatus::Unused));
        let h = driver(fake.clone());
        h.send(start("c-2")).await.unwrap();
        until(&h, Screen::Choice).await;
        h.send(Input::VerifyHere(DocumentType::Passport))
            .await
            .unwrap();
        for side in [Side::Front, Side::Face] {
            capture_ready(&h, side).await;
            h.send(Input::Capture).await.unwrap();
        }
        until(&h, Screen::Review).await;
        h.send(Input::Confirm).await.unwrap();
        let v = until(&h, Screen::SubmitFailed).await;
        assert_eq!(v.error.unwrap().code, ErrorCode::Network);
        assert!(h.still(Side::Front).await.unwrap().is_some(), "stills kept");
        h.send(Input::Retry).await.unwrap();
        until(&h, Screen::Waiting).await;
        let calls = fake.log();
        let seq: Vec<_> = calls
            .iter()
            .filter(|c| c.starts_with("process") || c.starts_with("status"))
            .cloned()
            .collect();
        assert_eq!(
            seq,
            [
                "process PASSPORT FRONT,FACE".to_owned(),
                format!("status {SCAN_REF}"),
                "process PASSPORT FRONT,FACE".to_owned(),
            ]
        );
    }

    #[tokio::test]
    async fn a_photo_staff_accept_after_a_framing_refusal_is_the_one_sent() {
        let fake = Scripted::new();
        fake.refuse_capture(Side::Front, crate::quality::Issue::DocumentTooFar);
        let h = driver(fake.clone());
        to_front(&h, "c-7", DocumentType::Passport).await;
        h.send(Input::Capture).await.unwrap();
        let v = tokio::time::timeout(
            Duration::from_secs(10),
            h.wait_for(|v| v.allowed.contains(&crate::session::InputKind::Override)),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(v.side, Some(Side::Front));
        assert_eq!(h.still(Side::Front).await.unwrap(), None);
        h.send(Input::Override).await.unwrap();
        assert_eq!(
            h.still(Side::Front).await.unwrap(),
            Some(Scripted::still_of(Side::Front))
        );
        capture_ready(&h, Side::Face).await;
        h.send(Input::Capture).await.unwrap();
        until(&h, Screen::Review).await;
        h.send(Input::Confirm).await.unwrap();
        until(&h, Screen::Waiting).await;
        assert_eq!(fake.calls("capture FRONT").len(), 1, "not taken twice");
        assert_eq!(fake.calls("process"), ["process PASSPORT FRONT,FACE"]);
    }

    #[tokio::test]
    async fn cancel_wipes_the_ports_and_drops_late_events() {
        let fake = Scripted::new();
        let h = driver(fake.clone());
        to_front(&h, "c-3", DocumentType::Passport).await;
        h.send(Input::Capture).await.unwrap();
        h.send(Input::Cancel).await.unwrap();
        let v = until(&h, Screen::Start).await;
        assert_eq!(v.scan_ref, None);
        // Give a late still (if any) time to arrive: it must not revive anything.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(h.view().screen, Screen::Start);
        assert_eq!(h.still(Side::Front).await.unwrap(), None);
        assert_eq!(fake.wipes(), 1);
        assert_eq!(fake.log().last().map(String::as_str), Some("camera off"));
    }

    #[tokio::test]
    async fn idle_timeout_wipes_and_returns_to_start() {
        let fake = Scripted::new();
        let settings = Settings {
            idle_timeout_ms: 300,
            idle_warning_ms: 200,
            ..Settings::default()
        };
        let (d, h) = Driver::with_tick(fake.clone(), settings, Duration::from_millis(20));
        tokio::spawn(d.run());
        h.send(start("c-4")).await.unwrap();
        until(&h, Screen::Choice).await;
        let warned = tokio::time::timeout(
            Duration::from_secs(10),
            h.wait_for(|v| v.idle_seconds_left.is_some()),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(warned.screen, Screen::Choice);
        until(&h, Screen::Start).await;
        assert_eq!(fake.wipes(), 1);
    }

    #[tokio::test]
    async fn mobile_handoff_shows_the_code_then_the_result() {
        let fake = Scripted::new();
        let h = driver(fake.clone());
        h.send(start("c-5")).await.unwrap();
        until(&h, Screen::Choice).await;
        h.send(Input::ContinueOnPhone).await.unwrap();
        let v = until(&h, Screen::Handoff).await;
        assert_eq!(v.digit_string.as_deref(), Some(DIGITS));
        let mut auto = Outcome::new(OverallStatus::Suspected, false);
        auto.fraud_tags.push("DOC_MOBILE_PHOTO".into());
        fake.send_result(auto);
        let v = until(&h, Screen::UnderReview).await;
        assert_eq!(v.digit_string, None);
        fake.send_result(Outcome::new(OverallStatus::Denied, true));
        let v = until(&h, Screen::Result).await;
        assert_eq!(v.result.unwrap().status, "DENIED");
        assert!(fake.calls("process").is_empty());
    }

    #[tokio::test]
    async fn invalid_inputs_are_refused_through_the_handle() {
        let h = driver(Scripted::new());
        let err = h.send(Input::Confirm).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidState);
        let err = h
            .send(Input::Start(StartRequest::new("", "LT")))
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidInput);
        assert_eq!(h.view().screen, Screen::Start);
    }

    #[tokio::test]
    async fn dropping_every_handle_stops_the_driver_and_wipes() {
        let fake = Scripted::new();
        let (d, h) = Driver::new(fake.clone(), Settings::default());
        let task = tokio::spawn(d.run());
        h.send(start("c-6")).await.unwrap();
        drop(h);
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(fake.wipes(), 1);
    }
}
