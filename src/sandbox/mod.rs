//! A local emulator of the iDenfy API (axum): same endpoints, validation and
//! error bodies, single-use tokens, expiry, `dummyStatus`, signed webhooks.
//! It is the embedded default when no credentials are configured.
//!
//! It keeps no image: each one is judged in memory by the kiosk's own still
//! check (`quality::assess_encoded`, see [`verdict`]) and dropped; `/files`
//! therefore answers empty lists.
//!
//! Inside: `store` (tokens and verifications), `http` (routes, auth, bodies,
//! error shape), `handlers` (one per endpoint), `analysis` (spending a token,
//! then the delayed results and their webhooks).

mod analysis;
mod handlers;
mod http;
pub mod notify;
mod store;
pub mod verdict;

use std::net::SocketAddr;
use std::time::Duration;

use rand::distributions::Alphanumeric;
use rand::Rng;

use crate::config::Secret;

pub use http::router;

/// How to run a sandbox.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Address to serve on (`127.0.0.1:0` picks a free port).
    pub listen: SocketAddr,
    /// Accepted API key and secret; random when `None` (embedded mode).
    pub api_key: Option<Secret>,
    pub api_secret: Option<Secret>,
    /// Key webhooks are signed with; random when `None`.
    pub signing_key: Option<Secret>,
    /// Where results are posted (unless a token sets `callbackUrl`).
    pub webhook_url: Option<String>,
    /// Send a manual result after the automatic one (`final` false, then true).
    pub manual_review: bool,
    /// Delay before the automatic result.
    pub auto_delay: Duration,
    /// Delay between the automatic and the manual result.
    pub manual_delay: Duration,
    /// Verification credits; `None` is unlimited. At zero, `/token` answers 402.
    pub credits: Option<u32>,
    /// `/process` body limit (the API's is 20 MB).
    pub max_body_bytes: usize,
    /// Webhook delivery attempts and first back-off.
    pub webhook_attempts: u32,
    pub webhook_backoff: Duration,
    /// Fault injection for tests: the first N `/process` calls never answer
    /// and spend nothing, as when the network dies mid-submit.
    pub stall_process: u32,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            api_key: None,
            api_secret: None,
            signing_key: None,
            webhook_url: None,
            manual_review: false,
            auto_delay: Duration::from_millis(300),
            manual_delay: Duration::from_secs(1),
            credits: None,
            max_body_bytes: crate::idenfy::DEFAULT_MAX_BODY_BYTES,
            webhook_attempts: 5,
            webhook_backoff: Duration::from_millis(250),
            stall_process: 0,
        }
    }
}

/// Sandbox failures.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the webhook sender: {0}")]
    Http(#[source] reqwest::Error),
}

/// The running sandbox. Stops on drop or [`SandboxHandle::shutdown`].
#[derive(Debug)]
pub struct SandboxHandle {
    addr: SocketAddr,
    api_key: Secret,
    api_secret: Secret,
    signing_key: Secret,
    stop: tokio::sync::watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// The sandbox server.
pub struct Sandbox;

impl Sandbox {
    /// Bind and serve in the background.
    ///
    /// # Errors
    /// [`Error::Bind`] when the address is taken or not allowed.
    pub async fn start(cfg: SandboxConfig) -> Result<SandboxHandle, Error> {
        let listener = tokio::net::TcpListener::bind(cfg.listen)
            .await
            .map_err(|source| Error::Bind {
                addr: cfg.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| Error::Bind {
            addr: cfg.listen,
            source,
        })?;
        let api_key = cfg.api_key.clone().unwrap_or_else(|| random_secret(24));
        let api_secret = cfg.api_secret.clone().unwrap_or_else(|| random_secret(32));
        let signing_key = cfg.signing_key.clone().unwrap_or_else(|| random_secret(32));
        let (stop, stop_rx) = tokio::sync::watch::channel(false);
        let app = http::router_with(
            store::Settings {
                cfg,
                api_key: api_key.clone(),
                api_secret: api_secret.clone(),
                signing_key: signing_key.clone(),
            },
            stop_rx.clone(),
        )
        .map_err(Error::Http)?;
        let mut rx = stop_rx;
        let task = tokio::spawn(async move {
            let r = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.wait_for(|s| *s).await;
                })
                .await;
            if let Err(e) = r {
                tracing::error!(error = %e, "sandbox stopped");
            }
        });
        tracing::info!(%addr, "sandbox listening");
        Ok(SandboxHandle {
            addr,
            api_key,
            api_secret,
            signing_key,
            stop,
            task: Some(task),
        })
    }
}

impl SandboxHandle {
    /// `http://ADDR`, to give to `Client::builder().base_url(..)`.
    #[must_use]
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API key the sandbox accepts.
    #[must_use]
    pub fn api_key(&self) -> &Secret {
        &self.api_key
    }

    /// The API secret the sandbox accepts.
    #[must_use]
    pub fn api_secret(&self) -> &Secret {
        &self.api_secret
    }

    /// The key webhooks are signed with.
    #[must_use]
    pub fn signing_key(&self) -> &Secret {
        &self.signing_key
    }

    /// A client for this sandbox.
    ///
    /// # Errors
    /// As [`crate::idenfy::Builder::build`].
    pub fn client(&self) -> Result<crate::idenfy::Client, crate::idenfy::Error> {
        crate::idenfy::Client::builder()
            .base_url(self.base_url())
            .credentials(self.api_key.clone(), self.api_secret.clone())
            .build()
    }

    /// Stop serving (pending webhooks are abandoned) and wait for the end.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

fn random_secret(len: usize) -> Secret {
    let s: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect();
    Secret::new(s)
}
