//! Every screen fits the window without scrolling: the start form and the
//! capture screen (preview, hint, Take photo, Cancel) at 1280×800, 1920×1080
//! and portrait 1080×1920, in English and in Lithuanian (the longest words).
//! Screenshots of each land in `target/e2e/`.

use serde_json::json;

use crate::harness::App;

const SIZES: [(u32, u32); 3] = [(1280, 800), (1920, 1080), (1080, 1920)];

/// Controls that are off screen (or missing), and whether `main` scrolls.
const FIT_JS: &str = r#"
const out = { bad: [], scrolls: false, vw: innerWidth, vh: innerHeight };
for (const sel of arguments[0]) {
  const el = document.querySelector(sel);
  if (!el) { out.bad.push(sel + " missing"); continue; }
  const b = el.getBoundingClientRect();
  if (b.width < 1 || b.height < 1 || b.left < 0 || b.top < 0
      || b.right > innerWidth + 0.5 || b.bottom > innerHeight + 0.5) {
    out.bad.push(`${sel} at ${Math.round(b.left)},${Math.round(b.top)}-${Math.round(b.right)},${Math.round(b.bottom)}`);
  }
}
const main = document.getElementById("app");
out.scrolls = main.scrollHeight > main.clientHeight + 1 || document.documentElement.scrollHeight > innerHeight + 1;
return out;
"#;

async fn assert_fits(app: &App, what: &str, selectors: &[&str]) {
    let r = app.exec(FIT_JS, vec![json!(selectors)]).await;
    let bad = r["bad"].as_array().cloned().unwrap_or_default();
    assert!(
        bad.is_empty() && r["scrolls"] == json!(false),
        "{what} at {}x{}: off screen {bad:?}, scrolls {}",
        r["vw"],
        r["vh"],
        r["scrolls"]
    );
}

async fn set_language(app: &App, code: &str) {
    app.exec(
        "const s = document.getElementById('lang-select'); s.value = arguments[0]; s.dispatchEvent(new Event('change'));",
        vec![json!(code)],
    )
    .await;
    app.until(
        "the language to apply",
        &format!("return document.documentElement.lang === '{code}';"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn start_and_capture_screens_fit_the_window_at_three_sizes() {
    // Auto-capture off: the capture screen stays until the test leaves it.
    let mut app = App::launch("screens", &[("KYC_KIOSK_AUTO_CAPTURE", "0")]).await;
    for (w, h) in SIZES {
        app.resize(w, h).await;
        for lang in ["en", "lt"] {
            set_language(&app, lang).await;
            app.screen("start").await;
            app.settled().await;
            assert_fits(
                &app,
                &format!("start ({lang})"),
                &[
                    "#start-form button[type=submit]",
                    "#f-clientId",
                    "#f-documents",
                ],
            )
            .await;
            app.shot(&format!("start-{w}x{h}-{lang}")).await;
        }
        // Into the capture screen (the form keeps the language chosen last).
        app.fill("#f-clientId", "E2E-FIT").await;
        app.fill("#f-country", "LT").await;
        app.click("#start-form button[type=submit]").await;
        app.screen("choice").await;
        app.click("#choice-docs button[data-doc='ID_CARD']").await;
        app.screen("capture").await;
        app.wait_for("body[data-preview-seq]").await;
        app.until(
            "a hint",
            "return document.getElementById('hint').textContent.length > 0;",
        )
        .await;
        for lang in ["lt", "en"] {
            set_language(&app, lang).await;
            app.settled().await;
            assert_fits(
                &app,
                &format!("capture ({lang})"),
                &["#preview", "#hint", "#capture-btn", "#cancel-btn"],
            )
            .await;
            app.shot(&format!("capture-{w}x{h}-{lang}")).await;
        }
        // The preview uses the room it has: at least half the window's width
        // (or height, in portrait) is picture.
        let r = app
            .exec(
                "const b = document.querySelector('.preview-wrap').getBoundingClientRect(); return [b.width, b.height];",
                vec![],
            )
            .await;
        let (pw, ph) = (r[0].as_f64().unwrap(), r[1].as_f64().unwrap());
        assert!(
            pw >= f64::from(w.min(h)) * 0.5 || ph >= f64::from(h) * 0.35,
            "preview {pw}x{ph} in {w}x{h}"
        );
        app.click("#cancel-btn").await;
        app.screen("start").await;
    }
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn take_photo_becomes_prominent_after_ten_seconds_without_auto_capture() {
    let mut app = App::launch("prominent", &[("KYC_KIOSK_AUTO_CAPTURE", "0")]).await;
    to_capture(&app, "E2E-PROMINENT").await;
    app.screen("capture").await;
    // Present from the start, not yet prominent.
    let now = app
        .exec(
            "const b = document.getElementById('capture-btn'); return [b.hidden, b.dataset.prominent || '0'];",
            vec![],
        )
        .await;
    assert_eq!(now, json!([false, "0"]));
    app.until(
        "Take photo to become prominent",
        "return document.getElementById('capture-btn').dataset.prominent === '1';",
    )
    .await;
    app.shot("prominent").await;
    // Taking the photo moves to the next side, where the clock starts again.
    app.click("#capture-btn").await;
    app.until(
        "the back side",
        "return !!document.querySelector('#capture-steps li.done');",
    )
    .await;
    let again = app
        .exec(
            "return document.getElementById('capture-btn').dataset.prominent;",
            vec![],
        )
        .await;
    assert_eq!(again, json!("0"));
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn document_country_is_a_searchable_list_named_in_the_ui_language() {
    let mut app = App::launch("country", &[("KYC_KIOSK_AUTO_CAPTURE", "0")]).await;
    app.screen("start").await;
    set_language(&app, "de").await;
    app.fill("#f-clientId", "E2E-COUNTRY").await;
    // A name that is not a country: refused on the form, nothing typed lost.
    app.fill("#f-country", "Atlantis").await;
    app.until(
        "no country matches",
        "return document.getElementById('country-list').hidden;",
    )
    .await;
    app.click("#start-form button[type=submit]").await;
    app.until(
        "the country field marked",
        "return document.getElementById('f-country').getAttribute('aria-invalid') === 'true';",
    )
    .await;
    assert_eq!(app.value("#f-clientId").await, "E2E-COUNTRY");
    app.shot("country-refused").await;

    // Searching in German finds Lithuania by its German name.
    app.fill("#f-country", "Lit").await;
    app.wait_for("#country-list:not([hidden]) li").await;
    let first = app.text("#country-list li:first-child").await;
    assert_eq!(first, "Litauen (LT)");
    app.shot("country-list").await;
    app.press(fantoccini::key::Key::Down).await;
    app.press(fantoccini::key::Key::Enter).await;
    let chosen = app
        .exec(
            "const f = document.getElementById('f-country'); return [f.value, f.dataset.code, document.getElementById('country-list').hidden];",
            vec![],
        )
        .await;
    assert_eq!(chosen, json!(["Litauen (LT)", "LT", true]));
    // Another language names it anew; the code stays.
    set_language(&app, "lt").await;
    assert_eq!(app.value("#f-country").await, "Lietuva (LT)");
    app.click("#start-form button[type=submit]").await;
    app.screen("choice").await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_document_outline_is_drawn_over_the_preview() {
    // Without auto-capture the card stays on screen as long as needed.
    let mut app = App::launch("outline", &[("KYC_KIOSK_AUTO_CAPTURE", "0")]).await;
    to_capture(&app, "E2E-OUTLINE").await;
    app.screen("capture").await;
    app.until(
        "a green outline of the card",
        "const s = document.getElementById('outline'); \
         const p = s.querySelector('polygon').getAttribute('points') || ''; \
         return !s.hasAttribute('hidden') && s.dataset.ok === '1' && p.split(' ').length === 4;",
    )
    .await;
    // It lies on the picture, around most of it (the card fills 0.6 of the frame).
    let placed = app
        .exec(
            "const p = document.querySelector('#outline polygon').getBoundingClientRect(); \
             const i = document.getElementById('preview').getBoundingClientRect(); \
             return [p.width > i.width * 0.6, p.left >= i.left - 1, p.right <= i.right + 1, \
                     p.top >= i.top - 1, p.bottom <= i.bottom + 1];",
            vec![],
        )
        .await;
    assert_eq!(placed, json!([true, true, true, true, true]));
    app.shot("capture-outline").await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_card_too_far_away_gets_an_amber_outline_and_a_hint_and_no_photo() {
    let mut app = App::launch("too-far", &[("KYC_KIOSK_DEMO_SCENE", "front_far")]).await;
    to_capture(&app, "E2E-TOO-FAR").await;
    app.screen("capture").await;
    app.until(
        "the too-far hint over an amber outline",
        "const s = document.getElementById('outline'); \
         return !s.hasAttribute('hidden') && s.dataset.ok === '0' \
           && document.getElementById('hint').textContent === 'Move the document closer';",
    )
    .await;
    app.shot("capture-too-far").await;
    // Auto-capture is on, but nothing is taken while the card is too far.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let state = app
        .exec(
            "return [document.querySelectorAll('#capture-steps li.done').length, \
                     document.getElementById('autocap').hidden];",
            vec![],
        )
        .await;
    assert_eq!(state, json!([0, true]));
    app.close().await;
}

/// From the start screen to the capture screen of an ID card in Lithuania.
async fn to_capture(app: &App, client_id: &str) {
    app.screen("start").await;
    app.fill("#f-clientId", client_id).await;
    app.fill("#f-country", "LT").await;
    app.click("#start-form button[type=submit]").await;
    app.screen("choice").await;
    app.click("#choice-docs button[data-doc='ID_CARD']").await;
}
