//! The verification flow: a pure transition function (state + event -> state +
//! effects) and a thin async driver that performs the effects. The UI and the
//! CLI both drive it; neither re-implements the flow.
//!
//! - [`machine`]: states, events, effects and [`machine::step`]; no I/O.
//! - [`driver`]: performs effects through [`driver::Ports`] and publishes a [`View`].
//! - [`ports`]: the real [`driver::Ports`]: the iDenfy client, webhook results,
//!   cameras and quality checks.
//! - [`relayed`]: the ports' upstream when a back-office relay is configured
//!   (token, process, status and results through it; no iDenfy credential).
//! - [`convert`]: the pure conversions between the API's types and the flow's.
//! - [`kiosk`]: starts the backend, the webhook receiver, the cameras and the
//!   driver; runs auto-capture ([`autocapture`]).
//! - [`view`]: what a screen or a terminal shows, derived from the state; nothing secret.
//! - [`qr`]: the mobile-handoff QR of the digit string (SVG, PNG, terminal).
//! - [`types`]: plain types the ports convert the API and camera types into.
//! - `testing` (under `cfg(test)` or the `testing` feature): scripted ports for tests.
//!
//! The desktop shell and the CLI (`demo`, `verify`, `handoff`) all start a
//! [`Kiosk`] and drive it through its [`Handle`]: the start form goes in as
//! [`Kiosk::start_session`], every other step as an [`Input`], and they
//! follow the published [`View`]. The CLI has no prompt: it sends the inputs
//! its flags imply (`verify here` with a document, `capture` once the camera
//! is ready, `confirm` at the review, `continue on the phone` for `handoff`)
//! and prints each new screen once (`View::summary` without its countdown):
//!
//! ```text
//! let kiosk = Kiosk::start(&config, KioskOptions { .. }).await?;
//! let h = kiosk.handle().clone();
//! kiosk.start_session(StartRequest::new(client_id, country)).await?; // refusals name the field
//! loop {
//!     let v = h.view();
//!     match v.screen {
//!         Screen::Choice => h.send(Input::VerifyHere(document)).await?,
//!         Screen::Capture if v.allowed.contains(&InputKind::Capture) => h.send(Input::Capture).await?,
//!         Screen::Review => h.send(Input::Confirm).await?,
//!         Screen::Result | Screen::Error => break,
//!         _ => {}
//!     }
//!     h.wait_for(|n| n != &v).await?;
//! }
//! ```
//!
//! Everything about the customer lives in the machine's state and is
//! zeroized when it is dropped: at the end, on cancel, on idle timeout.

pub mod autocapture;
pub mod convert;
pub mod driver;
pub mod kiosk;
pub mod machine;
pub mod ports;
pub mod qr;
pub mod relayed;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod types;
pub mod view;

pub use driver::{Driver, Handle, Ports};
pub use kiosk::{CameraChoice, Kiosk, KioskOptions, PreviewPacket};
pub use machine::{Audit, Effect, Event, Input, InputKind, Machine, Settings, State};
pub use types::{
    DocumentType, ExpectedField, Failure, Millis, NotTaken, Outcome, OverallStatus, ProofOfAddress,
    RetakeReason, Side, StartRequest, Still, Subject, Submission, TokenInfo, TokenStatus,
    TokenType,
};
pub use view::{Countdown, Screen, View};

use crate::error::ErrorCode;

/// Session errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("`{event}` does not apply in state `{state}`")]
    InvalidState { state: String, event: String },
    /// A field of an input failed validation (the field as the API names it).
    #[error("{field}: {reason}")]
    InvalidInput { field: &'static str, reason: String },
    /// A webhook result for a verification other than the current one.
    #[error("a result for scanRef {got} arrived while the session is {expected}")]
    ForeignResult { expected: String, got: String },
    /// The mobile code is not what iDenfy issues (8 ASCII digits).
    #[error("digit string: {reason}")]
    DigitString { reason: String },
    /// The QR code could not be rendered.
    #[error("QR code: {reason}")]
    QrRender { reason: String },
    /// The driver has stopped (its task ended), so the input went nowhere.
    #[error("the verification flow has stopped")]
    Stopped,
}

impl From<crate::idenfy::validate::Invalid> for Error {
    fn from(e: crate::idenfy::validate::Invalid) -> Self {
        Self::InvalidInput {
            field: e.field.as_str(),
            reason: e.reason,
        }
    }
}

impl Error {
    /// The input field the error is about (as the API names it), if any.
    #[must_use]
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::InvalidInput { field, .. } => Some(field),
            _ => None,
        }
    }

    /// The stable code a UI or script branches on.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidState { .. } | Self::ForeignResult { .. } => ErrorCode::InvalidState,
            Self::InvalidInput { .. } | Self::DigitString { .. } => ErrorCode::InvalidInput,
            Self::QrRender { .. } | Self::Stopped => ErrorCode::Internal,
        }
    }
}
