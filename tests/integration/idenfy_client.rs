//! The client against the sandbox over real HTTP, and against tiny fake
//! servers for the failures the sandbox does not produce.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kyc_kiosk::config::Secret;
use kyc_kiosk::idenfy::*;
use kyc_kiosk::quality::synth;
use kyc_kiosk::sandbox::SandboxConfig;
use kyc_kiosk::ErrorCode;

use crate::support::{self, json_answer, raw_server};

fn process_req(t: &TokenResponse, images: Vec<(ImageSide, Vec<u8>)>) -> ProcessRequest {
    ProcessRequest {
        scan_ref: t.scan_ref.clone(),
        token: t.auth_token.clone(),
        token_type: TokenType::Identification,
        country: "lt".into(),
        document_type: Some(DocumentType::IdCard),
        images,
        skip_analysis: false,
    }
}

/// Good ID card images (FRONT, BACK, FACE) for `t`.
fn id_card_req(t: &TokenResponse) -> ProcessRequest {
    process_req(t, support::id_card_images())
}

async fn wait_status(c: &Client, s: &ScanRef, want: OverallStatus) -> StatusResponse {
    for _ in 0..100 {
        let st = c.status(s).await.unwrap();
        if st.status == want {
            return st;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("status never became {want}");
}

#[tokio::test]
async fn full_cycle_token_process_status_data_files_delete() {
    let (_sb, c) = support::sandbox(SandboxConfig::default()).await;
    let t = c
        .create_token(&TokenRequest {
            expiry_time: Some(1),
            ..TokenRequest::new("client-1")
        })
        .await
        .unwrap();
    assert_eq!(t.client_id.as_str(), "client-1");
    assert_eq!(
        c.status(&t.scan_ref).await.unwrap().status,
        OverallStatus::Active
    );
    let out = c.process(&id_card_req(&t)).await.unwrap();
    assert_eq!(out, ProcessOutcome::Accepted);
    let st = wait_status(&c, &t.scan_ref, OverallStatus::Approved).await;
    assert_eq!(st.auto_document, Some(DocumentStatus::DocValidated));
    assert_eq!(st.auto_face, Some(FaceStatus::FaceMatch));
    let data = c.data(&t.scan_ref).await.unwrap();
    assert_eq!(data.data.doc_first_name.as_deref(), Some("JONAS"));
    assert_eq!(data.data.doc_number.as_deref(), Some("SPEC0001234"));
    assert!(c.files(&t.scan_ref).await.unwrap().file_urls.is_empty());

    // Deletion works only after the token expired (1 s here).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    c.delete(&t.scan_ref).await.unwrap();
    assert_eq!(
        c.status(&t.scan_ref).await.unwrap().status,
        OverallStatus::Deleted
    );
    assert_eq!(c.data(&t.scan_ref).await.unwrap().data.doc_first_name, None);
}

#[tokio::test]
async fn delete_before_expiry_is_refused_with_the_api_message() {
    let (_sb, c) = support::sandbox(SandboxConfig::default()).await;
    let t = c.create_token(&TokenRequest::new("c")).await.unwrap();
    match c.delete(&t.scan_ref).await.unwrap_err() {
        Error::Api {
            status,
            identifier,
            message,
        } => {
            assert_eq!(status, 400);
            assert_eq!(identifier.as_deref(), Some("TOKEN_NOT_EXPIRED"));
            assert!(message.contains("expired"), "{message}");
        }
        e => panic!("{e:?}"),
    }
}

#[tokio::test]
async fn a_token_is_spent_by_one_process_call() {
    let (_sb, c) = support::sandbox(SandboxConfig::default()).await;
    let t = c.create_token(&TokenRequest::new("c")).await.unwrap();
    c.process(&id_card_req(&t)).await.unwrap();
    let e = c.process(&id_card_req(&t)).await.unwrap_err();
    assert!(
        matches!(e, Error::Api { status: 400, ref identifier, .. } if identifier.as_deref() == Some("TOKEN_ALREADY_USED")),
        "{e:?}"
    );
    assert_eq!(e.code(), ErrorCode::ApiRejected);
}

#[tokio::test]
async fn expired_token_is_refused() {
    let (_sb, c) = support::sandbox(SandboxConfig::default()).await;
    let t = c
        .create_token(&TokenRequest {
            expiry_time: Some(1),
            ..TokenRequest::new("c")
        })
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        c.status(&t.scan_ref).await.unwrap().status,
        OverallStatus::Expired
    );
    let e = c.process(&id_card_req(&t)).await.unwrap_err();
    assert!(
        matches!(e, Error::Api { ref identifier, .. } if identifier.as_deref() == Some("TOKEN_EXPIRED")),
        "{e:?}"
    );
}

#[tokio::test]
async fn wrong_credentials_are_unauthorized_and_never_echo_the_secret() {
    let (sb, _) = support::sandbox(SandboxConfig::default()).await;
    let c = Client::builder()
        .base_url(sb.base_url())
        .credentials(sb.api_key().clone(), Secret::new("wrong-secret-value"))
        .build()
        .unwrap();
    let e = c.create_token(&TokenRequest::new("c")).await.unwrap_err();
    assert!(matches!(e, Error::Unauthorized { status: 401 }), "{e:?}");
    assert_eq!(e.code(), ErrorCode::Unauthorized);
    assert!(!format!("{e} {e:?}").contains("wrong-secret-value"));
}

#[tokio::test]
async fn out_of_credits_is_402() {
    let (_sb, c) = support::sandbox(SandboxConfig {
        credits: Some(1),
        ..SandboxConfig::default()
    })
    .await;
    c.create_token(&TokenRequest::new("c")).await.unwrap();
    let e = c.create_token(&TokenRequest::new("c")).await.unwrap_err();
    assert!(matches!(e, Error::OutOfCredits { .. }), "{e:?}");
    assert_eq!(e.code(), ErrorCode::OutOfCredits);
}

#[tokio::test]
async fn invalid_requests_are_refused_before_sending() {
    // With no credits, anything that reached the sandbox would answer 402.
    let (_sb, c) = support::sandbox(SandboxConfig {
        credits: Some(0),
        ..SandboxConfig::default()
    })
    .await;
    let e = c
        .create_token(&TokenRequest {
            first_name: Some("J0nas".into()),
            ..TokenRequest::new("c")
        })
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Invalid { ref field, .. } if field == "firstName"),
        "{e:?}"
    );
    let t = TokenResponse {
        message: None,
        auth_token: AuthToken::from("t"),
        scan_ref: ScanRef::from("s"),
        client_id: ClientId::from("c"),
        first_name: None,
        last_name: None,
        locale: None,
        country: None,
        expiry_time: None,
        session_length: None,
        documents: None,
        token_type: None,
        digit_string: None,
        callback_url: None,
        external_ref: None,
        utility_bill: None,
        additional_steps: None,
    };
    let no_back = vec![
        (ImageSide::Front, support::front()),
        (ImageSide::Face, support::face()),
    ];
    let e = c.process(&process_req(&t, no_back)).await.unwrap_err();
    assert!(
        matches!(e, Error::Invalid { ref field, .. } if field == "images.BACK"),
        "{e:?}"
    );
    let mut empty = support::id_card_images();
    empty[2].1.clear();
    let e = c.process(&process_req(&t, empty)).await.unwrap_err();
    assert!(
        matches!(e, Error::Invalid { ref field, .. } if field == "images.FACE"),
        "{e:?}"
    );
}

#[tokio::test]
async fn sandbox_validates_raw_requests_like_the_api() {
    let (sb, c) = support::sandbox(SandboxConfig::default()).await;
    let t = c.create_token(&TokenRequest::new("c")).await.unwrap();
    let http = reqwest::Client::new();
    let post = |body: serde_json::Value| {
        http.post(format!("{}/api/v2/process", sb.base_url()))
            .basic_auth(sb.api_key().expose(), Some(sb.api_secret().expose()))
            .json(&body)
            .send()
    };
    let b64 = |b: &[u8]| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b);
    let r = post(
        serde_json::json!({"token": t.auth_token, "country": "LT", "documentType": "ID_CARD",
        "images": {"FRONT": b64(&support::front()), "FACE": b64(&support::face())}}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    let body: ApiErrorBody = r.json().await.unwrap();
    assert_eq!(body.identifier.as_deref(), Some("MISSING_VALUE"));
    assert_eq!(body.message, "No image provided for step 'BACK'");
    let r = post(serde_json::json!({"token": t.auth_token, "country": "LT",
        "images": {"FRONT": format!("data:image/jpeg;base64,{}", b64(&support::front())), "FACE": b64(&support::face())}})).await.unwrap();
    assert_eq!(r.status(), 400);
    let body: ApiErrorBody = r.json().await.unwrap();
    assert_eq!(body.identifier.as_deref(), Some("INVALID_IMAGE"));
    let r = post(serde_json::json!({"token": 12})).await.unwrap();
    assert_eq!(r.status(), 400);
    // Validation failures did not spend the token.
    c.process(&id_card_req(&t)).await.unwrap();
}

#[tokio::test]
async fn a_sharp_photo_without_a_document_is_not_detected_and_the_token_survives() {
    let (_sb, c) = support::sandbox(SandboxConfig::default()).await;
    let t = c.create_token(&TokenRequest::new("c")).await.unwrap();
    for side in [0, 1] {
        let mut imgs = support::id_card_images();
        imgs[side].1 = support::pattern();
        let e = c.process(&process_req(&t, imgs)).await.unwrap_err();
        assert!(
            matches!(e, Error::NotProcessed { ref identifier, ref message, .. }
                if identifier.as_deref() == Some("DOC_NOT_DETECTED")
                    && message.contains(if side == 0 { "FRONT" } else { "BACK" })),
            "{e:?}"
        );
    }
    let mut imgs = support::id_card_images();
    imgs[0].1 = support::pattern();
    let mut again = process_req(&t, imgs);
    again.skip_analysis = true;
    assert_eq!(c.process(&again).await.unwrap(), ProcessOutcome::Accepted);
}

/// A token asking for a utility bill, either way the API allows.
fn bill_tokens() -> [TokenRequest; 2] {
    [
        TokenRequest {
            utility_bill: Some(true),
            ..TokenRequest::new("c")
        },
        TokenRequest {
            additional_steps: Some(
                serde_json::json!({"ALL": {"ALL": {"UTILITY_BILL": {"type": "COMPARE"}}}}),
            ),
            additional_data: Some(
                serde_json::json!({"UTILITY_BILL": {"address": "Gedimino pr. 1-23, LT-01103 Vilnius"}}),
            ),
            ..TokenRequest::new("c")
        },
    ]
}

fn with_bill(bill: Vec<u8>) -> Vec<(ImageSide, Vec<u8>)> {
    let mut imgs = support::id_card_images();
    imgs.insert(2, (ImageSide::UtilityBill, bill));
    imgs
}

#[tokio::test]
async fn a_token_asking_for_a_utility_bill_needs_one_like_a_back() {
    let (_sb, c) = support::sandbox(SandboxConfig::default()).await;
    for req in bill_tokens() {
        let t = c.create_token(&req).await.unwrap();
        let e = c.process(&id_card_req(&t)).await.unwrap_err();
        assert!(
            matches!(e, Error::Api { status: 400, ref identifier, ref message }
                if identifier.as_deref() == Some("MISSING_VALUE")
                    && message == "No image provided for step 'UTILITY_BILL'"),
            "{e:?}"
        );
        // Refused before processing: the token is still usable.
        c.process(&process_req(&t, with_bill(support::bill())))
            .await
            .unwrap();
        wait_status(&c, &t.scan_ref, OverallStatus::Approved).await;
    }
}

#[tokio::test]
async fn a_utility_bill_the_token_did_not_ask_for_is_refused() {
    let (_sb, c) = support::sandbox(SandboxConfig::default()).await;
    let t = c.create_token(&TokenRequest::new("c")).await.unwrap();
    let e = c
        .process(&process_req(&t, with_bill(support::bill())))
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Api { status: 400, ref identifier, ref message }
            if identifier.as_deref() == Some("UNEXPECTED_VALUE")
                && message.contains("UTILITY_BILL")
                && !message.contains("'UTILITY_BILL'")),
        "{e:?}"
    );
    c.process(&id_card_req(&t)).await.unwrap();
}

#[tokio::test]
async fn a_bill_photo_without_a_page_is_not_detected_and_the_token_survives() {
    let (_sb, c) = support::sandbox(SandboxConfig::default()).await;
    let [t, _] = bill_tokens();
    let t = c.create_token(&t).await.unwrap();
    let e = c
        .process(&process_req(&t, with_bill(support::pattern())))
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::NotProcessed { ref identifier, ref message, .. }
            if identifier.as_deref() == Some("DOC_NOT_DETECTED")
                && message.contains("'UTILITY_BILL'")),
        "{e:?}"
    );
    c.process(&process_req(&t, with_bill(support::bill())))
        .await
        .unwrap();
}

#[tokio::test]
async fn selfies_without_a_person_or_with_two_get_the_face_status() {
    let (_sb, c) = support::sandbox(SandboxConfig::default()).await;
    let demo = |f: &str| std::fs::read(kyc_kiosk::camera::demo::default_dir().join(f)).unwrap();
    for (face, want) in [
        (demo("face_two.jpg"), FaceStatus::TooManyFaces),
        (support::pattern(), FaceStatus::NoFaceFound),
    ] {
        let t = c.create_token(&TokenRequest::new("c")).await.unwrap();
        let mut imgs = support::id_card_images();
        imgs[2].1 = face;
        c.process(&process_req(&t, imgs)).await.unwrap();
        let st = wait_status(&c, &t.scan_ref, OverallStatus::Denied).await;
        assert_eq!(st.auto_face, Some(want));
        assert_eq!(st.auto_document, Some(DocumentStatus::DocValidated));
    }
}

#[tokio::test]
async fn undetected_document_is_200_with_error_body_and_token_survives() {
    let (_sb, c) = support::sandbox(SandboxConfig::default()).await;
    let t = c.create_token(&TokenRequest::new("c")).await.unwrap();
    let mut imgs = support::id_card_images();
    imgs[0].1 = b"this is no photo of a document".to_vec();
    let e = c.process(&process_req(&t, imgs.clone())).await.unwrap_err();
    assert!(
        matches!(e, Error::NotProcessed { ref identifier, .. } if identifier.as_deref() == Some("DOC_NOT_DETECTED")),
        "{e:?}"
    );
    assert_eq!(e.code(), ErrorCode::ApiRejected);
    // The documented remedy: resend with skipAnalysis.
    let mut again = process_req(&t, imgs);
    again.skip_analysis = true;
    assert_eq!(c.process(&again).await.unwrap(), ProcessOutcome::Accepted);
}

#[tokio::test]
async fn oversized_images_are_refused_before_sending_and_the_token_stays_usable() {
    let limit = 3_000_000;
    let (sb, _) = support::sandbox(SandboxConfig {
        max_body_bytes: limit,
        ..SandboxConfig::default()
    })
    .await;
    let big = || synth::png(&synth::noise(900, 600, 3));
    let imgs = vec![
        (ImageSide::Front, big()),
        (ImageSide::Back, big()),
        (ImageSide::Face, big()),
    ];
    let raw: usize = imgs.iter().map(|(_, b)| b.len()).sum();
    assert!(raw * 4 / 3 > limit, "test images must exceed the limit");
    let limited = Client::builder()
        .base_url(sb.base_url())
        .credentials(sb.api_key().clone(), sb.api_secret().clone())
        .max_body_bytes(limit)
        .build()
        .unwrap();
    let t = limited.create_token(&TokenRequest::new("c")).await.unwrap();
    let mut req = process_req(&t, imgs.clone());
    req.skip_analysis = true; // noise is not a document; the size is what is tested
    let e = limited.process(&req).await.unwrap_err();
    assert!(
        matches!(e, Error::TooLarge { needed, limit: l } if l == limit && needed > limit),
        "{e:?}"
    );
    assert_eq!(e.code(), ErrorCode::InvalidInput);
    // Nothing was sent: the token is not spent and takes a smaller set.
    assert_eq!(
        limited.status(&t.scan_ref).await.unwrap().status,
        OverallStatus::Active
    );
    assert_eq!(
        limited.process(&id_card_req(&t)).await.unwrap(),
        ProcessOutcome::Accepted
    );
    // The same images from a client with a higher limit are refused by the
    // sandbox's own limit.
    let naive = Client::builder()
        .base_url(sb.base_url())
        .credentials(sb.api_key().clone(), sb.api_secret().clone())
        .build()
        .unwrap();
    let t = naive.create_token(&TokenRequest::new("c")).await.unwrap();
    let mut req = process_req(&t, imgs);
    req.skip_analysis = true;
    let e = naive.process(&req).await.unwrap_err();
    assert!(matches!(e, Error::Api { status: 413, .. }), "{e:?}");
}

const STATUS_REVIEWING: &str = r#"{"status":"REVIEWING","scanRef":"s-1","clientId":"c"}"#;
const STATUS_ACTIVE: &str = r#"{"status":"ACTIVE","scanRef":"s-1","clientId":"c"}"#;
const STATUS_EXPIRED: &str = r#"{"status":"EXPIRED","scanRef":"s-1","clientId":"c"}"#;

/// How many `/process` and `/status` requests a fake server received.
#[derive(Clone, Default)]
struct Hits {
    processes: Arc<AtomicUsize>,
    statuses: Arc<AtomicUsize>,
}

impl Hits {
    /// (`/process` calls, `/status` calls).
    fn get(&self) -> (usize, usize) {
        (
            self.processes.load(Ordering::SeqCst),
            self.statuses.load(Ordering::SeqCst),
        )
    }
}

/// A server that reads each `/process` request whole, then drops the
/// connection, and answers `/status` with `status_body` (500 when `None`).
async fn dropping_server(status_body: Option<&'static str>) -> (Client, Hits) {
    let hits = Hits::default();
    let (p, s) = (hits.processes.clone(), hits.statuses.clone());
    let (base, _task) = raw_server(true, move |path| match path {
        "/api/v2/process" => {
            p.fetch_add(1, Ordering::SeqCst);
            None // read the whole request, then drop the connection
        }
        "/api/v2/status" => {
            s.fetch_add(1, Ordering::SeqCst);
            Some(match status_body {
                Some(b) => json_answer("200 OK", b, ""),
                None => json_answer("500 Internal Server Error", r#"{"message":"boom"}"#, ""),
            })
        }
        _ => Some(json_answer("404 Not Found", "{}", "")),
    })
    .await;
    let c = Client::builder()
        .base_url(base)
        .credentials(Secret::new("k"), Secret::new("s"))
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    (c, hits)
}

fn fake_token() -> TokenResponse {
    serde_json::from_str(r#"{"authToken":"t-1","scanRef":"s-1","clientId":"c"}"#).unwrap()
}

/// Good ID card images for the fake token.
fn fake_request() -> ProcessRequest {
    id_card_req(&fake_token())
}

#[tokio::test]
async fn dropped_connection_asks_status_once_and_never_resends() {
    let (c, hits) = dropping_server(Some(STATUS_REVIEWING)).await;
    let out = c.process(&fake_request()).await.unwrap();
    match out {
        ProcessOutcome::ConfirmedByStatus(s) => assert_eq!(s.status, OverallStatus::Reviewing),
        o => panic!("{o:?}"),
    }
    let (processes, statuses) = hits.get();
    assert_eq!(processes, 1, "process must not be retried");
    assert_eq!(statuses, 1, "status asked exactly once");
}

#[tokio::test]
async fn dropped_connection_with_status_still_active_is_outcome_unknown() {
    let (c, hits) = dropping_server(Some(STATUS_ACTIVE)).await;
    let e = c.process(&fake_request()).await.unwrap_err();
    match &e {
        Error::OutcomeUnknown {
            scan_ref, status, ..
        } => {
            assert_eq!(scan_ref.as_str(), "s-1");
            assert_eq!(status, &Some(OverallStatus::Active));
        }
        e => panic!("{e:?}"),
    }
    assert_eq!(e.code(), ErrorCode::Network);
    assert_eq!(hits.get(), (1, 1));
}

/// A token that expired unused does not confirm the images arrived: the
/// outcome stays unknown, with the status for the caller to act on.
#[tokio::test]
async fn dropped_connection_with_the_token_expired_is_outcome_unknown() {
    let (c, hits) = dropping_server(Some(STATUS_EXPIRED)).await;
    let e = c.process(&fake_request()).await.unwrap_err();
    assert!(
        matches!(
            &e,
            Error::OutcomeUnknown {
                status: Some(OverallStatus::Expired),
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(hits.get(), (1, 1));
}

#[tokio::test]
async fn dropped_connection_and_failing_status_is_outcome_unknown_without_status() {
    let (c, hits) = dropping_server(None).await;
    let e = c.process(&fake_request()).await.unwrap_err();
    assert!(
        matches!(e, Error::OutcomeUnknown { status: None, .. }),
        "{e:?}"
    );
    assert_eq!(hits.get(), (1, 1));
}

#[tokio::test]
async fn timeout_on_process_is_an_unknown_outcome_resolved_by_status() {
    let (base, _task) = raw_server(true, |path| match path {
        "/api/v2/status" => Some(json_answer("200 OK", STATUS_REVIEWING, "")),
        _ => Some((Duration::from_millis(1500), json_answer("200 OK", "", "").1)),
    })
    .await;
    let c = Client::builder()
        .base_url(base)
        .credentials(Secret::new("k"), Secret::new("s"))
        .timeout(Duration::from_millis(700))
        .build()
        .unwrap();
    let out = c.process(&fake_request()).await.unwrap();
    assert!(
        matches!(out, ProcessOutcome::ConfirmedByStatus(_)),
        "{out:?}"
    );
}

#[tokio::test]
async fn connection_refused_is_transport_and_nothing_was_sent() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    let c = Client::builder()
        .base_url(format!("http://{addr}"))
        .credentials(Secret::new("k"), Secret::new("s"))
        .build()
        .unwrap();
    let e = c.process(&fake_request()).await.unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    assert_eq!(e.code(), ErrorCode::Network);
    let e = c.create_token(&TokenRequest::new("c")).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::Transport {
                endpoint: "/api/v2/token",
                ..
            }
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn rate_limit_decode_and_bare_api_errors_are_told_apart() {
    let (base, _task) = raw_server(true, |path| {
        Some(match path {
            "/api/v2/token" => json_answer("429 Too Many Requests", "{}", "retry-after: 7\r\n"),
            "/api/v2/status" => {
                json_answer("200 OK", r#"{"status":"APPROVED","fraudTags":{"a":1}}"#, "")
            }
            "/api/v2/data" => json_answer(
                "500 Internal Server Error",
                r#"{"message":"Internal error"}"#,
                "",
            ),
            "/api/v2/files" => json_answer("200 OK", "{not json", ""),
            "/api/v2/process" => json_answer(
                "200 OK",
                r#"{"message":"Document not detected","identifier":"DOC_NOT_DETECTED"}"#,
                "",
            ),
            _ => json_answer("404 Not Found", "", ""),
        })
    })
    .await;
    let c = Client::builder()
        .base_url(base)
        .credentials(Secret::new("k"), Secret::new("s"))
        .build()
        .unwrap();
    let e = c.create_token(&TokenRequest::new("c")).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::RateLimited {
                retry_after_secs: Some(7)
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.code(), ErrorCode::RateLimited);
    let s = ScanRef::from("s-1");
    let e = c.status(&s).await.unwrap_err();
    assert!(
        matches!(e, Error::Decode { ref path, .. } if path == "fraudTags"),
        "{e:?}"
    );
    assert_eq!(e.code(), ErrorCode::Decode);
    let e = c.data(&s).await.unwrap_err();
    assert!(
        matches!(e, Error::Api { status: 500, identifier: None, ref message } if message == "Internal error"),
        "{e:?}"
    );
    let e = c.files(&s).await.unwrap_err();
    assert!(matches!(e, Error::Decode { .. }), "{e:?}");
    let e = c.process(&fake_request()).await.unwrap_err();
    assert!(matches!(e, Error::NotProcessed { .. }), "{e:?}");
}

#[tokio::test]
async fn token_created_answer_may_be_201_or_200() {
    let (base, _task) = raw_server(true, |_| {
        Some(json_answer(
            "200 OK",
            r#"{"authToken":"a","scanRef":"s","clientId":"c","unknownField":[1]}"#,
            "",
        ))
    })
    .await;
    let c = Client::builder()
        .base_url(base)
        .credentials(Secret::new("k"), Secret::new("s"))
        .build()
        .unwrap();
    assert_eq!(
        c.create_token(&TokenRequest::new("c"))
            .await
            .unwrap()
            .scan_ref
            .as_str(),
        "s"
    );
    // The sandbox answers 201.
    let (_sb, c) = support::sandbox(SandboxConfig::default()).await;
    c.create_token(&TokenRequest::new("c")).await.unwrap();
}

// Regression: the client used to decode and re-encode images over the limit,
// a second sizing policy beside the one at capture. It now sends images as
// given, or refuses them without a request.
#[tokio::test]
async fn images_over_the_real_20_mb_limit_are_refused_without_a_request() {
    // Default limit: the API's 20 MB, counted after base64.
    let (c, hits) = dropping_server(Some(STATUS_ACTIVE)).await;
    let big = |seed| synth::png(&synth::noise(2200, 1500, seed));
    let imgs = vec![
        (ImageSide::Front, big(1)),
        (ImageSide::Back, big(2)),
        (ImageSide::Face, big(3)),
    ];
    let b64: usize = imgs.iter().map(|(_, b)| base64_len(b.len())).sum();
    assert!(b64 > DEFAULT_MAX_BODY_BYTES, "{b64} must exceed the limit");
    let mut req = process_req(&fake_token(), imgs);
    req.skip_analysis = true;
    let e = c.process(&req).await.unwrap_err();
    assert!(
        matches!(e, Error::TooLarge { needed, limit } if needed == b64 + PROCESS_JSON_HEADROOM && limit == DEFAULT_MAX_BODY_BYTES),
        "{e:?}"
    );
    let (processes, statuses) = hits.get();
    assert_eq!(processes, 0, "nothing sent");
    assert_eq!(statuses, 0, "nothing to ask about");
}

#[tokio::test]
async fn dummy_status_wins_over_bad_photos_over_http() {
    let (_sb, c) = support::sandbox(SandboxConfig::default()).await;
    let t = c
        .create_token(&TokenRequest {
            dummy_status: Some(DummyStatus::Denied),
            ..TokenRequest::new("c")
        })
        .await
        .unwrap();
    let mut imgs = support::id_card_images();
    imgs[0].1 = synth::png(&synth::blurry(1000, 630));
    c.process(&process_req(&t, imgs)).await.unwrap();
    let st = wait_status(&c, &t.scan_ref, OverallStatus::Denied).await;
    assert_eq!(st.auto_face, Some(FaceStatus::FaceMismatch));
    assert_eq!(st.auto_document, Some(DocumentStatus::DocValidated));
}

#[tokio::test]
async fn sandbox_stops_on_shutdown_and_on_drop() {
    let (sb, c) = support::sandbox(SandboxConfig::default()).await;
    c.create_token(&TokenRequest::new("c")).await.unwrap();
    sb.shutdown().await;
    let e = c.create_token(&TokenRequest::new("c")).await.unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");

    let (sb, c) = support::sandbox(SandboxConfig::default()).await;
    c.create_token(&TokenRequest::new("c")).await.unwrap();
    drop(sb);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let e = c.create_token(&TokenRequest::new("c")).await.unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
}

/// How the fake API of the outcome tests below answers one endpoint.
#[derive(Clone)]
enum Reply {
    /// These raw bytes, then a clean close.
    Raw(String),
    /// These raw bytes, then a reset (`SO_LINGER` 0: the peer sees RST, not
    /// an end of stream).
    ResetAfter(&'static str),
}

/// Reads one request whole (head and `Content-Length` body) and returns its
/// path, or `None` when the connection ends first.
async fn read_request(sock: &mut tokio::net::TcpStream) -> Option<String> {
    use tokio::io::AsyncReadExt as _;
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 65536];
    let head_end = loop {
        let n = sock.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let n = sock.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(head.split_whitespace().nth(1)?.to_owned())
}

/// A fake API answering `/process` and `/status` as given, counting the
/// calls of each: (client, `/process` calls, `/status` calls).
async fn fake_api(process: Reply, status: Reply) -> (Client, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    use tokio::io::AsyncWriteExt as _;
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    let processes = Arc::new(AtomicUsize::new(0));
    let statuses = Arc::new(AtomicUsize::new(0));
    let (p, s) = (processes.clone(), statuses.clone());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = l.accept().await {
            let (process, status, p, s) = (process.clone(), status.clone(), p.clone(), s.clone());
            tokio::spawn(async move {
                let reply = match read_request(&mut sock).await.as_deref() {
                    Some("/api/v2/process") => {
                        p.fetch_add(1, Ordering::SeqCst);
                        process
                    }
                    Some("/api/v2/status") => {
                        s.fetch_add(1, Ordering::SeqCst);
                        status
                    }
                    _ => Reply::Raw(json_answer("404 Not Found", "{}", "").1),
                };
                match reply {
                    Reply::Raw(answer) => {
                        let _ = sock.write_all(answer.as_bytes()).await;
                        let _ = sock.shutdown().await;
                    }
                    Reply::ResetAfter(partial) => {
                        let _ = sock.write_all(partial.as_bytes()).await;
                        let _ = sock.flush().await;
                        sock.set_zero_linger().unwrap();
                        drop(sock);
                    }
                }
            });
        }
    });
    let c = Client::builder()
        .base_url(base)
        .credentials(Secret::new("k"), Secret::new("s"))
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    (c, processes, statuses)
}

fn reviewing() -> Reply {
    Reply::Raw(json_answer("200 OK", STATUS_REVIEWING, "").1)
}

/// Submits the fake token's images; the outcome and the (`/process`,
/// `/status`) calls the server saw.
async fn submit(process: Reply) -> (Result<ProcessOutcome, Error>, (usize, usize)) {
    let (c, processes, statuses) = fake_api(process, reviewing()).await;
    let out = c
        .process(&process_req(&fake_token(), support::id_card_images()))
        .await;
    (
        out,
        (
            processes.load(Ordering::SeqCst),
            statuses.load(Ordering::SeqCst),
        ),
    )
}

fn assert_confirmed_by_status(out: &Result<ProcessOutcome, Error>, what: &str) {
    match out {
        Ok(ProcessOutcome::ConfirmedByStatus(s)) => {
            assert_eq!(s.status, OverallStatus::Reviewing, "{what}");
        }
        o => panic!("{what}: {o:?}"),
    }
}

#[tokio::test]
async fn a_429_on_process_is_rate_limited_and_the_token_not_spent() {
    let (out, hits) = submit(Reply::Raw(
        json_answer("429 Too Many Requests", "{}", "retry-after: 30\r\n").1,
    ))
    .await;
    let e = out.unwrap_err();
    assert!(
        matches!(
            e,
            Error::RateLimited {
                retry_after_secs: Some(30)
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.code(), ErrorCode::RateLimited);
    assert_eq!(hits, (1, 0), "refused before processing: nothing to ask");
}

// Regression: only 502-504 were an unknown outcome; a 500 (which may come
// after the images were stored) was reported as a refusal, inviting a resend.
#[tokio::test]
async fn every_5xx_on_process_asks_status_once_and_never_resends() {
    for status in [
        "500 Internal Server Error",
        "502 Bad Gateway",
        "503 Service Unavailable",
        "504 Gateway Timeout",
    ] {
        let (out, hits) = submit(Reply::Raw(
            json_answer(status, r#"{"message":"try later"}"#, "").1,
        ))
        .await;
        assert_confirmed_by_status(&out, status);
        assert_eq!(hits, (1, 1), "{status}");
    }
}

// Regression: a 200 whose body was not JSON (a proxy's page) counted as
// accepted.
#[tokio::test]
async fn a_200_that_is_not_the_apis_json_asks_status_once() {
    for body in [
        "<html><body>Welcome to the branch proxy</body></html>",
        "[]",
    ] {
        let (out, hits) = submit(Reply::Raw(json_answer("200 OK", body, "").1)).await;
        assert_confirmed_by_status(&out, body);
        assert_eq!(hits, (1, 1), "{body}");
    }
}

// Regression: answers were read whole, whatever their size.
#[tokio::test]
async fn an_oversized_answer_is_not_read_and_asks_status_once() {
    let big = format!(r#"{{"pad":"{}"}}"#, "x".repeat(MAX_RESPONSE_BYTES));
    // Announced by Content-Length, and not announced (read until the cap).
    let announced = json_answer("200 OK", &big, "").1;
    let unannounced = format!("HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n{big}");
    for answer in [announced, unannounced] {
        let (out, hits) = submit(Reply::Raw(answer)).await;
        assert_confirmed_by_status(&out, "oversized");
        assert_eq!(hits, (1, 1));
    }
    // Elsewhere it is an error naming the endpoint, not a decoded answer.
    let (c, _, statuses) =
        fake_api(reviewing(), Reply::Raw(json_answer("200 OK", &big, "").1)).await;
    let e = c.status(&ScanRef::from("s-1")).await.unwrap_err();
    assert!(
        matches!(e, Error::Decode { endpoint: "/api/v2/status", ref message, .. } if message.contains("larger than")),
        "{e:?}"
    );
    assert_eq!(statuses.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_reset_mid_answer_asks_status_once_and_never_resends() {
    for partial in [
        "HTTP/1.1 200 OK\r\n",
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"a\"",
    ] {
        let (out, hits) = submit(Reply::ResetAfter(partial)).await;
        assert_confirmed_by_status(&out, partial);
        assert_eq!(hits, (1, 1), "{partial:?}");
    }
}
