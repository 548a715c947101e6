//! Wire models of the iDenfy API (`/api/v2/...`), shared by the client and the
//! sandbox. Decoding is lenient on purpose: unknown fields are ignored and a
//! vendor enum value we do not know becomes `Unknown(..)`, so a new value from
//! the API never breaks a verification in progress.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

macro_rules! newtype {
    ($(#[$m:meta])* $name:ident) => {
        newtype!(@def $(#[$m])* $name);
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.0).finish()
            }
        }
    };
    // A bearer value: its Debug form (logs, panics, a struct that holds it)
    // never shows it.
    ($(#[$m:meta])* masked $name:ident) => {
        newtype!(@def $(#[$m])* $name);
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "(***)"))
            }
        }
    };
    (@def $(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// The identifier as sent on the wire.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }
    };
}

newtype!(
    /// iDenfy's identifier of one verification (`scanRef`). Not personal data.
    ScanRef
);
newtype!(
    /// The single-use session token (`authToken`) that `/process` spends.
    masked AuthToken
);
newtype!(
    /// The caller's identifier of the customer (`clientId`).
    ClientId
);

/// A vendor enum: known values as variants, anything else kept in `Unknown`.
macro_rules! vendor_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($variant,)+
            /// A value this version does not know yet.
            Unknown(String),
        }

        impl $name {
            /// Every known value, in documentation order.
            pub const KNOWN: &'static [$name] = &[$($name::$variant),+];

            /// The value as sent on the wire.
            #[must_use]
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)+
                    Self::Unknown(s) => s,
                }
            }

            /// Parse a wire value; unknown values are kept, not refused.
            #[must_use]
            pub fn parse(s: &str) -> Self {
                match s {
                    $($wire => Self::$variant,)+
                    other => Self::Unknown(other.to_owned()),
                }
            }

            /// True when the value is one this version knows.
            #[must_use]
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Unknown(_))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            // `null` is kept as an unknown (empty) value too: a result
            // must never be lost to the shape of one field.
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = Option::<String>::deserialize(d)?.unwrap_or_default();
                Ok(Self::parse(&s))
            }
        }
    };
}

vendor_enum!(
    /// Document types (token `documents`, `/process` `documentType`, `/data` `docType`).
    DocumentType {
        IdCard => "ID_CARD",
        Passport => "PASSPORT",
        ResidencePermit => "RESIDENCE_PERMIT",
        DriverLicense => "DRIVER_LICENSE",
        Aadhaar => "AADHAAR",
        PanCard => "PAN_CARD",
        Visa => "VISA",
        BorderCrossing => "BORDER_CROSSING",
        Asylum => "ASYLUM",
        NationalPassport => "NATIONAL_PASSPORT",
        VoterCard => "VOTER_CARD",
        OldIdCard => "OLD_ID_CARD",
        TravelCard => "TRAVEL_CARD",
        PhotoCard => "PHOTO_CARD",
        MilitaryCard => "MILITARY_CARD",
        ProofOfAgeCard => "PROOF_OF_AGE_CARD",
        DiplomaticId => "DIPLOMATIC_ID",
        ProvisionalDriverLicense => "PROVISIONAL_DRIVER_LICENSE",
        BankIdSe => "BANK_ID_SE",
        AddressCard => "ADDRESS_CARD",
    }
);

impl DocumentType {
    /// The values the token's `documents` list accepts.
    pub const TOKEN_DOCUMENTS: &'static [&'static str] = &[
        "ID_CARD",
        "PASSPORT",
        "RESIDENCE_PERMIT",
        "DRIVER_LICENSE",
        "AADHAAR",
        "PAN_CARD",
        "VISA",
        "BORDER_CROSSING",
        "ASYLUM",
        "NATIONAL_PASSPORT",
        "VOTER_CARD",
        "OLD_ID_CARD",
        "TRAVEL_CARD",
        "PHOTO_CARD",
        "MILITARY_CARD",
        "PROOF_OF_AGE_CARD",
        "DIPLOMATIC_ID",
    ];
    /// The values `/process` accepts as `documentType`.
    pub const PROCESS_DOCUMENTS: &'static [&'static str] =
        &["ID_CARD", "PASSPORT", "DRIVER_LICENSE", "RESIDENCE_PERMIT"];

    /// Whether the document has a back side that `/process` then requires.
    /// A passport is a single page; the cards have two sides.
    #[must_use]
    pub fn has_back_side(&self) -> bool {
        matches!(
            self,
            Self::IdCard | Self::DriverLicense | Self::ResidencePermit
        )
    }
}

vendor_enum!(
    /// What the verification consists of (`tokenType`).
    TokenType {
        Document => "DOCUMENT",
        Identification => "IDENTIFICATION",
        VideoCall => "VIDEO_CALL",
        VideoCallPhotos => "VIDEO_CALL_PHOTOS",
        VideoCallIdentification => "VIDEO_CALL_IDENTIFICATION",
    }
);

impl TokenType {
    /// Whether a selfie (`FACE`) is part of the verification.
    #[must_use]
    pub fn needs_face(&self) -> bool {
        !matches!(self, Self::Document)
    }
}

vendor_enum!(
    /// Test results a token may ask for (`dummyStatus`).
    DummyStatus {
        Approved => "APPROVED",
        Denied => "DENIED",
        Suspected => "SUSPECTED",
        Expired => "EXPIRED",
    }
);

vendor_enum!(
    /// The overall status of a verification.
    OverallStatus {
        Approved => "APPROVED",
        Denied => "DENIED",
        Suspected => "SUSPECTED",
        Reviewing => "REVIEWING",
        Active => "ACTIVE",
        Expired => "EXPIRED",
        ExpiredDeleted => "EXPIRED-DELETED",
        Deleted => "DELETED",
        Archived => "ARCHIVED",
    }
);

impl OverallStatus {
    /// True for the three verdicts a verification ends with.
    #[must_use]
    pub fn is_verdict(&self) -> bool {
        matches!(self, Self::Approved | Self::Denied | Self::Suspected)
    }
}

vendor_enum!(
    /// Document analysis result (`autoDocument`, `manualDocument`).
    DocumentStatus {
        DocValidated => "DOC_VALIDATED",
        DocInfoMismatch => "DOC_INFO_MISMATCH",
        DocNotFound => "DOC_NOT_FOUND",
        DocNotFullyVisible => "DOC_NOT_FULLY_VISIBLE",
        DocNotSupported => "DOC_NOT_SUPPORTED",
        DocFaceNotFound => "DOC_FACE_NOT_FOUND",
        DocTooBlurry => "DOC_TOO_BLURRY",
        DocGlared => "DOC_GLARED",
        DocFaceGlared => "DOC_FACE_GLARED",
        MrzNotFound => "MRZ_NOT_FOUND",
        MrzOcrReadingError => "MRZ_OCR_READING_ERROR",
        BarcodeNotFound => "BARCODE_NOT_FOUND",
        DocExpired => "DOC_EXPIRED",
        CountryMismatch => "COUNTRY_MISMATCH",
        DocTypeMismatch => "DOC_TYPE_MISMATCH",
        DocSideMismatch => "DOC_SIDE_MISMATCH",
        DocDamaged => "DOC_DAMAGED",
        DocFake => "DOC_FAKE",
        DocError => "DOC_ERROR",
        AutoUnverifiable => "AUTO_UNVERIFIABLE",
        DocNotAnalysed => "DOC_NOT_ANALYSED",
        DocNameError => "DOC_NAME_ERROR",
        DocSurnameError => "DOC_SURNAME_ERROR",
        DocExpiryError => "DOC_EXPIRY_ERROR",
        DocDobError => "DOC_DOB_ERROR",
        DocPersonalNumberError => "DOC_PERSONAL_NUMBER_ERROR",
        DocNumberError => "DOC_NUMBER_ERROR",
        DocDateOfIssueError => "DOC_DATE_OF_ISSUE_ERROR",
        DocSexError => "DOC_SEX_ERROR",
        DocNationalityError => "DOC_NATIONALITY_ERROR",
        CountryNotSupported => "COUNTRY_NOT_SUPPORTED",
        DocPersonalCodeInvalid => "DOC_PERSONAL_CODE_INVALID",
        DocSpoofDetected => "DOC_SPOOF_DETECTED",
        MrzInvalid => "MRZ_INVALID",
        DocNotAllowed => "DOC_NOT_ALLOWED",
    }
);

vendor_enum!(
    /// Face analysis result (`autoFace`, `manualFace`).
    FaceStatus {
        FaceMatch => "FACE_MATCH",
        FaceMismatch => "FACE_MISMATCH",
        NoFaceFound => "NO_FACE_FOUND",
        TooManyFaces => "TOO_MANY_FACES",
        FaceUncertain => "FACE_UNCERTAIN",
        FakeFace => "FAKE_FACE",
        FaceNotChecked => "FACE_NOT_CHECKED",
        FaceTooBlurry => "FACE_TOO_BLURRY",
        FaceGlared => "FACE_GLARED",
        FaceError => "FACE_ERROR",
        AutoUnverifiable => "AUTO_UNVERIFIABLE",
    }
);

vendor_enum!(
    /// Why a verification is SUSPECTED (`fraudTags`).
    FraudTag {
        FaceSuspected => "FACE_SUSPECTED",
        FaceBlacklisted => "FACE_BLACKLISTED",
        DocFaceBlacklisted => "DOC_FACE_BLACKLISTED",
        DocMobilePhoto => "DOC_MOBILE_PHOTO",
        DevToolsOpened => "DEV_TOOLS_OPENED",
        DocPrintSpoofed => "DOC_PRINT_SPOOFED",
        FakePhoto => "FAKE_PHOTO",
        AmlSuspection => "AML_SUSPECTION",
        AmlFailed => "AML_FAILED",
        LidSuspection => "LID_SUSPECTION",
        LidFailed => "LID_FAILED",
        UtilityAddressCheckFailure => "UTILITY_ADDRESS_CHECK_FAILURE",
        VirtualCamera => "VIRTUAL_CAMERA",
        FaceInBlacklist => "FACE_IN_BLACKLIST",
        DocFaceInBlacklist => "DOC_FACE_IN_BLACKLIST",
        DuplicateFace => "DUPLICATE_FACE",
        DuplicateDocFace => "DUPLICATE_DOC_FACE",
    }
);

vendor_enum!(
    /// Where document data differs from what the token said (`mismatchTags`).
    MismatchTag {
        Name => "NAME",
        Surname => "SURNAME",
        DocumentNumber => "DOCUMENT_NUMBER",
        PersonalCode => "PERSONAL_CODE",
        ExpiryDate => "EXPIRY_DATE",
        DateOfBirth => "DATE_OF_BIRTH",
        DateOfIssue => "DATE_OF_ISSUE",
        FullName => "FULL_NAME",
        UnderAge => "UNDER_AGE",
        UnknownAge => "UNKNOWN_AGE",
        Sex => "SEX",
        Nationality => "NATIONALITY",
        InvalidAdditionalStep => "INVALID_ADDITIONAL_STEP",
        AdditionalStepNotFound => "ADDITIONAL_STEP_NOT_FOUND",
        DocInfoMismatch => "DOC_INFO_MISMATCH",
        AdditionalStepInformationMismatch => "ADDITIONAL_STEP_INFORMATION_MISMATCH",
        ExpiredAdditionalStepInformation => "EXPIRED_ADDITIONAL_STEP_INFORMATION",
    }
);

vendor_enum!(
    /// Keys of the `/process` `images` object.
    ImageSide {
        Front => "FRONT",
        Back => "BACK",
        Face => "FACE",
        UtilityBill => "UTILITY_BILL",
        SecondUtilityBill => "SECOND_UTILITY_BILL",
    }
);

/// `POST /api/v2/token`: every documented field, including the custom
/// settings and `dummyStatus`. Only `clientId` is required; `None` fields are
/// not sent, so iDenfy's (or the environment's) defaults apply.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenRequest {
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unverified_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_instructions: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_time: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_length: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documents: Option<Vec<DocumentType>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_expiry: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_issue: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nationality: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personal_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generate_digit_string: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<TokenType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utility_bill: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_steps: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_data: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub questionnaire: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_assessment_profile: Option<String>,
    /// Test result to force (sandbox and test environments).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dummy_status: Option<DummyStatus>,
    // Custom settings (they must be enabled on the environment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_liveness: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_successful: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_failed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver_license_back: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_aml_monitoring: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fraud_services: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_ip_proxy: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_face_blacklist: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_doc_face_blacklist: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_duplicate_faces: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_duplicate_doc_faces: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nfc_required: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub levenshtein_text_match_ratio: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub levenshtein_mrz_match_ratio: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detection_types: Option<Vec<String>>,
}

/// Wipes what describes the customer: the client ID, names, expected data
/// and address (callers hold a request in `Zeroizing`, which calls this on
/// drop).
impl zeroize::Zeroize for TokenRequest {
    fn zeroize(&mut self) {
        self.client_id.zeroize();
        self.first_name.zeroize();
        self.last_name.zeroize();
        self.date_of_birth.zeroize();
        self.date_of_expiry.zeroize();
        self.date_of_issue.zeroize();
        self.nationality.zeroize();
        self.personal_number.zeroize();
        self.document_number.zeroize();
        self.sex.zeroize();
        self.address.zeroize();
        self.external_ref.zeroize();
        // The proof-of-address compare address travels in additionalData.
        if let Some(d) = &mut self.additional_data {
            wipe_strings(d);
        }
        self.additional_data = None;
    }
}

/// Zeroizes every string value inside `v` (keys are the API's names).
fn wipe_strings(v: &mut serde_json::Value) {
    use zeroize::Zeroize as _;
    match v {
        serde_json::Value::String(s) => s.zeroize(),
        serde_json::Value::Array(a) => a.iter_mut().for_each(wipe_strings),
        serde_json::Value::Object(o) => o.values_mut().for_each(wipe_strings),
        _ => {}
    }
}

impl TokenRequest {
    /// Whether the token asks for a utility bill: `utilityBill: true`, or a
    /// `UTILITY_BILL` step anywhere in `additionalSteps` (whatever the
    /// country and document nesting around it).
    #[must_use]
    pub fn asks_for_utility_bill(&self) -> bool {
        fn has_step(v: &serde_json::Value) -> bool {
            v.as_object().is_some_and(|o| {
                o.iter()
                    .any(|(k, v)| k == ImageSide::UtilityBill.as_str() || has_step(v))
            })
        }
        self.utility_bill == Some(true) || self.additional_steps.as_ref().is_some_and(has_step)
    }

    /// A request with only the mandatory `clientId`.
    #[must_use]
    pub fn new(client_id: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            ..Self::default()
        }
    }

    /// The token type, IDENTIFICATION when not given (the documented default).
    #[must_use]
    pub fn effective_token_type(&self) -> TokenType {
        self.token_type.clone().unwrap_or(TokenType::Identification)
    }
}

/// The answer to `POST /api/v2/token` (HTTP 200 or 201). It echoes the request
/// with defaults filled in; only the identifiers are required.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenResponse {
    #[serde(default)]
    pub message: Option<String>,
    pub auth_token: AuthToken,
    pub scan_ref: ScanRef,
    pub client_id: ClientId,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub locale: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub expiry_time: Option<u64>,
    #[serde(default)]
    pub session_length: Option<u64>,
    #[serde(default)]
    pub documents: Option<Vec<DocumentType>>,
    #[serde(default)]
    pub token_type: Option<TokenType>,
    #[serde(default)]
    pub digit_string: Option<String>,
    #[serde(default)]
    pub callback_url: Option<String>,
    #[serde(default)]
    pub external_ref: Option<String>,
    #[serde(default)]
    pub utility_bill: Option<bool>,
    #[serde(default)]
    pub additional_steps: Option<serde_json::Value>,
}

/// `POST /api/v2/process` as it goes on the wire: images are plain standard
/// base64 (no `data:` prefix). The client builds it from
/// [`crate::idenfy::ProcessRequest`]; the sandbox decodes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessBody {
    pub token: AuthToken,
    pub country: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_type: Option<DocumentType>,
    pub images: BTreeMap<ImageSide, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_analysis: Option<bool>,
}

/// iDenfy's error body. Some errors carry no `identifier`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub identifier: Option<String>,
    #[serde(default)]
    pub documentation: Option<String>,
    #[serde(default)]
    pub severity: Option<String>,
}

/// `POST /api/v2/status`, `/data`, `/files`, `/delete` request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScanRefBody {
    pub scan_ref: ScanRef,
}

/// The answer to `POST /api/v2/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusResponse {
    pub status: OverallStatus,
    #[serde(default)]
    pub scan_ref: Option<ScanRef>,
    #[serde(default)]
    pub client_id: Option<ClientId>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub fraud_tags: Vec<FraudTag>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub mismatch_tags: Vec<MismatchTag>,
    #[serde(default)]
    pub auto_document: Option<DocumentStatus>,
    #[serde(default)]
    pub auto_face: Option<FaceStatus>,
    #[serde(default)]
    pub manual_document: Option<DocumentStatus>,
    #[serde(default)]
    pub manual_face: Option<FaceStatus>,
}

/// Document data (`/data`, and `data` in the webhook). Any field may be null.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationData {
    pub doc_first_name: Option<String>,
    pub doc_last_name: Option<String>,
    pub doc_number: Option<String>,
    pub doc_personal_code: Option<String>,
    pub doc_expiry: Option<String>,
    pub doc_dob: Option<String>,
    pub doc_date_of_issue: Option<String>,
    pub doc_type: Option<DocumentType>,
    pub doc_sex: Option<String>,
    pub doc_nationality: Option<String>,
    pub doc_issuing_country: Option<String>,
    pub doc_temporary_address: Option<String>,
    pub doc_birth_name: Option<String>,
    pub birth_place: Option<String>,
    pub authority: Option<String>,
    pub address: Option<String>,
    pub mothers_maiden_name: Option<String>,
    pub driver_license_category: Option<String>,
    pub manually_data_changed: Option<bool>,
    pub full_name: Option<String>,
    pub selected_country: Option<String>,
    pub org_first_name: Option<String>,
    pub org_last_name: Option<String>,
    pub org_nationality: Option<String>,
    pub org_birth_place: Option<String>,
    pub org_authority: Option<String>,
    pub org_address: Option<String>,
    pub org_temporary_address: Option<String>,
    pub org_mothers_maiden_name: Option<String>,
    pub org_birth_name: Option<String>,
    pub age_estimate: Option<String>,
    pub client_ip_proxy_risk_level: Option<String>,
    pub duplicate_faces: Option<Vec<String>>,
    pub duplicate_doc_faces: Option<Vec<String>>,
    pub address_verification: Option<serde_json::Value>,
    pub additional_data: Option<serde_json::Value>,
}

/// The answer to `POST /api/v2/data`: the document data plus identifiers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataResponse {
    #[serde(flatten)]
    pub data: VerificationData,
    #[serde(default)]
    pub scan_ref: Option<ScanRef>,
    #[serde(default)]
    pub client_id: Option<ClientId>,
}

/// The answer to `POST /api/v2/files`. Use `fileUrls`; the top-level copies
/// may go away (so they are not modelled).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilesResponse {
    #[serde(default, deserialize_with = "null_as_empty")]
    pub file_urls: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub video_urls: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub additional_step_pdf_urls: BTreeMap<String, String>,
}

/// `status` object of the webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookStatus {
    /// Unknown (empty) when missing or `null`.
    #[serde(default = "unknown_overall")]
    pub overall: OverallStatus,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub fraud_tags: Vec<FraudTag>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub mismatch_tags: Vec<MismatchTag>,
    #[serde(default)]
    pub auto_face: Option<FaceStatus>,
    #[serde(default)]
    pub manual_face: Option<FaceStatus>,
    #[serde(default)]
    pub auto_document: Option<DocumentStatus>,
    #[serde(default)]
    pub manual_document: Option<DocumentStatus>,
    #[serde(default)]
    pub additional_steps: Option<serde_json::Value>,
}

/// The verification result iDenfy posts to the webhook endpoint. `final`
/// false is the automatic result when a manual review follows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookPayload {
    #[serde(rename = "final")]
    pub is_final: bool,
    #[serde(default)]
    pub platform: Option<String>,
    pub status: WebhookStatus,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub data: VerificationData,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub file_urls: BTreeMap<String, String>,
    pub scan_ref: ScanRef,
    #[serde(default)]
    pub client_id: Option<ClientId>,
    #[serde(default)]
    pub start_time: Option<i64>,
    #[serde(default)]
    pub finish_time: Option<i64>,
    #[serde(default)]
    pub client_ip: Option<String>,
    #[serde(default)]
    pub client_ip_country: Option<String>,
    #[serde(default)]
    pub client_location: Option<String>,
}

/// A webhook status without `overall`: kept, as an unknown value.
fn unknown_overall() -> OverallStatus {
    OverallStatus::Unknown(String::new())
}

/// `null` (which iDenfy sends for empty lists and maps) decodes as empty.
fn null_as_empty<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_enum_values_are_kept_not_refused() {
        let s: StatusResponse = serde_json::from_str(
            r#"{"status":"NEW_STATUS","fraudTags":["X_TAG"],"mismatchTags":null,"autoFace":"FACE_MATCH","extra":1}"#,
        )
        .unwrap();
        assert_eq!(s.status, OverallStatus::Unknown("NEW_STATUS".into()));
        assert_eq!(s.fraud_tags, vec![FraudTag::Unknown("X_TAG".into())]);
        assert!(s.mismatch_tags.is_empty());
        assert_eq!(s.auto_face, Some(FaceStatus::FaceMatch));
        assert_eq!(serde_json::to_value(&s.status).unwrap(), "NEW_STATUS");
    }

    /// A signed result is never lost to the shape of a field: `data`
    /// and `overall` as `null`, `overall` missing, a tag list `null`.
    #[test]
    fn webhook_nulls_decode_as_empty_or_unknown() {
        let body = r#"{"final":true,"status":{"overall":null,"fraudTags":null,
            "mismatchTags":["NAME"],"autoFace":null},"data":null,"fileUrls":null,
            "scanRef":"s-1","clientId":null}"#;
        let p: WebhookPayload = serde_json::from_str(body).unwrap();
        assert_eq!(p.status.overall, OverallStatus::Unknown(String::new()));
        assert!(!p.status.overall.is_known());
        assert!(p.status.fraud_tags.is_empty());
        assert_eq!(p.status.mismatch_tags.len(), 1);
        assert_eq!(p.status.auto_face, None);
        assert_eq!(p.data, VerificationData::default());
        assert_eq!(p.client_id, None);
        let p: WebhookPayload =
            serde_json::from_str(r#"{"final":false,"status":{},"scanRef":"s-2"}"#).unwrap();
        assert_eq!(p.status.overall, OverallStatus::Unknown(String::new()));
        // What cannot be read at all still fails: no scanRef, or `final` not a bool.
        assert!(serde_json::from_str::<WebhookPayload>(r#"{"final":true,"status":{}}"#).is_err());
        assert!(serde_json::from_str::<WebhookPayload>(
            r#"{"final":"yes","status":{},"scanRef":"s-3"}"#
        )
        .is_err());
    }

    /// The token answer holds the bearer token: its Debug form (a log line,
    /// a panic message) shows neither it nor, through it, a way in.
    #[test]
    fn the_auth_token_never_shows_in_debug_output() {
        let r: TokenResponse = serde_json::from_str(
            r#"{"authToken":"tok-SECRET-123","scanRef":"s-1","clientId":"c-1"}"#,
        )
        .unwrap();
        let shown = format!("{r:?} {:?}", r.auth_token);
        assert!(!shown.contains("tok-SECRET-123"), "{shown}");
        assert!(shown.contains("AuthToken(***)"), "{shown}");
        assert!(shown.contains("s-1"), "identifiers stay readable: {shown}");
        // On the wire it is the token, unchanged.
        assert_eq!(
            serde_json::to_value(&r.auth_token).unwrap(),
            "tok-SECRET-123"
        );
    }

    #[test]
    fn wire_names_round_trip() {
        for d in DocumentType::KNOWN {
            assert_eq!(&DocumentType::parse(d.as_str()), d);
        }
        assert_eq!(
            OverallStatus::parse("EXPIRED-DELETED"),
            OverallStatus::ExpiredDeleted
        );
        let req = TokenRequest {
            dummy_status: Some(DummyStatus::Denied),
            token_type: Some(TokenType::Document),
            ..TokenRequest::new("c1")
        };
        let v = serde_json::to_value(&req).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"clientId":"c1","dummyStatus":"DENIED","tokenType":"DOCUMENT"})
        );
    }

    #[test]
    fn back_side_rule() {
        assert!(DocumentType::IdCard.has_back_side());
        assert!(!DocumentType::Passport.has_back_side());
    }
}
