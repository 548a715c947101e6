//! Health, metrics, the fleet page and the purge.

use std::time::Duration;

use base64::Engine as _;
use kyc_kiosk::config::Secret;

use crate::support::{self, enrol, post_webhook, relay, shared, webhook_body};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_metrics_answer() {
    let db = shared().fresh_database();
    let r = relay(&db, None, |_| {}).await;
    let http = reqwest::Client::new();
    let get = |p: &str| http.get(format!("{}{p}", r.url())).send();
    assert_eq!(get("/healthz").await.unwrap().status().as_u16(), 200);
    let ready = get("/readyz").await.unwrap();
    assert_eq!(ready.status().as_u16(), 200);
    let m = get("/metrics").await.unwrap();
    assert!(m.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = m.text().await.unwrap();
    for name in [
        "kyc_relay_webhooks_received_total",
        "kyc_relay_deliveries_total",
        "kyc_relay_delivery_latency_seconds_bucket",
        "kyc_relay_kiosks_connected",
        "kyc_relay_upstream_errors_total",
    ] {
        assert!(text.contains(name), "{name}");
    }
    // Not ready when the schema is behind this build.
    support::sql(&db, "DELETE FROM _sqlx_migrations").await;
    let r2 = get("/readyz").await.unwrap();
    assert_eq!(r2.status().as_u16(), 503);
    assert!(r2.text().await.unwrap().contains("migrations"));
    // The database unreachable: 503, and its own error, which names the
    // database (and the user), goes to the log, not to this public listener.
    let name = db.split('?').next().unwrap().rsplit('/').next().unwrap();
    assert!(name.starts_with('t'), "{db}");
    // From the cluster's maintenance database: a database cannot close
    // itself to connections.
    let admin = db.replacen(&format!("/{name}?"), "/postgres?", 1);
    assert_ne!(admin, db);
    support::sql(
        &admin,
        &format!(
            "DO $$ BEGIN \
             EXECUTE format('ALTER DATABASE %I ALLOW_CONNECTIONS false', '{name}'); \
             PERFORM pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'; \
             END $$"
        ),
    )
    .await;
    let r3 = get("/readyz").await.unwrap();
    assert_eq!(r3.status().as_u16(), 503);
    let text = r3.text().await.unwrap();
    assert!(text.contains("database unreachable"), "{text}");
    assert!(!text.contains(name), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fleet_page_needs_the_admin_key_and_shows_no_personal_data() {
    let db = shared().fresh_database();
    let off = relay(&db, None, |_| {}).await;
    let http = reqwest::Client::new();
    let page = |base: String| http.get(format!("{base}/fleet"));
    assert_eq!(page(off.url()).send().await.unwrap().status().as_u16(), 404);

    let r = relay(&db, None, |s| {
        s.admin_key = Some(Secret::new("admin-key-for-tests"));
    })
    .await;
    let k = enrol(&db, "Front desk <1>", Some("Vilnius")).await;
    let idle = enrol(&db, "Back room", Some("Kaunas")).await;
    let (_, t) = k.token(&r.url(), "customer-4711").await;
    let scan_ref = t["scanRef"].as_str().unwrap().to_owned();
    let body = webhook_body(&scan_ref, true, "APPROVED");
    post_webhook(&r.url(), Some(r.signing_key()), "AUTO_FINISHED", &body).await;

    let resp = page(r.url()).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    assert!(resp.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));
    let wrong = base64::engine::general_purpose::STANDARD.encode("it:nope");
    let resp = page(r.url())
        .header("Authorization", format!("Basic {wrong}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let right = base64::engine::general_purpose::STANDARD.encode("it:admin-key-for-tests");
    let resp = page(r.url())
        .header("Authorization", format!("Basic {right}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains("Front desk &lt;1&gt;"), "{html}");
    assert!(
        html.contains("Vilnius") && html.contains("test-1.0"),
        "{html}"
    );
    assert!(html.contains(&format!("data-kiosk=\"{}\"", idle.id)));
    assert!(html.contains("connected</td>"), "{html}");
    assert!(html.contains("not connected</td>"), "{html}");
    // No client ID, scanRef, names or status.
    for personal in ["customer-4711", scan_ref.as_str(), "JONAS", "APPROVED"] {
        assert!(!html.contains(personal), "{personal} on the page");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_deletes_acknowledged_after_grace_and_undelivered_after_a_day() {
    let db = shared().fresh_database();
    let r = relay(&db, None, |_| {}).await;
    let key = r.signing_key().clone();
    let k = enrol(&db, "kiosk", None).await;
    let mut scans = Vec::new();
    for c in ["c-1", "c-2", "c-3"] {
        let (_, t) = k.token(&r.url(), c).await;
        let s = t["scanRef"].as_str().unwrap().to_owned();
        let body = webhook_body(&s, true, "APPROVED");
        assert_eq!(
            post_webhook(&r.url(), Some(&key), "AUTO_FINISHED", &body).await,
            200
        );
        scans.push(s);
    }
    let got = k.results(&r.url(), Duration::from_secs(5)).await;
    assert_eq!(got.len(), 3);
    // Acknowledge the first; age it past the grace. Age the second past a
    // day, unacknowledged. The third stays.
    k.ack(&r.url(), &[got[0]["id"].as_i64().unwrap()]).await;
    support::sql(
        &db,
        &format!(
            "UPDATE result SET acked_at = now() - interval '2 minutes' WHERE scan_ref = '{}'",
            scans[0]
        ),
    )
    .await;
    support::sql(
        &db,
        &format!(
            "UPDATE result SET received_at = now() - interval '25 hours' WHERE scan_ref = '{}'",
            scans[1]
        ),
    )
    .await;
    // The command line's purge.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kyc-kiosk-relay"))
        .args(["--database-url", &db, "purge"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("1 acknowledged, 1 undelivered"), "{said}");
    let left = k.results(&r.url(), Duration::from_secs(1)).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["scanRef"], scans[2].as_str());
    let expired = support::scalar_i64(
        &db,
        "SELECT count(*) FROM audit WHERE event = 'result_expired_undelivered'",
    )
    .await;
    assert_eq!(expired, 1);

    // The timer does the same inside `serve`.
    let timed = relay(&db, None, |s| {
        s.purge_every = Duration::from_millis(200);
        s.purge.ack_grace = Duration::from_millis(1);
    })
    .await;
    k.ack(&timed.url(), &[left[0]["id"].as_i64().unwrap()])
        .await;
    let mut n = 1;
    for _ in 0..50 {
        n = support::scalar_i64(&db, "SELECT count(*) FROM result").await;
        if n == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(n, 0);
}
