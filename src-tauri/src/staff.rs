//! Staff commands: the PIN, the settings screen, API secrets, restart and
//! exit, each a line or two over the core's [`staff::Console`], which decides
//! (between customers only, every action but unlocking behind the PIN, in
//! Rust: the webview cannot skip it); and the one staff action inside a
//! customer's session, accepting a photo the framing check refused, with
//! the PIN given for it (the session machine decides whether there is one).
//! The shell adds what the window looks like and carries out leaving and
//! restarting. No command ever returns a secret; for secrets only "stored or
//! not" comes back.

use serde::Serialize;
use tauri::{AppHandle, Manager, State};

use kyc_kiosk::config::Secret;
use kyc_kiosk::session::Input;
use kyc_kiosk::staff::{self, SecretsForm, SettingsForm};

use crate::dto::CommandError;
use crate::state::AppState;

type CmdResult<T> = Result<T, CommandError>;

impl From<staff::Error> for CommandError {
    fn from(e: staff::Error) -> Self {
        Self {
            code: e.code(),
            message: e.to_string(),
            field: e.field().map(str::to_owned),
        }
    }
}

/// The staff panel's state: the console's, and the window as it is now
/// (kiosk mode: fullscreen, no decorations).
#[derive(Debug, Serialize)]
pub struct StaffStatus {
    #[serde(flatten)]
    pub console: staff::Status,
    pub fullscreen: bool,
    pub decorated: bool,
}

/// The console's answer with the window's looks added; on the start-up
/// error screen no backend runs.
fn answer(app: &AppHandle, state: &AppState, mut console: staff::Status) -> StaffStatus {
    if state.startup_error().is_some() {
        console.backend = "none";
    }
    let (fullscreen, decorated) = app.get_webview_window("main").map_or((false, true), |w| {
        (
            w.is_fullscreen().unwrap_or(false),
            w.is_decorated().unwrap_or(true),
        )
    });
    StaffStatus {
        console,
        fullscreen,
        decorated,
    }
}

/// The gate's state (and, while open, the settings).
#[tauri::command]
pub fn staff_status(app: AppHandle, state: State<'_, AppState>) -> StaffStatus {
    answer(&app, &state, state.staff.status())
}

/// Open staff functions with the PIN (checked on a blocking thread: async,
/// so neither the window's thread nor the runtime waits for Argon2).
#[tauri::command]
pub async fn staff_unlock(
    app: AppHandle,
    state: State<'_, AppState>,
    pin: Secret,
) -> CmdResult<StaffStatus> {
    Ok(answer(
        &app,
        &state,
        state.staff.unlock(state.screen(), &pin).await?,
    ))
}

/// Close staff functions.
#[tauri::command]
pub fn staff_lock(app: AppHandle, state: State<'_, AppState>) -> StaffStatus {
    state.staff.lock();
    answer(&app, &state, state.staff.status())
}

/// Set the PIN: the first one at installation, later ones behind the gate
/// (hashed on a blocking thread, as for unlocking).
#[tauri::command]
pub async fn staff_set_pin(
    app: AppHandle,
    state: State<'_, AppState>,
    pin: Secret,
) -> CmdResult<StaffStatus> {
    // Not on the start-up error screen: a PIN is provisioned, not set there.
    state.kiosk()?;
    Ok(answer(
        &app,
        &state,
        state.staff.set_pin(state.screen(), &pin).await?,
    ))
}

/// Save the settings screen. The form defaults and the language apply at
/// once; cameras, idle timeout and kiosk mode at the next start.
#[tauri::command]
pub fn staff_save(
    app: AppHandle,
    state: State<'_, AppState>,
    settings: SettingsForm,
) -> CmdResult<StaffStatus> {
    // The settings shown on the start-up error screen are defaults, not the
    // file's: saving them would overwrite it.
    state.kiosk()?;
    Ok(answer(
        &app,
        &state,
        state.staff.save(state.screen(), settings)?,
    ))
}

/// Store API secrets in the keyring (used from the next start), or clear
/// them; also on the start-up error screen, where missing credentials are
/// the usual cause.
#[tauri::command]
pub fn staff_set_secrets(
    app: AppHandle,
    state: State<'_, AppState>,
    secrets: SecretsForm,
) -> CmdResult<StaffStatus> {
    let status = state.staff.set_secrets(state.screen(), secrets)?;
    Ok(answer(&app, &state, status))
}

/// Leave the kiosk app (the only way out in kiosk mode).
#[tauri::command]
pub fn staff_exit(app: AppHandle, state: State<'_, AppState>) -> CmdResult<()> {
    state.staff.authorize(state.screen(), "staff exit")?;
    app.exit(0);
    Ok(())
}

/// Restart the app so that saved settings and secrets take effect.
#[tauri::command]
pub fn staff_restart(app: AppHandle, state: State<'_, AppState>) -> CmdResult<()> {
    state.staff.authorize(state.screen(), "staff restart")?;
    app.restart()
}

/// Accept, as it was taken, the photo the framing check just refused (the
/// override staff give when the detectors miss a document or a face that
/// is there). The PIN is checked first, as an unlock is (wrong ones count
/// towards the pause); then the session takes the held photo, or refuses
/// when there is none (the customer took another, or it failed an image
/// check).
#[tauri::command]
pub async fn staff_accept_photo(state: State<'_, AppState>, pin: Secret) -> CmdResult<()> {
    let kiosk = state.kiosk()?;
    state
        .staff
        .in_session(Some(&pin), kiosk.handle().send(Input::Override))
        .await??;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The UI reads these keys: the window's looks sit beside the console's
    /// fields, as one object.
    #[test]
    fn status_is_one_flat_object_with_the_window_facts() {
        let s = StaffStatus {
            console: staff::Status {
                pin_set: true,
                unlocked: false,
                locked_secs: Some(3),
                settings: None,
                cameras: vec![],
                secrets: None,
                secret_store: "memory",
                keyring_error: None,
                backend: "sandbox",
                restart_needed: true,
            },
            fullscreen: true,
            decorated: false,
        };
        let v = serde_json::to_value(&s).unwrap();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "backend",
                "cameras",
                "decorated",
                "fullscreen",
                "keyringError",
                "lockedSecs",
                "pinSet",
                "restartNeeded",
                "secretStore",
                "secrets",
                "settings",
                "unlocked"
            ]
        );
        assert_eq!(v["fullscreen"], true);
        assert_eq!(v["lockedSecs"], 3);
    }
}
