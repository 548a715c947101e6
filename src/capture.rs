//! What the kiosk photographs: the camera [`Role`] (a document or the
//! customer) and the [`DocumentType`]s it accepts. The configuration, the
//! cameras, the quality checks and the session all speak of these; this
//! module owns them and depends on no other module of the crate, so none of
//! those has to depend on another for them. The vendor's own document enum
//! (`idenfy::DocumentType`, lenient) is converted from [`DocumentType`].

use serde::{Deserialize, Serialize};

/// What a camera is used for, and so what a photo is of: it decides the
/// format a camera is opened with, the quality limits and where glare matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The identity document: resolution matters most.
    Document,
    /// The customer's face: a fluid preview matters most.
    Selfie,
}

/// The documents the kiosk accepts: those it can photograph and submit by
/// direct processing. Spelled as the API spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DocumentType {
    IdCard,
    Passport,
    DriverLicense,
    ResidencePermit,
}

impl DocumentType {
    /// Every accepted type, in the order a form lists them.
    pub const ALL: [Self; 4] = [
        Self::IdCard,
        Self::Passport,
        Self::DriverLicense,
        Self::ResidencePermit,
    ];

    /// Whether `/process` requires a BACK image for this type.
    #[must_use]
    pub fn has_back(self) -> bool {
        !matches!(self, Self::Passport)
    }

    /// Parses the API's name (any case, surrounding blanks ignored); `None`
    /// for a type the kiosk does not take.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|d| d.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// The API's name for the type.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::IdCard => "ID_CARD",
            Self::Passport => "PASSPORT",
            Self::DriverLicense => "DRIVER_LICENSE",
            Self::ResidencePermit => "RESIDENCE_PERMIT",
        }
    }
}

impl std::fmt::Display for DocumentType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_serialize_as_the_quality_report_spells_them() {
        assert_eq!(
            serde_json::to_string(&Role::Document).unwrap(),
            "\"document\""
        );
        assert_eq!(serde_json::to_string(&Role::Selfie).unwrap(), "\"selfie\"");
    }

    #[test]
    fn document_names_round_trip() {
        for d in DocumentType::ALL {
            assert_eq!(DocumentType::parse(d.as_str()), Some(d));
            assert_eq!(d.to_string(), d.as_str());
            let json = serde_json::to_string(&d).unwrap();
            assert_eq!(serde_json::from_str::<DocumentType>(&json).unwrap(), d);
        }
    }
}
