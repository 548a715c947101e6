//! Configuration: read once at the edge (CLI `main`, Tauri `setup`), validated
//! here into typed values, then passed to constructors. No other module reads
//! files or the environment for settings.
//!
//! Two steps: [`RawConfig`] (everything optional, straight from TOML and the
//! environment) and [`Config`] (validated; errors name the field that is wrong).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use crate::endpoint::PRODUCTION_BASE_URL;
pub use crate::secret::Secret;
use crate::staff::pin::PinHash;

/// Where the kiosk listens for webhooks unless told otherwise.
pub const DEFAULT_WEBHOOK_LISTEN: &str = "127.0.0.1:8787";
/// Idle time before the kiosk wipes the session and returns to the start screen.
pub const DEFAULT_IDLE_TIMEOUT_SECS: u64 = 120;

/// A configuration error. Each variant names the field (the TOML key path or
/// the environment variable) so staff can fix it without reading code.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
}

impl ConfigError {
    fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }

    /// The field the error is about, when it is about one field.
    #[must_use]
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

/// Settings as found in the file and the environment, nothing checked yet.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub api: RawApi,
    #[serde(default)]
    pub webhook: RawWebhook,
    #[serde(default)]
    pub kiosk: RawKiosk,
    #[serde(default)]
    pub camera: RawCamera,
}

/// `[api]`: where iDenfy is and how to authenticate.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApi {
    pub base_url: Option<String>,
    pub api_key: Option<Secret>,
    pub api_secret: Option<Secret>,
    pub signing_key: Option<Secret>,
}

/// `[webhook]`: where the kiosk receives results.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWebhook {
    pub listen: Option<String>,
    /// The public HTTPS URL iDenfy should call (sent as `callbackUrl`), when the
    /// dashboard's endpoint is not this kiosk.
    pub callback_url: Option<String>,
}

/// `[kiosk]`: defaults for the staff form and kiosk behaviour.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawKiosk {
    pub default_country: Option<String>,
    pub documents: Option<Vec<String>>,
    pub language: Option<String>,
    pub idle_timeout_secs: Option<u64>,
    pub kiosk_mode: Option<bool>,
    /// Hash of the staff PIN as written by the settings screen.
    pub staff_pin_hash: Option<String>,
    /// A session starts only with the staff PIN or staff functions open
    /// (for unattended kiosks).
    pub start_requires_staff: Option<bool>,
}

/// `[camera]`: which device serves which role (name or index).
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawCamera {
    pub document: Option<String>,
    pub selfie: Option<String>,
}

impl RawConfig {
    /// Parse the TOML text of a config file. `path` is only used in errors.
    ///
    /// # Errors
    /// [`ConfigError::Parse`] when the text is not valid TOML or has unknown keys.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.message().to_owned(),
        })
    }

    /// Read a config file; a missing file is an empty configuration.
    ///
    /// # Errors
    /// [`ConfigError::Read`] when the file exists but cannot be read,
    /// [`ConfigError::Parse`] when it is not valid.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_toml(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(ConfigError::Read {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// Overlay environment variables (`IDENFY_BASE_URL`, `IDENFY_API_KEY`,
    /// `IDENFY_API_SECRET`, `IDENFY_SIGNING_KEY`, and `KYC_KIOSK_MODE` = `1`
    /// or `true`, which turns kiosk mode on) on the file's values. The
    /// caller passes the variables, so this stays testable and pure. Empty
    /// values are ignored.
    #[must_use]
    pub fn with_env<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: Into<String>,
    {
        for (k, v) in vars {
            let v: String = v.into();
            if v.trim().is_empty() {
                continue;
            }
            match k.as_ref() {
                "IDENFY_BASE_URL" => self.api.base_url = Some(v),
                "IDENFY_API_KEY" => self.api.api_key = Some(Secret::new(v)),
                "IDENFY_API_SECRET" => self.api.api_secret = Some(Secret::new(v)),
                "IDENFY_SIGNING_KEY" => self.api.signing_key = Some(Secret::new(v)),
                "KYC_KIOSK_MODE" if v == "1" || v == "true" => self.kiosk.kiosk_mode = Some(true),
                _ => {}
            }
        }
        self
    }

    /// Check everything and produce the typed configuration.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the first field that is wrong.
    pub fn validate(self) -> Result<Config, ConfigError> {
        let backend = validate_backend(self.api.base_url, self.api.api_key, self.api.api_secret)?;
        let signing_key = match self.api.signing_key {
            Some(k) if k.is_empty() => None,
            Some(k) if k.expose().len() < 8 => {
                return Err(ConfigError::invalid(
                    "api.signing_key (IDENFY_SIGNING_KEY)",
                    "is shorter than 8 characters",
                ))
            }
            other => other,
        };

        let listen = self
            .webhook
            .listen
            .as_deref()
            .unwrap_or(DEFAULT_WEBHOOK_LISTEN);
        let listen: SocketAddr = listen.parse().map_err(|_| {
            ConfigError::invalid(
                "webhook.listen",
                format!("`{listen}` is not an address like 127.0.0.1:8787"),
            )
        })?;
        let callback_url = match self.webhook.callback_url {
            Some(u) if !u.starts_with("https://") || u.len() < 12 => {
                return Err(ConfigError::invalid(
                    "webhook.callback_url",
                    "must be an https:// URL (iDenfy calls only HTTPS endpoints)",
                ))
            }
            other => other,
        };

        let default_country = match self.kiosk.default_country {
            None => None,
            Some(c) => Some(crate::country::normalize(&c).ok_or_else(|| {
                ConfigError::invalid(
                    "kiosk.default_country",
                    format!("`{c}` is not an ISO 3166-1 alpha-2 country code"),
                )
            })?),
        };
        let documents = match self.kiosk.documents {
            None => vec![
                crate::capture::DocumentType::IdCard,
                crate::capture::DocumentType::Passport,
            ],
            Some(names) => kiosk_documents(&names)?,
        };
        let language = self.kiosk.language.unwrap_or_else(|| "en".into());
        if language.len() != 2 || !language.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err(ConfigError::invalid(
                "kiosk.language",
                format!("`{language}` is not a two-letter language code such as `en`"),
            ));
        }
        let idle = self
            .kiosk
            .idle_timeout_secs
            .unwrap_or(DEFAULT_IDLE_TIMEOUT_SECS);
        if !(15..=3600).contains(&idle) {
            return Err(ConfigError::invalid(
                "kiosk.idle_timeout_secs",
                format!("{idle} is outside 15..=3600 seconds"),
            ));
        }

        let kiosk_mode = self.kiosk.kiosk_mode.unwrap_or(false);
        let staff_pin_hash = validate_pin_hash(self.kiosk.staff_pin_hash.as_deref(), kiosk_mode)?;

        Ok(Config {
            backend,
            signing_key,
            start_requires_staff: self.kiosk.start_requires_staff.unwrap_or(false),
            webhook: WebhookConfig {
                listen,
                callback_url,
            },
            kiosk: KioskConfig {
                default_country,
                documents,
                language,
                idle_timeout: Duration::from_secs(idle),
                kiosk_mode,
                staff_pin_hash,
            },
            cameras: CameraRoles {
                document: self.camera.document,
                selfie: self.camera.selfie,
            },
        })
    }
}

/// `kiosk.documents`: the API's names, exactly as it spells them, of
/// document types the kiosk accepts ([`crate::capture::DocumentType::ALL`]).
fn kiosk_documents(names: &[String]) -> Result<Vec<crate::capture::DocumentType>, ConfigError> {
    use crate::capture::DocumentType;
    if names.is_empty() {
        return Err(ConfigError::invalid(
            "kiosk.documents",
            "lists no document type",
        ));
    }
    names
        .iter()
        .map(|d| {
            DocumentType::ALL
                .into_iter()
                .find(|t| t.as_str() == d)
                .ok_or_else(|| {
                    let all: Vec<_> = DocumentType::ALL.iter().map(|t| t.as_str()).collect();
                    ConfigError::invalid(
                        "kiosk.documents",
                        format!("`{d}` is not one of {}", all.join(", ")),
                    )
                })
        })
        .collect()
}

fn validate_backend(
    base_url: Option<String>,
    key: Option<Secret>,
    secret: Option<Secret>,
) -> Result<Backend, ConfigError> {
    let key = key.filter(|k| !k.is_empty());
    let secret = secret.filter(|s| !s.is_empty());
    match (key, secret) {
        (None, None) => {
            if let Some(url) = base_url {
                // A base URL with no credentials would silently fall back to the
                // sandbox; say so instead of guessing.
                return Err(ConfigError::invalid(
                    "api.base_url (IDENFY_BASE_URL)",
                    format!("is set to `{url}` but no API key is configured; set IDENFY_API_KEY and IDENFY_API_SECRET, or unset it to use the sandbox"),
                ));
            }
            Ok(Backend::Sandbox)
        }
        (Some(_), None) => Err(ConfigError::invalid(
            "api.api_secret (IDENFY_API_SECRET)",
            "is missing while an API key is set",
        )),
        (None, Some(_)) => Err(ConfigError::invalid(
            "api.api_key (IDENFY_API_KEY)",
            "is missing while an API secret is set",
        )),
        (Some(api_key), Some(api_secret)) => {
            let base_url = base_url.unwrap_or_else(|| PRODUCTION_BASE_URL.into());
            let base_url = validate_base_url(&base_url)?;
            Ok(Backend::Live {
                base_url,
                api_key,
                api_secret,
            })
        }
    }
}

/// The staff PIN hash: one that does not parse is an error, never "no PIN";
/// kiosk mode needs one (only the PIN leaves a kiosk-mode window).
fn validate_pin_hash(hash: Option<&str>, kiosk_mode: bool) -> Result<Option<PinHash>, ConfigError> {
    const FIELD: &str = "kiosk.staff_pin_hash";
    match hash {
        Some(h) => PinHash::parse(h).map(Some).map_err(|e| {
            ConfigError::invalid(FIELD, format!("{e}; make one with `kyc-kiosk pin-hash`"))
        }),
        None if kiosk_mode => Err(ConfigError::invalid(
            FIELD,
            "is missing, and kiosk mode needs a staff PIN: provision one with \
             `kyc-kiosk pin-hash`, or set it on a first run outside kiosk mode",
        )),
        None => Ok(None),
    }
}

/// Accepts `https://host[:port][/path]`, and `http://` only for loopback
/// hosts (a local sandbox). Returns the URL without a trailing slash.
fn validate_base_url(url: &str) -> Result<String, ConfigError> {
    const FIELD: &str = "api.base_url (IDENFY_BASE_URL)";
    let url = url.trim().trim_end_matches('/');
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| ConfigError::invalid(FIELD, format!("`{url}` is not a URL")))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_only = host.rsplit_once(':').map_or(host, |(h, _)| h);
    if host_only.is_empty() || url.chars().any(char::is_whitespace) {
        return Err(ConfigError::invalid(FIELD, format!("`{url}` has no host")));
    }
    let loopback = matches!(host_only, "localhost" | "[::1]") || host_only.starts_with("127.");
    match scheme {
        "https" => Ok(url.to_owned()),
        "http" if loopback => Ok(url.to_owned()),
        "http" => Err(ConfigError::invalid(
            FIELD,
            "must use https:// (plain http is allowed only for a local sandbox on loopback)",
        )),
        _ => Err(ConfigError::invalid(
            FIELD,
            format!("scheme `{scheme}` is not http or https"),
        )),
    }
}

/// Which API the kiosk talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// No credentials: the embedded sandbox (shown on screen as SANDBOX).
    Sandbox,
    /// A real (or standalone sandbox) API with credentials.
    Live {
        base_url: String,
        api_key: Secret,
        api_secret: Secret,
    },
}

impl Backend {
    /// True for the embedded sandbox.
    #[must_use]
    pub fn is_sandbox(&self) -> bool {
        matches!(self, Self::Sandbox)
    }
}

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub backend: Backend,
    /// Key for verifying `Idenfy-Signature`; without it, webhooks are refused
    /// unless the backend is the embedded sandbox (which signs with its own).
    pub signing_key: Option<Secret>,
    pub webhook: WebhookConfig,
    pub kiosk: KioskConfig,
    pub cameras: CameraRoles,
    /// `[kiosk] start_requires_staff`: a session starts only with the staff
    /// PIN or staff functions open.
    pub start_requires_staff: bool,
}

/// Where webhooks arrive.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub listen: SocketAddr,
    pub callback_url: Option<String>,
}

/// Staff-facing defaults and kiosk behaviour.
#[derive(Debug, Clone)]
pub struct KioskConfig {
    pub default_country: Option<String>,
    /// The documents the start form offers by default.
    pub documents: Vec<crate::capture::DocumentType>,
    pub language: String,
    pub idle_timeout: Duration,
    pub kiosk_mode: bool,
    /// The staff PIN's hash (its `Debug` shows only the parameters).
    pub staff_pin_hash: Option<PinHash>,
}

/// Camera per role, as a device name or index; `None` means "first camera".
#[derive(Debug, Clone, Default)]
pub struct CameraRoles {
    pub document: Option<String>,
    pub selfie: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        RawConfig::default()
            .validate()
            .expect("the empty configuration is valid")
    }
}

/// The default config file path: `<OS config dir>/kyc-kiosk/config.toml`.
/// The edge may override it (`--config` or `KYC_KIOSK_CONFIG`).
#[must_use]
pub fn default_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("kyc-kiosk").join("config.toml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "live-key-123456";
    const SECRET: &str = "top-secret-value-987";

    #[test]
    fn debug_output_never_shows_secrets() {
        let cfg = RawConfig::default()
            .with_env([
                ("IDENFY_API_KEY", KEY),
                ("IDENFY_API_SECRET", SECRET),
                ("IDENFY_SIGNING_KEY", "signing-key-abcdef"),
            ])
            .validate()
            .unwrap();
        let dump = format!("{cfg:?} {cfg:#?}");
        for v in [KEY, SECRET, "signing-key-abcdef"] {
            assert!(!dump.contains(v), "config debug output leaks {v}");
        }
        assert!(dump.contains("***"));
    }

    #[test]
    fn no_credentials_means_sandbox() {
        let cfg = RawConfig::default()
            .with_env(Vec::<(String, String)>::new())
            .validate()
            .unwrap();
        assert!(cfg.backend.is_sandbox());
        assert_eq!(cfg.webhook.listen.to_string(), DEFAULT_WEBHOOK_LISTEN);
        assert_eq!(
            cfg.kiosk.idle_timeout,
            Duration::from_secs(DEFAULT_IDLE_TIMEOUT_SECS)
        );
    }

    #[test]
    fn credentials_default_to_production() {
        let cfg = RawConfig::default()
            .with_env([("IDENFY_API_KEY", KEY), ("IDENFY_API_SECRET", SECRET)])
            .validate()
            .unwrap();
        match cfg.backend {
            Backend::Live {
                base_url, api_key, ..
            } => {
                assert_eq!(base_url, PRODUCTION_BASE_URL);
                assert_eq!(api_key.expose(), KEY);
            }
            Backend::Sandbox => panic!("expected live backend"),
        }
    }

    #[test]
    fn env_overrides_file_and_empty_env_is_ignored() {
        let raw = RawConfig::from_toml(
            "[api]\nbase_url = \"https://a.example\"\napi_key = \"k\"\napi_secret = \"s\"\n",
            Path::new("c.toml"),
        )
        .unwrap()
        .with_env([
            ("IDENFY_BASE_URL", "http://127.0.0.1:9000/"),
            ("IDENFY_API_KEY", ""),
        ]);
        let cfg = raw.validate().unwrap();
        match cfg.backend {
            Backend::Live {
                base_url, api_key, ..
            } => {
                assert_eq!(base_url, "http://127.0.0.1:9000");
                assert_eq!(api_key.expose(), "k");
            }
            Backend::Sandbox => panic!("expected live backend"),
        }
    }

    fn field_of(raw: RawConfig) -> &'static str {
        raw.validate().unwrap_err().field().expect("a field error")
    }

    #[test]
    fn errors_name_the_field() {
        let env = |pairs: &[(&str, &str)]| {
            RawConfig::default().with_env(pairs.iter().map(|(k, v)| (*k, v.to_string())))
        };
        assert_eq!(
            field_of(env(&[("IDENFY_API_KEY", "k")])),
            "api.api_secret (IDENFY_API_SECRET)"
        );
        assert_eq!(
            field_of(env(&[("IDENFY_API_SECRET", "s")])),
            "api.api_key (IDENFY_API_KEY)"
        );
        assert_eq!(
            field_of(env(&[("IDENFY_BASE_URL", "https://x.example")])),
            "api.base_url (IDENFY_BASE_URL)"
        );
        assert_eq!(
            field_of(env(&[
                ("IDENFY_API_KEY", "k"),
                ("IDENFY_API_SECRET", "s"),
                ("IDENFY_BASE_URL", "http://example.com")
            ])),
            "api.base_url (IDENFY_BASE_URL)"
        );
        assert_eq!(
            field_of(env(&[("IDENFY_SIGNING_KEY", "short")])),
            "api.signing_key (IDENFY_SIGNING_KEY)"
        );
        let toml = |t: &str| RawConfig::from_toml(t, Path::new("c.toml")).unwrap();
        assert_eq!(
            field_of(toml("[kiosk]\ndefault_country = \"XX\"")),
            "kiosk.default_country"
        );
        assert_eq!(
            field_of(toml("[kiosk]\ndocuments = [\"VISA\"]")),
            "kiosk.documents"
        );
        assert_eq!(field_of(toml("[kiosk]\ndocuments = []")), "kiosk.documents");
        assert_eq!(
            field_of(toml("[kiosk]\nlanguage = \"english\"")),
            "kiosk.language"
        );
        assert_eq!(
            field_of(toml("[kiosk]\nidle_timeout_secs = 1")),
            "kiosk.idle_timeout_secs"
        );
        assert_eq!(
            field_of(toml("[webhook]\nlisten = \"nope\"")),
            "webhook.listen"
        );
        assert_eq!(
            field_of(toml("[webhook]\ncallback_url = \"http://x.example/h\"")),
            "webhook.callback_url"
        );
    }

    #[test]
    fn unknown_keys_and_bad_toml_are_refused_with_the_path() {
        for text in [
            "[api]\napi_kee = \"x\"",
            "[kiosk\n",
            "[kiosk]\nidle_timeout_secs = \"ten\"",
        ] {
            let err = RawConfig::from_toml(text, Path::new("/etc/k.toml")).unwrap_err();
            assert!(matches!(err, ConfigError::Parse { .. }), "{text}");
            assert!(err.to_string().contains("/etc/k.toml"));
        }
    }

    #[test]
    fn missing_file_is_empty_config() {
        let dir = tempfile::tempdir().unwrap();
        let raw = RawConfig::load(&dir.path().join("absent.toml")).unwrap();
        assert!(raw.validate().unwrap().backend.is_sandbox());
    }

    #[test]
    fn parse_error_message_does_not_echo_secret_values() {
        // A malformed file holding a secret must not put the secret in the error.
        let err = RawConfig::from_toml(
            "[api]\napi_secret = \"hunter2-secret\" x",
            Path::new("c.toml"),
        )
        .unwrap_err();
        assert!(!err.to_string().contains("hunter2-secret"), "{err}");
    }

    #[test]
    fn kiosk_mode_needs_a_staff_pin_hash_that_parses() {
        let phc = crate::staff::pin::hash("482913").unwrap();
        let with = |kiosk: &str| {
            RawConfig::from_toml(&format!("[kiosk]\n{kiosk}"), Path::new("c.toml")).unwrap()
        };
        for raw in [
            with("kiosk_mode = true"),
            RawConfig::default().with_env([("KYC_KIOSK_MODE", "1")]),
            RawConfig::default().with_env([("KYC_KIOSK_MODE", "true")]),
        ] {
            let e = raw.validate().unwrap_err();
            assert_eq!(e.field(), Some("kiosk.staff_pin_hash"), "{e}");
            assert!(e.to_string().contains("pin-hash"), "{e}");
        }
        // A hash that does not parse is an error, in kiosk mode or not.
        for kiosk in [
            "staff_pin_hash = \"garbage\"",
            "staff_pin_hash = \"\"\nkiosk_mode = true",
        ] {
            let e = with(kiosk).validate().unwrap_err();
            assert_eq!(e.field(), Some("kiosk.staff_pin_hash"), "{kiosk}: {e}");
        }
        let ok = with(&format!(
            "kiosk_mode = true\nstaff_pin_hash = \"{}\"",
            phc.as_str()
        ))
        .validate()
        .unwrap();
        assert!(ok.kiosk.kiosk_mode);
        assert_eq!(ok.kiosk.staff_pin_hash.as_ref(), Some(&phc));
        // Printing the configuration does not print the hash.
        let tail = phc.as_str().rsplit('$').next().unwrap();
        assert!(!format!("{ok:?}").contains(tail));
        // Without kiosk mode the first staff visit sets the PIN.
        let off = RawConfig::default().with_env([("KYC_KIOSK_MODE", "0")]);
        assert!(off.validate().unwrap().kiosk.staff_pin_hash.is_none());
    }
}
