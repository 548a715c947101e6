//! The start screen in the real window.

use crate::harness::App;

#[tokio::test(flavor = "multi_thread")]
async fn start_screen_shows_sandbox_banner_without_credentials() {
    let mut app = App::launch("start", &[]).await;
    app.wait_for("body[data-ready='1']").await;
    let banner = app.text("#sandbox-banner").await;
    assert!(banner.contains("SANDBOX"), "banner text: {banner}");
    let footer = app.text("#footer").await;
    assert!(footer.starts_with("kyc-kiosk "), "footer: {footer}");
    app.shot("start").await;
    app.close().await;
}
