//! The kiosk runtime: starts the backend (the embedded sandbox when the
//! configuration chose it), the webhook receiver, the cameras and the
//! session driver, and runs auto-capture. With a back-office relay
//! configured there is neither sandbox nor webhook receiver: everything goes
//! through the relay, whose link is checked in the background. The desktop
//! shell and the CLI's
//! `demo`/`handoff`/`verify` all start one of these and only talk to its
//! [`Handle`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::autocapture::{fresh, AutoCapture, AutoConfig, AutoState};
use super::driver::{Driver, Handle};
use super::machine::{Input, InputKind, Settings};
use super::ports::{CameraMode, LivePorts, LiveQuality, Upstream};
use super::relayed::{Link, Relayed};
use super::types::Side;
use super::view::Screen;
use crate::camera::demo;
use crate::config::{Backend, Config};
use crate::error::ErrorCode;
use crate::idenfy::{webhook, Client};
use crate::sandbox::{Sandbox, SandboxConfig, SandboxHandle};

/// Which camera to use.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CameraChoice {
    /// Real cameras when any is connected; otherwise the demo camera with the
    /// sandbox, and a clear "no camera" error with a live backend.
    #[default]
    Auto,
    /// Always the demo camera.
    Demo,
    /// Always real cameras.
    Native,
    /// No camera: each side is a given photo (`kyc-kiosk verify`).
    Stills(Arc<std::collections::HashMap<Side, Vec<u8>>>),
}

/// How to start the kiosk; the defaults suit the desktop app.
#[derive(Debug, Clone)]
pub struct KioskOptions {
    pub camera: CameraChoice,
    /// Where the demo pictures are (default: `assets/demo`).
    pub demo_dir: Option<PathBuf>,
    /// Timing of the flow; default from the configuration.
    pub settings: Option<Settings>,
    /// Where to receive webhooks; default `config.webhook.listen`. Port 0
    /// picks a free one (used with the embedded sandbox).
    pub webhook_listen: Option<SocketAddr>,
    /// The embedded sandbox's manual review (an automatic, then a manual result).
    pub sandbox_manual_review: bool,
    /// Where the embedded sandbox listens (default: a free loopback port).
    pub sandbox_listen: Option<SocketAddr>,
    /// Verification credits of the embedded sandbox (default: unlimited).
    pub sandbox_credits: Option<u32>,
    /// Fault injection: the embedded sandbox's first N `/process` calls hang.
    pub sandbox_stall_process: u32,
    /// Whole-request timeout of the API client (default: the client's).
    pub api_timeout: Option<Duration>,
    /// Take photos by themselves when the preview is good and steady.
    pub auto_capture: Option<AutoConfig>,
    /// Moving, blurred frames the demo camera shows after each scene change.
    pub demo_settle_frames: Option<u32>,
}

impl Default for KioskOptions {
    fn default() -> Self {
        Self {
            camera: CameraChoice::Auto,
            demo_dir: None,
            settings: None,
            webhook_listen: None,
            sandbox_manual_review: false,
            sandbox_listen: None,
            sandbox_credits: None,
            sandbox_stall_process: 0,
            api_timeout: None,
            auto_capture: Some(AutoConfig::default()),
            demo_settle_frames: None,
        }
    }
}

/// One preview frame for a screen.
#[derive(Debug, Clone)]
pub struct PreviewPacket {
    pub seq: u64,
    pub captured: Instant,
    pub width: u32,
    pub height: u32,
    pub jpeg: Arc<Vec<u8>>,
    pub quality: Option<LiveQuality>,
    /// Whole seconds before auto-capture fires, while it counts down.
    pub auto_capture_in: Option<u32>,
}

/// Why the kiosk could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen for webhooks on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the embedded sandbox: {0}")]
    Sandbox(#[from] crate::sandbox::Error),
    #[error("API client: {0}")]
    Client(#[from] crate::idenfy::Error),
    #[error("a live backend needs IDENFY_SIGNING_KEY (api.signing_key) to accept results")]
    NoSigningKey,
    #[error("demo camera: {0}")]
    Demo(#[from] crate::camera::Error),
    #[error("back office: {0}")]
    Relay(#[from] crate::backoffice::Error),
}

impl StartError {
    /// The stable code a UI or script branches on.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Listen { .. } | Self::Sandbox(_) => ErrorCode::Network,
            Self::Client(e) => e.code(),
            Self::NoSigningKey => ErrorCode::Config,
            Self::Demo(e) => e.code(),
            Self::Relay(e) => e.code(),
        }
    }
}

/// A running kiosk. Dropping it stops the driver, the sandbox and the
/// webhook receiver.
pub struct Kiosk {
    handle: Handle,
    ports: Arc<LivePorts>,
    sandbox: Option<SandboxHandle>,
    webhook: Option<webhook::Server>,
    auto: Arc<Mutex<Option<u32>>>,
    /// The relay's link, when one is configured.
    link: Option<watch::Receiver<Link>>,
    tasks: Vec<JoinHandle<()>>,
}

/// How often the relay's link is checked for the screen.
const LINK_CHECK_PERIOD: Duration = Duration::from_secs(30);
/// Whole-request timeout of one link check.
const LINK_CHECK_TIMEOUT: Duration = Duration::from_secs(10);

impl Kiosk {
    /// Start everything. Must be called inside a Tokio runtime.
    ///
    /// # Errors
    /// [`StartError`] when the webhook port is taken, the sandbox or the
    /// client cannot start, a live backend has no signing key, or the demo
    /// pictures are missing.
    pub async fn start(config: &Config, opts: KioskOptions) -> Result<Kiosk, StartError> {
        if let Some(relay) = &config.relay {
            return Self::start_relayed(config, relay, opts).await;
        }
        let results = webhook::ResultStore::new();
        let sandboxed = config.backend.is_sandbox();
        let listen = opts.webhook_listen.unwrap_or(if sandboxed {
            // The embedded sandbox calls us directly: any free loopback port.
            SocketAddr::from(([127, 0, 0, 1], 0))
        } else {
            config.webhook.listen
        });
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|source| StartError::Listen {
                addr: listen,
                source,
            })?;
        let hook_addr = listener.local_addr().map_err(|source| StartError::Listen {
            addr: listen,
            source,
        })?;

        let (client, signing_key, sandbox, callback_url) = match &config.backend {
            Backend::Sandbox => {
                let sb = Sandbox::start(SandboxConfig {
                    listen: opts
                        .sandbox_listen
                        .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 0))),
                    webhook_url: Some(format!("http://{hook_addr}/webhooks/idenfy")),
                    manual_review: opts.sandbox_manual_review,
                    credits: opts.sandbox_credits,
                    stall_process: opts.sandbox_stall_process,
                    ..SandboxConfig::default()
                })
                .await?;
                let mut b = Client::builder()
                    .base_url(sb.base_url())
                    .credentials(sb.api_key().clone(), sb.api_secret().clone());
                if let Some(t) = opts.api_timeout {
                    b = b.timeout(t);
                }
                let client = b.build()?;
                let key = sb.signing_key().clone();
                tracing::info!(url = %sb.base_url(), "embedded sandbox started");
                (client, key, Some(sb), None)
            }
            Backend::Live {
                base_url,
                api_key,
                api_secret,
            } => {
                let key = config.signing_key.clone().ok_or(StartError::NoSigningKey)?;
                let mut b = Client::builder()
                    .base_url(base_url.clone())
                    .credentials(api_key.clone(), api_secret.clone());
                if let Some(t) = opts.api_timeout {
                    b = b.timeout(t);
                }
                let client = b.build()?;
                (client, key, None, config.webhook.callback_url.clone())
            }
        };
        let server =
            webhook::serve(listener, Some(signing_key), results.clone()).map_err(|source| {
                StartError::Listen {
                    addr: listen,
                    source,
                }
            })?;

        let mode = camera_mode(
            opts.camera.clone(),
            sandboxed,
            config,
            opts.demo_dir.as_deref(),
        )?;
        if let (CameraMode::Demo { control, .. }, Some(n)) = (&mode, opts.demo_settle_frames) {
            control.set_settle_frames(n);
        }
        let ports = Arc::new(LivePorts::new(client, results, callback_url, mode));
        let mut kiosk = Self::run(config, ports, &opts);
        kiosk.sandbox = sandbox;
        kiosk.webhook = Some(server);
        Ok(kiosk)
    }

    /// Start over a relay: no sandbox, no webhook receiver, no iDenfy
    /// credential. An unreachable relay does not stop the start: the screen
    /// says why, and the flow's calls fail as network errors until it answers.
    async fn start_relayed(
        config: &Config,
        relay: &crate::config::RelayConfig,
        opts: KioskOptions,
    ) -> Result<Kiosk, StartError> {
        let mut client = crate::backoffice::Client::new(&relay.url, relay.key.clone())?;
        if let Some(t) = opts.api_timeout {
            client = client.with_timeout(t);
        }
        let mode = camera_mode(
            opts.camera.clone(),
            // The demo camera is for the sandbox only.
            false,
            config,
            opts.demo_dir.as_deref(),
        )?;
        if let (CameraMode::Demo { control, .. }, Some(n)) = (&mode, opts.demo_settle_frames) {
            control.set_settle_frames(n);
        }
        // The link check has a short timeout of its own: "not reachable"
        // should not wait for the flow's 90 s.
        let checker = Relayed::new(client.clone().with_timeout(LINK_CHECK_TIMEOUT));
        let ports = Arc::new(LivePorts::with_upstream(
            Upstream::Relay(Relayed::new(client)),
            mode,
        ));
        let mut kiosk = Self::run(config, ports, &opts);
        // Checked in the background, at once and then periodically: a relay
        // that does not answer never holds up the start (the window opens,
        // the screen says "checking", then why not).
        let (tx, rx) = watch::channel(Link::Checking);
        let url = relay.url.clone();
        kiosk.tasks.push(tokio::spawn(async move {
            let mut last: Option<Link> = None;
            loop {
                let link = checker.link().await;
                if last.as_ref() != Some(&link) {
                    tracing::info!(link = %link.describe(), url = %url, "back office");
                }
                last = Some(link.clone());
                if tx.send(link).is_err() {
                    return;
                }
                tokio::time::sleep(LINK_CHECK_PERIOD).await;
            }
        }));
        kiosk.link = Some(rx);
        Ok(kiosk)
    }

    /// The driver and the capture loop over `ports`.
    fn run(config: &Config, ports: Arc<LivePorts>, opts: &KioskOptions) -> Kiosk {
        let settings = opts
            .settings
            .unwrap_or_else(|| Settings::from_kiosk(&config.kiosk));
        let (driver, handle) = Driver::new(ports.clone(), settings);
        let mut tasks = vec![tokio::spawn(driver.run())];
        let auto = Arc::new(Mutex::new(None));
        tasks.push(tokio::spawn(capture_loop(
            handle.clone(),
            ports.clone(),
            auto.clone(),
            opts.auto_capture,
        )));
        Kiosk {
            handle,
            ports,
            sandbox: None,
            webhook: None,
            auto,
            link: None,
            tasks,
        }
    }

    /// The back office's link ("connected as NAME" or why not), when a relay
    /// is configured; checked in the background at start and every 30 s
    /// ([`Link::Checking`] until the first answer). Never waits.
    #[must_use]
    pub fn back_office(&self) -> Option<Link> {
        self.link.as_ref().map(|rx| rx.borrow().clone())
    }

    /// As [`Kiosk::back_office`], after the first check has ended (at most
    /// the check's own timeout): for the CLI's first line.
    pub async fn back_office_checked(&self) -> Option<Link> {
        let mut rx = self.link.clone()?;
        let checked = rx
            .wait_for(|l| *l != Link::Checking)
            .await
            .map(|l| l.clone());
        Some(checked.unwrap_or_else(|_| rx.borrow().clone()))
    }

    /// How the UI and the CLI drive the flow.
    #[must_use]
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// True when the embedded sandbox is the backend (shown as SANDBOX).
    #[must_use]
    pub fn is_sandbox(&self) -> bool {
        self.sandbox.is_some()
    }

    /// The embedded sandbox, when it is the backend (tests act as the phone through it).
    #[must_use]
    pub fn sandbox(&self) -> Option<&SandboxHandle> {
        self.sandbox.as_ref()
    }

    /// The demo camera's controls (what it shows, its cable), when the demo
    /// camera is in use.
    #[must_use]
    pub fn demo_camera(&self) -> Option<&crate::camera::demo::DemoControl> {
        match self.ports.mode() {
            CameraMode::Demo { control, .. } => Some(control),
            _ => None,
        }
    }

    /// One `/status` question for `scan_ref` (for a result that never came);
    /// the overall status as iDenfy spells it.
    ///
    /// # Errors
    /// Why iDenfy (or the relay) cannot be asked.
    pub async fn status_now(&self, scan_ref: &str) -> Result<String, String> {
        self.ports.status_now(scan_ref).await
    }

    /// The address receiving webhooks.
    #[must_use]
    pub fn webhook_addr(&self) -> Option<SocketAddr> {
        self.webhook.as_ref().map(webhook::Server::local_addr)
    }

    /// Starts a session. The machine checks the form against the token
    /// request's documented rules first, so a bad field is reported at once
    /// and named.
    ///
    /// # Errors
    /// [`super::Error::InvalidInput`] naming the field, or the machine's refusal.
    pub async fn start_session(&self, req: super::StartRequest) -> Result<(), super::Error> {
        self.handle.send(Input::Start(req)).await
    }

    /// The newest preview frame after `after`, waiting up to `timeout`.
    pub async fn wait_preview(&self, after: u64, timeout: Duration) -> Option<PreviewPacket> {
        let ports = self.ports.clone();
        let auto = *self.auto.lock().unwrap_or_else(PoisonError::into_inner);
        let p = tokio::task::spawn_blocking(move || ports.wait_preview(after, timeout))
            .await
            .ok()??;
        Some(PreviewPacket {
            seq: p.seq,
            captured: p.captured,
            width: p.width,
            height: p.height,
            jpeg: Arc::new(p.jpeg.clone()),
            quality: p.verdict.as_ref().map(|v| v.analysis),
            auto_capture_in: auto,
        })
    }

    /// Stop everything (also done on drop).
    pub async fn shutdown(mut self) {
        for t in self.tasks.drain(..) {
            t.abort();
        }
        if let Some(s) = self.webhook.take() {
            s.shutdown().await;
        }
        if let Some(s) = self.sandbox.take() {
            s.shutdown().await;
        }
    }
}

impl Drop for Kiosk {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn camera_mode(
    choice: CameraChoice,
    sandboxed: bool,
    config: &Config,
    demo_dir: Option<&std::path::Path>,
) -> Result<CameraMode, crate::camera::Error> {
    let native = || CameraMode::Native {
        roles: config.cameras.clone(),
    };
    let demo = || -> Result<CameraMode, crate::camera::Error> {
        let dir = demo_dir.map_or_else(demo::default_dir, std::path::Path::to_path_buf);
        Ok(CameraMode::Demo {
            frames: demo::DemoFrames::load(&dir)?,
            control: demo::DemoControl::default(),
        })
    };
    match choice {
        CameraChoice::Stills(files) => Ok(CameraMode::Stills(files)),
        CameraChoice::Demo => demo(),
        CameraChoice::Native => Ok(native()),
        CameraChoice::Auto => {
            let any = crate::camera::devices::list_devices().is_ok_and(|l| !l.devices.is_empty());
            if any || !sandboxed {
                Ok(native())
            } else {
                tracing::info!("no camera connected: using the demo camera");
                demo()
            }
        }
    }
}

/// Follows the capture screen: points the demo camera at the side asked
/// for, and fires auto-capture after a steady, good preview.
async fn capture_loop(
    handle: Handle,
    ports: Arc<LivePorts>,
    shown: Arc<Mutex<Option<u32>>>,
    auto: Option<AutoConfig>,
) {
    let t0 = Instant::now();
    let mut tracker = AutoCapture::new(auto.unwrap_or_default());
    let mut seq = 0u64;
    let mut current: Option<Side> = None;
    loop {
        let Ok(view) = handle.wait_for(|v| v.screen == Screen::Capture).await else {
            return;
        };
        if view.capturing {
            tracker.reset();
        }
        if view.side != current {
            current = view.side;
            tracker.new_side();
            // The customer turns the card (or faces the camera): the demo
            // camera shows what is asked for, unsteady for a moment.
            if let Some(side) = view.side {
                ports.show_side(side);
            }
            if let (Some(side), CameraMode::Demo { control, .. }) = (view.side, ports.mode()) {
                let scene = match side {
                    Side::Front => Some(demo::DemoScene::Front),
                    Side::Back => Some(demo::DemoScene::Back),
                    Side::UtilityBill => Some(demo::DemoScene::Bill),
                    Side::Face => Some(demo::DemoScene::Face),
                };
                if let Some(scene) = scene {
                    control.set_scene(scene);
                }
            }
        }
        let p2 = ports.clone();
        let after = seq;
        let preview =
            tokio::task::spawn_blocking(move || p2.wait_preview(after, Duration::from_millis(200)))
                .await
                .ok()
                .flatten();
        let Some(p) = preview else {
            // No camera open yet (or it is restarting): do not spin.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        seq = p.seq;
        if auto.is_none() {
            continue;
        }
        let view = handle.view();
        let can = view.screen == Screen::Capture
            && view.side == current
            && view.camera_ready
            && !view.capturing
            && view.allowed.contains(&InputKind::Capture);
        let now = u64::try_from(t0.elapsed().as_millis()).unwrap_or(u64::MAX);
        // A verdict too far behind the picture is not trusted (see
        // `autocapture`): the run starts over.
        let verdict = p
            .verdict
            .as_deref()
            .filter(|v| fresh(p.captured.saturating_duration_since(v.captured)));
        let (good, outline) =
            verdict.map_or((false, None), |v| (v.analysis.ok, v.analysis.outline));
        let state = tracker.observe(can && good, outline, now);
        let secs = match state {
            AutoState::Counting { secs_left } => Some(secs_left),
            _ => None,
        };
        *shown.lock().unwrap_or_else(PoisonError::into_inner) = secs;
        if state == AutoState::Fire {
            tracing::debug!("auto-capture");
            if handle.send(Input::Capture).await.is_err() {
                tracker.reset();
            }
        }
    }
}
