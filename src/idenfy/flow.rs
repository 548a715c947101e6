//! The verification steps as small functions, for `kyc-kiosk verify` today and
//! for the session driver later: precheck the images, build the token request,
//! submit the images, wait for the final webhook result, summarise it.

use std::time::Duration;

use serde::Serialize;

use super::models::{
    ClientId, DocumentStatus, DocumentType, FaceStatus, FraudTag, ImageSide, MismatchTag,
    OverallStatus, ScanRef, TokenRequest, TokenResponse, TokenType, WebhookPayload,
};
use super::webhook::ResultStore;
use super::{Client, Error, ProcessOutcome, ProcessRequest};
use crate::quality;

/// One image that failed the precheck, with reasons staff can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrecheckFailure {
    pub side: String,
    /// The image could not be read at all (never overridable).
    pub unreadable: bool,
    pub reasons: Vec<String>,
}

/// Judge every image with [`quality::assess_encoded`]; an empty list means all pass.
#[must_use]
pub fn precheck(images: &[(ImageSide, Vec<u8>)]) -> Vec<PrecheckFailure> {
    images
        .iter()
        .filter_map(|(side, bytes)| match quality::assess_encoded(bytes) {
            Ok(a) if a.issues.is_empty() => None,
            Ok(a) => Some(PrecheckFailure {
                side: side.to_string(),
                unreadable: false,
                reasons: a.issues.iter().map(|i| i.describe(a.role)).collect(),
            }),
            Err(e) => Some(PrecheckFailure {
                side: side.to_string(),
                unreadable: true,
                reasons: vec![e.to_string()],
            }),
        })
        .collect()
}

/// What staff entered for one verification.
#[derive(Clone)]
pub struct Request {
    pub client_id: String,
    pub country: String,
    pub document_type: Option<DocumentType>,
    pub token_type: TokenType,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub callback_url: Option<String>,
    pub images: Vec<(ImageSide, Vec<u8>)>,
}

impl std::fmt::Debug for Request {
    // Names and images are personal: not shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("client_id", &self.client_id)
            .field("country", &self.country)
            .field("document_type", &self.document_type)
            .field("token_type", &self.token_type)
            .field("images", &self.images.len())
            .finish_non_exhaustive()
    }
}

/// The token request for `req`.
#[must_use]
pub fn token_request(req: &Request) -> TokenRequest {
    TokenRequest {
        first_name: req.first_name.clone(),
        last_name: req.last_name.clone(),
        country: Some(req.country.trim().to_ascii_uppercase()),
        documents: req.document_type.clone().map(|d| vec![d]),
        token_type: Some(req.token_type.clone()),
        callback_url: req.callback_url.clone(),
        ..TokenRequest::new(req.client_id.clone())
    }
}

/// Create the token, then submit the images once.
///
/// # Errors
/// Any [`Error`] of [`Client::create_token`] or [`Client::process`].
pub async fn create_and_submit(
    client: &Client,
    req: &Request,
    skip_analysis: bool,
) -> Result<(TokenResponse, ProcessOutcome), Error> {
    let token = client.create_token(&token_request(req)).await?;
    let outcome = client
        .process(&ProcessRequest {
            scan_ref: token.scan_ref.clone(),
            token: token.auth_token.clone(),
            token_type: req.token_type.clone(),
            country: req.country.clone(),
            document_type: req.document_type.clone(),
            images: req.images.clone(),
            skip_analysis,
        })
        .await?;
    Ok((token, outcome))
}

/// Wait for the final webhook result of `scan_ref`.
pub async fn await_final(
    store: &ResultStore,
    scan_ref: &ScanRef,
    wait: Duration,
) -> Option<WebhookPayload> {
    store.wait_final(scan_ref, wait).await
}

/// The result as `kyc-kiosk verify --json` prints it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub scan_ref: ScanRef,
    pub client_id: Option<ClientId>,
    pub status: OverallStatus,
    #[serde(rename = "final")]
    pub is_final: bool,
    pub auto_document: Option<DocumentStatus>,
    pub auto_face: Option<FaceStatus>,
    pub manual_document: Option<DocumentStatus>,
    pub manual_face: Option<FaceStatus>,
    pub fraud_tags: Vec<FraudTag>,
    pub mismatch_tags: Vec<MismatchTag>,
}

impl From<&WebhookPayload> for Summary {
    fn from(p: &WebhookPayload) -> Self {
        Self {
            scan_ref: p.scan_ref.clone(),
            client_id: p.client_id.clone(),
            status: p.status.overall.clone(),
            is_final: p.is_final,
            auto_document: p.status.auto_document.clone(),
            auto_face: p.status.auto_face.clone(),
            manual_document: p.status.manual_document.clone(),
            manual_face: p.status.manual_face.clone(),
            fraud_tags: p.status.fraud_tags.clone(),
            mismatch_tags: p.status.mismatch_tags.clone(),
        }
    }
}
