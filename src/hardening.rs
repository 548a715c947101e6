//! Process-level protection of what the kiosk holds in memory: customer
//! images, document data and API secrets must never end up in a core dump,
//! and the memory that held images goes back to the system when they are
//! freed. Called first thing by the CLI and the desktop shell; nothing else
//! here.

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

/// Allocations of this size and up get pages of their own, returned to the
/// system when freed (see [`unmap_large_buffers`]).
pub const LARGE_BUFFER: usize = 256 * 1024;

/// Makes every allocation of [`LARGE_BUFFER`] bytes and more (camera frames,
/// stills, their JPEG and base64 copies) get pages of its own that go back
/// to the system when it is freed. glibc otherwise raises its threshold
/// after the first large block is freed and serves the next frames from the
/// heap, whose freed pages the process keeps: resident memory then grew
/// with every customer (+105 % after 50 demo sessions, still growing at 100;
/// with this, +3.8 % after 100 — BENCHMARKS.md "Soak"). The pages of a
/// freed image (already zeroized) leave the process. Returns whether the
/// allocator took the setting (only glibc has it; elsewhere `false`, and
/// nothing changes).
pub fn unmap_large_buffers() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let bytes = libc::c_int::try_from(LARGE_BUFFER).unwrap_or(libc::c_int::MAX);
        // SAFETY: mallopt takes two integers; setting M_MMAP_THRESHOLD also
        // fixes it (no dynamic adjustment).
        unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, bytes) == 1 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn the_allocator_takes_the_large_buffer_setting() {
        assert!(unmap_large_buffers());
        assert!(unmap_large_buffers(), "calling again is harmless");
    }

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
