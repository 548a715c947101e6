//! The wrong-PIN count and the pause, kept in `staff-state.json` beside
//! `staff.toml`, so that restarting the app does not give a guesser fresh
//! tries. The pause is kept as a wall-clock end (a restart takes time, and
//! that time counts); the gate cuts a pause longer than it ever gives, so a
//! clock set back cannot lock staff out for good.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::pin::{Attempts, LOCK_MS, MAX_FAILURES};
use super::Error;

/// The state file's name, beside the staff file.
pub const FILE_NAME: &str = "staff-state.json";

/// The state file path for a staff file path.
#[must_use]
pub fn path_for(staff_path: &Path) -> PathBuf {
    staff_path.with_file_name(FILE_NAME)
}

/// The file's contents.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Stored {
    failures: u32,
    /// When the pause ends, in milliseconds since 1970 (UTC).
    paused_until_unix_ms: Option<u64>,
}

/// Milliseconds since 1970 now.
#[must_use]
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Reads the kept count and pause, as of `now_unix_ms`. A missing file is
/// a clean slate. A file that cannot be read or does not parse counts as a
/// pause of [`LOCK_MS`] after [`MAX_FAILURES`] wrong PINs: the count is a
/// defence, so it fails closed.
#[must_use]
pub fn load(path: &Path, now_unix_ms: u64) -> Attempts {
    let stored = match std::fs::read(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Attempts::default(),
        Err(e) => Err(e.to_string()),
        Ok(bytes) => serde_json::from_slice::<Stored>(&bytes).map_err(|e| e.to_string()),
    };
    match stored {
        Ok(s) => Attempts {
            failures: s.failures,
            pause_left_ms: s
                .paused_until_unix_ms
                .filter(|&t| t > now_unix_ms)
                .map(|t| t - now_unix_ms),
        },
        Err(reason) => {
            tracing::warn!(path = %path.display(), "wrong-PIN state unreadable, pausing: {reason}");
            Attempts {
                failures: MAX_FAILURES,
                pause_left_ms: Some(LOCK_MS),
            }
        }
    }
}

/// Keeps the count and pause (atomically, readable only by the owner).
///
/// # Errors
/// [`Error::File`] when the file cannot be written.
pub fn save(path: &Path, attempts: Attempts, now_unix_ms: u64) -> Result<(), Error> {
    let stored = Stored {
        failures: attempts.failures,
        paused_until_unix_ms: attempts
            .pause_left_ms
            .map(|ms| now_unix_ms.saturating_add(ms)),
    };
    let file_err = |reason: String| Error::File {
        path: path.display().to_string(),
        reason,
    };
    let bytes = serde_json::to_vec(&stored).map_err(|e| file_err(e.to_string()))?;
    super::settings::write_private(path, &bytes).map_err(|e| file_err(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_and_the_pause_end_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_for(&dir.path().join("staff.toml"));
        assert_eq!(path.file_name().unwrap(), FILE_NAME);
        assert_eq!(load(&path, 0), Attempts::default());
        let a = Attempts {
            failures: 6,
            pause_left_ms: Some(120_000),
        };
        save(&path, a, 1_000_000).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "owner only: {mode:o}");
        }
        // Time spent stopped counts.
        assert_eq!(
            load(&path, 1_100_000),
            Attempts {
                failures: 6,
                pause_left_ms: Some(20_000)
            }
        );
        assert_eq!(load(&path, 1_200_000).pause_left_ms, None);
    }

    #[test]
    fn a_damaged_state_file_pauses() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        for text in ["", "{", "{\"failures\":-1}", "{\"other\":1}"] {
            std::fs::write(&path, text).unwrap();
            assert_eq!(
                load(&path, 0),
                Attempts {
                    failures: MAX_FAILURES,
                    pause_left_ms: Some(LOCK_MS)
                },
                "{text:?}"
            );
        }
    }
}
