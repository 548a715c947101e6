//! The sandbox's HTTP surface and state. Error bodies have iDenfy's shape
//! (`message`, `identifier`, `documentation`, `severity`); the identifiers
//! are the sandbox's own where the reference names none.

// Handlers return an axum `Response` as their error: that is the idiom, and
// these are built once per refused request.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine as _;
use subtle::ConstantTimeEq;
use tokio::sync::watch;

use super::images;
use super::notify::{self, Delivery};
use super::verdict::{self, Submission, Verdict};
use super::SandboxConfig;
use crate::config::Secret;
use crate::idenfy::models::{
    ApiErrorBody, AuthToken, ClientId, DataResponse, DocumentType, FilesResponse, ImageSide,
    OverallStatus, ProcessBody, ScanRef, ScanRefBody, StatusResponse, TokenRequest, TokenResponse,
    VerificationData, WebhookPayload, WebhookStatus,
};
use crate::idenfy::{validate, Error as IdenfyError};

/// Token lifetime when the request gives none (the documented default).
const DEFAULT_EXPIRY_SECS: u64 = 86_400;
const DEFAULT_SESSION_SECS: u64 = 1_800;
/// Limit for the small JSON endpoints.
const SMALL_BODY: usize = 64 * 1024;

pub(super) struct Settings {
    pub cfg: SandboxConfig,
    pub api_key: Secret,
    pub api_secret: Secret,
    pub signing_key: Secret,
}

struct Scan {
    request: TokenRequest,
    client_id: ClientId,
    expires_at: Instant,
    used: bool,
    /// Set at /process: what the analysis will say.
    verdict: Option<Verdict>,
    country: String,
    auto_done: bool,
    manual_done: bool,
    deleted: bool,
    start_time: i64,
}

impl Scan {
    /// Refuses a token already spent, expired or deleted, as the API does.
    fn usable(&self) -> Result<(), Response> {
        if self.used {
            return Err(api_error(
                StatusCode::BAD_REQUEST,
                Some("TOKEN_ALREADY_USED"),
                "Token has already been used",
            ));
        }
        if Instant::now() >= self.expires_at || self.deleted {
            return Err(api_error(
                StatusCode::BAD_REQUEST,
                Some("TOKEN_EXPIRED"),
                "Token has expired",
            ));
        }
        Ok(())
    }

    fn status(&self, manual_review: bool) -> OverallStatus {
        if self.deleted {
            return OverallStatus::Deleted;
        }
        match &self.verdict {
            None if Instant::now() >= self.expires_at => OverallStatus::Expired,
            None => OverallStatus::Active,
            Some(v) if self.manual_done || (self.auto_done && !manual_review) => v.overall.clone(),
            Some(_) => OverallStatus::Reviewing,
        }
    }
}

#[derive(Default)]
struct Store {
    /// 8-digit mobile codes (generateDigitString) -> scanRef.
    by_digits: HashMap<String, ScanRef>,
    scans: HashMap<ScanRef, Scan>,
    by_token: HashMap<AuthToken, ScanRef>,
    credits_used: u32,
}

struct Shared {
    s: Settings,
    /// `/process` calls still to stall (see `SandboxConfig::stall_process`).
    stalls_left: std::sync::atomic::AtomicU32,
    store: Mutex<Store>,
    http: reqwest::Client,
    stop: watch::Receiver<bool>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

type App = Arc<Shared>;

/// The sandbox router with the given settings (for embedding in another
/// server); [`super::Sandbox::start`] is the usual entry point.
///
/// # Errors
/// When the webhook HTTP client cannot be built.
pub fn router(
    cfg: SandboxConfig,
    api_key: Secret,
    api_secret: Secret,
    signing_key: Secret,
) -> Result<Router, reqwest::Error> {
    let (_tx, rx) = watch::channel(false);
    router_with(
        Settings {
            cfg,
            api_key,
            api_secret,
            signing_key,
        },
        rx,
    )
}

pub(super) fn router_with(
    s: Settings,
    stop: watch::Receiver<bool>,
) -> Result<Router, reqwest::Error> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let app = Arc::new(Shared {
        stalls_left: std::sync::atomic::AtomicU32::new(s.cfg.stall_process),
        s,
        store: Mutex::default(),
        http,
        stop,
    });
    Ok(Router::new()
        .route("/api/v2/token", post(token))
        .route("/api/v2/process", post(process))
        .route("/api/v2/status", post(status))
        .route("/api/v2/data", post(data))
        .route("/api/v2/files", post(files))
        .route("/api/v2/delete", post(delete))
        .route("/sandbox/mobile/complete", post(mobile_complete))
        // Bodies are read with our own limit so the refusal has iDenfy's shape.
        .layer(DefaultBodyLimit::disable())
        .with_state(app))
}

fn api_error(status: StatusCode, identifier: Option<&str>, message: impl Into<String>) -> Response {
    (
        status,
        Json(ApiErrorBody {
            message: message.into(),
            identifier: identifier.map(str::to_owned),
            documentation: Some(String::new()),
            severity: Some("NOT_SEVERE".to_owned()),
        }),
    )
        .into_response()
}

fn invalid(e: &IdenfyError) -> Response {
    api_error(
        StatusCode::BAD_REQUEST,
        Some("INVALID_VALUE"),
        e.to_string(),
    )
}

fn check_auth(app: &Shared, headers: &HeaderMap) -> Result<(), Response> {
    let refused = || {
        api_error(
            StatusCode::UNAUTHORIZED,
            Some("UNAUTHORIZED"),
            "Invalid API key or secret",
        )
    };
    let value = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .ok_or_else(refused)?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .map_err(|_| refused())?;
    let expected = format!("{}:{}", app.s.api_key.expose(), app.s.api_secret.expose());
    let ok = decoded.len() == expected.len() && bool::from(decoded.ct_eq(expected.as_bytes()));
    // The expected value holds the secret: wipe it.
    drop(zeroize::Zeroizing::new(expected));
    if ok {
        Ok(())
    } else {
        Err(refused())
    }
}

async fn read_json<T: serde::de::DeserializeOwned>(
    body: Body,
    limit: usize,
) -> Result<T, Response> {
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        api_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            Some("REQUEST_TOO_LARGE"),
            format!("Request body exceeds {limit} bytes"),
        )
    })?;
    let de = &mut serde_json::Deserializer::from_slice(&bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        api_error(
            StatusCode::BAD_REQUEST,
            Some("INVALID_BODY"),
            format!("JSON parse error at `{}`", e.path()),
        )
    })
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn random_token() -> String {
    use rand::Rng;
    rand::thread_rng()
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(40)
        .map(char::from)
        .collect()
}

async fn token(State(app): State<App>, headers: HeaderMap, body: Body) -> Response {
    if let Err(r) = check_auth(&app, &headers) {
        return r;
    }
    let req: TokenRequest = match read_json(body, SMALL_BODY).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    if let Err(e) = validate::token_request(&req) {
        return invalid(&e);
    }
    let mut store = app.lock();
    if let Some(credits) = app.s.cfg.credits {
        if store.credits_used >= credits {
            return api_error(
                StatusCode::PAYMENT_REQUIRED,
                Some("NOT_ENOUGH_CREDITS"),
                "Not enough credits to create a verification",
            );
        }
    }
    store.credits_used += 1;
    let scan_ref = ScanRef(uuid::Uuid::new_v4().to_string());
    let auth_token = AuthToken(random_token());
    let expiry = req.expiry_time.unwrap_or(DEFAULT_EXPIRY_SECS);
    let digit_string = (req.generate_digit_string == Some(true)).then(|| {
        use rand::Rng;
        let mut rng = rand::thread_rng();
        loop {
            let d = format!("{:08}", rng.gen_range(0..100_000_000u32));
            if !store.by_digits.contains_key(&d) {
                break d;
            }
        }
    });
    if let Some(d) = &digit_string {
        store.by_digits.insert(d.clone(), scan_ref.clone());
    }
    let resp = TokenResponse {
        message: Some("Token created successfully".to_owned()),
        auth_token: auth_token.clone(),
        scan_ref: scan_ref.clone(),
        client_id: ClientId(req.client_id.clone()),
        first_name: req.first_name.as_ref().map(|s| s.to_uppercase()),
        last_name: req.last_name.as_ref().map(|s| s.to_uppercase()),
        locale: Some(req.locale.clone().unwrap_or_else(|| "en".to_owned())),
        country: req.country.clone(),
        expiry_time: Some(expiry),
        session_length: Some(req.session_length.unwrap_or(DEFAULT_SESSION_SECS)),
        documents: req.documents.clone(),
        token_type: Some(req.effective_token_type()),
        digit_string,
        callback_url: req.callback_url.clone(),
        external_ref: req.external_ref.clone(),
        utility_bill: Some(req.utility_bill.unwrap_or(false)),
        additional_steps: req.additional_steps.clone(),
    };
    store.by_token.insert(auth_token, scan_ref.clone());
    store.scans.insert(
        scan_ref,
        Scan {
            client_id: ClientId(req.client_id.clone()),
            request: req,
            expires_at: Instant::now() + Duration::from_secs(expiry),
            used: false,
            verdict: None,
            country: String::new(),
            auto_done: false,
            manual_done: false,
            deleted: false,
            start_time: now_unix(),
        },
    );
    (StatusCode::CREATED, Json(resp)).into_response()
}

fn decode_image(side: &ImageSide, b64: &str) -> Result<Vec<u8>, Response> {
    if b64.trim_start().starts_with("data:") {
        return Err(api_error(
            StatusCode::BAD_REQUEST,
            Some("INVALID_IMAGE"),
            format!("Image '{side}' must be plain base64 without a data: prefix"),
        ));
    }
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| {
            api_error(
                StatusCode::BAD_REQUEST,
                Some("INVALID_IMAGE"),
                format!("Image '{side}' is not valid base64"),
            )
        })
}

async fn process(State(app): State<App>, headers: HeaderMap, body: Body) -> Response {
    if let Err(r) = check_auth(&app, &headers) {
        return r;
    }
    let stall = app
        .stalls_left
        .fetch_update(
            std::sync::atomic::Ordering::SeqCst,
            std::sync::atomic::Ordering::SeqCst,
            |n| n.checked_sub(1),
        )
        .is_ok();
    if stall {
        // Never answer (the caller times out) and spend nothing; end with the
        // sandbox so a shutdown does not wait for this request.
        let mut stop = app.stop.clone();
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(3600)) => {}
            _ = stop.wait_for(|s| *s) => {}
        }
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let req: ProcessBody = match read_json(body, app.s.cfg.max_body_bytes).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    // Look the token up (without holding the lock across image work).
    let (token_req, scan_ref) = {
        let store = app.lock();
        let Some(scan_ref) = store.by_token.get(&req.token).cloned() else {
            return api_error(
                StatusCode::BAD_REQUEST,
                Some("TOKEN_NOT_FOUND"),
                "Token not found",
            );
        };
        let scan = &store.scans[&scan_ref];
        if let Err(r) = scan.usable() {
            return r;
        }
        if scan.request.nfc_required == Some(true) {
            return api_error(
                StatusCode::BAD_REQUEST,
                Some("NFC_REQUIRED"),
                "Direct processing is not available for tokens requiring NFC",
            );
        }
        (scan.request.clone(), scan_ref)
    };
    let sides: Vec<ImageSide> = req.images.keys().cloned().collect();
    if let Err(e) = validate::process_sides(
        &req.country,
        req.document_type.as_ref(),
        &token_req.effective_token_type(),
        &sides,
    ) {
        return match &e {
            IdenfyError::Invalid { field, .. } if field.starts_with("images.") => api_error(
                StatusCode::BAD_REQUEST,
                Some("MISSING_VALUE"),
                format!("No image provided for step '{}'", &field["images.".len()..]),
            ),
            _ => invalid(&e),
        };
    }
    let mut decoded = HashMap::new();
    for (side, b64) in &req.images {
        match decode_image(side, b64) {
            Ok(bytes) => {
                decoded.insert(side.clone(), bytes);
            }
            Err(r) => return r,
        }
    }
    let skip = req.skip_analysis == Some(true);
    let inspect = |side: &ImageSide| decoded.get(side).map(|b| images::inspect(b));
    let mut document_images = Vec::new();
    for side in [ImageSide::Front, ImageSide::Back] {
        match inspect(&side) {
            None => {}
            Some(Ok(r)) => document_images.push(r),
            // Not an image we can read: iDenfy answers 200 with an error body
            // and the token stays usable (retry with a better photo or skipAnalysis).
            Some(Err(_)) if !skip => {
                return (
                    StatusCode::OK,
                    Json(ApiErrorBody {
                        message: format!("Document was not detected in the '{side}' photo"),
                        identifier: Some("DOC_NOT_DETECTED".to_owned()),
                        documentation: Some(String::new()),
                        severity: Some("NOT_SEVERE".to_owned()),
                    }),
                )
                    .into_response();
            }
            Some(Err(_)) => {}
        }
    }
    let face = match inspect(&ImageSide::Face) {
        Some(Ok(r)) => Some(r),
        // An unreadable selfie holds no face.
        Some(Err(_)) => Some(images::ImageReport {
            width: 0,
            height: 0,
            issues: vec![images::Issue::TooSmall],
        }),
        None => None,
    };
    let face_is_front = decoded.contains_key(&ImageSide::Face)
        && decoded.get(&ImageSide::Face) == decoded.get(&ImageSide::Front);
    drop(decoded);
    let country = req.country.trim().to_ascii_uppercase();
    let v = verdict::decide(
        &token_req,
        &Submission {
            country: country.clone(),
            document_type: req.document_type.clone(),
            skip_analysis: skip,
            document_images,
            face,
            face_is_front,
        },
    );
    spend(&app, scan_ref, v, country, "sandbox accepted a submission")
}

/// Spends the token with its verdict and starts the analysis that sends the
/// webhooks. Two concurrent calls with one token: only the first wins.
fn spend(
    app: &App,
    scan_ref: ScanRef,
    v: Verdict,
    country: String,
    what: &'static str,
) -> Response {
    {
        let mut store = app.lock();
        let Some(scan) = store.scans.get_mut(&scan_ref) else {
            return api_error(
                StatusCode::BAD_REQUEST,
                Some("TOKEN_NOT_FOUND"),
                "Token not found",
            );
        };
        if scan.used {
            return api_error(
                StatusCode::BAD_REQUEST,
                Some("TOKEN_ALREADY_USED"),
                "Token has already been used",
            );
        }
        scan.used = true;
        scan.verdict = Some(v);
        scan.country = country;
    }
    tracing::info!(%scan_ref, "{what}");
    tokio::spawn(run_analysis(app.clone(), scan_ref));
    StatusCode::OK.into_response()
}

/// Publish the automatic result, then the manual one, with signed webhooks.
async fn run_analysis(app: App, scan_ref: ScanRef) {
    let cfg = &app.s.cfg;
    let mut stop = app.stop.clone();
    let sleep = |d: Duration| {
        let mut stop = app.stop.clone();
        async move {
            tokio::select! {
                () = tokio::time::sleep(d) => true,
                _ = stop.wait_for(|s| *s) => false,
            }
        }
    };
    if !sleep(cfg.auto_delay).await {
        return;
    }
    let auto = {
        let mut store = app.lock();
        let Some(scan) = store.scans.get_mut(&scan_ref) else {
            return;
        };
        scan.auto_done = true;
        payload(&scan_ref, scan, !cfg.manual_review, false)
    };
    send(&app, &auto, notify::EVENT_AUTO).await;
    if !cfg.manual_review || *stop.borrow_and_update() {
        return;
    }
    if !sleep(cfg.manual_delay).await {
        return;
    }
    let manual = {
        let mut store = app.lock();
        let Some(scan) = store.scans.get_mut(&scan_ref) else {
            return;
        };
        scan.manual_done = true;
        payload(&scan_ref, scan, true, true)
    };
    send(&app, &manual, notify::EVENT_MANUAL).await;
}

async fn send(app: &App, p: &Option<(WebhookPayload, Option<String>)>, event: &str) {
    let Some((payload, callback)) = p else { return };
    let Some(url) = callback.clone().or_else(|| app.s.cfg.webhook_url.clone()) else {
        tracing::debug!(scan_ref = %payload.scan_ref, "no webhook URL; result kept for /status");
        return;
    };
    let d = Delivery {
        url,
        signing_key: app.s.signing_key.clone(),
        attempts: app.s.cfg.webhook_attempts,
        first_backoff: app.s.cfg.webhook_backoff,
    };
    notify::deliver(&app.http, &d, event, payload, app.stop.clone()).await;
}

fn payload(
    scan_ref: &ScanRef,
    scan: &Scan,
    is_final: bool,
    manual: bool,
) -> Option<(WebhookPayload, Option<String>)> {
    let v = scan.verdict.as_ref()?;
    if scan.deleted {
        return None;
    }
    let analysed = v.document.is_some();
    Some((
        WebhookPayload {
            is_final,
            platform: Some("API".to_owned()),
            status: WebhookStatus {
                overall: if is_final {
                    v.overall.clone()
                } else {
                    OverallStatus::Reviewing
                },
                fraud_tags: v.fraud_tags.clone(),
                mismatch_tags: v.mismatch_tags.clone(),
                auto_face: v.face.clone(),
                manual_face: if manual { v.face.clone() } else { None },
                auto_document: v.document.clone(),
                manual_document: if manual { v.document.clone() } else { None },
                additional_steps: None,
            },
            data: if analysed {
                verdict::specimen_data(&scan.country)
            } else {
                VerificationData::default()
            },
            file_urls: Default::default(),
            scan_ref: scan_ref.clone(),
            client_id: Some(scan.client_id.clone()),
            start_time: Some(scan.start_time),
            finish_time: Some(now_unix()),
            client_ip: Some("127.0.0.1".to_owned()),
            client_ip_country: Some("LT".to_owned()),
            client_location: None,
        },
        scan.request.callback_url.clone(),
    ))
}

/// Find a scan for the small endpoints, or the 404 answer.
fn with_scan<T>(
    app: &Shared,
    scan_ref: &ScanRef,
    f: impl FnOnce(&mut Scan) -> T,
) -> Result<T, Response> {
    let mut store = app.lock();
    store.scans.get_mut(scan_ref).map(f).ok_or_else(|| {
        api_error(
            StatusCode::NOT_FOUND,
            Some("NOT_FOUND"),
            format!("Verification {scan_ref} not found"),
        )
    })
}

async fn scan_ref_of(app: &Shared, headers: &HeaderMap, body: Body) -> Result<ScanRef, Response> {
    check_auth(app, headers)?;
    let b: ScanRefBody = read_json(body, SMALL_BODY).await?;
    Ok(b.scan_ref)
}

async fn status(State(app): State<App>, headers: HeaderMap, body: Body) -> Response {
    let scan_ref = match scan_ref_of(&app, &headers, body).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let manual_review = app.s.cfg.manual_review;
    let r = with_scan(&app, &scan_ref, |scan| {
        let status = scan.status(manual_review);
        let v = scan
            .verdict
            .as_ref()
            .filter(|_| scan.auto_done && !scan.deleted);
        StatusResponse {
            status,
            scan_ref: Some(scan_ref.clone()),
            client_id: Some(scan.client_id.clone()),
            fraud_tags: v.map(|v| v.fraud_tags.clone()).unwrap_or_default(),
            mismatch_tags: v.map(|v| v.mismatch_tags.clone()).unwrap_or_default(),
            auto_document: v.and_then(|v| v.document.clone()),
            auto_face: v.and_then(|v| v.face.clone()),
            manual_document: v
                .filter(|_| scan.manual_done)
                .and_then(|v| v.document.clone()),
            manual_face: v.filter(|_| scan.manual_done).and_then(|v| v.face.clone()),
        }
    });
    match r {
        Ok(s) => Json(s).into_response(),
        Err(r) => r,
    }
}

async fn data(State(app): State<App>, headers: HeaderMap, body: Body) -> Response {
    let scan_ref = match scan_ref_of(&app, &headers, body).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let r = with_scan(&app, &scan_ref, |scan| {
        let analysed = scan.auto_done
            && !scan.deleted
            && scan.verdict.as_ref().is_some_and(|v| v.document.is_some());
        DataResponse {
            data: if analysed {
                verdict::specimen_data(&scan.country)
            } else {
                VerificationData::default()
            },
            scan_ref: Some(scan_ref.clone()),
            client_id: Some(scan.client_id.clone()),
        }
    });
    match r {
        Ok(d) => Json(d).into_response(),
        Err(r) => r,
    }
}

async fn files(State(app): State<App>, headers: HeaderMap, body: Body) -> Response {
    let scan_ref = match scan_ref_of(&app, &headers, body).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    // The sandbox keeps no image, so there is never a URL to give.
    match with_scan(&app, &scan_ref, |_| FilesResponse::default()) {
        Ok(f) => Json(f).into_response(),
        Err(r) => r,
    }
}

async fn delete(State(app): State<App>, headers: HeaderMap, body: Body) -> Response {
    let scan_ref = match scan_ref_of(&app, &headers, body).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let r = with_scan(&app, &scan_ref, |scan| {
        if Instant::now() < scan.expires_at {
            return false;
        }
        scan.deleted = true;
        true
    });
    match r {
        Ok(true) => StatusCode::OK.into_response(),
        Ok(false) => api_error(
            StatusCode::BAD_REQUEST,
            Some("TOKEN_NOT_EXPIRED"),
            "Verification data can be deleted only after the token has expired",
        ),
        Err(r) => r,
    }
}

/// Body of `POST /sandbox/mobile/complete`.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct MobileBody {
    digit_string: String,
    /// The document country the customer picked in the app (default: the token's, else LT).
    country: Option<String>,
}

/// Sandbox only: acts as iDenfy's mobile app finishing a verification with
/// the 8-digit code (good photos of the specimen), so the mobile handoff can
/// be exercised end to end. The token is spent exactly as by `/process`.
async fn mobile_complete(State(app): State<App>, Json(body): Json<MobileBody>) -> Response {
    let verdict_input = {
        let store = app.lock();
        let Some(scan_ref) = store.by_digits.get(body.digit_string.trim()).cloned() else {
            return api_error(
                StatusCode::NOT_FOUND,
                Some("TOKEN_NOT_FOUND"),
                "No verification has this code",
            );
        };
        let scan = &store.scans[&scan_ref];
        if let Err(r) = scan.usable() {
            return r;
        }
        (scan.request.clone(), scan_ref)
    };
    let (token_req, scan_ref) = verdict_input;
    let country = body
        .country
        .or_else(|| token_req.country.clone())
        .unwrap_or_else(|| "LT".to_owned())
        .to_ascii_uppercase();
    let good = images::ImageReport {
        width: 1920,
        height: 1080,
        issues: Vec::new(),
    };
    let v = verdict::decide(
        &token_req,
        &Submission {
            country: country.clone(),
            document_type: Some(DocumentType::IdCard),
            skip_analysis: false,
            document_images: vec![good.clone(), good.clone()],
            face: Some(good),
            face_is_front: false,
        },
    );
    spend(
        &app,
        scan_ref,
        v,
        country,
        "sandbox: mobile verification finished",
    )
}
