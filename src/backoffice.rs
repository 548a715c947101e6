//! The kiosk's side of the back-office relay (`kyc-kiosk-relay`): a typed
//! client for its `/kiosk/v1/` API over HTTPS (plain http only on loopback).
//! With a relay the kiosk holds no iDenfy credential, only its own kiosk
//! credential; the relay creates tokens, submits images and streams back the
//! results of the verifications this kiosk created.
//!
//! No database, no server: this module only makes outbound calls. It is not
//! wired into the session yet.

use std::time::Duration;

use base64::Engine as _;
use reqwest::Url;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::config::Secret;
use crate::error::ErrorCode;
use crate::idenfy::{
    AuthToken, ClientId, DocumentType, ImageSide, OverallStatus, ScanRef, StatusResponse,
    TokenRequest, TokenType, WebhookStatus,
};

/// Header carrying the kiosk app's version (shown on the relay's fleet page).
pub const VERSION_HEADER: &str = "Kyc-Kiosk-Version";
/// Largest answer read from the relay.
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Whole-request timeout of the calls that do not wait.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(90);
/// How long a submission through the relay may take: the kiosk's upload to
/// the relay and the relay's upload to iDenfy, each given the time a slow
/// line needs for `body_bytes` ([`crate::idenfy::upload_timeout`]), plus one
/// more `timeout` for the relay's `/status` question when iDenfy's answer is
/// lost. A flat timeout gave up on large bodies while the relay was still
/// sending, turning a submission that went through into an unknown outcome.
#[must_use]
pub fn process_timeout(timeout: Duration, body_bytes: usize) -> Duration {
    let upload = crate::idenfy::upload_timeout(timeout, body_bytes);
    upload.saturating_mul(2).saturating_add(timeout)
}

/// Added to a long poll's wait before the request times out.
const POLL_MARGIN: Duration = Duration::from_secs(15);

/// What can go wrong talking to the relay.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The relay URL or the credential is unusable; nothing was sent.
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// The relay does not know this kiosk's credential, or it was revoked.
    #[error("the back office refused this kiosk's credential (unknown or revoked)")]
    Unauthorized,
    /// The relay, or iDenfy behind it, said no. `code` is the relay's.
    #[error("the back office refused the request (HTTP {status}): {message}")]
    Refused {
        status: u16,
        code: ErrorCode,
        message: String,
    },
    /// `/process` may or may not have been submitted: ask [`Client::status`],
    /// never resend (the relay refuses a second submission anyway).
    #[error("the outcome of the submission for {scan_ref} is unknown: {message}")]
    OutcomeUnknown { scan_ref: ScanRef, message: String },
    /// The relay could not be reached, or the answer was cut short.
    #[error("cannot reach the back office ({endpoint}): {source}")]
    Transport {
        endpoint: &'static str,
        #[source]
        source: reqwest::Error,
    },
    /// The answer did not decode; `path` names the JSON path.
    #[error("cannot decode the back office's answer to {endpoint} at `{path}`: {message}")]
    Decode {
        endpoint: &'static str,
        path: String,
        message: String,
    },
}

impl Error {
    /// The stable code a UI or script branches on.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Invalid { .. } => ErrorCode::Config,
            Self::Unauthorized => ErrorCode::Unauthorized,
            Self::Refused { code, .. } => *code,
            Self::OutcomeUnknown { .. } | Self::Transport { .. } => ErrorCode::Network,
            Self::Decode { .. } => ErrorCode::Decode,
        }
    }
}

/// Who the relay says this kiosk is.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Identity {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub branch: Option<String>,
}

/// A token created by the relay.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Token {
    pub scan_ref: ScanRef,
    pub client_id: ClientId,
    pub token_type: TokenType,
    #[serde(default)]
    pub expiry_time: Option<u64>,
    #[serde(default)]
    pub session_length: Option<u64>,
    /// Hand-off only: the code the customer types in the iDenfy app.
    #[serde(default)]
    pub digit_string: Option<String>,
    /// Hand-off only: for the QR link to the customer's phone.
    #[serde(default)]
    pub auth_token: Option<AuthToken>,
}

/// Images for `/process`, as raw encoded bytes (the client base64-encodes).
#[derive(Clone)]
pub struct Submission {
    pub country: String,
    pub document_type: Option<DocumentType>,
    pub images: Vec<(ImageSide, Vec<u8>)>,
    pub skip_analysis: bool,
    /// Photos among `images` that staff accepted with the PIN after the
    /// kiosk's framing check refused them; the relay keeps them in its audit.
    pub staff_accepted: Vec<StaffAccepted>,
}

/// One photo staff accepted although the kiosk's framing check refused it:
/// which image and the rule it failed (e.g. `document_too_far`). Names no
/// customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StaffAccepted {
    pub side: ImageSide,
    pub rule: String,
}

/// The copies of the images are overwritten however the submission ends:
/// sent, refused, or its future dropped half way (the session wiped).
impl Drop for Submission {
    fn drop(&mut self) {
        for (_, bytes) in &mut self.images {
            zeroize::Zeroize::zeroize(bytes);
        }
    }
}

impl std::fmt::Debug for Submission {
    // Image bytes are personal data: only their sizes are shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sizes: Vec<String> = self
            .images
            .iter()
            .map(|(s, b)| format!("{s}: {} bytes", b.len()))
            .collect();
        f.debug_struct("Submission")
            .field("country", &self.country)
            .field("document_type", &self.document_type)
            .field("images", &sizes)
            .field("skip_analysis", &self.skip_analysis)
            .field("staff_accepted", &self.staff_accepted)
            .finish()
    }
}

/// How a submission ended when it did not fail.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Processed {
    /// `ACCEPTED`: the result comes through [`Client::results`].
    pub outcome: String,
    /// Set when the relay learnt the outcome from `/status`.
    #[serde(default)]
    pub status: Option<OverallStatus>,
}

/// A result of one of this kiosk's verifications.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivered {
    /// What [`Client::ack`] takes.
    pub id: i64,
    pub scan_ref: ScanRef,
    #[serde(default)]
    pub client_id: Option<ClientId>,
    #[serde(rename = "final")]
    pub is_final: bool,
    pub event: String,
    pub status: WebhookStatus,
    pub received_at: String,
}

#[derive(Deserialize)]
struct Results {
    results: Vec<Delivered>,
}

#[derive(Serialize)]
struct Ack<'a> {
    ids: &'a [i64],
}

#[derive(Deserialize)]
struct Acked {
    acked: u64,
}

/// A token request as a body that wipes itself once sent (it carries the
/// client ID, names and expected data).
fn token_body(req: &TokenRequest) -> Result<reqwest::Body, Error> {
    crate::wipe::json(req)
        .map(crate::wipe::body)
        .map_err(|e| Error::Invalid {
            field: "body",
            reason: e.to_string(),
        })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProcessBody<'a> {
    country: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    document_type: Option<&'a DocumentType>,
    images: std::collections::BTreeMap<&'a ImageSide, String>,
    skip_analysis: bool,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    staff_accepted: &'a [StaffAccepted],
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody {
    code: ErrorCode,
    #[serde(default)]
    message: String,
    #[serde(default)]
    outcome_unknown: bool,
}

/// A relay client. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    credential: Secret,
    timeout: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

/// Parse a relay URL: `https://` anywhere, `http://` only on loopback, no
/// user-info, query or fragment.
///
/// # Errors
/// [`Error::Invalid`] naming `relay.url`.
pub fn parse_url(url: &str) -> Result<Url, Error> {
    let invalid = |reason: String| Error::Invalid {
        field: "relay.url (KYC_KIOSK_RELAY_URL)",
        reason,
    };
    let u = Url::parse(url.trim()).map_err(|e| invalid(format!("`{url}`: {e}")))?;
    if !u.username().is_empty() || u.password().is_some() {
        return Err(invalid("must not carry a user name or password".into()));
    }
    if u.query().is_some() || u.fragment().is_some() {
        return Err(invalid("must not have a query or a fragment".into()));
    }
    let loopback = match u.host_str() {
        Some("localhost") => true,
        Some(h) => h
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => return Err(invalid("has no host".into())),
    };
    match u.scheme() {
        "https" => Ok(u),
        "http" if loopback => Ok(u),
        "http" => Err(invalid(
            "must use https:// (plain http only on loopback)".into(),
        )),
        other => Err(invalid(format!("scheme `{other}` is not https"))),
    }
}

impl Client {
    /// A client for the relay at `url` with this kiosk's credential.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a URL [`parse_url`] refuses or an empty
    /// credential; [`Error::Transport`] when the TLS stack cannot start.
    pub fn new(url: &str, credential: Secret) -> Result<Self, Error> {
        let base = parse_url(url)?;
        if credential.is_empty() {
            return Err(Error::Invalid {
                field: "relay key (KYC_KIOSK_RELAY_KEY)",
                reason: "is empty".into(),
            });
        }
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("kyc-kiosk/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|source| Error::Transport {
                endpoint: "client setup",
                source,
            })?;
        Ok(Self {
            http,
            base,
            credential,
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// Whole-request timeout of the calls that do not wait (default 90 s).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The relay's URL.
    #[must_use]
    pub fn url(&self) -> &str {
        self.base.as_str()
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let url = format!("{}{path}", self.base.as_str().trim_end_matches('/'));
        self.http
            .request(method, url)
            .bearer_auth(self.credential.expose())
            .header(VERSION_HEADER, env!("CARGO_PKG_VERSION"))
            .timeout(self.timeout)
    }

    /// `GET /kiosk/v1/me`: who the relay says we are ("connected as NAME").
    ///
    /// # Errors
    /// [`Error::Unauthorized`], [`Error::Transport`] and the others.
    pub async fn me(&self) -> Result<Identity, Error> {
        let endpoint = "/kiosk/v1/me";
        self.call(endpoint, self.request(reqwest::Method::GET, endpoint))
            .await
    }

    /// `POST /kiosk/v1/tokens`: a token for direct processing. The relay
    /// sets `callbackUrl` and applies its policy (branch client-ID rule,
    /// per-kiosk rate limit).
    ///
    /// # Errors
    /// [`Error::Refused`] with the relay's code (e.g. `RATE_LIMITED`), and
    /// the others.
    pub async fn create_token(&self, req: &TokenRequest) -> Result<Token, Error> {
        let endpoint = "/kiosk/v1/tokens";
        let body = token_body(req)?;
        self.call(
            endpoint,
            self.request(reqwest::Method::POST, endpoint)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body),
        )
        .await
    }

    /// `POST /kiosk/v1/handoff`: a token with a digit string for the phone.
    ///
    /// # Errors
    /// As [`Client::create_token`].
    pub async fn create_handoff(&self, req: &TokenRequest) -> Result<Token, Error> {
        let endpoint = "/kiosk/v1/handoff";
        let body = token_body(req)?;
        self.call(
            endpoint,
            self.request(reqwest::Method::POST, endpoint)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body),
        )
        .await
    }

    /// `POST /kiosk/v1/scans/{scanRef}/process`: submit the images, once.
    ///
    /// # Errors
    /// [`Error::OutcomeUnknown`] when the submission may have gone through
    /// (the connection failed after sending, or the relay itself could not
    /// tell): ask [`Client::status`], never resend. [`Error::Transport`] only
    /// when nothing was sent. [`Error::Refused`] with `INVALID_STATE` for a
    /// verification already submitted.
    pub async fn process(&self, scan_ref: &ScanRef, sub: &Submission) -> Result<Processed, Error> {
        let endpoint = "/kiosk/v1/scans/{scanRef}/process";
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut body = ProcessBody {
            country: &sub.country,
            document_type: sub.document_type.as_ref(),
            images: sub.images.iter().map(|(s, b)| (s, b64.encode(b))).collect(),
            skip_analysis: sub.skip_analysis,
            staff_accepted: &sub.staff_accepted,
        };
        // The body and the base64 copies of the images are wiped: the
        // strings here, the body when the HTTP stack drops it.
        let json = crate::wipe::json(&body);
        for text in body.images.values_mut() {
            zeroize::Zeroize::zeroize(text);
        }
        let body = json.map_err(|e| Error::Invalid {
            field: "images",
            reason: e.to_string(),
        })?;
        let path = format!(
            "/kiosk/v1/scans/{}/process",
            encode_segment(scan_ref.as_str())
        );
        let timeout = process_timeout(self.timeout, body.len());
        let sent = self
            .request(reqwest::Method::POST, &path)
            .timeout(timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(crate::wipe::body(body))
            .send()
            .await;
        let resp = match sent {
            Err(source) if source.is_connect() => {
                return Err(Error::Transport { endpoint, source })
            }
            Err(e) => {
                return Err(Error::OutcomeUnknown {
                    scan_ref: scan_ref.clone(),
                    message: e.to_string(),
                })
            }
            Ok(r) => r,
        };
        // An answer cut short, or the relay's own "unknown": ask, never resend.
        match self.answer(endpoint, resp).await {
            Err(Error::Transport { source, .. }) => Err(Error::OutcomeUnknown {
                scan_ref: scan_ref.clone(),
                message: source.to_string(),
            }),
            Err(Error::OutcomeUnknown { message, .. }) => Err(Error::OutcomeUnknown {
                scan_ref: scan_ref.clone(),
                message,
            }),
            other => other,
        }
    }

    /// `GET /kiosk/v1/scans/{scanRef}/status`: one question about a late
    /// result (iDenfy restricts accounts that poll: do not loop on it).
    ///
    /// # Errors
    /// As the other calls.
    pub async fn status(&self, scan_ref: &ScanRef) -> Result<StatusResponse, Error> {
        let path = format!(
            "/kiosk/v1/scans/{}/status",
            encode_segment(scan_ref.as_str())
        );
        self.call(
            "/kiosk/v1/scans/{scanRef}/status",
            self.request(reqwest::Method::GET, &path),
        )
        .await
    }

    /// `GET /kiosk/v1/results?wait=S`: this kiosk's unacknowledged results,
    /// waiting up to `wait` for one. A result comes again until acknowledged.
    ///
    /// # Errors
    /// As the other calls.
    pub async fn results(&self, wait: Duration) -> Result<Vec<Delivered>, Error> {
        let path = format!("/kiosk/v1/results?wait={}", wait.as_secs());
        let r: Results = self
            .call(
                "/kiosk/v1/results",
                self.request(reqwest::Method::GET, &path)
                    .timeout(wait + POLL_MARGIN),
            )
            .await?;
        Ok(r.results)
    }

    /// `POST /kiosk/v1/results/ack`: these results have been shown. Returns
    /// how many the relay marked (ids of other kiosks never count).
    ///
    /// # Errors
    /// As the other calls.
    pub async fn ack(&self, ids: &[i64]) -> Result<u64, Error> {
        let endpoint = "/kiosk/v1/results/ack";
        let a: Acked = self
            .call(
                endpoint,
                self.request(reqwest::Method::POST, endpoint)
                    .json(&Ack { ids }),
            )
            .await?;
        Ok(a.acked)
    }

    async fn call<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        req: reqwest::RequestBuilder,
    ) -> Result<T, Error> {
        let resp = req
            .send()
            .await
            .map_err(|source| Error::Transport { endpoint, source })?;
        self.answer(endpoint, resp).await
    }

    async fn answer<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        mut resp: reqwest::Response,
    ) -> Result<T, Error> {
        let status = resp.status().as_u16();
        let mut bytes = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|source| Error::Transport { endpoint, source })?
        {
            if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(Error::Decode {
                    endpoint,
                    path: ".".into(),
                    message: format!("answer larger than {MAX_RESPONSE_BYTES} bytes"),
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        if status == 401 {
            return Err(Error::Unauthorized);
        }
        if !(200..300).contains(&status) {
            return Err(match serde_json::from_slice::<ErrorBody>(&bytes) {
                Ok(b) if b.outcome_unknown => Error::OutcomeUnknown {
                    scan_ref: ScanRef::from(""),
                    message: b.message,
                },
                Ok(b) => Error::Refused {
                    status,
                    code: b.code,
                    message: b.message,
                },
                Err(_) => Error::Refused {
                    status,
                    code: if status >= 500 {
                        ErrorCode::Network
                    } else {
                        ErrorCode::ApiRejected
                    },
                    message: format!("HTTP {status}"),
                },
            });
        }
        crate::idenfy::decode_json(endpoint, &bytes).map_err(|e| match e {
            crate::idenfy::Error::Decode { path, message, .. } => Error::Decode {
                endpoint,
                path,
                message,
            },
            other => Error::Decode {
                endpoint,
                path: ".".into(),
                message: other.to_string(),
            },
        })
    }
}

/// Percent-encode a path segment (a scanRef is alphanumeric, but never trust it).
fn encode_segment(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            o.push(char::from(b));
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A submission's time limit grows with its body: both uploads at the
    /// slow-line floor, then one more limit for the relay's `/status`.
    #[test]
    fn a_submission_gets_time_for_both_uploads_and_the_status_question() {
        let t = Duration::from_secs(90);
        // Up to 2 MB the uploads fit in the plain limit: 3 limits.
        assert_eq!(process_timeout(t, 1_000_000), Duration::from_secs(270));
        // 4 MiB: 2 MiB beyond, 32 s more for each upload.
        assert_eq!(
            process_timeout(t, 4 * 1024 * 1024),
            Duration::from_secs(270 + 2 * 32)
        );
        // Never shorter than the plain limit, and larger bodies get longer.
        let mut last = Duration::ZERO;
        for mb in [0, 1, 5, 10, 20, 28] {
            let d = process_timeout(t, mb * 1024 * 1024);
            assert!(d >= t && d >= last, "{mb} MB: {d:?}");
            last = d;
        }
        // No overflow on absurd sizes.
        assert!(process_timeout(t, usize::MAX) > last);
    }
}
