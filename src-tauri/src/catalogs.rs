//! Checks of the UI's string catalogs against the UI and the core: every
//! language words the same keys with the same placeholders, every key the
//! UI uses exists, and every error code has words.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn ui() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui")
}

fn catalog(lang: &str) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(ui().join("i18n").join(format!("{lang}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn placeholders(s: &str) -> BTreeSet<String> {
    s.split('{')
        .skip(1)
        .filter_map(|p| p.split_once('}').map(|(name, _)| name.to_owned()))
        .collect()
}

/// Literal keys in `t("...")` calls and `data-i18n="..."` attributes.
fn used_keys(text: &str) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for pat in ["t(\"", "data-i18n=\"", "i18nLabel = \""] {
        for (at, _) in text.match_indices(pat) {
            // `t(` alone, not the end of `createElement(`.
            let before = text[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let rest = &text[at + pat.len()..];
            if let Some((key, _)) = rest.split_once('"') {
                keys.insert(key.to_owned());
            }
        }
    }
    keys
}

#[test]
fn every_language_has_every_key_with_the_same_placeholders() {
    let en = catalog("en");
    for (code, _) in crate::commands::LANGUAGES {
        let other = catalog(code);
        let missing: Vec<_> = en.keys().filter(|k| !other.contains_key(*k)).collect();
        let extra: Vec<_> = other.keys().filter(|k| !en.contains_key(*k)).collect();
        assert!(missing.is_empty(), "{code} lacks {missing:?}");
        assert!(extra.is_empty(), "{code} has unknown {extra:?}");
        for (k, v) in &en {
            assert_eq!(
                placeholders(v),
                placeholders(&other[k]),
                "{code}: placeholders of {k}"
            );
            assert!(!other[k].trim().is_empty(), "{code}: {k} is empty");
        }
    }
}

#[test]
fn every_key_the_ui_uses_is_in_the_catalog() {
    let en = catalog("en");
    let mut used = BTreeSet::new();
    for file in ["index.html", "app.js", "staff.js", "widgets.js"] {
        used.extend(used_keys(
            &std::fs::read_to_string(ui().join(file)).unwrap(),
        ));
    }
    assert!(used.len() > 50, "found {} keys", used.len());
    let missing: Vec<_> = used.iter().filter(|k| !en.contains_key(*k)).collect();
    assert!(missing.is_empty(), "not in en.json: {missing:?}");
}

#[test]
fn every_error_code_and_quality_issue_has_words() {
    let en = catalog("en");
    for code in kyc_kiosk::ErrorCode::ALL {
        assert!(en.contains_key(&format!("error.{code}")), "error.{code}");
    }
    // The result screen names the expected fields that were cross-checked.
    for field in kyc_kiosk::session::ExpectedField::ALL {
        let name = serde_json::to_value(field).unwrap();
        let key = format!("field.{}", name.as_str().unwrap());
        assert!(en.contains_key(&key), "{key}");
    }
    for issue in kyc_kiosk::quality::Issue::ALL {
        let key = format!("hint.{}", issue.as_str());
        assert!(en.contains_key(&key), "{key}");
    }
}
