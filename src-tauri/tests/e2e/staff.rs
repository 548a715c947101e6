//! Kiosk mode and the staff functions in the real window: the first PIN
//! (set outside kiosk mode; kiosk mode starts only with a provisioned one),
//! settings saved to `staff.toml`, API credentials into the keyring (a
//! memory keyring here) and never shown again, and the only way out.

use std::time::{Duration, Instant};

use crate::harness::App;

const API_KEY: &str = "e2e-key-5f3a91c7";
const API_SECRET: &str = "e2e-secret-0b7d2e44a1";
const PIN: &str = "482913";

/// Type a PIN on the on-screen keypad.
async fn keypad(app: &App, pin: &str) {
    for d in pin.chars() {
        app.click(&format!("#staff-keypad button[data-key='{d}']"))
            .await;
    }
}

async fn staff_error(app: &App) -> String {
    app.wait_for("#staff-error:not([hidden])").await;
    app.text("#staff-error").await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_first_pin_is_set_on_the_first_visit_outside_kiosk_mode() {
    let mut app = App::launch("staff-first", &[("KYC_KIOSK_KEYRING", "memory")]).await;
    app.wait_for("body[data-ready='1'][data-kiosk='0']").await;
    app.screen("start").await;

    // First visit: set the PIN (a guessable or short one is refused).
    app.click("#staff-btn").await;
    app.wait_for("#staff:not([hidden]) #staff-pin:not([hidden])")
        .await;
    app.wait_for("#staff-pin2-wrap:not([hidden])").await;
    app.shot("staff-first-pin").await;
    app.fill("#staff-pin-input", "123456").await;
    app.fill("#staff-pin2-input", "123456").await;
    app.click("#staff-pin-ok").await;
    let e = staff_error(&app).await;
    assert!(e.contains("Please check") || e.contains("guess"), "{e}");
    assert_eq!(app.value("#staff-pin-input").await, "", "PIN not kept");
    app.fill("#staff-pin-input", "4829").await;
    app.fill("#staff-pin2-input", "4829").await;
    app.click("#staff-pin-ok").await;
    let e = staff_error(&app).await;
    assert!(e.contains("6 to 12"), "{e}");
    app.click("#staff-pin-input").await;
    keypad(&app, PIN).await;
    app.click("#staff-pin2-input").await;
    keypad(&app, PIN).await;
    app.click("#staff-pin-ok").await;
    app.wait_for("#staff-panel:not([hidden])").await;
    let saved =
        std::fs::read_to_string(app.cfg_dir.join("staff.toml")).expect("the PIN hash was saved");
    assert!(
        saved.contains("staff_pin_hash = \"$argon2id$v=19$m=65536,t=3,p=1$"),
        "{saved}"
    );
    assert!(!saved.contains(PIN));
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn kiosk_mode_staff_settings_secrets_and_exit_with_the_pin() {
    // Kiosk mode starts only with a provisioned PIN (`kyc-kiosk pin-hash`).
    let hash = kyc_kiosk::staff::pin::hash(PIN).unwrap();
    let config = format!("[kiosk]\nstaff_pin_hash = \"{}\"\n", hash.as_str());
    let mut app = App::launch_with(
        "staff",
        &[
            ("KYC_KIOSK_MODE", "1"),
            ("KYC_KIOSK_KEYRING", "memory"),
            // Kiosk mode runs the sandbox only when it is chosen.
            ("KYC_KIOSK_BACKEND", "sandbox"),
        ],
        &config,
    )
    .await;
    app.wait_for("body[data-ready='1'][data-kiosk='1']").await;
    app.screen("start").await;

    // Kiosk mode: the page cannot be navigated away from, nor closed by script.
    // A marker that a new page would not have.
    app.exec("window.__stayed = true; return 1;", vec![]).await;
    app.exec(
        "window.location.href = 'https://example.org/'; return 1;",
        vec![],
    )
    .await;
    app.exec("setTimeout(() => window.close(), 0); return 1;", vec![])
        .await;
    app.settled().await;
    let stayed = app.exec("return window.__stayed === true", vec![]).await;
    assert_eq!(stayed.as_bool(), Some(true), "the page was replaced");
    let here = app
        .exec("return location.protocol + '//' + location.host", vec![])
        .await;
    let here = here.as_str().unwrap_or_default().to_owned();
    assert!(
        here.starts_with("tauri:") || here.contains("tauri.localhost"),
        "navigated away to {here}"
    );
    app.wait_for("body[data-ready='1']").await;

    // The provisioned PIN opens staff functions (typed on the keypad).
    app.click("#staff-btn").await;
    app.wait_for("#staff:not([hidden]) #staff-pin:not([hidden])")
        .await;
    app.wait_for("#staff-pin2-wrap[hidden]").await;
    app.click("#staff-pin-input").await;
    keypad(&app, PIN).await;
    app.click("#staff-pin-ok").await;
    app.wait_for("#staff-panel:not([hidden])").await;
    let backend = app.text("#staff-backend").await;
    assert!(backend.contains("SANDBOX"), "{backend}");
    assert!(
        backend.contains("kiosk mode active"),
        "fullscreen: {backend}"
    );
    app.shot("staff-settings").await;

    // Settings: a bad value is named and nothing is saved; a good one is.
    let staff_toml = app.cfg_dir.join("staff.toml");
    // Nothing saved yet: the PIN is in config.toml.
    let before = std::fs::read_to_string(&staff_toml).ok();
    app.fill("#s-idleTimeoutSecs", "5").await;
    app.click("#staff-settings button[type=submit]").await;
    let e = staff_error(&app).await;
    assert!(!e.is_empty());
    app.wait_for("#s-idleTimeoutSecs[aria-invalid='true']")
        .await;
    assert_eq!(std::fs::read_to_string(&staff_toml).ok(), before);
    app.fill("#s-idleTimeoutSecs", "90").await;
    app.fill("#s-defaultCountry", "de").await;
    app.click("#staff-settings button[type=submit]").await;
    app.wait_for("#staff-saved:not(:empty)").await;
    let saved = std::fs::read_to_string(&staff_toml).unwrap();
    assert!(saved.contains("default_country = \"DE\""), "{saved}");
    assert!(saved.contains("idle_timeout_secs = 90"), "{saved}");
    app.wait_for("#staff-restart-note:not([hidden])").await;

    // Credentials go to the keyring, and never come back to the page.
    app.fill("#s-apiKey", API_KEY).await;
    app.fill("#s-apiSecret", API_SECRET).await;
    app.click("#staff-secrets button[type=submit]").await;
    app.wait_for("#flag-apiKey[data-set='1']").await;
    app.wait_for("#flag-apiSecret[data-set='1']").await;
    app.wait_for("#flag-signingKey[data-set='0']").await;
    assert_eq!(app.value("#s-apiKey").await, "");
    let html = app
        .exec("return document.documentElement.outerHTML", vec![])
        .await;
    let html = html.as_str().unwrap();
    assert!(!html.contains(API_KEY) && !html.contains(API_SECRET));
    let status = app
        .exec(
            "return window.__TAURI_INTERNALS__.invoke('staff_status').then(JSON.stringify)",
            vec![],
        )
        .await;
    let status = status.as_str().unwrap_or_default();
    assert!(status.contains("\"apiKey\":true"), "{status}");
    assert!(
        status.contains("\"fullscreen\":true") && status.contains("\"decorated\":false"),
        "kiosk window: {status}"
    );
    assert!(!status.contains(API_KEY) && !status.contains(API_SECRET));
    assert!(!std::fs::read_to_string(&staff_toml)
        .unwrap()
        .contains(API_KEY));
    app.shot("staff-secrets-stored").await;

    // Closing locks: the new default country is on the form, and staff
    // functions need the PIN again; a wrong one is refused.
    app.click("#staff-panel [data-staff='close']").await;
    app.wait_for("#staff[hidden]").await;
    let country = app
        .exec(
            "const f = document.getElementById('f-country'); return [f.dataset.code, f.value];",
            vec![],
        )
        .await;
    assert_eq!(country[0], "DE", "{country}");
    assert!(
        country[1].as_str().unwrap_or("").ends_with("(DE)"),
        "{country}"
    );
    let refused = app
        .exec(
            "return window.__TAURI_INTERNALS__.invoke('staff_exit').then(() => 'ok', e => e.code)",
            vec![],
        )
        .await;
    assert_eq!(refused.as_str(), Some("STAFF_ONLY"), "exit without the PIN");
    app.click("#staff-btn").await;
    app.wait_for("#staff-pin2-wrap[hidden]").await;
    app.fill("#staff-pin-input", "555555").await;
    app.click("#staff-pin-ok").await;
    let e = staff_error(&app).await;
    assert!(e.contains("Wrong PIN"), "{e}");
    app.shot("staff-wrong-pin").await;
    app.fill("#staff-pin-input", PIN).await;
    app.click("#staff-pin-ok").await;
    app.wait_for("#staff-panel:not([hidden])").await;

    // The way out of kiosk mode: the app exits and the session ends.
    // (The script's answer may be lost with the app: that is the point.)
    let _ = app
        .client
        .execute(
            "setTimeout(() => document.querySelector('#staff-exit').click(), 0); return 1;",
            vec![],
        )
        .await;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let alive = app.client.execute("return 1", vec![]).await.is_ok();
        if !alive {
            break;
        }
        assert!(Instant::now() < deadline, "the app did not exit");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    app.close().await;
}
