//! The staff PIN: stored only as an Argon2id hash (PHC string), checked in
//! constant time by the hash library, with a pause after repeated wrong
//! guesses. Pure apart from the random salt: the caller passes the time.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use zeroize::Zeroizing;

use super::Error;

/// Wrong PINs allowed before staff functions pause.
pub const MAX_FAILURES: u32 = 5;
/// The first pause; each further wrong PIN doubles it, up to [`MAX_LOCK_MS`].
pub const LOCK_MS: u64 = 60_000;
/// The longest pause.
pub const MAX_LOCK_MS: u64 = 15 * 60_000;
/// How long staff functions stay open after the PIN, counted from the last
/// staff action.
pub const UNLOCK_MS: u64 = 5 * 60_000;

/// Checks the shape of a PIN: 4 to 12 ASCII digits.
///
/// # Errors
/// [`Error::PinFormat`].
pub fn validate(pin: &str) -> Result<(), Error> {
    if (4..=12).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(Error::PinFormat)
    }
}

/// A new PIN must also not be one that is guessed first: all one digit, or a
/// run up or down (`1234`, `9876`).
///
/// # Errors
/// [`Error::PinFormat`] or [`Error::Invalid`] naming `pin`.
pub fn validate_new(pin: &str) -> Result<(), Error> {
    validate(pin)?;
    let b = pin.as_bytes();
    let steps: Vec<i16> = b
        .windows(2)
        .map(|w| i16::from(w[1]) - i16::from(w[0]))
        .collect();
    if steps.iter().all(|&d| d == 0)
        || steps.iter().all(|&d| d == 1)
        || steps.iter().all(|&d| d == -1)
    {
        return Err(Error::Invalid {
            field: "pin",
            reason: "is too easy to guess (one digit repeated, or a run like 1234)".into(),
        });
    }
    Ok(())
}

/// The PHC string of a new Argon2id hash of `pin` (random salt).
///
/// # Errors
/// [`Error::PinFormat`] for a malformed PIN; [`Error::Hash`] if hashing fails.
pub fn hash(pin: &str) -> Result<String, Error> {
    validate(pin)?;
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Hash(e.to_string()))
}

/// True when `pin` matches `phc`. A malformed stored hash never matches.
#[must_use]
pub fn verify(pin: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    Argon2::default()
        .verify_password(pin.as_bytes(), &parsed)
        .is_ok()
}

/// True when `phc` is a hash this module can check (for config validation).
#[must_use]
pub fn is_hash(phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| h.algorithm.as_str().starts_with("argon2"))
}

/// What the staff button may show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateState {
    /// A PIN has been set.
    pub pin_set: bool,
    /// Staff functions are open now.
    pub unlocked: bool,
    /// Seconds left in a pause after wrong PINs.
    pub locked_secs: Option<u64>,
}

/// The door to staff functions. Times are milliseconds on any monotonic
/// clock the caller keeps.
#[derive(Debug, Clone, Default)]
pub struct Gate {
    hash: Option<String>,
    failures: u32,
    locked_until: Option<u64>,
    unlocked_until: Option<u64>,
}

impl Gate {
    /// A closed gate for the stored hash (none before the first staff visit).
    #[must_use]
    pub fn new(hash: Option<String>) -> Self {
        Self {
            hash: hash.filter(|h| is_hash(h)),
            ..Self::default()
        }
    }

    /// The stored hash, to be saved.
    #[must_use]
    pub fn hash(&self) -> Option<&str> {
        self.hash.as_deref()
    }

    /// The gate as the UI should show it.
    #[must_use]
    pub fn state(&self, now: u64) -> GateState {
        GateState {
            pin_set: self.hash.is_some(),
            unlocked: self.unlocked_until.is_some_and(|t| now < t),
            locked_secs: self
                .locked_until
                .filter(|&t| now < t)
                .map(|t| (t - now).div_ceil(1000)),
        }
    }

    /// Opens staff functions with the PIN.
    ///
    /// # Errors
    /// [`Error::NoPin`] before a PIN is set, [`Error::PinLocked`] during a
    /// pause, [`Error::PinFormat`] for a malformed PIN (not counted), and
    /// [`Error::PinWrong`] (counted).
    pub fn unlock(&mut self, pin: &str, now: u64) -> Result<(), Error> {
        let pin = Zeroizing::new(pin.to_owned());
        if let Some(seconds) = self.state(now).locked_secs {
            return Err(Error::PinLocked { seconds });
        }
        let Some(hash) = self.hash.as_deref() else {
            return Err(Error::NoPin);
        };
        validate(&pin)?;
        if verify(&pin, hash) {
            self.failures = 0;
            self.locked_until = None;
            self.unlocked_until = Some(now + UNLOCK_MS);
            return Ok(());
        }
        self.failures += 1;
        if self.failures >= MAX_FAILURES {
            let doublings = (self.failures - MAX_FAILURES).min(10);
            let pause = (LOCK_MS << doublings).min(MAX_LOCK_MS);
            self.locked_until = Some(now + pause);
            self.unlocked_until = None;
            return Err(Error::PinLocked {
                seconds: pause / 1000,
            });
        }
        Err(Error::PinWrong {
            attempts_left: MAX_FAILURES - self.failures,
        })
    }

    /// Allows a staff action when the gate is open, and keeps it open for
    /// another [`UNLOCK_MS`].
    ///
    /// # Errors
    /// [`Error::StaffOnly`] when it is closed.
    pub fn check(&mut self, now: u64) -> Result<(), Error> {
        if self.state(now).unlocked {
            self.unlocked_until = Some(now + UNLOCK_MS);
            Ok(())
        } else {
            self.unlocked_until = None;
            Err(Error::StaffOnly)
        }
    }

    /// Closes staff functions (the staff screen was left, a customer started).
    pub fn lock(&mut self) {
        self.unlocked_until = None;
    }

    /// Sets a new PIN: the first one freely (setting up the kiosk), later
    /// ones only while the gate is open. Leaves the gate open and returns
    /// the new hash, to be saved.
    ///
    /// # Errors
    /// [`Error::StaffOnly`], or the PIN's validation error.
    pub fn set_pin(&mut self, pin: &str, now: u64) -> Result<String, Error> {
        let pin = Zeroizing::new(pin.to_owned());
        if self.hash.is_some() {
            self.check(now)?;
        }
        validate_new(&pin)?;
        let h = hash(&pin)?;
        self.hash = Some(h.clone());
        self.failures = 0;
        self.locked_until = None;
        self.unlocked_until = Some(now + UNLOCK_MS);
        Ok(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn a_pin_is_stored_only_as_a_salted_argon2id_hash() {
        let a = hash("482913").unwrap();
        let b = hash("482913").unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "salted");
        assert!(!a.contains("482913"));
        assert!(verify("482913", &a) && verify("482913", &b));
        assert!(!verify("482914", &a));
        assert!(!verify("482913", "not a hash"));
        assert!(is_hash(&a) && !is_hash("plain") && !is_hash(""));
    }

    #[test]
    fn pin_shapes() {
        for ok in ["4829", "482913", "000000000001"] {
            validate(ok).unwrap();
        }
        for bad in ["", "123", "12a4", "1234567890123", " 4829", "４８２９"] {
            assert!(matches!(validate(bad), Err(Error::PinFormat)), "{bad:?}");
        }
        for weak in ["0000", "1234", "98765", "111111"] {
            let e = validate_new(weak).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidInput, "{weak}");
            assert_eq!(e.field(), Some("pin"));
        }
        validate_new("4829").unwrap();
    }

    #[test]
    fn the_first_pin_is_set_freely_then_only_behind_the_gate() {
        let mut g = Gate::new(None);
        assert_eq!(
            g.state(0),
            GateState {
                pin_set: false,
                unlocked: false,
                locked_secs: None
            }
        );
        assert!(matches!(g.unlock("4829", 0), Err(Error::NoPin)));
        let h = g.set_pin("4829", 0).unwrap();
        assert_eq!(g.hash(), Some(h.as_str()));
        assert!(g.state(0).unlocked, "setting the first PIN opens the gate");
        g.lock();
        assert!(matches!(g.set_pin("5930", 1), Err(Error::StaffOnly)));
        assert!(verify("4829", g.hash().unwrap()), "unchanged");
        g.unlock("4829", 2).unwrap();
        g.set_pin("5930", 3).unwrap();
        g.lock();
        assert!(g.unlock("4829", 4).is_err());
        g.unlock("5930", 5).unwrap();
    }

    #[test]
    fn the_gate_closes_by_itself_and_each_action_keeps_it_open() {
        let mut g = Gate::new(Some(hash("4829").unwrap()));
        assert!(matches!(g.check(0), Err(Error::StaffOnly)));
        g.unlock("4829", 0).unwrap();
        g.check(UNLOCK_MS - 1).unwrap();
        g.check(2 * UNLOCK_MS - 2).unwrap();
        assert!(matches!(g.check(3 * UNLOCK_MS), Err(Error::StaffOnly)));
        assert!(!g.state(3 * UNLOCK_MS).unlocked);
    }

    #[test]
    fn wrong_pins_pause_staff_functions_and_longer_each_time() {
        let mut g = Gate::new(Some(hash("4829").unwrap()));
        for left in (1..MAX_FAILURES).rev() {
            match g.unlock("1111", 0) {
                Err(Error::PinWrong { attempts_left }) => assert_eq!(attempts_left, left),
                other => panic!("{other:?}"),
            }
        }
        assert!(matches!(
            g.unlock("1111", 0),
            Err(Error::PinLocked { seconds: 60 })
        ));
        // Even the right PIN waits out the pause.
        assert!(matches!(
            g.unlock("4829", 59_000),
            Err(Error::PinLocked { seconds: 1 })
        ));
        assert_eq!(g.state(30_000).locked_secs, Some(30));
        // The next wrong one pauses twice as long.
        assert!(matches!(
            g.unlock("1111", 60_000),
            Err(Error::PinLocked { seconds: 120 })
        ));
        g.unlock("4829", 180_000).unwrap();
        assert!(g.state(180_000).unlocked);
        // Malformed input is refused without counting.
        g.lock();
        for _ in 0..10 {
            assert!(matches!(g.unlock("12", 200_000), Err(Error::PinFormat)));
        }
        g.unlock("4829", 200_000).unwrap();
    }

    #[test]
    fn a_corrupt_stored_hash_counts_as_no_pin() {
        let g = Gate::new(Some("garbage".into()));
        assert!(!g.state(0).pin_set);
    }

    #[test]
    fn errors_never_contain_the_pin() {
        let mut g = Gate::new(Some(hash("4829").unwrap()));
        let e = g.unlock("7351", 0).unwrap_err();
        assert!(!e.to_string().contains("7351"));
        assert!(!format!("{e:?}").contains("7351"));
    }
}
