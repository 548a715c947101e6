//! `kyc-kiosk verify` and `kyc-kiosk sandbox` as a user runs them.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use kyc_kiosk::quality::synth;
use kyc_kiosk::sandbox::SandboxConfig;

use crate::support;

struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in [
            ("front.jpg", support::front()),
            ("back.jpg", support::back()),
            ("face.jpg", support::face()),
            ("bill.jpg", support::bill()),
            ("pattern.jpg", support::pattern()),
            ("blurry.png", synth::png(&synth::blurry(1000, 630))),
            ("garbage.jpg", b"not an image".to_vec()),
        ] {
            std::fs::write(dir.path().join(name), bytes).unwrap();
        }
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn kiosk(files: &Files) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kyc-kiosk"));
    c.env_remove("IDENFY_API_KEY")
        .env_remove("IDENFY_API_SECRET")
        .env_remove("IDENFY_BASE_URL")
        .env_remove("IDENFY_SIGNING_KEY")
        .env_remove("KYC_KIOSK_BACKEND")
        .env_remove("KYC_KIOSK_MODE")
        .env("KYC_KIOSK_CONFIG", files.path("absent.toml"));
    c
}

fn verify_args(files: &Files, front: &str) -> Vec<String> {
    let p = |n: &str| files.path(n).display().to_string();
    vec![
        "verify".into(),
        "--client-id".into(),
        "cli-test".into(),
        "--country".into(),
        "LT".into(),
        "--front".into(),
        p(front),
        "--back".into(),
        p("back.jpg"),
        "--face".into(),
        p("face.jpg"),
        "--document".into(),
        "ID_CARD".into(),
        "--webhook-listen".into(),
        "127.0.0.1:0".into(),
        "--wait".into(),
        "20".into(),
        "--json".into(),
    ]
}

fn json_of(out: &Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON object ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap()
}

#[test]
fn embedded_sandbox_approves_the_specimen() {
    let f = Files::new();
    let out = run(kiosk(&f).args(verify_args(&f, "front.jpg")));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j = json_of(&out);
    assert_eq!(j["status"], "APPROVED");
    assert_eq!(j["clientId"], "cli-test");
    assert_eq!(j["autoDocument"], "DOC_VALIDATED");
    assert_eq!(j["autoFace"], "FACE_MATCH");
    assert!(j["scanRef"].as_str().is_some_and(|s| !s.is_empty()));
    for k in ["manualDocument", "manualFace", "fraudTags", "mismatchTags"] {
        assert!(j.get(k).is_some(), "missing {k}");
    }
}

#[test]
fn wrong_name_is_suspected_and_wrong_country_denied() {
    let f = Files::new();
    let out = run(kiosk(&f)
        .args(verify_args(&f, "front.jpg"))
        .args(["--first-name", "Petras"]));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j = json_of(&out);
    assert_eq!(j["status"], "SUSPECTED");
    assert_eq!(j["mismatchTags"], serde_json::json!(["NAME"]));

    let mut args = verify_args(&f, "front.jpg");
    args[4] = "LV".into();
    let out = run(kiosk(&f).args(args));
    assert_eq!(out.status.code(), Some(0));
    let j = json_of(&out);
    assert_eq!(j["status"], "DENIED");
    assert_eq!(j["autoDocument"], "COUNTRY_MISMATCH");
}

#[test]
fn precheck_refuses_a_blurry_front_unless_forced() {
    let f = Files::new();
    let out = run(kiosk(&f).args(verify_args(&f, "blurry.png")));
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("FRONT") && err.contains("blurry"), "{err}");

    let out = run(kiosk(&f).args(verify_args(&f, "blurry.png")).arg("--force"));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j = json_of(&out);
    assert_eq!(j["status"], "DENIED");
    assert_eq!(j["autoDocument"], "DOC_TOO_BLURRY");
}

#[test]
fn unreadable_image_is_refused_even_forced() {
    let f = Files::new();
    let out = run(kiosk(&f)
        .args(verify_args(&f, "garbage.jpg"))
        .arg("--force"));
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("FRONT"));
}

// A set over the API's 20 MB body limit could never be sent: it is refused
// with the sizes before a token is created (no request reaches the API).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_over_the_body_limit_are_refused_before_a_token() {
    let (base, _task, hits) = support::untouched_api().await;
    let f = Files::new();
    // Incompressible: about 15.6 MB, 20.8 MB after base64 on its own.
    let huge = synth::png(&synth::noise(2600, 2000, 1));
    std::fs::write(f.path("huge.png"), huge).unwrap();
    let mut cmd = kiosk(&f);
    cmd.args(verify_args(&f, "huge.png"))
        .env("IDENFY_BASE_URL", base)
        .env("IDENFY_API_KEY", "key")
        .env("IDENFY_API_SECRET", "secret")
        .env(
            "IDENFY_SIGNING_KEY",
            "a-webhook-signing-key-of-32-characters-or-more",
        );
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(10), "{err}");
    assert!(err.contains("over the limit of 20000000 bytes"), "{err}");
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0, "{err}");
}

#[test]
fn a_utility_bill_is_asked_for_sent_and_approved() {
    let f = Files::new();
    let bill = f.path("bill.jpg").display().to_string();
    for extra in [
        vec!["--utility-bill", &bill],
        // The compare form: the token carries the address as a step.
        vec![
            "--utility-bill",
            &bill,
            "--bill-address",
            "Gedimino pr. 1-23, LT-01103 Vilnius",
        ],
    ] {
        let out = run(kiosk(&f).args(verify_args(&f, "front.jpg")).args(&extra));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{extra:?}: {err}");
        let j = json_of(&out);
        assert_eq!(j["status"], "APPROVED", "{extra:?}: {j}");
        assert_eq!(j["final"], true);
    }
}

// The sandbox, like iDenfy, refuses a bill in which it finds no page; a
// file cannot be retaken, so the command ends there with the API's words
// instead of waiting for a result that cannot come.
#[test]
fn a_utility_bill_without_a_page_is_refused_by_the_api() {
    let f = Files::new();
    let pattern = f.path("pattern.jpg").display().to_string();
    let out = run(kiosk(&f)
        .args(verify_args(&f, "front.jpg"))
        .args(["--utility-bill", &pattern]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    let j = json_of(&out);
    assert_eq!(j["error"]["code"], "IMAGE_RETAKE", "{j}");
    assert_eq!(j["error"]["side"], "UTILITY_BILL", "{j}");
    assert!(err.contains("proof of address"), "{err}");
}

// A bill option that cannot be used stops the command before anything is
// sent, as the other photo options do: a missing or unreadable file, or a
// compare address without a bill to compare it with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_utility_bill_options_send_nothing() {
    let (base, _task, hits) = support::untouched_api().await;
    let f = Files::new();
    let p = |n: &str| f.path(n).display().to_string();
    for (extra, code, says) in [
        (
            vec!["--utility-bill".to_owned(), p("absent.jpg")],
            10,
            "cannot read",
        ),
        (
            vec!["--utility-bill".to_owned(), p("garbage.jpg")],
            3,
            "UTILITY_BILL",
        ),
        (
            vec!["--bill-address".to_owned(), "Gedimino pr. 1".to_owned()],
            10,
            "--utility-bill",
        ),
    ] {
        let mut cmd = kiosk(&f);
        cmd.args(verify_args(&f, "front.jpg"))
            .args(&extra)
            .env("IDENFY_BASE_URL", &base)
            .env("IDENFY_API_KEY", "key")
            .env("IDENFY_API_SECRET", "secret")
            .env(
                "IDENFY_SIGNING_KEY",
                "a-webhook-signing-key-of-32-characters-or-more",
            );
        let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{extra:?}: {err}");
        assert!(err.contains(says), "{extra:?}: {err}");
    }
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0);
}

/// Run the CLI against an in-process sandbox given as a live backend.
async fn against(cfg: SandboxConfig, key: Option<&str>, extra: &[&str]) -> Output {
    let (sb, _) = support::sandbox(cfg).await;
    let f = Files::new();
    let mut cmd = kiosk(&f);
    let mut args = verify_args(&f, "front.jpg");
    if extra.contains(&"--wait") {
        if let Some(i) = args.iter().position(|a| a == "--wait") {
            args.drain(i..i + 2);
        }
    }
    cmd.args(args)
        .args(extra)
        .env("IDENFY_BASE_URL", sb.base_url())
        .env("IDENFY_API_KEY", key.unwrap_or(sb.api_key().expose()))
        .env("IDENFY_API_SECRET", sb.api_secret().expose())
        .env("IDENFY_SIGNING_KEY", sb.signing_key().expose());
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    drop(f);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_result_in_time_exits_4() {
    // The sandbox has no webhook URL, so no result ever arrives.
    let out = against(SandboxConfig::default(), None, &["--wait", "1"]).await;
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("status now"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_refusal_exits_5_and_shows_the_message() {
    let out = against(SandboxConfig::default(), Some("wrong-key-value"), &[]).await;
    assert_eq!(out.status.code(), Some(5));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        all.contains("refused") && all.contains("UNAUTHORIZED"),
        "{all}"
    );
    assert!(!all.contains("wrong-key-value"));
    let out = against(
        SandboxConfig {
            credits: Some(0),
            ..SandboxConfig::default()
        },
        None,
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&out.stdout).contains("OUT_OF_CREDITS"));
}

#[test]
fn network_failure_exits_6() {
    let f = Files::new();
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    let out = run(kiosk(&f)
        .args(verify_args(&f, "front.jpg"))
        .env("IDENFY_BASE_URL", format!("http://{addr}"))
        .env("IDENFY_API_KEY", "k")
        .env("IDENFY_API_SECRET", "s")
        .env("IDENFY_SIGNING_KEY", "signing-key-1-0123456789abcdefghij"));
    assert_eq!(
        out.status.code(),
        Some(6),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json_of(&out)["error"]["code"], "NETWORK");
}

/// A live backend chosen (or kiosk mode) without credentials stops before
/// anything is sent: exit 5 naming the cause, never the embedded sandbox.
#[test]
fn verify_and_handoff_fail_closed_without_live_credentials() {
    let f = Files::new();
    for env in [("KYC_KIOSK_BACKEND", "live"), ("KYC_KIOSK_MODE", "1")] {
        let out = run(kiosk(&f)
            .args(verify_args(&f, "front.jpg"))
            .env(env.0, env.1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(5), "{env:?}: {err}");
        assert!(err.contains("IDENFY_API_KEY"), "{err}");
        assert!(!err.contains("SANDBOX"), "{err}");
        let out = run(kiosk(&f)
            .args(["handoff", "--client-id", "c-1", "--wait", "1"])
            .env(env.0, env.1));
        assert_eq!(
            out.status.code(),
            Some(5),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Kills the standalone sandbox this test started.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn verify_against_standalone_sandbox_with_manual_review() {
    let f = Files::new();
    let hook_port = free_port();
    let mut child = Child(
        kiosk(&f)
            .args([
                "sandbox",
                "--listen",
                "127.0.0.1:0",
                "--manual-review",
                "--manual-delay-ms",
                "100",
            ])
            .args([
                "--webhook-url",
                &format!("http://127.0.0.1:{hook_port}/webhooks/idenfy"),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let base = first
        .strip_prefix("sandbox listening on ")
        .expect(&first)
        .to_owned();
    // Regression: the standalone sandbox died when its reader closed stdout
    // before the last banner line (println! panics on a broken pipe). Reading
    // only four of the five lines and dropping the pipe keeps that covered.
    let printed: Vec<String> = lines.take(3).map(Result::unwrap).collect();
    assert!(printed[0].contains("sandbox-key"), "{printed:?}");
    let mut args = verify_args(&f, "front.jpg");
    let n = args.len();
    args[n - 4] = format!("127.0.0.1:{hook_port}");
    let out = run(kiosk(&f)
        .args(args)
        .env("IDENFY_BASE_URL", &base)
        .env("IDENFY_API_KEY", "sandbox-key")
        .env("IDENFY_API_SECRET", "sandbox-secret")
        .env("IDENFY_SIGNING_KEY", "sandbox-signing-key-for-local-tests"));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j = json_of(&out);
    assert_eq!(j["status"], "APPROVED");
    assert_eq!(j["manualDocument"], "DOC_VALIDATED");
    assert_eq!(j["manualFace"], "FACE_MATCH");
    drop(child);
}
