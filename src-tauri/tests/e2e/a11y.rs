//! Accessibility in the real window: the whole flow with the keyboard only,
//! hints announced through the live region, and on every screen touch
//! targets of at least 48 px, a name for every control and text contrast of
//! at least 4.5:1 (computed from the rendered colours).

use std::time::{Duration, Instant};

use fantoccini::key::Key;

use crate::harness::App;

/// Problems on the current screen: small targets, unnamed controls, low contrast.
const AUDIT: &str = r#"
const desc = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className ? '.' + String(el.className).split(' ')[0] : '');
const vis = (el) => {
  const r = el.getBoundingClientRect();
  const cs = getComputedStyle(el);
  return r.width > 1 && r.height > 1 && cs.visibility !== 'hidden' && cs.display !== 'none';
};
const problems = [];
for (const el of document.querySelectorAll('button, select, input, a[href], [tabindex="0"]')) {
  if (!vis(el)) continue;
  const target = (el.type === 'checkbox' || el.type === 'radio') ? (el.closest('label') || el) : el;
  const r = target.getBoundingClientRect();
  if (r.height < 47.5 || r.width < 47.5) problems.push(`small target ${desc(el)} ${r.width.toFixed(0)}x${r.height.toFixed(0)}`);
  const label = el.labels && el.labels.length ? el.labels[0].textContent : '';
  const name = (el.getAttribute('aria-label') || '').trim() || (['BUTTON', 'A'].includes(el.tagName) ? el.textContent.trim() : '') || label.trim();
  if (!name) problems.push(`no name ${desc(el)}`);
}
const rgb = (s) => { const m = s.match(/rgba?\(([^)]+)\)/); if (!m) return null; const p = m[1].split(',').map(Number); return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 }; };
const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
const bg = (el) => { for (let e = el; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c && c.a >= 0.5) return c; } return { r: 255, g: 255, b: 255, a: 1 }; };
let texts = 0;
for (const el of document.querySelectorAll('body *')) {
  if (!vis(el) || el.closest('.sr-only') || el.closest('button:disabled')) continue;
  if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
  texts++;
  const fg = rgb(getComputedStyle(el).color);
  const b = bg(el);
  const hi = Math.max(lum(fg), lum(b)), lo = Math.min(lum(fg), lum(b));
  const ratio = (hi + 0.05) / (lo + 0.05);
  if (ratio < 4.5) problems.push(`contrast ${ratio.toFixed(2)} ${desc(el)} "${el.textContent.trim().slice(0, 40)}"`);
}
if (texts < 2) problems.push(`only ${texts} texts checked`);
return problems;
"#;

async fn audit(app: &App, screen: &str) {
    let v = app.exec(AUDIT, vec![]).await;
    let problems: Vec<String> = serde_json::from_value(v).unwrap();
    assert!(problems.is_empty(), "{screen}: {problems:#?}");
}

/// Press Tab until the focused element is `target` (id, data-doc or data-input).
async fn tab_to(app: &App, target: &str) {
    for _ in 0..40 {
        if app.focused().await == target {
            return;
        }
        app.press(Key::Tab).await;
    }
    panic!(
        "Tab never reached {target}; focus is on {}",
        app.focused().await
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_whole_flow_works_from_the_keyboard_and_every_screen_passes_the_audit() {
    let mut app = App::launch("a11y", &[("KYC_KIOSK_KEYRING", "memory")]).await;
    app.wait_for("body[data-ready='1']").await;
    app.screen("start").await;
    audit(&app, "start").await;

    // The staff dialog opens and closes from the keyboard too.
    tab_to(&app, "staff-btn").await;
    app.press(Key::Enter).await;
    app.wait_for("#staff:not([hidden])").await;
    // Focus moves into the dialog.
    app.wait_for("#staff-pin-input:focus").await;
    audit(&app, "staff PIN").await;
    app.press(Key::Escape).await;
    app.wait_for("#staff[hidden]").await;

    // Start: type into the form, move with Tab, submit with Enter.
    app.click("#f-clientId").await;
    app.type_text("A11Y-KEYBOARD").await;
    app.press(Key::Tab).await;
    assert_eq!(app.focused().await, "f-country");
    app.type_text("LT").await;
    app.press(Key::Enter).await;

    app.screen("choice").await;
    audit(&app, "choice").await;
    tab_to(&app, "ID_CARD").await;
    app.press(Key::Enter).await;

    app.screen("capture").await;
    app.wait_for("body[data-preview-seq]").await;
    // Quality hints reach screen readers through the live region.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let live = app
            .exec("return document.querySelector('#live').textContent", vec![])
            .await;
        if !live.as_str().unwrap_or_default().trim().is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "nothing announced while capturing"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let role = app
        .exec(
            "return document.querySelector('#live').getAttribute('aria-live')",
            vec![],
        )
        .await;
    assert_eq!(role.as_str(), Some("assertive"));
    audit(&app, "capture").await;
    app.shot("capture").await;

    app.screen("review").await;
    app.wait_for("#review-stills figure:nth-child(3) img[src]")
        .await;
    audit(&app, "review").await;
    tab_to(&app, "confirm-btn").await;
    app.press(Key::Enter).await;

    app.screen("result").await;
    assert_eq!(app.text("#result-status").await, "APPROVED");
    audit(&app, "result").await;
    app.shot("result").await;
    tab_to(&app, "finish").await;
    app.press(Key::Enter).await;
    app.screen("start").await;
    app.close().await;
}
