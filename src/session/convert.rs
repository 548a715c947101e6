//! Pure conversions between the iDenfy API's types and the flow's plain
//! types: the start form into a token request, a token response into a
//! [`TokenInfo`], a submission into a `/process` request, webhook and
//! `/status` answers into an [`Outcome`] or a [`TokenStatus`], and client
//! errors into a [`Failure`]. No I/O and no flow decision: the ports call
//! these, and the machine uses [`token_request`] to check the start form.

use super::types::{
    DocumentType, Failure, Outcome, OverallStatus, RetakeReason, Side, StartRequest, Submission,
    TokenInfo, TokenStatus, TokenType,
};
use crate::idenfy::models as m;
use crate::idenfy::{self, ProcessRequest};
use zeroize::Zeroizing;

/// The kiosk's document types are a subset of the vendor's.
impl From<DocumentType> for m::DocumentType {
    fn from(d: DocumentType) -> Self {
        match d {
            DocumentType::IdCard => Self::IdCard,
            DocumentType::Passport => Self::Passport,
            DocumentType::DriverLicense => Self::DriverLicense,
            DocumentType::ResidencePermit => Self::ResidencePermit,
        }
    }
}

impl From<Side> for m::ImageSide {
    fn from(s: Side) -> Self {
        match s {
            Side::Front => Self::Front,
            Side::Back => Self::Back,
            Side::UtilityBill => Self::UtilityBill,
            Side::Face => Self::Face,
        }
    }
}

impl From<TokenType> for m::TokenType {
    fn from(t: TokenType) -> Self {
        match t {
            TokenType::Identification => Self::Identification,
            TokenType::Document => Self::Document,
        }
    }
}

/// Converts the staff form into the API's token request. Without a country
/// the token leaves the choice to the customer (in the mobile app). The
/// request holds copies of the names and expected data: it wipes them when
/// dropped.
#[must_use]
pub fn token_request(req: &StartRequest, callback_url: Option<&str>) -> Zeroizing<m::TokenRequest> {
    let mut t = Zeroizing::new(m::TokenRequest::new(req.client_id.clone()));
    t.first_name = req.first_name.clone();
    t.last_name = req.last_name.clone();
    t.date_of_birth = req.date_of_birth.clone();
    t.document_number = req.document_number.clone();
    t.locale = req.locale.clone();
    t.country = req.country.as_deref().map(str::to_ascii_lowercase);
    t.documents = Some(
        req.allowed_documents()
            .into_iter()
            .map(m::DocumentType::from)
            .collect(),
    );
    t.token_type = Some(req.token_type.into());
    if req.generate_digit_string {
        t.generate_digit_string = Some(true);
    }
    t.expiry_time = req.expiry_secs.map(u64::from);
    t.session_length = req.session_length_secs.map(u64::from);
    t.callback_url = callback_url.map(str::to_owned);
    t.dummy_status = req.dummy_status.as_deref().map(m::DummyStatus::parse);
    if let Some(proof) = &req.proof_of_address {
        match &proof.compare_address {
            // The API refuses `utilityBill` together with `additionalSteps`,
            // so exactly one of the two forms is sent.
            None => t.utility_bill = Some(true),
            Some(address) => {
                t.additional_steps = Some(compare_utility_bill_step());
                t.additional_data = Some(serde_json::json!({
                    "UTILITY_BILL": { "address": address }
                }));
            }
        }
    }
    t
}

/// `additionalSteps` asking for a utility bill whose address iDenfy compares
/// with `additionalData.UTILITY_BILL.address`, for every country and
/// document. The nesting (country → document type → step → settings, with
/// `type` the processing mode UPLOAD / EXTRACT / COMPARE) follows iDenfy's
/// public "additional steps" page; the local API reference names the step,
/// its image key and the modes, but not this shape.
#[must_use]
pub fn compare_utility_bill_step() -> serde_json::Value {
    serde_json::json!({
        "ALL": { "ALL": { "UTILITY_BILL": { "type": "COMPARE" } } }
    })
}

/// The token as the flow keeps it; what the API left out comes from the
/// request, then from the API's documented defaults.
#[must_use]
pub fn token_info(resp: &m::TokenResponse, request: &StartRequest) -> TokenInfo {
    TokenInfo {
        scan_ref: resp.scan_ref.as_str().to_owned(),
        auth_token: resp.auth_token.as_str().to_owned(),
        digit_string: resp.digit_string.clone(),
        token_type: match resp.token_type.as_ref().map(m::TokenType::as_str) {
            Some("DOCUMENT") => TokenType::Document,
            Some(_) => TokenType::Identification,
            None => request.token_type,
        },
        expiry_secs: resp
            .expiry_time
            .and_then(|v| u32::try_from(v).ok())
            .or(request.expiry_secs)
            .unwrap_or(86_400),
        session_length_secs: resp
            .session_length
            .and_then(|v| u32::try_from(v).ok())
            .or(request.session_length_secs)
            .unwrap_or(1_800),
    }
}

/// The `/process` request of a submission. Its image bytes (and the token)
/// are copies: they are wiped when the request is dropped.
#[must_use]
pub fn process_request(submission: &Submission) -> Zeroizing<ProcessRequest> {
    let face = submission.images.iter().any(|s| s.side == Side::Face);
    Zeroizing::new(ProcessRequest {
        scan_ref: m::ScanRef::from(submission.scan_ref.clone()),
        token: m::AuthToken::from(submission.auth_token.to_string()),
        token_type: if face {
            m::TokenType::Identification
        } else {
            m::TokenType::Document
        },
        country: submission.country.clone(),
        document_type: Some(submission.document_type.into()),
        images: image_copies(submission),
        skip_analysis: false,
    })
}

/// Copies of a submission's images as `/process` names them; the caller
/// wipes them once sent.
#[must_use]
pub fn image_copies(submission: &Submission) -> Vec<(m::ImageSide, Vec<u8>)> {
    submission
        .images
        .iter()
        .map(|s| (s.side.into(), s.jpeg.to_vec()))
        .collect()
}

/// Maps a client error into what the flow needs to know.
#[must_use]
pub fn failure(e: &idenfy::Error) -> Failure {
    use idenfy::Error as E;
    let retake = |side, message: &str| Failure::ImageRejected {
        side,
        reason: RetakeReason::Api(message.to_owned()),
    };
    match e {
        E::Unauthorized { .. } => Failure::Unauthorized,
        E::OutOfCredits { .. } => Failure::OutOfCredits,
        E::RateLimited { .. } => Failure::RateLimited,
        E::Transport { .. } | E::OutcomeUnknown { .. } => Failure::Network {
            message: e.to_string(),
        },
        // "Document was not detected in the 'BACK' photo": that side; FRONT
        // when the message names none.
        E::NotProcessed { message, .. } => retake(
            Side::ALL
                .into_iter()
                .find(|s| message.contains(&format!("'{}'", s.as_str())))
                .unwrap_or(Side::Front),
            message,
        ),
        E::Api { message, .. } => {
            // "No image provided for step 'BACK'": retake that side only.
            let side = Side::ALL
                .into_iter()
                .find(|s| message.contains(&format!("'{}'", s.as_str())));
            match side {
                Some(side) => retake(side, message),
                None if message.to_ascii_lowercase().contains("expired") => Failure::TokenExpired,
                None => Failure::Rejected {
                    message: message.clone(),
                },
            }
        }
        E::Invalid { .. } | E::TooLarge { .. } => Failure::Rejected {
            message: e.to_string(),
        },
        _ => Failure::Internal {
            message: e.to_string(),
        },
    }
}

fn outcome(
    overall: &m::OverallStatus,
    is_final: bool,
    fraud: &[m::FraudTag],
    mismatch: &[m::MismatchTag],
    docs: (Option<&m::DocumentStatus>, Option<&m::DocumentStatus>),
    faces: (Option<&m::FaceStatus>, Option<&m::FaceStatus>),
) -> Outcome {
    let mut o = Outcome::new(OverallStatus::parse(overall.as_str()), is_final);
    o.fraud_tags = fraud.iter().map(|t| t.as_str().to_owned()).collect();
    o.mismatch_tags = mismatch.iter().map(|t| t.as_str().to_owned()).collect();
    o.auto_document = docs.0.map(|d| d.as_str().to_owned());
    o.manual_document = docs.1.map(|d| d.as_str().to_owned());
    o.auto_face = faces.0.map(|f| f.as_str().to_owned());
    o.manual_face = faces.1.map(|f| f.as_str().to_owned());
    o
}

/// A webhook result as the flow sees it.
#[must_use]
pub fn outcome_of_webhook(p: &idenfy::webhook::Report) -> Outcome {
    outcome_of_status(&p.status, p.is_final)
}

/// A webhook's `status` object as the flow sees it (the relay passes on
/// only this part).
#[must_use]
pub fn outcome_of_status(s: &m::WebhookStatus, is_final: bool) -> Outcome {
    outcome(
        &s.overall,
        is_final,
        &s.fraud_tags,
        &s.mismatch_tags,
        (s.auto_document.as_ref(), s.manual_document.as_ref()),
        (s.auto_face.as_ref(), s.manual_face.as_ref()),
    )
}

/// What a `/status` answer says about the token.
#[must_use]
pub fn token_status(s: &m::StatusResponse) -> TokenStatus {
    match s.status.as_str() {
        "ACTIVE" => TokenStatus::Unused,
        "REVIEWING" => TokenStatus::Pending,
        "EXPIRED" | "EXPIRED-DELETED" => TokenStatus::Expired,
        "APPROVED" | "DENIED" | "SUSPECTED" => TokenStatus::Done(outcome(
            &s.status,
            true,
            &s.fraud_tags,
            &s.mismatch_tags,
            (s.auto_document.as_ref(), s.manual_document.as_ref()),
            (s.auto_face.as_ref(), s.manual_face.as_ref()),
        )),
        other => TokenStatus::Other(other.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_errors_map_to_what_the_flow_needs() {
        let api = |msg: &str| idenfy::Error::Api {
            status: 400,
            identifier: Some("MISSING_VALUE".into()),
            message: msg.into(),
        };
        assert_eq!(
            failure(&api("No image provided for step 'BACK'")),
            Failure::ImageRejected {
                side: Side::Back,
                reason: RetakeReason::Api("No image provided for step 'BACK'".into())
            }
        );
        assert!(matches!(
            failure(&api("Something else")),
            Failure::Rejected { .. }
        ));
        assert_eq!(
            failure(&idenfy::Error::OutOfCredits {
                message: String::new()
            }),
            Failure::OutOfCredits
        );
        // Images over the body limit were never sent: a refusal, not a bug.
        assert!(matches!(
            failure(&idenfy::Error::TooLarge {
                needed: 21_000_000,
                limit: 20_000_000
            }),
            Failure::Rejected { .. }
        ));
    }

    #[test]
    fn every_kiosk_document_is_the_vendor_type_of_the_same_name() {
        for d in DocumentType::ALL {
            let vendor = m::DocumentType::from(d);
            assert!(vendor.is_known());
            assert_eq!(vendor.as_str(), d.as_str());
            assert!(m::DocumentType::PROCESS_DOCUMENTS.contains(&d.as_str()));
            assert_eq!(vendor.has_back_side(), d.has_back());
        }
    }

    // Regression: a token without a country used to be refused ("country:
    // `` is not an ISO 3166-1 alpha-2 country code"); the API lets the
    // customer pick it in the mobile app.
    #[test]
    fn a_request_without_a_country_asks_for_none() {
        let r = StartRequest::new("client-1", "");
        let t = token_request(&r, None);
        assert_eq!(t.country, None);
        idenfy::validate::check_token_request(&t).unwrap();
        let t = token_request(&StartRequest::new("client-1", "LT"), None);
        assert_eq!(t.country.as_deref(), Some("lt"));
    }

    #[test]
    fn a_submission_without_a_selfie_is_a_document_request() {
        let mut sub = Submission {
            scan_ref: "s-1".into(),
            auth_token: zeroize::Zeroizing::new("a-1".into()),
            country: "LT".into(),
            document_type: DocumentType::Passport,
            images: vec![crate::session::Still::new(Side::Front, vec![1, 2], 1, 1)],
            accepted_by_staff: Vec::new(),
        };
        let p = process_request(&sub);
        assert_eq!(p.token_type, m::TokenType::Document);
        assert_eq!(p.document_type, Some(m::DocumentType::Passport));
        assert_eq!(p.images, vec![(m::ImageSide::Front, vec![1, 2])]);
        sub.images
            .push(crate::session::Still::new(Side::Face, vec![3], 1, 1));
        assert_eq!(
            process_request(&sub).token_type,
            m::TokenType::Identification
        );
    }

    #[test]
    fn proof_of_address_is_utility_bill_or_a_compare_step_never_both() {
        use serde_json::json;
        let body = |r: &StartRequest| serde_json::to_value(&*token_request(r, None)).unwrap();

        let none = body(&StartRequest::new("client-1", "LT"));
        for key in ["utilityBill", "additionalSteps", "additionalData"] {
            assert!(none.get(key).is_none(), "{key} in {none}");
        }

        let mut r = StartRequest::new("client-1", "LT");
        r.proof_of_address = Some(crate::session::ProofOfAddress::upload());
        let upload = body(&r);
        assert_eq!(upload["utilityBill"], json!(true));
        assert!(upload.get("additionalSteps").is_none() && upload.get("additionalData").is_none());
        idenfy::validate::check_token_request(&token_request(&r, None)).unwrap();

        r.proof_of_address = Some(crate::session::ProofOfAddress::compare(
            "Gedimino pr. 1, Vilnius",
        ));
        let compare = body(&r);
        assert!(compare.get("utilityBill").is_none(), "{compare}");
        assert_eq!(
            compare["additionalSteps"],
            json!({"ALL": {"ALL": {"UTILITY_BILL": {"type": "COMPARE"}}}})
        );
        assert_eq!(
            compare["additionalData"],
            json!({"UTILITY_BILL": {"address": "Gedimino pr. 1, Vilnius"}})
        );
        idenfy::validate::check_token_request(&token_request(&r, None)).unwrap();

        // The address is the customer's: the request wipes it with the rest.
        use zeroize::Zeroize as _;
        let mut t = token_request(&r, None);
        t.zeroize();
        assert!(t.additional_data.is_none());
    }

    // The requests built here hold copies of the customer's data; they come
    // wrapped in `Zeroizing`, whose drop calls exactly this.
    #[test]
    fn the_requests_built_here_wipe_what_they_copied() {
        use zeroize::Zeroize as _;
        let mut r = StartRequest::new("client-1", "LT");
        r.first_name = Some("Jonas".into());
        r.last_name = Some("Jonaitis".into());
        r.date_of_birth = Some("1990-01-31".into());
        r.document_number = Some("AB123".into());
        let mut t = token_request(&r, None);
        assert_eq!(t.first_name.as_deref(), Some("Jonas"));
        t.zeroize();
        assert!(t.client_id.is_empty());
        assert!(t.first_name.is_none() && t.last_name.is_none());
        assert!(t.date_of_birth.is_none() && t.document_number.is_none());

        let sub = Submission {
            scan_ref: "s-1".into(),
            auth_token: zeroize::Zeroizing::new("a-1".into()),
            country: "LT".into(),
            document_type: DocumentType::Passport,
            images: vec![crate::session::Still::new(Side::Front, vec![1, 2], 1, 1)],
            accepted_by_staff: Vec::new(),
        };
        let mut p = process_request(&sub);
        p.zeroize();
        assert!(p.images.iter().all(|(_, b)| b.is_empty()));
        assert!(p.token.as_str().is_empty());
    }
}
