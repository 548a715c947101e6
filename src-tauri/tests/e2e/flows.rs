//! Whole flows in the real window, with the demo camera and the embedded
//! sandbox; one of them on two emulated cameras through nokhwa
//! (`tools/fakecam`).

use crate::harness::App;

/// Fill the staff form and start.
async fn start(app: &mut App, client_id: &str, country: &str, first_name: Option<&str>) {
    app.screen("start").await;
    app.fill("#f-clientId", client_id).await;
    app.fill("#f-country", country).await;
    if let Some(n) = first_name {
        app.fill("#f-firstName", n).await;
    }
    app.shot("start-filled").await;
    app.click("#start-form button[type=submit]").await;
}

/// From the choice screen, photograph every side (auto-capture) and send.
async fn verify_here(app: &mut App) {
    app.screen("choice").await;
    app.shot("choice").await;
    app.click("#choice-docs button[data-doc='ID_CARD']").await;
    app.screen("capture").await;
    // Wait until the live preview shows frames, then let auto-capture work.
    app.wait_for("body[data-preview-seq]").await;
    app.shot("capture-front").await;
    app.screen("review").await;
    app.wait_for("#review-stills figure:nth-child(3) img[src]")
        .await;
    app.shot("review").await;
    app.click("#confirm-btn").await;
}

async fn result_status(app: &mut App) -> String {
    app.screen("result").await;
    let status = app.text("#result-status").await;
    app.shot("result").await;
    status
}

#[tokio::test(flavor = "multi_thread")]
async fn full_flow_with_the_demo_camera_ends_approved() {
    let mut app = App::launch("approved", &[]).await;
    start(&mut app, "E2E-APPROVED", "LT", None).await;
    verify_here(&mut app).await;
    assert_eq!(result_status(&mut app).await, "APPROVED");
    let checks = app.text("#result-checks").await;
    assert!(
        checks.contains("Document is valid (DOC_VALIDATED)")
            && checks.contains("Face matches the document (FACE_MATCH)"),
        "{checks}"
    );
    assert_eq!(app.text("#result-client").await, "E2E-APPROVED");
    assert_eq!(
        app.text("#result-expected").await,
        "nothing (no expected data was entered)"
    );
    // Next customer: the session is wiped and the form is empty again.
    app.click("section[data-screen='result'] [data-input='finish']")
        .await;
    app.screen("start").await;
    assert_eq!(app.value("#f-clientId").await, "");
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_name_that_does_not_match_is_suspected_with_its_tag() {
    let mut app = App::launch("suspected", &[]).await;
    start(&mut app, "E2E-SUSPECTED", "LT", Some("Petras")).await;
    verify_here(&mut app).await;
    assert_eq!(result_status(&mut app).await, "SUSPECTED");
    let tags = app.text("#result-tags").await;
    assert!(
        tags.contains("First name differs from the one entered") && tags.contains("(NAME)"),
        "mismatch tag in words, with its code: {tags}"
    );
    // Whose result it is, and what was compared (not the name itself).
    assert_eq!(app.text("#result-client").await, "E2E-SUSPECTED");
    assert_eq!(app.text("#result-expected").await, "first name");
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_document_from_another_country_is_denied() {
    let mut app = App::launch("denied", &[]).await;
    start(&mut app, "E2E-DENIED", "DE", None).await;
    verify_here(&mut app).await;
    assert_eq!(result_status(&mut app).await, "DENIED");
    let checks = app.text("#result-checks").await;
    assert!(!checks.contains("DOC_VALIDATED"), "{checks}");
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_blurry_photo_is_refused_and_retaken() {
    // Eight seconds of a moving card after each scene change: a photo taken
    // at once is blurry.
    let mut app = App::launch("retake", &[("KYC_KIOSK_DEMO_SETTLE_FRAMES", "240")]).await;
    start(&mut app, "E2E-RETAKE", "LT", None).await;
    app.screen("choice").await;
    app.click("#choice-docs button[data-doc='ID_CARD']").await;
    app.screen("capture").await;
    app.wait_for("#capture-btn:not([disabled])").await;
    app.click("#capture-btn").await;
    app.wait_for("#hint[data-retake='blurry']").await;
    let hint = app.text("#hint").await;
    assert!(hint.contains("Hold still"), "{hint}");
    app.shot("capture-blurry").await;
    // Once the card is steady, auto-capture takes the front and moves on.
    app.wait_for("#capture-steps li.done").await;
    app.shot("capture-after-retake").await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mobile_handoff_shows_a_scannable_qr_and_gets_the_result() {
    let port = crate::harness::free_port_public();
    let addr = format!("127.0.0.1:{port}");
    let mut app = App::launch("handoff", &[("KYC_KIOSK_SANDBOX_LISTEN", &addr)]).await;
    start(&mut app, "E2E-HANDOFF", "LT", None).await;
    app.screen("choice").await;
    app.click("#choice-phone").await;
    app.screen("handoff").await;
    app.wait_for("#handoff-qr[src]").await;
    app.until(
        "the QR image to be decoded",
        "const i = document.querySelector('#handoff-qr'); return i.complete && i.naturalWidth > 0;",
    )
    .await;
    let digits: String = app
        .text("#handoff-digits")
        .await
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    assert_eq!(digits.len(), 8, "8-digit code shown");
    // Regression: the sandbox's 24-hour code read "1440:00".
    let expiry = app.text("#handoff-expiry").await;
    assert!(
        expiry.contains(" h ") && expiry.contains(" min") && !expiry.contains("1440"),
        "validity in hours and minutes: {expiry}"
    );
    app.shot("handoff").await;
    // Scan the QR from the screen, as a phone would.
    let png = app.png().await;
    let img = image::load_from_memory(&png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let grids = prepared.detect_grids();
    assert!(!grids.is_empty(), "no QR code found on the handoff screen");
    let (_, content) = grids[0].decode().expect("QR decodes");
    assert_eq!(content, digits);
    // The phone finishes the verification with that code.
    crate::harness::post_json(
        &addr,
        "/sandbox/mobile/complete",
        &format!("{{\"digitString\":\"{content}\"}}"),
    );
    assert_eq!(result_status(&mut app).await, "APPROVED");
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_time_wipes_the_session_and_returns_to_start() {
    let mut app = App::launch_with("idle", &[], "[kiosk]\nidle_timeout_secs = 15\n").await;
    start(&mut app, "E2E-IDLE", "LT", Some("Jonas")).await;
    app.screen("choice").await;
    // The warning with its countdown, then the start screen, empty.
    app.wait_for("#idle:not([hidden])").await;
    app.shot("idle-warning").await;
    app.screen("start").await;
    assert_eq!(app.value("#f-clientId").await, "");
    assert_eq!(app.value("#f-firstName").await, "");
    app.shot("after-idle").await;
    app.close().await;
}

// Regression: the start form was cleared only when a session ended, so a
// form filled in and left on the start screen kept the customer's client
// ID, names and expected data for the next person at the kiosk.
#[tokio::test(flavor = "multi_thread")]
async fn idle_time_clears_a_start_form_that_was_never_sent() {
    let mut app = App::launch_with("idle-form", &[], "[kiosk]\nidle_timeout_secs = 15\n").await;
    app.wait_for("body[data-ready='1']").await;
    app.screen("start").await;
    app.fill("#f-clientId", "E2E-IDLE-FORM").await;
    app.fill("#f-firstName", "Jonas").await;
    app.fill("#f-lastName", "Jonaitis").await;
    app.fill("#f-dateOfBirth", "1990-01-31").await;
    app.fill("#f-documentNumber", "AB1234567").await;
    // The warning shows on the start screen too, then the form empties.
    app.wait_for("#idle:not([hidden])").await;
    app.shot("idle-form-warning").await;
    app.until(
        "the start form to be cleared",
        "return ['clientId','firstName','lastName','dateOfBirth','documentNumber']\
         .every((n) => document.getElementById('f-' + n).value === '')",
    )
    .await;
    app.screen("start").await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn switching_the_language_translates_the_screen() {
    let mut app = App::launch("language", &[]).await;
    app.screen("start").await;
    assert_eq!(
        app.text("section[data-screen='start'] h1").await,
        "Start a verification"
    );
    let select = app
        .client
        .find(fantoccini::Locator::Css("#lang-select"))
        .await
        .unwrap();
    select.select_by_value("lt").await.unwrap();
    app.wait_for("html[lang='lt']").await;
    assert_eq!(
        app.text("section[data-screen='start'] h1").await,
        "Pradėti patvirtinimą"
    );
    assert!(app
        .text("#sandbox-banner")
        .await
        .contains("TESTINĖ APLINKA"));
    app.shot("lithuanian").await;
    app.close().await;
}

/// The emulated-camera shim, built by the wrapper that runs programs on it.
/// Where it cannot be built (no `cc` or `libturbojpeg0-dev`) the test fails.
fn fake_camera_shim() -> String {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = std::process::Command::new(repo.join("scripts/with-fake-camera"))
        .arg("--lib")
        .output()
        .expect("scripts/with-fake-camera runs");
    assert!(
        out.status.success(),
        "building the fake camera shim failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn full_flow_on_two_emulated_cameras_ends_approved() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let images = format!(
        "{};{}",
        repo.join("assets/demo/front.jpg").display(),
        repo.join("assets/demo/face.jpg").display()
    );
    let shim = fake_camera_shim();
    let mut app = App::launch_with(
        "native",
        &[
            ("LD_PRELOAD", shim.as_str()),
            ("FAKECAM_DEVICES", "Document Camera;Face Camera"),
            ("FAKECAM_IMAGES", images.as_str()),
            // The pictures' own size: as sharp as the demo camera's.
            ("FAKECAM_SIZES", "640x480,1280x720,1920x1080"),
            ("KYC_KIOSK_CAMERA", "native"),
        ],
        "[camera]\ndocument = \"Document Camera\"\nselfie = \"Face Camera\"\n",
    )
    .await;
    start(&mut app, "E2E-NATIVE", "LT", None).await;
    verify_here(&mut app).await;
    assert_eq!(result_status(&mut app).await, "APPROVED");
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_proof_of_address_adds_the_bill_to_the_review_and_ends_approved() {
    let mut app = App::launch("bill", &[]).await;
    app.screen("start").await;
    app.fill("#f-clientId", "E2E-BILL").await;
    app.fill("#f-country", "LT").await;
    app.click("#f-proofOfAddress").await;
    app.wait_for("#f-billAddress-wrap:not([hidden])").await;
    app.fill("#f-billAddress", "Gedimino pr. 1-23, LT-01103 Vilnius")
        .await;
    app.shot("start-bill").await;
    app.click("#start-form button[type=submit]").await;
    app.screen("choice").await;
    app.click("#choice-docs button[data-doc='ID_CARD']").await;
    app.screen("capture").await;
    app.screen("review").await;
    app.wait_for("#review-stills figure:nth-child(4) img[src]")
        .await;
    let review = app.text("#review-stills").await;
    assert!(review.contains("Proof of address"), "{review}");
    app.shot("review-bill").await;
    app.click("#confirm-btn").await;
    assert_eq!(result_status(&mut app).await, "APPROVED");
    app.close().await;
}
