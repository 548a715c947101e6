//! The front the upstream posts its webhooks to, as the TLS terminator and
//! load balancer in front of the instances would be: round robin over the
//! instances, the next one when one does not accept connections. It notes
//! when each scan's first webhook arrived, and can answer one chosen webhook
//! 500 once (the upstream then sends it again).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use kyc_kiosk::idenfy::webhook::{EVENT_TYPE_HEADER, PATH, SIGNATURE_HEADER};
use serde::Deserialize;

use crate::track::Tracker;

/// One relay instance as the front sees it.
#[derive(Debug)]
pub struct Backend {
    pub url: String,
    /// Webhooks it answered `stored`.
    pub stored: AtomicU64,
    /// Webhooks it answered `duplicate`.
    pub duplicate: AtomicU64,
    /// Other answers, and requests cut off.
    pub failed: AtomicU64,
}

/// The front's state.
#[derive(Debug)]
pub struct Front {
    pub backends: Vec<Backend>,
    next: AtomicUsize,
    http: reqwest::Client,
    tracker: Arc<Tracker>,
    /// Answer the webhook with this ordinal (1-based) 500, once.
    fail_nth: u64,
    seen: AtomicU64,
    /// The scanRef answered 500.
    pub failed_once: Mutex<Option<String>>,
    /// Webhooks answered 503 because no instance took them.
    pub unrouted: AtomicU64,
    pub first: Mutex<Option<Instant>>,
    pub last: Mutex<Option<Instant>>,
}

#[derive(Deserialize)]
struct Scan {
    #[serde(rename = "scanRef")]
    scan_ref: String,
}

impl Front {
    #[must_use]
    pub fn new(urls: &[String], tracker: Arc<Tracker>, fail_nth: u64) -> Self {
        Self {
            backends: urls
                .iter()
                .map(|u| Backend {
                    url: format!("{}{PATH}", u.trim_end_matches('/')),
                    stored: AtomicU64::new(0),
                    duplicate: AtomicU64::new(0),
                    failed: AtomicU64::new(0),
                })
                .collect(),
            next: AtomicUsize::new(0),
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(256)
                .build()
                .expect("HTTP client"),
            tracker,
            fail_nth,
            seen: AtomicU64::new(0),
            failed_once: Mutex::new(None),
            unrouted: AtomicU64::new(0),
            first: Mutex::new(None),
            last: Mutex::new(None),
        }
    }
}

/// The routes: `POST /webhooks/idenfy` only.
pub fn router(front: Arc<Front>) -> Router {
    Router::new().route(PATH, post(forward)).with_state(front)
}

async fn forward(
    State(f): State<Arc<Front>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let now = Instant::now();
    f.first
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get_or_insert(now);
    *f.last
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(now);
    if let Ok(s) = serde_json::from_slice::<Scan>(&body) {
        f.tracker.webhook(&s.scan_ref, now);
        let n = f.seen.fetch_add(1, Ordering::SeqCst) + 1;
        if n == f.fail_nth {
            *f.failed_once
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(s.scan_ref);
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "fault: answered 500 once".into(),
            );
        }
    }
    let n = f.backends.len();
    let start = f.next.fetch_add(1, Ordering::Relaxed);
    for i in 0..n {
        let b = &f.backends[(start + i) % n];
        let mut r = f.http.post(&b.url).body(body.clone());
        for h in [SIGNATURE_HEADER, EVENT_TYPE_HEADER, "content-type"] {
            if let Some(v) = headers.get(h) {
                r = r.header(h, v);
            }
        }
        match r.send().await {
            Err(e) if e.is_connect() => continue,
            Err(_) => {
                b.failed.fetch_add(1, Ordering::Relaxed);
                return (StatusCode::BAD_GATEWAY, "instance cut the request".into());
            }
            Ok(resp) => {
                let status = resp.status();
                let text = resp.text().await.unwrap_or_default();
                match (status.as_u16(), text.as_str()) {
                    (200, "stored") => b.stored.fetch_add(1, Ordering::Relaxed),
                    (200, "duplicate") => b.duplicate.fetch_add(1, Ordering::Relaxed),
                    _ => b.failed.fetch_add(1, Ordering::Relaxed),
                };
                return (
                    StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::BAD_GATEWAY),
                    text,
                );
            }
        }
    }
    f.unrouted.fetch_add(1, Ordering::Relaxed);
    (StatusCode::SERVICE_UNAVAILABLE, "no instance".into())
}
