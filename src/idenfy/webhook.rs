//! The webhook receiver: `POST /webhooks/idenfy`.
//!
//! iDenfy signs the raw body: `Idenfy-Signature` is the lowercase hex of
//! HMAC-SHA256(body, signing key). There is no replay protection in the
//! protocol, so results are de-duplicated on scanRef + event type + `final`.
//! The handler answers 200 only after the result is recorded (the sender
//! retries otherwise), and answers fast: nothing slow happens in it.
//!
//! [`serve`] bounds what a sender can hold: each request (headers and body)
//! must arrive within [`Limits::request_timeout`] of connecting or of the
//! previous answer, and at most [`Limits::max_connections`] connections are
//! served at once (more wait in the kernel's backlog). Listening beyond
//! loopback is logged as a warning.

use std::collections::{HashMap, HashSet};
use std::future::Future as _;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, OwnedSemaphorePermit, Semaphore};

use super::models::{ScanRef, WebhookPayload};
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

/// Whether [`ResultStore::record`] kept the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    New,
    /// Same scanRef, event type and `final` as one already recorded.
    Duplicate,
}

#[derive(Default)]
struct Inner {
    seen: HashSet<(ScanRef, String, bool)>,
    results: HashMap<ScanRef, Vec<WebhookPayload>>,
}

/// Where the receiver hands results to the app. Cheap to clone; results stay
/// in memory only, until [`ResultStore::forget`].
#[derive(Clone)]
pub struct ResultStore {
    inner: Arc<Mutex<Inner>>,
    tx: broadcast::Sender<WebhookPayload>,
}

impl Default for ResultStore {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for ResultStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResultStore").finish_non_exhaustive()
    }
}

impl ResultStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(64);
        Self {
            inner: Arc::default(),
            tx,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps inconsistent
        // (each update is one insert), so a poisoned lock is still usable.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Record a result unless it is a duplicate, and notify subscribers.
    pub fn record(&self, payload: WebhookPayload, event_type: &str) -> Recorded {
        let key = (
            payload.scan_ref.clone(),
            event_type.to_owned(),
            payload.is_final,
        );
        {
            let mut inner = self.lock();
            if !inner.seen.insert(key) {
                return Recorded::Duplicate;
            }
            inner
                .results
                .entry(payload.scan_ref.clone())
                .or_default()
                .push(payload.clone());
        }
        // No subscriber is fine: the result is stored.
        let _ = self.tx.send(payload);
        Recorded::New
    }

    /// Every result recorded for `scan_ref`, in arrival order.
    #[must_use]
    pub fn results(&self, scan_ref: &ScanRef) -> Vec<WebhookPayload> {
        self.lock()
            .results
            .get(scan_ref)
            .cloned()
            .unwrap_or_default()
    }

    /// The latest result for `scan_ref`, preferring a final one.
    #[must_use]
    pub fn latest(&self, scan_ref: &ScanRef) -> Option<WebhookPayload> {
        let inner = self.lock();
        let v = inner.results.get(scan_ref)?;
        v.iter().rev().find(|p| p.is_final).or(v.last()).cloned()
    }

    /// Results as they arrive.
    #[must_use]
    pub fn subscribe(&self) -> broadcast::Receiver<WebhookPayload> {
        self.tx.subscribe()
    }

    /// Wait until a result with `final: true` is recorded for `scan_ref`, or
    /// `timeout` passes (then `None`). A result recorded before the call counts.
    pub async fn wait_final(
        &self,
        scan_ref: &ScanRef,
        timeout: Duration,
    ) -> Option<WebhookPayload> {
        let mut rx = self.subscribe();
        let already = self
            .lock()
            .results
            .get(scan_ref)
            .and_then(|v| v.iter().find(|p| p.is_final).cloned());
        if already.is_some() {
            return already;
        }
        let wait = async {
            loop {
                match rx.recv().await {
                    Ok(p) if p.is_final && &p.scan_ref == scan_ref => return Some(p),
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        // Missed some: look in the store instead.
                        let found = self
                            .lock()
                            .results
                            .get(scan_ref)
                            .and_then(|v| v.iter().find(|p| p.is_final).cloned());
                        if found.is_some() {
                            return found;
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        };
        tokio::time::timeout(timeout, wait).await.ok().flatten()
    }

    /// Drop everything held for `scan_ref` (the kiosk's wipe step). The
    /// de-duplication keys stay, so a late replay is still refused.
    pub fn forget(&self, scan_ref: &ScanRef) {
        self.lock().results.remove(scan_ref);
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

async fn receive(
    State(st): State<ReceiverState>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let Some(key) = &st.key else {
        tracing::warn!("webhook refused: no signing key configured");
        return (StatusCode::UNAUTHORIZED, "no signing key configured");
    };
    let sig = headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !verify(key, &body, sig) {
        tracing::warn!("webhook refused: bad or missing signature");
        return (StatusCode::UNAUTHORIZED, "bad signature");
    }
    let payload: WebhookPayload = match super::client::decode("webhook", &body) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "webhook body does not decode");
            return (StatusCode::BAD_REQUEST, "body does not decode");
        }
    };
    let event = headers
        .get(EVENT_TYPE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let scan_ref = payload.scan_ref.clone();
    let overall = payload.status.overall.clone();
    let is_final = payload.is_final;
    match st.store.record(payload, &event) {
        Recorded::New => {
            tracing::info!(%scan_ref, %overall, is_final, event, "webhook result recorded");
            (StatusCode::OK, "recorded")
        }
        Recorded::Duplicate => {
            tracing::info!(%scan_ref, is_final, event, "duplicate webhook ignored");
            (StatusCode::OK, "duplicate")
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

    fn result(scan: &str, is_final: bool) -> WebhookPayload {
        serde_json::from_value(serde_json::json!({
            "final": is_final, "status": {"overall": "APPROVED"}, "scanRef": scan
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn wait_final_sees_earlier_and_later_results_and_times_out() {
        let store = ResultStore::new();
        let s = ScanRef::from("s-1");
        store.record(result("s-1", false), "AUTO_FINISHED");
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
        store.record(result("other", true), "MANUAL_FINISHED");
        store.record(result("s-1", true), "MANUAL_FINISHED");
        let got = waiter.await.unwrap().unwrap();
        assert!(got.is_final && got.scan_ref == s);
        // Recorded before the call also counts.
        assert!(store
            .wait_final(&s, Duration::from_millis(1))
            .await
            .is_some());
        assert_eq!(
            store.record(result("s-1", true), "MANUAL_FINISHED"),
            Recorded::Duplicate
        );
        assert_eq!(store.results(&s).len(), 2);
        assert!(store.latest(&s).unwrap().is_final);
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
