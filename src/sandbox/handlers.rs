//! One handler per endpoint. `/process` reads as its steps: auth, the
//! injected stall, the body, the token, the sides, the images, their
//! judgement, the verdict, and spending the token.

// Handlers return an axum `Response` as their error (see `http`).
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;

use super::analysis::spend;
use super::http::{api_error, check_auth, invalid, read_json, SMALL_BODY};
use super::store::{now_unix, App, Scan, Shared, DEFAULT_EXPIRY_SECS, DEFAULT_SESSION_SECS};
use super::verdict::{self, Submission};
use crate::idenfy::models::{
    AuthToken, ClientId, DataResponse, DocumentType, FilesResponse, ImageSide, ProcessBody,
    ScanRef, ScanRefBody, StatusResponse, TokenRequest, TokenResponse, VerificationData,
};
use crate::idenfy::{validate, Error as IdenfyError};
use crate::quality::{self, Issue};
use crate::{detect, framing};

fn random_token() -> String {
    use rand::Rng;
    rand::thread_rng()
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(40)
        .map(char::from)
        .collect()
}

/// `POST /api/v2/token`.
pub(super) async fn token(State(app): State<App>, headers: HeaderMap, body: Body) -> Response {
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
    let digits = resp.digit_string.clone();
    store.add(
        scan_ref,
        auth_token,
        digits,
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
            seen_finished: None,
        },
        app.s.cfg.manual_review,
    );
    (StatusCode::CREATED, Json(resp)).into_response()
}

/// `POST /api/v2/process`.
pub(super) async fn process(State(app): State<App>, headers: HeaderMap, body: Body) -> Response {
    // A refusal is as much an answer as an acceptance.
    process_steps(&app, &headers, body)
        .await
        .unwrap_or_else(|refused| refused)
}

async fn process_steps(app: &App, headers: &HeaderMap, body: Body) -> Result<Response, Response> {
    check_auth(app, headers)?;
    if take_stall(app) {
        return Ok(stall(app).await);
    }
    let req: ProcessBody = read_json(body, app.s.cfg.max_body_bytes).await?;
    let (token_req, scan_ref) = usable_token(app, &req.token)?;
    check_sides(&req, &token_req)?;
    let images = decode_images(&req.images)?;
    let skip = req.skip_analysis == Some(true);
    let judged = judge_images(&images, skip)?;
    drop(images);
    let country = req.country.trim().to_ascii_uppercase();
    let v = verdict::decide(
        &token_req,
        &Submission {
            country: country.clone(),
            document_type: req.document_type.clone(),
            skip_analysis: skip,
            document_issues: judged.document_issues,
            face_issues: judged.face_issues,
            face_is_front: judged.face_is_front,
        },
    );
    Ok(spend(
        app,
        scan_ref,
        v,
        country,
        "sandbox accepted a submission",
    ))
}

/// Whether this `/process` call is one of those to stall (see
/// `SandboxConfig::stall_process`); counts it down.
fn take_stall(app: &Shared) -> bool {
    app.stalls_left
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

/// Never answer (the caller times out) and spend nothing; end with the
/// sandbox so a shutdown does not wait for this request.
async fn stall(app: &Shared) -> Response {
    let mut stop = app.stop.clone();
    tokio::select! {
        () = tokio::time::sleep(Duration::from_secs(3600)) => {}
        _ = stop.wait_for(|s| *s) => {}
    }
    StatusCode::SERVICE_UNAVAILABLE.into_response()
}

/// The token's request and scanRef, when the token exists, is usable and
/// allows direct processing. The lock is not held across the image work.
fn usable_token(app: &Shared, token: &AuthToken) -> Result<(TokenRequest, ScanRef), Response> {
    let store = app.lock();
    let Some(scan_ref) = store.by_token.get(token).cloned() else {
        return Err(api_error(
            StatusCode::BAD_REQUEST,
            Some("TOKEN_NOT_FOUND"),
            "Token not found",
        ));
    };
    let scan = &store.scans[&scan_ref];
    scan.usable()?;
    if scan.request.nfc_required == Some(true) {
        return Err(api_error(
            StatusCode::BAD_REQUEST,
            Some("NFC_REQUIRED"),
            "Direct processing is not available for tokens requiring NFC",
        ));
    }
    Ok((scan.request.clone(), scan_ref))
}

/// The country, document type and sides the token's type needs; a missing
/// side is named as the API names it. A token that asks for a utility bill
/// (`utilityBill`, or the step in `additionalSteps`) needs `UTILITY_BILL`
/// like a card needs its `BACK`. A bill sent for a token that asked for
/// none is refused too, 400 `UNEXPECTED_VALUE` (the reference documents no
/// message for it; this one names the step without quoting it, so a client
/// does not read it as "retake that image"): the bill would otherwise be
/// stored against a verification that never asked for it.
fn check_sides(req: &ProcessBody, token_req: &TokenRequest) -> Result<(), Response> {
    let sides: Vec<ImageSide> = req.images.keys().cloned().collect();
    let bill = ImageSide::UtilityBill;
    if !token_req.asks_for_utility_bill() && req.images.contains_key(&bill) {
        return Err(api_error(
            StatusCode::BAD_REQUEST,
            Some("UNEXPECTED_VALUE"),
            format!("Image provided for step {bill}, which this token does not include"),
        ));
    }
    validate::process_sides(
        &req.country,
        req.document_type.as_ref(),
        &token_req.effective_token_type(),
        &sides,
    )
    .map_err(|e| match &e {
        IdenfyError::Invalid { field, .. } if field.starts_with("images.") => api_error(
            StatusCode::BAD_REQUEST,
            Some("MISSING_VALUE"),
            format!("No image provided for step '{}'", &field["images.".len()..]),
        ),
        _ => invalid(&e),
    })?;
    if token_req.asks_for_utility_bill() && !req.images.contains_key(&bill) {
        return Err(api_error(
            StatusCode::BAD_REQUEST,
            Some("MISSING_VALUE"),
            format!("No image provided for step '{bill}'"),
        ));
    }
    Ok(())
}

/// Every image's bytes, from plain base64 (a `data:` prefix is refused).
fn decode_images(
    images: &BTreeMap<ImageSide, String>,
) -> Result<HashMap<ImageSide, Vec<u8>>, Response> {
    images
        .iter()
        .map(|(side, b64)| Ok((side.clone(), decode_image(side, b64)?)))
        .collect()
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

/// What the still check found in the submitted images.
struct Judged {
    document_issues: Vec<Vec<Issue>>,
    face_issues: Option<Vec<Issue>>,
    face_is_front: bool,
}

/// Judge every image with the kiosk's own still check and detectors. A
/// document photo that cannot be read, or in which no document is found, is
/// refused as iDenfy documents it (03-direct-processing: "a 200 OK with an
/// error message body may indicate the document was not detected in the
/// photo"): HTTP 200 with the usual error body, identifier
/// `DOC_NOT_DETECTED`, the token still usable (retry with a better photo or
/// `skipAnalysis`, which "skips photo quality checks (blur, glare, document
/// detection)" and so lets it through). A photo that fails the image checks
/// is left to the verdict (DOC_TOO_BLURRY and the like), as before: those
/// are results, not refusals. UTILITY_BILL: the same refusal when no page
/// (A4 or letter) is found in it; it adds nothing to the verdict. FACE: no
/// person, or more than one, is an issue the verdict turns into
/// NO_FACE_FOUND or TOO_MANY_FACES.
fn judge_images(images: &HashMap<ImageSide, Vec<u8>>, skip: bool) -> Result<Judged, Response> {
    let not_detected = |side: &ImageSide| {
        api_error(
            StatusCode::OK,
            Some("DOC_NOT_DETECTED"),
            format!("Document was not detected in the '{side}' photo"),
        )
    };
    let mut document_issues = Vec::new();
    for (side, kind) in [
        (ImageSide::Front, detect::Kind::Id),
        (ImageSide::Back, detect::Kind::Id),
        (ImageSide::UtilityBill, detect::Kind::Page),
    ] {
        match images.get(&side).map(|b| quality::decode_bounded(b)) {
            None => {}
            Some(Ok(d)) => {
                let view = quality::ImageView::rgb(&d.rgb, d.width, d.height);
                let a = quality::assess(&view, &quality::Options::default());
                if !skip && a.issues.is_empty() && detect::find_document(&view, kind).is_none() {
                    return Err(not_detected(&side));
                }
                if kind == detect::Kind::Id {
                    document_issues.push(a.issues);
                }
            }
            Some(Err(_)) if !skip => return Err(not_detected(&side)),
            Some(Err(_)) => {}
        }
    }
    let face_issues = match images
        .get(&ImageSide::Face)
        .map(|b| quality::decode_bounded(b))
    {
        Some(Ok(d)) => {
            let view = quality::ImageView::rgb(&d.rgb, d.width, d.height);
            let a = quality::assess(&view, &quality::Options::default());
            let mut issues = Vec::new();
            if let Some(i) = count_people(&view) {
                issues.push(i);
            }
            issues.extend(a.issues);
            Some(issues)
        }
        // An unreadable selfie holds no face.
        Some(Err(_)) => Some(vec![Issue::NoFace]),
        None => None,
    };
    let face_is_front = images.contains_key(&ImageSide::Face)
        && images.get(&ImageSide::Face) == images.get(&ImageSide::Front);
    Ok(Judged {
        document_issues,
        face_issues,
        face_is_front,
    })
}

/// [`Issue::NoFace`] or [`Issue::SeveralFaces`] when the selfie does not
/// show exactly one person (the portrait of a card held up does not count:
/// [`framing::people`]).
fn count_people(view: &quality::ImageView<'_>) -> Option<Issue> {
    static DETECTORS: std::sync::OnceLock<Option<framing::Detectors>> = std::sync::OnceLock::new();
    let Some(det) = DETECTORS.get_or_init(|| framing::Detectors::builtin().ok()) else {
        tracing::error!("the face model did not load: faces are not counted");
        return None;
    };
    let faces = det.faces(view);
    let doc = if faces.is_empty() {
        None
    } else {
        detect::find_document(view, detect::Kind::Id)
    };
    match framing::people(&faces, doc.as_ref(), view.height).len() {
        0 => Some(Issue::NoFace),
        1 => None,
        _ => Some(Issue::SeveralFaces),
    }
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

/// `POST /api/v2/status`.
pub(super) async fn status(State(app): State<App>, headers: HeaderMap, body: Body) -> Response {
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

/// `POST /api/v2/data`.
pub(super) async fn data(State(app): State<App>, headers: HeaderMap, body: Body) -> Response {
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

/// `POST /api/v2/files`.
pub(super) async fn files(State(app): State<App>, headers: HeaderMap, body: Body) -> Response {
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

/// `POST /api/v2/delete`.
pub(super) async fn delete(State(app): State<App>, headers: HeaderMap, body: Body) -> Response {
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
pub(super) struct MobileBody {
    digit_string: String,
    /// The document country the customer picked in the app (default: the token's, else LT).
    country: Option<String>,
}

/// Sandbox only: acts as iDenfy's mobile app finishing a verification with
/// the 8-digit code (good photos of the specimen), so the mobile handoff can
/// be exercised end to end. The token is spent exactly as by `/process`.
pub(super) async fn mobile_complete(
    State(app): State<App>,
    Json(body): Json<MobileBody>,
) -> Response {
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
    let v = verdict::decide(
        &token_req,
        &Submission {
            country: country.clone(),
            document_type: Some(DocumentType::IdCard),
            skip_analysis: false,
            // Good photos: no issue in any of them.
            document_issues: vec![Vec::new(), Vec::new()],
            face_issues: Some(Vec::new()),
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
