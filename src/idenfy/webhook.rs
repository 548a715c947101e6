//! The webhook receiver: `POST /webhooks/idenfy`.
//!
//! iDenfy signs the raw body: `Idenfy-Signature` is the lowercase hex of
//! HMAC-SHA256(body, signing key). There is no replay protection in the
//! protocol, so results are de-duplicated on scanRef + event type + `final`.
//! The handler answers 200 only after the result is recorded (the sender
//! retries otherwise), and answers fast: nothing slow happens in it.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use tokio::sync::broadcast;

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

/// Serve [`router`] on an already bound listener (bind first, so nothing is
/// lost between binding and creating the token).
///
/// # Errors
/// When the listener's address cannot be read.
pub fn serve(
    listener: tokio::net::TcpListener,
    signing_key: Option<Secret>,
    store: ResultStore,
) -> std::io::Result<Server> {
    let addr = listener.local_addr()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let app = router(signing_key, store);
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
}
