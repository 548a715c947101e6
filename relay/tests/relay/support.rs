//! Test support: a real, throwaway PostgreSQL cluster (the distribution's
//! `postgresql` package, as `scripts/relay-db.sh` starts it: socket only,
//! run as `postgres` when the tests run as root), a fresh database per test,
//! relay instances on port 0 and a small kiosk over real HTTP.
//!
//! One cluster serves the whole test binary; a test that restarts the
//! database starts its own. A watchdog process stops each cluster and
//! deletes its folder when the test process ends, however it ends.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use kyc_kiosk_relay::config::UpstreamConfig;
use kyc_kiosk_relay::{server, PublicUrl, Running, Settings};
use serde_json::{json, Value};

fn pg_bin() -> PathBuf {
    for v in ["15", "16", "17", "14"] {
        let p = PathBuf::from(format!("/usr/lib/postgresql/{v}/bin"));
        if p.join("initdb").exists() {
            return p;
        }
    }
    panic!("PostgreSQL is not installed: run scripts/setup.sh test");
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
}

/// Run a PostgreSQL program, as `postgres` when we are root.
fn pg(program: &str, args: &[&str]) -> std::process::Output {
    let bin = pg_bin().join(program);
    let mut c = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(&bin);
        c
    } else {
        Command::new(&bin)
    };
    c.args(args).stdin(Stdio::null());
    let out = c.output().expect("run a PostgreSQL program");
    assert!(
        out.status.success(),
        "{program} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// One cluster in a temp folder.
pub struct Cluster {
    dir: PathBuf,
    user: String,
}

impl Cluster {
    /// initdb and start a cluster; it is stopped and deleted when this
    /// process ends.
    pub fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("kyc-relay-pg-")
            .tempdir()
            .expect("temp dir")
            .keep();
        let user = if is_root() {
            "postgres".to_owned()
        } else {
            std::env::var("USER").unwrap_or_else(|_| "postgres".into())
        };
        if is_root() {
            Command::new("chown")
                .args(["postgres:", dir.to_str().unwrap()])
                .status()
                .unwrap();
        }
        let data = dir.join("data");
        let d = data.to_str().unwrap();
        pg(
            "initdb",
            &[
                "-D",
                d,
                "-U",
                &user,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
            ],
        );
        let c = Self { dir, user };
        c.pg_ctl("start");
        // The watchdog: when this process is gone, stop the cluster and
        // delete its folder.
        let script = format!(
            "while [ -d /proc/{pid} ]; do sleep 0.5; done; {stop}; rm -rf '{dir}'",
            pid = std::process::id(),
            stop = if is_root() {
                format!(
                    "runuser -u postgres -- '{}' -D '{d}' -m immediate stop >/dev/null 2>&1",
                    pg_bin().join("pg_ctl").display()
                )
            } else {
                format!(
                    "'{}' -D '{d}' -m immediate stop >/dev/null 2>&1",
                    pg_bin().join("pg_ctl").display()
                )
            },
            dir = c.dir.display(),
        );
        // Never waited for: it outlives this process on purpose.
        #[allow(clippy::zombie_processes)]
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("watchdog");
        c
    }

    fn data(&self) -> String {
        self.dir.join("data").to_str().unwrap().to_owned()
    }

    fn socket_dir(&self) -> &Path {
        &self.dir
    }

    fn pg_ctl(&self, what: &str) {
        let opts = format!(
            "-c listen_addresses='' -k {} -c fsync=off -c max_connections=300",
            self.socket_dir().display()
        );
        let log = self.dir.join("postgres.log");
        pg(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-l",
                log.to_str().unwrap(),
                "-w",
                "-t",
                "30",
                "-m",
                "fast",
                "-o",
                &opts,
                what,
            ],
        );
    }

    /// `pg_ctl restart -m fast`: every connection is cut.
    pub fn restart(&self) {
        self.pg_ctl("restart");
    }

    /// `pg_ctl stop -m fast`.
    pub fn stop(&self) {
        pg("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
    }

    /// URL of database `db`.
    pub fn url(&self, db: &str) -> String {
        format!(
            "postgres:///{db}?host={}&user={}",
            self.socket_dir().display(),
            self.user
        )
    }

    /// A new, empty database.
    pub fn fresh_database(&self) -> String {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "t{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        pg(
            "createdb",
            &[
                "-h",
                self.socket_dir().to_str().unwrap(),
                "-U",
                &self.user,
                &name,
            ],
        );
        self.url(&name)
    }
}

/// The cluster shared by the tests of this binary.
pub fn shared() -> &'static Cluster {
    static C: OnceLock<Cluster> = OnceLock::new();
    C.get_or_init(Cluster::start)
}

/// A relay instance (with its own embedded sandbox unless `upstream` is
/// given) on a fresh port.
pub async fn relay(
    db_url: &str,
    upstream: Option<UpstreamConfig>,
    tune: impl FnOnce(&mut Settings),
) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut settings = Settings::new(PublicUrl::parse(&format!("http://{addr}")).unwrap());
    settings.purge_every = Duration::from_secs(3600);
    tune(&mut settings);
    let upstream = upstream.unwrap_or_else(fast_sandbox);
    let pool = kyc_kiosk_relay::db::connect(db_url, 10).await.unwrap();
    server::start(pool, listener, &upstream, settings)
        .await
        .unwrap()
}

/// The embedded sandbox with short delays.
pub fn fast_sandbox() -> UpstreamConfig {
    let mut u = UpstreamConfig::sandbox();
    u.sandbox.auto_delay = Duration::from_millis(50);
    u.sandbox.manual_delay = Duration::from_millis(50);
    u.sandbox.webhook_backoff = Duration::from_millis(100);
    u.sandbox.webhook_attempts = 8;
    u
}

/// Enrol a kiosk through the library (as `kiosk add` does).
pub async fn enrol(db_url: &str, name: &str, branch: Option<&str>) -> Kiosk {
    let pool = kyc_kiosk_relay::db::connect(db_url, 1).await.unwrap();
    kyc_kiosk_relay::db::migrate(&pool).await.unwrap();
    let e = kyc_kiosk_relay::kiosks::add(&pool, name, branch)
        .await
        .unwrap();
    pool.close().await;
    Kiosk {
        id: e.id.to_string(),
        credential: e.credential,
        http: reqwest::Client::new(),
    }
}

/// A kiosk talking to a relay over HTTP, as the real one does.
pub struct Kiosk {
    pub id: String,
    pub credential: String,
    http: reqwest::Client,
}

impl Kiosk {
    /// The same kiosk, for a concurrent task.
    pub fn clone_of(k: &Kiosk) -> Kiosk {
        Kiosk {
            id: k.id.clone(),
            credential: k.credential.clone(),
            http: k.http.clone(),
        }
    }

    pub async fn call(
        &self,
        base: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let url = format!("{base}{path}");
        let mut r = match method {
            "GET" => self.http.get(url),
            _ => self.http.post(url),
        }
        .bearer_auth(&self.credential)
        .header("Kyc-Kiosk-Version", "test-1.0");
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.expect("relay answers");
        let status = resp.status().as_u16();
        let v = resp.json::<Value>().await.unwrap_or(Value::Null);
        (status, v)
    }

    /// A DOCUMENT token the sandbox approves whatever the images.
    pub async fn token(&self, base: &str, client_id: &str) -> (u16, Value) {
        self.call(
            base,
            "POST",
            "/kiosk/v1/tokens",
            Some(
                json!({"clientId": client_id, "tokenType": "DOCUMENT", "dummyStatus": "APPROVED"}),
            ),
        )
        .await
    }

    pub async fn process(&self, base: &str, scan_ref: &str) -> (u16, Value) {
        self.call(
            base,
            "POST",
            &format!("/kiosk/v1/scans/{scan_ref}/process"),
            Some(process_body()),
        )
        .await
    }

    /// Poll until results arrive or `within` passes.
    pub async fn results(&self, base: &str, within: Duration) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let wait = left.as_secs().min(5);
            let (s, v) = self
                .call(base, "GET", &format!("/kiosk/v1/results?wait={wait}"), None)
                .await;
            if s == 200 {
                let r = v["results"].as_array().cloned().unwrap_or_default();
                if !r.is_empty() || left.is_zero() {
                    return r;
                }
            } else if left.is_zero() {
                return Vec::new();
            } else {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }

    /// `GET /kiosk/v1/scans/{scanRef}/status`.
    pub async fn status(&self, base: &str, scan_ref: &str) -> (u16, Value) {
        self.call(
            base,
            "GET",
            &format!("/kiosk/v1/scans/{scan_ref}/status"),
            None,
        )
        .await
    }

    pub async fn ack(&self, base: &str, ids: &[i64]) -> (u16, Value) {
        self.call(
            base,
            "POST",
            "/kiosk/v1/results/ack",
            Some(json!({"ids": ids})),
        )
        .await
    }
}

/// A `/process` body for a DOCUMENT token with dummyStatus (images unread).
pub fn process_body() -> Value {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    json!({
        "country": "LT",
        "documentType": "ID_CARD",
        "images": {"FRONT": b64.encode(b"front-bytes"), "BACK": b64.encode(b"back-bytes")},
        "skipAnalysis": true
    })
}

/// A signed webhook as iDenfy sends it, with personal fields that must not be kept.
pub fn webhook_body(scan_ref: &str, is_final: bool, overall: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "final": is_final,
        "platform": "API",
        "status": {"overall": overall, "autoDocument": "DOC_VALIDATED", "autoFace": "FACE_MATCH",
                   "fraudTags": [], "mismatchTags": [], "additionalSteps": {"secret": "x"}},
        "data": {"docFirstName": "JONAS", "docLastName": "SPECIMEN"},
        "fileUrls": {"FRONT": "https://files.example/front.jpg"},
        "scanRef": scan_ref,
        "clientId": "c-1",
        "clientIp": "192.0.2.7"
    }))
    .unwrap()
}

/// Post a webhook signed with `key` (None: unsigned).
pub async fn post_webhook(
    base: &str,
    key: Option<&kyc_kiosk::config::Secret>,
    event: &str,
    body: &[u8],
) -> u16 {
    let mut r = reqwest::Client::new()
        .post(format!("{base}/webhooks/idenfy"))
        .header("Content-Type", "application/json")
        .header("Idenfy-Event-Type", event)
        .body(body.to_vec());
    if let Some(k) = key {
        r = r.header(
            "Idenfy-Signature",
            kyc_kiosk::idenfy::webhook::sign(k, body),
        );
    }
    r.send().await.unwrap().status().as_u16()
}

/// Run SQL against `url` (tests age rows to exercise the purge).
pub async fn sql(url: &str, q: &str) -> u64 {
    let pool = kyc_kiosk_relay::db::connect(url, 1).await.unwrap();
    let n = sqlx::query(q).execute(&pool).await.unwrap().rows_affected();
    pool.close().await;
    n
}

/// One scalar.
pub async fn scalar_i64(url: &str, q: &str) -> i64 {
    let pool = kyc_kiosk_relay::db::connect(url, 1).await.unwrap();
    let n: i64 = sqlx::query_scalar(q).fetch_one(&pool).await.unwrap();
    pool.close().await;
    n
}
