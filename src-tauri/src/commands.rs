//! Tauri commands: thin adapters from the webview to the core library. No
//! flow logic: every decision is the session machine's (or, for staff
//! functions and the language, the staff console's: see `staff.rs`). When
//! the kiosk did not start, [`app_info`] carries the cause and every command
//! that needs the kiosk answers it as its error.

use std::time::Duration;

use tauri::ipc::Response;
use tauri::State;

use kyc_kiosk::session::{qr, DocumentType, Input, Kiosk, Side};
use kyc_kiosk::ErrorCode;

use crate::dto::{
    pack_preview, AppInfo, BackOffice, CommandError, Language, PreviewHeader, StartForm, Versioned,
};
use crate::state::AppState;

type CmdResult<T> = Result<T, CommandError>;

/// Languages with a catalog in ui/i18n/, found at build time.
pub const LANGUAGES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/languages.rs"));

/// Facts the start screen needs (version, sandbox and test-API banners,
/// form defaults), or the start-up error.
#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> AppInfo {
    info(&state)
}

/// What [`app_info`] answers.
fn info(state: &AppState) -> AppInfo {
    let k = state.staff.kiosk();
    AppInfo {
        version: env!("CARGO_PKG_VERSION"),
        sandbox: state.kiosk().is_ok_and(Kiosk::is_sandbox),
        test_api: state
            .kiosk()
            .ok()
            .and(state.config.backend.test_api())
            .map(str::to_owned),
        startup_error: state.startup_error().cloned(),
        language: state.language(),
        languages: LANGUAGES
            .iter()
            .map(|(code, name)| Language { code, name })
            .collect(),
        default_country: k.default_country,
        countries: kyc_kiosk::country::codes().collect(),
        documents: k.documents,
        document_types: DocumentType::ALL.to_vec(),
        kiosk_mode: state.config.kiosk.kiosk_mode,
        start_requires_staff: state.config.start_requires_staff,
        preview_transport: state.preview_transport,
        back_office: back_office_of(state),
    }
}

fn back_office_of(state: &AppState) -> Option<BackOffice> {
    state
        .kiosk()
        .ok()
        .and_then(Kiosk::back_office)
        .map(BackOffice::from)
}

/// The back office's link, as checked in the background (the UI asks every
/// few seconds; this never waits for the relay).
#[tauri::command]
pub fn back_office(state: State<'_, AppState>) -> Option<BackOffice> {
    back_office_of(&state)
}

/// The session view, as soon as its version is newer than `after` (long
/// poll, at most 20 s, then the current view).
#[tauri::command]
pub async fn session_view(state: State<'_, AppState>, after: u64) -> CmdResult<Versioned> {
    let mut rx = state.views()?;
    let _ = tokio::time::timeout(Duration::from_secs(20), rx.wait_for(|(v, _)| *v > after)).await;
    let (version, view) = rx.borrow().clone();
    Ok(Versioned { version, view })
}

/// Start a session from the staff form (with the staff PIN when the kiosk
/// starts sessions only for staff).
#[tauri::command]
pub async fn session_start(state: State<'_, AppState>, mut form: StartForm) -> CmdResult<()> {
    let pin = form.staff_pin.take();
    let req = form.into_request(&state.language());
    // Staff functions close as the customer's session starts.
    let start = state.kiosk()?.start_session(req);
    state.staff.start_session(pin.as_ref(), start).await??;
    Ok(())
}

/// Any other input (verify here, capture, retake, confirm, cancel, ...), as
/// the core decodes it from the UI's JSON.
#[tauri::command]
pub async fn session_input(state: State<'_, AppState>, input: Input) -> CmdResult<()> {
    state.kiosk()?.handle().send(input).await?;
    Ok(())
}

/// The newest preview frame after `after` (waits up to 500 ms for one), as
/// one binary response: header length, header JSON, JPEG.
#[tauri::command]
pub async fn preview_frame(state: State<'_, AppState>, after: u64) -> CmdResult<Response> {
    let p = state
        .kiosk()?
        .wait_preview(after, Duration::from_millis(500))
        .await
        .ok_or_else(|| CommandError::new(ErrorCode::CameraUnavailable, "no preview frame"))?;
    let header = PreviewHeader::of(&p);
    Ok(Response::new(pack_preview(&header, &p.jpeg)))
}

/// The still of `side` for the review screen (JPEG bytes).
///
/// The session's copy is handed over without another one: the buffer moves
/// into the IPC response. From there Tauri and the webview own it, and the
/// kiosk cannot overwrite it (the README's privacy section says so).
#[tauri::command]
pub async fn still_image(state: State<'_, AppState>, side: Side) -> CmdResult<Response> {
    let mut still =
        state.kiosk()?.handle().still(side).await?.ok_or_else(|| {
            CommandError::new(ErrorCode::InvalidState, "no photo of that side yet")
        })?;
    Ok(Response::new(std::mem::take(&mut *still.jpeg)))
}

/// The handoff QR code (SVG) of the current digit string.
#[tauri::command]
pub fn handoff_qr(state: State<'_, AppState>) -> CmdResult<String> {
    let view = state.kiosk()?.handle().view();
    let digits = view
        .digit_string
        .ok_or_else(|| CommandError::new(ErrorCode::InvalidState, "no code to show"))?;
    let code =
        qr::Qr::new(&digits).map_err(|e| CommandError::new(ErrorCode::Internal, e.to_string()))?;
    Ok(code.svg(400))
}

/// Change the UI language (the next token's `locale` follows it).
#[tauri::command]
pub fn set_language(state: State<'_, AppState>, language: String) -> CmdResult<()> {
    state.staff.set_language(&language)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use kyc_kiosk::config::{Config, RawConfig};
    use kyc_kiosk::session::{CameraChoice, Kiosk, KioskOptions};
    use kyc_kiosk::staff::{Console, MemoryStore, Setup, StaffFile};
    use kyc_kiosk::ErrorCode;

    use super::info;
    use crate::dto::CommandError;
    use crate::state::AppState;

    fn state(config: Config, kiosk: Result<Kiosk, CommandError>) -> AppState {
        let staff = Console::new(Setup {
            config: &config,
            file: StaffFile::default(),
            path: None,
            store: Box::new(MemoryStore::default()),
            keyring_error: None,
            languages: vec!["en".into()],
        });
        AppState::new(config, kiosk, "ipc", staff)
    }

    /// Kiosk mode without credentials: the window gets the cause, no banner
    /// that pretends a backend runs, and the session commands its error.
    #[test]
    fn a_kiosk_that_did_not_start_reports_the_cause_and_no_backend() {
        let err = RawConfig::default()
            .with_env([("KYC_KIOSK_MODE", "1")])
            .validate()
            .unwrap_err();
        let mut fallback = Config::default();
        fallback.kiosk.kiosk_mode = true;
        let st = state(fallback, Err(err.into()));
        let v = serde_json::to_value(info(&st)).unwrap();
        assert_eq!(v["startupError"]["code"], "CREDENTIALS_MISSING", "{v}");
        let message = v["startupError"]["message"].as_str().unwrap();
        assert!(message.contains("IDENFY_API_KEY"), "{message}");
        assert_eq!(v["sandbox"], false, "the fallback is not a running sandbox");
        assert!(v["testApi"].is_null());
        assert_eq!(v["kioskMode"], true);
        let e = st.kiosk().err().unwrap();
        assert_eq!(e.code, ErrorCode::CredentialsMissing);
        assert!(st.views().is_err());
    }

    /// An API that is not iDenfy's production host (here a standalone
    /// sandbox on loopback) is reported for the TEST API banner.
    #[test]
    fn a_test_api_is_reported_for_the_banner() {
        let (sb, config) = tauri::async_runtime::block_on(async {
            let sb =
                kyc_kiosk::sandbox::Sandbox::start(kyc_kiosk::sandbox::SandboxConfig::default())
                    .await
                    .unwrap();
            let config = RawConfig::default()
                .with_env([
                    ("IDENFY_BASE_URL", sb.base_url().to_string()),
                    ("IDENFY_API_KEY", sb.api_key().expose().to_owned()),
                    ("IDENFY_API_SECRET", sb.api_secret().expose().to_owned()),
                    ("IDENFY_SIGNING_KEY", sb.signing_key().expose().to_owned()),
                ])
                .validate()
                .unwrap();
            (sb, config)
        });
        let kiosk = tauri::async_runtime::block_on(Kiosk::start(
            &config,
            KioskOptions {
                camera: CameraChoice::Stills(Default::default()),
                webhook_listen: Some("127.0.0.1:0".parse().unwrap()),
                auto_capture: None,
                ..KioskOptions::default()
            },
        ))
        .unwrap();
        let st = state(config, Ok(kiosk));
        let v = serde_json::to_value(info(&st)).unwrap();
        assert_eq!(v["testApi"], sb.base_url().to_string(), "{v}");
        assert_eq!(v["sandbox"], false);
        assert!(v["startupError"].is_null());
        assert!(st.kiosk().is_ok());
    }
}
