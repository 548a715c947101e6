//! The verification flow as a pure transition function: `(state, event, now)
//! -> (state, effects)`. No I/O, no async, no clock: the driver passes the
//! time in and performs the effects. Every rejected event leaves the state
//! exactly as it was and says why ([`Error::InvalidState`]).
//!
//! ```text
//! Start ─Start─▶ CreatingToken ─TokenCreated─▶ Choice ─VerifyHere─▶ Capturing(FRONT)
//!                                                │                    │ BACK if the document has one
//!                                        ContinueOnPhone              │ FACE if IDENTIFICATION
//!                                                ▼                    ▼
//!                                             Handoff ──result──▶ Review ─Confirm─▶ Submitting
//!                                                                                     │
//!        Result ◀─final─ Waiting (under review after a non-final result) ◀─Submitted──┘
//! ```
//!
//! Cancel, idle timeout and token expiry lead back to `Start` (through
//! `Failed` for expiry) with [`Effect::Wipe`] from every state.
//!
//! A camera that fails during capture leads to `Failed` with the stills kept;
//! behind that error screen the camera is tried again every
//! [`CAMERA_RETRY_MS`] and the capture resumes by itself when it is back.

use super::types::{
    CameraRole, DocumentType, Failure, Millis, Outcome, Side, StartRequest, Still, Submission,
    TokenInfo, TokenStatus, TokenType,
};
use super::Error;

/// How often a lost or missing camera is tried again while its error shows.
pub const CAMERA_RETRY_MS: u64 = 3_000;

/// Time limits the machine enforces (the driver sends [`Event::Tick`]s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// No input for this long wipes the session and returns to the start.
    pub idle_timeout_ms: u64,
    /// How long before the idle reset the screen warns (with a countdown).
    pub idle_warning_ms: u64,
    /// How long to wait for the automatic result before offering a status check.
    pub result_wait_ms: u64,
    /// How long to wait for the manual review before offering a status check.
    pub review_wait_ms: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            idle_timeout_ms: crate::config::DEFAULT_IDLE_TIMEOUT_SECS * 1000,
            idle_warning_ms: 20_000,
            result_wait_ms: 120_000,
            review_wait_ms: 600_000,
        }
    }
}

impl Settings {
    /// The kiosk's configured idle timeout; the warning shows for the last
    /// 20 seconds (or the last quarter of a shorter timeout).
    #[must_use]
    pub fn from_kiosk(kiosk: &crate::config::KioskConfig) -> Self {
        let idle = u64::try_from(kiosk.idle_timeout.as_millis()).unwrap_or(u64::MAX);
        Self {
            idle_timeout_ms: idle,
            idle_warning_ms: (idle / 4).min(20_000),
            ..Self::default()
        }
    }
}

/// The stills taken so far (at most one per side).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stills {
    front: Option<Still>,
    back: Option<Still>,
    face: Option<Still>,
}

impl Stills {
    /// The still for `side`, if taken.
    #[must_use]
    pub fn get(&self, side: Side) -> Option<&Still> {
        match side {
            Side::Front => self.front.as_ref(),
            Side::Back => self.back.as_ref(),
            Side::Face => self.face.as_ref(),
        }
    }

    fn set(&mut self, still: Still) {
        let slot = match still.side {
            Side::Front => &mut self.front,
            Side::Back => &mut self.back,
            Side::Face => &mut self.face,
        };
        // The old image is zeroized when it is dropped here.
        *slot = Some(still);
    }

    /// Drops (and so zeroizes) every still.
    pub fn clear(&mut self) {
        self.front = None;
        self.back = None;
        self.face = None;
    }

    /// Whether no still is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.front.is_none() && self.back.is_none() && self.face.is_none()
    }
}

/// One customer's verification once the token exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub request: StartRequest,
    pub token: TokenInfo,
    /// When the token was received.
    pub token_at: Millis,
    /// When the customer started capturing on the kiosk.
    pub started_at: Option<Millis>,
    pub document: Option<DocumentType>,
    pub stills: Stills,
    /// `/process` was called, or the code expired: the digit string is dead.
    pub digits_dead: bool,
    /// The camera the machine asked for, and whether it reported ready.
    pub camera: Option<CameraRole>,
    pub camera_ready: bool,
    /// While a camera error shows: when to try the camera again (it resumes
    /// by itself once the camera is back).
    pub camera_retry_at: Option<Millis>,
}

impl Session {
    fn new(request: StartRequest, token: TokenInfo, now: Millis) -> Self {
        Self {
            request,
            token,
            token_at: now,
            started_at: None,
            document: None,
            stills: Stills::default(),
            digits_dead: false,
            camera: None,
            camera_ready: false,
            camera_retry_at: None,
        }
    }

    /// When the token stops being usable. `expiryTime` counts from token
    /// creation until the session starts; once it has started,
    /// `sessionLength` applies. The token itself never outlives its expiry
    /// (`/process` needs a live token), so the earlier of the two wins.
    #[must_use]
    pub fn deadline(&self) -> Millis {
        let expiry = self
            .token_at
            .saturating_add(u64::from(self.token.expiry_secs) * 1000);
        match self.started_at {
            None => expiry,
            Some(s) => {
                expiry.min(s.saturating_add(u64::from(self.token.session_length_secs) * 1000))
            }
        }
    }

    /// Whether the countdown is `sessionLength` (started) or `expiryTime`.
    #[must_use]
    pub fn started(&self) -> bool {
        self.started_at.is_some()
    }

    /// Whole seconds left before [`Self::deadline`], rounded up.
    #[must_use]
    pub fn seconds_left(&self, now: Millis) -> u64 {
        self.deadline().saturating_sub(now).div_ceil(1000)
    }

    /// The images `/process` will need, in order.
    #[must_use]
    pub fn required_sides(&self) -> Vec<Side> {
        let mut v = vec![Side::Front];
        if self.document.is_some_and(DocumentType::has_back) {
            v.push(Side::Back);
        }
        if self.token.token_type == TokenType::Identification {
            v.push(Side::Face);
        }
        v
    }

    fn next_side(&self, after: Side) -> Option<Side> {
        let sides = self.required_sides();
        let i = sides.iter().position(|s| *s == after)?;
        sides.get(i + 1).copied()
    }

    /// Whether the customer may still switch to the phone.
    #[must_use]
    pub fn can_hand_off(&self) -> bool {
        self.token.digit_string.is_some() && !self.digits_dead
    }

    fn submission(&self) -> Option<Submission> {
        let document_type = self.document?;
        let images = self
            .required_sides()
            .into_iter()
            .map(|s| self.stills.get(s).cloned())
            .collect::<Option<Vec<_>>>()?;
        Some(Submission {
            scan_ref: self.token.scan_ref.clone(),
            auth_token: zeroize::Zeroizing::new(self.token.auth_token.clone()),
            country: self.request.country.clone(),
            document_type,
            images,
        })
    }
}

/// Where a `Waiting` state stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitPhase {
    /// Waiting for the webhook.
    Listening,
    /// No webhook in time: a one-off status check is offered.
    Overdue,
    /// The status check is under way.
    Checking,
}

/// What `Retry` does from a [`State::Failed`] that kept the customer's work.
#[derive(Debug, Clone, PartialEq, Eq)]
// One per customer, moved once: boxing the start request buys nothing.
#[allow(clippy::large_enum_variant)]
pub enum Resume {
    /// Ask for the token again.
    CreateToken(StartRequest),
    /// Restart the camera and take `side` again.
    Camera {
        session: Box<Session>,
        side: Side,
        retake: bool,
    },
}

/// Every state of the flow. Only `Start` and a terminal `Failed` hold nothing
/// about the customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Start,
    CreatingToken {
        request: StartRequest,
    },
    Choice {
        session: Box<Session>,
    },
    /// The QR of the digit string is shown; the kiosk waits for that scanRef.
    Handoff {
        session: Box<Session>,
    },
    Capturing {
        session: Box<Session>,
        side: Side,
        /// Taken again from the review: go back to the review afterwards.
        retake: bool,
        /// A still is being captured.
        busy: bool,
        /// Why the previous attempt was refused.
        hint: Option<Failure>,
    },
    Review {
        session: Box<Session>,
    },
    Submitting {
        session: Box<Session>,
    },
    /// The submit failed on the network; `/status` tells whether the token was spent.
    CheckingStatus {
        session: Box<Session>,
        failure: Failure,
    },
    /// The submit failed and the stills are kept. `unspent`: `/status` said
    /// the token is unused, so `Retry` submits again; otherwise it asks first.
    SubmitFailed {
        session: Box<Session>,
        failure: Failure,
        unspent: bool,
    },
    /// Waiting for the webhook; with `auto` set, an automatic non-final result
    /// came and the manual review is pending ("under review").
    Waiting {
        session: Box<Session>,
        auto: Option<Outcome>,
        deadline: Millis,
        phase: WaitPhase,
        last_error: Option<Failure>,
    },
    Result {
        scan_ref: String,
        outcome: Outcome,
    },
    Failed {
        failure: Failure,
        resume: Option<Resume>,
    },
}

impl State {
    /// A short name for logs and errors.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::CreatingToken { .. } => "creatingToken",
            Self::Choice { .. } => "choice",
            Self::Handoff { .. } => "handoff",
            Self::Capturing { .. } => "capturing",
            Self::Review { .. } => "review",
            Self::Submitting { .. } => "submitting",
            Self::CheckingStatus { .. } => "checkingStatus",
            Self::SubmitFailed { .. } => "submitFailed",
            Self::Waiting { .. } => "waiting",
            Self::Result { .. } => "result",
            Self::Failed { .. } => "failed",
        }
    }

    /// The session, in the states that have one.
    #[must_use]
    pub fn session(&self) -> Option<&Session> {
        match self {
            Self::Choice { session }
            | Self::Handoff { session }
            | Self::Capturing { session, .. }
            | Self::Review { session }
            | Self::Submitting { session }
            | Self::CheckingStatus { session, .. }
            | Self::SubmitFailed { session, .. }
            | Self::Waiting { session, .. } => Some(session),
            Self::Failed {
                resume: Some(Resume::Camera { session, .. }),
                ..
            } => Some(session),
            _ => None,
        }
    }

    /// Whether anything about the customer is held.
    #[must_use]
    pub fn holds_customer_data(&self) -> bool {
        !matches!(self, Self::Start | Self::Failed { resume: None, .. })
    }
}

/// What staff or the customer can do. The UI and the CLI send only these.
#[derive(Debug, Clone, PartialEq, Eq)]
// Inputs are a few per minute; boxing the start request buys nothing.
#[allow(clippy::large_enum_variant)]
pub enum Input {
    /// Staff submitted the start form.
    Start(StartRequest),
    /// Verify on the kiosk with this document.
    VerifyHere(DocumentType),
    /// Show the QR and let the customer continue on a phone.
    ContinueOnPhone,
    /// Take the still now (manual button or auto-capture).
    Capture,
    /// From the review: take this side again.
    Retake(Side),
    /// From the review: send the images.
    Confirm,
    /// After a failure that kept the customer's work.
    Retry,
    /// The one-off status check offered when no webhook came in time.
    CheckStatus,
    Cancel,
    /// Leave the result (or the under-review screen) for the next customer.
    Finish,
    /// Any touch or key: resets the idle timer.
    Touch,
}

/// [`Input`] without its payload, as the view lists what is allowed now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum InputKind {
    Start,
    VerifyHere,
    ContinueOnPhone,
    Capture,
    Retake,
    Confirm,
    Retry,
    CheckStatus,
    Cancel,
    Finish,
    Touch,
}

impl Input {
    /// The kind of this input.
    #[must_use]
    pub fn kind(&self) -> InputKind {
        match self {
            Self::Start(_) => InputKind::Start,
            Self::VerifyHere(_) => InputKind::VerifyHere,
            Self::ContinueOnPhone => InputKind::ContinueOnPhone,
            Self::Capture => InputKind::Capture,
            Self::Retake(_) => InputKind::Retake,
            Self::Confirm => InputKind::Confirm,
            Self::Retry => InputKind::Retry,
            Self::CheckStatus => InputKind::CheckStatus,
            Self::Cancel => InputKind::Cancel,
            Self::Finish => InputKind::Finish,
            Self::Touch => InputKind::Touch,
        }
    }
}

/// Everything that can happen: inputs, the clock, and the results of effects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Input(Input),
    /// Time passed (the driver ticks about once a second).
    Tick,
    TokenCreated(TokenInfo),
    TokenFailed(Failure),
    CameraStarted,
    CameraFailed(Failure),
    StillCaptured(Still),
    CaptureFailed(Failure),
    Submitted,
    SubmitFailed(Failure),
    StatusChecked(TokenStatus),
    StatusFailed(Failure),
    /// A webhook (automatic or manual) for `scan_ref`.
    ResultReceived {
        scan_ref: String,
        outcome: Outcome,
    },
}

impl Event {
    /// A short name for logs and errors.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Input(i) => match i.kind() {
                InputKind::Start => "start",
                InputKind::VerifyHere => "verifyHere",
                InputKind::ContinueOnPhone => "continueOnPhone",
                InputKind::Capture => "capture",
                InputKind::Retake => "retake",
                InputKind::Confirm => "confirm",
                InputKind::Retry => "retry",
                InputKind::CheckStatus => "checkStatus",
                InputKind::Cancel => "cancel",
                InputKind::Finish => "finish",
                InputKind::Touch => "touch",
            },
            Self::Tick => "tick",
            Self::TokenCreated(_) => "tokenCreated",
            Self::TokenFailed(_) => "tokenFailed",
            Self::CameraStarted => "cameraStarted",
            Self::CameraFailed(_) => "cameraFailed",
            Self::StillCaptured(_) => "stillCaptured",
            Self::CaptureFailed(_) => "captureFailed",
            Self::Submitted => "submitted",
            Self::SubmitFailed(_) => "submitFailed",
            Self::StatusChecked(_) => "statusChecked",
            Self::StatusFailed(_) => "statusFailed",
            Self::ResultReceived { .. } => "resultReceived",
        }
    }
}

/// What the driver must do. Each effect's outcome comes back as an [`Event`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// `POST /token` -> `TokenCreated` / `TokenFailed`.
    CreateToken(StartRequest),
    /// Listen for webhooks of this scanRef -> `ResultReceived` (until `Wipe`).
    WatchResults {
        scan_ref: String,
    },
    /// Open (or switch to) a camera -> `CameraStarted` / `CameraFailed`.
    StartCamera(CameraRole),
    StopCamera,
    /// Watch the open camera -> `CameraFailed` if it goes away (unplugged);
    /// nothing when it is closed.
    WatchCamera,
    /// Capture, precheck and encode a still -> `StillCaptured` / `CaptureFailed`.
    CaptureStill(Side),
    /// `POST /process` -> `Submitted` / `SubmitFailed`.
    Submit(Submission),
    /// `POST /status` once -> `StatusChecked` / `StatusFailed`.
    CheckStatus {
        scan_ref: String,
    },
    /// Forget the customer: stop the camera and the result watch, abandon
    /// effects under way, clear every buffer the ports hold.
    Wipe,
}

/// An event the machine refused, with the state handed back untouched.
#[derive(Debug)]
pub struct Rejected {
    pub state: State,
    pub error: Error,
}

/// The rest of what a transition needs besides the state.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    pub settings: Settings,
    /// When the last accepted non-tick event happened (for the idle timeout).
    pub last_activity: Millis,
}

/// A transition, or the refusal (boxed: it carries the whole state back).
pub type Step = Result<(State, Vec<Effect>), Box<Rejected>>;

fn reject(state: State, event: &Event) -> Step {
    let error = Error::InvalidState {
        state: state.name().to_owned(),
        event: event.name().to_owned(),
    };
    Err(Box::new(Rejected { state, error }))
}

fn reject_with(state: State, error: Error) -> Step {
    Err(Box::new(Rejected { state, error }))
}

fn wipe_to_start() -> Step {
    Ok((State::Start, vec![Effect::Wipe]))
}

/// A failure that ends the session: the customer's data goes.
fn fail_terminal(failure: Failure) -> Step {
    Ok((
        State::Failed {
            failure,
            resume: None,
        },
        vec![Effect::Wipe],
    ))
}

/// Validates the start form the way the API documents it, and normalises
/// the country to upper case.
///
/// # Errors
/// [`Error::InvalidInput`] naming the field (as the API spells it).
pub fn validate_request(mut r: StartRequest) -> Result<StartRequest, Error> {
    let bad = |field: &'static str, reason: &str| Error::InvalidInput {
        field,
        reason: reason.to_owned(),
    };
    let id = r.client_id.trim();
    if id.is_empty() {
        return Err(bad("clientId", "is required"));
    }
    if id.len() > 100 || !id.is_ascii() {
        return Err(bad("clientId", "must be at most 100 ASCII characters"));
    }
    r.client_id = id.to_owned();
    match crate::idenfy::country::normalize(&r.country) {
        Some(c) => r.country = c,
        None => return Err(bad("country", "must be an ISO 3166-1 alpha-2 code")),
    }
    if r.expiry_secs.is_some_and(|s| s == 0 || s > 2_592_000) {
        return Err(bad("expiryTime", "must be 1..=2592000 seconds"));
    }
    if r.session_length_secs.is_some_and(|s| s <= 60 || s >= 3600) {
        return Err(bad(
            "sessionLength",
            "must be more than 60 and less than 3600 seconds",
        ));
    }
    for (field, name) in [("firstName", &r.first_name), ("lastName", &r.last_name)] {
        if let Some(n) = name {
            let n = n.trim();
            if n.is_empty() || n.chars().count() > 100 {
                return Err(bad(field, "must be 1..=100 characters"));
            }
            if n.chars()
                .any(|c| c.is_ascii_digit() || "~!@#$%^*()_+={}[]|:;\",<>/?".contains(c))
            {
                return Err(bad(field, "must not contain digits or symbols"));
            }
        }
    }
    Ok(r)
}

/// Enters the capture of `side`, starting the right camera when needed.
fn capture(mut session: Box<Session>, side: Side, retake: bool, hint: Option<Failure>) -> Step {
    let mut fx = Vec::new();
    let role = side.camera();
    session.camera_retry_at = None;
    if session.camera != Some(role) {
        session.camera = Some(role);
        session.camera_ready = false;
        fx.push(Effect::StartCamera(role));
    }
    Ok((
        State::Capturing {
            session,
            side,
            retake,
            busy: false,
            hint,
        },
        fx,
    ))
}

fn stop_camera(session: &mut Session, fx: &mut Vec<Effect>) {
    if session.camera.take().is_some() {
        fx.push(Effect::StopCamera);
    }
    session.camera_ready = false;
}

/// The camera is gone (or would not open): show `failure`, keep the stills,
/// and try the camera again after [`CAMERA_RETRY_MS`].
fn camera_away(
    mut session: Box<Session>,
    side: Side,
    retake: bool,
    failure: Failure,
    now: Millis,
) -> Step {
    let mut fx = Vec::new();
    stop_camera(&mut session, &mut fx);
    session.camera_retry_at = Some(now.saturating_add(CAMERA_RETRY_MS));
    Ok((
        State::Failed {
            failure,
            resume: Some(Resume::Camera {
                session,
                side,
                retake,
            }),
        },
        fx,
    ))
}

fn review(mut session: Box<Session>) -> Step {
    let mut fx = Vec::new();
    stop_camera(&mut session, &mut fx);
    Ok((State::Review { session }, fx))
}

fn hand_off(mut session: Box<Session>) -> Step {
    let mut fx = Vec::new();
    stop_camera(&mut session, &mut fx);
    // The phone takes its own pictures: the kiosk's are of no use any more.
    session.stills.clear();
    Ok((State::Handoff { session }, fx))
}

fn wait(mut session: Box<Session>, auto: Option<Outcome>, deadline: Millis) -> Step {
    let mut fx = Vec::new();
    stop_camera(&mut session, &mut fx);
    // The images are at iDenfy (or the phone took its own): drop ours now.
    session.stills.clear();
    session.digits_dead = true;
    Ok((
        State::Waiting {
            session,
            auto,
            deadline,
            phase: WaitPhase::Listening,
            last_error: None,
        },
        fx,
    ))
}

fn outcome(ctx: &Context, mut session: Box<Session>, outcome: Outcome, now: Millis) -> Step {
    if outcome.final_ {
        let mut fx = Vec::new();
        stop_camera(&mut session, &mut fx);
        let scan_ref = session.token.scan_ref.clone();
        // The session (names, stills, token) is dropped, so zeroized, here.
        drop(session);
        Ok((State::Result { scan_ref, outcome }, fx))
    } else {
        wait(
            session,
            Some(outcome),
            now.saturating_add(ctx.settings.review_wait_ms),
        )
    }
}

/// A status that settles the session; `Unused` and `Pending` go to `open`.
fn status_known(
    ctx: &Context,
    session: Box<Session>,
    st: TokenStatus,
    now: Millis,
    open: impl FnOnce(Box<Session>, TokenStatus) -> Step,
) -> Step {
    match st {
        TokenStatus::Done(o) => outcome(ctx, session, o, now),
        TokenStatus::Expired => fail_terminal(Failure::TokenExpired),
        TokenStatus::Other(s) => fail_terminal(Failure::Rejected {
            message: format!("the verification is {s}"),
        }),
        // Never used and past its lifetime: no result can come any more.
        TokenStatus::Unused if now >= session.deadline() => fail_terminal(Failure::TokenExpired),
        st @ (TokenStatus::Unused | TokenStatus::Pending) => open(session, st),
    }
}

/// The transition function.
///
/// # Errors
/// [`Rejected`] (with the state unchanged) when the event does not apply in
/// this state, or its payload is invalid (a side the document does not have,
/// a result for another scanRef, a start form that fails validation).
pub fn step(ctx: &Context, state: State, event: Event, now: Millis) -> Step {
    use Event as E;
    use Input as I;
    use State as S;

    // The clock first: idle reset from anywhere, then expiry and wait limits.
    if let E::Tick = event {
        return tick(ctx, state, now);
    }
    match event {
        E::Input(I::Touch) => return Ok((state, Vec::new())),
        E::Input(I::Cancel) if !matches!(state, S::Start) => return wipe_to_start(),
        E::ResultReceived { .. }
            if state.session().is_some() && !matches!(state, S::Failed { .. }) =>
        {
            let E::ResultReceived {
                scan_ref,
                outcome: o,
            } = event
            else {
                unreachable!()
            };
            let expected = state
                .session()
                .map(|s| s.token.scan_ref.clone())
                .unwrap_or_default();
            if scan_ref != expected {
                return reject_with(
                    state,
                    Error::ForeignResult {
                        expected,
                        got: scan_ref,
                    },
                );
            }
            return match state {
                S::Choice { session }
                | S::Handoff { session }
                | S::Capturing { session, .. }
                | S::Review { session }
                | S::Submitting { session }
                | S::CheckingStatus { session, .. }
                | S::SubmitFailed { session, .. }
                | S::Waiting { session, .. } => outcome(ctx, session, o, now),
                _ => unreachable!("states with a session"),
            };
        }
        _ => {}
    }

    match (state, event) {
        (S::Start, E::Input(I::Start(req))) => match validate_request(req) {
            Ok(req) => {
                let fx = vec![Effect::CreateToken(req.clone())];
                Ok((S::CreatingToken { request: req }, fx))
            }
            Err(error) => reject_with(S::Start, error),
        },

        (S::CreatingToken { request }, E::TokenCreated(mut token)) => {
            // A malformed code could only produce a QR nobody can use.
            if token
                .digit_string
                .as_deref()
                .is_some_and(|d| super::qr::validate(d).is_err())
            {
                token.digit_string = None;
            }
            let fx = vec![Effect::WatchResults {
                scan_ref: token.scan_ref.clone(),
            }];
            let session = Box::new(Session::new(request, token, now));
            Ok((S::Choice { session }, fx))
        }
        (S::CreatingToken { request }, E::TokenFailed(f)) => {
            if f.is_transient() {
                Ok((
                    S::Failed {
                        failure: f,
                        resume: Some(Resume::CreateToken(request)),
                    },
                    Vec::new(),
                ))
            } else {
                fail_terminal(f)
            }
        }

        (state @ (S::Choice { .. } | S::Handoff { .. }), E::Input(I::VerifyHere(doc)))
            if !state
                .session()
                .is_some_and(|s| s.request.allowed_documents().contains(&doc)) =>
        {
            reject_with(
                state,
                Error::InvalidInput {
                    field: "documentType",
                    reason: format!("{} is not accepted for this customer", doc.as_str()),
                },
            )
        }
        (S::Choice { mut session } | S::Handoff { mut session }, E::Input(I::VerifyHere(doc))) => {
            session.document = Some(doc);
            session.started_at.get_or_insert(now);
            capture(session, Side::Front, false, None)
        }
        (S::Choice { session }, E::Input(I::ContinueOnPhone)) if session.can_hand_off() => {
            hand_off(session)
        }

        (
            S::Capturing {
                mut session,
                side,
                retake,
                busy,
                hint,
            },
            E::CameraStarted,
        ) => {
            session.camera_ready = true;
            Ok((
                S::Capturing {
                    session,
                    side,
                    retake,
                    busy,
                    hint,
                },
                vec![Effect::WatchCamera],
            ))
        }
        (
            S::Capturing {
                session,
                side,
                retake,
                ..
            },
            E::CameraFailed(f),
        ) => camera_away(session, side, retake, f, now),
        // The error screen's background retry found the camera: carry on
        // where the customer was.
        (
            S::Failed {
                resume:
                    Some(Resume::Camera {
                        mut session,
                        side,
                        retake,
                    }),
                ..
            },
            E::CameraStarted,
        ) if session.camera == Some(side.camera()) => {
            session.camera_ready = true;
            let (state, mut fx) = capture(session, side, retake, None)?;
            fx.push(Effect::WatchCamera);
            Ok((state, fx))
        }
        // Still away: keep saying what happened first (a lost camera that
        // cannot be reopened is still "disconnected") and try again later.
        (
            S::Failed {
                failure,
                resume:
                    Some(Resume::Camera {
                        session,
                        side,
                        retake,
                    }),
            },
            E::CameraFailed(_),
        ) => camera_away(session, side, retake, failure, now),
        (
            S::Capturing {
                session,
                side,
                retake,
                busy: false,
                hint,
            },
            E::Input(I::Capture),
        ) if session.camera_ready => Ok((
            S::Capturing {
                session,
                side,
                retake,
                busy: true,
                hint,
            },
            vec![Effect::CaptureStill(side)],
        )),
        (
            S::Capturing {
                mut session,
                side,
                retake,
                busy: true,
                ..
            },
            E::StillCaptured(still),
        ) if still.side == side => {
            session.stills.set(still);
            match (retake, session.next_side(side)) {
                (false, Some(next)) => capture(session, next, false, None),
                _ => review(session),
            }
        }
        (
            S::Capturing {
                mut session,
                side,
                retake,
                busy: true,
                ..
            },
            E::CaptureFailed(f),
        ) => {
            if matches!(f, Failure::ImageRejected { .. }) {
                Ok((
                    S::Capturing {
                        session,
                        side,
                        retake,
                        busy: false,
                        hint: Some(f),
                    },
                    Vec::new(),
                ))
            } else {
                let mut fx = Vec::new();
                stop_camera(&mut session, &mut fx);
                Ok((
                    S::Failed {
                        failure: f,
                        resume: Some(Resume::Camera {
                            session,
                            side,
                            retake,
                        }),
                    },
                    fx,
                ))
            }
        }
        (S::Capturing { session, .. }, E::Input(I::ContinueOnPhone)) if session.can_hand_off() => {
            hand_off(session)
        }

        (S::Review { session }, E::Input(I::Retake(side)))
            if session.required_sides().contains(&side) =>
        {
            capture(session, side, true, None)
        }
        (S::Review { mut session }, E::Input(I::Confirm)) => match session.submission() {
            Some(sub) => {
                // The digit string dies with the /process call, whatever its outcome.
                session.digits_dead = true;
                Ok((S::Submitting { session }, vec![Effect::Submit(sub)]))
            }
            None => reject_with(
                S::Review { session },
                Error::InvalidInput {
                    field: "images",
                    reason: "a required image is missing".into(),
                },
            ),
        },
        (S::Review { session }, E::Input(I::ContinueOnPhone)) if session.can_hand_off() => {
            hand_off(session)
        }

        (S::Submitting { session }, E::Submitted) => wait(
            session,
            None,
            now.saturating_add(ctx.settings.result_wait_ms),
        ),
        (S::Submitting { session }, E::SubmitFailed(f)) => submit_failed(session, f),

        (S::CheckingStatus { session, failure }, E::StatusChecked(st)) => {
            status_known(ctx, session, st, now, |session, st| match st {
                TokenStatus::Unused => Ok((
                    S::SubmitFailed {
                        session,
                        failure,
                        unspent: true,
                    },
                    Vec::new(),
                )),
                _ => wait(
                    session,
                    None,
                    now.saturating_add(ctx.settings.result_wait_ms),
                ),
            })
        }
        (S::CheckingStatus { session, failure }, E::StatusFailed(_)) => Ok((
            S::SubmitFailed {
                session,
                failure,
                unspent: false,
            },
            Vec::new(),
        )),

        (
            S::SubmitFailed {
                session,
                unspent: true,
                ..
            },
            E::Input(I::Retry),
        ) => match session.submission() {
            Some(sub) => Ok((S::Submitting { session }, vec![Effect::Submit(sub)])),
            None => fail_terminal(Failure::Internal {
                message: "images missing after a failed submit".into(),
            }),
        },
        (
            S::SubmitFailed {
                session,
                failure,
                unspent: false,
            },
            E::Input(I::Retry),
        ) => {
            // The API deactivates a token after one /process call, so a
            // submit is never repeated blindly: ask /status first.
            let fx = vec![Effect::CheckStatus {
                scan_ref: session.token.scan_ref.clone(),
            }];
            Ok((S::CheckingStatus { session, failure }, fx))
        }

        (
            S::Waiting {
                session,
                auto,
                deadline,
                phase: WaitPhase::Overdue,
                ..
            },
            E::Input(I::CheckStatus),
        ) => {
            let fx = vec![Effect::CheckStatus {
                scan_ref: session.token.scan_ref.clone(),
            }];
            Ok((
                S::Waiting {
                    session,
                    auto,
                    deadline,
                    phase: WaitPhase::Checking,
                    last_error: None,
                },
                fx,
            ))
        }
        (
            S::Waiting {
                session,
                auto,
                phase: WaitPhase::Checking,
                ..
            },
            E::StatusChecked(st),
        ) => status_known(ctx, session, st, now, |session, _| {
            let wait_ms = if auto.is_some() {
                ctx.settings.review_wait_ms
            } else {
                ctx.settings.result_wait_ms
            };
            wait(session, auto, now.saturating_add(wait_ms))
        }),
        (
            S::Waiting {
                session,
                auto,
                deadline,
                phase: WaitPhase::Checking,
                ..
            },
            E::StatusFailed(f),
        ) => Ok((
            S::Waiting {
                session,
                auto,
                deadline,
                phase: WaitPhase::Overdue,
                last_error: Some(f),
            },
            Vec::new(),
        )),
        (S::Waiting { auto: Some(_), .. }, E::Input(I::Finish)) => wipe_to_start(),

        (S::Result { .. }, E::Input(I::Finish)) => wipe_to_start(),

        (
            S::Failed {
                resume: Some(Resume::CreateToken(request)),
                ..
            },
            E::Input(I::Retry),
        ) => {
            let fx = vec![Effect::CreateToken(request.clone())];
            Ok((S::CreatingToken { request }, fx))
        }
        (
            S::Failed {
                resume:
                    Some(Resume::Camera {
                        session,
                        side,
                        retake,
                    }),
                ..
            },
            E::Input(I::Retry),
        ) => capture(session, side, retake, None),
        (
            S::Failed {
                resume: Some(Resume::Camera { session, .. }),
                ..
            },
            E::Input(I::ContinueOnPhone),
        ) if session.can_hand_off() => hand_off(session),
        (S::Failed { .. }, E::Input(I::Finish)) => wipe_to_start(),

        (state, event) => reject(state, &event),
    }
}

fn submit_failed(session: Box<Session>, f: Failure) -> Step {
    match f {
        Failure::Network { .. } => {
            let fx = vec![Effect::CheckStatus {
                scan_ref: session.token.scan_ref.clone(),
            }];
            Ok((
                State::CheckingStatus {
                    session,
                    failure: f,
                },
                fx,
            ))
        }
        // 429 is refused before any processing: the token is still unused.
        Failure::RateLimited => Ok((
            State::SubmitFailed {
                session,
                failure: f,
                unspent: true,
            },
            Vec::new(),
        )),
        Failure::ImageRejected { side, .. } if session.required_sides().contains(&side) => {
            // Back to that side only; the other stills are kept and the
            // review follows the retake.
            capture(session, side, true, Some(f))
        }
        other => fail_terminal(other),
    }
}

fn tick(ctx: &Context, state: State, now: Millis) -> Step {
    use State as S;
    if !matches!(state, S::Start)
        && now.saturating_sub(ctx.last_activity) >= ctx.settings.idle_timeout_ms
    {
        return wipe_to_start();
    }
    match state {
        S::Choice { ref session }
        | S::Capturing { ref session, .. }
        | S::Review { ref session }
        | S::SubmitFailed { ref session, .. }
            if now >= session.deadline() =>
        {
            fail_terminal(Failure::TokenExpired)
        }
        S::Failed {
            resume: Some(Resume::Camera { ref session, .. }),
            ..
        } if now >= session.deadline() => fail_terminal(Failure::TokenExpired),
        S::Failed {
            failure,
            resume:
                Some(Resume::Camera {
                    mut session,
                    side,
                    retake,
                }),
        } if session.camera.is_none() && session.camera_retry_at.is_some_and(|t| now >= t) => {
            // Try the camera again behind the error screen.
            let role = side.camera();
            session.camera = Some(role);
            session.camera_ready = false;
            session.camera_retry_at = None;
            Ok((
                S::Failed {
                    failure,
                    resume: Some(Resume::Camera {
                        session,
                        side,
                        retake,
                    }),
                },
                vec![Effect::StartCamera(role)],
            ))
        }
        S::Handoff { session } if now >= session.deadline() => {
            // The code is dead, but a customer who started on the phone just
            // before has `sessionLength` to finish: keep waiting for the
            // result (without the QR) for that long.
            let wait_ms =
                u64::from(session.token.session_length_secs) * 1000 + ctx.settings.result_wait_ms;
            wait(session, None, now.saturating_add(wait_ms))
        }
        S::Waiting {
            session,
            auto,
            deadline,
            phase: WaitPhase::Listening,
            last_error,
        } if now >= deadline => Ok((
            S::Waiting {
                session,
                auto,
                deadline,
                phase: WaitPhase::Overdue,
                last_error,
            },
            Vec::new(),
        )),
        state => Ok((state, Vec::new())),
    }
}

/// The machine: a state plus what the transitions need, for drivers and tests.
#[derive(Debug)]
pub struct Machine {
    ctx: Context,
    state: State,
}

impl Machine {
    /// A machine at the start screen.
    #[must_use]
    pub fn new(settings: Settings, now: Millis) -> Self {
        Self::with_state(settings, State::Start, now)
    }

    /// A machine in any state (tests, or restoring a view).
    #[must_use]
    pub fn with_state(settings: Settings, state: State, now: Millis) -> Self {
        Self {
            ctx: Context {
                settings,
                last_activity: now,
            },
            state,
        }
    }

    #[must_use]
    pub fn state(&self) -> &State {
        &self.state
    }

    #[must_use]
    pub fn settings(&self) -> &Settings {
        &self.ctx.settings
    }

    /// When the last accepted non-tick event happened.
    #[must_use]
    pub fn last_activity(&self) -> Millis {
        self.ctx.last_activity
    }

    /// Applies one event.
    ///
    /// # Errors
    /// [`Error::InvalidState`] (or `InvalidInput` / `ForeignResult`) when the
    /// event does not apply; the state is then unchanged.
    pub fn step(&mut self, event: Event, now: Millis) -> Result<Vec<Effect>, Error> {
        // The camera's own comings and goings are not the customer: a
        // camera retried behind an error screen must not hold off the idle
        // reset.
        let activity = !matches!(
            event,
            Event::Tick | Event::CameraStarted | Event::CameraFailed(_)
        );
        let state = std::mem::replace(&mut self.state, State::Start);
        match step(&self.ctx, state, event, now) {
            Ok((state, fx)) => {
                self.state = state;
                if activity {
                    self.ctx.last_activity = now;
                }
                Ok(fx)
            }
            Err(rejected) => {
                let Rejected { state, error } = *rejected;
                self.state = state;
                Err(error)
            }
        }
    }

    /// The still taken for `side`, for the review screen.
    #[must_use]
    pub fn still(&self, side: Side) -> Option<&Still> {
        self.state.session().and_then(|s| s.stills.get(side))
    }

    /// The inputs [`Machine::step`] accepts now (with a valid payload).
    #[must_use]
    pub fn allowed_inputs(&self) -> Vec<InputKind> {
        use InputKind as K;
        let mut v = vec![K::Touch];
        if !matches!(self.state, State::Start) {
            v.push(K::Cancel);
        }
        let phone = self.state.session().is_some_and(Session::can_hand_off);
        match &self.state {
            State::Start => v.push(K::Start),
            State::CreatingToken { .. }
            | State::Submitting { .. }
            | State::CheckingStatus { .. } => {}
            State::Choice { .. } => {
                v.push(K::VerifyHere);
                if phone {
                    v.push(K::ContinueOnPhone);
                }
            }
            State::Handoff { .. } => v.push(K::VerifyHere),
            State::Capturing { session, busy, .. } => {
                if session.camera_ready && !busy {
                    v.push(K::Capture);
                }
                if phone {
                    v.push(K::ContinueOnPhone);
                }
            }
            State::Review { .. } => {
                v.extend([K::Retake, K::Confirm]);
                if phone {
                    v.push(K::ContinueOnPhone);
                }
            }
            State::SubmitFailed { .. } => v.push(K::Retry),
            State::Waiting { auto, phase, .. } => {
                if *phase == WaitPhase::Overdue {
                    v.push(K::CheckStatus);
                }
                if auto.is_some() {
                    v.push(K::Finish);
                }
            }
            State::Result { .. } => v.push(K::Finish),
            State::Failed { resume, .. } => {
                if resume.is_some() {
                    v.push(K::Retry);
                }
                if matches!(resume, Some(Resume::Camera { .. })) && phone {
                    v.push(K::ContinueOnPhone);
                }
                v.push(K::Finish);
            }
        }
        v
    }
}

#[cfg(test)]
#[path = "machine_tests.rs"]
mod tests;
