//! Secrets (API key, API secret, signing key) that never print, never
//! serialize and are zeroed on drop. A leaf: configuration, the iDenfy
//! client, the sandbox and the staff settings all hold them.

use serde::Deserialize;
use zeroize::Zeroizing;

/// A secret (API key, API secret, signing key). Its `Debug` and `Display` print
/// `***`, it is not `Serialize`, and its memory is zeroed on drop. Read it with
/// [`Secret::expose`] only where it is sent (HTTP auth, HMAC key).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wrap a value. Leading and trailing white space is trimmed (a pasted key
    /// with a newline is a classic cause of 401s).
    #[must_use]
    pub fn new(value: impl Into<String>) -> Self {
        let s: String = value.into();
        let trimmed = s.trim();
        if trimmed.len() == s.len() {
            Self(Zeroizing::new(s))
        } else {
            let t = trimmed.to_owned();
            drop(Zeroizing::new(s));
            Self(Zeroizing::new(t))
        }
    }

    /// The secret value. Never log, display or serialize it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when the value is empty after trimming.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Zeroizing::new(String::deserialize(d)?);
        Ok(Secret::new(s.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints_its_value() {
        let s = Secret::new("top-secret-value-987");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(format!("{s:#?}"), "***");
    }

    #[test]
    fn secret_trims_pasted_whitespace() {
        assert_eq!(Secret::new("  abc\n").expose(), "abc");
        assert!(Secret::new(" \n").is_empty());
    }
}
