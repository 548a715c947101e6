//! The webhook receiver: `POST /webhooks/idenfy`.
//!
//! iDenfy signs the raw body: `Idenfy-Signature` is the lowercase hex of
//! HMAC-SHA256(body, signing key). There is no replay protection in the
//! protocol, so results are de-duplicated on scanRef + `final` + SHA-256 of
//! the body (not on the `Idenfy-Event-Type` header, which is not signed).
//! Only results for scanRefs this kiosk created are kept, and of each only
//! its [`Report`]: the `status` part, never the document data. What the
//! store remembers is bounded in size and time ([`Retention`]).
//! The handler answers 200 only after the result is recorded (the sender
//! retries otherwise), and answers fast: nothing slow happens in it.
//!
//! [`serve`] bounds what a sender can hold: each request (headers and body)
//! must arrive within [`Limits::request_timeout`] of connecting or of the
//! previous answer, and at most [`Limits::max_connections`] connections are
//! served at once (more wait in the kernel's backlog). Listening beyond
//! loopback is logged as a warning.

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future as _;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, OwnedSemaphorePermit, Semaphore};

use super::models::{ClientId, ScanRef, WebhookPayload, WebhookStatus};
use crate::secret::Secret;

/// Header carrying the signature.
pub const SIGNATURE_HEADER: &str = "Idenfy-Signature";
/// Header carrying the event type.
pub const EVENT_TYPE_HEADER: &str = "Idenfy-Event-Type";
/// Path of the receiver.
pub const PATH: &str = "/webhooks/idenfy";
/// Largest body accepted: results carry URLs, never images.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Lowercase hex HMAC-SHA256 of `body` under `key`.
#[must_use]
pub fn sign(key: &Secret, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.expose().as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `signature` (hex, any case, surrounding space ignored) is the
/// signature of `body` under `key`. Constant-time in the signature bytes.
#[must_use]
pub fn verify(key: &Secret, body: &[u8], signature: &str) -> bool {
    let Ok(given) = hex::decode(signature.trim()) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(key.expose().as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(body);
    let expected = mac.finalize().into_bytes();
    given.len() == expected.len() && bool::from(expected.as_slice().ct_eq(&given))
}

/// The event types iDenfy names in `Idenfy-Event-Type`, in their current
/// spelling (`IDENTIFICATION_AUTO_FINISHED`, which the embedded sandbox
/// sends too) and the short one of the notification settings
/// (`AUTO_FINISHED`). The header is not signed: the type is
/// only logged, never used to decide anything, and a value outside this set
/// is kept as [`EventType::Unknown`] (its text is not kept at all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// The automatic check finished (`final` false when a review follows).
    AutoFinished,
    /// A person at iDenfy finished the review.
    ManualFinished,
    /// The customer sent what a reviewer asked for.
    Resubmitted,
    /// The verification was cancelled.
    Cancelled,
    /// The token expired before the customer finished.
    Expired,
    /// The legacy event that carries every outcome.
    Identification,
    /// Missing, or not one of the above.
    Unknown,
}

impl EventType {
    /// The type named by a header value (surrounding space and case ignored).
    #[must_use]
    pub fn parse(header: &str) -> Self {
        let h = header.trim().to_ascii_uppercase();
        let short = h.strip_prefix("IDENTIFICATION_").unwrap_or(&h);
        match short {
            "AUTO_FINISHED" => Self::AutoFinished,
            "MANUAL_FINISHED" => Self::ManualFinished,
            "RESUBMITTED" => Self::Resubmitted,
            "CANCELLED" | "CANCELED" => Self::Cancelled,
            "EXPIRED" => Self::Expired,
            // The token reference names the legacy notification so.
            "IDENTIFICATION" | "ID_VERIFICATION" => Self::Identification,
            _ => Self::Unknown,
        }
    }

    /// The name for logs.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AutoFinished => "AUTO_FINISHED",
            Self::ManualFinished => "MANUAL_FINISHED",
            Self::Resubmitted => "RESUBMITTED",
            Self::Cancelled => "CANCELLED",
            Self::Expired => "EXPIRED",
            Self::Identification => "IDENTIFICATION",
            Self::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A webhook result as the kiosk keeps it: the verification it is about and
/// its `status` part. Decoded straight from the body, so the document data
/// (`data`: names, numbers, addresses), `fileUrls` and the customer's IP and
/// location are skipped by the decoder and never held.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub scan_ref: ScanRef,
    #[serde(default)]
    pub client_id: Option<ClientId>,
    /// False for the automatic result when a manual review follows.
    #[serde(rename = "final")]
    pub is_final: bool,
    pub status: WebhookStatus,
}

impl From<&WebhookPayload> for Report {
    fn from(p: &WebhookPayload) -> Self {
        Self {
            scan_ref: p.scan_ref.clone(),
            client_id: p.client_id.clone(),
            is_final: p.is_final,
            status: p.status.clone(),
        }
    }
}

/// What [`ResultStore::record`] did with a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// Kept and handed to subscribers.
    New,
    /// Same scanRef, `final` and body as one already recorded (a replay, or
    /// the sender's retry): dropped.
    Duplicate,
    /// For a verification this kiosk created whose session has ended
    /// ([`ResultStore::forget`]): dropped.
    Late,
    /// For a scanRef this kiosk did not create (or forgot long ago): dropped.
    Foreign,
}

/// How much the store remembers, so a sender cannot make it grow: at most
/// `max_keys` de-duplication keys and `max_scans` scanRefs, none older than
/// `ttl` (an ended scanRef past `ttl` is forgotten, and a result for it is
/// then [`Recorded::Foreign`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub max_keys: usize,
    pub max_scans: usize,
    pub ttl: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            max_keys: 1024,
            max_scans: 256,
            ttl: Duration::from_secs(24 * 3600),
        }
    }
}

/// De-duplication key: scanRef, `final` and the SHA-256 of the raw body.
type Key = (ScanRef, bool, [u8; 32]);

struct Scan {
    /// Results are accepted (not yet forgotten).
    open: bool,
    /// When it was registered, or ended.
    since: Instant,
    results: Vec<Report>,
}

#[derive(Default)]
struct Inner {
    seen: HashSet<Key>,
    /// `seen` in insertion order, with when: the oldest go first.
    order: VecDeque<(Instant, Key)>,
    scans: HashMap<ScanRef, Scan>,
}

impl Inner {
    fn prune(&mut self, now: Instant, r: &Retention) {
        while let Some((at, _)) = self.order.front() {
            if self.order.len() <= r.max_keys && now.saturating_duration_since(*at) < r.ttl {
                break;
            }
            if let Some((_, key)) = self.order.pop_front() {
                self.seen.remove(&key);
            }
        }
        self.scans
            .retain(|_, s| s.open || now.saturating_duration_since(s.since) < r.ttl);
        while self.scans.len() > r.max_scans {
            // The oldest ended scanRef goes first, then the oldest open one.
            let oldest = self
                .scans
                .iter()
                .min_by_key(|(_, s)| (s.open, s.since))
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => self.scans.remove(&k),
                None => break,
            };
        }
    }
}

/// Where the receiver hands results to the app. Cheap to clone; results stay
/// in memory only, and only for scanRefs [`ResultStore::register`]ed and not
/// yet [`ResultStore::forget`]ten.
#[derive(Clone)]
pub struct ResultStore {
    inner: Arc<Mutex<Inner>>,
    retention: Retention,
    tx: broadcast::Sender<Report>,
}

impl Default for ResultStore {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for ResultStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResultStore")
            .field("retention", &self.retention)
            .finish_non_exhaustive()
    }
}

impl ResultStore {
    /// An empty store with the default [`Retention`].
    #[must_use]
    pub fn new() -> Self {
        Self::with_retention(Retention::default())
    }

    /// An empty store remembering what `retention` allows.
    #[must_use]
    pub fn with_retention(retention: Retention) -> Self {
        let (tx, _) = broadcast::channel(64);
        Self {
            inner: Arc::default(),
            retention,
            tx,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps inconsistent
        // (each update is one insert or remove), so a poisoned lock is still usable.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Accept results for `scan_ref` from now on: the kiosk calls this as
    /// soon as it has created the token. Registering again keeps what is held.
    pub fn register(&self, scan_ref: &ScanRef) {
        let now = Instant::now();
        let mut inner = self.lock();
        let scan = inner.scans.entry(scan_ref.clone()).or_insert(Scan {
            open: true,
            since: now,
            results: Vec::new(),
        });
        if !scan.open {
            scan.open = true;
            scan.since = now;
        }
        inner.prune(now, &self.retention);
    }

    /// Record a result decoded from `body` (the raw bytes, for the
    /// de-duplication key), and notify subscribers when it is new.
    pub fn record(&self, report: Report, body: &[u8]) -> Recorded {
        self.record_at(report, body, Instant::now())
    }

    fn record_at(&self, report: Report, body: &[u8], now: Instant) -> Recorded {
        let digest: [u8; 32] = Sha256::digest(body).into();
        let key = (report.scan_ref.clone(), report.is_final, digest);
        {
            let mut inner = self.lock();
            inner.prune(now, &self.retention);
            match inner.scans.get(&report.scan_ref) {
                None => return Recorded::Foreign,
                Some(s) if !s.open => return Recorded::Late,
                Some(_) => {}
            }
            if !inner.seen.insert(key.clone()) {
                return Recorded::Duplicate;
            }
            inner.order.push_back((now, key));
            if let Some(s) = inner.scans.get_mut(&report.scan_ref) {
                s.results.push(report.clone());
            }
            inner.prune(now, &self.retention);
        }
        // No subscriber is fine: the result is stored.
        let _ = self.tx.send(report);
        Recorded::New
    }

    /// Every result recorded for `scan_ref`, in arrival order.
    #[must_use]
    pub fn results(&self, scan_ref: &ScanRef) -> Vec<Report> {
        self.lock()
            .scans
            .get(scan_ref)
            .map(|s| s.results.clone())
            .unwrap_or_default()
    }

    /// The latest result for `scan_ref`, preferring a final one.
    #[must_use]
    pub fn latest(&self, scan_ref: &ScanRef) -> Option<Report> {
        let inner = self.lock();
        let v = &inner.scans.get(scan_ref)?.results;
        v.iter().rev().find(|p| p.is_final).or(v.last()).cloned()
    }

    fn first_final(&self, scan_ref: &ScanRef) -> Option<Report> {
        let inner = self.lock();
        let v = &inner.scans.get(scan_ref)?.results;
        v.iter().find(|p| p.is_final).cloned()
    }

    /// Results as they arrive.
    #[must_use]
    pub fn subscribe(&self) -> broadcast::Receiver<Report> {
        self.tx.subscribe()
    }

    /// Wait until a result with `final: true` is recorded for `scan_ref`, or
    /// `timeout` passes (then `None`). A result recorded before the call counts.
    pub async fn wait_final(&self, scan_ref: &ScanRef, timeout: Duration) -> Option<Report> {
        let mut rx = self.subscribe();
        if let Some(r) = self.first_final(scan_ref) {
            return Some(r);
        }
        let wait = async {
            loop {
                match rx.recv().await {
                    Ok(p) if p.is_final && &p.scan_ref == scan_ref => return Some(p),
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        // Missed some: look in the store instead.
                        if let Some(r) = self.first_final(scan_ref) {
                            return Some(r);
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        };
        tokio::time::timeout(timeout, wait).await.ok().flatten()
    }

    /// The session of `scan_ref` has ended (the kiosk's wipe step): drop its
    /// results. A result for it that comes later is acknowledged and dropped
    /// ([`Recorded::Late`]) until [`Retention::ttl`] has passed.
    pub fn forget(&self, scan_ref: &ScanRef) {
        let now = Instant::now();
        let mut inner = self.lock();
        if let Some(s) = inner.scans.get_mut(scan_ref) {
            s.open = false;
            s.since = now;
            s.results = Vec::new();
        }
        inner.prune(now, &self.retention);
    }
}

#[derive(Clone)]
struct ReceiverState {
    key: Option<Secret>,
    store: ResultStore,
}

/// The axum router for `POST /webhooks/idenfy`. With `signing_key` `None`
/// every call is refused with 401: an unsigned result is never trusted.
pub fn router(signing_key: Option<Secret>, store: ResultStore) -> Router {
    Router::new()
        .route(PATH, post(receive))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(ReceiverState {
            key: signing_key,
            store,
        })
}

/// Checks the signature, decodes the [`Report`] and records it. Answers 401
/// for a missing or bad signature, 400 for a body that does not decode, 200
/// for a new, duplicate or late result (the sender stops retrying; nothing
/// changes here), and 422 for a scanRef this kiosk did not create: an
/// authentic result sent to the wrong receiver is refused out loud, so the
/// sender's delivery log shows the misrouting instead of it vanishing here.
async fn receive(
    State(st): State<ReceiverState>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    answer(
        st.key.as_ref(),
        &st.store,
        header(SIGNATURE_HEADER),
        header(EVENT_TYPE_HEADER),
        &body,
    )
}

/// What [`receive`] answers, from the header values and the raw body: the
/// whole decision, synchronous, so it can be fuzzed without a server.
pub(crate) fn answer(
    key: Option<&Secret>,
    store: &ResultStore,
    signature: Option<&str>,
    event_type: Option<&str>,
    body: &[u8],
) -> (StatusCode, &'static str) {
    let Some(key) = key else {
        tracing::warn!("webhook refused: no signing key configured");
        return (StatusCode::UNAUTHORIZED, "no signing key configured");
    };
    if !verify(key, body, signature.unwrap_or("")) {
        tracing::warn!("webhook refused: bad or missing signature");
        return (StatusCode::UNAUTHORIZED, "bad signature");
    }
    let report: Report = match super::client::decode("webhook", body) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "webhook body does not decode");
            return (StatusCode::BAD_REQUEST, "body does not decode");
        }
    };
    let event = EventType::parse(event_type.unwrap_or(""));
    let scan_ref = report.scan_ref.clone();
    let overall = report.status.overall.clone();
    let is_final = report.is_final;
    match store.record(report, body) {
        Recorded::New => {
            tracing::info!(%scan_ref, %overall, is_final, %event, "webhook result recorded");
            (StatusCode::OK, "recorded")
        }
        Recorded::Duplicate => {
            tracing::info!(%scan_ref, is_final, %event, "duplicate webhook ignored");
            (StatusCode::OK, "duplicate")
        }
        Recorded::Late => {
            tracing::info!(%scan_ref, is_final, %event, "webhook for an ended session dropped");
            (StatusCode::OK, "session ended")
        }
        Recorded::Foreign => {
            tracing::warn!(%scan_ref, is_final, %event, "webhook for a scanRef this kiosk did not create refused");
            (StatusCode::UNPROCESSABLE_ENTITY, "unknown scanRef")
        }
    }
}

/// A running receiver; stops on drop or [`Server::shutdown`].
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Server {
    /// The bound address (useful after binding port 0).
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL a sender should post to.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}{PATH}", self.addr)
    }

    /// Stop serving and wait for the server task to end.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// What one sender can hold of the receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Time to deliver one request, headers and body, from connecting or
    /// from the previous answer on the same connection; then it is closed.
    pub request_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(10),
            max_connections: 32,
        }
    }
}

/// Serve [`router`] on an already bound listener (bind first, so nothing is
/// lost between binding and creating the token), with the default [`Limits`].
///
/// # Errors
/// When the listener's address cannot be read.
pub fn serve(
    listener: TcpListener,
    signing_key: Option<Secret>,
    store: ResultStore,
) -> std::io::Result<Server> {
    serve_with(listener, signing_key, store, Limits::default())
}

/// Whether a receiver on `addr` can be reached from other machines (any
/// address but loopback, the unspecified `0.0.0.0` and `::` included).
#[must_use]
pub fn beyond_loopback(addr: SocketAddr) -> bool {
    !addr.ip().is_loopback()
}

/// As [`serve`], with the given limits.
///
/// # Errors
/// When the listener's address cannot be read.
pub fn serve_with(
    listener: TcpListener,
    signing_key: Option<Secret>,
    store: ResultStore,
    limits: Limits,
) -> std::io::Result<Server> {
    let addr = listener.local_addr()?;
    if beyond_loopback(addr) {
        tracing::warn!(
            %addr,
            "the webhook receiver listens beyond loopback: other machines can reach it \
             (only signed results are accepted; prefer 127.0.0.1 behind an HTTPS proxy)"
        );
    }
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let app = router(signing_key, store);
    let listener = Guarded {
        inner: listener,
        permits: Arc::new(Semaphore::new(limits.max_connections.max(1))),
        timeout: limits.request_timeout,
    };
    let task = tokio::spawn(async move {
        let r = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
        if let Err(e) = r {
            tracing::error!(error = %e, "webhook server stopped");
        }
    });
    Ok(Server {
        addr,
        stop: Some(tx),
        task: Some(task),
    })
}

/// The listener [`serve_with`] uses: a connection is accepted only with a
/// free slot, and carries its slot and its request deadline.
struct Guarded {
    inner: TcpListener,
    permits: Arc<Semaphore>,
    timeout: Duration,
}

impl axum::serve::Listener for Guarded {
    type Io = Deadline;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        // Wait for a slot before accepting: extra senders wait in the
        // backlog instead of holding tasks and sockets here.
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let (io, addr) = axum::serve::Listener::accept(&mut self.inner).await;
        (Deadline::new(io, permit, self.timeout), addr)
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// A connection whose reads fail once `timeout` has passed since it was
/// opened or since the last bytes were written to it (the previous answer):
/// a sender trickling headers or a body is cut off. Holds its slot until
/// dropped.
struct Deadline {
    io: TcpStream,
    timeout: Duration,
    deadline: Pin<Box<tokio::time::Sleep>>,
    _slot: OwnedSemaphorePermit,
}

impl Deadline {
    fn new(io: TcpStream, slot: OwnedSemaphorePermit, timeout: Duration) -> Self {
        Self {
            io,
            timeout,
            deadline: Box::pin(tokio::time::sleep(timeout)),
            _slot: slot,
        }
    }
}

impl AsyncRead for Deadline {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "webhook request not received in time",
            )));
        }
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Deadline {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            // An answer went out: the next request gets a full period.
            let next = tokio::time::Instant::now() + self.timeout;
            self.deadline.as_mut().reset(next);
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify_agree_and_refuse_tampering() {
        let k = Secret::new("signing-key-1");
        let body = br#"{"final":true}"#;
        let sig = sign(&k, body);
        assert_eq!(sig.len(), 64);
        assert!(sig
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert!(verify(&k, body, &sig));
        assert!(verify(&k, body, &sig.to_uppercase()));
        assert!(!verify(&k, br#"{"final":false}"#, &sig));
        assert!(!verify(&Secret::new("signing-key-2"), body, &sig));
        assert!(!verify(&k, body, ""));
        assert!(!verify(&k, body, "zz"));
        assert!(!verify(&k, body, &sig[..62]));
    }

    /// A result and the body it came in.
    fn result(scan: &str, is_final: bool) -> (Report, Vec<u8>) {
        let body = serde_json::to_vec(&serde_json::json!({
            "final": is_final, "status": {"overall": "APPROVED"}, "scanRef": scan
        }))
        .unwrap();
        (serde_json::from_slice(&body).unwrap(), body)
    }

    fn record(store: &ResultStore, (report, body): (Report, Vec<u8>)) -> Recorded {
        store.record(report, &body)
    }

    #[tokio::test]
    async fn wait_final_sees_earlier_and_later_results_and_times_out() {
        let store = ResultStore::new();
        let s = ScanRef::from("s-1");
        store.register(&s);
        store.register(&ScanRef::from("other"));
        record(&store, result("s-1", false));
        // Only a non-final result so far: time out.
        assert!(store
            .wait_final(&s, Duration::from_millis(50))
            .await
            .is_none());
        let waiter = {
            let store = store.clone();
            let s = s.clone();
            tokio::spawn(async move { store.wait_final(&s, Duration::from_secs(5)).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        record(&store, result("other", true));
        record(&store, result("s-1", true));
        let got = waiter.await.unwrap().unwrap();
        assert!(got.is_final && got.scan_ref == s);
        // Recorded before the call also counts.
        assert!(store
            .wait_final(&s, Duration::from_millis(1))
            .await
            .is_some());
        assert_eq!(record(&store, result("s-1", true)), Recorded::Duplicate);
        assert_eq!(store.results(&s).len(), 2);
        assert!(store.latest(&s).unwrap().is_final);
    }

    #[test]
    fn only_registered_scan_refs_are_kept_and_a_forgotten_one_is_late() {
        let store = ResultStore::new();
        let s = ScanRef::from("mine");
        assert_eq!(record(&store, result("mine", true)), Recorded::Foreign);
        assert!(store.results(&s).is_empty());
        store.register(&s);
        assert_eq!(record(&store, result("mine", false)), Recorded::New);
        store.forget(&s);
        assert!(store.results(&s).is_empty());
        // Ended: acknowledged and dropped, the same body or a new one.
        assert_eq!(record(&store, result("mine", false)), Recorded::Late);
        assert_eq!(record(&store, result("mine", true)), Recorded::Late);
        assert!(store.results(&s).is_empty());
        assert_eq!(record(&store, result("yours", true)), Recorded::Foreign);
    }

    #[test]
    fn the_same_scan_and_final_with_another_body_is_a_new_result() {
        let store = ResultStore::new();
        store.register(&ScanRef::from("s"));
        let (report, body) = result("s", true);
        assert_eq!(store.record(report.clone(), &body), Recorded::New);
        assert_eq!(store.record(report.clone(), &body), Recorded::Duplicate);
        let mut other = body.clone();
        other.push(b' ');
        assert_eq!(store.record(report, &other), Recorded::New);
    }

    #[test]
    fn the_store_forgets_keys_and_ended_scans_past_its_bounds() {
        let store = ResultStore::with_retention(Retention {
            max_keys: 3,
            max_scans: 4,
            ttl: Duration::from_secs(60),
        });
        let t0 = Instant::now();
        let s = ScanRef::from("s");
        store.register(&s);
        let bodies: Vec<_> = (0..5)
            .map(|i| {
                let (r, mut b) = result("s", false);
                b.extend(vec![b' '; i]);
                (r, b)
            })
            .collect();
        for (r, b) in &bodies {
            assert_eq!(store.record_at(r.clone(), b, t0), Recorded::New);
        }
        assert!(store.lock().seen.len() <= 3);
        // The oldest keys went first: the newest is still a duplicate.
        let (r, b) = &bodies[4];
        assert_eq!(store.record_at(r.clone(), b, t0), Recorded::Duplicate);
        // Past the time limit every key is forgotten.
        let later = t0 + Duration::from_secs(61);
        let (r, b) = result("s", true);
        assert_eq!(store.record_at(r, &b, later), Recorded::New);
        assert_eq!(store.lock().seen.len(), 1);

        // ScanRefs: never more than `max_scans`, ended ones dropped first.
        for i in 0..10 {
            let x = ScanRef::from(format!("x-{i}").as_str());
            store.register(&x);
            store.forget(&x);
        }
        let inner = store.lock();
        assert!(inner.scans.len() <= 4, "{}", inner.scans.len());
        assert!(
            inner.scans.get(&s).is_some_and(|x| x.open),
            "the open one stays"
        );
        drop(inner);
        // An ended scanRef past the time limit is forgotten: then it is foreign.
        let e = ScanRef::from("x-9");
        assert_eq!(
            store.record_at(result("x-9", true).0, b"{}", Instant::now()),
            Recorded::Late
        );
        store
            .lock()
            .prune(Instant::now() + Duration::from_secs(61), &store.retention);
        assert!(!store.lock().scans.contains_key(&e));
        assert!(
            store.lock().scans.contains_key(&s),
            "open scans have no time limit"
        );
    }

    #[test]
    fn event_types_come_from_the_known_set_only() {
        for (header, want) in [
            ("AUTO_FINISHED", EventType::AutoFinished),
            ("IDENTIFICATION_AUTO_FINISHED", EventType::AutoFinished),
            (" manual_finished ", EventType::ManualFinished),
            ("IDENTIFICATION_MANUAL_FINISHED", EventType::ManualFinished),
            ("IDENTIFICATION_RESUBMITTED", EventType::Resubmitted),
            ("IDENTIFICATION_CANCELLED", EventType::Cancelled),
            ("IDENTIFICATION_EXPIRED", EventType::Expired),
            ("IDENTIFICATION", EventType::Identification),
            ("ID_VERIFICATION", EventType::Identification),
            ("", EventType::Unknown),
            ("OTHER_EVENT", EventType::Unknown),
            ("AUTO_FINISHED\nforged log line", EventType::Unknown),
        ] {
            assert_eq!(EventType::parse(header), want, "{header:?}");
        }
        assert_eq!(EventType::parse("OTHER_EVENT").to_string(), "unknown");
        // What the embedded sandbox sends is known.
        assert_eq!(
            EventType::parse(crate::sandbox::notify::EVENT_AUTO),
            EventType::AutoFinished
        );
        assert_eq!(
            EventType::parse(crate::sandbox::notify::EVENT_MANUAL),
            EventType::ManualFinished
        );
    }

    #[test]
    fn a_report_holds_no_document_data() {
        let body = include_str!("../../tests/data/idenfy/webhook-manual-final.json");
        let full: WebhookPayload = serde_json::from_str(body).unwrap();
        assert!(full.data.doc_last_name.is_some(), "the fixture has a name");
        let report: Report = super::super::client::decode("webhook", body.as_bytes()).unwrap();
        assert_eq!(report, Report::from(&full));
        let kept = format!("{report:?}");
        for personal in [
            full.data.doc_last_name.as_deref(),
            full.data.doc_first_name.as_deref(),
            full.data.doc_number.as_deref(),
            full.client_ip.as_deref(),
        ]
        .into_iter()
        .flatten()
        {
            assert!(!kept.contains(personal), "{personal} is held: {kept}");
        }
    }

    #[test]
    fn known_vector() {
        // RFC 4231 test case 2.
        let k = Secret::new("Jefe");
        assert_eq!(
            sign(&k, b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    async fn read_until_closed(c: &mut TcpStream) -> Vec<u8> {
        use tokio::io::AsyncReadExt as _;
        let mut got = Vec::new();
        let _ = c.read_to_end(&mut got).await;
        got
    }

    const UNSIGNED: &[u8] =
        b"POST /webhooks/idenfy HTTP/1.1\r\nHost: k\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";

    /// A sender that trickles its headers (or never finishes its body) is
    /// cut off after the request timeout instead of holding a connection.
    #[tokio::test]
    async fn a_slow_sender_is_cut_off_after_the_request_timeout() {
        use tokio::io::AsyncWriteExt as _;
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let limits = Limits {
            request_timeout: Duration::from_millis(300),
            max_connections: 4,
        };
        let srv = serve_with(
            l,
            Some(Secret::new("k".repeat(32))),
            ResultStore::new(),
            limits,
        )
        .unwrap();
        for partial in [
            &b"POST /webhooks/idenfy HTTP/1.1\r\nHost: k\r\n"[..],
            &b"POST /webhooks/idenfy HTTP/1.1\r\nHost: k\r\nContent-Length: 100\r\n\r\n{\"a\""[..],
        ] {
            let mut c = TcpStream::connect(srv.local_addr()).await.unwrap();
            c.write_all(partial).await.unwrap();
            let closed =
                tokio::time::timeout(Duration::from_secs(5), read_until_closed(&mut c)).await;
            assert!(closed.is_ok(), "the connection stayed open");
        }
        srv.shutdown().await;
    }

    /// Connections beyond the cap wait until a slot frees.
    #[tokio::test]
    async fn connections_beyond_the_cap_wait_for_a_free_slot() {
        use tokio::io::AsyncWriteExt as _;
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let limits = Limits {
            request_timeout: Duration::from_secs(30),
            max_connections: 1,
        };
        let srv = serve_with(
            l,
            Some(Secret::new("k".repeat(32))),
            ResultStore::new(),
            limits,
        )
        .unwrap();
        let idle = TcpStream::connect(srv.local_addr()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut c = TcpStream::connect(srv.local_addr()).await.unwrap();
        c.write_all(UNSIGNED).await.unwrap();
        let early =
            tokio::time::timeout(Duration::from_millis(400), read_until_closed(&mut c)).await;
        assert!(early.is_err(), "served beyond the cap");
        drop(idle);
        let answer = tokio::time::timeout(Duration::from_secs(5), read_until_closed(&mut c))
            .await
            .expect("served once the slot is free");
        assert!(
            answer.starts_with(b"HTTP/1.1 401"),
            "{}",
            String::from_utf8_lossy(&answer)
        );
        srv.shutdown().await;
    }

    #[test]
    fn loopback_is_local_everything_else_is_beyond() {
        for local in ["127.0.0.1:8787", "127.9.9.9:1", "[::1]:8787"] {
            assert!(!beyond_loopback(local.parse().unwrap()), "{local}");
        }
        for wide in ["0.0.0.0:8787", "[::]:8787", "192.168.1.20:8787"] {
            assert!(beyond_loopback(wide.parse().unwrap()), "{wide}");
        }
    }
}
