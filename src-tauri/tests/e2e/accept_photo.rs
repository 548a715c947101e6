//! Staff accept a photo the framing check refused, in the real window: a
//! card held too far away is refused on the still (the customer is asked
//! again and nothing is taken); without the staff PIN nothing changes; with
//! it the photo is taken as it was and the flow goes on, side after side,
//! to the review (which marks the accepted photos) and a result.

use serde_json::json;

use crate::harness::App;

const PIN: &str = "482913";

/// Type `digits` on the override dialog's keypad.
async fn keypad(app: &App, digits: &str) {
    for d in digits.chars() {
        app.click(&format!("#override-keypad button[data-key='{d}']"))
            .await;
    }
}

/// The steps marked done on the capture screen.
async fn done_steps(app: &App) -> i64 {
    app.exec(
        "return document.querySelectorAll('#capture-steps li.done').length;",
        vec![],
    )
    .await
    .as_i64()
    .unwrap_or(-1)
}

/// What the review's still command answers for `side`: its size in bytes,
/// or the error code.
async fn still_of(app: &App, side: &str) -> serde_json::Value {
    app.client
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             window.__TAURI_INTERNALS__.invoke('still_image', {side: arguments[0]}) \
               .then(b => done(b.byteLength ?? b.length), e => done(e.code || String(e)));",
            vec![json!(side)],
        )
        .await
        .expect("still_image answers")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_far_card_refused_on_the_still_is_accepted_by_staff_with_the_pin() {
    let hash = kyc_kiosk::staff::pin::hash(PIN).unwrap();
    let config = format!("[kiosk]\nstaff_pin_hash = \"{}\"\n", hash.as_str());
    // The demo camera shows the card too far away whatever side is asked
    // for, sharp from the first frame (no blurred frames after a side
    // change: a blurred still is never overridable); without auto-capture
    // the photo is taken with the button.
    let mut app = App::launch_with(
        "accept-photo",
        &[
            ("KYC_KIOSK_DEMO_SCENE", "front_far"),
            ("KYC_KIOSK_DEMO_SETTLE_FRAMES", "0"),
            ("KYC_KIOSK_AUTO_CAPTURE", "0"),
        ],
        &config,
    )
    .await;
    app.screen("start").await;
    app.fill("#f-clientId", "E2E-ACCEPT").await;
    app.fill("#f-country", "LT").await;
    // Document only: the front and the back, then the review.
    app.click("input[name='tokenType'][value='DOCUMENT']").await;
    app.click("#start-form button[type=submit]").await;
    app.screen("choice").await;
    app.click("#choice-docs button[data-doc='ID_CARD']").await;
    app.screen("capture").await;
    app.wait_for("body[data-preview-seq]").await;
    app.wait_for("#override-btn[hidden]").await;
    app.wait_for("#capture-btn:not([disabled])").await;

    // Taken: refused with the rule, the customer asked again, nothing kept.
    app.click("#capture-btn").await;
    app.wait_for("#hint[data-retake='document_too_far']").await;
    app.wait_for("#override-btn:not([hidden])").await;
    assert_eq!(app.text("#hint").await, "Move the document closer");
    assert_eq!(done_steps(&app).await, 0);
    assert_eq!(still_of(&app, "FRONT").await, json!("INVALID_STATE"));
    app.shot("refused").await;

    // The customer's own input command cannot carry the override.
    let r = app
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             window.__TAURI_INTERNALS__.invoke('session_input', {input: {kind: 'override'}}) \
               .then(() => done('sent'), () => done('refused'));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(r, json!("refused"));

    // Staff without the PIN, then with a wrong one: nothing is taken.
    app.click("#override-btn").await;
    app.wait_for("#override:not([hidden])").await;
    app.shot("override-dialog").await;
    app.click("#override-ok").await;
    app.wait_for("#override-error:not([hidden])").await;
    assert_eq!(
        app.text("#override-error").await,
        "Enter the staff PIN first."
    );
    keypad(&app, "111111").await;
    app.click("#override-ok").await;
    app.until(
        "the wrong PIN refused",
        "return document.getElementById('override-error').textContent.startsWith('Wrong PIN');",
    )
    .await;
    assert_eq!(app.value("#override-pin").await, "", "the PIN is not kept");
    app.click("#override-back").await;
    app.wait_for("#override[hidden]").await;
    assert_eq!(done_steps(&app).await, 0);
    assert_eq!(still_of(&app, "FRONT").await, json!("INVALID_STATE"));
    app.wait_for("#override-btn:not([hidden])").await;

    // With the PIN: the photo is taken as it was, and on to the back.
    app.click("#override-btn").await;
    app.wait_for("#override:not([hidden])").await;
    keypad(&app, PIN).await;
    app.click("#override-ok").await;
    app.wait_for("#override[hidden]").await;
    app.until(
        "the front done",
        "return document.querySelectorAll('#capture-steps li.done').length === 1;",
    )
    .await;
    assert_eq!(
        app.text("#capture-title").await,
        "Now turn the document over"
    );
    let size = still_of(&app, "FRONT").await;
    assert!(size.as_u64().is_some_and(|n| n > 10_000), "{size}");
    app.wait_for("#override-btn[hidden]").await;
    app.shot("accepted").await;

    // The back is refused too (the camera still shows the far card): the
    // offer comes back for this photo, and staff accept it.
    app.wait_for("#capture-btn:not([disabled])").await;
    app.click("#capture-btn").await;
    app.wait_for("#hint[data-retake='document_too_far']").await;
    app.wait_for("#override-btn:not([hidden])").await;
    assert_eq!(still_of(&app, "BACK").await, json!("INVALID_STATE"));
    app.click("#override-btn").await;
    app.wait_for("#override:not([hidden])").await;
    keypad(&app, PIN).await;
    app.click("#override-ok").await;
    app.wait_for("#override[hidden]").await;
    let size = still_of(&app, "BACK").await;
    assert!(size.as_u64().is_some_and(|n| n > 10_000), "{size}");

    // The review says which photos staff accepted; then they are sent.
    app.screen("review").await;
    app.wait_for("#review-stills figure:nth-child(2) img[src]")
        .await;
    let marks = app
        .exec(
            "return document.querySelectorAll('#review-stills [data-accepted-by-staff]').length;",
            vec![],
        )
        .await;
    assert_eq!(marks, json!(2));
    assert!(app
        .text("#review-stills")
        .await
        .contains("Accepted by staff"));
    // The view changes every second (the countdown): the review is not
    // drawn again for it (each drawing fetched every photo once more and
    // replaced the buttons under the finger).
    app.exec(
        "document.querySelector('#review-stills button').kioskMark = 1; return null;",
        vec![],
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let kept = app
        .exec(
            "return document.querySelector('#review-stills button').kioskMark === 1;",
            vec![],
        )
        .await;
    assert_eq!(kept, json!(true), "the review was drawn again");
    app.shot("review").await;
    app.click("#confirm-btn").await;
    app.screen("result").await;
    // The sandbox, like iDenfy, looks for the card in what it gets: the
    // accepted cut-outs of the far card are good enough for it.
    assert_eq!(app.text("#result-status").await, "APPROVED");
    app.shot("result").await;

    // Next customer: the photos go with the session.
    app.click("section[data-screen='result'] [data-input='finish']")
        .await;
    app.screen("start").await;
    assert_eq!(still_of(&app, "FRONT").await, json!("INVALID_STATE"));
    app.close().await;
}
