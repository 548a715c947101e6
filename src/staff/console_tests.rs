//! The staff console's rules, over a memory store and a temp folder.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use super::*;
use crate::config::RawConfig;
use crate::staff::pin::{MAX_FAILURES, MEMORY_KIB};
use crate::staff::settings::FILE_NAME;
use crate::staff::MemoryStore;
use crate::ErrorCode;

const PIN: &str = "482913";
const START: Screen = Screen::Start;

fn pin(v: &str) -> Secret {
    Secret::new(v)
}

fn console_at(path: Option<PathBuf>) -> Console {
    console_with(&Config::default(), StaffFile::default(), path)
}

fn console_with(config: &Config, file: StaffFile, path: Option<PathBuf>) -> Console {
    Console::new(Setup {
        config,
        file,
        path,
        store: Box::new(MemoryStore::default()),
        keyring_error: None,
        languages: vec!["en".into(), "de".into()],
    })
}

/// A console over `dir` as the app starts one: the staff file there laid
/// over `raw` (the config file's values).
fn restart(dir: &Path, raw: RawConfig) -> Console {
    let path = dir.join(FILE_NAME);
    let file = StaffFile::load(&path).unwrap();
    let config = file.overlay(raw).validate().unwrap();
    console_with(&config, file, Some(path))
}

/// A console saving into `dir`, with the PIN set (which leaves it open).
async fn open_console(dir: &Path) -> Console {
    let c = console_at(Some(dir.join(FILE_NAME)));
    assert!(c.set_pin(START, &pin(PIN)).await.unwrap().unlocked);
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
            relay_key: true,
        }),
        secret_store: "memory",
        keyring_error: None,
        backend: "sandbox",
        restart_needed: true,
    };
    let json = serde_json::to_string(&s).unwrap();
    assert!(json.contains(
        r#""secrets":{"apiKey":true,"apiSecret":true,"signingKey":false,"relayKey":true}"#
    ));
}

#[tokio::test]
async fn staff_actions_wait_until_the_customer_is_done() {
    let dir = tempfile::tempdir().unwrap();
    let c = open_console(dir.path()).await;
    let settings = form(&c);
    for screen in [Screen::CreatingToken, Screen::Capture, Screen::Result] {
        let refusals = [
            c.unlock(screen, &pin(PIN)).await.map(drop),
            c.set_pin(screen, &pin("735102")).await.map(drop),
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
            signing_key: false,
            relay_key: false
        })
    );
    c.lock();
    c.unlock(START, &pin(PIN)).await.unwrap();
    c.authorize(START, "staff exit").unwrap();
}

#[tokio::test]
async fn a_customer_session_closes_staff_functions() {
    let dir = tempfile::tempdir().unwrap();
    let c = open_console(dir.path()).await;
    let answer = c.start_session(None, async { 7 }).await.unwrap();
    assert_eq!(answer, 7);
    let s = c.status();
    assert!(!s.unlocked && s.settings.is_none() && s.secrets.is_none());
    assert!(matches!(
        c.authorize(START, "staff exit"),
        Err(Error::StaffOnly)
    ));

    // Also when the session refuses to start: a customer is at the kiosk.
    c.unlock(START, &pin(PIN)).await.unwrap();
    let r: Result<(), &str> = c
        .start_session(None, async { Err("bad form") })
        .await
        .unwrap();
    assert!(r.is_err());
    assert!(!c.status().unlocked);
}

#[tokio::test]
async fn every_action_but_unlocking_needs_the_pin() {
    let dir = tempfile::tempdir().unwrap();
    let c = open_console(dir.path()).await;
    let settings = form(&c);
    c.lock();
    let s = c.status();
    assert!(s.pin_set && !s.unlocked && s.settings.is_none(), "{s:?}");
    for r in [
        c.set_pin(START, &pin("735102")).await.map(drop),
        c.save(START, settings).map(drop),
        c.set_secrets(START, SecretsForm::default()).map(drop),
        c.authorize(START, "staff restart"),
    ] {
        assert!(matches!(r, Err(Error::StaffOnly)), "{r:?}");
    }
    let e = c.unlock(START, &pin("5555")).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::PinWrong);
    assert!(c.unlock(START, &pin(PIN)).await.unwrap().unlocked);
}

#[tokio::test]
async fn the_old_pin_stays_when_the_new_one_cannot_be_saved() {
    // No configuration directory: the first PIN is not set at all.
    let c = console_at(None);
    let e = c.set_pin(START, &pin(PIN)).await.unwrap_err();
    assert!(matches!(e, Error::NoConfigDir), "{e}");
    assert_eq!(e.code(), ErrorCode::Config);
    assert!(!c.status().pin_set);
    assert!(matches!(
        c.unlock(START, &pin(PIN)).await,
        Err(Error::NoPin)
    ));

    // The folder of the file turns into a file: the new PIN cannot be saved.
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("cfg");
    let c = console_at(Some(sub.join(FILE_NAME)));
    c.set_pin(START, &pin(PIN)).await.unwrap();
    std::fs::remove_dir_all(&sub).unwrap();
    std::fs::write(&sub, "not a folder").unwrap();
    let e = c.set_pin(START, &pin("735102")).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Config, "{e}");
    c.lock();
    assert_eq!(
        c.unlock(START, &pin("735102")).await.unwrap_err().code(),
        ErrorCode::PinWrong
    );
    assert!(c.unlock(START, &pin(PIN)).await.unwrap().unlocked);
}

#[tokio::test]
async fn the_form_maps_onto_the_file_and_applies_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let c = open_console(dir.path()).await;
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

#[tokio::test]
async fn a_bad_value_is_named_and_nothing_is_saved() {
    let dir = tempfile::tempdir().unwrap();
    let c = open_console(dir.path()).await;
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

#[tokio::test]
async fn restart_is_needed_only_for_what_applies_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let c = open_console(dir.path()).await;
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

#[tokio::test]
async fn the_secrets_form_stores_only_what_was_typed() {
    let dir = tempfile::tempdir().unwrap();
    let c = open_console(dir.path()).await;
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
        relay_key: false,
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
            signing_key: false,
            relay_key: false
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

/// Storing the API credentials marks the staff file `backend = "live"`:
/// at the next start a keyring that cannot be read is an error naming the
/// keyring, never the embedded sandbox standing in for the live API.
/// Clearing them takes the mark off (the sandbox again when nothing is set).
#[tokio::test]
async fn stored_api_credentials_make_a_locked_keyring_an_error_not_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    let c = open_console(dir.path()).await;
    let locked = |file: &StaffFile| {
        file.overlay(RawConfig::default())
            .with_keyring_error("the keyring is locked")
            .validate()
    };
    // A signing key alone changes nothing.
    c.set_secrets(
        START,
        SecretsForm {
            signing_key: Some(Secret::new("signing-key-0123456789abcdef-0123456789")),
            ..SecretsForm::default()
        },
    )
    .unwrap();
    assert_eq!(StaffFile::load(&path).unwrap().api.backend, None);

    c.set_secrets(START, secrets_form(Some("key-1234"), Some("secret-1234")))
        .unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("[api]\nbackend = \"live\""), "{text}");
    assert!(!text.contains("key-1234") && !text.contains("secret-1234"));
    let file = StaffFile::load(&path).unwrap();
    let e = locked(&file).unwrap_err();
    assert_eq!(e.code(), ErrorCode::KeyringUnavailable, "{e}");
    assert!(e.to_string().contains("the keyring is locked"), "{e}");

    c.set_secrets(
        START,
        SecretsForm {
            clear: true,
            ..SecretsForm::default()
        },
    )
    .unwrap();
    let file = StaffFile::load(&path).unwrap();
    assert_eq!(file.api.backend, None);
    assert!(locked(&file).unwrap().backend.is_sandbox());
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

#[tokio::test]
async fn the_wrong_pin_count_and_the_pause_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let c = open_console(dir.path()).await;
    c.lock();
    for _ in 0..MAX_FAILURES - 2 {
        assert_eq!(
            c.unlock(START, &pin("555555")).await.unwrap_err().code(),
            ErrorCode::PinWrong
        );
    }
    drop(c);

    // Two tries left after the restart, then the pause.
    let c = restart(dir.path(), RawConfig::default());
    assert!(matches!(
        c.unlock(START, &pin("555555")).await,
        Err(Error::PinWrong { attempts_left: 1 })
    ));
    assert!(matches!(
        c.unlock(START, &pin("555555")).await,
        Err(Error::PinLocked { seconds: 60 })
    ));
    drop(c);

    // A restart in the middle of the pause keeps it, even for the right PIN.
    let c = restart(dir.path(), RawConfig::default());
    let left = c.status().locked_secs.expect("still paused");
    assert!((50..=60).contains(&left), "{left}");
    assert_eq!(
        c.unlock(START, &pin(PIN)).await.unwrap_err().code(),
        ErrorCode::PinLocked
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_answers_while_a_pin_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let c = Arc::new(open_console(dir.path()).await);
    c.lock();
    let entered = Arc::new(Barrier::new(2));
    let release = Arc::new(Barrier::new(2));
    let (e, r) = (entered.clone(), release.clone());
    c.set_verify_hook(Arc::new(move || {
        e.wait();
        r.wait();
    }));
    let checking = tokio::spawn({
        let c = c.clone();
        async move { c.unlock(START, &pin(PIN)).await.map(|s| s.unlocked) }
    });
    tokio::task::spawn_blocking(move || entered.wait())
        .await
        .unwrap();

    // The check is held inside Argon2 now: the console still answers.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn({
        let c = c.clone();
        move || {
            let s = c.status();
            c.lock();
            let _ = tx.send((s.pin_set, s.unlocked, c.language()));
        }
    });
    let answered = rx.recv_timeout(Duration::from_secs(20));
    tokio::task::spawn_blocking(move || release.wait())
        .await
        .unwrap();
    assert_eq!(
        answered.expect("status waited for the PIN check"),
        (true, false, "en".into())
    );
    assert!(checking.await.unwrap().unwrap());
}

#[tokio::test]
async fn concurrent_wrong_pins_are_each_counted() {
    let dir = tempfile::tempdir().unwrap();
    let c = open_console(dir.path()).await;
    c.lock();
    let wrong = pin("555555");
    let (a, b, d) = tokio::join!(
        c.unlock(START, &wrong),
        c.unlock(START, &wrong),
        c.unlock(START, &wrong)
    );
    let mut left: Vec<u32> = [a, b, d]
        .into_iter()
        .map(|r| match r {
            Err(Error::PinWrong { attempts_left }) => attempts_left,
            other => panic!("{other:?}"),
        })
        .collect();
    left.sort_unstable();
    assert_eq!(left, [MAX_FAILURES - 3, MAX_FAILURES - 2, MAX_FAILURES - 1]);
    // The pause starts at the fifth, however they arrive.
    let right = pin(PIN);
    let (a, b, d) = tokio::join!(
        c.unlock(START, &wrong),
        c.unlock(START, &wrong),
        c.unlock(START, &right)
    );
    let codes = [a, b, d].map(|r| r.unwrap_err().code());
    assert_eq!(
        codes.iter().filter(|&&k| k == ErrorCode::PinLocked).count(),
        2,
        "{codes:?}"
    );
}

#[tokio::test]
async fn a_weaker_stored_hash_opens_the_gate_and_is_replaced() {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
    // The argon2 crate's defaults, as older kiosks stored them (19 MiB, 2 passes).
    let old = argon2::Argon2::default()
        .hash_password(PIN.as_bytes(), &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string();
    let mut raw = RawConfig::default();
    raw.kiosk.staff_pin_hash = Some(old.clone());
    let dir = tempfile::tempdir().unwrap();
    let c = restart(dir.path(), raw.clone());
    assert!(!c.inner().gate.hash().unwrap().is_current());
    assert!(c.unlock(START, &pin(PIN)).await.unwrap().unlocked);
    let new = c.inner().gate.hash().unwrap().clone();
    assert!(new.is_current() && new.as_str() != old);
    let saved = StaffFile::load(&dir.path().join(FILE_NAME)).unwrap();
    assert_eq!(saved.kiosk.staff_pin_hash.as_deref(), Some(new.as_str()));
    assert!(new.as_str().contains(&format!("m={MEMORY_KIB},t=3")));
    // The next start uses the new hash (the staff file wins over config.toml).
    let c = restart(dir.path(), raw);
    assert_eq!(c.inner().gate.hash(), Some(&new));
    c.unlock(START, &pin(PIN)).await.unwrap();
}

#[tokio::test]
async fn start_requires_staff_needs_the_pin_or_an_open_gate() {
    let dir = tempfile::tempdir().unwrap();
    open_console(dir.path()).await;
    let mut raw = RawConfig::default();
    raw.kiosk.start_requires_staff = Some(true);
    let c = restart(dir.path(), raw);
    let ran = std::sync::atomic::AtomicU32::new(0);
    let start = || async {
        ran.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    };

    let e = c.start_session(None, start()).await.unwrap_err();
    assert!(matches!(e, Error::StartNeedsStaff), "{e}");
    assert_eq!(e.code(), ErrorCode::StartNeedsStaff);
    let e = c.start_session(Some(&pin("")), start()).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::StartNeedsStaff);
    // A wrong PIN is refused and counted like any other.
    let e = c
        .start_session(Some(&pin("555555")), start())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::PinWrong { attempts_left: 4 }), "{e}");
    assert_eq!(ran.load(std::sync::atomic::Ordering::SeqCst), 0);

    // The PIN starts it; so does an open gate; either way the gate closes.
    c.start_session(Some(&pin(PIN)), start()).await.unwrap();
    assert!(!c.status().unlocked);
    c.unlock(START, &pin(PIN)).await.unwrap();
    c.start_session(None, start()).await.unwrap();
    assert!(!c.status().unlocked);
    assert_eq!(ran.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert_eq!(
        c.start_session(None, start()).await.unwrap_err().code(),
        ErrorCode::StartNeedsStaff
    );
}

// A staff action inside a customer's session (accepting a refused photo)
// runs only with the PIN given for it, counted like any other, even when
// staff functions were open; it leaves them closed.
#[tokio::test]
async fn an_action_in_a_session_needs_the_pin_every_time() {
    let dir = tempfile::tempdir().unwrap();
    let c = open_console(dir.path()).await;
    let ran = std::sync::atomic::AtomicU32::new(0);
    let act = || async {
        ran.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    };
    assert!(c.status().unlocked);
    for none in [None, Some(pin(""))] {
        let e = c.in_session(none.as_ref(), act()).await.unwrap_err();
        assert!(matches!(e, Error::StaffOnly), "{e}");
    }
    let e = c.in_session(Some(&pin("555555")), act()).await.unwrap_err();
    assert!(matches!(e, Error::PinWrong { attempts_left: 4 }), "{e}");
    assert_eq!(e.field(), Some("pin"));
    assert_eq!(ran.load(std::sync::atomic::Ordering::SeqCst), 0);
    c.in_session(Some(&pin(PIN)), act()).await.unwrap();
    assert_eq!(ran.load(std::sync::atomic::Ordering::SeqCst), 1);
    c.lock();
    c.in_session(Some(&pin(PIN)), act()).await.unwrap();
    assert!(!c.status().unlocked, "the gate stays closed");
    assert_eq!(ran.load(std::sync::atomic::Ordering::SeqCst), 2);

    // Without a PIN set, nobody can.
    let fresh = console_at(None);
    let e = fresh.in_session(Some(&pin(PIN)), act()).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::StaffOnly, "{e}");
}

/// The back office from the staff settings: the URL goes to the staff file,
/// the kiosk credential to the keyring (only a flag comes back), and the
/// next start uses both.
#[tokio::test]
async fn the_relay_url_and_credential_are_saved_apart_and_used_at_the_next_start() {
    const CREDENTIAL: &str = "kc-5d1e0f9a7b3c2e11";
    let dir = tempfile::tempdir().unwrap();
    let c = open_console(dir.path()).await;
    let mut f = form(&c);
    assert_eq!(f.relay_url, None);
    // Plain http off loopback is refused, named, and nothing is saved.
    f.relay_url = Some("http://relay.bank.example".into());
    let e = c.save(START, f.clone()).unwrap_err();
    assert_eq!(e.field(), Some("relayUrl"), "{e}");
    // A URL without a stored credential would stop the next start.
    f.relay_url = Some(" https://relay.bank.example ".into());
    let e = c.save(START, f.clone()).unwrap_err();
    assert_eq!(e.field(), Some("relayKey"), "{e}");
    assert!(!c.status().restart_needed);

    let s = c
        .set_secrets(
            START,
            SecretsForm {
                relay_key: Some(Secret::new(CREDENTIAL)),
                ..SecretsForm::default()
            },
        )
        .unwrap();
    assert!(s.secrets.as_ref().unwrap().relay_key);
    assert!(!s.secrets.as_ref().unwrap().api_key);
    let json = serde_json::to_string(&s).unwrap();
    assert!(!json.contains(CREDENTIAL), "{json}");
    let s = c.save(START, f).unwrap();
    assert_eq!(
        s.settings.unwrap().relay_url.as_deref(),
        Some("https://relay.bank.example/")
    );
    assert_eq!(s.backend, "sandbox");
    assert!(s.restart_needed);
    let text = std::fs::read_to_string(dir.path().join(FILE_NAME)).unwrap();
    assert!(
        text.contains("[relay]\nurl = \"https://relay.bank.example/\""),
        "{text}"
    );
    assert!(!text.contains(CREDENTIAL), "{text}");

    // The next start, as the app loads it: file, staff file, keyring.
    let file = StaffFile::load(&dir.path().join(FILE_NAME)).unwrap();
    let mut raw = file.overlay(RawConfig::default());
    secrets::fill(&mut raw, c.store.as_ref()).unwrap();
    let config = raw.validate().unwrap();
    let relay = config.relay.as_ref().expect("a relay");
    assert_eq!(relay.url, "https://relay.bank.example/");
    assert_eq!(relay.key.expose(), CREDENTIAL);
    let next = console_with(&config, file, Some(dir.path().join(FILE_NAME)));
    assert_eq!(next.status().backend, "relay");

    // "Remove credentials" removes the API's; the back office's stays (a
    // URL without it would stop the next start).
    let s = c
        .set_secrets(
            START,
            SecretsForm {
                clear: true,
                ..SecretsForm::default()
            },
        )
        .unwrap();
    assert!(s.secrets.unwrap().relay_key);
}
