//! The sandbox's state: the tokens it issued, the verification behind each,
//! and the rules over them (single use, expiry, deletion, the status a
//! verification shows while its results come in). No HTTP here beyond the
//! refusal a spent or expired token gets, in iDenfy's error shape.

// Refusals are axum `Response`s (see `http`).
#![allow(clippy::result_large_err)]

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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
/// Finished verifications always remembered (their `/status`, `/data`, code
/// and token answers): the newest this many, and any finished less than
/// [`KEEP_FOR`] ago. Older finished ones are forgotten when a token is made;
/// verifications under way never are (their tokens expire). A kiosk left in
/// demo mode for months holds a bounded amount, and a sandbox under a
/// fleet's load still answers every question asked soon after a result.
pub(super) const KEEP_FINISHED: usize = 100;
/// See [`KEEP_FINISHED`].
pub(super) const KEEP_FOR: Duration = Duration::from_secs(60);

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
    /// When the store first saw it [`Scan::finished`] (see [`KEEP_FOR`]).
    pub seen_finished: Option<Instant>,
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

    /// Nothing more will happen to it: its last result was sent, it was
    /// deleted, or its token expired unused.
    pub fn finished(&self, manual_review: bool) -> bool {
        self.deleted
            || (self.auto_done && (self.manual_done || !manual_review))
            || (self.verdict.is_none() && Instant::now() >= self.expires_at)
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
    /// scanRefs, oldest first (what [`Store::add`] forgets first).
    order: VecDeque<ScanRef>,
    /// Verifications added since the last sweep (see [`Store::add`]).
    added_since_sweep: usize,
    /// Sweeps done, for the tests.
    sweeps: usize,
    pub credits_used: u32,
}

impl Store {
    /// Records a new verification under its scanRef, token and mobile code,
    /// and now and then forgets the oldest finished ones beyond
    /// [`KEEP_FINISHED`]: a sweep reads every verification, so it runs only
    /// after a quarter of the store's size (at least [`KEEP_FINISHED`]) has
    /// been added since the last one. Adding stays O(1) amortized while a
    /// fleet's load test keeps tens of thousands under way, and the store
    /// stays within about 1.25 times what the rule keeps.
    pub fn add(
        &mut self,
        scan_ref: ScanRef,
        token: AuthToken,
        digits: Option<String>,
        scan: Scan,
        manual_review: bool,
    ) {
        self.by_token.insert(token, scan_ref.clone());
        if let Some(d) = digits {
            self.by_digits.insert(d, scan_ref.clone());
        }
        self.scans.insert(scan_ref.clone(), scan);
        self.order.push_back(scan_ref);
        self.added_since_sweep += 1;
        if self.added_since_sweep >= KEEP_FINISHED.max(self.scans.len() / 4) {
            self.forget_old(manual_review, Instant::now());
        }
    }

    /// Forgets the oldest finished verifications beyond [`KEEP_FINISHED`]
    /// that finished at least [`KEEP_FOR`] before `now`.
    /// A verification counts as finished from the first sweep that sees it so.
    pub(super) fn forget_old(&mut self, manual_review: bool, now: Instant) {
        self.added_since_sweep = 0;
        self.sweeps += 1;
        let mut finished = 0usize;
        for scan in self.scans.values_mut() {
            if scan.finished(manual_review) {
                finished += 1;
                scan.seen_finished.get_or_insert(now);
            }
        }
        let mut extra = finished.saturating_sub(KEEP_FINISHED);
        if extra == 0 {
            return;
        }
        let old_enough = |s: &Scan| {
            s.seen_finished
                .is_some_and(|t| now.saturating_duration_since(t) >= KEEP_FOR)
        };
        let mut gone = Vec::new();
        self.order.retain(|r| {
            let forget = self.scans.get(r).is_none_or(old_enough);
            if extra > 0 && forget {
                extra -= 1;
                gone.push(r.clone());
                false
            } else {
                true
            }
        });
        if gone.is_empty() {
            return;
        }
        for r in &gone {
            self.scans.remove(r);
        }
        self.by_token.retain(|_, r| self.scans.contains_key(r));
        self.by_digits.retain(|_, r| self.scans.contains_key(r));
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(expires_in: Duration, deleted: bool) -> Scan {
        Scan {
            request: TokenRequest::default(),
            client_id: ClientId("C".into()),
            expires_at: Instant::now() + expires_in,
            used: false,
            verdict: None,
            country: String::new(),
            auto_done: false,
            manual_done: false,
            deleted,
            start_time: 0,
            seen_finished: None,
        }
    }

    #[test]
    fn old_finished_verifications_are_forgotten_and_those_under_way_never() {
        let mut store = Store::default();
        let day = Duration::from_secs(86_400);
        // Three under way first (the oldest), then finished ones (deleted).
        for i in 0..3 {
            let r = ScanRef(format!("open-{i}"));
            store.add(
                r,
                AuthToken(format!("t-open-{i}")),
                None,
                scan(day, false),
                false,
            );
        }
        for i in 0..KEEP_FINISHED + 50 {
            let r = ScanRef(format!("done-{i}"));
            let digits = Some(format!("{i:08}"));
            store.add(
                r,
                AuthToken(format!("t-done-{i}")),
                digits,
                scan(day, true),
                false,
            );
        }
        // Nothing finished a minute ago yet: all remembered.
        assert_eq!(store.scans.len(), KEEP_FINISHED + 53);
        store.forget_old(false, Instant::now());
        assert_eq!(store.scans.len(), KEEP_FINISHED + 53);
        store.forget_old(false, Instant::now() + KEEP_FOR);
        assert_eq!(store.scans.len(), KEEP_FINISHED + 3);
        assert_eq!(store.by_token.len(), KEEP_FINISHED + 3);
        assert_eq!(store.by_digits.len(), KEEP_FINISHED);
        for i in 0..3 {
            assert!(store.scans.contains_key(&ScanRef(format!("open-{i}"))));
        }
        // The oldest finished ones went, with their tokens and codes.
        assert!(!store.scans.contains_key(&ScanRef("done-49".into())));
        assert!(!store.by_token.contains_key(&AuthToken("t-done-0".into())));
        assert!(!store.by_digits.contains_key("00000049"));
        assert!(store.scans.contains_key(&ScanRef("done-50".into())));
        assert!(store
            .by_digits
            .contains_key(&format!("{:08}", KEEP_FINISHED + 49)));
    }

    #[test]
    fn adding_sweeps_now_and_then_not_every_time() {
        // A fleet's load test: 20,000 under way at once. A sweep reads every
        // verification, so one per add would be quadratic.
        let mut store = Store::default();
        let day = Duration::from_secs(86_400);
        for i in 0..20_000 {
            store.add(
                ScanRef(format!("s-{i}")),
                AuthToken(format!("t-{i}")),
                None,
                scan(day, false),
                false,
            );
        }
        assert_eq!(store.scans.len(), 20_000);
        assert!(store.sweeps < 40, "{} sweeps", store.sweeps);
    }

    #[test]
    fn an_expired_unused_token_counts_as_finished_and_a_live_one_does_not() {
        assert!(scan(Duration::ZERO, false).finished(false));
        assert!(!scan(Duration::from_secs(60), false).finished(false));
        let mut s = scan(Duration::from_secs(60), false);
        s.auto_done = true;
        assert!(s.finished(false));
        assert!(!s.finished(true), "a manual review is still to come");
        s.manual_done = true;
        assert!(s.finished(true));
    }
}
