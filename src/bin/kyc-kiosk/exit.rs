//! The exit codes of every `kyc-kiosk` command, in one place: [`Exit`] and
//! its [`Exit::meaning`], which `kyc-kiosk --help` prints as a table.
//!
//! Each number has one meaning whatever the command. 1 and 2 belong to
//! `precheck`, 3 to `verify`'s precheck, 4 to 6 to the commands that wait for
//! a result (`verify`, `demo`, `handoff`); 5 also when the live API is
//! required (`api.backend = "live"` or kiosk mode) and its credentials are
//! missing: the commands fail closed, never the sandbox instead. 7 belongs
//! to `cameras --probe`. Everything else that stops a
//! command, including a command line clap refuses, is [`Exit::Error`]: it is
//! not clap's default of 2, which is `precheck`'s "unreadable image".

use std::process::{ExitCode, Termination};

use kyc_kiosk::ErrorCode;

/// How a command ended, as the process exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Success = 0,
    Retake = 1,
    Unreadable = 2,
    PrecheckRefused = 3,
    NoResult = 4,
    ApiRefused = 5,
    Network = 6,
    CameraFailed = 7,
    Error = 10,
}

impl Exit {
    /// Every code, in numeric order.
    pub const ALL: [Exit; 9] = [
        Exit::Success,
        Exit::Retake,
        Exit::Unreadable,
        Exit::PrecheckRefused,
        Exit::NoResult,
        Exit::ApiRefused,
        Exit::Network,
        Exit::CameraFailed,
        Exit::Error,
    ];

    /// What the code says, for `--help` (the README lists the same).
    pub fn meaning(self) -> &'static str {
        match self {
            Self::Success => {
                "done; `verify`, `demo`, `handoff`: a final result arrived, whatever its status"
            }
            Self::Retake => "`precheck`: an image needs a retake",
            Self::Unreadable => "`precheck`: an image could not be read (wins over 1)",
            Self::PrecheckRefused => {
                "`verify`: the precheck refused an image (`--force` sends it unless unreadable)"
            }
            Self::NoResult => "no final result within `--wait`",
            Self::ApiRefused => {
                "the API refused, or the live API it needs has no credentials (the message says which)"
            }
            Self::Network => "network failure",
            Self::CameraFailed => {
                "`cameras --probe`: a camera could not deliver frames (or none is connected)"
            }
            Self::Error => "bad arguments or configuration, or any other error",
        }
    }

    /// The code of a flow that ended on an error: its [`ErrorCode`] decides
    /// between [`Exit::NoResult`], [`Exit::Network`] and [`Exit::ApiRefused`].
    pub fn of_error(code: Option<ErrorCode>) -> Self {
        match code {
            Some(ErrorCode::Network) => Self::Network,
            Some(ErrorCode::Timeout) | None => Self::NoResult,
            Some(_) => Self::ApiRefused,
        }
    }

    /// The code of a command that stopped on `e`: [`Exit::ApiRefused`] when
    /// the configuration needs the live API and cannot use it, else
    /// [`Exit::Error`].
    pub fn of_failure(e: &anyhow::Error) -> Self {
        match e.downcast_ref::<kyc_kiosk::config::ConfigError>() {
            Some(c) if c.is_live_unavailable() => Self::ApiRefused,
            _ => Self::Error,
        }
    }

    /// The exit codes as a help section.
    pub fn help() -> String {
        let mut s = String::from("Exit codes:\n");
        for e in Self::ALL {
            s.push_str(&format!("  {:>2}  {}\n", e as u8, e.meaning()));
        }
        s
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e as u8)
    }
}

impl Termination for Exit {
    fn report(self) -> ExitCode {
        self.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_listed_once_in_order() {
        let n: Vec<u8> = Exit::ALL.iter().map(|e| *e as u8).collect();
        assert!(n.windows(2).all(|w| w[0] < w[1]), "{n:?}");
        assert!(Exit::help().contains(" 10  bad arguments"));
    }

    #[test]
    fn a_live_api_without_credentials_is_5_other_config_errors_10() {
        let closed = kyc_kiosk::config::RawConfig::default()
            .with_env([("KYC_KIOSK_BACKEND", "live")])
            .validate()
            .unwrap_err();
        assert_eq!(Exit::of_failure(&closed.into()), Exit::ApiRefused);
        let invalid = kyc_kiosk::config::RawConfig::default()
            .with_env([("IDENFY_API_KEY", "k")])
            .validate()
            .unwrap_err();
        assert_eq!(Exit::of_failure(&invalid.into()), Exit::Error);
    }
}
