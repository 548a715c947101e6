//! Staff commands: the PIN, the settings screen, API secrets, restart and
//! exit. Every action but reading the gate's state and unlocking it passes
//! the core's [`Gate`] first, in Rust: the webview cannot skip the PIN. No
//! command ever returns a secret; for secrets only "stored or not" comes back.

use std::path::PathBuf;
use std::sync::{MutexGuard, PoisonError};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager, State};

use kyc_kiosk::config::{CameraRoles, KioskConfig, Secret};
use kyc_kiosk::session::Screen;
use kyc_kiosk::staff::{self, secrets, Gate, SecretName, SecretStore, StaffFile};
use kyc_kiosk::ErrorCode;

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

/// What the staff functions hold.
pub struct Staff {
    epoch: Instant,
    gate: Gate,
    file: StaffFile,
    /// Where `file` is saved (`None` when the OS has no config directory).
    path: Option<PathBuf>,
    /// The settings in effect (the form defaults follow saves at once).
    pub kiosk: KioskConfig,
    pub cameras: CameraRoles,
    /// What the kiosk started with: a change here needs a restart.
    started: (KioskConfig, CameraRoles),
    store: Box<dyn SecretStore>,
    /// Why the keyring could not be read at start, if it could not.
    keyring_error: Option<String>,
    secrets_changed: bool,
}

impl Staff {
    pub fn new(
        file: StaffFile,
        path: Option<PathBuf>,
        config: &kyc_kiosk::config::Config,
        store: Box<dyn SecretStore>,
        keyring_error: Option<String>,
    ) -> Self {
        Self {
            epoch: Instant::now(),
            gate: Gate::new(config.kiosk.staff_pin_hash.clone()),
            file,
            path,
            kiosk: config.kiosk.clone(),
            cameras: config.cameras.clone(),
            started: (config.kiosk.clone(), config.cameras.clone()),
            store,
            keyring_error,
            secrets_changed: false,
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Closes staff functions (a customer session is starting).
    pub fn lock(&mut self) {
        self.gate.lock();
    }

    fn check(&mut self) -> CmdResult<()> {
        let now = self.now();
        self.gate.check(now).map_err(CommandError::from)
    }

    fn restart_needed(&self) -> bool {
        let (k, c) = &self.started;
        self.secrets_changed
            || k.idle_timeout != self.kiosk.idle_timeout
            || k.kiosk_mode != self.kiosk.kiosk_mode
            || c.document != self.cameras.document
            || c.selfie != self.cameras.selfie
    }

    fn save_file(&self, file: &StaffFile) -> CmdResult<()> {
        let path = self.path.as_deref().ok_or_else(|| {
            CommandError::new(
                ErrorCode::Config,
                "this system has no configuration directory; set KYC_KIOSK_CONFIG",
            )
        })?;
        file.save(path).map_err(CommandError::from)
    }
}

/// The staff screen's editable settings (no secrets, no PIN).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingsDto {
    pub document_camera: Option<String>,
    pub selfie_camera: Option<String>,
    pub default_country: Option<String>,
    pub documents: Vec<String>,
    pub language: String,
    pub idle_timeout_secs: u64,
    pub kiosk_mode: bool,
}

/// Which secrets are stored: flags only, never values.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretFlags {
    pub api_key: bool,
    pub api_secret: bool,
    pub signing_key: bool,
}

/// The staff panel's state. Settings, cameras and secret flags only while
/// the gate is open.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StaffStatus {
    pub pin_set: bool,
    pub unlocked: bool,
    pub locked_secs: Option<u64>,
    pub settings: Option<SettingsDto>,
    pub cameras: Vec<String>,
    pub secrets: Option<SecretFlags>,
    /// Where secrets are kept ("OS keyring", ...).
    pub secret_store: &'static str,
    /// Why the keyring cannot be used, when it cannot.
    pub keyring_error: Option<String>,
    /// `sandbox` or `live`: the backend the kiosk runs against now.
    pub backend: &'static str,
    /// The window as it is now (kiosk mode: fullscreen, no decorations).
    pub fullscreen: bool,
    pub decorated: bool,
    /// Saved changes that apply at the next start.
    pub restart_needed: bool,
}

/// The secrets form: only the fields typed in are stored.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretsForm {
    pub api_key: Option<Secret>,
    pub api_secret: Option<Secret>,
    pub signing_key: Option<Secret>,
    /// Remove all three instead (back to the sandbox at the next start).
    #[serde(default)]
    pub clear: bool,
}

fn staff(state: &AppState) -> MutexGuard<'_, Staff> {
    state.staff.lock().unwrap_or_else(PoisonError::into_inner)
}

fn status(app: &AppHandle, state: &AppState) -> StaffStatus {
    let s = staff(state);
    let now = s.now();
    let g = s.gate.state(now);
    let (fullscreen, decorated) = app.get_webview_window("main").map_or((false, true), |w| {
        (
            w.is_fullscreen().unwrap_or(false),
            w.is_decorated().unwrap_or(true),
        )
    });
    let mut keyring_error = s.keyring_error.clone();
    let (settings, cameras, secrets) = if g.unlocked {
        let settings = SettingsDto {
            document_camera: s.cameras.document.clone(),
            selfie_camera: s.cameras.selfie.clone(),
            default_country: s.kiosk.default_country.clone(),
            documents: s
                .kiosk
                .documents
                .iter()
                .map(|d| d.as_str().into())
                .collect(),
            language: state.language(),
            idle_timeout_secs: s.kiosk.idle_timeout.as_secs(),
            kiosk_mode: s.kiosk.kiosk_mode,
        };
        let cameras = kyc_kiosk::camera::devices::list_devices()
            .map(|l| l.devices.into_iter().map(|d| d.name).collect())
            .unwrap_or_default();
        let flags = match secrets::stored(s.store.as_ref()) {
            Ok(f) => {
                let has = |n: SecretName| f.iter().any(|(k, set)| *k == n && *set);
                Some(SecretFlags {
                    api_key: has(SecretName::ApiKey),
                    api_secret: has(SecretName::ApiSecret),
                    signing_key: has(SecretName::SigningKey),
                })
            }
            Err(e) => {
                keyring_error = Some(e.to_string());
                None
            }
        };
        (Some(settings), cameras, flags)
    } else {
        (None, Vec::new(), None)
    };
    let restart_needed = s.restart_needed();
    drop(s);
    StaffStatus {
        pin_set: g.pin_set,
        unlocked: g.unlocked,
        locked_secs: g.locked_secs,
        settings,
        cameras,
        secrets,
        secret_store: staff(state).store.describe(),
        keyring_error,
        backend: if state.kiosk.is_sandbox() {
            "sandbox"
        } else {
            "live"
        },
        fullscreen,
        decorated,
        restart_needed,
    }
}

/// Staff functions only between customers.
fn between_customers(state: &AppState) -> CmdResult<()> {
    if state.kiosk.handle().view().screen == Screen::Start {
        Ok(())
    } else {
        Err(CommandError::new(
            ErrorCode::InvalidState,
            "finish or cancel the customer's session first",
        ))
    }
}

/// Runs a staff action between customers with the gate open (which keeps
/// it open), and answers with the new state.
fn gated(
    app: &AppHandle,
    state: &AppState,
    done: &str,
    act: impl FnOnce(&mut Staff) -> CmdResult<()>,
) -> CmdResult<StaffStatus> {
    between_customers(state)?;
    {
        let mut s = staff(state);
        s.check()?;
        act(&mut s)?;
    }
    tracing::info!("{done}");
    Ok(status(app, state))
}

/// The gate's state (and, while open, the settings).
#[tauri::command]
pub fn staff_status(app: AppHandle, state: State<'_, AppState>) -> StaffStatus {
    status(&app, &state)
}

/// Open staff functions with the PIN.
#[tauri::command]
pub fn staff_unlock(
    app: AppHandle,
    state: State<'_, AppState>,
    pin: Secret,
) -> CmdResult<StaffStatus> {
    between_customers(&state)?;
    {
        let mut s = staff(&state);
        let now = s.now();
        let r = s.gate.unlock(pin.expose(), now);
        if let Err(e) = &r {
            tracing::warn!(code = %e.code(), "staff PIN refused");
        }
        r?;
    }
    tracing::info!("staff functions opened");
    Ok(status(&app, &state))
}

/// Close staff functions.
#[tauri::command]
pub fn staff_lock(app: AppHandle, state: State<'_, AppState>) -> StaffStatus {
    staff(&state).lock();
    status(&app, &state)
}

/// Set the PIN: the first one at installation, later ones behind the gate.
#[tauri::command]
pub fn staff_set_pin(
    app: AppHandle,
    state: State<'_, AppState>,
    pin: Secret,
) -> CmdResult<StaffStatus> {
    between_customers(&state)?;
    {
        let mut s = staff(&state);
        let now = s.now();
        // The gate checks and hashes; if the file cannot be saved, the old
        // PIN stays in force.
        let before = s.gate.clone();
        let hash = s.gate.set_pin(pin.expose(), now)?;
        let mut file = s.file.clone();
        file.kiosk.staff_pin_hash = Some(hash);
        if let Err(e) = s.save_file(&file) {
            s.gate = before;
            return Err(e);
        }
        s.file = file;
    }
    tracing::info!("staff PIN set");
    Ok(status(&app, &state))
}

/// Save the settings screen. The form defaults and the language apply at
/// once; cameras, idle timeout and kiosk mode at the next start.
#[tauri::command]
pub fn staff_save(
    app: AppHandle,
    state: State<'_, AppState>,
    settings: SettingsDto,
) -> CmdResult<StaffStatus> {
    if !crate::commands::has_language(&settings.language) {
        return Err(staff::Error::Invalid {
            field: "language",
            reason: format!("no catalog for `{}`", settings.language),
        }
        .into());
    }
    gated(&app, &state, "staff settings saved", |s| {
        let mut file = s.file.clone();
        let k = &mut file.kiosk;
        k.default_country = settings
            .default_country
            .map(|c| c.trim().to_ascii_uppercase())
            .filter(|c| !c.is_empty());
        k.documents = Some(settings.documents);
        k.language = Some(settings.language.clone());
        k.idle_timeout_secs = Some(settings.idle_timeout_secs);
        k.kiosk_mode = Some(settings.kiosk_mode);
        let blank = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
        file.camera.document = blank(settings.document_camera);
        file.camera.selfie = blank(settings.selfie_camera);
        let cfg = file.validate()?;
        s.save_file(&file)?;
        s.file = file;
        s.kiosk = cfg.kiosk;
        s.cameras = cfg.cameras;
        if let Ok(mut l) = state.language.lock() {
            l.clone_from(&settings.language);
        }
        Ok(())
    })
}

/// Store API secrets in the keyring (used from the next start), or clear them.
#[tauri::command]
pub fn staff_set_secrets(
    app: AppHandle,
    state: State<'_, AppState>,
    secrets: SecretsForm,
) -> CmdResult<StaffStatus> {
    gated(&app, &state, "API secrets changed in the keyring", |s| {
        if secrets.clear {
            for n in SecretName::ALL {
                s.store.delete(n)?;
            }
        } else {
            let given: Vec<(SecretName, Secret)> = [
                (SecretName::ApiKey, secrets.api_key),
                (SecretName::ApiSecret, secrets.api_secret),
                (SecretName::SigningKey, secrets.signing_key),
            ]
            .into_iter()
            .filter_map(|(n, v)| v.filter(|v| !v.is_empty()).map(|v| (n, v)))
            .collect();
            if given.is_empty() {
                return Err(CommandError::new(
                    ErrorCode::InvalidInput,
                    "type at least one value to store",
                ));
            }
            secrets::save(s.store.as_ref(), &given)?;
        }
        s.secrets_changed = true;
        Ok(())
    })
}

/// Leave the kiosk app (the only way out in kiosk mode).
#[tauri::command]
pub fn staff_exit(app: AppHandle, state: State<'_, AppState>) -> CmdResult<()> {
    gated(&app, &state, "staff exit", |_| Ok(()))?;
    app.exit(0);
    Ok(())
}

/// Restart the app so that saved settings and secrets take effect.
#[tauri::command]
pub fn staff_restart(app: AppHandle, state: State<'_, AppState>) -> CmdResult<()> {
    gated(&app, &state, "staff restart", |_| Ok(()))?;
    app.restart()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_form_reads_values_without_printing_them() {
        let f: SecretsForm =
            serde_json::from_str(r#"{"apiKey":"key-7788","apiSecret":null}"#).unwrap();
        assert_eq!(f.api_key.as_ref().unwrap().expose(), "key-7788");
        assert!(!format!("{f:?}").contains("key-7788"));
        assert!(!f.clear);
    }

    #[test]
    fn status_serializes_flags_never_values() {
        let s = StaffStatus {
            pin_set: true,
            unlocked: true,
            locked_secs: None,
            settings: None,
            cameras: vec![],
            secrets: Some(SecretFlags {
                api_key: true,
                api_secret: true,
                signing_key: false,
            }),
            secret_store: "memory",
            keyring_error: None,
            backend: "sandbox",
            fullscreen: false,
            decorated: true,
            restart_needed: true,
        };
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains(r#""secrets":{"apiKey":true,"apiSecret":true,"signingKey":false}"#));
    }
}
