//! The staff console: everything behind the staff button as one value the
//! desktop shell holds and shares between its commands. It owns the PIN
//! [`Gate`], the settings file and where it is saved, the secret store, the
//! settings in effect (the start form's defaults and the UI language), and
//! the rules: staff actions only between customers, every one but unlocking
//! and the first PIN behind the gate, a new PIN kept only once it is saved,
//! the settings form mapped onto the file (a bad value is named and nothing
//! is saved), secrets stored only as typed in, which saved changes wait for
//! a restart, and staff functions closing when a customer session starts
//! (which, with `[kiosk] start_requires_staff`, needs the PIN or the gate
//! open).
//!
//! PINs are checked and hashed one at a time, on a blocking thread
//! (`spawn_blocking`), never under the console's lock: status and the other
//! actions answer while Argon2 runs, and concurrent guesses are counted in
//! turn. The wrong-PIN count and pause are kept in the state file beside the
//! staff file ([`super::attempts`]); a stored hash weaker than new ones is
//! replaced by a new hash of the same PIN at the next unlock.
//!
//! It knows nothing of windows or commands: the shell passes the session's
//! current [`Screen`], adds what the window looks like to the [`Status`],
//! and carries out leaving and restarting once [`Console::authorize`] agrees.

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::config::{CameraRoles, Config, KioskConfig, Secret};
use crate::session::Screen;

use super::pin::{self, PinHash};
use super::settings::StaffApi;
use super::{attempts, secrets, Error, Gate, SecretName, SecretStore, StaffFile};

/// The settings screen's editable values (no secrets, no PIN), as the form
/// shows and sends them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingsForm {
    pub document_camera: Option<String>,
    pub selfie_camera: Option<String>,
    pub default_country: Option<String>,
    pub documents: Vec<String>,
    pub language: String,
    pub idle_timeout_secs: u64,
    pub kiosk_mode: bool,
    /// The back office's URL (`[relay] url`); blank: none from the settings.
    #[serde(default)]
    pub relay_url: Option<String>,
}

impl SettingsForm {
    /// Writes the form onto the staff file's values: the country upper-cased,
    /// blank country and cameras left unset (the config file's or the first
    /// camera then apply). The PIN hash is left as it is.
    pub fn apply_to(self, file: &mut StaffFile) {
        let blank = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
        let k = &mut file.kiosk;
        k.default_country = self
            .default_country
            .map(|c| c.trim().to_ascii_uppercase())
            .filter(|c| !c.is_empty());
        k.documents = Some(self.documents);
        k.language = Some(self.language);
        k.idle_timeout_secs = Some(self.idle_timeout_secs);
        k.kiosk_mode = Some(self.kiosk_mode);
        file.camera.document = blank(self.document_camera);
        file.camera.selfie = blank(self.selfie_camera);
        file.relay.url = blank(self.relay_url).map(|u| u.trim().to_owned());
    }
}

/// The secrets form: only the fields typed in are stored.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretsForm {
    pub api_key: Option<Secret>,
    pub api_secret: Option<Secret>,
    pub signing_key: Option<Secret>,
    /// The back office's kiosk credential.
    pub relay_key: Option<Secret>,
    /// Remove the three API secrets instead (back to the sandbox at the
    /// next start, unless a relay or credentials come from elsewhere).
    #[serde(default)]
    pub clear: bool,
}

impl SecretsForm {
    /// The values typed in (an empty field is not a value).
    #[must_use]
    pub fn given(self) -> Vec<(SecretName, Secret)> {
        [
            (SecretName::ApiKey, self.api_key),
            (SecretName::ApiSecret, self.api_secret),
            (SecretName::SigningKey, self.signing_key),
            (SecretName::RelayKey, self.relay_key),
        ]
        .into_iter()
        .filter_map(|(n, v)| v.filter(|v| !v.is_empty()).map(|v| (n, v)))
        .collect()
    }
}

/// Which secrets are stored: flags only, never values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretFlags {
    pub api_key: bool,
    pub api_secret: bool,
    pub signing_key: bool,
    pub relay_key: bool,
}

/// The staff panel's state. Settings, cameras and secret flags only while
/// the gate is open.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub pin_set: bool,
    pub unlocked: bool,
    pub locked_secs: Option<u64>,
    pub settings: Option<SettingsForm>,
    pub cameras: Vec<String>,
    pub secrets: Option<SecretFlags>,
    /// Where secrets are kept ("OS keyring", ...).
    pub secret_store: &'static str,
    /// Why the keyring cannot be used, when it cannot.
    pub keyring_error: Option<String>,
    /// `sandbox`, `live` or `relay`: the backend the kiosk runs against now.
    pub backend: &'static str,
    /// Saved changes that apply at the next start.
    pub restart_needed: bool,
}

/// What a console starts with, read at the edge.
pub struct Setup<'a> {
    /// The configuration the kiosk started with (staff file and environment
    /// applied).
    pub config: &'a Config,
    /// The staff settings file as read.
    pub file: StaffFile,
    /// Where `file` is saved (`None` when the OS has no config directory).
    pub path: Option<PathBuf>,
    pub store: Box<dyn SecretStore>,
    /// Why the keyring could not be read at start, if it could not.
    pub keyring_error: Option<String>,
    /// The language codes the UI has a catalog for.
    pub languages: Vec<String>,
}

/// The staff functions and the settings in effect; shared between commands
/// (every method takes `&self`).
pub struct Console {
    epoch: Instant,
    path: Option<PathBuf>,
    /// Where the wrong-PIN count and pause are kept (beside `path`).
    attempts_path: Option<PathBuf>,
    start_requires_staff: bool,
    /// Held while a PIN is checked or hashed (not the state's lock): one
    /// Argon2 run at a time, each outcome recorded before the next begins.
    pin_work: tokio::sync::Mutex<()>,
    /// Runs on the blocking thread just before a PIN is checked.
    #[cfg(test)]
    verify_hook: std::sync::OnceLock<std::sync::Arc<dyn Fn() + Send + Sync>>,
    store: Box<dyn SecretStore>,
    keyring_error: Option<String>,
    languages: Vec<String>,
    backend: &'static str,
    /// What the kiosk started with: a change here needs a restart.
    started: (KioskConfig, CameraRoles, Option<String>),
    /// The kiosk started with a relay credential (from the keyring or the
    /// environment).
    started_relay_key: bool,
    inner: Mutex<Inner>,
}

/// What staff actions change.
struct Inner {
    gate: Gate,
    file: StaffFile,
    /// The settings in effect (the form defaults follow saves at once).
    kiosk: KioskConfig,
    cameras: CameraRoles,
    /// The UI language, also sent as the token's `locale`.
    language: String,
    /// The back office's URL in effect after the last save.
    relay_url: Option<String>,
    secrets_changed: bool,
}

impl Console {
    /// A console with the gate closed, and the wrong-PIN count and pause
    /// kept from before (see [`attempts::load`]).
    #[must_use]
    pub fn new(setup: Setup<'_>) -> Self {
        let Setup {
            config,
            file,
            path,
            store,
            keyring_error,
            languages,
        } = setup;
        let epoch = Instant::now();
        let attempts_path = path.as_deref().map(attempts::path_for);
        let mut gate = Gate::new(config.kiosk.staff_pin_hash.clone());
        if let Some(p) = &attempts_path {
            gate.restore(attempts::load(p, attempts::unix_ms()), 0);
        }
        Self {
            epoch,
            path,
            attempts_path,
            start_requires_staff: config.start_requires_staff,
            pin_work: tokio::sync::Mutex::new(()),
            #[cfg(test)]
            verify_hook: std::sync::OnceLock::new(),
            store,
            keyring_error,
            languages,
            backend: if config.relay.is_some() {
                "relay"
            } else if config.backend.is_sandbox() {
                "sandbox"
            } else {
                "live"
            },
            started: (
                config.kiosk.clone(),
                config.cameras.clone(),
                config.relay.as_ref().map(|r| r.url.clone()),
            ),
            started_relay_key: config.relay.is_some(),
            inner: Mutex::new(Inner {
                gate,
                file,
                kiosk: config.kiosk.clone(),
                cameras: config.cameras.clone(),
                language: config.kiosk.language.clone(),
                relay_url: config.relay.as_ref().map(|r| r.url.clone()),
                secrets_changed: false,
            }),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The gate's state and, while it is open, the settings, the cameras
    /// and which secrets are stored.
    #[must_use]
    pub fn status(&self) -> Status {
        let s = self.inner();
        let g = s.gate.state(self.now());
        let mut keyring_error = self.keyring_error.clone();
        let (settings, secrets) = if g.unlocked {
            let settings = SettingsForm {
                document_camera: s.cameras.document.clone(),
                selfie_camera: s.cameras.selfie.clone(),
                default_country: s.kiosk.default_country.clone(),
                documents: s
                    .kiosk
                    .documents
                    .iter()
                    .map(|d| d.as_str().to_owned())
                    .collect(),
                language: s.language.clone(),
                idle_timeout_secs: s.kiosk.idle_timeout.as_secs(),
                kiosk_mode: s.kiosk.kiosk_mode,
                relay_url: s.relay_url.clone(),
            };
            let flags = match secrets::stored(self.store.as_ref()) {
                Ok(f) => {
                    let has = |n: SecretName| f.iter().any(|(k, set)| *k == n && *set);
                    Some(SecretFlags {
                        api_key: has(SecretName::ApiKey),
                        api_secret: has(SecretName::ApiSecret),
                        signing_key: has(SecretName::SigningKey),
                        relay_key: has(SecretName::RelayKey),
                    })
                }
                Err(e) => {
                    keyring_error = Some(e.to_string());
                    None
                }
            };
            (Some(settings), flags)
        } else {
            (None, None)
        };
        let restart_needed = self.restart_needed(&s);
        drop(s);
        let cameras = if g.unlocked {
            crate::camera::devices::list_devices()
                .map(|l| l.devices.into_iter().map(|d| d.name).collect())
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        Status {
            pin_set: g.pin_set,
            unlocked: g.unlocked,
            locked_secs: g.locked_secs,
            settings,
            cameras,
            secrets,
            secret_store: self.store.describe(),
            keyring_error,
            backend: self.backend,
            restart_needed,
        }
    }

    /// Opens staff functions with the PIN, between customers. The PIN is
    /// checked on a blocking thread, outside the console's lock.
    ///
    /// # Errors
    /// [`Error::SessionOpen`] during a customer's session, or the gate's
    /// refusal ([`Gate::begin_unlock`], [`Gate::finish_unlock`]).
    pub async fn unlock(&self, screen: Screen, pin: &Secret) -> Result<Status, Error> {
        if screen != Screen::Start {
            return Err(Error::SessionOpen);
        }
        self.check_pin(pin, true).await?;
        tracing::info!("staff functions opened");
        Ok(self.status())
    }

    /// Checks `pin` against the gate and records the outcome (kept across
    /// restarts). With `upgrade`, a right PIN whose stored hash is weaker
    /// than new ones gets a new hash, saved with the staff file.
    async fn check_pin(&self, pin: &Secret, upgrade: bool) -> Result<(), Error> {
        let _work = self.pin_work.lock().await;
        let before = self.inner().gate.attempts(self.now());
        let hash = self
            .inner()
            .gate
            .begin_unlock(pin.expose(), self.now())
            .inspect_err(|e| tracing::warn!(code = %e.code(), "staff PIN refused"))?;
        let typed = Zeroizing::new(pin.expose().to_owned());
        #[cfg(test)]
        let hook = self.verify_hook.get().cloned();
        let checked = hash.clone();
        let matched = blocking(move || {
            #[cfg(test)]
            if let Some(hook) = hook {
                hook();
            }
            pin::verify(&typed, &checked)
        })
        .await?;
        let now = self.now();
        let (outcome, after) = {
            let mut s = self.inner();
            let outcome = s.gate.finish_unlock(matched, now);
            (outcome, s.gate.attempts(now))
        };
        if after != before {
            self.keep_attempts(after);
        }
        outcome.inspect_err(|e| tracing::warn!(code = %e.code(), "staff PIN refused"))?;
        if upgrade && !hash.is_current() {
            self.upgrade_hash(pin).await;
        }
        Ok(())
    }

    /// Replaces a weaker stored hash by a new one of the same (right) PIN.
    /// Best effort: on failure the old hash stays, and it is logged.
    async fn upgrade_hash(&self, pin: &Secret) {
        let typed = Zeroizing::new(pin.expose().to_owned());
        let new = match blocking(move || pin::hash(&typed)).await.and_then(|r| r) {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!("staff PIN hash not upgraded: {e}");
                return;
            }
        };
        if let Err(e) = self.install_hash(new, self.now()) {
            tracing::warn!("staff PIN hash not upgraded: {e}");
        } else {
            tracing::info!("staff PIN hash upgraded to the current Argon2 parameters");
        }
    }

    /// Installs a new hash in the gate and the staff file; on any error
    /// the old one stays in force.
    fn install_hash(&self, hash: PinHash, now: u64) -> Result<(), Error> {
        let mut s = self.inner();
        let before = s.gate.clone();
        s.gate.finish_set_pin(hash.clone(), now)?;
        let mut file = s.file.clone();
        file.kiosk.staff_pin_hash = Some(hash.as_str().to_owned());
        if let Err(e) = self.save_file(&file) {
            s.gate = before;
            return Err(e);
        }
        s.file = file;
        Ok(())
    }

    /// Keeps the wrong-PIN count and pause for the next start. A failure
    /// is logged: the count still holds in memory.
    fn keep_attempts(&self, a: pin::Attempts) {
        let Some(path) = &self.attempts_path else {
            return;
        };
        if let Err(e) = attempts::save(path, a, attempts::unix_ms()) {
            tracing::warn!("wrong-PIN count not kept: {e}");
        }
    }

    /// Closes staff functions (the staff screen was left).
    pub fn lock(&self) {
        self.inner().gate.lock();
    }

    /// Sets the PIN: the first one at installation, later ones behind the
    /// gate. The PIN is hashed on a blocking thread, outside the console's
    /// lock. The new PIN takes effect only once the file holding its hash
    /// is saved; otherwise the old one stays in force.
    ///
    /// # Errors
    /// [`Error::SessionOpen`], the gate's refusal ([`Gate::begin_set_pin`],
    /// [`Gate::finish_set_pin`]: also when the gate closed while hashing),
    /// [`Error::NoConfigDir`] or the file's error.
    pub async fn set_pin(&self, screen: Screen, pin: &Secret) -> Result<Status, Error> {
        if screen != Screen::Start {
            return Err(Error::SessionOpen);
        }
        let _work = self.pin_work.lock().await;
        let before = self.inner().gate.attempts(self.now());
        self.inner().gate.begin_set_pin(pin.expose(), self.now())?;
        let typed = Zeroizing::new(pin.expose().to_owned());
        let hash = blocking(move || pin::hash(&typed)).await??;
        self.install_hash(hash, self.now())?;
        // A new PIN clears the count; keep that too.
        if before.failures != 0 {
            let after = self.inner().gate.attempts(self.now());
            self.keep_attempts(after);
        }
        tracing::info!("staff PIN set");
        Ok(self.status())
    }

    /// Saves the settings screen. The form defaults and the language apply
    /// at once; cameras, idle timeout and kiosk mode at the next start. The
    /// language is checked first, even with the gate closed.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the field (nothing is saved then),
    /// [`Error::SessionOpen`], [`Error::StaffOnly`], [`Error::NoConfigDir`]
    /// or the file's error.
    pub fn save(&self, screen: Screen, form: SettingsForm) -> Result<Status, Error> {
        self.check_language(&form.language)
            .map_err(|e| Error::Invalid {
                field: "language",
                reason: e.to_string(),
            })?;
        self.gated(screen, "staff settings saved", |s| {
            let language = form.language.clone();
            let mut file = s.file.clone();
            form.apply_to(&mut file);
            let cfg = file.validate()?;
            if let Some(url) = file.relay.url.take() {
                // Written as the configuration will read it back (checked
                // by `validate` above).
                file.relay.url = Some(
                    crate::backoffice::parse_url(&url).map_or(url, |u| u.to_string()),
                );
                // A URL without a credential would stop the next start.
                if !self.started_relay_key && self.store.get(SecretName::RelayKey)?.is_none() {
                    return Err(Error::Invalid {
                        field: "relayKey",
                        reason: "store this kiosk's back-office credential first (printed by `kyc-kiosk-relay kiosk add`)".into(),
                    });
                }
            }
            self.save_file(&file)?;
            s.relay_url = file.relay.url.clone().or_else(|| self.started.2.clone());
            s.file = file;
            s.kiosk = cfg.kiosk;
            s.cameras = cfg.cameras;
            s.language = language;
            Ok(())
        })?;
        Ok(self.status())
    }

    /// Stores API secrets and the back-office credential in the store (used
    /// from the next start), or clears the three API secrets.
    ///
    /// # Errors
    /// [`Error::SessionOpen`], [`Error::StaffOnly`], [`Error::NothingToStore`]
    /// for a form without a value, [`Error::Invalid`] naming the field
    /// (nothing is stored then), or the store's error.
    pub fn set_secrets(&self, screen: Screen, form: SecretsForm) -> Result<Status, Error> {
        self.gated(screen, "API secrets changed in the keyring", |s| {
            // The staff file says whether API credentials were stored, so a
            // keyring that cannot be read at the next start is an error,
            // never the embedded sandbox standing in for the live API.
            let live = if form.clear {
                // The back office's credential stays: without it a relay
                // URL would stop the next start (clear the URL instead).
                for n in SecretName::API {
                    self.store.delete(n)?;
                }
                None
            } else {
                let given = form.given();
                if given.is_empty() {
                    return Err(Error::NothingToStore);
                }
                let api = given
                    .iter()
                    .any(|(n, _)| matches!(n, SecretName::ApiKey | SecretName::ApiSecret));
                secrets::save(self.store.as_ref(), &given)?;
                if api {
                    Some(StaffApi::LIVE.to_owned())
                } else {
                    s.file.api.backend.clone()
                }
            };
            if live != s.file.api.backend && self.path.is_some() {
                let mut file = s.file.clone();
                file.api.backend = live;
                self.save_file(&file)?;
                s.file = file;
            }
            s.secrets_changed = true;
            Ok(())
        })?;
        Ok(self.status())
    }

    /// Allows a staff action the shell carries out (`what`: leaving the app,
    /// restarting it), between customers and with the gate open.
    ///
    /// # Errors
    /// [`Error::SessionOpen`] or [`Error::StaffOnly`].
    pub fn authorize(&self, screen: Screen, what: &str) -> Result<(), Error> {
        self.gated(screen, what, |_| Ok(()))
    }

    /// Starts a customer's session with `start`. With `[kiosk]
    /// start_requires_staff`, only with staff functions open or the staff
    /// PIN given (checked as an unlock is: wrong ones count towards the
    /// pause). Staff functions close first, whatever the session answers:
    /// a customer is at the kiosk.
    ///
    /// # Errors
    /// [`Error::StartNeedsStaff`] without the PIN or an open gate, or the
    /// PIN's refusal; `start` is not run then.
    pub async fn start_session<T>(
        &self,
        pin: Option<&Secret>,
        start: impl Future<Output = T>,
    ) -> Result<T, Error> {
        if self.start_requires_staff {
            let open = self.inner().gate.state(self.now()).unlocked;
            match pin.filter(|p| !p.is_empty()) {
                _ if open => {}
                Some(pin) => self.check_pin(pin, false).await?,
                None => return Err(Error::StartNeedsStaff),
            }
        }
        self.lock();
        Ok(start.await)
    }

    /// Runs `act`, a staff action inside a customer's session (accepting a
    /// photo the framing check refused), with the staff PIN given for it.
    /// Staff functions stay closed (they are for between customers): the
    /// PIN is asked for each such action and checked as an unlock is, so
    /// wrong ones count towards the pause. The action itself is logged by
    /// whoever carries it out (the session's audit line).
    ///
    /// # Errors
    /// [`Error::StaffOnly`] without a PIN, [`Error::NoPin`] when none is
    /// set, or the PIN's refusal ([`Error::PinWrong`], [`Error::PinLocked`]);
    /// `act` is not run then.
    pub async fn in_session<T>(
        &self,
        pin: Option<&Secret>,
        act: impl Future<Output = T>,
    ) -> Result<T, Error> {
        let Some(pin) = pin.filter(|p| !p.is_empty()) else {
            return Err(Error::StaffOnly);
        };
        self.check_pin(pin, false).await?;
        // A right PIN opens the gate: close it again, a customer is here.
        self.lock();
        Ok(act.await)
    }

    /// The kiosk settings in effect (a save changes the form defaults at once).
    #[must_use]
    pub fn kiosk(&self) -> KioskConfig {
        self.inner().kiosk.clone()
    }

    /// The current UI language.
    #[must_use]
    pub fn language(&self) -> String {
        self.inner().language.clone()
    }

    /// Changes the UI language (anyone may: the next token's `locale`
    /// follows it).
    ///
    /// # Errors
    /// [`Error::NoCatalog`] when the UI has no catalog for `code`.
    pub fn set_language(&self, code: &str) -> Result<(), Error> {
        self.check_language(code)?;
        code.clone_into(&mut self.inner().language);
        Ok(())
    }

    fn check_language(&self, code: &str) -> Result<(), Error> {
        if self.languages.iter().any(|c| c == code) {
            Ok(())
        } else {
            Err(Error::NoCatalog {
                language: code.to_owned(),
            })
        }
    }

    /// Runs `act` between customers (given the time), then logs `done`.
    fn between_customers(
        &self,
        screen: Screen,
        done: &str,
        act: impl FnOnce(&mut Inner, u64) -> Result<(), Error>,
    ) -> Result<(), Error> {
        if screen != Screen::Start {
            return Err(Error::SessionOpen);
        }
        act(&mut self.inner(), self.now())?;
        tracing::info!("{done}");
        Ok(())
    }

    /// Runs `act` between customers with the gate open (which keeps it
    /// open), then logs `done`.
    fn gated(
        &self,
        screen: Screen,
        done: &str,
        act: impl FnOnce(&mut Inner) -> Result<(), Error>,
    ) -> Result<(), Error> {
        self.between_customers(screen, done, |s, now| {
            s.gate.check(now)?;
            act(s)
        })
    }

    /// Sets a function run on the blocking thread just before each PIN
    /// check (tests hold the check there to look at the console meanwhile).
    #[cfg(test)]
    fn set_verify_hook(&self, hook: std::sync::Arc<dyn Fn() + Send + Sync>) {
        let _ = self.verify_hook.set(hook);
    }

    fn restart_needed(&self, s: &Inner) -> bool {
        let (k, c, relay_url) = &self.started;
        s.secrets_changed
            || *relay_url != s.relay_url
            || k.idle_timeout != s.kiosk.idle_timeout
            || k.kiosk_mode != s.kiosk.kiosk_mode
            || c.document != s.cameras.document
            || c.selfie != s.cameras.selfie
    }

    fn save_file(&self, file: &StaffFile) -> Result<(), Error> {
        let path = self.path.as_deref().ok_or(Error::NoConfigDir)?;
        file.save(path)
    }
}

/// Runs slow work (Argon2) on a blocking thread, off the async runtime.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Hash(e.to_string()))
}

#[cfg(test)]
#[path = "console_tests.rs"]
mod tests;
