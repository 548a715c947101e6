//! The documented constraints of the token and direct-processing requests,
//! checked before anything is sent (and by the sandbox on what it receives).
//! These are the only copy of the rules: the kiosk's start form is checked
//! here too (the session normalises it and converts it into a
//! [`TokenRequest`] first). Every error names the field, as a [`Field`].

use super::models::{DocumentType, ImageSide, TokenRequest, TokenType};
use super::Error;
use crate::country;

/// Locales the verification UI knows.
pub const LOCALES: &[&str] = &[
    "lt", "en", "ru", "pl", "lv", "et", "ro", "it", "de", "fr", "sv", "es", "hu", "ja", "bg", "cs",
    "nl", "pt", "uk", "vi", "sk", "th", "hi", "id",
];
/// Characters a name must not contain.
pub const NAME_FORBIDDEN: &str = "~!@#$%^*()_+={}[]|:;\",<>/?";
/// Largest `expiryTime`, 30 days.
pub const MAX_EXPIRY_SECS: u64 = 2_592_000;

macro_rules! fields {
    ($($variant:ident => $wire:literal),+ $(,)?) => {
        /// A request field a rule applies to.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Field {
            $($variant,)+
        }

        impl Field {
            /// The field as the API names it (`clientId`, `firstName`, ...).
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire,)+
                }
            }
        }
    };
}

fields! {
    ClientId => "clientId",
    FirstName => "firstName",
    LastName => "lastName",
    SuccessUrl => "successUrl",
    ErrorUrl => "errorUrl",
    UnverifiedUrl => "unverifiedUrl",
    CallbackUrl => "callbackUrl",
    Locale => "locale",
    ExpiryTime => "expiryTime",
    SessionLength => "sessionLength",
    Country => "country",
    Nationality => "nationality",
    Documents => "documents",
    DateOfBirth => "dateOfBirth",
    DateOfExpiry => "dateOfExpiry",
    DateOfIssue => "dateOfIssue",
    PersonalNumber => "personalNumber",
    DocumentNumber => "documentNumber",
    Sex => "sex",
    Address => "address",
    TokenType => "tokenType",
    ExternalRef => "externalRef",
    UtilityBill => "utilityBill",
    AdditionalSteps => "additionalSteps",
    AdditionalData => "additionalData",
    UtilityBillAddress => "additionalData.UTILITY_BILL.address",
    DummyStatus => "dummyStatus",
    LevenshteinTextMatchRatio => "levenshteinTextMatchRatio",
    LevenshteinMrzMatchRatio => "levenshteinMrzMatchRatio",
    FraudServices => "fraudServices",
    DetectionTypes => "detectionTypes",
    DocumentType => "documentType",
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A field that breaks a documented rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct Invalid {
    pub field: Field,
    pub reason: String,
}

fn invalid(field: Field, reason: impl Into<String>) -> Invalid {
    Invalid {
        field,
        reason: reason.into(),
    }
}

impl From<Invalid> for Error {
    fn from(e: Invalid) -> Self {
        Error::invalid(e.field.as_str(), e.reason)
    }
}

/// [`check_token_request`], as the client's error (for the client and the sandbox).
///
/// # Errors
/// [`Error::Invalid`] naming the first field that breaks a rule.
pub fn token_request(r: &TokenRequest) -> Result<(), Error> {
    Ok(check_token_request(r)?)
}

/// Check a token request against every documented constraint.
///
/// # Errors
/// [`Invalid`] naming the first field that breaks a rule.
pub fn check_token_request(r: &TokenRequest) -> Result<(), Invalid> {
    ascii_len(Field::ClientId, &r.client_id, 1, 100)?;
    for (field, v) in [
        (Field::FirstName, &r.first_name),
        (Field::LastName, &r.last_name),
    ] {
        if let Some(v) = v {
            name(field, v)?;
        }
    }
    for (field, v) in [
        (Field::SuccessUrl, &r.success_url),
        (Field::ErrorUrl, &r.error_url),
        (Field::UnverifiedUrl, &r.unverified_url),
    ] {
        if let Some(v) = v {
            let n = v.chars().count();
            if !(5..=2048).contains(&n) {
                return Err(invalid(field, "must be 5 to 2048 characters long"));
            }
        }
    }
    if let Some(u) = &r.callback_url {
        if !u.starts_with("https://") || u.len() < 12 {
            return Err(invalid(Field::CallbackUrl, "must be an HTTPS URL"));
        }
    }
    if let Some(l) = &r.locale {
        if !LOCALES.contains(&l.as_str()) {
            return Err(invalid(
                Field::Locale,
                format!("`{l}` is not one of {}", LOCALES.join(", ")),
            ));
        }
    }
    if let Some(t) = r.expiry_time {
        if t == 0 || t > MAX_EXPIRY_SECS {
            return Err(invalid(
                Field::ExpiryTime,
                format!("must be 1..={MAX_EXPIRY_SECS} seconds"),
            ));
        }
    }
    if let Some(t) = r.session_length {
        if t <= 60 || t >= 3600 {
            return Err(invalid(
                Field::SessionLength,
                "must be more than 60 and less than 3600 seconds",
            ));
        }
    }
    for (field, v) in [
        (Field::Country, &r.country),
        (Field::Nationality, &r.nationality),
    ] {
        if let Some(v) = v {
            if country::normalize(v).is_none() {
                return Err(invalid(
                    field,
                    format!("`{v}` is not an ISO 3166-1 alpha-2 country code"),
                ));
            }
        }
    }
    if let Some(docs) = &r.documents {
        if docs.is_empty() {
            return Err(invalid(Field::Documents, "must not be empty"));
        }
        for d in docs {
            if !DocumentType::TOKEN_DOCUMENTS.contains(&d.as_str()) {
                return Err(invalid(
                    Field::Documents,
                    format!("`{d}` is not a supported document type"),
                ));
            }
        }
    }
    for (field, v) in [
        (Field::DateOfBirth, &r.date_of_birth),
        (Field::DateOfExpiry, &r.date_of_expiry),
        (Field::DateOfIssue, &r.date_of_issue),
    ] {
        if let Some(v) = v {
            date(field, v)?;
        }
    }
    for (field, v) in [
        (Field::PersonalNumber, &r.personal_number),
        (Field::DocumentNumber, &r.document_number),
    ] {
        if let Some(v) = v {
            ascii_len(field, v, 1, 50)?;
        }
    }
    if let Some(s) = &r.sex {
        if s != "M" && s != "F" {
            return Err(invalid(Field::Sex, "must be M or F"));
        }
    }
    if let Some(a) = &r.address {
        if a.chars().count() > 255 {
            return Err(invalid(Field::Address, "must be at most 255 characters"));
        }
    }
    if let Some(t) = &r.token_type {
        if !t.is_known() {
            return Err(invalid(
                Field::TokenType,
                format!("`{t}` is not a token type"),
            ));
        }
    }
    if let Some(e) = &r.external_ref {
        ascii_len(Field::ExternalRef, e, 0, 40)?;
    }
    if r.utility_bill == Some(true) && r.additional_steps.as_ref().is_some_and(|v| !v.is_null()) {
        return Err(invalid(
            Field::UtilityBill,
            "cannot be used together with additionalSteps",
        ));
    }
    if let Some(s) = &r.additional_steps {
        if !(s.is_object() || s.is_null()) {
            return Err(invalid(Field::AdditionalSteps, "must be a JSON object"));
        }
    }
    if r.additional_data.as_ref().is_some_and(|v| !v.is_null()) {
        if !r
            .additional_data
            .as_ref()
            .is_some_and(serde_json::Value::is_object)
        {
            return Err(invalid(Field::AdditionalData, "must be a JSON object"));
        }
        if r.additional_steps
            .as_ref()
            .is_none_or(serde_json::Value::is_null)
        {
            return Err(invalid(
                Field::AdditionalData,
                "must be used with additionalSteps",
            ));
        }
        if let Some(bill) = r
            .additional_data
            .as_ref()
            .and_then(|d| d.get("UTILITY_BILL"))
        {
            if let Some(a) = bill.get("address") {
                utility_bill_address(a)?;
            }
        }
    }
    if let Some(d) = &r.dummy_status {
        if !d.is_known() {
            return Err(invalid(
                Field::DummyStatus,
                format!("`{d}` is not APPROVED, DENIED, SUSPECTED or EXPIRED"),
            ));
        }
    }
    for (field, v) in [
        (
            Field::LevenshteinTextMatchRatio,
            r.levenshtein_text_match_ratio,
        ),
        (
            Field::LevenshteinMrzMatchRatio,
            r.levenshtein_mrz_match_ratio,
        ),
    ] {
        if let Some(v) = v {
            if !(0.0..=1.0).contains(&v) {
                return Err(invalid(field, "must be between 0 and 1"));
            }
        }
    }
    if let Some(f) = &r.fraud_services {
        for s in f {
            if !["AML_NAMES_CHECK", "LID", "AML_NEWS"].contains(&s.as_str()) {
                return Err(invalid(
                    Field::FraudServices,
                    format!("`{s}` is not AML_NAMES_CHECK, LID or AML_NEWS"),
                ));
            }
        }
    }
    if let Some(d) = &r.detection_types {
        for s in d {
            if s != "FACE" && s != "EYES" {
                return Err(invalid(
                    Field::DetectionTypes,
                    format!("`{s}` is not FACE or EYES"),
                ));
            }
        }
    }
    Ok(())
}

/// Which images a direct-processing request must carry, given the token type
/// and the declared document type.
///
/// # Errors
/// [`Error::Invalid`] naming `images.SIDE` for the first missing image, or
/// `documentType` / `country` when those are not accepted.
pub fn process_sides(
    country_code: &str,
    document_type: Option<&DocumentType>,
    token_type: &TokenType,
    sides: &[ImageSide],
) -> Result<(), Error> {
    if country::normalize(country_code).is_none() {
        return Err(Error::from(invalid(
            Field::Country,
            format!("`{country_code}` is not an ISO 3166-1 alpha-2 country code"),
        )));
    }
    if let Some(d) = document_type {
        if !DocumentType::PROCESS_DOCUMENTS.contains(&d.as_str()) {
            return Err(Error::from(invalid(
                Field::DocumentType,
                format!(
                    "`{d}` is not one of {}",
                    DocumentType::PROCESS_DOCUMENTS.join(", ")
                ),
            )));
        }
    }
    if let Some(s) = sides.iter().find(|s| !s.is_known()) {
        return Err(Error::invalid(format!("images.{s}"), "is not an image key"));
    }
    let has = |s: ImageSide| sides.contains(&s);
    if !has(ImageSide::Front) {
        return Err(Error::invalid("images.FRONT", "is required"));
    }
    if document_type.is_some_and(DocumentType::has_back_side) && !has(ImageSide::Back) {
        return Err(Error::invalid(
            "images.BACK",
            "is required: this document type has a back side",
        ));
    }
    if token_type.needs_face() && !has(ImageSide::Face) {
        return Err(Error::invalid(
            "images.FACE",
            "is required for IDENTIFICATION tokens",
        ));
    }
    Ok(())
}

/// Largest proof-of-address compare address, in characters (as `address`).
pub const MAX_ADDRESS_CHARS: usize = 255;

/// The address a utility bill is compared with: a non-blank string of at
/// most [`MAX_ADDRESS_CHARS`] characters without control characters (a
/// line break typed into the form would not survive the comparison).
fn utility_bill_address(v: &serde_json::Value) -> Result<(), Invalid> {
    let field = Field::UtilityBillAddress;
    let Some(a) = v.as_str() else {
        return Err(invalid(field, "must be a string"));
    };
    if a.trim().is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if a.chars().count() > MAX_ADDRESS_CHARS {
        return Err(invalid(
            field,
            format!("must be at most {MAX_ADDRESS_CHARS} characters"),
        ));
    }
    if a.chars().any(char::is_control) {
        return Err(invalid(
            field,
            "must be on one line, without control characters",
        ));
    }
    Ok(())
}

fn ascii_len(field: Field, v: &str, min: usize, max: usize) -> Result<(), Invalid> {
    if !v.is_ascii() {
        return Err(invalid(field, "must be ASCII"));
    }
    if v.len() < min || v.len() > max {
        return Err(invalid(
            field,
            format!("must be {min} to {max} characters long"),
        ));
    }
    Ok(())
}

fn name(field: Field, v: &str) -> Result<(), Invalid> {
    let n = v.chars().count();
    if n == 0 || n > 100 || v.trim().is_empty() {
        return Err(invalid(field, "must be 1 to 100 characters long"));
    }
    if v.chars().any(|c| c.is_numeric()) {
        return Err(invalid(field, "must not contain digits"));
    }
    if let Some(c) = v.chars().find(|c| NAME_FORBIDDEN.contains(*c)) {
        return Err(invalid(
            field,
            format!("must not contain `{c}` (none of {NAME_FORBIDDEN})"),
        ));
    }
    Ok(())
}

/// `YYYY-MM-DD` with a real calendar date.
fn date(field: Field, v: &str) -> Result<(), Invalid> {
    let bad = || {
        invalid(
            field,
            format!("`{v}` is not a date in the format YYYY-MM-DD"),
        )
    };
    let b = v.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| -> Result<u32, Invalid> {
        let s = &v[r];
        if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse().map_err(|_| bad())
        } else {
            Err(bad())
        }
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if y < 1800 || d == 0 || d > days {
        return Err(bad());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(r: TokenRequest) -> &'static str {
        match check_token_request(&r) {
            Err(Invalid { field, .. }) => field.as_str(),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn minimal_and_full_requests_pass() {
        token_request(&TokenRequest::new("100000")).unwrap();
        let full = TokenRequest {
            first_name: Some("John Tom".into()),
            last_name: Some("O'Neil-Smith".into()),
            locale: Some("lt".into()),
            expiry_time: Some(2_592_000),
            session_length: Some(61),
            country: Some("lt".into()),
            documents: Some(vec![DocumentType::IdCard, DocumentType::Passport]),
            date_of_birth: Some("2000-02-29".into()),
            nationality: Some("LT".into()),
            sex: Some("F".into()),
            external_ref: Some("x".repeat(40)),
            ..TokenRequest::new("c".repeat(100))
        };
        token_request(&full).unwrap();
    }

    #[test]
    fn every_rule_names_its_field() {
        let base = || TokenRequest::new("c1");
        let cases: Vec<(TokenRequest, &str)> = vec![
            (TokenRequest::new(""), "clientId"),
            (TokenRequest::new("c".repeat(101)), "clientId"),
            (TokenRequest::new("klientas-ą"), "clientId"),
            (
                TokenRequest {
                    first_name: Some("J0hn".into()),
                    ..base()
                },
                "firstName",
            ),
            (
                TokenRequest {
                    first_name: Some(String::new()),
                    ..base()
                },
                "firstName",
            ),
            (
                TokenRequest {
                    last_name: Some("Smith;".into()),
                    ..base()
                },
                "lastName",
            ),
            (
                TokenRequest {
                    last_name: Some("x".repeat(101)),
                    ..base()
                },
                "lastName",
            ),
            (
                TokenRequest {
                    success_url: Some("a".into()),
                    ..base()
                },
                "successUrl",
            ),
            (
                TokenRequest {
                    callback_url: Some("http://x.example/h".into()),
                    ..base()
                },
                "callbackUrl",
            ),
            (
                TokenRequest {
                    locale: Some("xx".into()),
                    ..base()
                },
                "locale",
            ),
            (
                TokenRequest {
                    expiry_time: Some(0),
                    ..base()
                },
                "expiryTime",
            ),
            (
                TokenRequest {
                    expiry_time: Some(2_592_001),
                    ..base()
                },
                "expiryTime",
            ),
            (
                TokenRequest {
                    session_length: Some(60),
                    ..base()
                },
                "sessionLength",
            ),
            (
                TokenRequest {
                    session_length: Some(3600),
                    ..base()
                },
                "sessionLength",
            ),
            (
                TokenRequest {
                    country: Some("XX".into()),
                    ..base()
                },
                "country",
            ),
            (
                TokenRequest {
                    nationality: Some("LTU".into()),
                    ..base()
                },
                "nationality",
            ),
            (
                TokenRequest {
                    documents: Some(vec![DocumentType::parse("SELFIE")]),
                    ..base()
                },
                "documents",
            ),
            (
                TokenRequest {
                    date_of_birth: Some("1990-02-30".into()),
                    ..base()
                },
                "dateOfBirth",
            ),
            (
                TokenRequest {
                    date_of_expiry: Some("31/12/2030".into()),
                    ..base()
                },
                "dateOfExpiry",
            ),
            (
                TokenRequest {
                    date_of_issue: Some("2021-13-01".into()),
                    ..base()
                },
                "dateOfIssue",
            ),
            (
                TokenRequest {
                    personal_number: Some(String::new()),
                    ..base()
                },
                "personalNumber",
            ),
            (
                TokenRequest {
                    document_number: Some("x".repeat(51)),
                    ..base()
                },
                "documentNumber",
            ),
            (
                TokenRequest {
                    sex: Some("X".into()),
                    ..base()
                },
                "sex",
            ),
            (
                TokenRequest {
                    token_type: Some(TokenType::parse("SELFIE")),
                    ..base()
                },
                "tokenType",
            ),
            (
                TokenRequest {
                    external_ref: Some("x".repeat(41)),
                    ..base()
                },
                "externalRef",
            ),
            (
                TokenRequest {
                    utility_bill: Some(true),
                    additional_steps: Some(serde_json::json!({"ALL": {}})),
                    ..base()
                },
                "utilityBill",
            ),
            (
                TokenRequest {
                    additional_data: Some(serde_json::json!({"a": 1})),
                    ..base()
                },
                "additionalData",
            ),
            (
                TokenRequest {
                    levenshtein_text_match_ratio: Some(1.5),
                    ..base()
                },
                "levenshteinTextMatchRatio",
            ),
        ];
        for (req, want) in cases {
            assert_eq!(field(req.clone()), want, "{req:?}");
        }
    }

    #[test]
    fn the_utility_bill_compare_address_has_its_own_field() {
        let with = |address: serde_json::Value| TokenRequest {
            additional_steps: Some(
                serde_json::json!({"ALL": {"ALL": {"UTILITY_BILL": {"type": "COMPARE"}}}}),
            ),
            additional_data: Some(serde_json::json!({"UTILITY_BILL": {"address": address}})),
            ..TokenRequest::new("c1")
        };
        check_token_request(&with("Gedimino pr. 1, LT-01103 Vilnius".into())).unwrap();
        check_token_request(&with("ą".repeat(MAX_ADDRESS_CHARS).into())).unwrap();
        for bad in [
            serde_json::json!(""),
            serde_json::json!("   "),
            serde_json::json!("x".repeat(MAX_ADDRESS_CHARS + 1)),
            serde_json::json!("Gedimino pr. 1\nVilnius"),
            serde_json::json!("Gedimino\tpr. 1"),
            serde_json::json!(12),
        ] {
            let err = check_token_request(&with(bad.clone())).unwrap_err();
            assert_eq!(err.field, Field::UtilityBillAddress, "{bad}");
            assert_eq!(err.field.as_str(), "additionalData.UTILITY_BILL.address");
            assert!(!err.reason.is_empty());
        }
    }

    #[test]
    fn process_sides_follow_the_document_and_token_type() {
        use ImageSide::*;
        let id = Some(&DocumentType::IdCard);
        let err = |r: Result<(), Error>| match r {
            Err(Error::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        process_sides("LT", id, &TokenType::Identification, &[Front, Back, Face]).unwrap();
        process_sides(
            "lt",
            Some(&DocumentType::Passport),
            &TokenType::Identification,
            &[Front, Face],
        )
        .unwrap();
        process_sides("LT", None, &TokenType::Document, &[Front]).unwrap();
        assert_eq!(
            err(process_sides(
                "LT",
                id,
                &TokenType::Identification,
                &[Back, Face]
            )),
            "images.FRONT"
        );
        assert_eq!(
            err(process_sides(
                "LT",
                id,
                &TokenType::Identification,
                &[Front, Face]
            )),
            "images.BACK"
        );
        assert_eq!(
            err(process_sides(
                "LT",
                id,
                &TokenType::Identification,
                &[Front, Back]
            )),
            "images.FACE"
        );
        assert_eq!(
            err(process_sides(
                "ZZ",
                id,
                &TokenType::Document,
                &[Front, Back]
            )),
            "country"
        );
        assert_eq!(
            err(process_sides(
                "LT",
                Some(&DocumentType::Visa),
                &TokenType::Document,
                &[Front]
            )),
            "documentType"
        );
    }
}
