//! Tauri commands: thin adapters from the webview to the core library.

use tauri::State;

use crate::dto::AppInfo;
use crate::state::AppState;

/// Facts the start screen needs (version, sandbox banner, form defaults).
#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> AppInfo {
    let c = &state.config;
    AppInfo {
        version: env!("CARGO_PKG_VERSION"),
        sandbox: c.backend.is_sandbox(),
        language: c.kiosk.language.clone(),
        default_country: c.kiosk.default_country.clone(),
        documents: c.kiosk.documents.clone(),
    }
}
