//! The webhook receiver: signed results from the sandbox, forged, unsigned,
//! replayed, late, foreign and malformed ones.

use std::time::Duration;

use kyc_kiosk::config::Secret;
use kyc_kiosk::idenfy::webhook::{self, ResultStore, EVENT_TYPE_HEADER, SIGNATURE_HEADER};
use kyc_kiosk::idenfy::*;
use kyc_kiosk::sandbox::SandboxConfig;

use crate::support;

const FIXTURE: &str = include_str!("../data/idenfy/webhook-manual-final.json");
const FIXTURE_SCAN: &str = "328c6766-934e-11ed-bb9b-025ad99a18e7";

/// A receiver expecting results for the fixture's scanRef and `s-9`.
async fn receiver(key: Option<Secret>) -> (webhook::Server, ResultStore) {
    let store = ResultStore::new();
    store.register(&ScanRef::from(FIXTURE_SCAN));
    store.register(&ScanRef::from("s-9"));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    (webhook::serve(l, key, store.clone()).unwrap(), store)
}

async fn post(url: &str, body: &str, sig: Option<&str>, event: &str) -> u16 {
    let mut r = reqwest::Client::new()
        .post(url)
        .header(EVENT_TYPE_HEADER, event)
        .body(body.to_owned());
    if let Some(s) = sig {
        r = r.header(SIGNATURE_HEADER, s);
    }
    r.send().await.unwrap().status().as_u16()
}

/// A DOCUMENT token (registered in `store` as this kiosk's, when given),
/// and a good FRONT submitted with it.
async fn submit_document_front(c: &Client, store: Option<&ResultStore>) -> TokenResponse {
    let t = c
        .create_token(&TokenRequest {
            token_type: Some(TokenType::Document),
            ..TokenRequest::new("c")
        })
        .await
        .unwrap();
    if let Some(store) = store {
        store.register(&t.scan_ref);
    }
    c.process(&ProcessRequest {
        scan_ref: t.scan_ref.clone(),
        token: t.auth_token.clone(),
        token_type: TokenType::Document,
        country: "LT".into(),
        document_type: None,
        images: vec![(ImageSide::Front, support::front())],
        skip_analysis: false,
    })
    .await
    .unwrap();
    t
}

#[tokio::test]
async fn sandbox_result_arrives_signed_and_final() {
    let store = ResultStore::new();
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}{}", l.local_addr().unwrap(), webhook::PATH);
    let (sb, c) = support::sandbox(SandboxConfig {
        webhook_url: Some(url),
        ..SandboxConfig::default()
    })
    .await;
    let _srv = webhook::serve(l, Some(sb.signing_key().clone()), store.clone()).unwrap();
    let t = c
        .create_token(&TokenRequest {
            last_name: Some("Petraitis".into()),
            ..TokenRequest::new("cli-7")
        })
        .await
        .unwrap();
    store.register(&t.scan_ref);
    let images = support::id_card_images();
    c.process(&ProcessRequest {
        scan_ref: t.scan_ref.clone(),
        token: t.auth_token.clone(),
        token_type: TokenType::Identification,
        country: "LT".into(),
        document_type: Some(DocumentType::IdCard),
        images,
        skip_analysis: false,
    })
    .await
    .unwrap();
    let r = store
        .wait_final(&t.scan_ref, Duration::from_secs(10))
        .await
        .expect("a final result");
    assert_eq!(r.status.overall, OverallStatus::Suspected);
    assert_eq!(r.status.mismatch_tags, vec![MismatchTag::Surname]);
    assert_eq!(r.client_id.as_ref().map(ClientId::as_str), Some("cli-7"));
    // The document data came in the body (the sandbox sends SPECIMEN as the
    // surname) but is not kept: only the status part is.
    assert!(!format!("{r:?}").contains("SPECIMEN"), "{r:?}");
    assert_eq!(store.results(&t.scan_ref).len(), 1);
    store.forget(&t.scan_ref);
    assert!(store.results(&t.scan_ref).is_empty());
}

#[tokio::test]
async fn manual_review_sends_automatic_then_manual_result() {
    let store = ResultStore::new();
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}{}", l.local_addr().unwrap(), webhook::PATH);
    let (sb, c) = support::sandbox(SandboxConfig {
        webhook_url: Some(url),
        manual_review: true,
        ..SandboxConfig::default()
    })
    .await;
    let _srv = webhook::serve(l, Some(sb.signing_key().clone()), store.clone()).unwrap();
    let t = submit_document_front(&c, Some(&store)).await;
    let last = store
        .wait_final(&t.scan_ref, Duration::from_secs(10))
        .await
        .unwrap();
    let all = store.results(&t.scan_ref);
    assert_eq!(all.len(), 2, "automatic then manual");
    assert!(!all[0].is_final);
    assert_eq!(all[0].status.overall, OverallStatus::Reviewing);
    assert_eq!(
        all[0].status.auto_document,
        Some(DocumentStatus::DocValidated)
    );
    assert_eq!(all[0].status.manual_document, None);
    assert!(last.is_final);
    assert_eq!(last.status.overall, OverallStatus::Approved);
    assert_eq!(last.status.manual_face, Some(FaceStatus::FaceNotChecked));
    assert_eq!(
        c.status(&t.scan_ref).await.unwrap().status,
        OverallStatus::Approved
    );
}

#[tokio::test]
async fn forged_unsigned_and_keyless_webhooks_are_refused() {
    let key = Secret::new("receiver-signing-key");
    let (srv, store) = receiver(Some(key.clone())).await;
    let url = srv.url();
    assert_eq!(post(&url, FIXTURE, None, "MANUAL_FINISHED").await, 401);
    let forged = webhook::sign(&Secret::new("someone-elses-key"), FIXTURE.as_bytes());
    assert_eq!(
        post(&url, FIXTURE, Some(&forged), "MANUAL_FINISHED").await,
        401
    );
    // A valid signature of a different body.
    let other = webhook::sign(&key, b"{}");
    assert_eq!(
        post(&url, FIXTURE, Some(&other), "MANUAL_FINISHED").await,
        401
    );
    assert!(store.results(&ScanRef::from(FIXTURE_SCAN)).is_empty());

    let (keyless, _) = receiver(None).await;
    let sig = webhook::sign(&key, FIXTURE.as_bytes());
    assert_eq!(
        post(&keyless.url(), FIXTURE, Some(&sig), "MANUAL_FINISHED").await,
        401
    );
}

#[tokio::test]
async fn replayed_webhook_is_answered_but_recorded_once() {
    let key = Secret::new("receiver-signing-key");
    let (srv, store) = receiver(Some(key.clone())).await;
    let sig = webhook::sign(&key, FIXTURE.as_bytes());
    let mut rx = store.subscribe();
    for _ in 0..3 {
        assert_eq!(
            post(&srv.url(), FIXTURE, Some(&sig), "MANUAL_FINISHED").await,
            200
        );
    }
    let s = ScanRef::from(FIXTURE_SCAN);
    assert_eq!(store.results(&s).len(), 1);
    assert_eq!(rx.recv().await.unwrap().scan_ref, s);
    assert!(rx.try_recv().is_err(), "duplicates are not handed on");
    // The event type header is not signed: changing it does not make the
    // same body a new result.
    for event in ["AUTO_FINISHED", "OTHER_EVENT", ""] {
        assert_eq!(post(&srv.url(), FIXTURE, Some(&sig), event).await, 200);
    }
    assert_eq!(store.results(&s).len(), 1);
    assert!(rx.try_recv().is_err(), "duplicates are not handed on");
}

#[tokio::test]
async fn late_results_are_acknowledged_and_foreign_ones_refused_and_neither_kept() {
    let key = Secret::new("receiver-signing-key");
    let (srv, store) = receiver(Some(key.clone())).await;
    let mut rx = store.subscribe();
    let s = ScanRef::from(FIXTURE_SCAN);
    // The session of the fixture's scanRef ended before its result came.
    store.forget(&s);
    let sig = webhook::sign(&key, FIXTURE.as_bytes());
    assert_eq!(
        post(&srv.url(), FIXTURE, Some(&sig), "MANUAL_FINISHED").await,
        200,
        "a late result is acknowledged, so the sender stops retrying"
    );
    assert!(store.results(&s).is_empty());
    // A signed result for a scanRef this receiver never created.
    let foreign = FIXTURE.replace(FIXTURE_SCAN, "someone-elses-scan");
    let sig = webhook::sign(&key, foreign.as_bytes());
    assert_eq!(
        post(&srv.url(), &foreign, Some(&sig), "MANUAL_FINISHED").await,
        422,
        "a foreign result is refused"
    );
    assert!(store
        .results(&ScanRef::from("someone-elses-scan"))
        .is_empty());
    assert!(rx.try_recv().is_err(), "nothing was handed on");
}

#[tokio::test]
async fn malformed_and_oversized_bodies_are_refused_and_unknown_values_accepted() {
    let key = Secret::new("receiver-signing-key");
    let (srv, store) = receiver(Some(key.clone())).await;
    let bad = r#"{"final": "yes"}"#;
    assert_eq!(
        post(
            &srv.url(),
            bad,
            Some(&webhook::sign(&key, bad.as_bytes())),
            "E"
        )
        .await,
        400
    );
    let big = format!(
        r#"{{"pad":"{}"}}"#,
        "x".repeat(webhook::MAX_BODY_BYTES + 10)
    );
    assert_eq!(
        post(
            &srv.url(),
            &big,
            Some(&webhook::sign(&key, big.as_bytes())),
            "E"
        )
        .await,
        413
    );
    let novel = r#"{"final":true,"status":{"overall":"BRAND_NEW","fraudTags":["NEW_TAG"],"mismatchTags":null,"autoFace":"FACE_NEWLY_INVENTED"},"scanRef":"s-9","newTopLevel":{"x":1}}"#;
    assert_eq!(
        post(
            &srv.url(),
            novel,
            Some(&webhook::sign(&key, novel.as_bytes())),
            "E"
        )
        .await,
        200
    );
    let r = store.latest(&ScanRef::from("s-9")).unwrap();
    assert_eq!(r.status.overall, OverallStatus::Unknown("BRAND_NEW".into()));
    assert_eq!(
        r.status.auto_face,
        Some(FaceStatus::Unknown("FACE_NEWLY_INVENTED".into()))
    );
}

#[tokio::test]
async fn sandbox_retries_until_the_receiver_accepts() {
    // The receiver is not there at first: the sandbox must retry.
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = probe.local_addr().unwrap();
    drop(probe);
    let url = format!("http://{addr}{}", webhook::PATH);
    let (sb, c) = support::sandbox(SandboxConfig {
        webhook_url: Some(url),
        webhook_attempts: 8,
        ..SandboxConfig::default()
    })
    .await;
    let t = submit_document_front(&c, None).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let store = ResultStore::new();
    store.register(&t.scan_ref);
    let l = tokio::net::TcpListener::bind(addr).await.unwrap();
    let _srv = webhook::serve(l, Some(sb.signing_key().clone()), store.clone()).unwrap();
    let r = store.wait_final(&t.scan_ref, Duration::from_secs(15)).await;
    assert_eq!(r.map(|r| r.status.overall), Some(OverallStatus::Approved));
}
