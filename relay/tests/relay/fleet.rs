//! The fleet page in a real browser: WebKitWebDriver driving WebKitGTK's
//! MiniBrowser against a real relay and PostgreSQL. Needs a display (CI runs
//! the suite under `xvfb-run`); without one, or without WebKitWebDriver, the
//! test says so and skips, except under CI, where it fails instead.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use kyc_kiosk::config::Secret;

use crate::support::{enrol, post_webhook, relay, shared, webhook_body};

const ADMIN_KEY: &str = "fleet-admin-key-5e0c27";

/// The browser WebKitWebDriver starts: WebKitGTK's MiniBrowser.
fn mini_browser() -> Option<PathBuf> {
    let arch = std::env::consts::ARCH;
    ["webkit2gtk-4.1", "webkit2gtk-4.0", "webkitgtk-6.0"]
        .iter()
        .flat_map(|v| {
            [
                PathBuf::from(format!("/usr/lib/{arch}-linux-gnu/{v}/MiniBrowser")),
                PathBuf::from(format!("/usr/libexec/{v}/MiniBrowser")),
                PathBuf::from(format!("/usr/lib/{v}/MiniBrowser")),
            ]
        })
        .find(|p| p.is_file())
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

/// Why this machine cannot run the browser, if it cannot.
fn missing() -> Option<String> {
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        return Some("no display (run under xvfb-run)".into());
    }
    if !on_path("WebKitWebDriver") {
        return Some("no WebKitWebDriver on PATH (webkit2gtk-driver)".into());
    }
    if mini_browser().is_none() {
        return Some("no WebKitGTK MiniBrowser".into());
    }
    None
}

/// WebKitWebDriver on a free port, stopped with SIGTERM (so the browser
/// goes too) when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn browser() -> (Driver, Client) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let child = Command::new("WebKitWebDriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start WebKitWebDriver");
    let driver = Driver(child);
    let caps: serde_json::Map<String, serde_json::Value> =
        serde_json::from_value(serde_json::json!({
            "webkitgtk:browserOptions": {
                "binary": mini_browser().unwrap(),
                "args": ["--automation"],
            }
        }))
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let client = loop {
        match ClientBuilder::new(HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(c) => break c,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("WebDriver session did not start: {e}"),
        }
    };
    (driver, client)
}

/// The page's table as the browser shows it: one row of cell texts per
/// kiosk, keyed by the row's kiosk id.
async fn rows(c: &Client) -> Vec<(String, Vec<String>)> {
    let v = c
        .execute(
            "return [...document.querySelectorAll('tbody tr')].map(r => [r.dataset.kiosk, [...r.cells].map(td => td.innerText.trim())]);",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(v).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fleet_page_in_a_browser_needs_the_key_and_shows_the_kiosks_without_personal_data() {
    if let Some(why) = missing() {
        assert!(
            std::env::var_os("CI").is_none(),
            "the fleet page's browser test cannot run under CI: {why}"
        );
        eprintln!("SKIPPED the fleet page's browser test: {why}");
        return;
    }
    let db = shared().fresh_database();
    let r = relay(&db, None, |s| s.admin_key = Some(Secret::new(ADMIN_KEY))).await;
    let base = r.url();
    let desk = enrol(&db, "Front desk 1", Some("Vilnius")).await;
    let idle = enrol(&db, "Back room", Some("Kaunas")).await;
    // The front desk is in use: a verification with a result (whose
    // webhook carries the customer's names and client ID).
    let (s, t) = desk
        .call(
            &base,
            "POST",
            "/kiosk/v1/tokens",
            Some(serde_json::json!({
                "clientId": "customer-4711", "firstName": "Ona", "lastName": "Specimenaite",
                "tokenType": "DOCUMENT", "dummyStatus": "APPROVED"
            })),
        )
        .await;
    assert_eq!(s, 200, "{t}");
    let scan_ref = t["scanRef"].as_str().unwrap().to_owned();
    let body = webhook_body(&scan_ref, true, "APPROVED");
    assert_eq!(
        post_webhook(&base, Some(r.signing_key()), "AUTO_FINISHED", &body).await,
        200
    );
    assert_eq!(desk.results(&base, Duration::from_secs(10)).await.len(), 1);

    let (_driver, c) = browser().await;
    // With the admin key (as a browser sends it after its prompt).
    let authed = base.replacen("http://", &format!("http://it:{ADMIN_KEY}@"), 1);
    c.goto(&format!("{authed}/fleet")).await.unwrap();
    assert_eq!(c.title().await.unwrap(), "Kiosk fleet");
    let text: String = c
        .execute("return document.body.innerText", vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        text.contains("2 kiosks enrolled, 1 connected"),
        "summary: {text}"
    );
    let table = rows(&c).await;
    assert_eq!(table.len(), 2, "{table:?}");
    let row = |id: &str| {
        table
            .iter()
            .find(|(k, _)| k == id)
            .map(|(_, cells)| cells.clone())
            .unwrap_or_else(|| panic!("no row for {id}: {table:?}"))
    };
    // Kiosk, Branch, State, Last seen, App version, Last result, Id.
    let timestamp = |s: &str| s.len() >= 19 && s.as_bytes()[4] == b'-' && s.contains(':');
    let d = row(&desk.id);
    assert_eq!(
        (d[0].as_str(), d[1].as_str(), d[2].as_str(), d[4].as_str()),
        ("Front desk 1", "Vilnius", "connected", "test-1.0"),
        "{d:?}"
    );
    assert!(timestamp(&d[3]) && timestamp(&d[5]), "times: {d:?}");
    let i = row(&idle.id);
    assert_eq!(
        (i[0].as_str(), i[1].as_str(), i[2].as_str()),
        ("Back room", "Kaunas", "not connected"),
        "{i:?}"
    );
    assert_eq!(
        (i[3].as_str(), i[4].as_str(), i[5].as_str()),
        ("—", "—", "—")
    );
    // No personal data anywhere on the page, nor the verification itself.
    let html = c.source().await.unwrap();
    for personal in [
        "customer-4711",
        "Ona",
        "Specimenaite",
        "JONAS",
        "SPECIMEN",
        "c-1",
        "192.0.2.7",
        scan_ref.as_str(),
        "APPROVED",
    ] {
        assert!(
            !text.contains(personal) && !html.contains(personal),
            "{personal} on the page"
        );
    }
    // The admin key never appears in the page either.
    assert!(!html.contains(ADMIN_KEY));

    // Without the key (the browser's own request, no credentials), or with
    // a wrong one, the page is refused.
    let refused = c
        .execute_async(
            "const [url, done] = [arguments[0], arguments[arguments.length - 1]];
             const ask = (headers) => fetch(url, { credentials: 'omit', cache: 'no-store', headers })
               .then((r) => r.text().then((t) => [r.status, r.headers.get('www-authenticate') || '', t]));
             Promise.all([ask({}), ask({ Authorization: 'Basic ' + btoa('it:not-the-key') }),
                          ask({ Authorization: 'Bearer not-the-key' })])
               .then(done, (e) => done(String(e)));",
            vec![serde_json::Value::String(format!("{base}/fleet"))],
        )
        .await
        .unwrap();
    let refused: Vec<(u16, String, String)> =
        serde_json::from_value(refused.clone()).unwrap_or_else(|e| panic!("{e}: {refused}"));
    for (status, challenge, body) in &refused {
        assert_eq!(*status, 401, "{refused:?}");
        assert!(challenge.starts_with("Basic"), "{refused:?}");
        assert!(!body.contains("Front desk"), "{refused:?}");
    }
    c.close().await.unwrap();
}
