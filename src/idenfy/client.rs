//! The HTTP client: Basic auth, timeouts (for `/process`, growing with the
//! body), status-code mapping, answers read up to [`MAX_RESPONSE_BYTES`],
//! lenient decoding with the failing JSON path, and the one-shot `/status`
//! check after a `/process` call whose outcome is unknown.

use std::time::Duration;

use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::Serialize;
use zeroize::{Zeroize as _, Zeroizing};

use super::models::{
    ApiErrorBody, AuthToken, DataResponse, DocumentType, FilesResponse, ImageSide, OverallStatus,
    ProcessBody, ScanRef, ScanRefBody, StatusResponse, TokenRequest, TokenResponse, TokenType,
};
use super::{validate, Error};
use crate::endpoint::PRODUCTION_BASE_URL;
use crate::secret::Secret;

/// Direct processing refuses bodies above 20 MB, counted after base64.
pub const DEFAULT_MAX_BODY_BYTES: usize = 20_000_000;
/// Room counted for the JSON around the images of a `/process` body (token,
/// country, document type, keys): far more than they ever take.
pub const PROCESS_JSON_HEADROOM: usize = 256 * 1024;
/// Whole-request timeout unless the builder says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// The slowest uplink `/process` allows for: 512 kbit/s, a poor branch line.
pub const UPLOAD_FLOOR_BYTES_PER_SEC: u64 = 64 * 1024;
/// The part of a `/process` body the whole-request timeout is meant to
/// carry; each byte beyond it adds time at [`UPLOAD_FLOOR_BYTES_PER_SEC`].
pub const UPLOAD_INCLUDED_BYTES: u64 = 2 * 1024 * 1024;
/// Largest answer read from the API: its JSON answers are a few kilobytes,
/// so anything bigger is not iDenfy speaking and is not read further.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest error body we read and quote.
const MAX_ERROR_MESSAGE: usize = 300;

/// Builds a [`Client`]: `Client::builder().base_url(..).credentials(k, s).build()?`.
#[derive(Debug, Clone)]
#[must_use]
pub struct Builder {
    base_url: String,
    credentials: Option<(Secret, Secret)>,
    timeout: Duration,
    max_body_bytes: usize,
}

impl Builder {
    /// The API root (default `https://ivs.idenfy.com`); the sandbox is just
    /// another base URL.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into().trim().trim_end_matches('/').to_owned();
        self
    }

    /// API key and secret, sent as HTTP Basic auth.
    pub fn credentials(mut self, api_key: Secret, api_secret: Secret) -> Self {
        self.credentials = Some((api_key, api_secret));
        self
    }

    /// Whole-request timeout (default 60 s). `/process` gets more for a large
    /// body: see [`upload_timeout`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The `/process` body limit (default 20 MB): larger image sets are
    /// refused before sending (see [`check_body_size`]). Lowered only in tests.
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// # Errors
    /// [`Error::Invalid`] when the base URL is not http(s) or credentials are
    /// missing or empty; [`Error::Transport`] when the TLS stack cannot start.
    pub fn build(self) -> Result<Client, Error> {
        let Some((key, secret)) = self.credentials else {
            return Err(Error::invalid(
                "credentials",
                "API key and secret are required",
            ));
        };
        if key.is_empty() || secret.is_empty() {
            return Err(Error::invalid(
                "credentials",
                "API key and secret must not be empty",
            ));
        }
        if !(self.base_url.starts_with("https://") || self.base_url.starts_with("http://")) {
            return Err(Error::invalid(
                "baseUrl",
                "must start with https:// or http://",
            ));
        }
        let http = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(CONNECT_TIMEOUT.min(self.timeout))
            .user_agent(concat!("kyc-kiosk/", env!("CARGO_PKG_VERSION")))
            // A redirect would turn POST into GET or carry credentials elsewhere:
            // an answer in 3xx is reported as it is.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|source| Error::Transport {
                endpoint: "client setup",
                source,
            })?;
        Ok(Client {
            http,
            base_url: self.base_url,
            key,
            secret,
            max_body_bytes: self.max_body_bytes,
            timeout: self.timeout,
        })
    }
}

/// A typed iDenfy API client. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base_url: String,
    key: Secret,
    secret: Secret,
    max_body_bytes: usize,
    timeout: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// One direct-processing submission. Images are raw encoded bytes (JPEG, PNG
/// or PDF), sent as they are: the client base64-encodes them and never
/// decodes or re-encodes them. Stills are sized at capture
/// (`camera::encode_still`); a set too big for the body limit is refused.
#[derive(Clone)]
pub struct ProcessRequest {
    /// The verification the token belongs to: asked about on an unknown outcome.
    pub scan_ref: ScanRef,
    pub token: AuthToken,
    /// The token's type: decides whether `FACE` is required.
    pub token_type: TokenType,
    pub country: String,
    pub document_type: Option<DocumentType>,
    pub images: Vec<(ImageSide, Vec<u8>)>,
    pub skip_analysis: bool,
}

/// Wipes the images and the token (callers hold a request in `Zeroizing`,
/// which calls this on drop).
impl zeroize::Zeroize for ProcessRequest {
    fn zeroize(&mut self) {
        for (_, bytes) in &mut self.images {
            bytes.zeroize();
        }
        self.token.0.zeroize();
    }
}

impl std::fmt::Debug for ProcessRequest {
    // Image bytes are personal data: only their sizes are shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sizes: Vec<String> = self
            .images
            .iter()
            .map(|(s, b)| format!("{s}: {} bytes", b.len()))
            .collect();
        f.debug_struct("ProcessRequest")
            .field("scan_ref", &self.scan_ref)
            .field("token_type", &self.token_type)
            .field("country", &self.country)
            .field("document_type", &self.document_type)
            .field("images", &sizes)
            .field("skip_analysis", &self.skip_analysis)
            .finish_non_exhaustive()
    }
}

/// How a `/process` call ended when it did not fail.
#[derive(Debug, Clone, PartialEq)]
pub enum ProcessOutcome {
    /// HTTP 200 with no error body: processing runs; the result comes by webhook.
    Accepted,
    /// The call's outcome was unknown, and the one `/status` check showed the
    /// submission was received (the verification is past ACTIVE).
    ConfirmedByStatus(Box<StatusResponse>),
}

impl Client {
    /// Start configuring a client.
    pub fn builder() -> Builder {
        Builder {
            base_url: PRODUCTION_BASE_URL.to_owned(),
            credentials: None,
            timeout: DEFAULT_TIMEOUT,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }

    /// The API root this client talks to.
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `POST /api/v2/token`: create a verification session (HTTP 200 or 201).
    ///
    /// # Errors
    /// [`Error::Invalid`] before sending when a field breaks a documented rule;
    /// otherwise the mapped HTTP or network error.
    pub async fn create_token(&self, req: &TokenRequest) -> Result<TokenResponse, Error> {
        validate::token_request(req)?;
        self.post_json("/api/v2/token", req).await
    }

    /// `POST /api/v2/process`: submit the images. Never retried: the API
    /// deactivates a token after one call, so when the outcome is unknown
    /// (timeout, connection dropped or reset after sending, any 5xx, a 200
    /// whose body is neither empty nor a JSON object, an answer over
    /// [`MAX_RESPONSE_BYTES`]) this asks `/status` once for `req.scan_ref`
    /// and returns what it learned. The request may take
    /// [`upload_timeout`] of the body's size.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a missing image or a bad field, and
    /// [`Error::TooLarge`] for images over the body limit (nothing sent: the
    /// token is not spent); [`Error::RateLimited`] for a 429 (refused before
    /// processing: the token is not spent, retry later);
    /// [`Error::NotProcessed`] when the API answered 200 with an error body;
    /// another 4xx as mapped by status;
    /// [`Error::OutcomeUnknown`] when even `/status` could not show the
    /// submission arrived; [`Error::Transport`] only when nothing was sent.
    pub async fn process(&self, req: &ProcessRequest) -> Result<ProcessOutcome, Error> {
        let sides: Vec<ImageSide> = req.images.iter().map(|(s, _)| s.clone()).collect();
        validate::process_sides(
            &req.country,
            req.document_type.as_ref(),
            &req.token_type,
            &sides,
        )?;
        for (i, (side, bytes)) in req.images.iter().enumerate() {
            if bytes.is_empty() {
                return Err(Error::invalid(format!("images.{side}"), "is empty"));
            }
            if sides[..i].contains(side) {
                return Err(Error::invalid(format!("images.{side}"), "is given twice"));
            }
        }
        check_body_size(&req.images, self.max_body_bytes)?;
        let body = serialize_process(req)?;
        let timeout = upload_timeout(self.timeout, body.len());
        tracing::info!(scan_ref = %req.scan_ref, bytes = body.len(), ?timeout, "submitting images");
        let sent = self
            .http
            .post(self.url("/api/v2/process"))
            .basic_auth(self.key.expose(), Some(self.secret.expose()))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .timeout(timeout)
            .body(crate::wipe::body(body))
            .send()
            .await;
        let resp = match sent {
            // Nothing reached the server: the token is not spent.
            Err(e) if e.is_connect() => {
                return Err(Error::Transport {
                    endpoint: "/api/v2/process",
                    source: e,
                })
            }
            Err(e) => return self.after_unknown(&req.scan_ref, e.to_string()).await,
            Ok(r) => r,
        };
        let status = resp.status().as_u16();
        if resp.status().is_server_error() {
            // A 500 may come after the images were stored, and a gateway's
            // 502-504 says nothing about what happened behind it.
            return self
                .after_unknown(&req.scan_ref, format!("answered HTTP {status}"))
                .await;
        }
        if !resp.status().is_success() {
            return Err(error_from(resp).await);
        }
        let bytes = match read_capped(resp, MAX_RESPONSE_BYTES).await {
            Ok(b) => b,
            Err(e) => return self.after_unknown(&req.scan_ref, e.to_string()).await,
        };
        match process_answer(&bytes) {
            Some(Ok(())) => Ok(ProcessOutcome::Accepted),
            Some(Err(e)) => Err(e),
            None => {
                self.after_unknown(
                    &req.scan_ref,
                    "answered HTTP 200 with a body that is not the API's JSON".to_owned(),
                )
                .await
            }
        }
    }

    /// `POST /api/v2/status`: a one-off check for a verification whose webhook
    /// never came. Not for polling: iDenfy restricts accounts that poll.
    ///
    /// # Errors
    /// The mapped HTTP, network or decode error.
    pub async fn status(&self, scan_ref: &ScanRef) -> Result<StatusResponse, Error> {
        self.post_json(
            "/api/v2/status",
            &ScanRefBody {
                scan_ref: scan_ref.clone(),
            },
        )
        .await
    }

    /// `POST /api/v2/data`: the document data of a finished verification.
    ///
    /// # Errors
    /// The mapped HTTP, network or decode error.
    pub async fn data(&self, scan_ref: &ScanRef) -> Result<DataResponse, Error> {
        self.post_json(
            "/api/v2/data",
            &ScanRefBody {
                scan_ref: scan_ref.clone(),
            },
        )
        .await
    }

    /// `POST /api/v2/files`: URLs of the stored photos.
    ///
    /// # Errors
    /// The mapped HTTP, network or decode error.
    pub async fn files(&self, scan_ref: &ScanRef) -> Result<FilesResponse, Error> {
        self.post_json(
            "/api/v2/files",
            &ScanRefBody {
                scan_ref: scan_ref.clone(),
            },
        )
        .await
    }

    /// `POST /api/v2/delete`: delete the verification's data. iDenfy accepts
    /// it only after the token has expired.
    ///
    /// # Errors
    /// [`Error::Api`] when refused (e.g. the token has not expired yet); the
    /// mapped HTTP or network error otherwise.
    pub async fn delete(&self, scan_ref: &ScanRef) -> Result<(), Error> {
        let endpoint = "/api/v2/delete";
        let resp = self
            .send(
                endpoint,
                &ScanRefBody {
                    scan_ref: scan_ref.clone(),
                },
            )
            .await?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(error_from(resp).await)
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    async fn send<B: Serialize + ?Sized>(
        &self,
        endpoint: &'static str,
        body: &B,
    ) -> Result<reqwest::Response, Error> {
        // The token request carries names and expected data: the body is
        // written once at its size and wiped when the HTTP stack drops it.
        let json = crate::wipe::json(body).map_err(|e| Error::invalid("body", e.to_string()))?;
        self.http
            .post(self.url(endpoint))
            .basic_auth(self.key.expose(), Some(self.secret.expose()))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(crate::wipe::body(json))
            .send()
            .await
            .map_err(|source| Error::Transport { endpoint, source })
    }

    async fn post_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        body: &B,
    ) -> Result<T, Error> {
        let resp = self.send(endpoint, body).await?;
        if !resp.status().is_success() {
            return Err(error_from(resp).await);
        }
        let bytes = read_capped(resp, MAX_RESPONSE_BYTES)
            .await
            .map_err(|e| e.into_error(endpoint))?;
        decode(endpoint, &bytes)
    }

    async fn after_unknown(
        &self,
        scan_ref: &ScanRef,
        detail: String,
    ) -> Result<ProcessOutcome, Error> {
        tracing::warn!(%scan_ref, %detail, "outcome of /process unknown; asking /status once");
        match self.status(scan_ref).await {
            // Still unused, or expired unused: nothing shows the images
            // arrived (the caller learns which from `status`).
            Ok(s)
                if !matches!(
                    s.status,
                    OverallStatus::Active | OverallStatus::Expired | OverallStatus::ExpiredDeleted
                ) =>
            {
                Ok(ProcessOutcome::ConfirmedByStatus(Box::new(s)))
            }
            Ok(s) => Err(Error::OutcomeUnknown {
                scan_ref: scan_ref.clone(),
                status: Some(s.status),
                detail,
            }),
            Err(e) => Err(Error::OutcomeUnknown {
                scan_ref: scan_ref.clone(),
                status: None,
                detail: format!("{detail}; /status failed too: {e}"),
            }),
        }
    }
}

/// The `/process` JSON. Every copy of the images made on the way (their
/// base64 and the body) is wiped: the base64 strings here, the body when the
/// HTTP stack drops it.
fn serialize_process(req: &ProcessRequest) -> Result<Zeroizing<Vec<u8>>, Error> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut body = ProcessBody {
        token: req.token.clone(),
        country: req.country.trim().to_ascii_uppercase(),
        document_type: req.document_type.clone(),
        images: req
            .images
            .iter()
            .map(|(s, b)| (s.clone(), b64.encode(b)))
            .collect(),
        skip_analysis: req.skip_analysis.then_some(true),
    };
    let json = crate::wipe::json(&body).map_err(|e| Error::invalid("images", e.to_string()));
    for text in body.images.values_mut() {
        text.zeroize();
    }
    body.token.0.zeroize();
    json
}

/// Length of standard padded base64 for `n` bytes: the API counts its body
/// limit after base64, 4 characters for every 3 bytes.
#[must_use]
pub const fn base64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// Refuse images that would make a `/process` body over `limit` bytes: their
/// base64 plus [`PROCESS_JSON_HEADROOM`]. The one size rule, applied by
/// [`Client::process`] before sending and by callers that want to refuse a
/// set before a token is created.
///
/// # Errors
/// [`Error::TooLarge`] with the size needed and the limit.
pub fn check_body_size(images: &[(ImageSide, Vec<u8>)], limit: usize) -> Result<(), Error> {
    let needed = PROCESS_JSON_HEADROOM
        + images
            .iter()
            .map(|(_, b)| base64_len(b.len()))
            .sum::<usize>();
    if needed > limit {
        tracing::warn!(needed, limit, "images too large for one request; not sent");
        return Err(Error::TooLarge { needed, limit });
    }
    Ok(())
}

/// What a 200 answer of `/process` says: accepted (empty, or a JSON object
/// without an error), not processed (a JSON object with a message or an
/// identifier), or `None` when it is not the API's JSON at all (a proxy's
/// page, a cut-off body): then nobody knows whether the images arrived.
pub(crate) fn process_answer(bytes: &[u8]) -> Option<Result<(), Error>> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Some(Ok(()));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    if !value.is_object() {
        return None;
    }
    let b: ApiErrorBody = serde_json::from_value(value).unwrap_or_default();
    if b.message.is_empty() && b.identifier.is_none() {
        Some(Ok(()))
    } else {
        Some(Err(Error::NotProcessed {
            identifier: b.identifier.as_deref().map(truncate),
            message: truncate(&b.message),
        }))
    }
}

/// The whole-request timeout of a `/process` call with a `body_bytes` body:
/// `base`, plus the time to send what is beyond [`UPLOAD_INCLUDED_BYTES`] at
/// [`UPLOAD_FLOOR_BYTES_PER_SEC`] (a 20 MB body on a 512 kbit/s line needs
/// five minutes, not the 60 s that suit the other calls).
#[must_use]
pub fn upload_timeout(base: Duration, body_bytes: usize) -> Duration {
    let beyond = u64::try_from(body_bytes)
        .unwrap_or(u64::MAX)
        .saturating_sub(UPLOAD_INCLUDED_BYTES);
    base.saturating_add(Duration::from_millis(
        beyond.saturating_mul(1000) / UPLOAD_FLOOR_BYTES_PER_SEC,
    ))
}

/// Why an answer's body could not be read.
#[derive(Debug)]
enum ReadError {
    /// Larger than the cap (announced, or found while reading): not read further.
    TooLarge {
        cap: usize,
    },
    Transport(reqwest::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooLarge { cap } => write!(f, "the answer is larger than {cap} bytes"),
            Self::Transport(e) => write!(f, "{e}"),
        }
    }
}

impl ReadError {
    fn into_error(self, endpoint: &'static str) -> Error {
        match self {
            Self::TooLarge { cap } => Error::Decode {
                endpoint,
                path: ".".to_owned(),
                message: format!("the answer is larger than {cap} bytes; not read"),
            },
            Self::Transport(source) => Error::Transport { endpoint, source },
        }
    }
}

/// The body of `resp`, refused as soon as it is known to exceed `cap` bytes
/// (from `Content-Length`, or while reading): an oversized answer is never
/// buffered.
async fn read_capped(mut resp: reqwest::Response, cap: usize) -> Result<Vec<u8>, ReadError> {
    if resp
        .content_length()
        .is_some_and(|n| n > u64::try_from(cap).unwrap_or(u64::MAX))
    {
        return Err(ReadError::TooLarge { cap });
    }
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(ReadError::Transport)? {
        if out.len() + chunk.len() > cap {
            return Err(ReadError::TooLarge { cap });
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

fn truncate(s: &str) -> String {
    if s.chars().count() <= MAX_ERROR_MESSAGE {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(MAX_ERROR_MESSAGE).collect();
        t.push('…');
        t
    }
}

/// Map a non-success response to an [`Error`].
async fn error_from(resp: reqwest::Response) -> Error {
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // An error answer is quoted, not kept: what is over the cap is not read.
    let bytes = read_capped(resp, MAX_RESPONSE_BYTES)
        .await
        .unwrap_or_default();
    error_from_parts(status, retry_after.as_deref(), &bytes)
}

/// [`error_from`] once the answer is read: its status, `Retry-After` and body.
pub(crate) fn error_from_parts(status: u16, retry_after: Option<&str>, bytes: &[u8]) -> Error {
    let retry_after_secs = retry_after.and_then(|v| v.trim().parse().ok());
    let body: ApiErrorBody = serde_json::from_slice(bytes).unwrap_or_else(|_| ApiErrorBody {
        message: String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_ERROR_MESSAGE)]).into_owned(),
        ..ApiErrorBody::default()
    });
    let message = if body.message.trim().is_empty() {
        reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("error")
            .to_owned()
    } else {
        truncate(&body.message)
    };
    match status {
        401 | 403 => Error::Unauthorized { status },
        402 => Error::OutOfCredits { message },
        429 => Error::RateLimited { retry_after_secs },
        s => Error::Api {
            status: s,
            // Quoted like the message: bounded, whatever the server sent.
            identifier: body.identifier.as_deref().map(truncate),
            message,
        },
    }
}

/// Decode with the failing JSON path named. The message keeps the kind of
/// error and its position but never the offending value (it may be personal).
///
/// The text is parsed as a JSON value first: a key given twice (the
/// reference's own token answer repeats `callbackUrl`) keeps its last value
/// instead of failing the whole answer.
///
/// # Errors
/// [`Error::Decode`] naming the JSON path that failed (`.` for a syntax error).
pub fn decode<T: DeserializeOwned>(endpoint: &'static str, bytes: &[u8]) -> Result<T, Error> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| Error::Decode {
        endpoint,
        path: ".".to_owned(),
        message: describe(&e),
    })?;
    serde_path_to_error::deserialize(value).map_err(|e| Error::Decode {
        endpoint,
        path: e.path().to_string(),
        message: describe(e.inner()),
    })
}

/// The kind of a JSON error and where, never the value.
fn describe(e: &serde_json::Error) -> String {
    let kind = match e.classify() {
        serde_json::error::Category::Io => "I/O error",
        serde_json::error::Category::Syntax => "invalid JSON",
        serde_json::error::Category::Data => "unexpected type or missing field",
        serde_json::error::Category::Eof => "truncated JSON",
    };
    if e.line() == 0 {
        kind.to_owned()
    } else {
        format!("{kind} at line {} column {}", e.line(), e.column())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    // A server (or a proxy in its place) that sends a huge `identifier` must
    // not make an error text of that size: it is quoted on screen and in logs.
    #[test]
    fn an_error_answers_identifier_is_bounded_like_its_message() {
        let long = "X".repeat(100_000);
        let body = format!(r#"{{"message":"{long}","identifier":"{long}"}}"#);
        let e = error_from_parts(400, None, body.as_bytes());
        let text = e.to_string();
        assert!(
            text.chars().count() < 2 * MAX_ERROR_MESSAGE + 100,
            "{}",
            text.len()
        );
        match process_answer(body.as_bytes()) {
            Some(Err(Error::NotProcessed {
                identifier: Some(i),
                ..
            })) => assert!(i.chars().count() <= MAX_ERROR_MESSAGE + 1),
            other => panic!("{other:?}"),
        }
        // Retry-After comes through, and an empty body names the status.
        match error_from_parts(429, Some(" 17 "), b"") {
            Error::RateLimited { retry_after_secs } => assert_eq!(retry_after_secs, Some(17)),
            other => panic!("{other:?}"),
        }
        match error_from_parts(404, None, b"") {
            Error::Api { message, .. } => assert_eq!(message, "Not Found"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn builder_refuses_missing_or_empty_credentials_and_bad_urls() {
        assert!(matches!(
            Client::builder().build(),
            Err(Error::Invalid { .. })
        ));
        let e = Client::builder()
            .credentials(Secret::new(" "), Secret::new("s"))
            .build()
            .unwrap_err();
        assert!(matches!(e, Error::Invalid { ref field, .. } if field == "credentials"));
        let e = Client::builder()
            .base_url("ftp://x")
            .credentials(Secret::new("k"), Secret::new("s"))
            .build()
            .unwrap_err();
        assert!(matches!(e, Error::Invalid { ref field, .. } if field == "baseUrl"));
        let c = Client::builder()
            .credentials(Secret::new("key-123"), Secret::new("secret-456"))
            .build()
            .unwrap();
        assert_eq!(c.base_url(), "https://ivs.idenfy.com");
        let dbg = format!("{c:?}");
        assert!(
            !dbg.contains("key-123") && !dbg.contains("secret-456"),
            "{dbg}"
        );
    }

    #[test]
    fn decode_names_the_path_and_not_the_value() {
        let e = decode::<StatusResponse>(
            "/api/v2/status",
            br#"{"status":"APPROVED","fraudTags":[1]}"#,
        )
        .unwrap_err();
        match e {
            Error::Decode { path, message, .. } => {
                assert_eq!(path, "fraudTags[0]");
                assert!(
                    !message.contains('1') || message.contains("line"),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
        let e = decode::<TokenResponse>("/api/v2/token", br#"{"authToken":"a","scanRef":"JONAS"}"#)
            .unwrap_err();
        assert!(!e.to_string().contains("JONAS"), "{e}");
    }

    fn request(images: Vec<(ImageSide, Vec<u8>)>) -> ProcessRequest {
        ProcessRequest {
            scan_ref: ScanRef("s".into()),
            token: AuthToken("t".into()),
            token_type: TokenType::Identification,
            country: " lt".into(),
            document_type: Some(DocumentType::IdCard),
            images,
            skip_analysis: false,
        }
    }

    #[test]
    fn images_are_sent_as_given() {
        // Not images at all: the client never decodes what it sends.
        let front = b"\xff\xd8 any bytes".to_vec();
        let body = serialize_process(&request(vec![(ImageSide::Front, front.clone())])).unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD;
        assert_eq!(body["images"]["FRONT"], b64.encode(&front));
        assert_eq!(body["country"], "LT");
    }

    #[test]
    fn the_size_rule_counts_base64_and_the_json_headroom() {
        let b64 = base64::engine::general_purpose::STANDARD;
        for n in [0, 1, 2, 3, 4, 1000, 1001] {
            assert_eq!(base64_len(n), b64.encode(vec![0u8; n]).len(), "{n}");
        }
        let imgs = vec![
            (ImageSide::Front, vec![7u8; 3000]),
            (ImageSide::Back, vec![7u8; 3001]),
        ];
        let needed = PROCESS_JSON_HEADROOM + 4000 + 4004;
        assert!(check_body_size(&imgs, needed).is_ok());
        let e = check_body_size(&imgs, needed - 1).unwrap_err();
        assert!(
            matches!(e, Error::TooLarge { needed: n, limit } if n == needed && limit == needed - 1),
            "{e:?}"
        );
        assert_eq!(e.code(), ErrorCode::InvalidInput);
        let msg = e.to_string();
        assert!(msg.contains(&needed.to_string()), "{msg}");
    }

    #[test]
    fn the_upload_timeout_grows_with_the_body_beyond_the_included_part() {
        let base = Duration::from_secs(60);
        assert_eq!(upload_timeout(base, 0), base);
        assert_eq!(upload_timeout(base, 2 * 1024 * 1024), base);
        // 20 MB on a 512 kbit/s line: about five minutes more than the base.
        let t = upload_timeout(base, 20_000_000);
        let send =
            Duration::from_secs((20_000_000 - UPLOAD_INCLUDED_BYTES) / UPLOAD_FLOOR_BYTES_PER_SEC);
        assert!(
            t >= base + send && t <= base + send + Duration::from_secs(1),
            "{t:?}"
        );
        assert!(t > Duration::from_secs(300), "{t:?}");
        assert_eq!(upload_timeout(Duration::MAX, usize::MAX), Duration::MAX);
    }

    #[test]
    fn a_process_answer_is_accepted_refused_or_not_the_apis() {
        for accepted in ["", " \r\n", "{}", r#"{"unknown":1}"#] {
            assert!(
                matches!(process_answer(accepted.as_bytes()), Some(Ok(()))),
                "{accepted:?}"
            );
        }
        assert!(matches!(
            process_answer(
                br#"{"message":"Document not detected","identifier":"DOC_NOT_DETECTED"}"#
            ),
            Some(Err(Error::NotProcessed { .. }))
        ));
        for foreign in [
            "<html>Bad gateway</html>",
            "[]",
            "\"ok\"",
            "{\"message\":",
            "42",
        ] {
            assert!(process_answer(foreign.as_bytes()).is_none(), "{foreign:?}");
        }
    }
}
