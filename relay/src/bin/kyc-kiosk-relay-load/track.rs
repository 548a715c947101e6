//! The truth of a run: every verification the kiosks started, when its
//! webhook reached the front, and how many times a kiosk showed its result.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One verification.
#[derive(Debug, Default, Clone)]
pub struct Entry {
    /// `/process` accepted (directly, or as learnt from `/status`).
    pub accepted: bool,
    /// The submission never reached the upstream (the token is unspent): the
    /// kiosk started over; no result is owed.
    pub not_submitted: bool,
    /// First time a webhook of this scan reached the front.
    pub webhook_at: Option<Instant>,
    /// Final results shown (distinct result ids): 1 is right.
    pub shown: u32,
    pub shown_at: Option<Instant>,
    /// Its kiosk was offline while the result waited.
    pub offline: bool,
}

#[derive(Debug, Default)]
pub struct Tracker {
    inner: Mutex<HashMap<String, Entry>>,
    shown: AtomicUsize,
}

/// The counts a run is judged by.
#[derive(Debug, Default)]
pub struct Tally {
    pub started: usize,
    pub accepted: usize,
    pub not_submitted: usize,
    pub shown: usize,
    /// Accepted, never shown.
    pub lost: usize,
    /// Shown more than once.
    pub shown_twice: usize,
    /// Shown without an accepted `/process` known to the kiosk (an outcome
    /// learnt only from the result).
    pub shown_unconfirmed: usize,
    /// Webhook→kiosk latencies of kiosks that were online.
    pub latencies: Vec<Duration>,
    /// The same for the kiosk that was offline (includes the offline time).
    pub offline_latencies: Vec<Duration>,
}

impl Tracker {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn started(&self, scan_ref: &str) {
        self.lock().entry(scan_ref.to_owned()).or_default();
    }

    pub fn accepted(&self, scan_ref: &str) {
        self.lock().entry(scan_ref.to_owned()).or_default().accepted = true;
    }

    pub fn not_submitted(&self, scan_ref: &str) {
        self.lock()
            .entry(scan_ref.to_owned())
            .or_default()
            .not_submitted = true;
    }

    pub fn webhook(&self, scan_ref: &str, at: Instant) {
        let mut m = self.lock();
        let e = m.entry(scan_ref.to_owned()).or_default();
        e.webhook_at.get_or_insert(at);
    }

    /// A final result shown by a kiosk (first delivery of its result id).
    pub fn shown(&self, scan_ref: &str, at: Instant, offline: bool) {
        let mut m = self.lock();
        let e = m.entry(scan_ref.to_owned()).or_default();
        e.shown += 1;
        if e.shown == 1 {
            self.shown.fetch_add(1, Ordering::Relaxed);
        }
        e.shown_at.get_or_insert(at);
        e.offline |= offline;
    }

    /// Whether the final result of `scan_ref` has been shown.
    pub fn is_shown(&self, scan_ref: &str) -> bool {
        self.lock().get(scan_ref).is_some_and(|e| e.shown > 0)
    }

    /// Verifications whose final result has been shown.
    pub fn shown_count(&self) -> usize {
        self.shown.load(Ordering::Relaxed)
    }

    /// Accepted verifications whose result is not shown yet.
    pub fn outstanding(&self) -> usize {
        self.lock()
            .values()
            .filter(|e| e.accepted && e.shown == 0)
            .count()
    }

    pub fn tally(&self) -> Tally {
        let m = self.lock();
        let mut t = Tally {
            started: m.len(),
            ..Tally::default()
        };
        for e in m.values() {
            t.accepted += usize::from(e.accepted);
            t.not_submitted += usize::from(e.not_submitted && e.shown == 0);
            t.shown += usize::from(e.shown > 0);
            t.lost += usize::from(e.accepted && e.shown == 0);
            t.shown_twice += usize::from(e.shown > 1);
            t.shown_unconfirmed += usize::from(!e.accepted && e.shown > 0);
            if let (Some(w), Some(s)) = (e.webhook_at, e.shown_at) {
                let d = s.saturating_duration_since(w);
                if e.offline {
                    t.offline_latencies.push(d);
                } else {
                    t.latencies.push(d);
                }
            }
        }
        t.latencies.sort();
        t.offline_latencies.sort();
        t
    }
}

/// The `p` quantile (0..=1) of sorted `v`.
#[must_use]
pub fn quantile(v: &[Duration], p: f64) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i.min(v.len() - 1)]
}
