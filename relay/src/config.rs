//! Relay settings read once at the edge (the binary's `main`, or a test), then
//! passed as typed values: the public URL and the upstream choice.
//!
//! The backend is chosen, never guessed (`KYC_KIOSK_BACKEND=live|sandbox`,
//! live when unset): live without a credential is a start-up error naming the
//! missing variable, never a silent fall-back to the sandbox.

use kyc_kiosk::config::Secret;
use kyc_kiosk::idenfy::{webhook, Client};
use kyc_kiosk::sandbox::{Sandbox, SandboxConfig, SandboxHandle};

/// iDenfy's production API root.
pub const PRODUCTION_BASE_URL: &str = "https://ivs.idenfy.com";
/// Shortest signing key accepted: the HMAC key guards every result.
pub const MIN_SIGNING_KEY_CHARS: usize = 32;

/// A setting that is missing or wrong; `field` names the variable or flag.
#[derive(Debug, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ConfigError {
    pub field: &'static str,
    pub reason: String,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        field,
        reason: reason.into(),
    }
}

/// Which API the relay talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// iDenfy (or a standalone sandbox) at `IDENFY_BASE_URL`, with credentials.
    Live,
    /// The embedded emulator, which posts its webhooks to this relay.
    Sandbox,
}

/// The upstream settings, as read from the environment; checked by
/// [`UpstreamConfig::from_env`].
#[derive(Debug, Clone)]
pub struct UpstreamConfig {
    pub backend: Backend,
    /// Live only: the API root (production when unset).
    pub base_url: String,
    pub api_key: Option<Secret>,
    pub api_secret: Option<Secret>,
    /// Live: required. Sandbox: random when unset.
    pub signing_key: Option<Secret>,
    /// Whole-request timeout of upstream calls.
    pub timeout: std::time::Duration,
    /// Sandbox only: how the emulator behaves (delays, manual review).
    pub sandbox: SandboxConfig,
}

impl UpstreamConfig {
    /// Read `KYC_KIOSK_BACKEND` and `IDENFY_*` from `vars`.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the variable: an unknown backend; for live, a
    /// missing key, secret or signing key, a signing key shorter than
    /// [`MIN_SIGNING_KEY_CHARS`], or a base URL that is not HTTPS (plain http
    /// only on loopback).
    pub fn from_env<I, K, V>(vars: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: Into<String>,
    {
        let mut backend = None;
        let mut base_url = None;
        let (mut key, mut secret, mut signing) = (None, None, None);
        for (k, v) in vars {
            let v: String = v.into();
            match k.as_ref() {
                "KYC_KIOSK_BACKEND" => backend = Some(v),
                "IDENFY_BASE_URL" => base_url = Some(v),
                "IDENFY_API_KEY" => key = Some(Secret::new(v)),
                "IDENFY_API_SECRET" => secret = Some(Secret::new(v)),
                "IDENFY_SIGNING_KEY" => signing = Some(Secret::new(v)),
                _ => {}
            }
        }
        let nonempty = |s: Option<Secret>| s.filter(|s| !s.is_empty());
        let (key, secret, signing) = (nonempty(key), nonempty(secret), nonempty(signing));
        let backend = match backend.as_deref().map(str::trim) {
            None | Some("" | "live") => Backend::Live,
            Some("sandbox") => Backend::Sandbox,
            Some(other) => {
                return Err(invalid(
                    "KYC_KIOSK_BACKEND",
                    format!("`{other}` is not `live` or `sandbox`"),
                ))
            }
        };
        if let Some(s) = &signing {
            if s.expose().chars().count() < MIN_SIGNING_KEY_CHARS {
                return Err(invalid(
                    "IDENFY_SIGNING_KEY",
                    format!("must be at least {MIN_SIGNING_KEY_CHARS} characters long"),
                ));
            }
        }
        if backend == Backend::Live {
            const HINT: &str =
                "is required with the live backend (KYC_KIOSK_BACKEND=sandbox runs the emulator)";
            if key.is_none() {
                return Err(invalid("IDENFY_API_KEY", HINT));
            }
            if secret.is_none() {
                return Err(invalid("IDENFY_API_SECRET", HINT));
            }
            if signing.is_none() {
                return Err(invalid("IDENFY_SIGNING_KEY", HINT));
            }
        }
        let base_url = match base_url.filter(|u| !u.trim().is_empty()) {
            Some(u) => check_url("IDENFY_BASE_URL", &u)?
                .as_str()
                .trim_end_matches('/')
                .to_owned(),
            None => PRODUCTION_BASE_URL.to_owned(),
        };
        Ok(Self {
            backend,
            base_url,
            api_key: key,
            api_secret: secret,
            signing_key: signing,
            timeout: kyc_kiosk::idenfy::DEFAULT_TIMEOUT,
            sandbox: SandboxConfig::default(),
        })
    }

    /// A sandbox upstream with default emulator settings (tests, demos).
    #[must_use]
    pub fn sandbox() -> Self {
        Self {
            backend: Backend::Sandbox,
            base_url: PRODUCTION_BASE_URL.to_owned(),
            api_key: None,
            api_secret: None,
            signing_key: None,
            timeout: kyc_kiosk::idenfy::DEFAULT_TIMEOUT,
            sandbox: SandboxConfig::default(),
        }
    }

    /// A live upstream at `base_url` (a standalone sandbox in tests).
    #[must_use]
    pub fn live(base_url: &str, key: Secret, secret: Secret, signing_key: Secret) -> Self {
        Self {
            backend: Backend::Live,
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key: Some(key),
            api_secret: Some(secret),
            signing_key: Some(signing_key),
            timeout: kyc_kiosk::idenfy::DEFAULT_TIMEOUT,
            sandbox: SandboxConfig::default(),
        }
    }
}

/// The running upstream: a client, the key webhooks are signed with, and the
/// embedded sandbox when that is the backend (it stops when this is dropped).
#[derive(Debug)]
pub struct Upstream {
    pub client: Client,
    pub signing_key: Secret,
    pub backend: Backend,
    _sandbox: Option<SandboxHandle>,
}

/// The upstream could not start.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("the iDenfy client: {0}")]
    Client(#[from] kyc_kiosk::idenfy::Error),
    #[error("the embedded sandbox: {0}")]
    Sandbox(#[from] kyc_kiosk::sandbox::Error),
}

impl Upstream {
    /// Build the client; with the sandbox backend, start the emulator with
    /// `webhook_url` (this relay's `/webhooks/idenfy`) as its delivery target.
    ///
    /// # Errors
    /// A missing credential, a client that cannot be built, or a sandbox that
    /// cannot bind.
    pub async fn start(cfg: &UpstreamConfig, webhook_url: &str) -> Result<Self, UpstreamError> {
        match cfg.backend {
            Backend::Live => {
                let need = |s: &Option<Secret>, field| {
                    s.clone()
                        .ok_or_else(|| invalid(field, "is required with the live backend"))
                };
                let client = Client::builder()
                    .base_url(cfg.base_url.clone())
                    .credentials(
                        need(&cfg.api_key, "IDENFY_API_KEY")?,
                        need(&cfg.api_secret, "IDENFY_API_SECRET")?,
                    )
                    .timeout(cfg.timeout)
                    .build()?;
                Ok(Self {
                    client,
                    signing_key: need(&cfg.signing_key, "IDENFY_SIGNING_KEY")?,
                    backend: Backend::Live,
                    _sandbox: None,
                })
            }
            Backend::Sandbox => {
                let mut sc = cfg.sandbox.clone();
                sc.webhook_url = Some(webhook_url.to_owned());
                if sc.signing_key.is_none() {
                    sc.signing_key.clone_from(&cfg.signing_key);
                }
                let handle = Sandbox::start(sc).await?;
                tracing::warn!(base_url = %handle.base_url(), "upstream is the embedded SANDBOX: results are simulated");
                let client = Client::builder()
                    .base_url(handle.base_url())
                    .credentials(handle.api_key().clone(), handle.api_secret().clone())
                    .timeout(cfg.timeout)
                    .build()?;
                Ok(Self {
                    client,
                    signing_key: handle.signing_key().clone(),
                    backend: Backend::Sandbox,
                    _sandbox: Some(handle),
                })
            }
        }
    }
}

/// `--public-url`: where iDenfy reaches this relay (TLS terminated in front).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(url::Url);

impl PublicUrl {
    /// # Errors
    /// When the URL does not parse, carries user-info, a query or a fragment,
    /// or is plain http on a host that is not loopback.
    pub fn parse(s: &str) -> Result<Self, ConfigError> {
        let u = check_url("--public-url", s)?;
        if u.query().is_some() || u.fragment().is_some() {
            return Err(invalid(
                "--public-url",
                "must not have a query or a fragment",
            ));
        }
        Ok(Self(u))
    }

    /// The webhook URL: the public URL + `/webhooks/idenfy`.
    #[must_use]
    pub fn webhook_url(&self) -> String {
        format!("{}{}", self.0.as_str().trim_end_matches('/'), webhook::PATH)
    }

    /// The `callbackUrl` forced on every token. iDenfy accepts only HTTPS
    /// callbacks, so a loopback `http://` public URL (a local sandbox, told
    /// the webhook URL directly) forces none.
    #[must_use]
    pub fn callback_url(&self) -> Option<String> {
        (self.0.scheme() == "https").then(|| self.webhook_url())
    }
}

impl std::fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.as_str().trim_end_matches('/'))
    }
}

/// Parse a URL: https anywhere, http only on loopback, never user-info.
fn check_url(field: &'static str, s: &str) -> Result<url::Url, ConfigError> {
    let u = url::Url::parse(s.trim()).map_err(|e| invalid(field, format!("`{s}`: {e}")))?;
    if !u.username().is_empty() || u.password().is_some() {
        return Err(invalid(field, "must not carry a user name or password"));
    }
    let loopback = match u.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => return Err(invalid(field, "has no host")),
    };
    match u.scheme() {
        "https" => Ok(u),
        "http" if loopback => Ok(u),
        "http" => Err(invalid(
            field,
            "must use https:// (plain http only on loopback)",
        )),
        other => Err(invalid(field, format!("scheme `{other}` is not https"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Result<UpstreamConfig, ConfigError> {
        UpstreamConfig::from_env(pairs.iter().map(|(k, v)| (*k, *v)))
    }

    const SIGNING: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn live_is_the_default_and_names_each_missing_credential() {
        assert_eq!(env(&[]).unwrap_err().field, "IDENFY_API_KEY");
        let e = env(&[("KYC_KIOSK_BACKEND", "live"), ("IDENFY_API_KEY", "k")]).unwrap_err();
        assert_eq!(e.field, "IDENFY_API_SECRET");
        let e = env(&[("IDENFY_API_KEY", "k"), ("IDENFY_API_SECRET", "s")]).unwrap_err();
        assert_eq!(e.field, "IDENFY_SIGNING_KEY");
        let e = env(&[
            ("IDENFY_API_KEY", "k"),
            ("IDENFY_API_SECRET", "s"),
            ("IDENFY_SIGNING_KEY", "short"),
        ])
        .unwrap_err();
        assert_eq!(e.field, "IDENFY_SIGNING_KEY");
        let c = env(&[
            ("IDENFY_API_KEY", "k"),
            ("IDENFY_API_SECRET", "s"),
            ("IDENFY_SIGNING_KEY", SIGNING),
        ])
        .unwrap();
        assert_eq!(c.backend, Backend::Live);
        assert_eq!(c.base_url, PRODUCTION_BASE_URL);
    }

    #[test]
    fn sandbox_is_only_chosen_and_unknown_backends_are_refused() {
        assert_eq!(
            env(&[("KYC_KIOSK_BACKEND", "sandbox")]).unwrap().backend,
            Backend::Sandbox
        );
        assert_eq!(
            env(&[("KYC_KIOSK_BACKEND", "sandbx")]).unwrap_err().field,
            "KYC_KIOSK_BACKEND"
        );
    }

    #[test]
    fn base_and_public_urls_need_https_off_loopback_and_no_user_info() {
        let live = |u: &str| {
            env(&[
                ("IDENFY_API_KEY", "k"),
                ("IDENFY_API_SECRET", "s"),
                ("IDENFY_SIGNING_KEY", SIGNING),
                ("IDENFY_BASE_URL", u),
            ])
        };
        assert_eq!(
            live("http://127.0.0.1:9/").unwrap().base_url,
            "http://127.0.0.1:9"
        );
        assert!(live("http://ivs.example").is_err());
        assert!(live("http://127.0.0.1@elsewhere.example").is_err());
        assert!(PublicUrl::parse("http://10.0.0.1:8443").is_err());
        assert!(PublicUrl::parse("https://u:p@kyc.bank.example").is_err());
        let p = PublicUrl::parse("https://kyc.bank.example/").unwrap();
        assert_eq!(
            p.callback_url().as_deref(),
            Some("https://kyc.bank.example/webhooks/idenfy")
        );
        let p = PublicUrl::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(p.callback_url(), None);
        assert_eq!(p.webhook_url(), "http://127.0.0.1:8080/webhooks/idenfy");
    }
}
