//! What the machine holds: the [`State`]s of the flow, the customer's
//! [`Session`] once the token exists, and the time limits ([`Settings`]).

use crate::capture::Role;
use crate::quality::Issue;
use crate::session::types::{
    DocumentType, Failure, Millis, Outcome, Side, StartRequest, Still, Subject, Submission,
    TokenInfo, TokenType,
};

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
    bill: Option<Still>,
    face: Option<Still>,
}

impl Stills {
    /// The still for `side`, if taken.
    #[must_use]
    pub fn get(&self, side: Side) -> Option<&Still> {
        match side {
            Side::Front => self.front.as_ref(),
            Side::Back => self.back.as_ref(),
            Side::UtilityBill => self.bill.as_ref(),
            Side::Face => self.face.as_ref(),
        }
    }

    pub(super) fn set(&mut self, still: Still) {
        let slot = match still.side {
            Side::Front => &mut self.front,
            Side::Back => &mut self.back,
            Side::UtilityBill => &mut self.bill,
            Side::Face => &mut self.face,
        };
        // The old image is zeroized when it is dropped here.
        *slot = Some(still);
    }

    /// Drops (and so zeroizes) every still.
    pub fn clear(&mut self) {
        self.front = None;
        self.back = None;
        self.bill = None;
        self.face = None;
    }

    /// Whether no still is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.front.is_none() && self.back.is_none() && self.bill.is_none() && self.face.is_none()
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
    pub camera: Option<Role>,
    pub camera_ready: bool,
    /// While a camera error shows: when to try the camera again (it resumes
    /// by itself once the camera is back).
    pub camera_retry_at: Option<Millis>,
    /// The sides whose photo staff accepted after the framing check refused
    /// it, with the rule it failed (the review says so, `/process` tells the
    /// back office; a retake of the side takes it off).
    pub accepted_by_staff: Vec<(Side, Issue)>,
    /// A `/process` of this token ended without an answer (its images may
    /// have arrived even when `/status` still said the token was unused): a
    /// later submit that is refused asks `/status` again instead of ending
    /// the session.
    pub maybe_sent: bool,
}

impl Session {
    pub(super) fn new(request: StartRequest, token: TokenInfo, now: Millis) -> Self {
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
            accepted_by_staff: Vec::new(),
            maybe_sent: false,
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

    /// The images `/process` will need, in order: the document, then the
    /// utility bill (still with the document camera, so it is not switched
    /// twice), then the selfie.
    #[must_use]
    pub fn required_sides(&self) -> Vec<Side> {
        let mut v = vec![Side::Front];
        if self.document.is_some_and(DocumentType::has_back) {
            v.push(Side::Back);
        }
        if self.request.proof_of_address.is_some() {
            v.push(Side::UtilityBill);
        }
        if self.token.token_type == TokenType::Identification {
            v.push(Side::Face);
        }
        v
    }

    pub(super) fn next_side(&self, after: Side) -> Option<Side> {
        let sides = self.required_sides();
        let i = sides.iter().position(|s| *s == after)?;
        sides.get(i + 1).copied()
    }

    /// Whether the customer may still switch to the phone.
    #[must_use]
    pub fn can_hand_off(&self) -> bool {
        self.token.digit_string.is_some() && !self.digits_dead
    }

    /// What `/process` needs, once every required still is taken (and the
    /// request has the country `/process` requires).
    pub(super) fn submission(&self) -> Option<Submission> {
        let document_type = self.document?;
        let country = self.request.country.clone()?;
        let images = self
            .required_sides()
            .into_iter()
            .map(|s| self.stills.get(s).cloned())
            .collect::<Option<Vec<_>>>()?;
        Some(Submission {
            scan_ref: self.token.scan_ref.clone(),
            auth_token: zeroize::Zeroizing::new(self.token.auth_token.clone()),
            country,
            document_type,
            images,
            accepted_by_staff: self.accepted_by_staff.clone(),
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
        /// The photo the framing check just refused, as taken, when staff
        /// may accept it ([`Failure::is_overridable`]): kept here only, in
        /// memory, until the next capture, the next side or the wipe.
        held: Option<Still>,
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
        /// Whose result it is (the session itself is gone).
        subject: Subject,
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
