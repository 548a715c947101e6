//! Plain types the flow works with. They deliberately do not depend on the
//! `idenfy` or `camera` modules: the code that implements
//! [`super::driver::Ports`] converts those modules' types into these (see
//! [`super::convert`]). The vocabulary shared with the rest of the crate
//! comes from the leaf [`crate::capture`] (camera role, document types), and
//! a photo refused by the local check carries its [`quality::Issue`].
//!
//! Everything that describes the customer zeroizes its memory on drop.

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

pub use crate::capture::DocumentType;
use crate::capture::Role;
use crate::error::ErrorCode;
use crate::quality;

/// Milliseconds on a monotonic clock chosen by the driver.
pub type Millis = u64;

/// One image the verification needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Side {
    /// The document's front (always required).
    Front,
    /// The document's back (only for documents that have one).
    Back,
    /// A utility bill as proof of address (only when staff asked for one):
    /// an A4 or US-letter page, taken with the document camera.
    UtilityBill,
    /// A selfie (only for `IDENTIFICATION` tokens).
    Face,
}

impl Side {
    /// Every side, in capture order.
    pub const ALL: [Self; 4] = [Self::Front, Self::Back, Self::UtilityBill, Self::Face];

    /// The key iDenfy's `/process` uses for this image.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Front => "FRONT",
            Self::Back => "BACK",
            Self::UtilityBill => "UTILITY_BILL",
            Self::Face => "FACE",
        }
    }

    /// Which camera takes this image.
    #[must_use]
    pub fn camera(self) -> Role {
        match self {
            Self::Front | Self::Back | Self::UtilityBill => Role::Document,
            Self::Face => Role::Selfie,
        }
    }
}

/// What the token asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TokenType {
    /// Document and selfie (the API's default).
    #[default]
    Identification,
    /// Document only: no FACE step.
    Document,
}

/// What staff entered on the start form: everything needed to create a token.
///
/// Personal fields are zeroized on drop.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct StartRequest {
    /// The bank's identifier for the customer (ASCII, 1..=100 characters).
    pub client_id: String,
    /// ISO 3166-1 alpha-2 document country. Optional for the token (the
    /// customer then picks it in the mobile app); verifying on the kiosk
    /// needs one, since `/process` requires it.
    pub country: Option<String>,
    /// Accepted documents; empty means all of [`DocumentType::ALL`].
    pub documents: Vec<DocumentType>,
    pub token_type: TokenType,
    /// UI language of the mobile app (`en`, `lt`, ...).
    pub locale: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Ask for an 8-digit code so the customer may continue on a phone.
    pub generate_digit_string: bool,
    /// Expected date of birth (YYYY-MM-DD), cross-checked against the document.
    pub date_of_birth: Option<String>,
    /// Expected document number, cross-checked against the document.
    pub document_number: Option<String>,
    /// Test result the API should return (`APPROVED`, `DENIED`, `SUSPECTED`,
    /// `EXPIRED`): for the sandbox and test accounts only.
    pub dummy_status: Option<String>,
    /// Token lifetime before the session starts (API default 86400).
    pub expiry_secs: Option<u32>,
    /// Time allowed once the session has started (API default 1800).
    pub session_length_secs: Option<u32>,
    /// Ask for a proof of address (a utility bill), captured after the
    /// document; `None` asks for none.
    pub proof_of_address: Option<ProofOfAddress>,
}

/// The proof-of-address step staff asked for on the start form.
///
/// The address is personal data: it is zeroized on drop and `Debug` shows
/// only whether one was given.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ProofOfAddress {
    /// The address iDenfy compares with the bill (`COMPARE` mode); without
    /// one the bill is only collected (`utilityBill: true`).
    pub compare_address: Option<String>,
}

impl ProofOfAddress {
    /// A bill to collect, compared with nothing.
    #[must_use]
    pub fn upload() -> Self {
        Self::default()
    }

    /// A bill whose address iDenfy compares with `address`.
    #[must_use]
    pub fn compare(address: impl Into<String>) -> Self {
        Self {
            compare_address: Some(address.into()),
        }
    }
}

impl std::fmt::Debug for ProofOfAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProofOfAddress")
            .field("compare", &self.compare_address.is_some())
            .finish()
    }
}

impl Zeroize for ProofOfAddress {
    fn zeroize(&mut self) {
        self.compare_address.zeroize();
    }
}

impl Drop for ProofOfAddress {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl StartRequest {
    /// A request with the API's defaults for everything but the client and
    /// country. A blank `country` means none (the customer picks it on the phone).
    #[must_use]
    pub fn new(client_id: impl Into<String>, country: impl Into<String>) -> Self {
        let country: String = country.into();
        let mut r = Self::default();
        r.client_id = client_id.into();
        r.country = Some(country).filter(|c| !c.trim().is_empty());
        r
    }

    /// A request with the kiosk's configured defaults (country, documents).
    /// Without a configured country, staff supplies one, or the customer
    /// picks it on the phone.
    #[must_use]
    pub fn with_defaults(client_id: impl Into<String>, kiosk: &crate::config::KioskConfig) -> Self {
        let mut r = Self::new(client_id, "");
        r.country.clone_from(&kiosk.default_country);
        r.documents.clone_from(&kiosk.documents);
        r.locale = Some(kiosk.language.clone());
        r
    }

    /// The documents the customer may choose from.
    #[must_use]
    pub fn allowed_documents(&self) -> Vec<DocumentType> {
        if self.documents.is_empty() {
            DocumentType::ALL.to_vec()
        } else {
            self.documents.clone()
        }
    }
}

/// Expected data entered on the start form that iDenfy compares with the
/// document; a difference comes back as a mismatch tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ExpectedField {
    FirstName,
    LastName,
    DateOfBirth,
    DocumentNumber,
}

impl ExpectedField {
    /// Every field, in form order.
    pub const ALL: [Self; 4] = [
        Self::FirstName,
        Self::LastName,
        Self::DateOfBirth,
        Self::DocumentNumber,
    ];
}

impl StartRequest {
    /// The expected fields this request sends (non-blank), in form order.
    #[must_use]
    pub fn expected_fields(&self) -> Vec<ExpectedField> {
        let given = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
        [
            (ExpectedField::FirstName, &self.first_name),
            (ExpectedField::LastName, &self.last_name),
            (ExpectedField::DateOfBirth, &self.date_of_birth),
            (ExpectedField::DocumentNumber, &self.document_number),
        ]
        .into_iter()
        .filter(|(_, v)| given(v))
        .map(|(f, _)| f)
        .collect()
    }

    /// Whose verification this is, for the result screen.
    #[must_use]
    pub fn subject(&self) -> Subject {
        Subject {
            client_id: self.client_id.clone(),
            expected: self.expected_fields(),
        }
    }
}

/// Whose result staff read: the client ID and which expected fields were
/// cross-checked (never their values). The client ID is zeroized on drop.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Subject {
    pub client_id: String,
    pub expected: Vec<ExpectedField>,
}

impl std::fmt::Debug for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subject")
            .field("expected", &self.expected)
            .finish_non_exhaustive()
    }
}

impl Drop for Subject {
    fn drop(&mut self) {
        self.client_id.zeroize();
    }
}

impl std::fmt::Debug for StartRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StartRequest")
            .field("country", &self.country)
            .field("documents", &self.documents)
            .field("token_type", &self.token_type)
            .field("generate_digit_string", &self.generate_digit_string)
            .field("proof_of_address", &self.proof_of_address)
            .finish_non_exhaustive()
    }
}

impl Zeroize for StartRequest {
    fn zeroize(&mut self) {
        self.client_id.zeroize();
        self.country.zeroize();
        self.locale.zeroize();
        self.first_name.zeroize();
        self.last_name.zeroize();
        self.date_of_birth.zeroize();
        self.document_number.zeroize();
        if let Some(p) = &mut self.proof_of_address {
            p.zeroize();
        }
        self.proof_of_address = None;
    }
}

impl Drop for StartRequest {
    fn drop(&mut self) {
        self.zeroize();
    }
}

/// The token as the API returned it. The auth token and the digit string are
/// credentials: `Debug` masks them and they are zeroized on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub scan_ref: String,
    pub auth_token: String,
    /// The 8-digit code for the mobile app, when one was asked for.
    pub digit_string: Option<String>,
    pub token_type: TokenType,
    /// Seconds the token stays valid before the session starts.
    pub expiry_secs: u32,
    /// Seconds allowed once the session has started.
    pub session_length_secs: u32,
}

impl std::fmt::Debug for TokenInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenInfo")
            .field("scan_ref", &self.scan_ref)
            .field("auth_token", &"***")
            .field("digit_string", &self.digit_string.as_ref().map(|_| "***"))
            .field("token_type", &self.token_type)
            .field("expiry_secs", &self.expiry_secs)
            .field("session_length_secs", &self.session_length_secs)
            .finish()
    }
}

impl Zeroize for TokenInfo {
    fn zeroize(&mut self) {
        self.scan_ref.zeroize();
        self.auth_token.zeroize();
        self.digit_string.zeroize();
    }
}

impl Drop for TokenInfo {
    fn drop(&mut self) {
        self.zeroize();
    }
}

/// A captured, prechecked, JPEG-encoded image. The bytes are zeroized on drop;
/// `Debug` prints only the size.
#[derive(Clone, PartialEq, Eq)]
pub struct Still {
    pub side: Side,
    pub jpeg: Zeroizing<Vec<u8>>,
    pub width: u32,
    pub height: u32,
}

impl Still {
    /// Wraps encoded bytes.
    #[must_use]
    pub fn new(side: Side, jpeg: Vec<u8>, width: u32, height: u32) -> Self {
        Self {
            side,
            jpeg: Zeroizing::new(jpeg),
            width,
            height,
        }
    }
}

impl std::fmt::Debug for Still {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Still({:?}, {}x{}, {} bytes)",
            self.side,
            self.width,
            self.height,
            self.jpeg.len()
        )
    }
}

/// Everything `/process` needs, built by the machine from a finished review.
#[derive(Clone, PartialEq, Eq)]
pub struct Submission {
    pub scan_ref: String,
    pub auth_token: Zeroizing<String>,
    /// Upper-case alpha-2.
    pub country: String,
    pub document_type: DocumentType,
    /// FRONT, then BACK and FACE when required.
    pub images: Vec<Still>,
    /// The sides whose photo staff accepted with the PIN after the framing
    /// check refused it, with the rule it failed (for the back office's
    /// audit; no personal data).
    pub accepted_by_staff: Vec<(Side, quality::Issue)>,
}

impl std::fmt::Debug for Submission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Submission")
            .field("scan_ref", &self.scan_ref)
            .field("auth_token", &"***")
            .field("country", &self.country)
            .field("document_type", &self.document_type)
            .field("images", &self.images)
            .field("accepted_by_staff", &self.accepted_by_staff)
            .finish()
    }
}

/// The overall status of a verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum OverallStatus {
    Approved,
    Denied,
    Suspected,
    /// Anything else the API may send (`REVIEWING`, a future value, ...).
    Other(String),
}

impl OverallStatus {
    /// Parses the API's spelling; unknown values are kept, never an error.
    #[must_use]
    pub fn parse(s: &str) -> Self {
        match s {
            "APPROVED" => Self::Approved,
            "DENIED" => Self::Denied,
            "SUSPECTED" => Self::Suspected,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The API's spelling.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Approved => "APPROVED",
            Self::Denied => "DENIED",
            Self::Suspected => "SUSPECTED",
            Self::Other(s) => s,
        }
    }
}

/// A verification result (from a webhook or `/status`). Zeroized on drop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub overall: OverallStatus,
    /// `false` for an automatic result that a manual review will follow.
    pub final_: bool,
    pub fraud_tags: Vec<String>,
    pub mismatch_tags: Vec<String>,
    pub auto_document: Option<String>,
    pub auto_face: Option<String>,
    pub manual_document: Option<String>,
    pub manual_face: Option<String>,
}

impl Outcome {
    /// A result with no tags and no per-check statuses.
    #[must_use]
    pub fn new(overall: OverallStatus, final_: bool) -> Self {
        Self {
            overall,
            final_,
            fraud_tags: Vec::new(),
            mismatch_tags: Vec::new(),
            auto_document: None,
            auto_face: None,
            manual_document: None,
            manual_face: None,
        }
    }
}

impl Zeroize for Outcome {
    fn zeroize(&mut self) {
        if let OverallStatus::Other(s) = &mut self.overall {
            s.zeroize();
        }
        self.fraud_tags.zeroize();
        self.mismatch_tags.zeroize();
        self.auto_document.zeroize();
        self.auto_face.zeroize();
        self.manual_document.zeroize();
        self.manual_face.zeroize();
    }
}

impl Drop for Outcome {
    fn drop(&mut self) {
        self.zeroize();
    }
}

/// What `/status` said about a token (asked once after a failed submit, or
/// when no webhook came in time: the API forbids polling it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenStatus {
    /// `ACTIVE`: the token is unused; `/process` never reached iDenfy.
    Unused,
    /// `REVIEWING` (or processing): the images arrived; a result will follow.
    Pending,
    /// A result is known.
    Done(Outcome),
    /// `EXPIRED`: the token can no longer be used.
    Expired,
    /// `DELETED`, `ARCHIVED` or a value this version does not know.
    Other(String),
}

/// Why an effect failed, as far as the flow cares. The code that implements
/// the ports maps its module errors into these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The network failed; the request may or may not have arrived.
    Network { message: String },
    /// HTTP 402: the account has no verification credits.
    OutOfCredits,
    /// HTTP 401/403: the API key or secret was refused.
    Unauthorized,
    /// HTTP 429: refused before processing; safe to retry later.
    RateLimited,
    /// The token expired (or the API says it is no longer valid).
    TokenExpired,
    /// An image was refused (by the local precheck or by the API): retake `side`.
    ImageRejected { side: Side, reason: RetakeReason },
    /// The camera failed; `code` is one of the `Camera*` codes.
    Camera { code: ErrorCode, message: String },
    /// The API refused the request for another reason.
    Rejected { message: String },
    /// A bug or an unexpected condition.
    Internal { message: String },
}

impl Failure {
    /// The stable code the UI branches on.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Network { .. } => ErrorCode::Network,
            Self::OutOfCredits => ErrorCode::OutOfCredits,
            Self::Unauthorized => ErrorCode::Unauthorized,
            Self::RateLimited => ErrorCode::RateLimited,
            Self::TokenExpired => ErrorCode::TokenExpired,
            Self::ImageRejected { .. } => ErrorCode::ImageRetake,
            Self::Camera { code, .. } => *code,
            Self::Rejected { .. } => ErrorCode::ApiRejected,
            Self::Internal { .. } => ErrorCode::Internal,
        }
    }

    /// A sentence staff can act on (English; the UI translates by code).
    #[must_use]
    pub fn message(&self) -> String {
        match self {
            Self::Network { .. } => {
                "The network failed. The customer's photos are kept; try again.".into()
            }
            Self::OutOfCredits => "The iDenfy account has no verification credits left. \
                 Ask the account manager to add credits; the customer cannot be verified now."
                .into(),
            Self::Unauthorized => {
                "The iDenfy API key or secret was refused. Check the kiosk settings.".into()
            }
            Self::RateLimited => "iDenfy is busy. Wait a minute and try again.".into(),
            Self::TokenExpired => {
                "The verification session expired. Start again for this customer.".into()
            }
            Self::ImageRejected { side, reason } => {
                // A local quality issue reads as its hint; an API message is
                // shown as it came.
                let why = match reason {
                    RetakeReason::Quality(i) => i.hint(),
                    RetakeReason::Api(message) => message,
                };
                format!("The {} photo must be retaken: {why}", side_words(*side))
            }
            Self::Camera { message, .. } => format!("Camera problem: {message}"),
            Self::Rejected { message } => format!("iDenfy refused the request: {message}"),
            Self::Internal { .. } => {
                "Something unexpected went wrong; details are in the log.".into()
            }
        }
    }

    /// Whether the request can be repeated as it is.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Network { .. } | Self::RateLimited)
    }

    /// Whether staff may accept the photo this refused as it was taken: a
    /// still the kiosk's own framing rules refused (no document found, the
    /// document cut, too far or too close, no face, several faces, ...).
    /// Never an image check (blur, glare, exposure, resolution: the photo
    /// is unusable whatever is in it), nor iDenfy's own refusal, nor
    /// anything that is not about a photo.
    #[must_use]
    pub fn is_overridable(&self) -> bool {
        matches!(self, Self::ImageRejected { reason: RetakeReason::Quality(i), .. } if i.is_framing())
    }
}

/// A capture that gave no still: why, and, when only a framing rule refused
/// it ([`Failure::is_overridable`]), the photo as it was taken (and passed
/// the image checks), which staff may accept. It is held in memory only, by
/// the capture it belongs to, and wiped with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotTaken {
    pub failure: Failure,
    pub overridable: Option<Still>,
}

impl From<Failure> for NotTaken {
    fn from(failure: Failure) -> Self {
        Self {
            failure,
            overridable: None,
        }
    }
}

/// Why a photo must be retaken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetakeReason {
    /// The local quality check found this issue.
    Quality(quality::Issue),
    /// The API refused the image; its message, as it came.
    Api(String),
}

impl RetakeReason {
    /// The local quality issue, when that is the reason.
    #[must_use]
    pub fn issue(&self) -> Option<quality::Issue> {
        match self {
            Self::Quality(i) => Some(*i),
            Self::Api(_) => None,
        }
    }
}

impl From<quality::Issue> for RetakeReason {
    fn from(i: quality::Issue) -> Self {
        Self::Quality(i)
    }
}

pub(crate) fn side_words(side: Side) -> &'static str {
    match side {
        Side::Front => "document front",
        Side::Back => "document back",
        Side::UtilityBill => "proof of address",
        Side::Face => "selfie",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_side_only_for_cards() {
        assert!(DocumentType::IdCard.has_back());
        assert!(DocumentType::DriverLicense.has_back());
        assert!(DocumentType::ResidencePermit.has_back());
        assert!(!DocumentType::Passport.has_back());
    }

    #[test]
    fn api_spellings() {
        assert_eq!(
            serde_json::to_string(&DocumentType::DriverLicense).unwrap(),
            "\"DRIVER_LICENSE\""
        );
        for d in DocumentType::ALL {
            assert_eq!(
                serde_json::to_string(&d).unwrap(),
                format!("\"{}\"", d.as_str())
            );
        }
        assert_eq!(
            DocumentType::parse(" passport"),
            Some(DocumentType::Passport)
        );
        assert_eq!(DocumentType::parse("VISA"), None);
        assert_eq!(serde_json::to_string(&Side::Face).unwrap(), "\"FACE\"");
        for side in Side::ALL {
            assert_eq!(
                serde_json::to_string(&side).unwrap(),
                format!("\"{}\"", side.as_str())
            );
        }
        assert_eq!(Side::UtilityBill.camera(), Role::Document);
        assert_eq!(
            serde_json::to_string(&TokenType::Document).unwrap(),
            "\"DOCUMENT\""
        );
        assert_eq!(OverallStatus::parse("SUSPECTED"), OverallStatus::Suspected);
        assert_eq!(
            OverallStatus::parse("REVIEWING").as_str(),
            "REVIEWING",
            "unknown values are kept"
        );
    }

    #[test]
    fn debug_masks_credentials_and_personal_data() {
        let t = TokenInfo {
            scan_ref: "sr-1".into(),
            auth_token: "AUTHSECRET".into(),
            digit_string: Some("12345678".into()),
            token_type: TokenType::Identification,
            expiry_secs: 600,
            session_length_secs: 300,
        };
        let s = format!("{t:?}");
        assert!(!s.contains("AUTHSECRET") && !s.contains("12345678"), "{s}");
        let mut r = StartRequest::new("C-1", "LT");
        r.first_name = Some("Jonas".into());
        r.last_name = Some("Jonaitis".into());
        let s = format!("{r:?}");
        assert!(!s.contains("Jonas") && !s.contains("C-1"), "{s}");
        let still = Still::new(Side::Front, vec![0xFF, 0xD8, 0x42], 4, 3);
        assert_eq!(format!("{still:?}"), "Still(Front, 4x3, 3 bytes)");
    }

    #[test]
    fn zeroize_clears_personal_fields() {
        let mut r = StartRequest::new("C-1", "LT");
        r.first_name = Some("Jonas".into());
        r.zeroize();
        assert!(r.client_id.is_empty() && r.first_name.is_none());
        let mut o = Outcome::new(OverallStatus::Suspected, true);
        o.fraud_tags.push("FACE_SUSPECTED".into());
        o.auto_face = Some("FACE_MATCH".into());
        o.zeroize();
        assert!(o.fraud_tags.is_empty() && o.auto_face.is_none());
    }

    /// Staff may accept a photo only when the kiosk's framing rules refused
    /// it: an image check, iDenfy's refusal, or any other failure never.
    #[test]
    fn only_a_framing_refusal_is_overridable() {
        let refused = |reason: RetakeReason| Failure::ImageRejected {
            side: Side::Front,
            reason,
        };
        for i in quality::Issue::ALL {
            assert_eq!(refused(i.into()).is_overridable(), i.is_framing(), "{i:?}");
        }
        assert!(refused(quality::Issue::DocumentTooFar.into()).is_overridable());
        assert!(refused(quality::Issue::SeveralFaces.into()).is_overridable());
        assert!(!refused(quality::Issue::Blurry.into()).is_overridable());
        assert!(!refused(quality::Issue::TooSmall.into()).is_overridable());
        assert!(!refused(RetakeReason::Api(
            "Document was not detected in the 'FRONT' photo".into()
        ))
        .is_overridable());
        for other in [
            Failure::Camera {
                code: ErrorCode::CameraLost,
                message: "unplugged".into(),
            },
            Failure::Network {
                message: "reset".into(),
            },
            Failure::TokenExpired,
        ] {
            assert!(!other.is_overridable(), "{other:?}");
        }
        let n = NotTaken::from(Failure::TokenExpired);
        assert_eq!(n.overridable, None);
    }

    #[test]
    fn failures_map_to_stable_codes() {
        let table = [
            (
                Failure::Network {
                    message: "reset".into(),
                },
                ErrorCode::Network,
            ),
            (Failure::OutOfCredits, ErrorCode::OutOfCredits),
            (Failure::Unauthorized, ErrorCode::Unauthorized),
            (Failure::RateLimited, ErrorCode::RateLimited),
            (Failure::TokenExpired, ErrorCode::TokenExpired),
            (
                Failure::ImageRejected {
                    side: Side::Back,
                    reason: quality::Issue::Blurry.into(),
                },
                ErrorCode::ImageRetake,
            ),
            (
                Failure::Camera {
                    code: ErrorCode::CameraLost,
                    message: "unplugged".into(),
                },
                ErrorCode::CameraLost,
            ),
            (
                Failure::Rejected {
                    message: "bad".into(),
                },
                ErrorCode::ApiRejected,
            ),
            (
                Failure::Internal {
                    message: "bug".into(),
                },
                ErrorCode::Internal,
            ),
        ];
        for (f, code) in table {
            assert_eq!(f.code(), code, "{f:?}");
            assert!(!f.message().is_empty());
        }
        assert!(Failure::OutOfCredits.message().contains("credits"));
        assert!(Failure::ImageRejected {
            side: Side::Back,
            reason: quality::Issue::Blurry.into()
        }
        .message()
        .contains("document back"));
    }
}
