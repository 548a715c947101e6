//! Tauri commands: thin adapters from the webview to the core library. No
//! flow logic: every decision is the session machine's (or, for staff
//! functions and the language, the staff console's: see `staff.rs`).

use std::time::Duration;

use tauri::ipc::Response;
use tauri::State;

use kyc_kiosk::session::{qr, DocumentType, Input, Side};
use kyc_kiosk::ErrorCode;

use crate::dto::{
    pack_preview, AppInfo, CommandError, Language, PreviewHeader, StartForm, Versioned,
};
use crate::state::AppState;

type CmdResult<T> = Result<T, CommandError>;

/// Languages with a catalog in ui/i18n/, found at build time.
pub const LANGUAGES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/languages.rs"));

/// Facts the start screen needs (version, sandbox banner, form defaults).
#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> AppInfo {
    let k = state.staff.kiosk();
    AppInfo {
        version: env!("CARGO_PKG_VERSION"),
        sandbox: state.kiosk.is_sandbox(),
        language: state.language(),
        languages: LANGUAGES
            .iter()
            .map(|(code, name)| Language { code, name })
            .collect(),
        default_country: k.default_country,
        documents: k.documents,
        document_types: DocumentType::ALL.to_vec(),
        kiosk_mode: state.config.kiosk.kiosk_mode,
        start_requires_staff: state.config.start_requires_staff,
        preview_transport: state.preview_transport,
    }
}

/// The session view, as soon as its version is newer than `after` (long
/// poll, at most 20 s, then the current view).
#[tauri::command]
pub async fn session_view(state: State<'_, AppState>, after: u64) -> CmdResult<Versioned> {
    let mut rx = state.views.clone();
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
    let start = state.kiosk.start_session(req);
    state.staff.start_session(pin.as_ref(), start).await??;
    Ok(())
}

/// Any other input (verify here, capture, retake, confirm, cancel, ...), as
/// the core decodes it from the UI's JSON.
#[tauri::command]
pub async fn session_input(state: State<'_, AppState>, input: Input) -> CmdResult<()> {
    state.kiosk.handle().send(input).await?;
    Ok(())
}

/// The newest preview frame after `after` (waits up to 500 ms for one), as
/// one binary response: header length, header JSON, JPEG.
#[tauri::command]
pub async fn preview_frame(state: State<'_, AppState>, after: u64) -> CmdResult<Response> {
    let p = state
        .kiosk
        .wait_preview(after, Duration::from_millis(500))
        .await
        .ok_or_else(|| CommandError::new(ErrorCode::CameraUnavailable, "no preview frame"))?;
    let header = PreviewHeader::of(&p);
    Ok(Response::new(pack_preview(&header, &p.jpeg)))
}

/// The still of `side` for the review screen (JPEG bytes).
#[tauri::command]
pub async fn still_image(state: State<'_, AppState>, side: Side) -> CmdResult<Response> {
    let still =
        state.kiosk.handle().still(side).await?.ok_or_else(|| {
            CommandError::new(ErrorCode::InvalidState, "no photo of that side yet")
        })?;
    Ok(Response::new(still.jpeg.to_vec()))
}

/// The handoff QR code (SVG) of the current digit string.
#[tauri::command]
pub fn handoff_qr(state: State<'_, AppState>) -> CmdResult<String> {
    let view = state.kiosk.handle().view();
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
