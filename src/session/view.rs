//! What a screen (or a terminal) shows, derived from the machine's state.
//! Serializable (camelCase) for the UI; holds nothing secret: no auth token,
//! no names, no images. The result shows the client ID (so staff know whose
//! result they read) and which expected fields were compared, never their
//! values. The digit string appears only on the handoff screen, and only
//! while it is still usable.

use serde::Serialize;

use super::machine::{InputKind, Machine, Resume, State, WaitPhase};
use super::types::{
    side_words, DocumentType, ExpectedField, Failure, Millis, Outcome, OverallStatus, Side,
    Subject, TokenType,
};
use crate::error::ErrorCode;
use crate::quality::Issue;

/// Which screen to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Screen {
    Start,
    CreatingToken,
    Choice,
    Handoff,
    Capture,
    Review,
    Submitting,
    /// A submit failed on the network; asking whether it arrived anyway.
    CheckingStatus,
    /// A submit failed; the photos are kept and a retry is offered.
    SubmitFailed,
    Waiting,
    /// An automatic result came; a person at iDenfy reviews it now.
    UnderReview,
    /// No result in time: a one-off status check is offered.
    NoResultYet,
    /// The one-off status check is under way.
    CheckingResult,
    Result,
    Error,
}

/// Which clock the countdown shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Countdown {
    /// The token's `expiryTime` (the session has not started).
    Expiry,
    /// The `sessionLength` (the customer has started).
    Session,
}

/// One required image and whether it has been taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SideView {
    pub side: Side,
    pub taken: bool,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Staff accepted this photo after the framing check refused it.
    pub accepted_by_staff: bool,
}

/// An error or hint: a code to branch on and a sentence to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorView {
    pub code: ErrorCode,
    pub message: String,
    /// For a photo to retake: the quality issue (`blurry`, `glare`,
    /// `too_dark`, `too_bright`, `too_small`) when the local check found it,
    /// so the UI can show its own words.
    pub detail: Option<Issue>,
}

impl From<&Failure> for ErrorView {
    fn from(f: &Failure) -> Self {
        let detail = match f {
            Failure::ImageRejected { reason, .. } => reason.issue(),
            _ => None,
        };
        Self {
            code: f.code(),
            message: f.message(),
            detail,
        }
    }
}

/// A fraud or mismatch tag with its meaning in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TagView {
    pub code: String,
    pub text: String,
}

/// A result for staff. The client ID is zeroized on drop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultView {
    /// Whose result this is: the client ID staff entered.
    pub client_id: String,
    /// The expected fields sent with the token and cross-checked against
    /// the document (a difference is in `mismatch_tags`); empty when none
    /// were entered.
    pub expected: Vec<ExpectedField>,
    /// `APPROVED`, `DENIED`, `SUSPECTED` or what the API sent.
    pub status: String,
    #[serde(rename = "final")]
    pub final_: bool,
    pub headline: String,
    /// What staff should do now.
    pub advice: String,
    pub fraud_tags: Vec<TagView>,
    pub mismatch_tags: Vec<TagView>,
    /// The document check (manual when there was a review, else automatic).
    pub document: Option<String>,
    pub face: Option<String>,
    /// The four statuses as iDenfy sent them (for `--json` and audit).
    pub auto_document: Option<String>,
    pub auto_face: Option<String>,
    pub manual_document: Option<String>,
    pub manual_face: Option<String>,
}

/// Everything a screen needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct View {
    pub screen: Screen,
    /// The side being captured (capture screen).
    pub side: Option<Side>,
    /// The required images, in order, with what has been taken.
    pub sides: Vec<SideView>,
    pub document_type: Option<DocumentType>,
    pub token_type: Option<TokenType>,
    /// The documents staff allowed (choice screen).
    pub documents: Vec<DocumentType>,
    pub scan_ref: Option<String>,
    /// Seconds before the token can no longer be used (before `/process`).
    pub seconds_left: Option<u64>,
    pub countdown: Option<Countdown>,
    /// Seconds before the wait for a result is overdue and the one-off status
    /// check is offered (waiting screens, while listening).
    pub wait_seconds_left: Option<u64>,
    /// The 8-digit code for the phone (handoff screen only, while usable).
    pub digit_string: Option<String>,
    pub can_hand_off: bool,
    /// The camera reported ready (capture screen).
    pub camera_ready: bool,
    /// A still is being taken.
    pub capturing: bool,
    /// Why the last photo must be retaken.
    pub hint: Option<ErrorView>,
    /// Shown as a warning countdown in the last seconds before the idle reset.
    pub idle_seconds_left: Option<u64>,
    /// How many times the customer's data has been wiped. The UI clears what
    /// it keeps itself (the start form) whenever this changes, whatever the
    /// screen was: an idle reset on the start screen changes only this.
    pub wipes: u64,
    pub result: Option<ResultView>,
    pub error: Option<ErrorView>,
    /// What the screen may offer now.
    pub allowed: Vec<InputKind>,
}

impl View {
    /// The view of `machine` at time `now`.
    #[must_use]
    pub fn of(machine: &Machine, now: Millis) -> Self {
        let state = machine.state();
        let session = state.session();
        let mut v = View {
            screen: Screen::Start,
            side: None,
            sides: Vec::new(),
            document_type: session.and_then(|s| s.document),
            token_type: session.map(|s| s.token.token_type),
            documents: session
                .map(|s| s.request.allowed_documents())
                .unwrap_or_default(),
            scan_ref: session.map(|s| s.token.scan_ref.clone()),
            seconds_left: None,
            countdown: None,
            wait_seconds_left: None,
            digit_string: None,
            can_hand_off: session.is_some_and(|s| s.can_hand_off()),
            camera_ready: false,
            capturing: false,
            hint: None,
            idle_seconds_left: None,
            wipes: machine.wipes(),
            result: None,
            error: None,
            allowed: machine.allowed_inputs(),
        };
        if let Some(s) = session {
            if s.document.is_some() {
                v.sides = s
                    .required_sides()
                    .into_iter()
                    .map(|side| {
                        let still = s.stills.get(side);
                        SideView {
                            side,
                            taken: still.is_some(),
                            width: still.map(|x| x.width),
                            height: still.map(|x| x.height),
                            accepted_by_staff: s.accepted_by_staff.iter().any(|(a, _)| *a == side),
                        }
                    })
                    .collect();
            }
            if !s.digits_dead {
                v.seconds_left = Some(s.seconds_left(now));
                v.countdown = Some(if s.started() {
                    Countdown::Session
                } else {
                    Countdown::Expiry
                });
            }
        }
        match state {
            State::Start => {}
            State::CreatingToken { .. } => v.screen = Screen::CreatingToken,
            State::Choice { .. } => v.screen = Screen::Choice,
            State::Handoff { session } => {
                v.screen = Screen::Handoff;
                if session.can_hand_off() {
                    v.digit_string = session.token.digit_string.clone();
                }
            }
            State::Capturing {
                session,
                side,
                busy,
                hint,
                ..
            } => {
                v.screen = Screen::Capture;
                v.side = Some(*side);
                v.camera_ready = session.camera_ready;
                v.capturing = *busy;
                v.hint = hint.as_ref().map(ErrorView::from);
            }
            State::Review { .. } => v.screen = Screen::Review,
            State::Submitting { .. } => v.screen = Screen::Submitting,
            State::CheckingStatus { .. } => v.screen = Screen::CheckingStatus,
            State::SubmitFailed { failure, .. } => {
                v.screen = Screen::SubmitFailed;
                v.error = Some(failure.into());
            }
            State::Waiting {
                session,
                auto,
                phase,
                deadline,
                last_error,
                ..
            } => {
                if *phase == WaitPhase::Listening {
                    v.wait_seconds_left = Some(deadline.saturating_sub(now).div_ceil(1000));
                }
                v.screen = match (phase, auto) {
                    (WaitPhase::Listening, None) => Screen::Waiting,
                    (WaitPhase::Listening, Some(_)) => Screen::UnderReview,
                    (WaitPhase::Overdue, _) => Screen::NoResultYet,
                    (WaitPhase::Checking, _) => Screen::CheckingResult,
                };
                v.result = auto
                    .as_ref()
                    .map(|o| result_view(o, &session.request.subject()));
                v.error = last_error.as_ref().map(ErrorView::from);
            }
            State::Result {
                scan_ref,
                subject,
                outcome,
            } => {
                v.screen = Screen::Result;
                v.scan_ref = Some(scan_ref.clone());
                v.result = Some(result_view(outcome, subject));
            }
            State::Failed { failure, resume } => {
                v.screen = Screen::Error;
                v.error = Some(failure.into());
                if let Some(Resume::Camera { side, .. }) = resume {
                    v.side = Some(*side);
                }
            }
        }
        if machine.idle_armed() {
            let s = machine.settings();
            let idle_at = machine.idle_at();
            let left = idle_at.saturating_sub(now);
            if left <= s.idle_warning_ms {
                v.idle_seconds_left = Some(left.div_ceil(1000));
            }
        }
        v
    }

    /// One line for a terminal: the screen and what it waits for.
    #[must_use]
    pub fn summary(&self) -> String {
        let mut s = match self.screen {
            Screen::Start => "Ready for the next customer".to_owned(),
            Screen::CreatingToken => "Creating the verification session…".to_owned(),
            Screen::Choice => "Verify here or continue on a phone".to_owned(),
            Screen::Handoff => match &self.digit_string {
                Some(d) => format!(
                    "Scan the QR code or enter {} in the iDenfy app",
                    super::qr::grouped(d)
                ),
                None => "Waiting for the phone".to_owned(),
            },
            Screen::Capture => match self.side {
                Some(side) if self.camera_ready => format!("Photograph the {}", side_words(side)),
                Some(_) => "Starting the camera…".to_owned(),
                None => "Capture".to_owned(),
            },
            Screen::Review => "Check the photos, retake any, then send".to_owned(),
            Screen::Submitting => "Sending the photos…".to_owned(),
            Screen::CheckingStatus => {
                "The network failed; checking whether the photos arrived…".to_owned()
            }
            Screen::SubmitFailed => "Sending failed; the photos are kept".to_owned(),
            Screen::Waiting => "Waiting for the result…".to_owned(),
            Screen::UnderReview => "Under review by iDenfy".to_owned(),
            Screen::NoResultYet => "No result yet; a status check is available".to_owned(),
            Screen::CheckingResult => "Checking the status…".to_owned(),
            Screen::Result => match &self.result {
                Some(r) => format!("{}: {}", r.status, r.headline),
                None => "Result".to_owned(),
            },
            Screen::Error => "Something went wrong".to_owned(),
        };
        if let Some(secs) = self.seconds_left {
            s.push_str(&format!(" ({} left)", mm_ss(secs)));
        }
        if let Some(h) = &self.hint {
            s.push_str(&format!(" — {}", h.message));
        }
        if let Some(e) = &self.error {
            s.push_str(&format!(" — [{}] {}", e.code, e.message));
        }
        s
    }
}

fn mm_ss(secs: u64) -> String {
    format!("{}:{:02}", secs / 60, secs % 60)
}

fn result_view(o: &Outcome, subject: &Subject) -> ResultView {
    let (headline, advice) = match (&o.overall, o.final_) {
        (OverallStatus::Approved, true) => (
            "Identity verified",
            "Continue with the customer's request.",
        ),
        (OverallStatus::Denied, true) => (
            "Verification denied",
            "Do not proceed. Explain that the identity could not be confirmed; the customer may try again with another document.",
        ),
        (OverallStatus::Suspected, true) => (
            "Verified with warnings",
            "The checks passed but raised flags: read them below and decide under the bank's policy.",
        ),
        (_, false) => (
            "Preliminary result; a person at iDenfy is reviewing it",
            "Wait for the final result, or finish and find it later in the dashboard.",
        ),
        (OverallStatus::Other(_), true) => (
            "Result not recognised",
            "Look the verification up in the iDenfy dashboard before proceeding.",
        ),
    };
    ResultView {
        client_id: subject.client_id.clone(),
        expected: subject.expected.clone(),
        status: o.overall.as_str().to_owned(),
        final_: o.final_,
        headline: headline.to_owned(),
        advice: advice.to_owned(),
        fraud_tags: o
            .fraud_tags
            .iter()
            .map(|t| tag(t, fraud_words(t)))
            .collect(),
        mismatch_tags: o
            .mismatch_tags
            .iter()
            .map(|t| tag(t, mismatch_words(t)))
            .collect(),
        document: o
            .manual_document
            .clone()
            .or_else(|| o.auto_document.clone()),
        face: o.manual_face.clone().or_else(|| o.auto_face.clone()),
        auto_document: o.auto_document.clone(),
        auto_face: o.auto_face.clone(),
        manual_document: o.manual_document.clone(),
        manual_face: o.manual_face.clone(),
    }
}

impl Drop for ResultView {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.client_id);
    }
}

fn tag(code: &str, words: Option<&str>) -> TagView {
    TagView {
        code: code.to_owned(),
        text: words.map_or_else(|| code.replace('_', " ").to_lowercase(), str::to_owned),
    }
}

fn fraud_words(tag: &str) -> Option<&'static str> {
    Some(match tag {
        "FACE_SUSPECTED" => "the selfie looks manipulated",
        "FACE_BLACKLISTED" | "FACE_IN_BLACKLIST" => "the face is on the blacklist",
        "DOC_FACE_BLACKLISTED" | "DOC_FACE_IN_BLACKLIST" => {
            "the document photo is on the blacklist"
        }
        "DOC_MOBILE_PHOTO" => "the document was photographed off a screen",
        "DEV_TOOLS_OPENED" => "developer tools were open during capture",
        "DOC_PRINT_SPOOFED" => "the document looks like a printout",
        "FAKE_PHOTO" => "the photo looks fake",
        "AML_SUSPECTION" => "possible sanctions or PEP match",
        "AML_FAILED" => "the sanctions check could not be completed",
        "LID_SUSPECTION" => "the document may be listed as lost or stolen",
        "LID_FAILED" => "the lost-document check could not be completed",
        "UTILITY_ADDRESS_CHECK_FAILURE" => "the utility bill address check failed",
        "VIRTUAL_CAMERA" => "a virtual camera was used",
        "DUPLICATE_FACE" => "this face was already verified under another client",
        "DUPLICATE_DOC_FACE" => "this document photo was already verified under another client",
        _ => return None,
    })
}

fn mismatch_words(tag: &str) -> Option<&'static str> {
    Some(match tag {
        "NAME" => "first name differs from the one entered",
        "SURNAME" => "surname differs from the one entered",
        "FULL_NAME" => "full name differs from the one entered",
        "DOCUMENT_NUMBER" => "document number differs",
        "PERSONAL_CODE" => "personal code differs",
        "EXPIRY_DATE" => "expiry date differs",
        "DATE_OF_BIRTH" => "date of birth differs",
        "DATE_OF_ISSUE" => "date of issue differs",
        "UNDER_AGE" => "the customer is under the age limit",
        "UNKNOWN_AGE" => "the age could not be determined",
        "SEX" => "sex differs",
        "NATIONALITY" => "nationality differs",
        "DOC_INFO_MISMATCH" => "document data is inconsistent",
        _ => return None,
    })
}
