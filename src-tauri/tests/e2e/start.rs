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

#[tokio::test(flavor = "multi_thread")]
async fn kiosk_mode_without_credentials_opens_on_the_startup_error() {
    let mut app = App::launch("startup-error", &[("KYC_KIOSK_MODE", "1")]).await;
    app.wait_for("body[data-ready='1'][data-startup-error='CREDENTIALS_MISSING']")
        .await;
    let cause = app.text("#startup-cause").await;
    assert!(cause.contains("credentials"), "cause: {cause}");
    let detail = app.text("#startup-detail").await;
    assert!(detail.contains("IDENFY_API_KEY"), "detail: {detail}");
    let sandbox = app
        .exec(
            "return document.getElementById('sandbox-banner').hidden",
            vec![],
        )
        .await;
    assert_eq!(sandbox.as_bool(), Some(true), "no SANDBOX banner");
    app.wait_for("#staff-btn:not([hidden])").await;
    app.shot("startup-error").await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_api_other_than_production_is_shown_as_a_test_api() {
    let app = App::launch_with(
        "test-api",
        &[
            ("KYC_KIOSK_BACKEND", "live"),
            ("IDENFY_BASE_URL", "http://127.0.0.1:9"),
            ("IDENFY_API_KEY", "e2e-key-5f3a91c7"),
            ("IDENFY_API_SECRET", "e2e-secret-0b7d2e44a1"),
            ("IDENFY_SIGNING_KEY", "e2e-signing-key-0123456789abcdefghij"),
        ],
        "[webhook]\nlisten = \"127.0.0.1:0\"\n",
    )
    .await;
    app.wait_for("body[data-ready='1']").await;
    let banner = app.text("#test-api-banner").await;
    assert!(
        banner.contains("TEST API: http://127.0.0.1:9"),
        "banner: {banner}"
    );
    app.close().await;
}
