//! Starts tauri-driver and a WebDriver session on the built app, and stops
//! both cleanly (SIGTERM, so WebKitWebDriver exits too).
//!
//! One app runs at a time: [`App::launch`] takes a process-wide lock that the
//! app holds until it is closed or dropped, so the suite needs no
//! `--test-threads=1` and runs in the same `cargo test` as everything else.
//! Each app's config folder is a fresh temp folder, removed when it ends.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

/// One running app under WebDriver. Dropping it ends the session and the driver.
pub struct App {
    pub client: Client,
    /// The app's config directory (its `config.toml`, and `staff.toml` once saved).
    pub cfg_dir: PathBuf,
    driver: Child,
    shots: PathBuf,
    name: String,
    n: usize,
    // Declared last: released after the driver has stopped.
    _one_at_a_time: tokio::sync::MutexGuard<'static, ()>,
}

/// Only one window and one tauri-driver at a time (they share the X display
/// and the WebKit driver). An async lock: each test has its own runtime, and
/// the guard lives across awaits.
static ONE_APP: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl App {
    /// Launch the app binary built by cargo for this test, with `env` added
    /// to its environment. `name` prefixes the screenshots.
    pub async fn launch(name: &str, env: &[(&str, &str)]) -> App {
        Self::launch_with(name, env, "").await
    }

    /// As [`App::launch`], with `config` written as the app's config file.
    pub async fn launch_with(name: &str, env: &[(&str, &str)], config: &str) -> App {
        assert!(
            std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some(),
            "end-to-end tests need a display: run them through `make test` (xvfb-run)"
        );
        let one_at_a_time = ONE_APP.lock().await;
        let app = PathBuf::from(env!("CARGO_BIN_EXE_kyc-kiosk-app"));
        let port = free_port();
        let native = free_port();
        let mut cmd = Command::new("tauri-driver");
        cmd.args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
        // The app inherits the driver's environment: no credentials means
        // the embedded sandbox; a temp config path keeps the test hermetic.
        for var in [
            "IDENFY_API_KEY",
            "IDENFY_API_SECRET",
            "IDENFY_BASE_URL",
            "IDENFY_SIGNING_KEY",
            "KYC_KIOSK_BACKEND",
            "KYC_KIOSK_MODE",
            "KYC_KIOSK_RELAY_URL",
            "KYC_KIOSK_RELAY_KEY",
        ] {
            cmd.env_remove(var);
        }
        let cfg_dir =
            std::env::temp_dir().join(format!("kyc-kiosk-e2e-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&cfg_dir);
        std::fs::create_dir_all(&cfg_dir).unwrap();
        std::fs::write(cfg_dir.join("config.toml"), config).unwrap();
        cmd.env("KYC_KIOSK_CONFIG", cfg_dir.join("config.toml"));
        // Never the keyring of the machine running the tests (it may hold
        // real credentials).
        cmd.env("KYC_KIOSK_KEYRING", "memory");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let driver = cmd.spawn().unwrap_or_else(|e| {
            panic!("cannot start tauri-driver ({e}); `make test` installs it (cargo install tauri-driver --locked)")
        });

        let caps: serde_json::Map<String, serde_json::Value> =
            serde_json::from_value(serde_json::json!({
                "browserName": "wry",
                "tauri:options": { "application": app },
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
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
        let shots = target.join("e2e");
        std::fs::create_dir_all(&shots).unwrap();
        App {
            client,
            cfg_dir,
            driver,
            shots,
            name: name.to_owned(),
            n: 0,
            _one_at_a_time: one_at_a_time,
        }
    }

    /// The page's viewport in CSS pixels.
    async fn viewport(&self) -> (i64, i64) {
        let v = self.exec("return [innerWidth, innerHeight];", vec![]).await;
        (v[0].as_i64().unwrap_or(0), v[1].as_i64().unwrap_or(0))
    }

    /// Resize the window so that its page (the web view's viewport) is
    /// `width`×`height` CSS pixels, whatever the window frame takes.
    pub async fn resize(&self, width: u32, height: u32) {
        let target = (i64::from(width), i64::from(height));
        let mut ask = target;
        for _ in 0..3 {
            let before = self.viewport().await;
            let w = u32::try_from(ask.0).expect("a positive width");
            let h = u32::try_from(ask.1).expect("a positive height");
            self.client
                .set_window_size(w, h)
                .await
                .expect("set the window size");
            // Wait for the page to see the change, then for its layout.
            let deadline = Instant::now() + Duration::from_secs(5);
            let mut got = self.viewport().await;
            while got == before && got != target && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(50)).await;
                got = self.viewport().await;
            }
            self.settled().await;
            got = self.viewport().await;
            if got == target {
                return;
            }
            // The window frame took the difference: ask for that much more.
            ask = (ask.0 + target.0 - got.0, ask.1 + target.1 - got.1);
        }
        assert_eq!(
            self.viewport().await,
            target,
            "the page could not be sized to {width}x{height}"
        );
    }

    /// Wait until `js` (a script returning a boolean) returns true.
    pub async fn until(&self, what: &str, js: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if self.exec(js, vec![]).await.as_bool() == Some(true) {
                return;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Wait until the page has run everything queued so far (timers of
    /// delay 0 and two animation frames): after it, a script action that
    /// would have had an effect has had it.
    pub async fn settled(&self) {
        let _ = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1]; setTimeout(() => requestAnimationFrame(() => requestAnimationFrame(() => done(true))), 0);",
                vec![],
            )
            .await;
    }

    /// Wait until the element exists and return its text.
    pub async fn text(&self, css: &str) -> String {
        let el = self
            .client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("element {css} did not appear: {e}"));
        el.text().await.unwrap()
    }

    /// Wait until `css` matches an element.
    pub async fn wait_for(&self, css: &str) {
        self.client
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("element {css} did not appear: {e}"));
    }

    /// Wait until the UI shows `screen`.
    pub async fn screen(&self, screen: &str) {
        self.wait_for(&format!("body[data-screen='{screen}']"))
            .await;
    }

    /// Type `text` into the input matched by `css`.
    pub async fn fill(&self, css: &str, text: &str) {
        let el = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
        el.clear().await.unwrap();
        el.send_keys(text).await.unwrap();
    }

    /// Click the element matched by `css` (waiting for it first).
    pub async fn click(&self, css: &str) {
        let el = self
            .client
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("element {css} did not appear: {e}"));
        if let Err(e) = el.click().await {
            // WebKitWebDriver sometimes reports an empty error when the click
            // hides the element (the screen changed under it). Only a click
            // that did not land is a failure.
            let still_shown = el.is_displayed().await;
            eprintln!("click {css}: {e:?}; displayed after: {still_shown:?}");
            if still_shown.unwrap_or(false) {
                self.client
                    .execute(
                        "document.querySelector(arguments[0]).click()",
                        vec![css.into()],
                    )
                    .await
                    .unwrap_or_else(|e2| panic!("click {css}: {e}; {e2}"));
            }
        }
    }

    /// Run `js` in the page (with `arguments` = `args`) and return its value.
    pub async fn exec(&self, js: &str, args: Vec<serde_json::Value>) -> serde_json::Value {
        self.client
            .execute(js, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{js}"))
    }

    /// Press `key` on whatever has the keyboard focus.
    pub async fn press(&self, key: fantoccini::key::Key) {
        let el = self
            .client
            .active_element()
            .await
            .expect("a focused element");
        el.send_keys(&key.to_string()).await.expect("key press");
    }

    /// Type `text` into whatever has the keyboard focus.
    pub async fn type_text(&self, text: &str) {
        let el = self
            .client
            .active_element()
            .await
            .expect("a focused element");
        el.send_keys(text).await.expect("typing");
    }

    /// The id (or, without one, the text) of the focused element.
    pub async fn focused(&self) -> String {
        self.exec(
            "const a = document.activeElement; return a ? (a.id || a.dataset.doc || a.dataset.input || a.textContent.trim()) : '';",
            vec![],
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// The value of a form field.
    pub async fn value(&self, css: &str) -> String {
        let el = self.client.find(Locator::Css(css)).await.unwrap();
        el.prop("value").await.unwrap().unwrap_or_default()
    }

    /// The current screenshot as PNG bytes.
    ///
    /// WebKit's WebDriver takes the picture after the page's next paint;
    /// with WebKit's CPU renderer (no compositing, as on a kiosk without a
    /// GPU) a page with nothing moving never paints again, and the
    /// screenshot would wait for ever. A one-pixel, nearly transparent
    /// square in the top-left corner flickers while the picture is taken,
    /// then goes.
    pub async fn png(&self) -> Vec<u8> {
        self.exec(
            "const e = document.createElement('div'); e.id = 'e2e-paint'; \
             e.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;pointer-events:none;z-index:2147483647'; \
             document.documentElement.appendChild(e); let on = false; \
             window.e2ePaint = setInterval(() => { on = !on; e.style.background = on ? 'rgba(0,0,0,0.01)' : 'rgba(0,0,0,0.02)'; }, 20); \
             return true;",
            vec![],
        )
        .await;
        let png = self.client.screenshot().await.expect("screenshot");
        self.exec(
            "clearInterval(window.e2ePaint); document.getElementById('e2e-paint')?.remove(); return true;",
            vec![],
        )
        .await;
        png
    }

    /// Save a screenshot of the current screen as `target/e2e/<name>-<n>-<label>.png`,
    /// after two animation frames so the picture is not stale.
    pub async fn shot(&mut self, label: &str) {
        let _ = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
                vec![],
            )
            .await;
        let png = self.png().await;
        self.n += 1;
        let path = self
            .shots
            .join(format!("{}-{:02}-{label}.png", self.name, self.n));
        std::fs::write(&path, png).unwrap();
    }

    /// End the WebDriver session and stop the driver with SIGTERM.
    pub async fn close(mut self) {
        let client = self.client.clone();
        let _ = client.close().await;
        self.stop_driver();
    }

    fn stop_driver(&mut self) {
        // SIGTERM lets tauri-driver stop WebKitWebDriver; SIGKILL would leave it running.
        let _ = Command::new("kill")
            .args(["-TERM", &self.driver.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.driver.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if let Ok(None) = self.driver.try_wait() {
            self.stop_driver();
        }
        let _ = std::fs::remove_dir_all(&self.cfg_dir);
    }
}

/// A free loopback port for a test to hand to the app.
pub fn free_port_public() -> u16 {
    free_port()
}

/// A minimal HTTP/1.1 POST of a JSON body to a loopback address; panics
/// unless the answer is 2xx.
pub fn post_json(addr: &str, path: &str, body: &str) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect to the sandbox");
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let status = answer.split_whitespace().nth(1).unwrap_or("");
    assert!(status.starts_with('2'), "POST {path}: {answer}");
}
