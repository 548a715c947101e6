//! `POST /webhooks/idenfy`: iDenfy's results coming in.
//!
//! In order: the HMAC over the raw body (the core's
//! [`kyc_kiosk::idenfy::webhook::verify`]), an event type from the known set,
//! a body that decodes, a scanRef this relay created, then in one transaction
//! the dedupe key (scanRef + `final` + SHA-256 of the body), the result (only
//! the `status` object and the identifiers: never `data`, `fileUrls` or
//! `clientIp`), an audit row and `NOTIFY`. It answers 200 as soon as that
//! commits; a duplicate also gets 200, so the sender stops resending.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use kyc_kiosk::idenfy::webhook::{verify, EVENT_TYPE_HEADER, SIGNATURE_HEADER};
use kyc_kiosk::idenfy::{decode_json, WebhookPayload};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::db::CHANNEL;
use crate::server::AppState;

/// The event types iDenfy documents for verification results.
pub const KNOWN_EVENTS: [&str; 3] = ["AUTO_FINISHED", "MANUAL_FINISHED", "ID_VERIFICATION"];

/// How one webhook ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Stored,
    Duplicate,
}

/// The handler.
pub async fn receive(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let sig = headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !verify(&st.upstream.signing_key, &body, sig) {
        st.metrics.webhook_refused("signature");
        tracing::warn!("webhook refused: bad or missing signature");
        return (StatusCode::UNAUTHORIZED, "bad signature");
    }
    let event = headers
        .get(EVENT_TYPE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(event) = KNOWN_EVENTS.iter().find(|e| **e == event) else {
        st.metrics.webhook_refused("event_type");
        tracing::warn!("webhook refused: unknown event type");
        return (StatusCode::BAD_REQUEST, "unknown event type");
    };
    let payload: WebhookPayload = match decode_json("webhook", &body) {
        Ok(p) => p,
        Err(e) => {
            st.metrics.webhook_refused("decode");
            tracing::warn!(error = %e, "webhook body does not decode");
            return (StatusCode::BAD_REQUEST, "body does not decode");
        }
    };
    let digest = Sha256::digest(&body).to_vec();
    match store(&st, &payload, event, &digest).await {
        Ok(Some(Outcome::Stored)) => {
            st.metrics.webhook_received();
            tracing::info!(scan_ref = %payload.scan_ref, is_final = payload.is_final, event, "webhook stored");
            (StatusCode::OK, "stored")
        }
        Ok(Some(Outcome::Duplicate)) => {
            st.metrics.webhook_refused("duplicate");
            tracing::info!(scan_ref = %payload.scan_ref, "duplicate webhook ignored");
            (StatusCode::OK, "duplicate")
        }
        Ok(None) => {
            st.metrics.webhook_refused("foreign_scan_ref");
            tracing::warn!("webhook refused: a scanRef this relay did not create");
            (StatusCode::NOT_FOUND, "unknown scanRef")
        }
        Err(e) => {
            // Not stored: the sender retries.
            st.metrics.webhook_refused("database");
            tracing::error!(error = %e, "webhook not stored");
            (StatusCode::SERVICE_UNAVAILABLE, "not stored; retry")
        }
    }
}

/// Store one verified webhook. `None` when the scanRef is not ours.
///
/// One statement, so one round trip and one commit: the dedupe key, the
/// result, the audit row, the kiosk's last-result time and the `NOTIFY`
/// (sent at commit) happen together or not at all. Two copies arriving at
/// once serialize on the dedupe key's unique index: the second inserts
/// nothing and is a duplicate.
async fn store(
    st: &AppState,
    p: &WebhookPayload,
    event: &str,
    digest: &[u8],
) -> Result<Option<Outcome>, sqlx::Error> {
    // Only the status part: `additionalSteps` may carry personal answers.
    let mut status = p.status.clone();
    status.additional_steps = None;
    let status = serde_json::to_value(&status).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let (kiosk, fresh): (Option<Uuid>, bool) = sqlx::query_as(
        "WITH s AS (SELECT kiosk_id FROM scan WHERE scan_ref = $1), \
         seen AS (INSERT INTO webhook_seen (scan_ref, is_final, body_sha256) \
                  SELECT $1, $2, $3 FROM s ON CONFLICT DO NOTHING RETURNING scan_ref), \
         r AS (INSERT INTO result (scan_ref, kiosk_id, client_id, is_final, event, status) \
               SELECT $1, s.kiosk_id, $4, $2, $5, $6 FROM s, seen RETURNING kiosk_id), \
         a AS (INSERT INTO audit (kiosk_id, scan_ref, event, is_final, overall) \
               SELECT kiosk_id, $1, $7, $2, $8 FROM r), \
         k AS (UPDATE kiosk SET last_result_at = now() WHERE id IN (SELECT kiosk_id FROM r)), \
         n AS (SELECT pg_notify($9, kiosk_id::text) FROM r) \
         SELECT (SELECT kiosk_id FROM s), (SELECT count(*) FROM n) > 0",
    )
    .bind(p.scan_ref.as_str())
    .bind(p.is_final)
    .bind(digest)
    .bind(p.client_id.as_ref().map(|c| c.as_str()))
    .bind(event)
    .bind(&status)
    .bind(format!("webhook_{}", event.to_ascii_lowercase()))
    .bind(p.status.overall.as_str())
    .bind(CHANNEL)
    .fetch_one(&st.pool)
    .await?;
    Ok(kiosk.map(|_| {
        if fresh {
            Outcome::Stored
        } else {
            Outcome::Duplicate
        }
    }))
}
