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
    tauri::async_runtime::spawn(async move {
        let state = app.state::<AppState>();
        let response = match state
            .kiosk
            .wait_preview(after, Duration::from_millis(500))
            .await
        {
            Some(p) => {
                let header = PreviewHeader::of(&p);
                let json = serde_json::to_string(&header).unwrap_or_else(|_| "{}".into());
                Response::builder()
                    .status(StatusCode::OK)
                    .header("Content-Type", "image/jpeg")
                    .header("Cache-Control", "no-store")
                    .header("Access-Control-Allow-Origin", "*")
                    .header("Access-Control-Expose-Headers", "X-Preview")
                    .header("X-Preview", json)
                    .body(p.jpeg.to_vec())
            }
            None => Response::builder()
                .status(StatusCode::NO_CONTENT)
                .header("Access-Control-Allow-Origin", "*")
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
}
