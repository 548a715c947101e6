//! The one listener of `serve`: the kiosk API, `/webhooks/idenfy`, health,
//! metrics and the fleet page; and the background tasks beside it (the
//! result listener and the purge timer). TLS is terminated in front.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use kyc_kiosk::config::Secret;
use sqlx::PgPool;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::{PublicUrl, Upstream, UpstreamConfig, UpstreamError};
use crate::hub::Hub;
use crate::metrics::Metrics;
use crate::{api, db, fleet, hub, purge, webhook};

/// How one instance behaves.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where iDenfy reaches this relay; `callbackUrl` on every token.
    pub public_url: PublicUrl,
    /// Tokens (including hand-offs) one kiosk may create per hour.
    pub token_limit_per_hour: u32,
    /// `/status` questions one kiosk may pass on per hour.
    pub status_limit_per_hour: u32,
    /// Longest long poll a kiosk may ask for.
    pub max_wait: Duration,
    /// Retention of results and scans.
    pub purge: purge::Policy,
    /// How often the purge timer runs.
    pub purge_every: Duration,
    /// The fleet page's key; the page is off without one.
    pub admin_key: Option<Secret>,
}

impl Settings {
    /// Defaults: 120 tokens and 120 status questions per kiosk per hour,
    /// 30 s polls, purge each minute.
    #[must_use]
    pub fn new(public_url: PublicUrl) -> Self {
        Self {
            public_url,
            token_limit_per_hour: 120,
            status_limit_per_hour: 120,
            max_wait: Duration::from_secs(30),
            purge: purge::Policy::default(),
            purge_every: Duration::from_secs(60),
            admin_key: None,
        }
    }
}

/// What every handler sees. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub upstream: Arc<Upstream>,
    pub hub: Hub,
    pub ingest: webhook::Ingest,
    pub metrics: Arc<Metrics>,
    pub settings: Arc<Settings>,
    /// `Some` when the public URL is HTTPS (see [`PublicUrl::callback_url`]).
    pub callback_url: Option<String>,
    /// Turns true at shutdown: long polls answer at once.
    pub stop: watch::Receiver<bool>,
}

/// The routes.
pub fn router(state: AppState) -> Router {
    let kiosk = Router::new()
        .route("/kiosk/v1/me", get(api::me))
        .route("/kiosk/v1/tokens", post(api::create_token))
        .route("/kiosk/v1/handoff", post(api::create_handoff))
        .route("/kiosk/v1/scans/{scan_ref}/status", get(api::status))
        .route("/kiosk/v1/results", get(api::results))
        .route("/kiosk/v1/results/ack", post(api::ack))
        .layer(DefaultBodyLimit::max(api::SMALL_BODY));
    let process = Router::new()
        .route("/kiosk/v1/scans/{scan_ref}/process", post(api::process))
        .layer(DefaultBodyLimit::max(api::PROCESS_BODY));
    let hooks = Router::new()
        .route(kyc_kiosk::idenfy::webhook::PATH, post(webhook::receive))
        .layer(DefaultBodyLimit::max(
            kyc_kiosk::idenfy::webhook::MAX_BODY_BYTES,
        ));
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/fleet", get(fleet::page))
        .merge(kiosk)
        .merge(process)
        .merge(hooks)
        .with_state(state)
}

/// Ready or not, and why in a few words: the database's own error (its
/// host, user, database name) goes to the log, not to whoever asks on this
/// public listener.
async fn readyz(State(st): State<AppState>) -> impl IntoResponse {
    match db::ready(&st.pool).await {
        Ok(()) => (StatusCode::OK, "ready".to_owned()),
        Err(e @ db::NotReady::Migrations { .. }) => {
            (StatusCode::SERVICE_UNAVAILABLE, e.to_string())
        }
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "database unreachable (see the relay's log)".to_owned(),
            )
        }
    }
}

async fn metrics(State(st): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        st.metrics.render(),
    )
}

/// A running instance; stops on drop or [`Running::shutdown`].
pub struct Running {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
    tasks: Vec<JoinHandle<()>>,
    state: AppState,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// Why an instance did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    #[error("database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot read the listener's address: {0}")]
    Io(#[from] std::io::Error),
}

/// Migrate, start the upstream and serve on `listener` in the background.
///
/// # Errors
/// [`StartError`]: the upstream could not start (a missing credential names
/// its variable), or the migrations failed.
pub async fn start(
    pool: PgPool,
    listener: tokio::net::TcpListener,
    upstream: &UpstreamConfig,
    settings: Settings,
) -> Result<Running, StartError> {
    db::migrate(&pool).await?;
    let addr = listener.local_addr()?;
    let upstream = Upstream::start(upstream, &settings.public_url.webhook_url()).await?;
    let (stop, stop_rx) = watch::channel(false);
    let state = AppState {
        pool: pool.clone(),
        upstream: Arc::new(upstream),
        hub: Hub::default(),
        ingest: webhook::Ingest::start(pool.clone()),
        metrics: Arc::new(Metrics::default()),
        callback_url: settings.public_url.callback_url(),
        settings: Arc::new(settings),
        stop: stop_rx.clone(),
    };
    let tasks = vec![
        tokio::spawn(hub::listen(
            pool.clone(),
            state.hub.clone(),
            stop_rx.clone(),
        )),
        tokio::spawn(purge::every(
            pool,
            state.settings.purge,
            state.settings.purge_every,
            stop_rx.clone(),
        )),
    ];
    let app = router(state.clone());
    let mut rx = stop_rx;
    let server = tokio::spawn(async move {
        let r = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = rx.wait_for(|s| *s).await;
            })
            .await;
        if let Err(e) = r {
            tracing::error!(error = %e, "relay server stopped");
        }
    });
    tracing::info!(%addr, public_url = %state.settings.public_url, "relay listening");
    Ok(Running {
        addr,
        stop,
        server: Some(server),
        tasks,
        state,
    })
}

impl Running {
    /// The bound address.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// This instance's counters.
    #[must_use]
    pub fn metrics(&self) -> &Metrics {
        &self.state.metrics
    }

    /// The upstream's webhook signing key (tests sign their own webhooks).
    #[must_use]
    pub fn signing_key(&self) -> &Secret {
        &self.state.upstream.signing_key
    }

    /// The upstream API root (the embedded sandbox's address in sandbox mode).
    #[must_use]
    pub fn upstream_base_url(&self) -> &str {
        self.state.upstream.client.base_url()
    }

    /// Wait for a stop signal (Ctrl-C or SIGTERM) then shut down.
    pub async fn until_signal(self) {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("SIGTERM handler");
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("stopping");
        self.shutdown().await;
    }

    /// Stop: long polls answer, requests in flight finish, tasks end.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(s) = self.server.take() {
            let _ = s.await;
        }
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
