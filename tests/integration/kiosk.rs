//! Whole flows through the kiosk runtime: the embedded sandbox over real
//! HTTP, the demo camera, live checks, auto-capture and signed webhooks.

use std::time::Duration;

use kyc_kiosk::config::Config;
use kyc_kiosk::session::{
    CameraChoice, DocumentType, Input, InputKind, Kiosk, KioskOptions, Screen, StartRequest, View,
};
use kyc_kiosk::ErrorCode;

async fn kiosk(opts: KioskOptions) -> Kiosk {
    Kiosk::start(
        &Config::default(),
        KioskOptions {
            camera: CameraChoice::Demo,
            ..opts
        },
    )
    .await
    .expect("kiosk starts")
}

fn request(client: &str, country: &str) -> StartRequest {
    let mut r = StartRequest::new(client, country);
    r.documents = vec![DocumentType::IdCard];
    r.generate_digit_string = true;
    r
}

/// The final result on the result screen.
async fn wait_final(k: &Kiosk) -> View {
    wait(k, "result", |v| {
        v.screen == Screen::Result && v.result.as_ref().is_some_and(|r| r.final_)
    })
    .await
}

async fn wait(k: &Kiosk, what: &str, pred: impl Fn(&View) -> bool) -> View {
    tokio::time::timeout(Duration::from_secs(45), k.handle().wait_for(pred))
        .await
        .unwrap_or_else(|_| {
            let v = k.handle().view();
            panic!(
                "timed out waiting for {what}; view: {:?}, side {:?}, hint {:?}",
                v.screen, v.side, v.hint
            )
        })
        .unwrap()
}

/// From the choice screen to a live camera on the FRONT.
async fn camera_on(k: &Kiosk) {
    wait(k, "choice", |v| v.screen == Screen::Choice).await;
    k.handle()
        .send(Input::VerifyHere(DocumentType::IdCard))
        .await
        .unwrap();
    wait(k, "camera", |v| {
        v.screen == Screen::Capture && v.camera_ready
    })
    .await;
}

/// Choose "here", let auto-capture take every side, confirm, and return the final view.
async fn verify_here(k: &Kiosk) -> View {
    wait(k, "choice", |v| v.screen == Screen::Choice).await;
    k.handle()
        .send(Input::VerifyHere(DocumentType::IdCard))
        .await
        .unwrap();
    let review = wait(k, "review", |v| v.screen == Screen::Review).await;
    let taken = taken_sides(&review);
    assert_eq!(taken.len(), 3, "front, back and face were taken: {taken:?}");
    k.handle().send(Input::Confirm).await.unwrap();
    wait_final(k).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_camera_flow_is_approved_and_wiped_after() {
    let k = kiosk(KioskOptions::default()).await;
    assert!(k.is_sandbox());
    k.start_session(request("it-approved", "LT")).await.unwrap();
    let v = verify_here(&k).await;
    let r = v.result.clone().unwrap();
    assert_eq!(r.status, "APPROVED");
    assert_eq!(r.auto_document.as_deref(), Some("DOC_VALIDATED"));
    // Staff see whose result it is.
    assert_eq!(r.client_id, "it-approved");
    let wipes = v.wipes;
    k.handle().send(Input::Finish).await.unwrap();
    let v = wait(&k, "start", |v| v.screen == Screen::Start).await;
    assert!(v.scan_ref.is_none() && v.result.is_none());
    // The view after the reset holds nothing of the customer, and tells
    // the UI to clear its form.
    assert_eq!(v.wipes, wipes + 1);
    let json = serde_json::to_string(&v).unwrap();
    assert!(!json.contains("it-approved"), "{json}");
    for side in [
        kyc_kiosk::session::Side::Front,
        kyc_kiosk::session::Side::Face,
    ] {
        assert!(
            k.handle().still(side).await.unwrap().is_none(),
            "stills are gone"
        );
    }
    k.shutdown().await;
}

// The proof of address end to end: the demo camera shows the bill when the
// kiosk asks for it, auto-capture takes it as a page, and the sandbox, which
// refuses a bill token's /process without UTILITY_BILL (and a bill without a
// page in it), approves what it got.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proof_of_address_is_captured_from_the_demo_camera_and_approved() {
    use kyc_kiosk::session::{ProofOfAddress, Side};
    let k = kiosk(KioskOptions::default()).await;
    let mut r = request("it-bill", "LT");
    r.proof_of_address = Some(ProofOfAddress::compare(
        "Gedimino pr. 1-23, LT-01103 Vilnius",
    ));
    k.start_session(r).await.unwrap();
    wait(&k, "choice", |v| v.screen == Screen::Choice).await;
    k.handle()
        .send(Input::VerifyHere(DocumentType::IdCard))
        .await
        .unwrap();
    let review = wait(&k, "review", |v| v.screen == Screen::Review).await;
    let taken = taken_sides(&review);
    assert_eq!(
        taken,
        [Side::Front, Side::Back, Side::UtilityBill, Side::Face]
    );
    let bill = k.handle().still(Side::UtilityBill).await.unwrap().unwrap();
    // Cut out and squared to A4, upright.
    let aspect = bill.height as f32 / bill.width as f32;
    assert!(
        (aspect - kyc_kiosk::framing::crop::A4_ASPECT).abs() < 0.01,
        "{aspect}"
    );
    k.handle().send(Input::Confirm).await.unwrap();
    let v = wait_final(&k).await;
    assert_eq!(v.result.unwrap().status, "APPROVED");
    k.handle().send(Input::Finish).await.unwrap();
    wait(&k, "start", |v| v.screen == Screen::Start).await;
    assert!(k.handle().still(Side::UtilityBill).await.unwrap().is_none());
    k.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expected_name_mismatch_is_suspected_and_wrong_country_denied() {
    let k = kiosk(KioskOptions::default()).await;
    let mut r = request("it-suspected", "LT");
    r.first_name = Some("Petras".into());
    k.start_session(r).await.unwrap();
    let v = verify_here(&k).await.result.unwrap();
    assert_eq!(v.status, "SUSPECTED");
    assert!(
        v.mismatch_tags.iter().any(|t| t.code == "NAME"),
        "{:?}",
        v.mismatch_tags
    );
    k.handle().send(Input::Finish).await.unwrap();
    wait(&k, "start", |v| v.screen == Screen::Start).await;

    k.start_session(request("it-denied", "DE")).await.unwrap();
    let v = verify_here(&k).await.result.unwrap();
    assert_eq!(v.status, "DENIED");
    assert_eq!(v.auto_document.as_deref(), Some("COUNTRY_MISMATCH"));
    k.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blurry_capture_is_refused_then_retaken_automatically() {
    // Ten seconds of a moving card after each scene change (frames, not
    // time: a loaded machine cannot make it steady sooner).
    let k = kiosk(KioskOptions {
        demo_settle_frames: Some(300),
        ..KioskOptions::default()
    })
    .await;
    k.start_session(request("it-retake", "LT")).await.unwrap();
    camera_on(&k).await;
    k.handle().send(Input::Capture).await.unwrap();
    let v = wait(&k, "hint", |v| v.hint.is_some()).await;
    let hint = v.hint.unwrap();
    assert_eq!(hint.code, ErrorCode::ImageRetake);
    assert_eq!(hint.detail, Some(kyc_kiosk::quality::Issue::Blurry));
    assert!(
        v.sides.iter().all(|s| !s.taken),
        "nothing kept from the blurry photo"
    );
    // Once steady, auto-capture takes it.
    wait(&k, "front taken", |v| {
        v.sides.first().is_some_and(|s| s.taken)
    })
    .await;
    k.handle().send(Input::Cancel).await.unwrap();
    let v = wait(&k, "start", |v| v.screen == Screen::Start).await;
    assert!(v.sides.is_empty());
    k.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unplugged_camera_is_shown_and_the_capture_resumes_when_it_returns() {
    let k = kiosk(KioskOptions {
        auto_capture: None,
        demo_settle_frames: Some(0),
        ..KioskOptions::default()
    })
    .await;
    k.start_session(request("it-unplug", "LT")).await.unwrap();
    camera_on(&k).await;
    k.handle().send(Input::Capture).await.unwrap();
    wait(&k, "back", |v| {
        v.side == Some(kyc_kiosk::session::Side::Back) && v.camera_ready && !v.capturing
    })
    .await;

    let cable = k.demo_camera().expect("demo camera");
    cable.set_connected(false);
    let v = wait(&k, "camera lost", |v| v.screen == Screen::Error).await;
    let e = v.error.expect("error shown");
    assert_eq!(e.code, ErrorCode::CameraLost);
    assert!(v.allowed.contains(&InputKind::Retry), "{:?}", v.allowed);
    assert!(v.allowed.contains(&InputKind::ContinueOnPhone));
    // The lost camera is closed (its last picture is not kept on show).
    let closed = async {
        while k.wait_preview(0, Duration::from_millis(50)).await.is_some() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), closed)
        .await
        .expect("the lost camera is closed");
    // Still away after a background retry or two.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(k.handle().view().screen, Screen::Error);

    cable.set_connected(true);
    let v = wait(&k, "resumed", |v| {
        v.screen == Screen::Capture && v.camera_ready
    })
    .await;
    assert_eq!(v.side, Some(kyc_kiosk::session::Side::Back), "where it was");
    assert!(v.sides[0].taken, "the front photo was kept");
    assert!(k.wait_preview(0, Duration::from_secs(5)).await.is_some());
    k.handle().send(Input::Cancel).await.unwrap();
    wait(&k, "start", |v| v.screen == Screen::Start).await;
    k.shutdown().await;
}

// Regression: a token for the phone without a document country was refused
// ("country: `` is not an ISO 3166-1 alpha-2 country code"); the customer
// picks the country in the mobile app.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handoff_needs_no_country() {
    let k = kiosk(KioskOptions::default()).await;
    k.start_session(request("it-no-country", "")).await.unwrap();
    wait(&k, "choice", |v| {
        v.allowed.contains(&InputKind::ContinueOnPhone)
    })
    .await;
    let err = k
        .handle()
        .send(Input::VerifyHere(DocumentType::IdCard))
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("country"));
    k.handle().send(Input::ContinueOnPhone).await.unwrap();
    let v = wait(&k, "handoff", |v| v.screen == Screen::Handoff).await;
    assert_eq!(v.digit_string.map(|d| d.len()), Some(8));
    k.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mobile_handoff_gets_the_phone_result() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let k = kiosk(KioskOptions {
        sandbox_listen: Some(addr),
        ..KioskOptions::default()
    })
    .await;
    k.start_session(request("it-handoff", "LT")).await.unwrap();
    wait(&k, "choice", |v| {
        v.allowed.contains(&InputKind::ContinueOnPhone)
    })
    .await;
    k.handle().send(Input::ContinueOnPhone).await.unwrap();
    let v = wait(&k, "handoff", |v| v.screen == Screen::Handoff).await;
    let digits = v.digit_string.expect("the code is shown");
    assert_eq!(digits.len(), 8);
    // The phone finishes with that code.
    let resp = reqwest::Client::new()
        .post(format!("http://{addr}/sandbox/mobile/complete"))
        .json(&serde_json::json!({ "digitString": digits }))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    let v = wait(&k, "result", |v| v.screen == Screen::Result).await;
    assert_eq!(v.result.unwrap().status, "APPROVED");
    assert!(
        v.digit_string.is_none(),
        "the spent code is no longer shown"
    );
    k.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_credits_is_told_plainly() {
    let k = kiosk(KioskOptions {
        sandbox_credits: Some(0),
        ..KioskOptions::default()
    })
    .await;
    k.start_session(request("it-402", "LT")).await.unwrap();
    let v = wait(&k, "error", |v| v.error.is_some()).await;
    let e = v.error.unwrap();
    assert_eq!(e.code, ErrorCode::OutOfCredits);
    assert!(e.message.contains("credits"), "{}", e.message);
    k.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_form_field_is_named_before_anything_is_sent() {
    let k = kiosk(KioskOptions::default()).await;
    let mut r = request("it-form", "LT");
    r.last_name = Some("Sm1th".into());
    let e = k.start_session(r).await.unwrap_err();
    assert_eq!(e.field(), Some("lastName"));
    assert_eq!(k.handle().view().screen, Screen::Start);
    k.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_failure_mid_submit_keeps_the_photos_and_retries_after_asking_status() {
    // The first /process never answers: the client gives up after 2 s, the
    // kiosk asks /status (token unused), keeps the photos and offers a retry.
    let k = kiosk(KioskOptions {
        sandbox_stall_process: 1,
        api_timeout: Some(Duration::from_secs(2)),
        ..KioskOptions::default()
    })
    .await;
    k.start_session(request("it-network", "LT")).await.unwrap();
    wait(&k, "choice", |v| v.screen == Screen::Choice).await;
    k.handle()
        .send(Input::VerifyHere(DocumentType::IdCard))
        .await
        .unwrap();
    wait(&k, "review", |v| v.screen == Screen::Review).await;
    k.handle().send(Input::Confirm).await.unwrap();
    let v = wait(&k, "retry offered", |v| {
        v.allowed.contains(&InputKind::Retry)
    })
    .await;
    assert_eq!(
        v.error.as_ref().map(|e| e.code),
        Some(ErrorCode::Network),
        "{:?}",
        v.screen
    );
    for side in [
        kyc_kiosk::session::Side::Front,
        kyc_kiosk::session::Side::Back,
        kyc_kiosk::session::Side::Face,
    ] {
        assert!(
            k.handle().still(side).await.unwrap().is_some(),
            "{side:?} kept"
        );
    }
    k.handle().send(Input::Retry).await.unwrap();
    let v = wait_final(&k).await;
    assert_eq!(v.result.unwrap().status, "APPROVED");
    k.shutdown().await;
}

/// A live kiosk never photographs the demo specimen: without a camera it
/// shows the camera error. Here the live API is a standalone sandbox reached
/// by its base URL, which is also reported as a test API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_kiosk_never_falls_back_to_the_demo_camera() {
    let (sb, _) = crate::support::sandbox(kyc_kiosk::sandbox::SandboxConfig::default()).await;
    let config = kyc_kiosk::config::RawConfig::default()
        .with_env([
            ("IDENFY_BASE_URL", sb.base_url()),
            ("IDENFY_API_KEY", sb.api_key().expose().to_owned()),
            ("IDENFY_API_SECRET", sb.api_secret().expose().to_owned()),
            ("IDENFY_SIGNING_KEY", sb.signing_key().expose().to_owned()),
            ("KYC_KIOSK_BACKEND", "live".to_owned()),
        ])
        .validate()
        .expect("the sandbox's own keys are a valid live configuration");
    assert_eq!(config.backend.test_api(), Some(sb.base_url().as_str()));
    let k = Kiosk::start(
        &config,
        KioskOptions {
            camera: CameraChoice::Auto,
            webhook_listen: Some("127.0.0.1:0".parse().unwrap()),
            ..KioskOptions::default()
        },
    )
    .await
    .expect("kiosk starts");
    assert!(!k.is_sandbox());
    assert!(
        k.demo_camera().is_none(),
        "a live kiosk uses the demo camera"
    );
    k.shutdown().await;
}

/// Preview frames until one whose live check satisfies `pred`.
async fn live_until(
    k: &Kiosk,
    what: &str,
    pred: impl Fn(&kyc_kiosk::session::ports::LiveQuality) -> bool,
) -> kyc_kiosk::session::PreviewPacket {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut seq = 0;
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for a live {what}"
        );
        if let Some(p) = k.wait_preview(seq, Duration::from_millis(500)).await {
            seq = p.seq;
            if p.quality.as_ref().is_some_and(&pred) {
                return p;
            }
        }
    }
}

/// Watches the previews for `d`: none may count down or be taken.
async fn never_captured(k: &Kiosk, side: usize, d: Duration) {
    let until = std::time::Instant::now() + d;
    let mut seq = 0;
    while std::time::Instant::now() < until {
        if let Some(p) = k.wait_preview(seq, Duration::from_millis(200)).await {
            seq = p.seq;
            assert_eq!(
                p.auto_capture_in, None,
                "a countdown over a badly framed scene"
            );
        }
        let v = k.handle().view();
        assert!(!v.sides[side].taken, "side {side} taken: {:?}", v.sides);
        assert!(
            v.hint.is_none(),
            "a still was taken and refused: {:?}",
            v.hint
        );
    }
}

// The kiosk names what is wrong with the framing while the customer holds
// the card (or faces the camera), takes nothing while it is wrong, and
// takes the photo by itself once it is right.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn badly_framed_scenes_are_hinted_and_never_auto_captured() {
    use kyc_kiosk::camera::DemoScene;
    use kyc_kiosk::quality::Issue;
    let k = kiosk(KioskOptions::default()).await;
    let demo = k.demo_camera().expect("demo camera").clone();
    demo.force_scene(Some(DemoScene::FrontFar));
    k.start_session(request("it-framing", "LT")).await.unwrap();
    camera_on(&k).await;

    let p = live_until(&k, "too-far hint", |q| {
        q.issues.first() == Some(Issue::DocumentTooFar)
    })
    .await;
    let q = p.quality.unwrap();
    assert!(!q.ok && q.outline.is_some(), "{q:?}");
    never_captured(&k, 0, Duration::from_secs(3)).await;

    demo.force_scene(Some(DemoScene::FrontCut));
    let p = live_until(&k, "whole-document hint", |q| {
        matches!(
            q.issues.first(),
            Some(Issue::NoDocument | Issue::DocumentCut)
        )
    })
    .await;
    assert!(!p.quality.unwrap().ok);
    never_captured(&k, 0, Duration::from_secs(3)).await;

    // The card in place: the outline appears and the photo is taken.
    demo.force_scene(None);
    let p = live_until(&k, "good frame", |q| q.ok).await;
    assert!(p.quality.unwrap().outline.is_some());
    wait(&k, "front taken", |v| v.sides[0].taken).await;
    // A second person behind the customer once the back is in.
    wait(&k, "back taken", |v| v.sides[1].taken).await;
    demo.force_scene(Some(DemoScene::FaceTwo));
    wait(&k, "face side", |v| {
        v.side == Some(kyc_kiosk::session::Side::Face) && v.camera_ready
    })
    .await;
    live_until(&k, "only-you hint", |q| {
        q.issues.first() == Some(Issue::SeveralFaces)
    })
    .await;
    never_captured(&k, 2, Duration::from_secs(3)).await;
    demo.force_scene(None);
    let v = wait(&k, "review", |v| v.screen == Screen::Review).await;
    assert!(v.sides.iter().all(|s| s.taken), "{:?}", v.sides);
    k.handle().send(Input::Confirm).await.unwrap();
    let v = wait_final(&k).await;
    assert_eq!(v.result.unwrap().status, "APPROVED");
    k.shutdown().await;
}

/// The sides the review screen shows as taken.
fn taken_sides(review: &kyc_kiosk::session::View) -> Vec<kyc_kiosk::session::Side> {
    review
        .sides
        .iter()
        .filter(|s| s.taken)
        .map(|s| s.side)
        .collect()
}
