//! The kiosk through a back office: the start screen and the staff settings
//! say "Back office: connected as NAME" (a stand-in relay answers `me`), the
//! kiosk credential goes to the keyring and never back to the page. Also the
//! page's own duration wording, run in the real webview.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::harness::App;

const CREDENTIAL: &str = "kc-e2e-7c1d93a0b5f24e68";
const NEW_CREDENTIAL: &str = "kc-e2e-new-2b84f0c1d9e3";
const PIN: &str = "482913";

/// A stand-in for the relay's `me` route on a loopback port: "Desk 7" at
/// branch "Vilnius" for [`CREDENTIAL`], 401 otherwise. Counts the calls made
/// with the right credential.
fn stub_relay() -> (String, Arc<AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let good = Arc::new(AtomicUsize::new(0));
    let counted = good.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
            let ok = head.starts_with("get /kiosk/v1/me ")
                && head.contains(&format!("authorization: bearer {CREDENTIAL}"));
            let (status, body) = if ok {
                counted.fetch_add(1, Ordering::SeqCst);
                (
                    "200 OK",
                    r#"{"id":"0b5c6f0e-0000-4000-8000-000000000007","name":"Desk 7","branch":"Vilnius"}"#,
                )
            } else {
                (
                    "401 Unauthorized",
                    r#"{"code":"UNAUTHORIZED","message":"unknown or revoked kiosk credential"}"#,
                )
            };
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (url, good)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_start_screen_and_staff_settings_say_connected_as_name() {
    let (url, calls) = stub_relay();
    let hash = kyc_kiosk::staff::pin::hash(PIN).unwrap();
    let config = format!("[kiosk]\nstaff_pin_hash = \"{}\"\n", hash.as_str());
    let mut app = App::launch_with(
        "backoffice",
        &[
            ("KYC_KIOSK_RELAY_URL", url.as_str()),
            ("KYC_KIOSK_RELAY_KEY", CREDENTIAL),
        ],
        &config,
    )
    .await;
    app.wait_for("body[data-ready='1']").await;
    app.screen("start").await;
    app.wait_for("body[data-back-office='connected']").await;
    let shown = app.text("#back-office").await;
    assert_eq!(shown, "Back office: connected as Desk 7 (Vilnius)");
    assert!(calls.load(Ordering::SeqCst) >= 1);
    // A relay is no sandbox.
    let sandbox = app
        .exec(
            "return document.getElementById('sandbox-banner').hidden",
            vec![],
        )
        .await;
    assert_eq!(sandbox.as_bool(), Some(true));
    app.shot("start-connected").await;

    // The staff settings show the same, the URL, and the credential only as
    // "not stored" (it came from the environment, not the keyring).
    app.click("#staff-btn").await;
    app.wait_for("#staff:not([hidden]) #staff-pin:not([hidden])")
        .await;
    app.fill("#staff-pin-input", PIN).await;
    app.click("#staff-pin-ok").await;
    app.wait_for("#staff-panel:not([hidden])").await;
    assert_eq!(
        app.text("#staff-back-office").await,
        "Back office: connected as Desk 7 (Vilnius)"
    );
    assert_eq!(app.value("#s-relayUrl").await, format!("{url}/"));
    let backend = app.text("#staff-backend").await;
    assert!(backend.contains("back office"), "{backend}");
    app.wait_for("#flag-relayKey[data-set='0']").await;

    // A new credential goes to the keyring; only "stored" comes back.
    app.fill("#s-relayKey", NEW_CREDENTIAL).await;
    app.click("#staff-secrets button[type=submit]").await;
    app.wait_for("#flag-relayKey[data-set='1']").await;
    assert_eq!(app.value("#s-relayKey").await, "");
    let html = app
        .exec("return document.documentElement.outerHTML", vec![])
        .await;
    let html = html.as_str().unwrap();
    assert!(!html.contains(CREDENTIAL) && !html.contains(NEW_CREDENTIAL));
    for cmd in ["staff_status", "app_info", "back_office"] {
        let answer = app
            .exec(
                &format!("return window.__TAURI_INTERNALS__.invoke('{cmd}').then(JSON.stringify)"),
                vec![],
            )
            .await;
        let answer = answer.as_str().unwrap_or_default();
        assert!(
            !answer.contains(CREDENTIAL) && !answer.contains(NEW_CREDENTIAL),
            "{cmd}: {answer}"
        );
    }
    app.shot("staff-back-office").await;
    app.close().await;
}

/// Without a relay nothing about a back office is shown.
#[tokio::test(flavor = "multi_thread")]
async fn without_a_relay_no_back_office_line() {
    let app = App::launch("no-backoffice", &[]).await;
    app.wait_for("body[data-ready='1']").await;
    app.screen("start").await;
    let hidden = app
        .exec(
            "return document.getElementById('back-office').hidden && !document.body.dataset.backOffice",
            vec![],
        )
        .await;
    assert_eq!(hidden.as_bool(), Some(true));

    // The page's duration wording, with the real catalogs: a 24-hour code
    // reads in hours and minutes, in each language's words.
    let got = app
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             Promise.all([import('./format.js'), import('./i18n.js')]).then(async ([f, i]) => {
               const out = {};
               for (const lang of ['en', 'lt', 'de']) {
                 await i.setLanguage(lang);
                 out[lang] = [86400, 5400, 3600, 3599, 61, 45].map((s) => f.formatDuration(s, i.t));
               }
               await i.setLanguage('en');
               done(out);
             }, (e) => done(String(e)));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        got,
        serde_json::json!({
            "en": ["24 h 00 min", "1 h 30 min", "1 h 00 min", "59:59", "1:01", "45s"],
            "lt": ["24 val. 00 min.", "1 val. 30 min.", "1 val. 00 min.", "59:59", "1:01", "45s"],
            "de": ["24 Std. 00 Min.", "1 Std. 30 Min.", "1 Std. 00 Min.", "59:59", "1:01", "45s"],
        })
    );
    app.close().await;
}
