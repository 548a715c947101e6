//! Shared application state handed to commands.

use kyc_kiosk::config::Config;
use kyc_kiosk::session::{Kiosk, Screen, View};
use kyc_kiosk::staff::Console;
use tokio::sync::watch;

/// What the commands need. Secrets stay inside `config`, `kiosk` and
/// `staff`, in Rust; no command ever returns them.
pub struct AppState {
    pub config: Config,
    pub kiosk: Kiosk,
    /// The session view with a version number that increases on every change,
    /// for the UI's long poll.
    pub views: watch::Receiver<(u64, View)>,
    /// `ipc` or `scheme` (see `preview_scheme`).
    pub preview_transport: &'static str,
    /// The staff functions, the settings in effect and the UI language.
    pub staff: Console,
}

impl AppState {
    /// Wraps a started kiosk and begins numbering its views.
    pub fn new(
        config: Config,
        kiosk: Kiosk,
        preview_transport: &'static str,
        staff: Console,
    ) -> Self {
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
        Self {
            config,
            kiosk,
            views,
            preview_transport,
            staff,
        }
    }

    /// The current UI language.
    pub fn language(&self) -> String {
        self.staff.language()
    }

    /// The session's current screen (staff functions wait for `Start`).
    pub fn screen(&self) -> Screen {
        self.kiosk.handle().view().screen
    }
}
