//! The verification flow: a pure transition function (state + event -> state +
//! effects) and a thin async driver that performs the effects. The UI and the
//! CLI both drive it; neither re-implements the flow.
//!
//! - [`machine`]: states, events, effects and [`machine::step`]; no I/O.
//! - [`driver`]: performs effects through [`driver::Ports`] and publishes a [`View`].
//! - [`view`]: what a screen or a terminal shows, derived from the state; nothing secret.
//! - [`qr`]: the mobile-handoff QR of the digit string (SVG, PNG, terminal).
//! - [`types`]: plain types the ports convert the API and camera types into.
//! - [`command`]: one typed line -> one [`Input`], for terminal loops.
//!
//! A terminal loop (the CLI's `demo`, `verify`, `handoff`) looks like this:
//!
//! ```text
//! let (driver, handle) = Driver::new(Arc::new(ports), Settings::from_kiosk(&config.kiosk));
//! tokio::spawn(driver.run());
//! handle.send(Input::Start(request)).await?;
//! let mut views = handle.subscribe();
//! loop {
//!     let view = views.borrow_and_update().clone();
//!     println!("{}", view.summary());                  // plus qr::Qr::terminal() on Handoff
//!     if view.screen == Screen::Result { break }
//!     // read a line when command::help(&view) is not empty, then:
//!     // handle.send(command::parse(&line)?).await?;   // refusals carry a stable code
//!     views.changed().await?;
//! }
//! ```
//!
//! Everything about the customer lives in the machine's state and is
//! zeroized when it is dropped: at the end, on cancel, on idle timeout.

pub mod autocapture;
pub mod command;
pub mod driver;
pub mod kiosk;
pub mod live;
pub mod machine;
pub mod qr;
pub mod types;
pub mod view;

pub use driver::{Driver, Handle, Ports};
pub use kiosk::{CameraChoice, Kiosk, KioskOptions, PreviewPacket};
pub use machine::{Effect, Event, Input, InputKind, Machine, Settings, State};
pub use types::{
    CameraRole, DocumentType, Failure, Millis, Outcome, OverallStatus, Side, StartRequest, Still,
    Submission, TokenInfo, TokenStatus, TokenType,
};
pub use view::{Screen, View};

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
