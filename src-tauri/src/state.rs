//! Shared application state handed to commands: the running kiosk, or why it
//! did not start (the window then shows a start-up error screen).

use kyc_kiosk::config::Config;
use kyc_kiosk::session::{Kiosk, Screen, View};
use kyc_kiosk::staff::Console;
use tokio::sync::watch;

use crate::dto::CommandError;

/// What the commands need. Secrets stay inside `config`, the kiosk and
/// `staff`, in Rust; no command ever returns them.
pub struct AppState {
    /// The configuration in effect; after a configuration error, the
    /// defaults with the PIN hash and kiosk mode as far as they were read.
    pub config: Config,
    started: Result<Started, CommandError>,
    /// `ipc` or `scheme` (see `preview_scheme`).
    pub preview_transport: &'static str,
    /// The staff functions, the settings in effect and the UI language.
    pub staff: Console,
}

/// A kiosk that started, with its numbered views.
struct Started {
    kiosk: Kiosk,
    /// The session view with a version number that increases on every
    /// change, for the UI's long poll.
    views: watch::Receiver<(u64, View)>,
}

impl AppState {
    /// Wraps a started kiosk and begins numbering its views, or keeps why
    /// it did not start.
    pub fn new(
        config: Config,
        kiosk: Result<Kiosk, CommandError>,
        preview_transport: &'static str,
        staff: Console,
    ) -> Self {
        let started = kiosk.map(|kiosk| {
            let mut source = kiosk.handle().subscribe();
            let first = source.borrow_and_update().clone();
            let (tx, views) = watch::channel((1, first));
            tauri::async_runtime::spawn(async move {
                let mut n = 1u64;
                while source.changed().await.is_ok() {
                    n += 1;
                    let v = source.borrow_and_update().clone();
                    if tx.send((n, v)).is_err() {
                        break;
                    }
                }
            });
            Started { kiosk, views }
        });
        Self {
            config,
            started,
            preview_transport,
            staff,
        }
    }

    /// The running kiosk, or the start-up error for commands that need it.
    pub fn kiosk(&self) -> Result<&Kiosk, CommandError> {
        self.started
            .as_ref()
            .map(|s| &s.kiosk)
            .map_err(Clone::clone)
    }

    /// The numbered views, or the start-up error.
    pub fn views(&self) -> Result<watch::Receiver<(u64, View)>, CommandError> {
        self.started
            .as_ref()
            .map(|s| s.views.clone())
            .map_err(Clone::clone)
    }

    /// Why the kiosk did not start, when it did not.
    pub fn startup_error(&self) -> Option<&CommandError> {
        self.started.as_ref().err()
    }

    /// The current UI language.
    pub fn language(&self) -> String {
        self.staff.language()
    }

    /// The session's current screen (staff functions wait for `Start`). On
    /// the start-up error screen no session exists: between customers.
    pub fn screen(&self) -> Screen {
        self.started
            .as_ref()
            .map_or(Screen::Start, |s| s.kiosk.handle().view().screen)
    }
}
