//! Property tests of the machine: random event sequences (inputs, the
//! clock, and every outcome an effect can report, in any order and in any
//! state) against the invariants the flow promises.
//!
//! - A refused event leaves the state exactly as it was.
//! - Photos are never lost before `/process`: a still taken stays in the
//!   session until it is replaced by a retake of its side, the images are
//!   known to have reached iDenfy (`Submitted`, or `/status` says pending or
//!   done), a result for the session arrives, the customer moves to the
//!   phone, or the session is wiped (cancel, idle, expiry, a terminal
//!   failure: always with [`Effect::Wipe`]).
//! - A token is never spent twice: once a `/process` was issued for a
//!   token, another one is issued only after an answer that says the first
//!   was refused before processing (429, an image the API names for a
//!   retake) or `/status` says the token is unused.
//! - A submission carries exactly the session's required stills.
//! - After [`Effect::Wipe`] nothing about the customer is held.

use std::collections::HashMap;

use proptest::prelude::*;

use super::*;
use crate::error::ErrorCode;
use crate::quality::Issue;
use crate::session::types::{
    DocumentType, Failure, Outcome, OverallStatus, RetakeReason, StartRequest, TokenInfo,
    TokenStatus, TokenType,
};

/// What happens next, as the driver, staff, the customer or iDenfy make it.
#[derive(Debug, Clone)]
// Test data, a few hundred per case: boxing the start form buys nothing.
#[allow(clippy::large_enum_variant)]
enum Act {
    Start {
        docs: Vec<DocumentType>,
        country: bool,
        digits: bool,
        ty: TokenType,
        /// Staff asked for a proof of address.
        bill: bool,
    },
    TokenCreated {
        ty: TokenType,
        digits: bool,
    },
    TokenFailed(bool),
    Input(Input),
    CameraStarted,
    CameraFailed,
    /// A still for the side being captured (`None`) or for another side.
    StillCaptured(Option<Side>),
    CaptureRejected(Side),
    /// The framing check refused the still of the side being captured and
    /// held it for staff (`true`), or an image check refused it (`false`).
    StillRefused(bool),
    CaptureFailed,
    Submitted,
    SubmitFailed(u8, Side),
    StatusChecked(u8, bool),
    StatusFailed,
    /// A result for this session's scanRef (`true`) or another one.
    Result {
        own: bool,
        final_: bool,
    },
    Tick(u64),
}

fn side() -> impl Strategy<Value = Side> {
    proptest::sample::select(Side::ALL.to_vec())
}

fn document() -> impl Strategy<Value = DocumentType> {
    proptest::sample::select(DocumentType::ALL.to_vec())
}

fn token_type() -> impl Strategy<Value = TokenType> {
    prop_oneof![Just(TokenType::Identification), Just(TokenType::Document)]
}

fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
        1 => document().prop_map(Input::VerifyHere),
        1 => Just(Input::ContinueOnPhone),
        3 => Just(Input::Capture),
        1 => Just(Input::Override),
        1 => side().prop_map(Input::Retake),
        2 => Just(Input::Confirm),
        2 => Just(Input::Retry),
        1 => Just(Input::CheckStatus),
        1 => Just(Input::Cancel),
        1 => Just(Input::Finish),
        1 => Just(Input::Touch),
    ]
}

fn act() -> impl Strategy<Value = Act> {
    prop_oneof![
        2 => (proptest::collection::vec(document(), 0..3), any::<bool>(), any::<bool>(), token_type(), any::<bool>())
            .prop_map(|(docs, country, digits, ty, bill)| Act::Start { docs, country, digits, ty, bill }),
        2 => (token_type(), any::<bool>()).prop_map(|(ty, digits)| Act::TokenCreated { ty, digits }),
        1 => any::<bool>().prop_map(Act::TokenFailed),
        8 => input().prop_map(Act::Input),
        3 => Just(Act::CameraStarted),
        1 => Just(Act::CameraFailed),
        4 => proptest::option::weighted(0.8, side()).prop_map(Act::StillCaptured),
        1 => side().prop_map(Act::CaptureRejected),
        1 => any::<bool>().prop_map(Act::StillRefused),
        1 => Just(Act::CaptureFailed),
        2 => Just(Act::Submitted),
        2 => (0u8..5, side()).prop_map(|(k, s)| Act::SubmitFailed(k, s)),
        2 => (0u8..5, any::<bool>()).prop_map(|(k, f)| Act::StatusChecked(k, f)),
        1 => Just(Act::StatusFailed),
        1 => (any::<bool>(), any::<bool>()).prop_map(|(own, final_)| Act::Result { own, final_ }),
        3 => prop_oneof![
            Just(0u64),
            Just(500),
            Just(3_000),
            Just(30_000),
            Just(130_000),
            Just(700_000)
        ]
        .prop_map(Act::Tick),
    ]
}

fn settings() -> Settings {
    Settings {
        idle_timeout_ms: 120_000,
        idle_warning_ms: 20_000,
        result_wait_ms: 120_000,
        review_wait_ms: 600_000,
    }
}

fn outcome(final_: bool) -> Outcome {
    Outcome::new(OverallStatus::Approved, final_)
}

fn camera_failure() -> Failure {
    Failure::Camera {
        code: ErrorCode::CameraLost,
        message: "unplugged".into(),
    }
}

/// The run's memory across steps: how many tokens were made, the stills
/// ever taken (to tell them apart), and the tokens a `/process` may have spent.
#[derive(Default)]
struct World {
    tokens: u32,
    stills: u32,
    maybe_spent: HashMap<String, bool>,
}

impl World {
    /// Turns an act into the event the driver would deliver now.
    fn event(&mut self, act: &Act, state: &State) -> (Event, u64) {
        let scan_ref = state
            .session()
            .map(|s| s.token.scan_ref.clone())
            .unwrap_or_else(|| format!("scan-{}", self.tokens));
        let e = match act.clone() {
            Act::Start {
                docs,
                country,
                digits,
                ty,
                bill,
            } => {
                let mut r = StartRequest::new("CLIENT-1", if country { "lt" } else { "" });
                r.documents = docs;
                r.generate_digit_string = digits;
                r.token_type = ty;
                r.proof_of_address = bill.then(crate::session::ProofOfAddress::upload);
                Event::Input(Input::Start(r))
            }
            Act::TokenCreated { ty, digits } => {
                self.tokens += 1;
                Event::TokenCreated(TokenInfo {
                    scan_ref: format!("scan-{}", self.tokens),
                    auth_token: format!("auth-{}", self.tokens),
                    digit_string: digits.then(|| "12345678".to_owned()),
                    token_type: ty,
                    expiry_secs: 900,
                    session_length_secs: 600,
                })
            }
            Act::TokenFailed(transient) => Event::TokenFailed(if transient {
                Failure::Network {
                    message: "reset".into(),
                }
            } else {
                Failure::Unauthorized
            }),
            Act::Input(i) => Event::Input(i),
            Act::CameraStarted => Event::CameraStarted,
            Act::CameraFailed => Event::CameraFailed(camera_failure()),
            Act::StillCaptured(side) => {
                let side = side.or(match state {
                    State::Capturing { side, .. } => Some(*side),
                    _ => None,
                });
                self.stills += 1;
                let n = self.stills.to_le_bytes();
                Event::StillCaptured(Still::new(
                    side.unwrap_or(Side::Front),
                    vec![0xFF, 0xD8, n[0], n[1], n[2], n[3]],
                    640,
                    480,
                ))
            }
            Act::CaptureRejected(side) => Event::CaptureFailed(Failure::ImageRejected {
                side,
                reason: RetakeReason::Quality(Issue::Blurry),
            }),
            Act::StillRefused(framing) => {
                let side = match state {
                    State::Capturing { side, .. } => *side,
                    _ => Side::Front,
                };
                self.stills += 1;
                let n = self.stills.to_le_bytes();
                Event::StillRefused {
                    failure: Failure::ImageRejected {
                        side,
                        reason: RetakeReason::Quality(if framing {
                            Issue::DocumentTooFar
                        } else {
                            Issue::Glare
                        }),
                    },
                    still: Still::new(side, vec![0xFF, 0xD8, 0xEE, n[0], n[1], n[2]], 1920, 1080),
                }
            }
            Act::CaptureFailed => Event::CaptureFailed(camera_failure()),
            Act::Submitted => Event::Submitted,
            Act::SubmitFailed(k, side) => Event::SubmitFailed(match k {
                0 => Failure::Network {
                    message: "timeout".into(),
                },
                1 => Failure::RateLimited,
                2 => Failure::ImageRejected {
                    side,
                    reason: RetakeReason::Api(format!(
                        "No image provided for step '{}'",
                        side.as_str()
                    )),
                },
                3 => Failure::OutOfCredits,
                _ => Failure::Rejected {
                    message: "refused".into(),
                },
            }),
            Act::StatusChecked(k, final_) => Event::StatusChecked(match k {
                0 => TokenStatus::Unused,
                1 => TokenStatus::Pending,
                2 => TokenStatus::Done(outcome(final_)),
                3 => TokenStatus::Expired,
                _ => TokenStatus::Other("DELETED".into()),
            }),
            Act::StatusFailed => Event::StatusFailed(Failure::Network {
                message: "down".into(),
            }),
            Act::Result { own, final_ } => Event::ResultReceived {
                scan_ref: if own { scan_ref } else { "scan-foreign".into() },
                outcome: outcome(final_),
            },
            Act::Tick(_) => Event::Tick,
        };
        let dt = match act {
            Act::Tick(dt) => *dt,
            _ => 100,
        };
        (e, dt)
    }
}

/// Whether the event tells that the images reached iDenfy, or that the
/// session is settled: only then may the stills go without a wipe.
fn stills_may_go(event: &Event) -> bool {
    matches!(
        event,
        Event::Submitted
            | Event::StatusChecked(TokenStatus::Pending | TokenStatus::Done(_))
            | Event::ResultReceived { .. }
            | Event::Input(Input::ContinueOnPhone)
    )
}

/// Whether the event says a `/process` for the session's token was refused
/// before processing, or that the token is unused.
fn proves_unspent(event: &Event) -> bool {
    matches!(
        event,
        Event::SubmitFailed(Failure::RateLimited | Failure::ImageRejected { .. })
            | Event::StatusChecked(TokenStatus::Unused)
    )
}

fn check_run(acts: &[Act]) -> Result<(), TestCaseError> {
    let mut m = Machine::new(settings(), 0);
    let mut now = 0u64;
    let mut world = World::default();
    for act in acts {
        let before = m.state().clone();
        let (event, dt) = world.event(act, &before);
        now += dt;
        let event_shown = format!("{event:?}");
        let result = m.step(event.clone(), now);
        let after = m.state();
        let fx = match result {
            Err(_) => {
                prop_assert_eq!(
                    &before,
                    after,
                    "a refused {} changed the state",
                    event_shown
                );
                continue;
            }
            Ok(fx) => fx,
        };
        let wiped = fx.contains(&Effect::Wipe);
        if wiped {
            prop_assert!(
                !after.holds_customer_data(),
                "customer data held after a wipe: {}",
                after.name()
            );
        }

        // Photos are never lost before /process.
        if let Some(s) = before.session() {
            for side in Side::ALL {
                let Some(kept) = s.stills.get(side) else {
                    continue;
                };
                // A new still of the side: taken, or accepted by staff.
                let replaced = matches!(&event, Event::StillCaptured(n) if n.side == side)
                    || matches!(
                        (&event, &before),
                        (Event::Input(Input::Override), State::Capturing { side: s, .. }) if *s == side
                    );
                if wiped || replaced || stills_may_go(&event) {
                    continue;
                }
                let now_held = after.session().and_then(|s| s.stills.get(side));
                prop_assert_eq!(
                    now_held,
                    Some(kept),
                    "the {:?} still was lost: {} --{}--> {}",
                    side,
                    before.name(),
                    event_shown,
                    after.name()
                );
            }
        }

        // A token is never spent twice.
        let scan_ref = before.session().map(|s| s.token.scan_ref.clone());
        if let Some(r) = &scan_ref {
            if proves_unspent(&event) {
                world.maybe_spent.insert(r.clone(), false);
            }
        }
        for e in &fx {
            if let Effect::Submit(sub) = e {
                let session = after.session();
                prop_assert_eq!(
                    Some(&sub.scan_ref),
                    session.map(|s| &s.token.scan_ref),
                    "a submission for another token"
                );
                let spent = world.maybe_spent.entry(sub.scan_ref.clone()).or_default();
                prop_assert!(
                    !*spent,
                    "a second /process for {} without proof the first was refused ({} --{}-->)",
                    sub.scan_ref,
                    before.name(),
                    event_shown
                );
                *spent = true;
                // Exactly the required stills, in order, as taken.
                let s = session.expect("submitting holds the session");
                let want: Vec<&Still> = s
                    .required_sides()
                    .into_iter()
                    .map(|side| s.stills.get(side).expect("a required still"))
                    .collect();
                prop_assert_eq!(sub.images.iter().collect::<Vec<_>>(), want);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        max_shrink_iters: 4096,
        ..ProptestConfig::default()
    })]

    // Random sequences of every event, in every state.
    #[test]
    fn random_event_sequences_keep_photos_and_never_spend_a_token_twice(
        acts in proptest::collection::vec(act(), 1..120)
    ) {
        check_run(&acts)?;
    }

    // Sequences shaped like real sessions (start, token, verify here,
    // camera, stills, confirm) with failures and the clock mixed in, so the
    // deep states (review, submitting, status checks) are reached often.
    #[test]
    fn session_shaped_sequences_keep_the_invariants(
        doc in document(),
        ty in token_type(),
        bill in any::<bool>(),
        noise in proptest::collection::vec((0usize..40, act()), 0..40),
    ) {
        let mut acts = vec![
            Act::Start { docs: vec![], country: true, digits: true, ty, bill },
            Act::TokenCreated { ty, digits: true },
            Act::Input(Input::VerifyHere(doc)),
        ];
        // Up to four sides: FRONT, BACK, UTILITY_BILL, FACE.
        for _ in 0..4 {
            acts.extend([
                Act::CameraStarted,
                Act::Input(Input::Capture),
                Act::StillCaptured(None),
            ]);
        }
        acts.extend([Act::Input(Input::Confirm), Act::SubmitFailed(0, Side::Front),
                     Act::StatusChecked(0, false), Act::Input(Input::Retry), Act::Submitted,
                     Act::Result { own: true, final_: true }]);
        for (at, a) in noise {
            let at = at.min(acts.len());
            acts.insert(at, a);
        }
        check_run(&acts)?;
    }
}

// The two ways a second `/process` for one token is legitimate (a 429, and
// a network failure after which `/status` says the token is unused) are
// taken, and pass the checker; a refusal ends the session with one submit.
#[test]
fn a_rate_limited_submit_may_be_sent_again_and_nothing_else_may() {
    let run = |failure: u8| {
        let mut acts = vec![
            Act::Start {
                docs: vec![DocumentType::Passport],
                country: true,
                digits: false,
                ty: TokenType::Document,
                bill: false,
            },
            Act::TokenCreated {
                ty: TokenType::Document,
                digits: false,
            },
            Act::Input(Input::VerifyHere(DocumentType::Passport)),
            Act::CameraStarted,
            Act::Input(Input::Capture),
            Act::StillCaptured(None),
            Act::Input(Input::Confirm),
            Act::SubmitFailed(failure, Side::Front),
            Act::Input(Input::Retry),
        ];
        if failure == 0 {
            // A network failure: the retry asks /status; unused, then retry.
            acts.extend([Act::StatusChecked(0, false), Act::Input(Input::Retry)]);
        }
        let mut m = Machine::new(settings(), 0);
        let mut world = World::default();
        let mut submits = 0;
        for (i, act) in acts.iter().enumerate() {
            let (event, _) = world.event(act, m.state());
            let fx = m.step(event, 100 * (i as u64 + 1)).unwrap_or_default();
            submits += fx.iter().filter(|e| matches!(e, Effect::Submit(_))).count();
        }
        check_run(&acts).unwrap();
        submits
    };
    assert_eq!(run(1), 2, "429: the token is unspent, Retry submits again");
    assert_eq!(
        run(0),
        2,
        "network: /status said unused, then Retry submits"
    );
    assert_eq!(run(4), 1, "a refusal ends the session: no second submit");
}
