//! Several instances, restarts and a database that goes away: the table is
//! the truth, so no undelivered result is lost.

use std::time::{Duration, Instant};

use kyc_kiosk::sandbox::{Sandbox, SandboxConfig};
use kyc_kiosk_relay::config::UpstreamConfig;

use crate::support::{self, enrol, post_webhook, relay, shared, webhook_body, Cluster};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_arriving_at_one_instance_reaches_a_kiosk_polling_another() {
    let db = shared().fresh_database();
    // One upstream for both instances, as in production: a standalone sandbox
    // reached as the live backend.
    let a_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a_addr = a_listener.local_addr().unwrap();
    drop(a_listener);
    let sandbox = Sandbox::start(SandboxConfig {
        webhook_url: Some(format!("http://{a_addr}/webhooks/idenfy")),
        signing_key: Some(kyc_kiosk::config::Secret::new(
            "shared-signing-key-0123456789abcdef",
        )),
        auto_delay: Duration::from_millis(50),
        webhook_backoff: Duration::from_millis(100),
        webhook_attempts: 8,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let upstream = UpstreamConfig::live(
        &sandbox.base_url(),
        sandbox.api_key().clone(),
        sandbox.api_secret().clone(),
        sandbox.signing_key().clone(),
    );
    let a = {
        let listener = tokio::net::TcpListener::bind(a_addr).await.unwrap();
        let pool = kyc_kiosk_relay::db::connect(&db, 10).await.unwrap();
        let settings = kyc_kiosk_relay::Settings::new(
            kyc_kiosk_relay::PublicUrl::parse(&format!("http://{a_addr}")).unwrap(),
        );
        kyc_kiosk_relay::server::start(pool, listener, &upstream, settings)
            .await
            .unwrap()
    };
    let b = relay(&db, Some(upstream.clone()), |_| {}).await;
    let k = enrol(&db, "kiosk", None).await;

    // Token on B, images on B; the sandbox posts the webhook to A; the kiosk
    // is already long-polling B when it arrives.
    let (s, t) = k.token(&b.url(), "c-1").await;
    assert_eq!(s, 200, "{t}");
    let scan_ref = t["scanRef"].as_str().unwrap().to_owned();
    let poll = {
        let base = b.url();
        let k2 = support::Kiosk::clone_of(&k);
        tokio::spawn(async move {
            let started = Instant::now();
            let (s, v) = k2
                .call(&base, "GET", "/kiosk/v1/results?wait=20", None)
                .await;
            (s, v, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (s, p) = k.process(&b.url(), &scan_ref).await;
    assert_eq!(s, 200, "{p}");
    let (s, v, waited) = poll.await.unwrap();
    assert_eq!(s, 200);
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{v}");
    assert_eq!(results[0]["scanRef"], scan_ref.as_str());
    assert!(
        waited < Duration::from_secs(10),
        "woken by NOTIFY, not by the deadline: {waited:?}"
    );
    // A stored it, B delivered it. A's handler counts the webhook once its
    // writer reports the commit, and the commit's NOTIFY may let B deliver
    // first: wait for the count a moment.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !a
        .metrics()
        .render()
        .contains("kyc_relay_webhooks_received_total 1\n")
    {
        assert!(
            Instant::now() < deadline,
            "A never counted the webhook once:\n{}",
            a.metrics().render()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(b.metrics().deliveries(), 1);
    assert_eq!(a.metrics().deliveries(), 0);
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_restart_keeps_undelivered_results() {
    let db = shared().fresh_database();
    let r = relay(&db, None, |_| {}).await;
    let key = r.signing_key().clone();
    let k = enrol(&db, "kiosk", None).await;
    let (_, t) = k.token(&r.url(), "c-1").await;
    let scan_ref = t["scanRef"].as_str().unwrap().to_owned();
    let body = webhook_body(&scan_ref, true, "APPROVED");
    assert_eq!(
        post_webhook(&r.url(), Some(&key), "AUTO_FINISHED", &body).await,
        200
    );
    r.shutdown().await;
    // A new instance (new port, new process state) over the same database.
    let r2 = relay(&db, None, |_| {}).await;
    let got = k.results(&r2.url(), Duration::from_secs(5)).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["scanRef"], scan_ref.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_restart_loses_no_result_and_wakes_waiting_kiosks() {
    // Its own cluster: the restart would cut the other tests' connections.
    let cluster = Cluster::start();
    let db = cluster.fresh_database();
    let r = relay(&db, None, |_| {}).await;
    let key = r.signing_key().clone();
    let k = enrol(&db, "kiosk", None).await;
    let (_, t1) = k.token(&r.url(), "c-1").await;
    let (_, t2) = k.token(&r.url(), "c-2").await;
    let s1 = t1["scanRef"].as_str().unwrap().to_owned();
    let s2 = t2["scanRef"].as_str().unwrap().to_owned();
    // One result stored before the restart, undelivered.
    let b1 = webhook_body(&s1, true, "APPROVED");
    assert_eq!(
        post_webhook(&r.url(), Some(&key), "AUTO_FINISHED", &b1).await,
        200
    );

    cluster.restart();

    // The pool and the listener come back by themselves.
    let got = k.results(&r.url(), Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["scanRef"], s1.as_str());
    k.ack(&r.url(), &[got[0]["id"].as_i64().unwrap()]).await;

    // A kiosk waiting while the database restarts again still gets a result
    // stored afterwards (woken by the re-connected listener's NOTIFY).
    let poll = {
        let base = r.url();
        let k2 = support::Kiosk::clone_of(&k);
        tokio::spawn(async move { k2.results(&base, Duration::from_secs(20)).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    cluster.restart();
    let b2 = webhook_body(&s2, true, "DENIED");
    // The first attempt may meet the pool reconnecting: the sender retries.
    let mut status = 0;
    for _ in 0..20 {
        status = post_webhook(&r.url(), Some(&key), "AUTO_FINISHED", &b2).await;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(status, 200);
    let got = poll.await.unwrap();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["scanRef"], s2.as_str());
    assert_eq!(got[0]["status"]["overall"], "DENIED");
    r.shutdown().await;
    cluster.stop();
}
