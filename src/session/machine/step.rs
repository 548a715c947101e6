//! The transition function [`step`], split by state: one `on_*` function
//! per state (or pair of states) holds that state's transitions; the clock
//! ([`Event::Tick`]) and the inputs that apply everywhere come first. Pure:
//! no I/O, no async, no clock of its own.

use super::{
    Audit, Effect, Event, Input, Resume, Session, Settings, State, WaitPhase, CAMERA_RETRY_MS,
};
use crate::idenfy::{country, validate};
use crate::session::types::{
    Failure, Millis, Outcome, RetakeReason, Side, StartRequest, TokenStatus,
};
use crate::session::{convert, qr, Error};

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
    /// Someone used the start screen since the last wipe: its form may hold
    /// a customer's client ID, names and expected data, so the idle reset
    /// applies there too.
    pub start_touched: bool,
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

/// The start form, normalised (client id trimmed, country upper-cased, a
/// blank country dropped) and checked against the token request's
/// documented rules, which live once, in [`crate::idenfy::validate`].
///
/// # Errors
/// [`Error::InvalidInput`] naming the first field that breaks a rule (as the
/// API spells it).
pub fn validate_request(mut r: StartRequest) -> Result<StartRequest, Error> {
    r.client_id = r.client_id.trim().to_owned();
    r.country = r
        .country
        .take()
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .map(|c| country::normalize(&c).unwrap_or(c));
    validate::check_token_request(&convert::token_request(&r, None))?;
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
            held: None,
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
        // Kept for the result screen: the client ID and which fields were
        // compared, not their values.
        let subject = session.request.subject();
        // The session (names, stills, token) is dropped, so zeroized, here.
        drop(session);
        Ok((
            State::Result {
                scan_ref,
                subject,
                outcome,
            },
            fx,
        ))
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

/// The transition function: the clock, the inputs that apply everywhere
/// (touch, cancel, a result for this session), then the current state's own
/// transitions.
///
/// # Errors
/// [`Rejected`] (with the state unchanged) when the event does not apply in
/// this state, or its payload is invalid (a side the document does not have,
/// a result for another scanRef, a start form that fails validation).
pub fn step(ctx: &Context, state: State, event: Event, now: Millis) -> Step {
    // The clock first: idle reset from anywhere, then expiry and wait limits.
    if let Event::Tick = event {
        return tick(ctx, state, now);
    }
    match event {
        Event::Input(Input::Touch) => return Ok((state, Vec::new())),
        Event::Input(Input::Cancel) if !matches!(state, State::Start) && !in_flight(&state) => {
            return wipe_to_start()
        }
        // Every state holding a session takes its result, the camera's
        // error screen too (the phone's result can arrive there).
        Event::ResultReceived { scan_ref, outcome } if state.session().is_some() => {
            return result_received(ctx, state, scan_ref, outcome, now);
        }
        _ => {}
    }
    match state {
        State::Start => on_start(state, event),
        State::CreatingToken { .. } => on_creating_token(state, event, now),
        State::Choice { .. } | State::Handoff { .. } => on_choice(state, event, now),
        State::Capturing { .. } => on_capturing(state, event, now),
        State::Review { .. } => on_review(state, event),
        State::Submitting { .. } => on_submitting(ctx, state, event, now),
        State::CheckingStatus { .. } => on_checking_status(ctx, state, event, now),
        State::SubmitFailed { .. } => on_submit_failed(state, event),
        State::Waiting { .. } => on_waiting(ctx, state, event, now),
        State::Result { .. } => on_result(state, event),
        State::Failed { .. } => on_failed(state, event, now),
    }
}

/// A webhook result for the session in progress (any state that has one
/// but an error screen): it settles the session, or starts the wait for the
/// manual review.
fn result_received(
    ctx: &Context,
    state: State,
    scan_ref: String,
    result: Outcome,
    now: Millis,
) -> Step {
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
    match state {
        State::Choice { session }
        | State::Handoff { session }
        | State::Capturing { session, .. }
        | State::Review { session }
        | State::Submitting { session }
        | State::CheckingStatus { session, .. }
        | State::SubmitFailed { session, .. }
        | State::Waiting { session, .. }
        | State::Failed {
            resume: Some(Resume::Camera { session, .. }),
            ..
        } => outcome(ctx, session, result, now),
        state => reject(
            state,
            &Event::ResultReceived {
                scan_ref,
                outcome: result,
            },
        ),
    }
}

/// The start screen: the start form, once it passes validation.
fn on_start(state: State, event: Event) -> Step {
    match (state, event) {
        (State::Start, Event::Input(Input::Start(req))) => match validate_request(req) {
            Ok(req) => {
                let fx = vec![Effect::CreateToken(req.clone())];
                Ok((State::CreatingToken { request: req }, fx))
            }
            Err(error) => reject_with(State::Start, error),
        },
        (state, event) => reject(state, &event),
    }
}

/// `POST /token` under way.
fn on_creating_token(state: State, event: Event, now: Millis) -> Step {
    match (state, event) {
        (State::CreatingToken { request }, Event::TokenCreated(mut token)) => {
            // A malformed code could only produce a QR nobody can use.
            if token
                .digit_string
                .as_deref()
                .is_some_and(|d| qr::validate(d).is_err())
            {
                token.digit_string = None;
            }
            let fx = vec![Effect::WatchResults {
                scan_ref: token.scan_ref.clone(),
            }];
            let session = Box::new(Session::new(request, token, now));
            Ok((State::Choice { session }, fx))
        }
        (State::CreatingToken { request }, Event::TokenFailed(f)) => {
            if f.is_transient() {
                Ok((
                    State::Failed {
                        failure: f,
                        resume: Some(Resume::CreateToken(request)),
                    },
                    Vec::new(),
                ))
            } else {
                fail_terminal(f)
            }
        }
        (state, event) => reject(state, &event),
    }
}

/// The choice screen, and the handoff (the customer may still come back to
/// the kiosk from there): verify here with a document staff allowed.
fn on_choice(state: State, event: Event, now: Millis) -> Step {
    match (state, event) {
        (state, Event::Input(Input::VerifyHere(doc)))
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
        // The token may be created without a country (the customer picks it
        // in the mobile app), but `/process` needs one: verifying here
        // without it would fail only after every photo was taken.
        (state, Event::Input(Input::VerifyHere(_)))
            if state.session().is_some_and(|s| s.request.country.is_none()) =>
        {
            reject_with(
                state,
                Error::InvalidInput {
                    field: "country",
                    reason: "is required to verify on the kiosk; continue on the phone, \
                             or start again with the document country"
                        .into(),
                },
            )
        }
        (
            State::Choice { mut session } | State::Handoff { mut session },
            Event::Input(Input::VerifyHere(doc)),
        ) => {
            session.document = Some(doc);
            session.started_at.get_or_insert(now);
            capture(session, Side::Front, false, None)
        }
        (State::Choice { session }, Event::Input(Input::ContinueOnPhone))
            if session.can_hand_off() =>
        {
            hand_off(session)
        }
        (state, event) => reject(state, &event),
    }
}

/// The capture of one side: the camera comes and goes, a still is taken,
/// refused (retake with a hint; a framing refusal also holds the photo for
/// staff) or kept (next side, or the review), or staff accept the refused
/// photo as taken.
fn on_capturing(state: State, event: Event, now: Millis) -> Step {
    let State::Capturing {
        mut session,
        side,
        retake,
        busy,
        hint,
        held,
    } = state
    else {
        return reject(state, &event);
    };
    match event {
        Event::CameraStarted => {
            session.camera_ready = true;
            Ok((
                State::Capturing {
                    session,
                    side,
                    retake,
                    busy,
                    hint,
                    held,
                },
                vec![Effect::WatchCamera],
            ))
        }
        Event::CameraFailed(f) => camera_away(session, side, retake, f, now),
        // A new attempt: the photo held for staff goes (zeroized on drop).
        Event::Input(Input::Capture) if !busy && session.camera_ready => Ok((
            State::Capturing {
                session,
                side,
                retake,
                busy: true,
                hint,
                held: None,
            },
            vec![Effect::CaptureStill(side)],
        )),
        Event::StillCaptured(still) if busy && still.side == side => {
            session.stills.set(still);
            session.accepted_by_staff.retain(|(s, _)| *s != side);
            taken(session, side, retake, Vec::new())
        }
        Event::StillRefused { failure, still }
            if busy && still.side == side && failure.is_overridable() =>
        {
            Ok((
                State::Capturing {
                    session,
                    side,
                    retake,
                    busy: false,
                    hint: Some(failure),
                    held: Some(still),
                },
                Vec::new(),
            ))
        }
        // Not a refusal staff may override: the photo is dropped and the
        // refusal handled as any other.
        Event::StillRefused { failure, still } if busy && still.side == side => {
            drop(still);
            capture_failed(session, side, retake, failure)
        }
        Event::CaptureFailed(f) if busy => capture_failed(session, side, retake, f),
        Event::Input(Input::Override) if !busy => match (held, refused_for(hint.as_ref())) {
            (Some(still), Some(issue)) => {
                session.stills.set(still);
                session.accepted_by_staff.retain(|(s, _)| *s != side);
                session.accepted_by_staff.push((side, issue));
                let fx = vec![Effect::Audit(Audit::PhotoAccepted {
                    scan_ref: session.token.scan_ref.clone(),
                    side,
                    issue,
                })];
                taken(session, side, retake, fx)
            }
            (held, _) => reject(
                State::Capturing {
                    session,
                    side,
                    retake,
                    busy,
                    hint,
                    held,
                },
                &Event::Input(Input::Override),
            ),
        },
        Event::Input(Input::ContinueOnPhone) if session.can_hand_off() => hand_off(session),
        event => reject(
            State::Capturing {
                session,
                side,
                retake,
                busy,
                hint,
                held,
            },
            &event,
        ),
    }
}

/// The framing rule a hint names, when staff may override it.
fn refused_for(hint: Option<&Failure>) -> Option<crate::quality::Issue> {
    match hint {
        Some(f @ Failure::ImageRejected { reason, .. }) if f.is_overridable() => reason.issue(),
        _ => None,
    }
}

/// The still of `side` is in the session: on to the next side, or back to
/// the review (after a retake, or the last side), after the effects `fx`.
fn taken(session: Box<Session>, side: Side, retake: bool, mut fx: Vec<Effect>) -> Step {
    let (state, more) = match (retake, session.next_side(side)) {
        (false, Some(next)) => capture(session, next, false, None)?,
        _ => review(session)?,
    };
    fx.extend(more);
    Ok((state, fx))
}

/// A capture that gave no still: a refused photo stays on the side with
/// the reason as a hint; anything else is a camera problem, shown with the
/// stills kept.
fn capture_failed(mut session: Box<Session>, side: Side, retake: bool, f: Failure) -> Step {
    if matches!(f, Failure::ImageRejected { .. }) {
        Ok((
            State::Capturing {
                session,
                side,
                retake,
                busy: false,
                hint: Some(f),
                held: None,
            },
            Vec::new(),
        ))
    } else {
        let mut fx = Vec::new();
        stop_camera(&mut session, &mut fx);
        Ok((
            State::Failed {
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

/// The review: retake a side, send, or switch to the phone.
fn on_review(state: State, event: Event) -> Step {
    match (state, event) {
        (State::Review { session }, Event::Input(Input::Retake(side)))
            if session.required_sides().contains(&side) =>
        {
            capture(session, side, true, None)
        }
        (State::Review { mut session }, Event::Input(Input::Confirm)) => {
            match session.submission() {
                Some(sub) => {
                    // The digit string dies with the /process call, whatever its outcome.
                    session.digits_dead = true;
                    Ok((State::Submitting { session }, vec![Effect::Submit(sub)]))
                }
                None => reject_with(
                    State::Review { session },
                    Error::InvalidInput {
                        field: "images",
                        reason: "a required image is missing".into(),
                    },
                ),
            }
        }
        (State::Review { session }, Event::Input(Input::ContinueOnPhone))
            if session.can_hand_off() =>
        {
            hand_off(session)
        }
        (state, event) => reject(state, &event),
    }
}

/// `POST /process` under way.
fn on_submitting(ctx: &Context, state: State, event: Event, now: Millis) -> Step {
    match (state, event) {
        (State::Submitting { session }, Event::Submitted) => wait(
            session,
            None,
            now.saturating_add(ctx.settings.result_wait_ms),
        ),
        (State::Submitting { session }, Event::SubmitFailed(f)) => submit_failed(session, f),
        (state, event) => reject(state, &event),
    }
}

/// The submit failed on the network: `/status` tells whether it arrived.
fn on_checking_status(ctx: &Context, state: State, event: Event, now: Millis) -> Step {
    match (state, event) {
        (State::CheckingStatus { session, failure }, Event::StatusChecked(st)) => {
            status_known(ctx, session, st, now, |session, st| match st {
                TokenStatus::Unused => Ok((
                    State::SubmitFailed {
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
        (State::CheckingStatus { session, failure }, Event::StatusFailed(_)) => Ok((
            State::SubmitFailed {
                session,
                failure,
                unspent: false,
            },
            Vec::new(),
        )),
        (state, event) => reject(state, &event),
    }
}

/// The submit failed with the stills kept: `Retry` submits again when the
/// token is known to be unspent, and asks `/status` first otherwise.
fn on_submit_failed(state: State, event: Event) -> Step {
    match (state, event) {
        (
            State::SubmitFailed {
                session,
                unspent: true,
                ..
            },
            Event::Input(Input::Retry),
        ) => match session.submission() {
            Some(sub) => Ok((State::Submitting { session }, vec![Effect::Submit(sub)])),
            None => fail_terminal(Failure::Internal {
                message: "images missing after a failed submit".into(),
            }),
        },
        (
            State::SubmitFailed {
                session,
                failure,
                unspent: false,
            },
            Event::Input(Input::Retry),
        ) => {
            // The API deactivates a token after one /process call, so a
            // submit is never repeated blindly: ask /status first.
            let fx = vec![Effect::CheckStatus {
                scan_ref: session.token.scan_ref.clone(),
            }];
            Ok((State::CheckingStatus { session, failure }, fx))
        }
        (state, event) => reject(state, &event),
    }
}

/// Waiting for the webhook: the one-off status check once it is overdue,
/// and `Finish` once a preliminary result is in.
fn on_waiting(ctx: &Context, state: State, event: Event, now: Millis) -> Step {
    match (state, event) {
        (
            State::Waiting {
                session,
                auto,
                deadline,
                phase: WaitPhase::Overdue,
                ..
            },
            Event::Input(Input::CheckStatus),
        ) => {
            let fx = vec![Effect::CheckStatus {
                scan_ref: session.token.scan_ref.clone(),
            }];
            Ok((
                State::Waiting {
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
            State::Waiting {
                session,
                auto,
                phase: WaitPhase::Checking,
                ..
            },
            Event::StatusChecked(st),
        ) => status_known(ctx, session, st, now, |session, _| {
            let wait_ms = if auto.is_some() {
                ctx.settings.review_wait_ms
            } else {
                ctx.settings.result_wait_ms
            };
            wait(session, auto, now.saturating_add(wait_ms))
        }),
        (
            State::Waiting {
                session,
                auto,
                deadline,
                phase: WaitPhase::Checking,
                ..
            },
            Event::StatusFailed(f),
        ) => Ok((
            State::Waiting {
                session,
                auto,
                deadline,
                phase: WaitPhase::Overdue,
                last_error: Some(f),
            },
            Vec::new(),
        )),
        (State::Waiting { auto: Some(_), .. }, Event::Input(Input::Finish)) => wipe_to_start(),
        (state, event) => reject(state, &event),
    }
}

/// The result: `Finish` for the next customer.
fn on_result(state: State, event: Event) -> Step {
    match (state, event) {
        (State::Result { .. }, Event::Input(Input::Finish)) => wipe_to_start(),
        (state, event) => reject(state, &event),
    }
}

/// An error screen: retry what was kept (the token request, or the capture
/// with its stills, which also resumes by itself when the camera is back),
/// switch to the phone, or finish.
fn on_failed(state: State, event: Event, now: Millis) -> Step {
    match (state, event) {
        // The error screen's background retry found the camera: carry on
        // where the customer was.
        (
            State::Failed {
                resume:
                    Some(Resume::Camera {
                        mut session,
                        side,
                        retake,
                    }),
                ..
            },
            Event::CameraStarted,
        ) if session.camera == Some(side.camera()) => {
            session.camera_ready = true;
            let (state, mut fx) = capture(session, side, retake, None)?;
            fx.push(Effect::WatchCamera);
            Ok((state, fx))
        }
        // Still away: keep saying what happened first (a lost camera that
        // cannot be reopened is still "disconnected") and try again later.
        (
            State::Failed {
                failure,
                resume:
                    Some(Resume::Camera {
                        session,
                        side,
                        retake,
                    }),
            },
            Event::CameraFailed(_),
        ) => camera_away(session, side, retake, failure, now),
        (
            State::Failed {
                resume: Some(Resume::CreateToken(request)),
                ..
            },
            Event::Input(Input::Retry),
        ) => {
            let fx = vec![Effect::CreateToken(request.clone())];
            Ok((State::CreatingToken { request }, fx))
        }
        (
            State::Failed {
                resume:
                    Some(Resume::Camera {
                        session,
                        side,
                        retake,
                    }),
                ..
            },
            Event::Input(Input::Retry),
        ) => capture(session, side, retake, None),
        (
            State::Failed {
                resume: Some(Resume::Camera { session, .. }),
                ..
            },
            Event::Input(Input::ContinueOnPhone),
        ) if session.can_hand_off() => hand_off(session),
        (State::Failed { .. }, Event::Input(Input::Finish)) => wipe_to_start(),
        (state, event) => reject(state, &event),
    }
}

fn submit_failed(mut session: Box<Session>, f: Failure) -> Step {
    // A submit refused after one that may have arrived: the refusal may be
    // of a token the first one spent (iDenfy can still say ACTIVE for a
    // moment after it took the images). Ask `/status` rather than end the
    // session and drop that verification's result.
    let maybe_spent = session.maybe_sent
        && matches!(
            f,
            Failure::Rejected { .. } | Failure::TokenExpired | Failure::Internal { .. }
        );
    match f {
        Failure::Network { .. } => session.maybe_sent = true,
        _ if maybe_spent => {}
        _ => return submit_failed_for_sure(session, f),
    }
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

/// [`submit_failed`] when the failure says what happened to the images.
fn submit_failed_for_sure(mut session: Box<Session>, f: Failure) -> Step {
    if let Failure::ImageRejected {
        reason: RetakeReason::Api(_),
        ..
    } = &f
    {
        // iDenfy refused a photo in a 200 answer ("document not detected"):
        // its reference says the token is deactivated by the call, the
        // retake assumes it is not. If the retake's submit is refused, ask
        // `/status` (see `submit_failed`) instead of ending the session.
        session.maybe_sent = true;
    }
    match f {
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

/// Whether the images are on their way (`/process`, or the one `/status`
/// question after it): the token may be spent by now, so neither Cancel nor
/// the idle reset may drop the call or its result. Both states end on their
/// own within the client's time limits.
pub(crate) fn in_flight(state: &State) -> bool {
    matches!(
        state,
        State::Submitting { .. } | State::CheckingStatus { .. }
    )
}

/// A call in flight for this long without ending is broken: the idle reset
/// wipes the session even then (the client's own limits end a `/process`
/// of 20 MB and its `/status` question well before).
pub(crate) const IN_FLIGHT_IDLE_MS: Millis = 15 * 60 * 1000;

/// When the idle reset wipes `state`, the last input having come at
/// `last_activity`: the idle setting after it, but
/// - while a call is [`in_flight`] (or the status question of a late
///   result), only after [`IN_FLIGHT_IDLE_MS`]: the call ends on its own;
/// - while the result of a submission (or of the phone) is awaited, not
///   before the wait's own deadline: the idle time counts from the later of
///   the two, so a quiet kiosk reaches "no result yet" instead of dropping a
///   result that may be paid for.
pub(crate) fn idle_at(settings: &Settings, state: &State, last_activity: Millis) -> Millis {
    let idle = settings.idle_timeout_ms;
    let late_status = matches!(
        state,
        State::Waiting {
            auto: None,
            phase: WaitPhase::Checking,
            ..
        }
    );
    match state {
        s if in_flight(s) || late_status => {
            last_activity.saturating_add(idle.max(IN_FLIGHT_IDLE_MS))
        }
        State::Waiting {
            auto: None,
            deadline,
            ..
        } => last_activity.max(*deadline).saturating_add(idle),
        _ => last_activity.saturating_add(idle),
    }
}

fn tick(ctx: &Context, state: State, now: Millis) -> Step {
    use State as S;
    if (ctx.start_touched || !matches!(state, S::Start))
        && now >= idle_at(&ctx.settings, &state, ctx.last_activity)
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
