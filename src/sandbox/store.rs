//! The sandbox's state: the tokens it issued, the verification behind each,
//! and the rules over them (single use, expiry, deletion, the status a
//! verification shows while its results come in). No HTTP here beyond the
//! refusal a spent or expired token gets, in iDenfy's error shape.

// Refusals are axum `Response`s (see `http`).
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::http::StatusCode;
use axum::response::Response;
use tokio::sync::watch;

use super::http::api_error;
use super::verdict::Verdict;
use super::SandboxConfig;
use crate::config::Secret;
use crate::idenfy::models::{AuthToken, ClientId, OverallStatus, ScanRef, TokenRequest};

/// Token lifetime when the request gives none (the documented default).
pub(super) const DEFAULT_EXPIRY_SECS: u64 = 86_400;
/// Session length when the request gives none.
pub(super) const DEFAULT_SESSION_SECS: u64 = 1_800;

/// How one sandbox runs, with its credentials settled.
pub(super) struct Settings {
    pub cfg: SandboxConfig,
    pub api_key: Secret,
    pub api_secret: Secret,
    pub signing_key: Secret,
}

/// One verification: its token request and how far it has gone.
pub(super) struct Scan {
    pub request: TokenRequest,
    pub client_id: ClientId,
    pub expires_at: Instant,
    pub used: bool,
    /// Set at /process: what the analysis will say.
    pub verdict: Option<Verdict>,
    pub country: String,
    pub auto_done: bool,
    pub manual_done: bool,
    pub deleted: bool,
    pub start_time: i64,
}

impl Scan {
    /// Refuses a token already spent, expired or deleted, as the API does.
    pub fn usable(&self) -> Result<(), Response> {
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

    /// The overall status `/status` shows now.
    pub fn status(&self, manual_review: bool) -> OverallStatus {
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

/// Every verification, reachable by scanRef, token and mobile code.
#[derive(Default)]
pub(super) struct Store {
    /// 8-digit mobile codes (generateDigitString) -> scanRef.
    pub by_digits: HashMap<String, ScanRef>,
    pub scans: HashMap<ScanRef, Scan>,
    pub by_token: HashMap<AuthToken, ScanRef>,
    pub credits_used: u32,
}

/// What every handler shares.
pub(super) struct Shared {
    pub s: Settings,
    /// `/process` calls still to stall (see `SandboxConfig::stall_process`).
    pub stalls_left: AtomicU32,
    pub store: Mutex<Store>,
    /// Sends the webhooks.
    pub http: reqwest::Client,
    /// Turns true when the sandbox stops.
    pub stop: watch::Receiver<bool>,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The handlers' state.
pub(super) type App = Arc<Shared>;

pub(super) fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
