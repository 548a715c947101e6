//! The command line IT uses: migrate, kiosk add/list/revoke, and a `serve`
//! that fails closed.

use std::process::Command;

use crate::support::shared;

fn relay_cmd(db: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kyc-kiosk-relay"))
        .env("DATABASE_URL", db)
        .env_remove("KYC_KIOSK_BACKEND")
        .env_remove("IDENFY_API_KEY")
        .env_remove("IDENFY_API_SECRET")
        .env_remove("IDENFY_SIGNING_KEY")
        .env("KYC_KIOSK_LOG", "error")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn enrol_list_and_revoke_from_the_command_line() {
    let db = shared().fresh_database();
    let out = relay_cmd(&db, &["migrate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = relay_cmd(
        &db,
        &[
            "kiosk", "add", "--name", "Desk 1", "--branch", "Riga", "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = v["id"].as_str().unwrap().to_owned();
    let credential = v["credential"].as_str().unwrap();
    assert!(credential.len() >= 43 + 3, "{credential}");
    let out = relay_cmd(&db, &["kiosk", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(list[0]["branch"], "Riga");
    assert!(list[0]["revokedAt"].is_null());
    // The credential is stored only as a hash.
    assert!(!String::from_utf8_lossy(&out.stdout).contains(credential));
    let out = relay_cmd(&db, &["kiosk", "revoke", &id]);
    assert!(out.status.success());
    let out = relay_cmd(&db, &["kiosk", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(list[0]["revokedAt"].is_string());
    // Revoking again, or an unknown id: an error, exit 10.
    assert_eq!(
        relay_cmd(&db, &["kiosk", "revoke", &id]).status.code(),
        Some(10)
    );
}

#[test]
fn serve_fails_closed_naming_the_missing_variable() {
    let db = shared().fresh_database();
    let out = relay_cmd(
        &db,
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--public-url",
            "https://kyc.bank.example",
        ],
    );
    assert_eq!(out.status.code(), Some(10));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("IDENFY_API_KEY"), "{err}");
    // Plain http off loopback is refused for the public URL.
    let out = Command::new(env!("CARGO_BIN_EXE_kyc-kiosk-relay"))
        .env("DATABASE_URL", &db)
        .env("KYC_KIOSK_BACKEND", "sandbox")
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--public-url",
            "http://kyc.bank.example",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(10));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--public-url"));
    // Bad arguments are 10 too; an unreachable database is 6.
    assert_eq!(
        relay_cmd(&db, &["kiosk", "frobnicate"]).status.code(),
        Some(10)
    );
    let out = relay_cmd(
        "postgres:///nope?host=/nonexistent-dir&user=postgres",
        &["migrate"],
    );
    assert_eq!(out.status.code(), Some(6));
}
