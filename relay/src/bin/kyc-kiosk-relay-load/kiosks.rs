//! Simulated kiosks. Each one talks to the relay with the kiosk's own client
//! (`kyc_kiosk::backoffice::Client`), as `session::relayed` does: a long
//! poll for results that keeps each result id once and acknowledges them all,
//! and a driver that runs one verification at a time (token, `/process`,
//! wait for the result). A kiosk whose instance stops answering moves to the
//! other one.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kyc_kiosk::backoffice::{Client, Error, Submission};
use kyc_kiosk::idenfy::{
    DocumentType, DummyStatus, ImageSide, OverallStatus, ScanRef, TokenRequest, TokenType,
};
use tokio::sync::{watch, Notify};

use crate::track::Tracker;

/// What every kiosk shares.
pub struct Ctx {
    pub tracker: Arc<Tracker>,
    /// Ends the pollers.
    pub stop: watch::Receiver<bool>,
    /// The kiosk that goes offline, and whether it is offline now.
    pub offline_kiosk: Option<usize>,
    pub offline: watch::Receiver<bool>,
    pub poll_wait: Duration,
    /// How long a driver waits for one result before it moves on.
    pub result_wait: Duration,
    /// Calls that failed for good (not retried), with their error codes.
    pub errors: Mutex<Vec<String>>,
    /// Results delivered again after the kiosk had them (dropped, as the kiosk does).
    pub redelivered: AtomicU64,
    /// Kiosks that moved to another instance.
    pub moves: AtomicU64,
}

impl Ctx {
    fn error(&self, what: &str, e: &Error) {
        self.errors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(format!("{what}: {e}"));
    }
}

/// One kiosk.
pub struct Kiosk {
    pub index: usize,
    clients: Vec<Client>,
    active: AtomicUsize,
    seen: Mutex<HashSet<i64>>,
    arrived: Notify,
    polling: AtomicBool,
}

impl Kiosk {
    /// `clients`: one per instance; `home` is the one used first.
    #[must_use]
    pub fn new(index: usize, clients: Vec<Client>, home: usize) -> Self {
        Self {
            index,
            clients,
            active: AtomicUsize::new(home),
            seen: Mutex::new(HashSet::new()),
            arrived: Notify::new(),
            polling: AtomicBool::new(false),
        }
    }

    fn client(&self) -> (usize, &Client) {
        let i = self.active.load(Ordering::SeqCst);
        (i, &self.clients[i])
    }

    /// Instance `failed` did not answer: move to the next (once per failure).
    fn move_on(&self, ctx: &Ctx, failed: usize) {
        let next = (failed + 1) % self.clients.len();
        if self
            .active
            .compare_exchange(failed, next, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            ctx.moves.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Whether a long poll is open (the run starts once every kiosk polls).
    pub fn is_polling(&self) -> bool {
        self.polling.load(Ordering::SeqCst)
    }

    fn is_offline(&self, ctx: &Ctx) -> bool {
        ctx.offline_kiosk == Some(self.index) && *ctx.offline.borrow()
    }

    async fn while_offline(&self, ctx: &Ctx) {
        if ctx.offline_kiosk == Some(self.index) {
            let mut o = ctx.offline.clone();
            let _ = o.wait_for(|off| !*off).await;
        }
    }
}

/// Poll, keep each result id once, acknowledge; until `ctx.stop`.
pub async fn poll(k: Arc<Kiosk>, ctx: Arc<Ctx>) {
    let mut stop = ctx.stop.clone();
    let mut offline = ctx.offline.clone();
    loop {
        if *stop.borrow() {
            return;
        }
        if k.is_offline(&ctx) {
            k.polling.store(false, Ordering::SeqCst);
            tokio::select! {
                () = k.while_offline(&ctx) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            continue;
        }
        let (i, c) = k.client();
        k.polling.store(true, Ordering::SeqCst);
        let mine = ctx.offline_kiosk == Some(k.index);
        let got = tokio::select! {
            r = c.results(ctx.poll_wait) => r,
            _ = stop.wait_for(|s| *s) => return,
            // Going offline cuts the open poll, as a lost network would.
            _ = offline.wait_for(|o| mine && *o) => continue,
        };
        match got {
            Ok(results) => {
                if results.is_empty() {
                    continue;
                }
                let now = Instant::now();
                let ids: Vec<i64> = results.iter().map(|d| d.id).collect();
                {
                    let mut seen = k
                        .seen
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    for d in &results {
                        if !seen.insert(d.id) {
                            ctx.redelivered.fetch_add(1, Ordering::Relaxed);
                        } else if d.is_final {
                            ctx.tracker.shown(d.scan_ref.as_str(), now, mine);
                        }
                    }
                }
                k.arrived.notify_waiters();
                // A failed acknowledgement only means they come again.
                if let Err(Error::Transport { .. }) = k.client().1.ack(&ids).await {
                    k.move_on(&ctx, i);
                }
            }
            Err(Error::Transport { .. }) => {
                k.move_on(&ctx, i);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// Run `n` verifications one after the other; with `pace` (first start,
/// then one start every so often) each one starts at its time, or as soon as
/// the one before it ends when that is later.
pub async fn drive(k: Arc<Kiosk>, ctx: Arc<Ctx>, n: usize, pace: Option<(Duration, Duration)>) {
    let t0 = tokio::time::Instant::now();
    for j in 0..n {
        if let Some((first, every)) = pace {
            tokio::time::sleep_until(t0 + first + every * u32::try_from(j).unwrap_or(u32::MAX))
                .await;
        }
        k.while_offline(&ctx).await;
        let req = TokenRequest {
            client_id: format!("load-{}-{j}", k.index),
            token_type: Some(TokenType::Document),
            dummy_status: Some(DummyStatus::Approved),
            ..TokenRequest::default()
        };
        let Some(scan_ref) = token(&k, &ctx, &req).await else {
            continue;
        };
        ctx.tracker.started(scan_ref.as_str());
        if !submit(&k, &ctx, &scan_ref).await {
            ctx.tracker.not_submitted(scan_ref.as_str());
            continue;
        }
        ctx.tracker.accepted(scan_ref.as_str());
        let deadline = tokio::time::Instant::now() + ctx.result_wait;
        loop {
            let arrived = k.arrived.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            if ctx.tracker.is_shown(scan_ref.as_str()) {
                break;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                break;
            }
        }
    }
}

/// A token, retried while the relay is away (a token not issued costs nothing).
async fn token(k: &Kiosk, ctx: &Ctx, req: &TokenRequest) -> Option<ScanRef> {
    until_answered(k, ctx, "token", |c| c.create_token(req))
        .await
        .map(|t| t.scan_ref)
}

/// `call` on the kiosk's current instance until one answers: an instance
/// out of reach moves the kiosk to the next, a 5xx is asked again after a
/// pause, any other error is counted under `what` and ends the tries.
async fn until_answered<'a, T, F, Fut>(
    k: &'a Kiosk,
    ctx: &Ctx,
    what: &str,
    mut call: F,
) -> Option<T>
where
    F: FnMut(&'a Client) -> Fut,
    Fut: std::future::Future<Output = Result<T, Error>>,
{
    for _ in 0..200 {
        let (i, c) = k.client();
        match call(c).await {
            Ok(t) => return Some(t),
            Err(Error::Transport { .. }) => {
                k.move_on(ctx, i);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(Error::Refused { status, .. }) if status >= 500 => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => {
                ctx.error(what, &e);
                return None;
            }
        }
    }
    None
}

fn submission() -> Submission {
    Submission {
        country: "LT".into(),
        document_type: Some(DocumentType::IdCard),
        images: vec![
            (ImageSide::Front, b"front-bytes".to_vec()),
            (ImageSide::Back, b"back-bytes".to_vec()),
        ],
        skip_analysis: true,
        staff_accepted: Vec::new(),
    }
}

/// Submit once; when the outcome is unknown, ask `/status` (never resend
/// blindly) and resend only when the upstream says it never arrived.
/// Whether the submission was accepted.
async fn submit(k: &Kiosk, ctx: &Ctx, scan_ref: &ScanRef) -> bool {
    let sub = submission();
    for _ in 0..20 {
        let (i, c) = k.client();
        match c.process(scan_ref, &sub).await {
            Ok(_) => return true,
            // Not connected: nothing was sent.
            Err(Error::Transport { .. }) => {
                k.move_on(ctx, i);
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            Err(Error::OutcomeUnknown { .. }) => {}
            Err(Error::Refused { status, .. }) if status >= 500 => {}
            // Already claimed (by an instance that died mid-submission):
            // only the upstream knows whether it arrived.
            Err(Error::Refused { status: 409, .. }) => {
                return ask(k, ctx, scan_ref)
                    .await
                    .is_some_and(|s| s != OverallStatus::Active);
            }
            Err(e) => {
                ctx.error("process", &e);
                return false;
            }
        }
        match ask(k, ctx, scan_ref).await {
            Some(OverallStatus::Active) => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Some(_) => return true,
            None => return false,
        }
    }
    false
}

/// `/status` until some instance answers.
async fn ask(k: &Kiosk, ctx: &Ctx, scan_ref: &ScanRef) -> Option<OverallStatus> {
    until_answered(k, ctx, "status", |c| c.status(scan_ref))
        .await
        .map(|s| s.status)
}
