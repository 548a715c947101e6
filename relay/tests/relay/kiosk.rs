//! The kiosk itself (`kyc-kiosk verify` and `session::Kiosk`) configured
//! with only a relay: no `IDENFY_*` on the kiosk, the relay holds them.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use kyc_kiosk::config::RawConfig;
use kyc_kiosk::sandbox::{Sandbox, SandboxConfig, SandboxHandle};
use kyc_kiosk::session::{
    CameraChoice, DocumentType, Input, InputKind, Kiosk, KioskOptions, Screen, Side, StartRequest,
};
use kyc_kiosk::ErrorCode;
use kyc_kiosk_relay::config::{Backend, UpstreamConfig};

use crate::support::{enrol, shared};

/// A demo camera picture: the sandbox behind the relay looks for the
/// document (and counts the faces) in what it is sent.
fn demo(file: &str) -> Vec<u8> {
    std::fs::read(kyc_kiosk::camera::demo::default_dir().join(file)).unwrap()
}

/// The `kyc-kiosk` binary: `KYC_KIOSK_BIN` when set, else the one next to
/// this test's (`target/<profile>/`). It is another package's binary, so
/// cargo does not build it for this test: `cargo test --workspace` (or
/// `cargo build -p kyc-kiosk`) does.
fn kiosk_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("KYC_KIOSK_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .ancestors()
        .skip(1)
        .map(|d| d.join(format!("kyc-kiosk{}", std::env::consts::EXE_SUFFIX)))
        .find(|p| p.is_file());
    bin.unwrap_or_else(|| {
        panic!(
            "no kyc-kiosk binary above {}: run `cargo build -p kyc-kiosk` (or `cargo test --workspace`) first",
            exe.display()
        )
    })
}

/// A relay at `addr` over `up`.
async fn relay_at(
    db: &str,
    addr: std::net::SocketAddr,
    up: &UpstreamConfig,
) -> kyc_kiosk_relay::Running {
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let url = kyc_kiosk_relay::PublicUrl::parse(&format!("http://{addr}")).unwrap();
    let mut settings = kyc_kiosk_relay::Settings::new(url);
    settings.purge_every = Duration::from_secs(3600);
    let pool = kyc_kiosk_relay::db::connect(db, 10).await.unwrap();
    kyc_kiosk_relay::server::start(pool, listener, up, settings)
        .await
        .unwrap()
}

/// A standalone sandbox as the relay's upstream (`IDENFY_BASE_URL`), and the
/// address the relay is to listen on. The sandbox outlives relay instances
/// and posts its webhooks there (a loopback relay's public URL is not HTTPS,
/// so it sends no `callbackUrl`).
async fn upstream() -> (SandboxHandle, UpstreamConfig, std::net::SocketAddr) {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = free.local_addr().unwrap();
    drop(free);
    let sb = Sandbox::start(SandboxConfig {
        auto_delay: Duration::from_millis(50),
        manual_delay: Duration::from_millis(50),
        webhook_backoff: Duration::from_millis(100),
        webhook_url: Some(format!("http://{addr}/webhooks/idenfy")),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let mut u = UpstreamConfig::sandbox();
    u.backend = Backend::Live;
    u.base_url = sb.base_url().to_owned();
    u.api_key = Some(sb.api_key().clone());
    u.api_secret = Some(sb.api_secret().clone());
    u.signing_key = Some(sb.signing_key().clone());
    (sb, u, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_with_only_the_relay_configured_reaches_a_final_result() {
    let db = shared().fresh_database();
    let (_sb, up, addr) = upstream().await;
    let r = relay_at(&db, addr, &up).await;
    let k = enrol(&db, "Desk 3", Some("Vilnius")).await;
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).display().to_string();
    std::fs::write(p("front.jpg"), demo("front.jpg")).unwrap();
    std::fs::write(p("back.jpg"), demo("back.jpg")).unwrap();
    std::fs::write(p("face.jpg"), demo("face.jpg")).unwrap();

    let mut cmd = tokio::process::Command::new(kiosk_binary());
    for (v, _) in std::env::vars() {
        if v.starts_with("IDENFY_") || v.starts_with("KYC_KIOSK_") {
            cmd.env_remove(v);
        }
    }
    let out = cmd
        .env("KYC_KIOSK_CONFIG", p("absent.toml"))
        .env("KYC_KIOSK_RELAY_URL", r.url())
        .env("KYC_KIOSK_RELAY_KEY", &k.credential)
        .args(["verify", "--client-id", "relay-cli", "--country", "LT"])
        .args(["--front", &p("front.jpg"), "--back", &p("back.jpg")])
        .args(["--face", &p("face.jpg"), "--document", "ID_CARD"])
        .args(["--wait", "30", "--json"])
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("Back office: connected as Desk 3"),
        "{stderr}"
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["status"], "APPROVED", "{j}");
    assert_eq!(j["clientId"], "relay-cli");
    r.shutdown().await;
}

// A proof of address through the relay: the token the kiosk asks for
// carries the bill step (both forms: collect only, and compare with an
// address), the relay forwards it to iDenfy, and the `/process` it relays
// carries UTILITY_BILL. The sandbox behind it refuses a bill token's
// `/process` without the bill and a bill the token did not ask for, so an
// approval here means both ends agreed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_with_a_utility_bill_through_the_relay_reaches_a_final_result() {
    let db = shared().fresh_database();
    let (_sb, up, addr) = upstream().await;
    let r = relay_at(&db, addr, &up).await;
    let k = enrol(&db, "Desk 4", Some("Kaunas")).await;
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).display().to_string();
    for f in ["front.jpg", "back.jpg", "face.jpg", "bill.jpg"] {
        std::fs::write(p(f), demo(f)).unwrap();
    }
    for (client, compare) in [
        ("relay-bill", None),
        ("relay-bill-compare", Some("Laisvės al. 1, LT-44280 Kaunas")),
    ] {
        let mut cmd = tokio::process::Command::new(kiosk_binary());
        for (v, _) in std::env::vars() {
            if v.starts_with("IDENFY_") || v.starts_with("KYC_KIOSK_") {
                cmd.env_remove(v);
            }
        }
        cmd.env("KYC_KIOSK_CONFIG", p("absent.toml"))
            .env("KYC_KIOSK_RELAY_URL", r.url())
            .env("KYC_KIOSK_RELAY_KEY", &k.credential)
            .args(["verify", "--client-id", client, "--country", "LT"])
            .args(["--front", &p("front.jpg"), "--back", &p("back.jpg")])
            .args(["--face", &p("face.jpg"), "--document", "ID_CARD"])
            .args(["--utility-bill", &p("bill.jpg")])
            .args(["--wait", "30", "--json"]);
        if let Some(a) = compare {
            cmd.args(["--bill-address", a]);
        }
        let out = cmd.output().await.unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{client}: {stderr}");
        let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(j["status"], "APPROVED", "{client}: {j}");
        assert_eq!(j["final"], true, "{j}");
        let scan_ref = j["scanRef"].as_str().unwrap().to_owned();
        let accepted = crate::support::scalar_i64(
            &db,
            &format!(
                "SELECT count(*) FROM audit WHERE scan_ref = '{scan_ref}' AND event = 'process_accepted'"
            ),
        )
        .await;
        assert_eq!(accepted, 1, "{client}");
    }
    r.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_through_a_relay_that_is_down_exits_6() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).display().to_string();
    std::fs::write(p("front.jpg"), demo("front.jpg")).unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let out = tokio::process::Command::new(kiosk_binary())
        .env_remove("IDENFY_API_KEY")
        .env_remove("IDENFY_API_SECRET")
        .env("KYC_KIOSK_CONFIG", p("absent.toml"))
        .env("KYC_KIOSK_RELAY_URL", url)
        .env("KYC_KIOSK_RELAY_KEY", "some-kiosk-credential")
        .args(["verify", "--client-id", "x", "--country", "LT"])
        .args(["--front", &p("front.jpg"), "--token-type", "DOCUMENT"])
        .args(["--wait", "5", "--json"])
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{stderr}");
    assert!(stderr.contains("Back office: not reachable"), "{stderr}");
}

/// The view after it next satisfies `f`, within 30 s.
async fn until(
    h: &kyc_kiosk::session::Handle,
    f: impl Fn(&kyc_kiosk::session::View) -> bool,
) -> kyc_kiosk::session::View {
    match tokio::time::timeout(Duration::from_secs(30), h.wait_for(f)).await {
        Ok(v) => v.unwrap(),
        Err(_) => panic!("the screen did not come in time; now: {:?}", h.view()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_down_at_submission_keeps_the_photos_and_a_retry_succeeds_once_it_is_back() {
    let db = shared().fresh_database();
    let (_sb, up, addr) = upstream().await;
    let r = relay_at(&db, addr, &up).await;
    let k = enrol(&db, "Desk 9", None).await;
    let config = RawConfig::default()
        .with_env([
            ("KYC_KIOSK_RELAY_URL", r.url()),
            ("KYC_KIOSK_RELAY_KEY", k.credential.clone()),
        ])
        .validate()
        .unwrap();
    let stills: HashMap<Side, Vec<u8>> = [
        (Side::Front, demo("front.jpg")),
        (Side::Back, demo("back.jpg")),
        (Side::Face, demo("face.jpg")),
    ]
    .into();
    let kiosk = Kiosk::start(
        &config,
        KioskOptions {
            camera: CameraChoice::Stills(Arc::new(stills)),
            auto_capture: None,
            ..KioskOptions::default()
        },
    )
    .await
    .unwrap();
    assert!(!kiosk.is_sandbox());
    assert!(
        matches!(kiosk.back_office_checked().await, Some(kyc_kiosk::session::relayed::Link::Connected { ref name, .. }) if name == "Desk 9"),
        "{:?}",
        kiosk.back_office()
    );
    let h = kiosk.handle().clone();
    let mut req = StartRequest::new("relay-retry", "LT");
    req.documents = vec![DocumentType::IdCard];
    kiosk.start_session(req).await.unwrap();
    until(&h, |v| v.screen == Screen::Choice).await;
    h.send(Input::VerifyHere(DocumentType::IdCard))
        .await
        .unwrap();
    loop {
        let v = until(&h, |v| {
            v.screen == Screen::Review
                || (v.screen == Screen::Capture
                    && v.camera_ready
                    && !v.capturing
                    && v.allowed.contains(&InputKind::Capture))
        })
        .await;
        if v.screen == Screen::Review {
            break;
        }
        h.send(Input::Capture).await.unwrap();
        until(&h, |n| n.side != v.side || n.screen != Screen::Capture).await;
    }

    // The relay goes away just before the customer confirms.
    r.shutdown().await;
    h.send(Input::Confirm).await.unwrap();
    let failed = until(&h, |v| {
        matches!(
            v.screen,
            Screen::SubmitFailed | Screen::Error | Screen::Result
        )
    })
    .await;
    assert_eq!(failed.screen, Screen::SubmitFailed, "{failed:?}");
    assert_eq!(
        failed.error.as_ref().map(|e| e.code),
        Some(ErrorCode::Network)
    );
    assert!(failed.allowed.contains(&InputKind::Retry), "{failed:?}");

    // Back on the same address: the retry submits the kept photos.
    let r2 = relay_at(&db, addr, &up).await;
    // The first retry asks `/status` (the submission may have left); the
    // token is unused, so the next one sends the kept photos.
    let done = |v: &kyc_kiosk::session::View| {
        v.screen == Screen::Error
            || (v.screen == Screen::Result && v.result.as_ref().is_some_and(|r| r.final_))
    };
    let mut end = failed;
    for _ in 0..5 {
        if h.view().screen == Screen::SubmitFailed {
            let _ = h.send(Input::Retry).await;
        }
        if let Ok(v) = tokio::time::timeout(Duration::from_secs(5), h.wait_for(done)).await {
            end = v.unwrap();
            break;
        }
    }
    assert_eq!(end.screen, Screen::Result, "{end:?}");
    kiosk.shutdown().await;
    r2.shutdown().await;
}
