//! Configuration: read once at the edge (CLI `main`, Tauri `setup`), validated
//! here into typed values, then passed to constructors. No other module reads
//! files or the environment for settings.
//!
//! Two steps: [`RawConfig`] (everything optional, straight from TOML and the
//! environment) and [`Config`] (validated; errors name the field that is wrong).
//!
//! The backend is chosen, never guessed: `[api] backend = "live" | "sandbox"`
//! (`KYC_KIOSK_BACKEND`). Unset, the embedded sandbox runs only when nothing
//! at all is configured (no key, secret, base URL or signing key) outside
//! kiosk mode. With `backend = "live"` or in kiosk mode, missing credentials
//! (or an unreadable keyring that should have held them) are
//! [`ConfigError::LiveUnavailable`]: the kiosk fails closed instead of running
//! the sandbox, which approves any sharp photo.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::{Host, Url};

use crate::error::ErrorCode;

pub use crate::endpoint::PRODUCTION_BASE_URL;
pub use crate::secret::Secret;
use crate::staff::pin::PinHash;

/// Where the kiosk listens for webhooks unless told otherwise.
pub const DEFAULT_WEBHOOK_LISTEN: &str = "127.0.0.1:8787";
/// Idle time before the kiosk wipes the session and returns to the start screen.
pub const DEFAULT_IDLE_TIMEOUT_SECS: u64 = 120;
/// Shortest webhook signing key accepted (the HMAC key of every result).
pub const MIN_SIGNING_KEY_CHARS: usize = 32;

const BACKEND_FIELD: &str = "api.backend (KYC_KIOSK_BACKEND)";
const BASE_URL_FIELD: &str = "api.base_url (IDENFY_BASE_URL)";
const API_KEY_FIELD: &str = "api.api_key (IDENFY_API_KEY)";
const API_SECRET_FIELD: &str = "api.api_secret (IDENFY_API_SECRET)";
const SIGNING_KEY_FIELD: &str = "api.signing_key (IDENFY_SIGNING_KEY)";
const CALLBACK_URL_FIELD: &str = "webhook.callback_url";

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
    /// The live API is required (`api.backend = "live"` or kiosk mode) and
    /// cannot be used. Never answered by running the sandbox instead.
    #[error("{}", live_unavailable(*.required, .missing, .keyring.as_deref()))]
    LiveUnavailable {
        required: LiveRequired,
        /// The credentials not configured, as field names.
        missing: Vec<&'static str>,
        /// Why the keyring that should hold them could not be read.
        keyring: Option<String>,
    },
}

/// Why a configuration needs the live API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveRequired {
    /// `api.backend = "live"` (or `KYC_KIOSK_BACKEND=live`).
    Chosen,
    /// Kiosk mode without `api.backend = "sandbox"`.
    KioskMode,
}

fn live_unavailable(required: LiveRequired, missing: &[&str], keyring: Option<&str>) -> String {
    let why = match required {
        LiveRequired::Chosen => "api.backend is `live`",
        LiveRequired::KioskMode => "the kiosk is in kiosk mode",
    };
    let cause = match keyring {
        Some(reason) => format!("the keyring cannot be read ({reason}), so"),
        None => "the kiosk has no".to_owned(),
    };
    format!(
        "{why}, but {cause} {}; store them on the staff screen or in the keyring (a kernel \
         keyring forgets them at reboot) or set them in the environment; the sandbox is never \
         used instead unless api.backend is `sandbox`",
        missing.join(", ")
    )
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

    /// The stable code: [`ErrorCode::CredentialsMissing`] or
    /// [`ErrorCode::KeyringUnavailable`] when the live API cannot be used,
    /// [`ErrorCode::Config`] for everything else.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::LiveUnavailable {
                keyring: Some(_), ..
            } => ErrorCode::KeyringUnavailable,
            Self::LiveUnavailable { .. } => ErrorCode::CredentialsMissing,
            _ => ErrorCode::Config,
        }
    }

    /// True when the live API was required and cannot be used (the CLI's
    /// exit 5, the app's start-up error screen).
    #[must_use]
    pub fn is_live_unavailable(&self) -> bool {
        matches!(self, Self::LiveUnavailable { .. })
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
    #[serde(default)]
    pub relay: RawRelay,
    /// Why the keyring could not be read at start; given by the edge
    /// ([`RawConfig::with_keyring_error`]), never read from a file.
    #[serde(skip)]
    keyring_error: Option<String>,
}

/// `[api]`: where iDenfy is and how to authenticate.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApi {
    /// `live` or `sandbox`; unset, see the module documentation.
    pub backend: Option<String>,
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

/// `[relay]`: the back office (`kyc-kiosk-relay`) this kiosk goes through
/// instead of holding iDenfy credentials.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRelay {
    pub url: Option<String>,
    /// The kiosk credential printed by `kyc-kiosk-relay kiosk add`.
    pub key: Option<Secret>,
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
    /// `IDENFY_API_SECRET`, `IDENFY_SIGNING_KEY`, `KYC_KIOSK_BACKEND`,
    /// `KYC_KIOSK_RELAY_URL`, `KYC_KIOSK_RELAY_KEY`) on the file's values;
    /// `KYC_KIOSK_MODE=1` (or `true`) turns kiosk mode on. The
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
                "KYC_KIOSK_BACKEND" => self.api.backend = Some(v),
                // The environment turns kiosk mode on, never off.
                "KYC_KIOSK_MODE" if v == "1" || v.eq_ignore_ascii_case("true") => {
                    self.kiosk.kiosk_mode = Some(true);
                }
                "KYC_KIOSK_RELAY_URL" => self.relay.url = Some(v),
                "KYC_KIOSK_RELAY_KEY" => self.relay.key = Some(Secret::new(v)),
                _ => {}
            }
        }
        self
    }

    /// Records why the keyring could not be read, so that a configuration
    /// that needs the live API names the keyring as the cause of the
    /// missing credentials.
    #[must_use]
    pub fn with_keyring_error(mut self, reason: impl Into<String>) -> Self {
        self.keyring_error = Some(reason.into());
        self
    }

    /// Check everything and produce the typed configuration.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the first field that is wrong.
    pub fn validate(self) -> Result<Config, ConfigError> {
        let kiosk_mode = self.kiosk.kiosk_mode.unwrap_or(false);
        let relay = validate_relay(self.relay)?;
        // With a relay the kiosk holds no iDenfy credential: the backend
        // choice is not used, so it is not asked for.
        let (backend, signing_key) = if relay.is_some() {
            (Backend::Sandbox, None)
        } else {
            validate_backend(self.api, kiosk_mode, self.keyring_error)?
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
        let callback_url = self
            .webhook
            .callback_url
            .as_deref()
            .map(validate_callback_url)
            .transpose()?;

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
            relay,
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

/// `[relay]`: both the URL and the key, or neither. The URL is checked as the
/// client checks it (HTTPS, plain http only on loopback).
fn validate_relay(raw: RawRelay) -> Result<Option<RelayConfig>, ConfigError> {
    let key = raw.key.filter(|k| !k.is_empty());
    match (raw.url, key) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(ConfigError::invalid(
            "relay.url (KYC_KIOSK_RELAY_URL)",
            "is missing while a relay key is set",
        )),
        (Some(_), None) => Err(ConfigError::invalid(
            "relay.key (KYC_KIOSK_RELAY_KEY)",
            "is missing while a relay URL is set (it is printed by `kyc-kiosk-relay kiosk add`)",
        )),
        (Some(url), Some(key)) => {
            let url = crate::backoffice::parse_url(&url).map_err(|e| match e {
                crate::backoffice::Error::Invalid { reason, .. } => {
                    ConfigError::invalid("relay.url (KYC_KIOSK_RELAY_URL)", reason)
                }
                other => ConfigError::invalid("relay.url (KYC_KIOSK_RELAY_URL)", other.to_string()),
            })?;
            Ok(Some(RelayConfig {
                url: url.to_string(),
                key,
            }))
        }
    }
}

/// How the backend was chosen.
#[derive(Clone, Copy)]
enum Choice {
    Live,
    Sandbox,
}

/// The backend and the signing key (none with the embedded sandbox, which
/// signs with its own).
fn validate_backend(
    api: RawApi,
    kiosk_mode: bool,
    keyring: Option<String>,
) -> Result<(Backend, Option<Secret>), ConfigError> {
    let choice = match api.backend.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(b) if b.eq_ignore_ascii_case("live") => Some(Choice::Live),
        Some(b) if b.eq_ignore_ascii_case("sandbox") => Some(Choice::Sandbox),
        Some(other) => {
            return Err(ConfigError::invalid(
                BACKEND_FIELD,
                format!("`{other}` is not `live` or `sandbox`"),
            ))
        }
    };
    let key = api.api_key.filter(|k| !k.is_empty());
    let secret = api.api_secret.filter(|s| !s.is_empty());
    let signing_key = api.signing_key.filter(|k| !k.is_empty());
    if signing_key
        .as_ref()
        .is_some_and(|k| k.expose().chars().count() < MIN_SIGNING_KEY_CHARS)
    {
        return Err(ConfigError::invalid(
            SIGNING_KEY_FIELD,
            format!("is shorter than {MIN_SIGNING_KEY_CHARS} characters"),
        ));
    }
    let base_url = api.base_url.filter(|u| !u.trim().is_empty());
    let required = match choice {
        Some(Choice::Sandbox) => {
            if base_url.is_some() {
                // A standalone sandbox is a base URL with credentials, like any
                // other API: `sandbox` means the embedded one only.
                return Err(ConfigError::invalid(
                    BASE_URL_FIELD,
                    "is set while api.backend is `sandbox` (the embedded sandbox); for another \
                     API, a standalone sandbox included, set api.backend to `live`",
                ));
            }
            return Ok((Backend::Sandbox, None));
        }
        Some(Choice::Live) => Some(LiveRequired::Chosen),
        None if kiosk_mode => Some(LiveRequired::KioskMode),
        None => None,
    };
    if let Some(required) = required {
        let missing: Vec<&'static str> = [
            (key.is_none(), API_KEY_FIELD),
            (secret.is_none(), API_SECRET_FIELD),
            (signing_key.is_none(), SIGNING_KEY_FIELD),
        ]
        .into_iter()
        .filter_map(|(absent, field)| absent.then_some(field))
        .collect();
        let (Some(api_key), Some(api_secret), true) = (key, secret, missing.is_empty()) else {
            return Err(ConfigError::LiveUnavailable {
                required,
                missing,
                keyring,
            });
        };
        let base_url = validate_base_url(base_url.as_deref().unwrap_or(PRODUCTION_BASE_URL))?;
        return Ok((
            Backend::Live {
                base_url,
                api_key,
                api_secret,
            },
            signing_key,
        ));
    }
    // Not chosen, not kiosk mode: the sandbox only when nothing is configured.
    match (key, secret) {
        (None, None) => {
            if let Some(url) = base_url {
                return Err(ConfigError::invalid(
                    BASE_URL_FIELD,
                    format!("is set to `{}` but no API key is configured; set IDENFY_API_KEY and IDENFY_API_SECRET, or unset it to use the sandbox", shown_url(&url)),
                ));
            }
            if signing_key.is_some() {
                return Err(ConfigError::invalid(
                    API_KEY_FIELD,
                    "is missing while a signing key is set; set IDENFY_API_KEY and \
                     IDENFY_API_SECRET, or unset the signing key to use the sandbox",
                ));
            }
            Ok((Backend::Sandbox, None))
        }
        (Some(_), None) => Err(ConfigError::invalid(
            API_SECRET_FIELD,
            "is missing while an API key is set",
        )),
        (None, Some(_)) => Err(ConfigError::invalid(
            API_KEY_FIELD,
            "is missing while an API secret is set",
        )),
        (Some(api_key), Some(api_secret)) => {
            let base_url = validate_base_url(base_url.as_deref().unwrap_or(PRODUCTION_BASE_URL))?;
            Ok((
                Backend::Live {
                    base_url,
                    api_key,
                    api_secret,
                },
                signing_key,
            ))
        }
    }
}

/// A URL for an error message; one that may hold a user name or password is
/// not repeated.
fn shown_url(url: &str) -> &str {
    if url.contains('@') {
        "(a URL with user-info)"
    } else {
        url
    }
}

/// A URL parsed for one field: http(s), a host, no user-info, no fragment.
fn parse_url(field: &'static str, text: &str) -> Result<Url, ConfigError> {
    let text = text.trim();
    let url = Url::parse(text).map_err(|e| {
        ConfigError::invalid(field, format!("`{}` is not a URL ({e})", shown_url(text)))
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        // `http://127.0.0.1@elsewhere` names the host `elsewhere`.
        return Err(ConfigError::invalid(
            field,
            "must not hold a user name or password (`user@`): the host is what follows the `@`",
        ));
    }
    if url.fragment().is_some() {
        return Err(ConfigError::invalid(
            field,
            "must not have a fragment (`#`)",
        ));
    }
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ConfigError::invalid(
            field,
            format!("scheme `{}` is not http or https", url.scheme()),
        ));
    }
    if url.host().is_none() {
        return Err(ConfigError::invalid(field, format!("`{text}` has no host")));
    }
    Ok(url)
}

/// True for 127.0.0.0/8, ::1 and `localhost`.
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
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
/// hosts (a local sandbox); no user-info, query or fragment. Returns the
/// URL without a trailing slash.
fn validate_base_url(text: &str) -> Result<String, ConfigError> {
    let url = parse_url(BASE_URL_FIELD, text)?;
    if url.query().is_some() {
        return Err(ConfigError::invalid(
            BASE_URL_FIELD,
            "must not have a query (`?`)",
        ));
    }
    if url.scheme() == "http" && !is_loopback(&url) {
        return Err(ConfigError::invalid(
            BASE_URL_FIELD,
            "must use https:// (plain http is allowed only for a local sandbox on loopback)",
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// Accepts `https://` URLs only (iDenfy calls only HTTPS endpoints), with
/// no user-info or fragment. Returns the URL as given (trimmed).
fn validate_callback_url(text: &str) -> Result<String, ConfigError> {
    let url = parse_url(CALLBACK_URL_FIELD, text)?;
    if url.scheme() != "https" {
        return Err(ConfigError::invalid(
            CALLBACK_URL_FIELD,
            "must be an https:// URL (iDenfy calls only HTTPS endpoints)",
        ));
    }
    Ok(text.trim().to_owned())
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

    /// The base URL of an API that is not iDenfy's production host (a test
    /// API or a standalone sandbox): shown on screen, like the SANDBOX
    /// banner. `None` for production and for the embedded sandbox.
    #[must_use]
    pub fn test_api(&self) -> Option<&str> {
        match self {
            Self::Live { base_url, .. } if !is_production(base_url) => Some(base_url),
            _ => None,
        }
    }
}

/// Same scheme, host and port as [`PRODUCTION_BASE_URL`].
fn is_production(base_url: &str) -> bool {
    let (Ok(url), Ok(prod)) = (Url::parse(base_url), Url::parse(PRODUCTION_BASE_URL)) else {
        return false;
    };
    url.scheme() == prod.scheme()
        && url.host_str() == prod.host_str()
        && url.port_or_known_default() == prod.port_or_known_default()
}

/// The back office the kiosk goes through (`[relay]`).
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Checked by [`crate::backoffice::parse_url`].
    pub url: String,
    /// This kiosk's credential.
    pub key: Secret,
}

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Used only without a relay: with one, the relay holds the credentials.
    pub backend: Backend,
    /// The back office; when set, every API call goes through it.
    pub relay: Option<RelayConfig>,
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
    const SIGNING: &str = "signing-key-abcdef-0123456789-xyz";

    #[test]
    fn debug_output_never_shows_secrets() {
        let cfg = RawConfig::default()
            .with_env([
                ("IDENFY_API_KEY", KEY),
                ("IDENFY_API_SECRET", SECRET),
                ("IDENFY_SIGNING_KEY", SIGNING),
            ])
            .validate()
            .unwrap();
        let dump = format!("{cfg:?} {cfg:#?}");
        for v in [KEY, SECRET, SIGNING] {
            assert!(!dump.contains(v), "config debug output leaks {v}");
        }
        assert!(dump.contains("***"));
    }

    #[test]
    fn relay_needs_url_and_key_and_https_off_loopback() {
        let ok = RawConfig::default()
            .with_env([
                ("KYC_KIOSK_RELAY_URL", "http://127.0.0.1:9000"),
                ("KYC_KIOSK_RELAY_KEY", "kiosk-credential-0123456789"),
            ])
            .validate()
            .unwrap();
        let relay = ok.relay.as_ref().unwrap();
        assert_eq!(relay.url, "http://127.0.0.1:9000/");
        assert!(!format!("{ok:?}").contains("kiosk-credential-0123456789"));
        let field = |vars: &[(&str, &str)]| {
            RawConfig::default()
                .with_env(vars.iter().copied())
                .validate()
                .unwrap_err()
                .field()
        };
        assert_eq!(
            field(&[("KYC_KIOSK_RELAY_URL", "https://relay.bank.example")]),
            Some("relay.key (KYC_KIOSK_RELAY_KEY)")
        );
        assert_eq!(
            field(&[("KYC_KIOSK_RELAY_KEY", "k")]),
            Some("relay.url (KYC_KIOSK_RELAY_URL)")
        );
        assert_eq!(
            field(&[
                ("KYC_KIOSK_RELAY_URL", "http://relay.bank.example"),
                ("KYC_KIOSK_RELAY_KEY", "k"),
            ]),
            Some("relay.url (KYC_KIOSK_RELAY_URL)")
        );
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

    /// The environment `pairs` over an empty file that holds a staff PIN
    /// hash (kiosk mode needs one; the backend rules are what these tests
    /// look at).
    fn env(pairs: &[(&str, &str)]) -> RawConfig {
        static HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            crate::staff::pin::hash("482913")
                .unwrap()
                .as_str()
                .to_owned()
        });
        let mut raw = RawConfig::default();
        raw.kiosk.staff_pin_hash = Some(HASH.clone());
        raw.with_env(pairs.iter().map(|(k, v)| (*k, v.to_string())))
    }

    const FULL: [(&str, &str); 3] = [
        ("IDENFY_API_KEY", KEY),
        ("IDENFY_API_SECRET", SECRET),
        ("IDENFY_SIGNING_KEY", SIGNING),
    ];

    #[test]
    fn a_chosen_live_backend_or_kiosk_mode_never_falls_back_to_the_sandbox() {
        let kiosk_toml = RawConfig::from_toml("[kiosk]\nkiosk_mode = true", Path::new("c.toml"))
            .unwrap()
            .with_env(Vec::<(String, String)>::new());
        let live_toml = RawConfig::from_toml("[api]\nbackend = \"live\"", Path::new("c.toml"))
            .unwrap()
            .with_env(Vec::<(String, String)>::new());
        for (raw, required) in [
            (env(&[("KYC_KIOSK_BACKEND", "live")]), LiveRequired::Chosen),
            (live_toml, LiveRequired::Chosen),
            (env(&[("KYC_KIOSK_MODE", "1")]), LiveRequired::KioskMode),
            (env(&[("KYC_KIOSK_MODE", "true")]), LiveRequired::KioskMode),
            (kiosk_toml, LiveRequired::KioskMode),
        ] {
            let e = raw.validate().unwrap_err();
            assert_eq!(e.code(), ErrorCode::CredentialsMissing, "{e}");
            assert!(e.is_live_unavailable());
            match &e {
                ConfigError::LiveUnavailable {
                    required: r,
                    missing,
                    keyring: None,
                } => {
                    assert_eq!(*r, required);
                    assert_eq!(
                        missing,
                        &[API_KEY_FIELD, API_SECRET_FIELD, SIGNING_KEY_FIELD]
                    );
                }
                other => panic!("{other:?}"),
            }
            let text = e.to_string();
            assert!(text.contains("IDENFY_API_KEY") && text.contains("IDENFY_SIGNING_KEY"));
        }
        // Key and secret without the signing key are not enough either.
        let e = env(&[
            ("KYC_KIOSK_MODE", "1"),
            ("IDENFY_API_KEY", KEY),
            ("IDENFY_API_SECRET", SECRET),
        ])
        .validate()
        .unwrap_err();
        assert!(
            matches!(&e, ConfigError::LiveUnavailable { missing, .. } if missing == &[SIGNING_KEY_FIELD]),
            "{e:?}"
        );
        assert!(!e.to_string().contains(SECRET));
        // Complete credentials: the live API, production by default.
        let mut pairs = FULL.to_vec();
        pairs.push(("KYC_KIOSK_MODE", "1"));
        let cfg = env(&pairs).validate().unwrap();
        assert!(cfg.kiosk.kiosk_mode);
        assert!(!cfg.backend.is_sandbox());
        assert_eq!(cfg.backend.test_api(), None);
        // KYC_KIOSK_MODE=0 does not turn the file's kiosk mode off.
        let raw = RawConfig::from_toml("[kiosk]\nkiosk_mode = true", Path::new("c.toml"))
            .unwrap()
            .with_env([("KYC_KIOSK_MODE", "0")]);
        assert!(raw.validate().unwrap_err().is_live_unavailable());
    }

    #[test]
    fn the_sandbox_runs_when_chosen_even_in_kiosk_mode() {
        let cfg = env(&[("KYC_KIOSK_MODE", "1"), ("KYC_KIOSK_BACKEND", "sandbox")])
            .validate()
            .unwrap();
        assert!(cfg.backend.is_sandbox() && cfg.kiosk.kiosk_mode);
        // Credentials (say, from the keyring) are not used by the embedded sandbox.
        let mut pairs = FULL.to_vec();
        pairs.push(("KYC_KIOSK_BACKEND", "sandbox"));
        let cfg = env(&pairs).validate().unwrap();
        assert!(cfg.backend.is_sandbox());
        assert!(cfg.signing_key.is_none());
        // A base URL with `sandbox` is ambiguous: named, not guessed.
        let mut pairs = FULL.to_vec();
        pairs.push(("KYC_KIOSK_BACKEND", "sandbox"));
        pairs.push(("IDENFY_BASE_URL", "http://127.0.0.1:8080"));
        assert_eq!(field_of(env(&pairs)), BASE_URL_FIELD);
        assert_eq!(
            field_of(env(&[("KYC_KIOSK_BACKEND", "production")])),
            BACKEND_FIELD
        );
    }

    #[test]
    fn an_unreadable_keyring_is_named_when_the_live_api_needs_it() {
        let e = env(&[("KYC_KIOSK_MODE", "1")])
            .with_keyring_error("no secret service")
            .validate()
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::KeyringUnavailable);
        assert!(e.to_string().contains("no secret service"), "{e}");
        // The environment gave everything: the keyring was not needed.
        let mut pairs = FULL.to_vec();
        pairs.push(("KYC_KIOSK_MODE", "1"));
        assert!(env(&pairs)
            .with_keyring_error("no secret service")
            .validate()
            .is_ok());
        // Outside kiosk mode with nothing configured, the embedded sandbox
        // (shown as SANDBOX) still runs on a desktop without a keyring.
        assert!(RawConfig::default()
            .with_keyring_error("no secret service")
            .validate()
            .unwrap()
            .backend
            .is_sandbox());
    }

    #[test]
    fn a_signing_key_alone_is_configuration_not_the_sandbox() {
        assert_eq!(
            field_of(env(&[("IDENFY_SIGNING_KEY", SIGNING)])),
            API_KEY_FIELD
        );
    }

    #[test]
    fn signing_keys_have_at_least_32_characters() {
        let short = "k".repeat(MIN_SIGNING_KEY_CHARS - 1);
        let long = "k".repeat(MIN_SIGNING_KEY_CHARS);
        let with = |k: &str| {
            env(&[
                ("IDENFY_API_KEY", KEY),
                ("IDENFY_API_SECRET", SECRET),
                ("IDENFY_SIGNING_KEY", k),
            ])
        };
        assert_eq!(field_of(with(&short)), SIGNING_KEY_FIELD);
        assert_eq!(
            with(&long)
                .validate()
                .unwrap()
                .signing_key
                .unwrap()
                .expose(),
            long
        );
    }

    fn base_url(url: &str) -> Result<Backend, ConfigError> {
        let mut pairs = FULL.to_vec();
        pairs.push(("IDENFY_BASE_URL", url));
        env(&pairs).validate().map(|c| c.backend)
    }

    #[test]
    fn base_urls_are_parsed_http_only_on_loopback_and_without_user_info() {
        for ok in [
            "https://ivs.idenfy.com",
            "https://api.example.com:8443/v2/",
            "http://127.0.0.1:8080",
            "http://127.5.6.7",
            "http://[::1]:9000",
            "http://localhost:9000",
            "http://LOCALHOST",
        ] {
            assert!(base_url(ok).is_ok(), "{ok}: {:?}", base_url(ok));
        }
        for bad in [
            // User-info moves the host after the `@`.
            "http://127.0.0.1@elsewhere.example",
            "http://127.0.0.1:80@elsewhere.example",
            "https://user:pw@ivs.idenfy.com",
            "https://user@ivs.idenfy.com",
            "http://example.com",
            "http://128.0.0.1",
            "http://localhost.example.com",
            "http://[::2]",
            "https://ivs.idenfy.com/?x=1",
            "https://ivs.idenfy.com/#top",
            "ftp://ivs.idenfy.com",
            "ivs.idenfy.com",
            "https://",
        ] {
            let e = base_url(bad).unwrap_err();
            assert_eq!(e.field(), Some(BASE_URL_FIELD), "{bad}: {e}");
            assert!(
                !e.to_string().contains("pw@"),
                "never echoes user-info: {e}"
            );
        }
    }

    #[test]
    fn callback_urls_are_https_without_user_info() {
        let cb = |u: &str| {
            RawConfig::from_toml(
                &format!("[webhook]\ncallback_url = \"{u}\""),
                Path::new("c.toml"),
            )
            .unwrap()
            .validate()
        };
        assert_eq!(
            cb("https://kiosk.example.com/webhooks/idenfy")
                .unwrap()
                .webhook
                .callback_url
                .as_deref(),
            Some("https://kiosk.example.com/webhooks/idenfy")
        );
        for bad in [
            "http://kiosk.example.com/h",
            "https://user:pw@kiosk.example.com/h",
            "https://kiosk.example.com@evil.example/h",
            "https://kiosk.example.com/h#x",
            "https://",
        ] {
            assert_eq!(
                cb(bad).unwrap_err().field(),
                Some(CALLBACK_URL_FIELD),
                "{bad}"
            );
        }
    }

    #[test]
    fn any_api_but_production_is_a_test_api() {
        assert_eq!(base_url("https://ivs.idenfy.com").unwrap().test_api(), None);
        assert_eq!(
            base_url("https://IVS.idenfy.com:443/").unwrap().test_api(),
            None
        );
        assert_eq!(
            base_url("http://127.0.0.1:8080").unwrap().test_api(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(
            base_url("https://ivs.idenfy.com:8443").unwrap().test_api(),
            Some("https://ivs.idenfy.com:8443")
        );
        assert_eq!(
            base_url("https://staging.idenfy.com").unwrap().test_api(),
            Some("https://staging.idenfy.com")
        );
        assert_eq!(Backend::Sandbox.test_api(), None);
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
        // The embedded sandbox is chosen: the PIN rule is what is looked at.
        let with = |kiosk: &str| {
            RawConfig::from_toml(
                &format!("[api]\nbackend = \"sandbox\"\n[kiosk]\n{kiosk}"),
                Path::new("c.toml"),
            )
            .unwrap()
        };
        for raw in [
            with("kiosk_mode = true"),
            RawConfig::default()
                .with_env([("KYC_KIOSK_MODE", "1"), ("KYC_KIOSK_BACKEND", "sandbox")]),
            RawConfig::default()
                .with_env([("KYC_KIOSK_MODE", "true"), ("KYC_KIOSK_BACKEND", "sandbox")]),
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
