//! The staff settings file, `staff.toml` next to `config.toml`: what the
//! settings screen saves (camera per role, form defaults, language, idle
//! timeout, kiosk mode, the PIN hash, the back office's URL). It overrides
//! the config file's `[kiosk]`, `[camera]` and `[relay] url` values and never
//! holds a secret: an `[api]` value other than `backend = "live"`, a
//! `[webhook]` section, or a `[relay] key`, in it is refused. `backend =
//! "live"` is written when staff store the API credentials in the keyring:
//! from then on a keyring that cannot be read stops the kiosk with a clear
//! error instead of running the embedded sandbox as if nothing were set up.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::{Config, ConfigError, RawCamera, RawConfig, RawKiosk};

use super::Error;

/// The staff file's name, in the config file's directory.
pub const FILE_NAME: &str = "staff.toml";

/// The staff file path for a config file path.
#[must_use]
pub fn path_for(config_path: &Path) -> PathBuf {
    config_path.with_file_name(FILE_NAME)
}

/// The staff file's contents.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StaffFile {
    pub kiosk: RawKiosk,
    pub camera: RawCamera,
    #[serde(skip_serializing_if = "StaffRelay::is_empty")]
    pub relay: StaffRelay,
    #[serde(skip_serializing_if = "StaffApi::is_empty")]
    pub api: StaffApi,
}

/// `[api]` as the staff file holds it: `backend = "live"` once staff have
/// stored the API credentials (the credentials themselves are in the
/// keyring), nothing otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StaffApi {
    pub backend: Option<String>,
}

impl StaffApi {
    /// The value written when the API credentials are stored.
    pub const LIVE: &'static str = "live";

    fn is_empty(&self) -> bool {
        self.backend.is_none()
    }
}

/// `[relay]` as the staff file holds it: the URL only (the kiosk credential
/// is in the keyring).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StaffRelay {
    pub url: Option<String>,
}

impl StaffRelay {
    fn is_empty(&self) -> bool {
        self.url.is_none()
    }
}

impl StaffFile {
    /// Reads the file; a missing file is empty.
    ///
    /// # Errors
    /// [`Error::File`] when it cannot be read, is not valid, or holds
    /// anything besides `[kiosk]` and `[camera]`.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let raw = RawConfig::load(path).map_err(|e| Error::File {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::from_raw(raw, path)
    }

    /// The file's text, as [`StaffFile::load`] reads it; `path` is only
    /// named in errors.
    ///
    /// # Errors
    /// [`Error::File`] when the text is not valid or holds anything besides
    /// `[kiosk]` and `[camera]`.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, Error> {
        let raw = RawConfig::from_toml(text, path).map_err(|e| Error::File {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::from_raw(raw, path)
    }

    fn from_raw(raw: RawConfig, path: &Path) -> Result<Self, Error> {
        let file_err = |reason: String| Error::File {
            path: path.display().to_string(),
            reason,
        };
        let api = &raw.api;
        if api.backend.as_deref().is_some_and(|b| b != StaffApi::LIVE)
            || api.base_url.is_some()
            || api.api_key.is_some()
            || api.api_secret.is_some()
            || api.signing_key.is_some()
            || raw.webhook.listen.is_some()
            || raw.webhook.callback_url.is_some()
            || raw.relay.key.is_some()
        {
            return Err(file_err(
                "may only hold [kiosk], [camera], [relay] url and [api] backend = \"live\"; \
                 secrets belong in the keyring"
                    .into(),
            ));
        }
        Ok(Self {
            kiosk: raw.kiosk,
            camera: raw.camera,
            relay: StaffRelay { url: raw.relay.url },
            api: StaffApi {
                backend: raw.api.backend,
            },
        })
    }

    /// Lays these values over `raw` (the config file's): a value set here wins.
    #[must_use]
    pub fn overlay(&self, mut raw: RawConfig) -> RawConfig {
        let k = &self.kiosk;
        let rk = &mut raw.kiosk;
        rk.default_country = k.default_country.clone().or(rk.default_country.take());
        rk.documents = k.documents.clone().or(rk.documents.take());
        rk.language = k.language.clone().or(rk.language.take());
        rk.idle_timeout_secs = k.idle_timeout_secs.or(rk.idle_timeout_secs);
        rk.kiosk_mode = k.kiosk_mode.or(rk.kiosk_mode);
        rk.staff_pin_hash = k.staff_pin_hash.clone().or(rk.staff_pin_hash.take());
        rk.start_requires_staff = k.start_requires_staff.or(rk.start_requires_staff);
        let c = &self.camera;
        raw.camera.document = c.document.clone().or(raw.camera.document.take());
        raw.camera.selfie = c.selfie.clone().or(raw.camera.selfie.take());
        raw.relay.url = self.relay.url.clone().or(raw.relay.url.take());
        raw.api.backend = self.api.backend.clone().or(raw.api.backend.take());
        raw
    }

    /// Checks the values as the config file's would be checked (a PIN hash
    /// that does not parse is named as `pin`). Kiosk mode's need for a PIN
    /// is left out here: the PIN may be in the config file, and the console
    /// saves only behind an open gate, so one exists.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the settings field.
    pub fn validate(&self) -> Result<Config, Error> {
        // Only the settings are checked here: the backend (which kiosk mode
        // makes live) and kiosk mode's need of a PIN are the configuration's,
        // checked at start.
        let mut raw = self.overlay(RawConfig::default());
        raw.api.backend = Some("sandbox".into());
        raw.kiosk.kiosk_mode = None;
        // The relay URL alone (its credential is in the keyring, checked
        // by the console).
        if let Some(url) = raw.relay.url.take() {
            crate::backoffice::parse_url(&url).map_err(|e| Error::Invalid {
                field: "relayUrl",
                reason: match e {
                    crate::backoffice::Error::Invalid { reason, .. } => reason,
                    other => other.to_string(),
                },
            })?;
        }
        let mut cfg = raw.validate().map_err(|e| match e {
            ConfigError::Invalid { field, reason } => Error::Invalid {
                field: settings_field(field),
                reason,
            },
            other => Error::Invalid {
                field: "settings",
                reason: other.to_string(),
            },
        })?;
        cfg.kiosk.kiosk_mode = self.kiosk.kiosk_mode.unwrap_or(false);
        Ok(cfg)
    }

    /// Writes the file atomically (a temporary file renamed over it), only
    /// readable by its owner, after validating it. On any error the old file
    /// is untouched.
    ///
    /// # Errors
    /// [`Error::Invalid`] or [`Error::File`].
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        self.validate()?;
        let file_err = |reason: String| Error::File {
            path: path.display().to_string(),
            reason,
        };
        let body = toml::to_string(self).map_err(|e| file_err(e.to_string()))?;
        let text = format!(
            "# Written by the kiosk's staff settings; overrides config.toml.\n\
             # Secrets are never stored here (they are in the OS keyring).\n\n{body}"
        );
        write_private(path, text.as_bytes()).map_err(|e| file_err(e.to_string()))
    }
}

/// Writes `bytes` to `path` atomically (a temporary file beside it, synced,
/// then renamed over it), readable only by the owner; creates the folder.
/// On any error the old file is untouched and no temporary file is left.
pub(super) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let write = || -> std::io::Result<()> {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// The config field names as the settings form calls them.
fn settings_field(config_field: &str) -> &'static str {
    match config_field {
        "kiosk.default_country" => "defaultCountry",
        "kiosk.documents" => "documents",
        "kiosk.language" => "language",
        "kiosk.idle_timeout_secs" => "idleTimeoutSecs",
        "kiosk.staff_pin_hash" => "pin",
        _ => "settings",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    fn sample() -> StaffFile {
        let mut f = StaffFile::default();
        f.kiosk.default_country = Some("DE".into());
        f.kiosk.documents = Some(vec!["PASSPORT".into()]);
        f.kiosk.language = Some("de".into());
        f.kiosk.idle_timeout_secs = Some(90);
        f.kiosk.kiosk_mode = Some(true);
        f.kiosk.staff_pin_hash = Some(super::super::pin::hash("482913").unwrap().as_str().into());
        f.camera.document = Some("Document camera".into());
        f.relay.url = Some("https://relay.bank.example".into());
        f
    }

    #[test]
    fn saved_settings_load_back_and_override_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_for(&dir.path().join("config.toml"));
        assert_eq!(path.file_name().unwrap(), FILE_NAME);
        assert!(StaffFile::load(&path).unwrap().kiosk.language.is_none());
        sample().save(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "owner only: {mode:o}");
        }
        let back = StaffFile::load(&path).unwrap();
        assert_eq!(
            back.relay.url.as_deref(),
            Some("https://relay.bank.example")
        );
        let back = StaffFile {
            relay: StaffRelay::default(),
            ..back
        };
        let mut file = RawConfig::default();
        // Kiosk mode needs the live API unless the sandbox is chosen.
        file.api.backend = Some("sandbox".into());
        file.kiosk.default_country = Some("LT".into());
        file.kiosk.idle_timeout_secs = Some(300);
        file.camera.selfie = Some("Webcam".into());
        let cfg = back.overlay(file).validate().unwrap();
        assert_eq!(cfg.kiosk.default_country.as_deref(), Some("DE"));
        assert_eq!(
            cfg.kiosk.documents,
            [crate::capture::DocumentType::Passport]
        );
        assert_eq!(cfg.kiosk.idle_timeout.as_secs(), 90);
        assert!(cfg.kiosk.kiosk_mode);
        assert_eq!(cfg.cameras.document.as_deref(), Some("Document camera"));
        assert_eq!(
            cfg.cameras.selfie.as_deref(),
            Some("Webcam"),
            "kept from the file"
        );
        assert!(super::super::pin::verify(
            "482913",
            cfg.kiosk.staff_pin_hash.as_ref().unwrap()
        ));
    }

    #[test]
    fn a_bad_value_is_named_and_the_old_file_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        sample().save(&path).unwrap();
        let before = std::fs::read_to_string(&path).unwrap();
        for (field, edit) in [
            (
                "defaultCountry",
                Box::new(|f: &mut StaffFile| f.kiosk.default_country = Some("XX".into()))
                    as Box<dyn Fn(&mut StaffFile)>,
            ),
            (
                "idleTimeoutSecs",
                Box::new(|f: &mut StaffFile| f.kiosk.idle_timeout_secs = Some(5)),
            ),
            (
                "documents",
                Box::new(|f: &mut StaffFile| f.kiosk.documents = Some(vec![])),
            ),
            (
                "pin",
                Box::new(|f: &mut StaffFile| f.kiosk.staff_pin_hash = Some("1234".into())),
            ),
            (
                "relayUrl",
                Box::new(|f: &mut StaffFile| {
                    f.relay.url = Some("http://relay.bank.example".into());
                }),
            ),
        ] {
            let mut f = sample();
            edit(&mut f);
            let e = f.save(&path).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidInput, "{field}: {e}");
            assert_eq!(e.field(), Some(field), "{e}");
            assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
        }
        assert!(!path.with_extension("toml.tmp").exists());
    }

    #[test]
    fn a_staff_file_with_secrets_or_endpoints_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        for text in [
            "[api]\napi_key = \"k-123456\"\n",
            "[webhook]\nlisten = \"0.0.0.0:1\"\n",
            "[kiosk]\nnot_a_key = 1\n",
            "[relay]\nkey = \"k-123456\"\n",
            // Only the marker the console writes: not another backend.
            "[api]\nbackend = \"sandbox\"\n",
        ] {
            std::fs::write(&path, text).unwrap();
            let e = StaffFile::load(&path).unwrap_err();
            assert_eq!(e.code(), ErrorCode::Config, "{text}");
            assert!(!e.to_string().contains("k-123456"), "{e}");
        }
    }

    #[test]
    fn the_saved_file_holds_no_secret_and_says_where_they_are() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        sample().save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("keyring"));
        assert!(!text.contains("[api]"));
        assert!(text.contains("staff_pin_hash = \"$argon2id$"));
        assert!(!text.contains("482913"));
    }
}
