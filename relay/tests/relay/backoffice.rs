//! The kiosk-side client (`kyc_kiosk::backoffice`) against a real relay.

use std::time::Duration;

use kyc_kiosk::backoffice::{self, Client, Error, Submission};
use kyc_kiosk::config::Secret;
use kyc_kiosk::idenfy::{
    DocumentType, DummyStatus, ImageSide, OverallStatus, TokenRequest, TokenType,
};
use kyc_kiosk::ErrorCode;

use crate::support::{enrol, relay, shared};

fn approved(client_id: &str) -> TokenRequest {
    TokenRequest {
        token_type: Some(TokenType::Document),
        dummy_status: Some(DummyStatus::Approved),
        ..TokenRequest::new(client_id)
    }
}

fn submission() -> Submission {
    Submission {
        country: "LT".into(),
        document_type: Some(DocumentType::IdCard),
        images: vec![
            (ImageSide::Front, b"front".to_vec()),
            (ImageSide::Back, b"back".to_vec()),
        ],
        skip_analysis: true,
        staff_accepted: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kiosk_client_reaches_a_final_result_through_the_relay() {
    let db = shared().fresh_database();
    let r = relay(&db, None, |_| {}).await;
    let k = enrol(&db, "Desk 7", Some("Tallinn")).await;
    let other = enrol(&db, "Desk 8", Some("Tallinn")).await;
    let c = Client::new(&r.url(), Secret::new(k.credential.clone())).unwrap();
    let c_other = Client::new(&r.url(), Secret::new(other.credential.clone())).unwrap();

    let me = c.me().await.unwrap();
    assert_eq!(
        (me.name.as_str(), me.branch.as_deref()),
        ("Desk 7", Some("Tallinn"))
    );

    let t = c.create_token(&approved("c-77")).await.unwrap();
    assert_eq!(t.client_id.as_str(), "c-77");
    assert!(t.auth_token.is_none());

    // Another kiosk cannot submit it.
    let e = c_other
        .process(&t.scan_ref, &submission())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Refused { status: 404, .. }), "{e:?}");

    let p = c.process(&t.scan_ref, &submission()).await.unwrap();
    assert_eq!(p.outcome, "ACCEPTED");
    let e = c.process(&t.scan_ref, &submission()).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidState, "{e:?}");

    let mut got = Vec::new();
    for _ in 0..5 {
        got = c.results(Duration::from_secs(5)).await.unwrap();
        if !got.is_empty() {
            break;
        }
    }
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].scan_ref, t.scan_ref);
    assert!(got[0].is_final);
    assert_eq!(got[0].status.overall, OverallStatus::Approved);
    assert!(c_other.results(Duration::ZERO).await.unwrap().is_empty());
    assert_eq!(c.ack(&[got[0].id]).await.unwrap(), 1);
    assert!(c.results(Duration::ZERO).await.unwrap().is_empty());
    let s = c.status(&t.scan_ref).await.unwrap();
    assert_eq!(s.status, OverallStatus::Approved);

    let h = c.create_handoff(&TokenRequest::new("c-78")).await.unwrap();
    assert!(h.digit_string.is_some() && h.auth_token.is_some());

    // Revoked: a clear, typed error.
    let pool = kyc_kiosk_relay::db::connect(&db, 1).await.unwrap();
    kyc_kiosk_relay::kiosks::revoke(&pool, k.id.parse().unwrap())
        .await
        .unwrap();
    let e = c.me().await.unwrap_err();
    assert!(matches!(e, Error::Unauthorized), "{e:?}");
    assert_eq!(e.code(), ErrorCode::Unauthorized);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_that_is_down_is_a_network_error_and_urls_need_https_off_loopback() {
    // A port nobody listens on.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    let c = Client::new(&format!("http://{addr}"), Secret::new("kr_x")).unwrap();
    let e = c.me().await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Network, "{e:?}");
    // Nothing was sent: a plain transport error, not an unknown outcome.
    let e = c
        .process(&"scan-1".into(), &submission())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");

    for bad in [
        "http://relay.bank.example",
        "https://user:pw@relay.bank.example",
        "http://127.0.0.1@relay.bank.example",
        "ftp://127.0.0.1",
        "https://relay.bank.example/?x=1",
    ] {
        assert!(
            matches!(backoffice::parse_url(bad), Err(Error::Invalid { .. })),
            "{bad}"
        );
    }
    for good in [
        "https://relay.bank.example",
        "http://127.0.0.1:8080",
        "http://[::1]:1",
        "http://localhost:9",
    ] {
        assert!(backoffice::parse_url(good).is_ok(), "{good}");
    }
    assert!(Client::new("https://relay.bank.example", Secret::new(" ")).is_err());
}

// A photo staff accepted after the kiosk's framing check refused it is in
// the relay's audit with the image and the rule; a malformed note is
// refused before anything is claimed or sent, and the token stays usable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photos_accepted_by_staff_are_audited_and_a_bad_note_spends_nothing() {
    use backoffice::StaffAccepted;
    let db = shared().fresh_database();
    let r = relay(&db, None, |_| {}).await;
    let k = enrol(&db, "Desk 9", None).await;
    let c = Client::new(&r.url(), Secret::new(k.credential.clone())).unwrap();
    let t = c.create_token(&approved("c-90")).await.unwrap();
    let note = |side, rule: &str| StaffAccepted {
        side,
        rule: rule.into(),
    };

    for (bad, why) in [
        (
            vec![note(ImageSide::Face, "no_face")],
            "FACE is not among the images",
        ),
        (
            vec![
                note(ImageSide::Back, "document_cut"),
                note(ImageSide::Back, "no_document"),
            ],
            "BACK is named twice",
        ),
        (
            vec![note(ImageSide::Front, "Document Too Far")],
            "lower-case",
        ),
        (vec![note(ImageSide::Front, "")], "lower-case"),
    ] {
        let mut sub = submission();
        sub.staff_accepted = bad;
        let e = c.process(&t.scan_ref, &sub).await.unwrap_err();
        assert!(matches!(e, Error::Refused { status: 400, .. }), "{e:?}");
        assert_eq!(e.code(), ErrorCode::InvalidInput, "{e:?}");
        assert!(e.to_string().contains(why), "{e}");
    }
    let rows = |event: &str| {
        format!(
            "SELECT count(*) FROM audit WHERE scan_ref = '{}' AND event = '{event}'",
            t.scan_ref.as_str()
        )
    };
    assert_eq!(
        crate::support::scalar_i64(&db, &rows("photo_accepted_by_staff")).await,
        0
    );
    assert_eq!(
        crate::support::scalar_i64(&db, &rows("process_accepted")).await,
        0
    );

    let mut sub = submission();
    sub.staff_accepted = vec![note(ImageSide::Back, "document_cut")];
    assert_eq!(
        c.process(&t.scan_ref, &sub).await.unwrap().outcome,
        "ACCEPTED"
    );
    assert_eq!(
        crate::support::scalar_i64(&db, &rows("process_accepted")).await,
        1
    );
    let detail = crate::support::scalar_i64(
        &db,
        &format!(
            "SELECT count(*) FROM audit WHERE scan_ref = '{}' AND event = 'photo_accepted_by_staff' \
             AND detail = 'BACK document_cut' AND kiosk_id = '{}'",
            t.scan_ref.as_str(),
            k.id
        ),
    )
    .await;
    assert_eq!(detail, 1);

    // Without a note, no such row.
    let t2 = c.create_token(&approved("c-91")).await.unwrap();
    c.process(&t2.scan_ref, &submission()).await.unwrap();
    let none = crate::support::scalar_i64(
        &db,
        &format!(
            "SELECT count(*) FROM audit WHERE scan_ref = '{}' AND event = 'photo_accepted_by_staff'",
            t2.scan_ref.as_str()
        ),
    )
    .await;
    assert_eq!(none, 0);
    r.shutdown().await;
}
