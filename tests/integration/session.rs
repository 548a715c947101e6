//! Whole verification flows through `session::Driver`, as the UI and the CLI
//! drive it, against the scripted ports of `session::testing` (the real ports
//! wrap the iDenfy client and the camera; these answer like them without a
//! network or a camera).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use kyc_kiosk::quality::Issue;
use kyc_kiosk::session::testing::{Scripted, DIGITS, MARKER};
use kyc_kiosk::session::view::Screen;
use kyc_kiosk::session::{
    DocumentType, Driver, Failure, Handle, Input, Outcome, OverallStatus, RetakeReason, Settings,
    Side, StartRequest, TokenStatus, TokenType, View,
};
use kyc_kiosk::ErrorCode;

fn settings() -> Settings {
    Settings {
        idle_timeout_ms: 60_000,
        idle_warning_ms: 10_000,
        result_wait_ms: 60_000,
        review_wait_ms: 60_000,
    }
}

fn start_driver(ports: Arc<Scripted>, settings: Settings) -> Handle {
    let (driver, handle) = Driver::with_tick(ports, settings, Duration::from_millis(20));
    tokio::spawn(driver.run());
    handle
}

fn form(token_type: TokenType) -> Input {
    let mut r = StartRequest::new("BRANCH-7-000123", "lt");
    r.first_name = Some("Ona".into());
    r.last_name = Some("Onaitė".into());
    r.generate_digit_string = true;
    r.token_type = token_type;
    Input::Start(r)
}

async fn until(h: &Handle, what: &str, pred: impl Fn(&View) -> bool) -> View {
    match tokio::time::timeout(Duration::from_secs(10), h.wait_for(pred)).await {
        Ok(v) => v.unwrap(),
        Err(_) => panic!("never reached {what}; the view is {:#?}", h.view()),
    }
}

async fn screen(h: &Handle, s: Screen) -> View {
    until(h, &format!("{s:?}"), |v| v.screen == s).await
}

/// Takes the still for `side` once the camera is ready.
async fn shoot(h: &Handle, side: Side) {
    until(h, &format!("camera ready for {side:?}"), |v| {
        v.screen == Screen::Capture && v.side == Some(side) && v.camera_ready && !v.capturing
    })
    .await;
    h.send(Input::Capture).await.unwrap();
}

/// From the start form to the review, verifying here with `doc`.
async fn to_review(h: &Handle, ty: TokenType, doc: DocumentType) -> View {
    h.send(form(ty)).await.unwrap();
    screen(h, Screen::Choice).await;
    h.send(Input::VerifyHere(doc)).await.unwrap();
    let mut sides = vec![Side::Front];
    if doc.has_back() {
        sides.push(Side::Back);
    }
    if ty == TokenType::Identification {
        sides.push(Side::Face);
    }
    for side in sides {
        shoot(h, side).await;
    }
    screen(h, Screen::Review).await
}

async fn finish(h: &Handle, ports: &Scripted) {
    let before = ports.wipes();
    h.send(Input::Finish).await.unwrap();
    let v = screen(h, Screen::Start).await;
    assert_eq!(v.scan_ref, None);
    assert_eq!(h.still(Side::Front).await.unwrap(), None);
    assert_eq!(ports.wipes(), before + 1);
    assert!(!ports.holds_images(), "the ports forgot the images");
}

#[tokio::test]
async fn approved_with_an_id_card() {
    let ports = Scripted::new();
    let h = start_driver(ports.clone(), settings());
    let v = to_review(&h, TokenType::Identification, DocumentType::IdCard).await;
    assert_eq!(v.sides.len(), 3);
    h.send(Input::Confirm).await.unwrap();
    screen(&h, Screen::Waiting).await;
    assert_eq!(ports.calls("process"), ["process ID_CARD FRONT,BACK,FACE"]);
    ports.send_result(Outcome::new(OverallStatus::Approved, true));
    let v = screen(&h, Screen::Result).await;
    let r = v.result.unwrap();
    assert_eq!(
        (r.status.as_str(), r.headline.as_str()),
        ("APPROVED", "Identity verified")
    );
    finish(&h, &ports).await;
}

#[tokio::test]
async fn denied_with_a_passport_and_a_document_only_token() {
    let ports = Scripted::new();
    let h = start_driver(ports.clone(), settings());
    let v = to_review(&h, TokenType::Document, DocumentType::Passport).await;
    assert_eq!(
        v.sides.iter().map(|s| s.side).collect::<Vec<_>>(),
        [Side::Front]
    );
    h.send(Input::Confirm).await.unwrap();
    screen(&h, Screen::Waiting).await;
    assert_eq!(ports.calls("process"), ["process PASSPORT FRONT"]);
    let mut o = Outcome::new(OverallStatus::Denied, true);
    o.auto_document = Some("DOC_EXPIRED".into());
    ports.send_result(o);
    let v = screen(&h, Screen::Result).await;
    let r = v.result.unwrap();
    assert_eq!(r.status, "DENIED");
    assert_eq!(r.document.as_deref(), Some("DOC_EXPIRED"));
    finish(&h, &ports).await;
}

#[tokio::test]
async fn suspected_after_an_automatic_then_a_manual_result() {
    let ports = Scripted::new();
    let h = start_driver(ports.clone(), settings());
    to_review(&h, TokenType::Identification, DocumentType::DriverLicense).await;
    h.send(Input::Confirm).await.unwrap();
    screen(&h, Screen::Waiting).await;
    ports.send_result(Outcome::new(
        OverallStatus::Other("REVIEWING".into()),
        false,
    ));
    screen(&h, Screen::UnderReview).await;
    let mut o = Outcome::new(OverallStatus::Suspected, true);
    o.fraud_tags.push("DOC_PRINT_SPOOFED".into());
    o.mismatch_tags.push("DATE_OF_BIRTH".into());
    ports.send_result(o);
    let v = screen(&h, Screen::Result).await;
    let r = v.result.unwrap();
    assert_eq!(r.status, "SUSPECTED");
    assert_eq!(r.fraud_tags[0].text, "the document looks like a printout");
    assert_eq!(r.mismatch_tags[0].text, "date of birth differs");
    finish(&h, &ports).await;
}

#[tokio::test]
async fn a_blurry_front_is_retaken_then_a_review_retake_keeps_the_rest() {
    let ports = Scripted::new();
    ports.fail_capture(
        Side::Front,
        Failure::ImageRejected {
            side: Side::Front,
            reason: Issue::Blurry.into(),
        },
    );
    let h = start_driver(ports.clone(), settings());
    h.send(form(TokenType::Identification)).await.unwrap();
    screen(&h, Screen::Choice).await;
    h.send(Input::VerifyHere(DocumentType::Passport))
        .await
        .unwrap();
    shoot(&h, Side::Front).await;
    let v = until(&h, "the blur hint", |v| v.hint.is_some()).await;
    assert_eq!(v.side, Some(Side::Front));
    assert_eq!(v.hint.unwrap().code, ErrorCode::ImageRetake);
    shoot(&h, Side::Front).await;
    shoot(&h, Side::Face).await;
    screen(&h, Screen::Review).await;
    let face = h.still(Side::Face).await.unwrap().unwrap();
    h.send(Input::Retake(Side::Front)).await.unwrap();
    shoot(&h, Side::Front).await;
    screen(&h, Screen::Review).await;
    assert_eq!(h.still(Side::Face).await.unwrap(), Some(face));
    assert_eq!(ports.calls("capture FRONT").len(), 3);
    h.send(Input::Confirm).await.unwrap();
    screen(&h, Screen::Waiting).await;
    assert_eq!(ports.calls("process"), ["process PASSPORT FRONT,FACE"]);
}

#[tokio::test]
async fn cancel_mid_capture_wipes_everything() {
    let ports = Scripted::new();
    let h = start_driver(ports.clone(), settings());
    h.send(form(TokenType::Identification)).await.unwrap();
    screen(&h, Screen::Choice).await;
    h.send(Input::VerifyHere(DocumentType::IdCard))
        .await
        .unwrap();
    shoot(&h, Side::Front).await;
    until(&h, "the back", |v| v.side == Some(Side::Back)).await;
    assert!(h.still(Side::Front).await.unwrap().is_some());
    h.send(Input::Cancel).await.unwrap();
    screen(&h, Screen::Start).await;
    assert_eq!(h.still(Side::Front).await.unwrap(), None);
    assert_eq!(ports.wipes(), 1);
    assert!(!ports.holds_images());
    // A webhook for the cancelled session changes nothing.
    ports.send_result(Outcome::new(OverallStatus::Approved, true));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(h.view().screen, Screen::Start);
}

#[tokio::test]
async fn idle_timeout_wipes_and_returns_to_start() {
    let ports = Scripted::new();
    let h = start_driver(
        ports.clone(),
        Settings {
            idle_timeout_ms: 1000,
            idle_warning_ms: 800,
            ..settings()
        },
    );
    h.send(form(TokenType::Identification)).await.unwrap();
    screen(&h, Screen::Choice).await;
    h.send(Input::VerifyHere(DocumentType::Passport))
        .await
        .unwrap();
    shoot(&h, Side::Front).await;
    until(&h, "the idle warning", |v| v.idle_seconds_left.is_some()).await;
    screen(&h, Screen::Start).await;
    assert_eq!(ports.wipes(), 1);
    assert!(!ports.holds_images());
}

#[tokio::test]
async fn token_expiry_ends_the_session_with_its_own_code() {
    let ports = Scripted::new();
    ports.set_expiry_secs(2);
    let h = start_driver(ports.clone(), settings());
    h.send(form(TokenType::Identification)).await.unwrap();
    let v = screen(&h, Screen::Choice).await;
    assert!(
        matches!(v.seconds_left, Some(1..=2)),
        "{:?}",
        v.seconds_left
    );
    let v = screen(&h, Screen::Error).await;
    assert_eq!(v.error.unwrap().code, ErrorCode::TokenExpired);
    assert_eq!(ports.wipes(), 1);
}

#[tokio::test]
async fn network_failure_mid_submit_keeps_the_stills_and_retries_after_a_status_check() {
    let ports = Scripted::new();
    ports.answer_process(Err(Failure::Network {
        message: "connection reset by peer".into(),
    }));
    ports.answer_status(Ok(TokenStatus::Unused));
    let h = start_driver(ports.clone(), settings());
    to_review(&h, TokenType::Identification, DocumentType::ResidencePermit).await;
    h.send(Input::Confirm).await.unwrap();
    let v = screen(&h, Screen::SubmitFailed).await;
    assert_eq!(v.error.unwrap().code, ErrorCode::Network);
    assert!(h.still(Side::Back).await.unwrap().is_some());
    assert_eq!(ports.calls("status"), ["status scan-42"]);
    h.send(Input::Retry).await.unwrap();
    screen(&h, Screen::Waiting).await;
    assert_eq!(ports.calls("process").len(), 2);
    ports.send_result(Outcome::new(OverallStatus::Approved, true));
    screen(&h, Screen::Result).await;
    finish(&h, &ports).await;
}

#[tokio::test]
async fn network_failure_after_the_images_arrived_does_not_submit_twice() {
    let ports = Scripted::new();
    ports.answer_process(Err(Failure::Network {
        message: "timed out reading the response".into(),
    }));
    ports.answer_status(Ok(TokenStatus::Pending));
    let h = start_driver(ports.clone(), settings());
    to_review(&h, TokenType::Document, DocumentType::IdCard).await;
    h.send(Input::Confirm).await.unwrap();
    screen(&h, Screen::Waiting).await;
    ports.send_result(Outcome::new(OverallStatus::Approved, true));
    screen(&h, Screen::Result).await;
    assert_eq!(ports.calls("process").len(), 1);
}

#[tokio::test]
async fn out_of_credits_tells_staff_plainly_and_wipes() {
    let ports = Scripted::new();
    ports.answer_process(Err(Failure::OutOfCredits));
    let h = start_driver(ports.clone(), settings());
    to_review(&h, TokenType::Identification, DocumentType::Passport).await;
    h.send(Input::Confirm).await.unwrap();
    let v = screen(&h, Screen::Error).await;
    let e = v.error.unwrap();
    assert_eq!(e.code, ErrorCode::OutOfCredits);
    assert!(
        e.message.contains("no verification credits left"),
        "{}",
        e.message
    );
    assert!(h.send(Input::Retry).await.is_err(), "nothing to retry");
    assert_eq!(ports.wipes(), 1);
    assert_eq!(h.still(Side::Front).await.unwrap(), None);
}

#[tokio::test]
async fn a_back_refused_by_the_api_is_retaken_alone() {
    let ports = Scripted::new();
    ports.answer_process(Err(Failure::ImageRejected {
        side: Side::Back,
        reason: RetakeReason::Api("No image provided for step 'BACK'".into()),
    }));
    let h = start_driver(ports.clone(), settings());
    to_review(&h, TokenType::Identification, DocumentType::IdCard).await;
    h.send(Input::Confirm).await.unwrap();
    let v = until(&h, "the back retake", |v| {
        v.screen == Screen::Capture && v.side == Some(Side::Back)
    })
    .await;
    assert_eq!(v.hint.unwrap().code, ErrorCode::ImageRetake);
    shoot(&h, Side::Back).await;
    screen(&h, Screen::Review).await;
    assert_eq!(ports.calls("capture FRONT").len(), 1, "the front is kept");
    h.send(Input::Confirm).await.unwrap();
    screen(&h, Screen::Waiting).await;
}

#[tokio::test]
async fn mobile_handoff_shows_a_scannable_code_then_the_result() {
    let ports = Scripted::new();
    let h = start_driver(ports.clone(), settings());
    h.send(form(TokenType::Identification)).await.unwrap();
    screen(&h, Screen::Choice).await;
    h.send(Input::ContinueOnPhone).await.unwrap();
    let v = screen(&h, Screen::Handoff).await;
    let digits = v.digit_string.clone().unwrap();
    assert_eq!(digits, DIGITS);
    let qr = kyc_kiosk::session::qr::Qr::new(&digits).unwrap();
    assert!(qr.svg(256).contains("<svg"));
    assert!(qr.png(256).unwrap().starts_with(b"\x89PNG"));
    assert!(v.summary().contains("4823 6571"), "{}", v.summary());
    ports.send_result(Outcome::new(OverallStatus::Approved, true));
    let v = screen(&h, Screen::Result).await;
    assert_eq!(v.digit_string, None);
    assert!(ports.calls("process").is_empty());
    assert!(ports.calls("camera Document").is_empty());
    finish(&h, &ports).await;
}

/// Files under `dir` (a few levels deep) modified since `since`.
fn recent_files(dir: &Path, since: SystemTime, depth: u32, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let Ok(meta) = e.metadata() else { continue };
        if meta.is_dir() && depth > 0 {
            recent_files(&e.path(), since, depth - 1, out);
        } else if meta.is_file()
            && meta.len() < 64 << 20
            && meta.modified().is_ok_and(|m| m >= since)
        {
            out.push(e.path());
        }
    }
}

/// Nothing personal reaches the disk: after a full flow, no recently written
/// file in the temp or config directories contains the customer's images,
/// names or client id.
#[tokio::test]
async fn a_full_flow_writes_nothing_personal_to_disk() {
    let since = SystemTime::now() - Duration::from_secs(1);
    let ports = Scripted::new();
    let h = start_driver(ports.clone(), settings());
    to_review(&h, TokenType::Identification, DocumentType::IdCard).await;
    h.send(Input::Confirm).await.unwrap();
    screen(&h, Screen::Waiting).await;
    ports.send_result(Outcome::new(OverallStatus::Approved, true));
    screen(&h, Screen::Result).await;
    finish(&h, &ports).await;

    let mut files = Vec::new();
    let mut dirs = vec![std::env::temp_dir()];
    dirs.extend(dirs::config_dir());
    dirs.extend(dirs::cache_dir());
    for d in &dirs {
        recent_files(d, since, 3, &mut files);
    }
    let needles: [&[u8]; 3] = [MARKER, b"BRANCH-7-000123", "Onaitė".as_bytes()];
    for f in files {
        let Ok(bytes) = std::fs::read(&f) else {
            continue;
        };
        for n in needles {
            assert!(
                !bytes.windows(n.len()).any(|w| w == n),
                "{} contains customer data",
                f.display()
            );
        }
    }
}
