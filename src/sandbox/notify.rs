//! Signed webhook delivery with retries, as iDenfy does it: the raw JSON body
//! is signed (`Idenfy-Signature`), and anything but a 2xx answer is retried
//! with exponential back-off.

use std::time::Duration;

use tokio::sync::watch;

use crate::config::Secret;
use crate::idenfy::webhook::{sign, EVENT_TYPE_HEADER, SIGNATURE_HEADER};
use crate::idenfy::WebhookPayload;

/// Event type of the automatic result, as iDenfy spells it.
pub const EVENT_AUTO: &str = "IDENTIFICATION_AUTO_FINISHED";
/// Event type of the manual review result, as iDenfy spells it.
pub const EVENT_MANUAL: &str = "IDENTIFICATION_MANUAL_FINISHED";

/// How to deliver.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub url: String,
    pub signing_key: Secret,
    /// Total attempts, at least 1.
    pub attempts: u32,
    /// Wait before the second attempt; doubled after each failure.
    pub first_backoff: Duration,
}

/// Post `payload` until a 2xx answer, `attempts` run out, or `stop` turns
/// true. Returns whether it was delivered.
pub async fn deliver(
    http: &reqwest::Client,
    d: &Delivery,
    event: &str,
    payload: &WebhookPayload,
    mut stop: watch::Receiver<bool>,
) -> bool {
    let body = match serde_json::to_vec(payload) {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "cannot serialize webhook payload");
            return false;
        }
    };
    let signature = sign(&d.signing_key, &body);
    let mut backoff = d.first_backoff;
    for attempt in 1..=d.attempts.max(1) {
        let sent = http
            .post(&d.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, &signature)
            .header(EVENT_TYPE_HEADER, event)
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => {
                tracing::info!(scan_ref = %payload.scan_ref, event, attempt, "webhook delivered");
                return true;
            }
            Ok(r) => {
                tracing::warn!(scan_ref = %payload.scan_ref, status = r.status().as_u16(), attempt, "webhook refused")
            }
            Err(e) => {
                tracing::warn!(scan_ref = %payload.scan_ref, error = %e, attempt, "webhook failed")
            }
        }
        if attempt < d.attempts {
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                _ = stop.wait_for(|s| *s) => return false,
            }
            backoff = backoff.saturating_mul(2);
        }
    }
    false
}
