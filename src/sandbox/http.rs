//! The sandbox's HTTP surface: the routes, Basic auth, bounded JSON bodies,
//! and error bodies in iDenfy's shape (`message`, `identifier`,
//! `documentation`, `severity`); the identifiers are the sandbox's own where
//! the reference names none.

// Handlers return an axum `Response` as their error: that is the idiom, and
// these are built once per refused request.
#![allow(clippy::result_large_err)]

use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine as _;
use subtle::ConstantTimeEq;
use tokio::sync::watch;

use super::handlers;
use super::store::{Settings, Shared};
use super::SandboxConfig;
use crate::config::Secret;
use crate::idenfy::models::ApiErrorBody;
use crate::idenfy::Error as IdenfyError;

/// Limit for the small JSON endpoints.
pub(super) const SMALL_BODY: usize = 64 * 1024;

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

/// The router over fresh state; results stop being sent when `stop` turns true.
pub(super) fn router_with(
    s: Settings,
    stop: watch::Receiver<bool>,
) -> Result<Router, reqwest::Error> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let app = Arc::new(Shared {
        stalls_left: AtomicU32::new(s.cfg.stall_process),
        s,
        store: Mutex::default(),
        http,
        stop,
    });
    Ok(Router::new()
        .route("/api/v2/token", post(handlers::token))
        .route("/api/v2/process", post(handlers::process))
        .route("/api/v2/status", post(handlers::status))
        .route("/api/v2/data", post(handlers::data))
        .route("/api/v2/files", post(handlers::files))
        .route("/api/v2/delete", post(handlers::delete))
        .route("/sandbox/mobile/complete", post(handlers::mobile_complete))
        // Bodies are read with our own limit so the refusal has iDenfy's shape.
        .layer(DefaultBodyLimit::disable())
        .with_state(app))
}

/// An answer with iDenfy's error body.
pub(super) fn api_error(
    status: StatusCode,
    identifier: Option<&str>,
    message: impl Into<String>,
) -> Response {
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

/// A field that broke a documented rule: 400 `INVALID_VALUE`.
pub(super) fn invalid(e: &IdenfyError) -> Response {
    api_error(
        StatusCode::BAD_REQUEST,
        Some("INVALID_VALUE"),
        e.to_string(),
    )
}

/// Basic auth with the sandbox's key and secret, compared in constant time.
pub(super) fn check_auth(app: &Shared, headers: &HeaderMap) -> Result<(), Response> {
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

/// Read at most `limit` bytes of body and decode them, naming the JSON path
/// that failed.
pub(super) async fn read_json<T: serde::de::DeserializeOwned>(
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
