//! The reference's JSON examples decode with our models. (The full token
//! request example in the reference has a trailing comma, which is not JSON;
//! the fixture drops it.)

use kyc_kiosk::idenfy::*;

fn fixture(name: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/idenfy")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn token_requests_decode_and_validate() {
    for f in [
        "token-request-minimal.json",
        "token-request-names.json",
        "token-request-full.json",
    ] {
        let r: TokenRequest = serde_json::from_str(&fixture(f)).unwrap();
        validate::token_request(&r).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert_eq!(r.client_id, "100000");
    }
    let full: TokenRequest = serde_json::from_str(&fixture("token-request-full.json")).unwrap();
    assert_eq!(full.documents, Some(vec![DocumentType::Passport]));
    assert_eq!(full.token_type, Some(TokenType::Identification));
    assert_eq!(full.expiry_time, Some(600));
}

#[test]
fn token_responses_decode() {
    // Regression: the reference's full token answer repeats `callbackUrl`;
    // a plain serde decode refuses that ("duplicate field"), the client must not.
    let text = fixture("token-response-full.json");
    assert!(serde_json::from_str::<TokenResponse>(&text).is_err());
    let full: TokenResponse = decode_json("/api/v2/token", text.as_bytes()).unwrap();
    assert_eq!(
        full.callback_url.as_deref(),
        Some("https://mywebsite.com/idenfy/webhookendpoint")
    );
    assert_eq!(
        full.scan_ref.as_str(),
        "ec6a7108-8c26-11e9-9758-309c231b1bac"
    );
    assert_eq!(
        full.auth_token.as_str(),
        "pgYQX0z2T8mtcpNj9I20uWVCLKNuG0vgr12f0wAC"
    );
    let min: TokenResponse = serde_json::from_str(&fixture("token-response-minimal.json")).unwrap();
    assert_eq!(min.documents.map(|d| d.len()), Some(4));
    assert_eq!(min.first_name, None);
}

#[test]
fn process_requests_and_error_decode() {
    let e: ProcessBody = serde_json::from_str(&fixture("process-request-explicit.json")).unwrap();
    assert_eq!(e.document_type, Some(DocumentType::IdCard));
    assert_eq!(e.images.len(), 3);
    let a: ProcessBody = serde_json::from_str(&fixture("process-request-auto.json")).unwrap();
    assert_eq!(a.document_type, None);
    assert!(a.images.contains_key(&ImageSide::Face));
    let err: ApiErrorBody = serde_json::from_str(&fixture("error-missing-value.json")).unwrap();
    assert_eq!(err.identifier.as_deref(), Some("MISSING_VALUE"));
}

#[test]
fn retrieval_answers_decode() {
    let s: StatusResponse = serde_json::from_str(&fixture("status-response.json")).unwrap();
    assert_eq!(s.status, OverallStatus::Approved);
    assert_eq!(s.manual_face, Some(FaceStatus::FaceMatch));
    let d: DataResponse = serde_json::from_str(&fixture("data-response.json")).unwrap();
    assert_eq!(d.data.doc_type, Some(DocumentType::Passport));
    assert_eq!(d.data.doc_first_name.as_deref(), Some("JOHN"));
    assert_eq!(
        d.client_id.as_ref().map(ClientId::as_str),
        Some("W2GL2K333Y")
    );
    let f: FilesResponse = serde_json::from_str(&fixture("files-response.json")).unwrap();
    assert_eq!(f.file_urls.len(), 2);
}

#[test]
fn webhook_payload_decodes_leniently() {
    let w: WebhookPayload = serde_json::from_str(&fixture("webhook-manual-final.json")).unwrap();
    assert!(w.is_final);
    assert_eq!(w.status.overall, OverallStatus::Suspected);
    assert_eq!(w.status.mismatch_tags, vec![MismatchTag::Name]);
    assert_eq!(w.data.doc_type, Some(DocumentType::Passport));
}
