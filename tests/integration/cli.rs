//! The CLI binary as a user runs it.

use std::process::Command;

fn kiosk() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kyc-kiosk"));
    c.env_remove("IDENFY_API_KEY")
        .env_remove("IDENFY_API_SECRET")
        .env_remove("IDENFY_BASE_URL")
        .env_remove("IDENFY_SIGNING_KEY");
    c
}

#[test]
fn config_masks_secrets_from_env() {
    let dir = tempfile::tempdir().unwrap();
    let out = kiosk()
        .args(["config", "--config"])
        .arg(dir.path().join("none.toml"))
        .env("IDENFY_API_KEY", "key-visible-nowhere")
        .env("IDENFY_API_SECRET", "secret-visible-nowhere")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains("visible-nowhere"), "{all}");
    assert!(all.contains("https://ivs.idenfy.com"));
}

#[test]
fn config_error_names_the_field_and_exits_nonzero() {
    let dir = tempfile::tempdir().unwrap();
    let out = kiosk()
        .args(["config", "--config"])
        .arg(dir.path().join("none.toml"))
        .env("IDENFY_API_KEY", "only-a-key")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("IDENFY_API_SECRET"), "{err}");
    assert!(!err.contains("only-a-key"), "{err}");
}

#[test]
fn no_credentials_reports_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let out = kiosk()
        .args(["config", "--config"])
        .arg(dir.path().join("none.toml"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("SANDBOX"));
}
