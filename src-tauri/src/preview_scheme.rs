//! The second preview transport: a custom URI scheme (`preview://localhost/frame?after=N`)
//! that answers with the newest JPEG and its header in `X-Preview`. The UI
//! uses the binary IPC command by default; this one exists so both can be
//! measured side by side (`cargo bench -p kyc-kiosk-app --bench preview`).

use std::time::Duration;

use tauri::http::{Request, Response, StatusCode};
use tauri::{Manager, Runtime, UriSchemeContext, UriSchemeResponder};

use crate::dto::PreviewHeader;
use crate::state::AppState;

/// The scheme's name.
pub const SCHEME: &str = "preview";

/// The origins the app's own page has (Linux and macOS, then Windows and
/// Android). Preview frames are a customer's face and document: only the
/// app's page may read them, never `*`.
const APP_ORIGINS: [&str; 3] = [
    "tauri://localhost",
    "http://tauri.localhost",
    "https://tauri.localhost",
];

/// The `Access-Control-Allow-Origin` value for a request from `origin`:
/// the origin itself when it is the app's page, otherwise none (the
/// browser then refuses the frame to the page that asked).
fn allowed_origin(origin: Option<&str>) -> Option<&'static str> {
    let origin = origin?;
    APP_ORIGINS.into_iter().find(|o| *o == origin)
}

fn after_of(query: Option<&str>) -> u64 {
    query
        .unwrap_or("")
        .split('&')
        .find_map(|kv| kv.strip_prefix("after="))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Answers one request on a task of its own; the webview never blocks.
pub fn handle<R: Runtime>(
    ctx: UriSchemeContext<'_, R>,
    request: Request<Vec<u8>>,
    responder: UriSchemeResponder,
) {
    let app = ctx.app_handle().clone();
    let after = after_of(request.uri().query());
    let origin = allowed_origin(
        request
            .headers()
            .get("Origin")
            .and_then(|v| v.to_str().ok()),
    );
    tauri::async_runtime::spawn(async move {
        let state = app.state::<AppState>();
        let Some(origin) = origin else {
            let refused = Response::builder()
                .status(StatusCode::FORBIDDEN)
                .body(Vec::new());
            if let Ok(r) = refused {
                responder.respond(r);
            }
            return;
        };
        // No kiosk (the start-up error screen): no frame, as when none came.
        let preview = match state.kiosk() {
            Ok(k) => k.wait_preview(after, Duration::from_millis(500)).await,
            Err(_) => None,
        };
        let response = match preview {
            Some(p) => {
                let header = PreviewHeader::of(&p);
                let json = serde_json::to_string(&header).unwrap_or_else(|_| "{}".into());
                Response::builder()
                    .status(StatusCode::OK)
                    .header("Content-Type", "image/jpeg")
                    .header("Cache-Control", "no-store")
                    .header("Access-Control-Allow-Origin", origin)
                    .header("Vary", "Origin")
                    .header("Access-Control-Expose-Headers", "X-Preview")
                    .header("X-Preview", json)
                    .body(p.jpeg.to_vec())
            }
            None => Response::builder()
                .status(StatusCode::NO_CONTENT)
                .header("Access-Control-Allow-Origin", origin)
                .header("Vary", "Origin")
                .body(Vec::new()),
        };
        match response {
            Ok(r) => responder.respond(r),
            Err(e) => tracing::warn!("preview response: {e}"),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_is_read_from_the_query() {
        assert_eq!(after_of(Some("after=42")), 42);
        assert_eq!(after_of(Some("x=1&after=7")), 7);
        assert_eq!(after_of(Some("after=nope")), 0);
        assert_eq!(after_of(None), 0);
    }

    #[test]
    fn frames_go_to_the_app_page_only() {
        assert_eq!(
            allowed_origin(Some("tauri://localhost")),
            Some("tauri://localhost")
        );
        assert_eq!(
            allowed_origin(Some("http://tauri.localhost")),
            Some("http://tauri.localhost")
        );
        for other in ["https://example.org", "null", "tauri://localhost.evil", ""] {
            assert_eq!(allowed_origin(Some(other)), None, "{other}");
        }
        assert_eq!(allowed_origin(None), None, "no Origin, no frame");
    }
}
