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
//! `Failed` for expiry) with [`Effect::Wipe`] from every state, but while
//! the images are on their way (`Submitting`, `CheckingStatus`: the token may
//! be spent) Cancel is refused and the idle reset waits for the call to end
//! (up to [`step::IN_FLIGHT_IDLE_MS`]), and while a result is awaited the
//! idle time counts from the wait's deadline ([`step::idle_at`]).
//!
//! A token may be created without a document country (the customer then
//! picks it in the mobile app), but verifying here needs one: `/process`
//! requires it, so `VerifyHere` is refused (naming `country`) without it.
//!
//! A camera that fails during capture leads to `Failed` with the stills kept;
//! behind that error screen the camera is tried again every
//! [`CAMERA_RETRY_MS`] and the capture resumes by itself when it is back.
//!
//! - [`state`]: the states, the customer's [`Session`], the time limits.
//! - [`events`]: the [`Input`]s, every [`Event`] and the [`Effect`]s.
//! - [`step`](mod@step): the transition function, split by state.
//! - [`Machine`] (here): a state and its context, and the inputs allowed now.

pub mod events;
pub mod state;
pub mod step;

pub use events::{Audit, Effect, Event, Input, InputKind};
pub use state::{Resume, Session, Settings, State, Stills, WaitPhase};
pub use step::{step, validate_request, Context, Rejected, Step};

use super::types::{Millis, Side, Still};
use super::Error;

/// How often a lost or missing camera is tried again while its error shows.
pub const CAMERA_RETRY_MS: u64 = 3_000;

/// The machine: a state plus what the transitions need, for drivers and tests.
#[derive(Debug)]
pub struct Machine {
    ctx: Context,
    state: State,
    /// How many times the customer's data has been wiped ([`Effect::Wipe`]).
    wipes: u64,
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
                start_touched: false,
            },
            state,
            wipes: 0,
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

    /// Whether the idle reset is armed: always during a session, and on the
    /// start screen once someone has used it (its form may hold customer data).
    #[must_use]
    pub fn idle_armed(&self) -> bool {
        self.ctx.start_touched || !matches!(self.state, State::Start)
    }

    /// When the idle reset will wipe the current state, if no input comes
    /// (later than the setting while the images are on their way or a result
    /// is awaited: [`step::idle_at`]).
    #[must_use]
    pub fn idle_at(&self) -> Millis {
        step::idle_at(&self.ctx.settings, &self.state, self.ctx.last_activity)
    }

    /// How many times the customer's data has been wiped (cancel, idle,
    /// next customer, a failure that ends the session). Whatever a screen
    /// keeps of a customer (the start form) goes when this changes.
    #[must_use]
    pub fn wipes(&self) -> u64 {
        self.wipes
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
        // Someone at the start screen (a touch, or a form that was refused):
        // the form may now hold a customer's data.
        let at_start = matches!(self.state, State::Start)
            && matches!(event, Event::Input(Input::Touch | Input::Start(_)));
        let state = std::mem::replace(&mut self.state, State::Start);
        match step(&self.ctx, state, event, now) {
            Ok((state, fx)) => {
                self.state = state;
                if activity {
                    self.ctx.last_activity = now;
                }
                if at_start {
                    self.ctx.start_touched = true;
                }
                if fx.contains(&Effect::Wipe) {
                    self.wipes += 1;
                    self.ctx.start_touched = false;
                }
                Ok(fx)
            }
            Err(rejected) => {
                let Rejected { state, error } = *rejected;
                self.state = state;
                if at_start {
                    self.ctx.last_activity = now;
                    self.ctx.start_touched = true;
                }
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
        if !matches!(self.state, State::Start) && !step::in_flight(&self.state) {
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
            State::Capturing {
                session,
                busy,
                held,
                ..
            } => {
                if session.camera_ready && !busy {
                    v.push(K::Capture);
                }
                if held.is_some() && !busy {
                    v.push(K::Override);
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
mod props;
#[cfg(test)]
mod tests;
