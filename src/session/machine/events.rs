//! What goes into the machine and what comes out: the [`Input`]s staff and
//! the customer give, every [`Event`] (inputs, the clock, the outcomes of
//! effects), and the [`Effect`]s the driver performs.

use serde::{Deserialize, Serialize};

use crate::capture::Role;
use crate::quality::Issue;
use crate::session::types::{
    DocumentType, Failure, Outcome, Side, StartRequest, Still, Submission, TokenInfo, TokenStatus,
};

/// What staff or the customer can do. The UI and the CLI send only these.
///
/// Every input but `Start` decodes from the JSON the UI sends, tagged by
/// `kind`: `{"kind": "verifyHere", "document": "PASSPORT"}`,
/// `{"kind": "retake", "side": "BACK"}`, `{"kind": "capture"}`, ... The start
/// form comes through its own command, so `{"kind": "start"}` is refused.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
// Inputs are a few per minute; boxing the start request buys nothing.
#[allow(clippy::large_enum_variant)]
pub enum Input {
    /// Staff submitted the start form.
    #[serde(skip_deserializing)]
    Start(StartRequest),
    /// Verify on the kiosk with this document.
    VerifyHere(#[serde(deserialize_with = "named::document")] DocumentType),
    /// Show the QR and let the customer continue on a phone.
    ContinueOnPhone,
    /// Take the still now (manual button or auto-capture).
    Capture,
    /// Staff accept, as it was taken, the photo the kiosk's framing check
    /// just refused (see [`Failure::is_overridable`]). Only after the staff
    /// PIN: the shell checks it and sends this itself, so the UI's input
    /// command cannot carry it (like `Start`).
    #[serde(skip_deserializing)]
    Override,
    /// From the review: take this side again.
    Retake(#[serde(deserialize_with = "named::side")] Side),
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

/// The payload of an input sits next to its `kind`, under its own name.
mod named {
    use serde::{Deserialize, Deserializer};

    use crate::session::types::{DocumentType, Side};

    pub(super) fn document<'de, D: Deserializer<'de>>(d: D) -> Result<DocumentType, D::Error> {
        #[derive(Deserialize)]
        struct Named {
            document: DocumentType,
        }
        Named::deserialize(d).map(|n| n.document)
    }

    pub(super) fn side<'de, D: Deserializer<'de>>(d: D) -> Result<Side, D::Error> {
        #[derive(Deserialize)]
        struct Named {
            side: Side,
        }
        Named::deserialize(d).map(|n| n.side)
    }
}

/// [`Input`] without its payload, as the view lists what is allowed now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum InputKind {
    Start,
    VerifyHere,
    ContinueOnPhone,
    Capture,
    Override,
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
            Self::Override => InputKind::Override,
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
    /// The framing check refused the still; `still` is the photo as taken,
    /// which passed the image checks (staff may accept it: [`Input::Override`]).
    StillRefused {
        failure: Failure,
        still: Still,
    },
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
                InputKind::Override => "override",
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
            Self::StillRefused { .. } => "stillRefused",
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
    StartCamera(Role),
    StopCamera,
    /// Watch the open camera -> `CameraFailed` if it goes away (unplugged);
    /// nothing when it is closed.
    WatchCamera,
    /// Capture, precheck and encode a still -> `StillCaptured` /
    /// `CaptureFailed`, or `StillRefused` for a framing refusal staff may
    /// override.
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
    /// Write a line to the kiosk's audit log.
    Audit(Audit),
}

/// A line of the kiosk's audit log: what staff did in a session. It names
/// the verification (its scanRef), the image and the rule, never anything
/// about the customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audit {
    /// Staff accepted, with the PIN, a photo the framing check refused.
    PhotoAccepted {
        scan_ref: String,
        side: Side,
        issue: Issue,
    },
}

impl Audit {
    /// Writes the line (`tracing`, info level).
    pub fn record(&self) {
        match self {
            Self::PhotoAccepted {
                scan_ref,
                side,
                issue,
            } => tracing::info!(
                audit = "photo_accepted_by_staff",
                scan_ref = %scan_ref,
                side = side.as_str(),
                issue = issue.as_str(),
                "staff accepted a photo the framing check refused"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_decode_from_the_ui_shape() {
        let i: Input =
            serde_json::from_str(r#"{"kind":"verifyHere","document":"PASSPORT"}"#).unwrap();
        assert!(matches!(i, Input::VerifyHere(DocumentType::Passport)));
        let i: Input = serde_json::from_str(r#"{"kind":"retake","side":"BACK"}"#).unwrap();
        assert!(matches!(i, Input::Retake(Side::Back)));
        assert!(serde_json::from_str::<Input>(r#"{"kind":"selfDestruct"}"#).is_err());
    }

    #[test]
    fn every_payload_free_input_decodes_and_start_does_not() {
        for (kind, input) in [
            ("continueOnPhone", Input::ContinueOnPhone),
            ("capture", Input::Capture),
            ("confirm", Input::Confirm),
            ("retry", Input::Retry),
            ("checkStatus", Input::CheckStatus),
            ("cancel", Input::Cancel),
            ("finish", Input::Finish),
            ("touch", Input::Touch),
        ] {
            let json = format!(r#"{{"kind":"{kind}"}}"#);
            assert_eq!(serde_json::from_str::<Input>(&json).unwrap(), input);
            // The kind names the input as the view lists it.
            assert_eq!(
                serde_json::to_value(input.kind()).unwrap(),
                serde_json::json!(kind)
            );
        }
        for bad in [
            r#"{"kind":"start"}"#,
            // Staff's override comes only through the PIN-checked command.
            r#"{"kind":"override"}"#,
            r#"{"kind":"verifyHere"}"#,
            r#"{"kind":"verifyHere","document":"VISA"}"#,
            r#"{"kind":"retake","side":"TOP"}"#,
        ] {
            assert!(serde_json::from_str::<Input>(bad).is_err(), "{bad}");
        }
    }
}
