//! The kiosk-facing API, versioned under `/kiosk/v1/`. Every call carries
//! `Authorization: Bearer <kiosk credential>` (checked against the database
//! on each request, so a revocation holds at once) and may carry
//! `Kyc-Kiosk-Version` (shown on the fleet page).
//!
//! | call | what |
//! | --- | --- |
//! | `GET  /kiosk/v1/me` | the kiosk's id, name and branch |
//! | `POST /kiosk/v1/tokens` | a token for direct processing (the `authToken` stays here) |
//! | `POST /kiosk/v1/handoff` | a token with a digit string for the customer's phone |
//! | `POST /kiosk/v1/scans/{scanRef}/process` | submit the images, once |
//! | `GET  /kiosk/v1/scans/{scanRef}/status` | one `/status` question |
//! | `GET  /kiosk/v1/results?wait=S` | this kiosk's unacknowledged results (long poll) |
//! | `POST /kiosk/v1/results/ack` | acknowledge results by id |
//!
//! Errors are `{"code": ErrorCode, "message": …}` with the core's stable
//! codes; `outcomeUnknown: true` marks a `/process` whose outcome is unknown.

// Handlers return an `ApiError` built once per refused request.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use kyc_kiosk::backoffice::StaffAccepted;
use kyc_kiosk::idenfy::{
    self, AuthToken, DocumentType, ImageSide, OverallStatus, ProcessOutcome, ProcessRequest,
    ScanRef, StatusResponse, TokenRequest, TokenType,
};
use kyc_kiosk::ErrorCode;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zeroize::Zeroize as _;

use crate::kiosks::{self, Kiosk};
use crate::server::AppState;

/// Header carrying the kiosk app's version.
pub const VERSION_HEADER: &str = "kyc-kiosk-version";
/// Largest JSON body of the small calls.
pub const SMALL_BODY: usize = 64 * 1024;
/// Largest `/process` body: 20 MB of base64 images plus the JSON around them.
pub const PROCESS_BODY: usize = 21 * 1024 * 1024;
/// Most results returned by one poll.
const RESULTS_PER_POLL: i64 = 100;
/// A waiting poll re-reads the table at least this often, even unwoken.
const RECHECK: Duration = Duration::from_secs(5);

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    pub outcome_unknown: bool,
    pub retry_after_secs: Option<u64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody<'a> {
    code: ErrorCode,
    message: &'a str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    outcome_unknown: bool,
}

impl ApiError {
    fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            outcome_unknown: false,
            retry_after_secs: None,
        }
    }

    fn not_found() -> Self {
        // Also for another kiosk's scanRef: no hint that it exists.
        Self::new(
            StatusCode::NOT_FOUND,
            ErrorCode::InvalidInput,
            "no such verification for this kiosk",
        )
    }

    /// An upstream failure, counted in the metrics by class. A submission
    /// the core client refused as too large never left the relay: it is the
    /// kiosk's request that is at fault (413), not iDenfy, so it is not
    /// counted as an upstream error.
    fn upstream(st: &AppState, e: &idenfy::Error) -> Self {
        if !matches!(e, idenfy::Error::TooLarge { .. }) {
            st.metrics.upstream_error(e);
        }
        let status = match e {
            idenfy::Error::Invalid { .. } => StatusCode::BAD_REQUEST,
            idenfy::Error::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            idenfy::Error::OutOfCredits { .. } => StatusCode::PAYMENT_REQUIRED,
            idenfy::Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            idenfy::Error::Api { .. } | idenfy::Error::NotProcessed { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            idenfy::Error::OutcomeUnknown { .. } => StatusCode::GATEWAY_TIMEOUT,
            _ => StatusCode::BAD_GATEWAY,
        };
        let mut err = Self::new(status, e.code(), e.to_string());
        err.outcome_unknown = matches!(e, idenfy::Error::OutcomeUnknown { .. });
        if let idenfy::Error::RateLimited { retry_after_secs } = e {
            err.retry_after_secs = *retry_after_secs;
        }
        err
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        tracing::error!(error = %e, "database error");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Network,
            "the back office's database is unavailable; try again",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.code,
            message: &self.message,
            outcome_unknown: self.outcome_unknown,
        };
        let mut r = (self.status, Json(body)).into_response();
        if let Some(s) = self.retry_after_secs {
            if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        r
    }
}

/// The kiosk behind the bearer credential.
#[derive(Debug, Clone)]
pub struct Authed(pub Kiosk);

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, ApiError> {
        let refused = || {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthorized,
                "unknown or revoked kiosk credential",
            )
        };
        let credential = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .ok_or_else(refused)?;
        let version = parts
            .headers
            .get(VERSION_HEADER)
            .and_then(|v| v.to_str().ok());
        kiosks::authenticate(&st.pool, credential, version)
            .await?
            .map(Authed)
            .ok_or_else(refused)
    }
}

/// `GET /kiosk/v1/me`.
pub async fn me(Authed(k): Authed) -> Json<Kiosk> {
    Json(k)
}

/// What a kiosk gets back for a token.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenOut {
    pub scan_ref: ScanRef,
    pub client_id: String,
    pub token_type: TokenType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_time: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_length: Option<u64>,
    /// Hand-off only: the code the customer types in the iDenfy app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digit_string: Option<String>,
    /// Hand-off only: the token for the customer's phone (QR link). For
    /// direct processing it never leaves the relay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_token: Option<AuthToken>,
}

/// `POST /kiosk/v1/tokens`.
pub async fn create_token(
    Authed(k): Authed,
    State(st): State<AppState>,
    Json(req): Json<TokenRequest>,
) -> Result<Json<TokenOut>, ApiError> {
    issue(&st, &k, req, false).await.map(Json)
}

/// `POST /kiosk/v1/handoff`: as `tokens`, with `generateDigitString` forced.
pub async fn create_handoff(
    Authed(k): Authed,
    State(st): State<AppState>,
    Json(req): Json<TokenRequest>,
) -> Result<Json<TokenOut>, ApiError> {
    issue(&st, &k, req, true).await.map(Json)
}

/// What a per-kiosk hourly limit counts.
#[derive(Clone, Copy)]
enum Limited {
    Tokens,
    StatusQuestions,
}

/// Count one request of `what` for kiosk `k` in this hour's window (shared
/// by every instance) and refuse it with 429 and `Retry-After` (the end of
/// the window) once the count passes `limit`; the refusal is audited.
async fn hourly_limit(
    st: &AppState,
    k: &Kiosk,
    what: Limited,
    limit: u32,
    message: String,
) -> Result<(), ApiError> {
    let (sql, event) = match what {
        Limited::Tokens => (
            "INSERT INTO token_rate (kiosk_id, window_start, count) VALUES ($1, date_trunc('hour', now()), 1) \
             ON CONFLICT (kiosk_id, window_start) DO UPDATE SET count = token_rate.count + 1 \
             RETURNING count",
            "token_rate_limited",
        ),
        Limited::StatusQuestions => (
            "INSERT INTO status_rate (kiosk_id, window_start, count) VALUES ($1, date_trunc('hour', now()), 1) \
             ON CONFLICT (kiosk_id, window_start) DO UPDATE SET count = status_rate.count + 1 \
             RETURNING count",
            "status_rate_limited",
        ),
    };
    let count: i32 = sqlx::query_scalar(sql)
        .bind(k.id)
        .fetch_one(&st.pool)
        .await?;
    if u32::try_from(count).unwrap_or(u32::MAX) <= limit {
        return Ok(());
    }
    let wait: f64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM date_trunc('hour', now()) + interval '1 hour' - now())::float8",
    )
    .fetch_one(&st.pool)
    .await?;
    kiosks::audit(&st.pool, Some(k.id), None, event).await?;
    let mut e = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::RateLimited,
        message,
    );
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    {
        e.retry_after_secs = Some(wait.ceil().max(1.0) as u64);
    }
    Err(e)
}

async fn issue(
    st: &AppState,
    k: &Kiosk,
    mut req: TokenRequest,
    handoff: bool,
) -> Result<TokenOut, ApiError> {
    // The limit comes first: refused requests count too, so a compromised
    // kiosk cannot probe the policy for free either.
    let limit = st.settings.token_limit_per_hour;
    hourly_limit(
        st,
        k,
        Limited::Tokens,
        limit,
        format!("this kiosk may create {limit} verifications per hour"),
    )
    .await?;
    if let Some(branch) = &k.branch {
        if let Some(prefix) = kiosks::branch_prefix(&st.pool, branch).await? {
            if !req.client_id.starts_with(&prefix) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    ErrorCode::InvalidInput,
                    format!("clientId: must start with `{prefix}` at branch {branch}"),
                ));
            }
        }
    }
    // Results come to this relay, whatever the kiosk asked.
    req.callback_url.clone_from(&st.callback_url);
    if handoff {
        req.generate_digit_string = Some(true);
    }
    let token_type = req.effective_token_type();
    let t = st
        .upstream
        .client
        .create_token(&req)
        .await
        .map_err(|e| ApiError::upstream(st, &e))?;
    let token_type = t.token_type.clone().unwrap_or(token_type);
    sqlx::query(
        "WITH s AS (INSERT INTO scan (scan_ref, kiosk_id, auth_token, token_type, handoff) \
                    VALUES ($1, $2, $3, $4, $5)) \
         INSERT INTO audit (kiosk_id, scan_ref, event) VALUES ($2, $1, $6)",
    )
    .bind(t.scan_ref.as_str())
    .bind(k.id)
    .bind(t.auth_token.as_str())
    .bind(token_type.as_str())
    .bind(handoff)
    .bind(if handoff {
        "handoff_created"
    } else {
        "token_created"
    })
    .execute(&st.pool)
    .await?;
    Ok(TokenOut {
        scan_ref: t.scan_ref,
        client_id: t.client_id.0,
        token_type,
        expiry_time: t.expiry_time,
        session_length: t.session_length,
        digit_string: t.digit_string,
        auth_token: handoff.then_some(t.auth_token),
    })
}

/// `/process` as the kiosk sends it: images as standard base64.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessIn {
    pub country: String,
    #[serde(default)]
    pub document_type: Option<DocumentType>,
    pub images: BTreeMap<ImageSide, String>,
    #[serde(default)]
    pub skip_analysis: bool,
    /// Photos staff accepted with the PIN after the kiosk's framing check
    /// refused them: one audit row each (`photo_accepted_by_staff`).
    #[serde(default)]
    pub staff_accepted: Vec<StaffAccepted>,
}

/// Checks the staff acceptances against the images before anything is
/// claimed or sent, so a malformed note refuses the call and spends
/// nothing: each names an image of this submission, at most once, and a
/// rule that is a short lower-case identifier (the kiosk's framing rules,
/// e.g. `document_too_far`). Returns the audit details (`"FRONT rule"`).
fn staff_accepted_details(
    images: &BTreeMap<ImageSide, String>,
    accepted: &[StaffAccepted],
) -> Result<Vec<String>, ApiError> {
    let bad = |i: usize, what: String| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidInput,
            format!("staffAccepted[{i}]: {what}"),
        )
    };
    let mut details = Vec::with_capacity(accepted.len());
    for (i, a) in accepted.iter().enumerate() {
        if !images.contains_key(&a.side) {
            return Err(bad(i, format!("{} is not among the images", a.side)));
        }
        if accepted[..i].iter().any(|b| b.side == a.side) {
            return Err(bad(i, format!("{} is named twice", a.side)));
        }
        let rule_ok = (1..=40).contains(&a.rule.len())
            && a.rule.bytes().all(|c| c.is_ascii_lowercase() || c == b'_');
        if !rule_ok {
            return Err(bad(
                i,
                "rule must be 1 to 40 lower-case letters or '_'".into(),
            ));
        }
        details.push(format!("{} {}", a.side, a.rule));
    }
    Ok(details)
}

/// How a submission ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessOut {
    /// `ACCEPTED`: the result comes as a webhook, then as a result here.
    pub outcome: String,
    /// When the outcome was learnt from `/status` after an unknown answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<OverallStatus>,
}

/// `POST /kiosk/v1/scans/{scanRef}/process`. The relay owns the
/// never-retry-blindly rule: the scan moves `new -> sending` atomically, so
/// only one submission per token ever leaves, whichever instance gets it.
/// When the outcome is unknown the core client asks `/status` once; the scan
/// then stays `unknown` and a second `/process` is refused (409) until the
/// kiosk's own `/status` question shows the token still unused.
pub async fn process(
    Authed(k): Authed,
    State(st): State<AppState>,
    Path(scan_ref): Path<String>,
    Json(body): Json<ProcessIn>,
) -> Result<Json<ProcessOut>, ApiError> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let staff_accepted = staff_accepted_details(&body.images, &body.staff_accepted)?;
    let mut images = Vec::with_capacity(body.images.len());
    for (side, data) in body.images {
        let bytes = b64.decode(data.trim()).map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::InvalidInput,
                format!("images.{side}: not standard base64"),
            )
        })?;
        images.push((side, bytes));
    }
    let claimed: Option<(Option<String>, String)> = sqlx::query_as(
        "UPDATE scan SET process_state = 'sending' \
         WHERE scan_ref = $1 AND kiosk_id = $2 AND process_state = 'new' \
         RETURNING auth_token, token_type",
    )
    .bind(&scan_ref)
    .bind(k.id)
    .fetch_optional(&st.pool)
    .await?;
    let Some((Some(token), token_type)) = claimed else {
        let state: Option<String> = sqlx::query_scalar(
            "SELECT process_state FROM scan WHERE scan_ref = $1 AND kiosk_id = $2",
        )
        .bind(&scan_ref)
        .bind(k.id)
        .fetch_optional(&st.pool)
        .await?;
        return Err(match state {
            None => ApiError::not_found(),
            Some(s) => ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::InvalidState,
                format!("the images for this verification were already submitted ({s}); ask its status, never resend"),
            ),
        });
    };
    let mut req = ProcessRequest {
        scan_ref: ScanRef::from(scan_ref.as_str()),
        token: AuthToken::from(token),
        token_type: TokenType::parse(&token_type),
        country: body.country,
        document_type: body.document_type,
        images,
        skip_analysis: body.skip_analysis,
    };
    let outcome = st.upstream.client.process(&req).await;
    for (_, b) in &mut req.images {
        b.zeroize();
    }
    let (state, event) = match &outcome {
        Ok(_) => ("accepted", "process_accepted"),
        Err(idenfy::Error::OutcomeUnknown { .. }) => ("unknown", "process_unknown"),
        // The API answered, or nothing left: the token is not spent.
        Err(_) => ("new", "process_refused"),
    };
    // Only an accepted submission drops the token. One whose outcome is
    // unknown keeps it, refused for resubmission (409) until `/status`
    // through this relay shows iDenfy never took it (see [`status`]).
    let spent = state == "accepted";
    // The staff acceptances are recorded with the submission they went
    // with, whatever its outcome (a refused one is retried, and audited,
    // again).
    sqlx::query(
        "WITH u AS (UPDATE scan SET process_state = $3, \
                           auth_token = CASE WHEN $4 THEN NULL ELSE auth_token END \
                    WHERE scan_ref = $1 AND kiosk_id = $2), \
              s AS (INSERT INTO audit (kiosk_id, scan_ref, event, detail) \
                    SELECT $2, $1, 'photo_accepted_by_staff', d FROM unnest($6::text[]) AS d) \
         INSERT INTO audit (kiosk_id, scan_ref, event) VALUES ($2, $1, $5)",
    )
    .bind(&scan_ref)
    .bind(k.id)
    .bind(state)
    .bind(spent)
    .bind(event)
    .bind(&staff_accepted)
    .execute(&st.pool)
    .await?;
    match outcome {
        Ok(ProcessOutcome::Accepted) => Ok(Json(ProcessOut {
            outcome: "ACCEPTED".into(),
            status: None,
        })),
        Ok(ProcessOutcome::ConfirmedByStatus(s)) => Ok(Json(ProcessOut {
            outcome: "ACCEPTED".into(),
            status: Some(s.status),
        })),
        Err(e) => Err(ApiError::upstream(&st, &e)),
    }
}

/// `GET /kiosk/v1/scans/{scanRef}/status`: a one-off question for a
/// verification whose result is late (iDenfy restricts accounts that poll).
pub async fn status(
    Authed(k): Authed,
    State(st): State<AppState>,
    Path(scan_ref): Path<String>,
) -> Result<Json<StatusResponse>, ApiError> {
    let ours: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM scan WHERE scan_ref = $1 AND kiosk_id = $2")
            .bind(&scan_ref)
            .bind(k.id)
            .fetch_optional(&st.pool)
            .await?;
    if ours.is_none() {
        return Err(ApiError::not_found());
    }
    // iDenfy restricts accounts that poll `/status`, and the account is the
    // whole fleet's: one kiosk asking in a loop must not put it at risk.
    let limit = st.settings.status_limit_per_hour;
    hourly_limit(
        &st,
        &k,
        Limited::StatusQuestions,
        limit,
        format!("this kiosk may ask the status of verifications {limit} times per hour"),
    )
    .await?;
    kiosks::audit(&st.pool, Some(k.id), Some(&scan_ref), "status_asked").await?;
    let status = st
        .upstream
        .client
        .status(&ScanRef::from(scan_ref.as_str()))
        .await
        .map_err(|e| ApiError::upstream(&st, &e))?;
    if status.status == OverallStatus::Active {
        // A submission that ended without an answer, and iDenfy says the
        // token is still unused: the images never arrived, so the kiosk may
        // submit them again (as it would without a relay).
        let reopened = sqlx::query(
            "WITH u AS (UPDATE scan SET process_state = 'new' \
                        WHERE scan_ref = $1 AND kiosk_id = $2 AND process_state = 'unknown' \
                          AND auth_token IS NOT NULL RETURNING 1) \
             INSERT INTO audit (kiosk_id, scan_ref, event) \
             SELECT $2, $1, 'process_unknown_token_unused' FROM u",
        )
        .bind(&scan_ref)
        .bind(k.id)
        .execute(&st.pool)
        .await?;
        if reopened.rows_affected() > 0 {
            tracing::info!(%scan_ref, "unknown submission: the token is unused, resubmission allowed");
        }
    }
    Ok(Json(status))
}

/// One result as a kiosk receives it: identifiers and the `status` object.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct ResultOut {
    pub id: i64,
    pub scan_ref: String,
    pub client_id: Option<String>,
    #[serde(rename = "final")]
    pub is_final: bool,
    pub event: String,
    pub status: sqlx::types::Json<serde_json::Value>,
    pub received_at: String,
}

/// A poll's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Results {
    pub results: Vec<ResultOut>,
}

/// `?wait=SECONDS` (capped by the server; 0 answers at once).
#[derive(Debug, Deserialize)]
pub struct WaitQuery {
    #[serde(default)]
    pub wait: Option<u64>,
}

/// Counts a long poll in `kiosks_connected` while it lasts.
struct Connected<'a>(&'a crate::metrics::Metrics);

impl Drop for Connected<'_> {
    fn drop(&mut self) {
        self.0.connected(-1);
    }
}

/// `GET /kiosk/v1/results?wait=S`: this kiosk's unacknowledged results,
/// oldest first. Waits up to `S` seconds for one to arrive; results stay
/// until acknowledged, so a poll cut short loses nothing.
pub async fn results(
    Authed(k): Authed,
    State(st): State<AppState>,
    Query(q): Query<WaitQuery>,
) -> Result<Json<Results>, ApiError> {
    let wait = Duration::from_secs(q.wait.unwrap_or(0)).min(st.settings.max_wait);
    let deadline = tokio::time::Instant::now() + wait;
    let waker = st.hub.waker(k.id);
    st.metrics.connected(1);
    let _connected = Connected(&st.metrics);
    let mut stop = st.stop.clone();
    loop {
        // Registered before reading, so a wake-up during the read is kept.
        let woken = waker.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let rows = pending(&st, k.id).await?;
        let now = tokio::time::Instant::now();
        if !rows.is_empty() || now >= deadline || *stop.borrow() {
            return Ok(Json(Results { results: rows }));
        }
        tokio::select! {
            () = &mut woken => {}
            () = tokio::time::sleep_until(deadline.min(now + RECHECK)) => {}
            _ = stop.wait_for(|s| *s) => {}
        }
    }
}

/// Read the pending results and mark the first delivery of each, with its
/// audit row: one statement, one round trip. None for a kiosk revoked since
/// its request was authenticated (a long poll already waiting). (Measured against a plain read
/// followed by a marking statement only when something is new: the one
/// statement costs the database less per verification, `--pg-stats` in
/// BENCHMARKS.)
async fn pending(st: &AppState, kiosk: Uuid) -> Result<Vec<ResultOut>, sqlx::Error> {
    let sql = format!(
        "WITH p AS (SELECT id FROM result WHERE kiosk_id = $1 AND acked_at IS NULL \
                    AND EXISTS (SELECT 1 FROM kiosk WHERE id = $1 AND revoked_at IS NULL) \
                    ORDER BY id LIMIT $2), \
         d AS (UPDATE result r SET delivered_at = clock_timestamp() FROM p \
               WHERE r.id = p.id AND r.delivered_at IS NULL \
               RETURNING r.id, r.kiosk_id, r.scan_ref, r.is_final, r.status->>'overall' AS overall, \
                         extract(epoch FROM r.delivered_at - r.received_at)::float8 AS secs), \
         a AS (INSERT INTO audit (kiosk_id, scan_ref, event, is_final, overall) \
               SELECT kiosk_id, scan_ref, 'result_delivered', is_final, overall FROM d) \
         SELECT r.id, r.scan_ref, r.client_id, r.is_final, r.event, r.status, {} AS received_at, d.secs \
         FROM result r JOIN p ON p.id = r.id LEFT JOIN d ON d.id = r.id ORDER BY r.id",
        crate::db::ts!("r.received_at")
    );
    let rows: Vec<(ResultOut, Option<f64>)> = sqlx::query(&sql)
        .bind(kiosk)
        .bind(RESULTS_PER_POLL)
        .try_map(|row: sqlx::postgres::PgRow| {
            use sqlx::{FromRow as _, Row as _};
            Ok((
                ResultOut::from_row(&row)?,
                row.try_get::<Option<f64>, _>("secs")?,
            ))
        })
        .fetch_all(&st.pool)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(r, first)| {
            if let Some(secs) = first {
                st.metrics.delivered(Duration::from_secs_f64(secs.max(0.0)));
            }
            r
        })
        .collect())
}

/// `POST /kiosk/v1/results/ack` body.
#[derive(Debug, Deserialize, Serialize)]
pub struct Ack {
    pub ids: Vec<i64>,
}

/// How many results the acknowledgement covered (another kiosk's ids never count).
#[derive(Debug, Deserialize, Serialize)]
pub struct Acked {
    pub acked: u64,
}

/// `POST /kiosk/v1/results/ack`: the kiosk has shown these results; they are
/// deleted after a short grace.
pub async fn ack(
    Authed(k): Authed,
    State(st): State<AppState>,
    Json(a): Json<Ack>,
) -> Result<Json<Acked>, ApiError> {
    if a.ids.len() > 1000 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidInput,
            "ids: at most 1000 at once",
        ));
    }
    let n = sqlx::query(
        "WITH a AS (UPDATE result SET acked_at = now() \
                    WHERE kiosk_id = $1 AND id = ANY($2) AND acked_at IS NULL \
                    RETURNING kiosk_id, scan_ref, is_final, status->>'overall' AS overall) \
         INSERT INTO audit (kiosk_id, scan_ref, event, is_final, overall) \
         SELECT kiosk_id, scan_ref, 'result_acked', is_final, overall FROM a",
    )
    .bind(k.id)
    .bind(&a.ids)
    .execute(&st.pool)
    .await?
    .rows_affected();
    Ok(Json(Acked { acked: n }))
}
