//! The main window and kiosk mode: fullscreen, no decorations, close
//! prevented, navigation outside the app blocked.

use std::sync::atomic::{AtomicBool, Ordering};

use tauri::{AppHandle, WebviewUrl, WebviewWindowBuilder, Window, WindowEvent};

/// Whether closing the window is refused (kiosk mode; staff exit with the PIN).
static CLOSE_PREVENTED: AtomicBool = AtomicBool::new(false);

/// True for URLs that belong to the app itself: the bundled UI and IPC.
fn is_app_url(url: &tauri::Url) -> bool {
    match url.scheme() {
        "tauri" => true,
        "http" | "https" => matches!(url.host_str(), Some("tauri.localhost" | "ipc.localhost")),
        _ => false,
    }
}

/// Create the one window. In kiosk mode it is fullscreen, undecorated, always
/// on top and cannot be closed by the window manager.
pub fn create_main(app: &AppHandle, kiosk_mode: bool) -> tauri::Result<()> {
    CLOSE_PREVENTED.store(kiosk_mode, Ordering::SeqCst);
    let mut b = WebviewWindowBuilder::new(app, "main", WebviewUrl::App("index.html".into()))
        .title("kyc-kiosk")
        .inner_size(1280.0, 800.0)
        .min_inner_size(800.0, 600.0)
        // Only staff (with the PIN) or the window manager may close the
        // kiosk: a script's `window.close()` does nothing.
        .initialization_script(
            "Object.defineProperty(window, 'close', { value: function () {}, writable: false, configurable: false });",
        )
        .on_navigation(|url| {
            let ok = is_app_url(url);
            if !ok {
                tracing::warn!(scheme = url.scheme(), "blocked navigation outside the app");
            }
            ok
        });
    if kiosk_mode {
        b = b
            .fullscreen(true)
            .decorations(false)
            .always_on_top(true)
            .resizable(false);
    }
    let w = b.build()?;
    if kiosk_mode {
        w.set_focus()?;
    }
    Ok(())
}

/// Window events: refuse close requests while kiosk mode is on.
pub fn on_event(window: &Window, event: &WindowEvent) {
    if let WindowEvent::CloseRequested { api, .. } = event {
        if CLOSE_PREVENTED.load(Ordering::SeqCst) {
            tracing::info!(window = window.label(), "close refused in kiosk mode");
            api.prevent_close();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_app_urls_are_allowed() {
        for ok in [
            "tauri://localhost/index.html",
            "http://tauri.localhost/x",
            "http://ipc.localhost/cmd",
        ] {
            assert!(is_app_url(&ok.parse().unwrap()), "{ok}");
        }
        for bad in [
            "https://example.com/",
            "http://localhost:8080/",
            "file:///etc/passwd",
            "javascript:alert(1)",
        ] {
            assert!(!is_app_url(&bad.parse().unwrap()), "{bad}");
        }
    }
}
