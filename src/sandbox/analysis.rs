//! What follows an accepted submission: the token is spent with its verdict,
//! then, after the configured delays, the automatic result and (with manual
//! review) the manual one are published and sent as signed webhooks.

use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::http::api_error;
use super::notify::{self, Delivery};
use super::store::{now_unix, App, Scan};
use super::verdict::{self, Verdict};
use crate::idenfy::models::{
    OverallStatus, ScanRef, VerificationData, WebhookPayload, WebhookStatus,
};

/// Spends the token with its verdict and starts the analysis that sends the
/// webhooks. Two concurrent calls with one token: only the first wins.
pub(super) fn spend(
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

/// The webhook for `scan` and the token's own callback URL, if any; `None`
/// before a verdict or after deletion.
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
