//! Table tests of the transition function: every state against every event,
//! then the transitions one by one.

use super::*;
use crate::capture::Role;
use crate::error::ErrorCode;
use crate::quality::Issue;
use crate::session::types::{
    DocumentType, ExpectedField, Failure, Outcome, OverallStatus, RetakeReason, StartRequest,
    TokenInfo, TokenStatus, TokenType,
};
use crate::session::view::{Screen, View};

const S: u64 = 1000;

fn settings() -> Settings {
    Settings {
        idle_timeout_ms: 120 * S,
        idle_warning_ms: 20 * S,
        result_wait_ms: 120 * S,
        review_wait_ms: 600 * S,
    }
}

fn request() -> StartRequest {
    let mut r = StartRequest::new("CLIENT-77", "lt");
    r.first_name = Some("Jonas".into());
    r.last_name = Some("Jonaitis".into());
    r.generate_digit_string = true;
    r
}

fn token(ty: TokenType, digits: Option<&str>) -> TokenInfo {
    TokenInfo {
        scan_ref: "scan-1".into(),
        auth_token: "AUTH-SECRET-1".into(),
        digit_string: digits.map(str::to_owned),
        token_type: ty,
        expiry_secs: 600,
        session_length_secs: 300,
    }
}

fn still(side: Side) -> Still {
    Still::new(side, vec![0xFF, 0xD8, side as u8, 0x55], 640, 480)
}

/// A session created at t=0 with the given document (None: not chosen yet).
fn session(doc: Option<DocumentType>, ty: TokenType) -> Box<Session> {
    let mut r = request();
    r.country = Some("LT".into());
    let mut s = Session::new(r, token(ty, Some("12345678")), 0);
    if doc.is_some() {
        s.document = doc;
        s.started_at = Some(0);
    }
    Box::new(s)
}

fn with_stills(mut s: Box<Session>, sides: &[Side]) -> Box<Session> {
    for side in sides {
        s.stills.set(still(*side));
    }
    s
}

fn id_card() -> Box<Session> {
    session(Some(DocumentType::IdCard), TokenType::Identification)
}

fn full_id_card() -> Box<Session> {
    with_stills(id_card(), &[Side::Front, Side::Back, Side::Face])
}

fn capturing(side: Side, ready: bool, busy: bool) -> State {
    let mut s = id_card();
    s.camera = Some(side.camera());
    s.camera_ready = ready;
    State::Capturing {
        session: s,
        side,
        retake: false,
        busy,
        hint: None,
        held: None,
    }
}

/// The capture of `side` after the framing check refused the still for
/// `issue`, holding the photo for staff.
fn refused(side: Side, issue: Issue) -> State {
    let mut m = Machine::with_state(settings(), capturing(side, true, true), 0);
    m.step(
        Event::StillRefused {
            failure: Failure::ImageRejected {
                side,
                reason: issue.into(),
            },
            still: held_photo(side),
        },
        0,
    )
    .unwrap();
    m.state().clone()
}

/// The photo a framing refusal holds (not what [`still`] gives).
fn held_photo(side: Side) -> Still {
    Still::new(side, vec![0xFF, 0xD8, side as u8, 0xAA, 0xBB], 1920, 1080)
}

fn outcome(status: OverallStatus, final_: bool) -> Outcome {
    Outcome::new(status, final_)
}

fn waiting(phase: WaitPhase, auto: Option<Outcome>) -> State {
    let mut s = id_card();
    s.digits_dead = true;
    State::Waiting {
        session: s,
        auto,
        deadline: 200 * S,
        phase,
        last_error: None,
    }
}

fn network() -> Failure {
    Failure::Network {
        message: "connection reset".into(),
    }
}

/// One sample of every state (and of the sub-states that accept different inputs).
fn states() -> Vec<(&'static str, State)> {
    vec![
        ("start", State::Start),
        ("creatingToken", State::CreatingToken { request: request() }),
        (
            "choice",
            State::Choice {
                session: session(None, TokenType::Identification),
            },
        ),
        (
            "handoff",
            State::Handoff {
                session: session(None, TokenType::Identification),
            },
        ),
        ("capturing/starting", capturing(Side::Front, false, false)),
        ("capturing/ready", capturing(Side::Front, true, false)),
        ("capturing/busy", capturing(Side::Front, true, true)),
        (
            "capturing/refused",
            refused(Side::Front, Issue::DocumentTooFar),
        ),
        (
            "review",
            State::Review {
                session: full_id_card(),
            },
        ),
        (
            "submitting",
            State::Submitting {
                session: full_id_card(),
            },
        ),
        (
            "checkingStatus",
            State::CheckingStatus {
                session: full_id_card(),
                failure: network(),
            },
        ),
        (
            "submitFailed/unspent",
            State::SubmitFailed {
                session: full_id_card(),
                failure: network(),
                unspent: true,
            },
        ),
        (
            "submitFailed/unknown",
            State::SubmitFailed {
                session: full_id_card(),
                failure: network(),
                unspent: false,
            },
        ),
        ("waiting/listening", waiting(WaitPhase::Listening, None)),
        ("waiting/overdue", waiting(WaitPhase::Overdue, None)),
        ("waiting/checking", waiting(WaitPhase::Checking, None)),
        (
            "underReview",
            waiting(
                WaitPhase::Listening,
                Some(outcome(OverallStatus::Suspected, false)),
            ),
        ),
        (
            "result",
            State::Result {
                scan_ref: "scan-1".into(),
                subject: request().subject(),
                outcome: outcome(OverallStatus::Approved, true),
            },
        ),
        (
            "failed/terminal",
            State::Failed {
                failure: Failure::OutOfCredits,
                resume: None,
            },
        ),
        (
            "failed/token",
            State::Failed {
                failure: network(),
                resume: Some(Resume::CreateToken(request())),
            },
        ),
        (
            "failed/camera",
            State::Failed {
                failure: Failure::Camera {
                    code: ErrorCode::CameraLost,
                    message: "unplugged".into(),
                },
                resume: Some(Resume::Camera {
                    session: with_stills(id_card(), &[Side::Front]),
                    side: Side::Back,
                    retake: false,
                }),
            },
        ),
        (
            "failed/camera-retrying",
            State::Failed {
                failure: Failure::Camera {
                    code: ErrorCode::CameraLost,
                    message: "unplugged".into(),
                },
                resume: Some(Resume::Camera {
                    session: {
                        let mut s = with_stills(id_card(), &[Side::Front]);
                        s.camera = Some(Role::Document);
                        s
                    },
                    side: Side::Back,
                    retake: false,
                }),
            },
        ),
    ]
}

/// Every input, with a payload valid for the sample states.
fn inputs() -> Vec<Input> {
    vec![
        Input::Start(request()),
        Input::VerifyHere(DocumentType::IdCard),
        Input::ContinueOnPhone,
        Input::Capture,
        Input::Override,
        Input::Retake(Side::Back),
        Input::Confirm,
        Input::Retry,
        Input::CheckStatus,
        Input::Cancel,
        Input::Finish,
        Input::Touch,
    ]
}

/// Every non-input event.
fn events() -> Vec<Event> {
    vec![
        Event::TokenCreated(token(TokenType::Identification, Some("12345678"))),
        Event::TokenFailed(network()),
        Event::CameraStarted,
        Event::CameraFailed(Failure::Camera {
            code: ErrorCode::CameraLost,
            message: "gone".into(),
        }),
        Event::StillCaptured(still(Side::Front)),
        Event::CaptureFailed(Failure::ImageRejected {
            side: Side::Front,
            reason: Issue::Blurry.into(),
        }),
        Event::StillRefused {
            failure: Failure::ImageRejected {
                side: Side::Front,
                reason: Issue::NoDocument.into(),
            },
            still: held_photo(Side::Front),
        },
        Event::Submitted,
        Event::SubmitFailed(network()),
        Event::StatusChecked(TokenStatus::Pending),
        Event::StatusFailed(network()),
        Event::ResultReceived {
            scan_ref: "scan-1".into(),
            outcome: outcome(OverallStatus::Approved, true),
        },
    ]
}

/// Which non-input events each sample state accepts.
fn accepts(state: &str, event: &str) -> bool {
    // The camera's error screen keeps the session: its result (from the
    // phone, say) is taken there too.
    let with_session = !matches!(
        state,
        "start" | "creatingToken" | "result" | "failed/terminal" | "failed/token"
    );
    match event {
        "tokenCreated" | "tokenFailed" => state == "creatingToken",
        // Behind a camera error the camera is retried: its answers count.
        "cameraStarted" => state.starts_with("capturing") || state == "failed/camera-retrying",
        "cameraFailed" => state.starts_with("capturing") || state.starts_with("failed/camera"),
        "stillCaptured" | "captureFailed" | "stillRefused" => state == "capturing/busy",
        "submitted" | "submitFailed" => state == "submitting",
        "statusChecked" | "statusFailed" => matches!(state, "checkingStatus" | "waiting/checking"),
        "resultReceived" => with_session,
        other => panic!("no rule for {other}"),
    }
}

#[test]
fn every_state_accepts_exactly_its_allowed_inputs_and_refusals_change_nothing() {
    for (name, state) in states() {
        for input in inputs() {
            let mut m = Machine::with_state(settings(), state.clone(), 10 * S);
            let allowed = m.allowed_inputs().contains(&input.kind());
            let kind = input.kind();
            let r = m.step(Event::Input(input), 11 * S);
            assert_eq!(r.is_ok(), allowed, "{name} × {kind:?}: {r:?}");
            if let Err(e) = r {
                assert_eq!(e.code(), ErrorCode::InvalidState, "{name} × {kind:?}");
                assert_eq!(m.state(), &state, "{name} × {kind:?} changed the state");
                assert_eq!(m.last_activity(), 10 * S, "a refused input is not activity");
            } else if kind != InputKind::Touch {
                assert_ne!(
                    m.state(),
                    &state,
                    "{name} × {kind:?} accepted but did nothing"
                );
            }
        }
    }
}

#[test]
fn every_state_accepts_exactly_its_effect_outcomes_and_refusals_change_nothing() {
    for (name, state) in states() {
        for event in events() {
            let ev_name = event.name();
            let mut m = Machine::with_state(settings(), state.clone(), 10 * S);
            let r = m.step(event, 11 * S);
            assert_eq!(
                r.is_ok(),
                accepts(name, ev_name),
                "{name} × {ev_name}: {r:?}"
            );
            if let Err(e) = r {
                assert_eq!(e.code(), ErrorCode::InvalidState, "{name} × {ev_name}");
                assert!(e.to_string().contains(ev_name), "{e}");
                assert_eq!(m.state(), &state, "{name} × {ev_name} changed the state");
            }
        }
    }
}

/// Cancel wipes from every state but the start screen and the two whose
/// call may already have spent the token (sending the images, the one
/// `/status` question after an unknown outcome): there it is neither offered
/// nor accepted, and the call and its result are kept.
#[test]
fn cancel_wipes_from_every_state_but_start_and_the_calls_in_flight() {
    for (name, state) in states() {
        let mut m = Machine::with_state(settings(), state.clone(), 0);
        let offered = m.allowed_inputs().contains(&InputKind::Cancel);
        match m.step(Event::Input(Input::Cancel), S) {
            Ok(fx) => {
                assert!(offered, "{name}");
                assert_eq!(fx, vec![Effect::Wipe], "{name}");
                assert_eq!(m.state(), &State::Start, "{name}");
                assert!(!m.state().holds_customer_data());
            }
            Err(e) => {
                assert!(!offered, "{name}");
                assert!(
                    ["start", "submitting", "checkingStatus"].contains(&name),
                    "{name}"
                );
                assert_eq!(e.code(), ErrorCode::InvalidState, "{name}");
                assert_eq!(m.state(), &state, "{name}");
            }
        }
    }
}

#[test]
fn idle_timeout_wipes_from_every_state_and_not_a_moment_before() {
    for (name, state) in states() {
        let mut m = Machine::with_state(settings(), state.clone(), 0);
        // While the images are on their way (or the status of a late result
        // is asked) the call ends on its own (the token may be spent): only a
        // call broken for 15 minutes is reset. While a result is awaited,
        // the idle time counts from the wait's deadline (200 s here).
        let limit = match name {
            "submitting" | "checkingStatus" | "waiting/checking" => 15 * 60 * S,
            "waiting/listening" | "waiting/overdue" => 320 * S,
            _ => 120 * S,
        };
        assert_eq!(m.idle_at(), limit, "{name}");
        // A result that is overdue turns overdue; nothing else moves before 120 s.
        // (Token expiry is 600 s and session 300 s: later than the idle limit.)
        let fx = m.step(Event::Tick, limit - 1).unwrap();
        assert!(!fx.contains(&Effect::Wipe), "{name} wiped early");
        let fx = m.step(Event::Tick, limit).unwrap();
        if name == "start" {
            assert!(fx.is_empty());
        } else {
            assert_eq!(fx, vec![Effect::Wipe], "{name}");
        }
        assert_eq!(m.state(), &State::Start, "{name}");
    }
}

#[test]
fn activity_postpones_the_idle_reset_and_the_view_warns_first() {
    let mut m = Machine::with_state(
        settings(),
        State::Choice {
            session: session(None, TokenType::Identification),
        },
        0,
    );
    assert_eq!(View::of(&m, 99 * S).idle_seconds_left, None);
    assert_eq!(View::of(&m, 100 * S).idle_seconds_left, Some(20));
    assert_eq!(View::of(&m, 119 * S + 1).idle_seconds_left, Some(1));
    m.step(Event::Input(Input::Touch), 110 * S).unwrap();
    assert_eq!(View::of(&m, 111 * S).idle_seconds_left, None);
    m.step(Event::Tick, 200 * S).unwrap();
    assert_eq!(
        m.state().name(),
        "choice",
        "touched at 110 s: idle at 230 s"
    );
    let fx = m.step(Event::Tick, 230 * S).unwrap();
    assert_eq!(fx, vec![Effect::Wipe]);
}

/// The view's idle warning follows the same clock as the reset: none while
/// the photos are being sent, none before a result wait's deadline, then
/// the usual 20 s before the reset.
#[test]
fn the_idle_warning_waits_for_the_call_and_the_result_wait() {
    let m = Machine::with_state(
        settings(),
        State::Submitting {
            session: full_id_card(),
        },
        0,
    );
    assert_eq!(View::of(&m, 119 * S).idle_seconds_left, None);
    assert_eq!(View::of(&m, 890 * S).idle_seconds_left, Some(10));
    // Waiting for the webhook until 200 s: idle at 320 s, warned from 300 s.
    let m = Machine::with_state(settings(), waiting(WaitPhase::Listening, None), 0);
    assert_eq!(View::of(&m, 119 * S).idle_seconds_left, None);
    assert_eq!(View::of(&m, 299 * S).idle_seconds_left, None);
    assert_eq!(View::of(&m, 300 * S).idle_seconds_left, Some(20));
}

#[test]
fn start_validates_the_form_and_keeps_the_start_screen_on_error() {
    type Edit = Box<dyn Fn(&mut StartRequest)>;
    let cases: Vec<(&str, Edit)> = vec![
        ("clientId", Box::new(|r| r.client_id = "  ".into())),
        ("clientId", Box::new(|r| r.client_id = "x".repeat(101))),
        ("clientId", Box::new(|r| r.client_id = "klientė".into())),
        ("country", Box::new(|r| r.country = Some("XX".into()))),
        ("country", Box::new(|r| r.country = Some("LTU".into()))),
        ("expiryTime", Box::new(|r| r.expiry_secs = Some(0))),
        ("expiryTime", Box::new(|r| r.expiry_secs = Some(2_592_001))),
        (
            "sessionLength",
            Box::new(|r| r.session_length_secs = Some(60)),
        ),
        (
            "sessionLength",
            Box::new(|r| r.session_length_secs = Some(3600)),
        ),
        (
            "firstName",
            Box::new(|r| r.first_name = Some("J0nas".into())),
        ),
        ("lastName", Box::new(|r| r.last_name = Some("".into()))),
        (
            "lastName",
            Box::new(|r| r.last_name = Some("Smith<".into())),
        ),
    ];
    for (field, edit) in cases {
        let mut r = request();
        edit(&mut r);
        let mut m = Machine::new(settings(), 0);
        let err = m.step(Event::Input(Input::Start(r)), 1).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidInput { field: f, .. } if *f == field),
            "{field}: {err}"
        );
        assert_eq!(err.code(), ErrorCode::InvalidInput);
        assert_eq!(m.state(), &State::Start);
    }
    // Valid: the country is normalised and sent as is otherwise.
    let mut m = Machine::new(settings(), 0);
    let fx = m.step(Event::Input(Input::Start(request())), 1).unwrap();
    let Effect::CreateToken(sent) = &fx[0] else {
        panic!("{fx:?}")
    };
    assert_eq!(sent.country.as_deref(), Some("LT"));
    assert_eq!(sent.client_id, "CLIENT-77");
    assert_eq!(m.state().name(), "creatingToken");
}

#[test]
fn start_request_validation_names_the_field() {
    let mut r = StartRequest::new("client-1", "LT");
    r.first_name = Some("J0hn".into());
    match validate_request(r) {
        Err(Error::InvalidInput { field, .. }) => assert_eq!(field, "firstName"),
        other => panic!("{other:?}"),
    }
    let ok = StartRequest::new("client-1", "LT");
    validate_request(ok).unwrap();
}

// Regression: `kyc-kiosk handoff --client-id X` with no country anywhere
// failed with "country: `` is not an ISO 3166-1 alpha-2 country code". A
// token needs no country: the customer then picks it in the mobile app.
#[test]
fn a_start_without_a_country_creates_a_token() {
    for blank in [None, Some(String::new()), Some("  ".to_owned())] {
        let mut r = request();
        r.country = blank.clone();
        let mut m = Machine::new(settings(), 0);
        let fx = m.step(Event::Input(Input::Start(r)), 1).unwrap();
        let Effect::CreateToken(sent) = &fx[0] else {
            panic!("{blank:?}: {fx:?}")
        };
        assert_eq!(sent.country, None, "{blank:?}");
        assert_eq!(m.state().name(), "creatingToken");
    }
    assert_eq!(StartRequest::new("c", " ").country, None);
}

/// `/process` needs the document country: without one, verifying here is
/// refused before any photo is taken (the phone stays open).
#[test]
fn verify_here_needs_a_country() {
    let mut s = session(None, TokenType::Identification);
    s.request.country = None;
    for state in [
        State::Choice { session: s.clone() },
        State::Handoff { session: s.clone() },
    ] {
        let mut m = Machine::with_state(settings(), state.clone(), 0);
        let err = m
            .step(Event::Input(Input::VerifyHere(DocumentType::IdCard)), S)
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidInput {
                    field: "country",
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(err.code(), ErrorCode::InvalidInput);
        assert_eq!(m.state(), &state);
    }
    let mut m = Machine::with_state(settings(), State::Choice { session: s }, 0);
    m.step(Event::Input(Input::ContinueOnPhone), S).unwrap();
    assert_eq!(m.state().name(), "handoff");
}

#[test]
fn token_created_goes_to_choice_and_watches_results() {
    let mut m = Machine::with_state(settings(), State::CreatingToken { request: request() }, 0);
    let fx = m
        .step(
            Event::TokenCreated(token(TokenType::Identification, Some("12345678"))),
            5 * S,
        )
        .unwrap();
    assert_eq!(
        fx,
        vec![Effect::WatchResults {
            scan_ref: "scan-1".into()
        }]
    );
    let State::Choice { session } = m.state() else {
        panic!()
    };
    assert_eq!(session.token_at, 5 * S);
    assert_eq!(
        session.deadline(),
        605 * S,
        "expiryTime counts from creation"
    );
    assert!(session.can_hand_off());
    let v = View::of(&m, 6 * S);
    assert_eq!(v.screen, Screen::Choice);
    assert_eq!(v.seconds_left, Some(599));
    assert_eq!(v.countdown, Some(crate::session::view::Countdown::Expiry));
}

#[test]
fn a_malformed_digit_string_disables_the_handoff() {
    for digits in [None, Some("1234567"), Some("abcdefgh")] {
        let mut m = Machine::with_state(settings(), State::CreatingToken { request: request() }, 0);
        m.step(
            Event::TokenCreated(token(TokenType::Identification, digits)),
            0,
        )
        .unwrap();
        assert!(
            !m.allowed_inputs().contains(&InputKind::ContinueOnPhone),
            "{digits:?}"
        );
        let err = m.step(Event::Input(Input::ContinueOnPhone), 1).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidState);
    }
}

#[test]
fn token_failures_keep_the_form_only_when_a_retry_can_work() {
    let table = [
        (network(), true),
        (Failure::RateLimited, true),
        (Failure::OutOfCredits, false),
        (Failure::Unauthorized, false),
        (
            Failure::Rejected {
                message: "bad country".into(),
            },
            false,
        ),
    ];
    for (f, keeps) in table {
        let code = f.code();
        let mut m = Machine::with_state(settings(), State::CreatingToken { request: request() }, 0);
        let fx = m.step(Event::TokenFailed(f), S).unwrap();
        assert_eq!(View::of(&m, S).error.unwrap().code, code);
        if keeps {
            assert!(fx.is_empty());
            let fx = m.step(Event::Input(Input::Retry), 2 * S).unwrap();
            assert!(matches!(&fx[..], [Effect::CreateToken(r)] if r.client_id == "CLIENT-77"));
            assert_eq!(m.state().name(), "creatingToken");
        } else {
            assert_eq!(fx, vec![Effect::Wipe], "{code}");
            assert!(!m.state().holds_customer_data());
            assert!(m.step(Event::Input(Input::Retry), 2 * S).is_err());
        }
    }
}

/// Walks the capture sequence from the choice and returns the sides visited.
fn walk(doc: DocumentType, ty: TokenType) -> (Vec<Side>, Machine) {
    walk_from(session(None, ty), doc)
}

/// A session (no document chosen yet) whose start form asked for a proof
/// of address.
fn with_bill(ty: TokenType) -> Box<Session> {
    let mut s = session(None, ty);
    s.request.proof_of_address = Some(crate::session::ProofOfAddress::upload());
    s
}

/// [`walk`] from a given session at the choice.
fn walk_from(session: Box<Session>, doc: DocumentType) -> (Vec<Side>, Machine) {
    let mut m = Machine::with_state(settings(), State::Choice { session }, 0);
    let fx = m
        .step(Event::Input(Input::VerifyHere(doc)), 10 * S)
        .unwrap();
    assert_eq!(fx, vec![Effect::StartCamera(Role::Document)]);
    let mut visited = Vec::new();
    let mut t = 11 * S;
    while let State::Capturing { side, session, .. } = m.state() {
        let side = *side;
        visited.push(side);
        if !session.camera_ready {
            m.step(Event::CameraStarted, t).unwrap();
        }
        let fx = m.step(Event::Input(Input::Capture), t).unwrap();
        assert_eq!(fx, vec![Effect::CaptureStill(side)]);
        m.step(Event::StillCaptured(still(side)), t).unwrap();
        t += S;
    }
    assert_eq!(m.state().name(), "review");
    (visited, m)
}

#[test]
fn capture_order_follows_the_document_and_the_token_type() {
    use DocumentType as D;
    use Side::{Back, Face, Front};
    let table = [
        (
            D::IdCard,
            TokenType::Identification,
            vec![Front, Back, Face],
        ),
        (
            D::DriverLicense,
            TokenType::Identification,
            vec![Front, Back, Face],
        ),
        (
            D::ResidencePermit,
            TokenType::Identification,
            vec![Front, Back, Face],
        ),
        (D::Passport, TokenType::Identification, vec![Front, Face]),
        (D::IdCard, TokenType::Document, vec![Front, Back]),
        (D::Passport, TokenType::Document, vec![Front]),
    ];
    for (doc, ty, expected) in table {
        let (visited, m) = walk(doc, ty);
        assert_eq!(visited, expected, "{doc:?} {ty:?}");
        let v = View::of(&m, 20 * S);
        assert_eq!(v.sides.iter().map(|s| s.side).collect::<Vec<_>>(), expected);
        assert!(v.sides.iter().all(|s| s.taken));
    }
}

#[test]
fn a_proof_of_address_is_taken_after_the_document_and_before_the_selfie() {
    use DocumentType as D;
    use Side::{Back, Face, Front, UtilityBill};
    let table = [
        (
            D::IdCard,
            TokenType::Identification,
            vec![Front, Back, UtilityBill, Face],
        ),
        (
            D::Passport,
            TokenType::Identification,
            vec![Front, UtilityBill, Face],
        ),
        (
            D::IdCard,
            TokenType::Document,
            vec![Front, Back, UtilityBill],
        ),
        (D::Passport, TokenType::Document, vec![Front, UtilityBill]),
    ];
    for (doc, ty, expected) in table {
        let (visited, m) = walk_from(with_bill(ty), doc);
        assert_eq!(visited, expected, "{doc:?} {ty:?}");
        let v = View::of(&m, 20 * S);
        assert_eq!(v.sides.iter().map(|s| s.side).collect::<Vec<_>>(), expected);
        assert!(v.sides.iter().all(|s| s.taken));
    }
    // Without the request, no bill: the order is the document's and the token's.
    let (visited, _) = walk(D::IdCard, TokenType::Identification);
    assert!(!visited.contains(&UtilityBill));
}

#[test]
fn the_bill_keeps_the_document_camera_and_the_selfie_switches_after_it() {
    let mut s = with_bill(TokenType::Identification);
    s.document = Some(DocumentType::IdCard);
    s.started_at = Some(0);
    s.camera = Some(Role::Document);
    s.camera_ready = true;
    let state = State::Capturing {
        session: with_stills(s, &[Side::Front]),
        side: Side::Back,
        retake: false,
        busy: true,
        hint: None,
        held: None,
    };
    let mut m = Machine::with_state(settings(), state, 0);
    let fx = m.step(Event::StillCaptured(still(Side::Back)), S).unwrap();
    assert!(fx.is_empty(), "same camera for the bill: {fx:?}");
    assert!(matches!(
        m.state(),
        State::Capturing {
            side: Side::UtilityBill,
            ..
        }
    ));
    m.step(Event::Input(Input::Capture), S).unwrap();
    let fx = m
        .step(Event::StillCaptured(still(Side::UtilityBill)), S)
        .unwrap();
    assert_eq!(fx, vec![Effect::StartCamera(Role::Selfie)]);
}

#[test]
fn the_bill_is_retaken_alone_submitted_in_order_and_wiped() {
    let (_, mut m) = walk_from(with_bill(TokenType::Identification), DocumentType::IdCard);
    let front_before = m.still(Side::Front).cloned();
    let fx = m
        .step(Event::Input(Input::Retake(Side::UtilityBill)), 30 * S)
        .unwrap();
    assert_eq!(fx, vec![Effect::StartCamera(Role::Document)]);
    m.step(Event::CameraStarted, 30 * S).unwrap();
    m.step(Event::Input(Input::Capture), 31 * S).unwrap();
    let new_bill = Still::new(Side::UtilityBill, vec![0xFF, 0xD8, 7, 7], 2100, 2970);
    let fx = m
        .step(Event::StillCaptured(new_bill.clone()), 31 * S)
        .unwrap();
    assert_eq!(fx, vec![Effect::StopCamera]);
    assert_eq!(m.state().name(), "review", "straight back, not on to FACE");
    assert_eq!(m.still(Side::UtilityBill), Some(&new_bill));
    assert_eq!(m.still(Side::Front).cloned(), front_before);

    let mut cancelled = Machine::with_state(settings(), m.state().clone(), 32 * S);
    let fx = m.step(Event::Input(Input::Confirm), 32 * S).unwrap();
    let [Effect::Submit(sub)] = &fx[..] else {
        panic!("{fx:?}")
    };
    let sides: Vec<_> = sub.images.iter().map(|i| i.side).collect();
    assert_eq!(
        sides,
        [Side::Front, Side::Back, Side::UtilityBill, Side::Face]
    );
    assert_eq!(sub.images[2], new_bill);

    let fx = cancelled.step(Event::Input(Input::Cancel), 33 * S).unwrap();
    assert!(fx.contains(&Effect::Wipe), "{fx:?}");
    assert_eq!(cancelled.still(Side::UtilityBill), None);
}

#[test]
fn a_bill_retake_without_a_proof_of_address_is_refused() {
    let state = State::Review {
        session: full_id_card(),
    };
    let mut m = Machine::with_state(settings(), state.clone(), 0);
    assert!(m
        .step(Event::Input(Input::Retake(Side::UtilityBill)), S)
        .is_err());
    assert_eq!(m.state(), &state);
}

#[test]
fn stills_clear_the_bill_too() {
    let mut stills = super::state::Stills::default();
    stills.set(still(Side::UtilityBill));
    assert!(!stills.is_empty());
    assert!(stills.get(Side::UtilityBill).is_some());
    stills.clear();
    assert!(stills.is_empty());
}

#[test]
fn cameras_switch_for_the_selfie_and_stop_for_the_review() {
    let mut m = Machine::with_state(settings(), capturing(Side::Back, true, true), 0);
    let fx = m.step(Event::StillCaptured(still(Side::Back)), S).unwrap();
    assert_eq!(fx, vec![Effect::StartCamera(Role::Selfie)]);
    assert!(
        !m.allowed_inputs().contains(&InputKind::Capture),
        "not before the camera is ready"
    );
    m.step(Event::CameraStarted, S).unwrap();
    m.step(Event::Input(Input::Capture), S).unwrap();
    let fx = m.step(Event::StillCaptured(still(Side::Face)), S).unwrap();
    assert_eq!(fx, vec![Effect::StopCamera]);
    assert_eq!(m.state().name(), "review");
}

#[test]
fn a_still_for_another_side_is_refused() {
    let state = capturing(Side::Front, true, true);
    let mut m = Machine::with_state(settings(), state.clone(), 0);
    let err = m
        .step(Event::StillCaptured(still(Side::Back)), S)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidState);
    assert_eq!(m.state(), &state);
}

#[test]
fn a_rejected_still_stays_on_the_side_with_a_hint() {
    let mut m = Machine::with_state(settings(), capturing(Side::Front, true, true), 0);
    let f = Failure::ImageRejected {
        side: Side::Front,
        reason: RetakeReason::Api("too blurry".into()),
    };
    let fx = m.step(Event::CaptureFailed(f), S).unwrap();
    assert!(fx.is_empty());
    let v = View::of(&m, S);
    assert_eq!(v.screen, Screen::Capture);
    assert_eq!(v.side, Some(Side::Front));
    let hint = v.hint.unwrap();
    assert_eq!(hint.code, ErrorCode::ImageRetake);
    assert!(hint.message.contains("too blurry"));
    assert!(m.allowed_inputs().contains(&InputKind::Capture));
    // The next good still clears the hint.
    m.step(Event::Input(Input::Capture), S).unwrap();
    m.step(Event::StillCaptured(still(Side::Front)), S).unwrap();
    assert_eq!(View::of(&m, S).hint, None);
}

// The issue's override: a still the framing check refused is held with the
// refusal; staff (with the PIN, checked by the shell) accept it and it is
// the photo that is sent; the audit line names the scanRef, side and rule.
#[test]
fn staff_accept_a_refused_photo_and_it_is_the_one_sent() {
    let mut m = Machine::with_state(settings(), refused(Side::Front, Issue::DocumentTooFar), 0);
    let v = View::of(&m, S);
    assert_eq!(v.side, Some(Side::Front));
    assert_eq!(v.hint.unwrap().detail, Some(Issue::DocumentTooFar));
    assert!(v.allowed.contains(&InputKind::Override), "{:?}", v.allowed);
    assert!(
        v.allowed.contains(&InputKind::Capture),
        "the customer may retake"
    );
    assert_eq!(
        m.still(Side::Front),
        None,
        "nothing taken before staff accept"
    );

    let fx = m.step(Event::Input(Input::Override), 2 * S).unwrap();
    assert_eq!(
        fx,
        vec![Effect::Audit(Audit::PhotoAccepted {
            scan_ref: "scan-1".into(),
            side: Side::Front,
            issue: Issue::DocumentTooFar,
        })]
    );
    // No personal data in the audit line.
    let line = format!("{fx:?}");
    assert!(
        !line.contains("CLIENT-77") && !line.contains("Jonas"),
        "{line}"
    );
    assert_eq!(m.still(Side::Front), Some(&held_photo(Side::Front)));
    let v = View::of(&m, 2 * S);
    assert_eq!(
        (v.screen, v.side, v.hint),
        (Screen::Capture, Some(Side::Back), None)
    );
    let front = v.sides.iter().find(|s| s.side == Side::Front).unwrap();
    assert!(front.taken && front.accepted_by_staff, "{front:?}");
    assert!(!v.allowed.contains(&InputKind::Override));

    // The rest as usual; the accepted photo is what /process gets.
    for side in [Side::Back, Side::Face] {
        if !matches!(m.state(), State::Capturing { session, .. } if session.camera_ready) {
            m.step(Event::CameraStarted, 3 * S).unwrap();
        }
        m.step(Event::Input(Input::Capture), 3 * S).unwrap();
        m.step(Event::StillCaptured(still(side)), 3 * S).unwrap();
    }
    assert_eq!(m.state().name(), "review");
    assert!(View::of(&m, 3 * S).sides[0].accepted_by_staff);
    let fx = m.step(Event::Input(Input::Confirm), 4 * S).unwrap();
    let [Effect::Submit(sub)] = &fx[..] else {
        panic!("{fx:?}")
    };
    assert_eq!(sub.images[0], held_photo(Side::Front));
    // The back office learns which photo staff accepted, and for what.
    assert_eq!(
        sub.accepted_by_staff,
        vec![(Side::Front, Issue::DocumentTooFar)]
    );
}

// Staff may override only the kiosk's framing rules, and only while the
// photo is held: not an image check, not iDenfy's refusal, not once the
// customer takes the photo again.
#[test]
fn only_a_held_framing_refusal_can_be_overridden() {
    let refusal = |reason: RetakeReason| Failure::ImageRejected {
        side: Side::Front,
        reason,
    };
    // An image check refused the still: the photo is dropped.
    let mut m = Machine::with_state(settings(), capturing(Side::Front, true, true), 0);
    m.step(
        Event::StillRefused {
            failure: refusal(Issue::Glare.into()),
            still: held_photo(Side::Front),
        },
        S,
    )
    .unwrap();
    assert!(matches!(
        m.state(),
        State::Capturing {
            held: None,
            hint: Some(_),
            ..
        }
    ));
    assert!(!m.allowed_inputs().contains(&InputKind::Override));
    let before = m.state().clone();
    assert!(m.step(Event::Input(Input::Override), S).is_err());
    assert_eq!(m.state(), &before);

    // A framing refusal without a photo (it failed the image checks too).
    let mut m = Machine::with_state(settings(), capturing(Side::Front, true, true), 0);
    m.step(
        Event::CaptureFailed(refusal(Issue::DocumentTooFar.into())),
        S,
    )
    .unwrap();
    assert!(!m.allowed_inputs().contains(&InputKind::Override));
    assert!(m.step(Event::Input(Input::Override), S).is_err());

    // iDenfy asked for the side again: retake only.
    let mut m = Machine::with_state(
        settings(),
        State::Submitting {
            session: full_id_card(),
        },
        0,
    );
    m.step(
        Event::SubmitFailed(refusal(RetakeReason::Api(
            "Document was not detected in the 'FRONT' photo".into(),
        ))),
        S,
    )
    .unwrap();
    assert_eq!(View::of(&m, S).screen, Screen::Capture);
    assert!(!m.allowed_inputs().contains(&InputKind::Override));
    // iDenfy's reference says the call deactivated the token: if the
    // retake's submit is refused, the kiosk asks /status, not ends.
    let mut again = m.state().session().unwrap().clone();
    assert!(again.maybe_sent);
    again.stills = full_id_card().stills;
    let mut m2 = Machine::with_state(
        settings(),
        State::Submitting {
            session: Box::new(again),
        },
        0,
    );
    let fx = m2
        .step(
            Event::SubmitFailed(Failure::Rejected {
                message: "token is not valid".into(),
            }),
            2 * S,
        )
        .unwrap();
    assert_eq!(
        fx,
        vec![Effect::CheckStatus {
            scan_ref: "scan-1".into()
        }]
    );

    // The customer takes the photo again: the held one goes.
    let mut m = Machine::with_state(settings(), refused(Side::Face, Issue::SeveralFaces), 0);
    assert!(m.allowed_inputs().contains(&InputKind::Override));
    m.step(Event::Input(Input::Capture), S).unwrap();
    assert!(matches!(
        m.state(),
        State::Capturing {
            held: None,
            busy: true,
            ..
        }
    ));
    assert!(!m.allowed_inputs().contains(&InputKind::Override));
    assert!(m.step(Event::Input(Input::Override), S).is_err());
    m.step(Event::StillCaptured(still(Side::Face)), S).unwrap();
    assert_eq!(m.still(Side::Face), Some(&still(Side::Face)));
    assert!(View::of(&m, S).sides.iter().all(|s| !s.accepted_by_staff));
}

// The held photo is the customer's: it goes with the session (cancel, idle,
// a camera that fails), and a retake of an accepted side is the customer's
// photo again.
#[test]
fn a_held_photo_is_wiped_with_the_session_and_a_retake_clears_the_acceptance() {
    for event in [
        Event::Input(Input::Cancel),
        Event::Tick,
        Event::CameraFailed(Failure::Camera {
            code: ErrorCode::CameraLost,
            message: "gone".into(),
        }),
    ] {
        let mut m = Machine::with_state(settings(), refused(Side::Front, Issue::NoDocument), 0);
        m.step(event.clone(), 200 * S).unwrap();
        let kept = format!("{:?}", m.state());
        assert!(!kept.contains("1920x1080"), "{event:?} kept it: {kept}");
    }

    let mut m = Machine::with_state(settings(), refused(Side::Back, Issue::DocumentCut), 0);
    m.step(Event::Input(Input::Override), S).unwrap();
    assert!(View::of(&m, S)
        .sides
        .iter()
        .any(|s| s.side == Side::Back && s.accepted_by_staff));
    m.step(Event::CameraStarted, S).unwrap();
    m.step(Event::Input(Input::Capture), S).unwrap();
    m.step(Event::StillCaptured(still(Side::Face)), S).unwrap();
    m.step(Event::Input(Input::Retake(Side::Back)), S).unwrap();
    m.step(Event::CameraStarted, S).unwrap();
    m.step(Event::Input(Input::Capture), S).unwrap();
    m.step(Event::StillCaptured(still(Side::Back)), S).unwrap();
    assert_eq!(m.state().name(), "review");
    assert!(View::of(&m, S).sides.iter().all(|s| !s.accepted_by_staff));
    // Nor does the back office hear of it.
    let session = m.state().session().unwrap();
    assert!(session.accepted_by_staff.is_empty(), "{session:?}");
}

#[test]
fn a_camera_failure_keeps_the_stills_and_offers_retry_or_the_phone() {
    let mut s = with_stills(id_card(), &[Side::Front]);
    s.camera = Some(Role::Document);
    s.camera_ready = true;
    let state = State::Capturing {
        session: s,
        side: Side::Back,
        retake: false,
        busy: true,
        hint: None,
        held: None,
    };
    for event in [
        Event::CameraFailed(Failure::Camera {
            code: ErrorCode::CameraLost,
            message: "gone".into(),
        }),
        Event::CaptureFailed(Failure::Camera {
            code: ErrorCode::CameraLost,
            message: "gone".into(),
        }),
    ] {
        let mut m = Machine::with_state(settings(), state.clone(), 0);
        let fx = m.step(event, S).unwrap();
        assert_eq!(fx, vec![Effect::StopCamera]);
        let v = View::of(&m, S);
        assert_eq!(v.screen, Screen::Error);
        assert_eq!(v.error.unwrap().code, ErrorCode::CameraLost);
        assert!(m.still(Side::Front).is_some());
        let mut phone = Machine::with_state(settings(), m.state().clone(), S);
        let fx = m.step(Event::Input(Input::Retry), 2 * S).unwrap();
        assert_eq!(fx, vec![Effect::StartCamera(Role::Document)]);
        assert!(matches!(
            m.state(),
            State::Capturing {
                side: Side::Back,
                ..
            }
        ));
        phone
            .step(Event::Input(Input::ContinueOnPhone), 2 * S)
            .unwrap();
        assert_eq!(phone.state().name(), "handoff");
        assert!(
            phone.still(Side::Front).is_none(),
            "the kiosk's stills are dropped"
        );
    }
}

#[test]
fn retake_from_review_replaces_one_side_and_returns_to_review() {
    let (_, mut m) = walk(DocumentType::IdCard, TokenType::Identification);
    let face_before = m.still(Side::Face).cloned();
    let fx = m
        .step(Event::Input(Input::Retake(Side::Front)), 30 * S)
        .unwrap();
    assert_eq!(fx, vec![Effect::StartCamera(Role::Document)]);
    m.step(Event::CameraStarted, 30 * S).unwrap();
    m.step(Event::Input(Input::Capture), 31 * S).unwrap();
    let new_front = Still::new(Side::Front, vec![0xFF, 0xD8, 9, 9], 800, 600);
    let fx = m
        .step(Event::StillCaptured(new_front.clone()), 31 * S)
        .unwrap();
    assert_eq!(fx, vec![Effect::StopCamera]);
    assert_eq!(m.state().name(), "review", "straight back, not on to BACK");
    assert_eq!(m.still(Side::Front), Some(&new_front));
    assert_eq!(m.still(Side::Face).cloned(), face_before);
}

#[test]
fn retake_of_a_side_the_document_lacks_is_refused() {
    let s = with_stills(
        session(Some(DocumentType::Passport), TokenType::Identification),
        &[Side::Front, Side::Face],
    );
    let state = State::Review { session: s };
    let mut m = Machine::with_state(settings(), state.clone(), 0);
    assert!(m.step(Event::Input(Input::Retake(Side::Back)), S).is_err());
    assert_eq!(m.state(), &state);
}

#[test]
fn confirm_submits_every_required_image_in_order_and_kills_the_code() {
    let (_, mut m) = walk(DocumentType::DriverLicense, TokenType::Identification);
    let fx = m.step(Event::Input(Input::Confirm), 40 * S).unwrap();
    let [Effect::Submit(sub)] = &fx[..] else {
        panic!("{fx:?}")
    };
    assert_eq!(sub.scan_ref, "scan-1");
    assert_eq!(sub.auth_token.as_str(), "AUTH-SECRET-1");
    assert_eq!(sub.country, "LT");
    assert_eq!(sub.document_type, DocumentType::DriverLicense);
    let sides: Vec<_> = sub.images.iter().map(|i| i.side).collect();
    assert_eq!(sides, [Side::Front, Side::Back, Side::Face]);
    assert!(!format!("{sub:?}").contains("AUTH-SECRET"));
    let v = View::of(&m, 40 * S);
    assert_eq!(v.screen, Screen::Submitting);
    assert!(!v.can_hand_off);
    assert_eq!(v.seconds_left, None, "the token's clock no longer matters");
}

#[test]
fn submitted_waits_and_drops_the_stills() {
    let mut m = Machine::with_state(
        settings(),
        State::Submitting {
            session: full_id_card(),
        },
        0,
    );
    let fx = m.step(Event::Submitted, 50 * S).unwrap();
    assert!(fx.is_empty());
    let State::Waiting {
        deadline,
        phase,
        session,
        ..
    } = m.state()
    else {
        panic!()
    };
    assert_eq!((*deadline, *phase), (170 * S, WaitPhase::Listening));
    assert!(session.stills.is_empty());
}

#[test]
fn network_failure_at_submit_asks_status_before_any_retry() {
    let submitting = State::Submitting {
        session: full_id_card(),
    };
    let mut m = Machine::with_state(settings(), submitting, 0);
    let fx = m.step(Event::SubmitFailed(network()), S).unwrap();
    assert_eq!(
        fx,
        vec![Effect::CheckStatus {
            scan_ref: "scan-1".into()
        }]
    );
    assert_eq!(View::of(&m, S).screen, Screen::CheckingStatus);
    assert!(m
        .allowed_inputs()
        .iter()
        .all(|k| matches!(k, InputKind::Touch | InputKind::Cancel)));
    let checking = m.state().clone();

    // Unused: the images never arrived; retry submits the same stills.
    let fx = m
        .step(Event::StatusChecked(TokenStatus::Unused), 2 * S)
        .unwrap();
    assert!(fx.is_empty());
    let v = View::of(&m, 2 * S);
    assert_eq!(v.screen, Screen::SubmitFailed);
    assert_eq!(v.error.unwrap().code, ErrorCode::Network);
    let fx = m.step(Event::Input(Input::Retry), 3 * S).unwrap();
    let [Effect::Submit(sub)] = &fx[..] else {
        panic!("{fx:?}")
    };
    assert_eq!(
        sub.images,
        vec![still(Side::Front), still(Side::Back), still(Side::Face)]
    );
    // That retry refused: the first submit may have spent the token after
    // all (the status can say unused for a moment after the images
    // arrived). Ask again rather than end the session and lose its result.
    let fx = m
        .step(
            Event::SubmitFailed(Failure::Rejected {
                message: "token already used".into(),
            }),
            4 * S,
        )
        .unwrap();
    assert_eq!(
        fx,
        vec![Effect::CheckStatus {
            scan_ref: "scan-1".into()
        }]
    );
    assert_eq!(View::of(&m, 4 * S).screen, Screen::CheckingStatus);
    m.step(Event::StatusChecked(TokenStatus::Pending), 5 * S)
        .unwrap();
    assert_eq!(View::of(&m, 5 * S).screen, Screen::Waiting);

    // Status unknown: a retry asks again, never submits blindly.
    let mut m = Machine::with_state(settings(), checking.clone(), 0);
    m.step(Event::StatusFailed(network()), 2 * S).unwrap();
    let fx = m.step(Event::Input(Input::Retry), 3 * S).unwrap();
    assert_eq!(
        fx,
        vec![Effect::CheckStatus {
            scan_ref: "scan-1".into()
        }]
    );
    assert!(m.still(Side::Face).is_some());

    // Already spent: go and wait for the result.
    let mut m = Machine::with_state(settings(), checking.clone(), 0);
    m.step(Event::StatusChecked(TokenStatus::Pending), 2 * S)
        .unwrap();
    assert_eq!(View::of(&m, 2 * S).screen, Screen::Waiting);

    // A result is already known.
    let mut m = Machine::with_state(settings(), checking.clone(), 0);
    m.step(
        Event::StatusChecked(TokenStatus::Done(outcome(OverallStatus::Denied, true))),
        2 * S,
    )
    .unwrap();
    assert_eq!(View::of(&m, 2 * S).result.unwrap().status, "DENIED");

    // Expired or gone: the session ends, wiped.
    for st in [TokenStatus::Expired, TokenStatus::Other("DELETED".into())] {
        let mut m = Machine::with_state(settings(), checking.clone(), 0);
        let fx = m.step(Event::StatusChecked(st), 2 * S).unwrap();
        assert_eq!(fx, vec![Effect::Wipe]);
        assert!(!m.state().holds_customer_data());
    }
}

#[test]
fn submit_failures_each_take_their_own_way() {
    let submitting = State::Submitting {
        session: full_id_card(),
    };
    // 402: a plain staff message, the session ends.
    let mut m = Machine::with_state(settings(), submitting.clone(), 0);
    let fx = m
        .step(Event::SubmitFailed(Failure::OutOfCredits), S)
        .unwrap();
    assert_eq!(fx, vec![Effect::Wipe]);
    let v = View::of(&m, S);
    assert_eq!(v.screen, Screen::Error);
    let e = v.error.unwrap();
    assert_eq!(e.code, ErrorCode::OutOfCredits);
    assert!(e.message.contains("no verification credits"));
    assert_eq!(
        m.allowed_inputs(),
        vec![InputKind::Touch, InputKind::Cancel, InputKind::Finish]
    );

    // 429: refused before processing, so retry submits directly.
    let mut m = Machine::with_state(settings(), submitting.clone(), 0);
    m.step(Event::SubmitFailed(Failure::RateLimited), S)
        .unwrap();
    let fx = m.step(Event::Input(Input::Retry), 2 * S).unwrap();
    assert!(matches!(&fx[..], [Effect::Submit(_)]));

    // A rejected image: back to that side only, the others kept, then review.
    let mut m = Machine::with_state(settings(), submitting.clone(), 0);
    let f = Failure::ImageRejected {
        side: Side::Back,
        reason: Issue::Glare.into(),
    };
    let fx = m.step(Event::SubmitFailed(f), S).unwrap();
    assert_eq!(fx, vec![Effect::StartCamera(Role::Document)]);
    let v = View::of(&m, S);
    assert_eq!((v.screen, v.side), (Screen::Capture, Some(Side::Back)));
    let hint = v.hint.unwrap();
    assert_eq!(hint.detail, Some(Issue::Glare));
    assert!(hint.message.contains("light"), "{}", hint.message);
    assert!(m.still(Side::Front).is_some() && m.still(Side::Face).is_some());
    m.step(Event::CameraStarted, S).unwrap();
    m.step(Event::Input(Input::Capture), S).unwrap();
    m.step(Event::StillCaptured(still(Side::Back)), S).unwrap();
    assert_eq!(m.state().name(), "review");

    // Other refusals end the session.
    for f in [
        Failure::TokenExpired,
        Failure::Unauthorized,
        Failure::Rejected {
            message: "token used".into(),
        },
        Failure::ImageRejected {
            side: Side::Back,
            reason: RetakeReason::Api("x".into()),
        },
    ] {
        let passport = with_stills(
            session(Some(DocumentType::Passport), TokenType::Identification),
            &[Side::Front, Side::Face],
        );
        let state = if matches!(f, Failure::ImageRejected { .. }) {
            // A BACK refused for a passport cannot be retaken: it was never asked for.
            State::Submitting { session: passport }
        } else {
            submitting.clone()
        };
        let mut m = Machine::with_state(settings(), state, 0);
        let fx = m.step(Event::SubmitFailed(f.clone()), S).unwrap();
        assert_eq!(fx, vec![Effect::Wipe], "{f:?}");
        assert!(!m.state().holds_customer_data());
    }
}

#[test]
fn automatic_then_manual_results() {
    let mut m = Machine::with_state(settings(), waiting(WaitPhase::Listening, None), 0);
    let mut auto = outcome(OverallStatus::Suspected, false);
    auto.fraud_tags.push("DOC_MOBILE_PHOTO".into());
    m.step(
        Event::ResultReceived {
            scan_ref: "scan-1".into(),
            outcome: auto,
        },
        10 * S,
    )
    .unwrap();
    let v = View::of(&m, 10 * S);
    assert_eq!(v.screen, Screen::UnderReview);
    let r = v.result.unwrap();
    assert!(!r.final_);
    assert_eq!(
        r.fraud_tags[0].text,
        "the document was photographed off a screen"
    );
    let State::Waiting { deadline, .. } = m.state() else {
        panic!()
    };
    assert_eq!(*deadline, 610 * S, "the manual review gets its own wait");
    let mut manual = outcome(OverallStatus::Suspected, true);
    manual.mismatch_tags.push("SURNAME".into());
    manual.manual_document = Some("DOC_VALIDATED".into());
    m.step(
        Event::ResultReceived {
            scan_ref: "scan-1".into(),
            outcome: manual,
        },
        20 * S,
    )
    .unwrap();
    let v = View::of(&m, 20 * S);
    assert_eq!(v.screen, Screen::Result);
    let r = v.result.unwrap();
    assert_eq!((r.status.as_str(), r.final_), ("SUSPECTED", true));
    assert_eq!(r.headline, "Verified with warnings");
    assert_eq!(r.mismatch_tags[0].code, "SURNAME");
    assert_eq!(r.document.as_deref(), Some("DOC_VALIDATED"));
    let fx = m.step(Event::Input(Input::Finish), 30 * S).unwrap();
    assert_eq!(fx, vec![Effect::Wipe]);
    assert_eq!(m.state(), &State::Start);
}

#[test]
fn results_in_plain_words() {
    for (status, headline) in [
        (OverallStatus::Approved, "Identity verified"),
        (OverallStatus::Denied, "Verification denied"),
        (OverallStatus::Suspected, "Verified with warnings"),
        (
            OverallStatus::Other("ARCHIVED".into()),
            "Result not recognised",
        ),
    ] {
        let state = State::Result {
            scan_ref: "s".into(),
            subject: request().subject(),
            outcome: outcome(status, true),
        };
        let v = View::of(&Machine::with_state(settings(), state, 0), 0);
        assert_eq!(v.result.unwrap().headline, headline);
    }
    let mut o = outcome(OverallStatus::Suspected, true);
    o.fraud_tags.push("SOME_NEW_TAG".into());
    let v = View::of(
        &Machine::with_state(
            settings(),
            State::Result {
                scan_ref: "s".into(),
                subject: request().subject(),
                outcome: o,
            },
            0,
        ),
        0,
    );
    assert_eq!(
        v.result.unwrap().fraud_tags[0].text,
        "some new tag",
        "unknown tags still read"
    );
}

#[test]
fn a_result_for_another_scan_ref_is_refused() {
    let state = waiting(WaitPhase::Listening, None);
    let mut m = Machine::with_state(settings(), state.clone(), 0);
    let err = m
        .step(
            Event::ResultReceived {
                scan_ref: "other".into(),
                outcome: outcome(OverallStatus::Approved, true),
            },
            S,
        )
        .unwrap_err();
    assert!(matches!(err, Error::ForeignResult { .. }));
    assert_eq!(err.code(), ErrorCode::InvalidState);
    assert_eq!(m.state(), &state);
}

#[test]
fn a_result_can_overtake_the_submit_response_or_end_a_capture() {
    for state in [
        State::Submitting {
            session: full_id_card(),
        },
        capturing(Side::Back, true, false),
        State::Choice {
            session: session(None, TokenType::Identification),
        },
    ] {
        let camera_on = state.session().is_some_and(|s| s.camera.is_some());
        let mut m = Machine::with_state(settings(), state, 0);
        let fx = m
            .step(
                Event::ResultReceived {
                    scan_ref: "scan-1".into(),
                    outcome: outcome(OverallStatus::Approved, true),
                },
                S,
            )
            .unwrap();
        assert_eq!(
            fx,
            if camera_on {
                vec![Effect::StopCamera]
            } else {
                vec![]
            }
        );
        assert_eq!(m.state().name(), "result");
        assert!(m.still(Side::Front).is_none());
    }
}

#[test]
fn no_webhook_in_time_offers_one_status_check() {
    // Last activity at 150 s: the idle reset (at 270 s) stays out of the way.
    let mut m = Machine::with_state(settings(), waiting(WaitPhase::Listening, None), 150 * S);
    m.step(Event::Tick, 199 * S).unwrap();
    assert_eq!(View::of(&m, 199 * S).screen, Screen::Waiting);
    assert!(!m.allowed_inputs().contains(&InputKind::CheckStatus));
    m.step(Event::Tick, 200 * S).unwrap();
    assert_eq!(View::of(&m, 200 * S).screen, Screen::NoResultYet);
    let fx = m.step(Event::Input(Input::CheckStatus), 201 * S).unwrap();
    assert_eq!(
        fx,
        vec![Effect::CheckStatus {
            scan_ref: "scan-1".into()
        }]
    );
    assert_eq!(View::of(&m, 201 * S).screen, Screen::CheckingResult);
    assert!(
        m.step(Event::Input(Input::CheckStatus), 201 * S).is_err(),
        "one at a time"
    );
    // Failed check: offered again, with the reason.
    m.step(Event::StatusFailed(network()), 202 * S).unwrap();
    let v = View::of(&m, 202 * S);
    assert_eq!(v.screen, Screen::NoResultYet);
    assert_eq!(v.error.unwrap().code, ErrorCode::Network);
    // Still processing: wait again (no polling: the next check only after another wait).
    m.step(Event::Input(Input::CheckStatus), 203 * S).unwrap();
    m.step(Event::StatusChecked(TokenStatus::Pending), 204 * S)
        .unwrap();
    let State::Waiting {
        deadline, phase, ..
    } = m.state()
    else {
        panic!()
    };
    assert_eq!((*deadline, *phase), (324 * S, WaitPhase::Listening));
    // Found: shown like a webhook result.
    let mut m = Machine::with_state(settings(), waiting(WaitPhase::Checking, None), 0);
    m.step(
        Event::StatusChecked(TokenStatus::Done(outcome(OverallStatus::Approved, true))),
        S,
    )
    .unwrap();
    assert_eq!(m.state().name(), "result");
}

#[test]
fn token_expiry_before_and_after_the_session_starts() {
    // Not started: expiryTime (600 s) counts.
    let mut m = Machine::with_state(
        settings(),
        State::Choice {
            session: session(None, TokenType::Identification),
        },
        0,
    );
    for t in [100, 200, 300, 400, 500] {
        m.step(Event::Input(Input::Touch), t * S).unwrap();
    }
    m.step(Event::Tick, 599 * S).unwrap();
    assert_eq!(View::of(&m, 599 * S).seconds_left, Some(1));
    let fx = m.step(Event::Tick, 600 * S).unwrap();
    assert_eq!(fx, vec![Effect::Wipe]);
    assert_eq!(
        View::of(&m, 600 * S).error.unwrap().code,
        ErrorCode::TokenExpired
    );

    // Started at 100 s: sessionLength (300 s) counts, so 400 s.
    let mut m = Machine::with_state(
        settings(),
        State::Choice {
            session: session(None, TokenType::Identification),
        },
        100 * S,
    );
    m.step(
        Event::Input(Input::VerifyHere(DocumentType::Passport)),
        100 * S,
    )
    .unwrap();
    let v = View::of(&m, 101 * S);
    assert_eq!(v.countdown, Some(crate::session::view::Countdown::Session));
    assert_eq!(v.seconds_left, Some(299));
    m.step(Event::Input(Input::Touch), 300 * S).unwrap();
    let fx = m.step(Event::Tick, 400 * S).unwrap();
    assert_eq!(fx, vec![Effect::Wipe]);
    assert_eq!(m.state().name(), "failed");

    // Started late (at 500 s): the token still dies at its expiry (600 s).
    let mut s = session(Some(DocumentType::Passport), TokenType::Identification);
    s.started_at = Some(500 * S);
    assert_eq!(s.deadline(), 600 * S);

    // Expiry applies on every screen before /process, and not after it.
    for (name, state) in states() {
        let mut m = Machine::with_state(settings(), state, 590 * S);
        let fx = m.step(Event::Tick, 600 * S).unwrap();
        let expires = matches!(
            name,
            "choice"
                | "capturing/starting"
                | "capturing/ready"
                | "capturing/busy"
                | "capturing/refused"
                | "review"
                | "submitFailed/unspent"
                | "submitFailed/unknown"
                | "failed/camera"
                | "failed/camera-retrying"
        );
        let sample_started = name != "choice";
        if expires && sample_started {
            // The samples with a document started at 0: sessionLength (300 s) ran out first.
            assert_eq!(fx, vec![Effect::Wipe], "{name}");
        } else if expires {
            assert_eq!(fx, vec![Effect::Wipe], "{name}");
        } else if name != "handoff" {
            assert!(!fx.contains(&Effect::Wipe), "{name}");
        }
    }
}

#[test]
fn handoff_shows_the_code_until_it_expires_then_keeps_waiting_without_it() {
    let mut m = Machine::with_state(
        settings(),
        State::Choice {
            session: session(None, TokenType::Identification),
        },
        0,
    );
    let fx = m.step(Event::Input(Input::ContinueOnPhone), S).unwrap();
    assert!(fx.is_empty());
    let v = View::of(&m, S);
    assert_eq!(v.screen, Screen::Handoff);
    assert_eq!(v.digit_string.as_deref(), Some("12345678"));
    assert_eq!(v.seconds_left, Some(599));
    for t in [100, 200, 300, 400, 500, 599] {
        m.step(Event::Input(Input::Touch), t * S).unwrap();
    }
    m.step(Event::Tick, 600 * S).unwrap();
    let v = View::of(&m, 600 * S);
    assert_eq!(v.screen, Screen::Waiting);
    assert_eq!(v.digit_string, None, "a dead code is never shown");
    let State::Waiting { deadline, .. } = m.state() else {
        panic!()
    };
    assert_eq!(*deadline, 600 * S + 300 * S + 120 * S);
    m.step(
        Event::ResultReceived {
            scan_ref: "scan-1".into(),
            outcome: outcome(OverallStatus::Approved, true),
        },
        700 * S,
    )
    .unwrap();
    assert_eq!(m.state().name(), "result");
}

#[test]
fn the_kiosk_may_take_over_from_the_handoff_until_process() {
    let mut m = Machine::with_state(
        settings(),
        State::Handoff {
            session: session(None, TokenType::Identification),
        },
        0,
    );
    let fx = m
        .step(Event::Input(Input::VerifyHere(DocumentType::Passport)), S)
        .unwrap();
    assert_eq!(fx, vec![Effect::StartCamera(Role::Document)]);
    assert_eq!(View::of(&m, S).digit_string, None);
    // ...and hand back to the phone from the capture, dropping the stills.
    m.step(Event::CameraStarted, S).unwrap();
    m.step(Event::Input(Input::Capture), S).unwrap();
    m.step(Event::StillCaptured(still(Side::Front)), S).unwrap();
    let fx = m.step(Event::Input(Input::ContinueOnPhone), 2 * S).unwrap();
    assert_eq!(fx, vec![Effect::StopCamera]);
    assert_eq!(m.state().name(), "handoff");
    assert!(m.still(Side::Front).is_none());
}

#[test]
fn a_document_staff_did_not_allow_is_refused() {
    let mut s = session(None, TokenType::Identification);
    s.request.documents = vec![DocumentType::Passport];
    for state in [
        State::Choice { session: s.clone() },
        State::Handoff { session: s },
    ] {
        let mut m = Machine::with_state(settings(), state.clone(), 0);
        let err = m
            .step(Event::Input(Input::VerifyHere(DocumentType::IdCard)), S)
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidInput);
        assert!(err.to_string().contains("ID_CARD"));
        assert_eq!(m.state(), &state);
        assert_eq!(View::of(&m, S).documents, vec![DocumentType::Passport]);
    }
}

#[test]
fn finish_from_under_review_and_from_errors_wipes() {
    for state in [
        waiting(
            WaitPhase::Listening,
            Some(outcome(OverallStatus::Approved, false)),
        ),
        State::Failed {
            failure: Failure::OutOfCredits,
            resume: None,
        },
        State::Failed {
            failure: network(),
            resume: Some(Resume::CreateToken(request())),
        },
    ] {
        let mut m = Machine::with_state(settings(), state, 0);
        assert_eq!(
            m.step(Event::Input(Input::Finish), S).unwrap(),
            vec![Effect::Wipe]
        );
        assert_eq!(m.state(), &State::Start);
    }
}

/// The view is what reaches the webview: no credential and nothing that
/// names the customer, on any screen. The client ID shows only with a
/// result, so staff know whose result they read.
#[test]
fn the_view_never_carries_secrets_or_names() {
    for (name, state) in states() {
        let m = Machine::with_state(settings(), state, 0);
        let mut value = serde_json::to_value(View::of(&m, S)).unwrap();
        if let Some(r) = value["result"].as_object_mut() {
            assert_eq!(r.remove("clientId").unwrap(), "CLIENT-77", "{name}");
        }
        let json = value.to_string();
        for secret in ["AUTH-SECRET", "Jonas", "Jonaitis", "CLIENT-77"] {
            assert!(!json.contains(secret), "{name}: {json}");
        }
        let shows_code = json.contains("12345678");
        assert_eq!(shows_code, name == "handoff", "{name}: {json}");
    }
}

#[test]
fn the_view_is_camel_case() {
    let m = Machine::with_state(settings(), capturing(Side::Front, true, false), 0);
    let json = serde_json::to_value(View::of(&m, S)).unwrap();
    assert_eq!(json["screen"], "capture");
    assert_eq!(json["side"], "FRONT");
    assert_eq!(json["documentType"], "ID_CARD");
    assert_eq!(json["cameraReady"], true);
    assert_eq!(
        json["allowed"],
        serde_json::json!(["touch", "cancel", "capture", "continueOnPhone"])
    );
    assert!(json["secondsLeft"].is_u64());
}

#[test]
fn settings_follow_the_kiosk_config() {
    let mut kiosk = crate::config::KioskConfig {
        default_country: Some("LT".into()),
        documents: vec![DocumentType::Passport, DocumentType::IdCard],
        language: "lt".into(),
        idle_timeout: std::time::Duration::from_secs(120),
        kiosk_mode: false,
        staff_pin_hash: None,
    };
    let s = Settings::from_kiosk(&kiosk);
    assert_eq!((s.idle_timeout_ms, s.idle_warning_ms), (120 * S, 20 * S));
    kiosk.idle_timeout = std::time::Duration::from_secs(40);
    assert_eq!(Settings::from_kiosk(&kiosk).idle_warning_ms, 10 * S);
    let r = StartRequest::with_defaults("C-1", &kiosk);
    assert_eq!(r.country.as_deref(), Some("LT"));
    assert_eq!(r.documents, [DocumentType::Passport, DocumentType::IdCard]);
    assert_eq!(r.locale.as_deref(), Some("lt"));
}

/// After the code of a handoff expired, an unused token means the customer
/// never started on the phone: no result can come, so the wait ends.
#[test]
fn an_unused_token_past_its_lifetime_ends_the_wait() {
    let mut s = session(None, TokenType::Identification);
    s.digits_dead = true;
    let state = State::Waiting {
        session: s,
        auto: None,
        deadline: 1000 * S,
        phase: WaitPhase::Checking,
        last_error: None,
    };
    let mut m = Machine::with_state(settings(), state.clone(), 590 * S);
    m.step(Event::StatusChecked(TokenStatus::Unused), 599 * S)
        .unwrap();
    assert_eq!(m.state().name(), "waiting", "still within expiryTime");
    let mut m = Machine::with_state(settings(), state, 590 * S);
    let fx = m
        .step(Event::StatusChecked(TokenStatus::Unused), 600 * S)
        .unwrap();
    assert_eq!(fx, vec![Effect::Wipe]);
    assert_eq!(
        View::of(&m, 600 * S).error.unwrap().code,
        ErrorCode::TokenExpired
    );
}

#[test]
fn behind_a_camera_error_the_camera_is_retried_and_the_capture_resumes() {
    let mut s = with_stills(id_card(), &[Side::Front]);
    s.camera = Some(Role::Document);
    s.camera_ready = true;
    let capturing = State::Capturing {
        session: s,
        side: Side::Back,
        retake: false,
        busy: false,
        hint: None,
        held: None,
    };
    let lost = || {
        Event::CameraFailed(Failure::Camera {
            code: ErrorCode::CameraLost,
            message: "unplugged".into(),
        })
    };
    let mut m = Machine::with_state(settings(), capturing, 10 * S);
    assert_eq!(m.step(lost(), 10 * S).unwrap(), vec![Effect::StopCamera]);
    // Not before the retry period, then once.
    let t = 10 * S + CAMERA_RETRY_MS;
    assert_eq!(m.step(Event::Tick, t - 1).unwrap(), vec![]);
    assert_eq!(
        m.step(Event::Tick, t).unwrap(),
        vec![Effect::StartCamera(Role::Document)]
    );
    assert_eq!(m.step(Event::Tick, t + 1).unwrap(), vec![], "one at a time");
    // Still away: the first reason stays on screen, and another try later.
    let fx = m
        .step(
            Event::CameraFailed(Failure::Camera {
                code: ErrorCode::CameraUnavailable,
                message: "no camera".into(),
            }),
            t + 100,
        )
        .unwrap();
    assert_eq!(fx, vec![Effect::StopCamera]);
    let v = View::of(&m, t + 100);
    assert_eq!(v.error.unwrap().code, ErrorCode::CameraLost);
    let t2 = t + 100 + CAMERA_RETRY_MS;
    assert_eq!(
        m.step(Event::Tick, t2).unwrap(),
        vec![Effect::StartCamera(Role::Document)]
    );
    // Back: capture resumes on BACK with FRONT kept, and the camera is watched.
    assert_eq!(
        m.step(Event::CameraStarted, t2 + 50).unwrap(),
        vec![Effect::WatchCamera]
    );
    let v = View::of(&m, t2 + 50);
    assert_eq!(v.screen, Screen::Capture);
    assert_eq!(v.side, Some(Side::Back));
    assert!(v.camera_ready);
    assert!(m.still(Side::Front).is_some());
    // The camera coming and going is not the customer: idle time still counts.
    assert_eq!(m.last_activity(), 10 * S);
}

// Regression: the idle reset ran only during a session, so a start form
// filled in and left (client ID, names, expected data) stayed for the next
// person at the kiosk.
#[test]
fn idle_time_wipes_a_start_screen_that_was_used() {
    let mut m = Machine::new(settings(), 0);
    // Untouched, the start screen is never reset (nothing to wipe).
    assert!(m.step(Event::Tick, 500 * S).unwrap().is_empty());
    assert_eq!(View::of(&m, 500 * S).idle_seconds_left, None);
    assert_eq!(View::of(&m, 500 * S).wipes, 0);
    // Staff types into the form: the UI sends touches.
    m.step(Event::Input(Input::Touch), 600 * S).unwrap();
    assert_eq!(View::of(&m, 700 * S).idle_seconds_left, Some(20));
    assert!(m.step(Event::Tick, 720 * S - 1).unwrap().is_empty());
    assert_eq!(m.step(Event::Tick, 720 * S).unwrap(), vec![Effect::Wipe]);
    assert_eq!(m.state(), &State::Start);
    let v = View::of(&m, 720 * S);
    assert_eq!(v.wipes, 1, "the UI clears its form when this changes");
    assert_eq!(v.idle_seconds_left, None);
    // Disarmed again until the next use.
    assert!(m.step(Event::Tick, 2000 * S).unwrap().is_empty());
    assert_eq!(View::of(&m, 2000 * S).wipes, 1);
}

#[test]
fn a_refused_start_form_arms_the_idle_reset_too() {
    let mut m = Machine::new(settings(), 0);
    let mut bad = request();
    bad.client_id = String::new();
    assert!(m.step(Event::Input(Input::Start(bad)), 10 * S).is_err());
    assert_eq!(m.state(), &State::Start);
    assert!(m.step(Event::Tick, 130 * S - 1).unwrap().is_empty());
    assert_eq!(m.step(Event::Tick, 130 * S).unwrap(), vec![Effect::Wipe]);
    assert_eq!(View::of(&m, 130 * S).wipes, 1);
}

#[test]
fn every_wipe_is_counted_in_the_view() {
    let mut m = Machine::with_state(settings(), waiting(WaitPhase::Listening, None), 0);
    m.step(Event::Input(Input::Cancel), S).unwrap();
    assert_eq!(View::of(&m, S).wipes, 1);
    let mut m = Machine::with_state(
        settings(),
        State::Result {
            scan_ref: "scan-1".into(),
            subject: request().subject(),
            outcome: outcome(OverallStatus::Approved, true),
        },
        0,
    );
    m.step(Event::Input(Input::Finish), S).unwrap();
    let v = View::of(&m, S);
    assert_eq!((v.screen, v.wipes), (Screen::Start, 1));
    assert!(v.result.is_none() && v.scan_ref.is_none());
}

#[test]
fn the_result_names_the_client_and_the_fields_cross_checked() {
    let mut state = waiting(WaitPhase::Listening, None);
    if let State::Waiting { session, .. } = &mut state {
        session.request.date_of_birth = Some("1990-01-31".into());
        session.request.document_number = Some("  ".into());
    }
    let mut m = Machine::with_state(settings(), state, 0);
    let mut o = outcome(OverallStatus::Suspected, true);
    o.mismatch_tags.push("DATE_OF_BIRTH".into());
    m.step(
        Event::ResultReceived {
            scan_ref: "scan-1".into(),
            outcome: o,
        },
        S,
    )
    .unwrap();
    let v = View::of(&m, S);
    assert_eq!(v.screen, Screen::Result);
    let r = v.result.clone().unwrap();
    assert_eq!(r.client_id, "CLIENT-77");
    // A blank document number was not sent, so not compared.
    assert_eq!(
        r.expected,
        vec![
            ExpectedField::FirstName,
            ExpectedField::LastName,
            ExpectedField::DateOfBirth
        ]
    );
    assert_eq!(r.mismatch_tags[0].code, "DATE_OF_BIRTH");
    let json = serde_json::to_value(&v).unwrap();
    assert_eq!(json["result"]["clientId"], "CLIENT-77");
    assert_eq!(
        json["result"]["expected"],
        serde_json::json!(["firstName", "lastName", "dateOfBirth"])
    );
    // Names are never in the view, only which fields were compared.
    let text = json.to_string();
    assert!(
        !text.contains("Jonas") && !text.contains("1990-01-31"),
        "{text}"
    );
}

#[test]
fn nothing_cross_checked_without_expected_data() {
    let mut r = StartRequest::new("C-1", "LT");
    assert!(r.expected_fields().is_empty());
    r.last_name = Some("Jonaitis".into());
    assert_eq!(r.subject().expected, vec![ExpectedField::LastName]);
    assert_eq!(r.subject().client_id, "C-1");
}

/// The phone's result arriving while the camera's error screen shows (the
/// customer went back to verify here, the camera failed): it settles the
/// session instead of being refused and lost, and the camera is stopped.
#[test]
fn a_result_on_the_camera_error_screen_settles_the_session() {
    for (name, state) in states() {
        if !name.starts_with("failed/camera") {
            continue;
        }
        let mut m = Machine::with_state(settings(), state, 10 * S);
        m.step(
            Event::ResultReceived {
                scan_ref: "scan-1".into(),
                outcome: outcome(OverallStatus::Approved, true),
            },
            11 * S,
        )
        .unwrap();
        assert!(
            matches!(m.state(), State::Result { .. }),
            "{name}: {:?}",
            m.state()
        );
        // The session (and its photos) went with it.
        assert!(m.still(Side::Front).is_none(), "{name}");
        assert_eq!(View::of(&m, 11 * S).screen, Screen::Result, "{name}");
    }
}
