//! The sandbox's verdict: a pure, deterministic function of the token and the
//! submission.
//!
//! Every document submitted to the sandbox is taken to be the kiosk's demo
//! specimen ID card ([`SPECIMEN`]): JONAS SPECIMEN, born 1990-04-12, ID card
//! SPEC0001234 issued by LT on 2021-12-31, valid until 2031-12-31, personal
//! number 39004120000, nationality LT, sex M.
//!
//! Rules, first match wins:
//!
//! 1. `dummyStatus` on the token decides, whatever the images:
//!    APPROVED (DOC_VALIDATED, FACE_MATCH); DENIED (DOC_VALIDATED,
//!    FACE_MISMATCH); SUSPECTED (DOC_VALIDATED, FACE_MATCH, fraud tag
//!    FACE_SUSPECTED); EXPIRED (overall EXPIRED, no analysis results).
//! 2. Document photos (FRONT, then BACK) are judged by the kiosk's own still
//!    check ([`crate::quality::assess`]) unless `skipAnalysis` is set;
//!    the first issue of the first photo with one decides:
//!    too small (or no document, too far) -> DOC_NOT_FOUND, blurry ->
//!    DOC_TOO_BLURRY, glare or too bright -> DOC_GLARED, too dark (or cut,
//!    too close) -> DOC_NOT_FULLY_VISIBLE. DENIED. (A photo that passes the
//!    checks but holds no document never gets here: the request is refused
//!    with DOC_NOT_DETECTED, see `handlers`.)
//! 3. Country other than LT -> COUNTRY_MISMATCH; a `documentType` other than
//!    ID_CARD -> DOC_TYPE_MISMATCH; a token `documents` list without ID_CARD ->
//!    DOC_NOT_ALLOWED. DENIED.
//! 4. Face (IDENTIFICATION tokens only; DOCUMENT tokens get FACE_NOT_CHECKED):
//!    a FACE image without a person (the face detector's count, a card's
//!    portrait set aside), too small, too dark or too bright ->
//!    NO_FACE_FOUND; more than one person -> TOO_MANY_FACES; blurry ->
//!    FACE_UNCERTAIN; byte-identical to FRONT (the document
//!    photographed instead of the person) -> FACE_MISMATCH. DENIED.
//! 5. Expected data given at token creation is compared with the specimen
//!    (names case-insensitively, ignoring surrounding space): firstName ->
//!    NAME, lastName -> SURNAME, dateOfBirth -> DATE_OF_BIRTH, documentNumber
//!    -> DOCUMENT_NUMBER, personalNumber -> PERSONAL_CODE, dateOfExpiry ->
//!    EXPIRY_DATE, dateOfIssue -> DATE_OF_ISSUE, sex -> SEX, nationality ->
//!    NATIONALITY. Any mismatch -> SUSPECTED with those mismatchTags
//!    (DOC_VALIDATED, FACE_MATCH).
//! 6. Otherwise APPROVED (DOC_VALIDATED, FACE_MATCH or FACE_NOT_CHECKED).
//!
//! With manual review on, the manual result repeats the automatic one
//! (`manualDocument` = `autoDocument`, `manualFace` = `autoFace`).

use crate::idenfy::models::{
    DocumentStatus, DocumentType, DummyStatus, FaceStatus, FraudTag, MismatchTag, OverallStatus,
    TokenRequest, VerificationData,
};
use crate::quality::Issue;

/// The identity of the demo specimen document.
#[derive(Debug, Clone, Copy)]
pub struct Specimen {
    pub first_name: &'static str,
    pub last_name: &'static str,
    pub date_of_birth: &'static str,
    pub document_number: &'static str,
    pub personal_number: &'static str,
    pub date_of_expiry: &'static str,
    pub date_of_issue: &'static str,
    pub nationality: &'static str,
    pub sex: &'static str,
    pub issuing_country: &'static str,
}

/// The specimen every sandbox verification reads.
pub const SPECIMEN: Specimen = Specimen {
    first_name: "JONAS",
    last_name: "SPECIMEN",
    date_of_birth: "1990-04-12",
    document_number: "SPEC0001234",
    personal_number: "39004120000",
    date_of_expiry: "2031-12-31",
    date_of_issue: "2021-12-31",
    nationality: "LT",
    sex: "M",
    issuing_country: "LT",
};

/// What was submitted, as the verdict needs it.
#[derive(Debug, Clone)]
pub struct Submission {
    pub country: String,
    pub document_type: Option<DocumentType>,
    pub skip_analysis: bool,
    /// What the still check found in FRONT and, when sent, BACK (in
    /// [`Issue::ALL`] order; empty when the photo is good).
    pub document_issues: Vec<Vec<Issue>>,
    /// What it found in FACE, when sent: [`Issue::NoFace`] or
    /// [`Issue::SeveralFaces`] first when the face detector does not count
    /// one person (an unreadable selfie counts as [`Issue::NoFace`]).
    pub face_issues: Option<Vec<Issue>>,
    /// The FACE image is byte-identical to FRONT.
    pub face_is_front: bool,
}

/// The analysis result.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub overall: OverallStatus,
    pub document: Option<DocumentStatus>,
    pub face: Option<FaceStatus>,
    pub fraud_tags: Vec<FraudTag>,
    pub mismatch_tags: Vec<MismatchTag>,
}

impl Verdict {
    fn new(overall: OverallStatus, document: DocumentStatus, face: FaceStatus) -> Self {
        Self {
            overall,
            document: Some(document),
            face: Some(face),
            fraud_tags: Vec::new(),
            mismatch_tags: Vec::new(),
        }
    }
}

/// Decide the verdict (see the module documentation for the rules).
#[must_use]
pub fn decide(token: &TokenRequest, sub: &Submission) -> Verdict {
    let needs_face = token.effective_token_type().needs_face();
    let ok_face = if needs_face {
        FaceStatus::FaceMatch
    } else {
        FaceStatus::FaceNotChecked
    };
    if let Some(d) = &token.dummy_status {
        match d {
            DummyStatus::Approved => {
                return Verdict::new(
                    OverallStatus::Approved,
                    DocumentStatus::DocValidated,
                    ok_face,
                )
            }
            DummyStatus::Denied => {
                return Verdict::new(
                    OverallStatus::Denied,
                    DocumentStatus::DocValidated,
                    FaceStatus::FaceMismatch,
                )
            }
            DummyStatus::Suspected => {
                let mut v = Verdict::new(
                    OverallStatus::Suspected,
                    DocumentStatus::DocValidated,
                    ok_face,
                );
                v.fraud_tags.push(FraudTag::FaceSuspected);
                return v;
            }
            DummyStatus::Expired => {
                return Verdict {
                    overall: OverallStatus::Expired,
                    document: None,
                    face: None,
                    fraud_tags: Vec::new(),
                    mismatch_tags: Vec::new(),
                }
            }
            DummyStatus::Unknown(_) => {}
        }
    }
    let denied =
        |doc: DocumentStatus, face: FaceStatus| Verdict::new(OverallStatus::Denied, doc, face);
    if !sub.skip_analysis {
        for issues in &sub.document_issues {
            if let Some(issue) = issues.first() {
                let doc = match issue {
                    Issue::TooSmall | Issue::NoDocument | Issue::DocumentTooFar => {
                        DocumentStatus::DocNotFound
                    }
                    Issue::Blurry => DocumentStatus::DocTooBlurry,
                    Issue::Glare | Issue::TooBright => DocumentStatus::DocGlared,
                    Issue::TooDark | Issue::DocumentCut | Issue::DocumentTooClose => {
                        DocumentStatus::DocNotFullyVisible
                    }
                    // Face rules are never applied to a document photo.
                    Issue::NoFace
                    | Issue::SeveralFaces
                    | Issue::FaceTooSmall
                    | Issue::FaceOffCentre => DocumentStatus::DocNotFound,
                };
                return denied(doc, ok_face);
            }
        }
    }
    if !sub.country.eq_ignore_ascii_case(SPECIMEN.issuing_country) {
        return denied(DocumentStatus::CountryMismatch, ok_face);
    }
    if sub
        .document_type
        .as_ref()
        .is_some_and(|d| *d != DocumentType::IdCard)
    {
        return denied(DocumentStatus::DocTypeMismatch, ok_face);
    }
    if token
        .documents
        .as_ref()
        .is_some_and(|l| !l.contains(&DocumentType::IdCard))
    {
        return denied(DocumentStatus::DocNotAllowed, ok_face);
    }
    if needs_face {
        let face = match &sub.face_issues {
            None => Some(FaceStatus::NoFaceFound),
            Some(_) if sub.face_is_front => Some(FaceStatus::FaceMismatch),
            Some(issues) => issues.iter().find_map(|i| match i {
                Issue::TooSmall
                | Issue::TooDark
                | Issue::TooBright
                | Issue::NoFace
                | Issue::FaceTooSmall => Some(FaceStatus::NoFaceFound),
                Issue::SeveralFaces => Some(FaceStatus::TooManyFaces),
                Issue::Blurry => Some(FaceStatus::FaceUncertain),
                // A face off the middle is still a face the vendor matches;
                // document rules are never applied to a selfie.
                Issue::Glare
                | Issue::FaceOffCentre
                | Issue::NoDocument
                | Issue::DocumentCut
                | Issue::DocumentTooFar
                | Issue::DocumentTooClose => None,
            }),
        };
        if let Some(f) = face {
            return denied(DocumentStatus::DocValidated, f);
        }
    }
    let tags = mismatches(token);
    if tags.is_empty() {
        Verdict::new(
            OverallStatus::Approved,
            DocumentStatus::DocValidated,
            ok_face,
        )
    } else {
        let mut v = Verdict::new(
            OverallStatus::Suspected,
            DocumentStatus::DocValidated,
            ok_face,
        );
        v.mismatch_tags = tags;
        v
    }
}

/// Expected data that differs from the specimen.
#[must_use]
pub fn mismatches(t: &TokenRequest) -> Vec<MismatchTag> {
    let s = SPECIMEN;
    let differs = |given: &Option<String>, truth: &str| {
        given
            .as_deref()
            .is_some_and(|g| !g.trim().eq_ignore_ascii_case(truth))
    };
    let mut tags = Vec::new();
    for (given, truth, tag) in [
        (&t.first_name, s.first_name, MismatchTag::Name),
        (&t.last_name, s.last_name, MismatchTag::Surname),
        (&t.date_of_birth, s.date_of_birth, MismatchTag::DateOfBirth),
        (
            &t.document_number,
            s.document_number,
            MismatchTag::DocumentNumber,
        ),
        (
            &t.personal_number,
            s.personal_number,
            MismatchTag::PersonalCode,
        ),
        (&t.date_of_expiry, s.date_of_expiry, MismatchTag::ExpiryDate),
        (&t.date_of_issue, s.date_of_issue, MismatchTag::DateOfIssue),
        (&t.sex, s.sex, MismatchTag::Sex),
        (&t.nationality, s.nationality, MismatchTag::Nationality),
    ] {
        if differs(given, truth) {
            tags.push(tag);
        }
    }
    tags
}

/// The document data the sandbox "reads" from the specimen.
#[must_use]
pub fn specimen_data(selected_country: &str) -> VerificationData {
    let s = SPECIMEN;
    VerificationData {
        doc_first_name: Some(s.first_name.into()),
        doc_last_name: Some(s.last_name.into()),
        doc_number: Some(s.document_number.into()),
        doc_personal_code: Some(s.personal_number.into()),
        doc_expiry: Some(s.date_of_expiry.into()),
        doc_dob: Some(s.date_of_birth.into()),
        doc_date_of_issue: Some(s.date_of_issue.into()),
        doc_type: Some(DocumentType::IdCard),
        doc_sex: Some("MALE".into()),
        doc_nationality: Some(s.nationality.into()),
        doc_issuing_country: Some(s.issuing_country.into()),
        manually_data_changed: Some(false),
        full_name: Some(format!("{} {}", s.first_name, s.last_name)),
        selected_country: Some(selected_country.to_ascii_uppercase()),
        org_first_name: Some(s.first_name.into()),
        org_last_name: Some(s.last_name.into()),
        ..VerificationData::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idenfy::models::TokenType;

    fn good() -> Vec<Issue> {
        Vec::new()
    }

    fn with(issue: Issue) -> Vec<Issue> {
        vec![issue]
    }

    fn sub() -> Submission {
        Submission {
            country: "LT".into(),
            document_type: Some(DocumentType::IdCard),
            skip_analysis: false,
            document_issues: vec![good(), good()],
            face_issues: Some(good()),
            face_is_front: false,
        }
    }

    fn token() -> TokenRequest {
        TokenRequest::new("c1")
    }

    #[test]
    fn table() {
        use DocumentStatus as D;
        use FaceStatus as F;
        use OverallStatus as O;
        let dummy = |d| TokenRequest {
            dummy_status: Some(d),
            ..token()
        };
        let blurry_front = Submission {
            document_issues: vec![with(Issue::Blurry), good()],
            ..sub()
        };
        type Case = (
            &'static str,
            TokenRequest,
            Submission,
            O,
            Option<D>,
            Option<F>,
        );
        let cases: Vec<Case> = vec![
            (
                "clean",
                token(),
                sub(),
                O::Approved,
                Some(D::DocValidated),
                Some(F::FaceMatch),
            ),
            (
                "dummy wins over bad images",
                dummy(DummyStatus::Approved),
                blurry_front.clone(),
                O::Approved,
                Some(D::DocValidated),
                Some(F::FaceMatch),
            ),
            (
                "dummy denied",
                dummy(DummyStatus::Denied),
                sub(),
                O::Denied,
                Some(D::DocValidated),
                Some(F::FaceMismatch),
            ),
            (
                "dummy suspected",
                dummy(DummyStatus::Suspected),
                sub(),
                O::Suspected,
                Some(D::DocValidated),
                Some(F::FaceMatch),
            ),
            (
                "dummy expired",
                dummy(DummyStatus::Expired),
                sub(),
                O::Expired,
                None,
                None,
            ),
            (
                "blurry front",
                token(),
                blurry_front.clone(),
                O::Denied,
                Some(D::DocTooBlurry),
                Some(F::FaceMatch),
            ),
            (
                "skip analysis",
                token(),
                Submission {
                    skip_analysis: true,
                    ..blurry_front
                },
                O::Approved,
                Some(D::DocValidated),
                Some(F::FaceMatch),
            ),
            (
                "glare back",
                token(),
                Submission {
                    document_issues: vec![good(), with(Issue::Glare)],
                    ..sub()
                },
                O::Denied,
                Some(D::DocGlared),
                Some(F::FaceMatch),
            ),
            (
                "dark front",
                token(),
                Submission {
                    document_issues: vec![with(Issue::TooDark)],
                    ..sub()
                },
                O::Denied,
                Some(D::DocNotFullyVisible),
                Some(F::FaceMatch),
            ),
            (
                "tiny front",
                token(),
                Submission {
                    document_issues: vec![with(Issue::TooSmall)],
                    ..sub()
                },
                O::Denied,
                Some(D::DocNotFound),
                Some(F::FaceMatch),
            ),
            (
                "country",
                token(),
                Submission {
                    country: "LV".into(),
                    ..sub()
                },
                O::Denied,
                Some(D::CountryMismatch),
                Some(F::FaceMatch),
            ),
            (
                "passport",
                token(),
                Submission {
                    document_type: Some(DocumentType::Passport),
                    ..sub()
                },
                O::Denied,
                Some(D::DocTypeMismatch),
                Some(F::FaceMatch),
            ),
            (
                "dark face",
                token(),
                Submission {
                    face_issues: Some(with(Issue::TooDark)),
                    ..sub()
                },
                O::Denied,
                Some(D::DocValidated),
                Some(F::NoFaceFound),
            ),
            (
                "no face",
                token(),
                Submission {
                    face_issues: Some(with(Issue::NoFace)),
                    ..sub()
                },
                O::Denied,
                Some(D::DocValidated),
                Some(F::NoFaceFound),
            ),
            (
                "two people",
                token(),
                Submission {
                    face_issues: Some(vec![Issue::SeveralFaces, Issue::Blurry]),
                    ..sub()
                },
                O::Denied,
                Some(D::DocValidated),
                Some(F::TooManyFaces),
            ),
            (
                "face off centre is still matched",
                token(),
                Submission {
                    face_issues: Some(with(Issue::FaceOffCentre)),
                    ..sub()
                },
                O::Approved,
                Some(D::DocValidated),
                Some(F::FaceMatch),
            ),
            (
                "face is the card",
                token(),
                Submission {
                    face_is_front: true,
                    ..sub()
                },
                O::Denied,
                Some(D::DocValidated),
                Some(F::FaceMismatch),
            ),
            (
                "document token",
                TokenRequest {
                    token_type: Some(TokenType::Document),
                    ..token()
                },
                Submission {
                    face_issues: None,
                    ..sub()
                },
                O::Approved,
                Some(D::DocValidated),
                Some(F::FaceNotChecked),
            ),
        ];
        for (name, t, s, overall, doc, face) in cases {
            let v = decide(&t, &s);
            assert_eq!(
                (v.overall, v.document, v.face),
                (overall, doc, face),
                "{name}"
            );
        }
    }

    #[test]
    fn expected_data_mismatches_give_suspected_with_tags() {
        let t = TokenRequest {
            first_name: Some(" jonas ".into()),
            last_name: Some("Smith".into()),
            date_of_birth: Some("1990-04-13".into()),
            document_number: Some("SPEC0001234".into()),
            personal_number: Some("1".into()),
            ..token()
        };
        let v = decide(&t, &sub());
        assert_eq!(v.overall, OverallStatus::Suspected);
        assert_eq!(
            v.mismatch_tags,
            vec![
                MismatchTag::Surname,
                MismatchTag::DateOfBirth,
                MismatchTag::PersonalCode
            ]
        );
        let exact = TokenRequest {
            first_name: Some("Jonas".into()),
            last_name: Some("SPECIMEN".into()),
            sex: Some("M".into()),
            nationality: Some("lt".into()),
            ..token()
        };
        assert_eq!(decide(&exact, &sub()).overall, OverallStatus::Approved);
    }
}
