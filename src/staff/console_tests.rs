//! The staff console's rules, over a memory store and a temp folder.

use std::path::{Path, PathBuf};

use super::*;
use crate::staff::settings::FILE_NAME;
use crate::staff::MemoryStore;
use crate::ErrorCode;

const PIN: &str = "4829";
const START: Screen = Screen::Start;

fn pin(v: &str) -> Secret {
    Secret::new(v)
}

fn console_at(path: Option<PathBuf>) -> Console {
    Console::new(Setup {
        config: &Config::default(),
        file: StaffFile::default(),
        path,
        store: Box::new(MemoryStore::default()),
        keyring_error: None,
        languages: vec!["en".into(), "de".into()],
    })
}

/// A console saving into `dir`, with the PIN set (which leaves it open).
fn open_console(dir: &Path) -> Console {
    let c = console_at(Some(dir.join(FILE_NAME)));
    assert!(c.set_pin(START, &pin(PIN)).unwrap().unlocked);
    c
}

/// The form as the settings screen shows it now.
fn form(c: &Console) -> SettingsForm {
    c.status().settings.expect("the gate is open")
}

fn secrets_form(api_key: Option<&str>, api_secret: Option<&str>) -> SecretsForm {
    SecretsForm {
        api_key: api_key.map(Secret::new),
        api_secret: api_secret.map(Secret::new),
        ..SecretsForm::default()
    }
}

#[test]
fn secrets_form_reads_values_without_printing_them() {
    let f: SecretsForm = serde_json::from_str(r#"{"apiKey":"key-7788","apiSecret":null}"#).unwrap();
    assert_eq!(f.api_key.as_ref().unwrap().expose(), "key-7788");
    assert!(!format!("{f:?}").contains("key-7788"));
    assert!(!f.clear);
}

#[test]
fn status_serializes_flags_never_values() {
    let s = Status {
        pin_set: true,
        unlocked: true,
        locked_secs: None,
        settings: None,
        cameras: vec![],
        secrets: Some(SecretFlags {
            api_key: true,
            api_secret: true,
            signing_key: false,
        }),
        secret_store: "memory",
        keyring_error: None,
        backend: "sandbox",
        restart_needed: true,
    };
    let json = serde_json::to_string(&s).unwrap();
    assert!(json.contains(r#""secrets":{"apiKey":true,"apiSecret":true,"signingKey":false}"#));
}

#[test]
fn staff_actions_wait_until_the_customer_is_done() {
    let dir = tempfile::tempdir().unwrap();
    let c = open_console(dir.path());
    let settings = form(&c);
    for screen in [Screen::CreatingToken, Screen::Capture, Screen::Result] {
        let refusals = [
            c.unlock(screen, &pin(PIN)).map(drop),
            c.set_pin(screen, &pin("7351")).map(drop),
            c.save(screen, settings.clone()).map(drop),
            c.set_secrets(screen, secrets_form(Some("key-1234"), Some("secret-1234")))
                .map(drop),
            c.authorize(screen, "staff exit"),
        ];
        for r in refusals {
            let e = r.unwrap_err();
            assert!(matches!(e, Error::SessionOpen), "{screen:?}: {e}");
            assert_eq!(e.code(), ErrorCode::InvalidState);
        }
    }
    // Nothing changed: the old PIN, no secrets, no restart pending.
    let s = c.status();
    assert!(s.unlocked && !s.restart_needed, "{s:?}");
    assert_eq!(
        s.secrets,
        Some(SecretFlags {
            api_key: false,
            api_secret: false,
            signing_key: false
        })
    );
    c.lock();
    c.unlock(START, &pin(PIN)).unwrap();
    c.authorize(START, "staff exit").unwrap();
}

#[tokio::test]
async fn a_customer_session_closes_staff_functions() {
    let dir = tempfile::tempdir().unwrap();
    let c = open_console(dir.path());
    let answer = c.start_session(async { 7 }).await;
    assert_eq!(answer, 7);
    let s = c.status();
    assert!(!s.unlocked && s.settings.is_none() && s.secrets.is_none());
    assert!(matches!(
        c.authorize(START, "staff exit"),
        Err(Error::StaffOnly)
    ));

    // Also when the session refuses to start: a customer is at the kiosk.
    c.unlock(START, &pin(PIN)).unwrap();
    let r: Result<(), &str> = c.start_session(async { Err("bad form") }).await;
    assert!(r.is_err());
    assert!(!c.status().unlocked);
}

#[test]
fn every_action_but_unlocking_needs_the_pin() {
    let dir = tempfile::tempdir().unwrap();
    let c = open_console(dir.path());
    let settings = form(&c);
    c.lock();
    let s = c.status();
    assert!(s.pin_set && !s.unlocked && s.settings.is_none(), "{s:?}");
    for r in [
        c.set_pin(START, &pin("7351")).map(drop),
        c.save(START, settings).map(drop),
        c.set_secrets(START, SecretsForm::default()).map(drop),
        c.authorize(START, "staff restart"),
    ] {
        assert!(matches!(r, Err(Error::StaffOnly)), "{r:?}");
    }
    let e = c.unlock(START, &pin("5555")).unwrap_err();
    assert_eq!(e.code(), ErrorCode::PinWrong);
    assert!(c.unlock(START, &pin(PIN)).unwrap().unlocked);
}

#[test]
fn the_old_pin_stays_when_the_new_one_cannot_be_saved() {
    // No configuration directory: the first PIN is not set at all.
    let c = console_at(None);
    let e = c.set_pin(START, &pin(PIN)).unwrap_err();
    assert!(matches!(e, Error::NoConfigDir), "{e}");
    assert_eq!(e.code(), ErrorCode::Config);
    assert!(!c.status().pin_set);
    assert!(matches!(c.unlock(START, &pin(PIN)), Err(Error::NoPin)));

    // The folder of the file turns into a file: the new PIN cannot be saved.
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("cfg");
    let c = console_at(Some(sub.join(FILE_NAME)));
    c.set_pin(START, &pin(PIN)).unwrap();
    std::fs::remove_dir_all(&sub).unwrap();
    std::fs::write(&sub, "not a folder").unwrap();
    let e = c.set_pin(START, &pin("7351")).unwrap_err();
    assert_eq!(e.code(), ErrorCode::Config, "{e}");
    c.lock();
    assert_eq!(
        c.unlock(START, &pin("7351")).unwrap_err().code(),
        ErrorCode::PinWrong
    );
    assert!(c.unlock(START, &pin(PIN)).unwrap().unlocked);
}

#[test]
fn the_form_maps_onto_the_file_and_applies_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let c = open_console(dir.path());
    let mut f = form(&c);
    f.default_country = Some(" de ".into());
    f.documents = vec!["PASSPORT".into(), "ID_CARD".into()];
    f.language = "de".into();
    f.document_camera = Some("Document camera".into());
    f.selfie_camera = Some("  ".into());
    f.idle_timeout_secs = 90;
    let s = c.save(START, f).unwrap();

    let file = StaffFile::load(&dir.path().join(FILE_NAME)).unwrap();
    assert_eq!(file.kiosk.default_country.as_deref(), Some("DE"));
    assert_eq!(
        file.kiosk.documents.as_deref(),
        Some(&["PASSPORT".to_owned(), "ID_CARD".to_owned()][..])
    );
    assert_eq!(file.kiosk.language.as_deref(), Some("de"));
    assert_eq!(file.kiosk.idle_timeout_secs, Some(90));
    assert_eq!(file.kiosk.kiosk_mode, Some(false));
    assert!(file.kiosk.staff_pin_hash.is_some(), "the PIN hash is kept");
    assert_eq!(file.camera.document.as_deref(), Some("Document camera"));
    assert_eq!(file.camera.selfie, None, "blank means the first camera");

    // The form defaults and the language apply at once.
    assert_eq!(c.kiosk().default_country.as_deref(), Some("DE"));
    assert_eq!(
        c.kiosk().documents,
        [
            crate::capture::DocumentType::Passport,
            crate::capture::DocumentType::IdCard
        ]
    );
    assert_eq!(c.language(), "de");
    let shown = s.settings.unwrap();
    assert_eq!(shown.default_country.as_deref(), Some("DE"));
    assert_eq!(shown.selfie_camera, None);
    assert_eq!(shown.language, "de");
}

#[test]
fn a_bad_value_is_named_and_nothing_is_saved() {
    let dir = tempfile::tempdir().unwrap();
    let c = open_console(dir.path());
    let path = dir.path().join(FILE_NAME);
    let before = std::fs::read_to_string(&path).unwrap();
    let shown = form(&c);
    for (field, edit) in [
        (
            "idleTimeoutSecs",
            Box::new(|f: &mut SettingsForm| f.idle_timeout_secs = 5)
                as Box<dyn Fn(&mut SettingsForm)>,
        ),
        (
            "defaultCountry",
            Box::new(|f: &mut SettingsForm| f.default_country = Some("XX".into())),
        ),
        (
            "documents",
            Box::new(|f: &mut SettingsForm| f.documents = vec![]),
        ),
        (
            "language",
            Box::new(|f: &mut SettingsForm| f.language = "xx".into()),
        ),
    ] {
        let mut f = shown.clone();
        f.default_country = Some("LT".into());
        edit(&mut f);
        let e = c.save(START, f).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidInput, "{field}: {e}");
        assert_eq!(e.field(), Some(field), "{e}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
        assert_eq!(form(&c), shown, "{field}: the settings in effect stay");
    }
    // The language is checked before the gate.
    c.lock();
    let mut f = shown;
    f.language = "xx".into();
    let e = c.save(START, f).unwrap_err();
    assert_eq!(e.to_string(), "language: no catalog for `xx`");
}

#[test]
fn restart_is_needed_only_for_what_applies_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let c = open_console(dir.path());
    let start = form(&c);
    let restart = |edit: &dyn Fn(&mut SettingsForm)| {
        let mut f = start.clone();
        edit(&mut f);
        c.save(START, f).unwrap().restart_needed
    };
    assert!(!restart(&|f| f.default_country = Some("DE".into())));
    assert!(!restart(&|f| f.documents = vec!["PASSPORT".into()]));
    assert!(!restart(&|f| f.language = "de".into()));
    assert!(restart(&|f| f.idle_timeout_secs += 30));
    assert!(!restart(&|_| ()), "back to what the kiosk started with");
    assert!(restart(&|f| f.kiosk_mode = !f.kiosk_mode));
    assert!(restart(
        &|f| f.document_camera = Some("Document camera".into())
    ));
    assert!(restart(&|f| f.selfie_camera = Some("1".into())));
    assert!(!restart(&|_| ()));
    // Secrets are read at start only.
    let s = c
        .set_secrets(START, secrets_form(Some("key-1234"), Some("secret-1234")))
        .unwrap();
    assert!(s.restart_needed);
    assert!(restart(&|_| ()), "stays needed");
}

#[test]
fn the_secrets_form_stores_only_what_was_typed() {
    let dir = tempfile::tempdir().unwrap();
    let c = open_console(dir.path());
    for empty in [
        SecretsForm::default(),
        secrets_form(Some(""), None),
        secrets_form(Some(""), Some("")),
    ] {
        let e = c.set_secrets(START, empty).unwrap_err();
        assert!(matches!(e, Error::NothingToStore), "{e}");
        assert_eq!(e.code(), ErrorCode::InvalidInput);
        assert_eq!(e.field(), None);
    }
    // A key needs its secret; a bad value is named, never echoed.
    let e = c
        .set_secrets(START, secrets_form(Some("key-1234"), Some("")))
        .unwrap_err();
    assert_eq!(e.field(), Some("apiSecret"), "{e}");
    let e = c
        .set_secrets(START, secrets_form(Some("key-1234"), Some("with space")))
        .unwrap_err();
    assert_eq!(e.field(), Some("apiSecret"), "{e}");
    assert!(!e.to_string().contains("with space"));
    let s = c.status();
    assert!(!s.restart_needed, "nothing stored");
    let none = SecretFlags {
        api_key: false,
        api_secret: false,
        signing_key: false,
    };
    assert_eq!(s.secrets, Some(none.clone()));

    let s = c
        .set_secrets(START, secrets_form(Some("key-1234"), Some("secret-1234")))
        .unwrap();
    assert_eq!(
        s.secrets,
        Some(SecretFlags {
            api_key: true,
            api_secret: true,
            signing_key: false
        })
    );
    assert!(!serde_json::to_string(&s).unwrap().contains("secret-1234"));
    let s = c
        .set_secrets(
            START,
            SecretsForm {
                clear: true,
                ..SecretsForm::default()
            },
        )
        .unwrap();
    assert_eq!(s.secrets, Some(none));
}

#[test]
fn the_language_needs_a_catalog() {
    let c = console_at(None);
    assert_eq!(c.language(), "en");
    let e = c.set_language("xx").unwrap_err();
    assert_eq!(e.to_string(), "no catalog for `xx`");
    assert_eq!((e.code(), e.field()), (ErrorCode::InvalidInput, None));
    c.set_language("de").unwrap();
    assert_eq!(c.language(), "de");
}
