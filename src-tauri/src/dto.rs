//! View types sent to the webview and the start form received from it (every
//! other input decodes as the core's `session::Input`). Only what the screen
//! needs; never a secret. Conversions to core types live here.

use serde::{Deserialize, Serialize};

use kyc_kiosk::session::ports::LiveQuality;
use kyc_kiosk::session::relayed::Link;
use kyc_kiosk::session::{DocumentType, ProofOfAddress, StartRequest, TokenType, View};
use kyc_kiosk::ErrorCode;

/// One language the UI has a catalog for.
#[derive(Debug, Serialize)]
pub struct Language {
    pub code: &'static str,
    pub name: &'static str,
}

/// Static facts about the running app, for the banner and the start form.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub version: &'static str,
    /// True when the embedded sandbox is in use: the UI shows a SANDBOX banner.
    pub sandbox: bool,
    /// The API's base URL when it is not iDenfy's production host (a test
    /// API, a standalone sandbox): the UI shows a TEST API banner with it.
    pub test_api: Option<String>,
    /// Why the kiosk did not start: the UI shows the start-up error screen
    /// (the cause in words, no session functions; staff exit with the PIN).
    pub startup_error: Option<CommandError>,
    pub language: String,
    pub languages: Vec<Language>,
    pub default_country: Option<String>,
    /// Every ISO 3166-1 alpha-2 code the start form offers (named in the UI
    /// language by the web view).
    pub countries: Vec<&'static str>,
    /// The documents the start form ticks by default.
    pub documents: Vec<DocumentType>,
    /// Every document type the kiosk accepts, in the order the form lists them.
    pub document_types: Vec<DocumentType>,
    /// How the preview reaches the webview: `ipc` (binary command, the
    /// default) or `scheme` (custom URI scheme), for measurement.
    pub preview_transport: &'static str,
    /// The window is in kiosk mode (staff exit needs the PIN).
    pub kiosk_mode: bool,
    /// Starting a session needs the staff PIN (`[kiosk] start_requires_staff`).
    pub start_requires_staff: bool,
    /// The back office's link when a relay is configured (none: nothing shown).
    pub back_office: Option<BackOffice>,
}

/// "Back office: connected as NAME" or why not, for the start screen and
/// the staff settings. Only the kind and the names the relay gave: the
/// technical reason stays in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum BackOffice {
    Checking,
    #[serde(rename_all = "camelCase")]
    Connected {
        name: String,
        branch: Option<String>,
    },
    Refused,
    Unreachable,
    WrongAddress,
}

impl From<Link> for BackOffice {
    fn from(l: Link) -> Self {
        match l {
            Link::Checking => Self::Checking,
            Link::Connected { name, branch } => Self::Connected { name, branch },
            Link::Refused => Self::Refused,
            Link::Unreachable { .. } => Self::Unreachable,
            Link::WrongAddress { .. } => Self::WrongAddress,
        }
    }
}

/// The session view with a version, for the UI's long poll.
#[derive(Debug, Serialize)]
pub struct Versioned {
    pub version: u64,
    pub view: View,
}

/// An error for the UI: a stable code to branch on, a sentence to show, and
/// the form field it is about (when it is about one).
#[derive(Debug, Clone, Serialize)]
pub struct CommandError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl CommandError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
        }
    }
}

impl From<kyc_kiosk::config::ConfigError> for CommandError {
    fn from(e: kyc_kiosk::config::ConfigError) -> Self {
        Self {
            code: e.code(),
            message: e.to_string(),
            field: e.field().map(str::to_owned),
        }
    }
}

impl From<kyc_kiosk::session::kiosk::StartError> for CommandError {
    fn from(e: kyc_kiosk::session::kiosk::StartError) -> Self {
        Self::new(e.code(), e.to_string())
    }
}

impl From<kyc_kiosk::session::Error> for CommandError {
    fn from(e: kyc_kiosk::session::Error) -> Self {
        let field = e.field().map(form_field);
        Self {
            code: e.code(),
            message: e.to_string(),
            field,
        }
    }
}

/// Maps a request field name (`clientId`, `firstName`...) to the form's input id.
fn form_field(f: &str) -> String {
    match f.trim_start_matches("token.") {
        // The compare address travels in additionalData; the form calls it
        // billAddress.
        "additionalData.UTILITY_BILL.address" => "billAddress".to_owned(),
        other => other.to_owned(),
    }
}

/// The staff form as the UI sends it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartForm {
    pub client_id: String,
    pub country: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub date_of_birth: Option<String>,
    pub document_number: Option<String>,
    #[serde(default)]
    pub documents: Vec<DocumentType>,
    #[serde(default)]
    pub token_type: TokenType,
    #[serde(default)]
    pub allow_phone: bool,
    /// Ask for a proof of address (a utility bill).
    #[serde(default)]
    pub proof_of_address: bool,
    /// The address iDenfy compares with the bill; blank compares nothing.
    #[serde(default)]
    pub bill_address: Option<String>,
    /// The staff PIN, when the kiosk starts sessions only for staff.
    #[serde(default)]
    pub staff_pin: Option<kyc_kiosk::config::Secret>,
}

impl StartForm {
    /// The core's start request; `locale` is the UI language.
    pub fn into_request(self, locale: &str) -> StartRequest {
        let mut r = StartRequest::new(self.client_id, self.country);
        r.first_name = self.first_name;
        r.last_name = self.last_name;
        r.date_of_birth = self.date_of_birth;
        r.document_number = self.document_number;
        r.documents = self.documents;
        r.token_type = self.token_type;
        r.generate_digit_string = self.allow_phone;
        r.proof_of_address = self.proof_of_address.then(|| ProofOfAddress {
            compare_address: self.bill_address.filter(|a| !a.trim().is_empty()),
        });
        r.locale = Some(locale.to_owned());
        r
    }
}

/// The header that precedes each preview JPEG in the binary response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviewHeader {
    pub seq: u64,
    /// Milliseconds from capture to the moment the frame left Rust.
    pub age_ms: f64,
    pub width: u32,
    pub height: u32,
    pub quality: Option<LiveQuality>,
    /// Seconds left before the auto-capture fires, while it counts down.
    pub auto_capture_in: Option<u32>,
}

impl PreviewHeader {
    /// The header of a preview packet, aged at this moment.
    pub fn of(p: &kyc_kiosk::session::PreviewPacket) -> Self {
        Self {
            seq: p.seq,
            age_ms: std::time::Instant::now()
                .saturating_duration_since(p.captured)
                .as_secs_f64()
                * 1000.0,
            width: p.width,
            height: p.height,
            quality: p.quality,
            auto_capture_in: p.auto_capture_in,
        }
    }
}

/// `[u32 LE header length][header JSON][JPEG]`: one binary IPC response, so
/// the frame is not base64-encoded on the way to the webview.
pub fn pack_preview(header: &PreviewHeader, jpeg: &[u8]) -> Vec<u8> {
    let h = serde_json::to_vec(header).unwrap_or_else(|_| b"{}".to_vec());
    let mut out = Vec::with_capacity(4 + h.len() + jpeg.len());
    out.extend_from_slice(&u32::try_from(h.len()).unwrap_or(0).to_le_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(jpeg);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_packet_layout() {
        let h = PreviewHeader {
            seq: 7,
            age_ms: 3.5,
            width: 2,
            height: 1,
            quality: None,
            auto_capture_in: Some(2),
        };
        let p = pack_preview(&h, &[0xFF, 0xD8]);
        let n = u32::from_le_bytes(p[..4].try_into().unwrap()) as usize;
        let v: serde_json::Value = serde_json::from_slice(&p[4..4 + n]).unwrap();
        assert_eq!(v["seq"], 7);
        assert_eq!(v["autoCaptureIn"], 2);
        assert_eq!(&p[4 + n..], &[0xFF, 0xD8]);
    }

    #[test]
    fn the_proof_of_address_box_and_its_address_reach_the_request() {
        let form = |json: serde_json::Value| {
            serde_json::from_value::<StartForm>(json)
                .unwrap()
                .into_request("en")
        };
        let base = serde_json::json!({"clientId": "c-1", "country": "LT"});
        assert_eq!(form(base.clone()).proof_of_address, None);
        let mut j = base.clone();
        j["proofOfAddress"] = true.into();
        j["billAddress"] = "  ".into();
        assert_eq!(
            form(j.clone()).proof_of_address,
            Some(ProofOfAddress::upload()),
            "a blank address compares nothing"
        );
        j["billAddress"] = "Gedimino pr. 1".into();
        assert_eq!(
            form(j).proof_of_address,
            Some(ProofOfAddress::compare("Gedimino pr. 1"))
        );
        assert_eq!(
            form_field("additionalData.UTILITY_BILL.address"),
            "billAddress"
        );
    }
}
