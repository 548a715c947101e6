//! Starts tauri-driver and a WebDriver session on the built app, and stops
//! both cleanly (SIGTERM, so WebKitWebDriver exits too).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

/// One running app under WebDriver. Dropping it ends the session and the driver.
pub struct App {
    pub client: Client,
    driver: Child,
    shots: PathBuf,
    name: String,
    n: usize,
}

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
        assert!(
            std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some(),
            "end-to-end tests need a display: run them through `make test` (xvfb-run)"
        );
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
        ] {
            cmd.env_remove(var);
        }
        let cfg_dir =
            std::env::temp_dir().join(format!("kyc-kiosk-e2e-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&cfg_dir).unwrap();
        cmd.env("KYC_KIOSK_CONFIG", cfg_dir.join("config.toml"));
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
            driver,
            shots,
            name: name.to_owned(),
            n: 0,
        }
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
        let png = self.client.screenshot().await.expect("screenshot");
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
    }
}
