//! The CLI binary as a user runs it.

use std::process::Command;

fn kiosk() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kyc-kiosk"));
    c.env_remove("IDENFY_API_KEY")
        .env_remove("IDENFY_API_SECRET")
        .env_remove("IDENFY_BASE_URL")
        .env_remove("IDENFY_SIGNING_KEY")
        .env_remove("KYC_KIOSK_BACKEND")
        .env_remove("KYC_KIOSK_MODE");
    c
}

#[test]
fn config_in_kiosk_mode_without_credentials_exits_5_naming_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, "[kiosk]\nkiosk_mode = true\n").unwrap();
    let out = kiosk()
        .args(["config", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("kiosk mode") && err.contains("IDENFY_SIGNING_KEY"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "no configuration shown");
    // Chosen, the sandbox runs in kiosk mode too (with the staff PIN kiosk
    // mode needs).
    let hash = kyc_kiosk::staff::pin::hash("482913")
        .unwrap()
        .as_str()
        .to_owned();
    std::fs::write(
        &cfg,
        format!("[kiosk]\nkiosk_mode = true\nstaff_pin_hash = \"{hash}\"\n"),
    )
    .unwrap();
    let out = kiosk()
        .args(["config", "--config"])
        .arg(&cfg)
        .env("KYC_KIOSK_BACKEND", "sandbox")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("SANDBOX"));
}

#[test]
fn config_says_whether_a_pin_is_set_but_never_prints_its_hash() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    let hash = kyc_kiosk::staff::pin::hash("482913")
        .unwrap()
        .as_str()
        .to_owned();
    std::fs::write(&cfg, format!("[kiosk]\nstaff_pin_hash = \"{hash}\"\n")).unwrap();
    let out = kiosk()
        .args(["config", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains(&hash) && !text.contains("$argon2"), "{text}");
    assert!(text.contains("staff PIN: set"), "{text}");
}

#[test]
fn config_shows_a_base_url_other_than_production_as_a_test_api() {
    let dir = tempfile::tempdir().unwrap();
    let out = kiosk()
        .args(["config", "--config"])
        .arg(dir.path().join("none.toml"))
        .env("IDENFY_BASE_URL", "http://127.0.0.1:8080")
        .env("IDENFY_API_KEY", "sandbox-key")
        .env("IDENFY_API_SECRET", "sandbox-secret")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("TEST API: http://127.0.0.1:8080"), "{text}");
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
    assert_eq!(out.status.code(), Some(10));
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

#[test]
fn cameras_lists_devices_or_says_there_are_none() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("none.toml");
    let out = kiosk()
        .args(["cameras", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    // Either a device line (`#0 name`) or the plain "no camera" sentence.
    assert!(
        text.contains("No camera found.") || text.lines().any(|l| l.starts_with('#')),
        "{text}"
    );
    assert!(text.contains("demo camera is available"), "{text}");

    let out = kiosk()
        .args(["cameras", "--json", "--config"])
        .arg(&cfg)
        .arg("--demo-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["devices"].is_array(), "{v}");
    // An empty directory is not a demo camera, and the reason names the file.
    assert_eq!(v["demo"]["available"], false);
    assert!(
        v["demo"]["error"].as_str().unwrap().contains("front.jpg"),
        "{v}"
    );
}

#[test]
fn demo_runs_the_whole_flow_headless_and_prints_the_result() {
    let out = kiosk().args(["demo", "--json"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(j["status"], "APPROVED");
    assert_eq!(j["final"], true);
    // The steps, the live hints and the terminal QR are shown as it goes.
    for step in ["SANDBOX", "Photograph the document front", "live:", "▀"] {
        assert!(stderr.contains(step), "missing {step:?} in:\n{stderr}");
    }
}

#[test]
fn demo_with_a_utility_bill_photographs_it_and_is_approved() {
    let out = kiosk()
        .args(["demo", "--json", "--utility-bill"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(j["status"], "APPROVED");
    assert!(
        stderr.contains("Photograph the proof of address"),
        "{stderr}"
    );
}

/// `(sessions, rss_kib, fds, threads)` of each "after N sessions:" line.
fn soak_samples(stderr: &str) -> Vec<(u32, u64, u64, u64)> {
    stderr
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("after ")?;
            let nums: Vec<u64> = rest
                .split(|c: char| !c.is_ascii_digit())
                .filter(|t| !t.is_empty())
                .take(4)
                .map(|t| t.parse().unwrap())
                .collect();
            Some((u32::try_from(nums[0]).unwrap(), nums[1], nums[2], nums[3]))
        })
        .collect()
}

// The soak's short run: sessions back to back in one process leave no
// memory, file descriptor or thread behind (the 1,000-session run is in
// BENCHMARKS.md).
#[test]
fn demo_repeat_runs_sessions_back_to_back_without_leaking_memory_files_or_threads() {
    let out = kiosk()
        .args(["demo", "--repeat", "30", "--fast", "--wait", "60"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let samples = soak_samples(&stderr);
    let n: Vec<u32> = samples.iter().map(|s| s.0).collect();
    assert_eq!(n, [1, 10, 30], "{stderr}");
    let (_, rss_10, fds_10, threads_10) = samples[1];
    let (_, rss_30, fds_30, threads_30) = samples[2];
    // A leak of one per session would show as +20; a pooled connection or a
    // blocking-pool thread alive at one sample and not the other is +1.
    assert!(fds_30 <= fds_10 + 2, "open files grew: {stderr}");
    assert!(threads_30 <= threads_10 + 2, "threads grew: {stderr}");
    // Freed frames go back to the system (hardening::unmap_large_buffers):
    // without it resident memory grew by about a fifth from session 10 to 30.
    assert!(
        rss_30 * 100 <= rss_10 * 110,
        "resident memory grew by more than 10 % from session 10 to 30: {stderr}"
    );
}

#[test]
fn demo_with_a_status_gives_that_status() {
    let out = kiosk()
        .args(["demo", "--json", "--status", "DENIED"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["status"], "DENIED");
}

/// `handoff --wait 1` with `args`, against the embedded sandbox: its output
/// and the 8-digit code it printed, if any.
fn handoff(dir: &std::path::Path, args: &[&str]) -> (std::process::Output, Option<String>) {
    let out = kiosk()
        .args(["handoff", "--wait", "1", "--config"])
        .arg(dir.join("none.toml"))
        .args(args)
        .output()
        .unwrap();
    let code = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.starts_with("Code for the iDenfy app:"))
        .map(|l| l.chars().filter(char::is_ascii_digit).collect());
    (out, code)
}

#[test]
fn handoff_writes_the_qr_and_gives_up_after_the_wait() {
    let dir = tempfile::tempdir().unwrap();
    let qr = dir.path().join("code.svg");
    let qr_arg = qr.to_str().unwrap();
    let (out, code) = handoff(
        dir.path(),
        &[
            "--client-id",
            "cli-handoff",
            "--country",
            "LT",
            "--qr-out",
            qr_arg,
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg = std::fs::read_to_string(&qr).expect("the QR file was written");
    assert!(
        svg.starts_with("<?xml") || svg.contains("<svg"),
        "{svg:.80}"
    );
    assert_eq!(code.expect("the code is printed").len(), 8);
}

// Regression: `handoff` without `--country` and without a configured default
// country failed with "country: `` is not an ISO 3166-1 alpha-2 country code",
// though a token needs no country (the customer picks it in the app).
#[test]
fn handoff_without_a_country_gets_a_code() {
    let dir = tempfile::tempdir().unwrap();
    let (out, code) = handoff(dir.path(), &["--client-id", "cli-no-country"]);
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(code.expect("the code is printed").len(), 8);
}

#[test]
fn handoff_refuses_an_unknown_qr_file_type_before_anything_is_sent() {
    let out = kiosk()
        .args(["handoff", "--client-id", "x", "--qr-out", "code.gif"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(10));
    assert!(String::from_utf8_lossy(&out.stderr).contains(".svg or .png"));
}

// Regression: a command line clap refused exited 2, the code `precheck`
// gives an unreadable image; every other error is 10 too.
#[test]
fn usage_errors_exit_10_and_help_exits_0() {
    for args in [
        &["verify", "--country", "LT"][..],
        &["no-such-command"],
        &["precheck"],
    ] {
        let out = kiosk().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(10), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
    let out = kiosk().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("Exit codes:") && help.contains(" 10  "),
        "{help}"
    );
}

#[test]
fn pin_hash_reads_the_pin_from_stdin_and_prints_a_verifiable_hash() {
    use std::io::Write;
    use std::process::Stdio;
    let run = |pin: &str| {
        let mut child = kiosk()
            .arg("pin-hash")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{pin}").unwrap();
        child.wait_with_output().unwrap()
    };
    let out = run("482913");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8(out.stdout).unwrap();
    let hash = line
        .trim()
        .strip_prefix("staff_pin_hash = \"")
        .and_then(|h| h.strip_suffix('"'))
        .unwrap_or_else(|| panic!("{line}"));
    let parsed = kyc_kiosk::staff::PinHash::parse(hash).unwrap();
    assert!(kyc_kiosk::staff::pin::verify("482913", &parsed));
    assert!(!line.contains("482913"));
    // The printed line is valid config.
    let raw = kyc_kiosk::config::RawConfig::from_toml(
        &format!("[kiosk]\n{line}"),
        std::path::Path::new("x"),
    )
    .unwrap();
    assert!(raw.validate().unwrap().kiosk.staff_pin_hash.is_some());

    let weak = run("111111");
    assert!(!weak.status.success());
    let err = String::from_utf8_lossy(&weak.stderr);
    assert!(err.contains("pin") && !err.contains("111111"), "{err}");
    assert!(weak.stdout.is_empty());
}

#[test]
fn config_needs_a_staff_pin_in_kiosk_mode_and_never_prints_it() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    // The sandbox is chosen, so the PIN rule is what is looked at.
    std::fs::write(
        &cfg,
        "[api]\nbackend = \"sandbox\"\n[kiosk]\nkiosk_mode = true\n",
    )
    .unwrap();
    let run = || {
        kiosk()
            .env_remove("KYC_KIOSK_MODE")
            .args(["config", "--config"])
            .arg(&cfg)
            .output()
            .unwrap()
    };
    let out = run();
    assert_eq!(out.status.code(), Some(10));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("kiosk.staff_pin_hash"), "{err}");

    // The hash set on the staff screen (staff.toml beside it) counts, and
    // is not printed.
    let hash = kyc_kiosk::staff::pin::hash("482913")
        .unwrap()
        .as_str()
        .to_owned();
    std::fs::write(
        dir.path().join("staff.toml"),
        format!("[kiosk]\nstaff_pin_hash = \"{}\"\n", hash.as_str()),
    )
    .unwrap();
    let out = run();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = String::from_utf8_lossy(&out.stdout);
    let tail = hash.as_str().rsplit('$').next().unwrap();
    assert!(!shown.contains(tail), "{shown}");
    assert!(shown.contains("staff PIN: set"), "{shown}");
}
