//! Process-level protection of what the kiosk holds in memory: customer
//! images, document data and API secrets must never end up in a core dump.
//! Called first thing by the CLI and the desktop shell; nothing else here.

/// Why the process could not be protected.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot turn off core dumps ({call}): {source}")]
    Call {
        call: &'static str,
        #[source]
        source: std::io::Error,
    },
}

/// Turns off core dumps for this process: the core-file size limit is set to
/// zero (soft and hard, so a child cannot raise it) and, on Linux, the
/// process is marked not dumpable (no core file, no `/proc/PID/mem` or
/// ptrace access by other processes of the same user).
///
/// # Errors
/// [`Error::Call`] naming the system call that failed.
pub fn disable_core_dumps() -> Result<(), Error> {
    #[cfg(unix)]
    {
        let zero = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: setrlimit reads the struct we pass; no memory is retained.
        if unsafe { libc::setrlimit(libc::RLIMIT_CORE, &zero) } != 0 {
            return Err(Error::Call {
                call: "setrlimit(RLIMIT_CORE)",
                source: std::io::Error::last_os_error(),
            });
        }
    }
    #[cfg(target_os = "linux")]
    {
        // SAFETY: PR_SET_DUMPABLE takes plain integer arguments.
        if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } != 0 {
            return Err(Error::Call {
                call: "prctl(PR_SET_DUMPABLE)",
                source: std::io::Error::last_os_error(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn core_dumps_are_off_afterwards() {
        disable_core_dumps().unwrap();
        let mut lim = libc::rlimit {
            rlim_cur: 1,
            rlim_max: 1,
        };
        // SAFETY: getrlimit writes into the struct we own.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_CORE, &mut lim) }, 0);
        assert_eq!((lim.rlim_cur, lim.rlim_max), (0, 0));
        // SAFETY: PR_GET_DUMPABLE takes no pointer.
        assert_eq!(unsafe { libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0) }, 0);
        // Calling again is harmless.
        disable_core_dumps().unwrap();
    }
}
