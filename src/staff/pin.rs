//! The staff PIN: stored only as an Argon2id hash (PHC string, at least
//! [`MEMORY_KIB`] KiB and [`PASSES`] passes for new hashes), checked in
//! constant time by the hash library, with a pause after repeated wrong
//! guesses. Pure apart from the random salt: the caller passes the time.
//!
//! Checking a PIN costs 64 MiB and a noticeable fraction of a second, so the
//! [`Gate`] splits unlocking in two ([`Gate::begin_unlock`], then
//! [`verify`] by the caller outside any lock, then [`Gate::finish_unlock`]),
//! and setting a PIN likewise ([`Gate::begin_set_pin`], [`hash`],
//! [`Gate::finish_set_pin`]).

use std::fmt;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

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
/// Fewest digits of a new PIN.
pub const MIN_DIGITS: usize = 6;
/// Fewest digits of a PIN that is checked: PINs set before [`MIN_DIGITS`]
/// was raised still open the gate.
pub const MIN_DIGITS_CHECKED: usize = 4;
/// Most digits of any PIN.
pub const MAX_DIGITS: usize = 12;
/// Argon2id memory of new hashes, in KiB (64 MiB, OWASP's first choice).
pub const MEMORY_KIB: u32 = 64 * 1024;
/// Argon2id passes of new hashes.
pub const PASSES: u32 = 3;
/// The most memory a stored hash may ask for (1 GiB): more is a typing
/// mistake that would make every unlock allocate gigabytes.
const MAX_MEMORY_KIB: u32 = 1024 * 1024;

/// Checks the shape of a PIN to check: [`MIN_DIGITS_CHECKED`] to
/// [`MAX_DIGITS`] ASCII digits.
///
/// # Errors
/// [`Error::PinFormat`].
pub fn validate(pin: &str) -> Result<(), Error> {
    if (MIN_DIGITS_CHECKED..=MAX_DIGITS).contains(&pin.len())
        && pin.bytes().all(|b| b.is_ascii_digit())
    {
        Ok(())
    } else {
        Err(Error::PinFormat)
    }
}

/// A new PIN: [`MIN_DIGITS`] to [`MAX_DIGITS`] digits, and not one that is
/// guessed first: all one digit, or a run up or down (`123456`, `987654`).
///
/// # Errors
/// [`Error::PinFormat`] or [`Error::Invalid`] naming `pin`.
pub fn validate_new(pin: &str) -> Result<(), Error> {
    validate(pin)?;
    if pin.len() < MIN_DIGITS {
        return Err(Error::PinFormat);
    }
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
            reason: "is too easy to guess (one digit repeated, or a run like 123456)".into(),
        });
    }
    Ok(())
}

/// The hasher for new hashes: Argon2id, [`MEMORY_KIB`], [`PASSES`], one lane.
fn hasher() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, PASSES, 1, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A new Argon2id hash of `pin` (random salt, the current parameters).
///
/// # Errors
/// [`Error::PinFormat`] for a malformed PIN; [`Error::Hash`] if hashing fails.
pub fn hash(pin: &str) -> Result<PinHash, Error> {
    validate(pin)?;
    let salt = SaltString::generate(&mut OsRng);
    let phc = hasher()
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Hash(e.to_string()))?;
    PinHash::parse(&phc).map_err(|e| Error::Hash(e.to_string()))
}

/// True when `pin` matches `hash`, checked with the hash's own parameters.
#[must_use]
pub fn verify(pin: &str, hash: &PinHash) -> bool {
    let Ok(parsed) = PasswordHash::new(&hash.phc) else {
        return false;
    };
    Argon2::default()
        .verify_password(pin.as_bytes(), &parsed)
        .is_ok()
}

/// Why a stored PIN hash was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    #[error("is not a PHC hash string such as `$argon2id$v=19$m=65536,t=3,p=1$...`")]
    NotPhc,
    #[error("uses `{0}`; only argon2id is accepted")]
    Algorithm(String),
    #[error("has Argon2 parameters that cannot be used")]
    Params,
    #[error("asks for more than 1 GiB of memory")]
    TooMuchMemory,
    #[error("holds no hash value")]
    NoHash,
}

/// A stored staff PIN hash that parses: an Argon2id PHC string with usable
/// parameters. Its `Debug` shows the parameters only, never the salt or the
/// hash, so printing a configuration does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct PinHash {
    phc: String,
    memory_kib: u32,
    passes: u32,
}

impl PinHash {
    /// Parses a stored hash.
    ///
    /// # Errors
    /// [`HashError`] saying what is wrong with it.
    pub fn parse(phc: &str) -> Result<Self, HashError> {
        let parsed = PasswordHash::new(phc).map_err(|_| HashError::NotPhc)?;
        if parsed.algorithm != argon2::ARGON2ID_IDENT {
            return Err(HashError::Algorithm(parsed.algorithm.to_string()));
        }
        let params = Params::try_from(&parsed).map_err(|_| HashError::Params)?;
        if params.m_cost() > MAX_MEMORY_KIB {
            return Err(HashError::TooMuchMemory);
        }
        if parsed.hash.is_none_or(|h| h.as_bytes().is_empty()) {
            return Err(HashError::NoHash);
        }
        Ok(Self {
            phc: phc.to_owned(),
            memory_kib: params.m_cost(),
            passes: params.t_cost(),
        })
    }

    /// The PHC string, to be saved.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.phc
    }

    /// True when the hash is at least as costly as new hashes
    /// ([`MEMORY_KIB`], [`PASSES`]). A weaker one still opens the gate, and
    /// is replaced by a new hash of the same PIN at that moment.
    #[must_use]
    pub fn is_current(&self) -> bool {
        self.memory_kib >= MEMORY_KIB && self.passes >= PASSES
    }
}

impl fmt::Debug for PinHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PinHash(argon2id, m={} KiB, t={})",
            self.memory_kib, self.passes
        )
    }
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

/// The wrong-PIN count and the pause, as kept across restarts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attempts {
    /// Wrong PINs since the last right one.
    pub failures: u32,
    /// Milliseconds left in the pause, if there is one.
    pub pause_left_ms: Option<u64>,
}

/// The door to staff functions. Times are milliseconds on any monotonic
/// clock the caller keeps.
#[derive(Debug, Clone, Default)]
pub struct Gate {
    hash: Option<PinHash>,
    failures: u32,
    locked_until: Option<u64>,
    unlocked_until: Option<u64>,
}

impl Gate {
    /// A closed gate for the stored hash (none before the first staff visit).
    #[must_use]
    pub fn new(hash: Option<PinHash>) -> Self {
        Self {
            hash,
            ..Self::default()
        }
    }

    /// The stored hash, to be saved.
    #[must_use]
    pub fn hash(&self) -> Option<&PinHash> {
        self.hash.as_ref()
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

    /// The wrong-PIN count and the pause left, to be kept across a restart.
    #[must_use]
    pub fn attempts(&self, now: u64) -> Attempts {
        Attempts {
            failures: self.failures,
            pause_left_ms: self.locked_until.filter(|&t| now < t).map(|t| t - now),
        }
    }

    /// Takes up the count and the pause kept from before a restart. A pause
    /// longer than [`MAX_LOCK_MS`] (a clock set back) is cut to it.
    pub fn restore(&mut self, attempts: Attempts, now: u64) {
        self.failures = attempts.failures;
        self.locked_until = attempts
            .pause_left_ms
            .map(|ms| now.saturating_add(ms.min(MAX_LOCK_MS)));
    }

    /// Opens staff functions with the PIN: [`Self::begin_unlock`],
    /// [`verify`], [`Self::finish_unlock`] in one step.
    ///
    /// # Errors
    /// As those two.
    pub fn unlock(&mut self, pin: &str, now: u64) -> Result<(), Error> {
        let hash = self.begin_unlock(pin, now)?;
        let matched = verify(pin, &hash);
        self.finish_unlock(matched, now)
    }

    /// The first half of unlocking: whether `pin` may be checked now, and
    /// the hash to check it against (outside any lock: it is slow).
    ///
    /// # Errors
    /// [`Error::PinLocked`] during a pause, [`Error::NoPin`] before a PIN is
    /// set, [`Error::PinFormat`] for a malformed PIN (not counted).
    pub fn begin_unlock(&self, pin: &str, now: u64) -> Result<PinHash, Error> {
        if let Some(seconds) = self.state(now).locked_secs {
            return Err(Error::PinLocked { seconds });
        }
        let hash = self.hash.clone().ok_or(Error::NoPin)?;
        validate(pin)?;
        Ok(hash)
    }

    /// The second half of unlocking: records whether the PIN matched. A
    /// right PIN opens the gate and clears the count; a wrong one counts,
    /// and the [`MAX_FAILURES`]th and each one after it starts a pause.
    ///
    /// # Errors
    /// [`Error::PinWrong`] or [`Error::PinLocked`] for a wrong PIN.
    pub fn finish_unlock(&mut self, matched: bool, now: u64) -> Result<(), Error> {
        if matched {
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

    /// Sets a new PIN: [`Self::begin_set_pin`], [`hash`],
    /// [`Self::finish_set_pin`] in one step. Returns the new hash, to be saved.
    ///
    /// # Errors
    /// As those.
    pub fn set_pin(&mut self, pin: &str, now: u64) -> Result<PinHash, Error> {
        self.begin_set_pin(pin, now)?;
        let h = hash(pin)?;
        self.finish_set_pin(h.clone(), now)?;
        Ok(h)
    }

    /// The first half of setting a PIN: the first one is set freely
    /// (setting up the kiosk), later ones only while the gate is open; the
    /// PIN must pass [`validate_new`]. The caller then hashes it.
    ///
    /// # Errors
    /// [`Error::StaffOnly`], or the PIN's validation error.
    pub fn begin_set_pin(&mut self, pin: &str, now: u64) -> Result<(), Error> {
        if self.hash.is_some() {
            self.check(now)?;
        }
        validate_new(pin)
    }

    /// The second half: installs the new hash (the gate must still be open
    /// if a PIN was set) and leaves the gate open.
    ///
    /// # Errors
    /// [`Error::StaffOnly`] when the gate closed meanwhile.
    pub fn finish_set_pin(&mut self, hash: PinHash, now: u64) -> Result<(), Error> {
        if self.hash.is_some() {
            self.check(now)?;
        }
        self.hash = Some(hash);
        self.failures = 0;
        self.locked_until = None;
        self.unlocked_until = Some(now + UNLOCK_MS);
        Ok(())
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
        assert!(a.as_str().starts_with("$argon2id$"), "{a:?}");
        assert_ne!(a, b, "salted");
        assert!(!a.as_str().contains("482913"));
        assert!(verify("482913", &a) && verify("482913", &b));
        assert!(!verify("482914", &a));
        assert_eq!(PinHash::parse(a.as_str()).unwrap(), a);
        for bad in ["not a hash", "plain", ""] {
            assert_eq!(PinHash::parse(bad), Err(HashError::NotPhc), "{bad:?}");
        }
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
        validate_new("482913").unwrap();
        // Six digits at least for a new PIN; a shorter one set before still
        // opens the gate.
        for short in ["4829", "48291"] {
            assert!(
                matches!(validate_new(short), Err(Error::PinFormat)),
                "{short}"
            );
        }
        let mut g = Gate::new(Some(hash("4829").unwrap()));
        g.unlock("4829", 0).unwrap();
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
        assert!(matches!(g.unlock("482913", 0), Err(Error::NoPin)));
        let h = g.set_pin("482913", 0).unwrap();
        assert_eq!(g.hash(), Some(&h));
        assert!(g.state(0).unlocked, "setting the first PIN opens the gate");
        g.lock();
        assert!(matches!(g.set_pin("593071", 1), Err(Error::StaffOnly)));
        assert!(verify("482913", g.hash().unwrap()), "unchanged");
        g.unlock("482913", 2).unwrap();
        g.set_pin("593071", 3).unwrap();
        g.lock();
        assert!(g.unlock("482913", 4).is_err());
        g.unlock("593071", 5).unwrap();
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
    fn new_hashes_cost_64_mib_and_3_passes_and_never_show_in_debug() {
        let h = hash("482913").unwrap();
        assert!(h.as_str().contains("$m=65536,t=3,p=1$"), "{h:?}");
        assert!(h.is_current());
        let shown = format!("{h:?}");
        assert_eq!(shown, "PinHash(argon2id, m=65536 KiB, t=3)");
        let tail = h.as_str().rsplit('$').next().unwrap();
        assert!(!shown.contains(tail));
    }

    #[test]
    fn stored_hashes_are_checked_before_use() {
        // The argon2 crate's old defaults (19 MiB, 2 passes): usable, not current.
        let old = Argon2::default()
            .hash_password(b"482913", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        let old = PinHash::parse(&old).unwrap();
        assert!(!old.is_current());
        assert!(verify("482913", &old));
        let argon2i = "$argon2i$v=19$m=65536,t=3,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";
        assert_eq!(
            PinHash::parse(argon2i),
            Err(HashError::Algorithm("argon2i".into()))
        );
        let huge = "$argon2id$v=19$m=4194304,t=3,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";
        assert_eq!(PinHash::parse(huge), Err(HashError::TooMuchMemory));
        let no_hash = "$argon2id$v=19$m=65536,t=3,p=1$c29tZXNhbHQ";
        assert_eq!(PinHash::parse(no_hash), Err(HashError::NoHash));
    }

    #[test]
    fn the_count_and_the_pause_carry_over_a_restart() {
        let h = hash("482913").unwrap();
        let mut g = Gate::new(Some(h.clone()));
        for _ in 0..MAX_FAILURES {
            let _ = g.unlock("111111", 1_000);
        }
        let kept = g.attempts(11_000);
        assert_eq!(
            kept,
            Attempts {
                failures: MAX_FAILURES,
                pause_left_ms: Some(50_000)
            }
        );
        let mut again = Gate::new(Some(h));
        again.restore(kept, 0);
        assert_eq!(again.state(0).locked_secs, Some(50));
        assert!(matches!(
            again.unlock("482913", 1),
            Err(Error::PinLocked { .. })
        ));
        // A pause longer than any the gate gives (a clock set back) is cut.
        again.restore(
            Attempts {
                failures: 9,
                pause_left_ms: Some(u64::MAX),
            },
            0,
        );
        assert_eq!(again.state(0).locked_secs, Some(MAX_LOCK_MS / 1000));
    }

    #[test]
    fn errors_never_contain_the_pin() {
        let mut g = Gate::new(Some(hash("4829").unwrap()));
        let e = g.unlock("7351", 0).unwrap_err();
        assert!(!e.to_string().contains("7351"));
        assert!(!format!("{e:?}").contains("7351"));
    }
}
