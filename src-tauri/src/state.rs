//! Shared application state handed to commands.

use std::sync::Mutex;

use kyc_kiosk::config::Config;
use kyc_kiosk::session::{Kiosk, View};
use tokio::sync::watch;

/// What the commands need. Secrets stay inside `config` and `kiosk`, in
/// Rust; no command ever returns them.
pub struct AppState {
    pub config: Config,
    pub kiosk: Kiosk,
    /// The UI language, also sent as the token's `locale`.
    pub language: Mutex<String>,
    /// The session view with a version number that increases on every change,
    /// for the UI's long poll.
    pub views: watch::Receiver<(u64, View)>,
    /// `ipc` or `scheme` (see `preview_scheme`).
    pub preview_transport: &'static str,
    /// The PIN gate, the settings file and the secret store.
    pub staff: Mutex<crate::staff::Staff>,
}

impl AppState {
    /// Wraps a started kiosk and begins numbering its views.
    pub fn new(
        config: Config,
        kiosk: Kiosk,
        preview_transport: &'static str,
        staff: crate::staff::Staff,
    ) -> Self {
        let language = config.kiosk.language.clone();
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
            language: Mutex::new(language),
            views,
            preview_transport,
            staff: Mutex::new(staff),
        }
    }

    /// The current UI language.
    pub fn language(&self) -> String {
        self.language
            .lock()
            .map(|l| l.clone())
            .unwrap_or_else(|_| "en".into())
    }
}
