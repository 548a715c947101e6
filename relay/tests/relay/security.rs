//! Credentials and webhooks that must change nothing.

use std::time::Duration;

use kyc_kiosk::config::Secret;
use serde_json::json;

use crate::support::{self, enrol, post_webhook, relay, shared, webhook_body};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_kiosk_is_refused_at_once_by_every_instance() {
    let db = shared().fresh_database();
    let a = relay(&db, None, |_| {}).await;
    let b = relay(&db, None, |_| {}).await;
    let k = enrol(&db, "kiosk", None).await;
    assert_eq!(k.call(&a.url(), "GET", "/kiosk/v1/me", None).await.0, 200);
    assert_eq!(k.call(&b.url(), "GET", "/kiosk/v1/me", None).await.0, 200);
    let (_, t) = k.token(&a.url(), "c-r").await;
    let scan_ref = t["scanRef"].as_str().unwrap().to_owned();
    let pool = kyc_kiosk_relay::db::connect(&db, 1).await.unwrap();
    // A long poll already waiting when the kiosk is revoked gets nothing
    // more: the result stored after the revocation is not handed to it.
    let a_url = a.url();
    let (polled, ()) = tokio::join!(
        k.call(&a_url, "GET", "/kiosk/v1/results?wait=3", None),
        async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert!(
                kyc_kiosk_relay::kiosks::revoke(&pool, k.id.parse().unwrap())
                    .await
                    .unwrap()
            );
            let body = webhook_body(&scan_ref, true, "APPROVED");
            let s = post_webhook(
                &a.url(),
                Some(a.signing_key()),
                "IDENTIFICATION_AUTO_FINISHED",
                &body,
            )
            .await;
            assert_eq!(s, 200);
        }
    );
    assert_eq!(polled.0, 200, "{}", polled.1);
    assert_eq!(polled.1["results"], json!([]), "{}", polled.1);
    for base in [a.url(), b.url()] {
        let (s, e) = k.call(&base, "GET", "/kiosk/v1/me", None).await;
        assert_eq!(s, 401, "{e}");
        assert_eq!(e["code"], "UNAUTHORIZED");
        assert_eq!(k.token(&base, "c").await.0, 401);
        assert_eq!(k.call(&base, "GET", "/kiosk/v1/results", None).await.0, 401);
    }
    // No credential, or a made-up one.
    let r = reqwest::Client::new()
        .get(format!("{}/kiosk/v1/me", a.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = reqwest::Client::new()
        .get(format!("{}/kiosk/v1/me", a.url()))
        .bearer_auth("kr_not-a-credential")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_replayed_and_foreign_webhooks_are_refused() {
    let db = shared().fresh_database();
    let r = relay(&db, None, |_| {}).await;
    let base = r.url();
    let key = r.signing_key().clone();
    let k = enrol(&db, "kiosk", None).await;
    // A token the kiosk never submits: only the webhooks below reach it.
    let (_, t) = k.token(&base, "c-1").await;
    let scan_ref = t["scanRef"].as_str().unwrap().to_owned();
    let body = webhook_body(&scan_ref, true, "APPROVED");

    // Forged: unsigned, signed with another key, or a body changed after signing.
    assert_eq!(post_webhook(&base, None, "AUTO_FINISHED", &body).await, 401);
    let other = Secret::new("another-signing-key-0123456789abcdef");
    assert_eq!(
        post_webhook(&base, Some(&other), "AUTO_FINISHED", &body).await,
        401
    );
    let good_sig = kyc_kiosk::idenfy::webhook::sign(&key, &body);
    let tampered = webhook_body(&scan_ref, true, "DENIED");
    let s = reqwest::Client::new()
        .post(format!("{base}/webhooks/idenfy"))
        .header("Idenfy-Signature", good_sig.clone())
        .header("Idenfy-Event-Type", "AUTO_FINISHED")
        .body(tampered)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(s, 401);
    // Foreign: signed, but a scanRef this relay never created.
    let foreign = webhook_body("not-ours-123", true, "APPROVED");
    assert_eq!(
        post_webhook(&base, Some(&key), "AUTO_FINISHED", &foreign).await,
        404
    );

    // The real one, under the event name iDenfy sends, then replays (also
    // with another event type, one it does not know, or none: the header is
    // not signed, so it decides nothing): 200, nothing new.
    assert_eq!(
        post_webhook(&base, Some(&key), "IDENTIFICATION_AUTO_FINISHED", &body).await,
        200
    );
    for event in ["AUTO_FINISHED", "MANUAL_FINISHED", "SOMETHING_ELSE"] {
        assert_eq!(post_webhook(&base, Some(&key), event, &body).await, 200);
    }
    let s = reqwest::Client::new()
        .post(format!("{base}/webhooks/idenfy"))
        .header("Idenfy-Signature", good_sig.clone())
        .body(body.clone())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(s, 200, "no event type header");
    let got = k.results(&base, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["event"], "AUTO_FINISHED", "{got:?}");
    let id = got[0]["id"].as_i64().unwrap();
    k.ack(&base, &[id]).await;
    // Even after the result itself is purged, the replay stays refused.
    support::sql(
        &db,
        "UPDATE result SET acked_at = now() - interval '1 hour'",
    )
    .await;
    let pool = kyc_kiosk_relay::db::connect(&db, 1).await.unwrap();
    kyc_kiosk_relay::purge::run(&pool, &kyc_kiosk_relay::purge::Policy::default())
        .await
        .unwrap();
    assert_eq!(
        post_webhook(&base, Some(&key), "AUTO_FINISHED", &body).await,
        200
    );
    assert!(k
        .results(&base, Duration::from_millis(300))
        .await
        .is_empty());

    let m = r.metrics().render();
    for line in [
        "kyc_relay_webhooks_received_total 1\n",
        "kyc_relay_webhooks_refused_total{reason=\"signature\"} 3\n",
        "kyc_relay_webhooks_refused_total{reason=\"foreign_scan_ref\"} 1\n",
        "kyc_relay_webhooks_refused_total{reason=\"duplicate\"} 5\n",
    ] {
        assert!(m.contains(line), "{line} in\n{m}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_status_part_is_stored() {
    let db = shared().fresh_database();
    let r = relay(&db, None, |_| {}).await;
    let base = r.url();
    let k = enrol(&db, "kiosk", None).await;
    let (_, t) = k.token(&base, "c-1").await;
    let scan_ref = t["scanRef"].as_str().unwrap().to_owned();
    let body = webhook_body(&scan_ref, false, "REVIEWING");
    assert_eq!(
        post_webhook(&base, Some(r.signing_key()), "AUTO_FINISHED", &body).await,
        200
    );
    let pool = kyc_kiosk_relay::db::connect(&db, 1).await.unwrap();
    // Every text column of every table, in one string.
    let dump: String = sqlx::query_scalar(
        "SELECT string_agg(t::text, ' ') FROM (SELECT row_to_json(r) AS t FROM result r \
         UNION ALL SELECT row_to_json(a) FROM audit a UNION ALL SELECT row_to_json(s) FROM scan s) x",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    for personal in ["JONAS", "SPECIMEN", "files.example", "192.0.2.7", "secret"] {
        assert!(!dump.contains(personal), "{personal} stored: {dump}");
    }
    assert!(
        dump.contains("REVIEWING") && dump.contains("DOC_VALIDATED"),
        "{dump}"
    );
}

/// Webhooks are stored in batches (whatever arrives while the writers are
/// busy): copies of one webhook sent at once, and many scans' webhooks
/// mixed with a foreign one, each get the answer they would get alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_arriving_together_are_each_answered_as_if_alone() {
    let db = shared().fresh_database();
    let r = relay(&db, None, |_| {}).await;
    let base = r.url();
    let key = r.signing_key().clone();
    let k = enrol(&db, "kiosk", None).await;
    let mut scans = Vec::new();
    for i in 0..12 {
        let (_, t) = k.token(&base, &format!("c-{i}")).await;
        scans.push(t["scanRef"].as_str().unwrap().to_owned());
    }
    // 12 scans' webhooks, each sent 4 times, plus 4 for a foreign scanRef,
    // all at once.
    let mut sends = tokio::task::JoinSet::new();
    for copy in 0..4 {
        for s in &scans {
            let (base, key, body) = (base.clone(), key.clone(), webhook_body(s, true, "APPROVED"));
            sends.spawn(async move {
                (
                    copy,
                    post_webhook(&base, Some(&key), "AUTO_FINISHED", &body).await,
                )
            });
        }
        let (base, key) = (base.clone(), key.clone());
        sends.spawn(async move {
            let body = webhook_body("not-ours-9", true, "APPROVED");
            (
                9,
                post_webhook(&base, Some(&key), "AUTO_FINISHED", &body).await,
            )
        });
    }
    let mut foreign = 0;
    while let Some(j) = sends.join_next().await {
        let (copy, status) = j.unwrap();
        if copy == 9 {
            assert_eq!(status, 404);
            foreign += 1;
        } else {
            assert_eq!(status, 200);
        }
    }
    assert_eq!(foreign, 4);
    // One result per scan, each announced to the kiosk.
    let mut got = Vec::new();
    while got.len() < scans.len() {
        let more = k.results(&base, Duration::from_secs(5)).await;
        assert!(
            !more.is_empty(),
            "only {} of {} results",
            got.len(),
            scans.len()
        );
        k.ack(
            &base,
            &more
                .iter()
                .map(|r| r["id"].as_i64().unwrap())
                .collect::<Vec<_>>(),
        )
        .await;
        got.extend(more);
    }
    let mut refs: Vec<&str> = got.iter().map(|r| r["scanRef"].as_str().unwrap()).collect();
    refs.sort_unstable();
    let mut want: Vec<&str> = scans.iter().map(String::as_str).collect();
    want.sort_unstable();
    assert_eq!(refs, want);
    let m = r.metrics().render();
    for line in [
        "kyc_relay_webhooks_received_total 12\n",
        "kyc_relay_webhooks_refused_total{reason=\"duplicate\"} 36\n",
        "kyc_relay_webhooks_refused_total{reason=\"foreign_scan_ref\"} 4\n",
    ] {
        assert!(m.contains(line), "{line} in\n{m}");
    }
    let pool = kyc_kiosk_relay::db::connect(&db, 1).await.unwrap();
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM result")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 12);
}
