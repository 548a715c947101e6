//! API secrets and the back-office kiosk credential in the OS keyring (macOS Keychain, Windows Credential Manager,
//! the Secret Service with the kernel keyring as its cache on Linux). They are
//! written by the staff screen, read once at start into
//! [`crate::config::RawConfig`], and never shown again: this module only
//! ever tells whether a secret is stored.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use crate::config::{RawConfig, Secret};

use super::Error;

/// The keyring's service name for this application.
pub const SERVICE: &str = "kyc-kiosk";

/// The secrets the kiosk keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretName {
    ApiKey,
    ApiSecret,
    SigningKey,
    /// The kiosk credential for the back-office relay (`[relay] key`).
    RelayKey,
}

impl SecretName {
    /// The iDenfy API's secrets (what "remove credentials" removes).
    pub const API: [Self; 3] = [Self::ApiKey, Self::ApiSecret, Self::SigningKey];
    pub const ALL: [Self; 4] = [
        Self::ApiKey,
        Self::ApiSecret,
        Self::SigningKey,
        Self::RelayKey,
    ];

    /// The keyring entry's user name (and the form field's name).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApiKey => "apiKey",
            Self::ApiSecret => "apiSecret",
            Self::SigningKey => "signingKey",
            Self::RelayKey => "relayKey",
        }
    }

    /// Checks a value before it is stored: no spaces inside, a sane length.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the field (never echoing the value).
    pub fn validate(self, value: &Secret) -> Result<(), Error> {
        let v = value.expose();
        let min = match self {
            Self::SigningKey => crate::config::MIN_SIGNING_KEY_CHARS,
            // `kyc-kiosk-relay kiosk add` prints long random credentials.
            Self::RelayKey => 16,
            Self::ApiKey | Self::ApiSecret => 4,
        };
        if v.chars().count() < min || v.len() > 512 {
            return Err(Error::Invalid {
                field: self.as_str(),
                reason: format!("must be {min} to 512 characters"),
            });
        }
        if v.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::Invalid {
                field: self.as_str(),
                reason: "must not contain spaces or line breaks".into(),
            });
        }
        Ok(())
    }
}

/// Where secrets are kept.
pub trait SecretStore: Send + Sync {
    /// The stored value, if any.
    ///
    /// # Errors
    /// [`Error::Keyring`] when the store cannot be read.
    fn get(&self, name: SecretName) -> Result<Option<Secret>, Error>;
    /// Stores (or replaces) a value.
    ///
    /// # Errors
    /// [`Error::Keyring`] when the store refuses.
    fn set(&self, name: SecretName, value: &Secret) -> Result<(), Error>;
    /// Removes a value; removing an absent one is not an error.
    ///
    /// # Errors
    /// [`Error::Keyring`] when the store refuses.
    fn delete(&self, name: SecretName) -> Result<(), Error>;
    /// A short description for the staff screen ("OS keyring", ...).
    fn describe(&self) -> &'static str;
}

/// Which keyring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyringBackend {
    /// The platform's persistent store (the default).
    Os,
    /// Linux only: the kernel keyring alone (no desktop keyring needed;
    /// does not survive a reboot). For headless kiosks provisioned at boot.
    #[cfg(target_os = "linux")]
    Kernel,
}

/// The OS keyring through the `keyring` crate.
#[derive(Debug)]
pub struct KeyringStore {
    service: String,
    backend: KeyringBackend,
}

impl KeyringStore {
    /// The OS keyring under the service name [`SERVICE`].
    #[must_use]
    pub fn os() -> Self {
        Self::new(SERVICE, KeyringBackend::Os)
    }

    /// A store under another service name (tests use their own).
    #[must_use]
    pub fn new(service: &str, backend: KeyringBackend) -> Self {
        Self {
            service: service.to_owned(),
            backend,
        }
    }

    fn entry(&self, name: SecretName) -> Result<keyring::Entry, Error> {
        let r = match self.backend {
            KeyringBackend::Os => keyring::Entry::new(&self.service, name.as_str()),
            #[cfg(target_os = "linux")]
            KeyringBackend::Kernel => keyring::keyutils::KeyutilsCredential::new_with_target(
                None,
                &self.service,
                name.as_str(),
            )
            .map(|c| keyring::Entry::new_with_credential(Box::new(c))),
        };
        r.map_err(keyring_error)
    }
}

/// The keyring's own error words (they never include the secret).
fn keyring_error(e: keyring::Error) -> Error {
    Error::Keyring {
        reason: e.to_string(),
    }
}

impl SecretStore for KeyringStore {
    fn get(&self, name: SecretName) -> Result<Option<Secret>, Error> {
        match self.entry(name)?.get_password() {
            Ok(v) => Ok(Some(Secret::new(zeroize::Zeroizing::new(v).as_str()))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(keyring_error(e)),
        }
    }

    fn set(&self, name: SecretName, value: &Secret) -> Result<(), Error> {
        self.entry(name)?
            .set_password(value.expose())
            .map_err(keyring_error)
    }

    fn delete(&self, name: SecretName) -> Result<(), Error> {
        match self.entry(name)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(keyring_error(e)),
        }
    }

    fn describe(&self) -> &'static str {
        match self.backend {
            KeyringBackend::Os => "OS keyring",
            #[cfg(target_os = "linux")]
            KeyringBackend::Kernel => "kernel keyring",
        }
    }
}

/// Secrets held in memory only, forgotten when the app exits (tests and
/// demonstrations; never the default).
#[derive(Debug, Default)]
pub struct MemoryStore(Mutex<HashMap<SecretName, Secret>>);

impl SecretStore for MemoryStore {
    fn get(&self, name: SecretName) -> Result<Option<Secret>, Error> {
        Ok(self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&name)
            .cloned())
    }

    fn set(&self, name: SecretName, value: &Secret) -> Result<(), Error> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name, value.clone());
        Ok(())
    }

    fn delete(&self, name: SecretName) -> Result<(), Error> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&name);
        Ok(())
    }

    fn describe(&self) -> &'static str {
        "memory (forgotten at exit)"
    }
}

/// Which secrets are stored, without reading them out to the caller.
///
/// # Errors
/// The store's error.
pub fn stored(store: &dyn SecretStore) -> Result<Vec<(SecretName, bool)>, Error> {
    SecretName::ALL
        .iter()
        .map(|&n| Ok((n, store.get(n)?.is_some())))
        .collect()
}

/// Stores the given secrets, all or none: every value is checked first, and
/// an API key needs its secret (stored or given) and the other way round.
///
/// # Errors
/// [`Error::Invalid`] naming the field, or the store's error.
pub fn save(store: &dyn SecretStore, values: &[(SecretName, Secret)]) -> Result<(), Error> {
    for (name, v) in values {
        name.validate(v)?;
    }
    let given = |n: SecretName| values.iter().any(|(k, _)| *k == n);
    for (a, b) in [
        (SecretName::ApiKey, SecretName::ApiSecret),
        (SecretName::ApiSecret, SecretName::ApiKey),
    ] {
        if given(a) && !given(b) && store.get(b)?.is_none() {
            return Err(Error::Invalid {
                field: b.as_str(),
                reason: format!("is needed together with {}", a.as_str()),
            });
        }
    }
    for (name, v) in values {
        store.set(*name, v)?;
    }
    Ok(())
}

/// Fills the secrets that the file and the environment did not give from
/// the store (call it after both are applied: a value they give wins). The
/// kiosk credential is filled only when a relay URL is set: without one it
/// would make the configuration refuse a key without a URL.
///
/// # Errors
/// The store's error (the caller may start without the keyring).
pub fn fill(raw: &mut RawConfig, store: &dyn SecretStore) -> Result<(), Error> {
    let slots: [(SecretName, &mut Option<Secret>); 3] = [
        (SecretName::ApiKey, &mut raw.api.api_key),
        (SecretName::ApiSecret, &mut raw.api.api_secret),
        (SecretName::SigningKey, &mut raw.api.signing_key),
    ];
    for (name, slot) in slots {
        if slot.is_none() {
            *slot = store.get(name)?;
        }
    }
    let has_url = raw
        .relay
        .url
        .as_deref()
        .is_some_and(|u| !u.trim().is_empty());
    if has_url && raw.relay.key.is_none() {
        raw.relay.key = store.get(SecretName::RelayKey)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    const KEY: &str = "key-live-2931";
    const SECRET: &str = "s3cr3t-value-8821";

    fn s(v: &str) -> Secret {
        Secret::new(v)
    }

    #[test]
    fn saving_checks_everything_first_and_stores_nothing_on_error() {
        let store = MemoryStore::default();
        let e = save(&store, &[(SecretName::ApiKey, s(KEY))]).unwrap_err();
        assert_eq!(e.field(), Some("apiSecret"), "{e}");
        let e = save(
            &store,
            &[
                (SecretName::ApiKey, s(KEY)),
                (SecretName::ApiSecret, s("has space inside")),
            ],
        )
        .unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidInput);
        assert_eq!(e.field(), Some("apiSecret"));
        assert!(!e.to_string().contains("space inside"), "never echoes: {e}");
        assert!(stored(&store).unwrap().iter().all(|(_, set)| !set));

        save(
            &store,
            &[
                (SecretName::ApiKey, s(KEY)),
                (SecretName::ApiSecret, s(SECRET)),
            ],
        )
        .unwrap();
        // Replacing only the secret is fine once a key is stored.
        save(&store, &[(SecretName::ApiSecret, s("another-secret-1"))]).unwrap();
        let e = save(&store, &[(SecretName::SigningKey, s("short"))]).unwrap_err();
        assert_eq!(e.field(), Some("signingKey"));
        let flags = stored(&store).unwrap();
        assert_eq!(
            flags,
            vec![
                (SecretName::ApiKey, true),
                (SecretName::ApiSecret, true),
                (SecretName::SigningKey, false),
                (SecretName::RelayKey, false)
            ]
        );
    }

    #[test]
    fn the_kiosk_credential_fills_the_relay_only_when_a_url_is_set() {
        let store = MemoryStore::default();
        let e = save(&store, &[(SecretName::RelayKey, s("short"))]).unwrap_err();
        assert_eq!(e.field(), Some("relayKey"), "{e}");
        save(&store, &[(SecretName::RelayKey, s("kc-0123456789abcdef"))]).unwrap();
        // No relay URL: the stored credential stays out (a key without a
        // URL is a configuration error).
        let mut raw = RawConfig::default();
        fill(&mut raw, &store).unwrap();
        assert!(raw.relay.key.is_none());
        raw.clone().validate().unwrap();
        // A URL from the environment: the stored credential completes it.
        let mut raw =
            RawConfig::default().with_env([("KYC_KIOSK_RELAY_URL", "https://relay.bank.example")]);
        fill(&mut raw, &store).unwrap();
        let cfg = raw.validate().unwrap();
        assert_eq!(
            cfg.relay.as_ref().unwrap().key.expose(),
            "kc-0123456789abcdef"
        );
        // A credential from the environment wins over the stored one.
        let mut raw = RawConfig::default().with_env([
            ("KYC_KIOSK_RELAY_URL", "https://relay.bank.example"),
            ("KYC_KIOSK_RELAY_KEY", "kc-from-the-environment"),
        ]);
        fill(&mut raw, &store).unwrap();
        assert_eq!(raw.relay.key.unwrap().expose(), "kc-from-the-environment");
    }

    #[test]
    fn stored_credentials_fill_the_config_and_the_environment_wins() {
        let store = MemoryStore::default();
        save(
            &store,
            &[
                (SecretName::ApiKey, s(KEY)),
                (SecretName::ApiSecret, s(SECRET)),
            ],
        )
        .unwrap();
        let mut raw = RawConfig::default();
        fill(&mut raw, &store).unwrap();
        let cfg = raw.clone().validate().unwrap();
        match &cfg.backend {
            crate::config::Backend::Live { api_key, .. } => assert_eq!(api_key.expose(), KEY),
            other => panic!("{other:?}"),
        }
        let cfg = raw
            .with_env([("IDENFY_API_KEY", "from-env-1234")])
            .validate()
            .unwrap();
        match &cfg.backend {
            crate::config::Backend::Live { api_key, .. } => {
                assert_eq!(api_key.expose(), "from-env-1234");
            }
            other => panic!("{other:?}"),
        }
    }

    /// The kernel keyring needs no desktop session, so the real keyring code
    /// path runs here (under a service name of its own, removed after).
    #[cfg(target_os = "linux")]
    #[test]
    fn the_kernel_keyring_stores_reads_and_deletes() {
        let service = format!("kyc-kiosk-test-{}", std::process::id());
        let store = KeyringStore::new(&service, KeyringBackend::Kernel);
        assert_eq!(store.get(SecretName::ApiKey).unwrap(), None);
        store.set(SecretName::ApiKey, &s(KEY)).unwrap();
        assert_eq!(
            store.get(SecretName::ApiKey).unwrap().unwrap().expose(),
            KEY
        );
        // A second handle (another entry object) sees the same value.
        let again = KeyringStore::new(&service, KeyringBackend::Kernel);
        assert!(again.get(SecretName::ApiKey).unwrap().is_some());
        store.delete(SecretName::ApiKey).unwrap();
        store.delete(SecretName::ApiKey).unwrap();
        assert_eq!(again.get(SecretName::ApiKey).unwrap(), None);
    }
}
